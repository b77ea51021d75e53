"""Input checks: every problem with the data is found here and named (the column, the row, the value).

`read_csv` reads a table for the command line and `read_rows` rows of new data for a fitted model;
`check_numeric_columns`, `check_finite` and `check_target` validate DataFrames and arrays for the
estimators, around scikit-learn's ``validate_data`` (which records ``n_features_in_`` and
``feature_names_in_``).
"""

from __future__ import annotations

import csv
import glob
import itertools
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import type_of_target

__all__ = [
    "COUNT_FAMILIES",
    "PARQUET_SUFFIXES",
    "CSVRows",
    "CSVTable",
    "DataError",
    "bad_cell",
    "check_finite",
    "check_numeric_columns",
    "check_offset",
    "check_target",
    "check_xy",
    "constant_columns",
    "data_files",
    "file_kind",
    "read_csv",
    "read_rows",
    "read_table",
    "separator",
    "sniff_separator",
    "strip_names",
]


class DataError(ValueError):
    """Data the package cannot use; the message says what is wrong and where.

    A subclass of ``ValueError``, so code that catches scikit-learn's input errors catches it too.

    Examples
    --------
    >>> from bayesreg.data import check_target
    >>> try:
    ...     check_target([1.0, float("nan"), 3.0], "gaussian")
    ... except ValueError as error:
    ...     print(type(error).__name__, "-", error)
    DataError - target has NaN in row 1 (NaN and inf values are not allowed)
    """


COUNT_FAMILIES = ("poisson", "negative_binomial")
"""The likelihoods whose target is a count: a non-negative integer in every row."""


def _not_a_count(values: np.ndarray) -> tuple[int, str] | None:
    """The first value of ``values`` (finite floats) that is not a count, with its row and what is
    wrong, or None."""
    bad = (values < 0) | (values != np.round(values))
    if not bad.any():
        return None
    row = int(np.flatnonzero(bad)[0])
    value = values[row]
    what = "is negative" if value < 0 else "is not an integer"
    return row, f"{value:g} {what} (a count is 0, 1, 2, ...)"


def check_offset(offset, n_samples: int, *, name: str = "offset") -> np.ndarray:
    """An offset (the log of an exposure, added to a count model's linear predictor) checked: finite
    numbers, one per row.

    Parameters
    ----------
    offset : array-like, shape (n_samples,)
    n_samples : int
        The rows it must match.
    name : str
        How the message names it.

    Returns
    -------
    ndarray of float64, shape (n_samples,)

    Raises
    ------
    DataError
        Another shape, text, NaN or inf (the row named).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.data import check_offset
    >>> check_offset(np.log([1.0, 2.0]), 2).round(3).tolist()
    [0.0, 0.693]
    >>> check_offset([0.0, -np.inf], 2)  # np.log of an exposure of 0
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: offset has -inf in row 1 (the log of an exposure of 0: exposures must ...
    """
    try:
        values = np.asarray(offset, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{name} is not numeric: it has text values") from None
    if values.shape != (n_samples,):
        raise DataError(f"{name} must have shape ({n_samples},) like the rows of X, got {values.shape}")
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values))[0])
        if values[row] == -np.inf:
            raise DataError(
                f"{name} has -inf in row {row} (the log of an exposure of 0: exposures must be positive)"
            )
        what = "NaN" if np.isnan(values[row]) else "inf"
        raise DataError(f"{name} has {what} in row {row} (NaN and inf values are not allowed)")
    return values


#: The separators `read_csv` reads, by the names `separator` takes for them.
SEPARATORS = {",": ",", "comma": ",", ";": ";", "semicolon": ";", "\t": "\t", "\\t": "\t", "tab": "\t"}


def separator(text: str) -> str:
    """The separator ``text`` names: ``","`` or ``"comma"``, ``";"`` or ``"semicolon"``, a tab, ``"\\t"``
    or ``"tab"``; other text raises `DataError`.

    Examples
    --------
    >>> from bayesreg.data import separator
    >>> separator("tab") == "\\t", separator(";")
    (True, ';')
    """
    if text not in SEPARATORS:
        raise DataError(f"unknown separator {text!r}; expected one of ',', ';', 'tab'")
    return SEPARATORS[text]


