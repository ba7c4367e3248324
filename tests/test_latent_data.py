"""Image-folder loader and task corruptions (numpy + Pillow only)."""

import numpy as np
import pytest
from PIL import Image

from latent_faces.training.data import (
    ImageFolderStream,
    center_crop_resize,
    list_images,
    synthetic_split,
)
from latent_faces.training.tasks import TASKS, corrupt, drop_pixels, to_grey


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    sub = tmp_path / "img_align_celeba"
    sub.mkdir()
    for i in range(14):
        arr = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)
        ext = ".jpg" if i % 2 else ".png"
        Image.fromarray(arr).save(sub / f"{i:06d}{ext}")
    (sub / "000099.jpg").write_bytes(b"this is not a jpeg")
    whole = (sub / "000001.jpg").read_bytes()
    (sub / "000098.jpg").write_bytes(whole[: len(whole) // 2])  # a real JPEG, truncated
    (sub / "list_attr_celeba.txt").write_text("ignored, not an image extension")
    return tmp_path


def test_list_images_only_image_extensions(folder):
    files = list_images(folder)
    assert len(files) == 16
    assert all(f.suffix in (".jpg", ".png") for f in files)


def test_stream_skips_corrupt_file_and_counts(folder):
    s = ImageFolderStream(folder, split="all")
    imgs = list(s.iter_images())
    assert len(imgs) == 14
    assert s.skipped == 2
    assert all(i.shape == (96, 96, 3) and i.dtype == np.uint8 for i in imgs)


def test_stream_batches(folder):
    s = ImageFolderStream(folder, split="all")
    shapes = [b.shape for b in s.iter_batches(4)]
    assert shapes == [(4, 96, 96, 3)] * 3 + [(2, 96, 96, 3)]
    assert [b.shape[0] for b in s.iter_batches(4, drop_last=True)] == [4, 4, 4]


def test_shuffle_seeded(folder):
    s = ImageFolderStream(folder, split="all")
    a = np.stack(list(s.iter_images(shuffle_seed=1)))
    b = np.stack(list(s.iter_images(shuffle_seed=1)))
    c = np.stack(list(s.iter_images()))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_split_disjoint_and_complete(folder):
    tr = ImageFolderStream(folder, split="train", test_fraction=0.3)
    te = ImageFolderStream(folder, split="test", test_fraction=0.3)
    assert set(tr.files).isdisjoint(te.files)
    assert len(tr) + len(te) == 16
    assert len(te) > 0


def test_center_crop_keeps_centre():
    arr = np.zeros((218, 178, 3), np.uint8)
    arr[90:140, 70:110] = 255  # a bright block near the centre
    out = center_crop_resize(Image.fromarray(arr))
    assert out.shape == (96, 96, 3)
    assert out[48, 48].min() > 200 and out[2, 2].max() < 30


def test_missing_folder():
    with pytest.raises(FileNotFoundError):
        ImageFolderStream("/nonexistent/folder/xyz")


def test_synthetic_split_cached(tmp_path):
    tr, te = synthetic_split(6, 3, seed=0, cache_dir=tmp_path)
    tr2, te2 = synthetic_split(6, 3, seed=0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 2
    assert np.array_equal(tr, tr2) and np.array_equal(te, te2)
    assert not np.array_equal(tr[:3], te)


def test_tasks():
    rng = np.random.default_rng(0)
    x = rng.random((4, 96, 96, 3), dtype=np.float32)
    dropped = drop_pixels(x, rng, 0.8)
    frac = (dropped.max(-1) == 0).mean()
    assert 0.77 < frac < 0.83
    g = to_grey(x)
    assert np.allclose(g[..., 0], g[..., 1]) and np.allclose(g[..., 1], g[..., 2])
    for t in TASKS:
        y = corrupt(x, t, np.random.default_rng(1))
        assert y.shape == x.shape and y.dtype == np.float32
        assert 0 <= y.min() and y.max() <= 1
        assert np.array_equal(y, corrupt(x, t, np.random.default_rng(1)))
    assert np.array_equal(corrupt(x, "reconstruct", rng), x)
    with pytest.raises(ValueError, match="unknown task"):
        corrupt(x, "colourise", rng)
