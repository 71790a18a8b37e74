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
    from redis import Redis

    from notifier.integrators.model import Endpoint, Integrator
    from notifier.operations.callbacks import EndpointReport
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
        reports, complete = _reports(store.redis, settings, endpoints)
        if args.json:
            _print_json({**_integrator_dict(integrator),
                         "token_issued_at": tokens.issued_at.isoformat(),
                         "previous_token_until": tokens.previous_until.isoformat()
                         if tokens.previous_until else None,
                         "endpoints": [_endpoint_dict(r.endpoint) | r.to_dict()
                                       for r in reports]})
            return 0
        print(f"{integrator.id}: {integrator.name}")
        print(f"  locations: {', '.join(sorted(integrator.locations))}")
        print(f"  added: {_when(integrator.created_at)}")
        print(f"  token issued: {_when(tokens.issued_at)}")
        if tokens.previous_until:
            print(f"  previous token works until {_when(tokens.previous_until)}")
        for report in reports:
            _print_endpoint(report.endpoint, report, complete=complete)
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


def _print_endpoint(endpoint: Endpoint, report: EndpointReport | None = None, *,
                    complete: bool = True) -> None:
    from notifier.integrators.model import EVENT_TYPES

    types = ", ".join(t for t in EVENT_TYPES if t in endpoint.types)
    rotation = " (two signing secrets until the rotation's overlap ends)" \
        if len(endpoint.secrets) > 1 else ""
    print(f"  {endpoint.id}  {endpoint.state.value:<9} {endpoint.url}{rotation}")
    print(f"    types: {types}")
    if report is not None:
        for line in _report_lines(report, complete=complete):
            print(f"    {line}")


def _iso_when(text: str | None) -> str:
    return _when(dt.datetime.fromisoformat(text)) if text else "-"


def _report_lines(report: EndpointReport, *, complete: bool) -> list[str]:
    """An endpoint's health, backlog and, when it needs one, the operator's next step."""
    from notifier.integrators.model import EndpointState

    health, endpoint = report.health, report.endpoint
    last = (f"last answer {health.last_answer} at {_iso_when(health.last_at)}"
            if health.last_answer else "no answer yet")
    failing = f"; failing since {_iso_when(health.failing_since)}" \
        if health.failing_since else ""
    at_least = "" if complete else "at least "
    lines = [f"health: {health.delivered} delivered, {health.failed} failed; {last}"
             f"{failing}; {health.busy} in flight",
             f"callbacks: {at_least}{report.waiting} waiting, {at_least}{report.dead} given up"]
    if endpoint.state is not EndpointState.ACTIVE:
        why = f": {report.state_reason}" if report.state_reason else ""
        lines.append(f"{endpoint.state.value} since {_when(report.state_since)}{why}")
    lines += [f"next: {step}" for step in _next_steps(report)]
    return lines


def _next_steps(report: EndpointReport) -> list[str]:
    from notifier.integrators.model import EndpointState

    endpoint = report.endpoint
    failing = report.health.failing_since
    since = dt.datetime.fromisoformat(failing) if failing else report.state_since
    when = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ") if since else "<time>"
    recover = f"'notifier integrators recover --since {when} --endpoint {endpoint.id}'"
    if endpoint.state is EndpointState.SUSPENDED:
        return [f"once its integrator fixed it, 'notifier integrators endpoint test "
                f"{endpoint.id}' makes it active again, then {recover} sends what it missed"]
    if endpoint.state is EndpointState.DISABLED:
        return [f"when its integrator wants callbacks again, 'notifier integrators endpoint "
                f"enable {endpoint.id}'"]
    if report.dead:
        return [f"{recover} sends its given-up callbacks again"]
    return []


def _reports(redis: Redis, settings: Settings,
             endpoints: list[Endpoint]) -> tuple[list[EndpointReport], bool]:
    from notifier.operations.callbacks import endpoint_reports

    return endpoint_reports(redis, settings, endpoints)


