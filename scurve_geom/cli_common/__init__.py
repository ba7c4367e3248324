"""What every command line of the project shares, one concern per module.

- :mod:`.usage`: :class:`~.usage.UsageError` and the argument parser that reports a bad
  argument in one line (exit status 2), with range-checked number types for flags.
- :mod:`.atomic`: outputs that appear whole or not at all, one file or several together.
- :mod:`.signals`: how a command ends -- Ctrl-C, SIGTERM, a closed pipe, a usage error.

They live in ``scurve_geom`` because it is the bottom of the project's imports: ``latent_faces``
(Blender side and training), ``render_scenes`` and ``blender_addon`` all may import it, it
never imports them, and these modules import only the standard library (no numpy, no bpy),
so there is no cycle and no cost beyond ``scurve_geom`` itself. The extension's wheel ships
``scurve_geom`` whole, so Blender's Python has them too.
"""

from .atomic import atomic_outputs, check_output, write_atomically
from .signals import Interrupted, cli_main, hard_stop
from .usage import OneLineParser, UsageError, bounded_float, bounded_int, check_range

__all__ = [
    "Interrupted",
    "OneLineParser",
    "UsageError",
    "atomic_outputs",
    "bounded_float",
    "bounded_int",
    "check_output",
    "check_range",
    "cli_main",
    "hard_stop",
    "write_atomically",
]
