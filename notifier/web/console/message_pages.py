"""Messages: every message of the clinics an operator sees, filtered, paged, searched by
address and exported as CSV; each row says what became of the message, why, and what to
do next, and links to the appointment's story.

Filters travel in the URL (bookmarkable): status, reason, channel, kind, clinic, period.
An address is typed in full and POSTed, never put in a URL or a log; the answer is the
result page itself (no redirect that would carry it), and shows it masked. A scoped
operator sees their clinic only: asking for another answers an empty list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from notifier.domain import LOCATION_ID, Kind
from notifier.message_list import (
    CHANNELS,
    STATUSES,
    MessageQuery,
    list_page,
    normal_address,
    reason_of,
)
from notifier.next_steps import NEXT_STEPS, next_step
from notifier.public_status import PublicStatus, describe_reason, status_word
from notifier.store.keys import Keys
from notifier.store.message_index import Cursor, IndexedMessage, MessageIndex
from notifier.web.console.access import FormDep, Viewer, ViewerDep
from notifier.web.console.browser import PREFIX
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.csv_files import csv_download
from notifier.web.console.i18n import Words
from notifier.web.console.render import page
from notifier.web.console.routing import console_router
from notifier.web.console.times import city
from notifier.web.context import web_context

router = console_router()
PATH = f"{PREFIX}/messages"
PAGE_SIZE = 50
# The most rows one export holds; a longer list says so in its last line.
EXPORT_CAP = 50_000
_EXPORT_PAGE = 1000
KINDS = tuple(str(kind) for kind in Kind)
_FILTERS = ("status", "reason", "channel", "kind", "clinic", "from", "to")
_CODE = re.compile(r"[a-z_]{1,40}")
_REFERENCE = re.compile(r"[0-9A-Za-z_-]{1,40}")


@dataclass(frozen=True)
class _Asked:
    """What the query string asks for, checked: the filters' values for the form, the
    query for the index, and what was wrong with it."""

    values: dict[str, str]
    query: MessageQuery
    problem: str


def _index(request: Request) -> MessageIndex:
    context = web_context(request)
    return MessageIndex(context.redis, keys=Keys(context.settings.queue_prefix),
                        retention=context.settings.delivery_retention)


def _clinics(request: Request) -> ClinicNames:
    context = web_context(request)
    return ClinicNames.read(context.redis, context.settings)


def _day(value: str, words: Words) -> dt.datetime | None:
    """The start of day ``value`` (YYYY-MM-DD) in the console's zone; raises ValueError."""
    if not value:
        return None
    return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=words.zone)


def _asked(request: Request, viewer: Viewer, clinics: ClinicNames) -> _Asked:
    params = request.query_params
    words = viewer.browser.words
    values = {name: params.get(name, "").strip()[:64] for name in _FILTERS}
    problem = ""
    allowed = {"status": STATUSES, "channel": CHANNELS, "kind": KINDS}
    for name, codes in allowed.items():
        if values[name] and values[name] not in codes:
            values[name], problem = "", words("messages.bad_filter")
    if values["reason"] and not _CODE.fullmatch(values["reason"]):
        values["reason"], problem = "", words("messages.bad_filter")
    clinic = values["clinic"]
    if clinic and not LOCATION_ID.fullmatch(clinic):
        values["clinic"], clinic, problem = "", "", words("messages.bad_filter")
    if viewer.location is not None:
        # A scoped operator sees their own clinic; another one answers an empty list.
        locations: tuple[str, ...] = (viewer.location,) if clinic in ("", viewer.location) \
            else ()
    else:
        locations = (clinic,) if clinic else tuple(clinics.clinics)
    try:
        since = _day(values["from"], words)
        last = _day(values["to"], words)
    except ValueError:
        since = last = None
        values["from"] = values["to"] = ""
        problem = words("messages.bad_date")
    until = None if last is None else last + dt.timedelta(days=1)
    query = MessageQuery(
        locations=locations,
        statuses=(values["status"],) if values["status"] else (),
        channels=(values["channel"],) if values["channel"] else (),
        kinds=(values["kind"],) if values["kind"] else (),
        reasons=(values["reason"],) if values["reason"] else (),
        since=since, until=until,
    )
    return _Asked(values, query, problem)


def _row(row: IndexedMessage, words: Words, clinics: ClinicNames) -> dict[str, Any]:
    reason = reason_of(row)
    step = next_step(reason)
    return {
        "at": words.when(row.at),
        "clinic": clinics.name(row.location),
        "reference": row.reference,
        "story": f"{PREFIX}/story?{urlencode({'reference': row.reference})}",
        "kind": words.maybe("kind", row.kind),
        "channel": words.maybe("channel", row.channel),
        "masked": row.masked or "—",
        "status": row.status,
        "status_word": status_word(PublicStatus(row.status), words.lang),
        "reason": reason or "",
        "reason_words": describe_reason(reason, words.lang) if reason else "",
        "next": step[words.lang] if step else "",
    }


