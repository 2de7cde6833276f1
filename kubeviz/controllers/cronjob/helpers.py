"""Pure arithmetic of the CronJob controller: cron schedules and missed start times.

Mirrors ``pkg/controller/cronjob/utils.go`` (``mostRecentScheduleTime``, ``getJobName``,
``formatSchedule``) and the behaviour of ``robfig/cron/v3``'s standard parser and
``SpecSchedule.Next``, which the controller uses.

Contract:

* Five fields (minute hour day-of-month month day-of-week) with ``*``/``?``, lists, ranges,
  steps (``N/s`` means ``N-max/s``), month names JAN-DEC and day names SUN-SAT (any case);
  day-of-week is 0-6 with Sunday 0.  ``@yearly``/``@annually``, ``@monthly``, ``@weekly``,
  ``@daily``/``@midnight`` and ``@hourly`` are accepted; ``@every`` is not.
* Day-of-month and day-of-week combine as in cron: if either is ``*`` (a ``*`` with a step
  above 1 no longer counts), both must match; otherwise either may match.
* The time zone comes from a ``CRON_TZ=``/``TZ=`` prefix, else ``spec.timeZone``, else UTC
  (kube-controller-manager runs in UTC).  Across DST, times are stepped in absolute hours
  like robfig/cron: a wall time skipped by spring-forward does not run that day, and one
  repeated by fall-back runs twice.
* A schedule with no occurrence within five years (``0 0 31 2 *``) has no next time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kubeviz.controllers.timestamps import parse_time

Obj = Mapping[str, Any]

TOO_MANY_MISSED = 100
TOO_MANY_MISSED_MESSAGE = (
    "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
)

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {n: i + 1 for i, n in enumerate(_MONTH_NAMES)}
_DAYS = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class _Field:
    low: int
    high: int
    names: Mapping[str, int]


_FIELDS = (
    _Field(0, 59, {}),
    _Field(0, 23, {}),
    _Field(1, 31, {}),
    _Field(1, 12, _MONTHS),
    _Field(0, 6, _DAYS),
)


@dataclass(frozen=True)
class Schedule:
    """A parsed cron schedule: the allowed values of each field and its time zone."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    dom_star: bool
    dow_star: bool
    location: ZoneInfo

    def day_matches(self, t: datetime) -> bool:
        """Tell whether a local date satisfies the day fields (AND if either is '*', else OR)."""
        dom = t.day in self.days_of_month
        dow = (t.weekday() + 1) % 7 in self.days_of_week
        return dom and dow if self.dom_star or self.dow_star else dom or dow


def _number(text: str, spec: _Field) -> int:
    if text.lower() in spec.names:
        return spec.names[text.lower()]
    if not text.isdigit():
        raise ValueError(f"failed to parse int from {text!r}")
    return int(text)


def _parse_range(expr: str, spec: _Field) -> tuple[set[int], bool]:
    """Return the values one comma-separated term allows, and whether it is a bare star."""
    range_part, _, step_part = expr.partition("/")
    if "/" in step_part:
        raise ValueError(f"too many slashes: {expr!r}")
    star = range_part in ("*", "?")
    if star:
        low, high = spec.low, spec.high
    else:
        bounds = range_part.split("-")
        if len(bounds) > 2:
            raise ValueError(f"too many hyphens: {expr!r}")
        low = _number(bounds[0], spec)
        high = _number(bounds[1], spec) if len(bounds) == 2 else low
    step = 1
    if step_part or expr.endswith("/"):
        step = _number(step_part, spec) if step_part else 0
        if not star and "-" not in range_part:
            high = spec.high  # "N/s" means "from N to the end, every s"
        star = star and step <= 1
    if low < spec.low or high > spec.high:
        raise ValueError(f"{expr!r} is outside {spec.low}-{spec.high}")
    if low > high:
        raise ValueError(f"beginning of range ({low}) beyond end of range ({high}): {expr!r}")
    if step == 0:
        raise ValueError(f"step of range should be a positive number: {expr!r}")
    return set(range(low, high + 1, step)), star


def _parse_field(text: str, spec: _Field) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for term in text.split(","):
        found, is_star = _parse_range(term, spec)
        values |= found
        star = star or is_star
    return frozenset(values), star


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"provided bad location {name}: {exc}") from exc


@functools.lru_cache(maxsize=256)
def parse_schedule(schedule: str, time_zone: str | None = None) -> Schedule:
    """Parse a CronJob schedule; a ``CRON_TZ=``/``TZ=`` prefix overrides ``time_zone``."""
    text = schedule.strip()
    zone = time_zone or "UTC"
    if text.startswith(("CRON_TZ=", "TZ=")):
        prefix, _, text = text.partition(" ")
        zone = prefix.split("=", 1)[1]
        text = text.strip()
    location = _load_zone(zone)
    if text.startswith("@"):
        if text not in _DESCRIPTORS:
            raise ValueError(f"unrecognized descriptor: {text}")
        text = _DESCRIPTORS[text]
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected exactly 5 fields, found {len(fields)}: {text!r}")
    parsed = [_parse_field(f, spec) for f, spec in zip(fields, _FIELDS, strict=True)]
    return Schedule(
        minutes=parsed[0][0],
        hours=parsed[1][0],
        days_of_month=parsed[2][0],
        months=parsed[3][0],
        days_of_week=parsed[4][0],
        dom_star=parsed[2][1],
        dow_star=parsed[4][1],
        location=location,
    )


# --- stepping through time --------------------------------------------------------------------


