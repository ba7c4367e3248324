"""Is this a face?  k-NN precision, recall and diversity, sharpness, and the broken images the
plausibility classifier learns from (numpy only).

Two independent measurements, because each alone is fooled:

* :class:`~latent_faces.training.face_scorer.FaceScorer` (torch) — a small CNN trained to
  tell synthetic faces from *structurally broken* images made from the same faces
  (tile-shuffled faces, ghostly superpositions of several faces, smooth colour fields).
  Both classes are blurred by a random amount during training so that sharpness is not the
  cue: decoder outputs are always smooth, and a blurry face must still count as a face.  It
  is validated on held-out faces and on two corruption types it never saw.
* :func:`precision_recall` — improved precision and recall (Kynkäänniemi et al. 2019): a
  generated sample is "precise" if it falls inside the k-NN ball of some real sample, a real
  sample is "recalled" if it falls inside the k-NN ball of some generated sample.  Features are
  PCA coordinates of blurred, 24 × 24 pixels fitted on real faces (:class:`PixelPCA`).
  Precision alone is fooled by one average face repeated; recall and :func:`diversity` are not.
* :func:`sharpness` — mean absolute Laplacian of the grey image.  The two measures above
  work on blurred 24 × 24 features and cannot see blur; this one only sees fine detail.  It is
  reported as a ratio to real faces.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GRID_TOLERANCE", "HELDOUT_NEGATIVES", "PEAK_RING", "TRAIN_NEGATIVES", "PixelPCA",
           "diversity", "grid_frequencies", "grid_peaks", "make_negatives", "mean_power_spectrum",
           "precision_recall", "sharpness"]


# ---------------------------------------------------------------- numpy corruptions (negatives)

def tile_shuffle(x: np.ndarray, rng: np.random.Generator, grid: int) -> np.ndarray:
    """Cut each image into ``grid × grid`` tiles and permute them: face parts, no face."""
    b, h, _, c = x.shape
    t = h // grid
    tiles = x[:, : t * grid, : t * grid].reshape(b, grid, t, grid, t, c).transpose(0, 1, 3, 2, 4, 5)
    tiles = tiles.reshape(b, grid * grid, t, t, c)
    out = np.empty_like(tiles)
    for i in range(b):
        out[i] = tiles[i, rng.permutation(grid * grid)]
    out = out.reshape(b, grid, grid, t, t, c).transpose(0, 1, 3, 2, 4, 5).reshape(b, t * grid,
                                                                                   t * grid, c)
    res = x.copy()
    res[:, : t * grid, : t * grid] = out
    return res


def superpose(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Mean of ``n`` randomly chosen, randomly shifted images: ghosts of several faces."""
    acc = np.zeros_like(x)
    for _ in range(n):
        y = x[rng.permutation(len(x))]
        dy, dx = rng.integers(-20, 21, 2)
        acc += np.roll(y, (dy, dx), axis=(1, 2))
    return acc / n


def smooth_field(b: int, rng: np.random.Generator, size: int = 96) -> np.ndarray:
    """Random low-frequency colour fields (bilinear upsampling of a 4..8 px grid)."""
    out = np.empty((b, size, size, 3), np.float32)
    for i in range(b):
        g = int(rng.integers(3, 9))
        coarse = rng.random((g, g, 3), dtype=np.float32)
        pos = np.linspace(0, g - 1, size)
        i0 = np.clip(np.floor(pos).astype(int), 0, g - 2)
        f = (pos - i0).astype(np.float32)
        rows = coarse[i0] * (1 - f)[:, None, None] + coarse[i0 + 1] * f[:, None, None]
        out[i] = rows[:, i0] * (1 - f)[None, :, None] + rows[:, i0 + 1] * f[None, :, None]
    return out


TRAIN_NEGATIVES = ("shuffle4", "shuffle3", "superpose3", "field")
HELDOUT_NEGATIVES = ("shuffle6", "superpose2")


