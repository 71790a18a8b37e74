"""Who may see and do what in the console: sign-in, roles, clinic scope, CSRF.

- Every console route needs a signed-in operator: pages redirect to the sign-in page,
  ``/console/api/...`` routes answer a JSON 401.
- ``viewer`` looks; ``admin`` may also requeue, discard and change opt-outs.
- An operator scoped to one clinic (location id) sees that clinic's deliveries and
  appointments only. Queues, dead letters and opt-outs belong to no clinic (a dead message
  or an opted-out number may concern several), so those pages are for unscoped operators;
  a scoped admin therefore has no more power than a scoped viewer.
- Every POST form carries the session's form token (CSRF); the cookie is also
  ``SameSite=Lax``, so other sites' forms do not even carry it.
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Annotated
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse

from notifier.errors import Refusal
from notifier.settings import Operator
from notifier.web.body import read_body
from notifier.web.console.browser import PREFIX, Browser, BrowserDep
from notifier.web.console.render import refusal

SIGN_IN = f"{PREFIX}/sign-in"
API_PREFIX = f"{PREFIX}/api/"
MAX_FORM_BYTES = 16 * 1024


@dataclasses.dataclass(frozen=True)
class Viewer:
    """A signed-in operator and their browser.

    Parameters:
      operator: who they are.
      browser: their session and language.
    """

    operator: Operator
    browser: Browser

    @property
    def location(self) -> str | None:
        return self.operator.location

    @property
    def unscoped(self) -> bool:
        return self.operator.location is None

    @property
    def is_admin(self) -> bool:
        return self.operator.is_admin

    def sees(self, location: str | None) -> bool:
        """True when this operator may see data of ``location``."""
        return self.unscoped or location == self.operator.location


def signed_in(request: Request, browser: BrowserDep) -> Viewer:
    """The signed-in operator; otherwise a redirect to sign-in (pages) or a JSON 401."""
    if browser.operator is None:
        if request.url.path.startswith(API_PREFIX):
            raise Refusal(browser.finish(JSONResponse(
                {"error": "unauthorized", "message": "sign in to the console first"},
                status_code=401,
            )))
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Refusal(browser.finish(
            RedirectResponse(f"{SIGN_IN}?next={quote(target, safe='')}", status_code=303)
        ))
    return Viewer(browser.operator, browser)


ViewerDep = Annotated[Viewer, Depends(signed_in)]


def forbidden(browser: Browser) -> Refusal:
    return refusal(browser, 403, "error.forbidden.title", "error.forbidden")


def unscoped(viewer: ViewerDep) -> Viewer:
    """An operator who sees every clinic (queues, dead letters, opt-outs)."""
    if not viewer.unscoped:
        raise forbidden(viewer.browser)
    return viewer


UnscopedDep = Annotated[Viewer, Depends(unscoped)]


def admin(viewer: UnscopedDep) -> Viewer:
    """An unscoped admin: the only one who may requeue, discard or change an opt-out."""
    if not viewer.is_admin:
        raise forbidden(viewer.browser)
    return viewer


AdminDep = Annotated[Viewer, Depends(admin)]


async def posted_form(request: Request, browser: BrowserDep) -> dict[str, str]:
    """The POSTed form's fields, once its CSRF token matches the session's.

    A browser without a valid session cookie has no token to match: refused too.
    """
    body = await read_body(request, limit=MAX_FORM_BYTES)
    try:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        form = {}
    token = form.get("csrf", "").encode()
    if browser.changed or not hmac.compare_digest(token, browser.session.csrf.encode()):
        raise refusal(browser, 403, "error.csrf.title", "error.csrf")
    return form


FormDep = Annotated[dict[str, str], Depends(posted_form)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: only a console path, never another site."""
    if (target and target.startswith(PREFIX + "/") and not target.startswith("//")
            and "\\" not in target):
        return target
    return f"{PREFIX}/"
