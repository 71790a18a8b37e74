"""Patients' texts that need a human: sent while a question was open, answering none.

Every operator sees the list for the clinics they see; only admins read the texts (a
patient may write anything, health details included); viewers see that a text came, from
which masked number, about which appointments.
"""

from __future__ import annotations

import datetime as dt

from fastapi import Request, Response

from notifier.store.responses import ResponseStore
from notifier.web.console.access import ViewerDep
from notifier.web.console.browser import PREFIX
from notifier.web.console.render import page
from notifier.web.console.routing import console_router
from notifier.web.context import web_context

router = console_router()
PATH = f"{PREFIX}/replies"


@router.get("/replies")
def replies(request: Request, viewer: ViewerDep) -> Response:
    context = web_context(request)
    words = viewer.browser.words
    found = ResponseStore(context.redis, context.settings).needing_human(
        location=viewer.location)
    rows = [{
        "at": words.when(dt.datetime.fromisoformat(item.at)) if item.at else "—",
        "masked": item.masked,
        "references": item.references,
        "text": item.text if viewer.is_admin else None,
    } for item in found]
    return page(viewer.browser, "replies.html", path=PATH, rows=rows)
