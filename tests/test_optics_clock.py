"""``--date``/``--time``/``--timezone`` across daylight saving time (scurve_geom.optics.clock).

Spring forward: a local time in the skipped hour does not exist and is refused, naming the
flag, the value and why (one line, status 2: tests/test_cli_rules.py's table). Fall back: a
time shown twice is taken at its first occurrence with a one-line note naming both and how
to get the second. The day sweep lists the hours the clock shows: 23, 24 or 25.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scurve_geom.cli_common.usage import UsageError
from scurve_geom.optics.clock import clock_time, day_hours, parse_date

REPO = Path(__file__).resolve().parents[1]
UTC = dt.UTC


def test_a_time_the_clock_skips_is_refused_naming_flag_value_and_why() -> None:
    with pytest.raises(UsageError) as info:
        clock_time(dt.date(2026, 3, 29), "02:30", "Europe/Oslo")
    assert str(info.value) == (
        "--time 02:30 does not exist on 2026-03-29 in Europe/Oslo: the clocks go forward "
        "from UTC+01:00 to UTC+02:00 that night (daylight saving time) and skip it; give a "
        "time the clocks show")
    # New York skips 02:00-02:59 on its own day; Oslo's 02:30 that day is ordinary.
    with pytest.raises(UsageError, match="UTC-05:00 to UTC-04:00"):
        clock_time(dt.date(2026, 3, 8), "02:00", "America/New_York")
    assert clock_time(dt.date(2026, 3, 8), "02:30", "Europe/Oslo") == (
        dt.datetime(2026, 3, 8, 1, 30, tzinfo=UTC), None)
    # The minutes either side of the gap exist.
    assert clock_time(dt.date(2026, 3, 29), "01:59", "Europe/Oslo")[0] == dt.datetime(
        2026, 3, 29, 0, 59, tzinfo=UTC)
    assert clock_time(dt.date(2026, 3, 29), "03:00", "Europe/Oslo")[0] == dt.datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_time_shown_twice_is_the_first_with_a_note_naming_both() -> None:
    instant, note = clock_time(dt.date(2026, 10, 25), "02:30", "Europe/Oslo")
    assert instant == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30+02:00
    assert note == ("--time 02:30 occurs twice on 2026-10-25 in Europe/Oslo (at UTC+02:00, "
                    "then at UTC+01:00, when the clocks go back): using the first, "
                    "2026-10-25T02:30:00+02:00; for the second give --timezone Etc/GMT-1")
    # ... and the zone the note names gives the second occurrence.
    assert clock_time(dt.date(2026, 10, 25), "02:30", "Etc/GMT-1") == (
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), None)


def test_the_day_sweep_lists_the_hours_the_clock_shows() -> None:
    oslo = ZoneInfo("Europe/Oslo")

    def local(day: dt.date) -> list[str]:
        return [t.astimezone(oslo).strftime("%H%z") for t in day_hours(day, "Europe/Oslo")]

    assert len(local(dt.date(2026, 6, 21))) == 24
    spring = local(dt.date(2026, 3, 29))
    assert len(spring) == 23 and spring[1:3] == ["01+0100", "03+0200"]
    autumn = local(dt.date(2026, 10, 25))
    assert len(autumn) == 25 and autumn[2:4] == ["02+0200", "02+0100"]
    hours = day_hours(dt.date(2026, 10, 25), "Europe/Oslo")
    assert all(b - a == dt.timedelta(hours=1) for a, b in itertools.pairwise(hours))


def test_dates_are_calendar_dates() -> None:
    assert parse_date("2026-06-21") == dt.date(2026, 6, 21)
    for bad in ("2026-02-30", "2026-13-01", "21.06.2026", ""):
        with pytest.raises(UsageError, match=f"--date {bad!r} is not a date: give YYYY-MM-DD"):
            parse_date(bad)


@pytest.mark.slow
def test_cli_day_sweep_on_the_fall_back_day_has_25_hours(tmp_path: Path) -> None:
    pytest.importorskip("pvlib")
    r = subprocess.run([sys.executable, "-m", "scurve_geom.optics", "--preset", "kapoor",
                        "--latitude", "59.9", "--longitude", "10.7", "--date", "2026-10-25",
                        "--timezone", "Europe/Oslo", "--rays", "2000", "--json", "day.json"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr
    times = [h["time"] for h in json.loads((tmp_path / "day.json").read_text())["hours"]]
    assert len(times) == 25
    assert times[2:4] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
