"""The grid-spectrum training term (issue 20): it measures what the spectrum test measures,
is zero on the targets themselves, finds a faint grid, falls when followed, ignores overall
power, and
runs through the CLI (recorded, logged, resumed exactly); a fine-tune arm started with
``--init`` from an adversarial run keeps its discriminator."""

import csv

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from latent_faces.training.checkpoints import read_checkpoint  # noqa: E402
from latent_faces.training.models import to_tensor  # noqa: E402
from latent_faces.training.score import grid_peaks, mean_power_spectrum  # noqa: E402
from latent_faces.training.spectral import (  # noqa: E402
    _peaks,
    batch_power_spectrum,
    grid_excess_loss,
    grid_indices,
)
from latent_faces.training.synth import generate_faces  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def faces():
    return generate_faces(32, seed=5, start=20_000_000).astype(np.float32) / 255


def _grid(period=2):
    yy, xx = np.mgrid[:96, :96] // (period // 2)
    return ((2 * ((yy + xx) % 2) - 1) / 255).astype(np.float32)[..., None]


def test_spectrum_and_peaks_are_the_spectrum_tests_measure(faces):
    p_torch = batch_power_spectrum(to_tensor(faces)).double().numpy()
    p_numpy = mean_power_spectrum(faces)
    np.testing.assert_allclose(p_torch, p_numpy, rtol=1e-4, atol=1e-9 * p_numpy.max())
    v, u = grid_indices(96, 6)
    ours = _peaks(torch.from_numpy(p_numpy), torch.from_numpy(v), torch.from_numpy(u)).numpy()
    theirs = grid_peaks(p_numpy, 6)
    assert len(ours) == len(theirs) == 129
    # Same frequencies in the same order (FFT indices of grid_peaks' (v, u) keys).
    assert [(a % 96, b % 96) for a, b in theirs] == list(zip(v.tolist(), u.tolist(), strict=True))
    np.testing.assert_allclose(ours, list(theirs.values()), rtol=1e-12)


def test_zero_on_the_targets_positive_on_a_faint_grid(faces):
    y = to_tensor(faces)
    assert grid_excess_loss(y, y, 6).item() == 0.0
    # One 8-bit grey level of a 2-px checkerboard: invisible, but a clear excess.
    gridded = to_tensor(np.clip(faces + _grid(2), 0, 1))
    assert grid_excess_loss(gridded, y, 6).item() > 0.01
    # Smoothing (less power everywhere) is not an excess: blur is MSE's business.
    blurred = (y + y.roll(1, 2) + y.roll(1, 3) + y.roll((1, 1), (2, 3))) / 4
    assert grid_excess_loss(blurred, y, 6).item() < grid_excess_loss(gridded, y, 6).item() / 10


def test_following_its_gradient_lowers_it_and_overall_power_does_not_count(faces):
    y = to_tensor(faces)
    grid = torch.from_numpy(_grid(8)).permute(2, 0, 1)[None] * 4
    x = (y + grid).clone().requires_grad_(True)
    loss = grid_excess_loss(x, y, 6)
    loss.backward()
    with torch.no_grad():
        stepped = x - 2e-3 * x.grad / x.grad.abs().max()
        assert grid_excess_loss(stepped, y, 6).item() < loss.item()
        # Peaks are relative to their rings: scaling the images' contrast (less power at
        # every frequency, as blur gives at high ones) leaves the term where it was.
        dimmer = 0.5 * x + 0.25
        assert grid_excess_loss(dimmer, y, 6).item() == pytest.approx(loss.item(), rel=1e-5)


def _rows(path):
    with open(path / "loss.csv") as f:
        return list(csv.DictReader(f))


ARGS = ["--decoder", "resup", "--dec-filters", "8,6,4", "--res-blocks", "0,1,0", "--z-dim", "4",
        "--n-train", "48", "--n-test", "8", "--batch-size", "16", "--threads", "1", "--quiet",
        "--kl-weight", "0.01", "--lr", "1e-3", "--final", "upconv"]


def test_cli_run_records_logs_and_resumes_the_term_exactly(tmp_path):
    from latent_faces.cli import main

    on = [*ARGS, "--spectral-weight", "50"]
    full, part, off = tmp_path / "full", tmp_path / "part", tmp_path / "off"
    assert main(["train", "--out", str(full), "--epochs", "2", *on]) == 0
    assert main(["train", "--out", str(part), "--epochs", "1", *on]) == 0
    assert main(["train", "--out", str(part), "--resume", "--epochs", "2", "--threads", "1",
                 "--quiet"]) == 0
    assert main(["train", "--out", str(off), "--epochs", "2", *ARGS]) == 0
    a, b, c = (read_checkpoint(p / "checkpoint.pt") for p in (full, part, off))
    assert a["config"]["spectral_weight"] == 50.0 and c["config"]["spectral_weight"] == 0.0
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    # Same seed and data: the term is what makes the runs differ.
    assert not torch.equal(a["model"]["decoder.out.weight"], c["model"]["decoder.out.weight"])
    assert all(float(r["train_spectral"]) >= 0 for r in _rows(full))
    assert {r["train_spectral"] for r in _rows(off)} == {""}
    assert main(["train", "--out", str(tmp_path / "x"), *ARGS, "--spectral-weight", "-1"]) == 2


def test_init_from_an_adversarial_run_keeps_its_discriminator(tmp_path):
    from latent_faces.cli import main

    adv = ["--adv-weight", "0.5", "--disc-channels", "8", "--disc-layers", "2",
           "--disc-lr", "3e-4"]
    src, arm = tmp_path / "src", tmp_path / "arm"
    assert main(["train", "--out", str(src), "--epochs", "1", *ARGS, *adv]) == 0
    ck = str(src / "checkpoint.pt")
    # A disc-lr of its own for the arm: the carried optimiser state takes the new rate.
    arm_adv = [*adv[:-1], "1e-4"]
    assert main(["train", "--out", str(arm), "--epochs", "1", "--init", ck, *ARGS, *arm_adv,
                 "--seed", "1", "--epoch-size", "16"]) == 0
    s, a = read_checkpoint(src / "checkpoint.pt"), read_checkpoint(arm / "checkpoint.pt")
    # One discriminator step from the carried weights: close to the source's, far from a
    # fresh initialisation's (DCGAN normal(0, 0.02)).
    k = "net.0.weight"
    step = (a["disc"][k] - s["disc"][k]).abs().max().item()
    assert 0 < step < 0.01
    assert a["disc_optimizer"]["param_groups"][0]["lr"] == 1e-4
    # A discriminator of another shape is refused, naming the options.
    assert main(["train", "--out", str(tmp_path / "bad"), "--epochs", "1", "--init", ck,
                 *ARGS, "--adv-weight", "0.5", "--disc-channels", "4", "--disc-layers",
                 "2"]) == 2
