"""Command line: ``python -m latent_faces {train,decode,export,faces,study} ...``.

Bad arguments exit with status 2 and one line on stderr (no usage block, no traceback);
torch is imported only by the commands that need it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

__all__ = ["main"]


class UsageError(Exception):
    """A user error reported as one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of argparse's usage block
        raise UsageError(f"{self.prog}: {message}")


def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _int_list(s: str) -> tuple[int, ...]:
    try:
        v = tuple(int(x) for x in s.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {s!r}"
                                         ) from None
    if any(x < 0 for x in v):
        raise argparse.ArgumentTypeError(f"must be >= 0: {s!r}")
    return v


def _nonneg_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {s!r}") from None
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {s}")
    return v


def _positive_float(s: str) -> float:
    v = _nonneg_float(s)
    if v == 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return v


PRESETS = {
    # Foster's CelebA VAE: r_loss_factor · MSE + KL.
    "vae": dict(variational=True, recon_loss="mse", r_loss_factor=10000.0, kl_weight=1.0),
    # The post's "almost AE": BCE with a KL term 1e-6 times smaller.
    "almost-ae": dict(variational=True, recon_loss="bce", r_loss_factor=1.0, kl_weight=1e-6),
    # A plain deterministic AE.
    "ae": dict(variational=False, recon_loss="mse", r_loss_factor=1.0, kl_weight=0.0),
}


def _build_parser() -> _Parser:
    p = _Parser(prog="python -m latent_faces", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train an AE/VAE (needs torch)")
    t.add_argument("--out", required=True, help="output folder (checkpoint, logs, decoder)")
    t.add_argument("--preset", choices=sorted(PRESETS), default="vae",
                   help="loss/model preset: vae (Foster), almost-ae (the post), ae")
    t.add_argument("--task", choices=["reconstruct", "denoise", "dropout", "recolour"],
                   default="reconstruct")
    t.add_argument("--data", help="folder of JPEG/PNG images (default: synthetic faces)")
    t.add_argument("--n-train", type=_positive_int, default=10000)
    t.add_argument("--n-test", type=_positive_int, default=500)
    t.add_argument("--epochs", type=_positive_int, default=10)
    t.add_argument("--batch-size", type=_positive_int, default=32)
    t.add_argument("--lr", type=_positive_float, default=5e-4)
    t.add_argument("--z-dim", type=_positive_int, default=200)
    t.add_argument("--recon-loss", choices=["mse", "bce"], help="override the preset")
    t.add_argument("--r-loss-factor", type=_positive_float, help="override the preset")
    t.add_argument("--kl-weight", type=_nonneg_float, help="override the preset")
    t.add_argument("--leaky-slope", type=_nonneg_float, default=0.3)
    t.add_argument("--dropout", type=_nonneg_float, default=0.25,
                   help="dropout rate after each conv block (Foster: 0.25)")
    t.add_argument("--decoder", choices=["foster", "resup"], default="foster",
                   help="foster: transposed convs (the reference); resup: upsample + conv + "
                        "residual blocks + pixel shuffle")
    t.add_argument("--enc-filters", type=_int_list, help="encoder channels, e.g. 32,64,64,64")
    t.add_argument("--dec-filters", type=_int_list,
                   help="decoder channels (resup: one per stage, e.g. 96,64,32)")
    t.add_argument("--res-blocks", type=_int_list, help="resup: residual blocks per stage")
    t.add_argument("--fc-channels", type=_positive_int, help="resup: channels of the 6x6 map")
    t.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant",
                   help="cosine: lr → lr-min over --lr-horizon epochs, then lr-min")
    t.add_argument("--lr-min", type=_nonneg_float, default=0.0)
    t.add_argument("--lr-horizon", type=_positive_int,
                   help="epochs of the cosine decay (default: --epochs); may be changed "
                        "on --resume")
    t.add_argument("--epoch-size", type=_positive_int,
                   help="images per epoch, drawn without replacement from the n-train "
                        "pool (default: the whole pool); checkpoints come once per epoch")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=_positive_int, default=2)
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    t.add_argument("--init", help="start from this checkpoint's weights (same model options)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    d = sub.add_parser("decode", help="decode random latents to a contact sheet (numpy only)")
    d.add_argument("--out", required=True, help="PNG file to write")
    d.add_argument("--count", type=_positive_int, default=16)
    d.add_argument("--decoder", help="exported .npz (default: the shipped decoder)")
    d.add_argument("--mode", choices=["normal", "uniform", "interpolate"], default="normal")
    d.add_argument("--boundary", type=_positive_float, default=1.0,
                   help="uniform mode: components in (0, B)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--cols", type=_positive_int, default=8)
    d.add_argument("--palette", action="store_true", help="256-colour PNG (about 3x smaller)")

    e = sub.add_parser("export", help="export a checkpoint's decoder to .npz (needs torch)")
    e.add_argument("checkpoint")
    e.add_argument("--out", required=True)

    f = sub.add_parser("faces", help="contact sheet of synthetic training faces")
    f.add_argument("--out", required=True)
    f.add_argument("--count", type=_positive_int, default=32)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--start", type=int, default=0)
    f.add_argument("--supersample", type=_positive_int, default=1)
    f.add_argument("--cols", type=_positive_int, default=8)
    f.add_argument("--palette", action="store_true", help="256-colour PNG (about 3x smaller)")

    s = sub.add_parser("study", help="the latent-space study (needs torch)")
    s.add_argument("--ae", required=True, help="checkpoint.pt of the (almost) AE")
    s.add_argument("--vae", required=True, help="checkpoint.pt of the VAE")
    s.add_argument("--out", required=True, help="output folder for tables and PNGs")
    s.add_argument("--n-samples", type=_positive_int, default=100)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=_positive_int, default=2)
    return p


