"""Training loop for the AE/VAE: seeded, resumable, logged to CSV and a PNG plot.

Reproducibility: the epoch's shuffle and corruption noise come from numpy generators seeded
with ``(seed, epoch)``, and torch's global generator (dropout, VAE sampling) is re-seeded from
``(seed, epoch)`` at the start of every epoch.  A run resumed from an epoch checkpoint therefore
continues exactly as the uninterrupted run would.
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image
from tqdm import tqdm

from scurve_geom.cli_common.atomic import write_atomically, write_text_atomically

from .adversarial import (
    PatchDiscriminator,
    adaptive_weight,
    adversarial_on,
    batch_prior_latents,
    generator_loss,
    hinge_d_loss,
    last_layer,
)
from .checkpoints import (
    CHECKPOINT,
    TrainConfig,
    git_commit,
    read_checkpoint,
    run_summary,
    write_checkpoint,
)
from .data import ImageFolderStream, synthetic_split
from .export import export_decoder
from .models import ConvAutoencoder, loss_terms, to_images, to_tensor
from .spectral import grid_excess_loss
from .tasks import TASKS, corrupt
from .warmstart import grow_refine, load_decoder_file, shuffle_to_upconv

__all__ = ["lr_at", "train"]

LOG_CSV = "loss.csv"
LOG_FIELDS = ["epoch", "step", "images", "train_loss", "train_recon", "train_kl",
              "test_loss", "test_recon", "test_kl", "seconds", "images_per_s", "skipped",
              "lr", "cpu_seconds", "train_g_loss", "train_d_loss", "adv_lambda",
              "train_spectral"]


def lr_at(cfg: TrainConfig, epoch: int) -> float:
    """Learning rate of (0-based) ``epoch``: a pure function of the config, so resuming from
    any epoch checkpoint continues the same schedule."""
    if cfg.lr_schedule == "constant":
        return cfg.lr
    if cfg.lr_schedule == "cosine":
        t = min(epoch / max(cfg.lr_horizon, 1), 1.0)
        return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * t))
    raise ValueError(f"lr_schedule must be 'constant' or 'cosine', not {cfg.lr_schedule!r}")


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.default_rng([seed, epoch]).integers(2**31))


class _Data:
    """Train batches (in-memory synthetic or streamed folder) and an in-memory test set."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.skipped_test = 0
        if cfg.data is None:
            self.train_arr, self.test = synthetic_split(cfg.n_train, cfg.n_test, cfg.seed,
                                                        Path(cfg.out) / "cache")
            self.stream = None
        else:
            self.train_arr = None
            self.stream = ImageFolderStream(cfg.data, "train", limit=cfg.n_train)
            test_stream = ImageFolderStream(cfg.data, "test", limit=cfg.n_test)
            imgs = list(test_stream.iter_images())
            if not imgs and len(self.stream) == 0:
                raise ValueError(f"no readable images in {cfg.data}")
            if not imgs:
                share = round(100 * test_stream.test_fraction)
                raise ValueError(
                    f"{cfg.data}: {len(self.stream)} images in the train split, none readable "
                    f"in the test split (a hash of each file name puts about {share} % of "
                    f"the files there): add images, at least {round(100 / max(share, 1))}")
            if len(self.stream) == 0:
                raise ValueError(f"{cfg.data}: no images in the train split, "
                                 f"{len(imgs)} in the test split: add images")
            self.test = np.stack(imgs)
            self.skipped_test = test_stream.skipped

    def skipped_train(self) -> int:
        """Unreadable training files met so far (counted again every epoch)."""
        return self.stream.skipped if self.stream is not None else 0

    def n_train(self) -> int:
        return len(self.train_arr) if self.train_arr is not None else len(self.stream)

    def batches(self, epoch: int):
        seed = _epoch_seed(self.cfg.seed, epoch)
        if self.train_arr is not None:
            order = np.random.default_rng(seed).permutation(len(self.train_arr))
            if self.cfg.epoch_size:
                order = order[: self.cfg.epoch_size]
            bs = self.cfg.batch_size
            for i in range(0, len(order) - bs + 1, bs):  # drop the ragged last batch
                yield self.train_arr[np.sort(order[i:i + bs])]
        else:
            for i, b in enumerate(self.stream.iter_batches(self.cfg.batch_size, seed,
                                                           drop_last=True)):
                if self.cfg.epoch_size and i >= self.cfg.epoch_size // self.cfg.batch_size:
                    break
                yield b

    def batches_per_epoch(self) -> int:
        n = min(self.n_train(), self.cfg.epoch_size or self.n_train())
        return n // self.cfg.batch_size


