"""scurve_geom.fabricate: analytic curvature, libigl flattening, panels, outputs, CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scurve_geom import MirrorParams, preset
from scurve_geom.surface import Surface

igl = pytest.importorskip("igl", reason="the flattening needs libigl (requirements/*.txt)")
ezdxf = pytest.importorskip("ezdxf")

from strategies import mirror_params  # noqa: E402

from scurve_geom.fabricate import FabricationOptions, classify, fabricate  # noqa: E402
from scurve_geom.fabricate.differential import (  # noqa: E402
    derivatives,
    panel_area,
    principal_curvatures,
)
from scurve_geom.fabricate.flatten import flatten, grid_triangles  # noqa: E402
from scurve_geom.fabricate.nesting import nest  # noqa: E402
from scurve_geom.fabricate.outputs import write_outputs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

SHAPES = [
    preset("kapoor"),
    preset("blog-unmatched", s_amplitude=0.8),
    preset("blog-part2", arch_angle=2.0, s_amplitude=-1.2),
]


@pytest.fixture(scope="module")
def kapoor():
    return fabricate(preset("kapoor"))


# -- the analytic differential geometry ---------------------------------------------------
def _fd(surf: Surface, u: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    P = surf.point
    h, h2 = 1e-5, 1e-4
    return {
        "pu": (P(u + h, v) - P(u - h, v)) / (2 * h),
        "pv": (P(u, v + h) - P(u, v - h)) / (2 * h),
        "puu": (P(u + h2, v) - 2 * P(u, v) + P(u - h2, v)) / h2**2,
        "pvv": (P(u, v + h2) - 2 * P(u, v) + P(u, v - h2)) / h2**2,
        "puv": (P(u + h2, v + h2) - P(u + h2, v - h2) - P(u - h2, v + h2)
                + P(u - h2, v - h2)) / (4 * h2**2),
    }


@pytest.mark.parametrize("params", SHAPES, ids=["kapoor", "unmatched-bent", "bent"])
def test_derivatives_match_finite_differences_of_the_surface(params):
    surf = Surface(params)
    rng = np.random.default_rng(1)
    u = np.concatenate([rng.uniform(0.01, 0.49, 40), rng.uniform(0.51, 0.99, 40)])
    v = rng.uniform(0.02, 0.98, 80)
    d, fd = derivatives(surf, u, v), _fd(surf, u, v)
    scale = 2 * params.half_length
    for name, tol in [("pu", 1e-8), ("pv", 1e-8), ("puu", 1e-5), ("puv", 1e-5), ("pvv", 1e-5)]:
        err = np.abs(getattr(d, name) - fd[name]).max()
        assert err < tol * scale**2, (name, err)


def test_principal_curvatures_match_the_fundamental_forms_by_finite_differences():
    # K and H from the fundamental forms of Surface.point alone (finite differences):
    # independent of the closed-form second derivatives.
    p = MirrorParams(radius=1.3, half_length=2.0, arch_angle=2.5, s_amplitude=0.7)
    surf = Surface(p)
    rng = np.random.default_rng(2)
    u = rng.uniform(0.55, 0.95, 30)
    v = rng.uniform(0.1, 0.9, 30)
    fd = _fd(surf, u, v)
    n = np.cross(fd["pu"], fd["pv"])
    n /= np.linalg.norm(n, axis=1)[:, None]
    E, F, G = (np.einsum("ij,ij->i", a, b) for a, b in
               [(fd["pu"], fd["pu"]), (fd["pu"], fd["pv"]), (fd["pv"], fd["pv"])])
    e, f, g = (np.einsum("ij,ij->i", fd[k], n) for k in ("puu", "puv", "pvv"))
    K = (e * g - f * f) / (E * G - F * F)
    H = (e * G - 2 * f * F + g * E) / (2 * (E * G - F * F))
    k1, k2 = principal_curvatures(derivatives(surf, u, v))
    np.testing.assert_allclose(k1 * k2, K, atol=1e-5)
    np.testing.assert_allclose((k1 + k2) / 2, H, atol=1e-5)


def test_panel_quadrature_converges():
    surf = Surface(SHAPES[1])
    coarse = panel_area(surf, 0.5, 1.0, 0.0, 1.0)
    fine = panel_area(surf, 0.5, 1.0, 0.0, 1.0, order=6)
    assert abs(coarse - fine) < 1e-9 * fine


# -- the flattening -----------------------------------------------------------------------
def test_cylinder_patch_flattens_without_strain_to_its_arc_length():
    radius, angle, height = 0.8, 1.2, 0.5
    nu, nv = 601, 21
    t = np.linspace(0.0, angle, nu)
    T, Z = np.meshgrid(t, np.linspace(0.0, height, nv), indexing="ij")
    V = np.stack([radius * np.cos(T), radius * np.sin(T), Z], axis=-1).reshape(-1, 3)
    flat = flatten(V, grid_triangles(nu, nv), grain=(0, (nu - 1) * nv))
    assert flat.strain_max <= 1e-6
    width, tall = flat.uv.max(axis=0)
    # The mesh's edges are chords: 600 of them lose (angle/600)^2/24 of the arc, 1.7e-7.
    assert width == pytest.approx(radius * angle, rel=1e-6)
    assert tall == pytest.approx(height, rel=1e-6)


@pytest.mark.parametrize("rho", [0.1, 0.2])
def test_sphere_cap_strain_follows_the_small_cap_estimate(rho):
    # A square cap of half-width rho on a sphere of radius R cannot flatten without
    # strain; the small-cap estimate of the largest strain is rho^2 / 6R^2 (geodesic
    # circles are shorter than flat ones by that fraction). ARAP shares the strain out
    # over the cap; measured: 1.24x (rho 0.1) and 1.26x (rho 0.2), the corners of the
    # square reaching rho * sqrt(2).
    R, n = 1.0, 41
    x = np.linspace(-rho, rho, n)
    X, Y = np.meshgrid(x, x, indexing="ij")
    V = np.stack([X, Y, np.sqrt(R**2 - X**2 - Y**2)], axis=-1).reshape(-1, 3)
    flat = flatten(V, grid_triangles(n, n), grain=(0, (n - 1) * n))
    estimate = rho**2 / (6 * R**2)
    assert 1.0 <= flat.strain_max / estimate <= 1.5
    assert flat.strain_mean < flat.strain_max


# -- panels ---------------------------------------------------------------------------------
def test_kapoor_panels_fit_the_plate_and_are_classified(kapoor):
    w, h = kapoor.options.usable
    assert len(kapoor.panels) == 2 * kapoor.rows * kapoor.columns
    for p in kapoor.panels:
        assert p.size[0] <= w and p.size[1] <= h
        assert p.strain_class == classify(p.flat.strain_max)
        assert p.mass == pytest.approx(p.area * 0.010 * 8000.0)
        assert 0 < p.bending_strain == pytest.approx(0.005 * p.curvature_max)
        assert not p.pinched


@pytest.mark.parametrize("params", SHAPES, ids=["kapoor", "unmatched-bent", "bent"])
def test_panel_areas_sum_to_the_analytic_area(params):
    fab = fabricate(params)
    total = fab.surface_area
    assert sum(p.area for p in fab.panels) == pytest.approx(total, rel=1e-9)
    # Independent of the derivative formulas: the panels' triangles, built from
    # Surface.point alone, cover the wall with chord error O(h^2).
    assert sum(p.flat.area_3d.sum() for p in fab.panels) == pytest.approx(total, rel=1e-4)


def test_twins_are_identical_and_the_report_says_so(kapoor, tmp_path):
    for p in kapoor.panels:
        if p.cell.half != "A":
            continue
        q = kapoor.panel(p.cell.twin)
        assert p.grid == q.grid
        # Both grids run away from the seam: vertex k of A turns onto vertex k of B.
        np.testing.assert_allclose(p.vertices[:, :2], -q.vertices[:, :2], atol=1e-12)
        a, b = p.flat.uv, q.flat.uv
        sub = slice(None, None, 7)
        da = np.linalg.norm(a[sub, None] - a[None, sub], axis=-1)
        db = np.linalg.norm(b[sub, None] - b[None, sub], axis=-1)
        assert np.abs(da - db).max() < 1e-9
        # Seen from each one's front, the twins are mirror images across the grain: one
        # plate is the other turned over about its grain line.
        np.testing.assert_allclose(a[:, 0], b[:, 0], atol=1e-9)
        np.testing.assert_allclose(a[:, 1], p.size[1] - b[:, 1], atol=1e-9)
        assert p.size == pytest.approx(q.size, abs=1e-6)
    data = write_outputs(kapoor, tmp_path / "fab")
    assert data["symmetry"]["unique_patterns"] == len(kapoor.panels) // 2
    assert len(data["symmetry"]["twin_pairs"]) == len(kapoor.panels) // 2


def test_classes_by_flattening_strain():
    assert classify(0.0) == classify(0.005) == "rollable"
    assert classify(0.0051) == classify(0.02) == "wheel or stretch-form"
    assert classify(0.0201) == "split it"


def test_a_smaller_plate_gives_more_smaller_panels():
    small = fabricate(preset("kapoor"), FabricationOptions(plate_width=1.0, plate_height=0.8))
    assert len(small.panels) > 12
    assert all(p.size[0] <= 1.0 and p.size[1] <= 0.8 for p in small.panels)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=mirror_params(), share=st.floats(0.3, 1.0))
def test_any_wall_is_covered_by_panels_that_fit(params, share):
    # A plate scaled to the wall keeps the panel count small whatever the wall's size.
    size = max(params.half_length, params.radius * params.arch_angle)
    options = FabricationOptions(plate_width=share * size + 0.1, plate_height=share * size,
                                 gap=0.0, segment=min(1.0, share * size / 12))
    fab = fabricate(params, options)
    w, h = options.usable
    assert all(p.size[0] <= w + 1e-9 and p.size[1] <= h + 1e-9 for p in fab.panels)
    assert sum(p.area for p in fab.panels) == pytest.approx(fab.surface_area, rel=1e-6)


def test_nesting_keeps_patterns_apart_and_on_the_plate():
    boxes = {f"p{i}": (0.3 + 0.1 * (i % 5), 0.2 + 0.05 * (i % 3)) for i in range(17)}
    n = nest(boxes, (2.0, 1.5), 0.01)
    rects = [(pl.plate, pl.x, pl.y, *boxes[pl.name]) for pl in n.placements]
    assert len(rects) == 17
    for _plate, x, y, w, h in rects:
        assert 0.01 - 1e-12 <= x and x + w <= 2.0 - 0.01 + 1e-12
        assert 0.01 - 1e-12 <= y and y + h <= 1.5 - 0.01 + 1e-12
    for i, (k, x, y, w, h) in enumerate(rects):
        for k2, x2, y2, w2, h2 in rects[i + 1:]:
            if k == k2:
                assert x + w + 0.01 <= x2 + 1e-12 or x2 + w2 + 0.01 <= x + 1e-12 or \
                    y + h + 0.01 <= y2 + 1e-12 or y2 + h2 + 0.01 <= y + 1e-12


# -- the files ------------------------------------------------------------------------------
def _rebend(panel, points: np.ndarray) -> np.ndarray:
    """Map flat points (k, 2) back onto the panel's 3D mesh by barycentric coordinates."""
    uv, tri = panel.flat.uv, panel.triangles
    a, b, c = uv[tri[:, 0]], uv[tri[:, 1]], uv[tri[:, 2]]
    out = np.empty((len(points), 3))
    for k, q in enumerate(points):
        m = np.stack([b - a, c - a], axis=2)
        with np.errstate(all="ignore"):
            lam = np.linalg.solve(m, (q - a)[:, :, None])[:, :, 0]
        bary = np.column_stack([1 - lam.sum(1), lam])
        t = int(np.argmax(bary.min(axis=1)))   # the containing (or nearest) triangle
        assert bary[t].min() > -1e-6
        out[k] = bary[t] @ panel.vertices[tri[t]]
    return out


