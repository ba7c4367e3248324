"""``python -m latent_faces``: see :mod:`latent_faces.cli`."""

from collections.abc import Callable

from scurve_geom.cli_common.signals import run_module


def _load() -> Callable[[], int]:
    # Imported here, under run_module's signal handling: the slow part of a start.
    from .cli import main

    return main


run_module("latent_faces", _load)
