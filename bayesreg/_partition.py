"""What a Dask worker runs on one partition of rows for `bayesreg.large`: the checks and the
moments of the Gaussian pass, the labels, gradient and Hessian of the logistic passes, and the
pairwise merges of their results.

Dask ships these functions to the workers by reference (module and name), so each worker imports
this module and what it imports: NumPy and pandas, and SciPy's ``expit`` for a logistic pass.
Nothing here imports JAX, NumPyro or scikit-learn, which would cost a worker some 300 MB of
memory before it reads a row (tests/test_dask.py runs a reduction on worker processes and checks
their ``sys.modules``). `~bayesreg.data.bad_cell` (whose module imports scikit-learn) is
imported where it is needed: in the Gaussian pass only for a partition with a value that is not a
finite number, in the logistic pass only for a target with a missing or infinite value.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from bayesreg.defaults import SLICE_BYTES

__all__ = [
    "LABELS_KEPT",
    "LADDER",
    "Classes",
    "Design",
    "Labels",
    "Summary",
    "add",
    "find_labels",
    "frame_of_blocks",
    "ladder_terms",
    "merge",
    "merge_labels",
    "newton_terms",
    "row_slices",
    "summarise",
    "with_indicator",
]


class Summary(NamedTuple):
    """A partition's rows, or a merged group of partitions: count, means (as the unevaluated sum
    ``mean + mean_low``, twice float64's precision), centred cross-products, smallest and largest
    values of the columns ``[X, y]``; ``parts`` maps each partition to its row
    count and its first column's first value and whether that column counts up by one (a saved
    row index); ``error`` is the first bad cell, ``(partition, row, text)``, of the group."""

    n: float
    mean: np.ndarray | None
    mean_low: np.ndarray | None
    m2: np.ndarray | None
    low: np.ndarray | None
    high: np.ndarray | None
    parts: dict
    error: tuple | None


def summarise(frame: pd.DataFrame, partition: int, columns: list, target: str | None, family: str) -> Summary:
    """The `Summary` of one partition: its cells checked (`~bayesreg.data.bad_cell`) and its
    columns reduced in float64, in slices (`row_slices`) merged as partitions are (`merge`), so
    that the copies a pass makes are a slice's, not the partition's."""
    frame = frame[columns]
    count = len(frame)
    first = frame.iloc[:, 0]
    counting = False
    if count and pd.api.types.is_numeric_dtype(first):
        start = first.to_numpy(dtype=np.float64)
        counting = bool(start[0] == np.round(start[0]) and np.all(np.diff(start) == 1))
    parts = {partition: (count, float(first.iloc[0]) if counting else None)}
    summary = Summary(0, None, None, None, None, None, parts, None)
    for rows in row_slices(frame):
        values = None
        try:
            values = rows.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            pass
        if values is None or not np.isfinite(values).all():
            from bayesreg.data import bad_cell

            for name in columns:
                bad = bad_cell(frame[name], is_target=name == target, family=family)
                if bad is not None:
                    return Summary(count, None, None, None, None, None, parts, (partition, *bad))
        summary = merge(summary, _moments(values, parts))
    return summary


def _moments(values: np.ndarray, parts: dict) -> Summary:
    """The `Summary` of a slice's rows ``values``: the means, then the centred values' means as
    their low parts, the centred cross-products, the smallest and largest values."""
    mean = values.mean(axis=0)
    centred = values - mean
    low = centred.mean(axis=0)
    centred -= low
    low_high = (values.min(axis=0), values.max(axis=0))
    return Summary(len(values), mean, low, centred.T @ centred, *low_high, parts, None)


def merge(a: Summary, b: Summary) -> Summary:
    """Two groups' summaries as one: the parallel-variance update (Chan et al.) for the moments;
    the first error (by partition) kept, with every partition's row count."""
    parts = {**a.parts, **b.parts}
    errors = [error for error in (a.error, b.error) if error is not None]
    if errors:
        return Summary(a.n + b.n, None, None, None, None, None, parts, min(errors, key=lambda e: e[0]))
    if b.n == 0:
        return a._replace(parts=parts)
    if a.n == 0:
        return b._replace(parts=parts)
    n = a.n + b.n
    # the means' difference from their high and low parts: a column of mean 1e9 and sd 1 keeps
    # the digits of δ that float64 means (ulp 1.2e-7 there) would round away
    delta = (b.mean - a.mean) + (b.mean_low - a.mean_low)
    step = a.mean_low + delta * (b.n / n)
    mean = a.mean + step
    rounded = mean - a.mean  # TwoSum (Knuth): the part of a.mean + step that float64 rounded away
    mean_low = (a.mean - (mean - rounded)) + (step - rounded)
    m2 = a.m2 + b.m2 + np.outer(delta, delta) * (a.n * b.n / n)
    ranges = (np.minimum(a.low, b.low), np.maximum(a.high, b.high))
    return Summary(n, mean, mean_low, m2, *ranges, parts, None)


def frame_of_blocks(X, y) -> pd.DataFrame:
    """A block of rows of a Dask Array ``X`` (and its ``y``) as a DataFrame with columns
    ``x0, x1, ..., y``."""
    X = np.asarray(X)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    return frame.assign(y=np.asarray(y))


