# S-Curve Mirror: the front door.
#
#   make demo    set up and render the default scene          -> out/demo.png
#   make test    set up every environment, lint, type-check, run the whole suite
#
# Environments live in the checkout: .venv (numpy 2, torch CPU, dev tools) and one
# .venv-bpyNN per Blender version (Blender as a Python module pins numpy<2, and only one
# Blender fits in a process). Each is rebuilt when its requirements file changes.

PYTHON ?= python3.11
BLENDERS ?= 42 45 50
# The main Blender target (4.5 LTS): demo, bench and the extension build use it.
BPY ?= 45
TIMEOUT ?= 1500

VENV := .venv
PY := $(VENV)/bin/python
BPY_PY := .venv-bpy$(BPY)/bin/python

.PHONY: all setup demo test lint typecheck test-core test-numpy126 test-blender \
        extension bench bench-blender preview clean

all: test

$(VENV)/.ready: requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements/dev.txt
	$(VENV)/bin/pip install --quiet --no-deps --no-build-isolation -e . || \
	  $(VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

.venv-bpy%/.ready: requirements/bpy%.txt
	$(PYTHON) -m venv .venv-bpy$*
	.venv-bpy$*/bin/pip install --quiet --upgrade pip
	.venv-bpy$*/bin/pip install --quiet -r requirements/bpy$*.txt
	touch $@

setup: $(VENV)/.ready $(foreach v,$(BLENDERS),.venv-bpy$(v)/.ready)

# ---------------------------------------------------------------------------- demo
out:
	mkdir -p out

preview: $(VENV)/.ready | out
	$(PY) -m scurve_geom --preset smooth --out out/mirror.glb --check \
	  --preview out/mirror_preview.png

demo: $(VENV)/.ready .venv-bpy$(BPY)/.ready | out
	$(PY) -m scurve_geom --preset smooth --out out/mirror.glb --check \
	  --preview out/mirror_preview.png

# ---------------------------------------------------------------------------- tests
lint: $(VENV)/.ready
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.ready
	@if [ -d blender_addon ]; then $(VENV)/bin/mypy blender_addon; fi

# Everything that runs without Blender, on numpy 2 (Blender tests skip themselves here).
test-core: $(VENV)/.ready
	$(PY) -m pytest -q --ignore=tests/blender

# The same pure-numpy code on numpy 1.26, as Blender's bundled Python has it.
test-numpy126: .venv-bpy$(BPY)/.ready
	$(BPY_PY) -m pytest -q -p no:cacheprovider --ignore=tests/blender

# Real Blender, one process per version, under timeout: a class left registered at exit
# makes 4.2 segfault and 4.5 hang.
test-blender: $(foreach v,$(BLENDERS),.venv-bpy$(v)/.ready)
	@set -e; for v in $(BLENDERS); do \
	  if [ -d tests/blender ]; then \
	    echo "== Blender tests in .venv-bpy$$v"; \
	    timeout $(TIMEOUT) .venv-bpy$$v/bin/python -m pytest -q -p no:cacheprovider tests/blender; \
	  fi; \
	done

test: lint typecheck test-core test-numpy126 test-blender

# ---------------------------------------------------------------------------- other
extension: .venv-bpy$(BPY)/.ready
	$(BPY_PY) tools/build_extension.py

bench: $(VENV)/.ready
	$(PY) bench/bench_build.py
	$(PY) bench/bench_subdivide.py

# Add S-Curve Mirror at 1M vertices vs from_pydata and bmesh; numpy Catmull-Clark vs the modifier.
bench-blender: .venv-bpy$(BPY)/.ready
	timeout $(TIMEOUT) $(BPY_PY) bench/bench_blender_add.py

clean:
	rm -rf out dist build .pytest_cache .ruff_cache .mypy_cache .hypothesis
