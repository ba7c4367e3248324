"""Shared test settings."""

from __future__ import annotations

import os

from hypothesis import settings

# CI runs the same examples every time, so a red run can be reproduced; locally the
# examples vary and keep finding new corners.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
