"""The extension's own ``blender_manifest.toml``, read at run time.

The manifest is the one place the version is written: installed, Blender keeps it in
the extension's folder next to these modules; in the source tree it is the repository
root's. A release bumps it there and nothing else, so what the add-on stamps into
files (the node group's build tag) always names the version that made them.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent


def manifest_path() -> Path:
    """``blender_manifest.toml`` of the installed extension, else of the source tree."""
    for candidate in (_HERE / "blender_manifest.toml", _HERE.parent / "blender_manifest.toml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no blender_manifest.toml in {_HERE} or its parent")


@cache
def manifest() -> dict[str, Any]:
    """The parsed manifest (read once per session)."""
    return tomllib.loads(manifest_path().read_text(encoding="utf-8"))


def version() -> str:
    """The extension's version, e.g. ``"0.1.0"``."""
    return str(manifest()["version"])
