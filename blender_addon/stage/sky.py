"""The stage's world: a physical sky (Nishita on 4.x, multiple scattering on 5.0).

The sun lamp lights the scene; the sky only supplies the sky's colour and brightness,
with its sun placed where the lamp is so the two agree.
"""

from __future__ import annotations

import math
from typing import Any

import bpy

from scurve_geom.optics.sun import sun_direction

from .. import compat
from .tags import ROLE_KEY, Created, tagged


def world(scene: Any, made: Created, world_dir: Any, elevation: float, azimuth: float,
          strength: float) -> Any:
    """The tagged "S-Curve Sky" world, created or rebuilt; returns it (not assigned).

    ``world_dir`` maps a frame direction (3 floats) to a world ``Vector``; ``elevation``
    and ``azimuth`` (radians) place the sun in the mirror's frame; ``strength`` scales
    the sky's radiance.
    """
    w = tagged(bpy.data.worlds, "world")
    if w is None:
        w = made.add(bpy.data.worlds, bpy.data.worlds.new("S-Curve Sky"))
        w[ROLE_KEY] = "world"
    tree = compat.ensure_node_tree(w)
    # The sky is smooth: a 512-pixel importance map samples it as well as the default
    # 2048 one, and building that map costs seconds per render on a CPU.
    compat.set_if_present(w.cycles, sampling_method="MANUAL", sample_map_resolution=512)
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputWorld")
    bg = tree.nodes.new("ShaderNodeBackground")
    sky = tree.nodes.new("ShaderNodeTexSky")
    bg.location, sky.location = (-250, 0), (-550, 0)
    # The sky node works in world axes; turn the frame's azimuth into a world one.
    d = world_dir(sun_direction(math.degrees(elevation), math.degrees(azimuth)))
    # The sun lamp lights the scene; a sky sun disc too would double it and show a
    # second sun in the mirror.
    compat.configure_sky(
        sky, sun_elevation=math.asin(max(-1.0, min(1.0, d.z))),
        sun_rotation=math.atan2(d.x, d.y), sun_disc=False,
    )
    bg.inputs["Strength"].default_value = strength
    tree.links.new(sky.outputs["Color"], bg.inputs["Color"])
    tree.links.new(bg.outputs["Background"], out.inputs["Surface"])
    return w
