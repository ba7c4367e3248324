"""Pure-numpy decoder (no torch): runs in Blender's bundled Python, numpy 1.26 and 2.x.

Two decoder kinds (``header["decoder"]``):

* ``"foster"`` (format versions 1 and 2): Linear → stride-2 transposed convs.  A transposed
  conv with a k × k kernel is one matrix product of the input pixels with the kernel,
  ``(B·H·W, C_in) @ (C_in, k·k·C_out)``, followed by k² strided adds: input pixel (i, j) with
  kernel tap (ky, kx) lands on output pixel (2i + ky − p, 2j + kx − p).
* ``"resup"`` (format version 2): Linear → LeakyReLU → stages of [nearest 2× upsample →
  3 × 3 conv → LeakyReLU → residual blocks] → 3 × 3 conv to 12 channels → 2× pixel shuffle.
  A 3 × 3 "same" conv is 3 matmuls, one per kernel row, of a column-stacked copy of the
  input (the 3 column taps side by side in the channels); an upsample followed by a conv is
  computed as four 2 × 2 convs at the low resolution, one per output parity.  The last stage
  (header ``"final"``, format version 3) is either ``"shuffle"``, a 3 × 3 conv to 12
  channels and a 2× pixel shuffle (the only kind in version 2), or ``"upconv"``, nearest 2×
  upsampling and a 3 × 3 conv to 3 channels, which cannot paint a 2-px checkerboard on a flat
  region (its four output parities share one kernel's taps; Odena et al. 2016), or
  ``"bilinear"``, the same conv after bilinear 2× upsampling (torch's ``align_corners=False``:
  StyleGAN's [1, 3, 3, 1] / 4 filter per axis), which also damps nearest upsampling's images
  of low frequencies near the output's Nyquist (issue 20's grid peaks).  Format version 4
  adds ``"upsample"`` (the stages' 2× steps, ``"nearest"`` or ``"bilinear"``) and
  ``"refine"``: with R > 0 channels, the last conv gives 3 + R channels and a
  full-resolution block, conv3x3(LeakyReLU(·)) to R channels → LeakyReLU → conv3x3 to 3, is
  added to the first three (the RGB logits).

BatchNorm is folded into the conv before it at export time (:mod:`latent_faces.training.export`).
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["FINAL_STAGES", "FORMAT_VERSION", "MAX_REFINE", "READABLE_VERSIONS", "UPSAMPLERS",
           "NumpyDecoder", "conv3x3", "conv_transpose_s2",
           "pixel_shuffle2", "upsample2", "upsample2_bilinear", "upsample2_bilinear_conv3x3",
           "upsample2_conv3x3"]

# Written by export. Version 4 adds the resup decoder's "upsample" ("nearest" | "bilinear")
# and "refine" (channels of a full-resolution refinement, 0: none); version 3 its "final"
# stage ("shuffle" | "upconv" | "bilinear"); version 2 (resup always "shuffle", or Foster)
# and 1 (Foster only) are still read.
FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
# The resup decoder's last 2× step (also the training side's ModelConfig.final choices).
FINAL_STAGES = ("shuffle", "upconv", "bilinear")
# How the resup stages double their input (header "upsample", format version 4).
UPSAMPLERS = ("nearest", "bilinear")
# Largest full-resolution refinement (header "refine", format version 4), in channels.
MAX_REFINE = 64


def _leaky(x: np.ndarray, slope: float) -> np.ndarray:
    """LeakyReLU of a freshly computed ``x``, in place where the slope allows."""
    if 0 <= slope <= 1:  # then max(x, slope·x) is x where x > 0 and slope·x elsewhere
        return np.maximum(x, x * np.float32(slope), out=x)
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


def _column_stack(x: np.ndarray) -> np.ndarray:
    """(B, H, W, C) → (B, H + 2, W, 3·C): one zero row above and below each image, and in the
    channel blocks 0, 1, 2 the pixel at column j − 1, j, j + 1 (zero outside the image)."""
    bsz, h, wd, c = x.shape
    xc = np.zeros((bsz, h + 2, wd, 3 * c), np.float32)
    xc[:, 1:h + 1, 1:, :c] = x[:, :, :-1]
    xc[:, 1:h + 1, :, c:2 * c] = x
    xc[:, 1:h + 1, :-1, 2 * c:] = x[:, :, 1:]
    return xc


def _row_taps(flat: np.ndarray, kernels: list[np.ndarray], starts: list[int], rows: int,
              out: np.ndarray) -> None:
    """``out[:rows] = Σ_t flat[starts[t]:starts[t] + rows] @ kernels[t]``.

    ``flat`` is a :func:`_column_stack` flattened to (B·(H + 2)·W, ·): a row offset of the
    kernel is a contiguous shift of ``starts`` by whole image rows, so every tap is one
    matmul over the whole batch; the two padding rows of each image absorb the products that
    straddle two images (they are computed and thrown away).
    """
    np.matmul(flat[starts[0]:starts[0] + rows], kernels[0], out=out[:rows])
    for k, s in zip(kernels[1:], starts[1:], strict=True):
        out[:rows] += flat[s:s + rows] @ k


def conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3 × 3 convolution, stride 1, zero padding 1 (torch ``Conv2d(k=3, padding=1)``).

    Parameters
    ----------
    x : ndarray, (B, H, W, C_in) float32
    w : ndarray, (C_in, 9·C_out) float32, in (c_in, ky, kx, c_out) order
    b : ndarray, (C_out,) float32

    Returns
    -------
    ndarray, (B, H, W, C_out) float32 (a view into a slightly larger array)
    """
    bsz, h, wd, c_in = x.shape
    c_out = w.shape[1] // 9
    # One matmul per kernel row, (B·(H+2)·W, 3·C_in) @ (3·C_in, C_out): the three column
    # taps are the channel blocks of the column stack.  Fewer, larger products and three
    # contiguous adds instead of nine strided ones (bench/bench_decoder.py).
    k = w.reshape(c_in, 3, 3, c_out).transpose(1, 2, 0, 3).reshape(3, 3 * c_in, c_out)
    flat = _column_stack(x).reshape(-1, 3 * c_in)
    rows = (bsz * (h + 2) - 2) * wd
    out = np.empty((bsz * (h + 2) * wd, c_out), np.float32)
    _row_taps(flat, list(k), [0, wd, 2 * wd], rows, out)
    out = out.reshape(bsz, h + 2, wd, c_out)[:, :h]
    out += b
    return out


