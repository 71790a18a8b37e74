"""The fault suite's workload: appointment stories, the requests that tell them to the
gateway, and what the planning rules say the providers should then have received (the
oracle).

Each appointment follows one :class:`Story`, with its own patient, mobile, home number and
email address, so that whatever a provider received names the appointment it is about.
Some appointments are at a clinic with a channel fallback (:data:`FALLBACK_LOCATION`);
there, a :attr:`Story.FALLBACK` patient's chosen mode goes to an address Twilio refuses
for good (21211), so each of its messages must reach the patient once by the stand-in.
Times are chosen so that each story's oracle is simple (:class:`Timing`): reminders fall
due well after the appointment's last change, cancellations, contact changes and ARRET
come well before any reminder is due, and an attendance changed back comes well before
the no-show message would be due. The oracle still reads the times the gateway really
acknowledged each request (``Step.acked``), so a request that the faults delayed past a
reminder's due time makes that reminder allowed, never required.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from notifier.domain import Channel, Kind
from notifier.messages.samples import SAMPLE_LOCATION
from tests.factories import event
from tests.fakes.twilio_server import FakeTwilio

INBOUND_PATH = "/v1/twilio/sms"
NEVER = float("inf")


class Story(enum.StrEnum):
    """What happens to one appointment."""

    PLAIN = "plain"  # booked; confirmation and both reminders
    MOVED = "moved"  # booked, then moved a minute earlier before any reminder was due
    CANCELLED = "cancelled"  # booked, then cancelled before any reminder was due
    CONTACT = "contact"  # booked, then a new mobile number
    ARRET = "arret"  # booked, then the patient texts ARRET (STOP)
    REPRISE = "reprise"  # booked, ARRET, then REPRISE (START) before reminders are due
    NO_SHOW = "no_show"  # a past appointment set absent: the no-show message
    NO_SHOW_REVERTED = "no_show_reverted"  # set absent, then present again before it is due
    # At the fallback clinic; the one mode chosen (a text or a call) goes to a number
    # Twilio refuses for good: confirmation and reminders go by the other, once each.
    FALLBACK = "fallback"


WEIGHTS = {
    Story.PLAIN: 3, Story.MOVED: 2, Story.CANCELLED: 2, Story.CONTACT: 1, Story.ARRET: 1,
    Story.REPRISE: 1, Story.NO_SHOW: 1, Story.NO_SHOW_REVERTED: 1, Story.FALLBACK: 2,
}
NEEDS_SMS = frozenset({Story.CONTACT, Story.ARRET, Story.REPRISE})
# A clinic whose texts and calls stand in for each other, for patients who consented:
# every FALLBACK appointment, and about a third of the others (nothing of theirs fails
# for good, so nothing of theirs may fall back).
FALLBACK_LOCATION: dict[str, Any] = {
    **SAMPLE_LOCATION.model_dump(mode="json"), "id": "plateau-relais",
    "fallback": {"stand_ins": {"sms": ["voice"], "voice": ["sms"]}, "unchosen_modes": True},
}
AT_FALLBACK_LOCATION = 0.3
# The stand-in for the mode a FALLBACK patient chose.
STAND_IN = {Channel.SMS: Channel.VOICE, Channel.VOICE: Channel.SMS}

FIRST_NAMES = {
    "fr": ("Geneviève", "Mathieu", "Chloé", "Jean-François", "Marie-Ève", "Félix", "Anaïs",
           "Étienne"),
    "en": ("Sarah", "Liam", "Olivia", "Noah", "Emma", "Ethan", "Hannah", "Owen"),
}
LAST_NAMES = ("Bouchard-Lavoie", "Gagnon", "Côté", "Desrosiers", "Fitzgerald", "MacDonald",
              "Pelletier", "Thibodeau")
STOP_WORDS = {"fr": ("ARRET", "Arrêt", " arret ", "ARRÊT"), "en": ("STOP", "Stop")}
START_WORDS = {"fr": ("REPRISE", "Reprise"), "en": ("START",)}


@dataclass(frozen=True)
class Timing:
    """The workload's clock, in seconds. The gateway's settings follow from it
    (:meth:`settings`).

    Parameters:
      offsets: reminder offsets before the start.
      start_after: a future appointment starts this long after it is booked (plus up to
        ``start_jitter``); its first reminder is due ``start_after - offsets[0]`` after.
      moved_by: a moved appointment was booked this much later and is moved earlier by it
        (its old reminders would be due after the new ones: withdrawn, never sent).
      change_after: modifications, cancellations, contact changes and ARRET come this
        long after the booking.
      reprise_after: REPRISE comes this long after the booking (its ARRET at
        ``change_after - 2``).
      absent_after, revert_after: attendance set absent, then back to present.
      no_show_delay, no_show_deadline: the no-show message's window after absence.
      past_hours: how long ago a past appointment (for no-shows) started.
    """

    offsets: tuple[int, ...] = (90, 45)
    start_after: int = 120
    start_jitter: int = 15
    moved_by: int = 60
    change_after: float = 6.0
    reprise_after: float = 14.0
    absent_after: float = 2.0
    revert_after: float = 7.0
    no_show_delay: int = 20
    no_show_deadline: int = 600
    past_hours: int = 3

    def settings(self) -> dict[str, object]:
        return {
            "reminder_offsets": ",".join(f"{offset}s" for offset in self.offsets),
            "reminder_min_lead": "1s",
            "no_show_delay": f"{self.no_show_delay}s",
            "no_show_deadline": f"{self.no_show_deadline}s",
        }


@dataclass
class Step:
    """One request the workload makes at a planned moment.

    Parameters:
      at: when it is planned (epoch seconds).
      name: ``booked``, ``modified``, ``cancelled``, ``contact_changed``, ``absent``,
        ``present`` (events), or ``arret`` / ``reprise`` (texts from the patient).
      version: the event's version (events only).
      word: what the patient texts (texts only).
      started: when its first attempt left.
      acked: when the gateway answered it with success (None: not yet).
      occurred_at: the event's ``occurred_at``.
      answer: the gateway's JSON answer to an event.
      attempts: how many times it was sent.
    """

    at: float
    name: str
    version: int = 0
    word: str | None = None
    started: float | None = None
    acked: float | None = None
    occurred_at: dt.datetime | None = None
    answer: dict[str, Any] | None = None
    attempts: int = 0

    @property
    def is_text(self) -> bool:
        return self.word is not None


@dataclass
class Appointment:
    """One appointment of the workload and the steps of its story.

    Parameters:
      reference: its 10-digit reference.
      story: what happens to it.
      lang: the patient's language.
      first_name, last_name: the patient.
      modes: the communication modes chosen.
      mobile, home, email: the patient's addresses, unique to this appointment.
      new_mobile: the number a contact change gives (CONTACT only).
      location: the clinic as events carry it (None: the sample clinic).
      refused: the chosen channel whose address Twilio refuses for good (FALLBACK only).
      booked_at: when it is booked (epoch seconds, planned).
      start: the start as booked (aware, UTC).
      final_start: the start after its last change.
      steps: its requests, in order.
    """

    reference: str
    story: Story
    lang: str
    first_name: str
    last_name: str
    modes: tuple[str, ...]
    mobile: str
    home: str
    email: str
    booked_at: float
    start: dt.datetime
    final_start: dt.datetime
    new_mobile: str | None = None
    location: dict[str, Any] | None = None
    refused: Channel | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def channels(self) -> list[Channel]:
        return [channel for channel in Channel if str(channel) in self.modes]

    @property
    def location_id(self) -> str:
        return str((self.location or {}).get("id", SAMPLE_LOCATION.id))

    @property
    def refused_number(self) -> str | None:
        """The number Twilio refuses for good (FALLBACK only)."""
        if self.refused is None:
            return None
        return self.mobile if self.refused is Channel.SMS else self.home

    def step(self, name: str) -> Step:
        (found,) = [step for step in self.steps if step.name == name]
        return found

    def acked(self, name: str) -> float:
        """When the gateway acknowledged step ``name`` (inf if it never did)."""
        acked = self.step(name).acked
        return NEVER if acked is None else acked

    def addresses(self) -> dict[str, Channel]:
        found = {self.email: Channel.EMAIL, self.home: Channel.VOICE, self.mobile: Channel.SMS}
        if self.new_mobile:
            found[self.new_mobile] = Channel.SMS
        return found

    def patient(self, *, mobile: str | None = None) -> dict[str, Any]:
        return {
            "first_name": self.first_name, "last_name": self.last_name, "language": self.lang,
            "mobile_phone": mobile or self.mobile, "home_phone": self.home,
            "email": self.email, "modes": list(self.modes),
            **({"fallback_consent": True} if self.location else {}),
        }

    def event_json(self, step: Step, now: dt.datetime) -> dict[str, Any]:
        """The event for ``step`` as the booking system sends it, occurring ``now``."""
        name, start = step.name, self.start
        extra: dict[str, Any] = {}
        kind = {"absent": "attendance_changed", "present": "attendance_changed"}.get(name, name)
        mobile = None
        if name == "modified":
            start = self.final_start
        elif name == "contact_changed":
            mobile = self.new_mobile
        elif name in ("absent", "present"):
            extra["attendance"] = name
        return event(
            kind, version=step.version, start=start, at=now, reference=self.reference,
            event_id=f"faults-{self.reference}-v{step.version}", location=self.location,
            patient=self.patient(mobile=mobile), **extra,
        ).model_dump(mode="json")


class Numbers:
    """Fresh, unique phone numbers and email addresses (North American form)."""

    def __init__(self) -> None:
        self.count = 0
        self.refusals = 0

    def refused_channel(self) -> Channel:
        """The channel the next FALLBACK patient's address is refused on: texts and calls
        in turn, so that a run meets both."""
        self.refusals += 1
        return Channel.SMS if self.refusals % 2 else Channel.VOICE

    def phone(self) -> str:
        self.count += 1
        return f"+1438{2_000_000 + self.count:07d}"

    def email(self, first_name: str) -> str:
        self.count += 1
        ascii_name = first_name.lower().encode("ascii", "ignore").decode().replace("-", "")
        return f"{ascii_name or 'patient'}.{self.count}@example.org"


def plan_workload(
    rng: random.Random, *, t0: float, seconds: float, timing: Timing, per_second: float,
) -> list[Appointment]:
    """Appointments booked over ``seconds`` from ``t0``, about ``per_second`` a second,
    each with its story's steps planned."""
    numbers = Numbers()
    stories = list(WEIGHTS)
    # Every story at least once (FALLBACK twice: a refused text and a refused call), then
    # as weighted.
    first = [*stories, Story.FALLBACK]
    count = max(len(first), round(seconds * per_second))
    weights = [WEIGHTS[story] for story in stories]
    appointments = []
    for index in range(count):
        story = first[index] if index < len(first) else rng.choices(stories, weights)[0]
        booked_at = t0 + seconds * index / count + rng.uniform(0, 0.5)
        appointments.append(
            new_appointment(rng, numbers, story, index=index, booked_at=booked_at, timing=timing)
        )
    return appointments


