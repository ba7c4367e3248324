"""Face planes in real Blender: decoded faces on packed images, replacement, clean errors."""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

import latent_faces  # noqa: E402
from blender_addon import face_planes  # noqa: E402


@pytest.fixture
def mirror(addon):
    bpy.ops.mesh.scurve_mirror_add(preset="blog-part2")
    return bpy.context.active_object


def our_images():
    return [i for i in bpy.data.images if i.get(face_planes.ROLE_KEY) == "image"]


def image_rgb(img):
    w, h = img.size
    flat = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(flat)
    return flat.reshape(h, w, 4)[::-1, :, :3]


def test_decoded_faces_on_packed_planes(mirror):
    settings = bpy.context.scene.scurve_faces
    settings.count, settings.seed, settings.mode = 4, 7, "normal"
    assert bpy.ops.scene.scurve_face_planes() == {"FINISHED"}
    planes = face_planes.face_plane_objects(bpy.context.scene)
    assert len(planes) == 4
    expected = face_planes.decode_faces(4, mode="normal", seed=7)
    dec = latent_faces.NumpyDecoder.load(latent_faces.shipped_decoder_path())
    z = latent_faces.sample_latents("normal", 4, 7, z_dim=dec.z_dim)
    np.testing.assert_array_equal(expected, dec.decode(z))
    for obj, face in zip(planes, expected, strict=True):
        mat = obj.active_material
        tex = next(n for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeTexImage")
        img = tex.image
        assert img.packed_file is not None, "a saved .blend must carry its faces"
        assert tuple(img.size) == (96, 96)
        # Stored as bytes: equal to the decoder's output up to 8-bit rounding.
        assert np.abs(image_rgb(img) - face).max() <= 0.5 / 255 + 1e-6
        # Upright, in front of the wall, facing it.
        assert obj.matrix_world.translation.y < 0


def test_running_again_replaces_only_its_own(mirror, data_counts):
    foreign_img = bpy.data.images.new("mine", 8, 8)
    foreign = bpy.data.objects.new("my empty", None)
    bpy.context.scene.collection.objects.link(foreign)
    settings = bpy.context.scene.scurve_faces
    settings.count = 5
    bpy.ops.scene.scurve_face_planes()
    settings.count, settings.seed = 3, 1
    bpy.ops.scene.scurve_face_planes()
    assert len(face_planes.face_plane_objects(bpy.context.scene)) == 3
    assert len(our_images()) == 3
    assert "my empty" in bpy.data.objects and "mine" in bpy.data.images
    assert foreign_img.users == 0 or foreign_img.name == "mine"
    assert face_planes.remove_face_planes(bpy.context.scene) == 3
    assert our_images() == []


def write_png(path, rgb):
    from PIL import Image

    Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)).save(path)


def test_faces_from_a_folder(mirror, tmp_path):
    rng = np.random.default_rng(0)
    pictures = [rng.random((40, 30, 3)) for _ in range(3)]
    for i, rgb in enumerate(pictures):
        write_png(tmp_path / f"face{i}.png", rgb)
    (tmp_path / "notes.txt").write_text("not a picture")
    settings = bpy.context.scene.scurve_faces
    settings.source, settings.folder, settings.count = "FOLDER", str(tmp_path), 3
    assert bpy.ops.scene.scurve_face_planes() == {"FINISHED"}
    planes = face_planes.face_plane_objects(bpy.context.scene)
    got = [image_rgb(p.active_material.node_tree.nodes["Image Texture"].image) for p in planes]
    for rgb, img in zip(pictures, got, strict=True):
        assert img.shape == (40, 30, 3)
        assert np.abs(img - np.round(rgb * 255) / 255).max() < 1e-6


def bad_decoder(tmp_path):
    path = tmp_path / "wrong.npz"
    np.savez(path, weights=np.zeros((3, 3)))
    return path


@pytest.mark.parametrize("case", ["missing_folder", "empty_folder", "corrupt_png",
                                  "bad_decoder", "missing_decoder"])
