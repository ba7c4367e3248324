"""Pure-numpy decoder (no torch): runs in Blender's bundled Python, numpy 1.26 and 2.x.

A stride-2 transposed conv with a k × k kernel is computed as one matrix product of the input
pixels with the kernel, ``(B·H·W, C_in) @ (C_in, k·k·C_out)``, followed by k² strided adds:
input pixel (i, j) with kernel tap (ky, kx) lands on output pixel (2i + ky − p, 2j + kx − p).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["FORMAT_VERSION", "NumpyDecoder"]

FORMAT_VERSION = 1


def _leaky(x: np.ndarray, slope: float) -> np.ndarray:
    return np.where(x > 0, x, x * np.float32(slope))


def conv_transpose_s2(x: np.ndarray, w: np.ndarray, b: np.ndarray, k: int = 3, p: int = 1,
                      op: int = 1) -> np.ndarray:
    """Stride-2 transposed convolution, torch ``ConvTranspose2d`` semantics.

    Parameters
    ----------
    x : ndarray, (B, H, W, C_in) float32
    w : ndarray, (C_in, k·k·C_out) float32, in (c_in, ky, kx, c_out) order
    b : ndarray, (C_out,) float32
    k, p, op : int
        Kernel size, padding, output padding.

    Returns
    -------
    ndarray, (B, 2H − 2 + k − 2p + op, same for W, C_out) float32
    """
    bsz, h, wd, c_in = x.shape
    c_out = w.shape[1] // (k * k)
    y = (x.reshape(-1, c_in) @ w).reshape(bsz, h, wd, k, k, c_out)
    full_h, full_w = 2 * (h - 1) + k + op, 2 * (wd - 1) + k + op
    out = np.zeros((bsz, full_h, full_w, c_out), np.float32)
    for ky in range(k):
        for kx in range(k):
            out[:, ky:ky + 2 * h:2, kx:kx + 2 * wd:2] += y[:, :, :, ky, kx]
    out_h, out_w = full_h - 2 * p, full_w - 2 * p
    out = out[:, p:p + out_h, p:p + out_w]
    out += b
    return out


class NumpyDecoder:
    """Decoder exported by :func:`latent_faces.export.export_decoder`.

    Attributes
    ----------
    z_dim : int
        Latent dimension.
    image_size : int
        Side of the decoded images (96).
    header : dict
        The file's JSON header (format version, shapes, training metadata).
    """

    def __init__(self, arrays: dict[str, np.ndarray], header: dict, source: str = "<memory>"):
        self.header = header
        self.source = source
        self.z_dim = int(header["z_dim"])
        self.image_size = int(header["image_size"])
        self.base = int(header["base"])
        self.base_channels = int(header["base_channels"])
        self.slope = float(header["leaky_slope"])
        self.k = int(header["kernel"])
        self.p = int(header["padding"])
        self.op = int(header["output_padding"])
        self.fc_w = arrays["fc_w"]
        self.fc_b = arrays["fc_b"]
        self.convs = [(arrays[f"conv{i}_w"], arrays[f"conv{i}_b"])
                      for i in range(int(header["n_conv"]))]

    @classmethod
    def load(cls, path: str | os.PathLike) -> NumpyDecoder:
        """Load and validate an exported ``.npz``.

        Raises
        ------
        ValueError
            If the file is not a decoder export, has another format version, or an array's
            shape disagrees with the header (the message names the file).
        FileNotFoundError
            If ``path`` does not exist.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"decoder file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as z:
                files = {k: z[k] for k in z.files}
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: not a readable .npz decoder ({e})") from None
        if "header" not in files:
            raise ValueError(f"{path}: no 'header' entry, not a latent_faces decoder export")
        try:
            header = json.loads(str(files.pop("header")))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: unreadable header ({e})") from None
        version = header.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"{path}: decoder format version {version!r}, this code reads "
                             f"version {FORMAT_VERSION}")
        cls._check_shapes(path, header, files)
        arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in files.items()}
        return cls(arrays, header, str(path))

    @staticmethod
    def _check_shapes(path: Path, header: dict, files: dict[str, np.ndarray]) -> None:
        shapes = header.get("shapes", {})
        n_conv = int(header.get("n_conv", -1))
        need = ["fc_w", "fc_b"] + [f"conv{i}_{t}" for i in range(n_conv) for t in "wb"]
        for name in need:
            if name not in files:
                raise ValueError(f"{path}: missing array {name!r}")
            if list(files[name].shape) != list(shapes.get(name, [])):
                raise ValueError(f"{path}: array {name!r} has shape {list(files[name].shape)}, "
                                 f"header says {shapes.get(name)}")
        z, base, c0, k = (int(header[n]) for n in ("z_dim", "base", "base_channels", "kernel"))
        if files["fc_w"].shape != (z, c0 * base * base):
            raise ValueError(f"{path}: fc_w shape {files['fc_w'].shape} does not match "
                             f"z_dim={z}, base={base}, channels={c0}")
        c_in = c0
        for i in range(n_conv):
            w, b = files[f"conv{i}_w"], files[f"conv{i}_b"]
            if w.shape[0] != c_in or w.shape[1] != k * k * b.shape[0]:
                raise ValueError(f"{path}: conv{i} shapes {w.shape}, {b.shape} do not chain")
            c_in = b.shape[0]
        if c_in != 3:
            raise ValueError(f"{path}: last layer has {c_in} channels, expected 3 (RGB)")
        size = base * 2**n_conv
        if size != int(header["image_size"]):
            raise ValueError(f"{path}: layers give {size}px images, header says "
                             f"{header['image_size']}")

    def decode(self, z) -> np.ndarray:
        """Decode latent vectors to images.

        Parameters
        ----------
        z : array_like, (B, z_dim) or (z_dim,)

        Returns
        -------
        ndarray, (B, image_size, image_size, 3) float32 in [0, 1]
        """
        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"expected latents of shape (B, {self.z_dim}), got {z.shape}")
        h = z @ self.fc_w + self.fc_b
        # torch reshapes (B, C·b·b) as (B, C, b, b); this code works channels-last.
        h = h.reshape(len(z), self.base_channels, self.base, self.base).transpose(0, 2, 3, 1)
        for i, (w, b) in enumerate(self.convs):
            h = conv_transpose_s2(np.ascontiguousarray(h), w, b, self.k, self.p, self.op)
            if i < len(self.convs) - 1:
                h = _leaky(h, self.slope)
        # Sigmoid written to avoid overflow warnings for large negative logits.
        e = np.exp(-np.abs(h))
        out = np.where(h >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return out.astype(np.float32, copy=False)
