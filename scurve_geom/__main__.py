"""``python -m scurve_geom``: see :mod:`scurve_geom.cli`."""

from .cli import main

raise SystemExit(main())
