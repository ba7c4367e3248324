"""How a command ends: Ctrl-C, SIGTERM, a closed pipe, a usage error.

- SIGINT (Ctrl-C) and SIGTERM (``timeout``, a farm, a batch system) raise
  :class:`Interrupted` in the main thread; :func:`cli_main` turns it into one line
  ``PROG: interrupted`` and status 130 (SIGINT) or 143 (SIGTERM), the shell's 128 + signal
  number. Outputs written with :mod:`.atomic` unwind to whole files or none.
- A reader that stops early (``| head``) ends the command quietly with status 141.
- :class:`~.usage.UsageError` and ``OSError`` are one line ``PROG: error: ...``, status 2.
- :func:`hard_stop` is for code whose main thread sits in native code that swallows
  Python exceptions -- Blender's render loop catches the ``KeyboardInterrupt`` raised in
  Cycles' Python and renders on. There a watcher thread, woken by ``signal.set_wakeup_fd``
  at the moment the signal arrives, removes the temporary files in flight and ends the
  process with ``os._exit`` (Cycles releases the GIL while it renders, so the thread runs).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

from . import atomic
from .usage import UsageError

__all__ = ["Interrupted", "cli_main", "deferred", "exit_status", "hard_stop", "install",
           "main_exit", "restore", "run_module"]

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(exc: BaseException) -> int:
    """128 + the signal's number: 130 for SIGINT (and a plain KeyboardInterrupt), 143 for
    SIGTERM."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


def _raise(signum: int, frame: Any) -> None:
    # Later signals while the first one unwinds (removing temporary files) are ignored
    # rather than interrupting the cleanup; SIGKILL remains for a stuck process.
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted(signum)


def install() -> dict[int, Any]:
    """SIGINT and SIGTERM raise :class:`Interrupted` (main thread only; else a no-op).

    Returns the handlers replaced, for :func:`restore`."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, _raise) for s in SIGNALS}


def restore(old: dict[int, Any]) -> None:
    """Put back the handlers :func:`install` replaced (a CLI called in-process, e.g. from a
    test, leaves its caller's signal handling as it was)."""
    for s, h in old.items():
        signal.signal(s, h if h is not None else signal.SIG_DFL)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """SIGINT/SIGTERM arriving within the block take effect when it ends, not inside it.

    For work a signal must not split (renaming a set of outputs) or leave half-built
    (starting a cluster whose shutdown cannot handle a half-started one). Blocking the
    signal in this thread is not enough: the kernel then delivers it to another thread,
    and Python still runs the handler in the main thread at once. So the handlers are
    swapped for one that notes the signal, which is raised again after the block. In other
    threads Python runs no handlers, so nothing can interrupt the block there: a no-op.
    A handler Python did not install (``getsignal`` is None: Blender's own for Ctrl-C in
    the ``blender`` binary) raises nothing in Python and could not be put back: left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []

    def note(signum: int, frame: Any) -> None:
        got.append(signum)

    old = {s: h for s in SIGNALS
           if (h := signal.getsignal(s)) is not None and h is not signal.SIG_IGN}
    for s in old:
        signal.signal(s, note)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if got:
            signal.raise_signal(got[0])


def main_exit(status: int) -> NoReturn:
    """End a ``python -m`` command with ``status`` once :func:`cli_main` has returned.

    :func:`cli_main` gives the caller its handlers back, which for a command are Python's
    own: a Ctrl-C in the interpreter's last moments (the work done, every file whole) would
    then kill it with SIGINT and a ``KeyboardInterrupt`` traceback instead of the status the
    work earned. Nothing is left to interrupt, so the signals are ignored from here on.
    """
    if threading.current_thread() is threading.main_thread():
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)
    sys.exit(status)


def run_module(prog: str, load_main: Callable[[], Callable[[], int]]) -> NoReturn:
    """A ``python -m`` command's whole life: ``load_main()`` imports the command's module
    (numpy, libigl, torch: the slow part of a start) and returns its ``main``; then it runs.

    Ctrl-C or SIGTERM while the imports run is the same one line and 130/143 as during
    the work, not a ``KeyboardInterrupt`` traceback from deep inside an import.
    """
    install()
    try:
        main = load_main()
    except KeyboardInterrupt as exc:
        _say(f"{prog}: interrupted")
        main_exit(exit_status(exc))
    main_exit(main())


def _quiet_stdout() -> None:
    # Python would print a second traceback flushing stdout at exit: point it at /dev/null.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def cli_main(prog: str, run: Callable[[Sequence[str] | None], int],
             argv: Sequence[str] | None = None) -> int:
    """Run ``run(argv)`` as a command named ``prog`` and return its exit status.

    0 (or what ``run`` returns); 2 with ``PROG: error: MESSAGE`` for a
    :class:`UsageError` or ``OSError``; 130/143 with ``PROG: interrupted`` after SIGINT or
    SIGTERM; 141, silently, when stdout's reader has gone.
    """
    old = install()
    try:
        status = run(argv)
        # Flush inside the try: a closed pipe otherwise surfaces at interpreter exit.
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _quiet_stdout()
        return 141
    except KeyboardInterrupt as exc:
        _say(f"{prog}: interrupted")
        return exit_status(exc)
    except (UsageError, OSError) as exc:
        _say(f"{prog}: error: {_one_line(exc)}")
        return 2
    finally:
        restore(old)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return " ".join(str(exc).split()) or type(exc).__name__


def _say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def hard_stop(prog: str, before_exit: Callable[[], None] | None = None) -> Iterator[None]:
    """Within the block, SIGINT/SIGTERM end the process at once from a watcher thread:
    temporary files in flight are removed, ``before_exit()`` runs, ``PROG: interrupted``
    is printed, and the status is 130/143 -- even while native code (a Blender render)
    holds the main thread. Must be entered in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    r, w = os.pipe()
    os.set_blocking(w, False)
    old_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    # The Python-level handler must not raise: Cycles would print the KeyboardInterrupt and
    # go on. The C-level handler Python installs for it still writes to the wakeup fd.
    old = {s: signal.signal(s, lambda signum, frame: None) for s in SIGNALS}
    done = threading.Event()

    def watch() -> None:
        while True:
            try:
                data = os.read(r, 16)
            except OSError:
                return
            if done.is_set() or not data:
                return
            for signum in data:
                if signum in SIGNALS:
                    with atomic.LOCK:
                        atomic.remove_pending()
                        if before_exit is not None:
                            with contextlib.suppress(Exception):
                                before_exit()
                        _say(f"{prog}: interrupted")
                        os._exit(128 + signum)

    thread = threading.Thread(target=watch, name="hard-stop", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        signal.set_wakeup_fd(old_fd)
        for s, h in old.items():
            signal.signal(s, h)
        os.close(w)
        thread.join(timeout=1)
        os.close(r)
