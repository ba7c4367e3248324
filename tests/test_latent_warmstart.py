"""Warm start from an exported decoder (``train --init-decoder NPZ --freeze-decoder-steps N``):
the torch decoder built from a file decodes what the numpy decoder does, a frozen decoder
stays bit-identical while the encoder learns, it trains once thawed, resumes exactly, and the
export of such a run is a file like any other."""

import csv

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import latent_faces  # noqa: E402
from latent_faces.numpy_decoder import NumpyDecoder  # noqa: E402
from latent_faces.training.checkpoints import read_checkpoint  # noqa: E402
from latent_faces.training.export import export_decoder  # noqa: E402
from latent_faces.training.models import ConvAutoencoder, ModelConfig  # noqa: E402
from latent_faces.training.warmstart import decoder_model_config, load_decoder_file  # noqa: E402

torch.set_num_threads(1)

TINY = ModelConfig(z_dim=4, decoder="resup", dec_filters=(8, 6, 4), res_blocks=(0, 1, 1),
                   fc_channels=8, dropout=0.0)


def _randomise_bn(decoder, *, affine=True):
    """Give ``decoder``'s BatchNorm layers non-trivial statistics (and scale/shift), so a
    fold that ignored one of them would show."""
    with torch.no_grad():
        for mod in decoder.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.3, 2.0)
                if affine:
                    mod.weight.uniform_(0.5, 1.5)
                    mod.bias.uniform_(-0.3, 0.3)


def _random_bn_file(tmp_path):
    """A tiny resup decoder with non-trivial BatchNorm statistics, exported (BN folded)."""
    torch.manual_seed(0)
    m = ConvAutoencoder(TINY)
    _randomise_bn(m.decoder)
    m.eval()
    path = tmp_path / "tiny.npz"
    export_decoder(m.decoder, path, meta={"train_config": {"model": TINY.to_dict()}})
    return m, path


def test_loaded_decoder_decodes_like_the_original_and_the_numpy_decoder(tmp_path):
    m, path = _random_bn_file(tmp_path)
    cfg = decoder_model_config(path, ModelConfig(enc_filters=(32, 64, 64, 64)))
    assert cfg.dec_norm == "none" and cfg.dec_filters == (8, 6, 4)
    assert cfg.res_blocks == (0, 1, 1) and cfg.fc_channels == 8 and cfg.z_dim == 4
    warm = ConvAutoencoder(cfg)
    assert not any(isinstance(x, torch.nn.BatchNorm2d) for x in warm.decoder.modules())
    load_decoder_file(warm.decoder, path)
    z = np.random.default_rng(1).normal(0, 2, (6, 4)).astype(np.float32)
    with torch.no_grad():
        ref = m.decoder(torch.from_numpy(z))
        got = warm.decoder.train()(torch.from_numpy(z))  # no BN: train mode is the same map
    assert (got - ref).abs().max() <= 1e-5
    npy = NumpyDecoder.load(path).decode(z)
    assert np.abs(got.numpy().transpose(0, 2, 3, 1) - npy).max() <= 1e-4
    # Exported again, without BatchNorm to fold: the same arrays.
    export_decoder(warm.decoder, tmp_path / "again.npz")
    again = NumpyDecoder.load(tmp_path / "again.npz")
    for k, v in NumpyDecoder.load(path).a.items():
        assert np.abs(again.a[k] - v).max() <= 1e-6, k


