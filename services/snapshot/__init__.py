"""Import of a snapshot directory in SPEC §1's layout."""

from services.snapshot.importer import ImportReport, import_snapshot

__all__ = ["ImportReport", "import_snapshot"]
