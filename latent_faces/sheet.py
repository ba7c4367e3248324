"""Contact sheets: a grid of images as one uint8 array (and PNG via Pillow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# scurve_geom ships beside latent_faces (the same wheel); this needs only the standard library.
from scurve_geom.cli_common.atomic import write_atomically

__all__ = ["contact_sheet", "save_png"]


def contact_sheet(images, cols: int = 8, pad: int = 2, bg: int = 255) -> np.ndarray:
    """Tile images into a grid.

    Parameters
    ----------
    images : array_like, (N, H, W, 3) uint8 or float in [0, 1]
    cols : int
        Images per row.
    pad : int
        Gap between images in pixels.
    bg : int
        Gap grey level.

    Returns
    -------
    ndarray, (rows·(H+pad)+pad, cols·(W+pad)+pad, 3) uint8
    """
    a = np.asarray(images)
    if a.dtype != np.uint8:
        a = np.round(np.clip(a, 0, 1) * 255).astype(np.uint8)
    if a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"expected (N, H, W, 3) images, got {a.shape}")
    n, h, w, _ = a.shape
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), bg, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = a[i]
    return out


def save_png(path, images, cols: int = 8, palette: bool = False) -> None:
    """Write :func:`contact_sheet` of ``images`` to ``path``.

    ``palette=True`` stores a 256-colour PNG (about 3× smaller; for pictures committed to docs).
    The file is written under a temporary name and renamed, so a failure never leaves a
    partial ``path``.
    """
    # Imported here, not above: Blender's Python has no Pillow, and contact_sheet must work there.
    from PIL import Image

    im = Image.fromarray(contact_sheet(images, cols))
    if palette:
        im = im.quantize(256, dither=Image.Dither.NONE)
    write_atomically(Path(path), lambda tmp: im.save(tmp, format="PNG", optimize=palette))