def sniff_separator(path: str | Path) -> str:
    """The separator of the file's first lines by `csv.Sniffer` (a comma, a semicolon or a tab: the one
    that splits every line into as many fields), a comma when it cannot tell (one column, not text).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.data import sniff_separator
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "doses.csv")
    ...     _ = path.write_text("age;dose\\n30;1.5\\n41;0.5\\n")
    ...     sniff_separator(path)
    ';'
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as file:
            sample = "".join(itertools.islice(file, 20))
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except (csv.Error, UnicodeDecodeError):
        return ","


class CSVTable(NamedTuple):
    """A CSV file as `read_csv` returns it.

    Attributes
    ----------
    X : DataFrame, shape (n_samples, n_features)
        The feature columns, every value a finite number.
    y : Series, shape (n_samples,)
        The target column.
    notes : list of str
        What was changed while reading (one sentence each), for the caller to show: a first column
        that is a saved row index (unnamed, 0..n-1) is dropped, spaces around column names are
        stripped, and with ``drop_constant`` constant columns are dropped.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.data import read_csv
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "saved.csv")
    ...     _ = path.write_text(",age, dose,response\\n0,30,1.5,2.0\\n1,41,0.5,1.0\\n")
    ...     table = read_csv(path, target="response")
    >>> list(table.X.columns)
    ['age', 'dose']
    >>> for note in table.notes:
    ...     print(note)
    stripped spaces from column names: ' dose' -> 'dose'
    dropped column 'Unnamed: 0' (a saved row index 0..n-1)
    """

    X: pd.DataFrame
    y: pd.Series
    notes: list


def read_csv(
    path: str | Path,
    target: str,
    family: str = "gaussian",
    *,
    sep: str | None = None,
    drop_constant: bool = False,
    offset: str | None = None,
    exposure: str | None = None,
) -> CSVTable:
    """Read a CSV file into features and a target column, naming the file's line of every bad value.

    Every feature must be a finite number in every row, and so must the target for ``"gaussian"``;
    for ``"bernoulli"`` the target may hold labels (text), but no empty cell. A bad value is named
    by its line in the file (the header is line 1, so data row ``i``, counted from 0, is line
    ``i + 2``; blank lines, which are skipped, are not counted) and its column, so it can be found
    in an editor. The estimators, which get no file, check their arrays with `check_xy`.

    Parameters
    ----------
    path : str or Path
        A CSV file with a header row.
    target : str
        Name of the target column; every other column is a feature.
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}, default="gaussian"
        What the target must be: numbers, labels of any kind (bernoulli), or non-negative integers
        (poisson, negative_binomial).
    sep : str, optional
        The separator, as `separator` takes it (``","``, ``";"``, ``"tab"``, ...); by default it is
        detected from the first lines (a comma, a semicolon or a tab).
    drop_constant : bool, default=False
        Drop feature columns that hold one value in every row (with a note) instead of refusing them.
        Such a column carries no information about the target, and with an intercept it is
        collinear with it.
    offset, exposure : str, optional
        A column holding a count model's offset (finite numbers), or its exposure (positive numbers,
        whose log is the offset; a value ≤ 0 is named by its line). It stays in ``X`` for the caller
        to take out, and is not refused for being constant.

    Returns
    -------
    CSVTable
        ``X``, ``y`` and ``notes``.

    Raises
    ------
    DataError
        The file is missing, empty or not CSV, the target column is absent, a value is NaN,
        inf or (where a number is needed) text, the target is constant, or (without
        ``drop_constant``) a feature column is.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.data import read_csv
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "doses.csv")
    ...     _ = path.write_text("age,dose,response\\n30,1.5,2.0\\n41,0.5,1.0\\n")
    ...     X, y, notes = read_csv(path, target="response")
    >>> list(X.columns), y.tolist(), notes
    (['age', 'dose'], [2.0, 1.0], [])
    >>> read_csv("no-such-file.csv", target="response")
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: data file 'no-such-file.csv' does not exist
    """
    frame, notes, sep = _read_frame(path, sep, keep=(target,))
    if target not in frame.columns:
        raise DataError(
            f"target column {target!r} not found in {str(path)!r}; columns: "
            f"{', '.join(map(str, frame.columns))}{_separator_hint(frame, sep)}"
        )
    _check_offset_columns(frame, str(path), target, offset, exposure)
    for name, column in frame.items():
        _check_cells(column, str(path), target if name == target else None, family, sep, name == exposure)
    frame = _constant_columns(frame, target, drop_constant, notes, (offset, exposure))
    return CSVTable(frame.drop(columns=[target]), frame[target], notes)


def _check_offset_columns(frame: pd.DataFrame, where: str, target: str, offset, exposure) -> None:
    """Refuse an offset or exposure column that is absent, or is the target."""
    for role, name in (("offset", offset), ("exposure", exposure)):
        if name is None:
            continue
        if name == target:
            raise DataError(f"the {role} column {name!r} is the target column")
        if name not in frame.columns:
            raise DataError(
                f"{role} column {name!r} not found in {where!r}; columns: "
                f"{', '.join(map(str, frame.columns))}"
            )


class CSVRows(NamedTuple):
    """A CSV file of feature rows (no target) as `read_rows` returns it.

    Attributes
    ----------
    X : DataFrame, shape (n_samples, n_columns)
        Every column of the file (a saved row index dropped); the columns asked for hold a finite
        number in every row, the others are as pandas read them.
    notes : list of str
        What was changed while reading, as in `CSVTable`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.data import read_rows
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "new.csv")
    ...     _ = path.write_text(",dose,id\\n0,1.5,a\\n1,0.5,b\\n")
    ...     X, notes = read_rows(path, ["dose"])
    >>> list(X.columns), notes
    (['dose', 'id'], ["dropped column 'Unnamed: 0' (a saved row index 0..n-1)"])
    """

    X: pd.DataFrame
    notes: list


def read_rows(path: str | Path, columns=None, *, sep: str | None = None) -> CSVRows:
    """Read a CSV file of feature rows, e.g. new data for a fitted model, naming the file's line of
    every bad value.

    The file is read as `read_csv` reads it (the separator detected, spaces around names stripped,
    a saved row index dropped, each with a note); then the ``columns`` (a model's features) must
    all be there and hold a finite number in every row, a bad cell named by its line in the file
    (the header is line 1) and its column. Other columns (a target, an identifier) are kept
    unchecked: what uses the rows decides what to do with them.

    Parameters
    ----------
    path : str or Path
        A CSV file with a header row.
    columns : sequence of str, optional
        The columns that must be present and numeric; every column of the file by default.
    sep : str, optional
        The separator, as `separator` takes it; detected by default.

    Returns
    -------
    CSVRows
        ``X`` (every column of the file) and ``notes``.

    Raises
    ------
    DataError
        The file is missing, empty, not CSV or without rows; a column of ``columns`` is absent
        (named, with the file's columns); a value in one of them is NaN, inf or text.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.data import read_rows
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "new.csv")
    ...     _ = path.write_text("id;dose;age\\np1;1.5;30\\np2;0.5;41\\np3;;52\\n")
    ...     rows = read_rows(path, ["age", "dose"])
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: .../new.csv line 4, column 'dose': NaN (NaN and inf values are not allowed)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "new.csv")
    ...     _ = path.write_text("id;dose;age\\np1;1.5;30\\np2;0.5;41\\n")
    ...     rows = read_rows(path, ["age", "dose"])
    >>> list(rows.X.columns), rows.X["age"].tolist()
    (['id', 'dose', 'age'], [30, 41])
    """
    keep = () if columns is None else tuple(str(name) for name in columns)
    frame, notes, sep = _read_frame(path, sep, keep=keep)
    names = [str(name) for name in frame.columns]
    missing = [name for name in keep if name not in names]
    if missing:
        what = (
            f"column {missing[0]!r} is"
            if len(missing) == 1
            else f"columns {', '.join(map(repr, missing))} are"
        )
        raise DataError(
            f"the model's feature {what} missing from {str(path)!r}; its columns: "
            f"{', '.join(names)}{_separator_hint(frame, sep)}"
        )
    for name, column in frame.items():
        if not keep or str(name) in keep:
            _check_cells(column, str(path), None, "gaussian", sep)
    return CSVRows(frame, notes)


def _read_frame(path: str | Path, sep: str | None, keep: tuple = ()) -> tuple[pd.DataFrame, list, str]:
    """The file as a DataFrame with at least one row, spaces around its column names stripped and a
    saved row index dropped (each with a note), the notes, and the separator it was read with
    (``sep``, or detected). A first column named in ``keep`` is never taken for a saved index."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} does not exist")
    sep = sniff_separator(path) if sep is None else separator(sep)
    try:
        frame = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {str(path)!r} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"cannot parse {str(path)!r} as CSV: {reason}") from None
    notes: list[str] = []
    frame = strip_names(frame, str(path), notes)
    if _is_saved_index(frame, keep):
        notes.append(f"dropped column {str(frame.columns[0])!r} (a saved row index 0..n-1)")
        frame = frame.iloc[:, 1:]
    if len(frame) == 0:
        raise DataError(f"data file {str(path)!r} has a header but no rows")
    return frame, notes, sep


