"""Headline sentiment: the LLM scorer beside the lexicon baseline (``make report-sentiment``).

    python -m research.sentiment_report [--headlines 2025-26] [--sample 200]
        [--models Qwen2.5-Coder-1.5B-Instruct smollm2-135m] [--out reports/sentiment]

A sample of headlines (news outlets only: posts from ``@`` accounts are left out; evenly spaced
over the file, so every window of it is represented) is scored by the lexicon rule
(``LexiconScorer``) and by each model through the suite's own batched LLM scorer
(``LlmSentimentScorer``: one request per 20 headlines, the answer schema-checked; a bad answer
leaves its headlines unscored), each headline scored once (the suite's sentiment cache, keyed by
scorer and headline; a rerun scores only what is missing). Reported per model: the share of headlines it scored, the
agreement with the lexicon (Spearman rank correlation with a bootstrap interval, and the sign
agreement on headlines both call non-neutral), and the time per batch and per headline.

Agreement is not value: whether a score predicts anything is judged by the evidence harness
(``make report-evidence`` runs the news signal on the lexicon's scores against its
random-direction null). This report says what the second scorer costs and how far it departs
from the first.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from bench.common import PROJECT_ROOT
from centaur.report_files import write_report
from centaur.settings.llm import LlmSettings, NewsSettings
from llm_layer.client import LlmClient
from llm_layer.news import Headline, read_csv_headlines
from llm_layer.sentiment import LexiconScorer
from llm_layer.sentiment_cache import LlmSentimentScorer, SentimentCache, score_headlines
from research.llm_report import Model, resolve_model, serving
from research.news_sources import headline_set

BATCH = 20
NEUTRAL_BAND = 0.05  # |score| at or below this is neutral for the sign agreement
BOOTSTRAP_DRAWS = 2000


def sample_headlines(headlines_name: str, sample: int) -> list[Headline]:
    news = NewsSettings(**headline_set(headlines_name))  # excludes "@" sources
    headlines = read_csv_headlines(Path(news.csv_path), news)
    picks = np.linspace(0, len(headlines) - 1, min(sample, len(headlines))).astype(int)
    return [headlines[i] for i in sorted(set(picks))]


def sample_titles(headlines_name: str, sample: int) -> list[str]:
    return [h.title for h in sample_headlines(headlines_name, sample)]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation with tied values sharing their mean rank (many headlines score 0)."""
    return float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])


class TimedScorer:
    """A scorer that keeps the wall time of each batch it was asked to score, and how many
    headlines it was asked for."""

    def __init__(self, scorer: LlmSentimentScorer):
        self.name, self._scorer, self.batch_secs, self.titles = scorer.name, scorer, [], 0

    def score_many(self, titles: Sequence[str]) -> list[float | None]:
        self.titles += len(titles)
        began = time.perf_counter()
        try:
            return self._scorer.score_many(titles)
        finally:
            self.batch_secs.append(time.perf_counter() - began)


def agreement(lexicon: list[float], model: list[float | None], seed: int = 7) -> dict[str, Any]:
    both = [(x, y) for x, y in zip(lexicon, model, strict=True) if y is not None]
    if len(both) < 10:
        return {"paired": len(both)}
    a, b = (np.array(column) for column in zip(*both, strict=True))
    rng = np.random.default_rng(seed)
    draws = [spearman(a[i], b[i]) for i in
             (rng.integers(0, len(a), len(a)) for _ in range(BOOTSTRAP_DRAWS))]
    called = (np.abs(a) > NEUTRAL_BAND) & (np.abs(b) > NEUTRAL_BAND)
    return {"paired": len(a), "spearman": round(spearman(a, b), 3),
            "spearman_ci95": [round(float(np.nanpercentile(draws, q)), 3) for q in (2.5, 97.5)],
            "both_non_neutral": int(called.sum()),
            "sign_agreement": round(float((np.sign(a[called]) == np.sign(b[called])).mean()), 3)
            if called.any() else None,
            "mean_lexicon": round(float(a.mean()), 3), "mean_model": round(float(b.mean()), 3)}