LABELS_KEPT = 1000
"""Distinct target values a pass keeps to name a target that is not binary (its count is then a
lower bound)."""

LADDER = 0.5 ** np.arange(1, 41)  # the line search's shorter steps, all tried in one pass


class Labels(NamedTuple):
    """The distinct target values of a group of partitions (at most `LABELS_KEPT` + 1), each
    partition's row count (as `Summary.parts`) and the first bad target cell."""

    values: frozenset
    parts: dict
    error: tuple | None


def find_labels(frame: pd.DataFrame, partition: int, target: str) -> Labels:
    """The `Labels` of one partition: its target column's distinct values, or its first bad cell
    (`~bayesreg.data.bad_cell`: a missing value; text passes, as class labels)."""
    column = frame[target]
    parts = {partition: (len(column), None)}
    numbers = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if column.isna().any() or (numbers and not np.isfinite(column.to_numpy(dtype=np.float64)).all()):
        from bayesreg.data import bad_cell

        bad = bad_cell(column, is_target=True, family="bernoulli")
        if bad is not None:
            return Labels(frozenset(), parts, (partition, *bad))
    return Labels(frozenset(pd.unique(column).tolist()[: LABELS_KEPT + 1]), parts, None)


def merge_labels(a: Labels, b: Labels) -> Labels:
    """Two groups' `Labels` as one: the union of their values (at most `LABELS_KEPT` + 1 kept),
    the first error (by partition)."""
    errors = [error for error in (a.error, b.error) if error is not None]
    values = a.values | b.values
    if len(values) > LABELS_KEPT:
        values = frozenset(sorted(values, key=str)[: LABELS_KEPT + 1])
    return Labels(values, {**a.parts, **b.parts}, min(errors, key=lambda e: e[0]) if errors else None)


class Classes(NamedTuple):
    """The two class labels (sorted, typed as pandas reads them from a file: numbers, booleans or
    text) and how a partition's raw target values become the 0/1 indicator of the second."""

    labels: np.ndarray
    kind: str  # "number", "bool" or "other"

    def indicator(self, column: pd.Series) -> np.ndarray:
        """The 0/1 indicator (float64) of the second label in a partition's raw target values."""
        text = not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column))
        if text and self.kind == "number":
            column = pd.to_numeric(column)
        elif text and self.kind == "bool":
            column = column.astype(str).str.lower() == "true"
        return (column == self.labels[1]).to_numpy(dtype=np.float64)


def with_indicator(frame: pd.DataFrame, target: str, classes: Classes) -> pd.DataFrame:
    """The partition with its target column replaced by the 0/1 indicator of ``classes.labels[1]``."""
    return frame.assign(**{target: classes.indicator(frame[target])})


class Design(NamedTuple):
    """What a Newton pass needs to build a partition's rows in the solver's coordinates:
    ``Z = (X − shift)/scale`` of the ``features`` (and a column of ones with an intercept), and the
    0/1 ``target`` indicator."""

    features: list
    target: str
    classes: Classes
    shift: np.ndarray
    scale: np.ndarray
    intercept: bool

    def rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``Z`` and the 0/1 target of a partition's rows."""
        Z = (frame[self.features].to_numpy(dtype=np.float64) - self.shift) / self.scale
        if self.intercept:
            Z = np.column_stack([np.ones(len(Z)), Z])
        return Z, self.classes.indicator(frame[self.target])


def row_slices(frame: pd.DataFrame):
    """The partition in slices of about `~bayesreg.defaults.SLICE_BYTES` of float64 values, at least
    one row: a pass's temporary arrays are a slice's, not the partition's, however wide it is."""
    step = max(1, SLICE_BYTES // (8 * max(frame.shape[1], 1)))
    for start in range(0, len(frame), step):
        yield frame.iloc[start : start + step]


def newton_terms(frame: pd.DataFrame, design: Design, theta: np.ndarray) -> tuple:
    """A partition's negative log-likelihood at ``theta``, its gradient and its Hessian ``ZᵀWZ``
    (``W = diag(μ(1 − μ))``), all float64."""
    from scipy.special import expit

    loss, gradient, hessian = 0.0, np.zeros(theta.shape), np.zeros(theta.shape * 2)
    for rows in row_slices(frame):
        Z, y = design.rows(rows)
        eta = Z @ theta
        mu = expit(eta)
        rooted = Z * np.sqrt(mu * (1.0 - mu))[:, None]
        loss += float(np.sum(np.logaddexp(0.0, eta) - y * eta))
        gradient += Z.T @ (mu - y)
        hessian += rooted.T @ rooted
    return loss, gradient, hessian


def ladder_terms(frame: pd.DataFrame, design: Design, theta: np.ndarray, step: np.ndarray) -> np.ndarray:
    """A partition's negative log-likelihood at ``theta + t·step`` for each ``t`` of `LADDER`."""
    values = np.zeros(len(LADDER))
    for rows in row_slices(frame):
        Z, y = design.rows(rows)
        eta, change = Z @ theta, Z @ step
        values += [np.sum(np.logaddexp(0.0, eta + t * change) - y * (eta + t * change)) for t in LADDER]
    return values


def add(a, b):
    """Two partitions' terms summed (tuples element by element)."""
    if isinstance(a, tuple):
        return tuple(x + y for x, y in zip(a, b, strict=True))
    return a + b
