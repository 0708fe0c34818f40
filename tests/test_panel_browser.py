"""The Centaur panel in headless Chromium (Debian's package) against a dry-run bot on the local
venue: the page is served by the bot's own API server, logs in with freqtrade's JWT login and
drives the suite's routes - the kill switch halts the bot (the status route agrees), resume
clears it; a wrong password shows an error and no data.

The same bot checks that its analysed candles carry every column the flagship's plot_config
names (what FreqUI's chart draws), the model columns the risk layer reads among them.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from freqtrade_client import FtRestClient

from dev_tools.venue.server import running_venue
from dev_tools.venue.state import VenueSettings
from tests.support.freqtrade_run import venue_ccxt_config, write_config
from tests.support.paths import BINANCE_DATA, RECORDINGS
from tests.support.processes import TradeProcess, free_port, wait_until

pytestmark = pytest.mark.slow

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ANCHOR = datetime(2025, 6, 10, 12, tzinfo=UTC)
USER, PASSWORD = "centaur", "panel-test-password"
ENV = {
    "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "p" * 40,
    "FREQTRADE__API_SERVER__WS_TOKEN": "ws-token-for-the-panel",
}
PAIRS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT_SECS = 30


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    directory = tmp_path_factory.mktemp("panel")
    with running_venue(VenueSettings(datadir=BINANCE_DATA, recordings_dir=RECORDINGS,
                                     anchor=ANCHOR)) as venue:
        port = free_port()
        config = write_config(directory, "dry-run.json", {
            "db_url": f"sqlite:///{directory / 'dry-run.sqlite'}",
            "exchange": {"ccxt_config": venue_ccxt_config(venue.url), "pair_whitelist": PAIRS},
            "api_server": {"listen_port": port},
            "telegram": {"enabled": False},
        })
        process = TradeProcess(config, directory / "freqtrade.log", env=ENV)
        client = FtRestClient(f"http://127.0.0.1:{port}", USER, PASSWORD, timeout=120)
        try:
            wait_until(lambda: client.ping() == {"status": "pong"}, 180, "the REST API", process)
            yield {"client": client, "process": process, "url": f"http://127.0.0.1:{port}"}
        finally:
            process.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("Debian's chromium and chromedriver are not installed "
                    "(dev_tools/system_packages.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _open_and_log_in(browser, bot, password: str) -> None:
    browser.get(f"{bot['url']}/api/v1/centaur/panel")
    browser.find_element(By.ID, "user").send_keys(USER)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login").click()


def _text(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


def _wait_for_text(browser, element_id: str, text: str) -> None:
    WebDriverWait(browser, WAIT_SECS).until(
        expected_conditions.text_to_be_present_in_element((By.ID, element_id), text),
        f"{element_id} never showed {text!r}: {_text(browser, element_id)!r}")


def _trading_state(bot) -> dict:
    return bot["client"]._get("centaur/status")["strategy_status"]


def test_a_wrong_password_shows_an_error_and_no_data(browser, bot):
    _open_and_log_in(browser, bot, "not-the-password")
    _wait_for_text(browser, "login-error", "wrong user or password")
    assert not browser.find_element(By.ID, "panel").is_displayed()
    assert _text(browser, "trading-state") in ("", "-")
    assert browser.find_elements(By.CSS_SELECTOR, "#events tr") == []


def test_kill_switch_and_resume_from_the_panel(browser, bot):
    _open_and_log_in(browser, bot, PASSWORD)
    _wait_for_text(browser, "trading-state", "ACTIVE")
    assert _text(browser, "go-note") and _text(browser, "reconciliation")

    browser.find_element(By.ID, "killswitch").click()
    WebDriverWait(browser, WAIT_SECS).until(expected_conditions.alert_is_present()).accept()
    _wait_for_text(browser, "trading-state", "HALTED")
    _wait_for_text(browser, "halt-codes", "KILL_SWITCH")
    status = _trading_state(bot)
    assert status["trading_state"] == "HALTED" and "KILL_SWITCH" in status["halt_codes"]

    browser.find_element(By.ID, "resume").click()
    _wait_for_text(browser, "trading-state", "ACTIVE")
    assert "KILL_SWITCH" not in _text(browser, "halt-codes")
    assert _trading_state(bot)["trading_state"] == "ACTIVE"


def test_the_analysed_candles_carry_the_plotted_model_columns(bot):
    client, process = bot["client"], bot["process"]
    candles = wait_until(lambda: client.pair_candles(PAIRS[0], "5m", limit=5).get("data") and
                         client.pair_candles(PAIRS[0], "5m", limit=5), 240,
                         "the first analysis", process, 2)
    plotted = {column for subplot in client.plot_config()["subplots"].values()
               for column in subplot}
    model_columns = {"garch_sigma", "regime_position_scale", "regime_stop_multiplier",
                     "funding_z", "basis_z_1h"}
    assert model_columns <= plotted
    assert plotted <= set(candles["columns"]), plotted - set(candles["columns"])