def _separator_hint(frame: pd.DataFrame, sep: str) -> str:
    """A hint for a file read as one column whose name holds another separator: it was misread."""
    name = ", ".join(map(str, frame.columns))
    if frame.shape[1] == 1 and any(other in name for other in SEPARATORS.values() if other != sep):
        return f" (one column, read with separator {sep!r}: is the separator another? pass it with --sep)"
    return ""


def strip_names(frame: pd.DataFrame, where: str, notes: list) -> pd.DataFrame:
    """``frame`` with spaces around its column names stripped (``" bmi"`` is ``"bmi"``: a space after
    a comma in the header is formatting, not part of the name), the change added to ``notes``.

    Two names that become one are refused (`DataError`, naming ``where``).

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesreg.data import strip_names
    >>> notes = []
    >>> list(strip_names(pd.DataFrame(columns=["age", " dose"]), "doses.csv", notes).columns), notes
    (['age', 'dose'], ["stripped spaces from column names: ' dose' -> 'dose'"])
    """
    names = [str(name) for name in frame.columns]
    stripped = [name.strip() or name for name in names]  # a blank name stays: it marks an unnamed column
    changed = [f"{old!r} -> {new!r}" for old, new in zip(names, stripped, strict=True) if old != new]
    if not changed:
        return frame
    for name in set(stripped):
        same = [old for old, new in zip(names, stripped, strict=True) if new == name]
        if len(same) > 1:
            shown = " and ".join(map(repr, same))
            raise DataError(f"{where}: columns {shown} have the same name once spaces are stripped")
    notes.append("stripped spaces from column names: " + ", ".join(changed))
    return frame.set_axis(stripped, axis=1)