def new_appointment(
    rng: random.Random, numbers: Numbers, story: Story, *, index: int, booked_at: float,
    timing: Timing,
) -> Appointment:
    """One appointment following ``story``, booked at ``booked_at`` (epoch seconds), with
    fresh addresses from ``numbers`` and the reference ``90000000xx`` for ``index``."""
    lang = rng.choices(("fr", "en"), (3, 2))[0]
    modes = [mode for mode, chance in (("email", 0.5), ("sms", 0.8), ("voice", 0.4))
             if rng.random() < chance]
    if story in NEEDS_SMS and "sms" not in modes:
        modes.append("sms")
    if not modes:
        modes.append(rng.choice(("email", "sms", "voice")))
    refused = None
    if story is Story.FALLBACK:
        refused = numbers.refused_channel()
        modes = [str(refused)]
    at_fallback = story is Story.FALLBACK or rng.random() < AT_FALLBACK_LOCATION
    first_name = rng.choice(FIRST_NAMES[lang])
    booked = dt.datetime.fromtimestamp(booked_at, dt.UTC)
    if story in (Story.NO_SHOW, Story.NO_SHOW_REVERTED):
        start = (booked - dt.timedelta(hours=timing.past_hours)).replace(second=0, microsecond=0)
    else:
        ahead = timing.start_after + rng.uniform(0, timing.start_jitter)
        if story is Story.MOVED:
            ahead += timing.moved_by
        start = (booked + dt.timedelta(seconds=ahead)).replace(microsecond=0)
    final_start = start - dt.timedelta(seconds=timing.moved_by) if story is Story.MOVED else start
    appointment = Appointment(
        reference=f"{9_000_000_000 + index:010d}", story=story, lang=lang,
        first_name=first_name, last_name=rng.choice(LAST_NAMES),
        modes=tuple(sorted(modes)), mobile=numbers.phone(), home=numbers.phone(),
        email=numbers.email(first_name), booked_at=booked_at, start=start,
        final_start=final_start,
        new_mobile=numbers.phone() if story is Story.CONTACT else None,
        location=FALLBACK_LOCATION if at_fallback else None, refused=refused,
    )
    appointment.steps = _steps(rng, appointment, timing)
    return appointment


