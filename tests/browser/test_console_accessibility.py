"""Every console page passes axe-core's accessibility rules (WCAG 2.1 A and AA, and
axe's best practices) in a real Chromium, in both languages, on a laptop and on a 390-px
phone. axe-core comes inside the ``axe-playwright-python`` package (no CDN)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.console_seed import ALICE, PLATEAU_REFERENCE
from tests.browser.test_console_browser import (
    LAPTOP,
    PHONE,
    base_url,
    browser,
    open_page,
    sign_in,
)
from tests.integration.conftest import gateway, gateway_options

__all__ = ["base_url", "browser", "gateway", "gateway_options"]  # fixtures

axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright",
    reason="the axe-playwright-python package is not installed (pip install -e .[test])")

PAGES = ("/console/", "/console/messages", "/console/messages?status=failed",
         f"/console/story?reference={PLATEAU_REFERENCE}", "/console/dead-letters",
         "/console/opt-outs", "/console/integrators", "/console/replies",
         "/console/undeliverable", "/console/undeliverable?location=plateau",
         "/console/usage", "/console/outcomes")


def _violations(page: Any) -> list[str]:
    results = axe_playwright.Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:120]}"
            for v in results.response["violations"]]


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize("locale", ["fr-CA", "en-CA"])
def test_every_console_page_passes_axe(
    browser: Any, base_url: str, locale: str, viewport: dict[str, int],
) -> None:
    page = open_page(browser, locale=locale, viewport=viewport)
    page.goto(f"{base_url}/console/sign-in")
    found = {"/console/sign-in": _violations(page)}
    sign_in(page, base_url, ALICE)
    for path in PAGES:
        page.goto(base_url + path)
        found[path] = _violations(page)
    assert {path: problems for path, problems in found.items() if problems} == {}
    page.context.close()
