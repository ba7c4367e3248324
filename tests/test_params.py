"""Parameter validation: every invalid value names the parameter, the value and the range."""

from __future__ import annotations

import dataclasses
import math

import pytest

from scurve_geom import MAX_VERTICES, PRESETS, MirrorParams, preset

BAD_VALUES = [
    ("radius", 0.0), ("radius", -1.0), ("radius", 1e9), ("radius", math.nan),
    ("radius", math.inf), ("radius", True), ("radius", "1"),
    ("half_length", 0.0), ("half_length", -3.0), ("half_length", 1e6),
    ("circle_vertices", 31), ("circle_vertices", 2), ("circle_vertices", 0),
    ("circle_vertices", 32.0), ("circle_vertices", 100_000),
    ("length_segments", 0), ("length_segments", -1), ("length_segments", 1.5),
    ("arch_angle", 0.0), ("arch_angle", 4.0), ("arch_angle", -1.0),
    ("match_heights", 1), ("weld_seam", "yes"),
    ("s_amplitude", 50.0), ("s_amplitude", -50.0), ("s_amplitude", math.nan),
    ("subdivision_levels", 7), ("subdivision_levels", -1),
    ("boundary_smooth", "SMOOTH"), ("boundary_smooth", "all"),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_invalid_value_raises_a_clear_error(name, value):
    with pytest.raises(ValueError) as info:
        MirrorParams(**{name: value})
    message = str(info.value)
    assert message.startswith(f"{name}=")
    assert repr(value) in message or str(value) in message


@pytest.mark.parametrize(("name", "value"), [
    ("radius", -1.0), ("half_length", 0.0), ("circle_vertices", 100_000),
    ("length_segments", 0), ("arch_angle", 4.0), ("subdivision_levels", 7),
    ("s_amplitude", 50.0), ("circle_vertices", 31),
])
def test_range_errors_state_the_allowed_range(name, value):
    with pytest.raises(ValueError, match="allowed"):
        MirrorParams(**{name: value})


def test_every_parameter_is_covered_by_a_bad_value():
    covered = {name for name, _ in BAD_VALUES}
    assert covered == {f.name for f in dataclasses.fields(MirrorParams)}


def test_vertex_budget_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match=f"allowed at most {MAX_VERTICES}"):
        MirrorParams(circle_vertices=8192, length_segments=8192)
    with pytest.raises(ValueError, match="subdivision_levels=6"):
        preset("smooth", subdivision_levels=6)


def test_frozen():
    p = MirrorParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.radius = 2.0  # type: ignore[misc]


def test_presets():
    assert set(PRESETS) >= {"blog-part2", "blog-unmatched", "kapoor", "smooth"}
    seed = preset("blog-part2")
    assert (seed.radius, seed.half_length, seed.circle_vertices) == (1.0, 3.0, 32)
    assert seed.rows == 17 and seed.match_heights and seed.weld_seam
    assert not preset("blog-unmatched").match_heights
    kapoor = preset("kapoor")
    # Kistefos: ~9.75 m long, ~2.13 m high, with the S in plan.
    assert 2 * kapoor.half_length == pytest.approx(9.75, abs=0.05)
    assert kapoor.height == pytest.approx(2.13, abs=0.02)
    assert kapoor.s_amplitude != 0
    assert preset("smooth").rows > 100
    assert preset("kapoor", radius=1.5).radius == 1.5


def test_unknown_preset_and_parameter():
    with pytest.raises(ValueError, match="preset='nope' is unknown: choose one of blog-part2"):
        preset("nope")
    with pytest.raises(ValueError, match="unknown parameter"):
        preset("kapoor", colour="red")


def test_vertex_count_is_exact_without_building():
    from scurve_geom import build_grid

    for name in PRESETS:
        p = preset(name)
        assert build_grid(p).n_vertices == p.vertex_count()
