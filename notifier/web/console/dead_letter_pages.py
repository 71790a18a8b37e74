"""Dead letters: every unscoped operator inspects them; admins requeue or discard them.

Each action goes through :mod:`notifier.operations.dead_letters`, which records who did
what and why in the operators' audit (shown under the list). Actions answer with a
redirect (post/redirect/get), so a reload never repeats one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from notifier.delivery_status import DeliveryStatus
from notifier.names import INTAKE_ACTOR, QUEUES
from notifier.operations import dead_letters
from notifier.operations.requeue_outlook import Outcome, Outlook, event_outlook, send_outlook
from notifier.planning.reasons import Reason
from notifier.public_status import describe_reason, public_status, status_word
from notifier.settings import Settings
from notifier.store.intake import Intake
from notifier.web.console.access import AdminDep, FormDep, UnscopedDep, Viewer
from notifier.web.console.browser import PREFIX
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.i18n import Words
from notifier.web.console.render import page
from notifier.web.console.routing import console_router
from notifier.web.console.send_keys import send_key_text
from notifier.web.console.story_view import scrub
from notifier.web.console.times import city
from notifier.web.context import web_context

router = console_router()
PATH = f"{PREFIX}/dead-letters"
LIMIT = 100


@router.get("/dead-letters")
def dead_letter_list(request: Request, viewer: UnscopedDep, done: str = "",
                     count: int = 0, before: float | None = None) -> Response:
    context = web_context(request)
    browser = viewer.browser
    words = browser.words
    letters = dead_letters.list_dead(context.redis, context.settings, limit=LIMIT,
                                     before=before)
    actions = dead_letters.operator_actions(context.redis, context.settings, count=20)
    clinics = ClinicNames.read(context.redis, context.settings)
    notice = {"requeued": words("dead.requeued", count=count),
              "discarded": words("dead.discarded"), "gone": words("dead.gone")}.get(done, "")
    intake = Intake(context.redis, context.settings)
    rows = [_row(letter, intake, context.settings, browser.now, words, clinics)
            for letter in letters]
    queues = sorted({row["queue"] for row in rows}, key=QUEUES.index)
    more = (f"{PATH}?{urlencode({'before': repr(letters[-1].score)})}"
            if len(letters) == LIMIT else "")
    return page(
        browser, "dead_letters.html", path=PATH, rows=rows, queues=queues,
        notice=notice, can_act=viewer.is_admin, more=more,
        first=f"{PATH}" if before is not None else "",
        zone=city(browser.console.zone, browser.lang),
        actions=[{"at": words.when(a.at), "who": a.actor,
                  "what": words.maybe("action", a.action), "queue": a.queue,
                  "about": scrub(a.summary.get("key") or a.summary.get("event_id") or
                                 a.summary.get("reference") or a.message_id),
                  "about_text": send_key_text(a.summary["key"], words, zone=None)
                  if "key" in a.summary else "",
                  "reason": scrub(a.reason)} for a in actions],
    )


def _row(letter: dead_letters.DeadLetter, intake: Intake, settings: Settings,
         now: dt.datetime, words: Words, clinics: ClinicNames) -> dict[str, Any]:
    """One dead letter as the page shows it: what it was, why it died, and what a requeue
    would do now."""
    reference = letter.summary.get("reference", "")
    state = intake.load(reference) if reference else None
    if letter.planned is not None:
        outlook = send_outlook(letter.planned, state, settings, now)
    elif letter.actor == INTAKE_ACTOR:
        outlook = event_outlook(state, now)
    else:
        outlook = Outlook(Outcome.UNKNOWN)
    fields = ({k: v for k, v in letter.to_dict().items() if k != "summary"} | letter.summary
              | _readable(letter, words, clinics))
    return {
        "queue": letter.queue, "queue_word": words.maybe("dead.queue", letter.queue),
        "id": letter.message_id, "actor": words.maybe("dead.actor", letter.actor),
        "failed_at": words.when(letter.failed_at), "retries": letter.retries,
        "reason": scrub(letter.reason) or "—",
        "reason_words": _reason_words(letter, words),
        "reference": reference,
        "about": " · ".join(
            part for part in (
                words.maybe("kind", letter.summary["kind"]) if "kind" in letter.summary
                else "",
                words.maybe("channel", letter.summary["channel"])
                if "channel" in letter.summary else "",
                words.maybe("event", letter.summary["type"]) if "type" in letter.summary
                else "",
            ) if part),
        "delivery_status": _status_words(letter.delivery_status, words)
        if letter.delivery_status else "",
        "outlook": outlook_lines(outlook, words),
        "next": next_step_of(letter, outlook, reference, words),
        "fields": {words.maybe("dead.field", k): scrub(str(v)) for k, v in fields.items()
                   if v not in (None, "")},
        "key": letter.summary.get("key", ""),
        "key_text": send_key_text(letter.summary["key"], words,
                                  zone=clinics.zone(letter.location))
        if "key" in letter.summary else "",
    }


def outlook_lines(outlook: Outlook, words: Words) -> list[str]:
    """What a requeue would do, then the appointment's facts, in sentences.

    Parameters:
      outlook: the requeue's outlook.
      words: the operator's words.
    """
    lines = []
    if outlook.outcome is Outcome.SEND_LATER:
        lines.append(words("dead.outlook.send_later", when=words.when(outlook.at)))
    elif outlook.outcome is Outcome.HELD_BACK:
        reason = outlook.reason or ""
        lines.append(words("dead.outlook.held_back",
                           why=describe_reason(str(reason), words.lang)))
    else:
        lines.append(words(f"dead.outlook.{outlook.outcome}"))
    if outlook.booked is not None:
        lines.append(words("dead.fact.booked" if outlook.booked else "dead.fact.cancelled"))
    elif outlook.outcome is not Outcome.UNKNOWN:
        lines.append(words("dead.fact.not_held"))
    if outlook.start_passed is not None:
        lines.append(words("dead.fact.start_passed" if outlook.start_passed
                           else "dead.fact.start_ahead"))
    return lines


def _reason_words(letter: dead_letters.DeadLetter, words: Words) -> str:
    """The failure's reason in words, when it is one of the gateway's codes."""
    code = letter.reason.strip()
    if not code or " " in code or ":" in code:
        return ""
    return describe_reason(code, words.lang)


def _status_words(status: str, words: Words) -> str:
    try:
        return status_word(public_status(DeliveryStatus(status)), words.lang)
    except ValueError:
        return words.maybe("status", status)


def next_step_of(letter: dead_letters.DeadLetter, outlook: Outlook, reference: str,
               words: Words) -> dict[str, str] | None:
    """Where to go next: the opt-out page for a number that opted out, else the
    appointment's story for a send that failed for good or is held back."""
    opted_out = Reason.OPTED_OUT in (outlook.reason, letter.reason.strip())
    if opted_out:
        return {"href": f"{PREFIX}/opt-outs", "label": words("dead.next.opt_outs")}
    if reference and (outlook.outcome is Outcome.HELD_BACK
                      or letter.delivery_status in ("failed", "undelivered")):
        return {"href": f"{PREFIX}/story?{urlencode({'reference': reference})}",
                "label": words("dead.next.story")}
    return None


