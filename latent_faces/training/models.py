"""The post's convolutional autoencoder and VAE (PyTorch), and the images they take.

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

``decoder="resup"`` (the shipped generator, not Foster's) replaces the transposed convs by
stages of [nearest 2× upsample → Conv2d k3 → BatchNorm → LeakyReLU → residual blocks], which
avoid the checkerboard of stride-2 transposed convs, and ends with a k3 conv to 3·4 channels
and a 2× pixel shuffle (sub-pixel conv): the last, 96 × 96 step costs as little as Foster's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..numpy_decoder import FINAL_STAGES, MAX_REFINE, UPSAMPLERS

__all__ = ["ConvAutoencoder", "Decoder", "Encoder", "ModelConfig", "ResUpDecoder", "kl_divergence",
           "loss_terms", "to_images", "to_tensor"]



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
    # "foster": the reference decoder above; "resup": upsample + conv + residual blocks, with
    # dec_filters the channels of the stages at 12, 24, 48 px (then pixel shuffle to 96).
    decoder: str = "foster"
    res_blocks: tuple[int, ...] = ()  # resup: residual blocks per stage
    fc_channels: int = 0  # resup: channels of the 6 × 6 map after fc (0: enc_filters[-1])
    # resup: "batch" (BatchNorm after every decoder conv) or "none" (a decoder warm-started
    # from an exported file, whose BatchNorm is already folded into the convs)
    dec_norm: str = "batch"
    # resup: the last 2× step, "shuffle" (3 × 3 conv to 12 channels, pixel shuffle) or
    # "upconv" (nearest 2× upsampling, 3 × 3 conv to 3 channels: no 2-px checkerboard) or
    # "bilinear" (bilinear 2×, StyleGAN's [1, 3, 3, 1] filter, then the same conv: the images
    # nearest upsampling leaves of low frequencies near the output's Nyquist are far weaker,
    # e.g. 690× in power at 42 cycles from 6)
    final: str = "shuffle"
    # resup: how each stage doubles its input, "nearest" or "bilinear" (as ``final``'s
    # bilinear: nearest upsampling at 48 px leaves grid peaks at 18 cycles that an
    # adversarial term sharpens)
    upsample: str = "nearest"
    # resup with final "upconv"/"bilinear": channels of a full-resolution refinement.  The
    # last conv then gives 3 + refine channels; conv3x3(3 + refine → refine) → LeakyReLU →
    # conv3x3(refine → 3), its last conv zero at the start, is added to the RGB logits.
    # 0: none.  The stage before works at 48 px, so without it no layer sees 96 px features.
    refine: int = 0

    def __post_init__(self) -> None:
        if self.decoder not in ("foster", "resup"):
            raise ValueError(f"decoder must be 'foster' or 'resup', not {self.decoder!r}")
        if self.dec_norm not in ("batch", "none"):
            raise ValueError(f"dec_norm must be 'batch' or 'none', not {self.dec_norm!r}")
        if self.dec_norm == "none" and self.decoder != "resup":
            raise ValueError("dec_norm 'none' needs decoder 'resup'")
        if self.final not in FINAL_STAGES:
            raise ValueError(f"final must be one of {', '.join(FINAL_STAGES)}, "
                             f"not {self.final!r}")
        if self.final != "shuffle" and self.decoder != "resup":
            raise ValueError(f"final {self.final!r} needs decoder 'resup'")
        if self.upsample not in UPSAMPLERS:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLERS)}, "
                             f"not {self.upsample!r}")
        if self.upsample != "nearest" and self.decoder != "resup":
            raise ValueError(f"upsample {self.upsample!r} needs decoder 'resup'")
        if not 0 <= self.refine <= MAX_REFINE:
            raise ValueError(f"refine must be in [0, {MAX_REFINE}], not {self.refine}")
        if self.refine and (self.decoder != "resup" or self.final == "shuffle"):
            raise ValueError("refine needs decoder 'resup' with final 'upconv' or 'bilinear'")
        if self.decoder == "resup":
            if len(self.dec_filters) != len(self.enc_filters) - 1:
                raise ValueError(f"dec_filters {self.dec_filters}: resup needs "
                                 f"{len(self.enc_filters) - 1} stages")
            if len(self.res_blocks) != len(self.dec_filters):
                raise ValueError(f"res_blocks {self.res_blocks}: need one count per stage "
                                 f"of dec_filters {self.dec_filters}")

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("enc_filters", "dec_filters", "res_blocks"):
            d[k] = list(getattr(self, k))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        d = dict(d)
        for k in ("enc_filters", "dec_filters", "res_blocks"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)

    @property
    def c0(self) -> int:
        """Channels of the 6 × 6 map the decoder's fc layer produces."""
        return self.fc_channels or self.enc_filters[-1]

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


def _norm(c: int, on: bool) -> nn.Module:
    return nn.BatchNorm2d(c) if on else nn.Identity()


class ResBlock(nn.Module):
    """``x + BN(conv(LReLU(BN(conv(x)))))`` followed by LeakyReLU; channels kept."""

    def __init__(self, c: int, slope: float, norm: bool = True) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.bn1 = _norm(c, norm)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.bn2 = _norm(c, norm)
        self.slope = slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.bn1(self.conv1(x)), self.slope)
        return F.leaky_relu(x + self.bn2(self.conv2(h)), self.slope)


