"""Outcome figures from a clinic-month's counts, the months shown, and the CSV export's
guard against formulas."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from notifier.domain import Lang
from notifier.operations.outcomes import Ratio, figures, months_back
from notifier.web.console.csv_files import spreadsheet_safe
from notifier.web.console.i18n import Words
from notifier.web.console.outcomes_page import outcome_cell

TORONTO = ZoneInfo("America/Toronto")


def test_rates_count_email_sent_as_delivered_and_ignore_messages_still_in_flight() -> None:
    counts = {"delivery|sms|delivered": 90, "delivery|sms|undelivered": 8,
              "delivery|sms|failed": 2, "delivery|sms|sent": 95, "delivery|sms|accepted": 99,
              "delivery|email|sent": 9, "delivery|email|failed": 1,
              "optout|sms": 3, "optout|voice": 1, "delivery|voice|delivered": 10}
    month = figures("plateau", "2026-11", counts)
    assert month.delivered["sms"] == Ratio(90, 100)
    assert month.delivered["email"] == Ratio(9, 10)
    assert month.delivered["voice"] == Ratio(10, 10)
    assert month.opt_outs == Ratio(4, 100)  # of the texts and calls delivered
    assert month.delivered["sms"].rate == 0.9
    assert month.delivered["email"].rate is None  # 1 failure would show through 90 %
    assert month.opt_outs.rate is None  # 4 opt-outs would show through 4 %


def test_no_show_is_split_by_reach_and_no_rate_comes_from_fewer_than_five() -> None:
    counts = {"attendance|reached|absent": 2, "attendance|reached|present": 18,
              "attendance|unreached|absent": 1, "attendance|unreached|present": 3}
    month = figures("plateau", "2026-11", counts)
    assert month.no_show["reached"] == Ratio(2, 20)
    assert month.no_show["reached"].rate is None  # 2 absences would show through 10 %
    assert Ratio(5, 20).rate == 0.25 and Ratio(16, 20).rate is None
    assert month.no_show["unreached"] == Ratio(1, 4)
    assert month.no_show["unreached"].rate is None


def test_a_month_with_nothing_counted_is_empty_and_negative_counts_read_zero() -> None:
    assert figures("plateau", "2026-11", {}).empty
    assert figures("plateau", "2026-11", {"attendance|reached|absent": 0,
                                          "attendance|reached|present": -1}).empty
    assert not figures("plateau", "2026-11", {"optout|sms": 1}).empty


def test_months_go_back_across_a_year_in_the_clinic_zone() -> None:
    # 02:00 UTC on 1 Feb is still January in Toronto.
    now = dt.datetime(2026, 2, 1, 2, 0, tzinfo=dt.UTC)
    assert months_back(now, count=3, zone=TORONTO) == ["2026-01", "2025-12", "2025-11"]


def test_cells_a_spreadsheet_would_run_are_written_as_text() -> None:
    for value in ("=1+1", "+1•••••••188", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(value) == "'" + value
    for value in ("opted_out", "2026-11-24T15:00:00+00:00", "sms_keyword", ""):
        assert spreadsheet_safe(value) == value


def test_a_count_within_four_of_its_total_is_shown_as_a_bound_and_no_rate() -> None:
    words = Words(Lang.FR, zone=TORONTO)
    assert outcome_cell(Ratio(9, 10), words) == {"rate": "—", "detail": "> 5 sur 10"}
    assert outcome_cell(Ratio(2, 10), words) == {"rate": "—", "detail": "< 5 sur 10"}
    assert outcome_cell(Ratio(5, 10), words)["rate"] == "50,0\u00a0%"
