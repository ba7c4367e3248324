"""How each command of README.md and docs/*.md is tested: the one place that says it.

Keys are the commands exactly as the documents show them (whitespace folded to one space;
a ``python`` block is keyed by its text). ``tests/docs/test_documented_commands.py`` fails
when a document shows a command that is not here, and when an entry here is no longer in
any document, so editing a command in the docs means editing its line here (a merge of two
such edits conflicts on that line).

Each value says one of:

* ``Run(lane, scale, outputs, after)``: run in a fresh copy of the checkout (a clone's
  files, no ``out/`` or ``runs/``; one copy per chain of ``after``) as the reader would
  (``bash -c`` in its root, ``.venv`` activated as the README says), after the
  ``scale`` substitutions, each a literal ``(old, new)`` that must occur in the text (so a
  changed command fails here instead of silently running unscaled). The exit status must be
  0 and every path in ``outputs`` (relative to the checkout copy; ``{tmp}`` a scratch folder
  outside it) must have been written and be non-trivial. ``after`` names entries whose
  outputs this one reads. ``make TARGET`` runs the target's recipe as ``make -n`` prints it
  (the environments taken as made), with ``scale`` applied to the recipe. Lanes:
  ``dev`` (``.venv``, in ``make test-docs``), ``bpy`` (``.venv-bpy45``, in ``make
  test-docs``), ``real`` (a real ``blender`` on ``PATH``, in ``make test-real``).
* ``Synopsis(help)``: a usage summary with ``[...]`` options; every ``--flag`` it names must
  appear in ``help --help``.
* ``Covered(by, why)``: another named test runs exactly this.
* ``DocOnly(why)``: not run; install steps and names of programs in prose.
"""

from __future__ import annotations

from dataclasses import dataclass

Sub = tuple[str, str]


@dataclass(frozen=True)
class Run:
    """Run the command (scaled) and check its status and outputs."""

    lane: str
    scale: tuple[Sub, ...] = ()
    outputs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    setup: str = ""  # a command making an input the docs leave to the reader (run first)
    stdout: str = ""  # a documented output block the printout must equal ("" : not checked)
    why: str = ""


@dataclass(frozen=True)
class Synopsis:
    """A usage summary: each ``--flag`` in it must be in ``help --help``."""

    help: str


@dataclass(frozen=True)
class Covered:
    """Run by another test, named."""

    by: str
    why: str


@dataclass(frozen=True)
class DocOnly:
    """Not run, with the reason."""

    why: str


Entry = Run | Synopsis | Covered | DocOnly

ARMS = ("tests/test_latent_warmstart.py", "a record of hours of training; the test trains the "
        "same options through the CLI at a few dozen images, and resumes")

ARMS18 = ("tests/test_latent_spectral_term.py",
          "a record of hours of training; the test trains --spectral-weight, --init from an "
          "adversarial run (its discriminator carried) and --final bilinear (with "
          "tests/test_latent_warmstart.py) through the CLI at a few dozen images")
ARMS19 = ("tests/test_latent_refine.py",
          "a record of hours of training; the tests train --refine grown on a run and a file "
          "without it, and (tests/test_latent_adversarial.py) --adv-prior-samples, through the "
          "CLI at a few dozen images; evaluate --draws is run by tests/test_latent_torch.py")

# ----------------------------------------------------------------------------- scales
# Renders: a 64x36 picture at one sample shows the same scene code, flags and outputs.
R640 = (("--resolution 640 360", "--resolution 64 36"),)
R320 = (("--resolution 320 180", "--resolution 64 36"),)
S64, S16, S4 = (("--samples 64", "--samples 1"),), (("--samples 16", "--samples 1"),), \
    (("--samples 4", "--samples 1"),)
# Training: one epoch of 64 faces tests the whole loop, checkpoint, logs and export.
TRAIN6000 = (("--n-train 6000 --n-test 500 --epochs 6", "--n-train 64 --n-test 16 --epochs 1"),)
TRAIN30000 = (("--n-train 30000 --n-test 500 --epoch-size 4000",
               "--n-train 64 --n-test 16 --epoch-size 32"),)
GEN_RUN = (("/root/scurve_runs", "{tmp}/scurve_runs"),)  # an absolute path outside the checkout
# The study: 8 latent points per setting, a 20-step scorer (the scorer's 600 steps are most
# of a scaled run's time otherwise).
STUDY = (("--n-samples 100", "--n-samples 8 --scorer-steps 20"),)
OPTICS_RAYS = (("--json", "--rays 20000 --json"),)  # default 2 M rays -> 20 k

