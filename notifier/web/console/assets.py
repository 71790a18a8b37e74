"""The files console pages load, served by the gateway itself (never from another site,
which could act in the console's origin as the signed-in operator).

- ``/console/static/<name>``: the console's own stylesheet and scripts (the sign-in page
  needs them, so they answer without a session; they hold nothing private).
- ``/console/docs/assets/<name>``: Swagger UI, from the ``fastapi-offline`` package
  the gateway depends on, for signed-in operators only, like the documentation page.

Only the files listed here are served: a name is a key, never a path.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Response
from fastapi.responses import FileResponse

from notifier.errors import Refusal
from notifier.package_files import shipped_folder
from notifier.web.console.access import ViewerDep
from notifier.web.console.browser import PREFIX
from notifier.web.console.routing import console_router

STATIC = shipped_folder("notifier.web.console", "static")
SWAGGER_UI = shipped_folder("fastapi_offline", "static")
DOCS_ASSETS = f"{PREFIX}/docs/assets"

_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".png": "image/png"}
_OWN = {path.name: path for path in STATIC.iterdir() if path.suffix in _TYPES}
_SWAGGER_UI = {name: SWAGGER_UI / name
               for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")}

router = console_router()


def _file(files: dict[str, Path], name: str, *, cache: str) -> Response:
    path = files.get(name)
    if path is None:
        raise Refusal(Response(status_code=404))
    return FileResponse(path, media_type=_TYPES[path.suffix],
                        headers={"Cache-Control": cache})


@router.get("/static/{name}")
def own_file(name: str) -> Response:
    return _file(_OWN, name, cache="public, max-age=3600")


@router.get("/docs/assets/{name}")
def swagger_ui_file(name: str, _: ViewerDep) -> Response:
    return _file(_SWAGGER_UI, name, cache="private, max-age=3600")
