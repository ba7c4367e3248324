"""Write a :class:`~scurve_geom.mesh.Mesh` as OBJ, PLY, STL or glTF binary, numpy + stdlib only.

The format follows the file's extension:

``.obj``
    Text: ``v``, ``vt``, ``vn`` per vertex and quads ``f v/vt/vn`` (1-based); Z up, metres.
``.ply``
    Binary little-endian: vertex ``x y z nx ny nz s t`` (float32), quad faces
    (``uchar`` count, ``int`` indices).
``.stl``
    Binary: triangles (each quad split along its 0-2 diagonal) with facet normals, float32.
``.glb``
    glTF 2.0 binary: one mesh, one triangle primitive with ``POSITION`` (with min/max),
    ``NORMAL``, ``TEXCOORD_0`` (float32) and uint32 indices, plus a polished-metal material.
    glTF is +Y up, so ``(x, y, z)`` becomes ``(x, z, -y)`` (a rotation: windings survive),
    and its texture origin is the image's top-left, so ``v`` becomes ``1 - v``.

Every writer is vectorised (``tobytes`` for binaries, one ``%``-format per chunk for OBJ).
Files are written to a temporary file in the target folder and moved into place with
:func:`os.replace`, so a failure never leaves a partial file behind.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .cli_common.atomic import write_atomically
from .mesh import Mesh
from .solidify import solidify

__all__ = ["FORMATS", "export", "solidify", "triangles"]

#: Rows per formatted OBJ chunk: bounds the temporary strings to tens of MB.
_OBJ_CHUNK = 200_000


def triangles(faces: np.ndarray) -> np.ndarray:
    """Split quads along their 0-2 diagonal: int (M, 4) → same dtype (2M, 3), same winding.

    Triangle ``2i`` is ``(f0, f1, f2)``, ``2i + 1`` is ``(f0, f2, f3)``.
    """
    tri = np.empty((len(faces), 2, 3), dtype=faces.dtype)
    tri[:, 0] = faces[:, :3]
    tri[:, 1, 0] = faces[:, 0]
    tri[:, 1, 1:] = faces[:, 2:]
    return tri.reshape(-1, 3)


def export(mesh: Mesh, path: str | os.PathLike[str], *, thickness: float = 0.0) -> Path:
    """Write ``mesh`` to ``path`` in the format named by its extension.

    Parameters
    ----------
    mesh : Mesh
        Positions float64 (N, 3) in metres, quads int (M, 4), UVs (N, 2).
    path : str or PathLike
        Target file; its extension (``.obj``, ``.ply``, ``.stl``, ``.glb``, any case)
        picks the format. An existing file is replaced atomically.
    thickness : float, optional
        If > 0, metres: write :func:`solidify` ``(mesh, thickness)``, a closed watertight
        solid centred on the sheet, instead of the sheet.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        For an unknown extension, a negative or non-finite ``thickness`` or non-finite
        vertices. Nothing is written.
    OSError
        If the folder does not exist or is not writable, naming the path. No file (and
        no temporary file) is left behind.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    writer = FORMATS.get(suffix)
    if writer is None:
        known = ", ".join(FORMATS)
        raise ValueError(
            f"cannot export to '{target}': unknown extension '{target.suffix}' "
            f"(use one of {known})"
        )
    if isinstance(thickness, bool) or not isinstance(thickness, int | float | np.floating):
        raise ValueError(f"thickness={thickness!r} must be a number of metres")
    if not math.isfinite(thickness) or thickness < 0:
        raise ValueError(f"thickness={thickness!r} is out of range: must be >= 0 metres")
    if not np.all(np.isfinite(mesh.vertices)):
        raise ValueError("cannot export: mesh has non-finite vertex positions")
    if thickness > 0:
        mesh = solidify(mesh, float(thickness))

    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            2, f"cannot write '{target}': folder '{folder}' does not exist"
        )
    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            writer(mesh, fh)

    try:
        write_atomically(target, write)
    except OSError as exc:
        if exc.filename is None or str(exc.filename) == str(target):
            raise type(exc)(exc.errno, f"cannot write '{target}': {exc.strerror}") from exc
        raise
    return target


# -- writers ---------------------------------------------------------------------------------


def _write_obj(mesh: Mesh, fh: BinaryIO) -> None:
    v = mesh.vertices
    n = mesh.vertex_normals()
    t = mesh.uv
    fh.write(
        b"# S-curve mirror, written by scurve_geom\n"
        b"# metres, Z up; faces counter-clockwise seen from the front\n"
    )
    fh.write(f"o scurve_mirror\n# {len(v)} vertices, {mesh.n_faces} quads\n".encode())
    _write_rows(fh, "v %.10g %.10g %.10g\n", v)
    _write_rows(fh, "vt %.8g %.8g\n", t)
    _write_rows(fh, "vn %.7g %.7g %.7g\n", n)
    f = mesh.faces.astype(np.int64) + 1
    _write_rows(fh, "f %d/%d/%d %d/%d/%d %d/%d/%d %d/%d/%d\n", np.repeat(f, 3, axis=1))


