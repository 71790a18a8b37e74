"""The README's section on the feed and the status API says what the code does: its
status table is the public vocabulary with its own sentences, and the routes, limits and
retention it names are the real ones."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from redis import Redis

from notifier.domain import Lang
from notifier.public_status import PublicStatus, describe_status
from notifier.settings import Settings
from notifier.web import create_app
from notifier.web.log_cursor import DEFAULT_LIMIT, MAX_LIMIT

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## What became of each message: the feed and the status API"
STATUS_ROW = re.compile(r"^\| `([a-z]+)` \| ([^|]+) \| ([^|]+) \|$")
ROUTE = re.compile(r"`GET (/v1/[^?` ]+)")


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(HEADING)
    end = text.index("\n## ", start + len(HEADING))
    return text[start:end]


def test_the_status_table_is_the_public_vocabulary_in_both_languages() -> None:
    rows = [STATUS_ROW.match(line) for line in section().splitlines()]
    table = {row[1]: (row[2], row[3]) for row in rows if row}

    assert table == {str(status): (describe_status(status, Lang.FR),
                                   describe_status(status, Lang.EN))
                     for status in PublicStatus}


def test_the_routes_limits_and_retention_it_names_are_the_real_ones() -> None:
    text = " ".join(section().split())
    # Building the schema reads nothing: the client never connects.
    app = create_app(Settings(api_token="readme-pull-api-token-0123456789"), redis=Redis())
    paths = set(app.openapi()["paths"])

    named = set(ROUTE.findall(text))
    assert len(named) == 5 and named <= paths
    assert f"`limit` {DEFAULT_LIMIT} by default, at most {MAX_LIMIT})" in text
    retention = Settings.model_fields["callback_retention"].default
    assert f"({retention // dt.timedelta(days=1)} days unless set otherwise)" in text
