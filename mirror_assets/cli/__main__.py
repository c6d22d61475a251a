"""`python -m mirror_assets.cli`: the same as the `mirror-catalog` console script."""

import sys

from mirror_assets.cli.main import main

sys.exit(main())
