"""Numpy decoder, latent sampling, the shipped weights and the decode CLI (no torch needed)."""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import latent_faces
from latent_faces.numpy_decoder import (
    FORMAT_VERSION,
    NumpyDecoder,
    conv3x3,
    conv_transpose_s2,
    pixel_shuffle2,
    resup_array_names,
    upsample2,
    upsample2_bilinear,
    upsample2_bilinear_conv3x3,
    upsample2_conv3x3,
)


def _naive_conv_transpose(x, w_torch, b, stride=2, p=1, op=1):
    """Textbook definition: every input pixel scatters a kernel-weighted copy to the output."""
    bsz, h, wd, _ = x.shape
    _, c_out, k, _ = w_torch.shape
    oh, ow = (h - 1) * stride - 2 * p + k + op, (wd - 1) * stride - 2 * p + k + op
    out = np.zeros((bsz, oh, ow, c_out)) + b
    for i in range(h):
        for j in range(wd):
            for ky in range(k):
                for kx in range(k):
                    oy, ox = i * stride - p + ky, j * stride - p + kx
                    if 0 <= oy < oh and 0 <= ox < ow:
                        out[:, oy, ox] += x[:, i, j] @ w_torch[:, :, ky, kx]
    return out


def test_conv_transpose_matches_definition():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 4, 3)).astype(np.float32)
    w = rng.normal(size=(3, 6, 3, 3)).astype(np.float32)  # torch layout (C_in, C_out, k, k)
    b = rng.normal(size=6).astype(np.float32)
    w_mat = w.transpose(0, 2, 3, 1).reshape(3, 9 * 6)
    got = conv_transpose_s2(x, w_mat, b)
    ref = _naive_conv_transpose(x, w, b)
    assert got.shape == (2, 10, 8, 6)
    assert np.abs(got - ref).max() < 1e-4


def test_conv3x3_matches_definition():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 5, 4, 3)).astype(np.float32)
    w = rng.normal(size=(6, 3, 3, 3)).astype(np.float32)  # torch Conv2d (C_out, C_in, k, k)
    b = rng.normal(size=6).astype(np.float32)
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    ref = np.zeros((2, 5, 4, 6)) + b
    for ky in range(3):
        for kx in range(3):  # cross-correlation, as torch computes it
            ref += xp[:, ky:ky + 5, kx:kx + 4] @ w[:, :, ky, kx].T
    got = conv3x3(x, w.transpose(1, 2, 3, 0).reshape(3, 9 * 6), b)
    assert got.shape == (2, 5, 4, 6)
    assert np.abs(got - ref).max() < 1e-4


def test_upsample_then_conv_computed_at_low_resolution_matches_definition():
    # The decoder's stages compute conv3x3(upsample2(x)) as four 2 x 2 convs of x, one per
    # output parity; three images, so taps that straddle two images in the batched matmuls
    # would show.
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 4, 5, 6)).astype(np.float32)
    w = rng.normal(size=(7, 6, 3, 3)).astype(np.float32)  # torch Conv2d (C_out, C_in, k, k)
    b = rng.normal(size=7).astype(np.float32)
    up = x.repeat(2, axis=1).repeat(2, axis=2)  # nearest 2x, written independently
    upp = np.pad(up, ((0, 0), (1, 1), (1, 1), (0, 0))).astype(np.float64)
    ref = np.zeros((3, 8, 10, 7)) + b
    for ky in range(3):
        for kx in range(3):
            ref += upp[:, ky:ky + 8, kx:kx + 10] @ w[:, :, ky, kx].T
    got = upsample2_conv3x3(x, w.transpose(1, 2, 3, 0).reshape(6, 9 * 7), b)
    assert got.shape == (3, 8, 10, 7)
    assert np.abs(got - ref).max() < 1e-4


def test_bilinear_upsample_matches_its_definition():
    # torch's align_corners=False: output pixel centre (o + 0.5) / 2 - 0.5 in input pixels,
    # linear weights, clamped at the border; here written out as a 1-D interpolation matrix.
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 5, 4, 3)).astype(np.float32)

    def matrix(n):
        m = np.zeros((2 * n, n))
        for o in range(2 * n):
            c = np.clip((o + 0.5) / 2 - 0.5, 0, n - 1)
            lo = int(np.floor(c))
            hi = min(lo + 1, n - 1)
            m[o, lo] += 1 - (c - lo)
            m[o, hi] += c - lo
        return m

    ref = np.einsum("ai,bj,nijc->nabc", matrix(5), matrix(4), x)
    got = upsample2_bilinear(x)
    assert got.shape == (2, 10, 8, 3) and got.dtype == np.float32
    assert np.abs(got - ref).max() < 1e-6


