"""Small helpers for writing probes and judges in ``tests/graders/NN_topic.py``.

Each helper raises ``AssertionError`` with a message written for the learner, so a grader file
stays short: ``f = get_function(ns, "learning_curve")``, ``acc = as_array(data, "accuracies",
shape=(4,))``, ``assert_close(acc, expected, "accuracies")``. NumPy is the only dependency, so the
module imports fast both in the grader process and in the learner's kernel.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np


def get_function(ns: Mapping[str, Any], name: str) -> Callable[..., Any]:
    """Return the learner's function ``name`` from their namespace.

    Args:
        ns: the learner's namespace (the ``ns`` a probe receives).
        name: the function name the exercise asks for.

    Returns:
        callable: the function.

    Raises:
        AssertionError: if it is missing or not callable (with a hint to run its cell).
    """
    if name not in ns:
        raise AssertionError(f"`{name}` is not defined: run (or restore) the cell that defines it")
    obj = ns[name]
    if not callable(obj):
        raise AssertionError(f"`{name}` should be a function, got {type(obj).__name__}")
    return obj


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a learner's function, turning the exercise stub into a clear message.

    Args:
        fn: the learner's function.
        *args: positional arguments.
        **kwargs: keyword arguments.

    Returns:
        Any: what the function returned.

    Raises:
        AssertionError: "not implemented yet" if it raised ``NotImplementedError`` or returned
            ``...`` (the placeholders of a generated exercise).
    """
    name = getattr(fn, "__name__", "the function")
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError as err:
        raise AssertionError(f"`{name}` is not implemented yet ({err})") from None
    if out is Ellipsis:
        raise AssertionError(f"`{name}` returned `...`: replace the placeholder with your code")
    return out


def as_array(value: Any, name: str, shape: tuple[int, ...] | None = None, dtype: Any = float) -> np.ndarray:
    """Convert a learner's result to a NumPy array, checking type and shape.

    Args:
        value: the result (array, list, number...).
        name: how to call it in messages.
        shape: the expected shape, or ``None`` to accept any.
        dtype: the dtype to convert to (``float`` by default).

    Returns:
        np.ndarray: the converted array.

    Raises:
        AssertionError: when it is ``...``, not numeric, or of the wrong shape.
    """
    if value is Ellipsis or value is None:
        raise AssertionError(f"{name} is {value!r}: replace the placeholder with your result")
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise AssertionError(f"{name} should be numeric ({dtype.__name__ if hasattr(dtype, '__name__') else dtype}), "
                             f"got {type(value).__name__}: {err}") from None
    if shape is not None and arr.shape != tuple(shape):
        raise AssertionError(f"{name}: expected shape {tuple(shape)}, got {arr.shape}")
    return arr


def assert_close(actual: Any, expected: Any, name: str, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Assert two numeric results agree, with a message showing where they differ.

    Args:
        actual: the learner's value.
        expected: the reference value.
        name: how to call it in messages.
        atol: absolute tolerance.
        rtol: relative tolerance.

    Raises:
        AssertionError: on a shape mismatch or values outside the tolerance.
    """
    expected = np.asarray(expected, dtype=float)
    actual = as_array(actual, name, shape=expected.shape)
    bad = ~np.isclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True)
    if bad.any():
        where = np.argwhere(bad)[0]
        idx = tuple(int(i) for i in where)
        got, want = actual[idx] if actual.ndim else actual, expected[idx] if expected.ndim else expected
        at = f" at index {idx if len(idx) > 1 else idx[0]}" if actual.ndim else ""
        raise AssertionError(f"{name}: expected {_fmt(want)}{at}, got {_fmt(got)} "
                             f"({int(bad.sum())} of {bad.size} values differ)")


def _fmt(x: Any) -> str:
    x = float(x)
    return repr(x) if math.isnan(x) or math.isinf(x) else f"{x:.6g}"


def to_jsonable(obj: Any) -> Any:
    """Convert probe output to plain JSON types (NumPy arrays and scalars become lists and numbers).

    Args:
        obj: nested dicts, lists, tuples, NumPy arrays/scalars, numbers, strings, None.

    Returns:
        Any: the same structure with only JSON types.

    Raises:
        TypeError: for any other object (probes must return data, not models or functions).
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    raise TypeError(f"probe returned a {type(obj).__name__}; return numbers, strings, lists, dicts or arrays")
