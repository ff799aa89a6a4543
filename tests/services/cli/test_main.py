"""The CLI contract, run as a real process: JSON answers, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SMALL_STORE
from tests.services.cli.support import run_cli
from tests.services.snapshots import copy_sample, edit_json

EXPECTED = json.loads((SMALL_STORE / "expected.json").read_text())
POLICY = str(SMALL_STORE / "sla.toml")


def run(db: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(db, *args, env=env)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "cli.db"
    result = run(path, "import", str(SMALL_STORE), "--config", POLICY)
    assert result.returncode == 0, result.stderr
    assert "7 store" in result.stdout
    return path


def json_of(db: Path, *args: str) -> object:
    result = run(db, *args, "--config", POLICY, "--as-of", EXPECTED["as_of"], "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_queue_json(db: Path) -> None:
    rows = json_of(db, "queue")
    assert [{"order": r["order"], "due_at": r["due_at"]} for r in rows] == EXPECTED["queue"]
    assert all("business_days_late" in r for r in rows)


def test_informational_json(db: Path) -> None:
    rows = json_of(db, "informational")
    assert [{k: r[k] for k in ("order", "category", "vendor_late") if k in r} for r in rows] == EXPECTED[
        "informational"
    ]
    assert all(r["reason"] for r in rows)


def test_discrepancies_json(db: Path) -> None:
    rows = json_of(db, "discrepancies")
    assert [{"code": r["code"], "order": r["order"]} for r in rows] == EXPECTED["discrepancies"]
    assert all(r["detail"] for r in rows)


@pytest.mark.parametrize("name", sorted(EXPECTED["checks"]))
def test_check_json(db: Path, name: str) -> None:
    payload = json_of(db, "check", name)
    assert payload["order"] == name
    assert payload["actionable"] is EXPECTED["checks"][name]["actionable"]
    assert {r["code"]: r["level"] for r in payload["results"]} == EXPECTED["checks"][name]["results"]
    assert all(r["message"] for r in payload["results"])


def test_check_of_an_unknown_order_is_order_exists_blocked(db: Path) -> None:
    payload = json_of(db, "check", "#404")
    assert payload == {
        "order": "#404",
        "actionable": False,
        "results": [
            {"code": "order.exists", "level": "blocked", "message": payload["results"][0]["message"]}
        ],
    }


def test_metrics_json(db: Path) -> None:
    start, end = EXPECTED["metrics_period"]
    assert json_of(db, "metrics", "--from", start, "--to", end) == EXPECTED["metrics"]


def test_config_from_the_environment(db: Path) -> None:
    result = run(db, "queue", "--as-of", EXPECTED["as_of"], "--json", env={"ORDER_RECON_CONFIG": POLICY})
    assert [r["order"] for r in json.loads(result.stdout)] == ["#2001", "#2007"]


def test_readable_table_without_json(db: Path) -> None:
    result = run(db, "queue", "--config", POLICY, "--as-of", EXPECTED["as_of"])
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split()[:3] == ["order", "due_at", "business_days_late"]
    assert "#2007" in result.stdout and "missing_at_3pl" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["queue", "--as-of", "yesterday"], "--as-of 'yesterday'"),
        (["metrics", "--from", "2026-13-01", "--to", "2026-07-01"], "--from"),
        (["metrics", "--from", "2026-07-02", "--to", "2026-07-01"], "after"),
        (["queue", "--config", "/nonexistent/sla.toml"], "policy file not found"),
        (["import", "/nonexistent/dir"], "not a directory"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(db: Path, args: list[str], message: str) -> None:
    result = run(db, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_bad_policy_file_is_named(db: Path, tmp_path: Path) -> None:
    policy = tmp_path / "sla.toml"
    policy.write_text('handling_days = "one"\n')
    result = run(db, "queue", "--config", str(policy))
    assert result.returncode == 2 and "handling_days" in result.stderr and str(policy) in result.stderr


def test_a_bad_snapshot_is_refused_whole(db: Path, tmp_path: Path) -> None:
    snapshot = copy_sample(tmp_path)
    edit_json(snapshot / "shopify/orders.json", lambda d: d["orders"][4]["line_items"][0].pop("quantity"))
    result = run(db, "import", str(snapshot), "--config", POLICY)
    assert result.returncode == 2
    assert (
        "shopify/orders.json" in result.stderr and "record 4" in result.stderr and "quantity" in result.stderr
    )
    assert [r["order"] for r in json_of(db, "queue")] == ["#2001", "#2007"]
