"""Output files that appear whole or not at all: see :mod:`scurve_geom.cli_common.atomic`."""

from ..cli_common.atomic import atomic_outputs, write_atomically

__all__ = ["atomic_outputs", "write_atomically"]
