"""From render to workshop: panels, flat cutting patterns and forming strain.

    >>> from scurve_geom import preset
    >>> from scurve_geom.fabricate import fabricate
    >>> fab = fabricate(preset("kapoor"))          # doctest: +SKIP
    >>> [p.name for p in fab.panels][:2]           # doctest: +SKIP
    ['A-R1-C1', 'A-R1-C2']

The wall is cut along its own parameter lines into panels no larger than the stock plate,
each panel is flattened with libigl (LSCM, then ARAP), and each gets its flattening strain,
bending strain ``t / 2R`` from the analytic principal curvatures, area, bounding box, mass
and forming class. :mod:`.outputs` writes DXF patterns, a nesting sheet, a JSON report and
a strain map; ``python -m scurve_geom.fabricate`` is the command line.
"""

from .core import CLASSES, Fabrication, FabricationOptions, Panel, classify, fabricate

__all__ = ["CLASSES", "Fabrication", "FabricationOptions", "Panel", "classify", "fabricate"]
