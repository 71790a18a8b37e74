"""What a patient received, rendered again for an operator, with the patient's data masked.

The gateway keeps no copy of what it sent: the text is rendered again, with the project's
own renderer, from the appointment as stored now and the message's kind and channel, at
the time it was handed over. It matches what was sent unless the appointment changed
since (a later version's message then says so itself) or the message asked a question
with a code (the code is not kept). The patient's first and last names, phone numbers and
email addresses are masked; the clinic's own name, address and phone are not patient
data and stay.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from notifier.domain import Channel, Kind
from notifier.messages.catalogue import render
from notifier.messages.formatting import national_phone
from notifier.planning.entries import AppointmentState
from notifier.privacy import mask_address
from notifier.settings import Settings

# A phone number in international form or an email address.
_ADDRESS = re.compile(r"\+\d{8,15}|[^\s@\"'<>,;]+@[^\s@\"'<>,;]+")
NAME_MASK = "•••"


@dataclass(frozen=True)
class Received:
    """One message as the patient received it, masked.

    Parameters:
      channel: its channel.
      text: the SMS body, the words the call spoke, or the email's text part.
      subject: the email's subject; None for other channels.
      encoding: for an SMS, ``GSM-7`` or ``UCS-2``; None otherwise.
      segments: for an SMS, how many segments it took; None otherwise.
    """

    channel: Channel
    text: str
    subject: str | None = None
    encoding: str | None = None
    segments: int | None = None


def mask_patient(text: str, state: AppointmentState) -> str:
    """``text`` with the patient's names, phone numbers (international or national form)
    and email addresses masked.

    Parameters:
      text: a rendered message.
      state: the appointment it was rendered from (whose patient's data is masked).
    """
    patient = state.appointment.patient
    lang = patient.language
    for number in (patient.mobile_phone, patient.home_phone):
        if number:
            for form in {national_phone(str(number), lang), str(number)}:
                text = text.replace(form, mask_address(str(number)))
    text = _ADDRESS.sub(lambda m: mask_address(m[0]), text)
    names = sorted({str(patient.first_name), str(patient.last_name)}, key=len, reverse=True)
    for name in names:
        if name:
            text = re.sub(re.escape(name), NAME_MASK, text, flags=re.IGNORECASE)
    return text


def received_text(state: AppointmentState, kind: Kind, channel: Channel,
                  settings: Settings, at: dt.datetime) -> Received | None:
    """The message of ``kind`` on ``channel`` as rendered at ``at``, masked; None when it
    cannot be rendered again (a template changed, an SMS now over budget).

    Parameters:
      state: the appointment as stored now.
      kind, channel: the message's kind and channel.
      settings: the deployment's settings (templates, sender, segment budget).
      at: when it was handed over (aware).
    """
    try:
        rendered = render(kind, channel, state, settings, at)
    except Exception:  # a page must show the rest of the story regardless
        return None
    subject = None if rendered.subject is None else mask_patient(rendered.subject, state)
    sms = rendered.sms
    return Received(channel, mask_patient(rendered.text, state), subject,
                    None if sms is None else sms.encoding,
                    None if sms is None else sms.segments)
