"""The background import of the table and chart libraries: once per process, never failing a page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ui import warmup


def test_load_imports_what_imports_and_skips_what_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "warmup_broken_module.py").write_text("raise RuntimeError('broken on import')\n")
    (tmp_path / "warmup_fine_module.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("warmup_broken_module", "warmup_fine_module"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    loaded = warmup.load(("warmup_broken_module", "no_such_module_anywhere", "warmup_fine_module"))

    assert loaded == ["warmup_fine_module"]
    assert "warmup_fine_module" in sys.modules and "warmup_broken_module" not in sys.modules


def test_start_loads_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "warmup_first.py").write_text("")
    (tmp_path / "warmup_second.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(warmup, "_loaded", None)

    first = warmup.start(("warmup_first",))
    assert first.wait(10) and "warmup_first" in sys.modules
    second = warmup.start(("warmup_second",))

    assert second is first and "warmup_second" not in sys.modules
    monkeypatch.delitem(sys.modules, "warmup_first")
