"""What a Dask worker runs on one partition of rows for `bayesreg.large`: the checks and the
moments of the Gaussian pass, the labels of the logistic pass, the negative log-likelihood,
gradient and Hessian of the Newton passes of the logistic, Poisson and negative binomial models
(and the negative binomial's terms in its dispersion), and the pairwise merges of their results.

Dask ships these functions to the workers by reference (module and name), so each worker imports
this module and what it imports: NumPy and pandas, and SciPy's special functions for a Newton pass.
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
    "dispersion_terms",
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


def summarise(
    frame: pd.DataFrame,
    partition: int,
    columns: list,
    target: str | None,
    family: str,
    *,
    counts: bool = False,
    exposure: str | None = None,
) -> Summary:
    """The `Summary` of one partition: its cells checked (`~bayesreg.data.bad_cell`; with ``counts``
    the target holds non-negative integers, and the ``exposure`` column positive numbers) and its
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
    watched = columns.index(exposure) if exposure is not None else None
    for rows in row_slices(frame):
        values = None
        try:
            values = rows.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            pass
        bad = values is None or not np.isfinite(values).all()
        if not bad and counts:
            y = values[:, columns.index(target)]
            bad = bool(np.any((y < 0) | (y != np.round(y))))
        if not bad and watched is not None:
            bad = bool(np.any(values[:, watched] <= 0))
        if bad:
            from bayesreg.data import bad_cell

            for name in columns:
                found = bad_cell(
                    frame[name], is_target=name == target, family=family, exposure=name == exposure
                )
                if found is not None:
                    return Summary(count, None, None, None, None, None, parts, (partition, *found))
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
    ``Z = (X − shift)/scale`` of the ``features`` (and a column of ones with an intercept), the
    target (the 0/1 indicator of ``classes`` for the Bernoulli family, counts as they are for the
    others), and the linear predictor's offset: the ``offset`` column, or its log with
    ``exposure``. ``log_r`` is ``log(1/α)`` of the negative binomial's dispersion ``α``."""

    features: list
    target: str
    classes: Classes | None
    shift: np.ndarray
    scale: np.ndarray
    intercept: bool
    family: str = "bernoulli"
    log_r: float = 0.0
    offset: str | None = None
    exposure: bool = False

    def rows(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | float]:
        """``Z``, the target and the offset (0 without one) of a partition's rows."""
        Z = (frame[self.features].to_numpy(dtype=np.float64) - self.shift) / self.scale
        if self.intercept:
            Z = np.column_stack([np.ones(len(Z)), Z])
        column = frame[self.target]
        y = column.to_numpy(dtype=np.float64) if self.classes is None else self.classes.indicator(column)
        offset = 0.0
        if self.offset is not None:
            offset = frame[self.offset].to_numpy(dtype=np.float64)
            offset = np.log(offset) if self.exposure else offset
        return Z, y, offset

    def loss(self, eta: np.ndarray, y: np.ndarray) -> float:
        """``Σᵢ ℓ(ηᵢ, yᵢ)``, the negative log-likelihood up to a constant in ``η``."""
        if self.family == "bernoulli":
            return float(np.sum(np.logaddexp(0.0, eta) - y * eta))
        if self.family == "poisson":
            return float(np.sum(np.exp(eta) - y * eta))
        r = np.exp(self.log_r)  # NB2: ℓ = (y + r) log(r + μ) − y η
        return float(np.sum((y + r) * np.logaddexp(self.log_r, eta) - y * eta))

    def derivatives(self, eta: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``ℓ'(ηᵢ)`` and ``ℓ''(ηᵢ)`` per row."""
        from scipy.special import expit

        if self.family == "bernoulli":
            mu = expit(eta)
            return mu - y, mu * (1.0 - mu)
        if self.family == "poisson":
            mu = np.exp(eta)
            return mu - y, mu
        r = np.exp(self.log_r)
        share = expit(eta - self.log_r)  # μ/(r + μ)
        return (y + r) * share - y, (y + r) * share * (1.0 - share)


def row_slices(frame: pd.DataFrame):
    """The partition in slices of about `~bayesreg.defaults.SLICE_BYTES` of float64 values, at least
    one row: a pass's temporary arrays are a slice's, not the partition's, however wide it is."""
    step = max(1, SLICE_BYTES // (8 * max(frame.shape[1], 1)))
    for start in range(0, len(frame), step):
        yield frame.iloc[start : start + step]


def newton_terms(frame: pd.DataFrame, design: Design, theta: np.ndarray) -> tuple:
    """A partition's negative log-likelihood at ``theta`` (`Design.loss`), its gradient ``Zᵀℓ'`` and
    its Hessian ``ZᵀWZ`` (``W = diag(ℓ'')``), all float64."""
    loss, gradient, hessian = 0.0, np.zeros(theta.shape), np.zeros(theta.shape * 2)
    for rows in row_slices(frame):
        Z, y, offset = design.rows(rows)
        eta = Z @ theta + offset
        first, second = design.derivatives(eta, y)
        rooted = Z * np.sqrt(second)[:, None]
        loss += design.loss(eta, y)
        gradient += Z.T @ first
        hessian += rooted.T @ rooted
    return loss, gradient, hessian


def ladder_terms(frame: pd.DataFrame, design: Design, theta: np.ndarray, step: np.ndarray) -> np.ndarray:
    """A partition's negative log-likelihood at ``theta + t·step`` for each ``t`` of `LADDER`."""
    values = np.zeros(len(LADDER))
    for rows in row_slices(frame):
        Z, y, offset = design.rows(rows)
        eta, change = Z @ theta + offset, Z @ step
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is a step too long
            values += [design.loss(eta + t * change, y) for t in LADDER]
    return values


def dispersion_terms(frame: pd.DataFrame, design: Design, theta: np.ndarray, log_alpha: float) -> np.ndarray:
    """A partition's NB2 negative log-likelihood as a function of ``u = log α`` (``r = 1/α``, all
    terms, the log-gamma ones included), its first two derivatives in ``u`` at ``log_alpha`` and
    the magnitude of the terms the first is summed from: ``[value, d/du, d²/du², magnitude]``."""
    from scipy.special import digamma, gammaln, polygamma

    r = np.exp(-log_alpha)
    value = d_r = d_rr = magnitude = 0.0
    for rows in row_slices(frame):
        Z, y, offset = design.rows(rows)
        eta = Z @ theta + offset
        mu = np.exp(eta)
        log_ratio = np.logaddexp(0.0, eta + log_alpha)  # log(1 + μ/r)
        value += np.sum((y + r) * log_ratio - y * (eta + log_alpha) - gammaln(y + r) + gammaln(r))
        excess = (y + r) / (r + mu) - 1.0
        digammas = digamma(y + r) - digamma(r)
        d_r += np.sum(log_ratio + excess - digammas)  # d/dr of the sum, then d²/dr²
        d_rr += np.sum(
            1.0 / (r + mu) + (mu - y) / (r + mu) ** 2 - 1.0 / r - polygamma(1, y + r) + polygamma(1, r)
        )
        magnitude += r * np.sum(np.abs(log_ratio) + np.abs(excess) + np.abs(digammas))
    # u = −log r: d/du = −r d/dr, d²/du² = r d/dr + r² d²/dr²
    return np.array([value, -r * d_r, r * d_r + r * r * d_rr, magnitude])


def add(a, b):
    """Two partitions' terms summed (tuples element by element)."""
    if isinstance(a, tuple):
        return tuple(x + y for x, y in zip(a, b, strict=True))
    return a + b
