"""The adversarial term (VQGAN's, perceptual part off): pieces against their definitions,
and a tiny training run that switches it on after a warm-up, resumes exactly and exports."""

import csv

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from latent_faces.numpy_decoder import NumpyDecoder  # noqa: E402
from latent_faces.training.adversarial import (  # noqa: E402
    PatchDiscriminator,
    adaptive_weight,
    adversarial_on,
    generator_loss,
    hinge_d_loss,
    last_layer,
)
from latent_faces.training.checkpoints import read_checkpoint  # noqa: E402
from latent_faces.training.models import ConvAutoencoder, ModelConfig  # noqa: E402

torch.set_num_threads(1)


def test_patch_discriminator_shapes():
    x = torch.rand(2, 3, 96, 96)
    # pix2pix's 70 x 70 PatchGAN on 96 px: 10 x 10 overlapping patches.
    assert PatchDiscriminator(8, 3)(x).shape == (2, 1, 10, 10)
    assert PatchDiscriminator(8, 1)(x).shape == (2, 1, 46, 46)
    assert PatchDiscriminator(4, 5)(x).shape == (2, 1, 1, 1)
    convs = [m for m in PatchDiscriminator(8, 3).modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 64, 1]
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]


def test_hinge_and_generator_losses_against_formulas():
    real = torch.tensor([2.0, 0.5, -1.0])
    fake = torch.tensor([-3.0, 0.0, 1.0])
    # relu(1 - real) = 0, 0.5, 2 -> mean 2.5/3; relu(1 + fake) = 0, 1, 2 -> mean 1
    assert torch.isclose(hinge_d_loss(real, fake), torch.tensor(0.5 * (2.5 / 3 + 1.0)))
    # A discriminator that is right by the margin everywhere has nothing left to learn.
    assert hinge_d_loss(torch.ones(4) * 1.5, -torch.ones(4) * 2) == 0
    assert generator_loss(fake) == pytest.approx(-(-3.0 + 0.0 + 1.0) / 3)


def test_adaptive_weight_is_the_ratio_of_last_layer_gradient_norms():
    torch.manual_seed(0)
    m = ConvAutoencoder(ModelConfig(z_dim=4, decoder="resup", dec_filters=(8, 6, 4),
                                    res_blocks=(0, 0, 0), fc_channels=8))
    layer = last_layer(m.decoder)
    assert layer is m.decoder.out.weight
    foster = ConvAutoencoder(ModelConfig(z_dim=4))
    assert last_layer(foster.decoder) is foster.decoder.deconv[-1].weight
    x = torch.rand(2, 3, 96, 96)
    recon = m(x)[0]
    rec = ((recon - x) ** 2).mean()
    g = generator_loss(PatchDiscriminator(4, 2)(recon))
    lam = adaptive_weight(rec, g, layer, scale=0.5)
    g_rec = torch.autograd.grad(rec, layer, retain_graph=True)[0].norm()
    g_adv = torch.autograd.grad(g, layer, retain_graph=True)[0].norm()
    assert torch.isclose(lam, 0.5 * g_rec / (g_adv + 1e-4))
    assert not lam.requires_grad
    # Clamped: a vanishing adversarial gradient does not blow the weight up.
    assert adaptive_weight(rec * 1e6, (recon * 0).sum(), layer) == 1e4
    (rec + lam * g).backward()  # the graphs survive for the step's backward pass
    assert layer.grad is not None


def test_warm_up_switch():
    assert [adversarial_on(s, 3) for s in range(5)] == [False, False, False, True, True]
    assert adversarial_on(0, 0)


def _rows(path):
    with open(path / "loss.csv") as f:
        return list(csv.DictReader(f))


ARGS = ["--decoder", "resup", "--dec-filters", "8,6,4", "--res-blocks", "0,1,0", "--z-dim", "4",
        "--n-train", "48", "--n-test", "8", "--batch-size", "16", "--threads", "1", "--quiet",
        "--adv-weight", "0.5", "--adv-start", "4", "--disc-channels", "8", "--disc-layers", "2",
        "--kl-weight", "0.01", "--lr", "1e-3"]


