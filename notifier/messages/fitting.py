"""Fitting an SMS within the segment budget, in a fixed order, or refusing it.

A body over ``NOTIFIER_SMS_SEGMENT_BUDGET`` never leaves as it is. The steps, from the
one that changes the least to the one that changes the most, each tried only when the
previous ones were not enough, and each kept once taken:

1. lookalikes: the characters GSM-7 lacks become their closest GSM-7 letters
   (ê → e, ô → o, ç → c), which alone can bring a message from UCS-2 (70 characters a
   segment) back to GSM-7 (160); letters GSM-7 has (é, è, à) are kept;
2. optional: the sentences a template marks optional (``{% if not brief %}``) are left
   out;
3. names: the patient's first name and the clinic's name are cut, the longer one first,
   to the longest length that fits, ending with "..."; the clinic's name keeps at least
   :data:`CLINIC_MIN` characters, and a first name cut shorter than four becomes its
   initial ("J.").

Nothing else is ever shortened: the date, the time, the cancel link or the clinic's phone,
the opt-out instructions and the fee notice stay whole. When even the shortest form is
over the budget, :class:`SmsOverBudget` is raised and the message is not sent.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifier.errors import SmsOverBudget
from notifier.messages.sms import SmsEncoding, gsm7_lookalikes, sms_encoding

# The template values that may be shortened, and the shortest each may become.
CLINIC_MIN = 20
_SHORTENABLE = {"first_name": 1, "clinic": CLINIC_MIN}
_ELLIPSIS = "..."
# What a cut must not leave dangling before the ellipsis.
_TRAILING = " -'.,"

Compose = Callable[[Mapping[str, Any]], str]


class Step(enum.StrEnum):
    """One way of making an SMS shorter, in the order they are tried."""

    LOOKALIKES = "lookalikes"
    OPTIONAL = "optional"
    NAMES = "names"


@dataclass(frozen=True)
class FittedSms:
    """An SMS body within the budget.

    Parameters:
      text: the body to send.
      sms: its encoding and segment count.
      steps: the steps it took to fit, in order; empty when it fitted as written.
    """

    text: str
    sms: SmsEncoding
    steps: tuple[Step, ...] = ()


def shorten(value: str, length: int, *, initial: bool) -> str:
    """``value`` cut to at most ``length`` characters, ending with "..." when cut.

    Parameters:
      value: a name.
      length: the most characters the result may have.
      initial: when fewer than four characters are left, give the initial ("J.").
    """
    if len(value) <= length:
        return value
    if length <= len(_ELLIPSIS):
        return f"{value[0]}." if initial else value[:length]
    kept = value[: length - len(_ELLIPSIS)].rstrip(_TRAILING)
    return f"{kept or value[0]}{_ELLIPSIS}"


def _capped(values: Mapping[str, Any], cap: int) -> dict[str, Any]:
    capped = dict(values)
    for field, floor in _SHORTENABLE.items():
        value = values.get(field)
        if isinstance(value, str):
            capped[field] = shorten(value, max(cap, floor), initial=field == "first_name")
    return capped


def fit_sms(compose: Compose, values: Mapping[str, Any], *, budget: int) -> FittedSms:
    """The SMS ``compose(values)`` within ``budget`` segments, after the fewest steps.

    Parameters:
      compose: renders the template with the given values into a normalised body.
      values: the template's values (``first_name``, ``clinic`` and ``brief`` among them).
      budget: the most segments the SMS may take.

    Raises :class:`SmsOverBudget` when even the shortest form does not fit.
    """

    def measured(text: str) -> FittedSms:
        return FittedSms(text, sms_encoding(text))

    def cut(cap: int) -> FittedSms:
        text = gsm7_lookalikes(compose(_capped(values, cap)))
        # A cut name ending a sentence would otherwise read "Clinique du Pla....".
        return measured(text.replace(_ELLIPSIS + ".", _ELLIPSIS))

    fitted = measured(compose(values))
    steps: list[Step] = []

    def take(step: Step, shorter: FittedSms) -> FittedSms:
        # A step that changes nothing (no such letter, no optional sentence) is not told.
        if shorter.text != fitted.text:
            steps.append(step)
        return shorter

    if fitted.sms.segments > budget:
        # The body as written, its letters replaced: no need to render it again.
        fitted = take(Step.LOOKALIKES, measured(gsm7_lookalikes(fitted.text)))
    if fitted.sms.segments > budget:
        values = {**values, "brief": True}
        fitted = take(Step.OPTIONAL, measured(gsm7_lookalikes(compose(values))))
    if fitted.sms.segments > budget:
        fitted = take(Step.NAMES, _shortest_cut(cut, values, budget))
    if fitted.sms.segments > budget:
        raise SmsOverBudget(segments=fitted.sms.segments, budget=budget)
    return FittedSms(fitted.text, fitted.sms, tuple(steps))


def _shortest_cut(
    attempt: Callable[[int], FittedSms], values: Mapping[str, Any], budget: int
) -> FittedSms:
    """The body with names cut as little as possible to fit, or the shortest one.

    A longer cap never makes a shorter body, so the longest cap that fits is found by
    halving the range.
    """
    longest = max((len(v) for f in _SHORTENABLE if isinstance(v := values.get(f), str)),
                  default=1)
    low, high = 1, longest - 1  # caps to try: ``longest`` itself did not fit
    best = attempt(low)
    if best.sms.segments > budget:
        return best
    while low < high:
        middle = (low + high + 1) // 2
        fitted = attempt(middle)
        if fitted.sms.segments <= budget:
            low, best = middle, fitted
        else:
            high = middle - 1
    return best
