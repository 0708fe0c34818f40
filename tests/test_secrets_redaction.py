"""No secret is printed or exported: planted values are looked for in every artefact a real run
produces (its output, its log, every file it wrote, the backtest zip's members).

Found by probing: a ``.env`` (the README's own step) made ``freqtrade backtesting`` fail with a
schema dump holding the API password, JWT secret and ws token; credentials in
``exchange.ccxt_config`` were logged and exported; the router's refusal echoed them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from centaur.redaction import REDACTED, Redactor
from centaur.settings import CentaurConfigError, settings_from
from tests.support.freqtrade_run import backtest, run_freqtrade, write_config
from tests.support.paths import TEST_STRATEGIES


PLANTED = {
    "FREQTRADE__API_SERVER__PASSWORD": "planted-api-password-7d1f",
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "planted-jwt-secret-0123456789abcdef-xyz",
    "FREQTRADE__API_SERVER__WS_TOKEN": "planted-ws-token-55aa",
}
EXAMPLE_EMPTIES = {"FREQTRADE__TELEGRAM__TOKEN": "", "FREQTRADE__TELEGRAM__CHAT_ID": "",
                   "FREQTRADE__EXCHANGE__KEY": "", "FREQTRADE__EXCHANGE__SECRET": ""}


def _dotenv(directory: Path, values: dict[str, str]) -> dict[str, str]:
    """A .env like the README's (copied from .env.example, filled in): the env to run with."""
    path = directory / ".env"
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return {"CENTAUR_DOTENV": str(path)}


def _artefact_texts(directory: Path) -> dict[str, str]:
    texts = {}
    for path in directory.rglob("*"):
        if not path.is_file() or path.name == ".env":
            continue
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zipped:
                for member in zipped.namelist():
                    texts[f"{path.name}:{member}"] = zipped.read(member).decode(errors="replace")
        else:
            texts[str(path)] = path.read_bytes().decode(errors="replace")
    return texts


def _leaks(texts: dict[str, str], secrets: list[str]) -> list[str]:
    return [f"{secret!r} in {where}" for where, text in texts.items()
            for secret in secrets if secret in text]


@pytest.mark.slow
def test_a_backtest_with_the_readme_dotenv_runs_and_leaks_nothing(tmp_path):
    env = _dotenv(tmp_path, {**PLANTED, **EXAMPLE_EMPTIES})
    config = write_config(tmp_path, "backtest.json", {
        # the api_server block of a config shared with trade: completed from the environment
        "api_server": {"enabled": False, "listen_ip_address": "127.0.0.1", "listen_port": 8080,
                       "username": "centaur", "password": ""},
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
        "stake_amount": "unlimited",
    })
    result = backtest(tmp_path, config, timerange="20250303-20250306", strategy="RiskScenario",
                      env=env)
    assert result.trades, "the backtest traded"
    texts = _artefact_texts(tmp_path)
    texts["stdout"], texts["stderr"] = result.process.stdout, result.process.stderr
    assert any(name.endswith("_config.json") for name in texts), "the zip holds the config"
    assert _leaks(texts, list(PLANTED.values())) == []
    exported = next(t for n, t in texts.items() if n.endswith("_config.json"))
    assert REDACTED in exported


@pytest.mark.slow
def test_a_hyperopt_with_the_dotenv_leaks_nothing(tmp_path):
    env = _dotenv(tmp_path, {**PLANTED, **EXAMPLE_EMPTIES})
    config = write_config(tmp_path, "backtest.json", {
        "exchange": {"pair_whitelist": ["BTC/USDT:USDT"]}, "max_open_trades": 1})
    process = run_freqtrade(
        ["hyperopt", "-c", str(config), "--strategy", "LossStreakScenario", "--strategy-path",
         str(TEST_STRATEGIES), "--timerange", "20250301-20250304", "--spaces", "buy",
         "--epochs", "3", "-j", "1", "--random-state", "3", "--hyperopt-loss",
         "SharpeHyperOptLoss", "--min-trades", "1", "--disable-param-export"], env=env)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    texts = _artefact_texts(tmp_path)
    assert any(name.endswith(".fthypt") for name in texts), "hyperopt wrote its results"
    texts["stdout"], texts["stderr"] = process.stdout, process.stderr
    assert _leaks(texts, list(PLANTED.values())) == []


