"""Development tools: the local venues that stand in for exchanges offline, the ``centaur``
command, the import graph. Never imported by runtime code (``tests/test_layering.py``)."""