def _steps(rng: random.Random, appointment: Appointment, timing: Timing) -> list[Step]:
    b, story, lang = appointment.booked_at, appointment.story, appointment.lang
    steps = [Step(b, "booked", version=1)]
    change = b + timing.change_after
    if story is Story.MOVED:
        steps.append(Step(change, "modified", version=2))
    elif story is Story.CANCELLED:
        steps.append(Step(change, "cancelled", version=2))
    elif story is Story.CONTACT:
        steps.append(Step(change, "contact_changed", version=2))
    elif story is Story.ARRET:
        steps.append(Step(change, "arret", word=rng.choice(STOP_WORDS[lang])))
    elif story is Story.REPRISE:
        steps.append(Step(change - 2, "arret", word=rng.choice(STOP_WORDS[lang])))
        steps.append(Step(b + timing.reprise_after, "reprise",
                          word=rng.choice(START_WORDS[lang])))
    elif story in (Story.NO_SHOW, Story.NO_SHOW_REVERTED):
        steps.append(Step(b + timing.absent_after, "absent", version=2))
        if story is Story.NO_SHOW_REVERTED:
            steps.append(Step(b + timing.revert_after, "present", version=3))
    return steps


def reminder_dues(start: dt.datetime, timing: Timing) -> list[float]:
    """When the reminders of an appointment starting at ``start`` are due (epoch, sorted)."""
    return sorted(start.timestamp() - offset for offset in timing.offsets)