class ResUpDecoder(nn.Module):
    """Latents ``(B, z_dim)`` → images ``(B, 3, 96, 96)``: upsample + conv + residual stages.

    fc → (c0, 6, 6); per stage: nearest 2× → Conv2d k3 → BN (or none) → LeakyReLU →
    ``res_blocks[i]`` × :class:`ResBlock`; then Conv2d k3 to 12 channels → pixel shuffle 2× →
    sigmoid, or (``final`` "upconv" / "bilinear") nearest / bilinear 2× → Conv2d k3 to 3
    channels → sigmoid.  ``upsample`` "bilinear" makes the stages' 2× steps bilinear;
    ``refine`` > 0 adds the full-resolution block described at :class:`ModelConfig`.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.fc = nn.Linear(cfg.z_dim, cfg.c0 * cfg.base * cfg.base)
        self.stages = nn.ModuleList()
        c_in = cfg.c0
        norm = cfg.dec_norm == "batch"
        for c, n_res in zip(cfg.dec_filters, cfg.res_blocks, strict=True):
            self.stages.append(nn.ModuleDict({
                "conv": nn.Conv2d(c_in, c, 3, padding=1), "bn": _norm(c, norm),
                "res": nn.Sequential(*[ResBlock(c, cfg.leaky_slope, norm)
                                       for _ in range(n_res)])}))
            c_in = c
        self.out = nn.Conv2d(c_in, 3 * 4 if cfg.final == "shuffle" else 3 + cfg.refine, 3,
                             padding=1)
        if cfg.refine:
            self.refine1 = nn.Conv2d(3 + cfg.refine, cfg.refine, 3, padding=1)
            self.refine2 = nn.Conv2d(cfg.refine, 3, 3, padding=1)
            # Zero: a refined decoder starts as the one it was grown from (ReZero-style).
            nn.init.zeros_(self.refine2.weight)
            nn.init.zeros_(self.refine2.bias)

    @staticmethod
    def _up(h: torch.Tensor, mode: str) -> torch.Tensor:
        if mode == "bilinear":
            return F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        return F.interpolate(h, scale_factor=2, mode="nearest")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        cfg, b = self.cfg, self.cfg.base
        h = F.leaky_relu(self.fc(z), cfg.leaky_slope).view(-1, cfg.c0, b, b)
        for st in self.stages:
            h = self._up(h, cfg.upsample)
            h = F.leaky_relu(st["bn"](st["conv"](h)), cfg.leaky_slope)
            h = st["res"](h)
        if cfg.final == "shuffle":
            return torch.sigmoid(F.pixel_shuffle(self.out(h), 2))
        y = self.out(self._up(h, "nearest" if cfg.final == "upconv" else "bilinear"))
        if not cfg.refine:
            return torch.sigmoid(y)
        t = F.leaky_relu(self.refine1(F.leaky_relu(y, cfg.leaky_slope)), cfg.leaky_slope)
        return torch.sigmoid(y[:, :3] + self.refine2(t))


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
        self.decoder: nn.Module = (ResUpDecoder(self.cfg) if self.cfg.decoder == "resup"
                                   else Decoder(self.cfg))

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


def gradient_difference(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Gradient-difference loss (Mathieu et al. 2016), per sample: ``(B,)``.

    Mean absolute difference of the horizontal and vertical finite differences of
    ``recon`` and ``target`` (``(B, C, H, W)``).  MSE rewards averaging what the decoder
    cannot pin down (the exact place of an edge), and the average is blur; an L1 penalty on
    missing or extra edges does not.
    """
    dx = (recon[..., :, 1:] - recon[..., :, :-1]) - (target[..., :, 1:] - target[..., :, :-1])
    dy = (recon[..., 1:, :] - recon[..., :-1, :]) - (target[..., 1:, :] - target[..., :-1, :])
    return dx.abs().flatten(1).mean(1) + dy.abs().flatten(1).mean(1)


def loss_terms(recon: torch.Tensor, target: torch.Tensor, mu: torch.Tensor,
               logvar: torch.Tensor | None, recon_loss: str = "mse",
               r_loss_factor: float = 10000.0, kl_weight: float = 1.0,
               edge_weight: float = 0.0
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Total loss and its parts, each averaged over the batch.

    ``total = r_loss_factor · (mean-per-pixel reconstruction loss + edge_weight ·``
    :func:`gradient_difference` ``) + kl_weight · KL``.
    Foster's VAE is ``mse``, 10000, 1, 0; the post's "almost AE" is ``bce``, 1, 1e-6, 0.

    Returns
    -------
    total, recon, kl : scalar tensors (recon is the per-pixel mean, unscaled)
    """
    if recon_loss == "mse":
        r = F.mse_loss(recon, target, reduction="none").flatten(1).mean(1)
    elif recon_loss == "l1":
        r = F.l1_loss(recon, target, reduction="none").flatten(1).mean(1)
    elif recon_loss == "bce":
        r = F.binary_cross_entropy(recon.clamp(1e-6, 1 - 1e-6), target,
                                   reduction="none").flatten(1).mean(1)
    else:
        raise ValueError(f"recon_loss must be 'mse', 'l1' or 'bce', not {recon_loss!r}")
    kl = kl_divergence(mu, logvar)
    total = r_loss_factor * r + kl_weight * kl
    if edge_weight:  # skipped at 0, so Foster's losses cost what they did
        total = total + r_loss_factor * edge_weight * gradient_difference(recon, target)
    return total.mean(), r.mean(), kl.mean()


def to_tensor(x: np.ndarray) -> torch.Tensor:
    """``(B, H, W, 3)`` uint8 or float in [0, 1] → ``(B, 3, H, W)`` float32 tensor."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2), np.float32))


def to_images(t: torch.Tensor) -> np.ndarray:
    """``(B, 3, H, W)`` tensor → ``(B, H, W, 3)`` float32 array (the inverse of
    :func:`to_tensor` for float images)."""
    return t.detach().cpu().numpy().transpose(0, 2, 3, 1)
