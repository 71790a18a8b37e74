"""The console's CSV downloads: one way to write a cell a spreadsheet never runs, and one
way to stream the file to the operator's browser."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from fastapi import Response
from fastapi.responses import StreamingResponse

from notifier.web.console.browser import Browser

# What spreadsheets take as the start of a formula (or of a cell they would split).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Rows written to the response at a time.
_CHUNK = 500


def spreadsheet_safe(value: object) -> str:
    """``value`` as text a spreadsheet shows and never runs (a leading ``'`` before what it
    would read as a formula)."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV text of ``rows`` (the header first), a few hundred rows at a time, every
    cell made :func:`spreadsheet_safe`. A byte-order mark first, so that a spreadsheet
    reads the accents of French words right."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for count, row in enumerate(rows, 1):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        if count % _CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_download(browser: Browser, rows: Iterable[Sequence[object]], *,
                 filename: str) -> Response:
    """A streamed CSV attachment named ``filename``, never cached.

    Parameters:
      browser: the request's browser (its session cookie goes with the answer).
      rows: the header, then each row.
      filename: what the browser saves it as.
    """
    response = StreamingResponse(
        csv_text(rows), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                 "Cache-Control": "no-store"})
    return browser.finish(response)
