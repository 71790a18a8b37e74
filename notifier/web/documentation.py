"""The OpenAPI schema and its browsable page, for integrators and operators only.

The schema names every route and field of the gateway: like every page but the health
checks and the Twilio webhooks, it is not for strangers. A booking system reads
``/openapi.json`` with the API token; an operator signed in to the console browses it at
``/console/docs`` (``/docs`` leads there), which reads the console's copy of the schema
with the session. Swagger UI comes from the gateway itself (:mod:`.console.assets`),
started by a script file of ours: the console's Content-Security-Policy allows no other.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from notifier.web.auth import require_token
from notifier.web.console.access import ViewerDep
from notifier.web.console.assets import DOCS_ASSETS
from notifier.web.console.browser import PREFIX
from notifier.web.console.render import page
from notifier.web.console.routing import console_router

SCHEMA_PATH = "/openapi.json"
CONSOLE_DOCS = f"{PREFIX}/docs"
CONSOLE_SCHEMA = f"{PREFIX}/openapi.json"
TITLE = "Patient notifier: API"

router = APIRouter(include_in_schema=False)
console_pages = console_router()


def _schema(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi(), headers={"Cache-Control": "no-store"})


@router.get(SCHEMA_PATH, dependencies=[Depends(require_token)])
def schema(request: Request) -> JSONResponse:
    return _schema(request)


@router.get("/docs")
def docs() -> RedirectResponse:
    return RedirectResponse(CONSOLE_DOCS, status_code=303)


@console_pages.get("/docs")
def console_docs(viewer: ViewerDep) -> Response:
    return page(viewer.browser, "docs.html", path=CONSOLE_DOCS, title=TITLE,
                schema_url=CONSOLE_SCHEMA, assets=DOCS_ASSETS)


@console_pages.get("/openapi.json")
def console_schema(request: Request, _: ViewerDep) -> JSONResponse:
    return _schema(request)


router.include_router(console_pages)
