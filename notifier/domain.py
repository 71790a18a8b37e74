"""The event contract booking systems send us, as types (the README's "The event
contract"): one word per concept, the same in the API, the templates and the metrics.

Every model forbids unknown fields so that a typo, or clinical data such as a reason
for visit, is refused with a clear message instead of being silently stored.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable
from email.errors import MessageError
from email.headerregistry import Address as MailAddress
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from notifier import text_rules
from notifier.arrival import MOMENT_WINDOW, START_WINDOW, Arrival


class Kind(enum.StrEnum):
    """What a message tells the patient."""

    CONFIRMATION = "confirmation"
    MODIFICATION = "modification"
    CANCELLATION = "cancellation"
    REMINDER = "reminder"
    CONTACT_CHANGE = "contact_change"
    NO_SHOW = "no_show"


class Channel(enum.StrEnum):
    """How a message reaches the patient (a "communication mode" in the booking system)."""

    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"


class Lang(enum.StrEnum):
    FR = "fr"
    EN = "en"


class EventType(enum.StrEnum):
    BOOKED = "appointment.booked"
    MODIFIED = "appointment.modified"
    CONTACT_CHANGED = "appointment.contact_changed"
    CANCELLED = "appointment.cancelled"
    ATTENDANCE_CHANGED = "appointment.attendance_changed"


class Attendance(enum.StrEnum):
    UNCONFIRMED = "unconfirmed"
    PRESENT = "present"
    ABSENT = "absent"


class Status(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


# Field names that booking systems commonly use for clinical data. Refusing them by name
# gives the integrator a sentence that says why, instead of a generic "extra field".
CLINICAL_FIELDS = frozenset(
    {
        "reason", "reason_for_visit", "visit_reason", "notes", "note",
        "diagnosis", "comment", "comments",
    }
)

_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
# A host name: letter-digit-hyphen labels and a top-level domain of letters (or an IDN one).
_MAIL_DOMAIN = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$",
    re.IGNORECASE,
)
EMAIL_MAX = 254


def _phone(value: str) -> str:
    cleaned = re.sub(r"[\s().-]", "", value)
    # North American numbers (+1) have exactly ten digits after the country code.
    if not _E164.match(cleaned) or (cleaned.startswith("+1") and len(cleaned) != 12):
        raise ValueError("must be a phone number in international form, for example +15145550123")
    return cleaned


def _email(value: str) -> str:
    """A bare address (``local@domain``) and nothing else: no display name, no group, no
    second address, in ASCII (an address with accented letters needs SMTPUTF8 all the way,
    which the gateway does not promise)."""
    value = value.strip()
    if not value.isascii():
        raise ValueError(
            "must be an email address in plain ASCII (addresses with accented letters "
            "cannot be delivered); ask the patient for another address"
        )
    try:
        parsed = MailAddress(addr_spec=value)
    except (ValueError, IndexError, MessageError):
        parsed = None
    if (
        parsed is None
        or parsed.addr_spec != value
        or not _MAIL_DOMAIN.match(parsed.domain)
        or len(value) > EMAIL_MAX
    ):
        raise ValueError(
            "must be one bare email address such as patient@example.org, without a name, "
            "angle brackets or anything around it"
        )
    return value


def reference_number(value: str) -> str:
    """``value`` if it is an appointment's reference number, else a ``ValueError``."""
    if not re.fullmatch(r"[0-9]{10}", value):
        raise ValueError("must be the appointment's 10-digit reference number, e.g. 0012345678")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone name such as America/Toronto") from None
    return value


class Stored:
    """The validation context of an appointment the store reads back: what the gateway
    once accepted stays readable when its rules grow stricter (the send step checks again
    what matters: numbers and email addresses). A door passes an ``Arrival`` instead."""


STORED = Stored()


def _unless_stored(rule: Callable[[str], str]) -> AfterValidator:
    """``rule`` as a field validator that a stored appointment, read back, skips."""

    def check(value: str, info: ValidationInfo) -> str:
        if isinstance(info.context, Stored):
            return value
        return rule(value)

    return AfterValidator(check)


