"""A fitted estimator as a folder: its settings and fitted attributes in JSON, its posterior in netCDF.

`save` writes ``model.json`` (`MODEL_FILE`: the estimator's class name, ``get_params()``, and every
fitted attribute — ``coef_``, ``intercept_``, ``sigma_``, ``dispersion_``, ``df_``, ``classes_``,
``feature_names_in_``, ``n_features_in_``, the penalty strength of the fit (``alpha_``, ``C_``, and for
a learned α ``cv_results_``, ``alpha_mcse_`` or ``alpha_interval_`` and ``C_interval_``), the prior (a
sparsity prior of `bayesreg.shrinkage` or a hierarchical prior of `bayesreg.hierarchical` with
every option), the MAP with its convergence record (null for a prior without one), the
diagnostics, how the chains ran, the column means and sds of a ``standardize=True`` fit) and, for
a NUTS fit, ``posterior.nc`` (`POSTERIOR_FILE`: the InferenceData, ArviZ's netCDF). `load` reads
them back into an estimator that predicts bitwise the same numbers (a hierarchical fit's
``alpha_posterior_`` is computed again from the posterior's draws of the hyperparameter): JSON
floats are written with Python's ``repr``, which round-trips every float64 exactly, and netCDF
keeps float64 arrays as they are.
Nothing is pickled: loading a folder runs no code from it.

A count model's folder may also record which column of the data held the offset (`OffsetColumn`:
``bayesreg fit --offset COL`` or ``--exposure COL`` record it, and that none was given), so that
``bayesreg predict`` reads each new row's offset from the column of the same name
(`offset_column`). A folder saved from Python (``est.save``) records none: ``fit`` took the offset as
an array.

``model.json`` carries `FORMAT` and `FORMAT_VERSION`; `load` refuses a file without them, of another
version, or missing a field, with a `ModelFolderError` naming the file. `save` refuses a folder that
holds files but no bayesreg ``model.json`` (so it never overwrites someone else's files), and it
refuses an estimator with a fitted attribute it does not know how to write (so a loaded model never
silently lacks part of its state).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import numpyro.distributions as dist

from bayesreg.diagnostics import DiagnosticsReport
from bayesreg.engine.map import MAPResult
from bayesreg.estimators import (
    BayesianLinearRegression,
    BayesianLogisticRegression,
    BayesianNegativeBinomialRegression,
    BayesianPoissonRegression,
    BayesianStudentTRegression,
)
from bayesreg.hierarchical import HIERARCHICAL_PRIORS, alpha_posterior
from bayesreg.priors import Prior
from bayesreg.sampling import PosteriorFit
from bayesreg.scaling import Standardization
from bayesreg.shrinkage import SHRINKAGE_PRIORS, shrinkage_prior

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MODEL_FILE",
    "NO_OFFSET",
    "POSTERIOR_FILE",
    "ModelFolderError",
    "OffsetColumn",
    "load",
    "offset_column",
    "save",
]

FORMAT = "bayesreg model"
"""The value of ``"format"`` in ``model.json``."""

FORMAT_VERSION = 1
"""The version of ``model.json``'s layout that this bayesreg writes and reads."""

MODEL_FILE = "model.json"
"""Settings and fitted attributes."""

POSTERIOR_FILE = "posterior.nc"
"""The NUTS posterior (InferenceData as netCDF); absent for a MAP fit."""

_HIERARCHICAL = {cls.kind: cls for cls in HIERARCHICAL_PRIORS.values()}
"""The hierarchical priors of `bayesreg.hierarchical` by their ``kind``."""

_ESTIMATORS = {
    cls.__name__: cls
    for cls in (
        BayesianLinearRegression,
        BayesianLogisticRegression,
        BayesianPoissonRegression,
        BayesianNegativeBinomialRegression,
        BayesianStudentTRegression,
    )
}

_COUNT_ESTIMATORS = (BayesianPoissonRegression, BayesianNegativeBinomialRegression)
"""The estimators that take an offset (`OffsetColumn`)."""