def test_dxf_outline_rebent_lies_on_the_panel_boundary(kapoor, tmp_path):
    write_outputs(kapoor, tmp_path / "fab")
    surf = Surface(kapoor.params)
    for name in ("B-R1-C1", "B-R2-C3", "A-R1-C2"):
        panel = kapoor.panel(name)
        doc = ezdxf.readfile(tmp_path / "fab" / "patterns" / f"{name}.dxf")
        assert doc.dxfversion >= "AC1024"       # R2010 or later
        assert doc.units == ezdxf.units.MM
        auditor = doc.audit()       # ezdxf's structural check of the file, as CAD reads it
        assert not auditor.has_errors, [e.message for e in auditor.errors]
        assert {e.dxf.layer for e in doc.modelspace()} == {"CUT", "LABEL", "GRAIN"}
        (cut,) = doc.modelspace().query('LWPOLYLINE[layer=="CUT"]')
        assert cut.closed
        pts = np.array([p[:2] for p in cut.get_points()]) / 1000.0
        # Points along the cut line, every 5 mm, re-bent onto the surface.
        ring = np.vstack([pts, pts[:1]])
        seg = np.diff(ring, axis=0)
        steps = np.maximum(1, (np.linalg.norm(seg, axis=1) / 0.005).astype(int))
        dense = np.concatenate([ring[i] + seg[i] * np.linspace(0, 1, s, endpoint=False)[:, None]
                                for i, s in enumerate(steps)])
        bent = _rebend(panel, dense)
        # Distance to the panel's exact boundary (its four parameter lines, finely sampled).
        c = panel.cell
        t = np.linspace(0, 1, 4001)
        edges = [surf.point(c.u0 + (c.u1 - c.u0) * t, np.full_like(t, c.v0)),
                 surf.point(c.u0 + (c.u1 - c.u0) * t, np.full_like(t, c.v1)),
                 surf.point(np.full_like(t, c.u0), c.v0 + (c.v1 - c.v0) * t),
                 surf.point(np.full_like(t, c.u1), c.v0 + (c.v1 - c.v0) * t)]
        boundary = np.concatenate(edges)
        dist = np.array([np.linalg.norm(boundary - q, axis=1).min() for q in bent])
        plate = max(panel.size)
        assert dist.max() < 0.0005 * plate, (name, dist.max())


