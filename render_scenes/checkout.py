"""One copy of the project per run: the checkout the render script sits in.

With the S-Curve Mirror extension installed and enabled, Blender imports it at start-up, before
``-P script.py`` runs: the add-on as ``bl_ext.<repo>.scurve_mirror``, registered, and with it
``scurve_geom`` and ``latent_faces`` from the extension's wheel (unpacked into
``<extensions>/.local/lib/pythonX.Y/site-packages``). A script run from a checkout would then
import the installed copy from ``sys.modules`` and register the checkout's add-on over the
installed one's classes: two versions in one scene. This module makes it one:

* :func:`prefer_checkout` (run by ``render_scenes/__init__.py``, before any script imports the
  project's packages) puts the checkout first on ``sys.path`` and drops the project's modules
  loaded from anywhere else, so the next import takes the checkout's.
* :func:`set_aside_installed` unregisters the installed extension for this process only, before
  the checkout's add-on is registered: ``addon_utils.disable`` with ``default_set=False`` (the
  preferences still list it enabled) and ``refresh_handled=True`` (no wheel sync).
* :func:`fresh_scene` resets the scene to the factory start-up file *without* loading factory
  preferences. ``read_factory_settings`` resets the preferences too; Blender then disables every
  add-on the factory preferences lack and its wheel sync deletes their wheels' files from
  ``site-packages`` in the middle of the run (they come back at the next start).
* :func:`describe` is the one line a script prints to say which code runs.

The bpy module starts with factory settings (``bpy.app.factory_startup``), so there the user's
extensions are not enabled and only :func:`prefer_checkout` can matter.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "REPO", "describe", "foreign_modules", "fresh_scene", "prefer_checkout",
           "set_aside_installed"]

REPO = Path(__file__).resolve().parents[1]
#: The checkout's top-level packages an installed extension can also bring (its wheel:
#: scurve_geom, latent_faces; the add-on itself when installed the legacy way).
PACKAGES = ("scurve_geom", "latent_faces", "blender_addon")


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        with open(folder / "blender_manifest.toml", "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


#: The extension's id (``blender_manifest.toml``): installed, its module is ``bl_ext.<repo>.<id>``.
EXTENSION_ID = str(_manifest(REPO).get("id", "scurve_mirror"))
#: What :func:`set_aside_installed` took out of this process so far ("module version").
SET_ASIDE: list[str] = []


def _location(module: Any) -> Path | None:
    """Where ``module`` was loaded from (a namespace package: its first folder)."""
    where = getattr(module, "__file__", None)
    if where is None:
        where = next(iter(getattr(module, "__path__", None) or ()), None)
    return Path(where).resolve() if where else None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def foreign_modules(repo: Path = REPO) -> dict[str, Path | None]:
    """The project's modules in ``sys.modules`` not loaded from ``repo``: name -> location."""
    out = {}
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] not in PACKAGES or module is None:
            continue
        where = _location(module)
        if where is None or not _inside(where, repo):
            out[name] = where
    return out


def prefer_checkout(repo: Path = REPO) -> list[str]:
    """Make ``import scurve_geom`` (and the other :data:`PACKAGES`) load from ``repo``: put it
    first on ``sys.path`` and drop the copies already imported from elsewhere (an installed
    extension's wheel). Returns the names dropped. Modules already holding the other copy (the
    installed add-on) keep it; :func:`set_aside_installed` takes that add-on out of the run."""
    top = str(repo)
    while top in sys.path:
        sys.path.remove(top)
    sys.path.insert(0, top)
    dropped = sorted(foreign_modules(repo))
    for name in dropped:
        del sys.modules[name]
    return dropped


def installed_extensions() -> list[Any]:
    """The installed copies of this extension that are enabled in this process (modules)."""
    found = []
    for name, module in list(sys.modules.items()):
        parts = name.split(".")
        if (len(parts) == 3 and parts[0] == "bl_ext" and parts[2] == EXTENSION_ID
                and module is not None
                # __dict__: an add-on module's own attribute, never a __getattr__ answer.
                and module.__dict__.get("__addon_enabled__", False)):
            found.append(module)
    return found


def set_aside_installed() -> list[str]:
    """Unregister the enabled installed copies of this extension for this process only;
    returns the ones it unregistered now, ``["bl_ext.<repo>.scurve_mirror 0.1.0", ...]``
    (all of this process: :data:`SET_ASIDE`).

    The preferences keep the extension enabled and its files stay as they are: no preference
    is written, no wheel is synchronised, so the next Blender start has it as before.
    """
    modules = installed_extensions()
    if not modules:
        return []
    import addon_utils

    gone = []
    for module in modules:
        version = _manifest(Path(module.__file__).parent).get("version", "?")
        addon_utils.disable(module.__name__, default_set=False, refresh_handled=True)
        gone.append(f"{module.__name__} {version}")
    SET_ASIDE.extend(gone)
    return gone


def fresh_scene(bpy: Any) -> None:
    """Replace the open file with Blender's factory start-up file, emptied (scenes, windows
    and workspaces only), leaving the preferences and the enabled add-ons as they are."""
    bpy.ops.wm.read_homefile(use_factory_startup=True, use_empty=True)


def describe(prog: str, repo: Path = REPO) -> str:
    """One line: which copy of the project this run uses (where its packages were imported
    from), and the installed extension it set aside."""
    version = _manifest(repo).get("version", "?")
    foreign = foreign_modules(repo)
    if foreign:
        # Not expected after prefer_checkout; said rather than hidden.
        where = sorted({str(p) for p in foreign.values()})[:3]
        line = (f"{prog}: code: MIXED: the checkout {repo} (S-Curve Mirror {version}) and "
                f"{', '.join(sorted(foreign)[:3])} from {', '.join(where)}")
    else:
        line = f"{prog}: code: the checkout {repo} (S-Curve Mirror {version})"
    if SET_ASIDE:
        line += (f"; the installed extension {', '.join(SET_ASIDE)} is not used in this run "
                 "(it stays installed and enabled)")
    return line
