"""User folders for the real-Blender lane: empty, or with the built extension installed.

A script from the checkout must run the same whether or not the user installed the
extension as the README says (``render_scenes/checkout.py``), and leave the user's folders
as they were: preferences, the installed add-on and the wheel files Blender unpacked. Each
folder is a fresh ``BLENDER_USER_*`` set under the test's temporary folder (never the real
user's), used through a small wrapper command that sets them and runs ``blender``.

A test module runs each of its tests in both folders by importing the fixtures
:func:`blender` (overriding conftest's), :func:`work_dir` and :func:`user_files_untouched`.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from blender_run import REPO, run_blender

#: ``empty``: nothing installed; ``extension``: the zip ``make extension`` builds, installed
#: and enabled with ``blender --command extension install-file -r user_default -e``.
USER_FOLDERS = ("empty", "extension")
#: The installed add-on's module name.
INSTALLED = "bl_ext.user_default.scurve_mirror"
_USER_VARS = {"BLENDER_USER_CONFIG": "config", "BLENDER_USER_SCRIPTS": "scripts",
              "BLENDER_USER_EXTENSIONS": "extensions", "BLENDER_USER_DATAFILES": "datafiles"}


@functools.cache
def extension_zip() -> Path:
    """The extension zip, built once per test run with Blender's own tool (``make
    extension``'s command) into a temporary folder."""
    out = Path(tempfile.mkdtemp(prefix="scurve-ext-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    bpy_python = REPO / ".venv-bpy45" / "bin" / "python"
    r = subprocess.run([str(bpy_python), str(REPO / "tools" / "build_extension.py"),
                        "--output-dir", str(out)],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return Path(r.stdout.strip().splitlines()[-1])


def user_blender(blender: str, kind: str, folder: Path) -> str:
    """A command in ``folder`` that runs ``blender`` with its user folders in
    ``folder/user``: empty, or (``kind == "extension"``) with the extension installed and
    enabled, and Blender started once after (its first start compiles the wheel's modules
    imported at start-up: part of the installed state, not of a script's run)."""
    user = folder / "user"
    user.mkdir(parents=True)
    exports = "".join(f"export {var}={shlex.quote(str(user / sub))}\n"
                      for var, sub in _USER_VARS.items())
    command = folder / "blender"
    command.write_text(f"#!/bin/sh\n{exports}exec {shlex.quote(blender)} \"$@\"\n")
    command.chmod(0o755)
    if kind == "extension":
        r = run_blender(str(command), "--command", "extension", "install-file",
                        "-r", "user_default", "-e", str(extension_zip()), timeout=300)
        assert r.returncode == 0 and "Installed" in r.stdout, r.stdout + r.stderr
        r = run_blender(str(command), "-b", "--python-expr",
                        f"import sys; assert {INSTALLED!r} in sys.modules", timeout=300)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        assert (user / "config" / "userpref.blend").is_file()
    elif kind != "empty":
        raise ValueError(f"unknown user folder kind {kind!r}")
    return str(command)


def user_folder_of(command: str) -> Path:
    """The user folder of a :func:`user_blender` command."""
    return Path(command).parent / "user"


def snapshot(user: Path) -> dict[str, str]:
    """Every file under ``user``: relative path -> SHA-256."""
    return {p.relative_to(user).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(user.rglob("*")) if p.is_file()}


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What differs between two snapshots, one line per file."""
    return ([f"removed {k}" for k in sorted(before.keys() - after.keys())]
            + [f"added {k}" for k in sorted(after.keys() - before.keys())]
            + [f"changed {k}" for k in sorted(before.keys() & after.keys())
               if before[k] != after[k]])


def has_extension(command: str) -> bool:
    """Whether the user folder of ``command`` has the extension installed."""
    return (user_folder_of(command) / "extensions" / "user_default" / "scurve_mirror").is_dir()


def assert_runs_the_checkout(output: str, prog: str, command: str) -> None:
    """``prog`` said, in one line, that it ran this checkout's code, and that it set the
    installed extension aside exactly when there is one."""
    lines = [ln for ln in output.splitlines() if ln.startswith(f"{prog}: code: ")]
    assert len(lines) == 1, output[-3000:]
    assert lines[0].startswith(f"{prog}: code: the checkout {REPO} (S-Curve Mirror "), lines[0]
    set_aside = f"the installed extension {INSTALLED} "
    assert (set_aside in lines[0]) == has_extension(command), lines[0]


@pytest.fixture(scope="module", params=USER_FOLDERS)
def blender(blender: str, request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real blender (conftest's) with its own user folders: empty, or with the
    extension installed."""
    return user_blender(blender, request.param, tmp_path_factory.mktemp(f"user-{request.param}"))


@pytest.fixture(scope="module")
def work_dir(blender: str) -> Path:
    """One output folder per user folder (a stale file must not pass for a new one)."""
    folder = Path(blender).parent / "work"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def user_files_untouched(blender: str) -> Iterator[None]:
    """Preferences, the installed add-on and its wheel files: byte-identical after a test."""
    user = user_folder_of(blender)
    before = snapshot(user)
    yield
    assert not changes(before, snapshot(user))
