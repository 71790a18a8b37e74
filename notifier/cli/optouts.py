"""The ``optout`` command group: show, set or clear a number's opt-out, export them all."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from notifier.cli.argument_types import _phone_number, _reason
from notifier.cli.parsers import Commands, add_action, add_group
from notifier.cli.redis_connection import redis_connection
from notifier.domain import Channel
from notifier.settings import Settings

if TYPE_CHECKING:
    from redis import Redis

    from notifier.store.optouts import OptOutStore


def _optout_store(redis: Redis, settings: Settings) -> OptOutStore:
    from notifier.store.optouts import OptOutStore

    return OptOutStore(redis, settings)


def optout_show(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.privacy import mask_address

    channel = Channel(args.channel)
    with redis_connection(settings, needed_by="optout command",
                          say_nothing_changed=True) as redis:
        store = _optout_store(redis, settings)
        state = store.state(args.number, channel)
        history = [e for e in store.audit(args.number, count=50) if e.channel is channel][-10:]
    where = f"{mask_address(args.number)}, {channel} from sender scope {store.scope}"
    if state is None:
        print(f"{where}: subscribed (never opted out)")
    else:
        status = "OPTED OUT" if state.opted_out else "subscribed"
        keyword = f", keyword {state.keyword}" if state.keyword else ""
        print(f"{where}: {status} since {state.since.isoformat()} ({state.source}{keyword})")
    for entry in history:
        details = [f"{entry.previous} -> {entry.state}", entry.source]
        for label, value in (
            ("keyword", entry.keyword),
            ("message", entry.provider_message_id),
            ("reason:", entry.reason),
        ):
            if value:
                details.append(f"{label} {value}")
        print(f"  {entry.at.isoformat()}  {', '.join(details)}")
    return 0


def _optout_change(args: argparse.Namespace, settings: Settings, *, opted_out: bool) -> int:
    from notifier.clock import utc_now
    from notifier.opt_outs import OptOutSource
    from notifier.privacy import mask_address

    channel = Channel(args.channel)
    with redis_connection(settings, needed_by="optout command",
                          say_nothing_changed=True) as redis:
        store = _optout_store(redis, settings)
        change = store.opt_out if opted_out else store.opt_in
        changed = change(
            args.number, channel=channel, source=OptOutSource.OPERATOR,
            reason=args.reason, now=utc_now(),
        )
    what = "opted out of" if opted_out else "subscribed to"
    if changed:
        print(f"{mask_address(args.number)} is now {what} {channel}; recorded in the audit")
    else:
        print(f"{mask_address(args.number)} was already {what} {channel}; nothing changed")
    return 0


def optout_set(args: argparse.Namespace, settings: Settings) -> int:
    return _optout_change(args, settings, opted_out=True)


def optout_clear(args: argparse.Namespace, settings: Settings) -> int:
    return _optout_change(args, settings, opted_out=False)


def optout_export(args: argparse.Namespace, settings: Settings) -> int:
    with redis_connection(settings, needed_by="optout command",
                          say_nothing_changed=True) as redis:
        store = _optout_store(redis, settings)
        try:
            if args.output is None:
                rows = store.export(sys.stdout)
            else:
                with args.output.open("w", newline="", encoding="utf-8") as out:
                    rows = store.export(out)
        except OSError as exc:
            print(f"notifier: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
            return 1
    print(f"notifier: exported {rows} opt-out states (scope {store.scope})", file=sys.stderr)
    return 0


def register(commands: Commands) -> None:
    """Add the ``optout`` command group to ``commands``."""
    actions = add_group(
        commands, "optout",
        summary="Show, set or clear a number's SMS or voice opt-out; export them all (CSV).",
        description="A number's opt-out state for the sender scope NOTIFIER_OPTOUT_SCOPE. "
        "Every change is kept in the audit with its reason. Needs NOTIFIER_REDIS_URL.",
    )

    def number_and_channel(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "number", metavar="NUMBER", type=_phone_number,
            help="the phone number in international form, e.g. +15145550123",
        )
        sub.add_argument(
            "--channel", choices=[Channel.SMS.value, Channel.VOICE.value],
            default=Channel.SMS.value, help="sms (texts) or voice (calls); default: sms",
        )

    number_and_channel(add_action(
        actions, "show", optout_show, summary="Print a number's state and its latest changes."
    ))
    for name, run, summary in (
        ("set", optout_set, "Opt a number out: no more messages on the channel."),
        ("clear", optout_clear, "Opt a number back in (only with the patient's consent)."),
    ):
        sub = add_action(actions, name, run, summary=summary)
        number_and_channel(sub)
        sub.add_argument(
            "--reason", required=True, type=_reason,
            help="why, for the audit (e.g. 'patient asked by phone, ticket 1234')",
        )
    sub = add_action(
        actions, "export", optout_export,
        summary="Write every number's state as CSV, for the clinic's records.",
    )
    sub.add_argument(
        "--output", metavar="FILE", type=Path, help="write to FILE instead of standard output"
    )
