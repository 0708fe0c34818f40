"""Research on top of the suite: evidence reports and walk-forward.

Never imported by runtime code (``tests/test_layering.py``)."""
