"""The deploy tool ``python -m src.database``: commands, output, hints."""
