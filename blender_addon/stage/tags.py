"""How the stage finds its own things: role tags, its collection, rollback on failure.

Everything the stage creates carries the custom property :data:`ROLE_KEY` (its role,
e.g. ``"sun"``) and lives in one collection, :data:`COLLECTION_NAME`. Running the stage
again finds its own objects by that tag and updates them; objects without the tag are
never modified, whatever their names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import bpy

from .. import compat

COLLECTION_NAME = "S-Curve Stage"
#: Custom property naming the role of every ID the stage created.
ROLE_KEY = "scurve_stage_role"
#: Custom property that marks a mesh built elsewhere (a script, an import) as an
#: S-curve mirror. Mirrors made by "Add S-Curve Mirror" are recognised by their
#: ``scurve_mirror.is_mirror`` flag: see :func:`is_mirror`.
MIRROR_TAG = "scurve_mirror_object"
_PARAMS_KEY = "scurve_mirror"


def is_mirror(obj: Any) -> bool:
    """Whether ``obj`` is a mesh tagged as an S-curve mirror."""
    if obj is None or obj.type != "MESH":
        return False
    if obj.get(MIRROR_TAG):
        return True
    # The add-on's ``Object.scurve_mirror.is_mirror`` flag.
    return bool(compat.stored_group_value(obj, _PARAMS_KEY, "is_mirror"))


def find_mirror(context: Any) -> Any | None:
    """The mirror to stage: the active object if it is one, else the first in the scene."""
    active = getattr(context, "active_object", None)
    if is_mirror(active):
        return active
    return next((o for o in context.scene.objects if is_mirror(o)), None)


def role(idblock: Any) -> str | None:
    """The stage role an ID carries, or ``None`` for anything the stage did not make."""
    return idblock.get(ROLE_KEY)


def stage_collection(scene: Any) -> Any | None:
    """The stage's collection in ``scene`` (found by its tag, at any depth), or ``None``."""
    for coll in _walk_collections(scene.collection):
        if role(coll) == "collection":
            return coll
    return None


def _walk_collections(root: Any) -> Iterable[Any]:
    for child in root.children:
        yield child
        yield from _walk_collections(child)


def stage_objects(scene: Any) -> dict[str, Any]:
    """``{role: object}`` for the stage objects in ``scene`` (empty when not staged).

    Only objects inside the stage collection count: an object the user moved out, or
    a tagged copy elsewhere, is no longer the stage's to change.
    """
    coll = stage_collection(scene)
    found: dict[str, Any] = {}
    if coll is None:
        return found
    for obj in coll.all_objects:
        r = role(obj)
        if r and r not in found:
            found[r] = obj
    return found


def tagged(collection: Any, wanted: str) -> Any | None:
    """The first ID of a ``bpy.data`` collection carrying role ``wanted``."""
    return next((i for i in collection if role(i) == wanted), None)


class Created:
    """IDs created in one run, removed again if the run fails (scene left unchanged)."""

    def __init__(self) -> None:
        self.ids: list[tuple[Any, Any]] = []

    def add(self, collection: Any, idblock: Any) -> Any:
        self.ids.append((collection, idblock))
        return idblock

    def rollback(self) -> None:
        for collection, idblock in reversed(self.ids):
            try:
                collection.remove(idblock)
            except ReferenceError:
                # Already gone with its owner (e.g. a mesh removed with its object).
                pass


def ensure_collection(scene: Any, made: Created) -> Any:
    """The stage collection, created and linked to ``scene`` when missing."""
    coll = stage_collection(scene)
    if coll is None:
        coll = made.add(bpy.data.collections, bpy.data.collections.new(COLLECTION_NAME))
        coll[ROLE_KEY] = "collection"
        scene.collection.children.link(coll)
    return coll


def ensure_object(coll: Any, wanted: str, name: str, make_data: Callable[..., Any],
                  made: Created) -> Any:
    """The object with role ``wanted`` in ``coll``, created from ``make_data()`` if missing."""
    obj = next((o for o in coll.all_objects if role(o) == wanted), None)
    if obj is not None:
        return obj
    data = make_data()
    if data is not None:
        made.add(_data_collection(data), data)
        data[ROLE_KEY] = wanted
    obj = made.add(bpy.data.objects, bpy.data.objects.new(name, data))
    obj[ROLE_KEY] = wanted
    coll.objects.link(obj)
    return obj


def _data_collection(data: Any) -> Any:
    for kind, coll in ((bpy.types.Mesh, bpy.data.meshes), (bpy.types.Light, bpy.data.lights),
                       (bpy.types.Camera, bpy.data.cameras)):
        if isinstance(data, kind):
            return coll
    raise TypeError(f"no bpy.data collection for {data!r}")