def _render(viewer: Viewer, clinics: ClinicNames, *, asked: _Asked | None,
            rows: list[dict[str, Any]], next_link: str = "", short: bool = False,
            searched: str = "", problem: str = "", status: int = 200) -> Response:
    browser = viewer.browser
    values = asked.values if asked else dict.fromkeys(_FILTERS, "")
    visible = {location: name for location, name in clinics.choices()
               if viewer.sees(location)}
    export = f"{PATH}.csv?{urlencode({k: v for k, v in values.items() if v})}"
    return page(browser, "messages.html", status=status, path=PATH, rows=rows,
                values=values,
                statuses=[(code, status_word(PublicStatus(code), browser.lang))
                          for code in STATUSES], channels=CHANNELS, kinds=KINDS,
                clinics=visible, next_link=next_link, short=short, searched=searched,
                problem=problem or (asked.problem if asked else ""), export=export,
                zone=city(browser.words.zone, browser.lang),
                reasons=sorted(((code, describe_reason(code, browser.lang))
                                for code in NEXT_STEPS), key=lambda pair: pair[0]))


@router.get("/messages")
def messages(request: Request, viewer: ViewerDep, cursor: str = "",
             reference: str = "") -> Response:
    reference = reference.strip()
    if reference and _REFERENCE.fullmatch(reference):
        return RedirectResponse(f"{PREFIX}/story?{urlencode({'reference': reference})}",
                                status_code=303)
    clinics = _clinics(request)
    asked = _asked(request, viewer, clinics)
    start = Cursor.parse(cursor) if cursor else None
    found, after = list_page(_index(request), asked.query, cursor=start, size=PAGE_SIZE)
    words = viewer.browser.words
    next_link = ""
    if after is not None:
        kept = {k: v for k, v in asked.values.items() if v}
        next_link = f"{PATH}?{urlencode({**kept, 'cursor': after.token()})}"
    return _render(viewer, clinics, asked=asked,
                   rows=[_row(row, words, clinics) for row in found], next_link=next_link,
                   short=after is not None and len(found) < PAGE_SIZE)


@router.post("/messages/search")
def search(request: Request, viewer: ViewerDep, form: FormDep) -> Response:
    clinics = _clinics(request)
    words = viewer.browser.words
    address = normal_address(form.get("address", "")[:200])
    if address is None:
        return _render(viewer, clinics, asked=None, rows=[], status=422,
                       problem=words("messages.search.bad_address"))
    found = _index(request).to_address(address, locations=viewer.sees)
    masked = next((row.masked for row in found if row.masked), "•••")
    return _render(viewer, clinics, asked=None,
                   rows=[_row(row, words, clinics) for row in found], searched=masked)


@router.get("/messages.csv")
def export(request: Request, viewer: ViewerDep) -> Response:
    clinics = _clinics(request)
    asked = _asked(request, viewer, clinics)
    words = viewer.browser.words
    index = _index(request)
    columns = ("time", "clinic", "reference", "kind", "channel", "address", "status",
               "reason", "next")
    zone = city(words.zone, words.lang)
    header = [words(f"messages.col.{name}", zone=zone) if name == "time"
              else words(f"messages.col.{name}") for name in columns]
    stamp = viewer.browser.now.astimezone(words.zone).strftime("%Y%m%d-%H%M")
    return csv_download(viewer.browser, _export_rows(index, asked.query, header, words, clinics),
                        filename=f"messages-{stamp}.csv")


def _export_rows(index: MessageIndex, query: MessageQuery, header: list[str], words: Words,
                 clinics: ClinicNames) -> Iterator[list[str]]:
    """The export's header, then its rows, then a last line when the cap cut it short."""
    yield header
    for count, row in enumerate(_all_rows(index, query)):
        if count == EXPORT_CAP:
            yield [words("messages.capped", count=words.number(EXPORT_CAP))]
            return
        shown = _row(row, words, clinics)
        yield [row.at.astimezone(words.zone).isoformat(timespec="minutes"), shown["clinic"],
               shown["reference"], shown["kind"], shown["channel"], shown["masked"],
               shown["status_word"], shown["reason_words"], shown["next"]]


def _all_rows(index: MessageIndex, query: MessageQuery) -> Iterator[IndexedMessage]:
    """Every message of ``query``, newest first, a page at a time."""
    cursor: Cursor | None = None
    while True:
        rows, cursor = list_page(index, query, cursor=cursor, size=_EXPORT_PAGE)
        yield from rows
        if cursor is None:
            return