def _is_saved_index(frame: pd.DataFrame, keep: tuple) -> bool:
    """Whether the first column of ``frame`` is a row index that pandas saved: unnamed (pandas reads
    an empty header as ``Unnamed: 0``), not named in ``keep`` (the target, a model's feature) and
    holding 0, 1, ..., n-1. Such a column is a row number, not a measurement; another unnamed
    column may be one, so it stays."""
    if frame.shape[1] < 2 or len(frame) == 0:
        return False
    name, column = str(frame.columns[0]), frame.iloc[:, 0]
    unnamed = name.startswith("Unnamed: ") or not name.strip()
    return (
        unnamed
        and name not in keep
        and pd.api.types.is_integer_dtype(column)
        and np.array_equal(column.to_numpy(), np.arange(len(frame)))
    )


def _constant_columns(
    frame: pd.DataFrame, target: str, drop: bool, notes: list, offsets: tuple = ()
) -> pd.DataFrame:
    """Refuse a constant target, and refuse (or with ``drop``, drop with a note) constant features
    (`constant_columns`); the ``offsets`` columns are not features and may be constant.

    With one row every column is constant; that case is left to `check_xy`'s row count."""
    if len(frame) < 2:
        return frame
    constant = {
        str(name): column.iloc[0]
        for name, column in frame.items()
        if column.nunique(dropna=False) == 1 and name not in offsets
    }
    dropped = constant_columns(constant, target, drop=drop, notes=notes)
    return frame.drop(columns=dropped) if dropped else frame


