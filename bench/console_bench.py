"""Benchmark: the console's overview and Messages pages with a million deliveries and a
million scheduled messages in Redis.

In one run, against a private redis-server:
  1. fill it (server-side Lua loops) with N delivery records spread over 40 clinics and
     the last 7 days, each counted in its hour's counts hash as the delivery log does, and
     M scheduled messages (schedule sorted sets and pending hashes) spread over the next
     30 days; then the clinics' directory and, for each of the N records, what the real
     write path puts in the message index (planning's row, scheduled set and address set,
     then the record's move, through the gateway's own ``index_message``); eight records
     in a row share a patient (six to one phone number, two to one email address);
  2. sign in to the console (an unscoped admin, who sees everything) and time, through
     FastAPI's TestClient, many requests for the overview (24 h and 7-day periods), the
     Messages page (first page, filtered by status, status and reason, clinic and one day,
     kind, and the second page through its cursor), the search by a phone number and, as
     the baseline, the sign-in page of the same app. "cold" overview requests each read
     the delivery counts afresh (the clock moves past the console's 30 s reuse);
     "reused" ones share a recent reading (queues and the schedule are always read);
and print p50/p99 server times, the ratios to the baseline, and Redis memory (with the
index's bytes per indexed message).

    python bench/console_bench.py                       # 1,000,000 and 1,000,000
    python bench/console_bench.py --deliveries 20000 --scheduled 20000 --requests 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from notifier.local_redis import running_redis
from notifier.privacy import mask_address
from notifier.settings import Settings
from notifier.store.clinics import Clinic
from notifier.store.keys import Keys
from notifier.store.message_index import address_digest
from notifier.web.app import create_app
from notifier.web.console.passwords import hash_password

NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)
BATCH = 50_000
PASSWORD = "bench-password-123"
PREFIX = "notifier"
CLINICS = 40
RETENTION = 30 * 24 * 3600
# Records 8g .. 8g+7 are patient g's: channels email, sms, sms, voice twice over.
PER_PATIENT = 8
# The patient whose number the search types (with spaces, as an operator would).
SEARCHED = 12
ROW = "<tr data-message>"

# Record i of the fill, shared by the records' script and the index's: channel, kind,
# language, clinic, when it last changed (within the last 7 days), its final status, the
# provider's code (or the gateway's reason), and its send key.
_RECORD_OF = """
local channels = {'email', 'sms', 'sms', 'voice'}
local kinds = {'confirmation', 'reminder', 'reminder', 'modification', 'cancellation',
               'contact_change', 'no_show'}
local langs = {'fr', 'fr', 'fr', 'en'}
local function record_of(i, now)
  local r = {channel = channels[i % 4 + 1], kind = kinds[i % 7 + 1],
             lang = langs[i % 4 + 1], location = 'clinic-' .. (i % 40),
             at = now - (i * 7919) % (7 * 24 * 3600), final = 'delivered', reason = ''}
  if r.channel == 'email' then r.final = 'sent' end
  local outcome = i % 50
  if outcome == 0 then
    -- a failed text: a landline (Twilio 21614) or an unreachable phone (30003), half each
    r.final = 'failed'
    r.reason = (math.floor(i / 100) % 2 == 0) and '21614' or '30003'
  elseif outcome == 1 then r.final, r.reason = 'undelivered', '30005'
  elseif outcome == 2 then r.final, r.reason = 'suppressed', 'opted_out' end
  if r.channel == 'email' and (outcome == 0 or outcome == 1) then r.reason = '550' end
  r.reference = string.format('%010d', i % 400000)
  r.key = r.reference .. ':' .. r.kind .. ':' .. r.channel .. ':v' .. i
  return r
