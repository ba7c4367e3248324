"""Synthetic face generator: deterministic, varied, fast enough (numpy only)."""


import numpy as np

from latent_faces.training.synth import face_params, generate_faces, render_faces


def test_shape_dtype_and_range():
    f = generate_faces(8, seed=3)
    assert f.shape == (8, 96, 96, 3) and f.dtype == np.uint8
    # Real images use most of the range; a blank or saturated render would not.
    assert f.min() < 40 and f.max() > 215


def test_deterministic_and_chunking_independent():
    a = generate_faces(12, seed=5)
    b = generate_faces(12, seed=5, chunk=5)
    c = generate_faces(4, seed=5, start=8)
    assert np.array_equal(a, b)
    assert np.array_equal(a[8:], c)


def test_seeds_differ():
    a = generate_faces(6, seed=0).astype(np.float32)
    b = generate_faces(6, seed=1).astype(np.float32)
    assert np.abs(a - b).mean() > 20


def test_varied_pairwise_distances():
    f = generate_faces(40, seed=11).reshape(40, -1).astype(np.float32) / 255
    d = np.abs(f[:, None] - f[None]).mean(-1)
    iu = np.triu_indices(40, 1)
    # Every pair visibly different, and the typical pair far apart (backgrounds, hair, skin).
    assert d[iu].min() > 0.04
    assert np.median(d[iu]) > 0.15


def test_attributes_vary():
    p = face_params(400, seed=2)
    assert len(np.unique(p["hair_style"])) == 7
    assert 0.2 < (p["glasses"] > 0).mean() < 0.4
    assert p["skin"].mean(1).std() > 0.1
    assert p["yaw"].min() < -0.3 and p["yaw"].max() > 0.3


def test_analytic_antialiasing_matches_supersampling():
    p = face_params(4, seed=9)
    a = render_faces(p, supersample=1).astype(np.float32)
    ref = render_faces(p, supersample=4).astype(np.float32)  # area average of 16 sub-pixels
    # The one-pixel coverage ramps approximate true pixel-area coverage closely.
    assert np.abs(a - ref).mean() < 1.5
