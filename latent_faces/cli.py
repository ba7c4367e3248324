"""Command line: ``python -m latent_faces {train,decode,export,evaluate,faces,study} ...``.

Bad arguments exit with status 2 and one line on stderr (no usage block, no traceback).
``decode`` and ``faces`` are numpy only; the other commands import the torch side
(:mod:`latent_faces.training`) when they run, so that those two work without torch.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from scurve_geom.cli_common.atomic import check_output, check_output_folder
from scurve_geom.cli_common.signals import cli_main
from scurve_geom.cli_common.usage import OneLineParser, UsageError, bounded_float, bounded_int

from . import NumpyDecoder, sample_latents, shipped_decoder_path
from .numpy_decoder import FINAL_STAGES, MAX_REFINE, UPSAMPLERS
from .sheet import save_png
from .training.synth import generate_faces

__all__ = ["main"]


PROG = "python -m latent_faces"
SEED = bounded_int(0, 2**32 - 1)
THREADS = bounded_int(1, 256)
TORCH_HINT = ("needs PyTorch, which this environment lacks: pip install torch==2.13.0 "
              "tqdm matplotlib pillow (the CPU build; or `make setup`, which makes .venv)")


def _positive_int(hi: int) -> Callable[[str], int]:
    return bounded_int(1, hi)


def _nonneg_int(hi: int) -> Callable[[str], int]:
    return bounded_int(0, hi)


def _positive_float(hi: float) -> Callable[[str], float]:
    return bounded_float(0.0, hi, above=True)


def _nonneg_float(hi: float) -> Callable[[str], float]:
    return bounded_float(0.0, hi)


def _int_list(s: str) -> tuple[int, ...]:
    try:
        v = tuple(int(x) for x in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {s!r}"
                                         ) from None
    if any(not 0 <= x <= 4096 for x in v):
        raise argparse.ArgumentTypeError(f"{s!r} is out of range: allowed 0 to 4096 each")
    return v


PRESETS = {
    # Foster's CelebA VAE: r_loss_factor · MSE + KL.
    "vae": dict(variational=True, recon_loss="mse", r_loss_factor=10000.0, kl_weight=1.0),
    # The post's "almost AE": BCE with a KL term 1e-6 times smaller.
    "almost-ae": dict(variational=True, recon_loss="bce", r_loss_factor=1.0, kl_weight=1e-6),
    # A plain deterministic AE.
    "ae": dict(variational=False, recon_loss="mse", r_loss_factor=1.0, kl_weight=0.0),
}


# A sheet of 4096 faces is 8 × 512 tiles, 786 × 50 178 px, ~120 MB in memory while it is
# written; far larger sheets exhaust memory (100 000 faces: 2.9 GB) and no viewer opens them.
MAX_DECODE_COUNT = 4096
_DECODE_BATCH = 64  # faces decoded at a time: bounds the decoder's working memory


def _build_parser() -> OneLineParser:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=OneLineParser)

    t = sub.add_parser("train", help="train an AE/VAE (needs torch)")
    t.add_argument("--out", required=True, help="output folder (checkpoint, logs, decoder)")
    t.add_argument("--preset", choices=sorted(PRESETS), default="vae",
                   help="loss/model preset: vae (Foster), almost-ae (the post), ae")
    t.add_argument("--task", choices=["reconstruct", "denoise", "dropout", "recolour"],
                   default="reconstruct")
    t.add_argument("--data", help="folder of JPEG/PNG images (default: synthetic faces)")
    t.add_argument("--n-train", type=_positive_int(1_000_000), default=10000)
    t.add_argument("--n-test", type=_positive_int(100_000), default=500)
    t.add_argument("--epochs", type=_positive_int(100_000), default=10)
    t.add_argument("--batch-size", type=_positive_int(4096), default=32)
    t.add_argument("--lr", type=_positive_float(1.0), default=5e-4)
    t.add_argument("--z-dim", type=_positive_int(4096), default=200)
    t.add_argument("--recon-loss", choices=["mse", "l1", "bce"], help="override the preset")
    t.add_argument("--r-loss-factor", type=_positive_float(1e9), help="override the preset")
    t.add_argument("--kl-weight", type=_nonneg_float(1e9), help="override the preset")
    t.add_argument("--edge-weight", type=_nonneg_float(1e6), default=0.0,
                   help="weight of a gradient-difference (edge) term, relative to the "
                        "per-pixel reconstruction loss (0: off, as in Foster)")
    t.add_argument("--leaky-slope", type=_nonneg_float(1.0), default=0.3)
    t.add_argument("--dropout", type=bounded_float(0.0, 0.95), default=0.25,
                   help="dropout rate after each conv block (Foster: 0.25)")
    t.add_argument("--decoder", choices=["foster", "resup"], default="foster",
                   help="foster: transposed convs (the reference); resup: upsample + conv + "
                        "residual blocks + pixel shuffle")
    t.add_argument("--enc-filters", type=_int_list, help="encoder channels, e.g. 32,64,64,64")
    t.add_argument("--dec-filters", type=_int_list,
                   help="decoder channels (resup: one per stage, e.g. 96,64,32)")
    t.add_argument("--res-blocks", type=_int_list, help="resup: residual blocks per stage")
    t.add_argument("--fc-channels", type=_positive_int(4096), help="resup: channels of the 6x6 map")
    t.add_argument("--final", choices=FINAL_STAGES,
                   help="resup: last 2x step, shuffle (conv to 12 channels + pixel shuffle; "
                        "the default), upconv (nearest 2x + conv: no 2-px checkerboard) or "
                        "bilinear (bilinear 2x + conv: no checkerboard, weaker images of "
                        "low frequencies); "
                        "with --init-decoder, default the file's, and upconv from a shuffle "
                        "file starts from its least-squares fit")
    t.add_argument("--upsample", choices=UPSAMPLERS,
                   help="resup: how the stages double their input, nearest (the default) or "
                        "bilinear; with --init-decoder, default the file's")
    t.add_argument("--refine", type=_nonneg_int(MAX_REFINE), metavar="CHANNELS",
                   help="resup with --final upconv/bilinear: add a full-resolution refinement "
                        "of CHANNELS channels (0: none, the default), started so the decoder "
                        "decodes as before; --init and --init-decoder grow one from a run or "
                        "file without it")
    t.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant",
                   help="cosine: lr → lr-min over --lr-horizon epochs, then lr-min")
    t.add_argument("--lr-min", type=_nonneg_float(1.0), default=0.0)
    t.add_argument("--lr-horizon", type=_positive_int(100_000),
                   help="epochs of the cosine decay (default: --epochs); may be changed "
                        "on --resume")
    t.add_argument("--epoch-size", type=_positive_int(1_000_000),
                   help="images per epoch, drawn without replacement from the n-train "
                        "pool (default: the whole pool); checkpoints come once per epoch")
    t.add_argument("--adv-weight", type=_nonneg_float(1e6), default=0.0,
                   help="adversarial term (VQGAN's: patch discriminator, hinge loss): scale of "
                        "its adaptive weight (0: off, no discriminator)")
    t.add_argument("--spectral-weight", type=_nonneg_float(1e6), default=0.0,
                   help="weight of a term against upsampling-grid peaks: the reconstructions' "
                        "excess peak at the decoder's grid frequencies over their targets' "
                        "(mean log ratio, nats; 0: off)")
    t.add_argument("--adv-prior-samples", action="store_true",
                   help="the adversarial term and the discriminator also see decodes of "
                        "latents drawn from the batch's own Gaussian (the faces the export's "
                        "fitted prior draws), not only reconstructions")
    t.add_argument("--adv-start", type=_nonneg_int(10**9), default=0, metavar="STEP",
                   help="optimiser step (counted over the whole run) from which the "
                        "adversarial term and the discriminator's training start")
    t.add_argument("--disc-lr", type=_positive_float(1.0), default=1e-4,
                   help="the discriminator's learning rate (Adam, betas 0.5, 0.9)")
    t.add_argument("--disc-channels", type=_positive_int(1024), default=64,
                   help="channels of the discriminator's first conv")
    t.add_argument("--disc-layers", type=_positive_int(5), default=3,
                   help="stride-2 convs of the discriminator (3: 70 px patches)")
    t.add_argument("--seed", type=SEED, default=0)
    t.add_argument("--threads", type=THREADS, default=2)
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    t.add_argument("--init", help="start from this checkpoint's weights (same model options)")
    t.add_argument("--init-decoder", metavar="NPZ",
                   help="start the decoder from an exported resup file (e.g. the shipped "
                        "one): its shape comes from the file, without BatchNorm; applied "
                        "before --init")
    t.add_argument("--freeze-decoder-steps", type=_nonneg_int(10**9), default=0,
                   metavar="STEPS", help="keep the decoder's weights fixed for the first "
                                         "STEPS optimiser steps (train the encoder only)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    d = sub.add_parser("decode", help="decode random latents to a contact sheet (numpy only)")
    d.add_argument("--out", required=True, help="PNG file to write")
    d.add_argument("--count", type=_positive_int(MAX_DECODE_COUNT), default=16,
                   help=f"faces on the sheet, at most {MAX_DECODE_COUNT}")
    d.add_argument("--decoder", help="exported .npz (default: the shipped decoder)")
    d.add_argument("--mode", choices=["normal", "uniform", "interpolate"], default="normal")
    d.add_argument("--boundary", type=_positive_float(1000.0), default=1.0,
                   help="uniform mode: components in (0, B)")
    d.add_argument("--seed", type=SEED, default=0)
    d.add_argument("--cols", type=_positive_int(512), default=8)
    d.add_argument("--palette", action="store_true", help="256-colour PNG (about 3x smaller)")

    e = sub.add_parser("export", help="export a checkpoint's decoder to .npz (needs torch)")
    e.add_argument("checkpoint")
    e.add_argument("--out", required=True)
    e.add_argument("--fit-prior", type=_nonneg_int(1_000_000), default=0, metavar="N",
                   help="fold a Gaussian fitted to N encoded training faces into the decoder "
                        "(0: decode N(0, I) as trained)")
    e.add_argument("--temperature", type=_positive_float(100.0), default=1.0,
                   help="with --fit-prior: scale the fitted Gaussian's spread (default 1)")

    v = sub.add_parser("evaluate", help="metrics vs the targets, learning curves (needs torch)")
    v.add_argument("run", help="training folder (checkpoint.pt, loss.csv)")
    v.add_argument("--out", required=True, help="folder for metrics.json, targets.md, PNGs")
    v.add_argument("--decoder", help="evaluate this exported .npz (numpy decoder) instead of "
                                     "exporting the checkpoint")
    v.add_argument("--fit-prior", type=_nonneg_int(1_000_000), default=5000, metavar="N",
                   help="without --decoder: as for export (default 5000)")
    v.add_argument("--temperature", type=_positive_float(100.0), default=1.0,
                   help="without --decoder: as for export")
    v.add_argument("--n-samples", type=_positive_int(100_000), default=100)
    v.add_argument("--seed", type=SEED, default=0)
    v.add_argument("--draws", type=_positive_int(20), default=1, metavar="K",
                   help="evaluate K latent draws (seeds SEED ... SEED+K-1) and judge the "
                        "targets on their means; targets.md shows each metric's range")
    v.add_argument("--threads", type=THREADS, default=1)

    f = sub.add_parser("faces", help="contact sheet of synthetic training faces")
    f.add_argument("--out", required=True)
    f.add_argument("--count", type=_positive_int(MAX_DECODE_COUNT), default=32)
    f.add_argument("--seed", type=SEED, default=0)
    f.add_argument("--start", type=_nonneg_int(2**31 - 1), default=0)
    f.add_argument("--supersample", type=_positive_int(8), default=1)
    f.add_argument("--cols", type=_positive_int(512), default=8)
    f.add_argument("--palette", action="store_true", help="256-colour PNG (about 3x smaller)")

    s = sub.add_parser("study", help="the latent-space study (needs torch)")
    s.add_argument("--ae", required=True, help="checkpoint.pt of the (almost) AE")
    s.add_argument("--vae", required=True, help="checkpoint.pt of the VAE")
    s.add_argument("--out", required=True, help="output folder for tables and PNGs")
    s.add_argument("--n-samples", type=_positive_int(100_000), default=100)
    s.add_argument("--seed", type=SEED, default=0)
    s.add_argument("--threads", type=THREADS, default=2)
    s.add_argument("--scorer-steps", type=_positive_int(100_000), default=600, metavar="N",
                   help="training steps of the face-plausibility scorer (default 600, as "
                        "the documented study; fewer for a quick trial run)")
    return p


def _need_torch(cmd: str) -> None:
    if importlib.util.find_spec("torch") is None:
        raise UsageError(f"{cmd} {TORCH_HINT}")


def _first_missing(out: Path) -> Path | None:
    """The outermost folder of ``out`` that does not exist yet (``out`` itself, or a
    parent ``mkdir -p`` would make), or None when ``out`` exists."""
    top = None
    path = out.absolute()
    while not path.exists():
        top, path = path, path.parent
    return top


def _check_out_folder(out: Path) -> None:
    """An output folder: a folder, or absent (made with its missing parents, as ``mkdir -p``
    would: ``--out runs/vae`` in a fresh clone, where ``runs/`` is not yet there) under a
    writable folder."""
    check_output_folder(out, "--out")


@contextlib.contextmanager
def _made_folder(out: Path, keep: str | None = None) -> Iterator[None]:
    """Remove ``out`` again, with the parents made for it, if this command made it and then
    failed or was interrupted (unless it holds ``keep``, e.g. a checkpoint worth resuming)."""
    top = _first_missing(out)
    try:
        yield
    except BaseException:
        if top is not None and top.is_dir() and not (keep and (out / keep).exists()):
            shutil.rmtree(top, ignore_errors=True)
        raise


def _cmd_train(a) -> None:
    if a.data is not None and not Path(a.data).is_dir():
        raise UsageError(f"--data: not a folder: {a.data}")
    out = Path(a.out)
    _check_out_folder(out)
    if a.resume and not (out / "checkpoint.pt").exists():
        raise UsageError(f"--resume: no checkpoint in {out}")
    if a.init is not None and not Path(a.init).is_file():
        raise UsageError(f"--init: checkpoint not found: {a.init}")
    if a.adv_prior_samples and not a.adv_weight and not a.resume:
        raise UsageError("--adv-prior-samples needs an adversarial term (--adv-weight > 0)")
    if a.init_decoder is not None:
        try:
            NumpyDecoder.load(a.init_decoder)
        except (ValueError, FileNotFoundError) as e:
            raise UsageError(f"--init-decoder: {e}") from None
    _need_torch("train")
    from .training.checkpoints import TrainConfig
    from .training.models import ModelConfig
    from .training.train import train
    from .training.warmstart import decoder_model_config

    pre = dict(PRESETS[a.preset])
    arch = {k: getattr(a, k) for k in ("enc_filters", "dec_filters", "res_blocks",
                                       "fc_channels") if getattr(a, k) is not None}
    if a.decoder == "resup":
        arch.setdefault("dec_filters", (96, 64, 32))
        arch.setdefault("res_blocks", (1,) * len(arch["dec_filters"]))
    try:
        if a.init_decoder is None:
            for k in ("final", "upsample", "refine"):
                if getattr(a, k) is not None:
                    arch[k] = getattr(a, k)
        model = ModelConfig(z_dim=a.z_dim, variational=pre.pop("variational"),
                            leaky_slope=a.leaky_slope, dropout=a.dropout, decoder=a.decoder,
                            **arch)
        if a.init_decoder is not None:
            model = decoder_model_config(a.init_decoder, model, a.final, a.upsample, a.refine)
    except ValueError as e:
        raise UsageError(f"--init-decoder: {e}" if a.init_decoder else str(e)) from None
    for k in ("recon_loss", "r_loss_factor", "kl_weight"):
        if getattr(a, k) is not None:
            pre[k] = getattr(a, k)
    cfg = TrainConfig(out=str(out), model=model, task=a.task, lr=a.lr, batch_size=a.batch_size,
                      epochs=a.epochs, seed=a.seed, n_train=a.n_train, n_test=a.n_test,
                      data=a.data, threads=a.threads, progress=not a.quiet, init=a.init,
                      lr_schedule=a.lr_schedule, lr_min=a.lr_min,
                      lr_horizon=a.lr_horizon or 0, epoch_size=a.epoch_size or 0,
                      edge_weight=a.edge_weight, adv_weight=a.adv_weight,
                      adv_start=a.adv_start, disc_lr=a.disc_lr,
                      adv_prior_samples=a.adv_prior_samples,
                      spectral_weight=a.spectral_weight,
                      disc_channels=a.disc_channels, disc_layers=a.disc_layers,
                      init_decoder=(None if a.init_decoder is None
                                    else str(Path(a.init_decoder).resolve())),
                      freeze_decoder_steps=a.freeze_decoder_steps,
                      command=shlex.join(["python", "-m", "latent_faces", *a.argv]), **pre)
    try:
        with _made_folder(out, keep="checkpoint.pt"):
            train(cfg, resume=a.resume, lr_horizon=a.lr_horizon)
    except (ValueError, FileNotFoundError) as e:
        raise UsageError(str(e)) from None
    print(f"wrote {out}/checkpoint.pt, loss.csv, loss.png, samples.png, decoder.npz")


def _cmd_decode(a) -> None:
    path = Path(a.decoder) if a.decoder else shipped_decoder_path()
    try:
        dec = NumpyDecoder.load(path)
    except (ValueError, FileNotFoundError) as e:
        raise UsageError(f"--decoder: {e}") from None
    if a.mode == "interpolate" and a.count < 2:
        raise UsageError("--count must be >= 2 for --mode interpolate")
    out = check_output(a.out, (".png",))
    _need_pillow()
    z = sample_latents(a.mode, a.count, a.seed, boundary=a.boundary, z_dim=dec.z_dim)
    imgs = np.empty((a.count, dec.image_size, dec.image_size, 3), np.uint8)
    for i in range(0, a.count, _DECODE_BATCH):
        imgs[i:i + _DECODE_BATCH] = np.round(dec.decode(z[i:i + _DECODE_BATCH]) * 255)
    save_png(out, imgs, a.cols, palette=a.palette)
    print(f"wrote {out} ({a.count} faces, {a.mode}, decoder {path.name})")


def _cmd_export(a) -> None:
    if not Path(a.checkpoint).is_file():
        raise UsageError(f"checkpoint not found: {a.checkpoint}")
    check_output(a.out, (".npz",))
    _need_torch("export")
    from .training.export import export_checkpoint

    try:
        meta = export_checkpoint(a.checkpoint, a.out, fit_prior=a.fit_prior,
                                 temperature=a.temperature)
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(f"wrote {a.out} ({meta['epochs_trained']} epochs, {meta['images_seen']} images, "
          f"{meta['cpu_hours']:.2f} CPU-h, prior {meta['latent_prior']['kind']})")


def _cmd_evaluate(a) -> None:
    run = Path(a.run)
    if not (run / "checkpoint.pt").is_file():
        raise UsageError(f"no checkpoint.pt in {run}")
    if a.decoder is not None:
        try:
            NumpyDecoder.load(a.decoder)
        except (ValueError, FileNotFoundError) as e:
            raise UsageError(f"--decoder: {e}") from None
    out = Path(a.out)
    _check_out_folder(out)
    _need_torch("evaluate")
    from .training.checkpoints import read_checkpoint
    from .training.evaluate import evaluate_run, targets_markdown

    try:
        read_checkpoint(run / "checkpoint.pt")
    except ValueError as e:
        raise UsageError(str(e)) from None
    try:
        with _made_folder(out):
            res = evaluate_run(run, a.out, decoder=a.decoder, fit_prior=a.fit_prior,
                               n_samples=a.n_samples, seed=a.seed, threads=a.threads,
                               temperature=a.temperature, draws=a.draws)
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(targets_markdown(res))


def _cmd_faces(a) -> None:
    check_output(a.out, (".png",))
    _need_pillow()
    faces = generate_faces(a.count, a.seed, a.start, supersample=a.supersample)
    save_png(a.out, faces, a.cols, palette=a.palette)
    print(f"wrote {a.out}")


def _cmd_study(a) -> None:
    for p in (a.ae, a.vae):
        if not Path(p).is_file():
            raise UsageError(f"checkpoint not found: {p}")
    out = Path(a.out)
    _check_out_folder(out)
    _need_torch("study")
    from .training.checkpoints import read_checkpoint
    from .training.study import run_study

    for flag, p in (("--ae", a.ae), ("--vae", a.vae)):
        try:
            read_checkpoint(p)
        except ValueError as e:
            raise UsageError(f"{flag}: {e}") from None
    with _made_folder(out):
        run_study(a.ae, a.vae, a.out, n_samples=a.n_samples, seed=a.seed, threads=a.threads,
                  scorer_steps=a.scorer_steps)


def _need_pillow() -> None:
    if importlib.util.find_spec("PIL") is None:
        raise UsageError("writing PNG needs Pillow: pip install pillow")


def _run(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    a = _build_parser().parse_args(argv)
    a.argv = argv
    {"train": _cmd_train, "decode": _cmd_decode, "export": _cmd_export,
     "evaluate": _cmd_evaluate, "faces": _cmd_faces, "study": _cmd_study}[a.cmd](a)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status: 0, 2 with one line for bad input,
    130/143 after Ctrl-C/SIGTERM (one line "interrupted"), 141 when stdout's reader left."""
    return cli_main(PROG, _run, argv)