def _evaluate(model: ConvAutoencoder, cfg: TrainConfig, test: np.ndarray) -> tuple[float, ...]:
    model.eval()
    rng = np.random.default_rng([cfg.seed, 10**6])  # the same corrupted test inputs every epoch
    tot = np.zeros(3)
    n = 0
    with torch.no_grad():
        for i in range(0, len(test), 100):
            clean = test[i:i + 100].astype(np.float32) / 255.0
            x = to_tensor(corrupt(clean, cfg.task, rng))
            y = to_tensor(clean)
            recon, mu, logvar = model(x)
            terms = loss_terms(recon, y, mu, logvar, cfg.recon_loss, cfg.r_loss_factor,
                               cfg.kl_weight, cfg.edge_weight)
            tot += np.array([t.item() for t in terms]) * len(x)
            n += len(x)
    model.train()
    return tuple(tot / n)


def _plot(out: Path, rows: list[dict]) -> None:
    ep = [int(r["epoch"]) for r in rows]
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots(1, 2)
    ax[0].plot(ep, [float(r["train_loss"]) for r in rows], "o-", label="train")
    ax[0].plot(ep, [float(r["test_loss"]) for r in rows], "s-", label="test")
    ax[0].set(xlabel="epoch", ylabel="total loss", title="loss")
    ax[0].legend()
    ax[1].plot(ep, [float(r["train_recon"]) for r in rows], "o-", label="train")
    ax[1].plot(ep, [float(r["test_recon"]) for r in rows], "s-", label="test")
    ax[1].set(xlabel="epoch", ylabel="per-pixel recon loss", title="reconstruction")
    ax[1].legend()
    fig.tight_layout()
    write_atomically(out / "loss.png", lambda tmp: fig.savefig(tmp, dpi=80))


def save_samples(model: ConvAutoencoder, cfg: TrainConfig, test: np.ndarray, path: Path,
                 n: int = 8) -> None:
    """Rows: clean test images, network input (corrupted), output."""
    rng = np.random.default_rng([cfg.seed, 10**6])
    clean = test[:n].astype(np.float32) / 255.0
    x = corrupt(clean, cfg.task, rng)
    model.eval()
    with torch.no_grad():
        y = to_images(model(to_tensor(x))[0])
    rows = [np.concatenate(list(a), axis=1) for a in (clean, x, y)]
    im = Image.fromarray(np.round(np.concatenate(rows, 0) * 255).astype(np.uint8))
    write_atomically(path, lambda tmp: im.save(tmp, format="PNG"))


