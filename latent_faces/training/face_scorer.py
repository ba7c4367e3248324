"""The face-plausibility classifier (torch): P(face) for 96 × 96 images.

Trained on synthetic faces against broken images made from them (:func:`score.make_negatives`);
see :mod:`latent_faces.training.score` for why it is paired with k-NN precision and recall.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .score import HELDOUT_NEGATIVES, TRAIN_NEGATIVES, make_negatives

__all__ = ["FaceScorer"]


class FaceScorer:
    """Face-plausibility classifier: ``predict(images) -> P(face)`` in [0, 1].

    Parameters
    ----------
    seed : int
        Seed for weights, batches and corruptions.
    threads : int
        torch CPU threads.
    """

    def __init__(self, seed: int = 0, threads: int = 2) -> None:
        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        self.seed = seed
        act = nn.LeakyReLU(0.2)
        # Input is 48×48 (2× box-downsampled): structure, not pixel detail, decides.
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1), act, nn.Conv2d(16, 32, 3, 2, 1), act,
            nn.Conv2d(32, 64, 3, 2, 1), act, nn.Conv2d(64, 64, 3, 2, 1), act,
            nn.Flatten(), nn.Linear(64 * 3 * 3, 64), act, nn.Linear(64, 1))

    @staticmethod
    def _blur(x, sigma: float):
        if sigma <= 0:
            return x
        r = int(np.ceil(3 * sigma))
        t = torch.arange(-r, r + 1, dtype=torch.float32)
        g = torch.exp(-(t**2) / (2 * sigma**2))
        g = (g / g.sum()).to(x)
        c = x.shape[1]
        x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"),
                     g.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"),
                        g.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)

    @staticmethod
    def _prep(x: np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(np.asarray(x, np.float32).transpose(0, 3, 1, 2)))
        return F.avg_pool2d(t, 2)

    def _augment(self, x, rng: np.random.Generator):
        # Random blur per quarter batch (applied to both classes) and random horizontal flips.
        parts = torch.chunk(x, 4)
        out = [self._blur(p, float(s)) for p, s in zip(parts, rng.choice([0, 0.5, 1.0, 1.5], 4),
                                                       strict=False)]
        x = torch.cat(out)
        flip = torch.from_numpy(rng.random(len(x)) < 0.5)
        x[flip] = x[flip].flip(-1)
        return x

    def fit(self, real: np.ndarray, steps: int = 600, batch: int = 64, lr: float = 2e-3,
            log_every: int = 100) -> list[float]:
        """Train on real faces ``real`` (N, 96, 96, 3) float in [0, 1] vs :data:`TRAIN_NEGATIVES`.

        Returns the training loss every ``log_every`` steps.
        """
        rng = np.random.default_rng([self.seed, 7])
        opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.net.train()
        losses, run = [], 0.0
        half = batch // 2
        for step in range(steps):
            pos = real[rng.integers(0, len(real), half)]
            src = real[rng.integers(0, len(real), half * 3)]
            kinds = rng.choice(len(TRAIN_NEGATIVES), half)
            neg = np.concatenate([
                make_negatives(src[i * 3:(i + 1) * 3], TRAIN_NEGATIVES[k], rng)[:1]
                for i, k in enumerate(kinds)])
            x = self._augment(self._prep(np.concatenate([pos, neg])), rng)
            y = torch.cat([torch.ones(half), torch.zeros(half)])
            loss = F.binary_cross_entropy_with_logits(self.net(x).squeeze(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            run += loss.item()
            if (step + 1) % log_every == 0:
                losses.append(run / log_every)
                run = 0.0
        self.net.eval()
        return losses

    def save(self, path, losses: list[float]) -> None:
        """Store the weights and the training-loss log."""
        torch.save({"net": self.net.state_dict(), "losses": losses, "seed": self.seed}, path)

    def load(self, path) -> list[float]:
        """Load weights written by :meth:`save`; returns the training-loss log."""
        ck = torch.load(path, map_location="cpu", weights_only=False)
        self.net.load_state_dict(ck["net"])
        self.net.eval()
        return ck["losses"]

    def predict(self, x: np.ndarray, batch: int = 200) -> np.ndarray:
        """P(face) for images (N, 96, 96, 3) float in [0, 1] → (N,) float64."""
        self.net.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(x), batch):
                out.append(torch.sigmoid(self.net(self._prep(x[i:i + batch]))).squeeze(1).numpy())
        return np.concatenate(out).astype(np.float64)

    def validate(self, real_heldout: np.ndarray, seed: int = 1) -> dict[str, dict[str, float]]:
        """Accuracy on held-out faces and every negative type (train and held-out kinds).

        Returns
        -------
        dict
            ``{"real": {...}, kind: {...}}`` with ``mean_p`` (mean P(face)) and ``acc`` (fraction
            classified correctly at 0.5); for negative kinds also ``auc`` against held-out faces.
        """
        rng = np.random.default_rng([seed, 99])
        p_real = self.predict(real_heldout)
        res = {"real": {"mean_p": float(p_real.mean()), "acc": float((p_real > 0.5).mean())}}
        for kind in TRAIN_NEGATIVES + HELDOUT_NEGATIVES:
            neg = make_negatives(real_heldout, kind, rng)
            p = self.predict(neg)
            # AUC by ranking: the probability a random face outscores a random broken image.
            auc = float((p_real[:, None] > p[None]).mean()
                        + 0.5 * (p_real[:, None] == p[None]).mean())
            res[kind] = {"mean_p": float(p.mean()), "acc": float((p < 0.5).mean()), "auc": auc,
                         "held_out_type": kind in HELDOUT_NEGATIVES}
        return res
