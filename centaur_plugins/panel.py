"""The Centaur panel: one static page, served by the bot's own API server.

GET /api/v1/centaur/panel answers ``panel.html``, which holds no data: like FreqUI's own files
it is served without auth. Everything it shows comes from the authenticated JSON routes: the
page logs in with freqtrade's ``/api/v1/token/login`` (HTTP basic -> JWT) and calls
``/api/v1/centaur/*`` with ``Authorization: Bearer``. Plain HTML and JavaScript, no build
step, no external resources: it works offline.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

PAGE = Path(__file__).with_name("panel.html")

router = APIRouter(tags=["Centaur"])


@router.get("/panel", response_class=HTMLResponse, include_in_schema=False)
def panel() -> HTMLResponse:
    return HTMLResponse(PAGE.read_text(encoding="utf-8"),
                        headers={"Cache-Control": "no-store",
                                 "Content-Security-Policy": CONTENT_SECURITY_POLICY})


# Same origin only: no external script, style, image or connection can be loaded.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; "
                           "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
