"""Models, losses, training, checkpoints and the torch ↔ numpy decoder equivalence."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from latent_faces.numpy_decoder import FORMAT_VERSION, NumpyDecoder  # noqa: E402
from latent_faces.training.checkpoints import TrainConfig, load_model  # noqa: E402
from latent_faces.training.export import export_decoder  # noqa: E402
from latent_faces.training.models import (  # noqa: E402
    ConvAutoencoder,
    ModelConfig,
    gradient_difference,
    kl_divergence,
    loss_terms,
)
from latent_faces.training.train import train  # noqa: E402

torch.set_num_threads(2)


def test_shapes_ae_and_vae():
    for variational in (False, True):
        m = ConvAutoencoder(ModelConfig(z_dim=20, variational=variational))
        x = torch.rand(4, 3, 96, 96)
        m.train()
        recon, mu, logvar = m(x)
        assert recon.shape == (4, 3, 96, 96)
        assert mu.shape == (4, 20)
        assert (logvar is None) != variational
        assert 0 <= recon.min() and recon.max() <= 1
        flat = m.encoder.conv(x).flatten(1)
        assert flat.shape == (4, 2304)  # 6·6·64, the reference's flatten size


def test_reference_architecture_counts():
    m = ConvAutoencoder()
    convs = [c for c in m.encoder.conv if isinstance(c, torch.nn.Conv2d)]
    deconvs = [c for c in m.decoder.deconv if isinstance(c, torch.nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == [32, 64, 64, 64]
    assert [c.out_channels for c in deconvs] == [64, 64, 32, 3]
    assert m.encoder.mu.out_features == 200
    leaky = [a for a in m.encoder.conv if isinstance(a, torch.nn.LeakyReLU)]
    assert leaky[0].negative_slope == 0.3


def test_losses_against_formulas():
    torch.manual_seed(0)
    recon = torch.rand(3, 3, 8, 8) * 0.9 + 0.05
    target = torch.rand(3, 3, 8, 8)
    mu = torch.randn(3, 5)
    logvar = torch.randn(3, 5) * 0.1
    tot, r, kl = loss_terms(recon, target, mu, logvar, "mse", 10.0, 2.0)
    mse = ((recon - target) ** 2).mean()
    kl_ref = (0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)).mean()
    assert torch.allclose(r, mse) and torch.allclose(kl, kl_ref)
    assert torch.allclose(tot, 10 * mse + 2 * kl_ref)
    _, rb, _ = loss_terms(recon, target, mu, logvar, "bce")
    bce = -(target * recon.log() + (1 - target) * (1 - recon).log()).mean()
    assert torch.allclose(rb, bce, atol=1e-6)
    _, r1, _ = loss_terms(recon, target, mu, logvar, "l1")
    assert torch.allclose(r1, (recon - target).abs().mean())
    with pytest.raises(ValueError, match="recon_loss"):
        loss_terms(recon, target, mu, logvar, "huber")


def test_edge_term_penalises_blur_that_mse_barely_sees():
    # A hard vertical edge, and the same edge smeared over 4 px: the smeared image is close in
    # MSE but has lost the edge, which the gradient-difference term counts.
    x = torch.zeros(1, 3, 16, 16)
    x[..., 8:] = 1.0
    ramp = torch.clamp((torch.arange(16.0) - 5.5) / 4, 0, 1)
    blur = ramp.expand(1, 3, 16, 16).clone()
    assert torch.equal(gradient_difference(x, x), torch.zeros(1))
    gd = gradient_difference(blur, x)
    # hand count per row: the target's dx is one step of 1 (between columns 7 and 8), the
    # blur's is 1/8, 1/4, 1/4, 1/4, 1/8 around it: 1/8 + 1/4 + |1/4 - 1| + 1/4 + 1/8 = 1.5
    # over 15 differences; dy is zero everywhere
    assert torch.allclose(gd, torch.tensor([1.5 / 15]))
    mu = torch.zeros(1, 4)
    plain, r, _ = loss_terms(blur, x, mu, mu, "mse", 10.0, 1.0)
    edged, r2, _ = loss_terms(blur, x, mu, mu, "mse", 10.0, 1.0, edge_weight=2.0)
    assert torch.equal(r, r2)  # the logged reconstruction term stays per-pixel MSE
    assert torch.allclose(edged - plain, 10.0 * 2.0 * gd[0])


def test_kl_zero_at_prior_and_positive_elsewhere():
    z = torch.zeros(2, 7)
    assert torch.allclose(kl_divergence(z, z), torch.zeros(2))
    assert (kl_divergence(z + 1, z) > 0).all()
    assert (kl_divergence(z, z - 1) > 0).all()
    assert torch.equal(kl_divergence(z + 3, None), torch.zeros(2))


def _cfg(tmp_path, **kw):
    base = dict(out=str(tmp_path), model=ModelConfig(z_dim=8), n_train=64, n_test=16,
                batch_size=16, epochs=2, threads=1, progress=False)
    base.update(kw)
    return TrainConfig(**base)


def _rows(path):
    with open(path / "loss.csv") as f:
        return list(csv.DictReader(f))


def test_training_reduces_loss(tmp_path):
    out = train(_cfg(tmp_path, epochs=4, lr=2e-3, r_loss_factor=1.0, kl_weight=0.0,
                     model=ModelConfig(z_dim=8, variational=False)))
    rows = _rows(out)
    assert len(rows) == 4
    assert float(rows[-1]["train_recon"]) < 0.8 * float(rows[0]["train_recon"])
    for f in ("checkpoint.pt", "loss.png", "samples.png", "decoder.npz", "config.json"):
        assert (out / f).exists()


def test_vae_kl_term_behaves(tmp_path):
    # With a heavy KL weight the posterior collapses towards the prior: KL shrinks.
    out = train(_cfg(tmp_path, epochs=3, lr=2e-3, r_loss_factor=1.0, kl_weight=1.0))
    kls = [float(r["train_kl"]) for r in _rows(out)]
    assert kls[-1] < kls[0]
    model, _ = load_model(out / "checkpoint.pt")
    with torch.no_grad():
        mu, logvar = model.encode(torch.rand(8, 3, 96, 96))
    assert logvar is not None
    assert float(kl_divergence(mu, logvar).mean()) < kls[0]


def test_resume_reproduces_uninterrupted_run(tmp_path):
    full = train(_cfg(tmp_path / "full", epochs=2))
    part = _cfg(tmp_path / "part", epochs=1)
    train(part)
    part.epochs = 2
    train(part, resume=True)
    a = torch.load(full / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)["model"]
    for k in a:
        assert torch.equal(a[k], b[k]), k
    timing = ("seconds", "images_per_s", "cpu_seconds")
    strip = [{k: v for k, v in r.items() if k not in timing} for r in _rows(full)]
    assert strip == [{k: v for k, v in r.items() if k not in timing}
                     for r in _rows(tmp_path / "part")]
    with pytest.raises(FileNotFoundError):
        train(_cfg(tmp_path / "empty"), resume=True)


def test_resume_with_cosine_schedule_and_epoch_size_is_exact(tmp_path):
    kw = dict(model=ModelConfig(z_dim=6, decoder="resup", dec_filters=(8, 6, 4),
                                res_blocks=(1, 0, 1), fc_channels=8, dropout=0.0),
              lr_schedule="cosine", lr=2e-3, lr_min=1e-4, n_train=96, epoch_size=32,
              kl_weight=0.01)
    full = train(_cfg(tmp_path / "full", epochs=3, **kw))
    part = _cfg(tmp_path / "part", epochs=1, lr_horizon=3, **kw)
    train(part)
    part.epochs = 3
    train(part, resume=True)
    a = torch.load(full / "checkpoint.pt", weights_only=False)
    b = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    lrs = [float(r["lr"]) for r in _rows(full)]
    assert lrs == [float(r["lr"]) for r in _rows(tmp_path / "part")]
    assert lrs[0] == 2e-3 and lrs[0] > lrs[1] > lrs[2] > 1e-4
    assert [int(r["images"]) for r in _rows(full)] == [32, 32, 32]
    # Provenance: one session for the full run, two for the resumed one, covering 0..3.
    assert [(s["start_epoch"], s["end_epoch"]) for s in b["sessions"]] == [(0, 1), (1, 3)]
    assert len(a["sessions"]) == 1


def test_exported_header_records_the_run(tmp_path):
    from latent_faces.cli import main

    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--decoder", "resup", "--dec-filters", "8,6,4",
                 "--res-blocks", "0,0,0", "--z-dim", "4", "--n-train", "48", "--n-test", "8",
                 "--batch-size", "16", "--epochs", "2", "--threads", "1", "--quiet"]) == 0
    meta = NumpyDecoder.load(out / "decoder.npz").header["meta"]
    (s,) = meta["sessions"]
    assert s["command"].startswith("python -m latent_faces train --out ")
    assert "--dec-filters 8,6,4" in s["command"]
    assert (s["start_epoch"], s["end_epoch"]) == (0, 2)
    assert len(s["git_commit"].split("-")[0]) in (40, 7)  # 7: "unknown" outside a checkout
    assert meta["epochs_trained"] == 2 and meta["images_seen"] == 96
    assert meta["cpu_hours"] > 0
    assert main(["export", str(out / "checkpoint.pt"), "--out", str(tmp_path / "e.npz"),
                 "--fit-prior", "40"]) == 0
    meta2 = NumpyDecoder.load(tmp_path / "e.npz").header["meta"]
    assert meta2["sessions"] == meta["sessions"]
    assert meta2["latent_prior"]["kind"] == "fitted-gaussian"
    assert meta2["latent_prior"]["n_images"] == 40
    # evaluate: snapshot + export + metrics against the targets + curves.
    ev = tmp_path / "ev"
    assert main(["evaluate", str(out), "--out", str(ev), "--fit-prior", "40",
                 "--n-samples", "20"]) == 0
    import json

    m = json.loads((ev / "metrics.json").read_text())
    assert set(m["targets"]) == {"precision", "recall", "diversity_ratio", "sharpness_ratio",
                                 "test_recon_mse", "grid_peak_ratio"}
    assert m["targets"]["grid_peak_ratio"]["met"] == (m["grid_peak_ratio"] <= 1.5)
    assert m["test_recon_mse"] == float(_rows(out)[-1]["test_recon"])
    assert m["sharpness_ratio"] == min(m["sharpness_full_ratio"], m["sharpness_2x_ratio"])
    assert m["epoch"] == 2 and m["images_seen"] == 96
    for f in ("curves.png", "samples.png", "targets.md", "decoder.npz", "checkpoint.pt"):
        assert (ev / f).is_file(), f
    assert len((out / "evals.jsonl").read_text().splitlines()) == 1
    # --draws 2: the means of that draw (seed 0) and the next one's, judged on the means.
    one = tmp_path / "ev_seed1"
    assert main(["evaluate", str(out), "--out", str(one), "--decoder", str(ev / "decoder.npz"),
                 "--n-samples", "20", "--seed", "1"]) == 0
    two = tmp_path / "ev_draws2"
    assert main(["evaluate", str(out), "--out", str(two), "--decoder", str(ev / "decoder.npz"),
                 "--n-samples", "20", "--draws", "2"]) == 0
    m1 = json.loads((one / "metrics.json").read_text())
    m2 = json.loads((two / "metrics.json").read_text())
    assert [d["seed"] for d in m2["draws"]] == [0, 1] and m2["n_draws"] == 2
    for k in ("precision", "recall", "sharpness_ratio", "grid_peak_ratio", "test_recon_mse"):
        assert m2[k] == pytest.approx((m[k] + m1[k]) / 2, rel=1e-9), k
        assert m2["targets"][k]["value"] == m2[k]
        assert [d[k] for d in m2["draws"]] == pytest.approx([m[k], m1[k]], rel=1e-9)
    assert "Means over 2 latent draws (seeds 0, 1)" in (two / "targets.md").read_text()


def test_evaluate_measures_mse_for_runs_trained_with_another_loss(tmp_path):
    # An L1 (or BCE) run logs its own loss as test_recon; the target is per-pixel MSE, so
    # evaluate must measure it rather than copy the log.
    from latent_faces.cli import main
    from latent_faces.training.evaluate import recon_mse

    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--decoder", "resup", "--dec-filters", "8,6,4",
                 "--res-blocks", "0,0,0", "--z-dim", "4", "--n-train", "48", "--n-test", "8",
                 "--batch-size", "16", "--epochs", "1", "--threads", "1", "--quiet",
                 "--recon-loss", "l1", "--edge-weight", "0.1"]) == 0
    ev = tmp_path / "ev"
    assert main(["evaluate", str(out), "--out", str(ev), "--fit-prior", "16",
                 "--n-samples", "20"]) == 0
    import json

    m = json.loads((ev / "metrics.json").read_text())
    logged_l1 = float(_rows(out)[-1]["test_recon"])
    model, cfg = load_model(ev / "checkpoint.pt")
    assert cfg.recon_loss == "l1" and cfg.edge_weight == 0.1
    assert m["test_recon_mse"] == pytest.approx(recon_mse(model, 8, 0), rel=1e-6)
    assert m["test_recon_mse"] < logged_l1  # errors in [0, 1]: squared < absolute
    assert main(["evaluate", str(out), "--out", str(tmp_path / "ev2"),
                 "--decoder", str(ev / "decoder.npz")]) == 2


def _randomise_batchnorm(module):
    # Non-trivial BatchNorm statistics and affine parameters, so the folding is exercised.
    for mod in module.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.3, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.3, 0.3)


def test_resup_numpy_decoder_matches_torch(tmp_path):
    torch.manual_seed(1)
    cfg = ModelConfig(z_dim=12, decoder="resup", dec_filters=(24, 16, 8), res_blocks=(1, 2, 1),
                      fc_channels=20)
    m = ConvAutoencoder(cfg)
    _randomise_batchnorm(m.decoder)
    m.eval()
    export_decoder(m.decoder, tmp_path / "r.npz")
    dec = NumpyDecoder.load(tmp_path / "r.npz")
    assert dec.kind == "resup" and dec.header["format_version"] == FORMAT_VERSION == 4
    z = np.random.default_rng(1).normal(0, 2, (16, 12)).astype(np.float32)
    with torch.no_grad():
        ref = m.decoder(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
    got = dec.decode(z)
    assert got.shape == ref.shape == (16, 96, 96, 3)
    assert ref.std() > 0.02  # not a flat image: the comparison means something
    assert np.abs(got - ref).max() <= 1e-4


def test_folded_latent_gaussian_samples_that_gaussian(tmp_path):
    from latent_faces.training.prior import fit_latent_gaussian, fold_latent_gaussian
    from latent_faces.training.synth import generate_faces

    torch.manual_seed(2)
    m = ConvAutoencoder(ModelConfig(z_dim=5, decoder="resup", dec_filters=(8, 8, 4),
                                    res_blocks=(0, 1, 0)))
    _randomise_batchnorm(m.decoder)
    m.eval()
    g = fit_latent_gaussian(m, generate_faces(30, seed=3))
    assert g["mean"].shape == (5,) and g["cov"].shape == (5, 5)
    assert np.all(np.linalg.eigvalsh(g["cov"]) > 0)
    folded = fold_latent_gaussian(m.decoder, g["mean"], g["cov"])
    n = np.random.default_rng(3).normal(size=(6, 5))
    z = g["mean"] + n @ np.linalg.cholesky(g["cov"]).T
    with torch.no_grad():
        want = m.decoder(torch.from_numpy(z.astype(np.float32))).numpy().transpose(0, 2, 3, 1)
        got = folded(torch.from_numpy(n.astype(np.float32))).numpy().transpose(0, 2, 3, 1)
    assert np.abs(got - want).max() < 1e-4
    export_decoder(folded, tmp_path / "f.npz")
    assert np.abs(NumpyDecoder.load(tmp_path / "f.npz").decode(n) - want).max() < 1e-4
    # The original decoder is untouched.
    assert not torch.equal(folded.fc.weight, m.decoder.fc.weight)


def test_numpy_decoder_matches_torch(tmp_path):
    torch.manual_seed(0)
    m = ConvAutoencoder(ModelConfig(z_dim=16))
    # Non-trivial BatchNorm statistics and affine parameters, so the folding is exercised.
    for mod in m.decoder.deconv:
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.3, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.3, 0.3)
    m.eval()
    export_decoder(m.decoder, tmp_path / "d.npz")
    dec = NumpyDecoder.load(tmp_path / "d.npz")
    z = np.random.default_rng(0).normal(0, 3, (16, 16)).astype(np.float32)
    with torch.no_grad():
        ref = m.decoder(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
    got = dec.decode(z)
    assert got.shape == ref.shape == (16, 96, 96, 3)
    assert np.abs(got - ref).max() <= 1e-4


@torch.no_grad()
def _resup_from_file(dec: NumpyDecoder):
    """The project's torch ``ResUpDecoder``, built from the model config the file's header
    records and loaded with the file's arrays (BatchNorm is folded into them, so the BN
    layers become identities): torch's own conv2d, interpolate and pixel_shuffle, not the
    numpy code under test."""
    from latent_faces.training.models import ResUpDecoder

    m = ResUpDecoder(ModelConfig.from_dict(dec.header["meta"]["train_config"]["model"]))
    a = {k: torch.from_numpy(v) for k, v in dec.a.items()}

    def load(conv, name_w, name_b):
        c_in = conv.in_channels
        conv.weight.copy_(a[name_w].reshape(c_in, 3, 3, -1).permute(3, 0, 1, 2))
        conv.bias.copy_(a[name_b])

    m.fc.weight.copy_(a["fc_w"].T)
    m.fc.bias.copy_(a["fc_b"])
    for i, st in enumerate(m.stages):
        load(st["conv"], f"s{i}_conv_w", f"s{i}_conv_b")
        st["bn"] = torch.nn.Identity()
        for j, rb in enumerate(st["res"]):
            load(rb.conv1, f"s{i}_r{j}_w1", f"s{i}_r{j}_b1")
            load(rb.conv2, f"s{i}_r{j}_w2", f"s{i}_r{j}_b2")
            rb.bn1 = rb.bn2 = torch.nn.Identity()
    load(m.out, "out_w", "out_b")
    if m.cfg.refine:  # format version 4: the full-resolution refinement
        load(m.refine1, "refine_w1", "refine_b1")
        load(m.refine2, "refine_w2", "refine_b2")
    return m.eval()


def test_shipped_decoder_equals_torch():
    # The weights that ship, decoded by the numpy decoder and by the torch model: same faces.
    import latent_faces

    dec = latent_faces.load_shipped_decoder()
    assert dec.kind == "resup"
    z = latent_faces.sample_latents("normal", 16, seed=3, z_dim=dec.z_dim)
    with torch.no_grad():
        ref = _resup_from_file(dec)(torch.from_numpy(z)).numpy().transpose(0, 2, 3, 1)
    got = dec.decode(z)
    assert got.shape == ref.shape == (16, 96, 96, 3)
    assert np.abs(got - ref).max() <= 1e-4


# Subprocesses run from temporary folders: point them at this checkout's package.
_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def _cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "latent_faces", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env=_ENV)


@pytest.mark.parametrize("args, msg", [
    (["train"], "--out"),
    (["train", "--out", "o", "--epochs", "0"], "--epochs"),
    (["train", "--out", "o", "--lr", "abc"], "--lr"),
    (["train", "--out", "o", "--task", "paint"], "--task"),
    (["train", "--out", "o", "--data", "/nonexistent"], "not a folder"),
    (["train", "--out", "o", "--resume"], "no checkpoint"),
    (["train", "--out", "o", "--preset", "gan"], "--preset"),
    (["train", "--out", "o", "--init", "/nonexistent.pt"], "--init"),
    (["train", "--out", "o", "--decoder", "resup", "--dec-filters", "8,8"], "stages"),
    (["train", "--out", "o", "--decoder", "resup", "--res-blocks", "1"], "res_blocks"),
    (["train", "--out", "o", "--enc-filters", "a,b"], "--enc-filters"),
    (["export", "/nonexistent.pt", "--out", "x.npz"], "not found"),
    (["evaluate", "/nonexistent", "--out", "x"], "no checkpoint.pt"),
])
def test_train_cli_errors(tmp_path, args, msg):
    r = _cli(args, tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert msg in r.stderr


def test_train_cli_on_image_folder_with_corrupt_file(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    img = tmp_path / "imgs"
    img.mkdir()
    for i in range(40):
        Image.fromarray(rng.integers(0, 256, (60, 50, 3), dtype=np.uint8)).save(img / f"{i}.png")
    (img / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    r = _cli(["train", "--out", "run", "--data", str(img), "--epochs", "1", "--batch-size", "8",
              "--z-dim", "4", "--n-test", "8", "--threads", "1", "--quiet",
              "--task", "denoise"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / "decoder.npz").exists()
    assert "skipped 1 unreadable image file" in r.stdout
    assert [row["skipped"] for row in _rows(tmp_path / "run")] == ["1"]
    r = _cli(["export", str(tmp_path / "run" / "checkpoint.pt"), "--out", "e.npz"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert NumpyDecoder.load(tmp_path / "e.npz").z_dim == 4
    # Starting a differently shaped model from these weights is a one-line usage error.
    r = _cli(["train", "--out", "run2", "--data", str(img), "--z-dim", "5", "--quiet",
              "--init", str(tmp_path / "run" / "checkpoint.pt"), "--batch-size", "8"], tmp_path)
    assert r.returncode == 2 and "do not fit" in r.stderr and "Traceback" not in r.stderr
