"""The order `make test` hands tests to its workers in (tests/scheduling.py)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.scheduling import slowest_first, unit_of


@dataclass
class Item:
    nodeid: str


def test_a_shared_folder_is_one_unit_and_any_other_module_is_its_own() -> None:
    assert unit_of("tests/e2e/test_console.py::test_a") == "tests/e2e"
    assert unit_of("tests/pages/test_smoke.py::test_b[agent-sla]") == "tests/pages"
    assert unit_of("tests/services/test_sync.py::test_c[postgres]") == "tests/services/test_sync.py"
    assert unit_of("tests/checks/test_join.py::TestJoin::test_d") == "tests/checks/test_join.py"


def test_the_slow_units_go_first_then_the_largest_each_in_its_own_order() -> None:
    ids = [
        "tests/checks/test_a.py::one",
        "tests/services/test_b.py::one",
        "tests/services/test_b.py::two",
        "tests/e2e/test_z.py::one",
        "tests/e2e/test_y.py::two",
        "tests/sandbox/test_sandbox_webhooks.py::one",
    ]
    ordered = [item.nodeid for item in slowest_first([Item(i) for i in ids])]
    assert ordered == [
        "tests/e2e/test_z.py::one",
        "tests/e2e/test_y.py::two",
        "tests/sandbox/test_sandbox_webhooks.py::one",
        "tests/services/test_b.py::one",
        "tests/services/test_b.py::two",
        "tests/checks/test_a.py::one",
    ]
