"""``freqtrade webserver`` (FreqUI's backtest mode) on the suite's strategies, driven through
``freqtrade-client`` as FreqUI drives it: the strategy and its plot_config answer without the
strategy ever being started (no ``bot_start``), the plot_config names the model columns the risk
layer reads, and a backtest started over the API that makes no trade is served when it ends
(freqtrade's wallet statistics hold numpy integers then, which FastAPI cannot serialise: the
suite's ``generate_wallet_stats`` hook turns them into Python numbers).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest
from freqtrade_client import FtRestClient

from tests.support.freqtrade_run import write_config
from tests.support.processes import TradeProcess, free_port, wait_until

pytestmark = pytest.mark.slow

USER, PASSWORD = "centaur", "webserver-test-password"
ENV = {
    "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "w" * 40,
    "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-webserver",
}
PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
RISK_MODEL_COLUMNS = {"garch_sigma", "regime_position_scale", "regime_stop_multiplier",
                      "funding_z", "basis_z_1h"}
NO_TRADE_DAY = "20250601-20250602"  # no signal enabled (below): the flagship stays flat


@contextmanager
def webserver(directory: Path):
    port = free_port()
    config = write_config(directory, "backtest.json", {
        "exchange": {"pair_whitelist": PAIRS},
        "api_server": {"enabled": True, "listen_ip_address": "127.0.0.1", "listen_port": port,
                       "username": USER},
        "centaur": {"ensemble": {"signals": []}},  # flat: a run without a single trade
    })
    process = TradeProcess(config, directory / "webserver.log", ENV, command="webserver")
    client = FtRestClient(f"http://127.0.0.1:{port}", USER, PASSWORD, timeout=120)
    try:
        wait_until(lambda: client._get("ping") == {"status": "pong"}, 180, "the webserver",
                   process)
        yield client, process, f"http://127.0.0.1:{port}/api/v1"
    finally:
        # freqtrade 2026.9's webserver (plugins off too) stops its server on the first SIGINT,
        # then waits for the idle AnyIO worker threads its sync routes left behind; the second
        # SIGINT ``stop`` sends ends that wait, as a second Ctrl-C does
        process.stop(wait_secs=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with webserver(tmp_path_factory.mktemp("webserver")) as running:
        yield running


def _plotted(plot_config: dict) -> set[str]:
    columns = set(plot_config.get("main_plot", {}))
    for subplot in plot_config.get("subplots", {}).values():
        columns |= set(subplot)
    return columns


def test_strategy_and_plot_config_answer_without_bot_start(server):
    client, _, base = server
    session = client._session
    strategy = session.get(f"{base}/strategy/CentaurEnsemble", timeout=120)
    assert strategy.status_code == 200, strategy.text
    assert strategy.json()["strategy"] == "CentaurEnsemble"
    for name, expected in (("CentaurEnsemble", RISK_MODEL_COLUMNS),
                           ("CentaurRanker", {"garch_sigma", "regime_position_scale",
                                              "regime_stop_multiplier"}),
                           ("CentaurCarry", {"funding_rate", "carry_basis"})):
        answer = session.get(f"{base}/plot_config", params={"strategy": name}, timeout=120)
        assert answer.status_code == 200, (name, answer.text)
        assert expected <= _plotted(answer.json()), name


def test_the_chart_view_analyses_the_pair_without_a_pairlist_provider(server):
    """FreqUI's chart in webserver mode: freqtrade's DataProvider there has no pairlist, so the
    strategy reads the config's whitelist instead of failing its start-up checks."""
    client, _, base = server
    answer = client._session.get(f"{base}/pair_history", params={
        "pair": PAIRS[0], "timeframe": "5m", "strategy": "CentaurEnsemble",
        "timerange": NO_TRADE_DAY}, timeout=300)
    assert answer.status_code == 200, answer.text[-2000:]
    history = answer.json()
    assert history["length"] > 0 and {"garch_sigma", "regime_position_scale"} <= set(
        history["columns"])


def test_a_backtest_without_trades_is_served_when_it_ends(server):
    client, process, base = server
    started = client._post("backtest", data={"strategy": "CentaurEnsemble",
                                             "timerange": NO_TRADE_DAY,
                                             "enable_protections": True})
    assert started["status"] == "running", started

    def finished():  # (the answer,): a Response is falsy on an error status
        answer = client._session.get(f"{base}/backtest", timeout=120)
        if answer.status_code != 200:
            return (answer,)  # FreqUI polls this: a 500 here hangs it at 100 %
        body = answer.json()
        return (answer,) if not body["running"] and body["step"] == "finished" else None

    answer, = wait_until(finished, 600, "the backtest", process, 2)
    assert answer.status_code == 200, answer.text[:500]
    result = answer.json()["backtest_result"]["strategy"]["CentaurEnsemble"]
    assert result["total_trades"] == 0
    wallet = result["wallet_stats"]
    assert wallet["start_balance"] == wallet["end_balance"] == 10_000
