"""One order's timeline as a record (`Row`): its event times, and from them the state each system shows
at a clock and when that state last changed."""

from __future__ import annotations

import numpy as np

from .scenarios import (
    COLS,
)


class Row:
    """One order's plan as plain Python ints (attribute per column, plus ``i``)."""

    __slots__ = ("i", *COLS)

    i: int
    t0: int
    t_paid: int
    t_release: int
    t_3pl: int
    t_ship1: int
    t_ship2: int
    t_ful1: int
    t_ful2: int
    t_bad: int
    t_vendor: int
    t_cancel: int
    t_3pl_cancel: int
    t_refund: int
    t_closed: int
    t_exc: int
    t_repl: int
    t_repl_ship: int
    scen: int
    variant: int
    method: int
    n_lines: int
    quirk: int
    old: int
    fc: int
    carrier: int
    note: int
    cust: int
    city: int
    voided: int
    carrier2: int

    def __init__(self, i: int, values: tuple[int, ...]) -> None:
        self.i = i
        for k, v in zip(COLS, values, strict=True):
            setattr(self, k, v)

    def shop_state(self, T: int) -> int:
        n = 0
        for v in (
            self.t0,
            self.t_paid,
            self.t_release,
            self.t_cancel,
            self.t_refund,
            self.t_ful1,
            self.t_ful2,
            self.t_bad,
            self.t_vendor,
            self.t_closed,
        ):
            if v <= T:
                n += 1
        return n

    def shop_updated_at(self, T: int) -> int:
        m = self.t0
        for v in (self.t_paid, self.t_release, self.t_cancel, self.t_refund):
            if m < v <= T:
                m = v
        if not self.quirk:
            for v in (self.t_ful1, self.t_ful2, self.t_bad, self.t_vendor, self.t_closed):
                if m < v <= T:
                    m = v
        return m

    def sb_state(self, T: int) -> int:
        n = 0
        for v in (self.t_3pl, self.t_ship1, self.t_ship2, self.t_3pl_cancel, self.t_ful1, self.t_ful2):
            if v <= T:
                n += 1
        return n

    def sb_updated_at(self, T: int) -> int:
        m = self.t_3pl
        for v in (self.t_ship1, self.t_ship2, self.t_3pl_cancel, self.t_ful1, self.t_ful2):
            if m < v <= T:
                m = v
        return m


def rows_from_plan(plan: dict[str, np.ndarray], a: int, b: int, base: int = 0) -> list[Row]:
    lists = [plan[c][a:b].tolist() for c in COLS]
    return [Row(base + a + j, vals) for j, vals in enumerate(zip(*lists, strict=True))]