# -- the oracle -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What one appointment should have received of one kind on one channel.

    Parameters:
      channel, kind: the message.
      least: copies that must arrive (fewer: a lost message).
      most: copies that may arrive, counted ambiguous resends aside.
      until: no copy may arrive after this (epoch seconds): the state it announces stopped
        being true then.
      shows: the start the message must announce (None: not checked).
      why: the rule, for failure messages.
    """

    channel: Channel
    kind: Kind
    least: int
    most: int
    until: float = NEVER
    shows: dt.datetime | None = None
    why: str = ""


@dataclass(frozen=True)
class Quiet:
    """No SMS may reach ``number`` from ``since`` until ``until`` (epoch seconds)."""

    number: str
    since: float
    until: float
    why: str


def expectations(appointment: Appointment, timing: Timing) -> list[Expectation]:
    """What is sent, and when, for one appointment's story (the planning rules: see
    :mod:`notifier.planning.plan`), given the times the gateway acknowledged its steps."""
    a, story = appointment, appointment.story
    found: list[Expectation] = []

    def add(kind: Kind, least: int, most: int, *, channels: list[Channel] | None = None,
            until: float = NEVER, shows: dt.datetime | None = None, why: str) -> None:
        for channel in channels if channels is not None else a.channels:
            found.append(Expectation(channel, kind, least, most, until, shows, why))

    def reminders(start: dt.datetime, channels: list[Channel], *, stale_from: float = NEVER,
                  why: str) -> None:
        """Both reminders for ``start``; once ``stale_from`` passes, only those already due
        then may have gone (no reminder is required)."""
        if stale_from == NEVER:
            add(Kind.REMINDER, len(timing.offsets), len(timing.offsets), channels=channels,
                shows=start, why=why)
        else:
            due = sum(1 for at in reminder_dues(start, timing) if at <= stale_from)
            add(Kind.REMINDER, 0, due, channels=channels, until=stale_from, shows=start,
                why=why)

    sms: list[Channel] = [c for c in a.channels if c is Channel.SMS]
    others: list[Channel] = [c for c in a.channels if c is not Channel.SMS]
    if story is Story.PLAIN:
        add(Kind.CONFIRMATION, 1, 1, why="booked with a future start")
        reminders(a.start, a.channels, why="booked, never changed")
    elif story is Story.MOVED:
        moved = a.acked("modified")
        add(Kind.CONFIRMATION, 1, 1, why="booked with a future start")
        skipped = _skipped(a.step("modified"), Kind.MODIFICATION)
        for channel in a.channels:
            if channel in skipped:  # the pending confirmation will say the new time
                add(Kind.MODIFICATION, 0, 0, channels=[channel],
                    why="the confirmation was still pending when the appointment moved")
            else:
                add(Kind.MODIFICATION, 1, 1, channels=[channel], shows=a.final_start,
                    why="moved to a new start")
        reminders(a.final_start, a.channels, why="the start it was moved to")
        reminders(a.start, a.channels, stale_from=moved, why="the start before the move")
    elif story is Story.CANCELLED:
        cancelled = a.acked("cancelled")
        add(Kind.CONFIRMATION, 0, 1, until=cancelled,
            why="a confirmation may have gone before the cancellation")
        add(Kind.CANCELLATION, 1, 1, why="cancelled before its start")
        reminders(a.start, a.channels, stale_from=cancelled, why="cancelled")
    elif story is Story.CONTACT:
        add(Kind.CONFIRMATION, 1, 1, why="booked with a future start (old or new number)")
        add(Kind.CONTACT_CHANGE, 1, 1, why="a new mobile number")
        reminders(a.start, a.channels, why="booked; reminders go to the new number")
    elif story is Story.ARRET:
        stopped = a.acked("arret")
        add(Kind.CONFIRMATION, 1, 1, channels=others, why="booked with a future start")
        add(Kind.CONFIRMATION, 0, 1, channels=sms, until=stopped,
            why="an SMS confirmation may have gone before ARRET")
        reminders(a.start, others, why="ARRET stops texts only")
        reminders(a.start, sms, stale_from=stopped, why="the number sent ARRET")
    elif story is Story.REPRISE:
        add(Kind.CONFIRMATION, 1, 1, channels=others, why="booked with a future start")
        add(Kind.CONFIRMATION, 0, 1, channels=sms,
            why="an SMS confirmation may go outside the ARRET-REPRISE interval")
        reminders(a.start, a.channels, why="REPRISE came before the reminders were due")
    elif story is Story.NO_SHOW:
        add(Kind.NO_SHOW, 1, 1, why="absent, never changed back")
    elif story is Story.FALLBACK:
        assert a.refused is not None
        stand_in = [STAND_IN[a.refused]]
        add(Kind.CONFIRMATION, 0, 0, why="its number refuses every message")
        add(Kind.REMINDER, 0, 0, why="its number refuses every message")
        add(Kind.CONFIRMATION, 1, 1, channels=stand_in,
            why="the fallback of the confirmation its number refused")
        reminders(a.start, stand_in, why="the fallbacks of the reminders its number refused")
    elif story is Story.NO_SHOW_REVERTED:
        present = a.acked("present")
        due = no_show_due(a, timing)
        add(Kind.NO_SHOW, 0, 1 if due <= present else 0, until=present,
            why="attendance changed back to present")
    return found


def quiet_intervals(appointment: Appointment) -> list[Quiet]:
    """When no SMS may reach each of the appointment's numbers."""
    a = appointment
    if a.story is Story.ARRET:
        return [Quiet(a.mobile, a.acked("arret"), NEVER, "ARRET acknowledged")]
    if a.story is Story.REPRISE:
        reprise = a.step("reprise")
        resumed = NEVER if reprise.started is None else reprise.started
        return [Quiet(a.mobile, a.acked("arret"), resumed, "ARRET acknowledged, no REPRISE yet")]
    if a.story is Story.CONTACT:
        return [Quiet(a.mobile, a.acked("contact_changed"), NEVER,
                      "the mobile number was replaced")]
    return []


