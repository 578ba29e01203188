"""``python -m screener_synth``."""

import sys

from screener_synth.cli import main

sys.exit(main())
