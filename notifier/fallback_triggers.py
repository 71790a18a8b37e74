"""Which failures of a message start its fallback, and which say its address is
undeliverable. Pure: a function of the failure (channel, the provider's code and status,
the message's route); no Redis, no clock.

- Twilio, at create or in a status callback: an invalid number (21211), not a mobile or a
  landline (21614, 21635, and 30006, which is how a Canadian landline shows up, late, in
  a callback), an unknown number (30005), a message blocked (30004) or filtered as spam
  (30007) start the fallback;
- SMTP: a 5xx reply to the recipient or to the message (a hard bounce), or an address
  that can never be sent to;
- a call answered ``busy`` or ``no-answer``: tried once more first (a
  :attr:`~notifier.planning.entries.Route.RETRY`), then the fallback;
- never an opt-out (21610, or any other), never a transient failure, never a message
  whose receipt simply did not come.

A failure whose public reason is one of :data:`~notifier.public_status.UNDELIVERABLE`
(landline, invalid number, bounced, invalid address) also marks the address undeliverable
on that channel (the contact-health registry), with that reason.
"""

from __future__ import annotations

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel
from notifier.planning.entries import Route
from notifier.planning.fallback import NOTHING, Next, Verdict
from notifier.public_status import UNDELIVERABLE, public_reason

# The Twilio codes that say the message cannot reach the patient at this address by this
# channel, for good.
TWILIO_FALLBACK_CODES = frozenset({21211, 21614, 21635, 30004, 30005, 30006, 30007})
# A call that rang out or was refused: worth one more try before a fallback.
UNANSWERED_CALL = frozenset({"busy", "no-answer"})




def classify_failure(
    channel: Channel, *, error_code: str | None, provider_status: str | None = None,
    route: Route | None = None,
) -> Verdict:
    """What a permanent failure (or an ``undelivered`` / ``failed`` status) of a message
    on ``channel`` means.

    Parameters:
      channel: the message's channel.
      error_code: the provider's code (a Twilio error code, an SMTP reply code or word).
      provider_status: the provider's own status word (a call's ``busy``), if any.
      route: the message's route (a retry that fails again goes to the fallback).
    """
    code = (error_code or "").strip()
    reason = public_reason(DeliveryStatus.FAILED, reason=None, error_code=code,
                           channel=channel)
    undeliverable = reason if reason in UNDELIVERABLE else None
    if channel is Channel.EMAIL:
        if code == "address" or (code.isdigit() and 500 <= int(code) < 600):
            return Verdict(Next.FALLBACK, undeliverable)
        return NOTHING
    if code.isdigit() and int(code) in TWILIO_FALLBACK_CODES:
        return Verdict(Next.FALLBACK, undeliverable)
    if code:
        return NOTHING  # 21610 and every other code: no fallback
    if channel is Channel.VOICE and (provider_status or "").strip().lower() in UNANSWERED_CALL:
        return Verdict(Next.RETRY if route is None else Next.FALLBACK)
    return NOTHING