@pytest.mark.parametrize("params", [SHAPES[1], preset("blog-part2"),
                                    preset("blog-unmatched", s_amplitude=-1.0)],
                         ids=["unmatched-bent", "pinched", "unmatched-reverse"])
def test_outputs_for_other_walls(params, tmp_path):
    fab = fabricate(params)
    write_outputs(fab, tmp_path / "fab")
    # Strict JSON: no NaN or Infinity even where the wall pinches.
    data = json.loads((tmp_path / "fab" / "report.json").read_text(),
                      parse_constant=lambda c: pytest.fail(f"{c} in report.json"))
    assert data["totals"]["panels"] == len(fab.panels)
    assert data["totals"]["pinched_panels"] == [p.name for p in fab.panels if p.pinched]
    assert len(list((tmp_path / "fab" / "patterns").iterdir())) == len(fab.panels)


def test_outputs_are_whole_or_none(kapoor, tmp_path, monkeypatch):
    from scurve_geom.fabricate import outputs

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outputs, "draw_strain_map", broken)
    with pytest.raises(RuntimeError):
        write_outputs(kapoor, tmp_path / "fab")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    write_outputs(kapoor, tmp_path / "fab")
    first = (tmp_path / "fab" / "report.json").read_text()
    monkeypatch.setattr(outputs, "draw_strain_map", broken)
    with pytest.raises(RuntimeError):
        write_outputs(kapoor, tmp_path / "fab")
    # The earlier set is still there, untouched, and nothing else.
    assert (tmp_path / "fab" / "report.json").read_text() == first
    assert [p.name for p in tmp_path.iterdir()] == ["fab"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scurve_geom.fabricate", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_cli_writes_every_file(tmp_path):
    r = _cli("--preset", "kapoor", "--plate", "2.5", "1.25", "--seam-allowance", "0.01",
             "--s-amplitude", "0.5", "--arch-angle", "90", "--out", "fab", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "fab"
    data = json.loads((out / "report.json").read_text())
    n = data["totals"]["panels"]
    assert sorted(p.name for p in (out / "patterns").iterdir()) == \
        sorted(f"{p['name']}.dxf" for p in data["panels"])
    assert len(data["panels"]) == n and n == r.stdout.count("\n") - 2   # header, summary
    assert data["options"]["plate_width"] == 2.5
    assert data["mirror"]["s_amplitude"] == 0.5
    assert data["mirror"]["arch_angle_deg"] == pytest.approx(90.0)
    assert data["options"]["seam_allowance"] == 0.01
    doc = ezdxf.readfile(out / "patterns" / f"{data['panels'][0]['name']}.dxf")
    cut = doc.modelspace().query('LWPOLYLINE[layer=="CUT"]')[0]
    finished = doc.modelspace().query('LWPOLYLINE[layer=="FINISHED"]')[0]
    # The cut line runs 10 mm outside the finished outline (its box 20 mm larger).
    box = lambda e: np.ptp(np.array([p[:2] for p in e.get_points()]), axis=0)  # noqa: E731
    np.testing.assert_allclose(box(cut) - box(finished), 20.0, atol=0.5)
    for name in ("nesting.svg", "nesting.png", "strain_map.png"):
        assert (out / name).stat().st_size > 10_000
    assert (out / "nesting.svg").read_text().lstrip().startswith("<?xml")
    assert data["totals"]["nesting_waste"] == pytest.approx(
        1 - data["totals"]["cut_area_m2"] / data["totals"]["plate_area_m2"])


@pytest.mark.parametrize("args, words", [
    (["--plate", "0", "1"], "plate_width=0.0 is out of range"),
    (["--thickness", "-0.01"], "thickness=-0.01 is out of range"),
    (["--density", "nan"], "density=nan"),
    (["--preset", "nope"], "preset='nope' is unknown"),
    (["--radius", "-1"], "radius=-1.0 is out of range"),
    (["--arch-angle", "200"], "--arch-angle 200 is out of range"),
    (["--plate", "2"], "expected 2 arguments"),
    (["--seam-allowance", "0.15", "--plate", "0.3", "0.3"], "leaves no room"),
    (["--plate", "0.12", "0.1"], "more than 600 panels"),
    (["--out", "/dev/null/fab"], "is a file, not a folder"),
    (["--out", "busy"], "holds other files"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, args, words):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    r = _cli(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and words in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy"]
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("delay", [0.8, 2.0, 3.2])
def test_ctrl_c_leaves_all_or_nothing(tmp_path, delay):
    proc = subprocess.Popen([sys.executable, "-m", "scurve_geom.fabricate", "--out", "fab"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    names = sorted(p.name for p in tmp_path.iterdir())
    if proc.returncode == 0:        # finished before the signal
        assert names == ["fab"]
        assert len(list((tmp_path / "fab" / "patterns").iterdir())) == 12
    else:
        assert proc.returncode == 130, err
        assert err.strip() == "scurve_geom.fabricate: interrupted"
        assert names == []          # no partial folder, no hidden temporary one


def test_overlay_covers_both_faces_of_each_panel(kapoor):
    from scurve_geom.fabricate.overlay import panel_overlay

    o = panel_overlay(kapoor, lift=0.004)
    m = o.mesh
    half = m.n_faces // 2
    assert set(o.face_panel[:half]) == set(range(len(kapoor.panels)))
    np.testing.assert_array_equal(o.face_panel[:half], o.face_panel[half:])
    # Each quad's normal against the exact front normal at its parameters: the first
    # half face the front, the second the back, 4 mm off the surface.
    from scurve_geom.optics.mirror import exact_normals

    corners = m.vertices[m.faces]
    n = np.cross(corners[:, 2] - corners[:, 0], corners[:, 3] - corners[:, 1])
    uv = m.uv[m.faces].mean(axis=1)
    front = exact_normals(kapoor.params, uv)
    side = np.einsum("ij,ij->i", n, front)
    assert (side[:half] > 0).all() and (side[half:] < 0).all()
    surf = Surface(kapoor.params)
    gap = np.linalg.norm(m.vertices - surf.point(m.uv[:, 0], m.uv[:, 1]), axis=1)
    np.testing.assert_allclose(gap, 0.004, atol=1e-12)
    assert len(o.seam_edges) == len(o.seam_vertices)