def constant_columns(constant: dict, target: str, *, drop: bool, notes: list) -> list[str]:
    """Refuse a constant target, and refuse (or with ``drop``, name with a note) constant features.

    A column with one value carries no information about the target, and with an intercept it is
    collinear with it; a target with one value leaves nothing to fit. The in-memory reader and the
    Dask reader (`bayesreg.large`, which knows each column's smallest and largest value) share
    these messages.

    Parameters
    ----------
    constant : dict of str to value
        Every column (target included) that holds one value in every row, with that value.
    target : str
        The target column's name.
    drop : bool
        Return the constant features to drop (a note added to ``notes``) instead of refusing them.
    notes : list of str
        Where the note goes.

    Returns
    -------
    list of str
        The feature columns to drop (empty when none is constant).

    Raises
    ------
    DataError
        The target is constant, or (without ``drop``) a feature is.

    Examples
    --------
    >>> from bayesreg.data import constant_columns
    >>> notes = []
    >>> constant_columns({"batch": 3.0}, "response", drop=True, notes=notes), notes
    (['batch'], ["dropped constant columns: 'batch' (one value in every row)"])
    >>> constant_columns({"response": 2.0}, "response", drop=True, notes=notes)
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: target 'response' is constant: every row holds 2 (a target with one value ...
    """
    if target in constant:
        value = constant[target]
        shown = repr(value) if isinstance(value, str) else f"{value:g}"
        raise DataError(
            f"target {target!r} is constant: every row holds {shown} "
            "(a target with one value leaves nothing to fit)"
        )
    features = [name for name in constant if name != target]
    if not features:
        return []
    names = ", ".join(repr(str(name)) for name in features)
    if not drop:
        raise DataError(
            f"constant columns: {names} (a column with one value carries no information; drop them "
            "or pass --drop-constant)"
        )
    notes.append(f"dropped constant columns: {names} (one value in every row)")
    return features


def _check_cells(
    column: pd.Series, where: str, target: str | None, family: str, sep: str = ",", exposure: bool = False
) -> None:
    """Raise `DataError` naming the file's line of the first bad value of ``column`` (`bad_cell`;
    data row ``i`` is line ``i + 2``)."""
    bad = bad_cell(column, is_target=target is not None, family=family, sep=sep, exposure=exposure)
    if bad is not None:
        raise DataError(f"{where} line {bad[0] + 2}, {bad[1]}")


def bad_cell(
    column: pd.Series,
    *,
    is_target: bool = False,
    family: str = "gaussian",
    sep: str = ",",
    exposure: bool = False,
) -> tuple[int, str] | None:
    """The first text, NaN or inf value of ``column``: its row (counted from 0) and what is wrong,
    or None when every value is a finite number (and, for a count target, a count; for an exposure,
    positive).

    The readers put the place in front of the text: the file's line (`read_csv`, `read_rows`), or a
    file and line from a partition's first line (`bayesreg.large`).

    Parameters
    ----------
    column : Series
        One column as read (numbers, or text for a column that has some).
    is_target : bool, default=False
        The column is the target: the text says so, and text labels pass for ``"bernoulli"``.
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}, default="gaussian"
        A count target (`COUNT_FAMILIES`) must hold non-negative integers.
    sep : str, default=","
        The file's separator: with another than a comma, a number written with a decimal comma gets
        a hint.
    exposure : bool, default=False
        The column is an exposure (the count model's offset is its log): every value must be > 0.

    Returns
    -------
    (int, str) or None

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from bayesreg.data import bad_cell
    >>> bad_cell(pd.Series([1.0, np.inf], name="dose"))
    (1, "column 'dose': inf (NaN and inf values are not allowed)")
    >>> bad_cell(pd.Series(["1.5", "2,5"], name="dose"), sep=";")
    (1, "column 'dose': '2,5' is not a number (write decimals with a point)")
    >>> bad_cell(pd.Series([0.5, 1.5], name="dose")) is None
    True
    >>> bad_cell(pd.Series([2.0, -1.0], name="visits"), is_target=True, family="poisson")
    (1, "column 'visits' (the target): -1 is negative (a count is 0, 1, 2, ...)")
    >>> bad_cell(pd.Series([2.0, 0.0], name="years"), exposure=True)
    (1, "column 'years' (the exposure): 0 is not positive (the offset is log(exposure))")
    """
    labels = is_target and family == "bernoulli"
    role = " (the target)" if is_target else " (the exposure)" if exposure else ""
    name = f"column {str(column.name)!r}{role}"
    numeric = pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
    if not numeric and not labels:
        text = column.notna() & pd.to_numeric(column, errors="coerce").isna()
        if text.any():
            row = int(np.flatnonzero(text)[0])
            value = column.iloc[row]
            decimal_comma = sep != "," and isinstance(value, str) and re.fullmatch(r"[-+]?\d*,\d+", value)
            hint = " (write decimals with a point)" if decimal_comma else ""
            return row, f"{name}: {value!r} is not a number{hint}"
        column = pd.to_numeric(column)
        numeric = True
    bad = column.isna().to_numpy().copy()
    if numeric and not pd.api.types.is_bool_dtype(column):
        bad |= np.isinf(column.to_numpy(dtype=np.float64))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "inf" if numeric and np.isinf(float(column.iloc[row])) else "NaN"
        return row, f"{name}: {what} (NaN and inf values are not allowed)"
    if is_target and family in COUNT_FAMILIES:
        bad = _not_a_count(column.to_numpy(dtype=np.float64))
        if bad is not None:
            return bad[0], f"{name}: {bad[1]}"
    if exposure:
        values = column.to_numpy(dtype=np.float64)
        if (values <= 0).any():
            row = int(np.flatnonzero(values <= 0)[0])
            return row, f"{name}: {values[row]:g} is not positive (the offset is log(exposure))"
    return None


