"""``python -m latent_faces``: see :mod:`latent_faces.cli`."""

import sys

from .cli import main

sys.exit(main())