def make_negatives(x: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Broken images of type ``kind`` from real faces ``x`` (B, 96, 96, 3) float in [0, 1]."""
    if kind.startswith("shuffle"):
        return tile_shuffle(x, rng, int(kind[7:]))
    if kind.startswith("superpose"):
        return superpose(x, rng, int(kind[9:]))
    if kind == "field":
        return smooth_field(len(x), rng, x.shape[1])
    raise ValueError(f"unknown negative kind {kind!r}")


# ---------------------------------------------------------------- precision / recall / diversity

def _blur_down(x: np.ndarray, factor: int = 4) -> np.ndarray:
    b, h, w, c = x.shape
    return x.reshape(b, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


class PixelPCA:
    """PCA of 24 × 24 box-downsampled images, fitted on real faces.

    Parameters
    ----------
    n_components : int
        Feature dimension.
    """

    def __init__(self, n_components: int = 64) -> None:
        self.n = n_components

    def fit(self, real: np.ndarray) -> PixelPCA:
        """``real``: (N, 96, 96, 3) float in [0, 1]."""
        f = _blur_down(real).reshape(len(real), -1).astype(np.float64)
        self.mean = f.mean(0)
        _, _, vt = np.linalg.svd(f - self.mean, full_matrices=False)
        self.components = vt[: self.n]
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """(N, 96, 96, 3) → (N, n_components) float64."""
        f = _blur_down(x).reshape(len(x), -1).astype(np.float64)
        return (f - self.mean) @ self.components.T


def _pdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T
    return np.sqrt(np.maximum(d, 0))


def precision_recall(real: np.ndarray, gen: np.ndarray, k: int = 3,
                     per_sample: bool = False):
    """Improved precision and recall (Kynkäänniemi et al. 2019) of feature sets.

    Parameters
    ----------
    real, gen : ndarray, (N, D) and (M, D)
    k : int
        Neighbourhood size for the manifold radii (the paper uses 3).
    per_sample : bool
        Also return the (M,) bool array "generated sample lies inside the real manifold".

    Returns
    -------
    precision, recall : float in [0, 1]
    inside : ndarray of bool, (M,), only if ``per_sample``
    """
    def radii(f):
        d = _pdist(f, f)
        return np.sort(d, axis=1)[:, k]  # column 0 is the point itself

    r_real, r_gen = radii(real), radii(gen)
    d_gr = _pdist(gen, real)
    inside = (d_gr <= r_real[None]).any(1)
    precision = float(np.mean(inside))
    recall = float(np.mean((d_gr.T <= r_gen[None]).any(1)))
    return (precision, recall, inside) if per_sample else (precision, recall)


def diversity(f: np.ndarray) -> float:
    """Mean pairwise Euclidean distance of a feature set (N, D)."""
    d = _pdist(f, f)
    n = len(f)
    return float(d.sum() / (n * (n - 1)))


def sharpness(images: np.ndarray, downsample: int = 1) -> float:
    """Mean absolute 4-neighbour Laplacian of the BT.601 grey image, per pixel.

    Parameters
    ----------
    images : ndarray, (N, H, W, 3) uint8 or float in [0, 1]
    downsample : int
        Box-average ``downsample × downsample`` blocks first.  With 2, a pattern of period
        2 px (the grid artefacts of pixel-shuffle and stride-2 transposed-conv decoders)
        averages out exactly and cannot pass for detail; at full resolution it can.

    Returns
    -------
    float
        Mean over the N images and all interior pixels, in grey levels of [0, 1].  Blur
        lowers it (a Gaussian blur of σ = 1 px gives 0.39 of the sharp value on the synthetic
        faces at full resolution, 0.62 after 2× downsampling); compare models by the ratio to
        real faces at the same ``downsample``.
    """
    x = np.asarray(images)
    x = x.astype(np.float32) / 255 if x.dtype == np.uint8 else x.astype(np.float32)
    if downsample > 1:
        b, h, w, c = x.shape
        k = downsample
        x = x[:, : h // k * k, : w // k * k].reshape(b, h // k, k, w // k, k, c).mean((2, 4))
    g = x @ np.array([0.299, 0.587, 0.114], np.float32)
    lap = (g[:, :-2, 1:-1] + g[:, 2:, 1:-1] + g[:, 1:-1, :-2] + g[:, 1:-1, 2:]
           - 4 * g[:, 1:-1, 1:-1])
    return float(np.abs(lap).mean())


# ---------------------------------------------------------------- spectrum (grid artefacts)

def mean_power_spectrum(images: np.ndarray) -> np.ndarray:
    """Mean 2-D power spectrum of images, summed over the colour channels, Hann-windowed.

    Parameters
    ----------
    images : ndarray, (N, S, S, 3) uint8 or float in [0, 1]

    Returns
    -------
    ndarray, (S, S) float64
        ``P[v, u]``: mean ``|FFT|²`` at ``v`` cycles per image vertically and ``u``
        horizontally (numpy's FFT order: index ``k`` and ``k - S`` are the same frequency).
        Each image channel's mean is removed first; the window keeps the image borders from
        smearing power along the axes.  Channels are summed, not converted to grey, so a
        colour-only grid shows too.
    """
    x = np.asarray(images)
    x = x.astype(np.float64) / 255 if x.dtype == np.uint8 else x.astype(np.float64)
    x = x.transpose(0, 3, 1, 2)
    x = x - x.mean(axis=(2, 3), keepdims=True)
    win = np.hanning(x.shape[2])
    x *= win[:, None] * win[None, :]
    return (np.abs(np.fft.fft2(x)) ** 2).sum(1).mean(0)


# A sample peak counts as a grid artefact above this multiple of real faces' (at least 1):
# two disjoint sets of 256 real faces differ by up to 1.3x (tests/test_latent_spectrum.py).
GRID_TOLERANCE = 1.5


# Offsets of the ring a peak is compared with: 2 bins away (the Hann window spreads a pure
# tone over ±1 bin).
PEAK_RING = tuple((dv, du) for dv in range(-2, 3) for du in range(-2, 3)
                  if max(abs(dv), abs(du)) == 2)


def grid_frequencies(size: int, fundamental: int) -> list[tuple[int, int]]:
    """Every grid frequency (v, u) of ``size`` px images other than (0, 0), each once.

    Multiples of ``fundamental`` cycles per image on both axes, ``0 ≤ v ≤ size/2``,
    ``-size/2 < u ≤ size/2``; on the rows v = 0 and v = size/2, (v, -u) mirrors (v, u) for a
    real image, so only u ≥ 0 is kept there.  129 frequencies for 96 px and fundamental 6.
    """
    ks = range(0, size // 2 + 1, fundamental)
    return [(v, u) for v in ks for u in sorted({*ks, *(-k for k in ks if 2 * k < size)})
            if (v, u) != (0, 0) and not (2 * v in (0, size) and u < 0)]


def grid_peaks(spectrum: np.ndarray, fundamental: int) -> dict[tuple[int, int], float]:
    """How far the spectrum stands out at the frequencies of an upsampling grid.

    A decoder that upsamples by 2 from ``fundamental`` px (its first feature map) can paint
    patterns with periods of ``S / fundamental`` px and its halvings: power at every multiple
    of ``fundamental`` cycles per image, on both axes and the diagonals (checkerboards).

    Parameters
    ----------
    spectrum : ndarray, (S, S)
        From :func:`mean_power_spectrum`.
    fundamental : int
        Cycles per image of the coarsest grid (the decoder's base size: 6 for 96 px images
        from a 6 × 6 map).

    Returns
    -------
    dict
        ``{(v, u): ratio}`` for every grid frequency other than (0, 0), each once (``0 ≤ v ≤
        S/2``, ``-S/2 < u ≤ S/2``; (v, u) and (-v, -u) are the same for a real image): the
        power there over the mean power of the ring of frequencies 2 bins away (the window
        spreads a pure tone over ±1 bin). About 1 where the spectrum is smooth.
    """
    s = spectrum.shape[0]
    out = {}
    for v, u in grid_frequencies(s, fundamental):
        around = np.mean([spectrum[(v + dv) % s, (u + du) % s] for dv, du in PEAK_RING])
        out[(v, u)] = float(spectrum[v % s, u % s] / around)
    return out
