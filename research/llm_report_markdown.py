"""The veto report as Markdown (rendered from the JSON the report writes, nothing else)."""

from __future__ import annotations

from typing import Any

RUN_COLUMNS = ("trades", "profit_usd", "expectancy_r", "expectancy_r_stderr", "win_rate",
               "profit_factor", "max_drawdown_account_ratio", "wall_secs")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]


def _period(p: dict[str, Any]) -> list[str]:
    lines = [f"## {p['period']}: {p['timerange']}, {', '.join(p['pairs'])} "
             f"(`{p['strategy']}`)", "",
             f"- Data: {p['data']}", f"- Headlines: `{p['news_file']}`",
             f"- R: {p['r_definition']}", "",
             f"Baseline `off` (no LLM): {_run_line(p['off'])}", ""]
    for section in p["models"].values():
        lines += _model(section)
    if "breaker" in p:
        lines += _breaker(p["breaker"])
    return lines + [""]


def _run_line(run: dict[str, Any]) -> str:
    return (f"{run['trades']} trades, {_cell(run['profit_usd'])} USD, expectancy "
            f"{_cell(run['expectancy_r'])} R (se {_cell(run['expectancy_r_stderr'])}), max "
            f"drawdown {_cell(run['max_drawdown_account_ratio'])}, {_cell(run.get('wall_secs'))} s")


def _model(m: dict[str, Any]) -> list[str]:
    veto, null = m["veto"], m["against_random"]
    on = veto["decisions_on"]
    lines = [f"### Model `{m['model']}` ({m['kind']}; {m['note']})", ""]
    rows = [[arm, *(run.get(c) for c in RUN_COLUMNS)] for arm, run in m["runs"].items()]
    rows += [[f"random s{a['seed']} (skip {_cell(a['skip_rate'])})",
              *({**a["run"], "wall_secs": a["wall_secs"]}.get(c) for c in RUN_COLUMNS)]
             for a in m["random"]]
    lines += _table(["arm", *RUN_COLUMNS], rows)
    lines += ["",
              f"- Signals consulted: {on['consulted']}; by reason: {on['by_reason']}; skip "
              f"rate (denied / consulted) **{_cell(veto['skip_rate'])}**; random vetoes' "
              f"realised skip rates: {[a['skip_rate'] for a in m['random']]}",
              _difference_line("Veto on minus off", veto["on_minus_off_r"]),
              _difference_line("Inverted minus off (placebo)", veto["inverted_minus_off_r"]),
              f"- Against the random veto at the same skip rate ({null['seeds']} seeds): on "
              f"minus off {_cell(null['effect'])} R total; random minus off mean "
              f"{_cell(null['null_mean'])} R (sd {_cell(null['null_sd'])}, range "
              f"{_cell(null['null_min'])} .. {_cell(null['null_max'])}); share of random "
              f"vetoes at least as good {_cell(null['share_at_least_as_good'])}, empirical p "
              f"{_cell(null['p_value'])}",
              f"- Vetoed trades (opened with the veto off, denied with it on): "
              f"{veto['vetoed_trades']['trades']}, which returned "
              f"{_cell(veto['vetoed_trades']['profit_usd'])} USD after fees, expectancy "
              f"{_cell(veto['vetoed_trades']['expectancy_r'])} R (standard error "
              f"{_cell(veto['vetoed_trades']['expectancy_r_stderr'])})",
              f"- Latency of the recorded calls (ms): {veto['latency_ms']}; share over the 2 s "
              f"live default: {_cell(veto['calls_over_2s_ratio'])}; signals with a headline "
              f"in the lookback: {_cell(veto['signals_with_headlines_ratio'])}"]
    if "replay_identical_to_on" in veto:
        lines.append(f"- Replay reproduces the recording run trade for trade: "
                     f"**{veto['replay_identical_to_on']}** (replay misses: "
                     f"{veto['replay_misses']})")
    lines += [f"- Wall time of this model's arms: {_cell(m['wall_secs'])} s",
              f"- Reading: {_reading(m)}", ""]
    return lines


def _difference_line(label: str, d: dict[str, Any]) -> str:
    return (f"- {label}: {_cell(d['mean'])} R per paired trade (paired bootstrap standard error "
            f"{_cell(d['standard_error'])}, 95 % interval {_cell(d['lower'])} .. "
            f"{_cell(d['upper'])}; total {_cell(d['total_r_difference'])} R over {d['pairs']} "
            f"paired trades: {d['in_both']} in both runs, {d['only_on']} only in the first, "
            f"{d['only_off']} only in `off`; a trade one run lacks counts 0 R there)")


