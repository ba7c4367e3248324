"""The extension from a static repository, in the real ``blender`` binary (issue 21).

The README's commands, in order: a maintainer publishes with ``tools/build_repository.py``
(the index by this Blender's ``--command extension server-generate --html``); a user adds
the repository by its ``file://`` URL and installs with ``blender --online-mode --command
extension repo-add / sync / install``, works, saves a file; the maintainer publishes a
higher version into the same folder; the user runs ``sync`` and ``update``. The old file
must open and render the same, its node group rebuild for the new version on use, the
user's preferences survive, and the file work in a Blender without the extension. Each
Blender run has its own user folders (``BLENDER_USER_*``) under the test's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from blender_run import REPO, run_blender
from extension_repo import (
    CHILD,
    current_version,
    image,
    next_version,
    publish,
    release_tree,
    result,
    user_env,
)

BPY_PYTHON = str(REPO / ".venv-bpy45" / "bin" / "python")


def command(blender: str, env: dict[str, str], *args: str) -> str:
    """``blender --online-mode --command extension ARGS``; its output (status 0 asserted)."""
    proc = run_blender(blender, "--online-mode", "--command", "extension", *args, env=env,
                       timeout=300)
    out = "\n".join(ln for ln in proc.stdout.splitlines() if not ln.startswith("PROGRESS"))
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    return out


def child(blender: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    return result(run_blender(blender, "-b", "--python", str(CHILD), "--", *args, env=env,
                              timeout=600))


@pytest.fixture(scope="module")
def session(blender: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("real-repo")
    repo_dir, work = tmp / "repo", tmp / "work"
    work.mkdir()
    env = user_env(tmp / "user")
    old, new = current_version(), next_version(current_version())
    got: dict[str, Any] = {"old": old, "new": new, "work": work}

    got["index_old"] = publish(BPY_PYTHON, REPO, repo_dir, blender=blender)
    url = (repo_dir / "index.json").as_uri()
    got["repo_add"] = command(blender, env, "repo-add", "--name", "S-Curve Mirror",
                              "--url", url, "scurve")
    got["sync_1"] = command(blender, env, "sync")
    got["install"] = command(blender, env, "install", "scurve_mirror", "--enable")
    got["before"] = child(blender, env, "before", str(work))

    got["index_new"] = publish(BPY_PYTHON, release_tree(tmp / "release", new), repo_dir,
                               blender=blender)
    got["sync_2"] = command(blender, env, "sync")
    got["update"] = command(blender, env, "update")
    got["list"] = command(blender, env, "list")
    got["after"] = child(blender, env, "after", str(work))
    got["bare"] = child(blender, user_env(tmp / "bare-user"), "bare", str(work))
    return got


def test_install_from_repository(session):
    assert [(p["id"], p["version"]) for p in session["index_old"]["data"]] == [
        ("scurve_mirror", session["old"])]
    assert 'Installed "scurve_mirror"' in session["install"]
    before = session["before"]
    assert before["addon"] == "bl_ext.scurve.scurve_mirror"
    assert before["version"] == session["old"]
    assert before["asset_add"] == ["FINISHED"]
    assert before["asset_modifiers"] == [["NODES", "S-Curve Mirror", True]]
    assert before["asset_vs_library"] <= 8 * np.finfo(np.float32).eps * before["library_extent"]


def test_upgrade_through_sync_and_update(session):
    old, new = session["old"], session["new"]
    assert [(p["id"], p["version"]) for p in session["index_new"]["data"]] == [
        ("scurve_mirror", new)]
    assert "scurve_mirror [installed]" in session["list"]
    before, after = session["before"], session["after"]
    assert after["version"] == new and after["addon"] == "bl_ext.scurve.scurve_mirror"
    assert after["undo_steps"] == 77
    assert ["My Assets", str(session["work"] / "my_assets")] in after["libraries"]
    ours = [lib for lib in after["libraries"] if lib[0] == "S-Curve Mirror"]
    assert len(ours) == 1 and ours[0][1].endswith("scurve_mirror/asset_library"), ours
    assert after["group_tags"] == [f"{old}+nodes1"]
    assert after["meshes"] == before["meshes"]
    a = image(before["render"])
    assert a.std() > 0.02, "the render before the upgrade is blank"
    np.testing.assert_allclose(image(after["render"]), a, atol=2 / 255)
    assert after["rebuilt"]["group_tags"] == [f"{new}+nodes1"]
    assert after["rebuilt"]["meshes"] == before["meshes"]
    np.testing.assert_allclose(image(after["render_rebuilt"]), a, atol=2 / 255)


def test_old_file_without_the_extension(session):
    bare, before = session["bare"], session["before"]
    assert bare["addon"] is None
    assert bare["meshes"] == before["meshes"]
    np.testing.assert_allclose(image(bare["render"]), image(before["render"]), atol=2 / 255)


def test_repository_page_lists_the_release(session):
    html = (Path(session["work"]).parent / "repo" / "index.html").read_text()
    assert f"scurve_mirror-{session['new']}.zip" in html
    assert f"scurve_mirror-{session['old']}.zip" not in html


def test_zip_validates_in_blender(blender, session):
    """`blender --command extension validate` on the published zip, and the manifest as
    Get Extensions shows it: a tagline that fits, one permission, both in the listing."""
    import tomllib
    import zipfile

    repo_dir = Path(session["work"]).parent / "repo"
    zip_path = repo_dir / f"scurve_mirror-{session['new']}.zip"
    proc = run_blender(blender, "--command", "extension", "validate", str(zip_path),
                       timeout=300)
    assert proc.returncode == 0 and "Success" in proc.stdout, proc.stdout + proc.stderr
    with zipfile.ZipFile(zip_path) as zf:
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
    assert len(manifest["tagline"]) <= 64 and manifest["tagline"][-1].isalnum()
    assert set(manifest["permissions"]) == {"files"}
    # (Tags are checked against Blender's own list by every build: --valid-tags.)
    listed = session["index_new"]["data"][0]
    assert (listed["tagline"], listed["tags"]) == (manifest["tagline"], manifest["tags"])
    assert listed["permissions"] == manifest["permissions"]
