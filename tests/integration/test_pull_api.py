"""The pull side for booking systems, on the real app and a real Redis: the feed and the
status API, fed by the real intake and the real send step (the outbox for texts, a
loopback SMTP server for email, the test recipients for failures)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from notifier.domain import Lang
from notifier.errors import RetryLater
from notifier.messages.samples import SAMPLE_LOCATION
from notifier.operations.story import appointment_story
from notifier.planning.entries import PlannedMessage
from notifier.public_status import PublicStatus, describe_reason, status_word
from notifier.sending import SendOutcome
from notifier.store.callback_log import CallbackLog
from notifier.store.intake import Intake
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from notifier.web import create_app
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.i18n import Words
from notifier.web.console.story_view import story_view
from tests.factories import event, local
from tests.fakes.conftest_fixtures import fake_smtp
from tests.fakes.smtp_server import FakeSmtp
from tests.integration.conftest import Gateway

__all__ = ["fake_smtp"]  # fixture

API_TOKEN = "pull-api-test-token-0123456789abcdef"
START = local(2026, 12, 1, 9, 30)
PLATEAU, VERDUN = SAMPLE_LOCATION.id, "verdun"
FAILING, RETRYING = "+15555550101", "+15555550102"
# What the factory's patient is, in every form it could leak.
PATIENT = ("Émilie", "Tremblay", "emilie.tremblay@example.org", "+15145550188", "5145550188",
           "+15145550199", "5145550199", FAILING, RETRYING, "5555550101", "5555550102")


@pytest.fixture
def gateway_options(fake_smtp: FakeSmtp) -> dict[str, object]:
    return dict(fake_smtp.settings_overrides())  # email is "sent" once the server takes it


@dataclass
class Pull:
    gateway: Gateway
    http: TestClient
    tokens: dict[str, str]

    def get(self, path: str, token: str = API_TOKEN, **params: Any) -> Any:
        answer = self.http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        return answer

    def book(self, reference: str, *, location: str = PLATEAU, mobile: str = "+15145550188",
             modes: tuple[str, ...] = ("sms",)) -> list[dict[str, Any]]:
        """Book an appointment and take its due messages out of the schedule."""
        intake = Intake(self.gateway.client, self.gateway.settings)
        now = self.gateway.clock()
        intake.accept(event("booked", start=START, at=now, modes=modes, reference=reference,
                            location={**SAMPLE_LOCATION.model_dump(mode="json"), "id": location},
                            patient={"mobile_phone": mobile}), now)
        claimed = intake.schedule.claim(now)
        intake.schedule.ack(claimed)  # handed to workers: only this appointment's are sent
        payloads = [json.loads(payload) for payload in claimed]
        return [p for p in payloads if PlannedMessage.from_dict(p).reference == reference]

    def cancel(self, reference: str) -> None:
        intake = Intake(self.gateway.client, self.gateway.settings)
        now = self.gateway.clock()
        intake.accept(event("cancelled", version=2, start=START, at=now, modes=("sms",),
                            reference=reference), now)

    def send(self, payload: dict[str, Any]) -> SendOutcome | None:
        try:
            return self.gateway.send_step()(payload)
        except RetryLater:
            return None


@pytest.fixture
def pull(gateway: Gateway) -> Iterator[Pull]:
    settings = gateway.settings.model_copy(update={"api_token": SecretStr(API_TOKEN)})
    store = IntegratorStore(gateway.client, settings, clock=gateway.clock)
    tokens = {}
    for integrator, location in (("plateau-booking", PLATEAU), ("verdun-booking", VERDUN)):
        _, made = store.add(integrator, name=integrator, locations=frozenset({location}),
                            actor="tests", now=gateway.clock())
        tokens[location] = made.token
    app = create_app(settings, redis=gateway.client, clock=gateway.clock)
    with TestClient(app) as http:
        yield Pull(gateway, http, tokens)


def key(payload: dict[str, Any]) -> str:
    return PlannedMessage.from_dict(payload).key


@pytest.fixture
def every_status(pull: Pull) -> dict[str, str]:
    """One appointment per outcome, at the plateau; one at Verdun. Returns the references."""
    sent = pull.book("0000000001", modes=("sms", "email"))
    assert {pull.send(p) for p in sent} == {SendOutcome.SENT}  # sms delivered, email sent
    (failed,) = pull.book("0000000002", mobile=FAILING)
    assert pull.send(failed) is SendOutcome.FAILED
    (retrying,) = pull.book("0000000003", mobile=RETRYING)
    assert pull.send(retrying) is None
    (suppressed,) = pull.book("0000000004")
    pull.cancel("0000000004")  # withdraws the reminders; the confirmation, taken, is dropped
    assert pull.send(suppressed) is SendOutcome.SUPPRESSED
    (elsewhere,) = pull.book("0000000005", location=VERDUN)
    assert pull.send(elsewhere) is SendOutcome.SENT
    return {"sent": "0000000001", "failed": "0000000002", "sending": "0000000003",
            "suppressed": "0000000004", "elsewhere": "0000000005"}


def messages_of(pull: Pull, reference: str, token: str = API_TOKEN) -> list[dict[str, Any]]:
    answer = pull.get(f"/v1/appointments/{reference}/messages", token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["reference"] == reference
    return list(answer.json()["messages"])


def test_every_status_is_reachable_and_each_message_answers_alone_the_same(
    pull: Pull, every_status: dict[str, str],
) -> None:
    views = [view for reference in every_status.values() for view in messages_of(pull, reference)]

    assert {view["status"] for view in views} == set(PublicStatus)
    for view in views:
        alone = pull.get(f"/v1/messages/{view['message_id']}")
        assert alone.status_code == 200 and alone.json() == view
        if view["reason"]:
            assert view["reason_description"] == {
                lang: describe_reason(view["reason"], Lang(lang)) for lang in ("fr", "en")}
        else:
            assert view["reason_description"] is None
    by_status = {view["status"]: view for view in views}
    failed = by_status["failed"]
    assert (failed["reason"], failed["provider_code"], failed["attempts"]) == (
        "invalid_number", "21211", 1)
    assert by_status["suppressed"]["reason"] == "cancelled"
    assert by_status["withdrawn"]["reason"] == "withdrawn"
    assert by_status["scheduled"]["send_at"] > by_status["scheduled"]["created_at"]
    assert {by_status["sent"]["channel"], by_status["delivered"]["channel"]} == {"email", "sms"}


def test_an_appointments_messages_come_in_the_order_they_were_planned(
    pull: Pull, every_status: dict[str, str],
) -> None:
    views = messages_of(pull, every_status["suppressed"])

    assert [(v["kind"], v["status"]) for v in views] == [
        ("confirmation", "suppressed"), ("reminder", "withdrawn"), ("reminder", "withdrawn"),
        ("cancellation", "scheduled")]
    assert all(v["location_id"] == PLATEAU and v["reference"] == every_status["suppressed"]
               for v in views)


def test_a_token_never_sees_another_locations_data(
    pull: Pull, every_status: dict[str, str],
) -> None:
    plateau, verdun = pull.tokens[PLATEAU], pull.tokens[VERDUN]
    theirs = messages_of(pull, every_status["sent"], plateau)

    for path in (f"/v1/appointments/{every_status['sent']}/messages",
                 f"/v1/messages/{theirs[0]['message_id']}", "/v1/messages/0000000001:nothing",
                 "/v1/appointments/0000000099/messages", "/v1/events/nothing"):
        answer = pull.get(path, verdun)
        assert (answer.status_code, answer.json()["error"]) == (404, "not_found"), path
    assert pull.get(f"/v1/appointments/{every_status['elsewhere']}/messages",
                    plateau).status_code == 404

    feed = pull.get("/v1/feed", verdun).json()["events"]
    assert feed and {e["data"]["location_id"] for e in feed} == {VERDUN}
    listed = pull.get("/v1/messages", verdun).json()["messages"]
    assert listed and {m["location_id"] for m in listed} == {VERDUN}
    mine = pull.get("/v1/feed", plateau).json()["events"]
    assert VERDUN not in {e["data"].get("location_id") for e in mine}
    everything = pull.get("/v1/feed").json()["events"]
    assert len(everything) == len(feed) + len(mine)
    refused = pull.get("/v1/messages", verdun, location_id=PLATEAU)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden_location")


def test_an_event_answers_as_it_did_when_posted_to_its_locations_token_only(pull: Pull) -> None:
    posted = event("booked", start=START, at=pull.gateway.clock(), modes=("sms",),
                   reference="0000000042").model_dump(mode="json")
    token = pull.tokens[PLATEAU]
    first = pull.http.post("/v1/events", json=posted, headers={"Authorization": f"Bearer {token}"})
    assert first.status_code == 202

    again = pull.get(f"/v1/events/{posted['event_id']}", token)

    assert again.status_code == 200 and again.json() == first.json()
    assert pull.get(f"/v1/events/{posted['event_id']}", pull.tokens[VERDUN]).status_code == 404
    assert pull.get(f"/v1/events/{posted['event_id']}").json() == first.json()


def test_the_feed_pages_by_cursor_never_twice_and_a_filtered_page_still_moves_on(
    pull: Pull, every_status: dict[str, str],
) -> None:
    whole = pull.get("/v1/feed", limit=1000).json()
    for token in (API_TOKEN, pull.tokens[VERDUN]):
        seen: list[str] = []
        after = None
        cursors = []
        while True:
            page = pull.get("/v1/feed", token, limit=2, **({"after": after} if after else {}))
            assert page.status_code == 200
            body = page.json()
            seen += [e["id"] for e in body["events"]]
            if body["next"] == after:
                break
            cursors.append(body["next"])
            after = body["next"]
        assert len(seen) == len(set(seen)) and cursors == sorted(set(cursors), key=_position)
        if token == API_TOKEN:
            assert seen == [e["id"] for e in whole["events"]]
    assert whole["next"] == cursors[-1]  # the last entry, though another location's


def _position(cursor: str) -> tuple[int, int]:
    ms, n = cursor.split("-")
    return int(ms), int(n)


def test_the_message_list_shows_each_message_once_as_its_latest_change_left_it(
    pull: Pull, every_status: dict[str, str],
) -> None:
    listed = pull.get("/v1/messages").json()
    assert len({m["message_id"] for m in listed["messages"]}) == len(listed["messages"])
    for view in listed["messages"]:
        alone = pull.get(f"/v1/messages/{view['message_id']}").json()
        assert (view["status"], view["reason"]) == (alone["status"], alone["reason"])
    failed = pull.get("/v1/messages", status="failed", channel="sms").json()["messages"]
    assert [m["reference"] for m in failed] == [every_status["failed"]]
    later = pull.gateway.clock() + dt.timedelta(minutes=1)
    assert pull.get("/v1/messages", since=later.isoformat()).json()["messages"] == []
    assert pull.get("/v1/messages", until=later.isoformat()).json() == listed


def test_a_cursor_older_than_the_log_keeps_is_gone_and_a_made_up_one_is_refused(
    pull: Pull, every_status: dict[str, str],
) -> None:
    cursor = pull.get("/v1/feed", limit=1).json()["next"]
    for bad in ("yesterday", "12", "1-2-3", "-1-0", "evt_1-0"):
        answer = pull.get("/v1/feed", after=bad)
        assert (answer.status_code, answer.json()["error"]) == (400, "malformed_cursor"), bad

    # Entries dropped before the retention ends (the setting was shortened): gone too.
    log = CallbackLog(pull.gateway.client, keys=Keys(pull.gateway.settings.queue_prefix))
    second = log.read(after=cursor, count=1)[0].id
    pull.gateway.client.xtrim(log.keys.callback_log, minid=second, approximate=False)
    gone = pull.get("/v1/feed", after=cursor)
    assert (gone.status_code, gone.json()["error"]) == (410, "cursor_expired")
    assert pull.get("/v1/feed", after=second).status_code == 200

    pull.gateway.clock.advance(pull.gateway.settings.callback_retention + dt.timedelta(seconds=1))
    for path, name in (("/v1/feed", "after"), ("/v1/messages", "cursor")):
        late = pull.get(path, **{name: second})
        assert (late.status_code, late.json()["error"]) == (410, "cursor_expired")
        assert "start again without a cursor" in late.json()["message"]


def test_no_answer_holds_a_name_a_phone_number_an_email_or_a_messages_text(
    pull: Pull, every_status: dict[str, str],
) -> None:
    texts = [line.strip() for path in pull.gateway.outbox_files()
             for line in path.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 24]
    assert texts
    answers = [pull.get("/v1/messages").text, pull.get("/v1/events/nothing").text]
    for reference in every_status.values():
        answers.append(pull.get(f"/v1/appointments/{reference}/messages").text)
        for view in messages_of(pull, reference):
            answers.append(pull.get(f"/v1/messages/{view['message_id']}").text)
    # Only contact.* events carry an address, by design: the one they are about.
    feed = pull.get("/v1/feed").json()["events"]
    assert {e["type"] for e in feed} >= {"message.delivered", "message.failed"}
    answers += [json.dumps(e, ensure_ascii=False) for e in feed
                if e["type"].startswith("message.")]
    for answer in answers:
        leaked = [value for value in (*PATIENT, *texts) if value in answer]
        assert not leaked, leaked


@pytest.mark.parametrize("lang", list(Lang))
def test_the_console_story_shows_each_sent_message_in_the_apis_words(
    pull: Pull, every_status: dict[str, str], lang: Lang,
) -> None:
    words = Words(lang, zone=ZoneInfo("America/Toronto"))
    compared = set()
    for reference in every_status.values():
        story = appointment_story(pull.gateway.client, pull.gateway.settings, reference)
        assert story is not None
        shown = {m["key"]: m for m in story_view(
            story, words, clinics=ClinicNames.read(pull.gateway.client, pull.gateway.settings),
        )["messages"]}
        for view in messages_of(pull, reference):
            if view["message_id"] in shown and view["status"] != "scheduled":
                assert shown[view["message_id"]]["status"] == status_word(
                    PublicStatus(view["status"]), lang)
                compared.add(view["status"])
    assert compared == {"sent", "delivered", "failed", "sending", "suppressed", "withdrawn"}