end
"""

# KEYS: none. ARGV: prefix, first index, count, now (epoch s), retention (s).
# Each status record i reached is counted in its hour's hash, as the delivery log's
# script does (status|channel|kind|lang|location|reason). A suppressed record keeps the
# gateway's reason in ``reason``, the others the provider's code in ``error_code``.
_FILL_DELIVERIES = _RECORD_OF + """
local prefix, first, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
for i = first, first + count - 1 do
  local r = record_of(i, now)
  local channel, kind, lang, location, at = r.channel, r.kind, r.lang, r.location, r.at
  local final, reason, reference = r.final, r.reason, r.reference
  local t = at
  local days = math.floor(t / 86400)
  local secs = t - days * 86400
  -- civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
                          - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  local hour = string.format('%04d%02d%02d%02d', y, m, d, math.floor(secs / 3600))
  local key = prefix .. ':delivery:' .. r.key
  redis.call('HSET', key, 'status', final, 'created_at', at, 'updated_at', at,
             'reference', reference, 'kind', kind, 'channel', channel, 'version', 1,
             'lang', lang, 'location', location, 'attempts', 1, 'provider_id', 'SM' .. i,
             final == 'suppressed' and 'reason' or 'error_code', reason)
  redis.call('EXPIRE', key, ttl)
  local stats = prefix .. ':stats:' .. hour
  local tail = '|' .. channel .. '|' .. kind .. '|' .. lang .. '|' .. location .. '|'
  if final ~= 'suppressed' then
    redis.call('HINCRBY', stats, 'accepted' .. tail, 1)
    if channel ~= 'email' and final ~= 'failed' then
      redis.call('HINCRBY', stats, 'sent' .. tail, 1)
    end
  end
  if final == 'sent' or final == 'delivered' then
    redis.call('HINCRBY', stats, final .. tail, 1)
  else
    redis.call('HINCRBY', stats, final .. tail .. reason, 1)
  end
  redis.call('EXPIRE', stats, 8 * 24 * 3600)
end
return count
"""

# What the real write path puts in the message index for one message planned at ``due``
# (epoch s) to an address (its mask and digest; '' for none) that then moved to
# ``status`` at ``at``: the gateway's own index_planned, as intake runs it for a new
# appointment, then its index_message (both in scripts/lib/message_index.lua), as
# move_delivery runs it. The record's intermediate moves (submitting, accepted...) leave
# nothing behind once it has moved on, so one move from '' writes what they all would.
_INDEX_ONE = (
    files("notifier.store").joinpath("scripts/lib/message_index.lua").read_text("utf-8")
    + """
local PLANNING_HORIZON = 366 * 86400
local function index_planned_and_moved(prefix, key, location, channel, masked, digest,
                                       due, status, at, ttl)
  index_planned(prefix, key, location, location, channel, masked, digest, due, due, ttl,
                PLANNING_HORIZON)
  index_message(prefix, key, prefix .. ':delivery:' .. key, '', status, at, ttl)
end
""")

# ARGV: prefix, send key, location, channel, masked address, its digest, due (epoch s),
# status, moved at (epoch s), retention (s). One message (the fill's check against the
# real write path).
INDEX_ONE = _INDEX_ONE + """
local a = ARGV
index_planned_and_moved(a[1], a[2], a[3], a[4], a[5], a[6], tonumber(a[7]), a[8],
                        tonumber(a[9]), tonumber(a[10]))
return 1
"""

# ARGV: prefix, first index, count, now (epoch s), retention (s), then for each patient of
# the batch (from first / 8): their phone's mask and digest, their email's mask and digest.
# Record i (its delivery record written already) was planned shortly before it last moved.
_FILL_INDEX = _RECORD_OF + _INDEX_ONE + """
local prefix, first, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local first_patient = math.floor(first / 8)
for i = first, first + count - 1 do
  local r = record_of(i, now)
  local at = 6 + 4 * (math.floor(i / 8) - first_patient)
  local masked, digest = ARGV[at], ARGV[at + 1]
  if r.channel == 'email' then masked, digest = ARGV[at + 2], ARGV[at + 3] end
  index_planned_and_moved(prefix, r.key, r.location, r.channel, masked, digest,
                          r.at - i % 60, r.final, r.at, ttl)
