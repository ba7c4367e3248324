"""Every command README.md and docs/*.md show is classified, and the runnable ones run.

The table (``tests/doc_commands_table.py``) says for each command how it is tested and how
it is scaled; ``tests/doc_commands.py`` finds the commands in the documents and runs them.
This file runs the ``dev`` and ``bpy`` lanes (``make test-docs``); the ``real`` lane's
entries run in ``tests/real/test_documented_commands.py`` (``make test-real``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import doc_commands as dc
import pytest
from doc_commands_table import COMMANDS, MENTION, Covered, DocOnly, Run, Synopsis

DOCUMENTED = dc.all_commands()
LANES = ("dev", "bpy")
MAKEFILE = (dc.REPO / "Makefile").read_text()


def test_every_documented_command_is_in_the_table() -> None:
    missing = sorted({f"{c.source}: {c.key!r}" for c in DOCUMENTED if c.key not in COMMANDS})
    assert not missing, ("documented commands the table (tests/doc_commands_table.py) does "
                         "not classify:\n" + "\n".join(missing))


def test_every_table_entry_is_still_documented() -> None:
    stale = sorted(set(COMMANDS) - {c.key for c in DOCUMENTED})
    assert not stale, "table entries no document shows any more:\n" + "\n".join(stale)


def test_references_resolve() -> None:
    for key, entry in COMMANDS.items():
        if isinstance(entry, Run):
            assert entry.lane in ("dev", "bpy", "real"), key
            for dep in entry.after:
                assert isinstance(COMMANDS.get(dep), Run), f"{key}: after {dep!r} is no Run"
        if isinstance(entry, Covered) and entry.by.startswith("tests/"):
            assert (dc.REPO / entry.by.split("::")[0]).exists(), f"{key}: {entry.by} is gone"
        if isinstance(entry, Covered) and entry.by.startswith("make "):
            target = entry.by.split()[1]
            assert re.search(rf"^{re.escape(target)}:", MAKEFILE, re.M), f"{key}: {entry.by}?"
    assert all(e.why for e in COMMANDS.values() if isinstance(e, DocOnly | Covered))


def test_doc_only_stays_short() -> None:
    """Only install steps and names in prose go unrun."""
    doc_only = {k: e for k, e in COMMANDS.items() if isinstance(e, DocOnly)}
    odd = [k for k, e in doc_only.items() if not (
        k.startswith("pip install") or k.startswith("```python")
        or (e.why == MENTION and len(k.split()) <= 4))]
    assert not odd, f"not run without being an install step or a name in prose: {odd}"


# ----------------------------------------------------------------------------- running


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[dc.Reader]:
    """A fresh copy of the checkout for one chain of commands (removed afterwards)."""
    missing = [v for v in dc.VENVS if not (dc.REPO / v / ".ready").exists()]
    if missing:
        pytest.skip(f"no {', '.join(missing)}: run `make setup` (make test-docs does)")
    (tmp_path / "scratch").mkdir()
    root = dc.checkout_copy(tmp_path / "checkout")
    yield dc.Reader(root, tmp_path / "scratch", LANES)
    shutil.rmtree(tmp_path, ignore_errors=True)


def fold_id(key: str) -> str:
    """A test id: the command's first 70 characters."""
    return re.sub(r"\s+", " ", key)[:70]


@pytest.mark.parametrize("key", dc.chains(LANES), ids=fold_id)
def test_documented_command_runs(reader: dc.Reader, key: str) -> None:
    reader.run(key)


@pytest.mark.parametrize("key", [k for k, e in COMMANDS.items() if isinstance(e, Synopsis)])
def test_synopsis_flags_exist(reader: dc.Reader, key: str) -> None:
    entry = COMMANDS[key]
    assert isinstance(entry, Synopsis)
    proc = dc.run_shell(f"{entry.help} --help", reader.root, reader.env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    named = set(re.findall(r"--[a-z][\w-]*", key))
    if "{" in key:  # a subcommand list
        named |= set(re.search(r"\{([^}]*)\}", key).group(1).split(","))  # type: ignore[union-attr]
    gone = sorted(n for n in named if n not in proc.stdout)
    assert not gone, f"{key}: not in `{entry.help} --help`: {gone}"


def test_shipped_weights_size_is_as_documented() -> None:
    """The README and the docs give the shipped decoder's size (it was '2 MB' for a while)."""
    size = (dc.REPO / "latent_faces" / "weights" / "vae_synthetic.npz").stat().st_size / 1e6
    readme = (dc.REPO / "README.md").read_text()
    docs = (dc.REPO / "docs" / "latent_faces.md").read_text()
    stated = re.findall(r"([\d.]+) MB of weights", readme) + re.findall(
        r"vae_synthetic\.npz`, ([\d.]+) MB", docs)
    assert len(stated) == 2, stated
    for s in stated:
        assert abs(float(s) - size) <= 0.05, f"documented {s} MB, the file is {size:.2f} MB"
