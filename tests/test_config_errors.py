"""Bad or missing configuration fails at start-up, naming the key and the fix."""

from __future__ import annotations

import pytest

from centaur.secrets import check_required_secrets, secrets_in_files
from centaur.settings import CentaurConfigError, settings_from
from risk_protections.loss_streak_guard import LossStreakGuard
from tests.support.freqtrade_run import run_freqtrade, write_config
from tests.support.paths import PROJECT_ROOT


def test_unknown_key_is_named_with_the_known_keys():
    with pytest.raises(CentaurConfigError) as err:
        settings_from({"centaur": {"exchange": {"offline_markets": {"enabeld": True}}}})
    message = str(err.value)
    assert "centaur.exchange.offline_markets.enabeld: unknown key" in message
    assert "enabled" in message and "recordings_dir" in message


def test_wrong_type_names_the_key_the_value_and_the_default():
    with pytest.raises(CentaurConfigError) as err:
        settings_from({"centaur": {"exchange": {"router": {"enabled": "sometimes"}}}})
    message = str(err.value)
    assert "centaur.exchange.router.enabled" in message
    assert "'sometimes'" in message and "default: False" in message


@pytest.mark.slow
def test_bad_suite_key_stops_freqtrade_at_start_up(tmp_path):
    config = write_config(tmp_path, "backtest.json", {"centaur": {"exchange": {"routr": {}}}})
    process = run_freqtrade(["backtesting", "-c", str(config), "--timerange", "20250601-20250602"])
    assert process.returncode == 2, (process.stdout + process.stderr)[-3000:]
    assert "centaur.exchange.routr: unknown key" in process.stdout + process.stderr


def test_protection_entry_with_an_unknown_key_is_rejected():
    config = {"timeframe": "5m"}
    with pytest.raises(CentaurConfigError, match=r"protections\[LossStreakGuard\]\.max_losses"):
        LossStreakGuard(config, {"method": "LossStreakGuard", "max_losses": 3})
    with pytest.raises(CentaurConfigError, match="max_consecutive_losses"):
        LossStreakGuard(config, {"method": "LossStreakGuard", "max_consecutive_losses": 0})


def test_enabled_api_server_without_secrets_names_the_env_vars():
    with pytest.raises(CentaurConfigError) as err:
        check_required_secrets({"api_server": {"enabled": True, "password": ""}})
    message = str(err.value)
    assert "FREQTRADE__API_SERVER__PASSWORD" in message
    assert "FREQTRADE__API_SERVER__JWT_SECRET_KEY" in message


def test_live_mode_requires_exchange_credentials_from_the_environment():
    with pytest.raises(CentaurConfigError, match="FREQTRADE__EXCHANGE__SECRET"):
        check_required_secrets({"dry_run": False, "exchange": {"key": "k", "secret": ""}})


@pytest.mark.slow
def test_secret_written_into_a_config_file_stops_start_up(tmp_path):
    config = write_config(tmp_path, "backtest.json", {"exchange": {"secret": "s3cr3t-value"}})
    process = run_freqtrade(["backtesting", "-c", str(config), "--timerange", "20250601-20250602"])
    output = process.stdout + process.stderr
    assert process.returncode == 2, output[-3000:]
    assert "exchange.secret in" in output and "FREQTRADE__EXCHANGE__SECRET" in output
    assert "s3cr3t-value" not in output, "a secret value reached the log"


def test_the_repository_configs_hold_no_secret_values():
    files = sorted((PROJECT_ROOT / "config").glob("*.json"))
    assert files
    assert secrets_in_files(files) == []


@pytest.mark.slow
def test_live_config_without_credentials_stops_before_any_network(tmp_path):
    config = write_config(tmp_path, "live.json", {"db_url": f"sqlite:///{tmp_path / 'l.sqlite'}"})
    process = run_freqtrade(["trade", "-c", str(config)], timeout=120)
    output = process.stdout + process.stderr
    assert process.returncode == 2, output[-3000:]
    for variable in ("FREQTRADE__EXCHANGE__KEY", "FREQTRADE__EXCHANGE__SECRET",
                     "FREQTRADE__TELEGRAM__TOKEN", "FREQTRADE__API_SERVER__PASSWORD"):
        assert variable in output
