"""``python -m gospulse``: the ``gospulse`` command without the console script."""

import sys

from gospulse import main

sys.exit(main())
