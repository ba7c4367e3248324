"""Exports re-read by independent readers, the solidified solid, and the failure modes."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest

from scurve_geom import build_grid, preset
from scurve_geom import export as export_module
from scurve_geom.cli_common import atomic
from scurve_geom.export import export, solidify, triangles
from scurve_geom.mesh import Mesh
from scurve_geom.subdivide import catmull_clark

#: float32 storage of coordinates of a few metres.
F32 = 1e-6


@pytest.fixture(scope="module")
def mesh() -> Mesh:
    # Subdivided, so faces are no longer a grid, with the S-bend so no coordinate is trivial.
    return catmull_clark(build_grid(preset("blog-part2", s_amplitude=0.8)), 2)


def sorted_rows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[np.lexsort(np.round(a, 5).T[::-1])]


def assert_same_points(a: np.ndarray, b: np.ndarray, atol: float) -> None:
    """Equal as point sets (writers may reorder or split vertices)."""
    assert a.shape == b.shape
    np.testing.assert_allclose(sorted_rows(a), sorted_rows(b), atol=atol)


def canonical_triangles(t: np.ndarray) -> np.ndarray:
    """Triangles rotated to start at their smallest index (winding kept), rows sorted."""
    t = np.asarray(t, dtype=np.int64)
    k = t.argmin(axis=1)
    rolled = t[np.arange(len(t))[:, None], (k[:, None] + np.arange(3)) % 3]
    return rolled[np.lexsort(rolled.T[::-1])]


def quad_area(m: Mesh) -> float:
    p = m.vertices[triangles(m.faces)]
    return 0.5 * float(np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1).sum())


# -- formats ---------------------------------------------------------------------------------


def test_obj_reread_by_trimesh(mesh, tmp_path):
    trimesh = pytest.importorskip("trimesh")
    path = export(mesh, tmp_path / "m.obj")
    got = trimesh.load(path, process=False, maintain_order=True)
    assert len(got.faces) == 2 * mesh.n_faces
    np.testing.assert_allclose(got.vertices, mesh.vertices, atol=1e-8)
    # trimesh orders the split triangles its own way: compare as sets, windings included.
    np.testing.assert_array_equal(canonical_triangles(got.faces),
                                  canonical_triangles(triangles(mesh.faces)))
    np.testing.assert_allclose(got.visual.uv, mesh.uv, atol=1e-7)
    np.testing.assert_allclose(got.vertex_normals, mesh.vertex_normals(), atol=1e-6)


def test_obj_text_is_quads_with_v_vt_vn(mesh, tmp_path):
    lines = (export(mesh, tmp_path / "m.obj")).read_text().splitlines()
    faces = [ln for ln in lines if ln.startswith("f ")]
    assert len(faces) == mesh.n_faces
    first = [tuple(map(int, c.split("/"))) for c in faces[0].split()[1:]]
    assert first == [(i + 1,) * 3 for i in mesh.faces[0]]
    assert sum(ln.startswith("v ") for ln in lines) == mesh.n_vertices
    assert sum(ln.startswith("vt ") for ln in lines) == mesh.n_vertices
    assert sum(ln.startswith("vn ") for ln in lines) == mesh.n_vertices


def test_ply_reread_by_plyfile(mesh, tmp_path):
    plyfile = pytest.importorskip("plyfile")
    data = plyfile.PlyData.read(str(export(mesh, tmp_path / "m.ply")))
    assert data.text is False and data.byte_order == "<"
    v = data["vertex"]
    xyz = np.stack([v["x"], v["y"], v["z"]], axis=1)
    np.testing.assert_allclose(xyz, mesh.vertices, atol=F32)
    np.testing.assert_allclose(np.stack([v["nx"], v["ny"], v["nz"]], axis=1),
                               mesh.vertex_normals(), atol=F32)
    np.testing.assert_allclose(np.stack([v["s"], v["t"]], axis=1), mesh.uv, atol=1e-7)
    faces = np.vstack(data["face"]["vertex_indices"])
    np.testing.assert_array_equal(faces, mesh.faces)


def test_stl_reread_by_numpy_stl(mesh, tmp_path):
    stl_mesh = pytest.importorskip("stl.mesh")
    # The normals as stored in the file, not recomputed by the reader.
    got = stl_mesh.Mesh.from_file(str(export(mesh, tmp_path / "m.stl")), calculate_normals=False)
    assert len(got.vectors) == 2 * mesh.n_faces
    want = mesh.vertices[triangles(mesh.faces)]
    np.testing.assert_allclose(got.vectors, want, atol=F32)
    n = np.cross(want[:, 1] - want[:, 0], want[:, 2] - want[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    np.testing.assert_allclose(got.normals, n, atol=1e-6)
    # The quads face the front (-y at the seam): so do their triangles.
    seam = np.abs(want.mean(axis=1)[:, 0]) < 0.05
    assert np.all(got.normals[seam, 1] < 0)


def gltf_arrays(path):
    pygltflib = pytest.importorskip("pygltflib")
    gltf = pygltflib.GLTF2().load(str(path))
    blob = gltf.binary_blob()
    kinds = {5126: np.float32, 5125: np.uint32}
    widths = {"VEC3": 3, "VEC2": 2, "SCALAR": 1}

    def read(i):
        acc = gltf.accessors[i]
        view = gltf.bufferViews[acc.bufferView]
        start = view.byteOffset + (acc.byteOffset or 0)
        a = np.frombuffer(blob, kinds[acc.componentType], acc.count * widths[acc.type], start)
        return acc, a.reshape(acc.count, -1)

    prim = gltf.meshes[0].primitives[0]
    return gltf, {name: read(i) for name, i in (
        ("POSITION", prim.attributes.POSITION), ("NORMAL", prim.attributes.NORMAL),
        ("TEXCOORD_0", prim.attributes.TEXCOORD_0), ("indices", prim.indices))}


def test_glb_reread_by_pygltflib(mesh, tmp_path):
    gltf, arrays = gltf_arrays(export(mesh, tmp_path / "m.glb"))
    assert gltf.asset.version == "2.0" and len(gltf.meshes) == 1
    acc, pos = arrays["POSITION"]
    # Y up: (x, y, z) was written as (x, z, -y).
    back = np.stack([pos[:, 0], -pos[:, 2], pos[:, 1]], axis=1)
    np.testing.assert_allclose(back, mesh.vertices, atol=F32)
    assert acc.min == pos.min(axis=0).tolist() and acc.max == pos.max(axis=0).tolist()
    _, nor = arrays["NORMAL"]
    np.testing.assert_allclose(np.stack([nor[:, 0], -nor[:, 2], nor[:, 1]], axis=1),
                               mesh.vertex_normals(), atol=F32)
    _, tex = arrays["TEXCOORD_0"]
    np.testing.assert_allclose(np.stack([tex[:, 0], 1 - tex[:, 1]], axis=1), mesh.uv,
                               atol=1e-7)
    acc, idx = arrays["indices"]
    assert acc.componentType == 5125
    np.testing.assert_array_equal(idx.reshape(-1, 3), triangles(mesh.faces))


def test_glb_loads_in_trimesh_facing_front(mesh, tmp_path):
    trimesh = pytest.importorskip("trimesh")
    scene = trimesh.load(export(mesh, tmp_path / "m.glb"))
    got = next(iter(scene.geometry.values())) if hasattr(scene, "geometry") else scene
    assert len(got.faces) == 2 * mesh.n_faces
    y_up = mesh.vertices @ np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=float)
    assert_same_points(np.asarray(got.vertices), y_up, atol=F32)
    # Front (-y in Blender) is +z in glTF: the winding survived the rotation.
    seam = np.abs(got.triangles_center[:, 0]) < 0.05
    assert np.all(got.face_normals[seam, 2] > 0)


# -- solid -----------------------------------------------------------------------------------


@pytest.mark.parametrize("weld", [True, False])
def test_solidify_is_closed_and_outward(weld):
    sheet = catmull_clark(build_grid(preset("blog-part2", weld_seam=weld)), 2)
    solid = solidify(sheet, 0.01)
    report = solid.check()
    assert report.manifold and report.consistent_winding and report.boundary_loops == 0
    # One closed solid per sheet: the unwelded seed is two sheets.
    assert report.euler_characteristic == (2 if weld else 4)
    assert solid.n_vertices == 2 * sheet.n_vertices
    assert solid.n_faces == 2 * sheet.n_faces + sum(len(b) for b in sheet.boundary_loops())


@pytest.mark.parametrize("offset", [-1.0, 0.0, 1.0])
def test_solid_watertight_with_volume_area_times_thickness(tmp_path, offset):
    trimesh = pytest.importorskip("trimesh")
    sheet = catmull_clark(build_grid(preset("blog-part2")), 3)
    thickness = 0.01
    solid = solidify(sheet, thickness, offset=offset)
    path = export(solid, tmp_path / "solid.stl")
    got = trimesh.load(path)
    assert got.is_watertight and got.is_winding_consistent
    expected = quad_area(sheet) * thickness
    print(f"\nsolid volume {got.volume:.6f} m³, area × thickness {expected:.6f} m³")
    # Positive: normals point out. Curvature (t / r = 1 %) shifts it by well under 2 %.
    assert got.volume == pytest.approx(expected, rel=0.02)


def test_export_thickness_writes_the_solid(mesh, tmp_path):
    plyfile = pytest.importorskip("plyfile")
    data = plyfile.PlyData.read(str(export(mesh, tmp_path / "s.ply", thickness=0.005)))
    assert len(data["vertex"]) == 2 * mesh.n_vertices
    assert len(data["face"]) == solidify(mesh, 0.005).n_faces


# -- failures --------------------------------------------------------------------------------


def test_unknown_extension_raises_and_writes_nothing(mesh, tmp_path):
    with pytest.raises(ValueError, match=r"unknown extension '\.fbx'.*\.obj, \.ply, \.stl, \.glb"):
        export(mesh, tmp_path / "m.fbx")
    with pytest.raises(ValueError, match="unknown extension ''"):
        export(mesh, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_raises_oserror(mesh, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export(mesh, tmp_path / "nope" / "m.obj")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_raises_oserror(mesh, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match=r"cannot write '.*m\.stl': Permission denied"):
        export(mesh, tmp_path / "m.stl")
    assert list(tmp_path.iterdir()) == []


def test_folder_nobody_can_write_raises_oserror(mesh):
    # /proc refuses new files even to root (CI runs as root, so a chmod-ed folder would
    # prove nothing there); the permission-denied path is covered by the test above.
    proc = Path("/proc")
    before = set(os.listdir(proc))
    with pytest.raises(OSError, match="cannot write"):
        export(mesh, proc / "m.obj")
    assert not any(n.startswith((".m", "m.")) for n in set(os.listdir(proc)) - before)


def test_failure_mid_write_leaves_old_file_and_no_temp(mesh, tmp_path, monkeypatch):
    target = tmp_path / "m.ply"
    target.write_bytes(b"old")

    def broken(m, fh):
        fh.write(b"ply\npartial")
        raise RuntimeError("disk full")

    monkeypatch.setitem(export_module.FORMATS, ".ply", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export(mesh, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.ply"]


def test_overwrite_and_case_insensitive_extension(mesh, tmp_path):
    target = tmp_path / "M.GLB"
    target.write_bytes(b"old")
    export(mesh, target)
    magic, version, length = struct.unpack("<4sII", target.read_bytes()[:12])
    assert (magic, version, length) == (b"glTF", 2, target.stat().st_size)
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


@pytest.mark.parametrize("thickness", [-0.01, float("nan"), float("inf"), True, "1"])
def test_bad_thickness_raises(mesh, tmp_path, thickness):
    with pytest.raises(ValueError, match="thickness"):
        export(mesh, tmp_path / "m.stl", thickness=thickness)
    assert list(tmp_path.iterdir()) == []


def test_solidify_rejects_bad_arguments(mesh):
    with pytest.raises(ValueError, match="thickness=0"):
        solidify(mesh, 0)
    with pytest.raises(ValueError, match="offset=2"):
        solidify(mesh, 0.01, offset=2)


def test_non_finite_vertices_rejected(tmp_path):
    m = build_grid(preset("blog-part2"))
    v = m.vertices.copy()
    v[3, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        export(Mesh(v, m.faces, m.uv), tmp_path / "m.obj")
    assert list(tmp_path.iterdir()) == []
