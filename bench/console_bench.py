"""Benchmark: the console's overview page with a million deliveries and a million
scheduled messages in Redis.

In one run, against a private redis-server:
  1. fill it (server-side Lua loops) with N delivery records spread over the last 7 days,
     each counted in its hour's counts hash as the delivery log does, and M scheduled
     messages (schedule sorted sets and pending hashes) spread over the next 30 days;
  2. sign in to the console (an unscoped admin, who sees everything) and time, through
     FastAPI's TestClient, many requests for the overview (24 h and 7-day periods) and,
     as the baseline, for the sign-in page of the same app. "cold" requests each read
     the delivery counts afresh (the clock moves past the console's 30 s reuse);
     "reused" ones share a recent reading (queues and the schedule are always read);
and print p50/p99 server times, the ratios to the baseline, and Redis memory.

    python bench/console_bench.py                       # 1,000,000 and 1,000,000
    python bench/console_bench.py --deliveries 100000 --scheduled 100000 --requests 50
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from notifier.local_redis import running_redis
from notifier.settings import Settings
from notifier.web.app import create_app
from notifier.web.console.passwords import hash_password

NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)
BATCH = 50_000
PASSWORD = "bench-password-123"

# KEYS: none. ARGV: prefix, first index, count, now (epoch s), retention (s).
# Record i: channel, kind, language, clinic and outcome from i; updated within the last
# 7 days. Each status it reached is counted in its hour's hash, as the delivery log's
# script does (status|channel|kind|lang|location|reason).
_FILL_DELIVERIES = """
local prefix, first, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local channels = {'email', 'sms', 'sms', 'voice'}
local kinds = {'confirmation', 'reminder', 'reminder', 'modification', 'cancellation',
               'contact_change', 'no_show'}
local langs = {'fr', 'fr', 'fr', 'en'}
for i = first, first + count - 1 do
  local channel = channels[i % 4 + 1]
  local kind = kinds[i % 7 + 1]
  local lang = langs[i % 4 + 1]
  local location = 'clinic-' .. (i % 40)
  local at = now - (i * 7919) % (7 * 24 * 3600)
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
  local outcome = i % 50
  local final, reason = 'delivered', ''
  if channel == 'email' then final = 'sent' end
  if outcome == 0 then final, reason = 'failed', '30003'
  elseif outcome == 1 then final, reason = 'undelivered', '30005'
  elseif outcome == 2 then final, reason = 'suppressed', 'opted_out' end
  if channel == 'email' and (outcome == 0 or outcome == 1) then reason = '550' end
  local reference = string.format('%010d', i % 400000)
  local key = prefix .. ':delivery:' .. reference .. ':' .. kind .. ':' .. channel .. ':v' .. i
  redis.call('HSET', key, 'status', final, 'created_at', at, 'updated_at', at,
             'reference', reference, 'kind', kind, 'channel', channel, 'version', 1,
             'lang', lang, 'location', location, 'attempts', 1,
             'provider_id', 'SM' .. i, 'error_code', reason)
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


def fill(client: redis.Redis, script: str, total: int, label: str, *args: int) -> None:
    run = client.register_script(script)
    began = time.perf_counter()
    for first in range(0, total, BATCH):
        run(args=["notifier", first, min(BATCH, total - first), *args])
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--scheduled", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, running_redis(Path(tmp)) as server:
        client = redis.Redis.from_url(server.url)
        now = int(NOW.timestamp())
        fill(client, _FILL_DELIVERIES, args.deliveries, "delivery records", now,
             30 * 24 * 3600)
        fill(client, _FILL_SCHEDULE, args.scheduled, "scheduled messages", now)
        memory = client.info("memory")
        print(f"redis: {client.dbsize():,} keys, used_memory {memory['used_memory_human']}")

        settings = Settings(
            redis_url=server.url, api_token="t" * 32, console_secret_key="s" * 40,
            operators=f"bench:admin:*:{hash_password(PASSWORD)}",
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
        assert page.status_code == 200 and "clinic-39" in page.text

        def get(path: str, *, cold: bool = False) -> Callable[[], object]:
            def call() -> None:
                if cold:  # past the console's 30 s reuse of delivery counts: read afresh
                    clock[0] += dt.timedelta(seconds=31)
                answer = http.get(path)
                assert answer.status_code == 200
            return call

        anonymous = TestClient(app)  # the sign-in page itself (a signed-in one redirects)

        def sign_in_page() -> None:
            assert anonymous.get("/console/sign-in").status_code == 200

        base = timings(sign_in_page, args.requests)
        results = {
            "sign-in page (static)": base,
            "overview 24 h, cold": timings(get("/console/?period=day", cold=True),
                                           args.requests),
            "overview 7 d, cold": timings(get("/console/?period=week", cold=True),
                                          args.requests),
            "overview 24 h, reused": timings(get("/console/?period=day"), args.requests),
            "overview 7 d, reused": timings(get("/console/?period=week"), args.requests),
        }
        print(f"\n{args.requests} requests each (TestClient, in-process):")
        print(f"{'page':<26} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'x p50':>7}")
        for name, values in results.items():
            print(f"{name:<26} {p(values, .5):8.2f} {p(values, .99):8.2f} "
                  f"{statistics.fmean(values):8.2f} {p(values, .5) / p(base, .5):7.1f}")
        client.close()


if __name__ == "__main__":
    main()
