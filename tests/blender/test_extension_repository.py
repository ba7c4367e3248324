"""The extension from a static repository, in the bpy module (issue 21).

``tools/build_repository.py`` publishes the current version into a folder; a child
Blender with its own user folders adds it by ``file://`` URL and installs from it with
Blender's own ``blender --command extension`` handler (``repo-add``, ``sync``,
``install``), uses the add-on and saves a file; then a higher version is published into
the same folder and the child upgrades with ``sync`` and ``update``. The old file must
open and render the same, its node group must rebuild for the new version, and the
user's preferences must come through. The real binary does the same in
``tests/real/test_repository.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("bpy")

from extension_repo import (
    CHILD,
    REPO,
    current_version,
    image,
    next_version,
    publish,
    release_tree,
    result,
    user_env,
)

pytestmark = pytest.mark.blender


def child(env: dict[str, str], cwd: Path, *args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(CHILD), *args], capture_output=True, text=True,
                          timeout=600, env=env, cwd=cwd)
    return result(proc)


def _preferences_reload(tmp: Path) -> bool:
    """Whether this bpy can read saved preferences back (``wm.read_userpref``) in a new
    process: the module starts on factory preferences, and each step here is a process.
    The bpy 4.2 module segfaults there; asked by trying, in a throwaway child."""
    env = user_env(tmp / "probe")
    code = ("import bpy, os; bpy.ops.wm.save_userpref(); bpy.ops.wm.read_userpref(); "
            "print('READ-OK', flush=True); os._exit(0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp)
    return proc.returncode == 0 and "READ-OK" in proc.stdout


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("repo-session")
    if not _preferences_reload(tmp):
        pytest.skip("this bpy module crashes reading saved preferences (wm.read_userpref), "
                    "so no step can see the previous one's repository; the real binary "
                    "lane (tests/real/test_repository.py) covers the flow")
    repo_dir = tmp / "repo"
    work = tmp / "work"
    work.mkdir()
    env = user_env(tmp / "user")
    old, new = current_version(), next_version(current_version())
    got: dict[str, Any] = {"old": old, "new": new, "work": work}
    got["index_old"] = publish(sys.executable, REPO, repo_dir)
    url = (repo_dir / "index.json").as_uri()
    got["repo_add"] = child(env, tmp, "cli", "repo-add", "--name", "S-Curve Mirror",
                            "--url", url, "scurve")
    got["sync_1"] = child(env, tmp, "cli", "sync")
    got["install"] = child(env, tmp, "cli", "install", "scurve_mirror", "--enable")
    got["before"] = child(env, tmp, "before", str(work))

    got["index_new"] = publish(sys.executable, release_tree(tmp / "release", new), repo_dir)
    got["sync_2"] = child(env, tmp, "cli", "sync")
    got["update"] = child(env, tmp, "cli", "update")
    got["after"] = child(env, tmp, "after", str(work))
    got["bare"] = child(user_env(tmp / "bare-user"), tmp, "bare", str(work))
    got["repo_files"] = sorted(p.name for p in repo_dir.iterdir())
    return got


def test_repository_is_what_server_generate_writes(session):
    old, new = session["old"], session["new"]
    assert [(p["id"], p["version"]) for p in session["index_old"]["data"]] == [
        ("scurve_mirror", old)]
    # The new release replaced the old zip: one package per id in the listing.
    assert [(p["id"], p["version"]) for p in session["index_new"]["data"]] == [
        ("scurve_mirror", new)]
    package = session["index_new"]["data"][0]
    assert package["archive_url"] == f"./scurve_mirror-{new}.zip"
    assert package["archive_hash"].startswith("sha256:")
    assert session["repo_files"] == ["index.html", "index.json", f"scurve_mirror-{new}.zip"]


def test_installed_from_the_repository(session):
    for step in ("repo_add", "sync_1", "install"):
        assert session[step]["status"] == 0, step
    before = session["before"]
    assert before["addon"] == "bl_ext.scurve.scurve_mirror"
    assert before["version"] == session["old"]
    assert before["group_tags"] == [f"{session['old']}+nodes1"]


def test_upgrade_keeps_files_and_settings(session):
    assert session["sync_2"]["status"] == 0 and session["update"]["status"] == 0
    before, after = session["before"], session["after"]
    assert after["addon"] == "bl_ext.scurve.scurve_mirror"
    assert after["version"] == session["new"]
    # The user's own settings came through the upgrade...
    assert after["undo_steps"] == 77
    assert ["My Assets", str(session["work"] / "my_assets")] in after["libraries"]
    # ...and the extension's asset library is there once, from the new install.
    ours = [lib for lib in after["libraries"] if lib[0] == "S-Curve Mirror"]
    assert len(ours) == 1 and ours[0][1].endswith("scurve_mirror/asset_library"), ours
    # The old file opens as it was saved: same group, same meshes, same picture.
    assert after["group_tags"] == before["group_tags"]
    assert after["meshes"] == before["meshes"]
    a, b = image(before["render"]), image(after["render"])
    assert a.std() > 0.02, "the render before the upgrade is blank"
    np.testing.assert_allclose(b, a, atol=2 / 255)
    # Using the procedural mirror rebuilt the file's group for the new version, in place:
    # every mirror (and the asset's modifier, which shares the group) evaluates the same.
    assert after["rebuilt"]["group_tags"] == [f"{session['new']}+nodes1"]
    assert after["rebuilt"]["meshes"] == before["meshes"]
    np.testing.assert_allclose(image(after["render_rebuilt"]), a, atol=2 / 255)


def test_asset_from_add_modifier_matches_the_library(session):
    before = session["before"]
    assert before["asset_add"] == ["FINISHED"]
    # Appended, not linked: the file holds the group itself.
    assert before["asset_modifiers"] == [["NODES", "S-Curve Mirror", True]]
    assert before["asset_vs_library"] is not None
    assert before["asset_vs_library"] <= 8 * np.finfo(np.float32).eps * before["library_extent"]


def test_file_works_without_the_extension(session):
    bare, before = session["bare"], session["before"]
    assert bare["addon"] is None
    assert bare["meshes"] == before["meshes"]
    np.testing.assert_allclose(image(bare["render"]), image(before["render"]), atol=2 / 255)