# every fitted attribute `save` writes (`idata_` and `posterior_fit_` partly through POSTERIOR_FILE)
_FITTED = {
    "n_features_in_",
    "feature_names_in_",
    "classes_",
    "coef_",
    "intercept_",
    "sigma_",
    "dispersion_",
    "df_",
    "alpha_",
    "C_",
    "cv_results_",
    "alpha_mcse_",
    "alpha_posterior_",
    "alpha_interval_",
    "C_interval_",
    "n_iter_",
    "prior_",
    "sigma_prior_",
    "map_",
    "diagnostics_",
    "idata_",
    "posterior_fit_",
    "scaling_",
}

_NUMBERS = ("alpha_", "C_", "alpha_mcse_", "dispersion_", "df_")
"""The fitted attributes that are one float each."""


class OffsetColumn(NamedTuple):
    """The column of the data that held a count model's offset when it was fitted.

    Attributes
    ----------
    kind : {"offset", "exposure", "none"}
        "offset": the column holds the offset itself (the log exposure); "exposure": the exposure,
        whose log is the offset; "none": the model was fitted without an offset.
    column : str or None
        The column's name (None for "none").

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.model_folder import OffsetColumn
    >>> years = OffsetColumn("exposure", "years")
    >>> years.offset([1.0, np.e]).tolist(), years.flag
    ([0.0, 1.0], '--exposure')
    """

    kind: Literal["offset", "exposure", "none"]
    column: str | None

    @property
    def flag(self) -> str:
        """The ``bayesreg fit`` option that names such a column: ``--offset`` or ``--exposure``."""
        return f"--{self.kind}"

    def offset(self, values) -> np.ndarray:
        """The offset of the rows whose column holds ``values``: the values, or their log for an
        exposure (float64; checking them is the caller's)."""
        values = np.asarray(values, dtype=np.float64)
        return np.log(values) if self.kind == "exposure" else values


NO_OFFSET = OffsetColumn("none", None)
"""The record of a count model fitted without an offset."""


class ModelFolderError(ValueError):
    """A folder that is not a bayesreg model folder, or cannot be one; the message names the file.

    A subclass of ``ValueError``.

    Examples
    --------
    >>> import tempfile
    >>> from bayesreg.model_folder import ModelFolderError, load
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         load(folder)
    ...     except ModelFolderError as error:
    ...         print(str(error).replace(folder, "FOLDER"))
    FOLDER/model.json does not exist: FOLDER is not a bayesreg model folder (est.save(folder) makes one)
    """


def save(estimator, folder, *, offset_column: OffsetColumn | None = None) -> Path:
    """Write a fitted estimator to ``folder`` (created if needed): `MODEL_FILE`, and `POSTERIOR_FILE`
    for a NUTS fit.

    The folder must be new, empty, or an earlier model folder (it holds a bayesreg `MODEL_FILE`): then
    the model's two files are replaced (a ``posterior.nc`` left from an earlier NUTS fit is removed
    when a MAP fit is saved) and other files stay. Each file is written to a temporary name first and
    then renamed, so an interrupted save leaves the earlier file whole.

    Parameters
    ----------
    estimator : bayesreg estimator
        Fitted: BayesianLinearRegression, BayesianLogisticRegression, BayesianPoissonRegression,
        BayesianNegativeBinomialRegression or BayesianStudentTRegression.
    folder : str or Path
    offset_column : OffsetColumn, optional
        For a count model (Poisson, negative binomial): the data's column that held its offset, or
        `NO_OFFSET`; read back by `offset_column`. None (the default) records nothing.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    ModelFolderError
        The folder holds other files and no bayesreg model, or is a file; or the estimator has a
        fitted attribute this version cannot save.
    TypeError
        An ``offset_column`` for a model that takes no offset.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from bayesreg import BayesianLinearRegression, load
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 2))
    >>> est = BayesianLinearRegression(alpha=0.1).fit(X, X @ [1.0, -1.0] + rng.normal(size=20))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     est.save(folder)
    ...     loaded = load(folder)
    >>> bool(np.array_equal(loaded.predict(X), est.predict(X))), loaded.get_params() == est.get_params()
    (True, True)
    """
    from sklearn.utils.validation import check_is_fitted

    name = type(estimator).__name__
    if name not in _ESTIMATORS:
        raise TypeError(f"save takes a bayesreg estimator, got {name}")
    check_is_fitted(estimator)
    if offset_column is not None and not isinstance(estimator, _COUNT_ESTIMATORS):
        raise TypeError(f"offset_column is for the count models; a {name} takes no offset")
    unknown = sorted(
        k for k in vars(estimator) if k.endswith("_") and not k.startswith("_") and k not in _FITTED
    )
    if unknown:
        raise ModelFolderError(f"cannot save the fitted attribute(s) {', '.join(unknown)} of this {name}")
    folder = Path(folder)
    _check_writable(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nuts = hasattr(estimator, "idata_")
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "bayesreg_version": _version(),
        "estimator": name,
        "params": _params(estimator),
        "fitted": _fitted(estimator),
        "posterior": POSTERIOR_FILE if nuts else None,
    }
    if offset_column is not None:
        document["offset_column"] = offset_column._asdict()
    text = json.dumps(document, indent=1, allow_nan=True)
    if nuts:
        _replace(folder / POSTERIOR_FILE, lambda path: estimator.idata_.to_netcdf(str(path)))
    else:
        with contextlib.suppress(FileNotFoundError):
            (folder / POSTERIOR_FILE).unlink()
    _replace(folder / MODEL_FILE, lambda path: path.write_text(text, encoding="utf-8"))
    return folder


