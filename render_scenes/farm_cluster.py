"""The farm's Dask side: connecting to a cluster, submitting frames, and watching workers.

A frame is submitted as a call by name through the standard library
(:func:`render_scenes.farm_worker.farm_call`): Dask's scheduler unpickles every task it
is given, and a stock ``dask scheduler`` cannot import this project, so nothing of it may
be pickled by reference. Workers import it (they need its code and ``bpy`` anyway).

While frames are out, the workers are watched: a worker that vanishes while it holds one
of the farm's frames is named with that frame; "waiting for a worker" is said only when
every worker left while none of them was rendering a frame of this farm. A frame that
keeps killing workers is failed by Dask after ``distributed.scheduler.allowed-failures``
deaths (``KilledWorker``), and is reported with that count, alone.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from render_scenes import farm_worker
from scurve_geom.cli_common import signals

__all__ = ["FarmError", "Watch", "connect", "error_text", "lost_text", "stderr_say",
           "submit"]

#: Largest LocalCluster chosen without --workers: each worker holds a whole Blender.
MAX_DEFAULT_WORKERS = 4
#: Seconds to fetch a finished frame's result before looking at the workers again.
FETCH = 10.0


class FarmError(Exception):
    """The cluster cannot be used (unreachable, no workers, no bpy): one line, exit 2."""


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def error_text(exc: BaseException, labels: dict[str, str] | None = None) -> str:
    """The whole cause of a frame's failure on one line.

    A worker's ValueError is already a sentence naming the parameter; ``KilledWorker``
    (Dask gave up on a frame whose workers kept dying) says how many died and which was
    last, by name when ``labels`` (address -> worker name) knows it; anything else keeps
    its type and its whole message, newlines folded.
    """
    kind = type(exc).__name__
    if kind == "KilledWorker" and len(exc.args) == 3:
        _, last, allowed = exc.args
        address = getattr(last, "address", str(last))
        name = (labels or {}).get(address) or getattr(last, "name", None) or address
        shown = f"{name} ({address})" if str(name) != address else address
        return (f"KilledWorker: {allowed + 1} workers died in turn while rendering this frame "
                f"(Dask's distributed.scheduler.allowed-failures = {allowed}); the last was "
                f"{shown}: see its log")
    text = _one_line(str(exc))
    if isinstance(exc, ValueError) and text:
        return text
    return f"{kind}: {text}" if text else kind


@contextlib.contextmanager
def connect(ns: argparse.Namespace, n_jobs: int) -> Iterator[tuple[Any, int, str]]:
    """A Dask client; yields ``(client, cycles_threads, description)``. ``ns`` holds the
    farm's flags: ``scheduler`` / ``scheduler_file`` (else a LocalCluster), ``workers``,
    ``cycles_threads``, ``connect_timeout``.

    Raises
    ------
    FarmError
        When the scheduler cannot be reached, no worker joins in time, or a worker cannot
        import the farm's code or bpy.
    """
    if importlib.util.find_spec("distributed") is None:
        raise FarmError("needs Dask: pip install dask distributed (requirements/bpy45.txt)")
    # Dask logs retries and worker losses at length; the farm reports what matters itself.
    from distributed import Client, LocalCluster

    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name.startswith("distributed"):  # its config sets some children's levels
            logging.getLogger(name).setLevel(logging.CRITICAL)

    cores = os.cpu_count() or 1
    remote = ns.scheduler or (str(ns.scheduler_file) if ns.scheduler_file else None)
    with contextlib.ExitStack() as stack:
        if remote is None:
            if importlib.util.find_spec("bpy") is None:
                raise FarmError("needs Blender: run it with a Python that has the bpy module "
                                "(.venv-bpy45), or use --scheduler")
            workers = ns.workers or max(1, min(n_jobs, cores, MAX_DEFAULT_WORKERS))
            threads = ns.cycles_threads or max(1, cores // workers)
            # One thread per worker: bpy holds one scene per process. A Ctrl-C while it
            # starts waits for the start (seconds): Dask cannot close a half-started
            # LocalCluster (an AssertionError traceback at exit, workers left behind).
            with signals.deferred():
                cluster = stack.enter_context(LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=logging.CRITICAL))
                client = stack.enter_context(Client(cluster))
            where = f"a LocalCluster ({threads} Cycles threads per worker)"
        else:
            try:
                if ns.scheduler_file is not None:
                    client = stack.enter_context(Client(scheduler_file=str(ns.scheduler_file),
                                                        timeout=ns.connect_timeout))
                else:
                    client = stack.enter_context(Client(ns.scheduler,
                                                        timeout=ns.connect_timeout))
            except (OSError, TimeoutError, ValueError) as exc:
                raise FarmError(f"cannot reach the scheduler at {remote}: "
                                f"{_one_line(str(exc)) or type(exc).__name__}") from None
            try:
                client.wait_for_workers(1, timeout=ns.connect_timeout)
            except TimeoutError:
                raise FarmError(f"no worker joined the scheduler at {remote} within "
                                f"{ns.connect_timeout:g} s") from None
            threads = ns.cycles_threads
            where = f"the scheduler at {client.scheduler.address}"
        try:
            info = client.run(farm_worker.worker_info)
        except Exception as exc:  # an import error on a worker, whatever its type
            raise FarmError(f"a worker cannot run the farm's code ({type(exc).__name__}: "
                            f"{_one_line(str(exc))}): start each worker in a clone of this "
                            "project, with PYTHONPATH=$PWD and its bpy environment") from None
        blender = sorted({i["blender"] for i in info.values()})
        yield client, threads, f"{len(info)} workers of {where}, Blender {', '.join(blender)}"


def submit(client: Any, payload: dict[str, Any], key: str) -> Any:
    """One frame as a Dask future (see :func:`render_scenes.farm_worker.farm_call`)."""
    return client.submit(*farm_worker.farm_call(farm_worker.RENDER_JOB, payload), key=key,
                         pure=False)


class Watch:
    """The futures as they finish, with the workers watched meanwhile.

    ``describe(key)`` names a frame (``"0002.png (s_amplitude=0.3)"``) for this farm's
    task keys and returns None for others. ``say`` prints one line.
    """

    def __init__(self, client: Any, describe: Callable[[str], str | None],
                 say: Callable[[str], None], poll: float = 1.0) -> None:
        self.client, self.describe, self.say, self.poll = client, describe, say, poll
        #: Address -> name of every worker seen, for KilledWorker's message too.
        self.names: dict[str, str] = {}
        self._holding: dict[str, list[str]] = {}
        #: Address -> the task key it said it started last (Dask's event log).
        self._started: dict[str, str] = {}
        self._delivered: set[str] = set()
        self._alone = False
        client.subscribe_topic(farm_worker.STARTED_TOPIC, self._on_started)

    def _on_started(self, event: tuple[float, dict[str, str]]) -> None:
        msg = event[1]
        self._started[msg["worker"]] = msg["key"]

    def arrivals(self, futures: Iterable[Any]) -> Iterator[tuple[Any, Any, BaseException | None]]:
        """``(future, result, None)`` or ``(future, None, exception)`` as frames finish.

        A finished frame's result lives on its worker until fetched; if that worker dies
        first, Dask computes the frame again, so fetching is bounded too (``FETCH`` seconds,
        time enough for a big PNG on a slow link) and the frame goes back to the pending
        ones: the farm never waits unwatched."""
        from distributed import wait
        from distributed.utils import CancelledError

        pending = set(futures)
        self._look()
        while pending:
            try:
                done, pending = wait(pending, timeout=self.poll, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            except CancelledError as exc:  # the scheduler went away: every frame is lost
                raise FarmError(lost_text(exc)) from None
            arrived = []
            for fut in done:
                if fut.status == "cancelled":
                    raise FarmError(lost_text(None))
                if fut.status == "error":
                    arrived.append((fut, None, fut.exception()))
                    continue
                try:
                    arrived.append((fut, fut.result(timeout=FETCH), None))
                    self._delivered.add(str(fut.key))
                except TimeoutError:
                    pending.add(fut)  # its worker is gone with the result: computed again
                except Exception as exc:  # failed after all (KilledWorker on the re-run)
                    arrived.append((fut, None, exc))
            self._look()
            yield from arrived

    def _look(self) -> None:
        """Compare the workers with the last look: name the ones that vanished holding a
        frame of this farm; say once when none is left."""
        try:
            # One light call a look: every worker's address with its tasks.
            processing = self.client.processing()
            workers = set(processing)
            if workers - set(self.names):  # names of new workers, once
                info = self.client.scheduler_info(n_workers=-1).get("workers") or {}
                for address, w in info.items():
                    self.names[address] = str(w.get("name", address))
        except Exception:  # the scheduler itself is going away; the waits will tell
            return
        # Workers seen in a look, or only through their start event (one that joined and
        # died between two looks).
        lost = [a for a in {*self._holding, *self._started} if a not in workers]
        killed = []
        for address in lost:
            held = self._holding.pop(address, [])
            started = self._started.pop(address, None)
            # The frame it said it started unless it came back whole (it may have failed
            # since: KilledWorker); else the frames Dask had given it.
            keys = ([started] if started is not None and started not in self._delivered
                    else [k for k in held if k not in self._delivered])
            frames = [d for d in map(self.describe, keys) if d]
            name = self.names.get(address, address)
            if frames:
                killed.append(name)
                shown = name if name == address else f"{name} ({address})"
                self.say(f"worker {shown} was lost while rendering "
                         f"{', '.join(frames)}; Dask gives it to another worker")
        self._holding = {a: [str(k) for k in processing.get(a, ())] for a in workers}
        if workers:
            self._alone = False
        elif not self._alone:
            self._alone = True
            if killed:
                self.say(f"every worker is gone, the last ({', '.join(killed)}) while "
                         "rendering this farm's frames; they run again when a worker joins "
                         "(Ctrl-C stops)")
            else:
                self.say("no worker is connected; waiting for one (frames done so far are "
                         "kept; Ctrl-C stops)")


def lost_text(exc: BaseException | None) -> str:
    """One line for frames Dask cancelled under the farm: the scheduler stopped (Ctrl-C in
    its terminal) or the connection to it broke."""
    reasons = sorted({str(g.reason) for g in getattr(exc, "error_groups", ())})
    why = f" ({', '.join(reasons)})" if reasons else ""
    return (f"the scheduler cancelled this farm's frames{why}: it stopped or cannot be "
            "reached; frames delivered so far are kept, the same command renders the rest")


def stderr_say(prog: str) -> Callable[[str], None]:
    """One line on stderr with the program's prefix."""
    def say(line: str) -> None:
        print(f"{prog}: {line}", file=sys.stderr, flush=True)

    return say