end
return count
"""

# ARGV: prefix, first index, count, now (epoch s). Message i is due within 30 days; its
# appointment's pending hash holds its payload, as Schedule.stage_changes writes it.
_FILL_SCHEDULE = """
local prefix, first, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local channels = {'email', 'sms', 'voice'}
for i = first, first + count - 1 do
  local channel = channels[i % 3 + 1]
  local reference = string.format('%010d', 1000000 + math.floor(i / 3))
  local due = now + (i * 104729) % (30 * 24 * 3600)
  local offset = (i % 2 == 0) and 259200 or 86400
  local slot = reference .. ':reminder:' .. channel .. ':' .. offset
  local payload = '{"reference":"' .. reference .. '","kind":"reminder","channel":"' ..
    channel .. '","version":1,"send_at":' .. due .. ',"deadline":' .. (due + 3600) ..
    ',"start":' .. (due + offset) .. ',"offset_seconds":' .. offset .. '}'
  redis.call('ZADD', prefix .. ':schedule:' .. channel, due, slot)
  redis.call('HSET', prefix .. ':pending:' .. reference, slot, payload)
end
return count
"""


def phone(patient: int) -> str:
    """Patient ``patient``'s mobile number (E.164, a valid Montréal number)."""
    return f"+1514{2_000_000 + patient}"


def email(patient: int) -> str:
    """Patient ``patient``'s email address."""
    return f"patient{patient}@example.org"


