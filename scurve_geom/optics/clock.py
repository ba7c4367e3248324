"""Local clock times on a date in a time zone, as instants: ``--date``, ``--time``, ``--timezone``.

Daylight saving time makes a local clock skip an hour in spring (02:30 does not exist on
that day in Europe/Oslo) and show one twice in autumn (02:30 happens at +02:00, then again
at +01:00). A time the clock skips is refused, naming the flag, the value and why. A time
shown twice is taken at its first occurrence, as Python's ``datetime`` does (PEP 495
``fold=0``), and :func:`clock_time` says so in a note naming both; a fixed-offset zone
(``Etc/GMT-1`` is UTC+01:00) picks the other. The day sweep lists the clock's own hours:
one skipped in spring (23 maps), one twice in autumn (25 maps). Standard library only
(:mod:`zoneinfo`, with the system's or the ``tzdata`` package's zone database).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..cli_common.usage import UsageError

__all__ = ["clock_time", "day_hours", "parse_date", "zone"]

UTC = dt.UTC


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``--timezone``); :class:`UsageError` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(f"--timezone {name!r} is not a known IANA time zone "
                         "(e.g. Europe/Oslo, America/New_York, UTC)") from None


def parse_date(text: str) -> dt.date:
    """``--date`` as YYYY-MM-DD; :class:`UsageError` if it is not a date of the calendar."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date {text!r} is not a date: give YYYY-MM-DD, e.g. "
                         "2026-06-21") from None


def _offset(t: dt.datetime) -> str:
    off = t.utcoffset() or dt.timedelta(0)
    sign = "-" if off < dt.timedelta(0) else "+"
    minutes = abs(int(off.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _exists(t: dt.datetime) -> bool:
    """Whether the local wall time ``t`` (aware) is shown by the clock at all."""
    back = t.astimezone(UTC).astimezone(t.tzinfo)
    return back.replace(tzinfo=None) == t.replace(tzinfo=None)


def _occurrences(day: dt.date, hour: int, minute: int, tz: ZoneInfo) -> list[dt.datetime]:
    """The instants (UTC) at which the clock in ``tz`` shows ``day hour:minute``: none in a
    spring-forward gap, two in an autumn fall-back, else one."""
    first = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
    if not _exists(first):
        return []
    second = first.replace(fold=1)
    times = [first.astimezone(UTC)]
    if second.utcoffset() != first.utcoffset():
        times.append(second.astimezone(UTC))
    return times


def clock_time(day: dt.date, text: str, tz_name: str) -> tuple[dt.datetime, str | None]:
    """The instant (UTC) of the local clock time ``text`` (HH:MM, already checked to be on
    the clock face) on ``day`` in ``tz_name``, and a note when that time occurs twice.

    Raises
    ------
    UsageError
        For a time the clock skips that day (the daylight-saving gap).
    """
    tz = zone(tz_name)
    hour, minute = (int(x) for x in text.split(":"))
    times = _occurrences(day, hour, minute, tz)
    if not times:
        before = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
        after = before.astimezone(UTC).astimezone(tz)
        raise UsageError(
            f"--time {text} does not exist on {day} in {tz_name}: the clocks go forward "
            f"from {_offset(before)} to {_offset(after)} that night (daylight saving time) "
            f"and skip it; give a time the clocks show")
    note = None
    if len(times) == 2:
        a, b = (t.astimezone(tz) for t in times)
        note = (f"--time {text} occurs twice on {day} in {tz_name} (at {_offset(a)}, then "
                f"at {_offset(b)}, when the clocks go back): using the first, "
                f"{a.isoformat()}; for the second give --timezone {_etc_name(b)}")
    return times[0], note


def _etc_name(t: dt.datetime) -> str:
    """The fixed-offset zone of ``t``'s offset (``Etc/GMT-1`` is UTC+01:00: POSIX signs),
    or the offset itself where no such zone exists (half-hour offsets)."""
    off = t.utcoffset() or dt.timedelta(0)
    hours, rest = divmod(int(off.total_seconds()), 3600)
    if rest:
        return f"(a zone at {_offset(t)})"
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


def day_hours(day: dt.date, tz_name: str) -> list[dt.datetime]:
    """Every full hour the clock in ``tz_name`` shows on ``day``, as instants (UTC), in
    order: 24, or 23 on a spring-forward day, or 25 when the clocks go back."""
    tz = zone(tz_name)
    return [t for hour in range(24) for t in _occurrences(day, hour, 0, tz)]
