"""Rule: the Markdown report shows exactly the JSON report's figures, formatted, nothing else."""

from __future__ import annotations

from freqai_models.feature_catalogue import markdown_table

MODEL_NAMES = {"ranker": "pooled ranker", "per_pair_regressor": "per-pair regressor",
               "momentum": "momentum (24 h)"}
METRICS = (("rank_ic_mean", "rank IC", "{:+.4f}"), ("rank_ic_tstat", "IC t-stat", "{:+.2f}"),
           ("topk_minus_universe_net", "top-k - universe, net", "{:+.4%}"),
           ("ndcg_at_k", "NDCG@k", "{:.4f}"), ("hit_rate", "hit rate", "{:.1%}"),
           ("timestamps", "timestamps", "{}"))


def render(report: dict) -> str:
    setup = report["setup"]
    parts = [
        "# Models judged out of sample",
        "",
        f"Produced by `{report['command']}` (`make report-models`) in {report['report_secs']} s."
        " Walk-forward over the shared Binance USDT-M 5m candles: "
        f"{setup['windows']} windows of {setup['period_days']:g} days from "
        f"{setup['first_window']} to {setup['last_window_end']}, each model trained on the "
        f"{setup['train_period_days']:g} days before its window, {len(setup['pairs'])} pairs "
        f"({', '.join(p.split('/')[0] for p in setup['pairs'])}), {setup['features']} features,"
        f" top-k = {setup['ranker']['top_k']}, horizon {setup['ranker']['horizon_candles']} "
        f"candles (4 h), round-trip fee {setup['ranker']['round_trip_fee_ratio']:.2%}. Metrics"
        " on non-overlapping 4 h timestamps; nothing tuned on these windows (settings: "
        "`config/freqai.json`, defaults in `centaur/settings/models.py`).",
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
    for case in ("in_distribution_held_out_week", "crash_2025_10_10"):
        for pair, r in drift[case].items():
            lines.append(_drift_row(case, pair, r, _spans(r["reference"]),
                                    f"{r['test'][0]} - {r['test'][1]}"))
    for pair, cases in drift["spot_1h_2021_22_vs_2025"].items():
        for case, r in cases.items():
            lines.append(_drift_row(f"spot 1h {case}", pair, r,
                                    "2025-03..05 + 2025-07..09", case.split("_", 1)[1]))
    return "\n".join(lines)


def _spans(spans: list) -> str:
    return " + ".join(f"{s[0]} - {s[1]}" for s in spans if s)


def _drift_row(case: str, pair: str, r: dict, reference: str, test: str) -> str:
    top = ", ".join(f"{f['feature']} ({f['checks']})" for f in r["most_drifted"][:3])
    return (f"| {case} | {pair} | {reference} | {test} | {r['checks']} | "
            f"{r['blocked_share']:.0%} | {top or '-'} |")
