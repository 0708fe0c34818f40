"""Human GO for FreqUI and REST users: the requests waiting and the recent answers, and an
answer to one, under /api/v1/centaur/go behind freqtrade's auth (the operator is the REST user).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from freqtrade.rpc.api_server.api_auth import http_basic_or_jwt_token
from pydantic import BaseModel

from centaur_plugins.rest_session import rpc_in_session
from control_tower.human_go import Operator
from control_tower.human_go_book import UnknownRequest
from control_tower.human_go_part import HumanGoPart, find_human_go

router = APIRouter(tags=["Centaur"])


class GoAnswer(BaseModel):
    answer: Literal["go", "no"]


def _part(rpc: Any) -> HumanGoPart:
    part = find_human_go(getattr(getattr(rpc, "_freqtrade", None), "strategy", None))
    if part is None:
        raise HTTPException(status_code=404, detail="human GO is off on this bot "
                                                    "(centaur.human_confirm.enabled)")
    return part


@router.get("/go")
def go_requests(rpc: Any = Depends(rpc_in_session)) -> dict[str, Any]:
    part = _part(rpc)
    now = datetime.now(UTC)
    return {"pending": [r.to_json() for r in part.book.pending(now)],
            "recent": [r.to_json() for r in part.book.recent(20)],
            "answers": part.book.recent_answers(20)}


@router.post("/go/{request_id}")
def go_answer(request_id: str, body: GoAnswer, rpc: Any = Depends(rpc_in_session),
              user: str = Depends(http_basic_or_jwt_token)) -> dict[str, Any]:
    part = _part(rpc)
    try:
        record = part.answer(request_id, body.answer == "go",
                             Operator(f"REST user {user}", "rest"), datetime.now(UTC))
    except UnknownRequest as err:
        raise HTTPException(status_code=404, detail=f"no GO request {request_id}") from err
    if not record.accepted:
        raise HTTPException(status_code=409, detail=f"[{record.reason}] {record.detail}")
    return record.to_json()
