"""A mirror object in either mode: a plain mesh, or procedural (Geometry Nodes).

Mesh mode: the object's mesh is ``scurve_geom``'s base grid, written with
``foreach_set``. Procedural mode: the mesh is empty and the "S-Curve Geometry" modifier
(the :mod:`.mirror_nodes` group) makes the same grid in Blender. Either way the add-on's
Subdivision Surface modifier comes last and the parameters are stored on the object
(``Object.scurve_mirror``), so Edit S-Curve and the conversions work on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import bpy
from mathutils import Matrix, Vector

from scurve_geom import MirrorParams, build_mesh

from . import compat, mesh_io, mirror_nodes, props
from .common import is_editable_mirror

#: Name of the Subdivision Surface modifier the add-on owns on each mirror.
MODIFIER_NAME = "S-Curve Subdivision"
OBJECT_NAME = "S-Curve Mirror"
#: The viewport shows at most this many levels (the render gets all of them): the seed's
#: grid at 3 levels is 2,193 vertices, cheap, but a fine grid at 3 levels is not.
VIEWPORT_MAX_LEVELS = 2

__all__ = [
    "MODIFIER_NAME",
    "OBJECT_NAME",
    "VIEWPORT_MAX_LEVELS",
    "ObjectFrame",
    "blender_params",
    "evaluated_depsgraph",
    "geometry_modifier",
    "is_editable_mirror",
    "is_procedural",
    "make_mesh",
    "make_procedural",
    "object_frame",
    "object_params",
    "set_geometry",
    "sync_modifier",
]


def blender_params(params: MirrorParams) -> MirrorParams:
    """The grid Blender gets: subdivision is left to the modifier."""
    return params.replace(subdivision_levels=0)


def geometry_modifier(obj: Any) -> Any | None:
    """The add-on's Geometry Nodes modifier on ``obj`` (procedural mode), or ``None``."""
    mod = obj.modifiers.get(mirror_nodes.MODIFIER_NAME)
    if mod is None or mod.type != "NODES" or mod.node_group is None:
        return None
    return mod if mod.node_group.get(mirror_nodes.VERSION_KEY) is not None else None


def is_procedural(obj: Any) -> bool:
    """Whether ``obj`` is a mirror driven by the add-on's node group."""
    return is_editable_mirror(obj) and geometry_modifier(obj) is not None


def object_params(obj: Any, *, depsgraph: Any | None = None) -> MirrorParams:
    """The parameters of the shape ``obj`` shows now, at the scene's current frame.

    A mesh mirror's are the stored ones. A procedural mirror's come from its modifier's
    inputs as the depsgraph evaluated them: changed by hand, keyframed or driven, they
    are what the viewport shows, whatever the stored values still say. Every feature
    that needs the mirror's shape (the stage, face planes, sun hot spots, the panel,
    the conversions) reads it here.

    Parameters
    ----------
    depsgraph : bpy.types.Depsgraph, optional
        The evaluated depsgraph to read from; by default the context's, evaluated now
        (:func:`evaluated_depsgraph`).

    Raises
    ------
    ValueError
        When the inputs hold values ``MirrorParams`` refuses (an odd vertex count, say).
    """
    values = {name: getattr(obj.scurve_mirror, name) for name in props.PARAM_NAMES}
    mod = geometry_modifier(obj)
    if mod is not None:
        values.update(mirror_nodes.read_inputs(mod))
        animated = _animated_inputs(obj, mod)
        if animated:
            # Keyframes and drivers are evaluated on the depsgraph's copy; a value
            # written from Python without tagging the object is only on the original.
            current = mirror_nodes.read_inputs(_evaluated_modifier(obj, mod, depsgraph))
            values.update({name: current[name] for name in animated})
    return props.read_params(_Values(values))


@dataclass(frozen=True)
class ObjectFrame:
    """Where a mirror stands: its rigid frame and its scale.

    ``to_world`` maps frame coordinates (metres; seam on the z axis, wall standing on
    z = 0, front toward −y: docs/design.md) to world coordinates; ``scale`` is the
    object's scale, which maps its own (parameter) coordinates onto the frame's.
    """

    to_world: Matrix
    scale: Vector

    def uniform_scale(self, name: str) -> float:
        """The scale, when it is the same along every axis.

        Raises
        ------
        ValueError
            Naming the mirror ``name`` and its scale otherwise: an unevenly scaled
            mirror is no longer the surface its parameters describe.
        """
        factors = (self.scale.x, self.scale.y, self.scale.z)
        s = factors[0]
        if s <= 0 or max(abs(f - s) for f in factors) > 1e-4 * s:
            shown = tuple(round(f, 4) for f in factors)
            raise ValueError(f"mirror {name!r} is scaled {shown}: apply the scale or change "
                             "its radius and half length instead")
        return float(s)


def object_frame(obj: Any) -> ObjectFrame:
    """``obj``'s frame (location and rotation) and scale, from its world matrix.

    Every feature that places things around the mirror (the stage, face planes, sun hot
    spots) reads the mirror's frame here.
    """
    loc, rot, scale = obj.matrix_world.decompose()
    return ObjectFrame(Matrix.Translation(loc) @ rot.to_matrix().to_4x4(), Vector(scale))


