"""Rule "models" behind the same OpenAI-compatible API: the random veto and the lexicon veto.

The veto report measures every arm through the real veto gate (record mode, same record
store, same candles), so a rule is served the way a model is: a loopback endpoint answering
``/v1/chat/completions`` with the veto's JSON (``rationale``, ``decision``, ``confidence``). The
``model`` field of the request names the rule:

- ``random-p<rate>-s<seed>``: the null. Skips a candidate with probability ``rate``, decided by
  a hash of (seed, pair, side, candle time) - so the same candidate gets the same answer in
  every run with that seed, whatever else the prompt holds. ``rate`` is the model arm's skip
  rate, so the random veto skips as often as the model did; several seeds give the
  distribution of what skipping that often at random does.
- ``lexicon``: skips a long when the mean headline sentiment about the pair's asset in the
  prompt's lookback is at most ``-LEXICON_THRESHOLD``, a short when it is at least
  ``+LEXICON_THRESHOLD``; no headline about the asset: proceed. Headlines are the prompt's
  (published before the candle: no look-ahead); "about the asset" is ``Headline.mentions`` on
  the title. Scores: the suite's lexicon (``llm_layer.sentiment.LexiconScorer``, VADER).

Decisions are pure (``random_decision``, ``lexicon_decision``); ``RuleEndpoint`` is the thin
HTTP shell (a thread on 127.0.0.1, a free port).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from llm_layer.news import Headline
from llm_layer.sentiment import LexiconScorer

_UNDATED = datetime(1970, 1, 1, tzinfo=UTC)  # ``mentions`` reads the title, not the time

LEXICON_MODEL = "lexicon"
LEXICON_THRESHOLD = 0.05  # VADER's own neutral band: |compound| < 0.05 is neutral
_RANDOM = re.compile(r"^random-p(?P<rate>[0-9.]+)-s(?P<seed>\d+)$")

Scorer = Callable[[Sequence[str]], list[float]]


def random_model(rate: float, seed: int) -> str:
    return f"random-p{rate:.4f}-s{seed}"


def parse_random_model(name: str) -> tuple[float, int] | None:
    match = _RANDOM.match(name)
    return (float(match["rate"]), int(match["seed"])) if match else None


def uniform_of(seed: int, pair: str, side: str, time_utc: str) -> float:
    """A uniform number in [0, 1) fixed by the seed and the candidate."""
    digest = hashlib.sha256(f"{seed}|{pair}|{side}|{time_utc}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def random_decision(trade: dict[str, Any], rate: float, seed: int) -> dict[str, Any]:
    skip = uniform_of(seed, trade["pair"], trade["side"], trade["time_utc"]) < rate
    return {"rationale": f"random veto, skip rate {rate:.4f}, seed {seed}",
            "decision": "skip" if skip else "proceed", "confidence": 0.5}


def base_asset(pair: str) -> str:
    return pair.split("/")[0]


def lexicon_decision(case: dict[str, Any], scorer: Scorer,
                     threshold: float = LEXICON_THRESHOLD) -> dict[str, Any]:
    """Skip when the asset's headlines in the prompt lean against the trade's side."""
    trade = case["trade"]
    asset = base_asset(trade["pair"])
    titles = [h["title"] for h in case.get("headlines", [])
              if Headline(_UNDATED, h["title"]).mentions(asset)]
    if not titles:
        return {"rationale": f"no headline about {asset}", "decision": "proceed",
                "confidence": 0.5}
    mean = sum(scorer(titles)) / len(titles)
    against = mean <= -threshold if trade["side"] == "long" else mean >= threshold
    return {"rationale": f"{len(titles)} {asset} headlines, mean sentiment {mean:+.3f}",
            "decision": "skip" if against else "proceed",
            "confidence": round(min(1.0, abs(mean)), 3)}


def lexicon_scorer() -> tuple[Scorer, str]:
    """(scorer, its name): the suite's lexicon (``llm_layer.sentiment.LexiconScorer``)."""
    lexicon = LexiconScorer()
    return (lambda titles: [float(x) for x in lexicon.score_many(list(titles))],
            lexicon.name)


def answer(body: dict[str, Any], scorer: Scorer | None) -> dict[str, Any]:
    """The veto JSON for one chat-completions body, by the rule its ``model`` names."""
    case = json.loads(body["messages"][-1]["content"])
    model = body["model"]
    randomised = parse_random_model(model)
    if randomised:
        return random_decision(case["trade"], *randomised)
    if model == LEXICON_MODEL and scorer is not None:
        return lexicon_decision(case, scorer)
    raise ValueError(f"no rule named {model!r}")


def completion(model: str, content: str) -> dict[str, Any]:
    return {"id": "rule-" + hashlib.sha256(content.encode()).hexdigest()[:16],
            "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


class RuleEndpoint:
    """The rules on 127.0.0.1:<free port>, OpenAI chat-completions protocol; a context manager."""

    def __init__(self, scorer: Scorer | None):
        self.scorer = scorer
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                try:
                    decision = answer(body, endpoint.scorer)
                    status, payload = 200, completion(body["model"], json.dumps(decision))
                except (ValueError, KeyError) as err:
                    status, payload = 400, {"error": {"message": str(err), "type": "invalid"}}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> RuleEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