def _wall(loc: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return the instant of a local wall time, normalizing overflow and DST gaps like Go's Date."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    local = date(year, month, 1) + timedelta(days=day - 1)
    naive = datetime(local.year, local.month, local.day, hour, minute, tzinfo=loc)
    return naive.astimezone(UTC).astimezone(loc)


def _plus(t: datetime, delta: timedelta) -> datetime:
    """Add an absolute duration (not wall-clock time) and return local time again."""
    return (t.astimezone(UTC) + delta).astimezone(t.tzinfo)


def _next(s: Schedule, after: datetime) -> datetime | None:
    """Return the first scheduled instant strictly after ``after`` (robfig's Next, as a loop)."""
    loc = s.location
    t = _plus(after.astimezone(loc).replace(microsecond=0), timedelta(seconds=1))
    year_limit, reset = t.year + 5, False
    while t.year <= year_limit:
        if t.month not in s.months:
            if not reset:
                reset, t = True, _wall(loc, t.year, t.month, 1)
            t = _wall(loc, t.year, t.month + 1, t.day, t.hour, t.minute)
            continue  # re-check from the top: a new month may change the year
        if not s.day_matches(t):
            if not reset:
                reset, t = True, _wall(loc, t.year, t.month, t.day)
            t = _wall(loc, t.year, t.month, t.day + 1, t.hour, t.minute)
            if t.hour != 0:  # DST moved midnight: step back (or on) to the day's start
                t = _plus(t, timedelta(hours=24 - t.hour if t.hour > 12 else -t.hour))
            continue
        if t.hour not in s.hours:
            if not reset:
                reset, t = True, _wall(loc, t.year, t.month, t.day, t.hour)
            t = _plus(t, timedelta(hours=1))
            continue
        if t.minute not in s.minutes:
            if not reset:
                reset, t = True, t.replace(second=0)
            t = _plus(t, timedelta(minutes=1))
            continue
        if t.second != 0:  # a search that starts mid-minute steps on to the whole minute
            t = _plus(t, timedelta(seconds=1))
            continue
        # In UTC: Python never equates a repeated-hour (fold) local time with another zone's.
        return t.astimezone(UTC)
    return None


def next_schedule_time(schedule: str, after: datetime, tz: str | None = None) -> datetime | None:
    """Return the first time (in UTC) the schedule fires strictly after ``after``, or ``None``.

    Each field is advanced in turn (month, day, hour, minute) until all match, so the search
    is short even for sparse schedules.
    """
    return _next(parse_schedule(schedule, tz), after)


# --- missed start times -----------------------------------------------------------------------


class Missed(StrEnum):
    """How many start times were missed since the last one the controller acted on."""

    NONE = "none"
    FEW = "few"
    MANY = "many"


@dataclass(frozen=True)
class MostRecent:
    """The latest start time due by ``now`` (``None`` if none), and how many were missed."""

    earliest: datetime
    time: datetime | None
    missed: Missed


def _schedule_of(cronjob: Obj) -> Schedule:
    spec = cronjob.get("spec") or {}
    return parse_schedule(str(spec.get("schedule", "")), spec.get("timeZone"))


def most_recent_schedule_time(cronjob: Obj, now: datetime) -> MostRecent:
    """Return the latest start time due by ``now`` that the controller has not yet acted on.

    Counting starts at ``status.lastScheduleTime`` (else the creation time), or later at
    ``now - startingDeadlineSeconds``, since nothing older may start anyway.  When many start
    times were missed (a wedged controller, a skewed clock), listing them one by one could
    take forever, so their number is estimated from the first interval and the walk starts
    near the end; more than 100 is reported as ``MANY`` (the controller emits a warning but
    still starts the latest).
    """
    spec, status, meta = cronjob.get("spec") or {}, cronjob.get("status") or {}, cronjob.get("metadata") or {}
    sched = _schedule_of(cronjob)
    earliest = parse_time(status.get("lastScheduleTime")) or parse_time(meta.get("creationTimestamp")) or now
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None:
        earliest = max(earliest, now - timedelta(seconds=int(deadline)))
    first = _next(sched, earliest)
    second = _next(sched, first) if first is not None else None
    if first is None or now < first:
        return MostRecent(earliest, None, Missed.NONE)
    if second is None or now < second:
        return MostRecent(earliest, first, Missed.NONE)
    interval = round((second - first).total_seconds())
    if interval < 1:
        raise ValueError("time difference between two schedules is less than 1 second")
    missed = int((now - first).total_seconds()) // interval + 1
    latest: datetime | None = None
    t = _next(sched, first + timedelta(seconds=(missed - 2) * interval))
    while t is not None and t <= now:
        latest, t = t, _next(sched, t)
    kind = Missed.MANY if missed > TOO_MANY_MISSED else Missed.FEW
    return MostRecent(earliest, latest, kind)


def too_late(cronjob: Obj, scheduled: datetime, now: datetime) -> bool:
    """Tell whether a start time is past ``startingDeadlineSeconds`` and must be skipped."""
    deadline = (cronjob.get("spec") or {}).get("startingDeadlineSeconds")
    return deadline is not None and scheduled + timedelta(seconds=int(deadline)) < now


def job_name(cronjob: Obj, scheduled: datetime) -> str:
    """Return the Job name for a start time: ``<cronjob>-<minutes since the Unix epoch>``.

    The name is a function of the start time, so a controller that crashes after creating
    the Job gets 'already exists' on retry instead of starting the Job twice.
    """
    return f"{(cronjob.get('metadata') or {}).get('name', '')}-{int(scheduled.timestamp()) // 60}"
