"""The "S-Curve Mirror" Geometry Nodes group: the exact surface, computed in Blender.

The group needs nothing but Blender: a .blend with a procedural mirror renders on a
machine without the add-on, and every input (named like the ``MirrorParams`` fields)
can be changed in the modifier panel, keyframed or driven. It reproduces
``scurve_geom.build_grid`` (same vertex order, faces, UVs as the "UVMap" corner
attribute, smooth shading); tests compare the two on every supported Blender.

How it follows :mod:`scurve_geom.surface`:

* A Grid primitive of ``rows × columns`` vertices with unit spacing gives each vertex
  its row ``j`` and column ``i`` exactly from its position (vertex ``j·columns + i``,
  as in ``build_grid``); Flip Faces gives the library's winding, and when the seam is
  not welded the quads and edges between the two seam columns are deleted.
* The S-bend's peak curvature comes from ``s_amplitude`` in closed form: the centre
  line's end offset is ``L sin(a) J0(a)`` with ``a = kappa0 L / pi``, inverted by six
  Newton steps (``J0``, ``J1`` as power series; ``|a| <= pi/4``). The library bisects
  its quadrature instead; both reach the same ``kappa0`` to float precision.
* The centre line ``C(s) = s ∫0^1 (cos, sin) phi(s t) dt`` is one quadrature per
  column: a second grid holds 48 points per column (composite 4-point Gauss-Legendre,
  12 panels, exact to ~1e-12 here), summed per column by Accumulate Field and read
  back with Sample Index.

Geometry Nodes computes in float32; the result matches the library's float64 mesh
rounded to float32 within a few units in the last place.
"""

from __future__ import annotations

import math
from typing import Any

import bpy
import numpy as np

from scurve_geom import MirrorParams
from scurve_geom.plan import max_bend_offset

from . import compat, manifest
from .node_builder import Nodes, input_socket, output_socket

#: The add-on's version (read from ``blender_manifest.toml``); with :data:`REVISION` it
#: tags the node group so a newer add-on rebuilds groups saved by an older one.
ADDON_VERSION = manifest.version()
#: Bumped whenever the nodes this module builds change.
REVISION = 1
BUILD_VERSION = f"{ADDON_VERSION}+nodes{REVISION}"

NODE_GROUP_NAME = "S-Curve Mirror"
#: Custom property on the group holding :data:`BUILD_VERSION`.
VERSION_KEY = "scurve_mirror_nodes"
#: Name of the add-on's Geometry Nodes modifier on a procedural mirror.
MODIFIER_NAME = "S-Curve Geometry"

#: MirrorParams fields the group takes as inputs; subdivision stays with the
#: Subdivision Surface modifier that follows it, as in mesh mode.
INPUT_FIELDS = ("radius", "half_length", "circle_vertices", "length_segments", "arch_angle",
                "match_heights", "weld_seam", "s_amplitude")

_PANELS = 12
_GAUSS_X, _GAUSS_W = np.polynomial.legendre.leggauss(4)
_GAUSS_X = 0.5 * (_GAUSS_X + 1.0)
_GAUSS_W = 0.5 * _GAUSS_W
_QUAD = _PANELS * len(_GAUSS_X)
_NEWTON_STEPS = 6
_SERIES_TERMS = 8
# End offset / half length at the 90° heading limit: inputs beyond it are clamped.
_MAX_OFFSET = max_bend_offset(1.0)



def label(name: str) -> str:
    """The socket name for a ``MirrorParams`` field: ``half_length`` → ``Half Length``."""
    return name.replace("_", " ").title()


# -- finding, building, versioning -------------------------------------------------------


def find_node_group() -> Any | None:
    """The add-on's node group in this file (tagged, whatever its name), or ``None``."""
    return next((g for g in bpy.data.node_groups if g.get(VERSION_KEY) is not None), None)


def ensure_node_group() -> Any:
    """The node group, built once per file and reused; rebuilt in place when it was
    made by another add-on version. The modifiers' input values, keyframes and drivers
    are kept (matched by input name when the inputs changed).
    """
    tree = find_node_group()
    if tree is None:
        tree = bpy.data.node_groups.new(NODE_GROUP_NAME, "GeometryNodeTree")
        _build_interface(tree)
    elif tree.get(VERSION_KEY) == BUILD_VERSION:
        return tree
    elif _interface_signature(tree) != _wanted_signature():
        # Socket identifiers change with a new interface: carry the values over by name.
        saved = [(m, read_inputs(m)) for m in _modifiers_using(tree)]
        old = _identifiers(tree)
        tree.interface.clear()
        _build_interface(tree)
        new = _identifiers(tree)
        renamed = {old[n]: new[n] for n in old if n in new}
        for mod, values in saved:
            _write_values(mod, values)
            _rename_animation(mod, renamed)
    tree.nodes.clear()
    _build_nodes(tree)
    tree[VERSION_KEY] = BUILD_VERSION
    return tree