def _readable(letter: dead_letters.DeadLetter, words: Words,
              clinics: ClinicNames) -> dict[str, str]:
    """The details a person reads: times in the console's zone, the clinic by name; the
    send key stays as stored (its reading is shown above it)."""
    fields = {"failed_at": words.when(letter.failed_at)}
    if letter.location:
        fields["location"] = clinics.name(letter.location)
    return fields


def _done(viewer: Viewer, outcome: str, count: int = 0) -> Response:
    query = urlencode({"done": outcome, "count": count})
    return viewer.browser.finish(RedirectResponse(f"{PATH}?{query}", status_code=303))


def _reason(viewer: Viewer, form: dict[str, str]) -> str:
    # The audit requires a reason; an operator who left it empty still acted knowingly.
    return form.get("reason", "").strip()[:200] or f"console ({viewer.operator.name})"


def _queue(form: dict[str, str]) -> str:
    queue = form.get("queue", "")
    return queue if queue in QUEUES else QUEUES[0]


@router.post("/dead-letters/requeue")
def requeue_one(request: Request, viewer: AdminDep, form: FormDep) -> Response:
    context = web_context(request)
    moved = dead_letters.requeue(
        context.redis, context.settings, _queue(form), form.get("id", ""),
        actor=viewer.operator.name, reason=_reason(viewer, form), now=viewer.browser.now,
    )
    return _done(viewer, "requeued" if moved else "gone", int(moved))


@router.post("/dead-letters/requeue-all")
def requeue_every(request: Request, viewer: AdminDep, form: FormDep) -> Response:
    context = web_context(request)
    count = dead_letters.requeue_all(
        context.redis, context.settings, _queue(form),
        actor=viewer.operator.name, reason=_reason(viewer, form), now=viewer.browser.now,
    )
    return _done(viewer, "requeued", count)


@router.post("/dead-letters/discard")
def discard_one(request: Request, viewer: AdminDep, form: FormDep) -> Response:
    context = web_context(request)
    gone = dead_letters.discard(
        context.redis, context.settings, _queue(form), form.get("id", ""),
        actor=viewer.operator.name, reason=_reason(viewer, form), now=viewer.browser.now,
    )
    return _done(viewer, "discarded" if gone else "gone")
