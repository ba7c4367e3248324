"""The "S-Curve Mirror" node group as an asset: *Add Modifier > Generate > S-Curve Mirror*.

Blender's own modifier node groups (Smooth by Angle, in the Essentials library) reach the
Add Modifier menu because they are node groups flagged ``is_modifier``, marked as assets,
and filed in a catalog the menu draws (``Normals`` there; ``template_modifier_asset_menu_items``
in ``bl_ui/properties_data_modifier.py`` lists each root menu's catalog, unknown catalogs get
root menus of their own). Extensions (4.2 to 5.0) have no manifest key for asset
libraries, so the convention is an asset library preference entry pointing into the
extension's folder: this module adds it in ``register()`` and removes it in
``unregister()``. The ``.blend`` is generated when the extension is built
(``tools/build_assets.py``, from :func:`mirror_nodes.ensure_node_group`), never edited
by hand.

The entry is the user's preferences only while the extension is enabled: adding and
removing it leave the preferences' unsaved-changes flag as it was, so auto-save does not
write the entry on its own account (saving preferences for another reason while the
extension is on does write it; the next ``unregister`` removes it again). Assets come in
by *Append (Reuse Data)* where the version has it: the group is copied into the user's
file, which then needs neither the extension nor its folder.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import bpy

from . import mirror_nodes

#: The asset library's name in Preferences > File Paths and in the Asset Browser.
LIBRARY_NAME = "S-Curve Mirror"
#: Folder of the library, inside the installed extension (``<extension>/asset_library``).
LIBRARY_DIR = Path(__file__).resolve().parent / "asset_library"
ASSET_FILE = "scurve_mirror_nodes.blend"
CATALOGS_FILE = "blender_assets.cats.txt"
#: The catalog the Add Modifier menu merges into its own *Generate* menu.
CATALOG_PATH = "Generate"
#: Fixed, so every build files the asset in the same catalog.
CATALOG_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "scurve-mirror:catalog:Generate"))
DESCRIPTION = ("Kapoor-style S-curve mirror wall, computed by Geometry Nodes: replaces the "
               "object's geometry with the exact surface of the S-Curve Mirror extension")


# -- building the library (at extension build time, in a bpy process) -------------------


def write_library(folder: Path) -> Path:
    """Write ``ASSET_FILE`` and ``CATALOGS_FILE`` into ``folder``; return the ``.blend``.

    Resets Blender to an empty factory file first: the ``.blend`` holds the node group
    and nothing else a user would not expect to come with it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    tree = mirror_nodes.ensure_node_group()
    if hasattr(tree, "is_modifier"):
        tree.is_modifier = True
    tree.asset_mark()
    meta = tree.asset_data
    meta.description = DESCRIPTION
    meta.catalog_id = CATALOG_ID
    if hasattr(meta, "author"):
        meta.author = "S-Curve Mirror developers"
    for tag in ("S-Curve", "Mirror", "Kapoor"):
        meta.tags.new(tag, skip_if_exists=True)
    (folder / CATALOGS_FILE).write_text(
        "# Catalogs of the S-Curve Mirror asset library (written by tools/build_assets.py).\n"
        "VERSION 1\n\n"
        f"{CATALOG_ID}:{CATALOG_PATH}:{CATALOG_PATH}\n",
        encoding="utf-8",
    )
    blend = folder / ASSET_FILE
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), compress=True, copy=True)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return blend


# -- the preference entry ------------------------------------------------------------------


def _preferences() -> Any:
    prefs = bpy.context.preferences
    if prefs is None:  # only without a Blender session, which add-ons never see
        raise RuntimeError("Blender's preferences are not available")
    return prefs


def _libraries() -> Any:
    return _preferences().filepaths.asset_libraries


def _same_dir(a: str, b: Path) -> bool:
    return bool(a) and Path(bpy.path.abspath(a)).resolve() == b.resolve()


def find_library() -> Any | None:
    """The preference entry for this extension's asset folder, or ``None``."""
    return next((lib for lib in _libraries() if _same_dir(lib.path, LIBRARY_DIR)), None)


def _set_import_method(library: Any) -> None:
    # Append (Reuse Data) since 3.5/4.0; some versions list it yet refuse it at run time.
    for method in ("APPEND_REUSE", "APPEND"):
        try:
            library.import_method = method
            return
        except (TypeError, ValueError):
            continue


#: Whether the entry was already in the preferences at ``register()``: then it was saved
#: with them, and its removal must be saved too.
_saved_entry = False
#: Whether this session's ``register()`` made the entry (a second one finds its own).
_added_here = False


def register() -> None:
    global _saved_entry, _added_here
    if not (LIBRARY_DIR / ASSET_FILE).is_file():
        return  # the source tree before a build: there is no library to offer
    prefs = _preferences()
    was_dirty = prefs.is_dirty
    library = find_library()
    if library is None:
        _saved_entry = False
        library = _libraries().new(name=LIBRARY_NAME, directory=str(LIBRARY_DIR))
    elif not _added_here:
        _saved_entry = True
    _added_here = True
    _set_import_method(library)
    prefs.is_dirty = was_dirty


def unregister() -> None:
    global _added_here
    prefs = _preferences()
    was_dirty = prefs.is_dirty
    removed = False
    while (library := find_library()) is not None:
        _libraries().remove(library)
        removed = True
    _added_here = False
    # An entry the preferences file holds goes from it at the next save; one that only
    # lived in this session leaves the flag as the user's own changes had it.
    prefs.is_dirty = was_dirty or (removed and _saved_entry)
