"""Hypothesis strategies over the mirror's parameter space."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from scurve_geom import MirrorParams
from scurve_geom.plan import max_bend_offset


@st.composite
def mirror_params(draw: st.DrawFn, *, max_rows: int = 40, max_segments: int = 12,
                  matched: bool | None = None, welded: bool | None = None,
                  full_arch: bool = False) -> MirrorParams:
    """Valid, small (fast) parameter sets spanning shapes, bends and topologies."""
    half_length = draw(st.floats(0.2, 20.0))
    bend_limit = max_bend_offset(half_length)
    return MirrorParams(
        radius=draw(st.floats(0.05, 10.0)),
        half_length=half_length,
        circle_vertices=2 * draw(st.integers(2, max_rows - 1)),
        length_segments=draw(st.integers(1, max_segments)),
        arch_angle=math.pi if full_arch else draw(st.floats(0.3, math.pi)),
        match_heights=draw(st.booleans()) if matched is None else matched,
        weld_seam=draw(st.booleans()) if welded is None else welded,
        s_amplitude=draw(st.floats(-0.95, 0.95)) * bend_limit,
    )
