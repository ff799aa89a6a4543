"""Database layer: tables, engine, migrations."""