def test_errors_name_the_file_and_leave_nothing(mirror, tmp_path, data_counts, case):
    settings = bpy.context.scene.scurve_faces
    settings.count = 2
    bpy.ops.scene.scurve_face_planes()  # earlier planes that must survive a failed rerun
    before = data_counts()
    if case == "missing_folder":
        settings.source, settings.folder = "FOLDER", str(tmp_path / "nope")
        named = "nope"
    elif case == "empty_folder":
        settings.source, settings.folder = "FOLDER", str(tmp_path)
        named = str(tmp_path)
    elif case == "corrupt_png":
        (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
        settings.source, settings.folder = "FOLDER", str(tmp_path)
        named = "broken.png"
    elif case == "bad_decoder":
        settings.decoder = str(bad_decoder(tmp_path))
        named = "wrong.npz"
    else:
        settings.decoder = str(tmp_path / "absent.npz")
        named = "absent.npz"
    with pytest.raises(RuntimeError, match=named.replace(".", r"\.")):
        bpy.ops.scene.scurve_face_planes()
    assert data_counts() == before
    assert len(face_planes.face_plane_objects(bpy.context.scene)) == 2


def test_preview_strip_and_reroll(mirror):
    settings = bpy.context.scene.scurve_faces
    settings.count = 3
    assert face_planes.refresh_preview(settings) == ""
    # Icon ids are only handed out with a window; the thumbnails' pixels are there anyway.
    assert len(face_planes.preview_icons()) == 3
    faces = face_planes.decode_faces(3, seed=settings.seed)
    pcoll = face_planes.preview._Preview.collection
    for i, face in enumerate(faces):
        prev = pcoll[f"face{i}"]
        assert tuple(prev.image_size) == (96, 96)
        px = np.empty(96 * 96 * 4, dtype=np.float32)
        prev.image_pixels_float.foreach_get(px)
        np.testing.assert_allclose(px.reshape(96, 96, 4)[::-1, :, :3], face, atol=1 / 255)
    seed = settings.seed
    bpy.ops.scene.scurve_face_reroll()
    assert settings.seed == seed + 1
    settings.decoder = "/no/such/decoder.npz"
    assert "decoder.npz" in face_planes.preview_error()


def test_poll_needs_a_mirror(addon):
    assert not bpy.ops.scene.scurve_face_planes.poll()


def test_visibility_and_camera_layout_options(mirror):
    settings = bpy.context.scene.scurve_faces
    settings.count = 2
    assert settings.visibility == "reflected"
    assert bpy.ops.scene.scurve_face_planes() == {"FINISHED"}
    for obj in face_planes.face_plane_objects(bpy.context.scene):
        assert not obj.visible_camera and not obj.visible_shadow
        assert not obj.visible_diffuse and obj.visible_glossy
    settings.visibility = "visible"
    assert bpy.ops.scene.scurve_face_planes() == {"FINISHED"}
    for obj in face_planes.face_plane_objects(bpy.context.scene):
        assert obj.visible_camera and obj.visible_shadow and obj.visible_glossy
    # Aimed at the scene camera, and there is none: an error, the planes stay as they were.
    names = [o.name for o in face_planes.face_plane_objects(bpy.context.scene)]
    settings.layout = "camera"
    with pytest.raises(RuntimeError, match="needs a scene camera"):
        bpy.ops.scene.scurve_face_planes()
    assert [o.name for o in face_planes.face_plane_objects(bpy.context.scene)] == names


@pytest.mark.parametrize(("layout", "scale"), [("camera", (1.0, 1.0, 1.0)),
                                               ("camera", (1.2, 1.2, 1.2)),
                                               ("arc", (1.2, 0.9, 1.1))])
def test_planes_stay_where_the_layout_put_them(addon, tmp_path, layout, scale):
    """Aimed pictures are sheared parallelograms; an object transform holds no shear, so
    the planes must keep their shape through a depsgraph update and a save and reload,
    around a moved, turned and scaled mirror."""
    from screen import world_vertices

    bpy.ops.mesh.scurve_mirror_add(preset="smooth")
    mirror = bpy.context.active_object
    mirror.location = (1.0, 2.0, 0.0)
    mirror.rotation_euler = (0.0, 0.0, 0.5)
    mirror.scale = scale
    assert bpy.ops.scene.scurve_stage(samples=1) == {"FINISHED"}
    rng = np.random.default_rng(0)
    faces = [*face_planes.decode_faces(2, seed=1), rng.random((40, 30, 3))]
    want_lay = face_planes.placement(bpy.context, mirror, len(faces), layout)
    face_planes.add_face_planes(bpy.context, mirror, faces, layout=layout)
    mw = np.array(mirror.matrix_world)
    want = []
    for i, rgb in enumerate(faces):
        aspect = rgb.shape[1] / rgb.shape[0]
        hw, hh = 0.5 * min(1.0, aspect), 0.5 * min(1.0, 1.0 / aspect)
        unit = np.array([(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)])
        frame = want_lay.frames[i]
        local = want_lay.centres[i] + unit[:, :1] * frame[:, 0] + unit[:, 1:] * frame[:, 2]
        want.append(local @ mw[:3, :3].T + mw[:3, 3])
    if layout == "camera":
        _, shapes = want_lay.poses()
        assert np.abs(shapes[:, 0, 2]).max() > 0.05  # the shear the transform cannot hold

    def planes_now():
        planes = face_planes.face_plane_objects(bpy.context.scene)
        return np.array([world_vertices(p) for p in planes])

    bpy.context.view_layer.update()
    np.testing.assert_allclose(planes_now(), want, atol=1e-5)
    path = tmp_path / "planes.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.open_mainfile(filepath=str(path))
    bpy.context.view_layer.update()
    np.testing.assert_allclose(planes_now(), want, atol=1e-5)


def test_camera_layout_refuses_an_unevenly_scaled_mirror(mirror, data_counts):
    mirror.scale = (1.2, 0.9, 1.1)
    assert bpy.ops.scene.scurve_stage(samples=1) == {"FINISHED"}
    before = data_counts()
    settings = bpy.context.scene.scurve_faces
    settings.layout = "camera"
    with pytest.raises(RuntimeError, match=r"is scaled \(1.2, 0.9, 1.1\): apply the scale"):
        bpy.ops.scene.scurve_face_planes()
    assert data_counts() == before
