"""The simulator's calendar events agree with proxmox-time's own examples.

The cases are the expectations of proxmox-rs ``proxmox-time/src/test.rs``
(``test_compute_next_event``, ``test_calendar_event_weekday``), which PVE's
``PVE::CalendarEvent`` runs through proxmox-perl-rs; every event is read as UTC.
"""

from __future__ import annotations

import pytest

from solti.sandbox.pve.calendar_event import CalendarEventError, parse

MIN, HOUR, DAY = 60, 3600, 86400
THURSDAY_00_00 = 0
THURSDAY_15_00 = 15 * HOUR
JUL_31_2020 = 1596153600  # Friday
DEC_31_2020 = 1609372800  # Thursday

CASES = [
    ("0", THURSDAY_00_00, HOUR),
    ("*", THURSDAY_00_00, MIN),
    ("*:0", THURSDAY_00_00, HOUR),
    ("*:*", THURSDAY_00_00, MIN),
    ("*:*:*", THURSDAY_00_00, 1),
    ("*:3:5", THURSDAY_00_00, 3 * MIN + 5),
    ("mon *:*", THURSDAY_00_00, 4 * DAY),
    ("mon 2:*", THURSDAY_00_00, 4 * DAY + 2 * HOUR),
    ("mon 2:50", THURSDAY_00_00, 4 * DAY + 2 * HOUR + 50 * MIN),
    ("tue", THURSDAY_00_00, 5 * DAY),
    ("wed", THURSDAY_00_00, 6 * DAY),
    ("thu", THURSDAY_00_00, 7 * DAY),
    ("fri", THURSDAY_00_00, 1 * DAY),
    ("sat", THURSDAY_00_00, 2 * DAY),
    ("sun", THURSDAY_00_00, 3 * DAY),
    ("4..10/2:0", THURSDAY_00_00, 4 * HOUR),
    ("4..10/2:0", 5 * HOUR, 6 * HOUR),
    ("4..10/2:0", 11 * HOUR, DAY + 4 * HOUR),
    ("5,10:4,8", THURSDAY_00_00, 5 * HOUR + 4 * MIN),
    ("10,5:8,4", THURSDAY_00_00, 5 * HOUR + 4 * MIN),
    ("6,4..10:23,5/5", THURSDAY_00_00, 4 * HOUR + 5 * MIN),
    ("4..10,6:5/5,23", THURSDAY_00_00, 4 * HOUR + 5 * MIN),
    *[(day, JUL_31_2020, JUL_31_2020 + n * DAY) for n, day in enumerate(
        ["sat", "sun", "mon", "tue", "wed", "thu", "fri"], start=1)],
    *[(day, DEC_31_2020, DEC_31_2020 + n * DAY) for n, day in enumerate(
        ["fri", "sat", "sun", "mon", "tue", "wed", "thu"], start=1)],
    ("daily", THURSDAY_00_00, DAY),
    ("daily", THURSDAY_00_00 + 1, DAY),
    ("1:0", THURSDAY_15_00, DAY + HOUR),
    ("2020-07-31", 0, JUL_31_2020),
    ("02-28", 0, (31 + 27) * DAY),
    ("02-29", 0, 2 * 365 * DAY + (31 + 28) * DAY),
    ("1965/5-01-01", -1, THURSDAY_00_00),
    ("2020-7..9-2/2", JUL_31_2020, JUL_31_2020 + 2 * DAY),
    ("2020,2021-12-31", JUL_31_2020, DEC_31_2020),
    ("minutely", THURSDAY_00_00, MIN),
    ("hourly", THURSDAY_00_00, HOUR),
    ("weekly", THURSDAY_00_00, 4 * DAY),
    ("monthly", 0, 31 * DAY),
    ("quarterly", 0, (31 + 28 + 31) * DAY),
    ("semiannually", 0, (31 + 28 + 31 + 30 + 31 + 30) * DAY),
    ("semi-annually", 0, (31 + 28 + 31 + 30 + 31 + 30) * DAY),
    ("yearly", 0, 365 * DAY),
    ("annually", 0, 365 * DAY),
]  # fmt: skip


@pytest.mark.parametrize(("text", "last", "expected"), CASES)
def test_next_event_matches_proxmox_time(text: str, last: int, expected: int) -> None:
    assert parse(f"{text} UTC").next_after(last) == expected


def test_repeated_hours_step_through_the_day() -> None:
    event = parse("5/2:0 UTC")
    runs = [THURSDAY_00_00]
    for _ in range(4):
        runs.append(event.next_after(runs[-1]))
    assert runs[1:] == [5 * HOUR, 7 * HOUR, 9 * HOUR, 11 * HOUR]


@pytest.mark.parametrize("text", ["2021-02-29", "02-30"])
def test_impossible_dates_never_come(text: str) -> None:
    assert parse(f"{text} UTC").next_after(0) is None


@pytest.mark.parametrize(
    "text",
    ["mon,wed..fri", "fri..mon", "MON", "monDay", "Tuesday", "mon,tue..wednesday,fri..sat"],
)
def test_weekday_lists_parse(text: str) -> None:
    assert parse(text).days


def test_weekday_range_wraps_past_sunday() -> None:
    assert parse("fri..mon").days == {4, 5, 6, 0}


@pytest.mark.parametrize("text", ["", "not valid!", "*/0", "1:2:3:4", "1..", "mon 2:61"])
def test_bad_events_are_refused(text: str) -> None:
    with pytest.raises(CalendarEventError):
        parse(text)
