"""Every command README.md and docs/*.md show, found by reading them as a reader does.

A *command* is a line of a fenced shell block (a ``for ... done`` loop is one command;
``# comments`` and ``\\`` continuations are folded away), a whole ``python`` block, or an
inline code span that starts the way a command does: an interpreter or tool
(``python``, ``.venv-bpy45/bin/python``, ``make``, ``blender``, ``dask``, ``pip`` ...), an
environment assignment before one, or a script path followed by arguments
(``render_scenes/farm.py --out ...``). Inline spans may wrap over lines; their whitespace is
folded to single spaces, which is also the key the table in ``doc_commands_table.py`` uses.

Everything here is plain text work (no subprocesses), so the "is every command classified"
test runs in every lane in well under a second.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from doc_commands_table import COMMANDS, Run

REPO = Path(__file__).resolve().parents[1]

#: First words that make a line or a span a command.
COMMAND_WORDS = frozenset({
    "python", "python3", "python3.11", "make", "blender", "bash", "sh", "dask", "pip",
    "git", "cd", "timeout", "ezdxf", "for", "source", "nice", "env", "cp",
})
_ENV_ASSIGN = re.compile(r"^[A-Z][A-Z0-9_]*=\S*$")
_VENV_BIN = re.compile(r"^(~/\S*/)?\.venv[^/\s]*/bin/\S+$")
_SCRIPT_PATH = re.compile(r"^\S*/\S+\.(py|sh)$")
_SHELL_LANGS = frozenset({"", "bash", "sh", "shell", "console"})


@dataclass(frozen=True)
class DocCommand:
    """One documented command: its text (whitespace folded), where it is, and its form."""

    text: str
    source: str  # "README.md:123"
    form: str  # "block" (a fenced shell line), "python" (a fenced python block), "inline"

    @property
    def key(self) -> str:
        """The table's key: the folded text; a python block by its first line."""
        if self.form == "python":
            return "```python " + fold(self.text.strip().splitlines()[0])
        return fold(self.text)


def fold(text: str) -> str:
    """``text`` with every run of whitespace one space, stripped."""
    return " ".join(text.split())


def is_command(text: str) -> bool:
    """Whether a code span or a block line is a command (see the module docstring)."""
    words = text.split()
    while words and _ENV_ASSIGN.match(words[0]):
        words = words[1:]
    if len(words) < 2:
        return False  # a program's name in prose (`blender`, `make`), not a command line
    first = words[0]
    if first in COMMAND_WORDS or _VENV_BIN.match(first):
        return True
    return bool(_SCRIPT_PATH.match(first)) and len(words) > 1


