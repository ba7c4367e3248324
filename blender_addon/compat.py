"""Blender version differences (4.2 LTS … 5.0), decided by feature checks.

Every function here asks Blender whether a property or enum item exists instead of
comparing ``bpy.app.version``: point releases and LTS backports move features
around, and a feature check stays right for versions nobody tested yet.
Other modules call these helpers and never branch on the version themselves.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import bpy


def enum_items(struct: Any, prop: str) -> list[str]:
    """Identifiers of the enum property ``prop`` of an RNA struct (type or instance)."""
    rna = struct.bl_rna if hasattr(struct, "bl_rna") else struct
    return [item.identifier for item in rna.properties[prop].enum_items]


def set_if_present(obj: Any, **values: Any) -> list[str]:
    """Set each attribute that ``obj`` has; return the names it did not have.

    For settings that only some versions offer (e.g. ``denoising_use_gpu`` since
    4.1, ``dust_density`` up to 4.5 vs ``aerosol_density`` in 5.0).
    """
    missing = []
    for name, value in values.items():
        if hasattr(obj, name):
            setattr(obj, name, value)
        else:
            missing.append(name)
    return missing


# -- sky ---------------------------------------------------------------------------


def physical_sky_type() -> str:
    """The best physically based sky model this Blender has.

    5.0 splits the 4.x ``NISHITA`` model into ``SINGLE_SCATTERING`` (the same model,
    marked legacy) and ``MULTIPLE_SCATTERING`` (more accurate); prefer the latter.
    """
    items = enum_items(bpy.types.ShaderNodeTexSky, "sky_type")
    for candidate in ("MULTIPLE_SCATTERING", "NISHITA", "SINGLE_SCATTERING"):
        if candidate in items:
            return candidate
    raise RuntimeError(f"no physical sky model in this Blender (sky types: {items})")


def configure_sky(
    node: Any,
    *,
    sun_elevation: float,
    sun_rotation: float,
    sun_disc: bool = False,
    air: float = 1.0,
    aerosol: float = 1.0,
    ozone: float = 1.0,
    altitude: float = 100.0,
) -> None:
    """Make ``node`` (a ShaderNodeTexSky) a physical sky with the sun at the given angles.

    Angles in radians: ``sun_elevation`` above the horizon, ``sun_rotation`` about +z
    from the +y axis (Blender's convention for the sky node). ``altitude`` in metres.
    The dust density of 4.x and the aerosol density of 5.0 are the same knob.
    """
    node.sky_type = physical_sky_type()
    set_if_present(
        node,
        sun_elevation=sun_elevation,
        sun_rotation=sun_rotation,
        sun_disc=sun_disc,
        air_density=air,
        ozone_density=ozone,
        altitude=altitude,
    )
    if hasattr(node, "aerosol_density"):
        node.aerosol_density = aerosol
    elif hasattr(node, "dust_density"):
        node.dust_density = aerosol


# -- render engines ------------------------------------------------------------------


def eevee_engine_id() -> str:
    """``BLENDER_EEVEE_NEXT`` (4.2–4.5) or ``BLENDER_EEVEE`` (5.0, and before 4.2)."""
    items = enum_items(bpy.types.RenderSettings, "engine")
    return "BLENDER_EEVEE_NEXT" if "BLENDER_EEVEE_NEXT" in items else "BLENDER_EEVEE"


def engine_id(name: str) -> str:
    """Map a user-facing engine name (``cycles`` or ``eevee``) to this Blender's id."""
    name = name.lower()
    if name == "cycles":
        return "CYCLES"
    if name == "eevee":
        return eevee_engine_id()
    raise ValueError(f"engine={name!r} is unknown: choose cycles or eevee")


def cycles_gpu_available(context: Any | None = None) -> bool:
    """Whether the user's preferences select a GPU compute backend with a device in use.

    Reads ``Preferences > System > Cycles Render Devices``; never changes them, so a
    user who configured nothing renders on the CPU, as Blender itself would.
    """
    context = context or bpy.context
    prefs_root = getattr(context, "preferences", None)
    if prefs_root is None:
        return False
    addon = prefs_root.addons.get("cycles")
    if addon is None:
        return False
    prefs = addon.preferences
    if getattr(prefs, "compute_device_type", "NONE") == "NONE":
        return False
    try:
        # get_devices() refreshes the list; without it a fresh session sees none.
        prefs.get_devices()
    except Exception:  # a broken driver must not stop a CPU render
        return False
    return any(d.use and d.type != "CPU" for d in prefs.devices)


def cycles_denoiser(cycles: Any) -> str | None:
    """Select OpenImageDenoise on ``cycles`` (scene.cycles) if this build has it.

    Returns ``"OPENIMAGEDENOISE"``, or ``None`` when the build leaves it out (Debian's
    4.3, for one: the ``denoiser`` enum is then empty). The enum's items are generated
    at run time, so its static RNA description cannot tell; trying the assignment can.
    OptiX alone needs an NVIDIA GPU, so it does not count.
    """
    try:
        cycles.denoiser = "OPENIMAGEDENOISE"
    except TypeError:  # enum "OPENIMAGEDENOISE" not found in ()
        return None
    return "OPENIMAGEDENOISE"


def denoise_on_cpu(cycles: Any) -> None:
    """Keep OpenImageDenoise on the CPU (the ``denoising_use_gpu`` switch exists since 4.1)."""
    set_if_present(cycles, denoising_use_gpu=False)


# -- node trees ----------------------------------------------------------------------


def ensure_node_tree(idblock: Any) -> Any:
    """The shader node tree of a material or world, creating it where needed.

    ``use_nodes`` is deprecated in 5.0 (node trees are always used there) and writing
    it warns; up to 4.5 a new material or world has no tree until it is set.
    """
    if getattr(idblock, "node_tree", None) is None:
        idblock.use_nodes = True
        return idblock.node_tree
    with warnings.catch_warnings():
        # Reading it warns on 5.0, where it is always True; 4.x can have it switched off.
        warnings.simplefilter("ignore", DeprecationWarning)
        if not idblock.use_nodes:
            idblock.use_nodes = True
    return idblock.node_tree


def node_input(node: Any, *names: str) -> Any:
    """The first input socket of ``node`` named one of ``names`` (names move between versions)."""
    for name in names:
        socket = node.inputs.get(name)
        if socket is not None:
            return socket
    raise KeyError(f"{node.bl_idname} has no input named any of {names}")


# -- stored properties -----------------------------------------------------------------


def stored_group_value(owner: Any, group: str, key: str) -> Any:
    """``owner.<group>.<key>`` of an add-on's PointerProperty, or None when unreadable.

    Through RNA when the property group is registered. When it is not (a file opened
    without the add-on, a headless script that did not register it), 4.x still shows
    the stored values as a raw ID property group ``owner[group]``; 5.0 keeps them apart
    from custom properties, unreadable from Python until the add-on is registered.
    """
    settings = getattr(owner, group, None)
    if settings is not None and hasattr(settings, key):
        return getattr(settings, key)
    raw = owner.get(group) if hasattr(owner, "get") else None
    return raw.get(key) if raw is not None and hasattr(raw, "get") else None


# -- output formats --------------------------------------------------------------------


def _set_media_type(settings: Any, media: str) -> None:
    # 5.0 groups file formats by media type; the format list only offers FFMPEG after
    # the media type says VIDEO.
    if hasattr(settings, "media_type") and media in enum_items(settings, "media_type"):
        settings.media_type = media


def configure_png(render: Any) -> None:
    """8-bit RGB PNG output on ``scene.render``."""
    settings = render.image_settings
    _set_media_type(settings, "IMAGE")
    settings.file_format = "PNG"
    settings.color_mode = "RGB"
    settings.color_depth = "8"


def configure_mp4(render: Any) -> None:
    """H.264 in MP4 through Blender's own FFmpeg output on ``scene.render``."""
    settings = render.image_settings
    _set_media_type(settings, "VIDEO")
    settings.file_format = "FFMPEG"
    ff = render.ffmpeg
    ff.format = "MPEG4"
    ff.codec = "H264"
    set_if_present(ff, constant_rate_factor="HIGH", ffmpeg_preset="GOOD", audio_codec="NONE")
    settings.color_mode = "RGB"


def sequencer_strips(scene: Any) -> Any:
    """The top-level strips of ``scene``'s sequencer, creating the editor if needed.

    ``SequenceEditor.strips`` (4.4+) replaced ``sequences``, which 5.0 removed.
    """
    editor = scene.sequence_editor or scene.sequence_editor_create()
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def new_image_strip(scene: Any, frames: Sequence[Any]) -> Any:
    """An image-sequence strip (channel 1, from frame 1) of ``frames``, paths in one folder."""
    strip = sequencer_strips(scene).new_image(
        name="frames", filepath=str(frames[0]), channel=1, frame_start=1
    )
    for path in frames[1:]:
        strip.elements.append(os.path.basename(str(path)))
    return strip


def ffmpeg_available() -> bool:
    """Whether this Blender was built with FFmpeg (the pip ``bpy`` wheel may not be)."""
    return bool(getattr(bpy.app, "ffmpeg", None) and bpy.app.ffmpeg.supported)


def first_present(names: Iterable[str], available: Iterable[str]) -> str | None:
    """The first of ``names`` found in ``available`` (enum identifiers), or None."""
    have = set(available)
    return next((n for n in names if n in have), None)


# -- mesh data (Add S-Curve Mirror) ----------------------------------------------------


def _foreach_set(
    mesh: Any, attribute: str, key: str, data: Any, collection: Any, fallback_key: str
) -> None:
    # Writing the attribute array is a memcpy (~5 ms per million items); the per-element
    # MeshVertex/MeshLoop path costs 30-100x more. Meshes keep these attributes since 4.0,
    # so the fallback only guards against a future rename.
    attr = mesh.attributes.get(attribute)
    if attr is not None:
        attr.data.foreach_set(key, data)
    else:
        collection.foreach_set(fallback_key, data)


def set_positions(mesh: Any, flat_xyz: Any) -> None:
    """Vertex positions from a contiguous float32 array of 3·N values, metres."""
    _foreach_set(mesh, "position", "vector", flat_xyz, mesh.vertices, "co")


def set_edge_verts(mesh: Any, flat_pairs: Any) -> None:
    """Edge vertex pairs from a contiguous int32 array of 2·E values."""
    _foreach_set(mesh, ".edge_verts", "value", flat_pairs, mesh.edges, "vertices")


def set_corner_verts(mesh: Any, flat: Any) -> None:
    """Each face corner's vertex index, contiguous int32 (one per loop)."""
    _foreach_set(mesh, ".corner_vert", "value", flat, mesh.loops, "vertex_index")


def set_corner_edges(mesh: Any, flat: Any) -> None:
    """Each face corner's edge index (corner i to corner i+1), contiguous int32."""
    _foreach_set(mesh, ".corner_edge", "value", flat, mesh.loops, "edge_index")


def shade_smooth(mesh: Any) -> None:
    """Smooth-shade every face.

    ``Mesh.shade_smooth()`` (4.1+) just drops the ``sharp_face`` attribute, O(1);
    the per-face ``use_smooth`` write is the pre-4.1 way.
    """
    if hasattr(mesh, "shade_smooth"):
        mesh.shade_smooth()
    else:
        mesh.polygons.foreach_set("use_smooth", [True] * len(mesh.polygons))


# -- animation ----------------------------------------------------------------------


def animation_fcurves(idblock: Any) -> list[Any]:
    """Every F-curve animating or driving ``idblock``: its action's and its drivers.

    5.0 keeps an action's F-curves in layered channelbags (``action.layers[].strips[]
    .channelbags[].fcurves``) where 4.x has ``action.fcurves``.
    """
    anim = getattr(idblock, "animation_data", None)
    if anim is None:
        return []
    curves = list(anim.drivers)
    action = anim.action
    if action is not None:
        legacy = getattr(action, "fcurves", None)
        if legacy is not None:
            curves.extend(legacy)
        for layer in getattr(action, "layers", []):
            for strip in layer.strips:
                for bag in getattr(strip, "channelbags", []):
                    curves.extend(bag.fcurves)
    return curves
