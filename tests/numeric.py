"""Independent numbers for tests: central finite differences."""

import math


def central_difference(f, x: float) -> float:
    """d f / d x at x, with the step scaled to x's size."""
    h = 6e-6 * max(1.0, abs(x))
    return (f(x + h) - f(x - h)) / (2 * h)


def gradient_by_differences(program_value, point: dict) -> dict:
    """Each input's partial of `program_value(point) -> float`, by central differences."""
    result = {}
    for name, x in point.items():
        result[name] = central_difference(lambda v: program_value({**point, name: v}), x)
    return result


def close(a: float, b: float, rel: float = 1e-5, abs_: float = 1e-7) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
