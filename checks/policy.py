"""The SLA policy (SPEC §2): business calendar, start day, due day and due_at."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
END_OF_DAY = time(23, 59, 59)
# Due days stop here: the end of the next day would be past year 9999 in UTC for zones west of it,
# and timestamps are refused from 9999-12-30 UTC on (services.sources.json_fields).
LAST_DAY = date(9999, 12, 30)


class PolicyError(ValueError):
    """The policy file is missing a setting or has one of the wrong type."""


@dataclass(frozen=True)
class SlaPolicy:
    timezone: str = "America/New_York"
    cutoff: time = time(14, 0)
    handling_days: int = 1
    business_days: frozenset[int] = frozenset(range(5))  # date.weekday() numbers
    holidays: frozenset[date] = frozenset()
    third_party_vendors: frozenset[str] = frozenset()
    vendor_handling_days: int = 5
    missing_after_hours: float = 4
    stalled_after_days: float = 5
    shipping_methods: dict[str, int] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.business_days and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        """The next business day, never after LAST_DAY (whose end is still a moment in every zone)."""
        if day >= LAST_DAY:
            return LAST_DAY
        nxt = day + timedelta(days=1)
        while not self.is_business_day(nxt) and nxt < LAST_DAY:
            nxt += timedelta(days=1)
        return nxt

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def local_date(self, moment: datetime) -> date:
        return self.local(moment).date()

    def start_day(self, created_at: datetime) -> date:
        local = self.local(created_at)
        day = local.date()
        if self.is_business_day(day) and local.time() < self.cutoff:
            return day
        return self.next_business_day(day)

    def add_business_days(self, day: date, count: int) -> date:
        for _ in range(count):
            day = self.next_business_day(day)
        return day

    def business_days_between(self, after: date, until: date) -> int:
        """Business days d with after < d <= until: how late an order due `after` is on `until`."""
        count, day = 0, after
        while day < until:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count

    def handling_days_for(self, shipping_method: str | None) -> int:
        if shipping_method is not None and shipping_method in self.shipping_methods:
            return self.shipping_methods[shipping_method]
        return self.handling_days

    def due_day(self, created_at: datetime, handling_days: int) -> date:
        return self.add_business_days(self.start_day(created_at), handling_days)

    def due_at(self, due_day: date) -> datetime:
        """The due day at 23:59:59 store time, with its UTC offset."""
        return datetime.combine(due_day, END_OF_DAY, tzinfo=self.tz)

    def is_late(self, due_day: date, as_of: datetime) -> bool:
        return self.local_date(as_of) > due_day

    def is_third_party(self, vendor: str | None) -> bool:
        return vendor is not None and vendor in self.third_party_vendors

    def fingerprint(self) -> str:
        """A stable text of every setting; stored with classifications to detect a policy change."""
        parts = [
            self.timezone,
            self.cutoff.isoformat(),
            str(self.handling_days),
            ",".join(str(d) for d in sorted(self.business_days)),
            ",".join(d.isoformat() for d in sorted(self.holidays)),
            ",".join(sorted(self.third_party_vendors)),
            str(self.vendor_handling_days),
            str(self.missing_after_hours),
            str(self.stalled_after_days),
            ",".join(f"{k}={v}" for k, v in sorted(self.shipping_methods.items())),
        ]
        return "|".join(parts)


def _expect(data: dict[str, Any], key: str, kind: type | tuple[type, ...], source: str) -> Any:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise PolicyError(f"{source}: `{key}` has the wrong type ({type(value).__name__})")
    return value


def policy_from_mapping(data: dict[str, Any], source: str = "policy") -> SlaPolicy:
    """Build a policy from parsed TOML; missing keys take the defaults of :class:`SlaPolicy`."""
    defaults = SlaPolicy()
    kwargs: dict[str, Any] = {}
    try:
        if "timezone" in data:
            kwargs["timezone"] = _expect(data, "timezone", str, source)
            ZoneInfo(kwargs["timezone"])
        if "cutoff" in data:
            kwargs["cutoff"] = time.fromisoformat(_expect(data, "cutoff", str, source))
            if kwargs["cutoff"].tzinfo is not None:  # compared with naive store-local times
                raise PolicyError(f"{source}: `cutoff` is a store-local time; give it without an offset")
        for key in ("handling_days", "vendor_handling_days"):
            if key in data:
                kwargs[key] = _expect(data, key, int, source)
                if kwargs[key] < 0:
                    raise PolicyError(f"{source}: `{key}` must not be negative")
        for key in ("missing_after_hours", "stalled_after_days"):
            if key in data:
                kwargs[key] = float(_expect(data, key, (int, float), source))
        if "business_days" in data:
            names = _expect(data, "business_days", list, source)
            unknown = [n for n in names if n not in WEEKDAYS]
            if unknown:
                raise PolicyError(f"{source}: unknown business day(s) {unknown}; use {list(WEEKDAYS)}")
            kwargs["business_days"] = frozenset(WEEKDAYS.index(n) for n in names)
            if not kwargs["business_days"]:
                raise PolicyError(f"{source}: `business_days` must name at least one day")
        if "holidays" in data:
            kwargs["holidays"] = frozenset(
                date.fromisoformat(str(d)) for d in _expect(data, "holidays", list, source)
            )
        if "third_party_vendors" in data:
            kwargs["third_party_vendors"] = frozenset(
                str(v) for v in _expect(data, "third_party_vendors", list, source)
            )
        if "shipping_methods" in data:
            methods = _expect(data, "shipping_methods", dict, source)
            for title, days in methods.items():
                if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                    raise PolicyError(f"{source}: shipping_methods.{title} must be a whole number of days")
            kwargs["shipping_methods"] = dict(methods)
    except ZoneInfoNotFoundError as exc:
        raise PolicyError(f"{source}: unknown timezone {data.get('timezone')!r}") from exc
    except ValueError as exc:
        if isinstance(exc, PolicyError):
            raise
        raise PolicyError(f"{source}: {exc}") from exc
    return SlaPolicy(**{**defaults.__dict__, **kwargs})


def load_policy(path: Path | str) -> SlaPolicy:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise PolicyError(f"{path}: policy file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML ({exc})") from exc
    return policy_from_mapping(data, source=str(path))
