"""`order-recon`, the command line: `main` parses and dispatches (`main.py`), each command group has a
module of its own, and `context.py` holds what every command is given."""

from services.cli.main import main

__all__ = ["main"]
