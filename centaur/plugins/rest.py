"""The suite's REST routes, mounted under /api/v1/centaur behind freqtrade's own auth."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI


from centaur.plugins.catalogue import REST_PREFIX as PREFIX

router = APIRouter(tags=["Centaur"])


def _rpc_optional():
    from freqtrade.rpc.api_server.deps import get_rpc_optional

    return get_rpc_optional()


@router.get("/status")
def status(rpc: Any = Depends(_rpc_optional)) -> dict[str, Any]:
    from centaur.plugins.status import suite_status

    return suite_status(getattr(rpc, "_freqtrade", None))


def mount(app: FastAPI) -> None:
    from freqtrade.rpc.api_server.api_auth import http_basic_or_jwt_token

    app.include_router(router, prefix=PREFIX, dependencies=[Depends(http_basic_or_jwt_token)])
