"""MetricsPart: a Prometheus endpoint on the bot (``centaur.metrics``), trading only.

Keys: ``centaur.metrics.enabled`` (default false), ``listen_ip_address`` (default
127.0.0.1: reachable from this machine only; put a reverse proxy with auth in front before
binding elsewhere), ``listen_port`` (default 9108). The endpoint serves its own registry
(``/metrics``, the text format Prometheus scrapes) - the process-wide default registry is not
exported - holding:

- the scrape-time gauges of ``control_tower.metrics_collector`` (equity, drawdown in R,
  trading state and halts - failing closed, ``UNKNOWN`` and ``centaur_risk_state_readable``
  0, when the risk state cannot be read -, leverage, signals, open and closed trades, funding,
  router slippage, the exchange-error window);
- the counters of ``control_tower.metrics_counters`` (events, drift blocks, retirements,
  fills, exchange errors, LLM calls and latency), fed by the event sink, ``on_fill`` and, at
  each bot loop, by the exchange-failure and LLM-call records.

A port that cannot be bound stops the start-up with the key to change. The dashboard that
reads these series is ``dashboards/centaur-grafana.json``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from freqtrade.persistence import Trade
from prometheus_client import CollectorRegistry, start_http_server

from centaur.exchange_health import HEALTH
from centaur.settings import CentaurConfigError
from centaur.settings.llm import LlmMode
from control_tower.metrics_collector import HostCollector, Sources, TradeBook
from control_tower.metrics_counters import (
    EventCounters,
    ExchangeErrorCounter,
    FillCounters,
    LlmCallCounters,
)
from control_tower.part import BasePart, TowerHost
from llm_layer.runtime import store_path
from risk_protections import trading_state as ts
from risk_protections.engine import STATE_KEY, STATE_NS
from sor_exchange.fills_log import FillsLog, default_url

HEALTH_KEEP = 1000  # what ``ExchangeHealth`` keeps


def wall_clock() -> datetime:
    return datetime.now(UTC)


@contextmanager
def freqtrade_trades() -> Iterator[TradeBook]:
    """Open and closed trades in a session of the calling (scrape) thread, removed after use
    - as freqtrade's API server does per request. One query: a trade the bot closes between
    two reads would come back from the second with the first read's attributes (the session's
    identity map), open and "closed" without a close date at once."""
    Trade.session.remove()  # not the session an earlier section of this scrape read with
    try:
        trades = Trade.get_trades_proxy()
        yield TradeBook(tuple(t for t in trades if t.is_open),
                        tuple(t for t in trades if not t.is_open))
    finally:
        Trade.session.remove()


def last_rows(host: TowerHost) -> dict[str, dict[str, float]]:
    """Close and funding rate of each whitelisted pair's last analysed candle."""
    timeframe = host.config.get("timeframe", "5m")
    found = {}
    for pair in host.dp.current_whitelist():
        frame, _ = host.dp.get_analyzed_dataframe(pair, timeframe)
        if frame is None or frame.empty:
            continue
        last = frame.iloc[-1]
        found[pair] = {"close": float(last["close"]),
                       "funding_rate": float(last.get("funding_rate", math.nan))}
    return found


def router_fills(host: TowerHost) -> FillsLog | None:
    """The router's fills log when this bot routes (extra venues configured), else None."""
    router = host.centaur.exchange.router
    primary = host.config["exchange"]["name"]
    if not router.enabled or not [n for n in router.active_venues() if n != primary]:
        return None
    return FillsLog(router.fills_log_url or default_url(host.config))


def host_sources(host: TowerHost, fills: FillsLog | None) -> Sources:
    return Sources(
        status=host.centaur_status,
        risk_state=lambda: ts.from_json(host.centaur_state.get(STATE_NS, STATE_KEY)),
        trades=freqtrade_trades,
        last_rows=lambda: last_rows(host),
        starting_balance_usd=lambda: host.wallets.get_starting_balance() if host.wallets
        else 0.0,
        router_summary=(lambda: fills.summary("venue")) if fills is not None else None,
        error_times=HEALTH.error_times,
        venue_calls=HEALTH.calls,
    )


class MetricsPart(BasePart):
    """The registry, its collectors and counters; the HTTP server when ``serve`` is called."""

    name = "metrics"

    def __init__(self, host: TowerHost, sources: Sources, clock: Callable[[], datetime],
                 fills: FillsLog | None = None):
        self.registry = CollectorRegistry()
        self.collector = HostCollector(sources, host.centaur.risk.breakers, clock)
        self.registry.register(self.collector)
        self.events = EventCounters(self.registry)
        host.events.subscribe(self.events)
        self.fills = FillCounters(self.registry)
        self.exchange_errors = ExchangeErrorCounter(self.registry)
        self.exchange_errors.skip(HEALTH.recent(HEALTH_KEEP))
        llm = host.centaur.llm
        self.llm_calls = LlmCallCounters(self.registry, store_path(host.config, llm)) \
            if llm.mode is LlmMode.LIVE else None
        if self.llm_calls is not None:
            self.llm_calls.skip()
        self._fills_log = fills
        self._server: Any = None
        self.address = ""

    def serve(self, ip_address: str, port: int) -> None:
        try:
            self._server, _ = start_http_server(port, ip_address, self.registry)
        except OSError as err:
            raise CentaurConfigError(
                f"centaur.metrics: cannot listen on {ip_address}:{port} ({err}). Fix: set "
                "centaur.metrics.listen_port to a free port (or listen_ip_address to an "
                "address of this machine), or set centaur.metrics.enabled to false.") from err
        self.address = f"{ip_address}:{self._server.server_port}"

    def on_loop(self, now: datetime) -> None:
        self.exchange_errors.poll(HEALTH.recent(HEALTH_KEEP))
        if self.llm_calls is not None:
            self.llm_calls.poll()

    def on_fill(self, trade: Any, order: Any, now: datetime) -> None:
        self.fills.on_fill(trade, order)

    def status(self, now: datetime) -> dict[str, Any]:
        return {"endpoint": f"http://{self.address}/metrics" if self.address else None,
                "scrape_errors": dict(self.collector.errors)}

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._fills_log is not None:
            self._fills_log.close()
            self._fills_log = None


def metrics_part(host: TowerHost) -> MetricsPart | None:
    """On with ``centaur.metrics.enabled`` in trading modes; serves at once."""
    settings = host.centaur.metrics
    if not settings.enabled or not host.trading:
        return None
    fills = router_fills(host)
    part = MetricsPart(host, host_sources(host, fills), wall_clock, fills)
    part.serve(settings.listen_ip_address, settings.listen_port)
    return part
