"""The shape of the latent_faces package: what runs in Blender stands alone.

* The Blender side (every module of ``latent_faces`` outside ``latent_faces.training``, the
  CLI excepted) imports without torch, Pillow, matplotlib, tqdm and without the training
  side itself, and decodes faces that way (a subprocess in which those imports fail).
* No import cycle among the package's modules, counting the imports made inside functions
  (which is where cycles hide).
* An import inside a function is there for a reason: what it brings in (directly or through
  the imported module's own module-level imports) includes an optional dependency -- torch,
  Pillow, matplotlib, tqdm -- that the importing module does not load otherwise. Anything
  else belongs at the top of the module.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "latent_faces"
# Not in Blender's Python, or not wanted there: only the training side may load them.
OPTIONAL = {"torch", "PIL", "matplotlib", "tqdm"}
NOT_BLENDER_SIDE = ("latent_faces.training", "latent_faces.cli", "latent_faces.__main__")


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (dotted; an internal module or an external top-level name)
    local: bool  # inside a function
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(modules: dict[str, Path]) -> list[Import]:
    found = []
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), str(path))
        local_nodes = {id(n) for f in ast.walk(tree)
                       if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                       for n in ast.walk(f)}
        for node in ast.walk(tree):
            local = id(node) in local_nodes
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                if mod == "__future__":
                    continue
                # ``from pkg import sub`` imports the submodule pkg.sub when there is one.
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod
                           for a in node.names]
            else:
                continue
            for t in targets:
                if t not in modules:
                    t = t if t.startswith("latent_faces") else t.split(".")[0]
                found.append(Import(name, t, local, node.lineno))
    return found


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        for t in edges.get(m, ()):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def _edges(imports: list[Import], local: bool) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for i in imports:
        if local or not i.local:
            edges.setdefault(i.source, set()).add(i.target)
    return edges


def test_no_import_cycles_counting_imports_inside_functions():
    modules = _modules()
    edges = _edges(_imports(modules), local=True)
    assert "latent_faces.training.train" in modules  # the walk sees the subpackage
    cycles = sorted(m for m in modules if m in _closure(m, edges))
    assert cycles == [], f"modules that import themselves through others: {cycles}"


def test_function_local_imports_are_needed():
    modules = _modules()
    imports = _imports(modules)
    top = _edges(imports, local=False)
    needless = []
    for i in imports:
        # A command's __main__ imports its CLI inside run_module's loader on purpose: a
        # Ctrl-C during the slow imports is then one line, not a traceback.
        if not i.local or i.source == "latent_faces.__main__":
            continue
        brings = ({i.target} | _closure(i.target, top)) & OPTIONAL
        already = _closure(i.source, top) & OPTIONAL
        if not brings - already:
            needless.append(f"{modules[i.source].relative_to(ROOT)}:{i.line} {i.target}")
    assert needless == [], "imports inside functions that could be at the top: " + ", ".join(
        needless)
    # The ones that remain: the CLI's torch commands, Pillow for writing PNG sheets, and
    # the command's start.
    assert {i.source for i in imports if i.local} == {
        "latent_faces.cli", "latent_faces.sheet", "latent_faces.__main__"}


def test_blender_side_never_imports_the_training_side():
    modules = _modules()
    edges = _edges(_imports(modules), local=True)
    blender_side = [m for m in modules if not m.startswith(NOT_BLENDER_SIDE)]
    assert {"latent_faces", "latent_faces.numpy_decoder", "latent_faces.sampling",
            "latent_faces.sheet"} <= set(blender_side)
    for m in blender_side:
        reached = _closure(m, edges)
        assert not {r for r in reached if r.startswith(NOT_BLENDER_SIDE)}, m
        assert not reached & {"torch", "matplotlib", "tqdm"}, m


BLOCKER = r"""
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    # What Blender's Python lacks, and the part of the package the extension does not ship.
    names = {"torch", "PIL", "matplotlib", "tqdm", "latent_faces.training", "latent_faces.cli"}

    def find_spec(self, name, path=None, target=None):
        if name in self.names or name.split(".")[0] in self.names or any(
                name.startswith(n + ".") for n in self.names):
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Block())
import latent_faces as lf
from latent_faces import numpy_decoder, sampling, sheet
dec = lf.load_shipped_decoder()
img = dec.decode(lf.sample_latents("normal", 3, seed=1, z_dim=dec.z_dim))
grid = lf.contact_sheet(img, cols=3)
assert img.shape == (3, 96, 96, 3) and grid.shape == (2 + 98, 2 + 3 * 98, 3), grid.shape
try:
    import torch  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("the blocker did not block torch")
print(sorted(m for m in sys.modules if m.startswith("latent_faces")))
"""


def test_blender_side_imports_and_decodes_without_torch_pillow_or_training(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    loaded = set(ast.literal_eval(r.stdout.strip().splitlines()[-1]))
    assert loaded == {"latent_faces", "latent_faces.numpy_decoder", "latent_faces.sampling",
                      "latent_faces.sheet"}
