"""``notifier simulate``: sample timelines played on a simulated clock."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest

from notifier.domain import Channel, Kind, Lang
from notifier.errors import TimelineError
from notifier.messages.sms import sms_encoding
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings
from notifier.simulate import Record, SimulatedOutcome, load_timeline, run, simulate

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLES = sorted(DATA.glob("*.jsonl"))
SETTINGS = Settings()


class FakeRendered:
    """What the fake renderer returns: the facts a test checks, as text."""

    def __init__(self, text: str, subject: str | None) -> None:
        self.text = text
        self.subject = subject


def fake_render(kind: Kind, channel: Channel, state: AppointmentState, settings: Settings,
                now: dt.datetime, *, asking: object = None) -> FakeRendered:
    start = state.appointment.start.strftime("%Y-%m-%d %H:%M")
    text = f"{kind} v{state.version} {start}"
    return FakeRendered(text, f"subject: {text}" if channel is Channel.EMAIL else None)


def play(name: str) -> list[Record]:
    with (DATA / name).open(encoding="utf-8") as lines:
        return simulate(load_timeline(lines), SETTINGS, render=fake_render)


def sent(records: list[Record]) -> list[tuple[str, Kind | None, Channel | None, str | None]]:
    return [
        (f"{r.local:%Y-%m-%d %H:%M %Z}", r.kind, r.channel, r.text)
        for r in records
        if r.outcome is SimulatedOutcome.SENT
    ]


def decided(
    records: list[Record], outcome: SimulatedOutcome
) -> list[tuple[Kind | None, str | None]]:
    return [(r.kind, r.reason) for r in records if r.outcome is outcome]


def test_a_night_booking_changed_before_its_sms_left_and_the_march_dst_change() -> None:
    records = play("booking_night_march_dst.jsonl")
    assert sent(records) == [
        ("2026-03-04 23:30 EST", Kind.CONFIRMATION, Channel.EMAIL,
         "subject: confirmation v1 2026-03-10 09:30"),
        ("2026-03-05 00:10 EST", Kind.MODIFICATION, Channel.EMAIL,
         "subject: modification v2 2026-03-10 10:30"),
        # Waited for 08:00 and 09:00, and carries the new time: no separate modification.
        ("2026-03-05 08:00 EST", Kind.CONFIRMATION, Channel.SMS,
         "confirmation v2 2026-03-10 10:30"),
        ("2026-03-05 09:00 EST", Kind.CONFIRMATION, Channel.VOICE,
         "confirmation v2 2026-03-10 10:30"),
        ("2026-03-07 10:30 EST", Kind.REMINDER, Channel.EMAIL,
         "subject: reminder v2 2026-03-10 10:30"),
        ("2026-03-07 10:30 EST", Kind.REMINDER, Channel.SMS, "reminder v2 2026-03-10 10:30"),
        ("2026-03-07 10:30 EST", Kind.REMINDER, Channel.VOICE, "reminder v2 2026-03-10 10:30"),
        ("2026-03-09 10:30 EDT", Kind.REMINDER, Channel.EMAIL,
         "subject: reminder v2 2026-03-10 10:30"),
        ("2026-03-09 10:30 EDT", Kind.REMINDER, Channel.SMS, "reminder v2 2026-03-10 10:30"),
        ("2026-03-09 10:30 EDT", Kind.REMINDER, Channel.VOICE, "reminder v2 2026-03-10 10:30"),
    ]
    assert decided(records, SimulatedOutcome.SKIPPED) == [
        (Kind.MODIFICATION, "confirmation_pending"),
        (Kind.MODIFICATION, "confirmation_pending"),
    ]
    assert decided(records, SimulatedOutcome.DROPPED) == []


def test_a_reschedule_a_contact_change_and_a_cancellation() -> None:
    records = play("reschedule_contact_cancel.jsonl")
    assert [(when, kind, channel) for when, kind, channel, _ in sent(records)] == [
        ("2026-05-01 10:00 PDT", Kind.CONFIRMATION, Channel.EMAIL),
        ("2026-05-01 10:00 PDT", Kind.CONFIRMATION, Channel.SMS),
        ("2026-05-06 11:00 PDT", Kind.MODIFICATION, Channel.EMAIL),
        ("2026-05-06 11:00 PDT", Kind.MODIFICATION, Channel.SMS),
        ("2026-05-06 12:30 PDT", Kind.CONTACT_CHANGE, Channel.SMS),
        ("2026-05-07 09:00 PDT", Kind.CANCELLATION, Channel.SMS),
    ]
    assert decided(records, SimulatedOutcome.IGNORED) == [
        (None, "duplicate_event"), (None, "stale_version")
    ]
    withdrawn = [(r.kind, r.channel) for r in records if r.outcome is SimulatedOutcome.WITHDRAWN]
    assert withdrawn == [
        (Kind.REMINDER, Channel.EMAIL),  # the 3-day reminders, when moved 2 days ahead
        (Kind.REMINDER, Channel.SMS),
        (Kind.REMINDER, Channel.EMAIL),  # the email reminder, when the patient left email
        (Kind.REMINDER, Channel.SMS),  # the last reminder, when cancelled
    ]


def test_reminders_across_the_november_dst_change_and_no_show_messages() -> None:
    records = play("no_show_november_dst.jsonl")
    reminders = [(when, channel) for when, kind, channel, text in sent(records)
                 if kind is Kind.REMINDER and "2026-11-02 09:00" in (text or "")]
    assert reminders == [
        ("2026-10-30 09:00 ADT", Channel.SMS),
        ("2026-10-30 09:00 ADT", Channel.VOICE),
        ("2026-11-01 09:00 AST", Channel.SMS),
        ("2026-11-01 10:00 AST", Channel.VOICE),  # weekend calling hours
    ]
    no_shows = [(when, channel) for when, kind, channel, _ in sent(records)
                if kind is Kind.NO_SHOW]
    assert no_shows == [("2026-11-04 08:00 AST", Channel.SMS),
                        ("2026-11-04 09:00 AST", Channel.VOICE)]
    # The second patient, set back to present, gets none.
    assert [(r.reference, r.kind) for r in records if r.outcome is SimulatedOutcome.WITHDRAWN] == [
        ("2026000004", Kind.NO_SHOW)
    ]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("lang", list(Lang))
def test_the_report_masks_every_recipient_and_explains_every_decision(
    sample: Path, lang: Lang
) -> None:
    out = io.StringIO()
    assert run(sample, SETTINGS, out, lang=lang) == 0
    report = out.getvalue()
    raw = sample.read_text(encoding="utf-8")
    for address in set(re.findall(r"\+1[0-9]{10}|[\w.]+@example\.org", raw)):
        assert address not in report
    lines = report.splitlines()
    assert lines and all(re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} [A-Z]{3} \(", s) for s in lines)
    sent_word = "sent" if lang is Lang.EN else "envoyé"
    assert any(f"  {sent_word} " in line and "•••" in line for line in lines)
    for line in lines:
        if " withdrawn " in line or " retiré " in line:
            assert ("no longer applies" if lang is Lang.EN else "ne s’applique plus") in line


def test_the_report_is_in_time_order() -> None:
    for sample in SAMPLES:
        with sample.open(encoding="utf-8") as lines:
            records = simulate(load_timeline(lines), SETTINGS, render=fake_render)
        assert [r.at for r in records] == sorted(r.at for r in records)


GOOD = (DATA / "reschedule_contact_cancel.jsonl").read_text(encoding="utf-8").splitlines()


def _broken(edit: str) -> list[str]:
    """The good timeline with its second line edited."""
    second = json.loads(GOOD[1])
    if edit == "phone":
        second["event"]["appointment"]["patient"]["mobile_phone"] = "555-0177"
    elif edit == "naive":
        second["at"] = "2026-05-01T10:00:05"
    elif edit == "missing":
        del second["event"]["version"]
    elif edit == "earlier":
        second["at"] = "2026-04-30T10:00:00-07:00"
    elif edit == "clinical":
        second["event"]["appointment"]["reason"] = "follow-up"
    elif edit == "mode":
        second["event"]["appointment"]["patient"]["modes"] = ["email", "fax"]
    elif edit == "edge":
        second["event"]["appointment"]["start"] = "9999-12-31T23:59:00"
    elif edit == "text-flag":
        second["event"]["appointment"]["patient"]["self_serve"] = "off"
    return [GOOD[0], json.dumps(second)]


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        ("phone", "event.appointment.patient.mobile_phone", "international form"),
        ("naive", "at", "timezone"),
        ("missing", "event.version", "required"),
        ("earlier", "at", "earlier than the line before"),
        ("clinical", "event.appointment", "clinical data is never accepted"),
        ("mode", "event.appointment.patient.modes[1]", "'email', 'sms' or 'voice'"),
        ("edge", "event.appointment.start", "one year before and two years after"),
        ("text-flag", "event.appointment.patient.self_serve", "valid boolean"),
    ],
)
def test_a_bad_line_is_named_with_its_field(edit: str, path: str, words: str) -> None:
    with pytest.raises(TimelineError) as caught:
        load_timeline(_broken(edit))
    assert (caught.value.line, caught.value.path) == (2, path)
    assert words in caught.value.problem
    assert "555-0177" not in str(caught.value)


def test_a_line_that_is_not_json_is_named(tmp_path: Path) -> None:
    timeline = tmp_path / "t.jsonl"
    timeline.write_text(GOOD[0] + "\n\n{oops\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert run(timeline, SETTINGS, out, err=err) == 2
    assert out.getvalue() == ""
    assert err.getvalue() == f"{timeline}: line 3: not valid JSON (Expecting property name " \
                             "enclosed in double quotes, column 2)\n"


def test_a_bad_field_exits_2_with_line_and_path(tmp_path: Path) -> None:
    timeline = tmp_path / "t.jsonl"
    timeline.write_text("\n".join(_broken("phone")), encoding="utf-8")
    err = io.StringIO()
    assert run(timeline, SETTINGS, io.StringIO(), err=err) == 2
    assert "line 2, event.appointment.patient.mobile_phone: must be a phone number" in (
        err.getvalue()
    )


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    err = io.StringIO()
    assert run(tmp_path / "nowhere.jsonl", SETTINGS, io.StringIO(), err=err) == 2
    assert "cannot read it" in err.getvalue()


@pytest.mark.parametrize(("lang", "words"), [
    (Lang.EN, "more segments than the budget allows"),
    (Lang.FR, "dépasserait le nombre maximal de segments"),
])
def test_an_sms_over_the_budget_is_reported_dropped_not_sent(lang: Lang, words: str) -> None:
    out = io.StringIO()
    tight = Settings(sms_segment_budget=1)
    assert run(DATA / "reschedule_contact_cancel.jsonl", tight, out, lang=lang) == 0
    lines = out.getvalue().splitlines()
    dropped = [line for line in lines if " over_budget: " in line]
    assert dropped and all(" sms " in line and words in line for line in dropped)
    for line in lines:
        if " sms " in line and "•••" in line:  # what was sent fits
            assert sms_encoding(line.split("•••", 1)[1].split("  ", 1)[1]).segments == 1