def check_numeric_columns(frame: pd.DataFrame) -> None:
    """Raise `DataError` naming the first column of ``frame`` that is not numeric, with an example.

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesreg.data import check_numeric_columns
    >>> check_numeric_columns(pd.DataFrame({"a": [1.0, 2.0], "b": [True, False]}))  # passes: None
    >>> check_numeric_columns(pd.DataFrame({"a": [1.0, 2.0], "b": ["3", "n/a"]}))
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: column 'b' is not numeric (row 1: 'n/a')
    """
    for name, column in frame.items():
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            bad = column[pd.to_numeric(column, errors="coerce").isna() & column.notna()]
            example = f" (row {bad.index[0]}: {bad.iloc[0]!r})" if len(bad) else ""
            raise DataError(f"column {str(name)!r} is not numeric{example}")


def check_finite(X: np.ndarray, names=None) -> None:
    """Raise `DataError` naming the column and row of the first NaN or infinite value of ``X``.

    Parameters
    ----------
    X : ndarray of float, shape (n_samples, n_features)
    names : sequence of str, optional
        Column names for the message (column indices otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.data import check_finite
    >>> X = np.array([[30.0, 1.5], [np.inf, 0.5]])
    >>> check_finite(X, names=["age", "dose"])
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: column 'age' has inf in row 1 (NaN and inf values are not allowed)
    """
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(X[row, col]) else "inf"
        name = repr(str(names[col])) if names is not None else str(col)
        raise DataError(f"column {name} has {what} in row {row} (NaN and inf values are not allowed)")


def check_target(y, family: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Check the target: finite numbers for ``"gaussian"`` and ``"student_t"``, exactly two classes
    for ``"bernoulli"``, non-negative integers (not all 0) for ``"poisson"`` and
    ``"negative_binomial"``.

    Parameters
    ----------
    y : array-like, shape (n_samples,)
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}

    Returns
    -------
    y : ndarray of float64, shape (n_samples,)
        The target, or for ``"bernoulli"`` the 0/1 indicator of the second class.
    classes : ndarray of shape (2,) or None
        The two class labels, sorted (``"bernoulli"`` only).

    Raises
    ------
    DataError
        NaN / inf / text in a numeric target, a constant ``"gaussian"`` target (one value in every
        row: nothing to fit, and its sd, the scale of the noise prior, is 0), a target with other
        than two classes, or a negative or non-integer count (the row named).

    Examples
    --------
    For logistic regression the labels become the 0/1 indicator of the second class (sorted):

    >>> from bayesreg.data import check_target
    >>> y, classes = check_target(["spam", "ham", "spam"], "bernoulli")
    >>> y.tolist(), classes.tolist()
    ([1.0, 0.0, 1.0], ['ham', 'spam'])
    >>> check_target([0, 1, 2], "bernoulli")
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: Only binary classification is supported: ... found 3 classes: 0, 1, 2
    >>> check_target([2.5, 2.5, 2.5], "gaussian")
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: target is constant: every row holds 2.5 (a target with one value ...
    >>> check_target([0, 3, 1.5], "poisson")
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: target 1.5 is not an integer (a count is 0, 1, 2, ...) in row 2
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise DataError(f"target must be 1-d (n_samples,), got shape {y.shape}")
    if family == "bernoulli":
        if y.dtype.kind in "fc" and not np.isfinite(y).all():
            raise DataError("target has NaN or inf values")
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise DataError(f"Unknown label type: {kind}; logistic regression needs two classes")
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) != 2:
            shown = ", ".join(map(repr, classes[:5].tolist())) + (", ..." if len(classes) > 5 else "")
            raise DataError(
                "Only binary classification is supported: logistic regression needs a target with "
                f"2 classes, found {len(classes)} class{'es' if len(classes) != 1 else ''}: {shown}"
            )
        return codes.astype(np.float64), classes
    if np.iscomplexobj(y):
        raise DataError("Complex data not supported: the target must be real numbers")
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError("target is not numeric: it has text values") from None
    if not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        what = "NaN" if np.isnan(y[row]) else "inf"
        raise DataError(f"target has {what} in row {row} (NaN and inf values are not allowed)")
    if family in COUNT_FAMILIES:
        bad = _not_a_count(y)
        if bad is not None:
            raise DataError(f"target {bad[1]} in row {bad[0]}")
        if not y.any():
            raise DataError(
                "target is 0 in every row: a count model's rate has no maximum there (its log goes to -inf)"
            )
        return y, None
    if y.size > 1 and np.all(y == y[0]):
        raise DataError(
            f"target is constant: every row holds {y[0]:g} (a target with one value leaves nothing to "
            "fit, and the noise sd it would give is 0)"
        )
    return y, None


