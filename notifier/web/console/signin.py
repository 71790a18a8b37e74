"""Signing in and out, and the language toggle (which works before signing in, too)."""

from __future__ import annotations

import functools
import math

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from notifier.domain import Lang
from notifier.web.console.access import FormDep, client_address, safe_next
from notifier.web.console.browser import PREFIX, Browser, BrowserDep
from notifier.web.console.i18n import lang_of
from notifier.web.console.known_browsers import KNOWN_COOKIE, KNOWN_FOR
from notifier.web.console.render import page
from notifier.web.console.routing import console_router

router = console_router()


def _sign_in_page(browser: Browser, *, next_path: str, name: str = "", problem: str = "",
                  status: int = 200, retry_after: int | None = None) -> Response:
    response = page(browser, "sign_in.html", status=status, path=f"{PREFIX}/sign-in",
                    next=next_path, name=name, problem=problem,
                    enabled=bool(browser.console.operators))
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/sign-in")
def sign_in_form(browser: BrowserDep, next: str = "") -> Response:
    if browser.operator is not None:
        return browser.finish(RedirectResponse(safe_next(next), status_code=303))
    return _sign_in_page(browser, next_path=safe_next(next))


@router.post("/sign-in")
async def sign_in(request: Request, browser: BrowserDep, form: FormDep) -> Response:
    # Async, so that a burst of attempts waits for the scrypt threads without holding the
    # server's request threads; Redis is called from those threads as usual.
    console = browser.console
    name = form.get("name", "").strip()[:64]
    next_path = safe_next(form.get("next"))
    address = client_address(request)
    known = console.known.browser_of(request.cookies.get(KNOWN_COOKIE), name, browser.now)
    wait = await run_in_threadpool(
        functools.partial(console.throttle.claim, name, address, browser.now, known=known))
    if wait:
        seconds = max(1, math.ceil(wait.total_seconds()))
        return _sign_in_page(browser, next_path=next_path, name=name, status=429,
                             problem=browser.words("sign_in.throttled", seconds=seconds),
                             retry_after=seconds)
    operator = await console.authenticate(name, form.get("password", ""))
    if operator is None:
        return _sign_in_page(browser, next_path=next_path, name=name, status=401,
                             problem=browser.words("sign_in.wrong"))
    await run_in_threadpool(
        functools.partial(console.throttle.succeeded, name, address, known=known))
    await run_in_threadpool(browser.sign_in, operator)
    response = browser.finish(RedirectResponse(next_path, status_code=303))
    response.set_cookie(KNOWN_COOKIE, console.known.mark(operator.name, browser.now),
                        max_age=int(KNOWN_FOR.total_seconds()), path=f"{PREFIX}/sign-in",
                        httponly=True, samesite="strict", secure=console.secure_cookie)
    return response


@router.post("/sign-out")
def sign_out(browser: BrowserDep, _: FormDep) -> Response:
    browser.sign_out()
    return browser.finish(RedirectResponse(f"{PREFIX}/sign-in", status_code=303))


@router.post("/language")
def choose_language(browser: BrowserDep, form: FormDep) -> Response:
    lang = lang_of(form.get("lang")) or Lang.FR
    browser.replace_session(browser.session.with_lang(lang))
    return browser.finish(RedirectResponse(safe_next(form.get("next")), status_code=303))
