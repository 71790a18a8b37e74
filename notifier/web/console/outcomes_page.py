"""Outcome figures (``/console/outcomes``): per clinic and month, delivery rate by
channel, opt-outs, and no-shows of patients a reminder reached against those it did not.

An operator scoped to a clinic sees that clinic's only. The page says that the no-show
figures are associations, not effects.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from notifier.domain import Channel
from notifier.operations.outcomes import (
    REACHES,
    SMALL,
    MonthFigures,
    Ratio,
    months_back,
    read_outcomes,
)
from notifier.store.keys import Keys
from notifier.web.console.access import ViewerDep
from notifier.web.console.browser import PREFIX
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.i18n import Words
from notifier.web.console.render import page
from notifier.web.console.routing import console_router
from notifier.web.context import web_context

router = console_router()
PATH = f"{PREFIX}/outcomes"
MONTHS = 6
CHANNELS = tuple(str(c) for c in Channel)


def shown(count: int, words: Words) -> str:
    """A count as the page shows it: 1 to 4 read "< 5"."""
    return words("outcomes.small", limit=SMALL) if 0 < count < SMALL else words.number(count)


def outcome_cell(ratio: Ratio, words: Words) -> dict[str, str]:
    """One ratio as the page shows it: its rate (or a dash) and its counts."""
    rate = ratio.rate
    part = shown(ratio.part, words)
    if ratio.whole >= SMALL and 0 < ratio.whole - ratio.part < SMALL:
        # What is left is 1 to 4: the part says only that it is within 4 of the whole.
        part = words("outcomes.more", limit=words.number(ratio.whole - SMALL))
    return {"rate": words.percent(rate) if rate is not None else "—",
            "detail": words("outcomes.of", part=part, whole=shown(ratio.whole, words))}


def _row(month: MonthFigures, words: Words) -> dict[str, Any]:
    return {"month": month.month,
            "delivered": [outcome_cell(month.delivered[c], words) for c in CHANNELS],
            "opt_outs": outcome_cell(month.opt_outs, words),
            "no_show": [outcome_cell(month.no_show[r], words) for r in REACHES]}


@router.get("/outcomes")
def outcomes(request: Request, viewer: ViewerDep) -> Response:
    context = web_context(request)
    browser = viewer.browser
    keys = Keys(context.settings.queue_prefix)
    clinics = ClinicNames.read(context.redis, context.settings)
    locations = ([viewer.location] if viewer.location is not None
                 else sorted(clinics.clinics))
    months = months_back(browser.now, count=MONTHS, zone=browser.console.zone)
    found = read_outcomes(context.redis, keys=keys, locations=locations, months=months)
    sections = []
    for location in locations:
        rows = [_row(m, browser.words) for m in found if m.location == location]
        if rows:
            sections.append({"location": location, "name": clinics.name(location),
                             "rows": rows})
    return page(browser, "outcomes.html", path=PATH, sections=sections,
                channels=[browser.words.maybe("channel", c) for c in CHANNELS])
