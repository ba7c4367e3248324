"""Running the real Blender from tests: the command, its output, tracebacks in it."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_blender(blender: str, *args: str, cwd: Path | None = None, timeout: float = 600,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the blender command with ``args``; output captured as text."""
    return subprocess.run([blender, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd or REPO, env=env)


def tracebacks(output: str) -> list[str]:
    """Python tracebacks in Blender's output (panel draw errors only show there)."""
    lines = output.splitlines()
    return ["\n".join(lines[i:i + 12]) for i, line in enumerate(lines)
            if line.startswith("Traceback (most recent call last)")]