def _rename_animation(modifier: Any, renamed: dict[str, str]) -> None:
    """Point keyframes and drivers on the modifier's inputs at the new identifiers."""
    prefix = f'modifiers["{modifier.name}"]["'
    for fcurve in compat.animation_fcurves(modifier.id_data):
        path = fcurve.data_path
        if path.startswith(prefix) and path.endswith('"]'):
            ident = path[len(prefix):-2]
            if ident in renamed:
                fcurve.data_path = f"{prefix}{renamed[ident]}\"]"


def _modifiers_using(tree: Any) -> list[Any]:
    return [m for o in bpy.data.objects for m in o.modifiers
            if isinstance(m, bpy.types.NodesModifier) and m.node_group == tree]


def _socket_spec() -> list[tuple[str, str, str, dict[str, Any]]]:
    """``(field, socket type, subtype, settings)`` for each input, from MirrorParams."""
    fields = {f["name"]: f for f in MirrorParams.describe()}
    out = []
    for name in INPUT_FIELDS:
        f = fields[name]
        kind = f["type"] if isinstance(f["type"], str) else f["type"].__name__
        settings: dict[str, Any] = {"default_value": f["default"], "description": f["doc"]}
        if kind == "float":
            socket, default = "NodeSocketFloat", float(f["default"])
            settings["default_value"] = default
            subtype = {"LENGTH": "DISTANCE", "ROTATION": "ANGLE"}.get(f.get("unit", ""), "NONE")
        elif kind == "int":
            socket, subtype = "NodeSocketInt", "NONE"
        else:
            socket, subtype = "NodeSocketBool", "NONE"
        if f.get("min") is not None:
            settings["min_value"], settings["max_value"] = f["min"], f["max"]
        out.append((name, socket, subtype, settings))
    return out


def _wanted_signature() -> list[tuple[str, str, str]]:
    inputs = [("INPUT", "Geometry", "NodeSocketGeometry")] + [
        ("INPUT", label(name), socket) for name, socket, _, _ in _socket_spec()
    ]
    return [*inputs, ("OUTPUT", "Geometry", "NodeSocketGeometry")]


def _interface_signature(tree: Any) -> list[tuple[str, str, str]]:
    # Blender lists outputs before inputs; compare inputs, then outputs, each in order.
    items = [(item.in_out, item.name, item.socket_type) for item in tree.interface.items_tree
             if item.item_type == "SOCKET"]
    return [i for i in items if i[0] == "INPUT"] + [i for i in items if i[0] == "OUTPUT"]


