"""Rule: the weekly report is drawn from its dict alone - Markdown, HTML with embedded plots,
and a PDF of the same plots and tables (matplotlib's ``PdfPages``).

Plots: the daily equity curve, its drawdown, and profit by strategy/enter_tag. The HTML embeds
them as base64 PNGs (one self-contained file to send or open); the PDF has one page of KPIs and
plots, then pages of tables (attribution, winners and losers, slippage by venue, vetoes and their
counterfactual, halts, manual overrides). The database is named with its password masked.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend is chosen first
from jinja2 import Environment, select_autoescape  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.dates import DateFormatter  # noqa: E402

from centaur.report_files import write_report  # noqa: E402
from control_tower.weekly_sources import shown_db_url  # noqa: E402

ROWS_PER_PAGE = 28

# (title, report key, columns) of each table.
TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("PnL by strategy / enter_tag", "attribution",
     ("strategy", "enter_tag", "trades", "pnl_usd", "win_rate")),
    ("Largest winners", "winners",
     ("id", "pair", "side", "enter_tag", "exit_reason", "close_date", "pnl_usd")),
    ("Largest losers", "losers",
     ("id", "pair", "side", "enter_tag", "exit_reason", "close_date", "pnl_usd")),
    ("Slippage by venue", "slippage_by_venue",
     ("venue", "fills", "notional_usd", "fees_usd", "slippage_bps")),
    ("Vetoed entries and their counterfactual", "vetoed",
     ("decided_at", "pair", "side", "reason_code", "detail", "return_ratio",
      "would_be_profit_usd")),
    ("Halts", "halts", ("time", "severity", "code", "pair", "message")),
    ("Manual overrides", "overrides", ("time", "source", "code", "pair", "message")),
)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def table_rows(report: Mapping[str, Any], key: str, columns: Sequence[str]
               ) -> list[list[str]]:
    """A table's rows as text (the vetoes' counterfactual flattened into its row)."""
    if key == "vetoed":
        rows = [{**v, **(v["counterfactual"] or {})} for v in report["vetoes"]["vetoed"]]
    else:
        rows = report[key]
    return [[_text(row.get(c)) for c in columns] for row in rows]


def kpi_lines(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    k, v = report["kpis"], report["vetoes"]
    pct = (lambda x: "-" if x is None else f"{x:.2%}")
    return [("Closed trades", f"{k['closed_trades']} ({k['wins']} won, {k['losses']} lost)"),
            ("Win rate", pct(k["win_rate"])),
            ("PnL (after fees and funding)", f"{k['pnl_usd']:,.2f} {report['stake_currency']}"),
            ("Fees / funding", f"{k['fees_usd']:,.2f} / {k['funding_usd']:,.2f}"),
            ("Equity", f"{k['opening_equity_usd']:,.2f} -> {k['closing_equity_usd']:,.2f} "
                       f"({pct(k['return_ratio'])})"),
            ("Max drawdown", pct(k["max_drawdown_ratio"])),
            ("Daily Sharpe (annualised)", f"{k['daily_sharpe']:.2f}"),
            ("Open trades at end", str(k["open_trades_at_end"])),
            ("Vetoed entries", f"{len(v['vetoed'])} ({v['priced']} priced: would-be "
                               f"{v['would_be_profit_usd']:,.2f} over {v['horizon_hours']} h)"),
            ("Halts / overrides", f"{len(report['halts'])} / {len(report['overrides'])}")]


# --- plots -----------------------------------------------------------------------------------

def _days_axis(ax) -> None:
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_formatter(DateFormatter("%m-%d"))

def plot_equity(report: Mapping[str, Any], ax) -> None:
    days = [row["day"] for row in report["equity"]]
    ax.plot(days, [row["equity_usd"] for row in report["equity"]], marker="o", color="#1f77b4")
    ax.set_title("Equity (closed trades, end of day UTC)")
    ax.set_ylabel(report["stake_currency"])
    _days_axis(ax)


def plot_drawdown(report: Mapping[str, Any], ax) -> None:
    days = [row["day"] for row in report["equity"]]
    values = [-100 * row["drawdown_ratio"] for row in report["equity"]]
    ax.fill_between(days, values, 0, color="#d62728", alpha=0.4, step="post")
    ax.set_title("Drawdown from the running peak")
    ax.set_ylabel("%")
    _days_axis(ax)


def plot_attribution(report: Mapping[str, Any], ax) -> None:
    rows = report["attribution"] or [{"strategy": "none", "enter_tag": "-", "pnl_usd": 0.0}]
    labels = [f"{r['strategy']}\n{r['enter_tag']}" for r in rows]
    values = [r["pnl_usd"] for r in rows]
    ax.barh(labels, values, color=["#2ca02c" if v >= 0 else "#d62728" for v in values])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_title("PnL by strategy / enter_tag")
    ax.set_xlabel(report["stake_currency"])
    ax.invert_yaxis()


PLOTS = (("equity", plot_equity), ("drawdown", plot_drawdown),
         ("attribution", plot_attribution))


def plot_pngs(report: Mapping[str, Any]) -> dict[str, bytes]:
    out = {}
    for name, draw in PLOTS:
        fig, ax = plt.subplots(figsize=(8, 3.4))
        draw(report, ax)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        out[name] = buffer.getvalue()
    return out


# --- files -----------------------------------------------------------------------------------

def markdown(report: Mapping[str, Any]) -> str:
    w = report["window"]
    lines = [f"# Weekly report {w['start']:%Y-%m-%d} - {w['end']:%Y-%m-%d}", "",
             f"Database: `{shown_db_url(report['db_url'])}`; "
             f"generated {_text(report['generated_at'])} UTC.",
             "", "| KPI | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in kpi_lines(report)]
    for title, key, columns in TABLES:
        rows = table_rows(report, key, columns)
        lines += ["", f"## {title}", ""]
        if not rows:
            lines.append("None this week.")
            continue
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
    lines += ["", "## Notes", ""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines) + "\n"


_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;
font-size:13px;text-align:left}th{background:#f3f3f3}img{max-width:100%}</style></head>
<body><h1>{{ title }}</h1><p>Database <code>{{ db_url }}</code>; generated {{ generated }} UTC.</p>
<table>{% for name, value in kpis %}<tr><th>{{ name }}</th><td>{{ value }}</td></tr>{% endfor %}
</table>
{% for name, png in plots %}<img alt="{{ name }}" src="data:image/png;base64,{{ png }}">
{% endfor %}
{% for title, columns, rows in tables %}<h2>{{ title }}</h2>
{% if rows %}<table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</table>{% else %}<p>None this week.</p>{% endif %}
{% endfor %}<h2>Notes</h2><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>
</body></html>
"""


