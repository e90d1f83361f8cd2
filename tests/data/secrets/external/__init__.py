"""The external redaction corpus (other secret scanners' rule tests): see ``corpus``.

tests/data is not an importable package, so users import this folder by path, as
``forge_external_secrets`` (benchmarks/redaction_quality.py and tests/test_redact_external.py)."""
