"""The rulebook (SPEC §2–§6): pure functions and values, no database or network."""