def title_of(report: Mapping[str, Any]) -> str:
    w = report["window"]
    return f"Weekly report {w['start']:%Y-%m-%d} - {w['end']:%Y-%m-%d}"


def html(report: Mapping[str, Any], pngs: Mapping[str, bytes]) -> str:
    template = Environment(autoescape=select_autoescape(default=True)).from_string(_HTML)
    return template.render(
        title=title_of(report), db_url=shown_db_url(report["db_url"]),
        generated=_text(report["generated_at"]), kpis=kpi_lines(report),
        plots=[(name, base64.b64encode(png).decode()) for name, png in pngs.items()],
        tables=[(title, columns, table_rows(report, key, columns))
                for title, key, columns in TABLES], notes=report["notes"])


def _table_page(pdf: PdfPages, title: str, columns: Sequence[str],
                rows: list[list[str]]) -> None:
    for first in range(0, max(len(rows), 1), ROWS_PER_PAGE):
        chunk = [[cell[:48] for cell in row] for row in rows[first:first + ROWS_PER_PAGE]]
        fig, ax = plt.subplots(figsize=(11.7, 8.3))
        ax.axis("off")
        ax.set_title(title, loc="left", fontsize=14)
        if chunk:
            table = ax.table(cellText=chunk, colLabels=list(columns), loc="upper left",
                             cellLoc="left")
            table.auto_set_font_size(False)
            table.set_fontsize(8)
            table.auto_set_column_width(list(range(len(columns))))
        else:
            ax.text(0.0, 0.9, "None this week.", fontsize=11)
        pdf.savefig(fig)
        plt.close(fig)


def write_pdf(report: Mapping[str, Any], path: Path) -> Path:
    with PdfPages(path) as pdf:
        fig = plt.figure(figsize=(11.7, 8.3))
        fig.suptitle(title_of(report), fontsize=15, x=0.05, ha="left")
        text = fig.add_axes((0.04, 0.05, 0.34, 0.85))
        text.axis("off")
        for i, (name, value) in enumerate(kpi_lines(report)):
            text.text(0, 1 - i * 0.075, f"{name}\n  {value}", fontsize=9, va="top")
        for i, (_, draw) in enumerate(PLOTS):
            draw(report, fig.add_axes((0.45, 0.70 - i * 0.31, 0.52, 0.22)))
        pdf.savefig(fig)
        plt.close(fig)
        for title, key, columns in TABLES:
            _table_page(pdf, title, columns, table_rows(report, key, columns))
        info = pdf.infodict()
        info["Title"] = title_of(report)
    return path


def write_all(report: Mapping[str, Any], stem: Path) -> list[Path]:
    """``stem``.json, .md, .html and .pdf."""
    report = {**report, "db_url": shown_db_url(report["db_url"])}
    json_path, md_path = write_report(stem, report, markdown(report))
    html_path = stem.with_suffix(".html")
    html_path.write_text(html(report, plot_pngs(report)))
    return [json_path, md_path, html_path, write_pdf(report, stem.with_suffix(".pdf"))]
