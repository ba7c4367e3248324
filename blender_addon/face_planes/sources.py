"""Where the faces come from: the bundled numpy decoder, or a folder of pictures.

Faces are decoded by ``latent_faces``' numpy decoder in Blender's own Python (no torch),
from latent points drawn by a mode (VAE normal samples, the post's uniform cube with
boundary ``b``, or a straight path between two faces).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy
import numpy as np

__all__ = ["IMAGE_SUFFIXES", "decode_faces", "folder_faces", "load_faces"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def decode_faces(
    count: int,
    *,
    decoder: str | Path | None = None,
    mode: str = "normal",
    boundary: float = 2.5,
    seed: int = 0,
) -> np.ndarray:
    """Decode ``count`` faces with the numpy decoder.

    Parameters
    ----------
    decoder : path, optional
        A decoder ``.npz`` exported by ``latent_faces``; the shipped one by default.
    mode : {"normal", "uniform", "interpolate"}
        How latent points are drawn (see ``latent_faces.sample_latents``).
    boundary : float
        Upper bound of the uniform cube (mode ``uniform``).
    seed : int
        Fixes the latent points.

    Returns
    -------
    ndarray, float32 (count, 96, 96, 3)
        RGB in [0, 1], rows top to bottom.

    Raises
    ------
    ValueError
        Naming the decoder file when it is missing, of the wrong shape or version.
    """
    import latent_faces

    path = Path(decoder) if decoder else latent_faces.shipped_decoder_path()
    if not path.is_file():
        raise ValueError(f"decoder file {str(path)!r} does not exist")
    dec = latent_faces.NumpyDecoder.load(path)
    z = latent_faces.sample_latents(mode, count, seed, boundary=boundary, z_dim=dec.z_dim)
    return np.asarray(dec.decode(z), dtype=np.float32)


def folder_faces(folder: str | Path, count: int, seed: int = 0) -> list[np.ndarray]:
    """Read ``count`` pictures from ``folder`` (PNG/JPEG) with Blender's image loader.

    With more pictures than planes a seeded choice picks which; with fewer, they repeat.

    Returns
    -------
    list of ndarray, float32 (h, w, 3)
        RGB in [0, 1], rows top to bottom.

    Raises
    ------
    ValueError
        For a missing folder, a folder without pictures, or a file Blender cannot read
        (naming the file).
    """
    root = Path(bpy.path.abspath(str(folder))) if str(folder).startswith("//") else Path(folder)
    if not root.is_dir():
        raise ValueError(f"face folder {str(root)!r} does not exist")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"face folder {str(root)!r} has no PNG or JPEG pictures")
    rng = np.random.default_rng(seed)
    if len(files) > count:
        files = [files[i] for i in sorted(rng.choice(len(files), count, replace=False))]
    chosen = [files[i % len(files)] for i in range(count)]
    cache: dict[Path, np.ndarray] = {}
    for path in dict.fromkeys(chosen):
        cache[path] = _read_picture(path)
    return [cache[p] for p in chosen]


def _read_picture(path: Path) -> np.ndarray:
    try:
        img = bpy.data.images.load(str(path), check_existing=False)
    except RuntimeError as exc:
        raise ValueError(f"cannot read picture {str(path)!r}: {exc}") from None
    try:
        w, h = img.size
        if w == 0 or h == 0:
            raise ValueError(f"cannot read picture {str(path)!r}: not a valid image")
        flat = np.empty(w * h * img.channels, dtype=np.float32)
        img.pixels.foreach_get(flat)  # type: ignore[attr-defined]
        # Blender stores rows bottom to top; faces travel top to bottom like any image.
        rgb = flat.reshape(h, w, img.channels)[::-1, :, :3]
        if img.is_float:
            # Float files (EXR, 16-bit) load scene-linear; 8-bit ones keep their display
            # values. Display values throughout, so folder and decoded faces agree.
            rgb = _linear_to_srgb(rgb)
        return np.ascontiguousarray(rgb)
    finally:
        bpy.data.images.remove(img)


def _linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)


def load_faces(settings: Any) -> list[np.ndarray]:
    """The faces a settings struct (``Scene.scurve_faces``) asks for."""
    if settings.source == "FOLDER":
        return folder_faces(settings.folder, settings.count, settings.seed)
    return list(decode_faces(settings.count, decoder=settings.decoder or None,
                             mode=settings.mode, boundary=settings.boundary,
                             seed=settings.seed))
