"""The README's and docs' performance figures are the numbers in bench/results/*.json.

No bench runs here: the benches write their result files (``bench/timing.write_result``),
the docs quote them with an anchor (``84.9 ms<!-- bench:decoder.current_ms -->``), and this
checks every anchored figure against its file, rounded as shown (``bench/figures.py``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


figures = _load("figures")


def test_every_documented_figure_is_its_bench_result() -> None:
    lines, problems = figures.check(figures.documents())
    assert not problems, "\n".join(problems)
    by_file = {line.split(":")[0] for line in lines}
    # The performance section and the latent_faces timing are anchored, not just one number.
    assert "README.md" in by_file and "docs/latent_faces.md" in by_file
    assert len(lines) >= 40, lines


def test_result_files_say_how_they_were_made() -> None:
    written = []
    for path in sorted((ROOT / "bench" / "results").glob("*.json")):
        data = json.loads(path.read_text())
        if "run" in data:
            written.append(path.name)
            run = data["run"]
            for key in ("command", "date", "machine", "load_average", "python"):
                assert run.get(key), f"{path.name}: run.{key} missing"
            assert len(run["load_average"]) == 3
            assert run["command"].startswith("bench/bench_") or "bench/bench_" in run["command"]
    assert len(written) >= 8, written


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    (tmp_path / "x.json").write_text(json.dumps({
        "t_ms": 84.94, "rate": 526222.7, "frac": 0.04162, "gap": 1.94e-6, "flag": True,
        "runs": [{"s": 4.0}, {"s": 4.6}], "a": {"b": 2.0}, "base": 0.5, "name": "x"}))
    return tmp_path


def _check(text: str, results: Path, tmp_path: Path) -> list[str]:
    doc = tmp_path / "doc.md"
    doc.write_text(text)
    return figures.check([doc], results)[1]


@pytest.mark.parametrize("text", [
    "decode in 84.9 ms<!-- bench:x.t_ms --> here",
    "| 526,223<!-- bench:x.rate --> |",
    "**84.9 ms**<!-- bench:x.t_ms -->",
    "85 ms <!-- bench:x.t_ms -->",
    "4.2 %<!-- bench:x.frac|*100 --> of a frame",
    "0.53 M<!-- bench:x.rate|/1e6 -->",
    "to 1.9e-6 m<!-- bench:x.gap -->",
    "mean 4.3 s<!-- bench:x.runs.*.s|mean -->, last 4.6<!-- bench:x.runs.-1.s -->",
    "4.0×<!-- bench:x.a.b|ratio:base -->, halved 2.0<!-- bench:x.a.b|ratio:base|/2 -->",
    "0.47<!-- bench:x.a.b|ratio:runs.*.s --> and 2.0<!-- bench:x.base|inv -->",
])
def test_a_figure_that_matches_passes(text: str, results: Path, tmp_path: Path) -> None:
    assert _check(text, results, tmp_path) == []


@pytest.mark.parametrize(("text", "says"), [
    ("decode in 85.0 ms<!-- bench:x.t_ms -->", "shows 85.0"),
    ("decode in 84.8 ms<!-- bench:x.t_ms -->", "shows 84.8"),
    ("| 526,000<!-- bench:x.rate --> |", "shows 526,000"),
    ("4.1 %<!-- bench:x.frac|*100 -->", "shows 4.1"),
    ("1 s<!-- bench:x.missing -->", "no key 'missing'"),
    ("1 s<!-- bench:nofile.t_ms -->", "no result file"),
    ("1 s<!-- bench:x.runs.5.s -->", "no item '5'"),
    ("1<!-- bench:x.name -->", "not a number"),
    ("1<!-- bench:x.flag -->", "not a number"),
    ("1<!-- bench:x.t_ms|median -->", "unknown operation"),
    ("no number here <!-- bench:x.t_ms -->", "follows no number"),
])
def test_a_figure_that_differs_or_names_nothing_fails(text: str, says: str, results: Path,
                                                      tmp_path: Path) -> None:
    problems = _check(text, results, tmp_path)
    assert len(problems) == 1 and says in problems[0], problems


def test_the_cli_exits_1_on_a_wrong_figure(results: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(figures, "RESULTS", results)
    monkeypatch.setattr(figures.check, "__defaults__", (results,))
    good, bad = tmp_path / "good.md", tmp_path / "bad.md"
    good.write_text("84.9 ms<!-- bench:x.t_ms -->\n")
    bad.write_text("ok 84.9 ms<!-- bench:x.t_ms -->\nbad 90 ms<!-- bench:x.t_ms -->\n")
    assert figures.main([str(good)]) == 0
    assert figures.main([str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.md:2: shows 90 but 'x.t_ms' is 84.94" in err


def test_update_rewrites_figures_as_shown(results: Path, tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("in 90.0 ms<!-- bench:x.t_ms --> at 1,000<!-- bench:x.rate --> rays/s,\n"
                   "gap 2.0e-6 m<!-- bench:x.gap -->, 4 %<!-- bench:x.frac|*100 -->, "
                   "kept 84.9<!-- bench:x.t_ms --> and 1<!-- bench:x.missing -->\n")
    changes = figures.update(doc, results)
    assert doc.read_text() == (
        "in 84.9 ms<!-- bench:x.t_ms --> at 526,223<!-- bench:x.rate --> rays/s,\n"
        "gap 1.9e-6 m<!-- bench:x.gap -->, 4 %<!-- bench:x.frac|*100 -->, "
        "kept 84.9<!-- bench:x.t_ms --> and 1<!-- bench:x.missing -->\n")
    assert len(changes) == 3 and changes[0].startswith("doc.md:1: 90.0 -> 84.9")
    problems = figures.check([doc], results)[1]
    assert len(problems) == 1 and "no key 'missing'" in problems[0]
