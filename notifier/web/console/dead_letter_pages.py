"""Dead letters: every unscoped operator inspects them; admins requeue or discard them.

Each action goes through :mod:`notifier.operations.dead_letters`, which records who did
what and why in the operators' audit (shown under the list). Actions answer with a
redirect (post/redirect/get), so a reload never repeats one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from notifier.names import QUEUES
from notifier.operations import dead_letters
from notifier.web.console.access import AdminDep, FormDep, UnscopedDep, Viewer
from notifier.web.console.browser import PREFIX
from notifier.web.console.clinic_names import ClinicNames
from notifier.web.console.i18n import Words
from notifier.web.console.render import page
from notifier.web.console.routing import console_router
from notifier.web.console.send_keys import send_key_text
from notifier.web.console.story_view import scrub
from notifier.web.context import web_context

router = console_router()
PATH = f"{PREFIX}/dead-letters"
LIMIT = 100


@router.get("/dead-letters")
def dead_letter_list(request: Request, viewer: UnscopedDep, done: str = "",
                     count: int = 0) -> Response:
    context = web_context(request)
    words = viewer.browser.words
    letters = dead_letters.list_dead(context.redis, context.settings, limit=LIMIT)
    actions = dead_letters.operator_actions(context.redis, context.settings, count=20)
    clinics = ClinicNames.read(context.redis, context.settings)
    notice = {"requeued": words("dead.requeued", count=count),
              "discarded": words("dead.discarded"), "gone": words("dead.gone")}.get(done, "")
    rows: list[dict[str, Any]] = [
        {
            "queue": letter.queue, "id": letter.message_id, "actor": letter.actor,
            "failed_at": words.when(letter.failed_at), "retries": letter.retries,
            "reason": scrub(letter.reason) or "—",
            "reference": letter.summary.get("reference", ""),
            "about": " · ".join(
                part for part in (
                    words.maybe("kind", letter.summary["kind"]) if "kind" in letter.summary
                    else "",
                    words.maybe("channel", letter.summary["channel"])
                    if "channel" in letter.summary else "",
                    words.maybe("event", letter.summary["type"]) if "type" in letter.summary
                    else "",
                ) if part),
            "delivery_status": words.maybe("status", letter.delivery_status)
            if letter.delivery_status else "",
            "fields": {k: scrub(str(v)) for k, v in letter.to_dict().items()
                       if k != "summary"} | {k: scrub(v) for k, v in letter.summary.items()}
            | _readable(letter, words, clinics),
            "key": letter.summary.get("key", ""),
            "key_text": send_key_text(letter.summary["key"], words,
                                      zone=clinics.zone(letter.location))
            if "key" in letter.summary else "",
        }
        for letter in letters
    ]
    queues = sorted({row["queue"] for row in rows}, key=QUEUES.index)
    return page(
        viewer.browser, "dead_letters.html", path=PATH, rows=rows, queues=queues,
        notice=notice, can_act=viewer.is_admin,
        actions=[{"at": words.when(a.at), "who": a.actor,
                  "what": words.maybe("action", a.action), "queue": a.queue,
                  "about": scrub(a.summary.get("key") or a.summary.get("event_id") or
                                 a.summary.get("reference") or a.message_id),
                  "about_text": send_key_text(a.summary["key"], words, zone=None)
                  if "key" in a.summary else "",
                  "reason": scrub(a.reason)} for a in actions],
    )


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
