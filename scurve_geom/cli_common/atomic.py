"""Outputs that appear whole or not at all -- one file, or several together.

Each output is written to a hidden temporary file in its own folder and renamed over the
target when complete (a rename within a folder is atomic). Several outputs are renamed
only after all of them were written, so a failure half-way leaves none. Temporary files
in flight are tracked, so :mod:`.signals` can remove them when a signal ends the process
without unwinding (the render scripts), and error messages name the output, never the
temporary file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .usage import UsageError

__all__ = ["atomic_folder", "atomic_outputs", "check_folder", "check_output",
           "check_output_folder", "commit", "discard", "pending_files",
           "remove_pending", "temp_beside", "track", "write_atomically", "write_text_atomically"]

_PENDING: set[str] = set()
#: Held while temporary files are renamed or removed, so that a signal ending the process
#: from another thread never sees a half-done commit.
LOCK = threading.RLock()


def _folder(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _prefix(flag: str | None) -> str:
    return f"{flag}: " if flag else ""


def check_folder(folder: str | os.PathLike[str], what: str, flag: str | None = None) -> None:
    """Refuse (:class:`UsageError`, ``[FLAG: ]cannot write WHAT: ...``) unless a file can be
    created in ``folder``, or ``folder`` is missing and can be made with its missing parents,
    as ``mkdir -p`` would (the default ``out/...`` and ``runs/...`` outputs in a fresh clone,
    where those folders are not there yet). ``os.access`` says yes to root on a read-only
    file system, so creating (and removing) a hidden file in the nearest existing folder is
    the honest test."""
    existing = Path(folder)
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{_prefix(flag)}cannot write {what}: {str(existing)!r} is a file, "
                         "not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".probe-"):
            pass
    except OSError as exc:
        raise UsageError(f"{_prefix(flag)}cannot write {what}: {exc.strerror or exc}") from None


def check_output(path: str | os.PathLike[str], suffixes: Sequence[str] | None = None,
                 flag: str | None = "--out") -> Path:
    """Refuse (:class:`UsageError`) an output file that cannot be written, before any work.

    Checks the extension (``suffixes``, lower case with the dot), that the folder exists
    and a file can be created in it (:func:`check_folder`), and that ``path`` is not a
    folder. Messages start with ``flag`` (none if None).
    """
    path = Path(path)
    shown = repr(str(path))
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise UsageError(f"{_prefix(flag)}cannot write {shown}: unknown extension "
                         f"{path.suffix!r}, use {' or '.join(suffixes)}")
    if path.is_dir():
        raise UsageError(f"{_prefix(flag)}cannot write {shown}: it is a folder")
    check_folder(_folder(path), shown, flag)
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{_prefix(flag)}cannot write {shown}: permission denied")
    return path


def check_output_folder(path: str | os.PathLike[str], flag: str | None = "--out") -> Path:
    """Refuse (:class:`UsageError`) an output folder that cannot be written, before any work:
    it must be a folder in which a file can be created, or not exist yet (it is made later,
    with its missing parents) under such a folder. Messages start with ``flag`` (none if None)."""
    path = Path(path)
    shown = repr(str(path))
    if path.exists() and not path.is_dir():
        raise UsageError(f"{_prefix(flag)}cannot write {shown}: it is a file, not a folder")
    check_folder(path if path.is_dir() else _folder(path), shown, flag)
    return path


def temp_beside(path: str | os.PathLike[str], suffix: str | None = None) -> str:
    """A new, empty, tracked temporary file next to ``path`` (hidden, same extension unless
    ``suffix``), with the permissions a plain ``open()`` would give (``mkstemp`` makes 0600).
    Rename it with :func:`commit` or drop it with :func:`discard`."""
    path = Path(path)
    # Where a CLI's check allowed a missing folder (the render scripts' out/...), make it.
    _folder(path).mkdir(parents=True, exist_ok=True)
    with LOCK:
        try:
            fd, tmp = tempfile.mkstemp(dir=_folder(path), prefix=f".{path.name}.",
                                       suffix=path.suffix if suffix is None else suffix)
        except OSError as exc:
            # Name the output, not the temporary file that could not be made.
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        _PENDING.add(tmp)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return tmp


def discard(tmp: str) -> None:
    """Remove a temporary file from :func:`temp_beside` or folder from :func:`atomic_folder`
    (if it is still there)."""
    with LOCK:
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        _PENDING.discard(tmp)


def commit(pairs: Sequence[tuple[str, Path]]) -> None:
    """Rename each temporary file over its target, with SIGINT/SIGTERM held back meanwhile
    (:func:`.signals.deferred`) so a signal cannot split the set."""
    from .signals import deferred  # signals imports this module

    with deferred(), LOCK:
        for tmp, path in pairs:
            os.replace(tmp, path)
            _PENDING.discard(tmp)


def track(path: str) -> None:
    """Count ``path`` (a writer's own side file, e.g. Blender's ``FILE@``) as in flight, so
    :func:`remove_pending` removes it too; :func:`discard` it when done."""
    with LOCK:
        _PENDING.add(str(path))


def pending_files() -> list[str]:
    """Temporary files in flight (for tests and emergency cleanup)."""
    with LOCK:
        return sorted(_PENDING)


def remove_pending() -> None:
    """Remove every temporary file in flight: the process is about to end abruptly."""
    with LOCK:
        for tmp in list(_PENDING):
            discard(tmp)


def _public(exc: OSError, tmp: str, path: Path) -> OSError:
    """``exc`` with the target's name where it names the temporary file."""
    if exc.filename == tmp or exc.filename2 == tmp or tmp in str(exc):
        return OSError(exc.errno, exc.strerror or str(exc).replace(tmp, str(path)), str(path))
    return exc


