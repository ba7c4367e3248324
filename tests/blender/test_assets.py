"""The node-group asset library (issue 21): what the build writes, and the preference
entry ``register()``/``unregister()`` add and take away, on every supported Blender."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from scurve_geom import MirrorParams, build_mesh  # noqa: E402

pytestmark = pytest.mark.blender

EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factory_scene) -> Path:
    """The library written into ``tmp_path`` and the module pointed at it."""
    from blender_addon import assets

    folder = tmp_path / "asset_library"
    assets.write_library(folder)
    monkeypatch.setattr(assets, "LIBRARY_DIR", folder)
    yield folder
    assets.unregister()
    bpy.ops.wm.read_factory_settings(use_empty=True)


def entries() -> list[tuple[str, str]]:
    return [(lib.name, lib.path) for lib in bpy.context.preferences.filepaths.asset_libraries]


def test_library_holds_the_group_as_a_modifier_asset(library: Path):
    from blender_addon import assets, mirror_nodes

    assert sorted(p.name for p in library.iterdir()) == sorted(
        [assets.ASSET_FILE, assets.CATALOGS_FILE])
    cats = (library / assets.CATALOGS_FILE).read_text()
    assert f"{assets.CATALOG_ID}:Generate:Generate" in cats
    with bpy.data.libraries.load(str(library / assets.ASSET_FILE), assets_only=True) as (src, _):
        assert list(src.node_groups) == [mirror_nodes.NODE_GROUP_NAME]
    # Nothing else comes along: no objects, meshes or materials in the asset file.
    with bpy.data.libraries.load(str(library / assets.ASSET_FILE)) as (src, _):
        assert not src.objects and not src.meshes and not src.materials
    with bpy.data.libraries.load(str(library / assets.ASSET_FILE), link=False) as (_, dst):
        dst.node_groups = [mirror_nodes.NODE_GROUP_NAME]
    group = dst.node_groups[0]
    assert group.asset_data is not None and group.asset_data.catalog_id == assets.CATALOG_ID
    if hasattr(group, "is_modifier"):
        assert group.is_modifier
    assert group[mirror_nodes.VERSION_KEY] == mirror_nodes.BUILD_VERSION


def test_asset_on_a_plane_is_the_library_mesh(library: Path):
    from blender_addon import assets, mirror_nodes

    with bpy.data.libraries.load(str(library / assets.ASSET_FILE), link=False) as (_, dst):
        dst.node_groups = [mirror_nodes.NODE_GROUP_NAME]
    bpy.ops.mesh.primitive_plane_add()
    obj = bpy.context.active_object
    obj.modifiers.new("S-Curve Mirror", "NODES").node_group = dst.node_groups[0]
    ob = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mesh = ob.to_mesh()
    got = np.array([v.co for v in mesh.vertices], dtype=np.float64)
    ob.to_mesh_clear()
    want = build_mesh(MirrorParams(subdivision_levels=0)).vertices
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 8 * EPS32 * np.abs(want).max()


@pytest.mark.parametrize("dirty", [False, True])
def test_register_adds_and_unregister_removes_the_entry(library: Path, dirty: bool):
    from blender_addon import assets

    prefs = bpy.context.preferences
    before = entries()
    prefs.is_dirty = dirty
    assets.register()
    assert entries() == [*before, (assets.LIBRARY_NAME, str(library))]
    lib = assets.find_library()
    assert lib.import_method in {"APPEND_REUSE", "APPEND"}
    # Adding it is not a change of the user's preferences auto-save would store.
    assert prefs.is_dirty == dirty
    assets.register()  # again (a reload): still one entry
    assert len([e for e in entries() if e[0] == assets.LIBRARY_NAME]) == 1
    assets.unregister()
    assert entries() == before
    assert prefs.is_dirty == dirty


def test_a_saved_entry_is_removed_for_good(library: Path):
    """An entry already in the preferences at register (saved with them earlier) goes,
    and its removal is left for the next save."""
    from blender_addon import assets

    prefs = bpy.context.preferences
    prefs.filepaths.asset_libraries.new(name=assets.LIBRARY_NAME, directory=str(library))
    prefs.is_dirty = False
    assets.register()
    assert len([e for e in entries() if e[0] == assets.LIBRARY_NAME]) == 1
    assets.unregister()
    assert assets.find_library() is None
    assert prefs.is_dirty


def test_source_tree_has_no_library_to_offer(factory_scene):
    from blender_addon import assets

    assert not (assets.LIBRARY_DIR / assets.ASSET_FILE).exists()
    before = entries()
    assets.register()
    assert entries() == before
    assets.unregister()
