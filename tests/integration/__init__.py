"""Integration tests: the CLI as a subprocess over real HTTP, and opt-in LocalStack / AWS runs."""