def test_shipped_file_loads_for_training():
    path = latent_faces.shipped_decoder_path()
    cfg = decoder_model_config(path, ModelConfig(dropout=0.0))
    m = ConvAutoencoder(cfg)
    load_decoder_file(m.decoder, path)
    z = latent_faces.sample_latents("normal", 4, seed=5)
    with torch.no_grad():
        got = m.decoder(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
    assert np.abs(got - latent_faces.load_shipped_decoder().decode(z)).max() <= 1e-4


def test_refusals(tmp_path):
    _, path = _random_bn_file(tmp_path)
    with pytest.raises(ValueError, match="dec_norm"):
        load_decoder_file(ConvAutoencoder(TINY).decoder, path)
    other = ModelConfig(**{**TINY.to_dict(), "dec_filters": (8, 6, 5), "dec_norm": "none"})
    with pytest.raises(ValueError, match="does not fit"):
        load_decoder_file(ConvAutoencoder(other).decoder, path)
    with pytest.raises(ValueError, match="dec_norm"):
        ModelConfig(dec_norm="group")
    with pytest.raises(ValueError, match="needs decoder 'resup'"):
        ModelConfig(dec_norm="none")


def _rows(path):
    with open(path / "loss.csv") as f:
        return list(csv.DictReader(f))


def _args(path):
    # 3 steps per epoch; decoder frozen for the first 4 steps (epoch 1 and one step of 2).
    return ["--init-decoder", str(path), "--dropout", "0", "--n-train", "48", "--n-test", "8",
            "--batch-size", "16", "--threads", "1", "--quiet", "--kl-weight", "0.01",
            "--lr", "1e-3", "--freeze-decoder-steps", "4"]


def test_tiny_run_freezes_then_trains_the_decoder_and_resumes_exactly(tmp_path):
    from latent_faces.cli import main

    _, path = _random_bn_file(tmp_path)
    start = NumpyDecoder.load(path)
    one, full, part = tmp_path / "one", tmp_path / "full", tmp_path / "part"
    assert main(["train", "--out", str(one), "--epochs", "1", *_args(path)]) == 0
    ck = read_checkpoint(one / "checkpoint.pt")
    assert ck["config"]["init_decoder"] == str(path.resolve())
    assert ck["config"]["freeze_decoder_steps"] == 4
    assert ck["config"]["model"]["dec_norm"] == "none"
    assert "--init-decoder" in ck["sessions"][0]["command"]
    # After 3 frozen steps the decoder is the file's, bit for bit; the encoder has moved.
    frozen = NumpyDecoder.load(one / "decoder.npz")
    for k, v in start.a.items():
        assert np.array_equal(frozen.a[k], v), k
    torch.manual_seed(0)  # the run's own initial weights (seed 0)
    fresh = ConvAutoencoder(decoder_model_config(path, ModelConfig(dropout=0.0))).state_dict()
    assert any(not torch.equal(fresh[k], v)
               for k, v in ck["model"].items() if k.startswith("encoder."))
    # Thawed from step 4 on: the decoder changes; 2 epochs + resume = 3 epochs in one go.
    assert main(["train", "--out", str(full), "--epochs", "3", *_args(path)]) == 0
    assert main(["train", "--out", str(part), "--epochs", "2", *_args(path)]) == 0
    assert main(["train", "--out", str(part), "--resume", "--epochs", "3", "--threads", "1",
                 "--quiet"]) == 0
    trained = NumpyDecoder.load(full / "decoder.npz")
    assert max(np.abs(trained.a[k] - v).max() for k, v in start.a.items()) > 1e-4
    a, b = read_checkpoint(full / "checkpoint.pt"), read_checkpoint(part / "checkpoint.pt")
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    timing = ("seconds", "images_per_s", "cpu_seconds")
    assert ([{k: v for k, v in r.items() if k not in timing} for r in _rows(full)]
            == [{k: v for k, v in r.items() if k not in timing} for r in _rows(part)])


def test_init_checkpoint_overrides_the_file_and_adversarial_waits_for_the_thaw(tmp_path):
    from latent_faces.cli import main

    _, path = _random_bn_file(tmp_path)
    base = tmp_path / "base"
    assert main(["train", "--out", str(base), "--epochs", "2", *_args(path)]) == 0
    adv = ["--adv-weight", "0.5", "--disc-channels", "8", "--disc-layers", "2"]

    def arm(name, freeze):
        args = [a for a in _args(path)]
        args[args.index("--freeze-decoder-steps") + 1] = str(freeze)
        assert main(["train", "--out", str(tmp_path / name), "--epochs", "1", "--init",
                     str(base / "checkpoint.pt"), *args, *adv]) == 0
        return read_checkpoint(tmp_path / name / "checkpoint.pt"), _rows(tmp_path / name)[0]

    # Frozen throughout: the decoder is the base run's (thawed there, so not the file's),
    # and there is no adversarial term (its adaptive weight needs the decoder's gradient).
    ck, row = arm("frozen", 100)
    assert ck["config"]["init"] == str(base / "checkpoint.pt")
    b = read_checkpoint(base / "checkpoint.pt")
    dec = [k for k in b["model"] if k.startswith("decoder.")]
    assert dec and all(torch.equal(ck["model"][k], b["model"][k]) for k in dec)
    assert NumpyDecoder.load(tmp_path / "frozen" / "decoder.npz").a["out_w"].tolist() != \
        NumpyDecoder.load(path).a["out_w"].tolist()
    assert row["adv_lambda"] == ""
    # Thawed after 2 of the 3 steps: the term is on for the last one.
    ck, row = arm("thawed", 2)
    assert float(row["adv_lambda"]) > 0 and "disc" in ck
    assert any(not torch.equal(ck["model"][k], b["model"][k]) for k in dec)


@pytest.mark.parametrize("extra, msg", [
    (["--init-decoder", "nope.npz"], "--init-decoder"),
    (["--freeze-decoder-steps", "-1"], "--freeze-decoder-steps"),
])
def test_cli_refusals(tmp_path, capsys, extra, msg):
    from latent_faces.cli import main

    assert main(["train", "--out", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("final", ["upconv", "bilinear"])
def test_upconv_decoder_exports_and_decodes_like_torch(tmp_path, final):
    cfg = ModelConfig(**{**TINY.to_dict(), "final": final})
    torch.manual_seed(3)
    m = ConvAutoencoder(cfg)
    _randomise_bn(m.decoder, affine=False)
    m.eval()
    export_decoder(m.decoder, tmp_path / "u.npz")
    dec = NumpyDecoder.load(tmp_path / "u.npz")
    assert dec.header["format_version"] == 4 and dec.header["final"] == final
    z = np.random.default_rng(0).normal(0, 2, (5, 4)).astype(np.float32)
    with torch.no_grad():
        ref = m.decoder(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
    assert np.abs(dec.decode(z) - ref).max() <= 1e-4
    # The stage that cannot make a checkerboard: a flat feature map gives a flat image away
    # from the border.
    with torch.no_grad():
        flat = torch.sigmoid(m.decoder.out(torch.nn.functional.interpolate(
            torch.ones(1, 4, 12, 12), scale_factor=2,
            mode="nearest" if final == "upconv" else "bilinear")))[0, :, 2:-2, 2:-2]
    assert (flat - flat[:, :1, :1]).abs().max() <= 1e-6


def test_shuffle_to_upconv_is_exact_when_the_shuffle_is_an_upconv(tmp_path):
    from latent_faces.training.warmstart import shuffle_to_upconv

    torch.manual_seed(4)
    up = torch.nn.Conv2d(5, 3, 3, padding=1)
    h = torch.randn(2, 5, 8, 8)
    with torch.no_grad():
        want = up(torch.nn.functional.interpolate(h, scale_factor=2, mode="nearest"))
        # The pixel-shuffle conv that computes exactly this: each parity's 3x3 kernel at the
        # low resolution holds the upconv taps that land on it.
        w12 = torch.zeros(12, 5, 3, 3)
        offs = ((0, 1, 1), (1, 1, 2))
        for c in range(3):
            for i in (0, 1):
                for j in (0, 1):
                    for ky in range(3):
                        for kx in range(3):
                            w12[4 * c + 2 * i + j, :, offs[i][ky], offs[j][kx]] += \
                                up.weight[c, :, ky, kx]
        b12 = up.bias.repeat_interleave(4)
        shuffled = torch.nn.functional.pixel_shuffle(
            torch.nn.functional.conv2d(h, w12, b12, padding=1), 2)
        assert (shuffled - want).abs().max() <= 1e-5  # the construction is right
        # Only identifiable up to what the four parities see: compare outputs, not taps.
        w3, b3 = shuffle_to_upconv(w12, b12)
        got = torch.nn.functional.conv2d(
            torch.nn.functional.interpolate(h, scale_factor=2, mode="nearest"), w3, b3,
            padding=1)
    assert (got - want)[..., 1:-1, 1:-1].abs().max() <= 1e-4


def test_warm_start_from_a_shuffle_file_into_an_upconv_decoder(tmp_path):
    from latent_faces.cli import main

    _, path = _random_bn_file(tmp_path)
    out = tmp_path / "up"
    assert main(["train", "--out", str(out), "--epochs", "1", "--final", "upconv",
                 *_args(path)]) == 0
    ck = read_checkpoint(out / "checkpoint.pt")
    assert ck["config"]["model"]["final"] == "upconv"
    dec = NumpyDecoder.load(out / "decoder.npz")
    assert dec.final == "upconv" and dec.a["out_w"].shape == (4, 27)
    # Frozen for the whole (3-step) run: the body is the file's.
    src = NumpyDecoder.load(path)
    assert np.array_equal(dec.a["s2_conv_w"], src.a["s2_conv_w"])


def test_init_from_a_shuffle_run_into_an_upconv_run(tmp_path):
    from latent_faces.cli import main
    from latent_faces.training.warmstart import shuffle_to_upconv

    _, path = _random_bn_file(tmp_path)
    base = tmp_path / "base"
    assert main(["train", "--out", str(base), "--epochs", "1", *_args(path)]) == 0
    up = tmp_path / "up"
    args = [a for a in _args(path)]
    args[args.index("--freeze-decoder-steps") + 1] = "100"
    assert main(["train", "--out", str(up), "--epochs", "1", "--final", "upconv", "--init",
                 str(base / "checkpoint.pt"), *args]) == 0
    b, u = read_checkpoint(base / "checkpoint.pt"), read_checkpoint(up / "checkpoint.pt")
    w3, b3 = shuffle_to_upconv(b["model"]["decoder.out.weight"], b["model"]["decoder.out.bias"])
    assert (u["model"]["decoder.out.weight"] - w3).abs().max() <= 1e-6
    assert (u["model"]["decoder.out.bias"] - b3).abs().max() <= 1e-6
    assert any(not torch.equal(u["model"][k], b["model"][k])
               for k in b["model"] if k.startswith("encoder.mu"))


def test_evaluate_grid_metric_finds_a_checkerboard_and_passes_real_faces():
    # evaluate's grid metric is the spectrum test's measurement: other real faces pass, a
    # one-grey-level 2-px checkerboard on them does not.
    from latent_faces.training.evaluate import TARGETS, grid_metrics
    from latent_faces.training.synth import generate_faces

    faces = generate_faces(64, seed=1, start=30_000_000).astype(np.float64) / 255
    yy, xx = np.mgrid[:96, :96]
    checker = np.clip(faces + ((2 * ((yy + xx) % 2) - 1) / 255)[..., None], 0, 1)
    limit = TARGETS["grid_peak_ratio"][0]
    ok = grid_metrics(lambda z: faces[: len(z)], n=64)
    bad = grid_metrics(lambda z: checker[: len(z)], n=64)
    assert ok["grid_peak_ratio"] <= limit and ok["grid_excess_peaks"] == {}
    assert bad["grid_peak_ratio"] > limit and "48,48" in bad["grid_excess_peaks"]
    assert bad["grid_peak_at"] == [48, 48]


def test_bilinear_stage_damps_the_images_nearest_upsampling_makes():
    # A 6-cycle cosine on a 48 px map, upsampled to 96 px: nearest leaves an image of it at
    # 48 - 6 = 42 cycles (the shipped decoder's worst grid peak). Nearest is the filter
    # [1, 1] / 2, response cos(pi f / 96); bilinear is [1, 3, 3, 1] / 4, response cos³: the
    # image's power falls by cos⁴(42 pi / 96) ≈ 1 / 690.
    from latent_faces.numpy_decoder import upsample2, upsample2_bilinear

    x = np.cos(2 * np.pi * 6 * (np.arange(48) + 0.5) / 48).astype(np.float32)
    x = np.broadcast_to(x[None, :, None, None], (1, 48, 48, 1))
    power = {f.__name__: np.abs(np.fft.fft(f(x)[0, :, 0, 0])) ** 2
             for f in (upsample2, upsample2_bilinear)}
    ratio = power["upsample2"][42] / power["upsample2_bilinear"][42]
    assert ratio == pytest.approx(np.cos(np.pi * 42 / 96) ** -4, rel=0.02)
    # ...while the cosine itself passes almost unchanged (≥ 0.9 of its power).
    assert power["upsample2_bilinear"][6] > 0.9 * power["upsample2"][6]


def test_an_upconv_run_starts_a_bilinear_one_with_its_weights(tmp_path):
    from latent_faces.cli import main

    _, path = _random_bn_file(tmp_path)
    up, bil = tmp_path / "up", tmp_path / "bil"
    args = [a for a in _args(path)]
    assert main(["train", "--out", str(up), "--epochs", "1", "--final", "upconv", *args]) == 0
    args[args.index("--freeze-decoder-steps") + 1] = "100"  # nothing moves: compare weights
    assert main(["train", "--out", str(bil), "--epochs", "1", "--final", "bilinear", "--init",
                 str(up / "checkpoint.pt"), *args]) == 0
    u, b = read_checkpoint(up / "checkpoint.pt"), read_checkpoint(bil / "checkpoint.pt")
    assert b["config"]["model"]["final"] == "bilinear"
    for k in u["model"]:
        if k.startswith("decoder."):
            assert torch.equal(u["model"][k], b["model"][k]), k
    dec = NumpyDecoder.load(bil / "decoder.npz")
    assert dec.final == "bilinear"
    # --init-decoder from the upconv file: the same conv, loaded as is.
    assert main(["train", "--out", str(tmp_path / "b2"), "--epochs", "1", "--final", "bilinear",
                 *_args(up / "decoder.npz")]) == 0
    d2 = NumpyDecoder.load(tmp_path / "b2" / "decoder.npz")
    assert np.array_equal(d2.a["out_w"], NumpyDecoder.load(up / "decoder.npz").a["out_w"])
