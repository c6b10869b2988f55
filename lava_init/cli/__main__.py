"""``python -m lava_init.cli COMMAND ...`` (e.g. under torchrun) is ``lava-init COMMAND ...``."""

import sys

from lava_init.cli.main import main

sys.exit(main())