class CheckedData(NamedTuple):
    """Features and target as `check_xy` returns them.

    Attributes
    ----------
    X : ndarray of float64, shape (n_samples, n_features)
    y : ndarray of float64, shape (n_samples,)
        The target, or for ``"bernoulli"`` the 0/1 indicator of ``classes[1]``.
    classes : ndarray of shape (2,) or None
        The two class labels, sorted (``"bernoulli"`` only).
    names : list of str or None
        The column names, when ``X`` was a DataFrame.
    """

    X: np.ndarray
    y: np.ndarray
    classes: np.ndarray | None
    names: list | None


def check_xy(X, y, family: str = "gaussian") -> CheckedData:
    """Features and target checked together, every problem named (the column, the row, the value).

    The target first (as scikit-learn's estimators check it), then the columns: numeric, at least
    one, finite; then at least two rows and as many targets as rows.

    Parameters
    ----------
    X : array-like or DataFrame, shape (n_samples, n_features)
    y : array-like, shape (n_samples,)
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}
        What the target must be (`check_target`): finite numbers, exactly two classes, or counts.

    Returns
    -------
    CheckedData

    Raises
    ------
    DataError
        Naming the problem.

    Examples
    --------
    >>> import pandas as pd
    >>> check_xy(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0, 1, 0]}), ["no", "yes", "yes"],
    ...          "bernoulli").classes.tolist()
    ['no', 'yes']
    >>> check_xy(pd.DataFrame({"a": [1.0, float("nan")]}), [1.0, 2.0])
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: column 'a' has NaN in row 1 (NaN and inf values are not allowed)
    """
    names = None
    if isinstance(X, pd.DataFrame):
        check_numeric_columns(X)
        names = [str(c) for c in X.columns]
    y, classes = check_target(y, family)
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("X is not numeric: it has text values") from None
    if X.ndim != 2:
        raise DataError(f"X must be 2-d (n_samples, n_features), got shape {X.shape}")
    if X.shape[1] == 0:
        raise DataError("no feature columns: X has 0 columns")
    check_finite(X, names)
    if X.shape[0] < 2:
        raise DataError(f"found {X.shape[0]} sample(s) while a minimum of 2 is required")
    if y.shape[0] != X.shape[0]:
        raise DataError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    return CheckedData(X, y, classes, names)


PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
"""File name endings read as Parquet; every other data file is read as CSV."""


def file_kind(path: str | Path) -> str:
    """``"parquet"`` for a file whose name ends in one of `PARQUET_SUFFIXES`, else ``"csv"``.

    Examples
    --------
    >>> from bayesreg.data import file_kind
    >>> file_kind("data/part-0.parquet"), file_kind("data/part-0.csv")
    ('parquet', 'csv')
    """
    return "parquet" if Path(path).suffix.lower() in PARQUET_SUFFIXES else "csv"


