"""An adversarial term for the decoder: patch discriminator, hinge loss, adaptive weight.

The VQGAN recipe (Esser et al. 2021; CompVis/taming-transformers,
``taming/modules/losses/vqperceptual.py``) with its perceptual term off (no pretrained
network can be fetched here):

* a PatchGAN discriminator (pix2pix's ``NLayerDiscriminator``): strided 4 × 4 convs, one
  logit per overlapping patch, so it judges texture and edges, not the whole face;
* the hinge loss for the discriminator, ``½·(mean relu(1 − D(real)) + mean relu(1 + D(fake)))``,
  and ``−mean D(fake)`` for the generator;
* the generator term's weight set every step so that its gradient at the decoder's last
  layer has the size of the reconstruction loss's: ``λ = ‖∇_W L_rec‖ / (‖∇_W L_G‖ + 1e-4)``,
  clamped to [0, 1e4], times a fixed scale (``--adv-weight``);
* off until a warm-up step (``--adv-start``), then on: neither network gets an adversarial
  gradient before it, so the discriminator starts against a decoder that already
  reconstructs (starting it early or strong is reported to destabilise training).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["PatchDiscriminator", "adaptive_weight", "adversarial_on", "batch_prior_latents",
           "generator_loss", "hinge_d_loss", "last_layer"]


def _init(m: nn.Module) -> None:
    # DCGAN's initialisation, as pix2pix and VQGAN use it.
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class PatchDiscriminator(nn.Module):
    """Images ``(B, 3, S, S)`` in [0, 1] → logits ``(B, 1, P, P)``, one per patch.

    ``layers`` stride-2 4 × 4 convs (``channels``, then doubling up to 8×), a stride-1 conv
    and a 1-channel stride-1 conv; BatchNorm and LeakyReLU 0.2 between. With ``layers = 3``
    on 96 px: 10 × 10 logits, each seeing a 70 × 70 px patch.
    """

    def __init__(self, channels: int = 64, layers: int = 3) -> None:
        super().__init__()
        mods: list[nn.Module] = [nn.Conv2d(3, channels, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = channels
        for n in range(1, layers + 1):
            c_next = channels * min(2**n, 8)
            stride = 2 if n < layers else 1
            mods += [nn.Conv2d(c, c_next, 4, stride, 1, bias=False), nn.BatchNorm2d(c_next),
                     nn.LeakyReLU(0.2)]
            c = c_next
        mods.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*mods)
        self.apply(_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Centred input, as the decoder's targets are in [0, 1].
        return self.net(2 * x - 1)


def hinge_d_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """Discriminator hinge loss: 0 once real patches score ≥ 1 and fake ones ≤ −1."""
    return 0.5 * (F.relu(1 - logits_real).mean() + F.relu(1 + logits_fake).mean())


def generator_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    """The decoder's adversarial loss: raise the discriminator's logits of its images."""
    return -logits_fake.mean()


def batch_prior_latents(mu: torch.Tensor, logvar: torch.Tensor | None) -> torch.Tensor:
    """As many latents as the batch, drawn from the Gaussian of its encodings (no gradient).

    ``export --fit-prior`` samples N(m, C) with m, C the mean and covariance of the encoder's
    μ over 5000 faces plus the mean σ² (:mod:`.prior`); this is the same Gaussian over one
    batch: ``m + Gᵀ(μ − m)/√(B − 1) + √(mean σ²)·ε`` with G, ε standard normal has exactly
    the batch's mean and covariance (of rank B − 1) plus the diagonal.  Decoded, these are
    the faces the shipped file will draw — the ones that come out blurrier than
    reconstructions, because they lie between the training faces' codes.

    Parameters
    ----------
    mu, logvar : tensor, (B, z_dim); ``logvar`` None for an AE (no diagonal term)

    Returns
    -------
    tensor, (B, z_dim), detached
    """
    mu = mu.detach()
    b = mu.shape[0]
    if b < 2:
        raise ValueError("batch_prior_latents needs a batch of at least 2")
    m = mu.mean(0, keepdim=True)
    z = m + torch.randn(b, b, dtype=mu.dtype) @ (mu - m) / (b - 1) ** 0.5
    if logvar is not None:
        z = z + torch.randn_like(mu) * logvar.detach().exp().mean(0).sqrt()
    return z


def last_layer(decoder: nn.Module) -> nn.Parameter:
    """Weight of the decoder's last conv (the 4-D parameter registered last: ``out`` of a
    ``ResUpDecoder``, the last transposed conv of Foster's ``Decoder``)."""
    return [p for p in decoder.parameters() if p.dim() == 4][-1]


def adaptive_weight(rec_loss: torch.Tensor, g_loss: torch.Tensor, layer: nn.Parameter,
                    scale: float = 1.0) -> torch.Tensor:
    """``scale · ‖∇ rec_loss‖ / (‖∇ g_loss‖ + 1e-4)`` at ``layer``, clamped to [0, 1e4].

    Detached: the weight is a number for this step, not a path for gradients. Both graphs
    are kept for the backward pass that follows.
    """
    g_rec = torch.autograd.grad(rec_loss, layer, retain_graph=True)[0]
    g_adv = torch.autograd.grad(g_loss, layer, retain_graph=True)[0]
    w = torch.linalg.vector_norm(g_rec) / (torch.linalg.vector_norm(g_adv) + 1e-4)
    return torch.clamp(w, 0.0, 1e4).detach() * scale


def adversarial_on(step: int, start: int) -> bool:
    """The warm-up switch: the adversarial terms count from optimiser step ``start`` on
    (``step`` counts the run's steps from 0, across resumes)."""
    return step >= start
