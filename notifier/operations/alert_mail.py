"""The on-call email: one message when an alert rule starts firing, one when it clears.

The scheduler calls :meth:`AlertMail.check` on every pass; it evaluates the rules at most
once a minute. Whether a rule fires is kept in Redis, one key per rule, present only while
it fires: a scheduler that sees a rule start firing tells it only if it is the one whose
``SET NX`` made the key, and a scheduler that sees it clear tells it only if its ``DEL``
removed the key. Restarted or concurrent schedulers therefore send each change once. A
message the relay refuses puts the key back as it was, so the next check tries again.

The message names the rule, when it started and what to do next, in French then English;
it holds no patient data (rules are about the gateway, never about a message).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

from redis import Redis

from notifier.domain import Lang
from notifier.errors import DeliveryError
from notifier.operations.alerts import RULE_WORDS, Rule, RuleState, changes, evaluate
from notifier.operations.status import health_summary
from notifier.settings import Settings
from notifier.store.decoding import optional_text
from notifier.store.keys import Keys

log = logging.getLogger(__name__)

CHECK_EVERY = dt.timedelta(minutes=1)

# Sends one message: the envelope's recipient and the message's bytes.
Send = Callable[[str, bytes], None]


class AlertRecords:
    """Which rules fire, since when: one Redis key per rule.

    Parameters:
      redis: a redis-py client.
      keys: the deployment's key names.
    """

    def __init__(self, redis: Redis, *, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    def firing_since(self) -> dict[Rule, dt.datetime]:
        """The rules recorded as firing, with since when (one round trip)."""
        values = self.redis.mget([self.keys.alert_firing(rule) for rule in Rule])
        found = {}
        for rule, raw in zip(Rule, values, strict=True):
            value = optional_text(raw)
            if value:
                found[rule] = dt.datetime.fromisoformat(value)
        return found

    def start(self, rule: Rule, since: dt.datetime) -> bool:
        """Record ``rule`` as firing since ``since``; True only for the caller that did."""
        return bool(self.redis.set(self.keys.alert_firing(rule), since.isoformat(), nx=True))

    def clear(self, rule: Rule) -> dt.datetime | None:
        """Record ``rule`` as fine; since when it fired, only for the caller that cleared
        it (None for every other)."""
        with self.redis.pipeline() as pipe:
            pipe.get(self.keys.alert_firing(rule))
            pipe.delete(self.keys.alert_firing(rule))
            raw, removed = pipe.execute()
        value = optional_text(raw)
        return dt.datetime.fromisoformat(value) if removed and value else None


class AlertMail:
    """Evaluates the alert rules and emails each change to the on-call address.

    Parameters:
      redis: a redis-py client.
      settings: ``alert_email`` (the recipient), ``email_from_address``, the console's
        time zone (times in the message), the health summary's settings.
      clock: the current time (aware).
      send: hands one message to the relay (:func:`smtp_send` in production).
    """

    def __init__(self, redis: Redis, settings: Settings, *,
                 clock: Callable[[], dt.datetime], send: Send) -> None:
        if not settings.alert_email:
            raise ValueError("NOTIFIER_ALERT_EMAIL is needed to email alerts")
        self.redis = redis
        self.settings = settings
        self.to = settings.alert_email
        self.clock = clock
        self.send = send
        self.records = AlertRecords(redis, keys=Keys(settings.queue_prefix))
        self.zone = ZoneInfo(settings.console_time_zone)
        self._next_check: dt.datetime | None = None

    def check(self) -> list[RuleState]:
        """Evaluate the rules if a minute passed since the last evaluation, and email
        each change this scheduler is the first to see; returns the changes it told."""
        now = self.clock()
        if self._next_check is not None and now < self._next_check:
            return []
        self._next_check = now + CHECK_EVERY
        recorded = self.records.firing_since()
        states = evaluate(health_summary(self.redis, self.settings, now), now,
                          firing_since=recorded)
        told = []
        for state in changes(states, recorded):
            if self._tell(state, now):
                told.append(state)
        return told

    def _tell(self, state: RuleState, now: dt.datetime) -> bool:
        rule = state.rule
        fired_since: dt.datetime | None = None
        if state.firing:
            at = state.since or now
            if not self.records.start(rule, at):
                return False
        else:
            fired_since = self.records.clear(rule)
            if fired_since is None:
                return False
            at = now
        message = alert_message(rule, firing=state.firing, at=at, now=now, zone=self.zone,
                                sender=self.settings.email_from_address, to=self.to)
        try:
            self.send(self.to, message.as_bytes())
        except (DeliveryError, OSError) as exc:
            # Put the record back: the next check sees the change again and retries.
            if fired_since is None:
                self.records.clear(rule)
            else:
                self.records.start(rule, fired_since)
            log.warning("the alert email for %s could not be sent (%s); retrying at the "
                        "next check", rule, type(exc).__name__)
            return False
        log.info("alert %s %s: emailed the on-call address", rule,
                 "firing" if state.firing else "cleared")
        return True


_SUBJECT = {
    True: ("[Passerelle] Alerte : {fr}", "[Gateway] Alert: {en}"),
    False: ("[Passerelle] Rétabli : {fr}", "[Gateway] Resolved: {en}"),
}
_BODY = {
    True: ("L’alerte « {fr} » se déclenche depuis le {at}.\n\nQuoi faire : {action_fr}",
           "The “{en}” alert has been firing since {at}.\n\nWhat to do: {action_en}"),
    False: ("L’alerte « {fr} » est rétablie depuis le {at}. Rien à faire.",
            "The “{en}” alert cleared at {at}. Nothing to do."),
}


def alert_message(rule: Rule, *, firing: bool, at: dt.datetime, now: dt.datetime,
                  zone: ZoneInfo, sender: str, to: str) -> EmailMessage:
    """The email telling that ``rule`` started firing (or cleared), French first.

    Parameters:
      rule: the rule.
      firing: True when it started firing, False when it cleared.
      at: since when it fires, or when it cleared.
      now: the message's date.
      zone: the time zone its times are written in.
      sender, to: the From and To addresses.
    """
    words = RULE_WORDS[rule]
    when = at.astimezone(zone).strftime("%Y-%m-%d %H:%M") + f" ({zone.key})"
    values = {"fr": words.name[Lang.FR], "en": words.name[Lang.EN], "at": when,
              "action_fr": words.action[Lang.FR], "action_en": words.action[Lang.EN]}
    subject_fr, subject_en = _SUBJECT[firing]
    body_fr, body_en = _BODY[firing]
    message = EmailMessage()
    message["Subject"] = f"{subject_fr.format(**values)} / {subject_en.format(**values)}"
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Content-Language"] = "fr-CA, en-CA"
    message.set_content(f"{body_fr.format(**values)}\n\n---\n\n{body_en.format(**values)}\n")
    return message


def smtp_send(settings: Settings) -> tuple[Send, Callable[[], None]]:
    """A :data:`Send` through the deployment's SMTP relay settings, and what closes its
    connections."""
    from notifier.channels.smtp.email_client import SmtpEmailClient

    client = SmtpEmailClient(settings, locations=lambda _reference: None,
                             clock=lambda: dt.datetime.now(dt.UTC), pool_size=1)

    def send(to: str, data: bytes) -> None:
        client.pool.send(settings.email_from_address, to, data)

    return send, client.close
