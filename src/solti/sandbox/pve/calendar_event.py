"""PVE's calendar events (job schedules): the parser and the next-event search PVE runs.

PVE's ``PVE::CalendarEvent`` (pve-common ``src/PVE/CalendarEvent.pm``) trims the text and
hands it to proxmox-rs ``proxmox-time`` (through proxmox-perl-rs); this follows that crate:

- ``src/calendar_event.rs`` ``parse_calendar_event_incomplete``: an optional ``UTC`` suffix,
  the keywords (``minutely`` ... ``yearly``/``annually``), else a weekday list, a date spec
  (``Y-M-D`` or ``M-D``) and a time spec (``[H:]M[:S]``; without one, ``00:00:00``); each
  component a ``,`` list of ``v``, ``a..b``, ``v/r``, ``a..b/r`` or ``*``/``*/r``; at least
  one of weekday, date or time must be given. ``src/week_days.rs``: weekday names and
  ``a..b`` ranges (wrapping past Sunday). ``src/parse_helpers.rs`` ``parse_time_comp``:
  values below the component's limit.
- ``compute_next_event``: from ``last + 1`` walk year, month, day, weekday, hour, minute,
  second, jumping to the next allowed value of the first field that does not match (resetting
  the smaller fields, as ``src/tm_editor.rs`` does) and giving up after 1000 steps.
- ``src/date_time_value.rs``: ``contains`` and ``find_next`` of each kind of value.

The simulated nodes run in UTC (``/nodes/{node}/time``), so local time and UTC coincide.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# (start, step or None, end or None); a single value is (v, None, v), a range (a, None, b).
Value = tuple[int, int | None, int | None]

WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
MIDNIGHT: dict[str, list[Value]] = {"hour": [(0, None, 0)], "minute": [(0, None, 0)]}
KEYWORDS: dict[str, dict[str, list[Value]]] = {
    "minutely": {},
    "hourly": {"minute": [(0, None, 0)]},
    "daily": MIDNIGHT,
    "weekly": MIDNIGHT,
    "monthly": {**MIDNIGHT, "day": [(1, None, 1)]},
    "quarterly": {
        **MIDNIGHT,
        "day": [(1, None, 1)],
        "month": [(m, None, m) for m in (1, 4, 7, 10)],
    },
    "semiannually": {**MIDNIGHT, "day": [(1, None, 1)], "month": [(1, None, 1), (7, None, 7)]},
    "yearly": {**MIDNIGHT, "day": [(1, None, 1)], "month": [(1, None, 1)]},
}
KEYWORDS["semi-annually"] = KEYWORDS["semiannually"]
KEYWORDS["annually"] = KEYWORDS["yearly"]
MAX_STEPS = 1000


class CalendarEventError(ValueError):
    """The text is not a calendar event; the message says where it stopped making sense."""


@dataclass
class CalendarEvent:
    """Empty lists match every value; ``days`` holds weekday numbers (Monday 0)."""

    days: set[int] = field(default_factory=set)
    year: list[Value] = field(default_factory=list)
    month: list[Value] = field(default_factory=list)
    day: list[Value] = field(default_factory=list)
    hour: list[Value] = field(default_factory=list)
    minute: list[Value] = field(default_factory=list)
    second: list[Value] = field(default_factory=lambda: [(0, None, 0)])

    def next_after(self, last: int) -> int | None:
        """The first matching epoch second strictly after ``last``, or None."""
        return _next_event(self, last)


def _contains(spec: Value, value: int) -> bool:
    start, step, end = spec
    if step is None:
        return start <= value <= end  # type: ignore[operator]
    if value < start:
        return False
    if step == 0:
        return value == start
    return (value - start) % step == 0 and (end is None or value <= end)


def _list_contains(specs: list[Value], value: int) -> bool:
    return any(_contains(spec, value) for spec in specs)


def _find_next(specs: list[Value], value: int) -> int | None:
    found: list[int] = []
    for start, step, end in specs:
        if step is None and start == end:
            candidate = start if start > value else None
        elif step is None:
            candidate = start if value < start else (value + 1 if value + 1 <= end else None)  # type: ignore[operator]
        elif value < start:
            candidate = start
        elif step > 0:
            n = start + ((value - start + step) // step) * step
            candidate = n if end is None or n <= end else None
        else:
            candidate = None
        if candidate is not None:
            found.append(candidate)
    return min(found) if found else None


class _Tm:
    """A broken-down UTC time that renormalizes after each change, as ``TmEditor`` does."""

    def __init__(self, epoch: int) -> None:
        self._set(epoch)

    def _set(self, epoch: int) -> None:
        t = time.gmtime(epoch)
        self.year, self.month, self.day = t.tm_year, t.tm_mon, t.tm_mday
        self.hour, self.min, self.sec, self.wday = t.tm_hour, t.tm_min, t.tm_sec, t.tm_wday

    def epoch(self) -> int:
        years, month0 = divmod(self.month - 1, 12)
        base = calendar.timegm((self.year + years, month0 + 1, 1, 0, 0, 0))
        return base + (self.day - 1) * 86400 + self.hour * 3600 + self.min * 60 + self.sec

    def _renormalize(self) -> None:
        self._set(self.epoch())

    def add_years(self, n: int) -> None:
        if n:
            self.year += n
            self.month, self.day, self.hour, self.min, self.sec = 1, 1, 0, 0, 0
            self._renormalize()

    def add_months(self, n: int) -> None:
        if n:
            self.month += n
            self.day, self.hour, self.min, self.sec = 1, 0, 0, 0
            self._renormalize()

    def add_days(self, n: int) -> None:
        if n:
            self.day += n
            self.hour, self.min, self.sec = 0, 0, 0
            self._renormalize()

    def set_time(self, hour: int, minute: int, sec: int) -> None:
        self.hour, self.min, self.sec = hour, minute, sec
        self._renormalize()

    def set_min_sec(self, minute: int, sec: int) -> None:
        self.min, self.sec = minute, sec
        self._renormalize()


def _next_event(event: CalendarEvent, last: int) -> int | None:
    t = _Tm(last + 1)
    all_days = not event.days or len(event.days) == 7
    for _ in range(MAX_STEPS + 1):
        if event.year and not _list_contains(event.year, t.year):
            n = _find_next(event.year, t.year)
            if n is None:
                return None
            t.add_years(n - t.year)
            continue
        if event.month and not _list_contains(event.month, t.month):
            n = _find_next(event.month, t.month)
            t.add_months(n - t.month) if n is not None else t.add_years(1)
            continue
        if event.day and not _list_contains(event.day, t.day):
            n = _find_next(event.day, t.day)
            t.add_days(n - t.day) if n is not None else t.add_months(1)
            continue
        if not all_days and t.wday not in event.days:
            later = [d for d in range(t.wday + 1, 7) if d in event.days]
            t.add_days(later[0] - t.wday if later else 7 - t.wday)
            continue
        if event.hour and not _list_contains(event.hour, t.hour):
            n = _find_next(event.hour, t.hour)
            t.set_time(n, 0, 0) if n is not None else t.add_days(1)
            continue
        if event.minute and not _list_contains(event.minute, t.min):
            n = _find_next(event.minute, t.min)
            t.set_min_sec(n, 0) if n is not None else t.set_time(t.hour + 1, 0, 0)
            continue
        if event.second and not _list_contains(event.second, t.sec):
            n = _find_next(event.second, t.sec)
            if n is not None:
                t.sec = n
                t._renormalize()
            else:
                t.set_min_sec(t.min + 1, 0)
            continue
        return t.epoch()
    return None


# --- Parsing -------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d+")


def _number(text: str, limit: int) -> tuple[int, str] | None:
    match = _NUMBER.match(text)
    if not match:
        return None
    value = int(match[0])
    if value >= limit:
        raise CalendarEventError(f"time value too large: {match[0]}")
    return value, text[match.end() :]


def _soft(parser: Callable[..., T | None], *args: Any) -> T | None:
    """A parser's result, or None where it fails (nom's ``opt`` and list backtracking)."""
    try:
        return parser(*args)
    except CalendarEventError:
        return None


def _component(text: str, limit: int) -> tuple[Value, str] | None:
    first = _number(text, limit)
    if first is None:
        return None
    value, rest = first
    end: int | None = None
    if rest.startswith(".."):
        second = _soft(_number, rest[2:], limit)
        if second is not None:
            end, rest = second
            if value > end:
                raise CalendarEventError("range start is bigger than end")
    if rest.startswith("/"):
        repeat = _number(rest[1:], limit)
        if repeat is None:
            raise CalendarEventError(f"missing repetition in '{text}'")
        return (value, repeat[0], end), repeat[1]
    return (value, None, value if end is None else end), rest


def _component_list(text: str, start: int, limit: int) -> tuple[list[Value], str] | None:
    if text.startswith("*"):
        rest = text[1:]
        if rest.startswith("/"):
            repeat = _number(rest[1:], limit)
            if repeat is not None and repeat[0] > 0:
                return [(start, repeat[0], None)], repeat[1]
        return [], rest
    first = _component(text, limit)
    if first is None:
        return None
    values, rest = [first[0]], first[1]
    while rest.startswith(","):
        more = _soft(_component, rest[1:], limit)
        if more is None:
            break
        values.append(more[0])
        rest = more[1]
    return values, rest


def _weekdays(text: str) -> tuple[set[int], str]:
    days: set[int] = set()
    rest = text
    while True:
        match = re.match(r"([A-Za-z]+)(?:\.\.([A-Za-z]+))?", rest)
        names = [match[1], match[2] or match[1]] if match else []
        if not match or any(n.lower() not in WEEKDAYS for n in names):
            raise CalendarEventError(f"invalid weekday in '{rest}'")
        first, last = (WEEKDAYS[n.lower()] for n in names)
        days.update(
            range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        )
        rest = rest[match.end() :]
        if not rest.startswith(","):
            return days, rest.lstrip(" ")
        rest = rest[1:]


def _date_spec(text: str) -> tuple[dict[str, list[Value]], str] | None:
    year = _soft(_component_list, text, 0, 2200)
    if year and year[1].startswith("-"):
        month = _soft(_component_list, year[1][1:], 1, 13)
        if month and month[1].startswith("-"):
            day = _soft(_component_list, month[1][1:], 1, 32)
            if day:
                return {"year": year[0], "month": month[0], "day": day[0]}, day[1]
    month = _soft(_component_list, text, 1, 13)
    if month and month[1].startswith("-"):
        day = _soft(_component_list, month[1][1:], 1, 32)
        if day:
            return {"month": month[0], "day": day[0]}, day[1]
    return None


def _time_spec(text: str) -> tuple[dict[str, list[Value]], str] | None:
    hour: list[Value] = []
    first = _soft(_component_list, text, 0, 24)
    if first and first[1].startswith(":"):
        hour, text = first[0], first[1][1:]
    minute = _soft(_component_list, text, 0, 60)
    if minute is None:
        return None
    spec = {"hour": hour, "minute": minute[0], "second": [(0, None, 0)]}
    rest = minute[1]
    if rest.startswith(":"):
        second = _soft(_component_list, rest[1:], 0, 60)
        if second is not None:
            spec["second"], rest = second
    return spec, rest


def parse(text: str) -> CalendarEvent:
    """The event ``text`` describes, or :class:`CalendarEventError`."""
    text = text.strip()
    if not text:
        raise CalendarEventError("unable to parse calendar event - event is empty")
    if text.endswith("UTC"):
        text = text[:-3].rstrip(" ")
    event = CalendarEvent()
    given = False
    if text[:1].isalpha():
        if text in KEYWORDS:
            event = CalendarEvent(**{k: list(v) for k, v in KEYWORDS[text].items()})
            if text == "weekly":
                event.days = {0}
            return event
        event.days, text = _weekdays(text)
        given = True
    date = _date_spec(text)
    if date is not None:
        for key, values in date[0].items():
            setattr(event, key, values)
        text, given = date[1].lstrip(" "), True
    clock = _time_spec(text)
    if clock is not None:
        for key, values in clock[0].items():
            setattr(event, key, values)
        text, given = clock[1], True
    else:
        event.hour, event.minute = [(0, None, 0)], [(0, None, 0)]
    if not given:
        raise CalendarEventError("expected date or time specification")
    if text:
        raise CalendarEventError(f"unexpected text at the end: '{text}'")
    return event
