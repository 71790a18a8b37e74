"""The ``dead-letters`` command group: list, requeue or discard the Dramatiq messages that
failed for good."""

from __future__ import annotations

import argparse
import sys

from notifier.cli.argument_types import _positive, _reason
from notifier.cli.operator_name import operator_name
from notifier.cli.parsers import Commands, add_action, add_group, report_language
from notifier.cli.redis_connection import redis_connection
from notifier.domain import Lang
from notifier.names import QUEUES
from notifier.settings import Settings


def dead_letters_list(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from notifier.operations.dead_letters import list_dead
    from notifier.operations.terminal import render_dead_letters

    with redis_connection(settings, needed_by="dead-letters command",
                          say_nothing_changed=False) as redis:
        letters = list_dead(redis, settings, args.queue, limit=args.limit)
    if args.json:
        print(json.dumps([letter.to_dict() for letter in letters], ensure_ascii=False,
                         indent=2))
    else:
        print(render_dead_letters(letters, Lang(args.lang)))
    return 0


def _dead_letter_action(args: argparse.Namespace, settings: Settings, *, action: str) -> int:
    from notifier.clock import utc_now
    from notifier.operations import dead_letters

    with redis_connection(settings, needed_by="dead-letters command",
                          say_nothing_changed=True) as redis:
        options = {"actor": operator_name(), "reason": args.reason, "now": utc_now()}
        if action == "requeue" and args.all:
            count = dead_letters.requeue_all(redis, settings, args.queue, **options)
            print(f"requeued {count} dead letter(s) of the {args.queue} queue; "
                  "recorded in the audit")
            return 0
        act = dead_letters.requeue if action == "requeue" else dead_letters.discard
        done = act(redis, settings, args.queue, args.id, **options)
    if not done:
        print(f"notifier: no dead letter {args.id} in the {args.queue} queue (already "
              "requeued, discarded or expired); nothing changed", file=sys.stderr)
        return 1
    past = "requeued" if action == "requeue" else "discarded"
    print(f"{past} dead letter {args.id} of the {args.queue} queue; recorded in the audit")
    return 0


def dead_letters_requeue(args: argparse.Namespace, settings: Settings) -> int:
    return _dead_letter_action(args, settings, action="requeue")


def dead_letters_discard(args: argparse.Namespace, settings: Settings) -> int:
    return _dead_letter_action(args, settings, action="discard")


def register(commands: Commands) -> None:
    """Add the ``dead-letters`` command group to ``commands``."""
    letters = add_group(
        commands, "dead-letters",
        summary="List, requeue or discard Dramatiq messages that failed for good.",
        description="Dead letters are kept 7 days. Requeue and discard are recorded in the "
        "operators' audit with your user name and the reason. Needs NOTIFIER_REDIS_URL.",
    )
    queue_names = list(QUEUES)
    sub = add_action(letters, "list", dead_letters_list,
                     summary="Print the latest dead letters, newest first.")
    sub.add_argument("--queue", choices=queue_names, help="only this queue (default: both)")
    sub.add_argument("--limit", type=_positive, default=100,
                     help="how many at most (default: 100)")
    sub.add_argument("--json", action="store_true", help="print JSON instead of text")
    report_language(sub)

    sub = add_action(
        letters, "requeue", dead_letters_requeue,
        summary="Put a dead letter (or all of a queue's) back on its queue.",
        description="Put a dead letter (or all of a queue's) back on its queue, its "
        "retries reset.",
    )
    which = sub.add_mutually_exclusive_group(required=True)
    which.add_argument("id", metavar="ID", nargs="?", help="the dead letter's id (see list)")
    which.add_argument("--all", action="store_true", help="every dead letter of the queue")
    sub.add_argument("--queue", choices=queue_names, required=True, help="its queue")
    sub.add_argument("--reason", required=True, type=_reason, help="why, for the audit")

    sub = add_action(letters, "discard", dead_letters_discard,
                     summary="Delete a dead letter for good.")
    sub.add_argument("id", metavar="ID", help="the dead letter's id (see list)")
    sub.add_argument("--queue", choices=queue_names, required=True, help="its queue")
    sub.add_argument("--reason", required=True, type=_reason, help="why, for the audit")
