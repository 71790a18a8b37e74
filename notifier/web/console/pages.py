"""The pages every operator reads: the overview and an appointment's story (and the
overview's numbers as JSON, for scripts)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from notifier.operations.hourly_counts import Period
from notifier.operations.status import health_summary
from notifier.operations.story import appointment_story
from notifier.web.console.access import Viewer, ViewerDep
from notifier.web.console.alerts_card import alerts_card
from notifier.web.console.browser import PREFIX
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.overview import PERIODS, Overview, read_overview
from notifier.web.console.overview import overview_view as build_overview
from notifier.web.console.render import page, refusal
from notifier.web.console.routing import console_router
from notifier.web.console.story_view import REFERENCE, story_view
from notifier.web.context import web_context

router = console_router()


def _period(value: str) -> Period:
    for period in PERIODS:
        if value == period:
            return period
    return "day"


def _overview_data(request: Request, viewer: Viewer, period: str, clinic: str,
                   clinics: ClinicNames) -> Overview:
    """What the overview shows this operator, for the page and its JSON alike: a
    clinic-scoped operator's own clinic; for the others, the clinic they chose (one the
    directory knows: any other value shows every clinic)."""
    context = web_context(request)
    browser = viewer.browser
    location = viewer.location or (clinic if clinic in clinics.clinics else None)
    return read_overview(
        context.redis, context.settings, browser.now, period=_period(period),
        location=location, machinery=viewer.unscoped, zone=browser.console.zone,
        cache=browser.console.deliveries,
    )


def _clinics(request: Request) -> ClinicNames:
    context = web_context(request)
    return ClinicNames.read(context.redis, context.settings)


@router.get("/")
def overview(request: Request, viewer: ViewerDep, period: str = "day",
             clinic: str = "") -> Response:
    browser = viewer.browser
    clinics = _clinics(request)
    data = _overview_data(request, viewer, period, clinic, clinics)
    context = web_context(request)
    # The alert rules concern the gateway, not a clinic: every operator sees them, so a
    # scoped operator's overview, which reads no machinery, reads the health summary here.
    health = (data.machinery.health if data.machinery
              else health_summary(context.redis, context.settings, data.now))
    undeliverable = health.undeliverable_contacts
    count = (sum(undeliverable.values()) if viewer.unscoped
             else undeliverable.get(viewer.location or "", 0))
    return page(browser, "overview.html", path=f"{PREFIX}/",
                view=build_overview(data, browser.words, clinics=clinics, undeliverable=count),
                undeliverable=browser.words.number(count),
                clinic_choices=clinics.choices() if viewer.unscoped else [],
                chosen=data.location if viewer.unscoped else None,
                alerts=alerts_card(context.redis, health, browser.words,
                                   prefix=context.settings.queue_prefix,
                                   scoped=data.machinery is None))


@router.get("/story")
def story(request: Request, viewer: ViewerDep, reference: str = "") -> Response:
    browser = viewer.browser
    reference = reference.strip()
    values: dict[str, Any] = {"reference": reference, "story": None, "problem": ""}
    if reference and not REFERENCE.match(reference):
        values["problem"] = browser.words("story.bad_reference")
        return page(browser, "story.html", status=422, path=f"{PREFIX}/story", **values)
    if reference:
        context = web_context(request)
        found = appointment_story(context.redis, context.settings, reference)
        # Another clinic's appointment answers exactly like an unknown one.
        if found is None or not viewer.sees(found.location):
            raise refusal(browser, 404, "error.not_found.title", "error.not_found")
        values["story"] = story_view(found, browser.words,
                                     clinics=ClinicNames.read(context.redis, context.settings))
    return page(browser, "story.html", path=f"{PREFIX}/story", **values)


@router.get("/api/overview")
def overview_json(request: Request, viewer: ViewerDep, period: str = "day",
                  clinic: str = "") -> Response:
    """The overview's delivery numbers (and, for unscoped operators, the queues)."""
    browser = viewer.browser
    data = _overview_data(request, viewer, period, clinic, _clinics(request))
    body: dict[str, Any] = {
        "now": data.now.isoformat(),
        "deliveries_read_at": data.deliveries_at.isoformat(),
        "deliveries": data.totals.to_dict(),
    }
    if data.machinery is not None:
        body["health"] = data.machinery.health.to_dict()
    return browser.finish(JSONResponse(body))