@pytest.mark.parametrize("block", ["ccxt_config", "ccxt_async_config"])
@pytest.mark.slow
def test_ccxt_credentials_in_a_config_file_are_refused_without_echo(tmp_path, block):
    planted = "planted-ccxt-secret-9f9f"
    config = write_config(tmp_path, "backtest.json", {"exchange": {block: {"secret": planted}}})
    process = run_freqtrade(["backtesting", "-c", str(config), "--timerange", "20250301-20250302"],
                            env=_dotenv(tmp_path, EXAMPLE_EMPTIES))
    output = " ".join((process.stdout + process.stderr).split())  # freqtrade's console wraps
    assert process.returncode == 2
    assert f"exchange.{block}.secret in {config}" in output
    assert "FREQTRADE__EXCHANGE__SECRET" in output
    assert planted not in output


@pytest.mark.slow
def test_a_partial_api_server_block_with_a_password_is_refused_without_echo(tmp_path):
    planted = "planted-file-password-1234"
    config = write_config(tmp_path, "backtest.json", {"api_server": {"password": planted}})
    process = run_freqtrade(["backtesting", "-c", str(config), "--timerange", "20250301-20250302"])
    output = " ".join((process.stdout + process.stderr).split())
    assert process.returncode == 2
    assert "api_server.password" in output and "FREQTRADE__API_SERVER__PASSWORD" in output
    assert planted not in output


@pytest.mark.slow
def test_a_schema_error_exits_2_and_its_dump_masks_the_environment_secrets(tmp_path):
    # a partial api_server block (no `enabled`): freqtrade dumps the block, env values merged
    config = write_config(tmp_path, "backtest.json", {"api_server": {"listen_port": 8080}})
    process = run_freqtrade(["backtesting", "-c", str(config), "--timerange", "20250301-20250302"],
                            env=_dotenv(tmp_path, {**PLANTED, **EXAMPLE_EMPTIES}))
    output = " ".join((process.stdout + process.stderr).split())
    assert process.returncode == 2
    assert "Invalid freqtrade configuration: 'enabled' is a required property" in output
    assert _leaks({"output": output}, list(PLANTED.values())) == []


@pytest.mark.slow
def test_show_config_redacts_the_suite_secrets(tmp_path):
    env = _dotenv(tmp_path, PLANTED)
    config = write_config(tmp_path, "dry-run.json")
    process = run_freqtrade(["show-config", "-c", str(config)], env=env)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-3000:]
    assert '"jwt_secret_key": "REDACTED"' in output or "'jwt_secret_key': 'REDACTED'" in output
    assert _leaks({"show-config": output}, list(PLANTED.values())) == []


def test_the_routers_refusal_of_venue_credentials_does_not_echo_them():
    planted = "planted-venue-key-abcd"
    with pytest.raises(CentaurConfigError) as err:
        settings_from({"centaur": {"exchange": {"router": {"enabled": True, "venues": {
            "bybit": {"ccxt_config": {"apiKey": planted}}}}}}})
    assert "centaur.exchange.router.venues.bybit.ccxt_config" in str(err.value)
    assert "api_key_env" in str(err.value)
    assert planted not in str(err.value)


def test_redaction_masks_by_key_at_any_depth_and_by_value_in_text():
    redactor = Redactor()
    tree = {"exchange": {"ccxt_async_config": {"apiKey": "k-123456"}, "name": "binance"},
            "api_server": {"ws_token": "tok-987654", "username": "centaur"}, "pairs": ["BTC"]}
    redactor.add_config(tree)
    masked = redactor.tree(tree)
    assert masked["exchange"]["ccxt_async_config"]["apiKey"] == REDACTED
    assert masked["api_server"] == {"ws_token": REDACTED, "username": "centaur"}
    assert masked["exchange"]["name"] == "binance" and masked["pairs"] == ["BTC"]
    line = "GET /api/v1/message/ws?token=tok-987654 - config {'apiKey': 'k-123456'}"
    assert "tok-987654" not in redactor.text(line) and "k-123456" not in redactor.text(line)
    assert redactor.text("nothing secret here") == "nothing secret here"