def _build_interface(tree: Any) -> None:
    iface = tree.interface
    # A geometry input keeps the modifier stackable like any other; the group ignores it.
    iface.new_socket("Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    for name, socket_type, subtype, settings in _socket_spec():
        sock = iface.new_socket(label(name), in_out="INPUT", socket_type=socket_type)
        if subtype != "NONE" and hasattr(sock, "subtype"):
            sock.subtype = subtype
        for key, value in settings.items():
            setattr(sock, key, value)
    iface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    if hasattr(tree, "is_modifier"):
        tree.is_modifier = True


# -- modifier inputs ---------------------------------------------------------------------


def _identifiers(tree: Any) -> dict[str, str]:
    """``{MirrorParams field: socket identifier}`` of the group's inputs."""
    by_label = {item.name: item.identifier for item in tree.interface.items_tree
                if item.item_type == "SOCKET" and item.in_out == "INPUT"}
    return {name: by_label[label(name)] for name in INPUT_FIELDS if label(name) in by_label}


def read_inputs(modifier: Any) -> dict[str, Any]:
    """The modifier's current input values as ``{MirrorParams field: value}``.

    Keyframed or driven inputs read their value at the current frame.
    """
    kinds = {name: socket for name, socket, _, _ in _socket_spec()}
    cast = {"NodeSocketFloat": float, "NodeSocketInt": int, "NodeSocketBool": bool}
    return {name: cast[kinds[name]](modifier[ident])
            for name, ident in _identifiers(modifier.node_group).items()}


def _write_values(modifier: Any, values: dict[str, Any]) -> None:
    for name, ident in _identifiers(modifier.node_group).items():
        if name in values:
            modifier[ident] = values[name]


def write_inputs(modifier: Any, params: MirrorParams) -> None:
    """Set the modifier's inputs to ``params`` (lengths metres, angles radians)."""
    _write_values(modifier, params.to_dict())
    # Writing ID properties does not tag the object for re-evaluation by itself.
    modifier.id_data.update_tag()


def input_names(modifier: Any) -> set[str]:
    """The MirrorParams fields ``modifier``'s node group takes as inputs."""
    return set(_identifiers(modifier.node_group))


def input_path(modifier: Any, name: str) -> str:
    """The data path of input ``name`` (a MirrorParams field) on ``modifier``'s object,
    for ``keyframe_insert`` and ``driver_add``."""
    return f'modifiers["{modifier.name}"]["{_identifiers(modifier.node_group)[name]}"]'


# -- the surface -----------------------------------------------------------------------


def _bend(n: Nodes, s_amplitude: Any, half_length: Any) -> Any:
    """``a = kappa0 L / pi`` with end offset ``L sin(a) J0(a) = s_amplitude``."""
    j0 = [(-0.25) ** k / math.factorial(k) ** 2 for k in range(_SERIES_TERMS)]
    j1 = [0.5 * (-0.25) ** k / (math.factorial(k) * math.factorial(k + 1))
          for k in range(_SERIES_TERMS)]
    y = n.math("MINIMUM", n.math("MAXIMUM", n.div(s_amplitude, half_length), -_MAX_OFFSET),
               _MAX_OFFSET)
    # sin(a) J0(a) is increasing and concave on [0, pi/4]: Newton from a = y climbs to
    # the root without overshooting (mirrored for negative y).
    a: Any = y
    for _ in range(_NEWTON_STEPS):
        a2 = n.mul(a, a)
        bessel0 = n.horner(a2, j0)
        bessel1 = n.mul(a, n.horner(a2, j1))
        sin_a, cos_a = n.math("SINE", a), n.math("COSINE", a)
        f = n.sub(n.mul(sin_a, bessel0), y)
        df = n.sub(n.mul(cos_a, bessel0), n.mul(sin_a, bessel1))
        a = n.sub(a, n.div(f, df))
    return a


def _blend(n: Nodes, column: Any, k: Any, unwelded: Any) -> Any:
    """``s / L`` in [-1, 1] of a grid column: the seam's second column (unwelded) shares
    the first one's value."""
    after_seam = n.math("GREATER_THAN", column, n.add(k, 0.5))
    m = n.sub(column, n.mul(after_seam, unwelded))
    return n.div(n.sub(m, k), k), m


def _build_nodes(tree: Any) -> None:
    n = Nodes(tree)
    gin = n.new("NodeGroupInput")
    gout = n.new("NodeGroupOutput")
    inp = {name: gin.outputs[label(name)] for name in INPUT_FIELDS}
    r, length = inp["radius"], inp["half_length"]
    k = inp["length_segments"]
    unwelded = n.math("SUBTRACT", 1.0, inp["weld_seam"])
    rows = n.add(n.math("FLOOR", n.div(inp["circle_vertices"], 2.0)), 1.0)
    cols = n.add(n.add(n.mul(k, 2.0), 1.0), unwelded)
    a = _bend(n, inp["s_amplitude"], length)

    # Unit-spaced grid: x = j - (rows-1)/2, y = i - (columns-1)/2, exact in float32.
    grid = n.new("GeometryNodeMeshGrid")
    n.feed(input_socket(grid, "Size X"), n.sub(rows, 1.0))
    n.feed(input_socket(grid, "Size Y"), n.sub(cols, 1.0))
    n.feed(input_socket(grid, "Vertices X"), rows)
    n.feed(input_socket(grid, "Vertices Y"), cols)
    px, py, _ = n.split(n.new("GeometryNodeInputPosition").outputs[0])
    row = n.add(px, n.div(n.sub(rows, 1.0), 2.0))
    col = n.add(py, n.div(n.sub(cols, 1.0), 2.0))

    # Unwelded: no quads or edges between the two seam columns (an edge's column is the
    # mean of its vertices', k + 1/2 only there).
    gap = n.math("LESS_THAN", n.math("ABSOLUTE", n.sub(col, n.add(k, 0.5))), 0.25)
    delete = n.new("GeometryNodeDeleteGeometry", domain="EDGE", mode="EDGE_FACE")
    tree.links.new(output_socket(grid, "Mesh"), input_socket(delete, "Geometry"))
    n.feed(input_socket(delete, "Selection"), n.mul(gap, unwelded))
    flip = n.new("GeometryNodeFlipFaces")
    tree.links.new(output_socket(delete, "Geometry"), input_socket(flip, "Mesh"))

    blend, m = _blend(n, col, k, unwelded)
    v = n.div(row, n.sub(rows, 1.0))
    uv = n.new("GeometryNodeStoreNamedAttribute", data_type="FLOAT2", domain="CORNER")
    tree.links.new(output_socket(flip, "Mesh"), input_socket(uv, "Geometry"))
    n.feed(input_socket(uv, "Name"), "UVMap")
    n.feed(input_socket(uv, "Value", "VECTOR"), n.xyz(n.div(m, n.mul(k, 2.0)), v))

    # Profile: theta = theta0 + arch v, theta0 = (pi - arch) / 2.
    arch = inp["arch_angle"]
    theta0 = n.div(n.sub(math.pi, arch), 2.0)
    theta = n.muladd(arch, v, theta0)
    z_arch = n.mul(r, n.sub(n.math("COSINE", theta0), n.math("COSINE", theta)))
    w_arch = n.mul(n.mul(r, -1.0), n.sub(n.math("SINE", theta), n.math("SINE", theta0)))
    height = n.mul(n.mul(r, 2.0), n.math("SINE", n.div(arch, 2.0)))
    z_seam = n.muladd(n.sub(1.0, inp["match_heights"]), n.sub(n.mul(height, v), z_arch), z_arch)
    t = n.math("ABSOLUTE", blend)
    w = n.mul(w_arch, blend)
    z = n.muladd(n.sub(z_arch, z_seam), t, z_seam)

    # Centre line: 48 quadrature points per column on a second grid (x: column, y: point).
    quad = n.new("GeometryNodeMeshGrid")
    n.feed(input_socket(quad, "Size X"), n.sub(cols, 1.0))
    n.feed(input_socket(quad, "Size Y"), float(_QUAD - 1))
    n.feed(input_socket(quad, "Vertices X"), cols)
    n.feed(input_socket(quad, "Vertices Y"), _QUAD)
    qx, qy, _ = n.split(n.new("GeometryNodeInputPosition").outputs[0])
    qcol = n.add(qx, n.div(n.sub(cols, 1.0), 2.0))
    q = n.add(qy, (_QUAD - 1) / 2.0)
    panel = n.math("FLOOR", n.div(q, float(len(_GAUSS_X))))
    node_in_panel = n.sub(q, n.mul(panel, float(len(_GAUSS_X))))
    x = n.div(n.add(panel, n.table(node_in_panel, list(_GAUSS_X))), float(_PANELS))
    weight = n.div(n.table(node_in_panel, list(_GAUSS_W)), float(_PANELS))
    qblend, _ = _blend(n, qcol, k, unwelded)
    phi_q = n.mul(a, n.sub(1.0, n.math("COSINE", n.mul(n.mul(math.pi, n.math("ABSOLUTE", qblend)),
                                                       x))))
    integrand = n.xyz(n.mul(weight, n.math("COSINE", phi_q)), n.mul(weight, n.math("SINE", phi_q)))
    acc = n.new("GeometryNodeAccumulateField", data_type="FLOAT_VECTOR", domain="POINT")
    n.feed(input_socket(acc, "Value"), integrand)
    n.feed(input_socket(acc, "Group ID") if any(s.name == "Group ID" for s in acc.inputs)
           else input_socket(acc, "Group Index"), qcol)
    sample = n.new("GeometryNodeSampleIndex", data_type="FLOAT_VECTOR", domain="POINT")
    tree.links.new(output_socket(quad, "Mesh"), input_socket(sample, "Geometry"))
    n.feed(input_socket(sample, "Value"), output_socket(acc, "Total"))
    n.feed(input_socket(sample, "Index"), n.mul(col, float(_QUAD)))
    tx, ty, _ = n.split(output_socket(sample, "Value"))

    s = n.mul(blend, length)
    phi = n.mul(a, n.sub(1.0, n.math("COSINE", n.mul(math.pi, blend))))
    x_pos = n.muladd(w, n.mul(n.math("SINE", phi), -1.0), n.mul(s, tx))
    y_pos = n.muladd(w, n.math("COSINE", phi), n.mul(s, ty))
    setpos = n.new("GeometryNodeSetPosition")
    tree.links.new(output_socket(uv, "Geometry"), input_socket(setpos, "Geometry"))
    n.feed(input_socket(setpos, "Position"), n.xyz(x_pos, y_pos, z))

    smooth = n.new("GeometryNodeSetShadeSmooth")
    tree.links.new(output_socket(setpos, "Geometry"), smooth.inputs[0])
    n.feed(input_socket(smooth, "Shade Smooth"), True)
    tree.links.new(smooth.outputs[0], gout.inputs[0])
