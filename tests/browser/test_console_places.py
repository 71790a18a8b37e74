"""A Halifax clinic's appointment in a real browser: its story reads the start the
patient's SMS gave, in the clinic's zone, then in the console's, in either language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from notifier.local_redis import free_port
from notifier.web.app import create_app
from tests.app_server import serving
from tests.browser.console_seed import VICTOR, console_settings, seed
from tests.browser.places_seed import HALIFAX_REFERENCE, seed_halifax
from tests.browser.test_console_browser import browser, open_page, pytestmark, sign_in, watch
from tests.integration.conftest import Gateway, gateway, gateway_options

__all__ = ["browser", "gateway", "gateway_options", "pytestmark"]  # fixtures, skip marks


@pytest.fixture
def halifax(gateway: Gateway) -> Iterator[tuple[str, str]]:
    """The console's address, over the seed and a Halifax appointment; and that
    appointment's SMS as the patient read it."""
    seed(gateway)
    sms = seed_halifax(gateway)
    app = create_app(console_settings(gateway), redis=gateway.client, clock=gateway.clock)
    with serving(app, free_port()) as url:
        yield url, sms


@pytest.mark.parametrize(("locale", "expected"), [
    ("fr-CA", "1 déc. 2026, {clock} (HNA, Halifax) · 22 h 56 (HNE, Toronto)"),
    ("en-CA", "Dec 1, 2026, {clock} (AST, Halifax) · 10:56 p.m. (EST, Toronto)"),
])
def test_a_halifax_story_reads_the_hour_its_sms_said(
    browser: Any, halifax: tuple[str, str], locale: str, expected: str,
) -> None:
    base_url, sms = halifax
    said = re.search(r"2026-12-01 à (\d\d):(\d\d)", sms)
    assert said, sms
    hour, minute = int(said[1]), int(said[2])
    clock = (f"{hour:02d} h {minute:02d}" if locale == "fr-CA"
             else f"{hour - 12}:{minute:02d} p.m.")
    page = open_page(browser, locale=locale)
    problems = watch(page, base_url)
    sign_in(page, base_url, VICTOR)
    page.goto(f"{base_url}/console/story?reference={HALIFAX_REFERENCE}")
    assert page.inner_text("#appointment-start") == expected.format(clock=clock)
    assert "Clinique de Halifax" in page.inner_text("section[aria-labelledby=appt]")
    assert problems == []
