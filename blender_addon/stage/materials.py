"""The stage's materials: polished steel on the mirror, a textured ground, coloured props.

Each material is tagged with its role (:mod:`.tags`) and rebuilt from scratch on
every run, so an update never accumulates nodes; untagged materials are never touched.
"""

from __future__ import annotations

from typing import Any

import bpy

from .. import compat
from .tags import ROLE_KEY, Created, tagged

#: Linear RGB of the props beside the concave half.
PROP_COLORS = {
    "prop_cylinder": (0.8, 0.02, 0.02),
    "prop_cone": (0.02, 0.6, 0.02),
    "prop_sphere": (0.02, 0.05, 0.8),
}


def _ensure_material(role: str, name: str, made: Created) -> Any:
    mat = tagged(bpy.data.materials, role)
    if mat is None:
        mat = made.add(bpy.data.materials, bpy.data.materials.new(name))
        mat[ROLE_KEY] = role
    tree = compat.ensure_node_tree(mat)
    # Ours, so rebuilt from scratch each run: an update never accumulates nodes.
    tree.nodes.clear()
    return mat


def _principled(mat: Any, **inputs: Any) -> Any:
    tree = mat.node_tree
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.location = (-300, 0)
    for name, value in inputs.items():
        bsdf.inputs[name].default_value = value
    tree.links.new(bsdf.outputs["BSDF"], out.inputs["Surface"])
    return bsdf


def mirror_material(made: Created, roughness: float) -> Any:
    """Polished stainless steel with Principled ``roughness`` (0: a perfect mirror)."""
    mat = _ensure_material("mat_mirror", "S-Curve Polished Steel", made)
    # Metallic 1 with a light, neutral base: polished stainless steel reflects ~60–70 %
    # evenly across the spectrum; a little roughness keeps it from looking like glass.
    _principled(mat, **{"Base Color": (0.80, 0.80, 0.82, 1.0), "Metallic": 1.0,
                        "Roughness": roughness})
    return mat


def ground_material(made: Created) -> Any:
    """A dark rough ground with a faint world-space noise in colour and bump."""
    mat = _ensure_material("mat_ground", "S-Curve Ground", made)
    tree = mat.node_tree
    bsdf = _principled(mat, Roughness=0.85)
    coord = tree.nodes.new("ShaderNodeNewGeometry")
    noise = tree.nodes.new("ShaderNodeTexNoise")
    # Fractal (fBm) noise in world space (the plane is scaled, its object space is
    # not metres): metre-sized soft blotches plus fine grain, the post's "minimum
    # texture with disturbances", without a visible repeat.
    noise.inputs["Scale"].default_value = 0.8
    noise.inputs["Detail"].default_value = 10.0
    noise.inputs["Roughness"].default_value = 0.62
    ramp = tree.nodes.new("ShaderNodeValToRGB")
    ramp.color_ramp.elements[0].position = 0.3
    ramp.color_ramp.elements[0].color = (0.07, 0.066, 0.06, 1.0)
    ramp.color_ramp.elements[1].position = 0.7
    ramp.color_ramp.elements[1].color = (0.20, 0.19, 0.17, 1.0)
    bump = tree.nodes.new("ShaderNodeBump")
    bump.inputs["Strength"].default_value = 0.15
    bump.inputs["Distance"].default_value = 0.02
    tree.links.new(coord.outputs["Position"], noise.inputs["Vector"])
    tree.links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
    tree.links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
    tree.links.new(noise.outputs["Fac"], bump.inputs["Height"])
    tree.links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
    return mat


def prop_material(role: str, made: Created) -> Any:
    """The red, green or blue plastic of one prop (``role`` a key of :data:`PROP_COLORS`)."""
    names = {"prop_cylinder": "Red", "prop_cone": "Green", "prop_sphere": "Blue"}
    mat = _ensure_material(f"mat_{role}", f"S-Curve {names[role]}", made)
    _principled(mat, **{"Base Color": (*PROP_COLORS[role], 1.0), "Roughness": 0.35})
    return mat


def assign(obj: Any, mat: Any) -> None:
    """Put ``mat`` in ``obj``'s first material slot (adding one if it has none)."""
    if obj.material_slots:
        obj.material_slots[0].material = mat
    else:
        obj.data.materials.append(mat)