def _reading(m: dict[str, Any]) -> str:
    """What the numbers allow one to say, computed from them (the same rule every run)."""
    null = m["against_random"]
    difference = m["veto"]["on_minus_off_r"]
    if null["p_value"] is not None and difference["total_lower"] is not None:
        excludes_zero = difference["total_lower"] > 0 or difference["total_upper"] < 0
        return (f"on minus off {difference['total_r_difference']:+.2f} R, 95 % interval "
                f"{difference['total_lower']:+.2f} .. {difference['total_upper']:+.2f} "
                f"({'excludes' if excludes_zero else 'includes'} 0); "
                f"{null['share_at_least_as_good']:.0%} of {null['seeds']} random vetoes at the "
                "same skip rate did at least as well - "
                + ("the veto beats skipping at random." if null["p_value"] <= 0.05
                   and excludes_zero else "no evidence the veto beats skipping at random."))
    return _vetoed_reading(m)


def _vetoed_reading(m: dict[str, Any]) -> str:
    vetoed = m["veto"]["vetoed_trades"]
    n, mean, stderr = vetoed["trades"], vetoed["expectancy_r"], vetoed["expectancy_r_stderr"]
    if n < 10 or mean is None or stderr is None:
        return (f"{n} vetoed trade(s): too few to tell whether the veto removes losers; "
                "the difference between the runs is noise at this sample size.")
    if abs(mean) < 2 * stderr:
        return (f"the {n} vetoed trades' mean {mean:+.3f} R is within 2 standard errors "
                f"({stderr:.3f}) of zero: no evidence the veto adds or removes value.")
    verdict = "removed losers" if mean < 0 else "removed winners"
    return (f"the {n} vetoed trades' mean {mean:+.3f} R is more than 2 standard errors "
            f"({stderr:.3f}) from zero: on this period the veto {verdict}.")


def _breaker(b: dict[str, Any]) -> list[str]:
    lines = ["", f"### Circuit breaker (model `{b['model']}`)", "",
             f"- Run with the breaker: {_run_line(b['run_with_breaker'])}",
             f"- Consultations: {b['consultations']}; outcomes: {b['by_reason']}",
             f"- Accepted interventions and alerts: {len(b['accepted'])}; no_action calls: "
             f"{b['no_action_calls']}; rejected: {len(b['rejected'])}"]
    for accepted in b["accepted"][:10]:
        lines.append(f"  - {accepted['tool']} {accepted['pair'] or ''} {accepted['value'] or ''} "
                     f"for {accepted['hours']} h at {accepted['at']}")
    for rejected in b["rejected"][:10]:
        lines.append(f"  - rejected {rejected['call'].get('tool')}: {rejected['reason']}")
    if b["intervention_effects"]:
        lines += ["", *_table(
            ["tool", "pair", "value", "from", "hours", "trades with", "USD with",
             "trades without", "USD without", "change USD"],
            [[e["tool"], e["pair"], e["value"], e["from"], e["hours"],
              e["with_intervention"]["trades"], e["with_intervention"]["profit_usd"],
              e["without"]["trades"], e["without"]["profit_usd"], e["profit_change_usd"]]
             for e in b["intervention_effects"]])]
    lines += ["", f"Degradation episodes ({len(b['episodes'])}): {b['episode_definition']}; "
              "per episode, what the breaker answered inside it and the R of the trades opened "
              "inside it with the breaker against without (no action).", ""]
    if b["episodes"]:
        lines += _table(["start", "end", "triggers", "closes", "consultations", "tools",
                         "trades with", "trades without", "R with", "R without", "R difference"],
                        [[e["start"], e["end"], "; ".join(e["triggers"]), e["closes"],
                          e["breaker_consultations"], ", ".join(sorted(set(e["breaker_tools"])))
                          or "-", e["trades_with_breaker"], e["trades_without"],
                          e["r_with_breaker"], e["r_without"], e["r_difference"]]
                         for e in b["episodes"]])
    return lines


def markdown(report: dict[str, Any]) -> str:
    lines = ["# LLM veto and circuit breaker: counterfactual replay", "",
             f"Generated {report['generated_at']} by `python -m research.llm_report` in "
             f"{_cell(report['wall_secs'])} s (strategy `{report['strategy']}`, "
             f"{report['random_seeds']} random-veto seeds per model, recording timeout {report['recording_timeout_secs']} s, "
             f"failure policy `{report['failure_policy']}`, breaker cooldown "
             f"{report['breaker_cooldown_hours']} h; code sha256 `{report['code_sha256'][:12]}`, "
             "copied once so all runs see the same code).", "",
             f"> {report['caveat']}", "",
             "Arms: `off` no LLM; per model `on` veto recording; `replay` veto from the record; "
             "`inverted` the opposite gate on the same record (placebo); `random sN` a veto "
             "skipping candidates at random at the `on` arm's skip rate (the null, seed N); "
             "`breaker` circuit breaker alone. Profits are freqtrade's, after fees and funding.",
             "", "Models:", ""]
    for name, model in report["models"].items():
        lines.append(f"- `{name}`: " + (f"{model['kind']}, served as `{model['served_as']}`; "
                                         f"{model['note']}" if model["installed"] else
                                         f"**not installed, skipped**: {model['reason']}"))
    lines.append("")
    for period in report["periods"]:
        lines += _period(period)
    return "\n".join(lines) + "\n"
