"""Integrators: the booking systems, their callback endpoints, how those answer and what
waits for them; read-only (changes are made with ``notifier integrators``).

An endpoint is shown by its scheme, host and port only: the path or query of a callback
URL may carry the integrator's own token, and the page is read by every unscoped
operator. Integrators act for several clinics, so the page is for unscoped operators.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response

from notifier.integrators.model import EndpointState
from notifier.operations.callbacks import EndpointReport, callback_summary, integrator_reports
from notifier.web.console.access import UnscopedDep
from notifier.web.console.browser import PREFIX
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.i18n import Words
from notifier.web.console.render import page
from notifier.web.console.routing import console_router
from notifier.web.context import web_context

router = console_router()
PATH = f"{PREFIX}/integrators"


def endpoint_origin(url: str) -> str:
    """``url`` without its path, query or fragment: ``https://host[:port]``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _moment(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _minute(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ") if moment else "<time>"


def _answer(words: Words, answer: str | None) -> str:
    if not answer:
        return words("integrators.answer.none")
    if answer.isdigit():
        return answer
    return words.maybe("integrators.failure", answer)


def _next_step(words: Words, report: EndpointReport, *, name: str) -> str:
    """The one thing to do about this endpoint of integrator ``name``, as the command to
    type (empty: nothing to do)."""
    endpoint = report.endpoint
    since = _moment(report.health.failing_since) or report.state_since
    recover = (f"notifier integrators recover --since {_minute(since)} "
               f"--endpoint {endpoint.id}")
    if endpoint.state is EndpointState.SUSPENDED:
        return words("integrators.next.suspended", integrator=name,
                     test=f"notifier integrators endpoint test {endpoint.id}",
                     recover=recover)
    if endpoint.state is EndpointState.DISABLED:
        return words("integrators.next.disabled", integrator=name,
                     enable=f"notifier integrators endpoint enable {endpoint.id}")
    if report.dead:
        return words("integrators.next.dead", recover=recover)
    return ""


def _endpoint_row(words: Words, report: EndpointReport, *, name: str,
                  complete: bool) -> dict[str, Any]:
    health = report.health
    at_least = "" if complete else "≥ "
    return {
        "id": report.endpoint.id,
        "origin": endpoint_origin(report.endpoint.url),
        "state": words(f"integrators.state.{report.endpoint.state}"),
        "state_code": str(report.endpoint.state),
        "since": words.when(report.state_since) if report.endpoint.state
        is not EndpointState.ACTIVE else "",
        "delivered": words.number(health.delivered),
        "failed": words.number(health.failed),
        "last_answer": _answer(words, health.last_answer),
        "last_at": words.when(_moment(health.last_at)) if health.last_at else "",
        "failing_since": words.when(_moment(health.failing_since))
        if health.failing_since else "",
        "busy": words.number(health.busy),
        "waiting": at_least + words.number(report.waiting),
        "dead": at_least + words.number(report.dead),
        "next": _next_step(words, report, name=name),
    }


@router.get("/integrators")
def integrators(request: Request, viewer: UnscopedDep) -> Response:
    context = web_context(request)
    browser = viewer.browser
    words = browser.words
    reports, complete = integrator_reports(context.redis, context.settings, browser.now)
    clinics = ClinicNames.read(context.redis, context.settings)
    summary = callback_summary(context.redis, context.settings, browser.now)
    age = summary.oldest_due_age
    rows = [
        {"id": report.integrator.id, "name": report.integrator.name,
         "locations": ", ".join(sorted((clinics.name(location)
                                        for location in report.integrator.locations),
                                       key=str.casefold)),
         "endpoints": [_endpoint_row(words, r, name=report.integrator.name, complete=complete)
                       for r in report.endpoints]}
        for report in reports
    ]
    return page(
        browser, "integrators.html", path=PATH, integrators=rows, complete=complete,
        summary={
            "waiting": words.number(summary.waiting),
            "oldest": words("integrators.oldest.minutes",
                            minutes=words.number(int(age.total_seconds() // 60)))
            if age is not None else words("integrators.oldest.none"),
            "late": summary.late,
            "dead": words.number(summary.dead), "has_dead": bool(summary.dead),
            "suspended": words.number(summary.endpoints[EndpointState.SUSPENDED]),
            "has_suspended": bool(summary.endpoints[EndpointState.SUSPENDED]),
            "disabled": words.number(summary.endpoints[EndpointState.DISABLED]),
        },
    )
