"""Fixtures shared by the test modules: the session's real PostgreSQL server
(``postgres_server``) and a fresh database per test (``postgres_database``)."""

pytest_plugins = ("tests.support.postgres",)