SHIPPED_SAMPLES = ("python -m latent_faces decode --out docs/img/latent/shipped_vae_normal.png "
                   "--count 16 --seed 0 --palette")
VAE6 = (".venv/bin/python -m latent_faces train --out runs/vae --preset vae --n-train 6000 "
        "--n-test 500 --epochs 6 --threads 1 --seed 0")
AE6 = (".venv/bin/python -m latent_faces train --out runs/almost_ae --preset almost-ae "
       "--n-train 6000 --n-test 500 --epochs 6 --threads 1 --seed 0")
GEN0 = ("python -m latent_faces train --out /root/scurve_runs/gen_e0 --preset vae --kl-weight "
        "0.005 --edge-weight 0 --dropout 0 --decoder resup --dec-filters 96,64,32 --res-blocks "
        "1,1,0 --fc-channels 128 --z-dim 200 --n-train 30000 --n-test 500 --epoch-size 4000 "
        "--epochs 3 --batch-size 32 --lr 1e-3 --lr-schedule cosine --lr-min 2e-5 --lr-horizon 40 "
        "--seed 0 --threads 1 --quiet")
GEN1 = ("python -m latent_faces train --out /root/scurve_runs/gen_e0 --resume --epochs 200 "
        "--threads 1 --quiet")
GEN2 = ("python -m latent_faces train --out /root/scurve_runs/gen_e0 --resume --epochs 200 "
        "--lr-horizon 70 --threads 1 --quiet")
GEN_EVAL = ("python -m latent_faces evaluate /root/scurve_runs/gen_e0 --out "
            "/root/scurve_runs/gen_e0/eval/eNN")
STUDY_VAE = (".venv/bin/python -m latent_faces train --out runs/study_vae --preset vae --n-train "
             "30000 --n-test 500 --epoch-size 4000 --epochs 40 --lr-schedule cosine --lr-min 2e-5 "
             "--threads 1 --seed 0 --quiet")
STUDY_AE = (".venv/bin/python -m latent_faces train --out runs/study_almost-ae --preset "
            "almost-ae ...")
ANIMATE = (".venv-bpy45/bin/python render_scenes/scurve.py --out out/animate --preset smooth "
           "--animate s_amplitude=0:1.2 --frames 12 --resolution 320 180 --samples 4 --camera low "
           "--video --fps 8")
SCENE_BLEND_BPY = "python render_scenes/scurve.py ARGS"
SCENE_BLEND_REAL = "blender -b -P render_scenes/scurve.py -- ARGS"
RESUME = "python -m latent_faces train --out RUN --resume --epochs E --lr-horizon H --threads 1"
EXPORT = "python -m latent_faces export RUN/checkpoint.pt --out my_decoder.npz [--fit-prior N]"
EVALUATE = ("python -m latent_faces evaluate RUN --out DIR [--decoder NPZ] [--n-samples 100] "
            "[--seed 0]")

MENTION = "the name of a program or subcommand in prose; its full command lines are entries here"