@pytest.mark.parametrize("shape", [(2, 5, 7, 4), (1, 1, 3, 2), (3, 2, 2, 5), (2, 12, 12, 8)])
def test_bilinear_then_conv_computed_at_low_resolution_matches_definition(shape):
    # The decoder's "bilinear" last stage runs as one conv to 4 * C_out channels of the
    # edge-padded input plus a pixel shuffle, with the border recomputed: same numbers as
    # upsampling first, on every pixel, border and tiny maps included.
    rng = np.random.default_rng(6)
    x = rng.normal(size=shape).astype(np.float32)
    w = rng.normal(size=(shape[3], 9 * 3)).astype(np.float32)
    b = rng.normal(size=3).astype(np.float32)
    ref = conv3x3(upsample2_bilinear(x), w, b)
    got = upsample2_bilinear_conv3x3(x, w, b)
    assert got.shape == ref.shape == (shape[0], 2 * shape[1], 2 * shape[2], 3)
    assert got.dtype == np.float32
    assert np.abs(got - ref).max() < 1e-4


def test_upsample_and_pixel_shuffle_match_definitions():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 4, 8)).astype(np.float32)
    up = upsample2(x)
    assert up.shape == (2, 6, 8, 8)
    for i, j in [(0, 0), (5, 7), (3, 2)]:
        assert np.array_equal(up[:, i, j], x[:, i // 2, j // 2])
    ps = pixel_shuffle2(x)
    assert ps.shape == (2, 6, 8, 2)
    # torch: out[c, 2h + i, 2w + j] = in[4c + 2i + j, h, w]
    for c, i, j, h, w in [(0, 0, 0, 0, 0), (1, 1, 0, 2, 3), (1, 1, 1, 1, 2), (0, 0, 1, 2, 0)]:
        assert ps[:, 2 * h + i, 2 * w + j, c].tolist() == x[:, h, w, 4 * c + 2 * i + j].tolist()


def _write_random_resup(path, z_dim=6, stages=((10, 1), (8, 0)), drop=None, final=None,
                        version=2):
    rng = np.random.default_rng(2)
    base, c0 = 3, 7
    st = [{"channels": c, "res_blocks": n} for c, n in stages]
    arrs = {"fc_w": rng.normal(0, 0.3, (z_dim, c0 * base * base)),
            "fc_b": rng.normal(0, 0.1, c0 * base * base)}
    c_in = c0
    for i, (c, n) in enumerate(stages):
        arrs[f"s{i}_conv_w"], arrs[f"s{i}_conv_b"] = rng.normal(0, 0.3, (c_in, 9 * c)), \
            rng.normal(0, 0.1, c)
        for j in range(n):
            for t in "12":
                arrs[f"s{i}_r{j}_w{t}"] = rng.normal(0, 0.2, (c, 9 * c))
                arrs[f"s{i}_r{j}_b{t}"] = rng.normal(0, 0.1, c)
        c_in = c
    n_out = 3 if final in ("upconv", "bilinear") else 12
    arrs["out_w"], arrs["out_b"] = (rng.normal(0, 0.3, (c_in, 9 * n_out)),
                                    rng.normal(0, 0.1, n_out))
    arrs = {k: v.astype(np.float32) for k, v in arrs.items()}
    assert sorted(arrs) == sorted(resup_array_names(st))
    header = {"format_version": version, "decoder": "resup", "z_dim": z_dim,
              "image_size": base * 2 ** (len(stages) + 1), "base": base, "base_channels": c0,
              "leaky_slope": 0.2, "stages": st,
              "shapes": {k: list(v.shape) for k, v in arrs.items()}}
    if final is not None:
        header["final"] = final
    if drop:
        del arrs[drop]
    np.savez(path, header=np.array(json.dumps(header)), **arrs)
    return path


def test_resup_decoder_file_decodes_and_is_validated(tmp_path):
    dec = NumpyDecoder.load(_write_random_resup(tmp_path / "r.npz"))
    assert dec.kind == "resup" and dec.z_dim == 6 and dec.image_size == 24
    img = dec.decode(np.random.default_rng(0).normal(size=(3, 6)))
    assert img.shape == (3, 24, 24, 3) and img.dtype == np.float32
    assert 0 <= img.min() and img.max() <= 1 and img.std() > 0.01
    with pytest.raises(ValueError, match=r"gone.npz.*s0_r0_w2"):
        NumpyDecoder.load(_write_random_resup(tmp_path / "gone.npz", drop="s0_r0_w2"))


@pytest.mark.parametrize("final, last_up", [("upconv", upsample2),
                                            ("bilinear", upsample2_bilinear)])
def test_upconv_final_stage_decodes_by_its_definition(tmp_path, final, last_up):
    # Format 3's "upconv" / "bilinear" last stage: nearest / bilinear 2x upsampling, then a
    # 3x3 conv to RGB.
    path = _write_random_resup(tmp_path / "u.npz", final=final, version=3)
    dec = NumpyDecoder.load(path)
    assert dec.final == final and dec.image_size == 24
    z = np.random.default_rng(0).normal(size=(2, 6)).astype(np.float32)
    got = dec.decode(z)
    # The same network step by step, through the definitions tested above.
    a, s = dec.a, dec.slope
    h = np.maximum(z @ a["fc_w"] + a["fc_b"], 0) + np.minimum(z @ a["fc_w"] + a["fc_b"], 0) * s
    h = np.ascontiguousarray(h.reshape(2, 7, 3, 3).transpose(0, 2, 3, 1))

    def lrelu(x):
        return np.where(x > 0, x, s * x)

    h = lrelu(conv3x3(upsample2(h), a["s0_conv_w"], a["s0_conv_b"]))
    t = lrelu(conv3x3(h, a["s0_r0_w1"], a["s0_r0_b1"]))
    h = lrelu(h + conv3x3(t, a["s0_r0_w2"], a["s0_r0_b2"]))
    h = lrelu(conv3x3(upsample2(h), a["s1_conv_w"], a["s1_conv_b"]))
    ref = 1 / (1 + np.exp(-conv3x3(last_up(h), a["out_w"], a["out_b"])))
    assert got.shape == ref.shape == (2, 24, 24, 3)
    assert np.abs(got - ref).max() <= 1e-5
    # Version 2 has no such stage; an unknown one is refused in any version.
    with pytest.raises(ValueError, match=r"v2up.npz.*final stage 'upconv'"):
        NumpyDecoder.load(_write_random_resup(tmp_path / "v2up.npz", final="upconv"))
    with pytest.raises(ValueError, match=r"odd.npz.*final stage 'bicubic'"):
        NumpyDecoder.load(_write_random_resup(tmp_path / "odd.npz", final="bicubic", version=3))
    # The shuffle stage is the default in version 3 too, and version 2 files still load.
    v3 = NumpyDecoder.load(_write_random_resup(tmp_path / "v3.npz", final="shuffle", version=3))
    v2 = NumpyDecoder.load(_write_random_resup(tmp_path / "v2.npz"))
    assert v3.final == v2.final == "shuffle"
    assert np.array_equal(v3.decode(z), v2.decode(z))


def _write_random_decoder(path, z_dim=8, version=FORMAT_VERSION, break_shape=False):
    rng = np.random.default_rng(1)
    chans, base, c0 = [16, 8, 3], 3, 12
    arrs = {"fc_w": rng.normal(0, 0.3, (z_dim, c0 * base * base)),
            "fc_b": rng.normal(0, 0.1, c0 * base * base)}
    c_in = c0
    for i, c in enumerate(chans):
        arrs[f"conv{i}_w"] = rng.normal(0, 0.3, (c_in, 9 * c))
        arrs[f"conv{i}_b"] = rng.normal(0, 0.1, c)
        c_in = c
    arrs = {k: v.astype(np.float32) for k, v in arrs.items()}
    header = {"format_version": version, "z_dim": z_dim, "image_size": base * 8, "base": base,
              "base_channels": c0, "channels": chans, "kernel": 3, "stride": 2, "padding": 1,
              "output_padding": 1, "leaky_slope": 0.3, "n_conv": 3,
              "shapes": {k: list(v.shape) for k, v in arrs.items()}}
    if break_shape:
        arrs["conv1_w"] = arrs["conv1_w"][:, :-9]
    np.savez(path, header=np.array(json.dumps(header)), **arrs)
    return path


def test_decode_shapes_and_range(tmp_path):
    dec = NumpyDecoder.load(_write_random_decoder(tmp_path / "d.npz"))
    assert dec.z_dim == 8 and dec.image_size == 24
    img = dec.decode(np.random.default_rng(0).normal(size=(5, 8)) * 10)
    assert img.shape == (5, 24, 24, 3) and img.dtype == np.float32
    assert img.min() >= 0 and img.max() <= 1 and np.isfinite(img).all()
    assert dec.decode(np.zeros(8)).shape == (1, 24, 24, 3)
    with pytest.raises(ValueError, match=r"\(B, 8\)"):
        dec.decode(np.zeros((2, 7)))


def test_version_1_files_still_load(tmp_path):
    # Version 1 (the first shipped decoders) had no "decoder" key: always Foster's network.
    v1 = NumpyDecoder.load(_write_random_decoder(tmp_path / "v1.npz", version=1))
    v2 = NumpyDecoder.load(_write_random_decoder(tmp_path / "v2.npz", version=2))
    assert v1.kind == v2.kind == "foster"
    z = np.random.default_rng(5).normal(size=(2, 8))
    assert np.array_equal(v1.decode(z), v2.decode(z))


def test_bad_files_raise_value_error_naming_file(tmp_path):
    p = _write_random_decoder(tmp_path / "old.npz", version=99)
    with pytest.raises(ValueError, match=r"old.npz.*version"):
        NumpyDecoder.load(p)
    p = _write_random_decoder(tmp_path / "bent.npz", break_shape=True)
    with pytest.raises(ValueError, match=r"bent.npz.*conv1_w"):
        NumpyDecoder.load(p)
    p = tmp_path / "junk.npz"
    p.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"junk.npz"):
        NumpyDecoder.load(p)
    p = tmp_path / "plain.npz"
    np.savez(p, a=np.zeros(3))
    with pytest.raises(ValueError, match=r"plain.npz.*header"):
        NumpyDecoder.load(p)
    with pytest.raises(FileNotFoundError):
        NumpyDecoder.load(tmp_path / "missing.npz")


def test_sample_latents():
    z = latent_faces.sample_latents("uniform", 50, seed=1, boundary=2.5, z_dim=20)
    assert z.shape == (50, 20) and z.dtype == np.float32
    assert z.min() > 0 and z.max() < 2.5
    n = latent_faces.sample_latents("normal", 2000, seed=1, z_dim=10)
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    assert np.array_equal(n, latent_faces.sample_latents("normal", 2000, seed=1, z_dim=10))
    a, b = np.zeros(4), np.ones(4)
    path = latent_faces.sample_latents("interpolate", 5, start=a, end=b, z_dim=4)
    assert np.allclose(path[:, 0], [0, 0.25, 0.5, 0.75, 1])
    with pytest.raises(ValueError):
        latent_faces.sample_latents("sphere", 3)
    with pytest.raises(ValueError):
        latent_faces.sample_latents("uniform", 3, boundary=0)


def test_shipped_decoder_decodes_16_distinct_faces():
    dec = NumpyDecoder.load(latent_faces.shipped_decoder_path())
    assert latent_faces.shipped_decoder_path().stat().st_size < 8e6  # the budget
    z = latent_faces.sample_latents("normal", 16, seed=0, z_dim=dec.z_dim)
    img = dec.decode(z)  # decode time: bench/bench_train.py
    assert img.shape == (16, 96, 96, 3)
    # Decoded prior samples are pictures, not constant mush: faces differ from each other and
    # each has structure.
    assert img.reshape(16, -1).std(0).mean() > 0.03
    assert img.reshape(16, -1).std(1).min() > 0.05


def test_shipped_header_records_the_training_run():
    meta = NumpyDecoder.load(latent_faces.shipped_decoder_path()).header["meta"]
    sessions = meta["sessions"]
    assert sessions and all("python -m latent_faces train" in s["command"] for s in sessions)
    assert all(len(s["git_commit"].split("-")[0]) == 40 for s in sessions)
    # The sessions cover the epochs without gaps, and add up to the totals.
    assert sessions[0]["start_epoch"] == 0
    for a, b in itertools.pairwise(sessions):
        assert b["start_epoch"] == a["end_epoch"]
    assert sessions[-1]["end_epoch"] == meta["epochs_trained"]
    cfg = meta["train_config"]
    per_epoch = cfg["epoch_size"] or cfg["n_train"]
    assert meta["images_seen"] == meta["epochs_trained"] * (per_epoch // cfg["batch_size"]
                                                            * cfg["batch_size"])
    cpu_s = sum(s["cpu_seconds"] for s in sessions)
    assert meta["cpu_hours"] > 0 and abs(meta["cpu_hours"] - cpu_s / 3600) < 1e-3
    assert meta["latent_prior"]["kind"] in ("fitted-gaussian", "standard-normal")


# Subprocesses run from temporary folders: point them at this checkout's package.
_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def _run(args, **kw):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120,
                          env=_ENV, **kw)