def _cmd_train(a) -> None:
    if a.data is not None and not Path(a.data).is_dir():
        raise UsageError(f"--data: not a folder: {a.data}")
    out = Path(a.out)
    if a.resume and not (out / "checkpoint.pt").exists():
        raise UsageError(f"--resume: no checkpoint in {out}")
    if a.init is not None and not Path(a.init).is_file():
        raise UsageError(f"--init: checkpoint not found: {a.init}")
    from .models import ModelConfig
    from .train import TrainConfig, train

    pre = dict(PRESETS[a.preset])
    arch = {k: getattr(a, k) for k in ("enc_filters", "dec_filters", "res_blocks",
                                       "fc_channels") if getattr(a, k) is not None}
    if a.decoder == "resup":
        arch.setdefault("dec_filters", (96, 64, 32))
        arch.setdefault("res_blocks", (1,) * len(arch["dec_filters"]))
    try:
        model = ModelConfig(z_dim=a.z_dim, variational=pre.pop("variational"),
                            leaky_slope=a.leaky_slope, dropout=a.dropout, decoder=a.decoder,
                            **arch)
    except ValueError as e:
        raise UsageError(str(e)) from None
    for k in ("recon_loss", "r_loss_factor", "kl_weight"):
        if getattr(a, k) is not None:
            pre[k] = getattr(a, k)
    cfg = TrainConfig(out=str(out), model=model, task=a.task, lr=a.lr, batch_size=a.batch_size,
                      epochs=a.epochs, seed=a.seed, n_train=a.n_train, n_test=a.n_test,
                      data=a.data, threads=a.threads, progress=not a.quiet, init=a.init,
                      lr_schedule=a.lr_schedule, lr_min=a.lr_min,
                      lr_horizon=a.lr_horizon or 0, epoch_size=a.epoch_size or 0,
                      command=shlex.join(["python", "-m", "latent_faces", *a.argv]), **pre)
    try:
        train(cfg, resume=a.resume, lr_horizon=a.lr_horizon)
    except ValueError as e:
        raise UsageError(str(e)) from None
    print(f"wrote {out}/checkpoint.pt, loss.csv, loss.png, samples.png, decoder.npz")


def _cmd_decode(a) -> None:
    from . import NumpyDecoder, sample_latents, shipped_decoder_path
    from .sheet import save_png

    path = Path(a.decoder) if a.decoder else shipped_decoder_path()
    try:
        dec = NumpyDecoder.load(path)
    except (ValueError, FileNotFoundError) as e:
        raise UsageError(f"--decoder: {e}") from None
    if a.mode == "interpolate" and a.count < 2:
        raise UsageError("--count must be >= 2 for --mode interpolate")
    z = sample_latents(a.mode, a.count, a.seed, boundary=a.boundary, z_dim=dec.z_dim)
    out = Path(a.out)
    if not out.parent.is_dir():
        raise UsageError(f"--out: folder does not exist: {out.parent}")
    save_png(out, dec.decode(z), a.cols, palette=a.palette)
    print(f"wrote {out} ({a.count} faces, {a.mode}, decoder {path.name})")


def _cmd_export(a) -> None:
    if not Path(a.checkpoint).is_file():
        raise UsageError(f"checkpoint not found: {a.checkpoint}")
    from .export import export_decoder
    from .train import load_model

    model, cfg = load_model(a.checkpoint)
    export_decoder(model.decoder, a.out, meta={"train_config": cfg.to_dict()})
    print(f"wrote {a.out}")


def _cmd_faces(a) -> None:
    from .sheet import save_png
    from .synth import generate_faces

    if a.start < 0:
        raise UsageError("--start must be >= 0")
    faces = generate_faces(a.count, a.seed, a.start, supersample=a.supersample)
    save_png(a.out, faces, a.cols, palette=a.palette)
    print(f"wrote {a.out}")


def _cmd_study(a) -> None:
    for p in (a.ae, a.vae):
        if not Path(p).is_file():
            raise UsageError(f"checkpoint not found: {p}")
    from .study import run_study

    run_study(a.ae, a.vae, a.out, n_samples=a.n_samples, seed=a.seed, threads=a.threads)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        a = _build_parser().parse_args(argv)
        a.argv = argv
        {"train": _cmd_train, "decode": _cmd_decode, "export": _cmd_export,
         "faces": _cmd_faces, "study": _cmd_study}[a.cmd](a)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
