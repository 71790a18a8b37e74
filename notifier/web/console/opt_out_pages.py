"""Opt-outs: counts, one number's state, and (admins) a change with its reason.

The number is typed in full and POSTed, never put in a URL (it would land in access logs
and browser history) and never shown back in clear. To offer a change after a lookup
without writing the number into the page, the lookup leaves it in Redis for a few
minutes under a random token bound to the operator; the change form carries the token.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from notifier.domain import Channel
from notifier.errors import InvalidNumber
from notifier.opt_outs import OPT_OUT_CHANNELS, OptOutSource, e164
from notifier.privacy import mask_address
from notifier.store.keys import Keys
from notifier.store.number_lookups import NumberLookups
from notifier.store.optouts import OptOutStore
from notifier.web.console.access import AdminDep, FormDep, UnscopedDep, Viewer
from notifier.web.console.browser import PREFIX
from notifier.web.console.render import page
from notifier.web.console.routing import console_router
from notifier.web.console.story_view import scrub
from notifier.web.context import web_context

router = console_router()
PATH = f"{PREFIX}/opt-outs"


def _lookups(request: Request) -> NumberLookups:
    context = web_context(request)
    return NumberLookups(context.redis, keys=Keys(context.settings.queue_prefix))


def _page(request: Request, viewer: Viewer, *, status: int = 200, number: str | None = None,
          token: str = "", problem: str = "", notice: str = "") -> Response:
    context = web_context(request)
    store = OptOutStore(context.redis, context.settings)
    words = viewer.browser.words
    result: dict[str, Any] | None = None
    if number is not None:
        states = []
        for channel in OPT_OUT_CHANNELS:
            state = store.state(number, channel)
            states.append({
                "channel": words.maybe("channel", str(channel)),
                "channel_code": str(channel),
                "out": bool(state and state.opted_out),
                "state": words("optouts.state.never") if state is None
                else words("optouts.state.out") if state.opted_out
                else words("optouts.state.in"),
                "since": words.when(state.since) if state else "—",
                "source": words.maybe("source", state.source) if state else "—",
            })
        history = [
            {"at": words.when(entry.at), "channel": words.maybe("channel", str(entry.channel)),
             "state": words("optouts.state.out") if entry.state == "opted_out"
             else words("optouts.state.in"),
             "source": words.maybe("source", entry.source),
             "detail": scrub(" · ".join(p for p in (entry.keyword, entry.reason) if p))}
            for entry in store.audit(number, count=20)
        ]
        result = {"masked": mask_address(number), "states": states, "history": history,
                  "token": token}
    return page(viewer.browser, "opt_outs.html", status=status, path=PATH,
                counts=store.counts(), result=result, problem=problem, notice=notice,
                can_act=viewer.is_admin)


@router.get("/opt-outs")
def opt_outs(request: Request, viewer: UnscopedDep) -> Response:
    return _page(request, viewer)


@router.post("/opt-outs/lookup")
def look_up(request: Request, viewer: UnscopedDep, form: FormDep) -> Response:
    try:
        number = e164(form.get("number", "").strip())
    except InvalidNumber:
        return _page(request, viewer, status=422,
                     problem=viewer.browser.words("optouts.invalid"))
    token = _lookups(request).remember(number, viewer.operator.name)
    return _page(request, viewer, number=number, token=token)


@router.post("/opt-outs/change")
def change(request: Request, viewer: AdminDep, form: FormDep) -> Response:
    context = web_context(request)
    words = viewer.browser.words
    token = form.get("token", "")
    number = _lookups(request).recall(token, viewer.operator.name)
    if number is None:
        return _page(request, viewer, status=410, problem=words("optouts.expired"))
    reason = form.get("reason", "").strip()[:200]
    try:
        channel = Channel(form.get("channel", ""))
    except ValueError:
        channel = Channel.SMS
    if not reason or channel not in OPT_OUT_CHANNELS:
        return _page(request, viewer, status=422, number=number, token=token,
                     problem=words("optouts.reason.missing"))
    opting_in = form.get("action") != "out"
    if opting_in and form.get("consent") != "yes":
        # Only the patient's own request undoes an opt-out (their STOP was a refusal).
        return _page(request, viewer, status=422, number=number, token=token,
                     problem=words("look.optin.consent.missing"))
    store = OptOutStore(context.redis, context.settings)
    change_state = store.opt_in if opting_in else store.opt_out
    changed = change_state(number, channel=channel, source=OptOutSource.OPERATOR,
                           reason=f"{viewer.operator.name}: {reason}", now=viewer.browser.now)
    return _page(request, viewer, number=number, token=token,
                 notice=words("optouts.changed") if changed else words("optouts.unchanged"))