def load(folder):
    """The estimator saved in ``folder`` by `save`, fitted, ready to predict.

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    bayesreg estimator
        Of the class that was saved.

    Raises
    ------
    ModelFolderError
        No `MODEL_FILE`, a file that is not JSON, not a bayesreg model, of another format version or
        missing a field; a NUTS model whose `POSTERIOR_FILE` is missing or unreadable. The message
        names the file.

    Examples
    --------
    A MAP fit saved and loaded (a NUTS fit also writes ``posterior.nc``):

    >>> import os, tempfile, numpy as np
    >>> from bayesreg import BayesianLogisticRegression, load
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2))
    >>> est = BayesianLogisticRegression(prior="gaussian").fit(X, np.where(X[:, 0] > 0, "yes", "no"))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     est.save(folder)
    ...     files = sorted(os.listdir(folder))
    ...     loaded = load(folder)
    >>> files, loaded.classes_.tolist(), bool(np.array_equal(loaded.predict_proba(X), est.predict_proba(X)))
    (['model.json'], ['no', 'yes'], True)
    """
    folder = Path(folder)
    path = folder / MODEL_FILE
    document = _read(path, folder)
    try:
        cls = _ESTIMATORS[document["estimator"]]
        estimator = cls(**document["params"])
        fitted = document["fitted"]
        idata = None
        if document["posterior"] is not None:
            idata = _read_posterior(folder / document["posterior"])
        _restore(estimator, fitted, idata)
    except KeyError as error:
        raise ModelFolderError(
            f"{path} lacks the field {error.args[0]!r}: the file is incomplete or corrupt"
        ) from None
    except (TypeError, ValueError) as error:
        if isinstance(error, ModelFolderError):
            raise
        raise ModelFolderError(f"{path} holds a value this bayesreg cannot use ({error})") from None
    return estimator


def offset_column(folder) -> OffsetColumn | None:
    """The offset column recorded in the model folder ``folder`` (`save`'s ``offset_column``), or
    None where none was recorded (another family, or a model saved from Python).

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    OffsetColumn or None

    Raises
    ------
    ModelFolderError
        As `load`, for a folder that is not a bayesreg model folder, or a record it cannot read.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from bayesreg import BayesianPoissonRegression
    >>> from bayesreg.model_folder import OffsetColumn, offset_column, save
    >>> rng = np.random.default_rng(0)
    >>> X, years = rng.normal(size=(30, 2)), rng.uniform(1.0, 5.0, size=30)
    >>> y = rng.poisson(years * np.exp(0.3 * X[:, 0]))
    >>> est = BayesianPoissonRegression(alpha=0.01).fit(X, y, offset=np.log(years))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = save(est, folder, offset_column=OffsetColumn("exposure", "years"))
    ...     offset_column(folder)
    OffsetColumn(kind='exposure', column='years')
    """
    folder = Path(folder)
    path = folder / MODEL_FILE
    record = _read(path, folder).get("offset_column")
    if record is None:
        return None
    try:
        recorded = OffsetColumn(**record)
    except TypeError:
        recorded = None
    if recorded is None or recorded.kind not in ("offset", "exposure", "none"):
        raise ModelFolderError(f"{path} holds an offset_column this bayesreg cannot read: {record!r}")
    return recorded


