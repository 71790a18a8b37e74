"""Usage: what each clinic handed to providers per day (SMS segments, calls, emails).

Days are calendar days in the console's zone. A scoped operator sees their clinic only.
The CSV holds the same counts (no patient data: clinics, days and numbers).
"""

from __future__ import annotations

from typing import Any

from babel.dates import format_date
from fastapi import Request, Response

from notifier.operations.usage import CHANNELS, MAX_DAYS, DayUsage, read_usage
from notifier.web.console.access import Viewer, ViewerDep
from notifier.web.console.browser import PREFIX
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.csv_files import csv_download
from notifier.web.console.render import page
from notifier.web.console.routing import console_router
from notifier.web.console.times import city
from notifier.web.context import web_context

router = console_router()
PATH = f"{PREFIX}/usage"
DEFAULT_DAYS = 7


def _usage(request: Request, viewer: Viewer, days: int) -> list[DayUsage]:
    context = web_context(request)
    browser = viewer.browser
    return read_usage(context.redis, context.settings, browser.now, days=days,
                      zone=browser.console.zone, location=viewer.location)


def _days(value: int) -> int:
    return min(max(value, 1), MAX_DAYS)


@router.get("/usage")
def usage(request: Request, viewer: ViewerDep, days: int = DEFAULT_DAYS) -> Response:
    browser = viewer.browser
    words = browser.words
    days = _days(days)
    context = web_context(request)
    clinics = ClinicNames.read(context.redis, context.settings)
    found = _usage(request, viewer, days)
    rows: list[dict[str, Any]] = [
        {"day": format_date(row.day, "EEEE d MMMM y" if words.lang == "fr" else "EEEE, MMMM d, y",
                            locale=words.locale), "location": row.location,
         "clinic": clinics.name(row.location),
         "units": [words.number(row.of(channel)) for channel in CHANNELS]}
        for row in found
    ]
    totals = [words.number(sum(row.of(channel) for row in found)) for channel in CHANNELS]
    return page(browser, "usage.html", path=PATH, rows=rows, totals=totals, days=days,
                choices=(1, 7, 31), zone=city(browser.console.zone, browser.lang))


@router.get("/usage.csv")
def usage_csv(request: Request, viewer: ViewerDep, days: int = DEFAULT_DAYS) -> Response:
    """Counts per clinic and day, one row each: ``day,location,sms_segments,calls,emails``
    (days in the console's zone, named in the file name)."""
    browser = viewer.browser
    days = _days(days)
    zone = str(browser.console.zone).replace("/", "-")
    today = browser.now.astimezone(browser.console.zone).date().isoformat()
    rows: list[list[object]] = [["day", "location", "sms_segments", "calls", "emails"]]
    rows += [[row.day.isoformat(), row.location, *(row.of(channel) for channel in CHANNELS)]
             for row in _usage(request, viewer, days)]
    return csv_download(browser, rows, filename=f"usage-{today}-{days}d-{zone}.csv")
