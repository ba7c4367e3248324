"""Nesting the flat patterns on stock plates: shelf packing of grain-aligned boxes.

Patterns keep their grain along the plate's length (no turning), so the packing is of
axis-aligned bounding boxes: first-fit decreasing by height into shelves. It is simple and
predictable, and with plate-sized panels it is what a fabricator would do by hand; the
waste it reports is an upper bound a true-shape nester could only lower.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Nesting", "Placement", "nest"]


@dataclass(frozen=True)
class Placement:
    """Where one pattern's bounding box (lower-left corner) sits: plate index, metres."""

    name: str
    plate: int
    x: float
    y: float


@dataclass(frozen=True)
class Nesting:
    """The plates used and every pattern's place on them."""

    plate_size: tuple[float, float]
    plates: int
    placements: list[Placement]

    def waste(self, used_area: float) -> float:
        """Fraction of the plates' area not in a pattern, given the patterns' area (m²)."""
        w, h = self.plate_size
        return 1.0 - used_area / (self.plates * w * h) if self.plates else 0.0


def nest(boxes: dict[str, tuple[float, float]], plate: tuple[float, float],
         gap: float) -> Nesting:
    """Pack ``boxes`` (name -> (width, height), metres, allowance included) on plates.

    Every box keeps ``gap`` metres to its neighbours and to the plate's edges.

    Raises
    ------
    ValueError
        If a box cannot fit on a plate at all.
    """
    pw, ph = plate
    order = sorted(boxes, key=lambda n: (-boxes[n][1], -boxes[n][0], n))
    # Each plate: list of shelves [y, height, x_next].
    shelves: list[list[list[float]]] = []
    placements = []
    for name in order:
        w, h = boxes[name]
        if w + 2 * gap > pw + 1e-12 or h + 2 * gap > ph + 1e-12:
            raise ValueError(f"pattern {name} ({w:.3f} x {h:.3f} m) does not fit a "
                             f"{pw:g} x {ph:g} m plate")
        placed = False
        for index, plate_shelves in enumerate(shelves):
            for shelf in plate_shelves:
                if shelf[2] + w + gap <= pw + 1e-12 and h <= shelf[1] + 1e-12:
                    placements.append(Placement(name, index, shelf[2], shelf[0]))
                    shelf[2] += w + gap
                    placed = True
                    break
            if placed:
                break
            top = plate_shelves[-1][0] + plate_shelves[-1][1] + gap
            if top + h + gap <= ph + 1e-12:
                plate_shelves.append([top, h, gap + w + gap])
                placements.append(Placement(name, index, gap, top))
                placed = True
                break
        if not placed:
            shelves.append([[gap, h, gap + w + gap]])
            placements.append(Placement(name, len(shelves) - 1, gap, gap))
    placements.sort(key=lambda p: (p.plate, p.y, p.x))
    return Nesting((pw, ph), len(shelves), placements)
