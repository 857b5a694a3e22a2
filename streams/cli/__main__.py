"""``python -m streams.cli``: the ``gospulse`` command without the console script."""

import sys

from streams.cli import main

sys.exit(main())
