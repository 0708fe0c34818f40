"""The suite's REST routes read freqtrade's database in a session of their own request.

A FastAPI app with a route on the suite's dependency (``centaur_plugins.rest_session``), served
by Starlette's test client (routes on a worker thread, as uvicorn runs them), over freqtrade's
own models on a SQLite file: each request gives its pooled connection back, and sees a trade
the bot (another thread, its own session) closed after the request before.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from freqtrade.persistence import Trade, init_db

from centaur_plugins.rest_session import rpc_in_session


def _open_trade() -> Trade:
    return Trade(pair="ETH/USDT:USDT", exchange="binance", strategy="CentaurEnsemble",
                 is_short=True, trading_mode="futures", leverage=2.0, stake_amount=100.0,
                 amount=0.1, open_rate=2000.0, open_date=datetime(2026, 3, 10, tzinfo=UTC),
                 fee_open=0.0, fee_close=0.0, is_open=True)


def _bot_closes_the_trade() -> None:
    trade = Trade.get_trades_proxy(is_open=True)[0]
    trade.close_rate, trade.close_date, trade.is_open = 1900.0, datetime.now(UTC), False
    Trade.session.commit()
    Trade.session.remove()


@pytest.fixture
def client(tmp_path):
    init_db(f"sqlite:///{tmp_path / 'bot.sqlite'}")
    Trade.session.add(_open_trade())
    Trade.session.commit()
    Trade.session.remove()
    app = FastAPI()

    @app.get("/trades")
    def trades(rpc=Depends(rpc_in_session)):  # noqa: B008 - FastAPI's dependency idiom
        return {"rpc": rpc, "open": {t.id: t.is_open for t in Trade.get_trades_proxy()}}

    with TestClient(app) as served:
        yield served
    Trade.session.remove()


def _connections_in_use() -> int:
    return Trade.session.get_bind().pool.checkedout()


def test_a_request_returns_its_connection_and_sees_what_the_bot_committed(client):
    assert client.get("/trades").json() == {"rpc": None, "open": {"1": True}}
    # a worker thread's session left open keeps a pooled connection (and, on PostgreSQL, an
    # open transaction) per thread: 15 threads exhaust freqtrade's pool
    assert _connections_in_use() == 0
    bot = threading.Thread(target=_bot_closes_the_trade)
    bot.start()
    bot.join()
    assert client.get("/trades").json()["open"] == {"1": False}
    assert _connections_in_use() == 0
