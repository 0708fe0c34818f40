"""Rule: each request of the suite's REST routes reads freqtrade's database in its own session,
removed when the request ends - what freqtrade's ``get_rpc`` does for its own routes.

Without it, a route runs on one of the server's worker threads and uses that thread's session
(``Trade.session`` is scoped per request id, else per thread) for as long as the thread lives:
each such session keeps a pooled connection checked out (freqtrade's pool holds 15; the server
has up to 40 worker threads) and, on PostgreSQL, a transaction open, and it hands back the
trades it still holds as it first loaded them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4


async def rpc_in_session() -> AsyncIterator[Any]:
    """freqtrade's RPC object (None when the server runs without a bot, ``webserver`` mode),
    within this request's own database session."""
    from freqtrade.persistence import Trade
    from freqtrade.persistence.models import _request_id_ctx_var
    from freqtrade.rpc.api_server.deps import get_rpc_optional

    token = _request_id_ctx_var.set(str(uuid4()))
    has_db = hasattr(Trade, "session")  # init_db has run (not in webserver mode)
    try:
        if has_db:
            Trade.rollback()
        yield get_rpc_optional()
    finally:
        if has_db:
            Trade.session.remove()
        _request_id_ctx_var.reset(token)
