"""``python -m lava_init.apps COMMAND ...`` (e.g. under torchrun) is ``lava-init COMMAND ...``."""

import sys

from lava_init.apps.cli import main

sys.exit(main())