def data_files(data: str | Path | list) -> list[Path]:
    """The files a data argument names: a file, a glob (``data/*.parquet``), or a list of either,
    sorted within each glob.

    Raises
    ------
    DataError
        A name that is neither a file nor a glob matching one, or CSV and Parquet files mixed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.data import data_files
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name in ("b.csv", "a.csv"):
    ...         _ = pathlib.Path(folder, name).write_text("x,y\\n1,2\\n")
    ...     [path.name for path in data_files(pathlib.Path(folder, "*.csv"))]
    ['a.csv', 'b.csv']
    >>> data_files("no-such-*.csv")
    Traceback (most recent call last):
    ...
    bayesreg.data.DataError: no file matches 'no-such-*.csv'
    """
    names = [data] if isinstance(data, (str, Path)) else list(data)
    files: list[Path] = []
    for name in names:
        if Path(name).is_file():
            files.append(Path(name))
            continue
        if not glob.has_magic(str(name)):
            raise DataError(f"data file {str(name)!r} does not exist")
        matched = sorted(Path(match) for match in glob.glob(str(name)) if Path(match).is_file())
        if not matched:
            raise DataError(f"no file matches {str(name)!r}")
        files.extend(matched)
    if len({file_kind(path) for path in files}) > 1:
        raise DataError("the data files mix CSV and Parquet: give files of one kind")
    return files


def read_table(
    data,
    target: str,
    family: str = "gaussian",
    *,
    sep: str | None = None,
    drop_constant: bool = False,
    offset: str | None = None,
    exposure: str | None = None,
) -> CSVTable:
    """Read CSV or Parquet files (`data_files`: a file, a glob, a list) into features and a target, in
    memory, naming the file and line (CSV) or row (Parquet, from 0) of every bad value.

    One CSV file is `read_csv`'s; several files are each read and checked as `read_csv` reads one
    (Parquet columns as stored, names stripped), must have the same columns, and are joined in order;
    constant columns are judged on the joined rows.

    Parameters
    ----------
    data : str, Path or list
    target, family, sep, drop_constant, offset, exposure
        As for `read_csv`.

    Returns
    -------
    CSVTable

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from bayesreg.data import read_table
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = pathlib.Path(folder, "a.csv").write_text("dose,response\\n1.5,2.0\\n0.5,1.0\\n")
    ...     _ = pathlib.Path(folder, "b.csv").write_text("dose,response\\n2.5,3.5\\n")
    ...     table = read_table(pathlib.Path(folder, "*.csv"), "response")
    >>> table.X["dose"].tolist(), table.y.tolist()
    ([1.5, 0.5, 2.5], [2.0, 1.0, 3.5])
    """
    files = data_files(data)
    if len(files) == 1 and file_kind(files[0]) == "csv":
        return read_csv(
            files[0], target, family, sep=sep, drop_constant=drop_constant, offset=offset, exposure=exposure
        )
    frames, notes = [], []
    for path in files:
        if file_kind(path) == "csv":
            frame, found, used = _read_frame(path, sep, keep=(target,))
        else:
            try:
                frame = pd.read_parquet(path)
            except (OSError, ValueError) as error:
                reason = " ".join(str(error).split()) or type(error).__name__
                raise DataError(f"cannot read {str(path)!r} as Parquet: {reason}") from None
            found, used = [], ","
            frame = strip_names(frame, str(path), found)
        notes.extend(note for note in found if note not in notes)
        if target not in frame.columns:
            raise DataError(
                f"target column {target!r} not found in {str(path)!r}; columns: "
                f"{', '.join(map(str, frame.columns))}"
            )
        if frames and list(frame.columns) != list(frames[0].columns):
            raise DataError(
                f"{str(path)!r} has columns {', '.join(map(str, frame.columns))}; {str(files[0])!r} "
                f"has {', '.join(map(str, frames[0].columns))}"
            )
        _check_offset_columns(frame, str(path), target, offset, exposure)
        for name, column in frame.items():
            bad = bad_cell(
                column, is_target=name == target, family=family, sep=used, exposure=name == exposure
            )
            if bad is not None:
                where = f"line {bad[0] + 2}" if file_kind(path) == "csv" else f"row {bad[0]}"
                raise DataError(f"{path} {where}, {bad[1]}")
        frames.append(frame)
    frame = _constant_columns(
        pd.concat(frames, ignore_index=True), target, drop_constant, notes, (offset, exposure)
    )
    return CSVTable(frame.drop(columns=[target]), frame[target], notes)
