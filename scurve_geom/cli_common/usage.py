"""Bad arguments in one line: :class:`UsageError`, a parser that raises it, bounded numbers.

Every flag that takes a number has a range a user could mean; anything else (negative,
huge, NaN, inf) is refused naming the flag, the value and the allowed range -- never
clamped silently.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn

__all__ = ["OneLineParser", "UsageError", "bounded_float", "bounded_int", "check_range"]


class UsageError(Exception):
    """A bad argument or input: one line on stderr, exit status 2, nothing written."""


class OneLineParser(argparse.ArgumentParser):
    """``argparse`` that raises :class:`UsageError` instead of printing its usage block.

    Subparsers made with ``add_subparsers(parser_class=OneLineParser)`` do the same.
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _fmt(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _range_text(lo: float | None, hi: float | None, unit: str) -> str:
    u = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        return f"allowed {_fmt(lo)} to {_fmt(hi)}{u}"
    if lo is not None:
        return f"allowed >= {_fmt(lo)}{u}"
    return f"allowed <= {_fmt(hi)}{u}" if hi is not None else "allowed: a finite number"


def check_range(flag: str, value: float | None, lo: float | None, hi: float | None,
                unit: str = "") -> None:
    """Raise :class:`UsageError` unless ``value`` is None or finite within ``[lo, hi]``."""
    if value is None:
        return
    ok = math.isfinite(value) and (lo is None or value >= lo) and (hi is None or value <= hi)
    if not ok:
        raise UsageError(f"{flag} {_fmt(value)} is out of range: {_range_text(lo, hi, unit)}")


def bounded_int(lo: int | None, hi: int | None, unit: str = "") -> Callable[[str], int]:
    """An argparse ``type``: an integer within ``[lo, hi]`` (either end may be None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer "
                                             f"({_range_text(lo, hi, unit)})") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"{value} is out of range: "
                                             f"{_range_text(lo, hi, unit)}")
        return value

    parse.__name__ = "integer"
    return parse


def bounded_float(lo: float | None, hi: float | None, unit: str = "",
                  above: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number within ``[lo, hi]``; ``above=True`` makes the
    lower end exclusive (``> lo``)."""

    def text_range() -> str:
        if above and lo is not None:
            u = f" {unit}" if unit else ""
            return (f"allowed > {_fmt(lo)}{u}" if hi is None
                    else f"allowed > {_fmt(lo)} and <= {_fmt(hi)}{u}")
        return _range_text(lo, hi, unit)

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number "
                                             f"({text_range()})") from None
        bad = (not math.isfinite(value) or (lo is not None and value < lo)
               or (above and lo is not None and value == lo)
               or (hi is not None and value > hi))
        if bad:
            raise argparse.ArgumentTypeError(f"{text} is out of range: {text_range()}")
        return value

    parse.__name__ = "number"
    return parse
