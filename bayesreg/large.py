"""Data beyond memory: the Gaussian likelihood's statistics from Dask, in one pass over the rows.

A Gaussian likelihood needs only ``n``, the column means and the centred cross-products of
``[X, y]`` (`~bayesreg.models.SufficientStats`); they are sums over row blocks. `moments_from_dask`
computes them from a Dask DataFrame or Array: each partition is checked (the messages of
`bayesreg.data`: a NaN, inf or text value named by its column and, for files, by its file and
line) and reduced to its count, means, centred cross-products, smallest and largest values in
float64, and the partitions' summaries are merged pairwise along a binary tree with the
parallel-variance update (Chan, Golub and LeVeque, 1979),

.. math::

    n = n_a + n_b, \\quad δ = \\bar v_b − \\bar v_a, \\quad \\bar v = \\bar v_a + δ\\,n_b/n,
    \\quad C = C_a + C_b + δδ^\\top n_a n_b / n,

so a column with a large mean loses nothing to cancellation and the rounding error grows with
the tree's depth, ``log₂`` of the number of partitions. `DaskMoments` then gives the statistics
with or without centring (an intercept or none), of standardised columns
(`~bayesreg.scaling.Standardization` from the same pass), and every MAP, path and posterior of the
Gaussian model costs nothing more in ``n``.

The logistic likelihood has no such statistics: `logistic_map_from_dask` finds its MAP by
proximal Newton steps, each one pass over the rows (a map-reduce of the gradient and ``XᵀWX``) and
the L1 sub-problem solved on the driver, with the rows kept on the workers when they fit.

`read_moments` and `read_logistic_map` read CSV and Parquet files (a path, a glob such as
``data/*.parquet``, or a list) through ``dask.dataframe`` and `dask_client` connects to a Dask
scheduler, or starts a local cluster in the process. Dask is imported here only, when these
functions run. What the workers run on each partition lives in `bayesreg._partition`, which
imports NumPy and pandas only: a worker does not load JAX, NumPyro or scikit-learn.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from bayesreg._partition import (
    LABELS_KEPT,
    LADDER,
    Classes,
    Design,
    Summary,
    add,
    dispersion_terms,
    find_labels,
    frame_of_blocks,
    ladder_terms,
    merge,
    merge_labels,
    newton_terms,
    summarise,
    with_indicator,
)
from bayesreg.data import (
    COUNT_FAMILIES,
    DataError,
    constant_columns,
    data_files,
    file_kind,
    separator,
    sniff_separator,
    strip_names,
)
from bayesreg.defaults import EPS, L1_RATIO, N_ALPHAS

__all__ = [
    "CONNECT_TIMEOUT",
    "CountMAP",
    "CountPath",
    "DISPERSION_RTOL",
    "DaskMoments",
    "LABELS_KEPT",
    "LOCAL_WORKERS",
    "LogisticMAP",
    "MomentsMAP",
    "MomentsPosterior",
    "NUTS_OPTIONS",
    "PERSIST_SHARE",
    "SchedulerError",
    "Source",
    "count_map_from_dask",
    "count_path_from_dask",
    "dask_client",
    "logistic_map_from_dask",
    "map_from_moments",
    "moments_from_dask",
    "path_from_moments",
    "posterior_from_moments",
    "posterior_path_from_moments",
    "read_count_map",
    "read_count_path",
    "read_logistic_map",
    "read_moments",
    "sufficient_stats_from_dask",
]

LOCAL_WORKERS = 2
"""Worker processes of the local cluster `dask_client` starts when no scheduler is given."""

CONNECT_TIMEOUT = 10.0
"""Seconds `dask_client` waits for a scheduler before it gives up (`SchedulerError`)."""


class SchedulerError(ConnectionError):
    """The Dask scheduler could not be reached; the message names its address.

    Examples
    --------
    >>> from bayesreg.large import SchedulerError
    >>> isinstance(SchedulerError("cannot reach the Dask scheduler at tcp://10.0.0.1:8786"), OSError)
    True
    """


class Source(NamedTuple):
    """Where a partition's rows come from, for the messages that name a bad value's place.

    Attributes
    ----------
    path : str
        The file.
    kind : {"csv", "parquet"}
        A CSV file's rows are named by their line (the header is line 1), a Parquet file's by their
        row (counted from 0).

    Examples
    --------
    >>> from bayesreg.large import Source
    >>> Source("data/part-0.csv", "csv").kind
    'csv'
    """

    path: str
    kind: str


class DaskMoments(NamedTuple):
    """Count, means and centred cross-products of the columns ``[X, y]``, from one pass over the rows.

    Attributes
    ----------
    names : list of str
        The feature columns.
    target : str
        The target column.
    n : int
        Rows.
    mean : ndarray, shape (n_features + 1,)
        Column means, the target's last.
    m2 : ndarray, shape (n_features + 1, n_features + 1)
        Centred cross-products ``Σᵢ (vᵢ − v̄)(vᵢ − v̄)ᵀ`` of the rows ``vᵢ = [xᵢ, yᵢ]``.
    low, high : ndarray, shape (n_features + 1,)
        Each column's smallest and largest value.
    notes : list of str
        What was changed while reading (as `bayesreg.data.CSVTable`'s notes).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.large import DaskMoments
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
    >>> rows = np.column_stack([X, y])
    >>> centred = rows - rows.mean(axis=0)
    >>> moments = DaskMoments(["a", "b"], "y", 3, rows.mean(axis=0), centred.T @ centred,
    ...                       rows.min(axis=0), rows.max(axis=0), [])
    >>> bool(moments.target_sd == np.std(y))
    True
    """

    names: list
    target: str
    n: int
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray
    notes: list

    @property
    def target_sd(self) -> float:
        """The target's population sd (``ddof=0``).

        Examples
        --------
        See `DaskMoments`.
        """
        return float(np.sqrt(self.m2[-1, -1] / self.n))

    def standardization(self, *, center: bool = True):
        """The `~bayesreg.scaling.Standardization` of the feature columns: their means (with
        ``center``) and population sds, as ``Standardization.from_data`` computes them from the rows.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg.large import DaskMoments
        >>> moments = DaskMoments(["a"], "y", 2, np.array([2.0, 0.0]), np.diag([2.0, 2.0]),
        ...                       np.array([1.0, -1.0]), np.array([3.0, 1.0]), [])
        >>> moments.standardization()
        Standardization(mean=array([2.]), scale=array([1.]))
        """
        from bayesreg.scaling import Standardization

        p = len(self.names)
        scale = np.sqrt(np.diag(self.m2)[:p] / self.n)
        return Standardization(self.mean[:p].copy() if center else np.zeros(p), scale)

    def sufficient_stats(self, *, center: bool = True, standardize: bool = False):
        """The `~bayesreg.models.SufficientStats` of the rows, as ``SufficientStats.from_data``
        computes them from ``X`` (or, with ``standardize``, from ``standardization(center).transform(X)``)
        and ``y``.

        Parameters
        ----------
        center : bool, default=True
            The statistics of the centred columns (a model with an intercept); otherwise the raw
            products ``XᵀX = C + n x̄x̄ᵀ`` with zero means.
        standardize : bool, default=False
            Of the columns divided by their sds (and centred with ``center``).

        Returns
        -------
        SufficientStats
            NumPy float64 arrays.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg.large import DaskMoments
        >>> from bayesreg.models import SufficientStats
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
        >>> rows = np.column_stack([X, y])
        >>> centred = rows - rows.mean(axis=0)
        >>> moments = DaskMoments(["a", "b"], "y", 3, rows.mean(axis=0), centred.T @ centred,
        ...                       rows.min(axis=0), rows.max(axis=0), [])
        >>> memory = SufficientStats.from_data(X, y, center=False)
        >>> all(np.allclose(a, b) for a, b in zip(moments.sufficient_stats(center=False), memory))
        True
        """
        from bayesreg.models import SufficientStats

        p = len(self.names)
        n = float(self.n)
        x_mean, y_mean = self.mean[:p], self.mean[p]
        xtx, xty, yty = self.m2[:p, :p].copy(), self.m2[:p, p].copy(), float(self.m2[p, p])
        if not center:
            xtx += n * np.outer(x_mean, x_mean)
            xty += n * x_mean * y_mean
            yty += n * y_mean**2
        if standardize:
            scale = np.sqrt(np.diag(self.m2)[:p] / n)
            xtx /= np.outer(scale, scale)
            xty /= scale
        means = (np.zeros(p) if standardize else x_mean.copy(), y_mean) if center else (np.zeros(p), 0.0)
        return SufficientStats(
            np.asarray(n), means[0], np.asarray(float(means[1])), xtx, xty, np.asarray(yty)
        )


def _place(error: tuple, parts: dict, sources: list | None) -> str:
    """The message of a bad cell ``(partition, row, text)``: its file and line (CSV) or row
    (Parquet) from the row counts of the partitions before it in the same file, or without files
    its row among all rows and its partition."""
    partition, row, text = error
    if sources is None:
        before = sum(parts[j][0] for j in parts if j < partition)
        return f"row {before + row} (partition {partition}), {text}"
    source = sources[partition]
    before = sum(parts[j][0] for j in parts if j < partition and sources[j].path == source.path)
    if source.kind == "csv":
        return f"{source.path} line {before + row + 2}, {text}"
    return f"{source.path} row {before + row}, {text}"


def _saved_index(summary: Summary, first: str, sources: list | None) -> bool:
    """Whether the first column is a row index pandas saved in each file: unnamed, and counting
    0, 1, ... from each file's first row (as `bayesreg.data.read_csv` detects in one file)."""
    if sources is None or not (first.startswith("Unnamed: ") or not first.strip()):
        return False
    start: dict = {}
    for partition in sorted(summary.parts):
        count, value = summary.parts[partition]
        path = sources[partition].path
        if count and value != start.get(path, 0):
            return False
        start[path] = start.get(path, 0) + count
    return True


def moments_from_dask(
    data,
    y=None,
    *,
    target: str | None = None,
    sources: list | None = None,
    drop_constant: bool = False,
    client=None,
    progress: bool | None = None,
) -> DaskMoments:
    """Count, means and centred cross-products of ``[X, y]`` from a Dask DataFrame or Array, in one pass.

    Each partition is checked and reduced where it lies (a worker); the summaries are merged
    pairwise along a binary tree (`moments_from_dask`'s module notes give the update), and only
    O(p²) numbers per partition travel.

    Parameters
    ----------
    data : dask DataFrame or dask Array, shape (n_samples, n_features[ + 1])
        A DataFrame holding the features and the ``target`` column (every other column is a
        feature), or the features with ``y`` apart; or an Array of the features (columns ``x0``,
        ``x1``, ...) with ``y``.
    y : dask Series or Array, shape (n_samples,), optional
        The target, partitioned as ``data``'s rows (named ``y``).
    target : str, optional
        The target column of a DataFrame ``data``.
    sources : list of Source, optional
        The file of each partition, in order, for messages that name a bad value's file and line;
        without it a bad value is named by its row (counted from 0) and partition.
    drop_constant : bool, default=False
        Drop feature columns with one value in every row (with a note) instead of refusing them.
    client : distributed.Client, optional
        Compute on this client's cluster; by default Dask's current scheduler.
    progress : bool, optional
        Show a progress bar over the partitions (default: when stderr is a terminal).

    Returns
    -------
    DaskMoments

    Raises
    ------
    DataError
        A text, NaN or inf value (named by column and place), a constant target, a constant feature
        (without ``drop_constant``), fewer than two rows, no feature column.

    Examples
    --------
    >>> import dask.dataframe as dd, numpy as np, pandas as pd
    >>> from bayesreg.large import moments_from_dask
    >>> frame = pd.DataFrame({"a": [1.0, 0.0, 1.0, 2.0], "y": [1.0, 2.0, 2.5, 4.0]})
    >>> moments = moments_from_dask(dd.from_pandas(frame, npartitions=2), target="y")
    >>> moments.n, moments.mean.tolist()
    (4, [1.0, 2.375])
    >>> bad = frame.assign(a=[1.0, 0.0, np.nan, 2.0])
    >>> moments_from_dask(dd.from_pandas(bad, npartitions=2), target="y")
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: row 2 (partition 1), column 'a': NaN (NaN and inf values are not allowed)
    """
    blocks, columns, target = _partitions(data, y, target)
    return _moments(blocks, columns, target, sources, drop_constant, client, progress)


def _partitions(data, y, target: str | None) -> tuple[list, list, str]:
    """The partitions of a Dask DataFrame or Array (with ``y``) as delayed DataFrames, the columns
    to read (the features, then the target) and the target's name (``y`` when given apart)."""
    import dask
    import dask.array as da

    if isinstance(data, da.Array):
        if y is None:
            raise DataError("a Dask Array of features needs its target y")
        if data.ndim != 2:
            raise DataError(f"X must be 2-d (n_samples, n_features), got shape {data.shape}")
        X = data.rechunk({1: -1})
        y = da.asarray(y).rechunk((X.chunks[0],))
        blocks = [
            dask.delayed(frame_of_blocks)(xb, yb)
            for xb, yb in zip(X.to_delayed()[:, 0], y.to_delayed(), strict=True)
        ]
        return blocks, [f"x{j}" for j in range(data.shape[1])] + ["y"], "y"
    if y is not None:
        data = data.assign(y=y)
        target = "y"
    if target is None or target not in data.columns:
        shown = ", ".join(map(str, data.columns))
        raise DataError(f"target column {target!r} not found; columns: {shown}")
    columns = [str(c) for c in data.columns if str(c) != target] + [target]
    return list(data.to_delayed()), columns, target


def _tree(items: list, combine):
    """``items`` (delayed) combined pairwise along a binary tree by ``combine``: one delayed value."""
    import dask

    while len(items) > 1:
        pairs = [dask.delayed(combine)(*items[i : i + 2]) for i in range(0, len(items) - 1, 2)]
        items = pairs + items[len(items) - len(items) % 2 :]
    return items[0]


def _moments(blocks, columns, target, sources, drop_constant, client, progress) -> DaskMoments:
    """`moments_from_dask` of the partitions ``blocks`` (delayed DataFrames holding ``columns``)."""
    return _checked_moments(blocks, columns, target, sources, drop_constant, client, progress)[0]


def _checked_moments(
    blocks,
    columns,
    target,
    sources,
    drop_constant,
    client,
    progress,
    family="gaussian",
    offset=None,
    exposure=False,
) -> tuple[DaskMoments, float]:
    """`_moments` with the checks of ``family``'s target (`~bayesreg.data.bad_cell`: counts for the
    count families) and an ``offset`` column among ``columns`` (positive numbers with ``exposure``):
    not a feature, so neither refused for being constant nor among the returned moments' names.
    Returns the moments and the offset column's mean (0 without one)."""
    import dask

    if len(columns) < 2 + (offset is not None):
        raise DataError("no feature columns: X has 0 columns")
    if sources is not None and len(sources) != len(blocks):
        raise ValueError(f"{len(sources)} sources for {len(blocks)} partitions")
    checks = {"counts": family in COUNT_FAMILIES, "exposure": offset if exposure else None}
    summaries = [
        dask.delayed(summarise)(block, i, columns, target, family, **checks) for i, block in enumerate(blocks)
    ]
    summary = _compute(_tree(summaries, merge), client, progress)
    if summary.error is not None:
        raise DataError(_place(summary.error, summary.parts, sources))
    notes: list[str] = []
    keep = np.ones(len(columns), dtype=bool)
    if _saved_index(summary, columns[0], sources):
        notes.append(f"dropped column {columns[0]!r} (a saved row index 0..n-1)")
        keep[0] = False
    if summary.n < 2:
        raise DataError(f"found {int(summary.n)} sample(s) while a minimum of 2 is required")
    constant = {
        name: summary.low[j]
        for j, name in enumerate(columns)
        if keep[j] and summary.low[j] == summary.high[j] and name != offset
    }
    for name in constant_columns(constant, target, drop=drop_constant, notes=notes):
        keep[columns.index(name)] = False
    mean = summary.mean + summary.mean_low
    shift = 0.0
    if offset is not None:
        shift = float(mean[columns.index(offset)])
        keep[columns.index(offset)] = False
    if keep.sum() < 2:
        raise DataError("no feature columns: X has 0 columns")
    kept = np.flatnonzero(keep)
    moments = DaskMoments(
        [columns[j] for j in kept[:-1]],
        target,
        int(summary.n),
        mean[kept],
        summary.m2[np.ix_(kept, kept)],
        summary.low[kept],
        summary.high[kept],
        notes,
    )
    return moments, shift


def _compute(graph, client, progress: bool | None):
    """``graph`` computed on ``client`` (or Dask's current scheduler), with a progress bar on
    stderr when asked or, by default, when stderr is a terminal."""
    import dask

    show = sys.stderr.isatty() if progress is None else progress
    if client is None:
        if not show:
            return dask.compute(graph)[0]
        from dask.diagnostics import ProgressBar

        with ProgressBar(out=sys.stderr):
            return dask.compute(graph)[0]
    from distributed.scheduler import KilledWorker

    future = client.compute(graph)
    if show:
        from distributed import progress as progress_bar

        progress_bar(future)
        print(file=sys.stderr)
    try:
        return future.result()
    except KilledWorker as error:  # Dask retried the task on other workers first
        raise SchedulerError(f"Dask workers died while reducing the data: {error}") from None


def sufficient_stats_from_dask(
    data,
    y=None,
    *,
    target: str | None = None,
    center: bool = True,
    standardize: bool = False,
    client=None,
):
    """`~bayesreg.models.SufficientStats` of a Dask DataFrame or Array, in one pass over its rows.

    `moments_from_dask`, then `DaskMoments.sufficient_stats`: equal to ``SufficientStats.from_data``
    on the rows in memory up to the order of summation.

    Parameters
    ----------
    data, y, target, client
        As for `moments_from_dask`.
    center, standardize
        As for `DaskMoments.sufficient_stats`.

    Returns
    -------
    SufficientStats

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from bayesreg.large import sufficient_stats_from_dask
    >>> from bayesreg.models import SufficientStats
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(100, 3)) + 1e6, rng.normal(size=100)
    >>> stats = sufficient_stats_from_dask(da.from_array(X, chunks=(30, 3)), da.from_array(y, chunks=30))
    >>> memory = SufficientStats.from_data(X, y)
    >>> bool(np.allclose(stats.xtx, memory.xtx, rtol=1e-9)), bool(np.allclose(stats.xty, memory.xty))
    (True, True)
    """
    moments = moments_from_dask(data, y, target=target, client=client)
    return moments.sufficient_stats(center=center, standardize=standardize)


def read_moments(
    data,
    target: str,
    *,
    sep: str | None = None,
    drop_constant: bool = False,
    blocksize: str | int = "64MB",
    client=None,
    progress: bool | None = None,
) -> DaskMoments:
    """Read CSV or Parquet files through ``dask.dataframe`` and reduce them to `DaskMoments`.

    The files are read one partition at a time (CSV in blocks of ``blocksize`` bytes, Parquet in
    groups of row groups of about ``blocksize`` bytes uncompressed, at least one row group), so a
    worker holds one partition, not the data, and reduces it in slices. A worker's memory therefore
    follows the largest Parquet row group: reading one takes about 5× its uncompressed size (a 236 MB
    row group, 1.1 GB), so write row groups of at most about 64 MB. CSV columns are read as float64
    (the fast parser); a file with text in a numeric column is read again as text to name the
    value's file and line. Spaces around column names are stripped and a saved row index dropped,
    with notes, as `bayesreg.data.read_csv` does; every file must have the same columns.

    Parameters
    ----------
    data : str, Path or list
        Files or globs (`bayesreg.data.data_files`).
    target : str
        The target column.
    sep : str, optional
        CSV separator, as `bayesreg.data.separator` takes it; detected from the first file by default.
    drop_constant : bool, default=False
        As for `moments_from_dask`.
    blocksize : str or int, default="64MB"
        Bytes per partition: of CSV text, or of a Parquet file's row groups (uncompressed).
    client, progress
        As for `moments_from_dask`.

    Returns
    -------
    DaskMoments

    Raises
    ------
    DataError
        As `moments_from_dask`, and for files that are missing, unreadable or whose columns differ.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.large import read_moments
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = pathlib.Path(folder, "a.csv").write_text("dose,response\\n1.5,2.0\\n0.5,1.0\\n")
    ...     _ = pathlib.Path(folder, "b.csv").write_text("dose,response\\n2.5,3.5\\ninf,1.0\\n")
    ...     moments = read_moments(pathlib.Path(folder, "a.csv"), "response")
    ...     read_moments(pathlib.Path(folder, "*.csv"), "response")
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: .../b.csv line 3, column 'dose': inf (NaN and inf values are not allowed)
    >>> moments.n, moments.names
    (2, ['dose'])
    """
    files, kind, read, sources, notes = _dask_files(data, target, sep, blocksize)
    settings = {"target": target, "sources": sources, "drop_constant": drop_constant}
    settings.update(client=client, progress=progress)
    moments = _reading(files, kind, read, lambda frame: moments_from_dask(frame, **settings))
    return moments._replace(notes=notes + moments.notes)


def _dask_files(data, target: str, sep: str | None, blocksize, labels: bool = False) -> tuple:
    """CSV or Parquet files as one Dask DataFrame, checked as `bayesreg.data.read_table` checks them
    (readable, the same columns in each, the target among them): ``(files, kind, read, sources,
    notes)``, where ``read(text=False)`` gives the DataFrame (its columns' names stripped), read
    with every CSV column as float64, with ``labels`` the target's as text (class labels), and with
    ``text`` every column as text; ``sources`` names each partition's file."""
    import dask.dataframe as dd

    files = data_files(data)
    kind = file_kind(files[0])
    notes: list[str] = []
    sources, raw = [], None
    if kind == "csv":
        sep = sniff_separator(files[0]) if sep is None else separator(sep)
    for path in files:
        try:
            if kind == "csv":
                header = pd.read_csv(path, sep=sep, nrows=0)
            else:
                import pyarrow.parquet as pq

                header = pd.DataFrame(columns=pq.read_schema(path).names)
        except (
            pd.errors.EmptyDataError,
            pd.errors.ParserError,
            UnicodeDecodeError,
            OSError,
            ValueError,
        ) as error:
            reason = " ".join(str(error).split()) or type(error).__name__
            raise DataError(f"cannot read {str(path)!r}: {reason}") from None
        names = [str(name) for name in header.columns]
        if raw is None:
            raw = names
            stripped = list(strip_names(header, str(path), notes).columns)
        elif names != raw:
            raise DataError(
                f"{str(path)!r} has columns {', '.join(names)}; {str(files[0])!r} has {', '.join(raw)}"
            )
    if target not in stripped:
        raise DataError(
            f"target column {target!r} not found in {str(files[0])!r}; columns: {', '.join(stripped)}"
        )
    renamed = dict(zip(raw, stripped, strict=True))
    dtype = {name: object if labels and renamed[name] == target else np.float64 for name in raw}

    def frames(types) -> list:
        if kind == "csv":
            return [dd.read_csv(path, sep=sep, blocksize=blocksize, dtype=types) for path in files]
        return [dd.read_parquet(path, blocksize=blocksize) for path in files]

    parts = frames(dtype)
    for path, frame in zip(files, parts, strict=True):
        sources.extend([Source(str(path), kind)] * frame.npartitions)

    def read(text: bool = False):
        chosen = frames(object) if text else parts
        return (dd.concat(chosen) if len(chosen) > 1 else chosen[0]).rename(columns=renamed)

    return files, kind, read, sources, notes


def _reading(files: list, kind: str, read, compute):
    """``compute(read())``; for CSV files whose float64 parse failed (a text value in a numeric
    column), ``compute`` runs again on the columns read as text, to name the value's file, line and
    column (`DataError`)."""
    if kind != "csv":
        return compute(read())
    try:
        return compute(read())
    except (ValueError, TypeError) as error:
        if isinstance(error, DataError):
            raise
        compute(read(text=True))
        raise DataError(f"cannot read {', '.join(map(str, files))}: {' '.join(str(error).split())}") from None


@contextlib.contextmanager
def dask_client(
    scheduler: str | None = None, *, n_workers: int = LOCAL_WORKERS, timeout: float = CONNECT_TIMEOUT
):
    """A ``distributed.Client`` while the block runs: on the scheduler at ``scheduler`` (or
    ``DASK_SCHEDULER_ADDRESS``), or on a local cluster of ``n_workers`` worker processes (one thread
    each) started in the process and closed afterwards.

    Parameters
    ----------
    scheduler : str, optional
        The scheduler's address, ``tcp://HOST:PORT``.
    n_workers : int, default `LOCAL_WORKERS`
        Worker processes of a local cluster.
    timeout : float, default `CONNECT_TIMEOUT`
        Seconds to wait for the scheduler.

    Raises
    ------
    SchedulerError
        The scheduler did not answer within ``timeout`` seconds.

    Examples
    --------
    >>> from bayesreg.large import dask_client
    >>> with dask_client("tcp://127.0.0.1:9", timeout=0.5) as client:
    ...     pass
    Traceback (most recent call last):
    ...
    bayesreg.large.SchedulerError: cannot reach the Dask scheduler at tcp://127.0.0.1:9: ...
    """
    from distributed import Client, LocalCluster

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if address is None:
        with (
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise SchedulerError(f"cannot reach the Dask scheduler at {address}: {reason}") from None
    with client:
        yield client


class MomentsMAP(NamedTuple):
    """The MAP of the linear model from `DaskMoments`, as `map_from_moments` returns it.

    Attributes
    ----------
    map : MAPResult
        The MAP (`~bayesreg.engine.map.linear_map`), ``coef`` and ``intercept`` on the original
        columns (also with ``standardize``).
    prior : Prior
        The prior on the weights (of the standardised columns with ``standardize``).
    sigma : float
        The noise sd: the one given, or its MAP.
    scaling : Standardization or None
        The columns' standardisation, with ``standardize``.

    Examples
    --------
    >>> from bayesreg.large import MomentsMAP
    >>> MomentsMAP._fields
    ('map', 'prior', 'sigma', 'scaling')
    """

    map: object
    prior: object
    sigma: float
    scaling: object


def map_from_moments(
    moments: DaskMoments,
    *,
    prior: str = "laplace",
    alpha: float = 1.0,
    l1_ratio: float = L1_RATIO,
    convention: str = "sklearn",
    sigma: float | None = None,
    fit_intercept: bool = True,
    standardize: bool = False,
) -> MomentsMAP:
    """The MAP of the linear model from the statistics of one pass: what
    ``BayesianLinearRegression(prior, alpha, ...).fit(X, y)`` finds from the rows in memory.

    The prior is `~bayesreg.priors.prior_from_penalty`'s for ``alpha`` in ``convention`` with the
    data's ``n``; without ``sigma`` the noise sd has the prior `~bayesreg.priors.noise_prior` of the
    target (its sd from the same pass) and is estimated with the weights. With ``standardize`` the
    prior is on the weights of the standardised columns and the MAP is mapped back to the original
    columns (`~bayesreg.scaling.Standardization.to_original`).

    Parameters
    ----------
    moments : DaskMoments
    prior : {"laplace", "gaussian", "elasticnet"}, default="laplace"
    alpha : float, default=1.0
        Penalty strength in ``convention``.
    l1_ratio : float, default `~bayesreg.defaults.L1_RATIO`
        The elastic net's L1 share.
    convention : {"sklearn", "book"}, default="sklearn"
    sigma : float, optional
        A fixed noise sd.
    fit_intercept, standardize : bool

    Returns
    -------
    MomentsMAP

    Examples
    --------
    scikit-learn's ``Lasso(alpha=0.1)`` from the statistics of a Dask Array:

    >>> import dask.array as da, numpy as np
    >>> from sklearn.linear_model import Lasso
    >>> from bayesreg.large import map_from_moments, moments_from_dask
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=200)
    >>> moments = moments_from_dask(da.from_array(X, chunks=(50, 3)), da.from_array(y, chunks=50))
    >>> result = map_from_moments(moments, prior="laplace", alpha=0.1)
    >>> lasso = Lasso(alpha=0.1, tol=1e-12).fit(X, y)
    >>> bool(np.allclose(result.map.params["coef"], lasso.coef_, atol=1e-8))
    True
    """
    from bayesreg.engine.map import linear_map

    stats, weights, noise, scaling = _linear_model(
        moments, prior, alpha, l1_ratio, convention, sigma, fit_intercept, standardize
    )
    result = _params_to_original(
        linear_map(stats, prior=weights, sigma=noise, fit_intercept=fit_intercept), scaling
    )
    fitted = float(np.mean(result.params["sigma"])) if sigma is None else float(sigma)
    return MomentsMAP(result, weights, fitted, scaling)


def _linear_model(moments, prior, alpha, l1_ratio, convention, sigma, fit_intercept, standardize) -> tuple:
    """The statistics (of the standardised columns with ``standardize``), the weights' prior at
    ``alpha`` for the data's ``n``, the noise (``sigma``, or `~bayesreg.priors.noise_prior` of the
    target's sd from the same pass) and the standardisation (or None) of the linear model: what
    ``BayesianLinearRegression.fit`` builds from the rows."""
    from bayesreg.priors import noise_prior, prior_from_penalty

    stats = moments.sufficient_stats(center=fit_intercept, standardize=standardize)
    weights = prior_from_penalty(
        prior, alpha, l1_ratio=l1_ratio, convention=convention, family="gaussian", n_samples=moments.n
    )
    noise = noise_prior(sd=moments.target_sd) if sigma is None else sigma
    scaling = moments.standardization(center=fit_intercept) if standardize else None
    return stats, weights, noise, scaling


def _params_to_original(result, scaling):
    """The MAP ``result`` with ``coef`` and ``intercept`` on the original columns (unchanged
    without a ``scaling``)."""
    if scaling is None or result is None:
        return result
    params = dict(result.params)
    params["coef"], intercept = scaling.to_original(params["coef"], params.get("intercept", 0.0))
    if "intercept" in params:
        params["intercept"] = intercept
    return result._replace(params=params)


def path_from_moments(
    moments: DaskMoments,
    alphas=None,
    *,
    n_alphas: int = N_ALPHAS,
    eps: float = EPS,
    prior: str = "laplace",
    l1_ratio: float = L1_RATIO,
    convention: str = "sklearn",
    sigma: float = 1.0,
    fit_intercept: bool = True,
    standardize: bool = False,
):
    """The MAP path of the linear model from the statistics of one pass: what
    `~bayesreg.path.map_path` finds from the rows in memory, at no further cost in ``n``.

    `~bayesreg.path.map_path` (and, without ``alphas``, `~bayesreg.path.alpha_grid`) on
    `DaskMoments.sufficient_stats`; with ``standardize`` on those of the standardised columns, the
    weights and intercepts mapped back to the original columns (`DaskMoments.standardization`).

    Parameters
    ----------
    moments : DaskMoments
    alphas : array_like, shape (n_alphas,), optional
        The grid; by default ``n_alphas`` values from ``α_max`` down to ``eps · α_max``.
    n_alphas, eps
        As for `~bayesreg.path.alpha_grid`.
    prior, l1_ratio, convention, sigma, fit_intercept, standardize
        As for `~bayesreg.path.map_path` (family gaussian).

    Returns
    -------
    MAPPath

    Examples
    --------
    scikit-learn's ``lasso_path`` from the statistics of a Dask Array:

    >>> import dask.array as da, numpy as np
    >>> from sklearn.linear_model import lasso_path
    >>> from bayesreg.large import moments_from_dask, path_from_moments
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=200)
    >>> moments = moments_from_dask(da.from_array(X, chunks=(50, 3)), da.from_array(y, chunks=50))
    >>> path = path_from_moments(moments, n_alphas=5, eps=1e-2)
    >>> reference = lasso_path(X - X.mean(axis=0), y - y.mean(), alphas=path.alphas, tol=1e-12)[1].T
    >>> bool(np.allclose(path.coefs, reference, atol=1e-10))
    True
    """
    from bayesreg.path import alpha_grid, map_path

    stats = moments.sufficient_stats(center=fit_intercept, standardize=standardize)
    model = {"prior": prior, "l1_ratio": l1_ratio, "family": "gaussian", "convention": convention}
    model.update(sigma=sigma, fit_intercept=fit_intercept)
    if alphas is None:
        alphas = alpha_grid(stats, None, n_alphas=n_alphas, eps=eps, **model)
    path = map_path(stats, None, alphas, **model)
    if not standardize:
        return path
    coefs, intercepts = moments.standardization(center=fit_intercept).to_original(path.coefs, path.intercepts)
    return path._replace(coefs=coefs, intercepts=intercepts)


def posterior_path_from_moments(
    moments: DaskMoments,
    alphas=None,
    *,
    n_alphas: int = N_ALPHAS,
    eps: float = EPS,
    prior: str = "laplace",
    l1_ratio: float = L1_RATIO,
    convention: str = "sklearn",
    sigma: float | None = None,
    fit_intercept: bool = True,
    standardize: bool = False,
    **nuts,
):
    """The posterior path of the linear model from the statistics of one pass: what
    `~bayesreg.path.posterior_path` samples from the rows in memory, within Monte Carlo error.

    `~bayesreg.path.posterior_path` on `DaskMoments.sufficient_stats` (of the standardised columns
    with ``standardize``, mapped back through `DaskMoments.standardization`), the noise sd sampled
    under `~bayesreg.priors.noise_prior` of the target's sd from the same pass unless ``sigma`` is
    given: every ``α``'s chains cost nothing in ``n``. Without ``alphas``, the grid of
    `path_from_moments` (at ``sigma``, or σ = 1 when it is sampled, as in memory).

    Parameters
    ----------
    moments : DaskMoments
    alphas : array_like, shape (n_alphas,), optional
    n_alphas, eps
        As for `~bayesreg.path.alpha_grid`.
    prior, l1_ratio, convention, sigma, fit_intercept, standardize
        As for `~bayesreg.path.posterior_path` (family gaussian).
    **nuts
        The sampler's settings of `~bayesreg.path.posterior_path` (``num_warmup``, ``num_samples``,
        ``num_chains``, ``seed``, ``hdi_prob``, ...).

    Returns
    -------
    PosteriorPath

    Examples
    --------
    Two ``α`` with short chains; the weight the lasso sets to 0 keeps a posterior around 0:

    >>> import dask.array as da, numpy as np
    >>> from bayesreg.large import moments_from_dask, posterior_path_from_moments
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=200)
    >>> moments = moments_from_dask(da.from_array(X, chunks=(50, 3)), da.from_array(y, chunks=50))
    >>> path = posterior_path_from_moments(moments, [0.5, 0.05], num_warmup=100, num_samples=100,
    ...                                    num_chains=2, seed=0, progress_bar=False)
    >>> path.map.coefs[:, 1].tolist(), bool(np.all((path.hdi_low[:, 1] < 0) & (path.hdi_high[:, 1] > 0)))
    ([0.0, 0.0], True)
    """
    from bayesreg.path import alpha_grid, posterior_path
    from bayesreg.priors import noise_prior

    stats = moments.sufficient_stats(center=fit_intercept, standardize=standardize)
    model = {"prior": prior, "l1_ratio": l1_ratio, "convention": convention, "fit_intercept": fit_intercept}
    if alphas is None:
        fixed = {} if sigma is None else {"sigma": sigma}
        alphas = alpha_grid(stats, None, n_alphas=n_alphas, eps=eps, **model, **fixed)
    scaling = moments.standardization(center=fit_intercept) if standardize else None
    noise = noise_prior(sd=moments.target_sd) if sigma is None else sigma
    return posterior_path(stats, None, alphas, sigma=noise, scaling=scaling, **model, **nuts)


NUTS_OPTIONS = (
    "num_warmup",
    "num_samples",
    "num_chains",
    "seed",
    "laplace_parametrisation",
    "mass_matrix",
    "target_accept",
    "max_tree_depth",
    "progress_bar",
)
"""The NUTS settings `posterior_from_moments` passes on to `~bayesreg.sampling.fit_posterior`."""


class MomentsPosterior(NamedTuple):
    """The NUTS posterior of the linear model from `DaskMoments`, as `posterior_from_moments`
    returns it.

    Attributes
    ----------
    fit : PosteriorFit
        `~bayesreg.sampling.fit_posterior`'s result: ``idata`` (``coef`` and ``intercept`` on the
        original columns, also with ``standardize``; no ``observed_data``, ``obs`` coordinate or
        PSIS-LOO, which need the rows), the MAP (on the original columns) and the diagnostics.
    prior : Prior
        The prior on the weights (of the standardised columns with ``standardize``).
    sigma : float
        The noise sd: the one given, or its posterior mean.
    scaling : Standardization or None
        The columns' standardisation, with ``standardize``.

    Examples
    --------
    >>> from bayesreg.large import MomentsPosterior
    >>> MomentsPosterior._fields
    ('fit', 'prior', 'sigma', 'scaling')
    """

    fit: object
    prior: object
    sigma: float
    scaling: object


def posterior_from_moments(
    moments: DaskMoments,
    *,
    prior: str = "laplace",
    alpha: float = 1.0,
    l1_ratio: float = L1_RATIO,
    convention: str = "sklearn",
    sigma: float | None = None,
    fit_intercept: bool = True,
    standardize: bool = False,
    feature_names=None,
    **nuts,
) -> MomentsPosterior:
    """The NUTS posterior of the linear model from the statistics of one pass: what
    ``BayesianLinearRegression(prior, alpha, ..., method="nuts").fit(X, y)`` samples from the rows
    in memory, within Monte Carlo error.

    The model is `map_from_moments`'s (the same prior, noise prior and standardisation), sampled by
    `~bayesreg.sampling.fit_posterior` from `~bayesreg.models.linear_regression_stats`: each
    gradient costs O(p²), nothing in ``n``. Without the rows there is no per-row log-likelihood,
    so the InferenceData has no ``observed_data`` and no PSIS-LOO.

    Parameters
    ----------
    moments : DaskMoments
    prior, alpha, l1_ratio, convention, sigma, fit_intercept, standardize
        As for `map_from_moments`.
    feature_names : sequence of str, optional
        The ``feature`` coordinate (default ``moments.names``).
    **nuts
        NUTS settings for `~bayesreg.sampling.fit_posterior`, among `NUTS_OPTIONS` (``num_warmup``,
        ``num_samples``, ``num_chains``, ``seed`` ...).

    Returns
    -------
    MomentsPosterior

    Raises
    ------
    TypeError
        For a keyword that is not one of `NUTS_OPTIONS`.

    Examples
    --------
    A short run from the statistics of a Dask Array (too short for the diagnostics' ESS threshold,
    whose warning is silenced); the MAP is scikit-learn's ``Ridge``, and the posterior has no rows:

    >>> import warnings
    >>> import dask.array as da, numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from bayesreg.large import moments_from_dask, posterior_from_moments
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=200)
    >>> moments = moments_from_dask(da.from_array(X, chunks=(50, 3)), da.from_array(y, chunks=50))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     result = posterior_from_moments(moments, prior="gaussian", alpha=1.0, sigma=0.5, num_warmup=100,
    ...                                     num_samples=100, num_chains=2, seed=0, progress_bar=False)
    >>> ridge = Ridge(alpha=1.0).fit(X, y)
    >>> bool(np.allclose(result.fit.map.params["coef"], ridge.coef_, rtol=1e-8))
    True
    >>> result.fit.idata.posterior["coef"].shape, "observed_data" in result.fit.idata.groups()
    ((2, 100, 3), False)
    """
    from bayesreg.models import linear_regression_stats
    from bayesreg.sampling import fit_posterior

    unknown = sorted(set(nuts) - set(NUTS_OPTIONS))
    if unknown:
        raise TypeError(
            f"posterior_from_moments: unknown NUTS settings {unknown}; known: {list(NUTS_OPTIONS)}"
        )
    stats, weights, noise, scaling = _linear_model(
        moments, prior, alpha, l1_ratio, convention, sigma, fit_intercept, standardize
    )
    fit = fit_posterior(
        linear_regression_stats,
        stats,
        feature_names=list(moments.names if feature_names is None else feature_names),
        prior=weights,
        sigma=noise,
        fit_intercept=fit_intercept,
        **nuts,
    )
    fit = fit._replace(map=_params_to_original(fit.map, scaling))
    if scaling is not None:
        fit = fit._replace(idata=scaling.posterior_to_original(fit.idata))
    fitted = float(fit.idata.posterior["sigma"].mean()) if sigma is None else float(sigma)
    return MomentsPosterior(fit, weights, fitted, scaling)


# --------------------------------------------------------------------------------------------------
# the logistic MAP: a pass over the rows per proximal Newton step


PERSIST_SHARE = 0.5
"""The largest share of the cluster's memory the rows (as float64) may take for
`logistic_map_from_dask` to keep them on the workers (``persist=None``)."""


def _classes(values: frozenset) -> Classes:
    """The classes of the target's distinct ``values``, checked by `~bayesreg.data.check_target`
    (its messages: two classes, no continuous target), text read as pandas reads a CSV column."""
    from bayesreg.data import check_target

    raw = list(values)
    kind = "other"
    if raw and all(isinstance(v, str) for v in raw):
        if {v.lower() for v in raw} <= {"true", "false"}:
            raw, kind = [v.lower() == "true" for v in raw], "bool"
        else:
            with contextlib.suppress(ValueError, TypeError):
                raw, kind = list(pd.to_numeric(pd.Series(raw)).to_numpy()), "number"
    elif raw and all(isinstance(v, (bool, np.bool_)) for v in raw):
        kind = "bool"
    elif raw and all(isinstance(v, (int, float, np.number)) for v in raw):
        kind = "number"
    try:
        labels = np.unique(np.asarray(raw))
        _, classes = check_target(labels, "bernoulli")
    except DataError as error:
        more = len(values) > LABELS_KEPT
        text = str(error).replace(
            f"found {LABELS_KEPT + 1} classes", f"found more than {LABELS_KEPT} classes"
        )
        raise DataError(text if more else str(error)) from None
    return Classes(classes, kind)


class LogisticMAP(NamedTuple):
    """The MAP of the logistic model through Dask, as `logistic_map_from_dask` returns it.

    Attributes
    ----------
    map : MAPResult
        ``params`` ``coef`` (n_features,) and ``intercept`` () on the original columns (also with
        ``standardize``); ``num_steps`` proximal Newton steps, ``residual`` the optimality residual
        relative to the one at the start, ``converged``.
    prior : Prior
        The prior on the weights (of the standardised columns with ``standardize``).
    classes : ndarray, shape (2,)
        The target's two labels, sorted; the model gives the probability of ``classes[1]``.
    moments : DaskMoments
        The columns' statistics from the checking pass: ``names`` (the features), ``n``,
        ``notes`` (as `read_moments`), the target's mean the share of ``classes[1]``.
    scaling : Standardization or None
        The columns' standardisation, with ``standardize``.
    passes : int
        Passes over the rows: the two checking passes, the one at the start, one per Newton step,
        and two more for each step the line search shortened (the objective at the shorter steps,
        then the terms at the one taken).
    persisted : bool
        Whether the rows were kept in the workers' memory (read once) or read again in each pass.

    Examples
    --------
    >>> from bayesreg.large import LogisticMAP
    >>> LogisticMAP._fields
    ('map', 'prior', 'classes', 'moments', 'scaling', 'passes', 'persisted')
    """

    map: object
    prior: object
    classes: np.ndarray
    moments: DaskMoments
    scaling: object
    passes: int
    persisted: bool


def logistic_map_from_dask(
    data,
    y=None,
    *,
    target: str | None = None,
    sources: list | None = None,
    prior: str = "laplace",
    alpha: float = 1.0,
    l1_ratio: float = L1_RATIO,
    convention: str = "sklearn",
    fit_intercept: bool = True,
    standardize: bool = False,
    drop_constant: bool = False,
    tol: float = 1e-10,
    max_steps: int = 100,
    persist: bool | None = None,
    client=None,
    progress: bool | None = None,
) -> LogisticMAP:
    """The MAP of the logistic model from a Dask DataFrame or Array: what
    ``BayesianLogisticRegression(prior, C=1/alpha, ...).fit(X, y)`` finds from the rows in memory.

    It minimises ``Σᵢ logloss_i + λ₁‖w‖₁ + (λ₂/2)‖w‖²`` (the intercept unpenalised; ``λ₁, λ₂`` of
    `~bayesreg.priors.prior_from_penalty` with ``family="bernoulli"``: for scikit-learn's
    ``LogisticRegression(C)``, ``alpha = 1/C``) by proximal Newton steps, each one map-reduce over
    the partitions:

    1. each partition returns its negative log-likelihood, gradient and Hessian ``XᵀWX``
       (``W = diag(μ(1 − μ))``, float64, ``(p + 1) × (p + 1)`` with the intercept), summed along
       a binary tree; only these travel;
    2. on the driver, the quadratic model plus the L1 term is minimised by coordinate descent and
       polished on its support (`~bayesreg.engine.proximal.minimise_quadratic_l1`: exact zeros);
    3. the next pass is at the full step, and gives the objective there (Armijo's test) with the
       next gradient and Hessian; a step that fails the test is shortened by a pass that evaluates
       the objective at 40 halvings at once.

    It stops when the optimality residual (`~bayesreg.engine.proximal.kkt_residual`) is at most
    ``tol`` times the one at the start (weights 0, the intercept at the log-odds of the classes'
    shares). The solver works on the columns centred (with an intercept) and divided by their sds,
    the penalty rescaled to match unless ``standardize`` puts it there, which makes the Newton
    systems well conditioned on unscaled columns; the result is on the original columns.

    Two passes come first, with the messages of `moments_from_dask`: the target's labels (two
    classes, as `~bayesreg.data.check_target` wants them; the model gives the probability of the
    second, sorted) and the columns' statistics (bad cells named by file and line, constant
    columns, a saved row index; the sds for ``standardize``). The rows are read once and kept on
    the workers (``persist``) when they fit in ``PERSIST_SHARE`` of the cluster's memory, else
    read again in every pass.

    Parameters
    ----------
    data, y, target, sources, drop_constant, client, progress
        As for `moments_from_dask`; the target holds two class labels (numbers, booleans or text).
    prior : {"laplace", "gaussian", "elasticnet"}, default="laplace"
    alpha : float, default=1.0
        Penalty strength in ``convention`` (``1/C``).
    l1_ratio : float, default `~bayesreg.defaults.L1_RATIO`
        The elastic net's L1 share.
    convention : {"sklearn", "book", "glum", "statsmodels"}, default="sklearn"
    fit_intercept, standardize : bool
        As for `map_from_moments` (the columns centred only with an intercept).
    tol : float, default=1e-10
        Relative optimality residual to stop at.
    max_steps : int, default=100
        Most proximal Newton steps (passes).
    persist : bool, optional
        Keep the rows on the workers (True) or read them in every pass (False); by default, keep
        them when their float64 size (for a DataFrame of unknown length, counted by the first
        pass) is at most `PERSIST_SHARE` of the workers' memory limits.

    Returns
    -------
    LogisticMAP

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        If the residual did not reach ``tol`` in ``max_steps`` steps.

    Raises
    ------
    DataError
        As `moments_from_dask`, and for a target with other than two classes.

    Examples
    --------
    scikit-learn's ``LogisticRegression(C=0.5)`` (L2) from a Dask Array of 4 blocks:

    >>> import dask.array as da, numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from bayesreg.large import logistic_map_from_dask
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> labels = (X @ np.array([1.0, 0.0, -2.0]) + rng.logistic(size=400) > 0).astype(int)
    >>> result = logistic_map_from_dask(da.from_array(X, chunks=(100, 3)),
    ...                                 da.from_array(labels, chunks=100), prior="gaussian", alpha=2.0)
    >>> reference = LogisticRegression(C=0.5, tol=1e-12).fit(X, labels)
    >>> bool(np.allclose(result.map.params["coef"], reference.coef_[0], rtol=1e-8))
    True
    >>> result.classes.tolist(), result.persisted, result.map.converged
    ([0, 1], True, True)
    """
    blocks, columns, target = _partitions(data, y, target)
    nbytes = _array_nbytes(data, columns) if persist is None else None
    settings = {"sources": sources, "drop_constant": drop_constant, "persist": persist, "nbytes": nbytes}
    model = {"prior": prior, "alpha": alpha, "l1_ratio": l1_ratio, "convention": convention}
    model.update(fit_intercept=fit_intercept, standardize=standardize, tol=tol, max_steps=max_steps)
    fitted = _glm_map(
        blocks, columns, target, model, family="bernoulli", client=client, progress=progress, **settings
    )
    return LogisticMAP(*fitted)


def read_logistic_map(
    data,
    target: str,
    *,
    sep: str | None = None,
    drop_constant: bool = False,
    blocksize: str | int = "64MB",
    persist: bool | None = None,
    client=None,
    progress: bool | None = None,
    **model,
) -> LogisticMAP:
    """Read CSV or Parquet files through ``dask.dataframe`` and find the logistic model's MAP
    (`logistic_map_from_dask`), with `read_moments`'s checks and messages (a bad value named by its
    file and line; notes in ``moments.notes``).

    The target column of a CSV file is read as text (class labels such as ``yes``/``no``, or
    numbers, typed as pandas types them), the others as float64. By default the rows are kept on
    the workers when their estimated float64 size is at most `PERSIST_SHARE` of the cluster's
    memory: a CSV file's size in bytes (a number in text takes about as many bytes as in float64,
    usually more), a Parquet file's rows (from its metadata) times its columns times 8.

    Parameters
    ----------
    data, target, sep, drop_constant, blocksize
        As for `read_moments`.
    persist, client, progress
        As for `logistic_map_from_dask`.
    **model
        ``prior``, ``alpha``, ``l1_ratio``, ``convention``, ``fit_intercept``, ``standardize``,
        ``tol``, ``max_steps``: as for `logistic_map_from_dask`.

    Returns
    -------
    LogisticMAP

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.large import read_logistic_map
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = pathlib.Path(folder, "a.csv").write_text("dose,outcome\\n1.5,yes\\n0.5,no\\n2.0,no\\n")
    ...     _ = pathlib.Path(folder, "b.csv").write_text("dose,outcome\\n2.5,yes\\n0.1,no\\n3.0,yes\\n")
    ...     result = read_logistic_map(pathlib.Path(folder, "*.csv"), "outcome", prior="gaussian")
    ...     _ = pathlib.Path(folder, "b.csv").write_text("dose,outcome\\n2.5,yes\\n0.1,maybe\\n")
    ...     read_logistic_map(pathlib.Path(folder, "*.csv"), "outcome")
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: Only binary classification is supported: ... found 3 classes: 'maybe', 'no', ...
    >>> result.classes.tolist(), result.moments.n, result.map.converged
    (['no', 'yes'], 6, True)
    """
    files, kind, read, sources, notes = _dask_files(data, target, sep, blocksize, labels=True)
    if persist is None:
        persist = _files_fit(files, kind, client)
    settings = {"sources": sources, "drop_constant": drop_constant, "persist": persist}
    settings.update(client=client, progress=progress, **model)
    result = _reading(
        files, kind, read, lambda frame: logistic_map_from_dask(frame, target=target, **settings)
    )
    return result._replace(moments=result.moments._replace(notes=notes + result.moments.notes))


def _files_fit(files: list, kind: str, client) -> bool:
    """Whether the rows of ``files`` fit in `PERSIST_SHARE` of the cluster's memory as float64: a CSV
    file's size in bytes (a number in text takes about as many bytes as in float64, usually more),
    a Parquet file's rows (from its metadata) times its columns times 8."""
    if kind == "csv":
        nbytes = sum(path.stat().st_size for path in files)
    else:
        import pyarrow.parquet as pq

        nbytes = 0
        for path in files:
            meta = pq.ParquetFile(path).metadata
            nbytes += 8 * meta.num_rows * meta.num_columns
    return nbytes <= PERSIST_SHARE * _cluster_memory(client)


class CountMAP(NamedTuple):
    """The MAP of a Poisson or negative binomial model through Dask, as `count_map_from_dask`
    returns it.

    Attributes
    ----------
    map : MAPResult
        ``params`` ``coef`` (n_features,), ``intercept`` () on the original columns (also with
        ``standardize``) and, for a negative binomial model whose dispersion was not given,
        ``dispersion`` () (its MAP under a flat prior); ``num_steps`` Newton steps (on the
        weights, and on the dispersion), ``residual`` the optimality residual relative to the one
        at the start, ``converged``.
    prior : Prior
        The prior on the weights (of the standardised columns with ``standardize``).
    moments : DaskMoments
        The columns' statistics from the checking pass: ``names`` (the features; not the offset or
        exposure column), ``n``, ``notes`` (as `read_moments`), the target's mean and variance.
    scaling : Standardization or None
        The columns' standardisation, with ``standardize``.
    passes : int
        Passes over the rows: the checking pass, one at the start, one per Newton step on the
        weights and per trial step on the dispersion, and two more for each weights' step the line
        search shortened.
    persisted : bool
        Whether the rows were kept in the workers' memory (read once) or read again in each pass.

    Examples
    --------
    >>> from bayesreg.large import CountMAP
    >>> CountMAP._fields
    ('map', 'prior', 'moments', 'scaling', 'passes', 'persisted')
    """

    map: object
    prior: object
    moments: DaskMoments
    scaling: object
    passes: int
    persisted: bool


def count_map_from_dask(
    data,
    y=None,
    *,
    family: str = "poisson",
    target: str | None = None,
    offset: str | None = None,
    exposure: str | None = None,
    dispersion: float | None = None,
    sources: list | None = None,
    prior: str = "laplace",
    alpha: float = 1.0,
    l1_ratio: float = L1_RATIO,
    convention: str = "glum",
    fit_intercept: bool = True,
    standardize: bool = False,
    drop_constant: bool = False,
    tol: float = 1e-10,
    max_steps: int = 100,
    persist: bool | None = None,
    client=None,
    progress: bool | None = None,
) -> CountMAP:
    """The MAP of the Poisson or negative binomial (NB2) model from a Dask DataFrame or Array: what
    ``BayesianPoissonRegression(prior, alpha, ...).fit(X, y, offset=...)`` (or
    ``BayesianNegativeBinomialRegression``) finds from the rows in memory.

    It minimises ``Σᵢ ℓ(ηᵢ, yᵢ) + λ₁‖w‖₁ + (λ₂/2)‖w‖²`` over the weights ``w`` and the unpenalised
    intercept ``b``, ``η = Xw + b + offset``, with ``ℓ`` the family's negative log-likelihood
    (Poisson: ``μ − y log μ``; NB2 with dispersion ``α``, ``r = 1/α``: ``(y + r) log(r + μ) − y log μ``,
    up to constants; log link ``μ = e^η``) and ``λ₁, λ₂`` of `~bayesreg.priors.prior_from_penalty`
    for the family (under glum's convention, ``(1/2n)·deviance + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²``). The
    steps are `logistic_map_from_dask`'s: per proximal Newton step one map-reduce over the
    partitions of the negative log-likelihood, gradient ``Xᵀℓ'`` and Hessian ``Xᵀdiag(ℓ'')X``, the
    L1 sub-problem solved on the driver (exact zeros). Without a ``dispersion`` the negative
    binomial's ``α`` is estimated with the weights under a flat prior on (0, ∞), as the estimator
    does: the weights given ``α`` and ``α`` given the weights in turn (a pass per Newton trial on
    ``log α``), until ``α`` changes by less than `DISPERSION_RTOL` relatively.

    One pass comes first, with the messages of `moments_from_dask` and, for the target, of the
    in-memory reader: a negative or non-integer count, a value of the ``exposure`` column that is
    not positive, named by file and line.

    Parameters
    ----------
    data, y, target, sources, drop_constant, client, progress
        As for `moments_from_dask`; the target holds counts.
    family : {"poisson", "negative_binomial"}, default="poisson"
    offset : str, optional
        The column of ``data`` holding each row's offset (the log of its exposure), added to the
        linear predictor; not a feature.
    exposure : str, optional
        Instead of ``offset``: the column of exposures (positive), whose log is the offset.
    dispersion : float > 0, optional
        The negative binomial's fixed ``α`` (``Var = μ + αμ²``; glum's ``theta``); estimated without.
    prior : {"laplace", "gaussian", "elasticnet"}, default="laplace"
    alpha : float, default=1.0
        Penalty strength in ``convention``.
    l1_ratio : float, default `~bayesreg.defaults.L1_RATIO`
    convention : {"glum", "statsmodels", "book", "sklearn"}, default="glum"
    fit_intercept, standardize, tol, max_steps, persist
        As for `logistic_map_from_dask` (``max_steps`` per round with the dispersion estimated).

    Returns
    -------
    CountMAP

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        If the residual did not reach ``tol``.

    Raises
    ------
    DataError
        As `moments_from_dask`, and for a negative or non-integer count, a constant target, an
        exposure ``<= 0``, an offset or exposure column that is missing or is the target.

    Examples
    --------
    glum's Poisson lasso from a Dask DataFrame of 4 partitions, the exposure a column:

    >>> import dask.dataframe as dd, numpy as np, pandas as pd
    >>> from glum import GeneralizedLinearRegressor
    >>> from bayesreg.large import count_map_from_dask
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> years = rng.uniform(1.0, 5.0, size=400)
    >>> counts = rng.poisson(years * np.exp(0.3 + X @ np.array([0.5, 0.0, -0.4])))
    >>> frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(years=years, visits=counts)
    >>> result = count_map_from_dask(dd.from_pandas(frame, npartitions=4), target="visits",
    ...                              exposure="years", alpha=0.01)
    >>> glum = GeneralizedLinearRegressor(family="poisson", alpha=0.01, l1_ratio=1.0, gradient_tol=1e-12)
    >>> glum = glum.fit(X, counts, offset=np.log(years))
    >>> bool(np.allclose(result.map.params["coef"], glum.coef_, atol=1e-7)), result.moments.names
    (True, ['a', 'b', 'c'])
    """
    blocks, columns, target, settings = _count_partitions(
        data, y, target, family, offset, exposure, dispersion, persist, "count_map_from_dask"
    )
    settings.update(sources=sources, drop_constant=drop_constant)
    model = {"prior": prior, "alpha": alpha, "l1_ratio": l1_ratio, "convention": convention}
    model.update(fit_intercept=fit_intercept, standardize=standardize, tol=tol, max_steps=max_steps)
    result, weights, _, moments, scaling, passes, kept = _glm_map(
        blocks, columns, target, model, client=client, progress=progress, **settings
    )
    return CountMAP(result, weights, moments, scaling, passes, kept)


def _array_nbytes(data, columns: list) -> float | None:
    """The float64 bytes of a Dask Array of features with its target (one more column of
    ``columns``), where its shape is known; None for a DataFrame or an unknown length (the first
    pass then counts the rows)."""
    import dask.array as da

    if not isinstance(data, da.Array) or np.isnan(data.nbytes):
        return None
    return float(data.nbytes) * len(columns) / (len(columns) - 1)


def _count_partitions(data, y, target, family, offset, exposure, dispersion, persist, caller) -> tuple:
    """The partitions of a count model's data (`_partitions`) with the offset or exposure column
    just before the target, checked, and the settings of `_glm_setup` they give: ``(blocks,
    columns, target, settings)``."""
    if family not in COUNT_FAMILIES:
        raise ValueError(f"{caller}: family must be one of {COUNT_FAMILIES}, got {family!r}")
    if offset is not None and exposure is not None:
        raise ValueError("give offset (the log exposure) or exposure, not both")
    if dispersion is not None and family != "negative_binomial":
        raise ValueError(f"dispersion does not apply to family={family!r}")
    blocks, columns, target = _partitions(data, y, target)
    column = offset if offset is not None else exposure
    if column is not None:
        role = "offset" if offset is not None else "exposure"
        if column == target:
            raise DataError(f"the {role} column {column!r} is the target column")
        if column not in columns:
            raise DataError(f"{role} column {column!r} not found; columns: {', '.join(columns)}")
        columns = [name for name in columns[:-1] if name != column] + [column, target]
    if dispersion is not None:
        from bayesreg.params import check_param

        dispersion = check_param("dispersion", dispersion)
    nbytes = _array_nbytes(data, columns) if persist is None else None
    settings = {"family": family, "offset": column, "exposure": exposure is not None}
    settings.update(dispersion=dispersion, persist=persist, nbytes=nbytes)
    return blocks, columns, target, settings


def read_count_map(
    data,
    target: str,
    *,
    sep: str | None = None,
    drop_constant: bool = False,
    blocksize: str | int = "64MB",
    persist: bool | None = None,
    client=None,
    progress: bool | None = None,
    **model,
) -> CountMAP:
    """Read CSV or Parquet files through ``dask.dataframe`` and find the Poisson or negative
    binomial model's MAP (`count_map_from_dask`), with `read_moments`'s checks and messages (a bad
    value, count or exposure named by its file and line; notes in ``moments.notes``). By default
    the rows are kept on the workers when they fit, as for `read_logistic_map`.

    Parameters
    ----------
    data, target, sep, drop_constant, blocksize
        As for `read_moments`.
    persist, client, progress
        As for `count_map_from_dask`.
    **model
        ``family``, ``offset``, ``exposure``, ``dispersion``, ``prior``, ``alpha``, ``l1_ratio``,
        ``convention``, ``fit_intercept``, ``standardize``, ``tol``, ``max_steps``: as for
        `count_map_from_dask`.

    Returns
    -------
    CountMAP

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.large import read_count_map
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = pathlib.Path(folder, "a.csv").write_text("dose,visits\\n1.5,2\\n0.5,0\\n2.0,3\\n")
    ...     _ = pathlib.Path(folder, "b.csv").write_text("dose,visits\\n2.5,4\\n0.1,1\\n3.0,6\\n")
    ...     result = read_count_map(pathlib.Path(folder, "*.csv"), "visits", prior="gaussian")
    ...     _ = pathlib.Path(folder, "b.csv").write_text("dose,visits\\n2.5,4\\n0.1,1.5\\n")
    ...     read_count_map(pathlib.Path(folder, "*.csv"), "visits")
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: .../b.csv line 3, column 'visits' (the target): 1.5 is not an integer ...
    >>> result.moments.n, result.map.converged
    (6, True)
    """
    files, kind, read, sources, notes = _dask_files(data, target, sep, blocksize)
    if persist is None:
        persist = _files_fit(files, kind, client)
    settings = {"sources": sources, "drop_constant": drop_constant, "persist": persist}
    settings.update(client=client, progress=progress, **model)
    result = _reading(files, kind, read, lambda frame: count_map_from_dask(frame, target=target, **settings))
    return result._replace(moments=result.moments._replace(notes=notes + result.moments.notes))


class CountPath(NamedTuple):
    """The MAP path of a Poisson or negative binomial model through Dask, as `count_path_from_dask`
    returns it.

    Attributes
    ----------
    path : MAPPath
        `~bayesreg.path.MAPPath`: the grid, the weights and intercepts on the original columns at
        each ``α``, Newton steps and convergence per ``α``.
    moments : DaskMoments
        The columns' statistics from the checking pass (``names``, ``n``, ``notes``).
    passes : int
        Passes over the rows: the checking pass, the intercept's Newton steps at weights 0, and per
        ``α`` the start and one per Newton step (two more for each shortened step).
    persisted : bool
        Whether the rows were kept in the workers' memory.

    Examples
    --------
    >>> from bayesreg.large import CountPath
    >>> CountPath._fields
    ('path', 'moments', 'passes', 'persisted')
    """

    path: object
    moments: DaskMoments
    passes: int
    persisted: bool


def count_path_from_dask(
    data,
    y=None,
    *,
    alphas=None,
    n_alphas: int = N_ALPHAS,
    eps: float = EPS,
    family: str = "poisson",
    target: str | None = None,
    offset: str | None = None,
    exposure: str | None = None,
    dispersion: float | None = None,
    sources: list | None = None,
    prior: str = "laplace",
    l1_ratio: float = L1_RATIO,
    convention: str = "glum",
    fit_intercept: bool = True,
    standardize: bool = False,
    drop_constant: bool = False,
    tol: float = 1e-10,
    max_steps: int = 100,
    persist: bool | None = None,
    client=None,
    progress: bool | None = None,
) -> CountPath:
    """The MAP path of the Poisson or negative binomial model (a fixed ``dispersion``) from a Dask
    DataFrame or Array: what `~bayesreg.path.map_path` finds from the rows in memory.

    At each ``α`` of the grid, in order, `count_map_from_dask`'s objective is minimised by its
    proximal Newton passes, started from the solution at the ``α`` before (the first from the
    weights-0 fit); without ``alphas`` the grid is `~bayesreg.path.alpha_grid`'s, ``n_alphas``
    values from ``α_max`` down to ``eps·α_max``, with ``α_max`` from the score of the weights at 0
    (the intercept at its optimum, found by Newton steps on it alone).

    Parameters
    ----------
    data, y, target, sources, drop_constant, client, progress
        As for `moments_from_dask`; the target holds counts.
    alphas : array_like, shape (n_alphas,), optional
        The grid, computed in the order given (decreasing is fastest).
    n_alphas, eps
        As for `~bayesreg.path.alpha_grid`.
    family, offset, exposure, prior, l1_ratio, convention, fit_intercept, standardize, tol, max_steps, persist
        As for `count_map_from_dask`.
    dispersion : float > 0
        The negative binomial's fixed dispersion (a path holds it fixed, as in memory).

    Returns
    -------
    CountPath

    Examples
    --------
    glum's Poisson lasso at the grid's last ``α``:

    >>> import dask.array as da, numpy as np
    >>> from glum import GeneralizedLinearRegressor
    >>> from bayesreg.large import count_path_from_dask
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> counts = rng.poisson(np.exp(0.3 + X @ np.array([0.5, 0.0, -0.4])))
    >>> result = count_path_from_dask(da.from_array(X, chunks=(100, 3)), da.from_array(counts, chunks=100),
    ...                               n_alphas=4, eps=0.01)
    >>> glum = GeneralizedLinearRegressor(family="poisson", alpha=result.path.alphas[-1], l1_ratio=1.0,
    ...                                   gradient_tol=1e-12).fit(X, counts)
    >>> (result.path.coefs != 0).sum(axis=1).tolist(), bool(np.allclose(result.path.coefs[-1], glum.coef_))
    ([0, 2, 2, 3], True)
    """
    if family == "negative_binomial" and dispersion is None:
        raise ValueError(
            "family='negative_binomial' needs a fixed dispersion for a path (fit it first to estimate it)"
        )
    blocks, columns, target, settings = _count_partitions(
        data, y, target, family, offset, exposure, dispersion, persist, "count_path_from_dask"
    )
    settings.update(sources=sources, drop_constant=drop_constant)
    model = {"prior": prior, "alpha": None, "l1_ratio": l1_ratio, "convention": convention}
    model.update(fit_intercept=fit_intercept, standardize=standardize, tol=tol, max_steps=max_steps)
    grid = {"alphas": alphas, "n_alphas": n_alphas, "eps": eps}
    path, moments, passes, kept = _glm_path(
        blocks, columns, target, model, grid, client=client, progress=progress, **settings
    )
    return CountPath(path, moments, passes, kept)


def read_count_path(
    data,
    target: str,
    *,
    sep: str | None = None,
    drop_constant: bool = False,
    blocksize: str | int = "64MB",
    persist: bool | None = None,
    client=None,
    progress: bool | None = None,
    **model,
) -> CountPath:
    """Read CSV or Parquet files through ``dask.dataframe`` and find the Poisson or negative
    binomial model's MAP path (`count_path_from_dask`), with `read_count_map`'s checks and messages.

    Parameters
    ----------
    data, target, sep, drop_constant, blocksize, persist, client, progress
        As for `read_count_map`.
    **model
        ``alphas``, ``n_alphas``, ``eps`` and the model's settings of `count_path_from_dask`.

    Returns
    -------
    CountPath

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.large import read_count_path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = pathlib.Path(folder, "a.csv").write_text("dose,visits\\n1.5,2\\n0.5,0\\n2.0,3\\n")
    ...     _ = pathlib.Path(folder, "b.csv").write_text("dose,visits\\n2.5,4\\n0.1,1\\n3.0,6\\n")
    ...     result = read_count_path(pathlib.Path(folder, "*.csv"), "visits", n_alphas=3)
    >>> result.path.coefs.shape, result.path.converged.tolist()
    ((3, 1), [True, True, True])
    """
    files, kind, read, sources, notes = _dask_files(data, target, sep, blocksize)
    if persist is None:
        persist = _files_fit(files, kind, client)
    settings = {"sources": sources, "drop_constant": drop_constant, "persist": persist}
    settings.update(client=client, progress=progress, **model)
    result = _reading(files, kind, read, lambda frame: count_path_from_dask(frame, target=target, **settings))
    return result._replace(moments=result.moments._replace(notes=notes + result.moments.notes))


def _cluster_memory(client) -> float:
    """Bytes of memory of the cluster's workers (their limits), or of this machine."""
    if client is not None:
        limits = [worker.get("memory_limit") or 0 for worker in client.scheduler_info()["workers"].values()]
        if limits and all(limits):
            return float(sum(limits))
    import psutil

    return float(psutil.virtual_memory().total)


def _keep(blocks: list, client) -> list:
    """The partitions computed and kept in the workers' memory (``persist``)."""
    import dask

    return client.persist(blocks) if client is not None else list(dask.persist(*blocks))


class _Setup(NamedTuple):
    """What `_glm_setup` prepares for the Newton passes of `_glm_map` and `_glm_path`."""

    blocks: list
    moments: DaskMoments
    labels: np.ndarray | None
    design: Design
    scaling: object
    theta: np.ndarray
    kept: bool
    passes: int
    progress: bool | None
    tol: float
    max_steps: int


def _glm_setup(
    blocks,
    columns,
    target,
    model,
    *,
    family,
    sources,
    drop_constant,
    persist,
    nbytes,
    client,
    progress,
    offset=None,
    exposure=False,
    dispersion=None,
) -> _Setup:
    """The checking passes and the start of the logistic, Poisson or negative binomial model's Newton
    passes on the partitions ``blocks`` (delayed DataFrames holding ``columns``, an ``offset``
    column just before the ``target``); ``nbytes`` estimates their float64 size (None: unknown
    until the first pass). The solver's coordinates are the columns centred (with an intercept) and
    divided by their sds, the intercept first."""
    import dask

    from bayesreg.params import check_params

    tol, max_steps = check_params({"tol": model["tol"], "max_steps": model["max_steps"]}).values()
    if len(columns) < 2 + (offset is not None):
        raise DataError("no feature columns: X has 0 columns")
    if sources is not None and len(sources) != len(blocks):
        raise ValueError(f"{len(sources)} sources for {len(blocks)} partitions")
    fits = nbytes is not None and nbytes <= PERSIST_SHARE * _cluster_memory(client)
    kept = bool(persist) or (persist is None and fits)
    if kept:
        blocks = _keep(blocks, client)
    classes, checked, passes = None, blocks, 1
    if family == "bernoulli":
        found = [dask.delayed(find_labels)(block, i, target) for i, block in enumerate(blocks)]
        labels = _compute(_tree(found, merge_labels), client, progress)
        if labels.error is not None:
            raise DataError(_place(labels.error, labels.parts, sources))
        if persist is None and not kept and nbytes is None:
            rows = sum(count for count, _ in labels.parts.values())
            if 8.0 * rows * len(columns) <= PERSIST_SHARE * _cluster_memory(client):
                blocks, kept = _keep(blocks, client), True
        classes = _classes(labels.values)
        checked = [dask.delayed(with_indicator)(block, target, classes) for block in blocks]
        passes += 1
    quiet = progress if not kept else False
    moments, shift = _checked_moments(
        checked, columns, target, sources, drop_constant, client, quiet, family, offset, exposure
    )
    rows_fit = 8.0 * moments.n * len(columns) <= PERSIST_SHARE * _cluster_memory(client)
    if persist is None and not kept and rows_fit:
        blocks, kept, quiet = _keep(blocks, client), True, False
    intercept = bool(model["fit_intercept"])
    scaling = moments.standardization(center=intercept)
    mean = float(moments.mean[-1])
    if family == "bernoulli":
        start = np.log(mean / (1.0 - mean))
    else:  # the weights-0 fit's intercept without an offset; near it with one
        start = np.log(mean / shift) if exposure else np.log(mean) - shift
    theta = np.concatenate([[start] if intercept else [], np.zeros(len(moments.names))])
    log_alpha = 0.0
    if family == "negative_binomial":
        variance = float(moments.m2[-1, -1]) / moments.n
        moment = (variance - mean) / mean**2  # (s² − ȳ)/ȳ²: the dispersion's moment estimate
        log_alpha = np.log(float(dispersion) if dispersion is not None else moment if moment > 0 else 1.0)
    columns_in = (moments.names, target, classes, scaling.mean, scaling.scale, intercept)
    design = Design(*columns_in, family, -log_alpha, offset, exposure)
    labels = None if classes is None else classes.labels
    return _Setup(blocks, moments, labels, design, scaling, theta, kept, passes, quiet, tol, max_steps)


def _penalty(setup: _Setup, model, alpha) -> tuple:
    """The prior of the weights at ``alpha`` and its rates ``(λ₁, λ₂)`` per coordinate of the
    solver's ``theta``: the standardised columns' weights are the model's with ``standardize``,
    else the original columns' times their sds (the penalty rescaled to match)."""
    from bayesreg.priors import prior_from_penalty

    design = setup.design
    weights = prior_from_penalty(
        model["prior"],
        alpha,
        l1_ratio=model["l1_ratio"],
        convention=model["convention"],
        family=design.family,
        n_samples=setup.moments.n,
    )
    l1, l2 = (float(rate) for rate in weights.rates())
    l1 = 0.0 if weights.kind == "gaussian" else l1
    l2 = 0.0 if weights.kind == "laplace" else l2
    factor = np.ones(len(design.features)) if model["standardize"] else design.scale
    free = [0.0] if design.intercept else []
    return weights, (np.concatenate([free, l1 / factor]), np.concatenate([free, l2 / factor**2]))


def _to_original(setup: _Setup, theta) -> tuple:
    """The weights and intercept (0 without one) on the original columns of the solver's ``theta``."""
    design = setup.design
    coef = (theta[1:] if design.intercept else theta) / design.scale
    return coef, float(theta[0] - design.shift @ coef) if design.intercept else 0.0


def _glm_map(blocks, columns, target, model, *, client, dispersion=None, **settings) -> tuple:
    """The MAP of `_glm_setup`'s model at ``model["alpha"]``: ``(MAPResult, prior, class labels,
    moments, scaling, passes, kept)``; the labels are None for counts."""
    from sklearn.exceptions import ConvergenceWarning

    from bayesreg.engine.map import MAPResult

    setup = _glm_setup(blocks, columns, target, model, client=client, dispersion=dispersion, **settings)
    design, tol, max_steps = setup.design, setup.tol, setup.max_steps
    weights, penalty = _penalty(setup, model, model["alpha"])
    first = int(design.intercept) if design.family == "bernoulli" else 0
    solver = _NewtonPasses(setup.blocks, penalty, client, setup.progress, first=first)
    theta, steps, relative = solver.weights_mode(design, setup.theta, tol, max_steps)
    estimated = design.family == "negative_binomial" and dispersion is None
    log_alpha = -design.log_r
    if estimated:
        for _ in range(100):
            if relative > tol:
                break
            new, k, alpha_relative = solver.dispersion_mode(design, theta, log_alpha, tol)
            steps += k
            settled = abs(np.expm1(new - log_alpha)) <= DISPERSION_RTOL
            log_alpha, design = new, design._replace(log_r=-new)
            if settled:
                relative = max(relative, alpha_relative)
                break
            theta, more, relative = solver.weights_mode(design, theta, tol, max_steps)
            steps += more
        else:
            relative = max(relative, 2 * tol)
    converged = relative <= tol
    if not converged:
        warnings.warn(
            f"{design.family} MAP through Dask did not converge: optimality residual {relative:.2e} > tol "
            f"{tol:.0e} after {steps} Newton steps; raise max_steps, or check the data for "
            "(near-)duplicate columns",
            ConvergenceWarning,
            stacklevel=4,
        )
    coef, intercept = _to_original(setup, theta)
    params = {"coef": coef}
    if design.intercept:
        params["intercept"] = np.asarray(intercept)
    if estimated:
        params["dispersion"] = np.asarray(np.exp(log_alpha))
    result = MAPResult(params, steps, relative, converged)
    scaling = setup.scaling if model["standardize"] else None
    passes = setup.passes + solver.passes
    return result, weights, setup.labels, setup.moments, scaling, passes, setup.kept


def _glm_path(blocks, columns, target, model, grid, *, client, **settings):
    """The MAP path of `_glm_setup`'s model (a fixed dispersion) over ``grid["alphas"]`` or, without
    them, ``grid["n_alphas"]`` values from ``α_max`` down to ``grid["eps"]·α_max``, each fit
    warm-started from the one before: ``(MAPPath, moments, passes, kept)``. ``α_max``, the smallest ``α``
    at which every weight is 0, comes from the score of the weights at 0 with the intercept at its
    optimum (Newton on the intercept alone, a pass per step), as `~bayesreg.path.alpha_max` finds
    it from the rows."""
    from sklearn.exceptions import ConvergenceWarning

    from bayesreg.path import MAPPath

    setup = _glm_setup(blocks, columns, target, model, client=client, **settings)
    design, tol, max_steps = setup.design, setup.tol, setup.max_steps
    passes, theta = setup.passes, setup.theta.copy()
    zero = _NewtonPasses(setup.blocks, _penalty(setup, model, 1.0)[1], client, setup.progress, first=0)
    for _ in range(100):  # the weights-0 fit's intercept: Newton in one coordinate
        _, gradient, hessian = zero._sum(newton_terms, design, theta)
        step = gradient[0] / hessian[0, 0] if design.intercept else 0.0
        if abs(step) <= 4 * np.finfo(float).eps * max(1.0, abs(theta[0])):
            break
        theta[0] -= step
    alphas = grid.get("alphas")
    if alphas is None:
        if model["prior"] == "gaussian":
            raise ValueError(
                "an L2 (gaussian) penalty never sets weights exactly to 0: there is no alpha_max"
            )
        unit = _penalty(setup, model, 1.0)[1][0][int(design.intercept) :]
        score = np.abs(gradient[int(design.intercept) :])
        top = float(np.max(score / unit))
        alphas = np.geomspace(top, top * grid["eps"], grid["n_alphas"])
    alphas = np.asarray(alphas, dtype=float)
    coefs, intercepts, steps, converged = [], [], [], []
    for alpha in alphas:
        solver = _NewtonPasses(
            setup.blocks, _penalty(setup, model, alpha)[1], client, setup.progress, first=0
        )
        # one scale for every alpha: the score at the weights-0 fit (the residual of a warm start
        # near its optimum would be a scale of round-off)
        solver.scale = float(np.max(np.abs(gradient)))
        theta, taken, relative = solver.weights_mode(design, theta, tol, max_steps)
        passes += solver.passes
        coef, intercept = _to_original(setup, theta)
        coefs.append(coef)
        intercepts.append(intercept)
        steps.append(taken)
        converged.append(relative <= tol)
        if relative > tol:
            warnings.warn(
                f"{design.family} MAP path through Dask: the fit at alpha {alpha:.4g} did not converge "
                f"(optimality residual {relative:.2e} > tol {tol:.0e} after {taken} Newton steps)",
                ConvergenceWarning,
                stacklevel=4,
            )
    path = MAPPath(alphas, np.array(coefs), np.array(intercepts), np.array(steps), np.array(converged))
    return path, setup.moments, passes + zero.passes, setup.kept


DISPERSION_RTOL = 1e-10
"""The negative binomial's rounds (the weights given the dispersion, the dispersion given the
weights) stop when the dispersion changes by less than this, relatively, as in memory
(`~bayesreg.engine.glm.glm_map`)."""


class _NewtonPasses:
    """The proximal Newton steps of `_glm_map` on the partitions ``blocks``, each a pass over the
    rows (counted in ``passes``), for the penalty ``(λ₁, λ₂)`` per coordinate of the solver's
    ``theta``; the residual of the coordinates from ``first`` on sets the scale of the stopping
    test, at the first start."""

    def __init__(self, blocks, penalty, client, progress, first):
        self.blocks, (self.lasso, self.ridge) = blocks, penalty
        self.client, self.progress, self.first = client, progress, first
        self.passes, self.scale = 0, None

    def _sum(self, function, *args):
        import dask

        self.passes += 1
        terms = [dask.delayed(function)(block, *args) for block in self.blocks]
        return _compute(_tree(terms, add), self.client, self.progress)

    def _objective(self, loss, theta):
        return loss + 0.5 * self.ridge @ theta**2 + self.lasso @ np.abs(theta)

    def _residual(self, theta, gradient, first=0):
        from bayesreg.engine.proximal import kkt_residual

        rtol = 8 * np.finfo(float).eps
        return float(kkt_residual(theta[first:], gradient[first:], self.lasso[first:], rtol=rtol))

    def weights_mode(self, design, theta, tol, max_steps):
        """Proximal Newton from ``theta`` for ``design``'s likelihood: ``(theta, steps, relative
        residual)``; the L1 sub-problem solved on the driver (exact zeros), Armijo's test at the
        full step and, where it fails, at 40 halvings in one pass."""
        from bayesreg.engine.proximal import minimise_quadratic_l1

        loss, gradient, hessian = self._sum(newton_terms, design, theta)
        if self.scale is None:
            # the residual at the first start; 0 when every weight is 0 at the optimum of a
            # logistic model (alpha at or above alpha_max, the intercept then at its optimum)
            self.scale = self._residual(theta, gradient + self.ridge * theta, self.first)
        relative, steps = 0.0, 0
        while self.scale > 0:
            full = gradient + self.ridge * theta
            relative = self._residual(theta, full) / self.scale
            if relative <= tol or steps >= max_steps:
                break
            z, _ = minimise_quadratic_l1(full, hessian + np.diag(self.ridge), self.lasso, theta)
            step = z - theta
            decrease = full @ step + self.lasso @ (np.abs(z) - np.abs(theta))
            if not decrease < 0:  # no descent left: round-off
                break
            start = self._objective(loss, theta)
            slack = 16 * np.finfo(float).eps * abs(start)
            steps += 1
            new = self._sum(newton_terms, design, z)
            if not self._objective(new[0], z) <= start + 1e-4 * decrease + slack:  # NaN: too long
                values = self._sum(ladder_terms, design, theta, step)
                tries = [self._objective(v, theta + t * step) for v, t in zip(values, LADDER, strict=True)]
                ok = [i for i, v in enumerate(tries) if v <= start + 1e-4 * LADDER[i] * decrease + slack]
                if not ok:
                    break
                z = theta + LADDER[ok[0]] * step
                new = self._sum(newton_terms, design, z)
            theta, (loss, gradient, hessian) = z, new
        return theta, steps, relative

    def dispersion_mode(self, design, theta, log_alpha, tol, max_steps=100):
        """The mode of the negative binomial's ``u = log α`` given the weights ``theta`` under a flat
        prior: safeguarded Newton, a pass per trial (`~bayesreg._partition.dispersion_terms`), as
        `~bayesreg.engine.glm.glm_map` finds it from the rows. Returns ``(u, steps, relative
        residual)``: `~bayesreg.engine.glm.log_dispersion_newton`'s steps."""
        from bayesreg.engine.glm import log_dispersion_newton

        def terms(u):
            return self._sum(dispersion_terms, design, theta, u)

        return log_dispersion_newton(terms, log_alpha, tol, max_steps)