def patients(first: int, count: int) -> list[str]:
    """The address arguments of :data:`_FILL_INDEX` for records ``first`` .. ``first +
    count - 1``: per patient, the phone's mask and digest, then the email's."""
    out: list[str] = []
    for patient in range(first // PER_PATIENT, (first + count - 1) // PER_PATIENT + 1):
        for address in (phone(patient), email(patient)):
            out += [mask_address(address), address_digest(address)]
    return out


def fill(client: redis.Redis, script: str, total: int, label: str, *args: int,
         addresses: bool = False) -> None:
    """Run ``script`` over records 0 .. ``total`` - 1 in batches, and say how long it took.

    Parameters:
      client: the private Redis.
      script: a fill script taking prefix, first index, count, then ``args``.
      total: how many records.
      label: what the records are, for the line printed.
      args: the script's further arguments.
      addresses: also pass each batch's patients' addresses (:func:`patients`).
    """
    run = client.register_script(script)
    began = time.perf_counter()
    for first in range(0, total, BATCH):
        count = min(BATCH, total - first)
        extra = patients(first, count) if addresses else []
        run(args=[PREFIX, first, count, *args, *extra])
    seconds = time.perf_counter() - began
    print(f"filled {total:>10,} {label:<22} in {seconds:6.1f} s")


def timings(call: Callable[[], object], requests: int) -> list[float]:
    call()  # warm: templates compiled, scripts loaded
    out = []
    for _ in range(requests):
        began = time.perf_counter()
        call()
        out.append((time.perf_counter() - began) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rows_of(page: str) -> int:
    """How many messages a Messages page lists."""
    return page.count(ROW)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--scheduled", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if args.deliveries < 1000:
        parser.error("--deliveries: at least 1000 (each filter must find rows)")

    with tempfile.TemporaryDirectory() as tmp, running_redis(Path(tmp)) as server:
        client = redis.Redis.from_url(server.url)
        now = int(NOW.timestamp())
        fill(client, _FILL_DELIVERIES, args.deliveries, "delivery records", now, RETENTION)
        fill(client, _FILL_SCHEDULE, args.scheduled, "scheduled messages", now)
        keys = Keys(PREFIX)
        client.hset(keys.clinics, mapping={
            f"clinic-{n}": Clinic(f"clinic-{n}", f"Clinique {n:02d}", "America/Toronto")
            .packed() for n in range(CLINICS)})
        before = client.info("memory")["used_memory"]
        fill(client, _FILL_INDEX, args.deliveries, "indexed messages", now, RETENTION,
             addresses=True)
        index_bytes = client.info("memory")["used_memory"] - before
        memory = client.info("memory")
        print(f"redis: {client.dbsize():,} keys, used_memory {memory['used_memory_human']}; "
              f"message index {index_bytes / 2**20:,.1f} MiB, "
              f"{index_bytes / args.deliveries:,.0f} B per indexed message")

        settings = Settings(
            redis_url=server.url, api_token="t" * 32, console_secret_key="s" * 40,
            operators=f"bench:admin:*:{hash_password(PASSWORD)}",
            delivery_retention=dt.timedelta(seconds=RETENTION),
        )
        clock = [NOW]
        app = create_app(settings, redis=client, clock=lambda: clock[0])
        http = TestClient(app)
        form = http.get("/console/sign-in").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token
        signed = http.post("/console/sign-in", follow_redirects=False, data={
            "csrf": token[1], "name": "bench", "password": PASSWORD, "next": "/console/"})
        assert signed.status_code == 303, signed.status_code
        page = http.get("/console/?period=day")
        assert page.status_code == 200 and "Clinique 39" in page.text

        def get(path: str, *, cold: bool = False, rows: int = 0) -> Callable[[], object]:
            def call() -> None:
                if cold:  # past the console's 30 s reuse of delivery counts: read afresh
                    clock[0] += dt.timedelta(seconds=31)
                answer = http.get(path)
                assert answer.status_code == 200, (path, answer.status_code)
                # a page that lost its rows must not be timed as a fast one
                assert rows_of(answer.text) >= rows, (path, rows_of(answer.text))
            return call

        anonymous = TestClient(app)  # the sign-in page itself (a signed-in one redirects)

        def sign_in_page() -> None:
            assert anonymous.get("/console/sign-in").status_code == 200

        messages = "/console/messages"
        first = http.get(messages).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', first)
        following = re.search(r'<a href="([^"]+)" rel="next">', first)
        assert csrf and following and rows_of(first) == 50, "the Messages page lists nothing"
        second = html.unescape(following[1])
        day = (NOW - dt.timedelta(days=2)).date().isoformat()
        typed = re.sub(r"^\+1(\d{3})(\d{3})(\d{4})$", r"\1 \2 \3", phone(SEARCHED))

        def search() -> None:
            answer = http.post(f"{messages}/search",
                               data={"csrf": csrf[1], "address": typed})
            assert answer.status_code == 200 and rows_of(answer.text) == 6, \
                (answer.status_code, rows_of(answer.text))

        base = timings(sign_in_page, args.requests)
        results = {
            "sign-in page (static)": base,
            "overview 24 h, cold": timings(get("/console/?period=day", cold=True),
                                           args.requests),
            "overview 7 d, cold": timings(get("/console/?period=week", cold=True),
                                          args.requests),
            "overview 24 h, reused": timings(get("/console/?period=day"), args.requests),
            "overview 7 d, reused": timings(get("/console/?period=week"), args.requests),
            "messages, first page": timings(get(messages, rows=50), args.requests),
            "messages, second page": timings(get(second, rows=50), args.requests),
            "messages, failed": timings(get(f"{messages}?status=failed", rows=50),
                                        args.requests),
            "messages, failed+landline": timings(
                get(f"{messages}?status=failed&reason=landline", rows=1), args.requests),
            "messages, clinic+1 day": timings(
                get(f"{messages}?clinic=clinic-7&from={day}&to={day}", rows=50),
                args.requests),
            "messages, kind": timings(get(f"{messages}?kind=cancellation", rows=50),
                                      args.requests),
            "messages, search phone": timings(search, args.requests),
        }
        print(f"\n{args.requests} requests each (TestClient, in-process):")
        print(f"{'page':<26} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'x p50':>7}")
        for name, values in results.items():
            print(f"{name:<26} {p(values, .5):8.2f} {p(values, .99):8.2f} "
                  f"{statistics.fmean(values):8.2f} {p(values, .5) / p(base, .5):7.1f}")
        client.close()


if __name__ == "__main__":
    main()
