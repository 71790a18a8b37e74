"""The ``integrators`` command group: booking systems, their API tokens and their callback
endpoints.

A token or a secret is printed once, when made; the gateway keeps only a token's hash,
and no listing, JSON or audit line shows either. Every change is recorded in the
integrators' audit with the operator's user name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from notifier.cli.argument_types import _positive
from notifier.cli.operator_name import operator_name
from notifier.cli.parsers import Commands, add_action, add_group
from notifier.cli.redis_connection import redis_connection
from notifier.settings import Settings

if TYPE_CHECKING:
    from notifier.integrators.model import Endpoint, Integrator
    from notifier.store.integrators import IntegratorStore

NEEDED_BY = "integrators command"
DEFAULT_OVERLAP = "24h"


def _run(
    args: argparse.Namespace, settings: Settings,
    act: Callable[[IntegratorStore, dt.datetime], int], *, changes: bool,
) -> int:
    """Run ``act`` with the store and the time; a refusal is one line and exit status 2."""
    from notifier.clock import utc_now
    from notifier.integrators.checks import IntegratorProblem
    from notifier.store.integrators import IntegratorStore

    try:
        with redis_connection(settings, needed_by=NEEDED_BY,
                              say_nothing_changed=changes) as redis:
            return act(IntegratorStore(redis, settings), utc_now())
    except IntegratorProblem as refused:
        nothing = "; nothing changed" if changes else ""
        print(f"notifier: {refused}{nothing}", file=sys.stderr)
        return 2


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _overlap(text: str) -> dt.timedelta:
    from notifier.integrators.checks import IntegratorProblem, overlap
    from notifier.settings import parse_duration

    try:
        return overlap(parse_duration(text))
    except IntegratorProblem:
        raise
    except ValueError:
        raise IntegratorProblem(
            f"the overlap {text[:20]!r} is not a duration; write it as 24h, 90m, 2d or 0s"
        ) from None


def _print_json(value: Any) -> None:
    import json

    print(json.dumps(value, ensure_ascii=False, indent=2))


def _integrator_dict(integrator: Integrator) -> dict[str, Any]:
    return {"id": integrator.id, "name": integrator.name,
            "locations": sorted(integrator.locations),
            "created_at": integrator.created_at.isoformat()}


def _endpoint_dict(endpoint: Endpoint) -> dict[str, Any]:
    from notifier.integrators.model import EVENT_TYPES

    return {"id": endpoint.id, "integrator": endpoint.integrator, "url": endpoint.url,
            "types": [t for t in EVENT_TYPES if t in endpoint.types],
            "state": endpoint.state.value, "signing_secrets": len(endpoint.secrets)}


def _show_token(token: str, what: str) -> None:
    print(f"{what}: {token}")
    print("  store it now in the booking system's settings: it is shown only this once")


# Integrators ---------------------------------------------------------------------------


def integrators_add(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        integrator, made = store.add(
            checks.integrator_id(args.id), name=checks.integrator_name(args.name),
            locations=checks.location_ids(args.location), actor=operator_name(), now=now,
        )
        print(f"added integrator {integrator.id} ({integrator.name}) for "
              f"{', '.join(sorted(integrator.locations))}; recorded in the audit")
        _show_token(made.token, "its API token")
        return 0

    return _run(args, settings, act, changes=True)


def integrators_list(args: argparse.Namespace, settings: Settings) -> int:
    def act(store: IntegratorStore, now: dt.datetime) -> int:
        found = store.all()
        if args.json:
            _print_json([_integrator_dict(integrator) for integrator in found])
        elif not found:
            print("No integrators.")
        else:
            for integrator in found:
                print(f"{integrator.id:<24} {integrator.name}  "
                      f"[{', '.join(sorted(integrator.locations))}]")
        return 0

    return _run(args, settings, act, changes=False)


def integrators_show(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        integrator = store.require(checks.integrator_id(args.id))
        tokens = store.token_state(integrator.id, now=now)
        endpoints = store.endpoints(integrator.id, now=now)
        if args.json:
            _print_json({**_integrator_dict(integrator),
                         "token_issued_at": tokens.issued_at.isoformat(),
                         "previous_token_until": tokens.previous_until.isoformat()
                         if tokens.previous_until else None,
                         "endpoints": [_endpoint_dict(e) for e in endpoints]})
            return 0
        print(f"{integrator.id}: {integrator.name}")
        print(f"  locations: {', '.join(sorted(integrator.locations))}")
        print(f"  added: {_when(integrator.created_at)}")
        print(f"  token issued: {_when(tokens.issued_at)}")
        if tokens.previous_until:
            print(f"  previous token works until {_when(tokens.previous_until)}")
        for endpoint in endpoints:
            _print_endpoint(endpoint)
        if not endpoints:
            print("  no callback endpoints")
        return 0

    return _run(args, settings, act, changes=False)


def integrators_set_locations(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        integrator = store.set_locations(
            checks.integrator_id(args.id), checks.location_ids(args.location),
            actor=operator_name(), now=now,
        )
        print(f"integrator {integrator.id} now acts for "
              f"{', '.join(sorted(integrator.locations))}; recorded in the audit")
        return 0

    return _run(args, settings, act, changes=True)


def integrators_rotate_token(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        made = store.rotate_token(checks.integrator_id(args.id), overlap=_overlap(args.overlap),
                                  actor=operator_name(), now=now)
        if made.previous_until:
            print(f"new token for {args.id}; the previous one works until "
                  f"{_when(made.previous_until)}; recorded in the audit")
        else:
            print(f"new token for {args.id}; the previous one no longer works; "
                  "recorded in the audit")
        _show_token(made.token, "its new API token")
        return 0

    return _run(args, settings, act, changes=True)


def integrators_remove(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        store.remove(checks.integrator_id(args.id), actor=operator_name(), now=now)
        print(f"removed integrator {args.id}: its tokens no longer work and its endpoints "
              "receive nothing more; recorded in the audit")
        return 0

    return _run(args, settings, act, changes=True)


def integrators_audit(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        only = checks.integrator_id(args.integrator) if args.integrator else None
        entries = store.audit(args.limit, integrator=only)
        if args.json:
            _print_json([entry.to_dict() for entry in entries])
        elif not entries:
            print("No changes recorded.")
        for entry in [] if args.json else entries:
            about = entry.integrator + (f" {entry.endpoint}" if entry.endpoint else "")
            details = ", ".join(f"{k}={v}" for k, v in sorted(entry.details.items()))
            print(f"{_when(entry.at)}  {entry.actor:<12} {entry.action:<15} {about}"
                  f"{'  ' + details if details else ''}")
        return 0

    return _run(args, settings, act, changes=False)


# Endpoints -----------------------------------------------------------------------------


def _print_endpoint(endpoint: Endpoint) -> None:
    from notifier.integrators.model import EVENT_TYPES

    types = ", ".join(t for t in EVENT_TYPES if t in endpoint.types)
    rotation = " (two signing secrets until the rotation's overlap ends)" \
        if len(endpoint.secrets) > 1 else ""
    print(f"  {endpoint.id}  {endpoint.state.value:<9} {endpoint.url}{rotation}")
    print(f"    types: {types}")


def endpoint_add(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        endpoint, secret = store.add_endpoint(
            checks.integrator_id(args.integrator), url=checks.endpoint_url(args.url),
            types=checks.event_types(args.type or ()), actor=operator_name(), now=now,
        )
        print(f"added endpoint {endpoint.id} to {endpoint.integrator}; recorded in the audit")
        _show_token(secret, "its signing secret")
        return 0

    return _run(args, settings, act, changes=True)


def endpoint_list(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        integrator = store.require(checks.integrator_id(args.integrator))
        endpoints = store.endpoints(integrator.id, now=now)
        if args.json:
            _print_json([_endpoint_dict(endpoint) for endpoint in endpoints])
        elif not endpoints:
            print(f"No callback endpoints for {integrator.id}.")
        for endpoint in [] if args.json else endpoints:
            _print_endpoint(endpoint)
        return 0

    return _run(args, settings, act, changes=False)


def endpoint_remove(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        endpoint = store.remove_endpoint(checks.endpoint_id(args.endpoint),
                                         actor=operator_name(), now=now)
        print(f"removed endpoint {endpoint.id} of {endpoint.integrator}; recorded in the audit")
        return 0

    return _run(args, settings, act, changes=True)


def endpoint_rotate_secret(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        overlap = _overlap(args.overlap)
        endpoint, secret = store.rotate_secret(checks.endpoint_id(args.endpoint),
                                               overlap=overlap, actor=operator_name(), now=now)
        if len(endpoint.secrets) > 1:
            print(f"new signing secret for {endpoint.id}; callbacks carry both signatures "
                  f"until {_when(now + overlap)}; recorded in the audit")
        else:
            print(f"new signing secret for {endpoint.id}; the previous one signs nothing "
                  "more; recorded in the audit")
        _show_token(secret, "its new signing secret")
        return 0

    return _run(args, settings, act, changes=True)


def _endpoint_state(args: argparse.Namespace, settings: Settings, *, active: bool) -> int:
    from notifier.integrators import checks
    from notifier.integrators.model import EndpointState

    state = EndpointState.ACTIVE if active else EndpointState.DISABLED

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        reason = (args.reason or "").strip() or f"{'enabled' if active else 'disabled'} by " \
            "an operator"
        endpoint = store.set_endpoint_state(checks.endpoint_id(args.endpoint), state,
                                            reason=reason, actor=operator_name(), now=now)
        print(f"endpoint {endpoint.id} of {endpoint.integrator} is now {state.value}; "
              "recorded in the audit")
        return 0

    return _run(args, settings, act, changes=True)


def endpoint_enable(args: argparse.Namespace, settings: Settings) -> int:
    return _endpoint_state(args, settings, active=True)


def endpoint_disable(args: argparse.Namespace, settings: Settings) -> int:
    return _endpoint_state(args, settings, active=False)


def register(commands: Commands) -> None:
    """Add the ``integrators`` command group to ``commands``."""
    actions = add_group(
        commands, "integrators",
        summary="Add booking systems, their API tokens, locations and callback endpoints.",
        description="An integrator (a booking system) posts events for its own locations "
        "with its own API token, and receives callbacks at its endpoints. Tokens and "
        "signing secrets are shown once, when made. Every change is recorded in the "
        "integrators' audit with your user name. Needs NOTIFIER_REDIS_URL.",
    )

    def integrator(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("id", metavar="ID", help="the integrator's id, e.g. agenda-plus")

    def locations(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--location", metavar="LOCATION", action="append", required=True,
                         help="a location id it acts for (repeat for several)")

    def overlap(sub: argparse.ArgumentParser, what: str) -> None:
        sub.add_argument("--overlap", metavar="DURATION", default=DEFAULT_OVERLAP,
                         help=f"how long the previous {what} keeps working, from 0s to 30d "
                         f"(default: {DEFAULT_OVERLAP})")

    def as_json(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--json", action="store_true", help="print JSON instead of text")

    sub = add_action(actions, "add", integrators_add,
                     summary="Add an integrator and print its API token (once).")
    integrator(sub)
    sub.add_argument("name", metavar="NAME", help="what operators call it, e.g. 'Agenda Plus'")
    locations(sub)
    as_json(add_action(actions, "list", integrators_list, summary="List the integrators."))
    sub = add_action(actions, "show", integrators_show,
                     summary="Print an integrator, its tokens' dates and its endpoints.")
    integrator(sub)
    as_json(sub)
    sub = add_action(actions, "set-locations", integrators_set_locations,
                     summary="Replace the locations an integrator acts for.")
    integrator(sub)
    locations(sub)
    sub = add_action(
        actions, "rotate-token", integrators_rotate_token,
        summary="Make a new API token; the previous one works for the overlap.",
    )
    integrator(sub)
    overlap(sub, "token")
    integrator(add_action(
        actions, "remove", integrators_remove,
        summary="Remove an integrator: its tokens stop working, its endpoints go.",
    ))
    sub = add_action(actions, "audit", integrators_audit,
                     summary="Print the latest changes to integrators, newest first.")
    sub.add_argument("--integrator", metavar="ID", help="only this integrator's changes")
    sub.add_argument("--limit", type=_positive, default=50,
                     help="how many at most (default: 50)")
    as_json(sub)

    endpoints = add_group(
        actions, "endpoint",
        summary="Add, list, remove, enable or disable callback endpoints; rotate secrets.",
        description="Where an integrator receives its callbacks: an https URL, the event "
        "types it wants, and a signing secret (shown once).",
    )
    sub = add_action(endpoints, "add", endpoint_add,
                     summary="Add an endpoint to an integrator and print its secret (once).")
    sub.add_argument("integrator", metavar="INTEGRATOR", help="the integrator's id")
    sub.add_argument("url", metavar="URL", help="an https URL, e.g. https://example.org/hooks")
    sub.add_argument("--type", metavar="TYPE", action="append",
                     help="an event type it receives (repeat for several; default: all), "
                     "e.g. message.delivered")
    sub = add_action(endpoints, "list", endpoint_list, summary="List an integrator's endpoints.")
    sub.add_argument("integrator", metavar="INTEGRATOR", help="the integrator's id")
    as_json(sub)

    def endpoint(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("endpoint", metavar="ENDPOINT", help="the endpoint's id (ep_...)")

    endpoint(add_action(endpoints, "remove", endpoint_remove, summary="Remove an endpoint."))
    sub = add_action(
        endpoints, "rotate-secret", endpoint_rotate_secret,
        summary="Make a new signing secret; callbacks are signed with both for the overlap.",
    )
    endpoint(sub)
    overlap(sub, "secret")
    for name, run, summary in (
        ("enable", endpoint_enable, "Send callbacks to an endpoint again."),
        ("disable", endpoint_disable, "Stop sending callbacks to an endpoint."),
    ):
        sub = add_action(endpoints, name, run, summary=summary)
        endpoint(sub)
        sub.add_argument("--reason", help="why, for the audit")
