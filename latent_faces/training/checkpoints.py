"""Training runs on disk: the run configuration, checkpoints and their provenance.

A checkpoint (``RUN/checkpoint.pt``) is a dict: ``model`` and ``optimizer`` state, the 0-based
``epoch`` just finished, ``config`` (:meth:`TrainConfig.to_dict`), ``history`` (the rows of
``loss.csv``), ``sessions`` (one per training process: command, epochs, CPU seconds, git
commit) and, for runs with an adversarial term, ``disc`` and ``disc_optimizer``.
:func:`load_model` is what evaluation, the study and the bench use to get a trained model
back.
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from scurve_geom.cli_common.atomic import write_atomically

from .models import ConvAutoencoder, ModelConfig

__all__ = ["CHECKPOINT", "TrainConfig", "git_commit", "load_model", "model_from",
           "read_checkpoint", "run_summary", "write_checkpoint"]

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainConfig:
    """Everything a training run depends on (stored in the checkpoint)."""

    out: str
    model: ModelConfig = field(default_factory=ModelConfig)
    task: str = "reconstruct"
    recon_loss: str = "mse"
    r_loss_factor: float = 10000.0
    kl_weight: float = 1.0
    edge_weight: float = 0.0  # gradient-difference term, in units of the per-pixel recon loss
    lr: float = 5e-4
    batch_size: int = 32
    epochs: int = 10
    seed: int = 0
    n_train: int = 10000
    n_test: int = 500
    data: str | None = None  # image folder; None = synthetic faces
    init: str | None = None  # checkpoint whose weights start a new run (e.g. for a new task)
    threads: int = 2
    progress: bool = True
    lr_schedule: str = "constant"  # or "cosine": lr → lr_min over lr_horizon epochs
    lr_min: float = 0.0
    lr_horizon: int = 0  # epochs of the cosine; 0 = epochs (resolved when a run starts)
    epoch_size: int = 0  # images per epoch drawn from the n_train pool; 0 = whole pool
    command: str = ""  # the command line that started the run (provenance)
    # Adversarial term (adversarial.py): scale of the adaptive weight, 0 = no discriminator;
    # optimiser step it starts at (warm-up); the patch discriminator's lr and size.
    adv_weight: float = 0.0
    adv_start: int = 0
    disc_lr: float = 1e-4
    disc_channels: int = 64
    disc_layers: int = 3
    # The adversarial term and the discriminator also see decodes of latents drawn from the
    # batch's own Gaussian (adversarial.batch_prior_latents): the samples, not only the
    # reconstructions, are pushed towards faces.
    adv_prior_samples: bool = False
    # Warm start (warmstart.py): an exported resup decoder file loaded into the decoder before
    # ``init`` (if any) is applied; the decoder's weights stay fixed for the first
    # ``freeze_decoder_steps`` optimiser steps (the encoder learns to use it).
    init_decoder: str | None = None
    freeze_decoder_steps: int = 0
    # Grid-spectrum term (spectral.py): weight of the reconstructions' excess peaks at the
    # decoder's upsampling frequencies over their targets', 0 = off.
    spectral_weight: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = dict(d)
        d["model"] = ModelConfig.from_dict(d["model"])
        return cls(**d)


def git_commit() -> str:
    """``git describe``-like id of the source tree (commit, ``-dirty`` if modified)."""
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--",
                                "latent_faces"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (rev or "unknown") + ("-dirty" if dirty and rev else "")


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint dict stored at ``path`` (on the CPU).

    Raises
    ------
    ValueError
        If the file is truncated, not a torch file, or not a training checkpoint (one line
        naming the file).
    """
    # weights_only=False: the dict holds the config, history and sessions, not only tensors;
    # checkpoints are this project's own files.
    try:
        ck = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        first = (str(e).strip().splitlines() or [type(e).__name__])[0].split(". ")[0]
        raise ValueError(f"{path}: not a readable training checkpoint ({first})") from None
    if not isinstance(ck, dict) or not {"config", "model"} <= set(ck):
        raise ValueError(f"{path}: not a latent_faces training checkpoint (no config/model)")
    return ck


def write_checkpoint(path: str | Path, state: dict) -> None:
    """Write ``state`` to ``path`` under a temporary name, then rename: a kill mid-save never
    leaves a broken checkpoint."""
    write_atomically(path, lambda tmp: torch.save(state, tmp))


def load_model(path: str | Path) -> tuple[ConvAutoencoder, TrainConfig]:
    """Model (eval mode) and training config from a checkpoint file."""
    return model_from(read_checkpoint(path))


def model_from(ck: dict) -> tuple[ConvAutoencoder, TrainConfig]:
    """Model (eval mode) and training config from a checkpoint dict (:func:`read_checkpoint`)."""
    cfg = TrainConfig.from_dict(ck["config"])
    model = ConvAutoencoder(cfg.model)
    model.load_state_dict(ck["model"])
    model.eval()
    return model, cfg


def run_summary(history: list[dict], sessions: list[dict]) -> dict:
    """Provenance of a run for export headers: sessions (command, epochs, CPU seconds, git
    commit), epochs trained, images seen, CPU-hours."""
    cpu = sum(float(r.get("cpu_seconds") or 0) for r in history)
    return {"sessions": sessions, "epochs_trained": len(history),
            "images_seen": int(sum(int(r["images"]) for r in history)),
            "cpu_hours": round(cpu / 3600, 4),
            "cpu_hours_note": "process CPU time of the training epochs (incl. evaluation); "
                              "epochs logged before cpu_seconds existed count 0"}
