"""Undeliverable contacts: the addresses that failed for good, per clinic.

The contact-health registry (:mod:`notifier.store.contact_health`) keeps, per clinic, the
phone numbers and email addresses a provider refused for what they are (a landline, an
invalid number, a bounced or invalid email address), for 90 days; the clinic fixes them in
its booking system, whose next event with the new address clears them. Addresses are
stored and shown masked. An operator scoped to a clinic sees that clinic's only; an
unscoped operator sees how many each clinic has and opens one clinic's list.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from notifier.domain import LOCATION_ID
from notifier.public_status import describe_reason
from notifier.store.contact_health import ContactHealth, UndeliverableContact
from notifier.store.keys import Keys
from notifier.web.console.access import Viewer, ViewerDep, forbidden
from notifier.web.console.browser import PREFIX
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.i18n import Words
from notifier.web.console.render import page
from notifier.web.console.routing import console_router
from notifier.web.context import web_context

router = console_router()
PATH = f"{PREFIX}/undeliverable"
# The newest contacts shown for one clinic (the count says how many there are).
LIMIT = 200


def undeliverable_counts(request: Request, viewer: Viewer) -> dict[str, int]:
    """How many undeliverable contacts each clinic the operator sees has (clinics with
    none left out): their own clinic's for a scoped operator (one round trip), every
    clinic's otherwise (two round trips)."""
    context = web_context(request)
    health = ContactHealth(context.redis, keys=Keys(context.settings.queue_prefix))
    if viewer.location is not None:
        counts = health.undeliverable_counts([viewer.location])
        return {name: n for name, n in counts.items() if n}
    return health.by_location(context.clock())


def _row(contact: UndeliverableContact, words: Words) -> dict[str, str]:
    return {"channel": words.maybe("channel", contact.channel), "masked": contact.masked,
            "reason": contact.reason, "explanation": describe_reason(contact.reason, words.lang),
            "since": words.when(contact.since)}


@router.get("/undeliverable")
def undeliverable(request: Request, viewer: ViewerDep, location: str = "") -> Response:
    browser = viewer.browser
    location = location.strip() or (viewer.location or "")
    if location and not LOCATION_ID.fullmatch(location):
        return page(browser, "undeliverable.html", status=422, path=PATH, clinics={},
                    location="", rows=[], total=0, shown=0, names=str,
                    problem=browser.words("undeliverable.bad_location"))
    if not viewer.sees(location or None):
        raise forbidden(browser)
    clinics = undeliverable_counts(request, viewer)
    context = web_context(request)
    names = ClinicNames.read(context.redis, context.settings)
    rows: list[dict[str, Any]] = []
    if location:
        health = ContactHealth(context.redis, keys=Keys(context.settings.queue_prefix))
        rows = [_row(contact, browser.words)
                for contact in health.undeliverable(location, browser.now, limit=LIMIT)]
    return page(browser, "undeliverable.html", path=PATH, clinics=clinics,
                location=location, rows=rows, total=clinics.get(location, 0),
                shown=len(rows), problem="", names=names.name)
