"""Development tools: the local venues that stand in for exchanges offline. Never imported by runtime code."""
