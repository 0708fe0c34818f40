"""Rule: the Markdown report shows exactly the JSON report's figures, formatted, nothing else."""

from __future__ import annotations

from freqai_models.feature_catalogue import markdown_table

MODEL_NAMES = {"ranker": "pooled ranker", "per_pair_regressor": "per-pair regressor",
               "momentum": "momentum (24 h)"}
METRICS = (("rank_ic_mean", "rank IC", "{:+.4f}"),
           ("topk_minus_universe_net", "top-k - universe, net", "{:+.4%}"),
           ("ndcg_at_k", "NDCG@k", "{:.4f}"), ("hit_rate", "hit rate", "{:.1%}"),
           ("timestamps", "timestamps", "{}"))


SERIES_NAMES = {"rank_ic": "rank IC", "topk_minus_universe_net": "top-k - universe, net (long)",
                "universe_minus_bottomk_net": "universe - bottom-k, net (short)"}


def render(report: dict) -> str:
    setup = report["setup"]
    parts = [
        "# Models judged out of sample",
        "",
        f"Produced by `{report['command']}` (`make report-models`) in {report['report_secs']} s."
        f" Walk-forward over `{setup['datadir']}`, {setup['timeframe']} candles, timerange "
        f"{setup['timerange']} (training included): "
        f"{setup['windows']} windows of {setup['period_days']:g} days from "
        f"{setup['first_window']} to {setup['last_window_end']}, each model trained on the "
        f"{setup['train_period_days']:g} days before its window, {len(setup['pairs'])} pairs "
        f"({', '.join(p.split('/')[0] for p in setup['pairs'])}), {setup['features']} features,"
        f" top-k = {setup['ranker']['top_k']}, horizon {setup['ranker']['horizon_candles']} "
        f"candles (4 h), round-trip fee {setup['ranker']['round_trip_fee_ratio']:.2%}. Metrics"
        " on non-overlapping 4 h timestamps; nothing tuned on these windows (settings: "
        "`config/freqai.json`, defaults in `centaur/settings/models.py`).",
        "",
        "## Every model tried, with its Newey-West t",
        "",
        _significance_section(report["significance"]),
        "",
        "## Overall",
        "",
        _metrics_table({MODEL_NAMES[m]: v for m, v in report["overall"].items()}),
        "",
        f"Training time over all windows: ranker {report['training_secs']['ranker']} s, "
        f"per-pair regressors {report['training_secs']['per_pair_regressor']} s (ranker "
        "time includes scoring and the drift gate).",
        "",
        f"Momentum baseline: {setup['momentum_baseline']}. Per-pair regressor: "
        f"{setup['per_pair_regressor']}.",
        "",
        "## Per window (rank IC / top-k - universe net)",
        "",
        _windows_table(report["windows"]),
        "",
        "## Drift gate on real data",
        "",
        _drift_section(report["drift_gate"]),
        "",
        "## Features",
        "",
        markdown_table(),
        "",
    ]
    return "\n".join(parts)


def _significance_section(significance: dict) -> str:
    lines = [f"{significance['models_tried']} models tried, {significance['tests']} tests; a "
             "mean is called significant only when its two-sided HAC p-value is below "
             f"{significance['family_alpha']:g} / {significance['tests']} = "
             f"{significance['per_test_alpha']:.4f} (Bonferroni). HAC lags: "
             f"{significance['lag_rule']}. No model is singled out: each is shown as measured.",
             "", "| model | series | mean | HAC t | naive t | p | lags | significant |",
             "|---|---|---|---|---|---|---|---|"]
    for model, by_series in significance["by_model"].items():
        for name, test in by_series.items():
            lines.append(f"| {MODEL_NAMES[model]} | {SERIES_NAMES[name]} | "
                         f"{_fmt(test['mean'], '{:+.5f}')} | {_fmt(test['hac_t'], '{:+.2f}')} | "
                         f"{_fmt(test['naive_t'], '{:+.2f}')} | "
                         f"{_fmt(test['p_two_sided'], '{:.4f}')} | {test['lags']} | "
                         f"{_call(test)} |")
    return "\n".join(lines)


def _call(test: dict) -> str:
    if not test["significant_bonferroni"]:
        return "no"
    return "yes, above 0" if test["mean"] > 0 else "yes, below 0"


def _metrics_table(rows: dict[str, dict]) -> str:
    header = "| model | " + " | ".join(label for _, label, _ in METRICS) + " |"
    lines = [header, "|---" * (len(METRICS) + 1) + "|"]
    for name, values in rows.items():
        cells = [_fmt(values.get(key), fmt) for key, _, fmt in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return fmt.format(value)


def _windows_table(windows: list[dict]) -> str:
    lines = ["| window | ranker | per-pair regressor | momentum | ranker blocked (mean) |",
             "|---|---|---|---|---|"]
    for w in windows:
        cells = [f"{_fmt(w[m]['rank_ic_mean'], '{:+.3f}')} / "
                 f"{_fmt(w[m]['topk_minus_universe_net'], '{:+.3%}')}"
                 for m in ("ranker", "per_pair_regressor", "momentum")]
        shares = list(w["ranker_blocked_share"].values())
        blocked = sum(shares) / len(shares) if shares else float("nan")
        lines.append(f"| {w['boundary'][:10]} | " + " | ".join(cells) +
                     f" | {_fmt(blocked, '{:.1%}')} |")
    return "\n".join(lines)


def _drift_section(drift: dict) -> str:
    lines = ["| case | pair | reference | test | checks | blocked | most drifted |",
             "|---|---|---|---|---|---|---|"]
    skip = ("events_outside_range", "spot_1h_2021_22_vs_range")
    for case, by_pair in drift.items():
        if case in skip:
            continue
        for pair, r in by_pair.items():
            lines.append(_drift_row(case, pair, r, " - ".join(r["reference"]),
                                    " - ".join(r["test"])))
    for pair, cases in drift["spot_1h_2021_22_vs_range"].items():
        reference = " - ".join(cases["reference"])
        tests = {"control_last_month": " - ".join(cases["control"]),
                 "regime_2021_11_to_2022_03": "2021-11-01 - 2022-04-01"}
        for case, test in tests.items():
            lines.append(_drift_row(f"spot 1h {case}", pair, cases[case], reference, test))
    if any(cases.get("short_reference") for cases in drift["spot_1h_2021_22_vs_range"].values()):
        lines += ["", "The spot 1h reference is shorter than 90 days (a short --timerange): too "
                  "few hourly rows for its blocked shares to mean much."]
    if drift["events_outside_range"]:
        lines += ["", "Named events outside the timerange (not studied): "
                  + ", ".join(drift["events_outside_range"]) + "."]
    return "\n".join(lines)


def _drift_row(case: str, pair: str, r: dict, reference: str, test: str) -> str:
    top = ", ".join(f"{f['feature']} ({f['checks']})" for f in r["most_drifted"][:3])
    return (f"| {case} | {pair} | {reference} | {test} | {r['checks']} | "
            f"{r['blocked_share']:.0%} | {top or '-'} |")
