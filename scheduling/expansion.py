"""What expanding a recurrence rule costs, judged from the rule's text before expanding it.

dateutil (under recurring-ical-events) walks a rule from DTSTART one period (year, month, week,
day, hour…) at a time, every INTERVAL periods: it scans the period's days, builds the
candidate times (the product of the BY* lists) and filters them. Three things follow, and each
is bounded here:

- the work grows with the distance from DTSTART to the window, times the candidates per period
  (ten ``FREQ=DAILY;BYHOUR=0..23;BYMINUTE=0..59`` rules from six years back: 8.5 s);
- UNTIL and COUNT are only compared with candidates, so a rule whose periods can all be empty
  (``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``) walks on to the year 9999 (~3 s for each such rule),
  even with an UNTIL: :meth:`Rule.quiet` says how many periods in a row a rule can stay empty;
- the occurrences in the window, each of which becomes an event object.

A unit of work is about one candidate time (roughly half a microsecond); the weights are
measured, and the tests check that the estimates are upper bounds of what dateutil yields.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from scheduling.problems import Problem, Words

FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")
SUB_DAILY = ("HOURLY", "MINUTELY", "SECONDLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# The shortest period (wall clocks skip an hour in spring) and the days dateutil scans in one.
SHORTEST = {
    "YEARLY": dt.timedelta(days=365),
    "MONTHLY": dt.timedelta(days=28),
    "WEEKLY": dt.timedelta(days=7),
    "DAILY": dt.timedelta(hours=23),
    "HOURLY": dt.timedelta(hours=1),
    "MINUTELY": dt.timedelta(minutes=1),
    "SECONDLY": dt.timedelta(seconds=1),
}
DAYS_SCANNED = {"YEARLY": 366, "MONTHLY": 31, "WEEKLY": 7}
NAMES = {
    "YEARLY": Words("year"),
    "MONTHLY": Words("month"),
    "WEEKLY": Words("week"),
    "DAILY": Words("day"),
    "HOURLY": Words("hour"),
    "MINUTELY": Words("minute"),
    "SECONDLY": Words("second"),
}
# Work per period (its set-up), per day scanned and per candidate time, in candidate units.
PERIOD_WORK, DAY_WORK, CANDIDATE_WORK = 4.0, 0.15, 1.0
LAST_DAY = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)  # where dateutil gives up on a quiet rule
# Allowed values of each BY* part (RFC 5545 §3.3.10); a value outside never matches and leaves
# the rule quiet for ever, so it is refused as a mistake instead.
RANGES = {
    "BYSECOND": (0, 60, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}
TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
DAY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
KNOWN = frozenset(("FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY", *RANGES))
LONG_MONTHS = frozenset((1, 3, 5, 7, 8, 10, 12))
# The longest run of empty periods, measured over a 400-year Gregorian cycle (see the tests).
QUIET_FIFTH_WEEKDAY = 3  # months without a 5th (or 5th-last) Monday, say
QUIET_DAY_AND_WEEKDAY = 13  # months without a Friday the 13th, say
QUIET_LEAP_DAY = 7  # years without 29 February (1896 → 1904)
QUIET_SOME_MONTHS = 11  # months in a row that are too short for a BYMONTHDAY of 29 to 31


class RuleError(Problem):
    """A recurrence rule that is malformed; the message says which part and why."""


class TooComplex(Problem):
    """Expanding would cost more than the limits allow; the message says what and why."""


@dataclass(frozen=True)
class Limits:
    """How much expanding one rule, and all rules of one request, may cost."""

    per_period: int = 1000  # candidate times in one period: the product of the BY* lists
    work_per_rule: float = 500_000  # candidate units from DTSTART to where the walk stops
    work: float = 1_500_000  # the same, summed over every rule of the request
    per_event: int = 3000  # occurrences of one event in the window
    occurrences: int = 20_000  # occurrences of all events in the window


@dataclass(frozen=True)
class Day:
    """A BYDAY entry: a weekday (0 = Monday), with its ordinal (``-1SU``) or 0."""

    weekday: int
    nth: int = 0


@dataclass(frozen=True)
class Rule:
    """What the cost of an RRULE depends on: FREQ, INTERVAL, COUNT and the distinct BY* values."""

    freq: str
    interval: int = 1
    count: int | None = None
    parts: Mapping[str, frozenset[int]] = field(default_factory=lambda: MappingProxyType({}))
    days: frozenset[Day] = frozenset()

    @classmethod
    def parse(cls, rule: Mapping[str, Sequence[object]]) -> Rule:
        """The rule from an icalendar ``vRecur`` (part name → list of values)."""
        unknown = sorted(str(k) for k in rule if str(k).upper() not in KNOWN)
        if unknown:
            raise RuleError(
                "the rule has parts this server does not expand: {unknown}",
                unknown=", ".join(unknown),
            )
        freq = str(_one(rule, "FREQ", "")).upper()
        if freq not in FREQUENCIES:
            raise RuleError(
                "FREQ must be one of {FREQUENCIES}, not {freq}",
                FREQUENCIES=", ".join(FREQUENCIES),
                freq=freq or "none",
            )
        interval = _whole(_one(rule, "INTERVAL", 1), "INTERVAL")
        count = _whole(_one(rule, "COUNT", None), "COUNT") if "COUNT" in rule else None
        if interval < 1:
            raise RuleError("INTERVAL must be 1 or more")
        parts = {name: _values(name, rule[name]) for name in RANGES if rule.get(name)}
        days = frozenset(_day(value) for value in rule.get("BYDAY", ()))
        return cls(freq, interval, count, MappingProxyType(parts), days)

    def size(self, name: str, default: int = 1) -> int:
        """How many distinct values the part has (``default`` when it is absent)."""
        return len(self.parts[name]) if name in self.parts else default

    @property
    def present(self) -> frozenset[str]:
        """The BY* parts the rule gives (BYDAY included)."""
        return frozenset(self.parts) | ({"BYDAY"} if self.days else set())

    @property
    def day_parts(self) -> frozenset[str]:
        """The BY* parts that choose days (BYMONTH, BYWEEKNO, BYYEARDAY, BYMONTHDAY, BYDAY)."""
        return self.present & frozenset(DAY_PARTS)

    def times_per_day(self) -> int:
        """The times dateutil builds for each day (or period, below a day) that passes."""
        expanding = {
            "HOURLY": ("BYMINUTE", "BYSECOND"),
            "MINUTELY": ("BYSECOND",),
            "SECONDLY": (),
        }.get(self.freq, TIME_PARTS)
        return math.prod(self.size(name) for name in expanding)

    def days_per_period(self) -> int:
        """An upper bound on the days of one period that pass the BY* filters."""
        if self.freq not in DAYS_SCANNED:
            return 1
        bounds = [DAYS_SCANNED[self.freq], *self._day_bounds()]
        if not self.day_parts - {"BYMONTH"}:  # dateutil's default: DTSTART's day (and month)
            bounds.append(self.size("BYMONTH") if self.freq == "YEARLY" else 1)
        return min(bounds)

    def _day_bounds(self) -> Iterable[int]:
        per_year = self.freq == "YEARLY"
        if per_year and "BYMONTH" in self.parts:
            yield 31 * self.size("BYMONTH")
        if per_year and "BYWEEKNO" in self.parts:
            yield 7 * self.size("BYWEEKNO")
        if "BYYEARDAY" in self.parts:
            yield self.size("BYYEARDAY")
        if "BYMONTHDAY" in self.parts:
            yield self.size("BYMONTHDAY") * (self.size("BYMONTH", 12) if per_year else 1)
        if self.days:
            yield self._weekday_bound()

    def _weekday_bound(self) -> int:
        plain = sum(1 for d in self.days if d.nth == 0 or self.freq not in ("MONTHLY", "YEARLY"))
        ordinal = len(self.days) - plain
        if self.freq == "YEARLY":
            return 53 * plain + ordinal * self.size("BYMONTH")
        return (5 if self.freq == "MONTHLY" else 1) * plain + ordinal

    def per_period(self) -> int:
        """An upper bound on the candidate times one period builds (the BY* product)."""
        return self.days_per_period() * self.times_per_day()

    def occurrences_per_period(self) -> int:
        """An upper bound on the occurrences one period yields (BYSETPOS picks some)."""
        candidates = self.per_period()
        if "BYSETPOS" in self.parts:
            return min(candidates, self.size("BYSETPOS"))
        return candidates

    def periods(self, span: dt.timedelta) -> int:
        """An upper bound on the periods of the rule (every INTERVAL-th) that ``span`` touches."""
        if span <= dt.timedelta(0):
            return 1
        return span // (SHORTEST[self.freq] * self.interval) + 2

    def work_per_period(self) -> float:
        """The work dateutil does for one period of the rule, in candidate units."""
        scanned = DAYS_SCANNED.get(self.freq, 1)
        return PERIOD_WORK + DAY_WORK * scanned + CANDIDATE_WORK * self.per_period()

    def quiet(self, first: dt.date) -> int | None:
        """The most periods in a row the rule can yield nothing; None: perhaps for ever.

        ``first`` is DTSTART's date, whose weekday, day and month dateutil uses by default.
        Only the shapes calendars actually write are recognised; anything else counts as
        possibly quiet for ever (and costs a walk to the year 9999).
        """
        if not self._setpos_always_hits() or self._mixes_weekdays():
            return None
        quiet = {
            "YEARLY": self._quiet_yearly,
            "MONTHLY": self._quiet_monthly,
            "WEEKLY": self._quiet_weekly,
            "DAILY": self._quiet_daily,
        }.get(self.freq, self._quiet_sub_daily)
        return quiet(first)

    def _mixes_weekdays(self) -> bool:
        """``BYDAY=MO,1TU`` monthly or yearly: dateutil keeps only days that are both."""
        ordinals = {d.nth != 0 for d in self.days}
        return self.freq in ("MONTHLY", "YEARLY") and len(ordinals) == 2

    def _setpos_always_hits(self) -> bool:
        if "BYSETPOS" not in self.parts:
            return True
        smallest = self.times_per_day() * self._fewest_days()
        return any(abs(p) <= smallest for p in self.parts["BYSETPOS"])

    def _fewest_days(self) -> int:
        """Days a period that yields anything has at least (plain weekdays: each one's count)."""
        weekdays = {d.weekday for d in self.days if d.nth == 0}
        if self.day_parts == {"BYDAY"} and len(weekdays) == len(self.days):
            return {
                "YEARLY": 52 * len(weekdays),
                "MONTHLY": 4 * len(weekdays),
                "WEEKLY": len(weekdays),
            }.get(self.freq, 1)
        return 1

    def _quiet_sub_daily(self, first: dt.date) -> int | None:
        filtering = {"HOURLY": 1, "MINUTELY": 2, "SECONDLY": 3}[self.freq]
        filters = set(DAY_PARTS) | set(TIME_PARTS[:filtering])
        return None if self.present & filters else 0

    def _quiet_daily(self, first: dt.date) -> int | None:
        if self.present - {"BYDAY", "BYSETPOS", *TIME_PARTS}:
            return None
        if not self.days:
            return 0
        allowed = {d.weekday for d in self.days}
        if self.interval % 7:  # the lattice of days meets every weekday within a week
            return 6
        return 0 if first.weekday() in allowed else None

    def _quiet_weekly(self, first: dt.date) -> int | None:
        return None if self.present & {"BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO"} else 0

    def _quiet_monthly(self, first: dt.date) -> int | None:
        if self.present & {"BYYEARDAY", "BYWEEKNO", "BYMONTH"}:
            return None
        monthdays = self.parts.get("BYMONTHDAY")
        if monthdays and self.days:
            return self._quiet_day_and_weekday(monthdays)
        if self.days:
            return self._quiet_nth_weekday()
        return _quiet_monthdays(monthdays or frozenset((first.day,)), first.month, self.interval)

    def _quiet_day_and_weekday(self, monthdays: frozenset[int]) -> int | None:
        plain = all(d.nth == 0 for d in self.days)
        common = any(abs(v) <= 28 for v in monthdays)
        return QUIET_DAY_AND_WEEKDAY if plain and common and self.interval == 1 else None

    def _quiet_nth_weekday(self) -> int | None:
        if any(abs(d.nth) <= 4 for d in self.days):  # 0: every Monday, say; ±1..4 every month
            return 0
        return QUIET_FIFTH_WEEKDAY if self.interval == 1 else None

    def _quiet_yearly(self, first: dt.date) -> int | None:
        present = self.day_parts - {"BYMONTH"}
        months = self.parts.get("BYMONTH", frozenset(range(1, 13)))
        if not present:
            months = self.parts.get("BYMONTH", frozenset((first.month,)))
            return self._quiet_month_and_day(months, frozenset((first.day,)))
        if present == {"BYMONTHDAY"}:
            return self._quiet_month_and_day(months, self.parts["BYMONTHDAY"])
        if present == {"BYDAY"}:
            limit = 4 if "BYMONTH" in self.parts else 52
            return 0 if any(abs(d.nth) <= limit for d in self.days) else None
        if "BYMONTH" in self.parts:
            return None
        if present == {"BYYEARDAY"}:
            return 0 if any(abs(v) <= 365 for v in self.parts["BYYEARDAY"]) else None
        if present <= {"BYWEEKNO", "BYDAY"} and all(d.nth == 0 for d in self.days):
            return 0 if any(2 <= abs(w) <= 51 for w in self.parts["BYWEEKNO"]) else None
        return None

    def _quiet_month_and_day(self, months: frozenset[int], days: frozenset[int]) -> int | None:
        def fits(month: int, day: int) -> bool:
            return abs(day) <= (28 if month == 2 else 30 if month not in LONG_MONTHS else 31)

        if any(fits(m, v) for m in months for v in days):
            return 0
        leap_day = 2 in months and any(abs(v) == 29 for v in days)
        return QUIET_LEAP_DAY if leap_day and self.interval == 1 else None


def _quiet_monthdays(monthdays: frozenset[int], first_month: int, interval: int) -> int | None:
    """Monthly on days 29–31 skips short months; None when the months visited are all short."""
    if any(abs(v) <= 28 for v in monthdays):
        return 0
    visited = {(first_month - 1 + k * interval) % 12 + 1 for k in range(12)}
    shortest = min(abs(v) for v in monthdays)
    fitting = visited & (LONG_MONTHS if shortest == 31 else frozenset(range(1, 13)) - {2})
    return QUIET_SOME_MONTHS if fitting else None


def _one(rule: Mapping[str, Sequence[object]], name: str, default: object) -> object:
    values = rule.get(name)
    if not values:
        return default
    if len(values) != 1:
        raise RuleError("{name} must have one value", name=name)
    return values[0]


def _whole(value: object, name: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise RuleError(
            "{name} must be a whole number, not {value!s:.20}", name=name, value=value
        ) from None
    if number < 0:
        raise RuleError("{name} must not be negative", name=name)
    return number


def _values(name: str, values: Sequence[object]) -> frozenset[int]:
    low, high, signed = RANGES[name]
    found = set()
    for value in values:
        number = _whole(str(value).removeprefix("-").removeprefix("+"), name)
        number = -number if str(value).startswith("-") else number
        if not (low <= abs(number) <= high and (signed or number >= 0)) or (signed and not number):
            allowed = f"±{low}..{high}" if signed else f"{low}..{high}"
            raise RuleError(
                "{name}={value} is outside {allowed}", name=name, value=value, allowed=allowed
            )
        found.add(number)
    return frozenset(found)


def _day(value: object) -> Day:
    text = str(value).upper()
    weekday, ordinal = text[-2:], text[:-2]
    if weekday not in WEEKDAYS or not (ordinal == "" or ordinal.lstrip("+-").isdigit()):
        raise RuleError("BYDAY={value} is not a weekday such as MO, 2TU or -1SU", value=value)
    nth = int(ordinal) if ordinal else 0
    if ordinal and not 1 <= abs(nth) <= 53:
        raise RuleError("BYDAY={value}: the ordinal must be ±1..53", value=value)
    return Day(WEEKDAYS.index(weekday), nth)


@dataclass(frozen=True)
class Estimate:
    """What expanding one rule of one event would cost."""

    work: float  # candidate units, from DTSTART to where dateutil stops
    occurrences: int  # an upper bound on the occurrences in the window


def estimate(
    rule: Rule,
    first: dt.date,
    start: dt.datetime,
    until: dt.datetime | None,
    window: tuple[dt.datetime, dt.datetime],
) -> Estimate:
    """The cost of one rule from ``start`` (DTSTART; its date is ``first``) for a window.

    ``window`` starts the event's duration before the real window (an occurrence that began
    earlier still overlaps). The walk goes from DTSTART to the window's end (or UNTIL), plus
    the periods the rule can stay quiet before dateutil sees a candidate past the end; it ends
    sooner after COUNT occurrences. A rule that can stay quiet for ever walks to the year 9999.
    """
    quiet = rule.quiet(first)
    end = min(window[1], until) if until is not None else window[1]
    periods = rule.periods(end - start) + (quiet or 0)
    if quiet is None:
        periods = rule.periods(LAST_DAY - start)
    elif rule.count is not None:
        periods = min(periods, rule.count * (quiet + 1) + 1)
    seen_from = max(start, window[0])
    occurrences = 0 if seen_from >= end else rule.periods(end - seen_from)
    return Estimate(
        work=periods * rule.work_per_period(),
        occurrences=occurrences * rule.occurrences_per_period(),
    )


def walk_work(
    rule: Rule, first: dt.date, start: dt.datetime, until: dt.datetime | None, outputs: int
) -> float:
    """The work of listing a whole series: until UNTIL, COUNT or ``outputs`` occurrences.

    For sessions, whose every occurrence is listed and which stop at ``outputs`` (one more
    than the most a series may have).
    """
    quiet = rule.quiet(first)
    if quiet is None:
        periods = rule.periods(LAST_DAY - start)
    else:
        limit = min(outputs, rule.count) if rule.count is not None else outputs
        periods = limit * (quiet + 1) + 1
        if until is not None:
            periods = min(periods, rule.periods(until - start) + quiet)
    return periods * rule.work_per_period()


def _every(rule: Rule) -> Words:
    each = NAMES[rule.freq]
    if rule.interval == 1:
        return Words("every {each}", each=each)
    return Words("every {interval} {each}s", interval=rule.interval, each=each)


def refuse_over(rule: Rule, first: dt.date, work: float, limits: Limits, what: str | Words) -> None:
    """Refuse one rule whose period or walk is beyond the limits (``what`` names the event)."""
    each = NAMES[rule.freq]
    if rule.per_period() > limits.per_period:
        raise TooComplex(
            "{what} repeats up to {part} times a {each} (the BY* lists multiplied; at most "
            "{limits_per_period})",
            what=what,
            part=rule.per_period(),
            each=each,
            limits_per_period=limits.per_period,
        )
    if work > limits.work_per_rule:
        quiet = rule.quiet(first) is None
        why = (
            Words(
                "its rule can go without any occurrence for ever (e.g. 30 February), so "
                "finding where it stops means walking to the year 9999"
            )
            if quiet
            else Words(
                "it repeats {every} from {first}, long before the window",
                every=_every(rule),
                first=first.isoformat(),
            )
        )
        raise TooComplex(
            "{what} would take about {work:,.0f} steps to expand (at most "
            "{limits_work_per_rule:,.0f}): {why}",
            what=what,
            work=work,
            limits_work_per_rule=limits.work_per_rule,
            why=why,
        )