def train(cfg: TrainConfig, resume: bool = False, lr_horizon: int | None = None) -> Path:
    """Train (or resume) and return the output folder.

    Writes ``checkpoint.pt`` after every epoch, ``loss.csv``, ``loss.png``, ``samples.png``,
    ``config.json`` and the numpy decoder ``decoder.npz``.  On ``resume`` the checkpoint's
    config is used except for ``epochs``, ``threads``, ``progress`` and (if given)
    ``lr_horizon``.
    """
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, cfg.threads))
    start_epoch = 0
    rows: list[dict] = []
    sessions: list[dict] = []
    ck_path = out / CHECKPOINT
    command = cfg.command
    if resume:
        if not ck_path.exists():
            raise FileNotFoundError(f"nothing to resume: {ck_path} does not exist")
        ck = read_checkpoint(ck_path)
        new = cfg
        cfg = TrainConfig.from_dict(ck["config"])
        cfg.epochs, cfg.threads, cfg.progress = new.epochs, new.threads, new.progress
        if lr_horizon:
            cfg.lr_horizon = lr_horizon
        start_epoch = ck["epoch"] + 1
        rows = ck["history"]
        sessions = ck.get("sessions", [])
    elif not cfg.lr_horizon:
        cfg.lr_horizon = lr_horizon or cfg.epochs
    session = {"command": command, "start_epoch": start_epoch, "end_epoch": start_epoch,
               "cpu_seconds": 0.0, "git_commit": git_commit(), "threads": cfg.threads,
               "torch": torch.__version__}
    sessions = [*sessions, session]
    if cfg.task not in TASKS:
        raise ValueError(f"unknown task {cfg.task!r}")
    torch.manual_seed(cfg.seed)
    model = ConvAutoencoder(cfg.model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    if resume:
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
    if not resume and cfg.init_decoder is not None:
        load_decoder_file(model.decoder, cfg.init_decoder)
    if not resume and cfg.init is not None:
        init = read_checkpoint(cfg.init)
        state = init["model"]
        if (cfg.model.final != "shuffle"
                and init["config"]["model"].get("final", "shuffle") == "shuffle"
                and "decoder.out.weight" in state):
            # A pixel-shuffle run starts an upconv (or bilinear) one: its last stage's
            # least-squares fit.
            state = dict(state)
            state["decoder.out.weight"], state["decoder.out.bias"] = shuffle_to_upconv(
                state["decoder.out.weight"], state["decoder.out.bias"])
        if cfg.model.refine and not init["config"]["model"].get("refine", 0):
            state = grow_refine(state, model.state_dict())
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise ValueError(f"{cfg.init}: weights do not fit this model configuration "
                             f"({str(e).splitlines()[0]})") from None
    disc, d_opt = None, None
    if cfg.adv_weight > 0:
        disc = PatchDiscriminator(cfg.disc_channels, cfg.disc_layers)
        # Adam with β1 = 0.5, as VQGAN trains both of its networks.
        d_opt = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr, betas=(0.5, 0.9))
        if resume and "disc" in ck:
            disc.load_state_dict(ck["disc"])
            d_opt.load_state_dict(ck["disc_optimizer"])
        elif not resume and cfg.init is not None and "disc" in init:
            # A fine-tune arm from an adversarial run keeps its trained discriminator: a new
            # one would start from scratch against a sharp decoder (the warm-up VQGAN avoids).
            try:
                disc.load_state_dict(init["disc"])
            except RuntimeError as e:
                raise ValueError(f"{cfg.init}: its discriminator does not fit --disc-channels/"
                                 f"--disc-layers ({str(e).splitlines()[0]})") from None
            d_opt.load_state_dict(init["disc_optimizer"])
            for g in d_opt.param_groups:
                g["lr"] = cfg.disc_lr
        disc.train()
    write_text_atomically(out / "config.json", json.dumps(cfg.to_dict(), indent=1))
    data = _Data(cfg)
    step = int(rows[-1]["step"]) if rows else 0
    model.train()
    frozen: bool | None = None
    for epoch in range(start_epoch, cfg.epochs):
        lr = lr_at(cfg, epoch)
        for g in opt.param_groups:
            g["lr"] = lr
        cpu0 = time.process_time()
        torch.manual_seed(_epoch_seed(cfg.seed, epoch) + 1)
        crng = np.random.default_rng([cfg.seed, epoch, 1])
        skipped_before = data.skipped_train()
        sums = np.zeros(3)
        adv_sums = np.zeros(3)  # generator loss, discriminator loss, λ
        spec_sum = 0.0
        n = n_adv = 0
        t0 = time.perf_counter()
        bar = tqdm(data.batches(epoch), total=data.batches_per_epoch(),
                   desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not cfg.progress,
                   leave=False)
        for batch in bar:
            clean = batch.astype(np.float32) / 255.0
            x = to_tensor(corrupt(clean, cfg.task, crng))
            y = to_tensor(clean)
            if frozen != (step < cfg.freeze_decoder_steps):
                # Frozen parameters get no gradient, so Adam leaves them (and their
                # moments) untouched.
                frozen = step < cfg.freeze_decoder_steps
                model.decoder.requires_grad_(not frozen)
            recon, mu, logvar = model(x)
            loss, r, kl = loss_terms(recon, y, mu, logvar, cfg.recon_loss, cfg.r_loss_factor,
                                     cfg.kl_weight, cfg.edge_weight)
            # The adaptive weight needs the decoder's gradients: no adversarial term while
            # the decoder is frozen.
            adv = disc is not None and not frozen and adversarial_on(step, cfg.adv_start)
            objective = loss
            fakes = recon
            if adv and cfg.adv_prior_samples:
                fakes = torch.cat([recon, model.decoder(batch_prior_latents(mu, logvar))])
            if adv:
                g_loss = generator_loss(disc(fakes))
                # The KL term has no gradient at the decoder's last layer: the weight matches
                # the adversarial gradient to the reconstruction's there.
                lam = adaptive_weight(loss, g_loss, last_layer(model.decoder), cfg.adv_weight)
                objective = loss + lam * g_loss
            if cfg.spectral_weight:
                spec = grid_excess_loss(recon, y, cfg.model.base)
                objective = objective + cfg.spectral_weight * spec
                spec_sum += spec.item() * len(x)
            opt.zero_grad(set_to_none=True)
            objective.backward()
            opt.step()
            if adv:
                d_loss = hinge_d_loss(disc(y), disc(fakes.detach()))
                d_opt.zero_grad(set_to_none=True)  # also drops what objective left in D
                d_loss.backward()
                d_opt.step()
                adv_sums += np.array([g_loss.item(), d_loss.item(), lam.item()]) * len(x)
                n_adv += len(x)
            step += 1
            sums += np.array([loss.item(), r.item(), kl.item()]) * len(x)
            n += len(x)
            bar.set_postfix(loss=f"{sums[0] / n:.4g}")
        if n == 0:
            raise ValueError("no training batch: fewer readable images than one batch")
        dt = time.perf_counter() - t0
        test = _evaluate(model, cfg, data.test)
        skipped = data.skipped_train() - skipped_before
        if epoch == start_epoch:
            skipped += data.skipped_test
        cpu = time.process_time() - cpu0
        rows.append(dict(zip(LOG_FIELDS, [epoch + 1, step, n, *(sums / n), *test,
                                          round(dt, 2), round(n / dt, 1), skipped, lr,
                                          round(cpu, 2),
                                          *(adv_sums / n_adv if n_adv else ["", "", ""]),
                                          spec_sum / n if cfg.spectral_weight else ""],
                                 strict=True)))
        session["end_epoch"] = epoch + 1
        session["cpu_seconds"] = round(session["cpu_seconds"] + cpu, 2)
        state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                 "config": cfg.to_dict(), "history": rows, "sessions": sessions}
        if disc is not None:
            state.update(disc=disc.state_dict(), disc_optimizer=d_opt.state_dict())
        write_checkpoint(ck_path, state)
        _write_log(out, rows)
        if cfg.progress:
            print(f"epoch {epoch + 1}: train {sums[0] / n:.5g}  test {test[0]:.5g}  "
                  f"recon {test[1]:.5g}  kl {test[2]:.4g}  lr {lr:.3g}  {n / dt:.0f} img/s"
                  + (f"  G {adv_sums[0] / n_adv:.3g}  D {adv_sums[1] / n_adv:.3g}  "
                     f"λ {adv_sums[2] / n_adv:.3g}" if n_adv else ""), flush=True)
        if skipped:
            # Corrupt files never stop a run, but the user must hear about them.
            print(f"epoch {epoch + 1}: skipped {skipped} unreadable image file(s)", flush=True)
    _write_log(out, rows)
    if rows:
        _plot(out, rows)
    save_samples(model, cfg, data.test, out / "samples.png")
    export_decoder(model.decoder, out / "decoder.npz",
                   meta={"train_config": cfg.to_dict(), **run_summary(rows, sessions)})
    return out


def _write_log(out: Path, rows: list[dict]) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, LOG_FIELDS, restval="")  # older runs' rows lack new columns
            w.writeheader()
            w.writerows(rows)

    write_atomically(out / LOG_CSV, write)
