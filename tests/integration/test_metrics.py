"""GET /readyz and GET /metrics through the real app, on a gateway with real workers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from redis.backoff import NoBackoff
from redis.retry import Retry

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel, Kind
from notifier.errors import SettingsError
from notifier.integrators.model import EndpointState
from notifier.local_redis import free_port
from notifier.logs import redact
from notifier.names import INTAKE_QUEUE
from notifier.planning.entries import PlannedMessage
from notifier.scheduler import Scheduler
from notifier.settings import Settings, load_settings
from notifier.store.callback_deliveries import CallbackDeliveries, Fate, delivery_name
from notifier.store.deliveries import DeliveryLog
from notifier.store.intake import Intake
from notifier.store.integrators import IntegratorStore
from notifier.store.keys import Keys
from notifier.store.optouts import OptOutStore
from notifier.store.provider_latency import ProviderLatency
from notifier.web import create_app
from notifier.web.examples import BOOKED
from tests.factories import event
from tests.integration.conftest import Gateway

TOKEN = "metrics-test-token-0123456789"
INTAKE_TOKEN = "intake-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OPTED_OUT = "+15145550123"
ALERTS = Path(__file__).parents[2] / "config" / "prometheus-alerts.yml"
PATIENT_DATA = ("Émilie", "Tremblay", "+15145550188", "+15145550199",
                "emilie.tremblay@example.org", OPTED_OUT, "5145550123", "clinical detail")


@pytest.fixture
def web(gateway: Gateway) -> Iterator[TestClient]:
    # Dramatiq's heartbeats are wall-clock times: the gateway's clock starts at the real now.
    gateway.clock.set(dt.datetime.now(dt.UTC))
    settings = Settings(**{**gateway.settings.model_dump(), "api_token": INTAKE_TOKEN,
                           "metrics_token": TOKEN})
    app = create_app(settings, redis=gateway.client, clock=gateway.clock)
    with TestClient(app) as client:
        yield client


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


# /readyz ---------------------------------------------------------------------------------


def test_not_ready_until_a_scheduler_has_run(web: TestClient, gateway: Gateway) -> None:
    answer = web.get("/readyz")

    assert answer.status_code == 503
    assert answer.json()["reason"] == "scheduler_never_ran"
    assert web.get("/healthz").status_code == 200


def test_ready_after_a_pass_and_not_ready_when_it_is_old(
    web: TestClient, gateway: Gateway
) -> None:
    Scheduler(gateway.client, gateway.settings, clock=gateway.clock).run_once()
    gateway.clock.advance(dt.timedelta(seconds=59))

    ready = web.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["scheduler_age_seconds"] == 59

    gateway.clock.advance(dt.timedelta(seconds=2))
    stale = web.get("/readyz")
    assert stale.status_code == 503
    assert stale.json()["reason"] == "scheduler_stale"
    assert stale.json()["scheduler_age_seconds"] == 61


def test_not_ready_without_redis(gateway: Gateway) -> None:
    unreachable = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    settings = Settings(api_token=INTAKE_TOKEN, metrics_token=TOKEN)
    with TestClient(create_app(settings, redis=unreachable)) as client:
        answer = client.get("/readyz")
        metrics = client.get("/metrics", headers=AUTH)

    assert answer.status_code == 503
    assert answer.json()["reason"] == "redis_unreachable"
    assert metrics.status_code == 200
    assert samples(metrics.text) == {("notifier_redis_up", ()): 0.0}


# /metrics --------------------------------------------------------------------------------


def test_metrics_need_the_token(web: TestClient) -> None:
    assert web.get("/metrics").status_code == 401
    assert web.get("/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 401


def test_each_token_opens_its_own_routes_only(web: TestClient, gateway: Gateway) -> None:
    intake = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
    # The intake token (which sends messages to patients) does not read the metrics...
    assert web.get("/metrics", headers=intake).status_code == 401
    assert web.get("/metrics", headers=AUTH).status_code == 200
    # ...and the scraper's read-only token cannot send an event.
    before = gateway.client.dbsize()
    assert web.post("/v1/events", headers=AUTH, json=BOOKED).status_code == 401
    assert gateway.client.dbsize() == before
    assert web.post("/v1/events", headers=intake, json=BOOKED).status_code == 202


def test_without_a_metrics_token_no_token_reads_the_metrics(gateway: Gateway) -> None:
    settings = Settings(**{**gateway.settings.model_dump(), "api_token": INTAKE_TOKEN})
    with TestClient(create_app(settings, redis=gateway.client)) as client:
        for headers in ({}, {"Authorization": f"Bearer {INTAKE_TOKEN}"}):
            assert client.get("/metrics", headers=headers).status_code == 401


@pytest.mark.parametrize(("token", "message"), [
    ("short", "at least 16 characters"),
    (INTAKE_TOKEN, "must differ from NOTIFIER_API_TOKEN"),
])
def test_a_weak_or_shared_metrics_token_stops_the_process(token: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as stop:
        load_settings(api_token=INTAKE_TOKEN, metrics_token=token)
    assert token not in str(stop.value)


@pytest.fixture
def busy(web: TestClient, gateway: Gateway) -> Gateway:
    """A booked appointment (its messages in the schedule), a refused event (a dead
    letter), an opt-out, deliveries with outcomes, and a scheduler pass 10 s ago."""
    now = gateway.clock()
    Intake(gateway.client, gateway.settings).accept(
        event("booked", start=now + dt.timedelta(days=7), at=now, modes=("sms", "email")), now)
    refused = event("booked", start=now + dt.timedelta(days=7), at=now,
                    reference="0000000002").model_dump(mode="json")
    refused["appointment"]["reason_for_visit"] = "clinical detail"
    gateway.actors.intake.send(refused)
    gateway.drain(INTAKE_QUEUE)
    OptOutStore(gateway.client, gateway.settings).opt_out(
        OPTED_OUT, channel=Channel.SMS, source="operator", reason="asked", now=now)
    log = DeliveryLog(gateway.client, keys=Keys(), retention=dt.timedelta(days=1))
    for number, (status, code) in enumerate([(DeliveryStatus.DELIVERED, None),
                                             (DeliveryStatus.DELIVERED, None),
                                             (DeliveryStatus.DELIVERED, None),
                                             (DeliveryStatus.UNDELIVERED, "30003")]):
        message = PlannedMessage(reference=f"{number + 10:010d}", kind=Kind.REMINDER,
                                 channel=Channel.SMS, version=1, send_at=now,
                                 deadline=now + dt.timedelta(hours=1),
                                 start=now + dt.timedelta(days=1))
        log.advance(message.key, status, now, message=message,
                    fields={"error_code": code} if code else None)
    gateway.client.set(Keys().scheduler_heartbeat,
                       (now - dt.timedelta(seconds=10)).isoformat())
    latency = ProviderLatency(gateway.client, keys=Keys())
    for seconds in (0.02, 0.3, 0.3, 12.0):  # the last one a provider timeout
        latency.record(Channel.SMS, seconds)
    latency.record(Channel.EMAIL, 0.04)

    return gateway


def test_metrics_describe_the_gateway_without_patient_data(
    web: TestClient, busy: Gateway
) -> None:
    now = busy.clock()
    answer = web.get("/metrics", headers=AUTH)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(answer.text)
    assert value(found, "notifier_redis_up") == 1
    assert value(found, "notifier_queue_messages", queue="intake", state="dead") == 1
    assert value(found, "notifier_queue_messages", queue="intake", state="ready") == 0
    assert value(found, "notifier_queue_messages", queue="send", state="delayed") == 0
    assert value(found, "notifier_workers_live") == 1  # the drain's worker
    assert value(found, "notifier_scheduler_last_run_age_seconds") == 10
    assert value(found, "notifier_scheduler_last_run_timestamp_seconds") == pytest.approx(
        now.timestamp() - 10)
    assert value(found, "notifier_schedule_messages", channel="sms") == 3  # now, J-3, J-1
    assert value(found, "notifier_schedule_messages", channel="voice") == 0
    assert value(found, "notifier_schedule_overdue_messages") == 0
    assert value(found, "notifier_schedule_due_next_hour_messages") == 2
    assert value(found, "notifier_deliveries_last_hour", status="delivered", channel="sms") == 3
    assert value(found, "notifier_delivery_failures_last_hour", status="undelivered",
                 channel="sms", reason="30003") == 1
    assert value(found, "notifier_delivery_rate_last_hour") == 0.75
    assert value(found, "notifier_opt_outs", channel="sms") == 1
    assert value(found, "notifier_opt_outs", channel="voice") == 0
    assert value(found, "notifier_opt_out_changes_total") == 1
    sms = {"channel": "sms"}
    assert value(found, "notifier_provider_latency_seconds_count", **sms) == 4
    assert value(found, "notifier_provider_latency_seconds_sum", **sms) == pytest.approx(12.62)
    assert value(found, "notifier_provider_latency_seconds_bucket", le="0.05", **sms) == 1
    assert value(found, "notifier_provider_latency_seconds_bucket", le="0.5", **sms) == 3
    assert value(found, "notifier_provider_latency_seconds_bucket", le="10.0", **sms) == 3
    assert value(found, "notifier_provider_latency_seconds_bucket", le="+Inf", **sms) == 4
    assert value(found, "notifier_provider_latency_seconds_count", channel="email") == 1
    assert ("notifier_provider_latency_seconds_count", (("channel", "voice"),)) not in found

    for secret in PATIENT_DATA:
        assert secret not in answer.text
    # Nothing shaped like a phone number or an email either: labels are words and codes.
    assert redact(answer.text) == answer.text
    labels = {v for (_, pairs) in found for (k, v) in pairs if k != "le"}
    assert all(re.fullmatch(r"[a-z_]+|[0-9]{3,5}", label) for label in labels), labels


def test_metrics_count_the_webhooks_answers_by_result(web: TestClient, busy: Gateway) -> None:
    form = {"MessageSid": "SM" + "0" * 32, "From": OPTED_OUT, "Body": "ARRET"}
    for _ in range(2):  # unsigned: refused
        assert web.post("/v1/twilio/sms", data=form).status_code == 403
    assert web.post("/v1/twilio/status", data={"MessageSid": "x"}).status_code == 403
    web.post("/v1/twilio/made-up", data=form)

    found = samples(web.get("/metrics", headers=AUTH).text)

    def webhooks(webhook: str, result: str) -> float:
        return value(found, "notifier_webhook_requests_total", webhook=webhook, result=result)

    assert webhooks("sms", "refused") == 2
    assert webhooks("status", "refused") == 1
    assert webhooks("other", "invalid") == 1  # 404 or 405: counted, not as a new label
    assert not any(name == "notifier_webhook_requests_total" and dict(labels)["webhook"]
                   not in ("sms", "status", "other") for name, labels in found)


def test_the_sample_alerts_parse_and_use_only_metrics_we_serve(
    web: TestClient, busy: Gateway
) -> None:
    yaml = pytest.importorskip("yaml")
    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    served = {name for name, _ in samples(web.get("/metrics", headers=AUTH).text)}

    (group,) = rules["groups"]
    alerts = {rule["alert"]: rule for rule in group["rules"]}
    assert {"NotifierQueueGrowing", "NotifierDeliveryRateLow", "NotifierDeadLetters",
            "NotifierSchedulerNotRunning", "NotifierNoLiveWorkers", "NotifierCallbackLate",
            "NotifierCallbackEndpointSuspended"} <= set(alerts)
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert rule["annotations"]["summary"], name
        used = set(re.findall(r"notifier_[a-z_]+", rule["expr"]))
        assert used and used <= served, (name, used - served)


def test_metrics_tell_the_callbacks_state_summed_over_endpoints(
    web: TestClient, gateway: Gateway
) -> None:
    now = gateway.clock()
    store = IntegratorStore(gateway.client, gateway.settings)
    store.add("agenda-plus", name="Agenda Plus", locations=frozenset({"plateau"}),
              actor="tests", now=now)
    first, second, suspended = (
        store.add_endpoint("agenda-plus", url=f"https://agenda.example/{n}",
                           types=frozenset({"message.sent"}), actor="tests", now=now)[0]
        for n in range(3))
    store.set_endpoint_state(suspended.id, EndpointState.SUSPENDED, reason="failing", now=now)
    deliveries = CallbackDeliveries(gateway.client, keys=Keys())
    deliveries.fan_out(read_cursor=None, last="1-0", due=now - dt.timedelta(minutes=40),
                       deliveries=[delivery_name(first.id, "evt_1-0")])
    deliveries.fan_out(read_cursor="1-0", last="2-0", due=now + dt.timedelta(hours=2),
                       deliveries=[delivery_name(second.id, "evt_2-0")])
    for endpoint, event_id, fate in ((first, "evt_3-0", Fate.DELIVERED),
                                     (second, "evt_4-0", Fate.DELIVERED),
                                     (second, "evt_5-0", Fate.DEAD)):
        deliveries.attempted(delivery_name(endpoint.id, event_id), fate, now=now, answer="x",
                             suspend_after=dt.timedelta(days=3))

    answer = web.get("/metrics", headers=AUTH)
    found = samples(answer.text)

    assert value(found, "notifier_callbacks_waiting") == 2
    assert value(found, "notifier_callbacks_oldest_due_age_seconds") == 40 * 60
    assert value(found, "notifier_callbacks_dead") == 1
    assert value(found, "notifier_callback_endpoints", state="active") == 2
    assert value(found, "notifier_callback_endpoints", state="suspended") == 1
    assert value(found, "notifier_callback_endpoints", state="disabled") == 0
    assert value(found, "notifier_callbacks_delivered_total") == 2
    assert value(found, "notifier_callback_attempts_failed_total") == 1
    for endpoint in (first, second, suspended):
        assert endpoint.id not in answer.text and "agenda" not in answer.text


def test_with_no_callback_due_the_oldest_due_age_is_zero(web: TestClient) -> None:
    found = samples(web.get("/metrics", headers=AUTH).text)

    assert value(found, "notifier_callbacks_oldest_due_age_seconds") == 0
    assert value(found, "notifier_callbacks_waiting") == 0
    assert value(found, "notifier_callback_endpoints", state="suspended") == 0
