"""Cycles settings for mirrors: adaptive sampling, the denoiser if any, deep glossy paths."""

from __future__ import annotations

from typing import Any

from .. import compat

#: Sample multiplier when the Blender build has no denoiser (Debian's, for one): the
#: denoised 32-sample default reaches ~48 dB at 640x360; 4x the samples halves raw noise.
NO_DENOISER_SAMPLE_FACTOR = 4


def configure_cycles(
    scene: Any,
    *,
    samples: int = 128,
    adaptive_threshold: float = 0.02,
    device: str = "auto",
    seed: int = 0,
    context: Any | None = None,
) -> str:
    """Cycles with adaptive sampling, OpenImageDenoise and light paths for mirrors.

    A build without OpenImageDenoise renders undenoised with ``samples`` ×
    :data:`NO_DENOISER_SAMPLE_FACTOR`; :func:`denoise_note` words that for the user.

    ``device``: ``"auto"`` (the GPU when the user's preferences configure one, else the
    CPU), ``"cpu"`` or ``"gpu"``. Returns the device used (``"CPU"`` or ``"GPU"``).

    Light paths: a view into the concave half bounces between facing parts of the
    wall several times before it leaves, so glossy bounces go up from 4 to 16; caustics
    stay on (the focused sun and lamp reflections on the ground are part of the
    seed's look) with Filter Glossy 1 and an indirect clamp to keep their noise down.
    """
    if samples < 1:
        raise ValueError(f"samples={samples} must be at least 1")
    if device not in ("auto", "cpu", "gpu"):
        raise ValueError(f"device={device!r} is unknown: choose auto, cpu or gpu")
    scene.render.engine = "CYCLES"
    c = scene.cycles
    gpu = compat.cycles_gpu_available(context)
    if device == "gpu" and not gpu:
        raise ValueError("device=gpu but no GPU is configured in Preferences > System")
    c.device = "GPU" if (gpu and device != "cpu") else "CPU"
    c.use_adaptive_sampling = True
    c.adaptive_threshold = adaptive_threshold
    denoiser = compat.cycles_denoiser(c)
    c.use_denoising = denoiser is not None
    if denoiser is not None:
        c.samples = samples
        c.denoiser = denoiser
        c.denoising_input_passes = "RGB_ALBEDO_NORMAL"
        c.denoising_prefilter = "ACCURATE"
        compat.denoise_on_cpu(c)
    else:
        # Without a denoiser the same noise needs many more samples; adaptive sampling
        # stops early where the image has converged, so the cost is mostly in the
        # concave half's reflections.
        c.samples = samples * NO_DENOISER_SAMPLE_FACTOR
    c.max_bounces = 16
    c.glossy_bounces = 16
    c.diffuse_bounces = 3
    c.transmission_bounces = 4
    c.transparent_max_bounces = 8
    c.volume_bounces = 0
    c.caustics_reflective = True
    c.caustics_refractive = False
    c.blur_glossy = 1.0
    c.sample_clamp_direct = 0.0
    c.sample_clamp_indirect = 10.0
    c.seed = seed
    return c.device


def denoise_note(scene: Any) -> str | None:
    """A one-line note when :func:`configure_cycles` found no denoiser, else ``None``."""
    c = scene.cycles
    if c.use_denoising:
        return None
    return (f"this Blender has no OpenImageDenoise: rendering without a denoiser at "
            f"{c.samples} samples ({NO_DENOISER_SAMPLE_FACTOR}x the requested "
            f"{c.samples // NO_DENOISER_SAMPLE_FACTOR})")
