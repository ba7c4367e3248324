"""render_scenes.checkout: a render script imports the checkout's packages even where an
installed extension imported its own copies first (as Blender does at start-up with the
extension enabled). The real extension in the real Blender: tests/real/test_scripts.py."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from render_scenes import checkout

REPO = Path(__file__).resolve().parents[1]


def test_the_checkout_wins_over_copies_imported_first(tmp_path: Path) -> None:
    # An extension's wheel, unpacked the way Blender does, on sys.path before the checkout.
    site = tmp_path / "extensions" / ".local" / "lib" / "python3.11" / "site-packages"
    for pkg in ("scurve_geom", "latent_faces"):
        (site / pkg).mkdir(parents=True)
        (site / pkg / "__init__.py").write_text("INSTALLED_COPY = True\n")
        (site / pkg / "sub.py").write_text("")
    code = f"""
import importlib.util, json, sys
sys.path.insert(0, {str(site)!r})
import scurve_geom, scurve_geom.sub, latent_faces
assert scurve_geom.INSTALLED_COPY
sys.path.append({str(REPO)!r})
import render_scenes
from render_scenes import checkout
print(json.dumps({{
    "loaded": sorted(m for m in sys.modules if m.partition(".")[0] in checkout.PACKAGES),
    "found": {{p: importlib.util.find_spec(p).origin for p in ("scurve_geom", "latent_faces")}},
    "first": sys.path[0],
    "line": checkout.describe("scurve.py"),
}}))
"""
    # -S: no site-packages, so no editable install's finder answers before sys.path does.
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["loaded"] == []  # the installed copies and their submodules are gone
    assert got["found"] == {p: str(REPO / p / "__init__.py")
                            for p in ("scurve_geom", "latent_faces")}
    assert got["first"] == str(REPO)
    assert got["line"] == (f"scurve.py: code: the checkout {REPO} (S-Curve Mirror "
                           f"{checkout._manifest(REPO)['version']})")


def test_checkout_modules_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    import scurve_geom

    assert "scurve_geom" not in checkout.foreign_modules()
    before = sys.modules["scurve_geom"]
    checkout.prefer_checkout()
    assert sys.modules["scurve_geom"] is before is scurve_geom


def test_describe_says_when_code_is_mixed(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    stray = types.ModuleType("latent_faces.stray")
    stray.__file__ = str(tmp_path / "latent_faces" / "stray.py")
    monkeypatch.setitem(sys.modules, "latent_faces.stray", stray)
    monkeypatch.setattr(checkout, "SET_ASIDE", ["bl_ext.user_default.scurve_mirror 0.1.0"])
    line = checkout.describe("face_planes.py")
    assert line.startswith("face_planes.py: code: MIXED: ")
    assert "latent_faces.stray" in line and str(tmp_path) in line
    assert line.endswith("the installed extension bl_ext.user_default.scurve_mirror 0.1.0 is "
                         "not used in this run (it stays installed and enabled)")
    assert "\n" not in line


def test_no_installed_extension_outside_blender() -> None:
    assert checkout.installed_extensions() == []
    assert checkout.set_aside_installed() == []
