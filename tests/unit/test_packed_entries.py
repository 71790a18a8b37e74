"""The packed forms read back as the values they were made from, to the microsecond, and
the verbose forms written before them still read."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from notifier.domain import Channel, Kind
from notifier.intake_answer import IntakeAnswer
from notifier.planning.entries import AppointmentState, PlannedMessage
from notifier.planning.plan import plan_event
from notifier.settings import Settings
from tests.factories import event, local

NOW = local(2026, 11, 24, 10)
instants = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2040, 1, 1),
                        timezones=st.just(dt.UTC))


@st.composite
def planned(draw: st.DrawFn) -> PlannedMessage:
    kind = draw(st.sampled_from(Kind))
    return PlannedMessage(
        reference=f"{draw(st.integers(0, 10**10 - 1)):010d}", kind=kind,
        channel=draw(st.sampled_from(Channel)), version=draw(st.integers(1, 2**31 - 1)),
        send_at=draw(instants), deadline=draw(instants), start=draw(instants),
        offset_seconds=draw(st.integers(0, 10**7)) if kind is Kind.REMINDER else None,
    )


@given(planned())
def test_a_packed_message_reads_back_whole(message: PlannedMessage) -> None:
    assert PlannedMessage.from_json(message.to_json()) == message
    assert PlannedMessage.from_pending(message.slot, message.pending_value()) == message
    assert PlannedMessage.from_dict(json.loads(message.to_json())) == message


@given(planned())
def test_a_verbose_message_written_before_still_reads(message: PlannedMessage) -> None:
    written_before = json.dumps(message.to_dict())

    assert PlannedMessage.from_json(written_before) == message
    assert PlannedMessage.from_pending(message.slot, written_before) == message


def test_the_claimed_entry_is_the_pending_value_with_its_slot_in_front() -> None:
    message = PlannedMessage(
        reference="0000000001", kind=Kind.REMINDER, channel=Channel.SMS, version=3,
        send_at=dt.datetime(2026, 11, 30, 14, 30, 0, 250_000, tzinfo=dt.UTC),
        deadline=dt.datetime(2026, 12, 1, 12, 30, tzinfo=dt.UTC),
        start=dt.datetime(2026, 12, 1, 14, 30, tzinfo=dt.UTC), offset_seconds=86400,
    )

    assert message.pending_value() == '{"v":3,"t":1796049000.25,"d":1796128200,"a":1796135400}'
    assert message.to_json() == ('{"s":"0000000001:reminder:sms:86400",'
                                 '"v":3,"t":1796049000.25,"d":1796128200,"a":1796135400}')


def _state() -> AppointmentState:
    booked = event("booked", start=local(2026, 12, 1, 9, 30), at=NOW)
    plan = plan_event(None, frozenset(), booked, Settings(), NOW)
    return plan.state  # type: ignore[union-attr]


def test_a_packed_state_reads_back_whole_and_is_smaller() -> None:
    state = _state()
    attended = AppointmentState(state.appointment, version=7,
                                cancel_closes_at=state.cancel_closes_at,
                                attendance_set_at=NOW + dt.timedelta(microseconds=1),
                                planned={"0000000001:confirmation:sms": 7})

    for one in (state, attended):
        assert AppointmentState.from_json(one.packed()) == one
    verbose = json.dumps({"appointment": state.appointment.model_dump(mode="json")})
    assert len(state.packed()) < len(verbose) * 2 // 3


def test_a_state_written_before_still_reads() -> None:
    state = _state()
    written_before = json.dumps({
        "appointment": state.appointment.model_dump(mode="json"),
        "version": state.version,
        "cancel_closes_at": state.cancel_closes_at.isoformat(),
        "attendance_set_at": None,
        "planned": dict(state.planned),
    }, ensure_ascii=False)

    assert AppointmentState.from_json(written_before) == state
    assert AppointmentState.from_json(written_before.encode()) == state


def test_an_answer_reads_back_from_either_form() -> None:
    answer = IntakeAnswer.of({"status": "accepted", "event_id": "é-1", "planned": []}, "ab" * 32)
    written_before = json.dumps({"status_code": answer.status_code, "body": answer.body,
                                 "fingerprint": answer.fingerprint})

    assert IntakeAnswer.from_json(answer.packed()) == answer
    assert IntakeAnswer.from_json(written_before) == answer
    assert IntakeAnswer.from_json(written_before.encode()) == answer
