"""``python -m sandbox [options]`` runs the simulator; ``python -m sandbox snapshot ...`` writes snapshots."""

import sys

from .cli import main

raise SystemExit(main(sys.argv[1:]))
