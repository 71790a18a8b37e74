"""The open-question model: what a number was asked, about which appointment, until when.

A question opens when the provider takes the message that asks it, and is open until the
appointment's start. A decline after the cancellation deadline is still recorded, flagged
``past_cancellation_deadline``. The next question for the same appointment replaces it;
an appointment that changed since is found at reply time
(:func:`~notifier.responses.recheck.recheck`).

Each question has a three-digit code, unique among its number's open questions; its
message shows the code only when the number has another open question, for another
appointment, when it is asked ("Répondez 1 482 pour confirmer..."), so most patients never
see one. A patient with several questions who answers without a code gets a
clarification that lists each one's date, time and code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from notifier.domain import Appointment, Channel, Kind, Lang, Location
from notifier.planning.entries import AppointmentState

CODE_FIRST, CODES = 100, 900  # codes 100 to 999: never a leading zero to lose


def asks(kind: Kind, channel: Channel, location: Location) -> bool:
    """Whether a message of ``kind`` on ``channel`` asks the patient to answer: reminders,
    and the confirmation when the location wants it, on the channels it chose."""
    options = location.patient_responses
    if options is None or channel not in options.channels:
        return False
    return kind is Kind.REMINDER or (kind is Kind.CONFIRMATION and options.ask_in_confirmation)


def appointment_fingerprint(appointment: Appointment) -> str:
    """A short digest of what the patient was asked about: the fields whose change is a
    modification for the patient (:meth:`Appointment.what_patient_sees`). An answer to an
    appointment whose fingerprint changed since is not applied."""
    seen = [
        appointment.start_utc().isoformat(), appointment.duration_minutes,
        appointment.professional_name, appointment.location.id, appointment.location.name,
        appointment.location.address.model_dump(mode="json"), appointment.location.phone,
    ]
    raw = json.dumps(seen, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class OpenQuestion:
    """One question a number was asked.

    Parameters:
      reference: the appointment's reference number.
      version: the appointment's version when it was asked.
      location: the location's id.
      lang: the language it was asked in (the replies' language).
      channel: how it was asked (``sms``, ``voice``).
      code: its three-digit code, unique among the number's open questions.
      decline: whether 2 ("I cannot come") was offered.
      opened_at: when the provider took the message that asks it.
      closes_at: the appointment's start, in the location's time zone.
      decline_closes_at: the cancellation deadline: a later decline is flagged.
      send_key: the send key of the message that asked it.
      fingerprint: :func:`appointment_fingerprint` of the appointment asked about.
    """

    reference: str
    version: int
    location: str
    lang: Lang
    channel: Channel
    code: str
    decline: bool
    opened_at: dt.datetime
    closes_at: dt.datetime
    decline_closes_at: dt.datetime
    send_key: str
    fingerprint: str

    def is_open(self, now: dt.datetime) -> bool:
        return now < self.closes_at

    def past_cancellation_deadline(self, now: dt.datetime) -> bool:
        return now >= self.decline_closes_at

    def packed(self) -> str:
        """The stored form, under the reference in the number's hash: compact JSON, the
        start as local time with its offset (its date and time are what a clarification
        lists), the other times as epoch seconds."""
        return json.dumps({
            "v": self.version, "l": self.location, "g": str(self.lang), "c": str(self.channel),
            "o": self.code, "n": int(self.decline), "a": int(self.opened_at.timestamp()),
            "s": self.closes_at.isoformat(), "e": int(self.closes_at.timestamp()),
            "d": int(self.decline_closes_at.timestamp()), "k": self.send_key,
            "f": self.fingerprint,
        }, separators=(",", ":"))

    @classmethod
    def unpacked(cls, reference: str, raw: str | bytes) -> OpenQuestion:
        """Read :meth:`packed` back (``raw``), stored under ``reference``."""
        data = json.loads(raw)
        return cls(
            reference=reference, version=int(data["v"]), location=str(data["l"]),
            lang=Lang(data["g"]), channel=Channel(data["c"]), code=str(data["o"]),
            decline=bool(data["n"]), opened_at=dt.datetime.fromtimestamp(data["a"], dt.UTC),
            closes_at=dt.datetime.fromisoformat(data["s"]),
            decline_closes_at=dt.datetime.fromtimestamp(data["d"], dt.UTC),
            send_key=str(data["k"]), fingerprint=str(data["f"]),
        )


@dataclass(frozen=True)
class QuestionPlan:
    """How the next question to a number is asked.

    Parameters:
      code: the question's code (the store keeps it whether shown or not).
      show_code: whether the message shows it (another appointment's question is open).
      decline: whether the message offers 2.
    """

    code: str
    show_code: bool
    decline: bool


def _first_code(reference: str) -> int:
    # The same appointment tries the same code first: two messages for two appointments
    # sent at the same instant to one number rarely pick the same one.
    return int(hashlib.sha256(reference.encode()).hexdigest(), 16) % CODES


def free_code(reference: str, taken: Iterable[str]) -> str:
    """The code ``reference`` takes: the first free one from its own starting point."""
    used = set(taken)
    first = _first_code(reference)
    for step in range(CODES):
        code = str(CODE_FIRST + (first + step) % CODES)
        if code not in used:
            return code
    raise ValueError("every code is taken")  # 900 open questions: never for one number


def plan_question(
    reference: str, location: Location, open_questions: Iterable[OpenQuestion],
    now: dt.datetime,
) -> QuestionPlan:
    """How a question about ``reference`` is asked to a number whose questions are
    ``open_questions`` (as stored; the closed ones are ignored).

    Parameters:
      reference: the appointment asked about.
      location: its location (whether 2 is offered).
      open_questions: the number's questions as stored.
      now: when the message leaves.
    """
    options = location.patient_responses
    others = [q for q in open_questions if q.is_open(now) and q.reference != reference]
    own = [q for q in open_questions if q.is_open(now) and q.reference == reference]
    taken = {q.code for q in others}
    code = own[0].code if own and own[0].code not in taken else free_code(reference, taken)
    return QuestionPlan(code=code, show_code=bool(others),
                        decline=True if options is None else options.decline)


def question_for(
    state: AppointmentState, plan: QuestionPlan, *, channel: Channel, send_key: str,
    now: dt.datetime,
) -> OpenQuestion:
    """The question a message asks about the appointment ``state`` holds, opened ``now``
    (when its provider took it).

    Parameters:
      state: the appointment as the message was rendered from.
      plan: how it was asked (:func:`plan_question`).
      channel: the message's channel.
      send_key: the message's send key.
      now: when its provider took it.
    """
    appointment = state.appointment
    return OpenQuestion(
        reference=appointment.reference, version=state.version,
        location=appointment.location.id, lang=appointment.patient.language,
        channel=channel, code=plan.code, decline=plan.decline, opened_at=now,
        closes_at=appointment.start, decline_closes_at=state.cancel_closes_at,
        send_key=send_key, fingerprint=appointment_fingerprint(appointment),
    )
