"""Plausibility metrics: k-NN precision/recall, diversity and the corruptions (numpy only)."""

import numpy as np

from latent_faces.training.score import (
    HELDOUT_NEGATIVES,
    TRAIN_NEGATIVES,
    PixelPCA,
    diversity,
    make_negatives,
    precision_recall,
    sharpness,
)
from latent_faces.training.synth import generate_faces


def test_precision_recall_same_distribution_high():
    rng = np.random.default_rng(0)
    real, gen = rng.normal(size=(300, 5)), rng.normal(size=(300, 5))
    p, r = precision_recall(real, gen)
    assert p > 0.8 and r > 0.8


def test_collapsed_mean_sample_fools_precision_not_recall_or_diversity():
    # The blurry-average-face failure: one point at the centre repeated.
    rng = np.random.default_rng(1)
    real = rng.normal(size=(300, 5))
    gen = np.repeat(real.mean(0, keepdims=True), 100, 0) + rng.normal(0, 1e-3, (100, 5))
    p, r, inside = precision_recall(real, gen, per_sample=True)
    assert p == 1.0 and inside.all()
    assert r < 0.1
    assert diversity(gen) < 0.01 * diversity(real)


def test_far_away_samples_not_precise():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(200, 4))
    p, _ = precision_recall(real, rng.normal(size=(50, 4)) + 20)
    assert p == 0.0


def test_negatives_break_faces_but_keep_shape():
    faces = generate_faces(6, seed=4).astype(np.float32) / 255
    rng = np.random.default_rng(0)
    pca = PixelPCA(8).fit(generate_faces(60, seed=5).astype(np.float32) / 255)
    for kind in TRAIN_NEGATIVES + HELDOUT_NEGATIVES:
        neg = make_negatives(faces, kind, rng)
        assert neg.shape == faces.shape
        assert np.abs(neg - faces).mean() > 0.03, kind
        assert pca.transform(neg).shape == (6, 8)
    # A tile shuffle only moves pixels around.
    sh = make_negatives(faces, "shuffle4", rng)
    assert np.allclose(np.sort(sh.ravel()), np.sort(faces.ravel()))


def _blur(faces, radius):
    from PIL import Image, ImageFilter

    return np.stack([np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(radius)))
                     for f in faces])


def test_sharpness_drops_with_blur_and_ignores_flat_images():
    faces = generate_faces(12, seed=6)
    sharp = sharpness(faces)
    assert sharp > 0
    # uint8 and float inputs measure the same thing.
    assert np.isclose(sharpness(faces.astype(np.float32) / 255), sharp, rtol=1e-5)
    ratios = [sharpness(_blur(faces, r)) / sharp for r in (0.7, 1.5, 3.0)]
    # The threshold (0.7 of real faces) separates sharp faces from σ = 1.5 px blur,
    # and more blur always lowers the measure.
    assert ratios[0] > ratios[1] > ratios[2]
    assert ratios[1] < 0.7 < 1.0
    assert sharpness(np.full((3, 96, 96, 3), 0.4, np.float32)) == 0.0
    # A linear ramp has zero Laplacian: the measure is curvature, not brightness change.
    ramp = np.broadcast_to(np.linspace(0, 1, 96, dtype=np.float32)[None, :, None, None],
                           (96, 96, 1, 3)).transpose(2, 0, 1, 3)
    assert sharpness(ramp) < 1e-6


def test_sharpness_2x_is_not_fooled_by_grid_artefacts():
    faces = generate_faces(8, seed=7).astype(np.float32) / 255
    blurred = _blur(np.round(faces * 255).astype(np.uint8), 2.0).astype(np.float32) / 255
    # A period-2 checkerboard of ±0.04, the artefact of pixel-shuffle / transposed-conv
    # decoders early in training.
    yy, xx = np.mgrid[:96, :96]
    grid = np.where((yy + xx) % 2 == 0, 0.04, -0.04)[None, :, :, None].astype(np.float32)
    noisy = np.clip(blurred + grid, 0, 1)
    full = sharpness(noisy) / sharpness(faces)
    down = sharpness(noisy, 2) / sharpness(faces, 2)
    assert full > 0.7  # the full-resolution measure takes the grid for detail
    assert down < 0.5  # the 2× one does not
    assert np.isclose(down, sharpness(blurred, 2) / sharpness(faces, 2), rtol=1e-4)
