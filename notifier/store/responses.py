"""Patient responses in Redis: each number's open questions, each appointment's latest
response, and the texts that need a human.

Keys (:class:`~notifier.store.keys.Keys`, under ``settings.queue_prefix``):
  ``<prefix>:questions:<number digest>``  hash: reference -> open question (one small
                                          hash per number; it expires an hour after the
                                          latest start it holds, and closed questions are
                                          dropped whenever one opens)
  ``<prefix>:response:<reference>``       hash: the latest answer (answer, at, channel,
                                          version, who = the number's digest, fingerprint,
                                          late), until the start plus the event retention
  ``<prefix>:replies:needing-human``      stream: texts that answer none of the number's
                                          open questions, with the text, for operators

A question opens in the send step's last script (``send_handed_over``, see
:meth:`~notifier.store.send_records.SendRecords.handed_over`) when a provider takes the
message that asks it; an answer is recorded by ``response_record``, a text that needs a
human by ``reply_unmatched``, each in one step with what it tells booking systems and
the markers that make the text's redeliveries duplicates.
A number appears only as a digest in a key name (:func:`notifier.opt_outs.number_digest`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis

from notifier.errors import AlreadyProcessed
from notifier.opt_outs import number_digest
from notifier.planning.entries import AppointmentState
from notifier.privacy import mask_address
from notifier.responses import Answer, OpenQuestion, PatientResponse
from notifier.settings import Settings
from notifier.store.decoding import text, text_map
from notifier.store.keys import Keys
from notifier.store.redis_store import RedisStore

# How long a number's questions outlive the latest start they hold: long enough for a
# reply sent as the patient walks in, short enough that nothing lingers.
QUESTIONS_GRACE = dt.timedelta(hours=1)
# How long operators can read a text that needed a human.
NEEDING_HUMAN_RETENTION = dt.timedelta(days=30)


@dataclass(frozen=True)
class NumberQuestions:
    """A number's questions as stored.

    Parameters:
      questions: each question, open or closed.
      raw: each question's stored value by reference (what ``response_record`` checks
        is still there).
    """

    questions: tuple[OpenQuestion, ...]
    raw: dict[str, str]


@dataclass(frozen=True)
class QuestionOpening:
    """What ``send_handed_over`` needs to open a question.

    Parameters:
      key: the number's questions hash.
      question: the question.
    """

    key: str
    question: OpenQuestion


@dataclass(frozen=True)
class Checked:
    """A question answered, with the appointment's state it was re-checked against.

    Parameters:
      question: the question.
      raw_question: its stored value as read.
      state: the appointment's state as read.
      raw_state: the state's stored bytes as read.
    """

    question: OpenQuestion
    raw_question: str
    state: AppointmentState
    raw_state: bytes


@dataclass(frozen=True)
class NeedingHuman:
    """A text that answered none of its number's open questions.

    Parameters:
      id: the stream entry's id.
      at: when it came (ISO).
      masked: the number, masked.
      text: what the patient wrote.
      lang: the language of the questions it came after.
      locations: the locations asked.
      references: the appointments asked about.
    """

    id: str
    at: str
    masked: str
    text: str
    lang: str
    locations: tuple[str, ...]
    references: tuple[str, ...]


class ResponseStore(RedisStore):
    """Open questions, responses and texts needing a human.

    Parameters:
      redis: a redis-py client that does not decode replies (appointment states are
        binary).
      settings: key prefix, opt-out scope (number digests), event and callback retention.
    """

    def __init__(self, redis: Redis, settings: Settings) -> None:
        super().__init__(redis, keys=Keys(settings.queue_prefix))
        self.scope = settings.optout_scope
        self.event_retention = settings.event_retention
        self.callback_retention = settings.callback_retention

    def digest(self, number: str) -> str:
        return number_digest(self.scope, number)

    def questions_key(self, number: str) -> str:
        return self.keys.questions(self.digest(number))

    @staticmethod
    def parse_questions(raw: dict[Any, Any]) -> NumberQuestions:
        """A number's questions hash, as ``HGETALL`` returned it."""
        held = text_map(raw)
        return NumberQuestions(
            tuple(OpenQuestion.unpacked(reference, value) for reference, value in held.items()),
            held,
        )

    def questions(self, number: str) -> NumberQuestions:
        """``number``'s questions as stored (open or closed)."""
        return self.parse_questions(self.redis.hgetall(self.questions_key(number)))

    def opening(self, number: str, question: OpenQuestion) -> QuestionOpening:
        """What opens ``question`` to ``number`` when its message is handed over."""
        return QuestionOpening(self.questions_key(number), question)

    def appointments(self, references: Iterable[str]) -> dict[str, AppointmentState | None]:
        """The appointments' stored states, read, by reference (one round trip)."""
        return read_states(self.states(references))

    def states(self, references: Iterable[str]) -> dict[str, bytes | None]:
        """The appointments' stored states, raw, by reference (one round trip)."""
        wanted = list(dict.fromkeys(references))
        raw: list[Any] = self.redis.mget([self.keys.appointment(r) for r in wanted]) \
            if wanted else []
        return dict(zip(wanted, raw, strict=True))

    def response(self, reference: str) -> PatientResponse | None:
        """The appointment's latest response, or None."""
        return PatientResponse.from_fields(text_map(self.redis.hgetall(
            self.keys.response(reference))))

    def record(
        self, number: str, answer: Answer, answered: Sequence[Checked], *, channel: str,
        now: dt.datetime, markers: Mapping[str, int] | None = None,
    ) -> int | None:
        """Record ``answer`` from ``number`` to the ``answered`` questions, in one step,
        if each question and state is still as read; returns how many responses changed
        (0 for a repeat), or None when something changed since it was read (read and
        re-check again).

        ``markers`` (a text's, with their TTLs in seconds: see
        :meth:`~notifier.store.inbound_claims.InboundClaims.message_markers`) are written
        in the same step; raises :class:`~notifier.errors.AlreadyProcessed`, having
        written nothing, when one is there already."""
        markers = markers or {}
        keys = [self.questions_key(number), self.keys.callback_log]
        args: list[str | int] = [
            _ms(now), _ms(now - self.callback_retention), str(answer), channel,
            self.digest(number), now.astimezone(dt.UTC).isoformat(), len(answered),
        ]
        for item in answered:
            question, state = item.question, item.state
            keys += [self.keys.appointment(question.reference),
                     self.keys.response(question.reference)]
            kept = state.appointment.start_utc() + self.event_retention - now
            args += [question.reference, item.raw_question,
                     hashlib.sha1(item.raw_state).hexdigest(), question.version,
                     question.location, question.fingerprint,
                     "1" if question.past_cancellation_deadline(now) else "0",
                     max(int(kept.total_seconds()), 1)]
        outcome = self.script("response_record")(keys=[*keys, *markers],
                                                 args=[*args, *markers.values()])
        if text(outcome[0]) == "duplicate":
            raise AlreadyProcessed("the text was processed already")
        return None if text(outcome[0]) == "stale" else int(outcome[1])

    def needs_human(
        self, number: str, body: str, questions: Sequence[OpenQuestion], *, channel: str,
        now: dt.datetime, markers: Mapping[str, int] | None = None,
    ) -> None:
        """Keep ``body`` for operators, and tell each location asked that a text answered
        none of its questions (``reply.unmatched``, without the text), with the text's
        ``markers`` (see :meth:`record`), in one step; raises
        :class:`~notifier.errors.AlreadyProcessed`, having written nothing, when one of
        them is there already."""
        markers = markers or {}
        by_location: dict[str, list[str]] = {}
        for question in questions:
            by_location.setdefault(question.location, []).append(question.reference)
        entry = {
            "at": now.astimezone(dt.UTC).isoformat(), "who": self.digest(number),
            "masked": mask_address(number), "text": body,
            "lang": str(questions[0].lang) if questions else "",
            "locations": ",".join(by_location),
            "references": ",".join(q.reference for q in questions),
        }
        pairs = [part for item in entry.items() for part in item]
        kept = self.script("reply_unmatched")(
            keys=[self.keys.replies_needing_human, self.keys.callback_log, *markers],
            args=[_ms(now), _ms(now - self.callback_retention),
                  _ms(now - NEEDING_HUMAN_RETENTION), entry["at"], channel, len(pairs),
                  *pairs, *markers.values(),
                  *[part for location, refs in by_location.items()
                    for part in (location, ",".join(refs))]],
        )
        if not int(kept):
            raise AlreadyProcessed("the text was processed already")

    def needing_human(self, *, location: str | None, count: int = 100) -> list[NeedingHuman]:
        """The latest texts needing a human, newest first: of ``location`` only, or of
        every location when None. Reads at most ``count * 10`` entries."""
        found: list[NeedingHuman] = []
        raw: list[Any] = self.redis.xrevrange(self.keys.replies_needing_human,
                                              count=count * 10) or []
        for entry_id, fields in raw:
            item = text_map(fields)
            locations = tuple(filter(None, item.get("locations", "").split(",")))
            if location is not None and location not in locations:
                continue
            found.append(NeedingHuman(
                id=text(entry_id), at=item.get("at", ""), masked=item.get("masked", ""),
                text=item.get("text", ""), lang=item.get("lang", ""), locations=locations,
                references=tuple(filter(None, item.get("references", "").split(","))),
            ))
            if len(found) >= count:
                break
        return found


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def read_states(raw: Mapping[str, bytes | None]) -> dict[str, AppointmentState | None]:
    """Stored appointment states (:meth:`ResponseStore.states`), read; None stays None."""
    return {reference: None if value is None else AppointmentState.from_json(value)
            for reference, value in raw.items()}
