"""The documented feature list: every model feature, what it measures and where it exists.

Rule: a feature is trained on only if it exists on backtest data. ``LIVE_ONLY`` inputs (the
order-book imbalance) are computed in dry-run/live for the strategy to read, and never enter
``TRAINING_FEATURES``; ``where`` says which data each feature needs. All features are
scale-free (returns, ratios, ranks, z-scores, bounded oscillators) so that one pooled model can
compare pairs of very different prices and volumes. Candle counts are 5m candles
(12 = 1 h, 48 = 4 h, 288 = 24 h, 2016 = 1 week). FreqAI sees each as ``%-<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERYWHERE = "backtest+live (OHLCV)"
FUNDING = "backtest+live (funding settlements; NaN-free: last settled rate)"
SPOT = "backtest+live where spot candles exist (0 and basis_available=0 elsewhere)"
UNIVERSE = "backtest+live (all pairs of the ranker universe at the same candle)"
BTC = "backtest+live (BTC/USDT:USDT candles)"
LIVE = "dry-run/live only (order book): never a training feature"


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    group: str
    where: str
    description: str


def _specs(group: str, where: str, rows: list[tuple[str, str]]) -> list[FeatureSpec]:
    return [FeatureSpec(name, group, where, text) for name, text in rows]


_RETURNS = _specs("returns", EVERYWHERE, [
    *[(f"logret_{h}", f"log(close / close {h} candles ago)") for h in (1, 3, 6, 12, 24, 48, 96,
                                                                       288)],
    *[(f"ret_{h}", f"close / close {h} candles ago - 1 (simple return)") for h in (12, 48, 288)],
])

_VOLATILITY = _specs("volatility", EVERYWHERE, [
    *[(f"rv_{w}", f"std of 1-candle log returns over {w} candles (realised volatility)")
      for w in (12, 48, 288, 2016)],
    ("rv_ratio_288_2016", "rv_288 / rv_2016: the regime volatility ratio (24 h vs 1 week)"),
    ("rv_ratio_12_288", "rv_12 / rv_288: the last hour's volatility against the day's"),
    ("parkinson_48", "Parkinson high-low volatility over 48 candles"),
    ("garch_sigma", "GARCH(1,1)-t forecast sigma of the next 5m log return (freqai_models.garch)"),
    ("garch_to_rv_288", "garch_sigma / rv_288: forecast against realised"),
    ("atr_ratio_14", "ATR(14) / close"),
    ("atr_ratio_14_288", "ATR(14) / ATR(288): short against long true range"),
    ("range_ratio", "(high - low) / close of the candle"),
])

_TREND = _specs("trend and oscillators", EVERYWHERE, [
    *[(f"close_to_sma_{n}", f"close / SMA({n}) - 1") for n in (20, 50, 200)],
    ("ema_12_48", "EMA(12) / EMA(48) - 1"),
    *[(f"rsi_{n}", f"RSI({n}), 0-100") for n in (7, 14, 21)],
    ("macd", "MACD(12, 26) line / close"),
    ("macd_signal", "MACD signal(9) / close"),
    ("macd_hist", "MACD histogram / close"),
    ("bb_width", "Bollinger(20, 2) band width / middle band"),
    ("bb_position", "Bollinger(20, 2) %B: position of close inside the bands"),
    ("adx_14", "ADX(14) trend strength"),
    ("dmp_14", "+DI(14)"),
    ("dmn_14", "-DI(14)"),
    ("stoch_k", "Stochastic %K(14, 3)"),
    ("stoch_d", "Stochastic %D(3)"),
    ("cci_20", "CCI(20)"),
    ("willr_14", "Williams %R(14)"),
    ("mfi_14", "Money flow index(14)"),
    ("cmf_20", "Chaikin money flow(20)"),
    ("aroon_osc_25", "Aroon oscillator(25)"),
    ("efficiency_ratio_48", "Kaufman efficiency ratio over 48 candles (net / path length)"),
    ("zscore_close_288", "(close - mean) / std of close over 288 candles"),
    ("drawdown_288", "close / highest close of 288 candles - 1"),
    ("dist_high_288", "close / highest high of 288 candles - 1"),
    ("dist_low_288", "close / lowest low of 288 candles - 1"),
    ("range_pos_288", "position of close in the 288-candle high-low range, 0-1"),
])

_SHAPE = _specs("return distribution and candle shape", EVERYWHERE, [
    ("skew_288", "skewness of 1-candle log returns over 288 candles"),
    ("kurt_288", "excess kurtosis of 1-candle log returns over 288 candles"),
    ("autocorr_288", "lag-1 autocorrelation of log returns over 288 candles"),
    ("body_ratio", "|close - open| / (high - low); 0 on a flat candle"),
    ("upper_wick_ratio", "(high - max(open, close)) / (high - low)"),
    ("lower_wick_ratio", "(min(open, close) - low) / (high - low)"),
])

_VOLUME = _specs("volume and liquidation-like moves", EVERYWHERE, [
    ("volume_ratio_20", "volume / SMA(volume, 20)"),
    ("volume_ratio_288", "volume / SMA(volume, 288)"),
    ("log_volume_change_1h", "log volume of the last 12 candles against the 12 before"),
    ("log_volume_change_24h", "log volume of the last 288 candles against the 288 before"),
    ("volume_zscore_288", "(volume - mean) / std of volume over 288 candles"),
    ("liq_candles_since", "candles since the last liquidation-like move (a wick over 2 ATR(14) "
     "with volume over 3x its 288-candle median), capped at 2016"),
    ("liq_events_288", "liquidation-like moves in the last 288 candles"),
])

_DERIVATIVES = [
    *_specs("funding", FUNDING, [
        ("funding_rate", "last settled funding rate (ratio per settlement)"),
        ("funding_zscore_21", "z-score of the last rate against the last 21 settlements (7 d)"),
        ("funding_change", "last settled rate - the settlement before"),
        ("funding_sum_3", "sum of the last 3 settled rates (24 h at 8 h settlements)"),
    ]),
    *_specs("spot-perp basis", SPOT, [
        ("basis_1h", "perp close / spot close - 1 of the last completed hour"),
        ("basis_zscore_24h", "z-score of basis_1h against its last 24 hourly values"),
        ("basis_available", "1 where spot candles exist for the pair, else 0"),
    ]),
]

_CALENDAR = _specs("calendar", EVERYWHERE, [
    ("hour_sin", "sin of the hour of day (UTC)"),
    ("hour_cos", "cos of the hour of day (UTC)"),
    ("dow_sin", "sin of the day of week"),
    ("dow_cos", "cos of the day of week"),
])

_CROSS_SECTION = _specs("cross-section", UNIVERSE, [
    *[(f"xs_rank_{base}", f"percentile rank of {base} across the universe at the candle")
      for base in ("logret_12", "logret_48", "logret_288", "rv_288", "volume_ratio_288",
                   "funding_rate")],
    ("xs_demeaned_logret_48", "logret_48 minus the universe mean at the candle"),
    ("xs_demeaned_logret_288", "logret_288 minus the universe mean at the candle"),
])

_BTC_CONTEXT = _specs("BTC context", BTC, [
    ("btc_logret_12", "BTC logret_12"),
    ("btc_logret_48", "BTC logret_48"),
    ("btc_logret_288", "BTC logret_288"),
    ("btc_rv_288", "BTC rv_288"),
    ("btc_rsi_14", "BTC RSI(14)"),
    ("corr_btc_288", "correlation of the pair's 1-candle log returns with BTC's, 288 candles"),
    ("beta_btc_288", "beta of the pair's 1-candle log returns to BTC's, 288 candles"),
])

PAIR_FEATURES: tuple[FeatureSpec, ...] = (
    *_RETURNS, *_VOLATILITY, *_TREND, *_SHAPE, *_VOLUME, *_DERIVATIVES, *_CALENDAR)
UNIVERSE_FEATURES: tuple[FeatureSpec, ...] = (*_CROSS_SECTION, *_BTC_CONTEXT)
TRAINING_FEATURES: tuple[FeatureSpec, ...] = (*PAIR_FEATURES, *UNIVERSE_FEATURES)
LIVE_ONLY: tuple[FeatureSpec, ...] = (
    FeatureSpec("ob_imbalance", "order book", LIVE,
                "(bid - ask) / (bid + ask) size within 10 levels of the top; not in backtests"),
)

TRAINING_NAMES: tuple[str, ...] = tuple(spec.name for spec in TRAINING_FEATURES)
WARMUP_CANDLES = 2400  # longest window (2016) + EMA/GARCH burn-in: features settle after this


def markdown_table() -> str:
    """The feature list as a Markdown table (the report prints it)."""
    rows = ["| feature | group | where | description |", "|---|---|---|---|"]
    rows += [f"| `{s.name}` | {s.group} | {s.where} | {s.description} |"
             for s in (*TRAINING_FEATURES, *LIVE_ONLY)]
    return "\n".join(rows)
