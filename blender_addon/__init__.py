"""S-Curve Mirror: a Blender extension that adds Kapoor-style S-curve mirror walls.

Geometry comes from the ``scurve_geom`` wheel bundled with the extension (see
``blender_manifest.toml``); this package only turns its arrays into Blender data and
provides the operators and UI. Installed, the package is ``bl_ext.<repo>.scurve_mirror``;
from the source tree it is ``blender_addon``: nothing here depends on the name.
"""

from . import (
    assets,
    convert_ops,
    fabricate_ops,
    face_planes,
    hotspots,
    operators,
    panels,
    props,
    stage,
)

#: This add-on's module name as Blender knows it (``bl_ext.<repo>.scurve_mirror`` when
#: installed as an extension), e.g. for ``context.preferences.addons[ADDON_ID]``.
ADDON_ID = __package__

# Registration order: property groups before the operators that write them; panels last
# because they draw them all. Unregistration runs in reverse.
# fabricate_ops after panels: its sub-panel hangs under the S-Curve panel. assets (issue
# 21): the node-group asset library's preference entry, last in, first out.
_modules = (props, operators, convert_ops, stage, face_planes, hotspots, panels, fabricate_ops,
            assets)


def register() -> None:
    for module in _modules:
        module.register()


def unregister() -> None:
    for module in reversed(_modules):
        module.unregister()
