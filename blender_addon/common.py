"""What every feature of the add-on shares: the operator result type and the test for
a mirror this add-on built.

Kept free of the feature modules (it imports nothing of the add-on), so operators,
panels and scripts can all import it without cycles.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["Result", "is_editable_mirror"]

#: What execute/invoke return (the stubs' OperatorReturnItems, spelled out for runtime).
Result = set[Literal["RUNNING_MODAL", "CANCELLED", "FINISHED", "PASS_THROUGH", "INTERFACE"]]


def is_editable_mirror(obj: Any) -> bool:
    """Whether ``obj`` is a mirror built by this add-on (it stores its parameters).

    Narrower than ``stage.is_mirror``, which also accepts meshes tagged as mirrors.
    """
    if obj is None or obj.type != "MESH":
        return False
    settings = getattr(obj, "scurve_mirror", None)  # absent while the add-on is unregistered
    return settings is not None and bool(settings.is_mirror)
