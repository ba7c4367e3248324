"""Models, losses, training, checkpoints and the torch ↔ numpy decoder equivalence."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from latent_faces.export import export_decoder  # noqa: E402
from latent_faces.models import (  # noqa: E402
    ConvAutoencoder,
    ModelConfig,
    kl_divergence,
    loss_terms,
)
from latent_faces.numpy_decoder import NumpyDecoder  # noqa: E402
from latent_faces.train import TrainConfig, load_model, train  # noqa: E402

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
    with pytest.raises(ValueError):
        loss_terms(recon, target, mu, logvar, "l1")


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
    timing = ("seconds", "images_per_s")
    strip = [{k: v for k, v in r.items() if k not in timing} for r in _rows(full)]
    assert strip == [{k: v for k, v in r.items() if k not in timing}
                     for r in _rows(tmp_path / "part")]
    with pytest.raises(FileNotFoundError):
        train(_cfg(tmp_path / "empty"), resume=True)


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