# Nearest 2× upsampling then a 3 × 3 conv: output row 2i + p reads input rows (i − 1, i) for
# p = 0, through kernel rows (0 | 1 + 2), and (i, i + 1) for p = 1, through (0 + 1 | 2); columns
# alike.  So each of the four output parities is a 2 × 2 conv of the small input with summed
# taps: 16 taps at the input resolution instead of 9 at four times as many pixels.
_PARITY_TAPS = (((0,), (1, 2)), ((0, 1), (2,)))


def upsample2_conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``conv3x3(upsample2(x), w, b)``, computed at the input resolution.

    Parameters
    ----------
    x : ndarray, (B, H, W, C_in) float32
    w : ndarray, (C_in, 9·C_out) float32, in (c_in, ky, kx, c_out) order
    b : ndarray, (C_out,) float32

    Returns
    -------
    ndarray, (B, 2H, 2W, C_out) float32; equal to the two-step result up to float32 rounding
    (the taps that see the same input pixel are summed first).
    """
    bsz, h, wd, c_in = x.shape
    c_out = w.shape[1] // 9
    k = w.reshape(c_in, 3, 3, c_out).transpose(1, 2, 0, 3)  # (ky, kx, C_in, C_out)
    flat = _column_stack(x).reshape(-1, 3 * c_in)
    rows = (bsz * (h + 2) - 2) * wd
    tmp = np.empty((bsz * (h + 2) * wd, c_out), np.float32)
    out = np.empty((bsz, h, 2, wd, 2, c_out), np.float32)
    for py in (0, 1):
        for px in (0, 1):
            # Input row offsets py − 1 + r (r = 0, 1), columns px − 1 + s: channel blocks
            # px and px + 1 of the column stack.
            kernels = [np.concatenate([k[list(ry)][:, list(rx)].sum((0, 1))
                                       for rx in _PARITY_TAPS[px]])
                       for ry in _PARITY_TAPS[py]]
            cols = flat[:, px * c_in:(px + 2) * c_in]
            _row_taps(cols, kernels, [py * wd, (py + 1) * wd], rows, tmp)
            out[:, :, py, :, px] = tmp.reshape(bsz, h + 2, wd, c_out)[:, :h]
    out = out.reshape(bsz, 2 * h, 2 * wd, c_out)
    out += b
    return out


def upsample2(x: np.ndarray) -> np.ndarray:
    """Nearest-neighbour 2× upsampling of (B, H, W, C) → (B, 2H, 2W, C)."""
    bsz, h, wd, c = x.shape
    return np.broadcast_to(x[:, :, None, :, None], (bsz, h, 2, wd, 2, c)).reshape(
        bsz, 2 * h, 2 * wd, c)


def upsample2_bilinear(x: np.ndarray) -> np.ndarray:
    """Bilinear 2× upsampling of (B, H, W, C) → (B, 2H, 2W, C), float32.

    torch ``interpolate(scale_factor=2, mode="bilinear", align_corners=False)``: output pixel
    2i reads ``¼·x[i−1] + ¾·x[i]`` and 2i + 1 ``¾·x[i] + ¼·x[i+1]`` on each axis, the edge
    pixel repeated beyond the border.
    """
    def axis(x: np.ndarray, ax: int) -> np.ndarray:
        n = x.shape[ax]
        prev = np.take(x, np.r_[0, 0:n - 1], axis=ax)
        nxt = np.take(x, np.r_[1:n, n - 1], axis=ax)
        three = np.float32(0.75) * x
        even = three + np.float32(0.25) * prev
        odd = three + np.float32(0.25) * nxt
        out = np.stack([even, odd], axis=ax + 1)
        shape = list(x.shape)
        shape[ax] = 2 * n
        return out.reshape(shape)

    return axis(axis(np.asarray(x, np.float32), 1), 2)


# Bilinear 2× then a 3 × 3 conv, away from the border: output 2i + p reads upsampled samples
# 2i + p − 1 … 2i + p + 1, each a ¼ : ¾ mix of input samples i − 1 … i + 1.  _BILINEAR_TAPS[p,
# d + 1, k] is the weight of input i + d in kernel tap k of parity p; so every output parity is a
# 3 × 3 conv of the (edge-padded) input, and the four together are one conv to 4·C_out channels
# and a pixel shuffle.
_BILINEAR_TAPS = np.array([[[0.75, 0.25, 0.0], [0.25, 0.75, 0.75], [0.0, 0.0, 0.25]],
                           [[0.25, 0.0, 0.0], [0.75, 0.75, 0.25], [0.0, 0.25, 0.75]]])


def upsample2_bilinear_conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``conv3x3(upsample2_bilinear(x), w, b)``, computed at the input resolution.

    One 3 × 3 conv of the edge-padded input to 4·C_out channels (the four output parities'
    kernels, :data:`_BILINEAR_TAPS` applied to ``w``) and a pixel shuffle; the one-pixel
    border of the output, where the conv's zero padding meets the upsampled image, is
    recomputed from two-pixel strips of the upsampled image.  Fewer, wider matrix products
    than the two-step form and no full-resolution copy of the input (timed against it in
    ``bench/bench_decoder.py``).

    Parameters
    ----------
    x : ndarray, (B, H, W, C_in) float32
    w : ndarray, (C_in, 9·C_out) float32, in (c_in, ky, kx, c_out) order
    b : ndarray, (C_out,) float32

    Returns
    -------
    ndarray, (B, 2H, 2W, C_out) float32; equal to the two-step result up to float32 rounding
    """
    c_in = x.shape[3]
    c_out = w.shape[1] // 9
    k = np.einsum("adk,bel,iklc->idecab", _BILINEAR_TAPS, _BILINEAR_TAPS,
                  w.reshape(c_in, 3, 3, c_out).astype(np.float64))
    k12 = np.ascontiguousarray(k.reshape(c_in, 9 * 4 * c_out), np.float32)
    xe = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    out = pixel_shuffle2(conv3x3(xe, k12, np.repeat(b, 4))[:, 1:-1, 1:-1])
    out = np.ascontiguousarray(out)
    # The border: the true conv sees zeros beyond the upsampled image, not the edge pixels'
    # continuation the low-resolution form assumes.
    out[:, :1] = conv3x3(upsample2_bilinear(x[:, :2])[:, :2], w, b)[:, :1]
    out[:, -1:] = conv3x3(upsample2_bilinear(x[:, -2:])[:, -2:], w, b)[:, -1:]
    out[:, :, :1] = conv3x3(upsample2_bilinear(x[:, :, :2])[:, :, :2], w, b)[:, :, :1]
    out[:, :, -1:] = conv3x3(upsample2_bilinear(x[:, :, -2:])[:, :, -2:], w, b)[:, :, -1:]
    return out