def test_tiny_run_switches_the_term_on_after_warm_up_and_resumes_exactly(tmp_path):
    from latent_faces.cli import main

    # 3 steps per epoch; the term starts at step 4, i.e. in the second epoch's second batch,
    # and the resumed run stops after it: the discriminator and its optimiser have state.
    full, part = tmp_path / "full", tmp_path / "part"
    assert main(["train", "--out", str(full), "--epochs", "3", *ARGS]) == 0
    assert main(["train", "--out", str(part), "--epochs", "2", *ARGS]) == 0
    assert main(["train", "--out", str(part), "--resume", "--epochs", "3", "--threads", "1",
                 "--quiet"]) == 0
    rows = _rows(full)
    assert [r["train_g_loss"] == "" for r in rows] == [True, False, False]
    for r in rows[1:]:
        assert float(r["adv_lambda"]) > 0 and float(r["train_d_loss"]) > 0
    a, b = read_checkpoint(full / "checkpoint.pt"), read_checkpoint(part / "checkpoint.pt")
    assert a["config"]["adv_weight"] == 0.5 and a["config"]["adv_start"] == 4
    for key in ("model", "disc"):
        for k in a[key]:
            assert torch.equal(a[key][k], b[key][k]), (key, k)
    timing = ("seconds", "images_per_s", "cpu_seconds")
    assert ([{k: v for k, v in r.items() if k not in timing} for r in rows]
            == [{k: v for k, v in r.items() if k not in timing} for r in _rows(part)])
    # The discriminator is a training aid: the exported decoder is the same kind of file.
    dec = NumpyDecoder.load(full / "decoder.npz")
    assert dec.decode(np.zeros(4)).shape == (1, 96, 96, 3)
    assert dec.header["meta"]["train_config"]["adv_weight"] == 0.5


def test_the_term_changes_the_decoder_and_off_means_no_discriminator(tmp_path):
    from latent_faces.cli import main

    plain = [a for a in ARGS]
    i = plain.index("--adv-weight")
    plain[i + 1] = "0"
    assert main(["train", "--out", str(tmp_path / "off"), "--epochs", "2", *plain]) == 0
    assert main(["train", "--out", str(tmp_path / "on"), "--epochs", "2", *ARGS]) == 0
    off, on = (read_checkpoint(tmp_path / n / "checkpoint.pt") for n in ("off", "on"))
    assert "disc" not in off and "disc" in on
    assert {r["adv_lambda"] for r in _rows(tmp_path / "off")} == {""}
    # Same seed and data: identical until step 4, different after.
    w = "decoder.out.weight"
    assert not torch.equal(off["model"][w], on["model"][w])
    assert main(["train", "--out", str(tmp_path / "x"), "--disc-layers", "6", *ARGS[:-6]]) == 2


def test_batch_prior_latents_have_the_batchs_mean_and_covariance():
    from latent_faces.training.adversarial import batch_prior_latents

    torch.manual_seed(0)
    mu = torch.randn(8, 5) * torch.tensor([3.0, 1.0, 0.5, 2.0, 1.0]) + 1.5
    logvar = torch.full((8, 5), -3.0, requires_grad=True)
    z = torch.cat([batch_prior_latents(mu, logvar) for _ in range(20000)])
    assert not z.requires_grad
    cov = torch.cov(mu.T) + torch.diag(logvar.detach().exp().mean(0))
    assert torch.allclose(z.mean(0), mu.mean(0), atol=0.03)
    assert torch.allclose(torch.cov(z.T), cov, atol=0.1 * float(cov.abs().max()))
    # An AE (no log σ²): the draws stay in the affine span of the batch's codes.
    torch.manual_seed(1)
    z = batch_prior_latents(mu, None) - mu.mean(0)
    basis = torch.linalg.svd(mu - mu.mean(0), full_matrices=False)[2][:7]
    assert torch.allclose(z @ basis.T @ basis, z, atol=1e-4)
    with pytest.raises(ValueError, match="at least 2"):
        batch_prior_latents(mu[:1], None)


def test_prior_samples_reach_the_discriminator_and_resume_exactly(tmp_path):
    from latent_faces.cli import main

    args = [*ARGS, "--adv-prior-samples"]
    full, part, plain = tmp_path / "full", tmp_path / "part", tmp_path / "plain"
    assert main(["train", "--out", str(full), "--epochs", "3", *args]) == 0
    assert main(["train", "--out", str(part), "--epochs", "2", *args]) == 0
    assert main(["train", "--out", str(part), "--resume", "--epochs", "3", "--threads", "1",
                 "--quiet"]) == 0
    assert main(["train", "--out", str(plain), "--epochs", "3", *ARGS]) == 0
    a, b, c = (read_checkpoint(p / "checkpoint.pt") for p in (full, part, plain))
    assert a["config"]["adv_prior_samples"] and not c["config"]["adv_prior_samples"]
    for key in ("model", "disc"):
        for k in a[key]:
            assert torch.equal(a[key][k], b[key][k]), (key, k)
    # Same seed and data, with and without: the decoders part once the term is on.
    assert not torch.equal(a["model"]["decoder.out.weight"], c["model"]["decoder.out.weight"])
    assert main(["train", "--out", str(tmp_path / "x"), "--adv-prior-samples",
                 *ARGS[:ARGS.index("--adv-weight")]]) == 2
