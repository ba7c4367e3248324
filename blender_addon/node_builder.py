"""Building node trees from Python: nodes added in a readable cascade, constants or
sockets wired into their inputs, and sockets found by name among the enabled ones
(Blender keeps a hidden socket per data type on some nodes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import bpy

Socket = Any  # a NodeSocket, or a float/bool constant for an unlinked input


class Nodes:
    """Adds nodes to ``tree`` and wires constants or sockets into their inputs."""

    def __init__(self, tree: Any) -> None:
        self.tree = tree
        self.count = 0

    def new(self, idname: str, **props: Any) -> Any:
        node = self.tree.nodes.new(idname)
        for key, value in props.items():
            setattr(node, key, value)
        # A readable cascade rather than one pile: 12 nodes per column.
        node.location = (220.0 * (self.count // 12), -160.0 * (self.count % 12))
        self.count += 1
        return node

    def feed(self, socket: Any, value: Socket) -> None:
        if isinstance(value, bpy.types.NodeSocket):
            self.tree.links.new(value, socket)
        else:
            socket.default_value = value

    def math(self, op: str, *args: Socket) -> Any:
        node = self.new("ShaderNodeMath", operation=op)
        for sock, value in zip(enabled(node.inputs), args, strict=False):
            self.feed(sock, value)
        return node.outputs[0]

    def add(self, a: Socket, b: Socket) -> Any:
        return self.math("ADD", a, b)

    def sub(self, a: Socket, b: Socket) -> Any:
        return self.math("SUBTRACT", a, b)

    def mul(self, a: Socket, b: Socket) -> Any:
        return self.math("MULTIPLY", a, b)

    def div(self, a: Socket, b: Socket) -> Any:
        return self.math("DIVIDE", a, b)

    def muladd(self, a: Socket, b: Socket, c: Socket) -> Any:
        return self.math("MULTIPLY_ADD", a, b, c)

    def xyz(self, x: Socket, y: Socket, z: Socket = 0.0) -> Any:
        node = self.new("ShaderNodeCombineXYZ")
        for sock, value in zip(node.inputs, (x, y, z), strict=True):
            self.feed(sock, value)
        return node.outputs[0]

    def split(self, vector: Any) -> tuple[Any, Any, Any]:
        node = self.new("ShaderNodeSeparateXYZ")
        self.tree.links.new(vector, node.inputs[0])
        return node.outputs[0], node.outputs[1], node.outputs[2]

    def table(self, index: Socket, values: Sequence[float]) -> Any:
        """``values[index]`` for a float-valued integer ``index`` field (a step sum)."""
        out: Socket = float(values[0])
        for k in range(1, len(values)):
            step = self.math("GREATER_THAN", index, k - 0.5)
            out = self.muladd(step, float(values[k] - values[k - 1]), out)
        return out

    def horner(self, x: Socket, coefficients: Sequence[float]) -> Any:
        """``sum(c_k x^k)`` by Horner's rule."""
        out: Socket = float(coefficients[-1])
        for c in reversed(coefficients[:-1]):
            out = self.muladd(out, x, float(c))
        return out


def enabled(sockets: Any) -> list[Any]:
    return [s for s in sockets if s.enabled]


def input_socket(node: Any, name: str, kind: str | None = None) -> Any:
    return next(s for s in node.inputs
                if s.enabled and s.name == name and (kind is None or s.type == kind))


def output_socket(node: Any, name: str) -> Any:
    return next(s for s in node.outputs if s.enabled and s.name == name)
