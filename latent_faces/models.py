"""The post's convolutional autoencoder and VAE (PyTorch; imported lazily by the package).

Architecture after Foster, *Generative Deep Learning*, CelebA VAE, re-implemented for torch:

* encoder: 4 × [Conv2d(k=3, s=2, p=1) → BatchNorm → LeakyReLU → Dropout(0.25)] with
  32/64/64/64 filters, 96 → 48 → 24 → 12 → 6, flatten 6·6·64 = 2304, Linear → μ (and
  log σ² for the VAE);
* decoder: Linear → reshape (64, 6, 6) → 3 × [ConvTranspose2d(k=3, s=2, p=1, output_padding=1)
  → BatchNorm → LeakyReLU → Dropout(0.25)] with 64/64/32 filters → ConvTranspose2d(32 → 3) →
  sigmoid, 6 → 12 → 24 → 48 → 96.

LeakyReLU slope 0.3 by default: it is the Keras default the reference network was built and
tuned with (torch's 0.01 default would make it almost a ReLU and a different network).

An AE and a VAE share all of this; ``variational=True`` adds the log σ² head and the
reparameterised sample.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ConvAutoencoder", "Decoder", "Encoder", "ModelConfig", "kl_divergence", "loss_terms"]


@dataclass
class ModelConfig:
    """Hyper-parameters of :class:`ConvAutoencoder` (stored in checkpoints and exports)."""

    z_dim: int = 200
    variational: bool = True
    enc_filters: tuple[int, ...] = (32, 64, 64, 64)
    dec_filters: tuple[int, ...] = (64, 64, 32, 3)
    leaky_slope: float = 0.3
    dropout: float = 0.25
    image_size: int = 96

    def to_dict(self) -> dict:
        d = asdict(self)
        d["enc_filters"] = list(self.enc_filters)
        d["dec_filters"] = list(self.dec_filters)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        d = dict(d)
        d["enc_filters"] = tuple(d["enc_filters"])
        d["dec_filters"] = tuple(d["dec_filters"])
        return cls(**d)

    @property
    def base(self) -> int:
        """Spatial side of the innermost feature map (96 / 2⁴ = 6)."""
        return self.image_size // 2 ** len(self.enc_filters)


class Encoder(nn.Module):
    """Images ``(B, 3, 96, 96)`` float in [0, 1] → μ, log σ² ``(B, z_dim)`` (log σ² None for AE)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for c in cfg.enc_filters:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.BatchNorm2d(c),
                       nn.LeakyReLU(cfg.leaky_slope), nn.Dropout(cfg.dropout)]
            c_in = c
        self.conv = nn.Sequential(*layers)
        flat = c_in * cfg.base * cfg.base
        self.mu = nn.Linear(flat, cfg.z_dim)
        self.logvar = nn.Linear(flat, cfg.z_dim) if cfg.variational else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.conv(x).flatten(1)
        return self.mu(h), (self.logvar(h) if self.logvar is not None else None)


class Decoder(nn.Module):
    """Latents ``(B, z_dim)`` → images ``(B, 3, 96, 96)`` in (0, 1)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c0 = cfg.enc_filters[-1]
        self.fc = nn.Linear(cfg.z_dim, c0 * cfg.base * cfg.base)
        layers: list[nn.Module] = []
        c_in = c0
        for i, c in enumerate(cfg.dec_filters):
            layers.append(nn.ConvTranspose2d(c_in, c, 3, stride=2, padding=1, output_padding=1))
            if i < len(cfg.dec_filters) - 1:
                layers += [nn.BatchNorm2d(c), nn.LeakyReLU(cfg.leaky_slope),
                           nn.Dropout(cfg.dropout)]
            c_in = c
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        c0, b = self.cfg.enc_filters[-1], self.cfg.base
        return torch.sigmoid(self.deconv(self.fc(z).view(-1, c0, b, b)))


class ConvAutoencoder(nn.Module):
    """AE (``variational=False``) or VAE sharing encoder and decoder code."""

    def __init__(self, cfg: ModelConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or ModelConfig()
        self.encoder = Encoder(self.cfg)
        self.decoder = Decoder(self.cfg)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Return ``(reconstruction, mu, logvar)``; z is sampled only for a VAE in training."""
        mu, logvar = self.encoder(x)
        z = mu
        if logvar is not None and self.training:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor | None) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) summed over z, per sample: ``(B,)``; zeros for an AE."""
    if logvar is None:
        return torch.zeros(mu.shape[0], device=mu.device)
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


def loss_terms(recon: torch.Tensor, target: torch.Tensor, mu: torch.Tensor,
               logvar: torch.Tensor | None, recon_loss: str = "mse",
               r_loss_factor: float = 10000.0, kl_weight: float = 1.0
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Total loss and its parts, each averaged over the batch.

    ``total = r_loss_factor · mean-per-pixel reconstruction loss + kl_weight · KL``.
    Foster's VAE is ``mse``, 10000, 1; the post's "almost AE" is ``bce``, 1, 1e-6.

    Returns
    -------
    total, recon, kl : scalar tensors (recon is the per-pixel mean, unscaled)
    """
    if recon_loss == "mse":
        r = F.mse_loss(recon, target, reduction="none").flatten(1).mean(1)
    elif recon_loss == "bce":
        r = F.binary_cross_entropy(recon.clamp(1e-6, 1 - 1e-6), target,
                                   reduction="none").flatten(1).mean(1)
    else:
        raise ValueError(f"recon_loss must be 'mse' or 'bce', not {recon_loss!r}")
    kl = kl_divergence(mu, logvar)
    total = r_loss_factor * r + kl_weight * kl
    return total.mean(), r.mean(), kl.mean()
