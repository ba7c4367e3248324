"""Child of ``test_extension_zip.py``: a render script in a bpy process whose user has the
extension installed and enabled (what Blender does at start-up from the preferences, done
here by installing the zip: its wheel's ``scurve_geom`` and ``latent_faces`` imported, its
add-on registered).

    python installed_extension_child.py ZIP REPO_DIR OUT.png

``render_scenes/scurve.py`` from the checkout must then run the checkout's code, say so,
and leave the installed extension as it was: enabled in the preferences, every file of it
and of its wheel in place. Prints ``RESULT {json}`` last.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import traceback
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def files(folder: str) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def main() -> dict:
    import bpy

    zip_path, repo_dir, out = sys.argv[1:4]
    prefs = bpy.context.preferences
    repo = prefs.extensions.repos.new(name="scurve-test", module="scurve_test",
                                      custom_directory=repo_dir)
    bpy.ops.extensions.package_install_files(filepath=zip_path, repo=repo.module,
                                             enable_on_install=True)
    module = "bl_ext.scurve_test.scurve_mirror"
    import latent_faces
    import scurve_geom

    got: dict = {"installed_scurve_geom": scurve_geom.__file__,
                 "installed_latent_faces": latent_faces.__file__}
    extensions = bpy.utils.user_resource("EXTENSIONS")
    before = {**files(extensions), **files(repo_dir)}

    sys.path.insert(0, str(CHECKOUT))
    from render_scenes import scurve

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        got["status"] = scurve.main(["--out", out, "--resolution", "64", "36", "--samples", "1",
                                     "--face-planes", "2"])
    got["stderr"] = err.getvalue()
    got["scurve_geom"] = sys.modules["scurve_geom"].__file__
    got["latent_faces"] = sys.modules["latent_faces"].__file__
    got["blender_addon"] = sys.modules["blender_addon"].__file__
    got["enabled_in_preferences"] = module in prefs.addons
    addon = sys.modules.get(module)
    got["registered_in_process"] = bool(addon and addon.__dict__.get("__addon_enabled__"))
    after = {**files(extensions), **files(repo_dir)}
    got["files_changed"] = sorted(k for k in before.keys() | after.keys()
                                  if before.get(k) != after.get(k))
    got["files"] = len(before)
    got["out_exists"] = os.path.isfile(out)
    return got


if __name__ == "__main__":
    try:
        result = main()
    except Exception:
        result = {"error": traceback.format_exc()}
    print("RESULT " + json.dumps(result), flush=True)
