"""The render scripts (``blender -b -P render_scenes/scurve.py``, the same under ``python`` with
``bpy``, the farm). Importing the package makes this checkout's ``scurve_geom``,
``latent_faces`` and ``blender_addon`` the ones imported, even where an installed S-Curve
Mirror extension loaded its own copies first (see :mod:`render_scenes.checkout`).
"""

from render_scenes.checkout import prefer_checkout

prefer_checkout()
