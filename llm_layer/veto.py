"""The entry veto: one proposed trade in, one ``Decision`` out, recorded.

``VetoEngine.decide`` builds the request (trade, market state, the headlines visible at the
decision time), asks the consultant by mode, turns the answer into a ``Decision`` with the
pure rules of ``centaur.llm.verdict`` and records the decision with its reason code. It never
raises for anything the model or the network does.
"""

from __future__ import annotations

from centaur.decision import Decision
from centaur.settings.llm import LlmMode, LlmSettings
from llm_layer.consultant import Answer, Consultant, Parser
from llm_layer.market_state import MarketState
from llm_layer.news import NewsSource
from llm_layer.prompt import LlmRequest, TradeProposal, veto_messages
from llm_layer.schema import VetoOpinion, opinion_wire_schema, parse_opinion
from llm_layer.store import DecisionRecord
from llm_layer.verdict import OPINION_CODES, failure_decision, inverted, opinion_decision


def _parse_veto(text: str | None):
    opinion = parse_opinion(text)
    return opinion, opinion.model_dump(mode="json"), OPINION_CODES[opinion.decision]


VETO_PARSER: Parser[VetoOpinion] = Parser("veto", _parse_veto)


def base_asset(pair: str) -> str:
    return pair.split("/")[0]


def decision_for(answer: Answer[VetoOpinion], settings: LlmSettings) -> Decision:
    """The veto's decision for an answer under the configured mode and failure policy."""
    if not answer.ok:
        return failure_decision(answer.code, settings.failure_policy, answer.detail)
    decision = opinion_decision(answer.value, settings.veto.reduce_floor_ratio)
    return inverted(decision) if settings.mode is LlmMode.INVERT else decision


class VetoEngine:
    def __init__(self, consultant: Consultant, news: NewsSource):
        self.consultant = consultant
        self.settings = consultant.settings
        self._news = news

    def request_for(self, proposal: TradeProposal, market: MarketState) -> LlmRequest:
        headlines = self._news.visible(proposal.decided_at, base_asset(proposal.pair),
                                       self.settings.news)
        return LlmRequest(veto_messages(proposal, market, headlines), opinion_wire_schema(),
                          self.settings.max_tokens, self.settings.temperature, self.settings.seed)

    def decide(self, proposal: TradeProposal, market: MarketState) -> Decision:
        """Decide and record at once (live: one decision per prefetch thread)."""
        decision, record = self.decide_unrecorded(proposal, market)
        self.consultant.store.record_decisions([record])
        return decision

    def decide_unrecorded(self, proposal: TradeProposal, market: MarketState
                          ) -> tuple[Decision, DecisionRecord]:
        """Decide; the caller records (backtests write a pair's decisions in one transaction)."""
        answer = self.consultant.ask(self.request_for(proposal, market), VETO_PARSER)
        decision = decision_for(answer, self.settings)
        return decision, self.record_of(proposal, decision, answer.key, answer.origin,
                                        answer.latency_ms)

    def record_of(self, proposal: TradeProposal, decision: Decision, key: str | None,
                  origin: str, latency_ms: float | None = None) -> DecisionRecord:
        return DecisionRecord(
            run_label=self.settings.run_label, kind="veto", mode=str(self.settings.mode),
            pair=proposal.pair, side=proposal.side, decided_at=proposal.decided_at, key=key,
            allowed=decision.allowed, reason_code=str(decision.reason), scale=decision.scale,
            origin=origin, latency_ms=latency_ms, detail=decision.detail)