def documents() -> list[Path]:
    """The documents whose commands must run: README.md and docs/*.md."""
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _strip_comment(line: str) -> str:
    # A '#' that starts a word outside quotes starts a comment (the blocks use no '#' in
    # arguments); quotes are tracked so that `--python-expr "a # b"` would survive.
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def _block_commands(body: list[str]) -> list[str]:
    """A shell block's commands: logical lines, loops whole, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in body:
        line = _strip_comment(raw)
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        if pending.strip().startswith("[") and logical:
            logical[-1] += " " + pending.strip()  # a usage summary's wrapped [options]
        elif pending.strip():
            logical.append(pending)
        pending = ""
    if pending.strip():
        logical.append(pending)
    commands: list[str] = []
    loop: list[str] = []
    depth = 0
    for line in logical:
        words = re.findall(r"[\w-]+", line)
        opened = words.count("do")
        closed = words.count("done")
        if depth or opened > closed:
            loop.append(line.strip())
            depth += opened - closed
            if depth <= 0:
                commands.append("\n".join(loop))
                loop, depth = [], 0
            continue
        if is_command(line):
            commands.append(fold(line))
    return commands


def extract(path: Path) -> list[DocCommand]:
    """Every command in one Markdown file, in reading order."""
    name = path.relative_to(REPO).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[DocCommand] = []
    prose: list[tuple[int, str]] = []  # (line number, text) outside fenced blocks
    i = 0
    while i < len(lines):
        fence = re.match(r"^\s*```\s*(\S*)\s*$", lines[i])
        if not fence:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        lang, start = fence.group(1).lower(), i + 1
        j = start
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            j += 1
        body = lines[start:j]
        if lang == "python":
            found.append(DocCommand("\n".join(body).strip("\n"), f"{name}:{start}", "python"))
        elif lang in _SHELL_LANGS:
            found += [DocCommand(c, f"{name}:{start}", "block") for c in _block_commands(body)]
        i = j + 1
    # Inline spans: single backticks, which may wrap over lines inside a paragraph.
    text = "\n".join(t for _, t in prose)
    offsets = []
    pos = 0
    for number, t in prose:
        offsets.append((pos, number))
        pos += len(t) + 1
    for m in re.finditer(r"`([^`]+)`", text):
        span = fold(m.group(1))
        if is_command(span):
            number = max(n for p, n in offsets if p <= m.start())
            found.append(DocCommand(span, f"{name}:{number}", "inline"))
    return found


def output_block(first_line: str) -> str:
    """The fenced block of the docs that starts with ``first_line`` (a printout shown)."""
    for path in documents():
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M):
            if m.group(1).startswith(first_line):
                return m.group(1)
    raise AssertionError(f"no block of the docs starts with {first_line!r}")


def all_commands() -> list[DocCommand]:
    """The commands of every document, README first."""
    return [c for path in documents() for c in extract(path)]


# ----------------------------------------------------------------------------- running

#: The environments a checkout has after ``make setup`` that the commands name.
VENVS = (".venv", ".venv-bpy45")


def checkout_copy(dest: Path) -> Path:
    """A copy of this checkout's files at ``dest`` (what a clone holds, uncommitted edits
    included), with the environments linked in as ``make setup`` left them.

    Commands write into their checkout (``--out docs/img/...``, ``bench/results``); run in
    the copy they never overwrite the committed pictures. Modification times are kept, so
    ``make`` in the copy sees the environments as up to date, as in the original.
    """
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "-co",
                             "--exclude-standard"], capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = REPO / rel
        if not src.is_file():
            continue  # deleted in the work tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    for venv in VENVS:
        if (REPO / venv).is_dir():
            (dest / venv).symlink_to(REPO / venv)
    return dest


def substitute(text: str, scale: tuple[tuple[str, str], ...], tmp: Path) -> str:
    """``text`` with each ``(old, new)`` replaced; an ``old`` that is missing is an error."""
    for old, new in scale:
        if old not in text:
            raise AssertionError(f"the scale substitution {old!r} no longer matches {text!r}")
        text = text.replace(old, new.replace("{tmp}", str(tmp)))
    return text


def make_recipe(target_line: str, cwd: Path, env: dict[str, str]) -> str:
    """What ``make ARGS`` (typed in a shell) would run, as ``make -n`` prints it, the
    environments taken as made."""
    olds = " ".join(f"-o {v}/.ready" for v in VENVS)
    line = target_line.replace("make ", f"make -n {olds} ", 1)
    proc = run_shell(line, cwd, env, timeout=60)
    assert proc.returncode == 0, f"{line}: {proc.stderr}"
    assert proc.stdout.strip(), f"{target_line} has no recipe"
    # Continuation lines joined as the shell joins them, whitespace folded per line so the
    # table's substitutions read as the Makefile's text does.
    return "".join(fold(line) + "\n" for line in re.sub(r"\\\n", " ", proc.stdout).splitlines())


def reader_env(extra_path: str | None = None) -> dict[str, str]:
    """The environment of a reader's shell: this one without the test runner's own
    Python settings (``source .venv/bin/activate`` comes in the command itself)."""
    # Also without the outer `make test`'s own settings (jobserver, level, overrides).
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "MAKEFLAGS", "MFLAGS",
                        "MAKELEVEL", "MAKEOVERRIDES") and not k.startswith("PYTEST")}
    if extra_path:
        env["PATH"] = extra_path + os.pathsep + env.get("PATH", "")
    return env


def run_shell(script: str, cwd: Path, env: dict[str, str], timeout: float
              ) -> subprocess.CompletedProcess[str]:
    """``script`` as the reader types it after ``source .venv/bin/activate``, in ``cwd``."""
    return subprocess.run(["bash", "-c", f"source .venv/bin/activate\n{script}"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def chains(lanes: tuple[str, ...]) -> list[str]:
    """The entries of ``lanes`` no other entry runs first: each is one test, run in a fresh
    copy of the checkout after the entries it reads (a clone's state: no ``out/``,
    ``runs/`` or ``dist/`` left by another command)."""
    runs = {k: e for k, e in COMMANDS.items() if isinstance(e, Run) and e.lane in lanes}
    needed = {d for e in runs.values() for d in e.after}
    return [k for k in runs if k not in needed]


class Reader:
    """A reader's checkout (a copy of this one) in which the table's commands run in order."""

    def __init__(self, root: Path, tmp: Path, lanes: tuple[str, ...],
                 path: str | None = None) -> None:
        self.root, self.tmp, self.lanes = root, tmp, lanes
        self.env = reader_env(path)
        self.done: dict[str, subprocess.CompletedProcess[str]] = {}

    def text(self, key: str) -> str:
        """The command as the document has it (a python block whole)."""
        return next(c.text for c in all_commands() if c.key == key)

    def path(self, rel: str) -> Path:
        rel = rel.replace("{tmp}", str(self.tmp))
        return Path(rel) if rel.startswith("/") else self.root / rel

    def run(self, key: str) -> subprocess.CompletedProcess[str]:
        if key in self.done:
            return self.done[key]
        entry = COMMANDS[key]
        assert isinstance(entry, Run)
        assert entry.lane in self.lanes, f"{key} runs in the {entry.lane} lane, not here"
        for dep in entry.after:
            self.run(dep)
        if entry.setup:
            self._shell(entry.setup, what=f"setup of {key}")
        for out in entry.outputs:  # written by this run, not left by an earlier one
            p = self.path(out)
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        text = self.text(key)
        if key.startswith("```python"):
            script = f"python - <<'EOF'\n{text}\nEOF"
        elif key.startswith("make "):
            # Substitutions that match the command line (a variable) apply there, the
            # others to the recipe.
            on_line = tuple(s for s in entry.scale if s[0] in text)
            rest = tuple(s for s in entry.scale if s[0] not in text)
            recipe = make_recipe(substitute(text, on_line, self.tmp), self.root, self.env)
            script = "set -e\n" + substitute(recipe, rest, self.tmp)
        else:
            script = substitute(text, entry.scale, self.tmp)
        proc = self._shell(script, what=key)
        for out in entry.outputs:
            p = self.path(out)
            assert p.exists(), f"{key}: promised output {out} was not written"
            if p.is_file():
                data = p.read_bytes()
                assert len(data) > 64, f"{key}: {out} is {len(data)} bytes"
                if p.suffix == ".png":
                    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{key}: {out} is no PNG"
        if entry.stdout:
            assert proc.stdout == output_block(entry.stdout), (
                f"{key}: its printout is not the one the docs show:\n{proc.stdout}")
        self.done[key] = proc
        return proc

    def _shell(self, script: str, what: str) -> subprocess.CompletedProcess[str]:
        proc = run_shell(script, self.root, self.env, timeout=900)
        detail = f"{what}\n--- ran:\n{script}\n--- stdout:\n{proc.stdout[-3000:]}\n" \
                 f"--- stderr:\n{proc.stderr[-3000:]}"
        assert proc.returncode == 0, f"exit status {proc.returncode}: {detail}"
        assert "Traceback (most recent call last)" not in proc.stderr, detail
        return proc
