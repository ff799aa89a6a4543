"""`python -m services.cli`, as the `order-recon` script."""

import sys

from services.cli.main import main

sys.exit(main())