def endpoint_add(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        endpoint, secret = store.add_endpoint(
            checks.integrator_id(args.integrator),
            url=checks.endpoint_url(args.url, allow_http=settings.callbacks_allow_private),
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
        reports, complete = _reports(store.redis, settings, endpoints)
        if args.json:
            _print_json([_endpoint_dict(r.endpoint) | r.to_dict() for r in reports])
        elif not endpoints:
            print(f"No callback endpoints for {integrator.id}.")
        for report in [] if args.json else reports:
            _print_endpoint(report.endpoint, report, complete=complete)
        return 0

    return _run(args, settings, act, changes=False)


def endpoint_show(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks
    from notifier.store.integrators import unknown_endpoint

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        endpoint = store.get_endpoint(checks.endpoint_id(args.endpoint), now=now)
        if endpoint is None:
            raise unknown_endpoint(args.endpoint)
        (report,), complete = _reports(store.redis, settings, [endpoint])
        if args.json:
            _print_json(_endpoint_dict(endpoint) | report.to_dict())
            return 0
        print(f"{endpoint.id} of {endpoint.integrator}:")
        _print_endpoint(endpoint, report, complete=complete)
        return 0

    return _run(args, settings, act, changes=False)


def endpoint_test(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.callbacks.endpoint_test import describe_attempt, send_endpoint_test
    from notifier.integrators import checks
    from notifier.integrators.model import EndpointState
    from notifier.store.callback_deliveries import CallbackDeliveries
    from notifier.store.integrators import unknown_endpoint
    from notifier.store.keys import Keys

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        endpoint = store.get_endpoint(checks.endpoint_id(args.endpoint), now=now)
        if endpoint is None:
            raise unknown_endpoint(args.endpoint)
        deliveries = CallbackDeliveries(store.redis, keys=Keys(settings.queue_prefix))
        failing_since = deliveries.health(endpoint.id).failing_since
        attempt = send_endpoint_test(endpoint, now=now,
                                     allow_private=settings.callbacks_allow_private)
        answer = str(attempt.status) if attempt.status is not None else str(attempt.failure)
        deliveries.tested(endpoint.id, answer=answer, accepted=attempt.delivered, now=now)
        print(f"test event to {endpoint.id} ({endpoint.url}): {describe_attempt(attempt)}")
        if not attempt.delivered:
            if endpoint.state is EndpointState.SUSPENDED:
                print(f"endpoint {endpoint.id} stays suspended; test it again once its "
                      "integrator fixed it")
            return 1
        if endpoint.state is EndpointState.SUSPENDED:
            store.set_endpoint_state(endpoint.id, EndpointState.ACTIVE,
                                     reason="accepted a test event", actor=operator_name(),
                                     now=now)
            since = dt.datetime.fromisoformat(failing_since) if failing_since else None
            when = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ") if since else "<time>"
            print(f"endpoint {endpoint.id} of {endpoint.integrator} is active again; recorded "
                  "in the audit")
            print(f"  send it what it missed: 'notifier integrators recover --since {when} "
                  f"--endpoint {endpoint.id}'")
        elif endpoint.state is EndpointState.DISABLED:
            print(f"endpoint {endpoint.id} stays disabled; 'notifier integrators endpoint "
                  f"enable {endpoint.id}' sends it callbacks again")
        return 0

    return _run(args, settings, act, changes=False)


def _since(text: str, now: dt.datetime) -> dt.datetime:
    """``--since``: a time (UTC unless it names its offset) or a duration back from now."""
    from notifier.integrators.checks import IntegratorProblem
    from notifier.settings import parse_duration

    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        since = dt.datetime.fromisoformat(text)
    except ValueError:
        raise IntegratorProblem(
            f"--since {text[:40]!r} is neither a time (e.g. 2026-03-01T08:00Z, UTC unless "
            "it names its offset) nor a duration back from now (e.g. 3d, 12h, 90m)"
        ) from None
    since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
    if since > now:
        raise IntegratorProblem(f"--since {text[:40]!r} is in the future")
    return since


def integrators_recover(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks
    from notifier.integrators.model import EndpointState
    from notifier.store.callback_deliveries import CallbackDeliveries, delivery_parts
    from notifier.store.integrators import unknown_endpoint
    from notifier.store.keys import Keys

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        since = _since(args.since, now)
        only = checks.endpoint_id(args.endpoint) if args.endpoint else None
        if only is not None and store.get_endpoint(only, now=now) is None:
            raise unknown_endpoint(only)
        deliveries = CallbackDeliveries(store.redis, keys=Keys(settings.queue_prefix))
        groups: dict[str, list[str]] = {}
        for delivery in deliveries.dead(since=since):
            endpoint_id = delivery_parts(delivery)[0]
            if only is None or endpoint_id == only:
                groups.setdefault(endpoint_id, []).append(delivery)
        if not groups:
            print(f"No given-up callbacks since {_when(since)}"
                  f"{' for ' + only if only else ''}; nothing to send.")
            return 0
        would = "would be " if args.dry_run else ""
        for endpoint_id, dead in sorted(groups.items()):
            endpoint = store.get_endpoint(endpoint_id, now=now)
            count = len(dead)
            if endpoint is None:
                if not args.dry_run:
                    count = deliveries.forget(dead)
                print(f"{endpoint_id}: {count} given-up callback(s) {would}forgotten: the "
                      "endpoint was removed")
            elif endpoint.state is EndpointState.SUSPENDED:
                print(f"{endpoint_id}: {count} given-up callback(s) kept: the endpoint is "
                      f"suspended; 'notifier integrators endpoint test {endpoint_id}' makes "
                      "it active again once it answers, then recover")
            elif endpoint.state is EndpointState.DISABLED:
                print(f"{endpoint_id}: {count} given-up callback(s) kept: the endpoint is "
                      f"disabled; 'notifier integrators endpoint enable {endpoint_id}' "
                      "first, then recover")
            else:
                if not args.dry_run:
                    count = deliveries.recover(dead, due=now)
                    store.record_recovery(endpoint, count=count, since=since,
                                          actor=operator_name(), now=now)
                print(f"{endpoint_id}: {count} given-up callback(s) {would}sent again "
                      f"now, each with a fresh set of retries"
                      f"{'' if args.dry_run else '; recorded in the audit'}")
        if args.dry_run:
            print("nothing changed (--dry-run)")
        return 0

    return _run(args, settings, act, changes=not args.dry_run)


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


def endpoint_types(args: argparse.Namespace, settings: Settings) -> int:
    from notifier.integrators import checks
    from notifier.integrators.model import EVENT_TYPES

    def act(store: IntegratorStore, now: dt.datetime) -> int:
        endpoint, before = store.change_endpoint_types(
            checks.endpoint_id(args.endpoint), add=checks.known_event_types(args.add_type or ()),
            remove=checks.known_event_types(args.remove_type or ()), actor=operator_name(),
            now=now)
        types = ", ".join(t for t in EVENT_TYPES if t in endpoint.types)
        if endpoint.types == before:
            print(f"endpoint {endpoint.id} of {endpoint.integrator} already receives {types}; "
                  "nothing changed")
            return 0
        print(f"endpoint {endpoint.id} of {endpoint.integrator} now receives {types}; "
              "recorded in the audit")
        for what, changed in (("added", endpoint.types - before),
                              ("removed", before - endpoint.types)):
            if changed:
                print(f"  {what}: {', '.join(t for t in EVENT_TYPES if t in changed)}")
        print("  applies to the events from now on (none from before is sent for a type "
              "added)")
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
    sub = add_action(
        actions, "recover", integrators_recover,
        summary="Send given-up callbacks again, with a fresh set of retries.",
        description="Send again the callbacks given up since a time (after about three "
        "days of retries, or kept while their endpoint was suspended), to active endpoints "
        "only: those of a suspended or disabled endpoint are kept until it is active. "
        "Recorded in the audit.",
    )
    sub.add_argument("--since", metavar="TIME", required=True,
                     help="those given up at this time or later: a UTC time "
                     "(2026-03-01T08:00Z) or a duration back from now (3d, 12h)")
    sub.add_argument("--endpoint", metavar="ENDPOINT", help="only this endpoint's (ep_...)")
    sub.add_argument("--dry-run", action="store_true",
                     help="say what would be sent, change nothing")
    sub = add_action(actions, "audit", integrators_audit,
                     summary="Print the latest changes to integrators, newest first.")
    sub.add_argument("--integrator", metavar="ID", help="only this integrator's changes")
    sub.add_argument("--limit", type=_positive, default=50,
                     help="how many at most (default: 50)")
    as_json(sub)

    endpoints = add_group(
        actions, "endpoint",
        summary="Add, list, show, test, remove, enable or disable callback endpoints; "
        "change their event types; rotate secrets.",
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

    sub = add_action(endpoints, "show", endpoint_show,
                     summary="Print an endpoint, its health and the callbacks waiting for it.")
    endpoint(sub)
    as_json(sub)
    endpoint(add_action(
        endpoints, "test", endpoint_test,
        summary="Send an endpoint a signed test event and print its answer.",
        description="Send an endpoint a signed endpoint.test event (no patient data) and "
        "print its answer. A suspended endpoint that accepts it (2xx) is active again, "
        "recorded in the audit. Exit status 1 when it does not accept it.",
    ))
    endpoint(add_action(endpoints, "remove", endpoint_remove, summary="Remove an endpoint."))
    sub = add_action(
        endpoints, "types", endpoint_types,
        summary="Add event types to an endpoint, or remove some; the others stay.",
        description="Change the event types an endpoint receives, in place: those named "
        "with --add-type are added, those named with --remove-type removed, every other "
        "one kept (an endpoint made before a type existed receives it once added). Applies "
        "to the events from then on. Recorded in the audit.",
    )
    endpoint(sub)
    sub.add_argument("--add-type", metavar="TYPE", action="append",
                     help="an event type to receive too (repeat for several), e.g. "
                     "appointment.patient_confirmed")
    sub.add_argument("--remove-type", metavar="TYPE", action="append",
                     help="an event type to receive no more (repeat for several)")
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
