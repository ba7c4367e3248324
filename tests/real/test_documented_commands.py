"""The documented commands that need a ``blender`` executable, run as the reader types them.

The table (``tests/doc_commands_table.py``, lane ``real``) says how each is scaled; the
``dev`` and ``bpy`` lanes run in ``tests/docs``. The reader has ``blender`` on ``PATH``
(the README says so); here that is the lane's Blender, linked into a folder put first on
``PATH``. ``make`` targets that read ``$BLENDER`` get the same one.
"""

from __future__ import annotations

import doc_commands as dc
import pytest
from doc_commands_table import COMMANDS

RUNS = [k for k in dc.chains(("real", "bpy")) if COMMANDS[k].lane == "real"]


@pytest.fixture
def reader(blender: str, tmp_path_factory: pytest.TempPathFactory) -> dc.Reader:
    """A fresh copy of the checkout per chain, with ``blender`` on ``PATH``."""
    missing = [v for v in dc.VENVS if not (dc.REPO / v / ".ready").exists()]
    if missing:
        pytest.skip(f"no {', '.join(missing)}: run `make setup` (make test-real does)")
    shim = tmp_path_factory.mktemp("path")
    (shim / "blender").symlink_to(blender)
    root = dc.checkout_copy(tmp_path_factory.mktemp("checkout"))
    r = dc.Reader(root, tmp_path_factory.mktemp("scratch"), ("real", "bpy"), path=str(shim))
    r.env["BLENDER"] = str(shim / "blender")
    # Blender's own folders for this run: `extension install-file -r user_default` must not
    # touch the user's (the command is the README's; only where it installs differs).
    user = tmp_path_factory.mktemp("user")
    for name in ("CONFIG", "SCRIPTS", "EXTENSIONS", "DATAFILES"):
        r.env[f"BLENDER_USER_{name}"] = str(user / name.lower())
    return r


@pytest.mark.parametrize("key", RUNS, ids=lambda k: " ".join(k.split())[:70])
def test_documented_blender_command_runs(reader: dc.Reader, key: str) -> None:
    reader.run(key)

