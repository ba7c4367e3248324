"""``python -m scurve_geom``: see :mod:`scurve_geom.cli`."""

from collections.abc import Callable

from .cli_common.signals import run_module


def _load() -> Callable[[], int]:
    # Imported here, under run_module's signal handling: the slow part of a start.
    from .cli import main

    return main


run_module("scurve_geom", _load)
