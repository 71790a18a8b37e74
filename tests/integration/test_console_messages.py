"""The console's Messages page over HTTP: filters, paging, clinic scope, the search by
address (POSTed, CSRF-checked, never echoed in clear) and the CSV export.

The gateway is filled by :func:`tests.browser.console_seed.seed` (two clinics, a landline
and an undelivered text at the Plateau's and Rosemont's, a bounced email).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest

from notifier.web.console import message_pages
from tests.browser.console_seed import (
    ALICE,
    GAGNON,
    OPTED_OUT_NUMBER,
    PLATEAU_REFERENCE,
    ROSEMONT_REFERENCE,
    SOPHIE,
    assert_masked,
    seed,
)
from tests.integration.conftest import Gateway
from tests.integration.test_console import Console, make_console

_ROW = re.compile(r"<tr data-message>")
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


@pytest.fixture
def console(gateway: Gateway) -> Iterator[Console]:
    seed(gateway)
    yield make_console(gateway)


def rows(html: str) -> int:
    return len(_ROW.findall(html))


def test_the_list_shows_each_message_with_its_clinic_reason_and_next_step(
    console: Console,
) -> None:
    console.sign_in(ALICE)
    everything = console.http.get("/console/messages")
    assert everything.status_code == 200
    assert "Clinique Rosemont" in everything.text and PLATEAU_REFERENCE in everything.text
    assert f'href="/console/story?reference={ROSEMONT_REFERENCE}"' in everything.text
    assert_masked(everything.text, "the messages page")
    total = rows(everything.text)

    failed = console.http.get("/console/messages?status=failed")
    assert 0 < rows(failed.text) < total
    assert "<code class=\"small\">landline</code>" in failed.text
    assert "Demandez au patient un numéro de cellulaire" in failed.text
    assert "<code class=\"small\">bounced</code>" in failed.text

    landline = console.http.get("/console/messages?status=failed&reason=landline")
    assert rows(landline.text) == 1
    assert "<code class=\"small\">bounced</code>" not in landline.text
    rosemont = console.http.get("/console/messages?clinic=rosemont")
    assert 0 < rows(rosemont.text) < total and f">{PLATEAU_REFERENCE}<" not in rosemont.text
    sms = console.http.get("/console/messages?channel=sms")
    emails = console.http.get("/console/messages?channel=email")
    calls = console.http.get("/console/messages?channel=voice")
    assert rows(sms.text) + rows(emails.text) + rows(calls.text) == total
    assert rows(sms.text) < total
    reminders = console.http.get("/console/messages?kind=reminder")
    assert 0 < rows(reminders.text) < total and "planifié" in reminders.text
    future = console.http.get("/console/messages?from=2030-01-01")
    assert rows(future.text) == 0 and "Aucun message ne correspond." in future.text
    bad = console.http.get("/console/messages?from=demain")
    assert "utilisez AAAA-MM-JJ" in bad.text and rows(bad.text) == total


def test_pages_follow_one_another_and_list_every_message_once(
    console: Console, monkeypatch: pytest.MonkeyPatch,
) -> None:
    console.sign_in(ALICE)
    total = rows(console.http.get("/console/messages").text)
    monkeypatch.setattr(message_pages, "PAGE_SIZE", 3)
    path, seen, pages = "/console/messages", 0, 0
    while path:
        html = console.http.get(path.replace("&amp;", "&")).text
        seen += rows(html)
        pages += 1
        found = _NEXT.search(html)
        path = found[1] if found else ""
        assert pages < 20
    assert seen == total and pages >= total // 3


def test_a_scoped_operator_sees_their_clinic_only(console: Console) -> None:
    console.sign_in(SOPHIE)
    own = console.http.get("/console/messages")
    assert rows(own.text) > 0 and "Clinique Rosemont" not in own.text
    assert f">{ROSEMONT_REFERENCE}<" not in own.text
    other = console.http.get("/console/messages?clinic=rosemont")
    assert rows(other.text) == 0 and "Aucun message ne correspond." in other.text
    exported = console.http.get("/console/messages.csv?clinic=rosemont")
    assert len(list(csv.reader(io.StringIO(exported.text)))) == 1  # the header only

    found = console.post("/console/messages/search", {"address": GAGNON["email"]},
                         page="/console/messages")
    assert found.status_code == 200 and rows(found.text) == 0


def test_search_by_a_number_typed_with_spaces_and_dashes_never_shows_it(
    console: Console,
) -> None:
    console.sign_in(ALICE)
    typed = "514 555-0188"
    found = console.post("/console/messages/search", {"address": typed},
                         page="/console/messages")
    assert found.status_code == 200
    assert rows(found.text) > 0 and "+1•••••••188" in found.text
    assert typed not in found.text and OPTED_OUT_NUMBER not in found.text
    assert "5145550188" not in found.text
    assert_masked(found.text, "the search's answer")
    assert f">{PLATEAU_REFERENCE}<" in found.text and f">{ROSEMONT_REFERENCE}<" not in found.text

    email = console.post("/console/messages/search", {"address": " JF.Gagnon@Example.net "},
                         page="/console/messages")
    assert rows(email.text) > 0 and f">{ROSEMONT_REFERENCE}<" in email.text

    bad = console.post("/console/messages/search", {"address": "555-01"},
                       page="/console/messages")
    assert bad.status_code == 422
    assert "ni un numéro de téléphone valide ni une adresse courriel" in bad.text
    assert "555-01" not in bad.text

    forged = console.http.post("/console/messages/search", data={"address": typed},
                               follow_redirects=False)
    assert forged.status_code == 403


def test_a_reference_opens_its_story(console: Console) -> None:
    console.sign_in(ALICE)
    answer = console.http.get(f"/console/messages?reference={PLATEAU_REFERENCE}",
                              follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/story?reference={PLATEAU_REFERENCE}"


def test_the_export_is_the_filtered_list_as_csv_in_the_operators_language(
    console: Console, monkeypatch: pytest.MonkeyPatch,
) -> None:
    console.sign_in(ALICE)
    listed = rows(console.http.get("/console/messages?status=failed").text)
    answer = console.http.get("/console/messages.csv?status=failed")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith('attachment; filename="messages-')
    assert_masked(answer.text, "the export")
    header, *lines = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert header[0].startswith("Moment (") and "Que faire" in header
    assert len(lines) == listed
    assert all(line[6] == "échec" for line in lines)
    phones = [line[5] for line in lines if "@" not in line[5]]
    assert phones and all(cell.startswith("'+1") for cell in phones)  # never a formula

    monkeypatch.setattr(message_pages, "EXPORT_CAP", 2)
    capped = list(csv.reader(io.StringIO(
        console.http.get("/console/messages.csv").text.lstrip("\ufeff"))))
    assert len(capped) == 4 and "limitée aux 2 premiers" in capped[-1][0]


def test_each_failure_count_of_the_overview_opens_its_messages(console: Console) -> None:
    console.sign_in(ALICE)
    overview = console.http.get("/console/").text
    links = set(re.findall(r'href="(/console/messages\?[^"]+)"', overview))
    landline = ("/console/messages?status=failed&amp;channel=sms&amp;reason=landline"
                "&amp;from=2026-11-23")
    assert landline in links
    for link in links:
        listed = console.http.get(link.replace("&amp;", "&"))
        assert listed.status_code == 200 and rows(listed.text) > 0, link


def test_messages_waiting_to_try_again_open_the_sending_list_and_other_queues_do_not(
    console: Console,
) -> None:
    gateway = console.gateway
    gateway.actors.send.send_with_options(args=({"reference": "0000000001"},), delay=600_000)
    gateway.actors.callback.send_with_options(args=("evt",), delay=600_000)
    console.sign_in(ALICE)
    overview = console.http.get("/console/").text
    rows = re.findall(r"<tr><td data-label=\"[^\"]+\"><code>(\w+)</code></td>(.*?)</tr>",
                      overview, re.S)
    delayed = {queue: "/console/messages?status=sending" in cells for queue, cells in rows}
    assert delayed["send"] is True and delayed["callbacks"] is False
    assert rows and all(not linked for queue, linked in delayed.items() if queue != "send")
