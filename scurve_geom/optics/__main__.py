"""``python -m scurve_geom.optics``: see :mod:`scurve_geom.optics.cli`."""

from .cli import main

raise SystemExit(main())
