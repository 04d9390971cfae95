"""``python -m anchore``: the same as the ``anchore`` command."""

import sys

from anchore.cli import main

sys.exit(main())
