"""Output files that appear whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """``write(tmp_name)`` into a temporary file beside ``path``, then rename it over ``path``.

    The file gets the permissions a plain ``open()`` would give it (``mkstemp`` makes
    0600); on any error the temporary file goes and ``path`` is untouched.
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, dir=folder, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
