"""The product as users get it: build the extension zip, install it into real Blender.

The install runs in a child Blender process with its own user folders (config, scripts,
extensions in a temporary directory), so neither the real user preferences nor this
test session gain an extension repository or a registered add-on. The child runs under
a timeout and reports what it saw as JSON on its last line.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("bpy")

pytestmark = pytest.mark.blender

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    r'''
    import json, os, sys
    import bpy

    zip_path, repo_dir = sys.argv[1], sys.argv[2]
    out = {"sys_path_has_repo": os.environ["SCURVE_REPO"] in
           {os.path.abspath(p) for p in sys.path if p}}
    prefs = bpy.context.preferences
    repo = prefs.extensions.repos.new(name="scurve-test", module="scurve_test",
                                      custom_directory=repo_dir)
    bpy.ops.extensions.package_install_files(
        filepath=zip_path, repo=repo.module, enable_on_install=True)
    module = "bl_ext.scurve_test.scurve_mirror"
    out["enabled"] = module in prefs.addons
    out["installed_files"] = sorted(os.listdir(os.path.join(repo_dir, "scurve_mirror")))
    import scurve_geom
    out["scurve_geom_file"] = scurve_geom.__file__
    addon = sys.modules[module]
    out["addon_id"] = addon.ADDON_ID
    for obj in list(bpy.data.objects):
        bpy.data.objects.remove(obj)
    bpy.context.scene.cursor.location = (0.0, 0.0, 0.0)
    out["add"] = sorted(bpy.ops.mesh.scurve_mirror_add(preset="blog-part2",
                                                       subdivision_levels=2))
    obj = bpy.context.active_object
    out["object"] = obj.name
    out["vertices"] = len(obj.data.vertices)
    out["faces"] = len(obj.data.polygons)
    out["modifiers"] = [(m.type, m.levels) for m in obj.modifiers]
    out["validate_fixed"] = obj.data.validate(verbose=False)
    out["is_mirror"] = obj.scurve_mirror.is_mirror
    out["edit"] = sorted(bpy.ops.object.scurve_mirror_edit(length_segments=2))
    out["vertices_after_edit"] = len(obj.data.vertices)
    out["stage_label"] = ("scurve_stage" in dir(bpy.ops.scene)
                          and bpy.ops.scene.scurve_stage.get_rna_type().name)
    settings = bpy.context.scene.scurve_faces
    settings.count = 3
    out["face_planes"] = sorted(bpy.ops.scene.scurve_face_planes())
    import latent_faces
    out["latent_faces_file"] = latent_faces.__file__
    out["face_images"] = sorted(i.name for i in bpy.data.images if i.packed_file)
    out["torch_loaded"] = "torch" in sys.modules
    bpy.ops.preferences.addon_disable(module=module)
    out["disabled"] = module not in prefs.addons
    print("RESULT " + json.dumps(out), flush=True)
    # Leave without Blender's atexit teardown (the 4.2/4.5 exit trap); the output is out.
    os._exit(0)
    '''
)


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "build_extension.py"), "--output-dir", str(out_dir)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


def test_zip_holds_only_what_blender_needs(extension_zip: Path):
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    assert extension_zip.name == f"{manifest['id']}-{manifest['version']}.zip"
    with zipfile.ZipFile(extension_zip) as zf:
        names = set(zf.namelist())
        sizes = {i.filename: i.file_size for i in zf.infolist()}
        packed = tomllib.loads(zf.read("blender_manifest.toml").decode())
    addon = {p.relative_to(REPO / "blender_addon").as_posix()
             for p in (REPO / "blender_addon").rglob("*.py") if "__pycache__" not in p.parts}
    assert "stage/__init__.py" in addon and "face_planes/__init__.py" in addon
    wheels = {w.removeprefix("./") for w in manifest["wheels"]}
    # The node-group asset library (issue 21), generated at build time.
    library = {"asset_library/scurve_mirror_nodes.blend", "asset_library/blender_assets.cats.txt"}
    assert names == {"blender_manifest.toml", *addon, *wheels, *library}
    assert packed["id"] == "scurve_mirror" and packed["blender_version_min"] == "4.2.0"
    assert not any("test" in n or "__pycache__" in n or n.endswith(".pyc") for n in names)
    # Small: the geometry, the numpy decoder and its weights, nothing of torch. The weights
    # may take up to ~8 MB (issue 10); the shipped generator's are 5.1 MB.
    assert extension_zip.stat().st_size < 8_500_000, sizes


def test_wheel_carries_only_the_blender_side_of_latent_faces(extension_zip: Path):
    with zipfile.ZipFile(extension_zip) as zf:
        (wheel,) = [n for n in zf.namelist() if n.endswith(".whl")]
        with zipfile.ZipFile(io.BytesIO(zf.read(wheel))) as wf:
            names = {n.removeprefix("latent_faces/") for n in wf.namelist()
                     if n.startswith("latent_faces/")}
    # The training side (torch) and its CLI stay out; every other module and the weights ship.
    blender_side = {p.relative_to(REPO / "latent_faces").as_posix()
                    for p in (REPO / "latent_faces").glob("*.py")} - {"cli.py", "__main__.py"}
    assert {"__init__.py", "numpy_decoder.py", "sampling.py", "sheet.py"} <= blender_side
    assert names == blender_side | {"weights/vae_synthetic.npz"}


def test_installed_zip_adds_a_mirror(extension_zip: Path, tmp_path: Path):
    user = tmp_path / "user"
    repo_dir = tmp_path / "repo"
    repo_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        BLENDER_USER_CONFIG=str(user / "config"),
        BLENDER_USER_SCRIPTS=str(user / "scripts"),
        BLENDER_USER_EXTENSIONS=str(user / "extensions"),
        BLENDER_USER_DATAFILES=str(user / "datafiles"),
        SCURVE_REPO=str(REPO),
    )
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    # cwd outside the repository: scurve_geom must come from the bundled wheel.
    proc = subprocess.run(
        [sys.executable, str(script), str(extension_zip), str(repo_dir)],
        capture_output=True, text=True, timeout=240, cwd=tmp_path, env=env,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-4000:] + proc.stderr[-4000:]
    got = json.loads(lines[-1].removeprefix("RESULT "))

    assert not got["sys_path_has_repo"]
    assert got["enabled"]
    assert got["addon_id"] == "bl_ext.scurve_test.scurve_mirror"
    assert "blender_manifest.toml" in got["installed_files"]
    assert not got["scurve_geom_file"].startswith(str(REPO))
    assert str(user / "extensions") in got["scurve_geom_file"]
    assert got["add"] == ["FINISHED"] and got["is_mirror"]
    # blog-part2: 17 rows × 3 columns, 32 quads, and the modifier does the subdivision.
    assert (got["vertices"], got["faces"]) == (51, 32)
    assert got["modifiers"] == [["SUBSURF", 2]]
    assert got["validate_fixed"] is False
    assert got["edit"] == ["FINISHED"] and got["vertices_after_edit"] == 17 * 5
    assert got["stage_label"] == "Set Up Mirror Stage"
    # Face planes decode with the wheel's numpy decoder and shipped weights, no torch.
    assert got["face_planes"] == ["FINISHED"]
    assert str(user / "extensions") in got["latent_faces_file"]
    assert len(got["face_images"]) == 3 and not got["torch_loaded"]
    assert got["disabled"]


def test_render_script_with_the_extension_installed(extension_zip: Path, tmp_path: Path):
    """``render_scenes/scurve.py`` from the checkout where the extension is installed and
    enabled (its wheel's packages imported first): the checkout's code runs, one line says
    so, and the installed extension stays enabled in the preferences with every file in
    place (read_factory_settings used to disable it, and Blender deleted its wheel files)."""
    user, repo_dir, out = tmp_path / "user", tmp_path / "repo", tmp_path / "out.png"
    repo_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(BLENDER_USER_CONFIG=str(user / "config"),
               BLENDER_USER_SCRIPTS=str(user / "scripts"),
               BLENDER_USER_EXTENSIONS=str(user / "extensions"),
               BLENDER_USER_DATAFILES=str(user / "datafiles"))
    child = Path(__file__).with_name("installed_extension_child.py")
    proc = subprocess.run([sys.executable, str(child), str(extension_zip), str(repo_dir),
                           str(out)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-4000:] + proc.stderr[-4000:]
    got = json.loads(lines[-1].removeprefix("RESULT "))
    assert "error" not in got, got["error"]

    wheel = str(user / "extensions")
    assert got["installed_scurve_geom"].startswith(wheel)
    assert got["installed_latent_faces"].startswith(wheel)
    assert got["status"] == 0 and got["out_exists"], got["stderr"][-3000:]
    for package in ("scurve_geom", "latent_faces", "blender_addon"):
        assert got[package] == str(REPO / package / "__init__.py")
    version = tomllib.loads((REPO / "blender_manifest.toml").read_text())["version"]
    code = [ln for ln in got["stderr"].splitlines() if ln.startswith("scurve.py: code: ")]
    assert code == [f"scurve.py: code: the checkout {REPO} (S-Curve Mirror {version}); the "
                    f"installed extension bl_ext.scurve_test.scurve_mirror {version} is not "
                    "used in this run (it stays installed and enabled)"]
    assert got["enabled_in_preferences"] and not got["registered_in_process"]
    assert got["files"] > 20 and got["files_changed"] == []