def pixel_shuffle2(x: np.ndarray) -> np.ndarray:
    """torch ``pixel_shuffle(·, 2)`` channels-last: (B, H, W, 4·C) → (B, 2H, 2W, C).

    torch's channel ``c·4 + 2i + j`` becomes sub-pixel (i, j) of output channel c.
    """
    bsz, h, wd, c4 = x.shape
    c = c4 // 4
    return x.reshape(bsz, h, wd, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(
        bsz, 2 * h, 2 * wd, c)


def resup_array_names(stages: list[dict], refine: int = 0) -> list[str]:
    """Names of the arrays of a ``resup`` decoder with the given stages and refinement
    width, in decode order."""
    names = ["fc_w", "fc_b"]
    for i, st in enumerate(stages):
        names += [f"s{i}_conv_w", f"s{i}_conv_b"]
        for j in range(int(st["res_blocks"])):
            names += [f"s{i}_r{j}_{t}" for t in ("w1", "b1", "w2", "b2")]
    names += ["out_w", "out_b"]
    if refine:
        names += ["refine_w1", "refine_b1", "refine_w2", "refine_b2"]
    return names


class NumpyDecoder:
    """Decoder exported by :func:`latent_faces.training.export.export_decoder`.

    Attributes
    ----------
    z_dim : int
        Latent dimension.
    image_size : int
        Side of the decoded images (96).
    kind : str
        ``"foster"`` or ``"resup"``.
    header : dict
        The file's JSON header (format version, shapes, training metadata).
    """

    def __init__(self, arrays: dict[str, np.ndarray], header: dict, source: str = "<memory>"):
        self.header = header
        self.source = source
        self.kind = str(header.get("decoder", "foster"))
        self.z_dim = int(header["z_dim"])
        self.image_size = int(header["image_size"])
        self.base = int(header["base"])
        self.base_channels = int(header["base_channels"])
        self.slope = float(header["leaky_slope"])
        self.a = arrays
        self.fc_w = arrays["fc_w"]
        self.fc_b = arrays["fc_b"]
        if self.kind == "foster":
            self.k = int(header["kernel"])
            self.p = int(header["padding"])
            self.op = int(header["output_padding"])
            self.convs = [(arrays[f"conv{i}_w"], arrays[f"conv{i}_b"])
                          for i in range(int(header["n_conv"]))]
        else:
            self.stages = [dict(s) for s in header["stages"]]
            self.final = str(header.get("final", "shuffle"))
            self.upsample = str(header.get("upsample", "nearest"))
            self.refine = int(header.get("refine", 0))

    @classmethod
    def load(cls, path: str | os.PathLike) -> NumpyDecoder:
        """Load and validate an exported ``.npz`` (format version 1 or 2).

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
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
            # A truncated download is a BadZipFile or a zlib/EOF error, not an OSError.
            first = (str(e).strip().splitlines() or [type(e).__name__])[0].split(". ")[0]
            raise ValueError(f"{path}: not a readable .npz decoder ({first})") from None
        if "header" not in files:
            raise ValueError(f"{path}: no 'header' entry, not a latent_faces decoder export")
        try:
            header = json.loads(str(files.pop("header")))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: unreadable header ({e})") from None
        version = header.get("format_version")
        if version not in READABLE_VERSIONS:
            raise ValueError(f"{path}: decoder format version {version!r}, this code reads "
                             f"versions {', '.join(map(str, READABLE_VERSIONS))}")
        kind = header.get("decoder", "foster")
        if kind not in ("foster", "resup") or (version == 1 and kind != "foster"):
            raise ValueError(f"{path}: unknown decoder kind {kind!r} for format "
                             f"version {version}")
        try:
            if kind == "foster":
                cls._check_foster(path, header, files)
            else:
                cls._check_resup(path, header, files)
        except (KeyError, TypeError) as e:
            raise ValueError(f"{path}: incomplete header ({e!r})") from None
        arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in files.items()}
        return cls(arrays, header, str(path))

    @staticmethod
    def _check_listed(path: Path, header: dict, files: dict[str, np.ndarray],
                      need: list[str]) -> None:
        shapes = header.get("shapes", {})
        for name in need:
            if name not in files:
                raise ValueError(f"{path}: missing array {name!r}")
            if list(files[name].shape) != list(shapes.get(name, [])):
                raise ValueError(f"{path}: array {name!r} has shape {list(files[name].shape)}, "
                                 f"header says {shapes.get(name)}")

    @staticmethod
    def _check_fc(path: Path, header: dict, files: dict[str, np.ndarray]) -> int:
        z, base, c0 = (int(header[n]) for n in ("z_dim", "base", "base_channels"))
        if files["fc_w"].shape != (z, c0 * base * base):
            raise ValueError(f"{path}: fc_w shape {files['fc_w'].shape} does not match "
                             f"z_dim={z}, base={base}, channels={c0}")
        return c0

    @classmethod
    def _check_foster(cls, path: Path, header: dict, files: dict[str, np.ndarray]) -> None:
        n_conv = int(header.get("n_conv", -1))
        need = ["fc_w", "fc_b"] + [f"conv{i}_{t}" for i in range(n_conv) for t in "wb"]
        cls._check_listed(path, header, files, need)
        c_in, k = cls._check_fc(path, header, files), int(header["kernel"])
        for i in range(n_conv):
            w, b = files[f"conv{i}_w"], files[f"conv{i}_b"]
            if w.shape[0] != c_in or w.shape[1] != k * k * b.shape[0]:
                raise ValueError(f"{path}: conv{i} shapes {w.shape}, {b.shape} do not chain")
            c_in = b.shape[0]
        if c_in != 3:
            raise ValueError(f"{path}: last layer has {c_in} channels, expected 3 (RGB)")
        cls._check_size(path, header, n_conv)

    @classmethod
    def _check_resup(cls, path: Path, header: dict, files: dict[str, np.ndarray]) -> None:
        stages = header["stages"]
        final = header.get("final", "shuffle")
        if final not in FINAL_STAGES or (final != "shuffle" and header["format_version"] < 3):
            raise ValueError(f"{path}: unknown final stage {final!r} for format version "
                             f"{header['format_version']}")
        upsample, refine = header.get("upsample", "nearest"), header.get("refine", 0)
        if header["format_version"] < 4 and ("upsample" in header or "refine" in header):
            raise ValueError(f"{path}: 'upsample' and 'refine' need format version 4, the "
                             f"header says {header['format_version']}")
        if upsample not in UPSAMPLERS:
            raise ValueError(f"{path}: unknown upsampling {upsample!r}")
        if (not isinstance(refine, int) or not 0 <= refine <= MAX_REFINE
                or (refine and final == "shuffle")):
            raise ValueError(f"{path}: refine {refine!r} is not an int in [0, {MAX_REFINE}] "
                             f"after an 'upconv' or 'bilinear' last stage")
        cls._check_listed(path, header, files, resup_array_names(stages, refine))
        c_in = cls._check_fc(path, header, files)

        def chain(wn: str, bn: str, c_in: int, c_out: int | None = None) -> int:
            w, b = files[wn], files[bn]
            if w.shape[0] != c_in or w.shape[1] != 9 * b.shape[0] or (
                    c_out is not None and b.shape[0] != c_out):
                raise ValueError(f"{path}: {wn} shape {w.shape}, {bn} {b.shape} do not chain "
                                 f"from {c_in} channels")
            return int(b.shape[0])

        for i, st in enumerate(stages):
            c_in = chain(f"s{i}_conv_w", f"s{i}_conv_b", c_in, int(st["channels"]))
            for j in range(int(st["res_blocks"])):
                chain(f"s{i}_r{j}_w1", f"s{i}_r{j}_b1", c_in, c_in)
                chain(f"s{i}_r{j}_w2", f"s{i}_r{j}_b2", c_in, c_in)
        chain("out_w", "out_b", c_in, 12 if final == "shuffle" else 3 + refine)
        if refine:
            chain("refine_w1", "refine_b1", 3 + refine, refine)
            chain("refine_w2", "refine_b2", refine, 3)
        cls._check_size(path, header, len(stages) + 1)

    @staticmethod
    def _check_size(path: Path, header: dict, n_doublings: int) -> None:
        size = int(header["base"]) * 2**n_doublings
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
        if self.kind == "resup":
            h = _leaky(h, self.slope)
        # torch reshapes (B, C·b·b) as (B, C, b, b); this code works channels-last.
        h = np.ascontiguousarray(
            h.reshape(len(z), self.base_channels, self.base, self.base).transpose(0, 2, 3, 1))
        h = self._resup(h) if self.kind == "resup" else self._foster(h)
        # Sigmoid written to avoid overflow warnings for large negative logits.
        e = np.exp(-np.abs(h))
        out = np.where(h >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return out.astype(np.float32, copy=False)

    def _foster(self, h: np.ndarray) -> np.ndarray:
        for i, (w, b) in enumerate(self.convs):
            h = conv_transpose_s2(np.ascontiguousarray(h), w, b, self.k, self.p, self.op)
            if i < len(self.convs) - 1:
                h = _leaky(h, self.slope)
        return h

    def _resup(self, h: np.ndarray) -> np.ndarray:
        a, s = self.a, self.slope
        up_conv = upsample2_bilinear_conv3x3 if self.upsample == "bilinear" else upsample2_conv3x3
        for i, st in enumerate(self.stages):
            h = _leaky(up_conv(h, a[f"s{i}_conv_w"], a[f"s{i}_conv_b"]), s)
            for j in range(int(st["res_blocks"])):
                r = f"s{i}_r{j}_"
                t = _leaky(conv3x3(h, a[r + "w1"], a[r + "b1"]), s)
                h = _leaky(h + conv3x3(t, a[r + "w2"], a[r + "b2"]), s)
        if self.final == "shuffle":
            return pixel_shuffle2(conv3x3(h, a["out_w"], a["out_b"]))
        up_conv = upsample2_conv3x3 if self.final == "upconv" else upsample2_bilinear_conv3x3
        y = up_conv(h, a["out_w"], a["out_b"])
        if not self.refine:
            return y
        # The refinement: RGB logits plus a two-conv correction from all 3 + refine channels.
        t = _leaky(conv3x3(_leaky(y.copy(), s), a["refine_w1"], a["refine_b1"]), s)
        return y[..., :3] + conv3x3(t, a["refine_w2"], a["refine_b2"])
