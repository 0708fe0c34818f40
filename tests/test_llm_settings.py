"""LLM settings: bad keys and values stop start-up with the key and the fix; keys from the
environment only, never echoed."""

from __future__ import annotations

import pytest
from freqtrade.enums import RunMode

from llm_layer.client import MissingApiKey, resolve_api_key
from llm_layer.runtime import check_mode, open_runtime, store_path
from centaur.settings import CentaurConfigError, settings_from
from centaur.settings.llm import LlmMode, LlmSettings


def llm_settings(**llm) -> LlmSettings:
    return settings_from({"centaur": {"llm": llm}}).llm


def test_defaults_are_the_offline_local_model_failing_closed():
    settings = llm_settings()
    assert settings.mode is LlmMode.OFF and settings.timeout_secs == 2.0
    assert settings.failure_policy == "skip" and settings.base_url.startswith("http://127.0.0.1")
    assert settings.breaker.min_win_rate_ratio == 0.40
    assert settings.breaker.max_drawdown_ratio == 0.15
    assert settings.breaker.max_consecutive_losses == 5


@pytest.mark.parametrize(("llm", "fragments"), [
    ({"modee": "live"}, ["centaur.llm.modee", "unknown key", "known keys here"]),
    ({"mode": "yolo"}, ["centaur.llm.mode", "'yolo'"]),
    ({"failure_policy": "retry"}, ["centaur.llm.failure_policy"]),
    ({"timeout_secs": 0}, ["centaur.llm.timeout_secs"]),
    ({"news": {"source": "csv"}}, ["centaur.llm.news", "csv_path"]),
    ({"breaker": {"conviction_range": [0.9, 0.6]}}, ["centaur.llm.breaker.conviction_range"]),
    ({"breaker": {"default_duration_hours": 500}}, ["default_duration_hours"]),
    ({"base_url": "127.0.0.1:8012"}, ["centaur.llm.base_url", "http://"]),
])
def test_bad_values_name_the_key_and_the_fix(llm, fragments):
    with pytest.raises(CentaurConfigError) as err:
        llm_settings(**llm)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_a_key_pasted_where_the_variable_name_goes_is_refused_without_echo(tmp_path):
    secret = "sk-proj-abcdef0123456789"
    settings = llm_settings(mode="replay", api_key_env=secret,
                            store_path=str(tmp_path / "r.sqlite"))
    with pytest.raises(CentaurConfigError) as err:
        open_runtime({"runmode": RunMode.BACKTEST}, settings)
    assert "NAME of an environment variable" in str(err.value)
    assert secret not in str(err.value)
    with pytest.raises(MissingApiKey) as err:
        resolve_api_key(settings, environ={secret: "x"})
    assert secret not in str(err.value)


def test_a_remote_endpoint_needs_its_key_from_the_environment():
    remote = llm_settings(base_url="https://api.openai.com/v1", api_key_env="MY_LLM_KEY")
    with pytest.raises(MissingApiKey, match="MY_LLM_KEY"):
        resolve_api_key(remote, environ={})
    assert resolve_api_key(remote, environ={"MY_LLM_KEY": "k-123"}) == "k-123"
    assert resolve_api_key(llm_settings(), environ={}) == "no-key"


@pytest.mark.parametrize(("mode", "runmode", "ok"), [
    ("live", RunMode.DRY_RUN, True), ("live", RunMode.LIVE, True),
    ("record", RunMode.LIVE, False), ("replay", RunMode.DRY_RUN, False),
    ("live", RunMode.BACKTEST, False), ("record", RunMode.BACKTEST, True),
    ("replay", RunMode.HYPEROPT, True), ("invert", RunMode.BACKTEST, True),
])
def test_the_mode_must_fit_the_run_mode(mode, runmode, ok):
    settings = llm_settings(mode=mode)
    if ok:
        check_mode(settings, runmode)
    else:
        with pytest.raises(CentaurConfigError, match="Fix: "):
            check_mode(settings, runmode)


def test_the_runtime_is_off_by_default_and_the_store_sits_in_user_data(tmp_path):
    assert open_runtime({"runmode": RunMode.BACKTEST}, llm_settings()) is None
    path = store_path({"user_data_dir": str(tmp_path)}, llm_settings())
    assert path == tmp_path / "llm" / "decisions.sqlite"


def test_a_missing_news_file_stops_start_up(tmp_path):
    settings = llm_settings(mode="replay", store_path=str(tmp_path / "r.sqlite"),
                            news={"source": "csv", "csv_path": str(tmp_path / "nope.csv")})
    with pytest.raises(CentaurConfigError, match="csv_path"):
        open_runtime({"runmode": RunMode.BACKTEST}, settings)
