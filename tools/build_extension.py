"""Build the installable Blender extension ``dist/scurve_mirror-<version>.zip``.

Run with a Python that has the ``bpy`` wheel installed (its copy of Blender's extension
tool does the packing and validation), e.g.::

    .venv-bpy45/bin/python tools/build_extension.py

Steps: build the ``scurve_geom`` wheel from this repository, stage ``blender_addon/``'s
modules + the root ``blender_manifest.toml`` + the wheel in a temporary folder, run
``blender_ext.py build`` and ``validate`` on it, then check the zip holds only what
Blender needs. Exit status 0 on success; the zip's path is printed last.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "blender_manifest.toml"
ADDON = ROOT / "blender_addon"
# latent_faces' training side (torch: models, training, export, evaluation, the study) and the
# CLI that drives it: the extension carries the numpy decoder, sampling, sheets and weights.
NOT_IN_WHEEL = {"latent_faces": ("training", "cli.py", "__main__.py")}


def bpy_scripts_dir() -> Path:
    """``<site-packages>/bpy/<major.minor>/scripts`` of the bpy wheel, found without importing it.

    Importing bpy starts a whole Blender (seconds, and an interpreter that must be shut
    down carefully); the tool is a plain script inside the wheel.
    """
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bpy is not installed in this Python: use e.g. .venv-bpy45/bin/python")
    pkg = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(pkg.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise SystemExit(f"Blender's extension tool is missing from {pkg}")
    return found[-1].parents[3]


def wheel_packages() -> list[str]:
    """Top-level packages pyproject's ``packages.find.include`` puts in the wheel."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    names = sorted({pattern.split(".")[0].rstrip("*") for pattern in include})
    missing = [n for n in names if not (ROOT / n / "__init__.py").exists()]
    if missing:
        raise SystemExit(f"pyproject includes packages that are not in the tree: {missing}")
    return names


def build_wheel(out_dir: Path, work: Path) -> Path:
    """Build the ``scurve-mirror`` wheel (pure Python) into ``out_dir``; return its path.

    It holds the packages pyproject includes (``scurve_geom``, and ``latent_faces`` with
    its shipped weights), less what does not run in Blender (:data:`NOT_IN_WHEEL`).

    The sources are copied first so the build neither writes ``build/``/``egg-info`` into
    the shared work tree nor picks up caches from it.
    """
    src = work / "wheel-src"
    src.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", src)
    # pyproject names README.md as the long description; an absent one would fail the build.
    readme = ROOT / "README.md"
    if readme.exists():
        shutil.copy2(readme, src)
    else:
        (src / "README.md").write_text("S-Curve Mirror\n")
    for package in wheel_packages():
        shutil.copytree(
            ROOT / package, src / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *NOT_IN_WHEEL.get(package, ())),
        )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "-w", str(out_dir), str(src)],
        check=True,
    )
    wheels = sorted(out_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel, pip produced {[w.name for w in wheels]}")
    return wheels[0]


def addon_modules() -> list[str]:
    """The add-on's modules, subpackages included, as paths relative to it (posix)."""
    return sorted(p.relative_to(ADDON).as_posix() for p in ADDON.rglob("*.py")
                  if "__pycache__" not in p.parts)


def expected_members(manifest: dict, addon_files: list[str]) -> set[str]:
    """The exact file list the zip must have: manifest, add-on modules, listed wheels."""
    wheels = {w.removeprefix("./") for w in manifest.get("wheels", [])}
    return {"blender_manifest.toml", *addon_files, *wheels}


def run_tool(tool: Path, *args: str) -> None:
    cmd = [sys.executable, str(tool), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{' '.join(cmd[1:3])} failed with status {proc.returncode}")


def build(output_dir: Path) -> Path:
    """Build and validate the extension zip into ``output_dir``; return the zip's path."""
    manifest = tomllib.loads(MANIFEST.read_text())
    scripts = bpy_scripts_dir()
    tool = scripts / "addons_core" / "bl_pkg" / "cli" / "blender_ext.py"
    # Blender enforces extensions.blender.org's tag list only when it runs the tool itself;
    # pass the same list so a bad tag fails here rather than at upload.
    tags = scripts / "modules" / "_bpy_internal" / "extensions" / "tags.py"

    with tempfile.TemporaryDirectory(prefix="scurve-ext-") as tmp:
        work = Path(tmp)
        stage = work / "stage"
        stage.mkdir()
        shutil.copy2(MANIFEST, stage / "blender_manifest.toml")
        addon_files = addon_modules()
        for name in addon_files:
            (stage / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ADDON / name, stage / name)
        # -- issue 21: the node-group asset library, generated by the add-on's own code --
        from build_assets import generate as generate_assets

        addon_files += [p.relative_to(stage).as_posix()
                        for p in generate_assets(stage / "asset_library")]
        # -- end issue 21 -------------------------------------------------------------------

        wheel_dir = stage / "wheels"
        wheel_dir.mkdir()
        wheel = build_wheel(wheel_dir, work)
        listed = [w.removeprefix("./wheels/") for w in manifest.get("wheels", [])]
        if wheel.name not in listed:
            raise SystemExit(f"built {wheel.name}, but the manifest lists {listed}")

        output_dir.mkdir(parents=True, exist_ok=True)
        out = output_dir / f"{manifest['id']}-{manifest['version']}.zip"
        out.unlink(missing_ok=True)
        tag_args = [f"--valid-tags={tags}"] if tags.exists() else []
        run_tool(tool, "build", "--source-dir", str(stage), "--output-filepath", str(out),
                 *tag_args)
        run_tool(tool, "validate", *tag_args, str(out))

    with zipfile.ZipFile(out) as zf:
        members = {n for n in zf.namelist() if not n.endswith("/")}
    want = expected_members(manifest, addon_files)
    if members != want:
        raise SystemExit(
            f"{out.name} holds unexpected files {sorted(members - want)} "
            f"and misses {sorted(want - members)}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "dist",
                        help="where the zip goes (default: dist/)")
    args = parser.parse_args(argv)
    out = build(args.output_dir.resolve())
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
