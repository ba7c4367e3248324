"""The sidebar's thumbnail strip of the faces the settings ask for."""

from __future__ import annotations

from typing import Any

import numpy as np

from .sources import load_faces

__all__ = ["preview_error", "preview_icons", "refresh_preview", "release_preview"]


class _Preview:
    """The thumbnail strip: one preview collection, and the settings it shows."""

    collection: Any = None
    key: tuple | None = None
    error: str = ""


def _preview_key(settings: Any) -> tuple:
    return (settings.source, settings.count, settings.seed, settings.mode,
            round(settings.boundary, 6), settings.decoder, settings.folder)


def refresh_preview(settings: Any) -> str:
    """Fill the thumbnail strip for ``settings``; returns an error message or ''."""
    import bpy.utils.previews

    if _Preview.collection is None:
        _Preview.collection = bpy.utils.previews.new()
    key = _preview_key(settings)
    if _Preview.key == key:
        return _Preview.error
    pcoll = _Preview.collection
    pcoll.clear()
    _Preview.key, _Preview.error = key, ""
    try:
        faces = load_faces(settings)
    except ValueError as exc:
        _Preview.error = str(exc)
        return _Preview.error
    for i, rgb in enumerate(faces):
        prev = pcoll.new(f"face{i}")
        h, w = rgb.shape[:2]
        prev.image_size = (w, h)
        rgba = np.ones((h, w, 4), dtype=np.float32)
        rgba[..., :3] = rgb[::-1]
        prev.image_pixels_float.foreach_set(rgba.ravel())  # type: ignore[union-attr]
    return ""


def preview_icons() -> list[int]:
    """Icon ids of the current thumbnail strip (empty before the first refresh)."""
    pcoll = _Preview.collection
    if pcoll is None:
        return []
    return [pcoll[f"face{i}"].icon_id for i in range(len(pcoll))]


def preview_error() -> str:
    """Why the last refresh found no faces ('' when it did)."""
    return _Preview.error


def release_preview() -> None:
    """Free the strip's preview collection (when the add-on is unregistered)."""
    import bpy.utils.previews

    if _Preview.collection is not None:
        bpy.utils.previews.remove(_Preview.collection)
    _Preview.collection, _Preview.key, _Preview.error = None, None, ""