def no_show_due(appointment: Appointment, timing: Timing) -> float:
    occurred = appointment.step("absent").occurred_at
    assert occurred is not None, "the absent event was never sent"
    return occurred.timestamp() + timing.no_show_delay


def _skipped(step: Step, kind: Kind) -> set[Channel]:
    """The channels the gateway's answer to ``step`` said it skipped ``kind`` on because
    a confirmation was still pending."""
    answer = step.answer or {}
    return {
        Channel(skipped["channel"]) for skipped in answer.get("skipped", [])
        if skipped.get("kind") == kind and skipped.get("channel")
        and skipped.get("reason") == "confirmation_pending"
    }


# -- sending the workload -------------------------------------------------------------------


class WorkloadError(AssertionError):
    """The gateway did not take a request of the workload within the driver's patience."""


class Driver:
    """Sends the workload's steps to the web process as a booking system and Twilio do:
    each request is retried (same event id, same MessageSid) while the gateway cannot
    store it (503, connection refused), for at most ``patience`` seconds.

    Parameters:
      base_url: the web process (``http://127.0.0.1:<port>``).
      api_token: the intake API's bearer token.
      public_base_url: the gateway's public URL, which Twilio signs.
      twilio: the fake Twilio: its account and auth token sign the inbound texts.
      sms_to: the gateway's own number (where patients text).
      patience: seconds one request may take, retries included.
    """

    def __init__(
        self, *, base_url: str, api_token: str, public_base_url: str, twilio: FakeTwilio,
        sms_to: str, patience: float = 60.0,
    ) -> None:
        self.base_url = base_url
        self.public_base_url = public_base_url.rstrip("/")
        self.twilio = twilio
        self.sms_to = sms_to
        self.patience = patience
        self.http = httpx.Client(
            base_url=base_url, timeout=30.0, headers={"Authorization": f"Bearer {api_token}"}
        )
        self.retries = 0

    def close(self) -> None:
        self.http.close()

    def run(
        self, appointments: list[Appointment], *, stop: threading.Event,
    ) -> int:
        """Send every step at its planned time (late ones at once, in plan order) until
        done or ``stop`` is set; returns how many steps were sent."""
        plan = sorted(((step.at, appointment.reference, step, appointment)
                       for appointment in appointments for step in appointment.steps),
                      key=lambda item: (item[0], item[1]))
        sent = 0
        for at, _, step, appointment in plan:
            if stop.wait(max(0.0, at - time.time())):
                break
            self.send(appointment, step)
            sent += 1
        return sent

    def send(self, appointment: Appointment, step: Step) -> None:
        step.started = time.time()
        deadline = step.started + self.patience
        message_sid = "SM" + secrets.token_hex(16)
        token = secrets.token_hex(16)
        while True:
            step.attempts += 1
            try:
                if step.is_text:
                    done = self._text(appointment, step, message_sid, token)
                else:
                    done = self._event(appointment, step)
            except httpx.TransportError:
                done = False
            if done:
                step.acked = time.time()
                return
            self.retries += 1
            if time.time() >= deadline:
                raise WorkloadError(
                    f"the gateway did not take the {step.name} step of appointment "
                    f"{appointment.reference} within {self.patience:g}s"
                )
            time.sleep(0.25)  # a booking system's retry interval

    def _event(self, appointment: Appointment, step: Step) -> bool:
        if step.occurred_at is None:
            step.occurred_at = dt.datetime.now(dt.UTC)
        answer = self.http.post("/v1/events", json=appointment.event_json(step, step.occurred_at))
        if answer.status_code >= 500:
            return False
        if answer.status_code != 202:
            raise WorkloadError(
                f"the {step.name} event of appointment {appointment.reference} got "
                f"{answer.status_code}: {answer.text[:300]}"
            )
        step.answer = answer.json()
        return True

    def _text(self, appointment: Appointment, step: Step, message_sid: str, token: str) -> bool:
        url = f"{self.public_base_url}{INBOUND_PATH}"
        params = {
            "AccountSid": self.twilio.account_sid, "ApiVersion": "2010-04-01",
            "MessageSid": message_sid, "SmsSid": message_sid, "SmsMessageSid": message_sid,
            "From": appointment.mobile, "To": self.sms_to, "Body": step.word or "",
            "NumMedia": "0", "NumSegments": "1",
        }
        answer = self.http.post(
            INBOUND_PATH, data=params,
            headers={"X-Twilio-Signature": self.twilio.sign(url, params),
                     "I-Twilio-Idempotency-Token": token},
        )
        if answer.status_code >= 500:
            return False
        # ARRET and REPRISE are always answered; an empty answer is only right for a
        # retry whose first attempt was stored before its answer was lost.
        if answer.status_code != 200 or (
            "<Message>" not in answer.text and step.attempts == 1
        ):
            raise WorkloadError(
                f"the {step.name} text for appointment {appointment.reference} got "
                f"{answer.status_code}: {answer.text[:300]}"
            )
        return True