def _write_rows(fh: BinaryIO, line: str, rows: np.ndarray) -> None:
    """Format ``rows`` with ``line`` per row: one ``%`` per chunk instead of one per row."""
    for start in range(0, len(rows), _OBJ_CHUNK):
        chunk = rows[start : start + _OBJ_CHUNK]
        fh.write(((line * len(chunk)) % tuple(chunk.ravel().tolist())).encode("ascii"))


def _write_ply(mesh: Mesh, fh: BinaryIO) -> None:
    n_v, n_f = mesh.n_vertices, mesh.n_faces
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment S-curve mirror, scurve_geom, metres, Z up\n"
        f"element vertex {n_v}\n"
        + "".join(f"property float {p}\n" for p in ("x", "y", "z", "nx", "ny", "nz", "s", "t"))
        + f"element face {n_f}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    fh.write(header.encode("ascii"))
    vert = np.empty((n_v, 8), dtype="<f4")
    vert[:, :3] = mesh.vertices
    vert[:, 3:6] = mesh.vertex_normals()
    vert[:, 6:] = mesh.uv
    fh.write(vert.tobytes())
    face = np.empty(n_f, dtype=[("n", "u1"), ("i", "<i4", (4,))])
    face["n"] = 4
    face["i"] = mesh.faces
    fh.write(face.tobytes())


def _write_stl(mesh: Mesh, fh: BinaryIO) -> None:
    tri = triangles(mesh.faces)
    p = mesh.vertices[tri]  # (T, 3, 3)
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    normal /= np.where(length > 0, length, 1.0)
    data = np.empty((len(tri), 12), dtype="<f4")
    data[:, :3] = normal
    data[:, 3:] = p.reshape(-1, 9)
    # 50-byte records: 12 float32 then a zero uint16 "attribute byte count". Copying bytes
    # into a (T, 50) uint8 block is far faster than filling an unaligned structured array.
    rec = np.zeros((len(tri), 50), dtype=np.uint8)
    rec[:, :48] = data.view(np.uint8)
    header = b"S-curve mirror, scurve_geom, metres, Z up".ljust(80, b" ")
    fh.write(header + struct.pack("<I", len(tri)))
    fh.write(rec.tobytes())


#: glTF is +Y up: (x, y, z) -> (x, z, -y), a proper rotation.
_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def _write_glb(mesh: Mesh, fh: BinaryIO) -> None:
    pos = (mesh.vertices @ _Y_UP.T).astype("<f4")
    nor = (mesh.vertex_normals() @ _Y_UP.T).astype("<f4")
    tex = np.empty((mesh.n_vertices, 2), dtype="<f4")
    tex[:, 0] = mesh.uv[:, 0]
    tex[:, 1] = 1.0 - mesh.uv[:, 1]
    idx = triangles(mesh.faces).astype("<u4")

    blobs = [pos.tobytes(), nor.tobytes(), tex.tobytes(), idx.tobytes()]
    views, offset = [], 0
    for blob, target in zip(blobs, (34962, 34962, 34962, 34963), strict=True):
        views.append({"buffer": 0, "byteOffset": offset, "byteLength": len(blob),
                      "target": target})
        offset += _pad4(len(blob))
    n_v = mesh.n_vertices
    accessors = [
        {"bufferView": 0, "componentType": 5126, "count": n_v, "type": "VEC3",
         # min/max must be the float32 values actually stored.
         "min": pos.min(axis=0).tolist() if n_v else [0.0] * 3,
         "max": pos.max(axis=0).tolist() if n_v else [0.0] * 3},
        {"bufferView": 1, "componentType": 5126, "count": n_v, "type": "VEC3"},
        {"bufferView": 2, "componentType": 5126, "count": n_v, "type": "VEC2"},
        {"bufferView": 3, "componentType": 5125, "count": int(idx.size), "type": "SCALAR"},
    ]
    doc = {
        "asset": {"version": "2.0", "generator": "scurve_geom"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "scurve_mirror"}],
        "meshes": [{"name": "scurve_mirror", "primitives": [{
            "attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
            "indices": 3, "mode": 4, "material": 0}]}],
        "materials": [{"name": "polished_steel", "pbrMetallicRoughness": {
            "baseColorFactor": [0.9, 0.9, 0.9, 1.0], "metallicFactor": 1.0,
            "roughnessFactor": 0.05}}],
        "buffers": [{"byteLength": offset}],
        "bufferViews": views,
        "accessors": accessors,
    }
    json_bytes = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    json_bytes += b" " * (_pad4(len(json_bytes)) - len(json_bytes))
    total = 12 + 8 + len(json_bytes) + 8 + offset
    fh.write(struct.pack("<4sII", b"glTF", 2, total))
    fh.write(struct.pack("<I4s", len(json_bytes), b"JSON") + json_bytes)
    fh.write(struct.pack("<I4s", offset, b"BIN\x00"))
    for blob in blobs:
        fh.write(blob + b"\x00" * (_pad4(len(blob)) - len(blob)))


def _pad4(n: int) -> int:
    return (n + 3) & ~3


#: Extension → writer taking ``(mesh, binary file)``.
FORMATS: dict[str, Callable[[Mesh, BinaryIO], None]] = {
    ".obj": _write_obj,
    ".ply": _write_ply,
    ".stl": _write_stl,
    ".glb": _write_glb,
}
