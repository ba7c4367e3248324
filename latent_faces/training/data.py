"""Image data for training: the synthetic faces and a streaming loader for real image folders.

Everything here is numpy + Pillow (no torch): the training loop
(:mod:`latent_faces.training.train`) batches these arrays itself.

Images are always ``uint8`` arrays of shape ``(H, W, 3)`` / ``(B, H, W, 3)``; the model code
converts them to float in [0, 1].
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .synth import IMAGE_SIZE, generate_faces

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageFolderStream",
    "center_crop_resize",
    "list_images",
    "synthetic_split",
]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")

# Face index ranges of the synthetic split: train faces come first, the test faces are a disjoint
# block far away so that growing the training set never overlaps the test set.
_SYNTH_TEST_START = 10_000_000


def synthetic_split(n_train: int, n_test: int, seed: int = 0,
                    cache_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic train and test faces, optionally cached as ``.npy`` files.

    Parameters
    ----------
    n_train, n_test : int
        Number of faces in each split.
    seed : int
        Data-set seed.
    cache_dir : path-like, optional
        If given, the arrays are stored there and reused (keyed by counts and seed).

    Returns
    -------
    train, test : ndarray of uint8, shapes (n_train, 96, 96, 3) and (n_test, 96, 96, 3)
    """
    out = []
    for name, n, start in (("train", n_train, 0), ("test", n_test, _SYNTH_TEST_START)):
        path = None
        if cache_dir is not None:
            path = Path(cache_dir) / f"synth_{name}_s{seed}_n{n}.npy"
            if path.exists():
                out.append(np.load(path))
                continue
        arr = generate_faces(n, seed=seed, start=start)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, arr)
        out.append(arr)
    return out[0], out[1]


def center_crop_resize(img, size: int = IMAGE_SIZE, crop: float = 0.8,
                       y_offset: float = 0.06) -> np.ndarray:
    """Centred square face crop resized to ``size`` × ``size``.

    CelebA's aligned images (178 × 218) put the eyes at a fixed height slightly above the centre;
    a square of side ``crop · min(w, h)`` around the centre, nudged down by ``y_offset · h``
    to include the chin, keeps the face and little background, as the post's "reworked and
    centred" 96 × 96 images do.

    Parameters
    ----------
    img : PIL.Image.Image
        Any mode; converted to RGB.
    size : int
        Output side length.
    crop : float
        Side of the square crop as a fraction of the shorter image side, in (0, 1].
    y_offset : float
        Downward shift of the crop centre as a fraction of the image height.

    Returns
    -------
    ndarray of uint8, shape (size, size, 3)
    """
    img = img.convert("RGB")
    w, h = img.size
    side = max(1, round(crop * min(w, h)))
    cx, cy = w / 2, h / 2 + y_offset * h
    left = round(min(max(cx - side / 2, 0), w - side))
    top = round(min(max(cy - side / 2, 0), h - side))
    box = (left, top, left + side, top + side)
    return np.asarray(img.resize((size, size), Image.Resampling.LANCZOS, box=box), np.uint8)


def list_images(root: str | os.PathLike) -> list[Path]:
    """All JPEG/PNG files under ``root`` (recursive), sorted for reproducibility."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    files = [p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
    return sorted(files)


def _is_test(path: Path, test_fraction: float) -> bool:
    # A hash of the file name, not its position, decides the split: adding or removing files
    # never moves an existing image between train and test.
    h = int.from_bytes(hashlib.sha1(path.name.encode()).digest()[:8], "little")
    return (h / 2**64) < test_fraction


@dataclass
class ImageFolderStream:
    """Streaming loader for a folder of face images (e.g. CelebA ``img_align_celeba``).

    Only the file list is held in memory; images are decoded lazily, one batch at a time.
    Unreadable files (corrupt, truncated, not an image) are skipped and counted in
    :attr:`skipped`.

    Parameters
    ----------
    root : path-like
        Folder searched recursively for ``.jpg``/``.jpeg``/``.png`` files.
    split : {"train", "test", "all"}
        Which part of the hash-based split to yield.
    test_fraction : float
        Fraction of files (by name hash) in the test split.
    size, crop : int, float
        Passed to :func:`center_crop_resize`.
    limit : int, optional
        Use at most this many files of the split (after sorting).
    """

    root: str | os.PathLike
    split: str = "train"
    test_fraction: float = 0.05
    size: int = IMAGE_SIZE
    crop: float = 0.8
    limit: int | None = None
    skipped: int = field(default=0, init=False)
    files: list[Path] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.split not in ("train", "test", "all"):
            raise ValueError(f"split must be train, test or all, not {self.split!r}")
        files = list_images(self.root)
        if self.split != "all":
            want_test = self.split == "test"
            files = [f for f in files if _is_test(f, self.test_fraction) == want_test]
        self.files = files[: self.limit] if self.limit is not None else files

    def __len__(self) -> int:
        return len(self.files)

    def load(self, path: Path) -> np.ndarray | None:
        """Decode one file; ``None`` (and ``skipped`` += 1) if it is not a readable image."""
        try:
            with Image.open(path) as im:
                im.load()
                return center_crop_resize(im, self.size, self.crop)
        # Truncated files raise OSError, broken headers SyntaxError/ValueError, absurd sizes
        # DecompressionBombError (not an OSError).
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
                Image.DecompressionBombError):
            self.skipped += 1
            return None

    def iter_images(self, shuffle_seed: int | None = None) -> Iterator[np.ndarray]:
        """Yield ``(size, size, 3)`` uint8 images, optionally in a seeded random order."""
        order = np.arange(len(self.files))
        if shuffle_seed is not None:
            np.random.default_rng(shuffle_seed).shuffle(order)
        for i in order:
            img = self.load(self.files[i])
            if img is not None:
                yield img

    def iter_batches(self, batch_size: int, shuffle_seed: int | None = None,
                     drop_last: bool = False) -> Iterator[np.ndarray]:
        """Yield ``(B, size, size, 3)`` uint8 batches."""
        buf: list[np.ndarray] = []
        for img in self.iter_images(shuffle_seed):
            buf.append(img)
            if len(buf) == batch_size:
                yield np.stack(buf)
                buf = []
        if buf and not drop_last:
            yield np.stack(buf)
