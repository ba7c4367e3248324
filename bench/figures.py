"""Check the numbers the README and docs quote against the benches' result files.

    python bench/figures.py [--update] [README.md docs/*.md]

A quoted figure carries an anchor right after it (after its unit, if any), an HTML comment
that Markdown does not show::

    16 faces in 84.9 ms<!-- bench:decoder.current_ms --> against ...
    | whole pipeline | 234,950<!-- bench:optics.pipeline_rays_per_s --> | 0.45 |
    4.2 %<!-- bench:farm.overhead_fraction_per_further_frame|*100 --> of a frame

``decoder`` names ``bench/results/decoder.json``; the rest is a path into it, ``.``
between keys, a list index as a number, ``*`` for every item. After ``|`` come operations
applied in turn: ``*K`` / ``/K`` (scale, e.g. ``*100`` for a percentage, ``/1e6`` for
millions), ``inv`` (1 / x), ``mean``, ``min``, ``max`` (of a list), ``ratio:PATH`` (divided
by another value of the same file, a list's mean). The figure must equal the value rounded
as it is shown (to its last printed digit), and the file and every key must exist. Prints
one line per figure; exits 1 if any differs or is missing.

After re-running a bench, ``--update`` rewrites each anchored figure from its file, shown to
the same digits; read the prose around the changed numbers before committing them.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
ANCHOR = re.compile(r"<!--\s*bench:(?P<spec>[^>]*?)\s*-->")
#: A number as the docs print it (thousands commas, decimals, e-notation), then up to 24
#: characters of unit or markup without digits, then the anchor.
NUMBER_BEFORE = re.compile(
    r"(?P<num>\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?)(?P<gap>[^\d]{0,24})$")


@dataclass(frozen=True)
class Figure:
    """One anchored number: where it is, what is shown, what it names."""

    source: str
    line: int
    shown: str
    spec: str

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


def find_figures(text: str, source: str = "<text>") -> list[Figure]:
    """Every anchored figure in ``text``; an anchor with no number before it raises
    ValueError naming its line."""
    figures = []
    for m in ANCHOR.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        before = ANCHOR.sub("", text[max(0, m.start() - 80):m.start()])
        n = NUMBER_BEFORE.search(before)
        if n is None or "\n" in n.group("gap"):
            raise ValueError(f"{source}:{line}: anchor 'bench:{m.group('spec')}' follows no "
                             "number")
        figures.append(Figure(source, line, n.group("num"), m.group("spec")))
    return figures


def _walk(value: Any, keys: list[str], spec: str) -> Any:
    for i, key in enumerate(keys):
        if key == "*":
            if isinstance(value, dict):
                value = list(value.values())
            return [_walk(v, keys[i + 1:], spec) for v in value]
        if isinstance(value, list):
            if not key.lstrip("-").isdigit() or not -len(value) <= int(key) < len(value):
                raise KeyError(f"'{spec}': no item {key!r} in a list of {len(value)}")
            value = value[int(key)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            raise KeyError(f"'{spec}': no key {key!r}")
    return value


def value_of(spec: str, results: Path = RESULTS) -> float:
    """The number ``spec`` (``file.key.path|op|op``) names in the results folder."""
    path, *ops = [part.strip() for part in spec.split("|")]
    stem, _, rest = path.partition(".")
    file = results / f"{stem}.json"
    if not file.is_file():
        raise KeyError(f"'{spec}': no result file {file.relative_to(file.parents[2])}")
    data = json.loads(file.read_text())
    value = _walk(data, rest.split(".") if rest else [], spec)
    for op in ops:
        if op in ("mean", "min", "max"):
            xs = [float(x) for x in value]
            value = {"mean": sum(xs) / len(xs), "min": min(xs), "max": max(xs)}[op]
        elif op[:1] in "*/" and len(op) > 1:
            k = float(op[1:])
            value = float(value) * k if op[0] == "*" else float(value) / k
        elif op == "inv":
            value = 1.0 / float(value)
        elif op.startswith("ratio:"):
            other = _walk(data, op[6:].split("."), spec)
            if isinstance(other, list):
                other = sum(float(x) for x in other) / len(other)
            value = float(value) / float(other)
        else:
            raise KeyError(f"'{spec}': unknown operation {op!r}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KeyError(f"'{spec}': names {type(value).__name__}, not a number")
    return float(value)


def matches(shown: str, value: float) -> bool:
    """Whether ``value`` rounds to ``shown`` at ``shown``'s last digit."""
    text = shown.replace(",", "")
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.partition(".")[2])
    step = 10.0 ** (int(exponent or 0) - decimals)
    return math.isfinite(value) and abs(float(text) - value) <= step / 2 * (1 + 1e-9)


def check(files: list[Path], results: Path = RESULTS) -> tuple[list[str], list[str]]:
    """(report lines, problems) for every anchored figure in ``files``."""
    lines, problems = [], []
    for f in files:
        try:
            name = str(f.relative_to(ROOT)) if f.is_relative_to(ROOT) else str(f)
            figures = find_figures(f.read_text(), name)
        except ValueError as e:
            problems.append(str(e))
            continue
        for fig in figures:
            try:
                value = value_of(fig.spec, results)
            except KeyError as e:
                problems.append(f"{fig.where}: {fig.shown}: {e.args[0]}")
                continue
            ok = matches(fig.shown, value)
            lines.append(f"{fig.where}: {fig.shown} {'==' if ok else '!='} {value:.6g} "
                         f"({fig.spec})")
            if not ok:
                problems.append(f"{fig.where}: shows {fig.shown} but '{fig.spec}' is "
                                f"{value:.6g}")
    return lines, problems


def render(shown: str, value: float) -> str:
    """``value`` printed the way ``shown`` is (digits after the point, commas, e-notation)."""
    mantissa, _, exponent = shown.partition("e")
    decimals = len(mantissa.partition(".")[2])
    if exponent:
        m, e = f"{value:.{decimals}e}".split("e")
        return f"{m}e{int(e)}"
    return f"{value:{',' if ',' in shown else ''}.{decimals}f}"


def update(file: Path, results: Path = RESULTS) -> list[str]:
    """Rewrite every anchored figure of ``file`` from its result; returns what changed."""
    text = file.read_text()
    changes = []
    for m in reversed(list(ANCHOR.finditer(text))):
        lo = max(0, m.start() - 80)
        n = NUMBER_BEFORE.search(text[lo:m.start()])
        if n is None or "\n" in n.group("gap"):
            continue  # check() reports it
        try:
            value = value_of(m.group("spec"), results)
        except KeyError:
            continue
        new = render(n.group("num"), value)
        if new != n.group("num"):
            a, b = lo + n.start("num"), lo + n.end("num")
            text = text[:a] + new + text[b:]
            line = text.count("\n", 0, a) + 1
            changes.append(f"{file.name}:{line}: {n.group('num')} -> {new} ({m.group('spec')})")
    file.write_text(text)
    return changes[::-1]


def documents() -> list[Path]:
    """The files whose figures are checked: README.md and docs/*.md."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    files = [Path(a).resolve() for a in args if a != "--update"] or documents()
    if "--update" in args:
        for f in files:
            print("\n".join(update(f)) or f"{f.name}: no change")
    lines, problems = check(files)
    print("\n".join(lines))
    for p in problems:
        print(f"figures: {p}", file=sys.stderr)
    print(f"{len(lines)} figures, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
