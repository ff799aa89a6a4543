"""The world clock.

Callers may rely on:
- ``Clock(start=None, held=False, speed=1.0)``: ``start`` is an ISO string, a ``datetime`` or epoch
  seconds (default: the current time, floored to the second); ``clock.start`` (epoch int) never changes
  and is the world's anchor;
- a *held* clock stays at ``start`` (plus whatever ``advance``/``set`` did); a *moving* clock advances with
  real time multiplied by ``speed``;
- ``now()`` -> epoch seconds (float); ``advance(seconds)`` moves it forward (or back, if negative);
  ``set(when)`` jumps to an absolute time; both keep the clock's mode;
- thread-safe.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from .timefmt import fmt_z, parse_iso


def to_epoch(when: str | float | int | datetime) -> float:
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("naive datetime: give a timezone")
        return when.timestamp()
    if isinstance(when, int | float):
        return float(when)
    return parse_iso(when)


class Clock:
    def __init__(
        self, start: str | float | int | datetime | None = None, *, held: bool = False, speed: float = 1.0
    ) -> None:
        self.start = int(to_epoch(start)) if start is not None else int(time.time())
        self.held = held
        self.speed = float(speed)
        self._lock = threading.Lock()
        self._base = float(self.start)  # world time at _mono
        self._mono = time.monotonic()

    @classmethod
    def held_at(cls, when: str | float | int | datetime) -> Clock:
        return cls(when, held=True)

    def now(self) -> float:
        with self._lock:
            if self.held:
                return self._base
            return self._base + (time.monotonic() - self._mono) * self.speed

    def advance(self, seconds: float) -> float:
        with self._lock:
            cur = self._base if self.held else self._base + (time.monotonic() - self._mono) * self.speed
            self._base = cur + float(seconds)
            self._mono = time.monotonic()
            return self._base

    def set(self, when: str | float | int | datetime) -> float:
        t = to_epoch(when)
        with self._lock:
            self._base = t
            self._mono = time.monotonic()
            return t

    def iso(self) -> str:
        return fmt_z(int(self.now()))

    def describe(self) -> dict[str, object]:
        return {
            "now": self.iso(),
            "now_epoch": self.now(),
            "start": fmt_z(self.start),
            "held": self.held,
            "speed": self.speed,
        }