COMMANDS: dict[str, Entry] = {
    # ------------------------------------------------------------------ README: front door
    "make demo": Run("bpy", scale=(("--face-planes 6", "--face-planes 6 --resolution 64 36 "
                                    "--samples 1"),), outputs=("out/demo.png",)),
    "make test": Covered("bash .ci/run", "this is the suite itself: CI runs it"),
    "bash .ci/run": Covered("CI", "CI's entry point; it runs `make test`, which runs this table"),
    "source .venv/bin/activate": Covered(
        "tests/doc_commands.py", "run_shell sources it before every command, as the README says"),
    "make test-docs": Covered("make test", "part of the suite: it runs this table"),
    # ------------------------------------------------------------------ README: geometry CLI
    ".venv-bpy45/bin/python render_scenes/scurve.py --out docs/img/gallery/faces.png "
    "--resolution 640 360 --face-planes 6":
        Run("bpy", scale=(("--face-planes 6", "--face-planes 6 --samples 1"), *R640),
            outputs=("docs/img/gallery/faces.png",)),
    "python -m scurve_geom --preset smooth --preview docs/img/mirror_preview.png":
        Run("dev", outputs=("docs/img/mirror_preview.png",)),
    "python -m scurve_geom --list-presets": Run("dev"),
    "python -m scurve_geom --preset kapoor --out mirror.glb --radius 1.2":
        Run("dev", outputs=("mirror.glb",)),
    "python -m scurve_geom --preset blog-part2 --subdivision-levels 3 --check": Run("dev"),
    "python -m scurve_geom --preset smooth --out print.stl --thickness 0.02":
        Run("dev", outputs=("print.stl",)),
    "python -m scurve_geom --list-presets | head -1": Run(
        "dev", why="the runner also checks stderr is empty (no BrokenPipeError traceback)"),
    "python -m scurve_geom": DocOnly(MENTION),
    "python -m scurve_geom.fabricate --preset kapoor --out fab": Run(
        "dev", outputs=("fab/report.json", "fab/strain_map.png", "fab/patterns/A-R1-C1.dxf"),
        stdout="panel    twin"),
    "python -m scurve_geom.fabricate --preset kapoor --seam-allowance 0.01 --out fab && ezdxf "
    "draw --background WHITE --dpi 100 -o pattern.png fab/patterns/B-R1-C3.dxf":
        Run("dev", outputs=("pattern.png",)),
    # ------------------------------------------------------------------ README: Python block
    "```python from scurve_geom import preset, build_mesh, MirrorParams":
        Run("dev", outputs=("mirror.glb",), why="the block, fed to python on stdin"),
    # ------------------------------------------------------------------ README: extension
    "blender --online-mode --command extension repo-add --name \"S-Curve Mirror\" --url "
    "URL/index.json scurve": Covered("tests/real/test_repository.py",
                                     "runs repo-add/sync/install/update in order against a "
                                     "repository it publishes, with its own user folders"),
    "blender --online-mode --command extension sync": Covered(
        "tests/real/test_repository.py", "as above (sync before install and before update)"),
    "blender --online-mode --command extension install scurve_mirror --enable": Covered(
        "tests/real/test_repository.py", "as above"),
    "blender --online-mode --command extension update": Covered(
        "tests/real/test_repository.py", "as above, after a higher version is published"),
    "make extension": Run("bpy", outputs=("dist/scurve_mirror-0.1.0.zip",)),
    "make extension-repo": Run("bpy", outputs=("dist/repo/index.json", "dist/repo/index.html")),
    "make extension-repo BLENDER=/path/to/blender": Run(
        "real", scale=(("BLENDER=/path/to/blender", "BLENDER=\"$(command -v blender)\""),),
        outputs=("dist/repo/index.json", "dist/repo/index.html")),
    "blender --command extension install-file -r user_default -e dist/scurve_mirror-0.1.0.zip":
        Run("real", after=("make extension",), why="into the test's own user folders"),
    "blender --command extension install-file -r user_default -e dist/scurve_mirror-*.zip":
        Covered("tests/real/test_gui.py", "the GUI test installs the zip with this command"),
    "blender --command extension validate": Covered(
        "make extension", "tools/build_extension.py runs it on every zip it builds"),
    "blender --command extension server-generate --repo-dir=dist/repo --html": Covered(
        "make extension-repo BLENDER=/path/to/blender", "that target runs exactly this"),
    # ------------------------------------------------------------------ README: default look
    "timeout 1800 .venv-bpy45/bin/python bench/bench_default_look.py --resolution 480 270 "
    "--samples 12 --json bench/results/default_look.json --png docs/img/default_look.png":
        Run("bpy", scale=(("--resolution 480 270", "--resolution 48 27"),
                          ("--samples 12", "--samples 1")),
            outputs=("bench/results/default_look.json", "docs/img/default_look.png")),
    # ------------------------------------------------------------------ README: renders
    SCENE_BLEND_BPY: Run("bpy", scale=(
        ("python render_scenes", ".venv-bpy45/bin/python render_scenes"),
        ("ARGS", "--out out/scene.png --save-blend scene.blend --resolution 64 36 --samples 1")),
        outputs=("out/scene.png", "scene.blend"),
        why="the README runs it 'with the bpy module (.venv-bpy45/bin/python)'"),
    "python render_scenes/face_planes.py --blend scene.blend ...": Run("bpy", scale=(
        ("python render_scenes", ".venv-bpy45/bin/python render_scenes"),
        ("...", "--face-planes 2 --save out.blend")), after=(SCENE_BLEND_BPY,),
        outputs=("out.blend",)),
    SCENE_BLEND_REAL: Run("real", scale=(("ARGS", "--out out/scene.png --save-blend scene.blend "
                                                  "--resolution 64 36 --samples 1"),),
                          outputs=("out/scene.png", "scene.blend")),
    "blender -b scene.blend -P render_scenes/face_planes.py -- --face-planes 6 --save out.blend":
        Run("real", after=(SCENE_BLEND_REAL,), outputs=("out.blend",)),
    "blender -b sweep.blend -f K": Run(
        "real", scale=(("-f K", "-o //frame_# -f 1"),),
        setup="blender -b -P render_scenes/scurve.py -- --out out/sweep --animate "
              "s_amplitude=0:1 --frames 2 --resolution 64 36 --samples 1 --save-blend sweep.blend",
        outputs=("frame_1.png",), why="-o names the output (by default /tmp/0001.png)"),
    "blender -b sweep.blend --python-expr \"import bpy; bpy.context.scene.cycles.use_denoising "
    "= False\" -f K": Run(
        "real", scale=(("-f K", "-o //frame_# -f 1"),),
        setup=".venv-bpy45/bin/python render_scenes/scurve.py --out out/sweep --animate "
              "s_amplitude=0:1 --frames 2 --resolution 64 36 --samples 1 --save-blend sweep.blend",
        outputs=("frame_1.png",), why="a file saved by the bpy module, which has the denoiser"),
    ANIMATE: Run("bpy", scale=(("--frames 12", "--frames 2"), *R320, *S4),
                 outputs=("out/animate/frame_0001.png", "out/animate/frame_0002.png",
                          "out/animate/animate.mp4")),
    ".venv/bin/python tools/frames_to_gif.py out/animate docs/img/animate_sbend.gif --fps 8":
        Run("dev", after=(ANIMATE,), outputs=("docs/img/animate_sbend.gif",)),
    "make animate-gif": Run("bpy", scale=(("--frames 12", "--frames 2"), *R320, *S4),
                            outputs=("docs/img/animate_sbend.gif",)),
    ".venv-bpy45/bin/python render_scenes/scurve.py --out docs/img/gallery/NAME.png "
    "--resolution 640 360 --samples 64 ...": Run("bpy", scale=(
        ("NAME", "front"), ("...", "--camera front"), *R640, *S64),
        outputs=("docs/img/gallery/front.png",)),
    "make gallery": Run("bpy", scale=(*R640, *S64, ("--samples 32", "--samples 1")),
                        outputs=tuple(f"docs/img/gallery/{n}.png" for n in (
                            "front", "concave", "red-sun", "part2", "sbend", "faces"))),
    # ------------------------------------------------------------------ README: farm
    ".venv-bpy45/bin/python render_scenes/farm.py --out out/sweep --sweep s_amplitude=0:0.9:4 "
    "--camera low --resolution 320 180 --samples 16": Run(
        "bpy", scale=(("s_amplitude=0:0.9:4", "s_amplitude=0:0.9:2"), *R320, *S16),
        outputs=("out/sweep/0001.png", "out/sweep/0002.png", "out/sweep/contact_sheet.png",
                 "out/sweep/manifest.json")),
    "git clone REPO ~/scurve-mirror && make -C ~/scurve-mirror .venv-bpy45/.ready": Covered(
        "tests/blender/test_farm_cluster.py", "reads the README's farm block and runs it"),
    "~/scurve-mirror/.venv-bpy45/bin/dask scheduler --port 8786": Covered(
        "tests/blender/test_farm_cluster.py", "as above"),
    "cd ~/scurve-mirror && PYTHONPATH=$PWD .venv-bpy45/bin/dask worker tcp://HOST:8786 "
    "--nthreads 1": Covered("tests/blender/test_farm_cluster.py", "as above"),
    "cd ~/scurve-mirror && .venv-bpy45/bin/python render_scenes/farm.py --scheduler "
    "tcp://HOST:8786 --out ~/sweep --sweep s_amplitude=0:0.9:7": Covered(
        "tests/blender/test_farm_cluster.py", "as above"),
    "blender -b DIR2/0001.blend -f 1": Covered(
        "tests/blender/test_farm.py", "renders the farm's --save-blend files with a real blender"),
    "dask scheduler --scheduler-file PATH": Covered(
        "tests/blender/test_farm_cluster.py", "its --no-nanny round starts the scheduler so"),
    "git clone": DocOnly(MENTION),
    "make bench-farm": Run("real", scale=(("--frames 6", "--frames 3"), *R320, *S16),
                           outputs=("bench/results/farm.json",)),
    "BLENDER=... .venv-bpy45/bin/python bench/bench_farm.py --frames 6 --resolution 320 180 "
    "--samples 16 --json bench/results/farm.json": Run(
        "real", scale=(("BLENDER=...", "BLENDER=\"$(command -v blender)\""),
                       ("--frames 6", "--frames 3"), *R320, *S16),
        outputs=("bench/results/farm.json",)),
    "dask scheduler": DocOnly(MENTION),
    "dask worker": DocOnly(MENTION),
    "blender -b NNNN.blend -f 1": Covered(
        "make bench-farm", "bench_farm.py renders each saved NNNN.blend with exactly this"),
    "blender -b": DocOnly(MENTION),
    "blender -b -P": DocOnly(MENTION),
    # ------------------------------------------------------------------ README: latent faces
    "python -m latent_faces train": DocOnly(MENTION),
    "python -m latent_faces decode --out sheet.png": Run("dev", outputs=("sheet.png",)),
    "make latent-study-converged": Covered(
        "the three .venv/bin/python lines under it in docs/latent_faces.md",
        "the docs give its recipe as those lines, which run here; the study twice more "
        "would add two minutes"),
    "make latent-weights": Run("dev", scale=(
        *TRAIN30000, ("--epochs 3 --batch-size", "--epochs 1 --batch-size"),
        ("--resume --epochs 5", "--resume --epochs 2"),
        ("--resume --epochs 80", "--resume --epochs 3"), ("--fit-prior 5000", "--fit-prior 32"),
        # the fine-tunes: one epoch of 32 faces each
        ("--epochs 7 --batch-size", "--epochs 1 --batch-size"),
        ("--n-train 30000 --n-test 500 --epoch-size 2000",
         "--n-train 64 --n-test 16 --epoch-size 32"),
        ("--epochs 14 --seed 0", "--epochs 1 --seed 0"),
        ("--epochs 4 --seed 1", "--epochs 1 --seed 1"),
        ("--epochs 14 --seed 2", "--epochs 1 --seed 2"),
        ("--epochs 4 --seed 5", "--epochs 1 --seed 5"),
        ("--out latent_faces/weights/vae_synthetic.npz", "--out {tmp}/vae_synthetic.npz")),
        outputs=("runs/faces_resup/checkpoint.pt", "runs/faces_resup/stage1.npz",
                 "runs/faces_resup_refine/checkpoint.pt", "{tmp}/vae_synthetic.npz"),
        why="the export goes outside the checkout copy: later entries decode the shipped file"),
    # ------------------------------------------------------------------ README: optics
    "pip install embreex pvlib": DocOnly("an install step; both are in requirements/dev.txt, "
                                         "which `make` installs"),
    "python -m scurve_geom.optics --preset kapoor --sun-elevation 40 --sun-azimuth 200 --json "
    "spots.json --out spots.png": Run("dev", scale=OPTICS_RAYS,
                                      outputs=("spots.json", "spots.png")),
    "python -m scurve_geom.optics --preset kapoor --latitude 60.24 --longitude 10.39 --date "
    "2026-06-21 --timezone Europe/Oslo --json day.json --out day.png": Run(
        "dev", scale=(("--json", "--rays 2000 --json"),), outputs=("day.json", "day.png")),
    "make optics-maps": Run("dev", scale=(("--rays 2000000", "--rays 2000"),
                                          ("--rays 4000000", "--rays 4000")),
                            outputs=("docs/img/optics/kapoor_day.png",
                                     "docs/img/optics/kapoor_1300.png")),
    ".venv-bpy45/bin/python bench/bench_hotspots_operator.py": Run(
        "bpy", scale=(("operator.py", "operator.py --repeats 1"),)),
    "blender -b --factory-startup --python bench/bench_hotspots_operator.py": Run(
        "real", scale=(("operator.py", "operator.py -- --repeats 1"),)),
    "pip install embreex": DocOnly("an install step into a user's Blender Python, by choice"),
    "python bench/bench_optics.py --json bench/results/optics.json": Run("dev", scale=(
        ("optics.py", "optics.py --rays 20000 --repeats 1 --no-noise-run"),)),
    "make bench-optics": Run("bpy", scale=(
        ("--json", "--rays 20000 --repeats 1 --no-noise-run --json"),
        ("--rays 100000", "--rays 5000")), outputs=("bench/results/optics.json",)),
    ".venv-bpy45/bin/python bench/bench_optics.py --rays 100000 --repeats 1 --no-noise-run":
        Run("bpy", scale=(("--rays 100000", "--rays 5000"),)),
    "pip install libigl": DocOnly("an install step; in requirements/*.txt, which `make` installs"),
    "pip install": DocOnly(MENTION),
    # ------------------------------------------------------------------ README: tests
    "make test-real": Covered("make test", "the real lane is part of the suite"),
    "make gui-screenshots": Covered(
        "tests/real/test_gui.py", "the target is that test with SCURVE_GUI_SHOTS set; Material "
        "Preview compiles EEVEE shaders for minutes, so make test runs it without that step"),
    # ------------------------------------------------------------------ README: performance
    "python bench/bench_build.py": Run("dev", scale=(
        ("build.py", "build.py --vertices 20000 --repeat 1"),)),
    "python bench/bench_subdivide.py": Run("dev", scale=(
        ("subdivide.py", "subdivide.py --quick"),)),
    "make bench-blender": Run("bpy", scale=(
        ("blender_add.py", "blender_add.py --vertices 20000 --repeat 1 --no-bmesh"),)),
    "make bench-procedural": Run("bpy", scale=(("procedural.py", "procedural.py --repeat 1"),)),
    "make bench-blender BPY=42": Covered(
        "make bench-blender (this table)", "the same recipe in .venv-bpy42; the table runs it "
        "in .venv-bpy45, and the 4.2 lane's tests exercise the same add path"),
    "make bench-procedural BPY=42": Covered(
        "make bench-procedural (this table)", "the same recipe in .venv-bpy42"),
    "python bench/figures.py": Run("dev"),
    "python bench/figures.py --update": Run("dev"),
    "OPENBLAS_NUM_THREADS=1 .venv-bpy45/bin/python bench/bench_decoder.py --json "
    "bench/results/decoder_1thread.json":
        Run("bpy", scale=(("--json", "--repeats 1 --json"),),
            outputs=("bench/results/decoder_1thread.json",)),
    "blender -b -P render_scenes/scurve.py -- --face-planes 4": Covered(
        "tests/real/test_scripts.py", "the bug report's command; the real lane runs scurve.py "
        "with face planes once with an empty user folder and once with the extension installed"),
    "make bench-render": Run("bpy", scale=(("--resolution 640 360", "--resolution 32 18"),),
                             outputs=("bench/results/render_quality.json",
                                      "docs/img/bench_render_quality.png")),
    "OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_train.py --threads 1 --batches 5":
        Run("dev", scale=(("--batches 5", "--batches 1"),)),
    ".venv-bpy45/bin/python bench/bench_decoder.py --json bench/results/decoder.json":
        Run("bpy", scale=(("--json", "--repeats 1 --json"),),
            outputs=("bench/results/decoder.json",)),
    "python bench/bench_fabricate.py --repeat 5": Run("dev", scale=(("--repeat 5",
                                                                      "--repeat 1"),)),
    "python -m scurve_geom --preset kapoor --out mirror.glb": Run("dev", outputs=("mirror.glb",)),
    # ------------------------------------------------------------------ docs/latent_faces.md
    "```python import latent_faces": DocOnly("signatures with return types, not code; "
                                     "tests/test_latent_package.py tests that API"),
    "python -m latent_faces faces --out docs/img/latent/synthetic_faces.png --count 24 --seed 0 "
    "--palette": Run("dev", outputs=("docs/img/latent/synthetic_faces.png",)),
    VAE6: Run("dev", scale=TRAIN6000, outputs=("runs/vae/checkpoint.pt", "runs/vae/decoder.npz")),
    AE6: Run("dev", scale=TRAIN6000, outputs=("runs/almost_ae/checkpoint.pt",)),
    "for t in dropout denoise recolour; do .venv/bin/python -m latent_faces train --out "
    "runs/task_$t --preset almost-ae --task $t --init runs/almost_ae/checkpoint.pt --n-train "
    "2000 --n-test 100 --epochs 1 --threads 2 --seed 1 --quiet done": Run(
        "dev", scale=(("--n-train 2000 --n-test 100", "--n-train 32 --n-test 8"),),
        after=(AE6,), outputs=("runs/task_dropout/checkpoint.pt",
                               "runs/task_recolour/checkpoint.pt")),
    "python -m latent_faces decode --out sheet.png [--count 16 (at most 4096)] [--decoder PATH] "
    "[--mode normal|uniform|interpolate] [--boundary B] [--seed S] [--cols 8] [--palette]":
        Synopsis("python -m latent_faces decode"),
    EXPORT: Run("dev", scale=(("RUN", "runs/vae"), ("[--fit-prior N]", "--fit-prior 32")),
                 after=(RESUME,), outputs=("my_decoder.npz",)),
    EVALUATE: Run("dev", scale=(("RUN", "runs/vae"), ("DIR", "runs/vae/eval"),
                                ("[--decoder NPZ] [--n-samples 100] [--seed 0]",
                                 "--decoder my_decoder.npz --n-samples 8 --seed 0")),
                  after=(EXPORT,), outputs=("runs/vae/eval/metrics.json",)),
    GEN0: Run("dev", scale=(*GEN_RUN, *TRAIN30000),
              outputs=("{tmp}/scurve_runs/gen_e0/checkpoint.pt",)),
    GEN1: Run("dev", scale=(*GEN_RUN, ("--epochs 200", "--epochs 4")), after=(GEN0,)),
    GEN2: Run("dev", scale=(*GEN_RUN, ("--epochs 200", "--epochs 5")), after=(GEN1,)),
    GEN_EVAL: Run("dev", scale=(*GEN_RUN, ("eNN", "e80 --n-samples 8 --fit-prior 32")),
                  after=(GEN2,), outputs=("{tmp}/scurve_runs/gen_e0/eval/e80/decoder.npz",)),
    "cp /root/scurve_runs/gen_e0/eval/e80/decoder.npz latent_faces/weights/vae_synthetic.npz":
        Run("dev", scale=(*GEN_RUN, ("latent_faces/weights/", "{tmp}/")), after=(GEN_EVAL,),
            outputs=("{tmp}/vae_synthetic.npz",),
            why="into scratch, not the copy's shipped file, which later entries decode"),
    "make latent-study": Run("dev", scale=(*TRAIN6000, *STUDY),
                             outputs=("runs/study/study.md",)),
    STUDY_VAE: Run("dev", scale=(*TRAIN30000, ("--epochs 40", "--epochs 1")),
                   outputs=("runs/study_vae/checkpoint.pt",)),
    STUDY_AE: Run("dev", scale=(("...", "--n-train 64 --n-test 16 --epoch-size 32 --epochs 1 "
                                        "--threads 1 --seed 0 --quiet"),),
                  outputs=("runs/study_almost-ae/checkpoint.pt",),
                  why="'...': the line above's options (scaled the same)"),
    ".venv/bin/python -m latent_faces study --ae runs/study_almost-ae/checkpoint.pt --vae "
    "runs/study_vae/checkpoint.pt --out runs/study_converged --n-samples 100 --seed 0 "
    "--threads 2": Run("dev", scale=STUDY, after=(STUDY_VAE, STUDY_AE),
                       outputs=("runs/study_converged/study.md",)),
    ".venv/bin/python -m pytest tests/test_latent_*.py": Covered(
        "make test-core", "runs tests/ (these files included) in .venv"),
    ".venv-bpy45/bin/python -m pytest tests/test_latent_*.py": Covered(
        "make test-numpy126", "runs tests/ (these files included) in .venv-bpy45"),
    # docs/latent_faces.md, issue 20: the record of the session's arms (0.8 CPU-h on one core);
    # the warm-start tests train the same options (--init-decoder, --freeze-decoder-steps,
    # --final upconv, --adv-weight, --resume) through the CLI at a few dozen images.
    "cp $RUNS/enc/checkpoint.pt $RUNS/enc_init.pt": Covered(*ARMS),
    "python -m latent_faces evaluate $RUNS/NAME --out $RUNS/NAME/eval/eE --fit-prior 0":
        Covered(*ARMS),
    "python -m latent_faces train --out $RUNS/a_adv01 $A --adv-weight 0.1 $D": Covered(*ARMS),
    "python -m latent_faces train --out $RUNS/a_adv05 $A --adv-weight 0.5 $D": Covered(*ARMS),
    "python -m latent_faces train --out $RUNS/a_ctrl $A --adv-weight 0": Covered(*ARMS),
    "python -m latent_faces train --out $RUNS/a_up_adv01 $A --final upconv --adv-weight 0.1 $D":
        Covered(*ARMS),
    "python -m latent_faces train --out $RUNS/a_up_ctrl $A --final upconv --adv-weight 0":
        Covered(*ARMS),
    "python -m latent_faces train --out $RUNS/enc --preset vae --kl-weight 0.005 --dropout 0 "
    "--init-decoder latent_faces/weights/vae_synthetic.npz --freeze-decoder-steps 1000000 "
    "--n-train 30000 --n-test 500 --epoch-size 4000 --epochs 20 --batch-size 32 --lr 1e-3 "
    "--seed 0 --threads 1 --quiet": Covered(*ARMS),
    # Issue 20, session 18: the spectral term, the bilinear last stage, --init carrying the
    # discriminator and the refitted prior.
    "python -m latent_faces train --out $RUNS/c_spec300 $B --final upconv --init "
    "$RUNS/a_up_adv01/ckpt_e14.pt --seed 1 --spectral-weight 300": Covered(*ARMS18),
    "python -m latent_faces train --out $RUNS/e_bil_adv01 $B --final bilinear --init "
    "$RUNS/a_up_adv01/ckpt_e14.pt --seed 1": Covered(*ARMS18),
    "python -m latent_faces train --out $RUNS/f_bil_spec100 $B --final bilinear --init "
    "$RUNS/e_bil_adv01/ckpt_e4.pt --seed 2 --spectral-weight 100": Covered(*ARMS18),
    "python -m latent_faces evaluate $RUNS/NAME --out $RUNS/NAME/eval/fp5000 --fit-prior 5000":
        Covered(*ARMS18),
    # Issue 20, session 19: the 96 px refinement and the prior's samples for the discriminator.
    "python -m latent_faces train --out $RUNS/g_refine13 $B --final bilinear --refine 13 --init "
    "$F --seed 3 --spectral-weight 100": Covered(*ARMS19),
    "python -m latent_faces train --out $RUNS/i_refine13_adv03 $B --final bilinear --refine 13 "
    "--init $F --seed 3 --spectral-weight 100 --adv-weight 0.3": Covered(*ARMS19),
    "python -m latent_faces train --out $RUNS/k_refine13_adv03_prior $B --final bilinear "
    "--refine 13 --init $F --seed 5 --spectral-weight 100 --adv-weight 0.3 --adv-prior-samples":
        Covered(*ARMS19),
    "python -m latent_faces evaluate $RUNS/NAME --out $RUNS/NAME/eval/draws3_s1 --decoder "
    "$RUNS/NAME/eval/fp5000/decoder.npz --draws 3 --seed 1": Covered(*ARMS19),
    "python -m latent_faces {train,decode,export,evaluate,faces,study}":
        Synopsis("python -m latent_faces"),
    "python -m latent_faces decode": DocOnly(MENTION),
    "python -m latent_faces train --data /path/to/img_align_celeba --out runs/celeba ...": Run(
        "dev", scale=(("/path/to/img_align_celeba", "docs/img"),
                      ("...", "--n-train 40 --epochs 1 --threads 1 --quiet")),
        outputs=("runs/celeba/checkpoint.pt",),
        why="the docs' own pictures stand in for CelebA (a folder of images, as it asks)"),
    "python -m latent_faces train --out DIR [--preset vae|almost-ae|ae] [--task "
    "reconstruct|denoise|dropout|recolour] [--data FOLDER] [--n-train N] [--n-test N] "
    "[--epochs E] [--batch-size 32] [--lr 5e-4] [--z-dim 200] [--recon-loss mse|bce] "
    "[--r-loss-factor F] [--kl-weight W] [--leaky-slope 0.3] [--seed S] [--threads T] "
    "[--resume] [--init CKPT] [--quiet]": Synopsis("python -m latent_faces train"),
    "python -c \"import latent_faces, json; print(json.dumps(latent_faces.load_shipped_decoder()"
    ".header['meta'], indent=1))\"": Run("dev"),
    "python -m latent_faces evaluate": DocOnly(MENTION),
    SHIPPED_SAMPLES: Run("dev", outputs=("docs/img/latent/shipped_vae_normal.png",)),
    "python -m latent_faces decode --out docs/img/latent/shipped_vae_interpolate.png --count 8 "
    "--mode interpolate --seed 1 --palette": Run(
        "dev", outputs=("docs/img/latent/shipped_vae_interpolate.png",)),
    RESUME: Run(
        "dev", scale=(("RUN", "runs/vae"), ("--epochs E", "--epochs 2"),
                      ("--lr-horizon H", "--lr-horizon 4")), after=(VAE6,),
        outputs=("runs/vae/loss.png",), why="the checkpoint is its input: loss.png is redrawn"),
    "python -m latent_faces decode --decoder /root/scurve_runs/abl/NAME/eval_fp2000/decoder.npz "
    "--out ... --count 8 --seed 0 --palette": Run(
        "dev", scale=(("/root/scurve_runs/abl/NAME/eval_fp2000/decoder.npz",
                       "runs/vae/decoder.npz"), ("--out ...", "--out abl.png")),
        after=(EVALUATE,), outputs=("abl.png",),
        why="the ablation runs are not kept; a run of this table stands in"),
}
