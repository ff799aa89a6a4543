"""SPEC §2: business calendar, start day, due day, due_at, lateness, and the policy file."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from checks.categories import classify
from checks.policy import PolicyError, SlaPolicy, load_policy, policy_from_mapping
from tests.checks.factories import at, line_item, policy, store_order, vendor_line_item, view
from tests.checks.sample_records import SMALL_STORE

# 2026: Jul 1 is a Wednesday, Jul 3 a Friday; DST ends Sun Nov 1 and starts Sun Mar 8 in New York.
# The SPEC example policy: holidays Thu Nov 26 and Fri Dec 25.


@pytest.mark.parametrize(
    ("created_at", "start_day"),
    [
        # cutoff boundary
        ("2026-07-01T13:59:59-04:00", "2026-07-01"),
        ("2026-07-01T14:00:00-04:00", "2026-07-02"),
        ("2026-07-01T00:00:00-04:00", "2026-07-01"),
        ("2026-07-01T23:59:59-04:00", "2026-07-02"),
        # weekends
        ("2026-07-03T13:00:00-04:00", "2026-07-03"),
        ("2026-07-03T15:00:00-04:00", "2026-07-06"),
        ("2026-07-04T10:00:00-04:00", "2026-07-06"),
        ("2026-07-05T10:00:00-04:00", "2026-07-06"),
        # holidays
        ("2026-11-25T13:00:00-05:00", "2026-11-25"),
        ("2026-11-25T15:00:00-05:00", "2026-11-27"),
        ("2026-11-26T09:00:00-05:00", "2026-11-27"),
        ("2026-12-24T15:00:00-05:00", "2026-12-28"),
        # UTC and other offsets, read on the store's clock
        ("2026-07-01T17:59:59Z", "2026-07-01"),
        ("2026-07-01T18:00:00Z", "2026-07-02"),
        ("2026-07-02T02:30:00+09:00", "2026-07-01"),  # Jul 2 in Tokyo, Jul 1 13:30 in New York
        ("2026-07-02T03:00:00+09:00", "2026-07-02"),
        ("2026-07-04T02:00:00+09:00", "2026-07-03"),  # Saturday in Tokyo, Friday 13:00 in New York
        ("2026-07-01T10:59:59-07:00", "2026-07-01"),
        ("2026-07-01T11:00:00-07:00", "2026-07-02"),
        ("2026-07-04T03:30:00Z", "2026-07-06"),  # Saturday in UTC, Friday 23:30 in New York
        # DST end week (EDT -04:00 until Sun Nov 1, then EST -05:00)
        ("2026-10-30T13:59:59-04:00", "2026-10-30"),
        ("2026-10-31T12:00:00-04:00", "2026-11-02"),
        ("2026-11-01T01:30:00-05:00", "2026-11-02"),
        ("2026-11-02T18:59:59Z", "2026-11-02"),  # 13:59:59 EST (would be 14:59:59 in EDT)
        ("2026-11-02T19:00:00Z", "2026-11-03"),
        # DST start week (EST until Sun Mar 8, then EDT)
        ("2026-03-06T18:59:59Z", "2026-03-06"),
        ("2026-03-09T17:59:59Z", "2026-03-09"),  # 13:59:59 EDT (would be 12:59:59 in EST)
        ("2026-03-09T18:00:00Z", "2026-03-10"),
    ],
)
def test_start_day(created_at: str, start_day: str) -> None:
    assert policy().start_day(at(created_at)) == date.fromisoformat(start_day)


@pytest.mark.parametrize(
    ("created_at", "handling_days", "due_day"),
    [
        ("2026-07-01T10:00:00-04:00", 0, "2026-07-01"),
        ("2026-07-01T10:00:00-04:00", 1, "2026-07-02"),
        ("2026-07-01T10:00:00-04:00", 2, "2026-07-03"),
        ("2026-07-01T10:00:00-04:00", 3, "2026-07-06"),
        ("2026-07-01T10:00:00-04:00", 5, "2026-07-08"),
        ("2026-07-01T15:00:00-04:00", 0, "2026-07-02"),
        ("2026-07-04T10:00:00-04:00", 0, "2026-07-06"),
        ("2026-07-04T10:00:00-04:00", 1, "2026-07-07"),
        ("2026-11-25T10:00:00-05:00", 1, "2026-11-27"),
        ("2026-11-25T10:00:00-05:00", 5, "2026-12-03"),
        ("2026-12-24T10:00:00-05:00", 1, "2026-12-28"),
        ("2026-10-30T13:00:00-04:00", 1, "2026-11-02"),
        ("2026-03-06T10:00:00-05:00", 1, "2026-03-09"),
    ],
)
def test_due_day(created_at: str, handling_days: int, due_day: str) -> None:
    assert policy().due_day(at(created_at), handling_days) == date.fromisoformat(due_day)


@pytest.mark.parametrize(
    ("shipping_method", "handling_days"),
    [("Express", 0), ("Standard", 1), (None, 1), ("Overnight", 1), ("express", 1), ("Express ", 1)],
)
def test_handling_days_by_shipping_method(shipping_method: str | None, handling_days: int) -> None:
    assert policy().handling_days_for(shipping_method) == handling_days


@pytest.mark.parametrize(
    ("created_at", "shipping_method", "due_day", "standard_due_day"),
    [
        ("2026-07-01T10:00:00-04:00", "Express", "2026-07-01", "2026-07-02"),
        ("2026-07-01T15:00:00-04:00", "Express", "2026-07-02", "2026-07-03"),
        ("2026-07-03T16:00:00-04:00", "Express", "2026-07-06", "2026-07-07"),
        ("2026-07-01T10:00:00-04:00", "Standard", "2026-07-02", "2026-07-02"),
        ("2026-07-01T10:00:00-04:00", "Overnight", "2026-07-02", "2026-07-02"),
        ("2026-07-01T10:00:00-04:00", None, "2026-07-02", "2026-07-02"),
    ],
)
def test_override_and_standard_deadline(
    created_at: str, shipping_method: str | None, due_day: str, standard_due_day: str
) -> None:
    order = store_order(created_at=at(created_at), shipping_method=shipping_method)
    classification = classify(view(store=order), policy())
    assert classification.due_day == date.fromisoformat(due_day)
    assert classification.standard_due_day == date.fromisoformat(standard_due_day)


@pytest.mark.parametrize(
    ("created_at", "lines", "vendor_due_day"),
    [
        ("2026-07-01T10:00:00-04:00", (vendor_line_item(),), "2026-07-08"),
        ("2026-07-01T10:00:00-04:00", (line_item(), vendor_line_item()), "2026-07-08"),
        ("2026-11-20T15:00:00-05:00", (vendor_line_item(),), "2026-12-01"),
        ("2026-07-01T10:00:00-04:00", (line_item(),), None),
    ],
)
def test_vendor_deadline(created_at: str, lines: tuple, vendor_due_day: str | None) -> None:
    order = store_order(created_at=at(created_at), line_items=lines, shipping_method="Express")
    classification = classify(view(store=order), policy())
    expected = date.fromisoformat(vendor_due_day) if vendor_due_day else None
    assert classification.vendor_due_day == expected


@pytest.mark.parametrize(
    ("due_day", "due_at"),
    [
        ("2026-07-02", "2026-07-02T23:59:59-04:00"),
        ("2026-10-30", "2026-10-30T23:59:59-04:00"),
        ("2026-11-02", "2026-11-02T23:59:59-05:00"),
        ("2026-01-15", "2026-01-15T23:59:59-05:00"),
        ("2026-03-06", "2026-03-06T23:59:59-05:00"),
        ("2026-03-09", "2026-03-09T23:59:59-04:00"),
    ],
)
def test_due_at_carries_the_local_offset(due_day: str, due_at: str) -> None:
    assert policy().due_at(date.fromisoformat(due_day)).isoformat() == due_at


@pytest.mark.parametrize(
    ("due_day", "as_of", "late"),
    [
        ("2026-07-02", "2026-07-02T10:00:00-04:00", False),
        ("2026-07-02", "2026-07-02T23:59:59-04:00", False),
        ("2026-07-02", "2026-07-03T00:00:00-04:00", True),
        ("2026-07-02", "2026-07-03T03:59:59Z", False),
        ("2026-07-02", "2026-07-03T04:00:00Z", True),
        ("2026-07-02", "2026-07-03T12:59:59+09:00", False),
        ("2026-07-02", "2026-07-03T13:00:00+09:00", True),
        ("2026-07-02", "2026-07-02T20:59:59-07:00", False),
        ("2026-07-02", "2026-07-02T21:00:00-07:00", True),
        ("2026-11-03", "2026-11-04T04:59:59Z", False),
        ("2026-11-03", "2026-11-04T05:00:00Z", True),
        ("2026-07-02", "2026-07-01T12:00:00-04:00", False),
    ],
)
def test_is_late(due_day: str, as_of: str, late: bool) -> None:
    assert policy().is_late(date.fromisoformat(due_day), at(as_of)) is late


@pytest.mark.parametrize(
    ("day", "business"),
    [
        ("2026-07-03", True),
        ("2026-07-04", False),
        ("2026-07-05", False),
        ("2026-11-26", False),
        ("2026-12-25", False),
        ("2026-11-27", True),
    ],
)
def test_is_business_day(day: str, business: bool) -> None:
    assert policy().is_business_day(date.fromisoformat(day)) is business


def test_custom_business_week_and_cutoff() -> None:
    six_day = policy(business_days=frozenset(range(6)), cutoff=time(12, 0))
    assert six_day.start_day(at("2026-07-04T11:59:59-04:00")) == date(2026, 7, 4)
    assert six_day.start_day(at("2026-07-04T12:00:00-04:00")) == date(2026, 7, 6)


def test_other_store_timezone() -> None:
    pacific = policy(timezone="America/Los_Angeles")
    # 16:30 in New York is 13:30 in Los Angeles: before that store's cutoff
    assert pacific.start_day(at("2026-07-01T16:30:00-04:00")) == date(2026, 7, 1)
    assert pacific.due_at(date(2026, 7, 2)).isoformat() == "2026-07-02T23:59:59-07:00"


# --- the policy file ------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sla.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_sample_policy() -> None:
    loaded = load_policy(SMALL_STORE / "sla.toml")
    assert loaded == SlaPolicy(
        timezone="America/New_York",
        cutoff=time(14, 0),
        handling_days=1,
        business_days=frozenset(range(5)),
        holidays=frozenset({date(2026, 7, 3), date(2026, 9, 7)}),
        third_party_vendors=frozenset({"Nordic Knitworks"}),
        vendor_handling_days=5,
        missing_after_hours=4,
        stalled_after_days=5,
        shipping_methods={"Express": 0},
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SlaPolicy()),
        ('cutoff = "09:30"', SlaPolicy(cutoff=time(9, 30))),
        ("holidays = [2026-11-26]", SlaPolicy(holidays=frozenset({date(2026, 11, 26)}))),
        ('business_days = ["Sun", "Mon"]', SlaPolicy(business_days=frozenset({6, 0}))),
        ("missing_after_hours = 2.5", SlaPolicy(missing_after_hours=2.5)),
        ('[shipping_methods]\n"Next Day" = 0', SlaPolicy(shipping_methods={"Next Day": 0})),
    ],
)
def test_load_policy_values(tmp_path: Path, text: str, expected: SlaPolicy) -> None:
    assert load_policy(_write(tmp_path, text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('handling_days = "1"', "`handling_days` has the wrong type (str)"),
        ("handling_days = true", "`handling_days` has the wrong type (bool)"),
        ("handling_days = 1.5", "`handling_days` has the wrong type (float)"),
        ("handling_days = -1", "`handling_days` must not be negative"),
        ("vendor_handling_days = [5]", "`vendor_handling_days` has the wrong type (list)"),
        ('missing_after_hours = "4"', "`missing_after_hours` has the wrong type (str)"),
        ("stalled_after_days = false", "`stalled_after_days` has the wrong type (bool)"),
        ("cutoff = 1400", "`cutoff` has the wrong type (int)"),
        ("cutoff = 14:00:00", "`cutoff` has the wrong type (time)"),
        ('cutoff = "25:00"', "sla.toml:"),
        ('cutoff = "14:00+02:00"', "`cutoff` is a store-local time"),
        ('business_days = "Mon"', "`business_days` has the wrong type (str)"),
        ('business_days = ["Monday", "Tue"]', "unknown business day(s) ['Monday']"),
        ('business_days = ["mon"]', "unknown business day(s) ['mon']"),
        ("business_days = []", "`business_days` must name at least one day"),
        ('holidays = "2026-11-26"', "`holidays` has the wrong type (str)"),
        ('holidays = ["2026-02-30"]', "sla.toml:"),
        ('holidays = ["next thursday"]', "sla.toml:"),
        ('timezone = "Mars/Olympus"', "unknown timezone 'Mars/Olympus'"),
        ('timezone = "America/New York"', "unknown timezone"),
        ("timezone = 5", "`timezone` has the wrong type (int)"),
        ('timezone = ""', "sla.toml:"),
        ('third_party_vendors = "Nordic Knitworks"', "`third_party_vendors` has the wrong type (str)"),
        ("shipping_methods = 0", "`shipping_methods` has the wrong type (int)"),
        ('[shipping_methods]\nExpress = "0"', "shipping_methods.Express must be a whole number of days"),
        ("[shipping_methods]\nExpress = -1", "shipping_methods.Express must be a whole number of days"),
        ("[shipping_methods]\nExpress = true", "shipping_methods.Express must be a whole number of days"),
        ("timezone = ", "not valid TOML"),
        ('cutoff = "14:00"\ncutoff = "15:00"', "not valid TOML"),
        ("[shipping_methods\nExpress = 0", "not valid TOML"),
    ],
)
def test_load_policy_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(_write(tmp_path, text))
    assert message in str(raised.value)
    assert str(tmp_path / "sla.toml") in str(raised.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(tmp_path / "absent.toml")


def test_policy_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="custom-source: unknown timezone"):
        policy_from_mapping({"timezone": "Nowhere/City"}, source="custom-source")