Phone = Annotated[str, AfterValidator(_phone)]
Email = Annotated[
    str, Field(description="One bare ASCII email address such as patient@example.org"),
    _unless_stored(_email),
]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
# One line a patient reads (it may reach an email header): a clinic's name, an address.
Text = Annotated[
    str,
    Field(min_length=1, max_length=200,
          description="One line: no line break, control or format character, no web or "
          "email address"),
    _unless_stored(text_rules.clinic_text),
]
# The 50-character bound is the rule's, so that a longer name stored before it still reads.
PersonName = Annotated[
    str,
    Field(min_length=1, max_length=200,
          json_schema_extra={"maxLength": text_rules.PERSON_NAME_MAX},
          description="Letters and accents, spaces, hyphens, apostrophes (' and ’) and "
          f"periods, at most {text_rules.PERSON_NAME_MAX} characters"),
    _unless_stored(text_rules.person_name),
]
Paragraph = Annotated[str, Field(max_length=1000), _unless_stored(text_rules.paragraph)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_clinical_data(cls, data: Any) -> Any:
        if isinstance(data, dict):
            clinical = sorted(CLINICAL_FIELDS.intersection(data))
            if clinical:
                raise ValueError(
                    f"{', '.join(clinical)}: clinical data is never accepted by the gateway; "
                    "remove the field from the event"
                )
        return data


class Address(Strict):
    number: Annotated[str, Field(min_length=1, max_length=20),
                      _unless_stored(text_rules.clinic_text)]
    street: Text
    office: Annotated[str, Field(max_length=40),
                      _unless_stored(text_rules.clinic_text)] | None = None
    city: Text
    province: Annotated[str, Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$")]
    postal_code: Annotated[str, Field(pattern=r"^[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]$")]


class CustomParagraphs(Strict):
    """A clinic's own paragraph per message kind and language, added to emails."""

    fr: Paragraph | None = None
    en: Paragraph | None = None


# A location id names a clinic in URLs, logs, metrics labels and operators' scopes
# (where ``*`` means every clinic): a lowercase code, nothing to escape anywhere.
LOCATION_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _location_id(value: str) -> str:
    if not LOCATION_ID.fullmatch(value):
        raise ValueError(
            "must be a code of 1 to 64 lowercase letters, digits, '-' or '_', starting "
            "with a letter or digit, for example clinique-plateau"
        )
    return value


# Like the other text rules, skipped for a stored appointment read back: one accepted
# before ids were slugs still loads, is sent, and takes its later events.
LocationId = Annotated[
    str, _unless_stored(_location_id), Field(min_length=1, max_length=64),
    Field(description="The clinic's code: 1 to 64 lowercase letters, digits, '-' or '_'",
          json_schema_extra={"pattern": f"^{LOCATION_ID.pattern}$"}),
]


# The contract's values have one JSON type each, the same through both doors (a JSON
# body, a Dramatiq message): counts and switches are StrictInt and StrictBool ("7", 7.0
# or "off" are refused rather than guessed), dates and times are text.


def _date_time_text(value: Any) -> Any:
    # JSON has no date type: a number (seconds? milliseconds?) would be a guess.
    if isinstance(value, str | dt.datetime):
        return value
    raise ValueError("must be a date and time written as text, such as 2026-12-01T09:30:00")


DateTime = Annotated[dt.datetime, BeforeValidator(_date_time_text)]


def _with_offset(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a UTC offset, for example 2026-12-01T14:00:00-05:00")
    return value


class PatientResponses(Strict):
    """A location's patient responses: reminders (and, if wanted, the booking
    confirmation) ask the patient to answer 1 to confirm or 2 if they cannot come.

    Off unless a location sends this object: RVSQ's messages stay as they are.
    """

    channels: Annotated[
        frozenset[Literal[Channel.SMS, Channel.VOICE]], Field(min_length=1),
        Field(description="Where the patient is asked: `sms` and/or `voice`"),
    ] = frozenset({Channel.SMS})
    decline: StrictBool = Field(
        default=True, description="Whether the question offers 2, \"I cannot come\"")
    ask_in_confirmation: StrictBool = Field(
        default=False, description="Whether the booking confirmation asks too")
    skip_reminders_when_confirmed: StrictBool = Field(
        default=False, description="Whether a patient who confirmed gets no further "
        "reminder for the appointment as confirmed")


class Location(Strict):
    """A clinic site (a *lieu*), as the patient should see it, with its options."""

    id: LocationId
    name: Text
    phone: Phone
    email: Email | None = Field(default=None, description="Where patients' email replies go")
    address: Address
    time_zone: TimeZoneName = "America/Toronto"
    cancellation_notice_minutes: Annotated[StrictInt, Field(ge=0, le=24 * 60)] = 24 * 60
    no_show_message: StrictBool = False
    patient_responses: PatientResponses | None = None
    custom_paragraphs: dict[Kind, CustomParagraphs] = Field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Patient(Strict):
    """The patient, as the booking system knows them.

    At a door of the gateway (an :class:`~notifier.arrival.Arrival` context with a
    destination policy), the phone numbers must also be ones the gateway may text and
    call; a stored appointment read back is not checked again here (the send step is).
    """

    first_name: PersonName
    last_name: PersonName
    language: Lang = Lang.FR
    mobile_phone: Phone | None = None
    home_phone: Phone | None = None
    email: Email | None = None
    modes: Annotated[frozenset[Channel], Field(min_length=1)] = frozenset({Channel.EMAIL})
    self_serve: StrictBool = True

    @field_validator("mobile_phone", "home_phone")
    @classmethod
    def _allowed_destination(cls, value: str | None, info: ValidationInfo) -> str | None:
        policy = info.context.destinations if isinstance(info.context, Arrival) else None
        if value is not None and policy is not None:
            refusal = policy.refusal(value, texted=info.field_name == "mobile_phone")
            if refusal is not None:
                raise ValueError(refusal)
        return value

    def address_for(self, channel: Channel) -> str | None:
        """The patient's address on a channel, or None when they cannot be reached there."""
        return {
            Channel.EMAIL: self.email,
            Channel.SMS: self.mobile_phone,
            Channel.VOICE: self.home_phone,
        }[channel]


class Appointment(Strict):
    """The full appointment snapshot carried by every event."""

    reference: Annotated[str, AfterValidator(reference_number)]
    start: DateTime = Field(
        description="Local start time at the location, e.g. 2026-12-01T09:30:00 "
        "(an offset, if given, must agree with the location's time zone); from one year "
        "before to two years after the event is received"
    )
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)]
    professional_name: PersonName
    hide_professional_name: StrictBool = False
    location: Location
    patient: Patient
    status: Status = Status.BOOKED
    attendance: Attendance = Attendance.UNCONFIRMED
    attendance_set_at: DateTime | None = Field(
        default=None, description="When attendance was last set; defaults to the event's "
        "time; from one year before to one day after the event is received"
    )

    @field_validator("start")
    @classmethod
    def _start_window(cls, value: dt.datetime, info: ValidationInfo) -> dt.datetime:
        return START_WINDOW.check(value, info)

    @field_validator("attendance_set_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        if value is not None:
            MOMENT_WINDOW.check(_with_offset(value), info)
        return value

    @model_validator(mode="after")
    def _localise_start(self) -> Appointment:
        zone = self.location.zone
        if self.start.tzinfo is None:
            local = self.start.replace(tzinfo=zone)
        else:
            try:
                local = self.start.astimezone(zone)
            except OverflowError:  # at the calendar's edge, without an arrival window
                raise ValueError("start: must be a date the calendar can hold") from None
        object.__setattr__(self, "start", local)
        return self

    def start_utc(self) -> dt.datetime:
        return self.start.astimezone(dt.UTC)

    def channels(self) -> list[Channel]:
        """Chosen modes the patient can actually be reached on, in a stable order."""
        return [c for c in Channel if c in self.patient.modes and self.patient.address_for(c)]

    def what_patient_sees(self) -> tuple[object, ...]:
        """The fields whose change is a *modification* for the patient."""
        return (self.start, self.duration_minutes, self.professional_name, self.location.id,
                self.location.name, self.location.address, self.location.phone)


# A 32-bit counter: every booking system's version column fits, and one stray event
# cannot push the appointment out of any real event's reach for long (see
# MAX_VERSION_STEP and ``notifier appointment reset-version``).
MAX_VERSION = 2**31 - 1
# The largest step from the version the gateway holds: beyond it the event is refused
# rather than ignoring every later real event as stale.
MAX_VERSION_STEP = 1_000_000


class Event(Strict):
    """One appointment event from a booking system."""

    event_id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
    type: EventType
    version: Annotated[
        StrictInt,
        Field(ge=1, le=MAX_VERSION,
              description="Increases with every change of the appointment, by at most "
              f"{MAX_VERSION_STEP:,} at a time"),
    ]
    occurred_at: DateTime = Field(
        description="When it happened, with its UTC offset; from one year before to one "
        "day after the event is received"
    )
    appointment: Appointment

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: dt.datetime, info: ValidationInfo) -> dt.datetime:
        return MOMENT_WINDOW.check(_with_offset(value), info)

    @model_validator(mode="after")
    def _consistent(self) -> Event:
        # Other events (a contact or attendance change) may concern a cancelled appointment.
        status = self.appointment.status
        if self.type is EventType.CANCELLED and status is not Status.CANCELLED:
            raise ValueError("an appointment.cancelled event needs appointment.status 'cancelled'")
        if self.type is EventType.BOOKED and status is not Status.BOOKED:
            raise ValueError("an appointment.booked event needs appointment.status 'booked'")
        return self