@contextlib.contextmanager
def atomic_outputs(*paths: str | os.PathLike[str]) -> Iterator[list[str]]:
    """Yield one temporary name per output; on a normal exit rename them all over their
    outputs, on any exception (or signal) remove them all and leave the outputs untouched.

    Writers write to the temporary names, which keep each output's extension (so format
    detection by extension works). An ``OSError`` naming a temporary file is re-raised
    naming its output instead.
    """
    targets = [Path(p) for p in paths]
    tmps: list[str] = []
    try:
        for p in targets:
            tmps.append(temp_beside(p))
        try:
            yield tmps
        except OSError as exc:
            for tmp, p in zip(tmps, targets, strict=False):
                new = _public(exc, tmp, p)
                if new is not exc:
                    raise new from None
            raise
        commit(list(zip(tmps, targets, strict=True)))
    finally:
        for tmp in tmps:
            discard(tmp)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new, empty, tracked hidden folder beside ``path`` to fill; on a normal exit
    it becomes ``path``, on any exception (or signal) it is removed and ``path`` is left
    as it was. A set of files that belong together (a report with its drawings) thus
    appears whole or not at all.

    An existing folder at ``path`` is replaced: renamed aside, the new one renamed in, the
    old one deleted -- with signals held back (:func:`.signals.deferred`), so an
    interruption leaves the old set or the new one, never neither. Deciding whether
    ``path`` may be replaced is the caller's business.
    """
    from .signals import deferred  # signals imports this module

    path = Path(path)
    parent = _folder(path)
    # Where a CLI's check allowed a missing folder (mkdir -p), make it.
    parent.mkdir(parents=True, exist_ok=True)
    with LOCK:
        try:
            tmp = tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent)
        except OSError as exc:
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        _PENDING.add(tmp)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; a plain mkdir would not
        yield Path(tmp)
        with deferred(), LOCK:
            if os.path.lexists(path):
                old = tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=parent)
                _PENDING.add(old)
                os.replace(path, os.path.join(old, "x"))
                os.replace(tmp, path)
                _PENDING.discard(tmp)
                discard(old)
            else:
                os.replace(tmp, path)
                _PENDING.discard(tmp)
    finally:
        discard(tmp)


def write_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    """``path.write_text(text)``, whole or not at all."""

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as fh:
            fh.write(text)

    write_atomically(path, write)


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> None:
    """``write(tmp_name)`` into a temporary file beside ``path``, then rename it over
    ``path``; on any error the temporary file goes and ``path`` is untouched."""
    with atomic_outputs(path) as (tmp,):
        write(tmp)
