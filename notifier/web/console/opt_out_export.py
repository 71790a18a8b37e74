"""The opt-out changes as CSV (``/console/opt-outs.csv``), for a clinic's records.

Who may download it: whoever may open the opt-out page (operators who see every clinic).
Numbers are masked; the reasons operators typed are left out (they may name a patient).
A cell a spreadsheet would read as a formula is written as text (a leading ``'``), so a
keyword or source cannot run anything in the program that opens the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from notifier.opt_outs import AuditEntry
from notifier.privacy import mask_address
from notifier.store.optouts import OptOutStore
from notifier.web.console.access import UnscopedDep
from notifier.web.console.i18n import Words
from notifier.web.console.routing import console_router
from notifier.web.context import web_context

router = console_router()
HEADERS = ("export.time", "export.channel", "export.change", "export.source",
           "export.number")
# What spreadsheets take as the start of a formula (or of a cell they would split).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Rows written to the response at a time.
_CHUNK = 500


def spreadsheet_safe(value: str) -> str:
    """``value``, written so that no spreadsheet reads it as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_rows(entries: Iterable[AuditEntry], words: Words) -> Iterator[str]:
    """The CSV text, a few hundred rows at a time: the header in ``words``' language,
    then one row per change (times in UTC, codes as the audit keeps them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([words(h) for h in HEADERS])
    for count, entry in enumerate(entries, 1):
        writer.writerow([spreadsheet_safe(cell) for cell in (
            entry.at.isoformat(), str(entry.channel), entry.state, entry.source,
            mask_address(entry.number))])
        if count % _CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get("/opt-outs.csv")
def opt_outs_csv(request: Request, viewer: UnscopedDep) -> Response:
    context = web_context(request)
    store = OptOutStore(context.redis, context.settings)
    stamp = viewer.browser.now.strftime("%Y%m%d-%H%M")
    response = StreamingResponse(
        csv_rows(store.changes(), viewer.browser.words), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="opt-outs-{stamp}.csv"',
                 "Cache-Control": "no-store"})
    return viewer.browser.finish(response)
