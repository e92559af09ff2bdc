"""Benchmarks of the project against raw boto3 and the AWS CLI on the embedded moto endpoint.

Run ``python -m tests.benchmarks --help`` (or ``tox -e benchmark``); results and their
analysis are in ``tests/benchmarks/RESULTS.md``. Not part of the test run: pytest
collects only ``test_*.py`` and ``*_steps.py``, and ``tests/test_benchmarks_smoke.py``
runs every row once at tiny sizes to keep this code working.
"""
