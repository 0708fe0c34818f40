"""The suite's REST routes, mounted under /api/v1/centaur behind freqtrade's own auth."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException
from pydantic import BaseModel

from centaur_plugins import operator, panel
from centaur_plugins.catalogue import REST_PREFIX as PREFIX
from centaur_plugins.rest_session import rpc_in_session

router = APIRouter(tags=["Centaur"])


@router.get("/status")
def status(rpc: Any = Depends(rpc_in_session)) -> dict[str, Any]:
    from centaur_plugins.status import suite_status

    return suite_status(getattr(rpc, "_freqtrade", None))


def mount(app: FastAPI) -> None:
    from freqtrade.rpc.api_server.api_auth import http_basic_or_jwt_token

    app.include_router(router, prefix=PREFIX, dependencies=[Depends(http_basic_or_jwt_token)])
    app.include_router(panel.router, prefix=PREFIX)  # a static page: its data needs the auth
    from centaur_plugins import rest_go  # human GO (imports freqtrade's API modules)
    app.include_router(rest_go.router, prefix=PREFIX,
                       dependencies=[Depends(http_basic_or_jwt_token)])


class ResumeRequest(BaseModel):
    include_timed: bool = False


def _call(command):
    try:
        return command()
    except operator.OperatorError as err:
        raise HTTPException(status_code=409, detail=str(err)) from err


@router.post("/killswitch")
def killswitch(rpc: Any = Depends(rpc_in_session)) -> dict[str, Any]:
    return _call(lambda: operator.kill_switch(rpc, "REST API"))


@router.post("/resume")
def resume(request: ResumeRequest, rpc: Any = Depends(rpc_in_session)) -> dict[str, Any]:
    return _call(lambda: operator.resume(rpc, "REST API", request.include_timed))


@router.post("/state/reset")
def state_reset(rpc: Any = Depends(rpc_in_session)) -> dict[str, Any]:
    return _call(lambda: operator.state_reset(rpc, "REST API"))


@router.get("/interventions")
def interventions(rpc: Any = Depends(rpc_in_session)) -> list[dict[str, Any]]:
    return _call(lambda: operator.interventions(rpc))


@router.delete("/interventions/{intervention_id}")
def revoke(intervention_id: str, rpc: Any = Depends(rpc_in_session)) -> dict[str, Any]:
    return _call(lambda: operator.revoke(rpc, intervention_id, "REST API"))