def _animated_inputs(obj: Any, mod: Any) -> list[str]:
    """The modifier inputs (MirrorParams fields) that keyframes or drivers set."""
    paths = {fcurve.data_path for fcurve in compat.animation_fcurves(obj)}
    return [name for name in mirror_nodes.INPUT_FIELDS
            if name in mirror_nodes.input_names(mod)
            and mirror_nodes.input_path(mod, name) in paths]


def evaluated_depsgraph(scene: Any | None = None) -> Any:
    """The depsgraph of the context's view layer (or ``scene``'s first), evaluated.

    Animation and drivers live on the depsgraph's evaluated copies: the original
    modifier keeps the last value written to it until something flushes it back.
    """
    context: Any = bpy.context
    if scene is None or scene == getattr(context, "scene", None):
        try:
            return context.evaluated_depsgraph_get()
        except (AttributeError, RuntimeError):  # a context without a view layer
            scene = scene if scene is not None else context.scene
    depsgraph = scene.view_layers[0].depsgraph
    depsgraph.update()
    return depsgraph


def _evaluated_modifier(obj: Any, mod: Any, depsgraph: Any | None) -> Any:
    depsgraph = evaluated_depsgraph() if depsgraph is None else depsgraph
    evaluated = obj.evaluated_get(depsgraph).modifiers.get(mod.name)
    # An object outside the depsgraph's view layer has no evaluated copy of its own.
    return evaluated if evaluated is not None and evaluated.node_group is not None else mod


class _Values:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def sync_modifier(obj: Any, params: MirrorParams) -> None:
    """Make the add-on's Subdivision Surface modifier match ``params``, as the last one.

    Levels 0 (the analytic high-resolution mode) means no modifier at all, rather than
    a disabled one, so the exported/evaluated mesh is exactly the grid. The viewport
    shows at most :data:`VIEWPORT_MAX_LEVELS`; the render gets every level.
    """
    mod = obj.modifiers.get(MODIFIER_NAME)
    if params.subdivision_levels == 0:
        if mod is not None:
            obj.modifiers.remove(mod)
        return
    if mod is None or mod.type != "SUBSURF":
        if mod is not None:
            obj.modifiers.remove(mod)
        mod = obj.modifiers.new(MODIFIER_NAME, "SUBSURF")
    assert isinstance(mod, bpy.types.SubsurfModifier)
    mod.subdivision_type = "CATMULL_CLARK"
    mod.levels = min(params.subdivision_levels, VIEWPORT_MAX_LEVELS)
    mod.render_levels = params.subdivision_levels
    mod.boundary_smooth = params.boundary_smooth  # type: ignore[assignment]
    _move(obj, mod, len(obj.modifiers) - 1)


def _move(obj: Any, mod: Any, index: int) -> None:
    current = list(obj.modifiers).index(mod)
    if current != index:
        obj.modifiers.move(current, index)


def set_geometry(obj: Any, params: MirrorParams) -> None:
    """Rebuild ``obj`` (a mirror in either mode) for ``params`` and store them."""
    mod = geometry_modifier(obj)
    if mod is not None:
        mirror_nodes.write_inputs(mod, params)
    else:
        mesh_io.fill_mesh(obj.data, build_mesh(blender_params(params)))
    obj.scurve_mirror.is_mirror = True
    props.write_params(obj.scurve_mirror, params)
    sync_modifier(obj, params)


def make_procedural(obj: Any, params: MirrorParams) -> Any:
    """Turn ``obj`` into a procedural mirror for ``params``; returns the new modifier.

    The node group is the file's one "S-Curve Mirror" group (built on first use). The
    mesh datablock loses its geometry, which the modifier now makes, and its materials
    move to object-linked slots (the only ones the generated mesh renders with); the
    modifier goes first so the user's own modifiers act on the mirror.
    """
    tree = mirror_nodes.ensure_node_group()
    mod = obj.modifiers.get(mirror_nodes.MODIFIER_NAME)
    if mod is None or mod.type != "NODES":
        if mod is not None:
            obj.modifiers.remove(mod)
        mod = obj.modifiers.new(mirror_nodes.MODIFIER_NAME, "NODES")
    mod.node_group = tree
    _move(obj, mod, 0)
    if obj.data.vertices or obj.data.polygons:
        obj.data.clear_geometry()
    _link_materials_to_object(obj)
    set_geometry(obj, params)
    return mod


def _link_materials_to_object(obj: Any) -> None:
    # The modifier's mesh is new geometry: materials on the (empty) mesh datablock do not
    # reach it, only materials linked to the object do. So every slot, and at least one,
    # links to the object, keeping the material it showed.
    if not obj.material_slots:
        obj.data.materials.append(None)
    for slot in obj.material_slots:
        material = slot.material
        slot.link = "OBJECT"
        if slot.material is None:
            slot.material = material


def make_mesh(obj: Any) -> MirrorParams:
    """Turn a procedural mirror into a plain mesh of its current parameters ("Apply").

    The mesh is ``scurve_geom``'s (float64, rounded once), not the evaluated float32
    one; keyframes and drivers on the modifier's inputs go with the modifier.

    Raises
    ------
    ValueError
        From :func:`object_params`; the object is unchanged then.
    """
    params = object_params(obj)
    mesh = build_mesh(blender_params(params))
    mod = geometry_modifier(obj)
    if mod is not None:
        obj.modifiers.remove(mod)
    mesh_io.fill_mesh(obj.data, mesh)
    props.write_params(obj.scurve_mirror, params)
    sync_modifier(obj, params)
    return params
