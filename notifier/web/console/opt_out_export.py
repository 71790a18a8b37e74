"""The opt-out changes as CSV (``/console/opt-outs.csv``), for a clinic's records.

Who may download it: whoever may open the opt-out page (operators who see every clinic).
Numbers are masked; the reasons operators typed are left out (they may name a patient).
A cell a spreadsheet would read as a formula is written as text (a leading ``'``), so a
keyword or source cannot run anything in the program that opens the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi import Request, Response

from notifier.opt_outs import AuditEntry
from notifier.privacy import mask_address
from notifier.store.optouts import OptOutStore
from notifier.web.console.access import UnscopedDep
from notifier.web.console.csv_files import csv_download
from notifier.web.console.i18n import Words
from notifier.web.console.routing import console_router
from notifier.web.context import web_context

router = console_router()
HEADERS = ("export.time", "export.channel", "export.change", "export.source",
           "export.number")


def csv_rows(entries: Iterable[AuditEntry], words: Words) -> Iterator[list[str]]:
    """The header in ``words``' language, then one row per change (times in UTC, codes as
    the audit keeps them, the number masked)."""
    yield [words(h) for h in HEADERS]
    for entry in entries:
        yield [entry.at.isoformat(), str(entry.channel), entry.state, entry.source,
               mask_address(entry.number)]


@router.get("/opt-outs.csv")
def opt_outs_csv(request: Request, viewer: UnscopedDep) -> Response:
    context = web_context(request)
    store = OptOutStore(context.redis, context.settings)
    stamp = viewer.browser.now.strftime("%Y%m%d-%H%M")
    return csv_download(viewer.browser, csv_rows(store.changes(), viewer.browser.words),
                        filename=f"opt-outs-{stamp}.csv")
