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
    veto = p["veto"]
    lines = [f"## {p['period']}: {p['timerange']}, {', '.join(p['pairs'])}", "",
             f"- Data: {p['data']}", f"- Headlines: `{p['news_file']}`; "
             f"{_cell(veto['signals_with_headlines_ratio'])} of consulted signals had at least "
             "one headline in the lookback", f"- R: {p['r_definition']}", "", "### Runs", ""]
    lines += _table(["run", *RUN_COLUMNS],
                    [[name, *(run.get(c) for c in RUN_COLUMNS)] for name, run in p["runs"].items()])
    on = veto["decisions_on"]
    lines += ["", "### Veto", "",
              f"- Signals consulted: {on['consulted']}; by reason: {on['by_reason']}",
              f"- Abstain (skip) rate {_cell(on['abstain_rate'])}, reduce rate "
              f"{_cell(on['reduce_rate'])}, failure rate {_cell(on['failure_rate'])}",
              f"- Replay reproduces the recording run trade for trade: "
              f"**{veto['replay_identical_to_on']}** (replay misses: {veto['replay_misses']})",
              f"- Vetoed trades (opened with the veto off, denied with it on): "
              f"{veto['vetoed_trades']['trades']}, which returned "
              f"{_cell(veto['vetoed_trades']['profit_usd'])} USD after fees, expectancy "
              f"{_cell(veto['vetoed_trades']['expectancy_r'])} R (standard error "
              f"{_cell(veto['vetoed_trades']['expectancy_r_stderr'])})",
              _difference_line("Veto on minus off", veto["on_minus_off_r"]),
              _difference_line("Inverted minus off (placebo)", veto["inverted_minus_off_r"]),
              f"- Latency of the recorded calls (ms): {veto['latency_ms']}; share over the 2 s "
              f"live default: {_cell(veto['calls_over_2s_ratio'])}"]
    lines.append(f"- Reading: {_reading(p)}")
    if "breaker" in p:
        lines += _breaker(p["breaker"])
    return lines + [""]


def _difference_line(label: str, d: dict[str, Any]) -> str:
    return (f"- {label}: {_cell(d['mean'])} R per paired trade (paired bootstrap standard error "
            f"{_cell(d['standard_error'])}, 95 % interval {_cell(d['lower'])} .. "
            f"{_cell(d['upper'])}; total {_cell(d['total_r_difference'])} R over {d['pairs']} "
            f"paired trades: {d['in_both']} in both runs, {d['only_on']} only in the first, "
            f"{d['only_off']} only in `off`; a trade one run lacks counts 0 R there)")


def _reading(p: dict[str, Any]) -> str:
    """What the numbers allow one to say, computed from them (the same rule every run)."""
    vetoed = p["veto"]["vetoed_trades"]
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
    lines = ["", "### Circuit breaker", "",
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
    return lines


def markdown(report: dict[str, Any]) -> str:
    lines = ["# LLM veto and circuit breaker: counterfactual replay", "",
             f"Generated {report['generated_at']} by `python -m research.llm_report` "
             f"(strategy `{report['strategy']}`, model `{report['model']}` at "
             f"{report['base_url']}, recording timeout {report['recording_timeout_secs']} s, "
             f"failure policy `{report['failure_policy']}`, breaker cooldown "
             f"{report['breaker_cooldown_hours']} h; code sha256 `{report['code_sha256'][:12]}`, "
             "copied once so all runs see the same code).", "",
             f"> {report['caveat']}", "",
             "Runs: `off` no LLM; `on` veto recording; `replay` veto from the record; "
             "`inverted` the opposite gate on the same record (placebo); `breaker` circuit "
             "breaker alone. Profits are freqtrade's, after fees and funding.", ""]
    for period in report["periods"]:
        lines += _period(period)
    return "\n".join(lines) + "\n"
