"""Names of every Redis key the gateway owns, in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix (``settings.queue_prefix``).

    Parameters:
      prefix: the namespace of one deployment; two deployments may share a Redis.
    """

    prefix: str = "notifier"

    def appointment(self, reference: str) -> str:
        return f"{self.prefix}:appt:{reference}"

    def pending(self, reference: str) -> str:
        """Hash: schedule slot -> planned message JSON, for one appointment."""
        return f"{self.prefix}:pending:{reference}"

    @property
    def pending_prefix(self) -> str:
        return f"{self.prefix}:pending:"

    def history(self, reference: str) -> str:
        return f"{self.prefix}:history:{reference}"

    def event(self, event_id: str) -> str:
        return f"{self.prefix}:event:{event_id}"

    def delivery(self, key: str) -> str:
        return f"{self.prefix}:delivery:{key}"

    def attempt_lock(self, key: str) -> str:
        return f"{self.prefix}:attempt:{key}"

    def provider(self, provider_id: str) -> str:
        """Provider id (Twilio SID) -> send key, for status callbacks."""
        return f"{self.prefix}:provider:{provider_id}"

    def rate(self, name: str) -> str:
        return f"{self.prefix}:rate:{name}"

    def call(self, send_key: str) -> str:
        """A call's TwiML, replayed when the patient presses 1."""
        return f"{self.prefix}:call:{send_key}"

    def asking_call(self, send_key: str) -> str:
        """The TwiML of a call that asks, as a person hears it (with the question),
        replayed when the patient presses 3."""
        return f"{self.prefix}:call:{send_key}:asking"

    def call_asked(self, send_key: str) -> str:
        """The CallSid of the call whose question a person heard: the only call whose
        keys 1 and 2 answer it."""
        return f"{self.prefix}:call:{send_key}:asked"

    def schedule(self, channel: str) -> str:
        """Sorted set per channel: slot, scored by when it is due (epoch seconds). One set
        per channel lets operators count what is due per channel in O(log n)."""
        return f"{self.prefix}:schedule:{channel}"

    @property
    def replication_mark(self) -> str:
        """Counter written after a write found already made, so that a ``WAIT`` on the
        same connection confirms the replicas hold it (:mod:`notifier.store.replication`)."""
        return f"{self.prefix}:replication:mark"

    @property
    def schedules(self) -> list[str]:
        return [self.schedule(channel) for channel in ("email", "sms", "voice")]

    def message_row(self, send_key: str) -> str:
        """Hash: what the console's message list shows of a planned message that its
        delivery record may not hold yet: ``l`` its location, ``a`` its address masked
        (never in clear), ``s`` its public status. Written at planning and at each move;
        lives as long as the record."""
        return f"{self.prefix}:message:{send_key}"

    def messages(self, location: str, status: str, channel: str) -> str:
        """Sorted set: the send keys of one location's messages in one public status on
        one channel, scored by their latest change (a scheduled one: when it is due), in
        epoch seconds plus a fraction of the key's hash that breaks ties
        (:mod:`notifier.store.message_index`)."""
        return f"{self.prefix}:messages:{location}:{status}:{channel}"

    def messages_of(self, location: str) -> str:
        """Sorted set: the send keys of every message of one location, whatever its status
        and channel, scored as in :meth:`messages`: the unfiltered list, and what a
        filter on kind or channel alone walks."""
        return f"{self.prefix}:messages:{location}:all"

    def messages_to(self, address_digest: str) -> str:
        """Sorted set: the send keys of the messages planned to one address (a digest of
        it, never the address), scored by when each is due: the console's search."""
        return f"{self.prefix}:messages-to:{address_digest}"

    @property
    def callback_log(self) -> str:
        """Stream: what booking systems are told (the callbacks' outbox, and the feed)."""
        return f"{self.prefix}:callbacks"

    @property
    def clinics(self) -> str:
        """Hash: location id -> its name and time zone as the latest event gave them (what
        the console names clinics and shows their times by)."""
        return f"{self.prefix}:clinics"

    def contact_locations(self, address_digest: str) -> str:
        """Set: the locations whose messages went to one number (a digest of it): their
        booking systems hear of its opt-outs."""
        return f"{self.prefix}:contact:{address_digest}"

    def contact_health(self, channel: str, address_digest: str) -> str:
        """Hash: ``<location>|<reason>`` -> when an address (a digest of it) was found
        undeliverable on a channel (:mod:`notifier.store.fallbacks`)."""
        return f"{self.prefix}:contact-health:{channel}:{address_digest}"

    def undeliverable(self, location: str) -> str:
        """Sorted set: the location's undeliverable contacts (channel, digest, reason,
        masked address), scored by when found."""
        return f"{self.prefix}:undeliverable:{location}"

    @property
    def undeliverable_locations(self) -> str:
        """Sorted set: the locations with an undeliverable contact, scored by when the
        latest was found (what operators' per-clinic counts read, without a scan)."""
        return f"{self.prefix}:undeliverable-locations"

    def fallbacks(self, family: str) -> str:
        """Hash: a message family's fallbacks and retry, channel (or ``retry``) -> send key."""
        return f"{self.prefix}:fallbacks:{family}"

    def provider_latency(self, channel: str) -> str:
        """Hash: a histogram of how long one channel's provider took to answer a send."""
        return f"{self.prefix}:latency:{channel}"

    def stats(self, hour: str) -> str:
        """Hash of delivery counts for one UTC hour (``YYYYMMDDHH``)."""
        return f"{self.prefix}:stats:{hour}"

    def usage(self, hour: str) -> str:
        """Hash: ``location|channel`` -> what one UTC hour (``YYYYMMDDHH``) handed to
        providers, in billed units (SMS segments, calls, emails)."""
        return f"{self.prefix}:usage:{hour}"

    def fallback_redundant(self, hour: str) -> str:
        """Hash: ``channel|kind|lang|location`` -> messages delivered late, after their
        fallback was handed to a provider, in one UTC hour (``YYYYMMDDHH``); apart from
        :meth:`stats`, whose fields are statuses only."""
        return f"{self.prefix}:fallback-redundant:{hour}"

    @property
    def claimed(self) -> str:
        """Sorted set: claimed message JSON, scored by when the claim lapses."""
        return f"{self.prefix}:claimed"

    @property
    def scheduler_heartbeat(self) -> str:
        return f"{self.prefix}:scheduler:last-run"

    def alert_firing(self, rule: str) -> str:
        """String: since when an alert rule fires (ISO), present only while it does."""
        return f"{self.prefix}:alert:{rule}:firing"

    def outcomes_prefix(self) -> str:
        """What the per-clinic, per-month outcome hashes' names start with (the delivery
        scripts add ``<location>:<YYYY-MM>``)."""
        return f"{self.prefix}:outcomes:"

    def outcomes(self, location: str, month: str) -> str:
        """Hash: one clinic's outcome counts for one month (``YYYY-MM``): deliveries by
        channel and status, opt-outs by channel, attendance by whether a reminder reached
        the patient."""
        return f"{self.outcomes_prefix()}{location}:{month}"

    def reached(self, reference: str) -> str:
        """Hash: whether a reminder reached an appointment's patient (``reached``), and
        which attendance count the appointment is in (``counted``)."""
        return f"{self.prefix}:outcomes-appointment:{reference}"

    def optout_states(self, scope: str, channel: str) -> str:
        """Hash: E.164 number -> its latest opt-out state JSON, per sender scope and channel."""
        return f"{self.prefix}:optout:{scope}:{channel}"

    def optout_opted_out(self, scope: str, channel: str) -> str:
        """Set: the numbers opted out now, per sender scope and channel."""
        return f"{self.prefix}:optout:{scope}:{channel}:out"

    def optout_audit(self, scope: str) -> str:
        """Stream: every opt-out change of one sender scope."""
        return f"{self.prefix}:optout:{scope}:audit"

    def inbound_seen(self, kind: str, value: str) -> str:
        """An incoming text already processed, by its MessageSid (``kind`` ``sid``) or
        Twilio's idempotency token (``token``)."""
        return f"{self.prefix}:inbound:seen:{kind}:{value}"

    def inbound_notice(self, number_digest: str) -> str:
        """When the "we do not reply" notice last went to one number."""
        return f"{self.prefix}:inbound:notice:{number_digest}"

    def inbound_replies(self, number_digest: str, kind: str, day: str) -> str:
        """Counter: the answers to one keyword kind sent to one number on one UTC day."""
        return f"{self.prefix}:inbound:replies:{number_digest}:{kind}:{day}"

    def questions(self, number_digest: str) -> str:
        """Hash: one number's open questions (patient responses), appointment reference ->
        the question (:meth:`notifier.responses.OpenQuestion.packed`)."""
        return f"{self.prefix}:questions:{number_digest}"

    def response(self, reference: str) -> str:
        """Hash: the patient's latest response to an appointment's question."""
        return f"{self.prefix}:response:{reference}"

    @property
    def replies_needing_human(self) -> str:
        """Stream: patients' texts that answer no question while one is open, for
        operators to read."""
        return f"{self.prefix}:replies:needing-human"

    @property
    def operations_audit(self) -> str:
        """Stream: operators' actions (requeue, discard, version reset)."""
        return f"{self.prefix}:operations:audit"

    def console_lookup(self, token: str) -> str:
        """A number an operator looked up, bound to that operator, under a random token."""
        return f"{self.prefix}:console:lookup:{token}"

    def console_session(self, digest: str) -> str:
        """Who signed in with one console session, under a hash of the session's id."""
        return f"{self.prefix}:console:session:{digest}"

    def sign_in_attempts(self, kind: str, digest: str) -> str:
        """Hash: the recent console sign-in attempts of one name, known browser or client
        address (``kind``), under a hash of it."""
        return f"{self.prefix}:console:sign-in-attempts:{kind}:{digest}"

    @property
    def integrators(self) -> str:
        """Set: the ids of every integrator."""
        return f"{self.prefix}:integrators"

    def integrator(self, integrator: str) -> str:
        """Hash: one integrator's name, locations, creation time and token digests."""
        return f"{self.prefix}:integrator:{integrator}"

    def integrator_endpoints(self, integrator: str) -> str:
        """Set: the ids of one integrator's callback endpoints."""
        return f"{self.prefix}:integrator:{integrator}:endpoints"

    def integrator_token(self, digest: str) -> str:
        """What a token allows (integrator, locations, end of validity), under the token's
        SHA-256: the web's one read per request."""
        return f"{self.prefix}:integrator-token:{digest}"

    def integrators_at(self, location: str) -> str:
        """Set: the ids of the integrators acting for one location."""
        return f"{self.prefix}:integrators:location:{location}"

    @property
    def integrators_audit(self) -> str:
        """Stream: every change to integrators and their endpoints."""
        return f"{self.prefix}:integrators:audit"

    def endpoint(self, endpoint: str) -> str:
        """Hash: one callback endpoint (integrator, URL, types, secrets, state)."""
        return f"{self.prefix}:endpoint:{endpoint}"

    @property
    def callbacks_cursor(self) -> str:
        """String: the id of the last callback log entry fanned out to endpoints."""
        return f"{self.prefix}:callbacks:cursor"

    @property
    def callbacks_due(self) -> str:
        """Sorted set: callback deliveries (``"<endpoint>|<event id>"`` as JSON), scored by
        when they are due (epoch seconds)."""
        return f"{self.prefix}:callbacks:due"

    @property
    def callbacks_claimed(self) -> str:
        """Sorted set: deliveries claimed for the hand-off, scored by when the claim
        lapses."""
        return f"{self.prefix}:callbacks:claimed"

    @property
    def callbacks_tries(self) -> str:
        """Hash: delivery -> failed attempts so far."""
        return f"{self.prefix}:callbacks:tries"

    @property
    def callbacks_dead(self) -> str:
        """Sorted set: deliveries given up after every retry, scored by when."""
        return f"{self.prefix}:callbacks:dead"

    def endpoint_busy(self, endpoint: str) -> str:
        """Sorted set: attempts in flight to one endpoint, scored by when each place
        lapses."""
        return f"{self.prefix}:endpoint:{endpoint}:busy"

    def endpoint_health(self, endpoint: str) -> str:
        """Hash: one endpoint's delivered and failed counts, its last answer, and since
        when it has been failing."""
        return f"{self.prefix}:endpoint:{endpoint}:health"
