"""What the farm shows and writes besides the frames: progress with ETA, the per-worker
summary, the labelled contact sheet of a sweep, and the GIF/MP4 of a turntable or an
animation. Needs Pillow (in every bpy environment's requirements) for the pictures."""

from __future__ import annotations

import io
import math
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from render_scenes.farm_jobs import Job, write_atomic
from render_scenes.scurve import _clock as clock

__all__ = ["Progress", "contact_sheet", "encode_gif", "worker_summary"]

#: Frames narrower than this many pixels are enlarged by a whole factor on the sheet.
MIN_CELL = 160


class Progress:
    """Frames done / total with a bar and the time left, on stderr.

    On a terminal one line is redrawn; otherwise (a log, a test) one line per frame.
    The time left is the mean wall time per frame of this run times the frames left.
    """

    def __init__(self, prog: str, total: int, already: int = 0,
                 stream: TextIO | None = None) -> None:
        self.prog, self.total, self.done = prog, total, already
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.rendered = 0
        self.tty = self.stream.isatty()

    def update(self, job: Job, note: str) -> None:
        self.done += 1
        self.rendered += 1
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.rendered * (self.total - self.done)
        width = 24
        filled = round(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        line = (f"{self.prog}: [{bar}] {self.done}/{self.total} frames, {clock(left)} left"
                f" | {job.file} ({job.label}) {note}")
        if self.tty:
            end = "\n" if self.done == self.total else ""
            self.stream.write("\r\x1b[K" + line + end)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done != self.total:
            self.stream.write("\n")
            self.stream.flush()


def worker_summary(entries: Sequence[dict[str, Any]]) -> list[str]:
    """One line per worker that rendered frames in this run: frames, busy time, mean."""
    frames: dict[str, list[float]] = defaultdict(list)
    for e in entries:
        if e.get("status") == "done" and not e.get("resumed") and e.get("worker"):
            frames[f"{e['worker']} ({e.get('host', '?')})"].append(float(e["seconds"]))
    return [f"{w}: {len(s)} frames, {sum(s):.1f} s busy, {sum(s) / len(s):.1f} s per frame"
            for w, s in sorted(frames.items())]


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def sheet_columns(jobs: Sequence[Job]) -> int:
    """Columns of the contact sheet: the last swept parameter's values for a grid of two
    or more parameters (one row per combination of the others), else about square."""
    if jobs and len(jobs[0].values) >= 2:
        return len({j.values[-1][1] for j in jobs})
    return len(jobs) if len(jobs) <= 8 else math.ceil(math.sqrt(len(jobs)))


def contact_sheet(folder: Path, jobs: Sequence[Job], out: Path, cell_width: int = 320) -> None:
    """A grid of the frames, each above its parameters; missing frames as grey cells
    marked "failed". Written atomically to ``out`` (PNG)."""
    from PIL import Image, ImageDraw

    pictures = {}
    for job in jobs:
        try:
            with Image.open(folder / job.file) as im:
                pictures[job.index] = im.convert("RGB")
        except OSError:
            pass
    w0, h0 = next(iter(pictures.values())).size if pictures else (cell_width, cell_width // 2)
    # Small test frames are enlarged (pixels kept sharp) so their labels fit under them.
    scale = cell_width / w0 if w0 > cell_width else max(1, MIN_CELL // w0 + (MIN_CELL % w0 > 0))
    pw, ph = max(1, round(w0 * scale)), max(1, round(h0 * scale))
    lines = max(1, max(len(j.values) for j in jobs))
    size = 14
    font = _font(size)
    texts = ["\n".join(f"{k}={v}" for k, v in j.values) or j.file for j in jobs]
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widest = max(probe.multiline_textbbox((0, 0), t, font=font, spacing=4)[2] for t in texts)
    cw, ch = max(pw, widest + 6), ph
    label_h = lines * (size + 4) + 6
    cols = sheet_columns(jobs)
    rows = math.ceil(len(jobs) / cols)
    pad = 4
    sheet = Image.new("RGB", (cols * (cw + pad) + pad, rows * (ch + label_h + pad) + pad),
                      (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for n, job in enumerate(jobs):
        x = pad + (n % cols) * (cw + pad)
        y = pad + (n // cols) * (ch + label_h + pad)
        px = x + (cw - pw) // 2
        pic = pictures.get(job.index)
        if pic is None:
            draw.rectangle((px, y, px + pw - 1, y + ph - 1), fill=(128, 128, 128))
            draw.text((px + 4, y + 4), "failed", fill=(255, 255, 255), font=font)
        else:
            method = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.NEAREST
            sheet.paste(pic.resize((pw, ph), method), (px, y))
        draw.multiline_text((x + 2, y + ch + 3), texts[n], fill=(0, 0, 0), font=font,
                            spacing=4)
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    write_atomic(out, buf.getvalue())


def encode_gif(frames: Sequence[Path], out: Path, fps: int) -> None:
    """An endlessly looping GIF of ``frames`` at ``fps`` frames per second, atomically."""
    from PIL import Image

    images = []
    for f in frames:
        with Image.open(f) as im:
            images.append(im.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE))
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(20, round(1000 / fps)), loop=0)
    write_atomic(out, buf.getvalue())
