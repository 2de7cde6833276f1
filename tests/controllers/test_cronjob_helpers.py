"""Table-driven tests of the CronJob controller's schedule arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kubeviz.controllers.cronjob.helpers import (
    Missed,
    job_name,
    most_recent_schedule_time,
    next_schedule_time,
    parse_schedule,
    too_late,
)
from kubeviz.controllers.timestamps import format_time


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        ("*/15 * * * *", utc(2026, 3, 1, 10, 7), utc(2026, 3, 1, 10, 15)),
        ("*/15 * * * *", utc(2026, 3, 1, 10, 15), utc(2026, 3, 1, 10, 30)),  # strictly after
        ("* * * * *", utc(2026, 3, 1, 10, 7, 30, 5), utc(2026, 3, 1, 10, 8)),
        ("0 0 1 * *", utc(2026, 1, 31, 12), utc(2026, 2, 1)),  # across a month end
        ("0 0 31 * *", utc(2026, 2, 1), utc(2026, 3, 31)),  # February has no 31st
        ("0 0 31 * *", utc(2026, 3, 31), utc(2026, 5, 31)),  # nor April
        ("0 0 29 2 *", utc(2026, 3, 1), utc(2028, 2, 29)),  # next leap day
        ("0 0 * * *", utc(2026, 12, 31, 23, 59, 30), utc(2027, 1, 1)),  # across a year end
        ("0 12 * * MON-FRI", utc(2026, 3, 6, 12), utc(2026, 3, 9, 12)),  # Friday to Monday
        ("0 0 13 * FRI", utc(2026, 3, 1), utc(2026, 3, 6)),  # both restricted: either matches
        ("0 0 13 * *", utc(2026, 3, 1), utc(2026, 3, 13)),  # dow is '*': dom alone decides
        ("0 0 1 * */1", utc(2026, 3, 1), utc(2026, 4, 1)),  # '*/1' is still a star
        ("0 0 1 * */2", utc(2026, 3, 1), utc(2026, 3, 3)),  # '*/2' is not: Tuesday matches
        ("0 9 * JAN,jul SUN", utc(2026, 3, 1), utc(2026, 7, 5, 9)),
        ("5-20/5,59 * * * *", utc(2026, 3, 1, 10, 20), utc(2026, 3, 1, 10, 59)),
        ("5-20/5,59 * * * *", utc(2026, 3, 1, 10, 59), utc(2026, 3, 1, 11, 5)),
        ("50/5 * * * *", utc(2026, 3, 1, 10, 56), utc(2026, 3, 1, 11, 50)),  # 'N/s' runs to the end
        ("0 0 ? * 0", utc(2026, 3, 1), utc(2026, 3, 8)),
        ("@hourly", utc(2026, 3, 1, 12), utc(2026, 3, 1, 13)),
        ("@daily", utc(2026, 3, 1, 12), utc(2026, 3, 2)),
        ("@midnight", utc(2026, 3, 1, 12), utc(2026, 3, 2)),
        ("@weekly", utc(2026, 3, 1, 12), utc(2026, 3, 8)),
        ("@monthly", utc(2026, 3, 1, 12), utc(2026, 4, 1)),
        ("@yearly", utc(2026, 3, 1, 12), utc(2027, 1, 1)),
        ("@annually", utc(2026, 3, 1, 12), utc(2027, 1, 1)),
    ],
)
def test_next_schedule_time_utc(schedule: str, after: datetime, expected: datetime) -> None:
    assert next_schedule_time(schedule, after) == expected


def test_impossible_schedule_has_no_next_time() -> None:
    assert next_schedule_time("0 0 31 2 *", utc(2026, 1, 1)) is None


NY = "America/New_York"  # 2026: clocks spring forward on 8 March, fall back on 1 November


@pytest.mark.parametrize(
    ("schedule", "tz", "after", "expected"),
    [
        ("0 9 * * *", NY, utc(2026, 1, 10), utc(2026, 1, 10, 14)),  # EST, UTC-5
        ("0 9 * * *", NY, utc(2026, 7, 10), utc(2026, 7, 10, 13)),  # EDT, UTC-4
        ("30 2 * * *", NY, utc(2026, 3, 7, 8), utc(2026, 3, 9, 6, 30)),  # 02:30 never happens on 8 March
        ("0 * * * *", NY, utc(2026, 3, 8, 6), utc(2026, 3, 8, 7)),  # 01:00 EST then 03:00 EDT
        ("30 1 * * *", NY, utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30)),  # first 01:30 (EDT)
        ("30 1 * * *", NY, utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),  # and again (EST)
        ("30 1 * * *", NY, utc(2026, 11, 1, 6, 30), utc(2026, 11, 2, 6, 30)),
        ("0 0 1 * *", "Asia/Tokyo", utc(2026, 1, 31, 14, 59), utc(2026, 1, 31, 15)),  # Feb 1 in Tokyo
        ("CRON_TZ=America/New_York 0 9 * * *", None, utc(2026, 1, 10), utc(2026, 1, 10, 14)),
        (
            "TZ=America/New_York 0 9 * * *",
            "Asia/Tokyo",
            utc(2026, 1, 10),
            utc(2026, 1, 10, 14),
        ),  # prefix wins
    ],
)
def test_next_schedule_time_in_a_time_zone(
    schedule: str, tz: str | None, after: datetime, expected: datetime
) -> None:
    assert next_schedule_time(schedule, after, tz) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "* * * *",
        "* * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 7",
        "5-1 * * * *",
        "*/0 * * * *",
        "1-2-3 * * * *",
        "1/2/3 * * * *",
        "x * * * *",
        "* * * FOO *",
        "@every 1h",
        "@often",
        "TZ=Nowhere/Land * * * * *",
    ],
)
def test_parse_schedule_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_schedule(bad)


def test_parse_schedule_rejects_unknown_time_zone_field() -> None:
    with pytest.raises(ValueError):
        parse_schedule("* * * * *", "Mars/Olympus")


T0 = utc(2026, 3, 1, 10, 30)


def cronjob(
    schedule: str = "0 * * * *", *, last: datetime | None = None, deadline: int | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"schedule": schedule}
    if deadline is not None:
        spec["startingDeadlineSeconds"] = deadline
    status = {"lastScheduleTime": format_time(last)} if last else {}
    return {
        "metadata": {"name": "hello", "creationTimestamp": format_time(T0)},
        "spec": spec,
        "status": status,
    }


@pytest.mark.parametrize(
    ("cj", "now", "time", "missed"),
    [
        (cronjob(), utc(2026, 3, 1, 10, 59), None, Missed.NONE),  # not yet due
        (cronjob(), utc(2026, 3, 1, 11), utc(2026, 3, 1, 11), Missed.NONE),
        (cronjob(), utc(2026, 3, 1, 11, 59), utc(2026, 3, 1, 11), Missed.NONE),
        (cronjob(), utc(2026, 3, 1, 12, 10), utc(2026, 3, 1, 12), Missed.FEW),  # 11:00 and 12:00 both due
        (cronjob(last=utc(2026, 3, 1, 11)), utc(2026, 3, 1, 14, 10), utc(2026, 3, 1, 14), Missed.FEW),
        (cronjob("0 0 1 * *"), utc(2026, 6, 15), utc(2026, 6, 1), Missed.FEW),  # uneven intervals
        # '* * * * *' from 10:30: the first start is 10:31; 100 missed at 12:10, 101 at 12:11.
        (cronjob("* * * * *"), T0 + timedelta(minutes=100), T0 + timedelta(minutes=100), Missed.FEW),
        (cronjob("* * * * *"), T0 + timedelta(minutes=101), T0 + timedelta(minutes=101), Missed.MANY),
        (cronjob("* * * * *"), T0 + timedelta(days=30, seconds=30), T0 + timedelta(days=30), Missed.MANY),
        # A starting deadline bounds the search: only the last 200 s count.
        (
            cronjob("* * * * *", deadline=200),
            T0 + timedelta(days=30, seconds=30),
            T0 + timedelta(days=30),
            Missed.FEW,
        ),
    ],
)
def test_most_recent_schedule_time(
    cj: dict[str, Any], now: datetime, time: datetime | None, missed: Missed
) -> None:
    got = most_recent_schedule_time(cj, now)
    assert (got.time, got.missed) == (time, missed)


def test_most_recent_schedule_time_uses_the_spec_time_zone() -> None:
    cj = cronjob("0 9 * * *")
    cj["spec"]["timeZone"] = NY
    got = most_recent_schedule_time(cj, utc(2026, 3, 2, 15))
    assert got.time == utc(2026, 3, 2, 14)


@pytest.mark.parametrize(
    ("deadline", "late_by", "late"),
    [(None, 9999, False), (60, 60, False), (60, 61, True), (0, 1, True)],
)
def test_too_late(deadline: int | None, late_by: int, late: bool) -> None:
    scheduled = utc(2026, 3, 1, 11)
    assert too_late(cronjob(deadline=deadline), scheduled, scheduled + timedelta(seconds=late_by)) is late


@pytest.mark.parametrize(
    ("scheduled", "name"),
    [
        (utc(1970, 1, 1, 1), "hello-60"),
        (utc(2026, 3, 1, 12), "hello-29539440"),  # 1 772 366 400 s since the epoch
        (datetime(2026, 3, 1, 7, tzinfo=ZoneInfo(NY)), "hello-29539440"),
    ],
)
def test_job_name(scheduled: datetime, name: str) -> None:
    assert job_name(cronjob(), scheduled) == name
