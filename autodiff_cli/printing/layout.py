"""What a graph's outputs are, read off their keys: the value (), first
derivatives ("x",), N-th derivatives ("x",)*N, Hessian entries ("x", "w");
and how code printers group them into functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ..graph import Graph
from .base import Key
from .text import derivative_name


def wrt_of(graph: Graph) -> list[str]:
    """The variables the outputs differentiate by, in order of first appearance."""
    seen: dict[str, None] = {}
    for key in graph.outputs:
        for name in key:
            seen.setdefault(name, None)
    return list(seen)


def order_of(graph: Graph) -> int:
    return max((len(key) for key in graph.outputs), default=0)


def is_hessian(graph: Graph) -> bool:
    """Mixed second partials, or second partials beside the gradient."""
    keys = graph.outputs
    return any(len(k) == 2 and k[0] != k[1] for k in keys) or (
        any(len(k) == 2 for k in keys) and any(len(k) == 1 for k in keys))


@dataclass
class Functions:
    """One generated function: which outputs it returns and how."""
    kind: str                 # "value_and_grad", "derivatives", "hessian"
    keys: list[Key]
    wrt: list[str]
    doc: str
    describe: str
    result: Callable[[dict], str]
    python: str


def hessian_key(keys, u: str, v: str) -> Key:
    return (u, v) if (u, v) in keys else (v, u)


def function_groups(graph: Graph, hessian: Optional[bool] = None) -> list[Functions]:
    from .base import Printer
    value = Printer.value_name(_Namer(graph))
    keys = list(graph.outputs)
    first = [k for k in keys if len(k) == 1]
    hessian = is_hessian(graph) if hessian is None else hessian
    second = [k for k in keys if len(k) == 2] if hessian else []
    higher = [k for k in keys if len(k) > 1 and k not in second]
    groups = []

    def tuple_of(items: list[str]) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    grad_names = ", ".join(derivative_name(value, k, {}, ascii=True) for k in first)
    groups.append(Functions(
        "value_and_grad", [()] + first, [k[0] for k in first] if first else [],
        f"The value of {value} and its gradient ({grad_names}), in the order of --wrt.",
        f"({value}, ({grad_names}))",
        lambda names: f"{names[()]}, {tuple_of([names[k] for k in first])}", "value_and_grad"))
    if higher:
        order = len(higher[0])
        listed = ", ".join(derivative_name(value, k, {}, ascii=True) for k in higher)
        groups.append(Functions(
            "derivatives", higher, [k[0] for k in higher],
            f"The derivatives of order {order}: ({listed}), in the order of --wrt.",
            f"({listed})",
            lambda names: tuple_of([names[k] for k in higher]), "derivatives"))
    if second:
        hwrt = [k[0] for k in first] or list(dict.fromkeys(n for k in second for n in k))
        rows = "; ".join(", ".join(derivative_name(value, hessian_key(second, u, v), {}, ascii=True)
                                   for v in hwrt) for u in hwrt)
        groups.append(Functions(
            "hessian", second, hwrt,
            f"The Hessian of {value}, row by row in the order of --wrt ({', '.join(hwrt)}): {rows}.",
            "the Hessian as a tuple of rows",
            lambda names: tuple_of([tuple_of([names[hessian_key(second, u, v)] for v in hwrt])
                                    for u in hwrt]), "hessian"))
    return groups


class _Namer:
    """Just enough of a printer to ask for the value's name."""
    def __init__(self, graph: Graph):
        self.graph = graph