def _version() -> str:
    try:
        return importlib.metadata.version("bayesreg")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _check_writable(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ModelFolderError(f"{folder} is a file, not a folder: save needs a folder")
    if not folder.exists() or not any(folder.iterdir()):
        return
    model = folder / MODEL_FILE
    try:
        ours = json.loads(model.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        ours = False
    if not ours:
        held = sorted(p.name for p in folder.iterdir())
        shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
        what = f"its {MODEL_FILE} is not a bayesreg model" if model.exists() else f"it has no {MODEL_FILE}"
        raise ModelFolderError(
            f"{folder} holds other files ({shown}) and is not a bayesreg model folder ({what}): "
            "save to a new or empty folder"
        )


def _replace(path: Path, write) -> None:
    """``write(temporary)`` in the same folder, then rename it to ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _params(estimator) -> dict:
    params = {}
    for key, value in estimator.get_params(deep=False).items():
        if isinstance(value, np.generic):
            value = value.item()
        if key == "random_state" and not (value is None or isinstance(value, int)):
            value = None  # a RandomState instance: its state is not a setting worth keeping
        params[key] = value
    return params


def _floats(values) -> list | float:
    return np.asarray(values, dtype=np.float64).tolist()


def _fitted(estimator) -> dict:
    fitted = {
        "n_features_in_": int(estimator.n_features_in_),
        "coef_": _floats(estimator.coef_),
        "intercept_": float(estimator.intercept_),
        "n_iter_": None if estimator.n_iter_ is None else int(estimator.n_iter_),
        "prior_": _prior(estimator.prior_),
        "map_": None if estimator.map_ is None else _map_record(estimator.map_),
    }
    for name in _NUMBERS:
        if hasattr(estimator, name):
            fitted[name] = float(getattr(estimator, name))
    for name in ("alpha_interval_", "C_interval_"):
        if hasattr(estimator, name):
            fitted[name] = _floats(getattr(estimator, name))
    if hasattr(estimator, "cv_results_"):
        fitted["cv_results_"] = {
            k: v if isinstance(v, str) else _floats(v) if isinstance(v, np.ndarray) else int(v)
            for k, v in estimator.cv_results_.items()
        }
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(name) for name in estimator.feature_names_in_]
    if hasattr(estimator, "classes_"):
        fitted["classes_"] = {"dtype": estimator.classes_.dtype.str, "values": estimator.classes_.tolist()}
    if hasattr(estimator, "sigma_"):
        fitted["sigma_"] = float(estimator.sigma_)
        noise = estimator.sigma_prior_
        fitted["sigma_prior_"] = None if noise is None else {"Exponential": {"rate": float(noise.rate)}}
    if hasattr(estimator, "scaling_"):
        fitted["scaling_"] = {k: _floats(v) for k, v in estimator.scaling_._asdict().items()}
    if hasattr(estimator, "diagnostics_"):
        report = estimator.diagnostics_._asdict()
        report["problems"] = list(report["problems"])
        fitted["diagnostics_"] = {k: v if isinstance(v, list) else _plain(v) for k, v in report.items()}
    if hasattr(estimator, "posterior_fit_"):
        fit = estimator.posterior_fit_._asdict()
        fitted["posterior_fit_"] = {k: v for k, v in fit.items() if k not in ("idata", "map", "diagnostics")}
    return fitted


def _plain(value):
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    return float(value)


def _map_record(result: MAPResult) -> dict:
    return {
        "params": {k: _floats(v) for k, v in result.params.items()},
        "num_steps": int(result.num_steps),
        "residual": float(result.residual),
        "converged": bool(result.converged),
    }


def _prior(prior) -> dict:
    """A penalty `~bayesreg.priors.Prior` by its kind and strengths; a sparsity prior of
    `bayesreg.shrinkage` by its kind and every option (None, int and float as they are)."""
    if prior.kind in SHRINKAGE_PRIORS or prior.kind in _HIERARCHICAL:
        return {"kind": prior.kind, "options": dataclasses.asdict(prior)}
    return {
        "kind": prior.kind,
        "l1": float(prior.l1),
        "l2": float(prior.l2),
        "noise_scaled": bool(prior.noise_scaled),
    }


def _read_prior(record: dict):
    if record["kind"] in SHRINKAGE_PRIORS:
        return shrinkage_prior(record["kind"], **record["options"])
    if record["kind"] in _HIERARCHICAL:
        return _HIERARCHICAL[record["kind"]](**record["options"])
    return Prior(**record)


def _read(path: Path, folder: Path) -> dict:
    if not path.is_file():
        raise ModelFolderError(
            f"{path} does not exist: {folder} is not a bayesreg model folder (est.save(folder) makes one)"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ModelFolderError(f"{path} is not a text file: not a bayesreg model file") from None
    except json.JSONDecodeError as error:
        raise ModelFolderError(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}): "
            "the file is corrupt"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFolderError(f'{path} is not a bayesreg model file (no "format": {FORMAT!r})')
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFolderError(
            f"{path} has format version {version!r}; this bayesreg reads version {FORMAT_VERSION} "
            f"(the file was written by bayesreg {document.get('bayesreg_version', 'unknown')})"
        )
    return document


def _read_posterior(path: Path):
    import arviz as az

    if not path.is_file():
        raise ModelFolderError(
            f"{path} is missing: the model was fitted with method='nuts' and needs its posterior"
        )
    try:
        with az.rc_context({"data.load": "eager"}):
            idata = az.from_netcdf(str(path))
    except Exception as error:  # h5py/netCDF raise several types for a damaged file
        raise ModelFolderError(
            f"{path} could not be read as ArviZ netCDF ({type(error).__name__}: {error})"
        ) from None
    if "posterior" not in idata.groups():
        raise ModelFolderError(f"{path} has no posterior group")
    return idata


def _restore(estimator, fitted: dict, idata) -> None:
    """Set the fitted attributes of ``estimator`` from ``fitted`` (and ``idata``)."""
    floats = np.float64
    estimator.n_features_in_ = int(fitted["n_features_in_"])
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
    if "classes_" in fitted:
        estimator.classes_ = np.asarray(
            fitted["classes_"]["values"], dtype=np.dtype(fitted["classes_"]["dtype"])
        )
    estimator.coef_ = np.asarray(fitted["coef_"], dtype=floats)
    estimator.intercept_ = float(fitted["intercept_"])
    estimator.n_iter_ = None if fitted["n_iter_"] is None else int(fitted["n_iter_"])
    for name in _NUMBERS:
        if name in fitted:
            setattr(estimator, name, float(fitted[name]))
    for name in ("alpha_interval_", "C_interval_"):
        if name in fitted:
            setattr(estimator, name, tuple(float(v) for v in fitted[name]))
    if "cv_results_" in fitted:
        estimator.cv_results_ = {
            k: v if isinstance(v, str) else np.asarray(v, dtype=floats) if isinstance(v, list) else int(v)
            for k, v in fitted["cv_results_"].items()
        }
    estimator.prior_ = _read_prior(fitted["prior_"])
    record = fitted["map_"]
    estimator.map_ = None
    if record is not None:
        estimator.map_ = MAPResult(
            params={k: np.asarray(v, dtype=floats) for k, v in record["params"].items()},
            num_steps=int(record["num_steps"]),
            residual=float(record["residual"]),
            converged=bool(record["converged"]),
        )
    if "scaling_" in fitted:
        estimator.scaling_ = Standardization(
            **{k: np.asarray(v, dtype=floats) for k, v in fitted["scaling_"].items()}
        )
    if "sigma_" in fitted:
        estimator.sigma_ = float(fitted["sigma_"])
        noise = fitted["sigma_prior_"]
        estimator.sigma_prior_ = None if noise is None else dist.Exponential(noise["Exponential"]["rate"])
    if idata is None:
        return
    estimator.idata_ = idata
    report = dict(fitted["diagnostics_"])
    report["problems"] = tuple(report["problems"])
    estimator.diagnostics_ = DiagnosticsReport(**report)
    estimator.posterior_fit_ = PosteriorFit(
        idata=idata, map=estimator.map_, diagnostics=estimator.diagnostics_, **fitted["posterior_fit_"]
    )
    if estimator.prior_.kind in _HIERARCHICAL:  # the draws of α are those of the posterior's hyperparameter
        convention = estimator.get_params().get("convention", "sklearn")
        estimator.alpha_posterior_ = alpha_posterior(idata, estimator.prior_, convention=convention)