def score_with(model: Model, headlines: list[Headline], args: argparse.Namespace, work: Path
               ) -> dict[str, Any]:
    """The model's scores, each headline scored once (the suite's cache, ``--cache``)."""
    with serving(model, args, work) as base_url:
        client = LlmClient(base_url, model.served_as, "local", args.timeout_secs)
        inner = LlmSentimentScorer(client, max_tokens=512, seed=LlmSettings().seed)
        scorer = TimedScorer(inner)
        cache = SentimentCache(args.cache, lambda: datetime.now(UTC))
        try:
            scored = score_headlines(headlines, scorer, cache, batch_size=BATCH)
        finally:
            cache.close()
    return {"scores": [s.score for s in scored], "batch_secs": scorer.batch_secs,
            "titles_scored_now": scorer.titles, "failures": inner.failures}


def build(args: argparse.Namespace) -> dict[str, Any]:
    headlines = sample_headlines(args.headlines, args.sample)
    titles = [h.title for h in headlines]
    began = time.perf_counter()
    lexicon = LexiconScorer().score_many(titles)
    lexicon_secs = time.perf_counter() - began
    report: dict[str, Any] = {
        "headlines": args.headlines, "sample": len(titles), "batch": BATCH,
        "lexicon": {"scorer": "lexicon:vader-3.3.2", "ms_per_headline":
                    round(1000 * lexicon_secs / len(titles), 3)},
        "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            model = resolve_model(name)
            if not isinstance(model, Model) or model.kind != "llm":
                report["models"][name] = model if not isinstance(model, Model) else {
                    "reason": "not an LLM (the lexicon is the baseline here)"}
                continue
            run = score_with(model, headlines, args, Path(tmp))
            scored = [s for s in run["scores"] if s is not None]
            timed = run["batch_secs"]  # the batches scored now (cached ones cost nothing)
            report["models"][name] = {
                "scored_ratio": round(len(scored) / len(titles), 3),
                "failed_batches": run["failures"], "batches_scored_now": len(timed),
                "secs_per_batch_p50": round(float(np.median(timed)), 2) if timed else None,
                "secs_per_headline": round(sum(timed) / run["titles_scored_now"], 3)
                if timed else None,
                "agreement_with_lexicon": agreement(lexicon, run["scores"])}
    return report


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Headline sentiment: the LLM scorer beside the lexicon", "",
             f"{report['sample']} headlines of the {report['headlines']} set (news outlets, "
             f"evenly spaced), batches of {report['batch']}. Lexicon: "
             f"{report['lexicon']['ms_per_headline']} ms per headline.", "",
             "Agreement is not value: the news signal's value is judged against its null by "
             "`make report-evidence`.", "",
             "| model | scored | Spearman vs lexicon [95 %] | sign agreement (n) | s per batch "
             "(p50) | s per headline |", "|---|---|---|---|---|---|"]
    for name, row in report["models"].items():
        if "scored_ratio" not in row:
            lines.append(f"| {name} | not installed: {row.get('reason')} | | | | |")
            continue
        a = row["agreement_with_lexicon"]
        lines.append(f"| {name} | {row['scored_ratio']:.1%} | {a.get('spearman')} "
                     f"{a.get('spearman_ci95', '')} | {a.get('sign_agreement')} "
                     f"({a.get('both_non_neutral')}) | {row['secs_per_batch_p50']} | "
                     f"{row['secs_per_headline']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--headlines", default="2025-26", choices=("2025-26", "2021-22"))
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--models", nargs="+", default=["Qwen2.5-Coder-1.5B-Instruct",
                                                        "smollm2-135m"])
    parser.add_argument("--base-url", default=LlmSettings().base_url)
    parser.add_argument("--timeout-secs", type=float, default=120.0)
    parser.add_argument("--cache", default=str(PROJECT_ROOT / "user_data" / "llm" /
                                               "sentiment.sqlite"),
                        help="scores kept per scorer and headline (the suite's cache)")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "reports" / "sentiment"))
    args = parser.parse_args(argv)
    report = build(args)
    write_report(Path(args.out), report, markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