def test_import_and_decode_do_not_import_torch(tmp_path):
    code = ("import sys, latent_faces as lf; d = lf.load_shipped_decoder(); "
            "d.decode(lf.sample_latents('normal', 2, z_dim=d.z_dim)); "
            "from latent_faces import cli; "
            "print('torch' in sys.modules)")
    r = _run(["-c", code])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_decode_cli_writes_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    r = _run(["-m", "latent_faces", "decode", "--out", str(out), "--count", "6",
              "--mode", "uniform", "--boundary", "2.5", "--seed", "3", "--cols", "3"])
    assert r.returncode == 0, r.stderr
    im = np.asarray(Image.open(out))
    assert im.shape == (2 * 98 + 2, 3 * 98 + 2, 3)


@pytest.mark.parametrize("args, msg", [
    (["decode", "--out", "x.png", "--count", "0"], "--count"),
    (["decode", "--out", "x.png", "--boundary", "-1"], "--boundary"),
    (["decode", "--out", "x.png", "--decoder", "/nonexistent.npz"], "not found"),
    (["decode", "--out", "/dev/null/x.png"], "is a file, not a folder"),
    (["decode", "--out", "x.png", "--mode", "sphere"], "--mode"),
    (["decode"], "--out"),
    (["frobnicate"], "invalid choice"),
])
def test_cli_errors_one_line_exit_2(tmp_path, args, msg):
    r = _run(["-m", "latent_faces", *args], cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert msg in r.stderr


@pytest.mark.parametrize("args, msg", [
    (["--count", "100000"], "allowed 1 to 4096"),
    (["--out", "faces.txt"], ".png"),
    (["--out", "faces"], ".png"),
])
def test_decode_cli_refuses_huge_counts_and_non_png_without_writing(tmp_path, args, msg):
    base = {"--out": "faces.png", "--count": "4"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    r = _run(["-m", "latent_faces", "decode", *[x for kv in base.items() for x in kv]],
             cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert msg in r.stderr
    assert list(tmp_path.iterdir()) == []  # no partial or temporary files


def test_decode_cli_batches_large_sheets(tmp_path):
    # More faces than one decode batch (64): the sheet is assembled from several batches and
    # equals decoding everything at once.
    out = tmp_path / "big.png"
    r = _run(["-m", "latent_faces", "decode", "--out", str(out), "--count", "70", "--cols",
              "10", "--seed", "2"])
    assert r.returncode == 0, r.stderr
    dec = latent_faces.load_shipped_decoder()
    ref = latent_faces.contact_sheet(dec.decode(
        latent_faces.sample_latents("normal", 70, 2, z_dim=dec.z_dim)), 10)
    got = np.asarray(Image.open(out))
    assert got.shape == ref.shape
    assert np.abs(got.astype(int) - ref).max() <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.png"]


def test_cli_bad_decoder_file(tmp_path):
    bad = _write_random_decoder(tmp_path / "v9.npz", version=9)
    r = _run(["-m", "latent_faces", "decode", "--out", str(tmp_path / "s.png"),
              "--decoder", str(bad)])
    assert r.returncode == 2 and "v9.npz" in r.stderr and "Traceback" not in r.stderr
