"""Helper code shared by the tests: no tests and no fixtures here (fixtures live in the conftest.py files)."""
