"""Standardised columns: fit on ``(X − mean)/sd``, report coefficients on the original scale.

A prior on the weights of standardised columns treats every column alike whatever its units (the
penalty of scikit-learn's ``make_pipeline(StandardScaler(), Lasso(...))``), and NUTS sees a
posterior whose geometry does not depend on the units. `Standardization` holds the column means and
scales, standardises a design matrix, and maps coefficients and intercepts (single values or
posterior draws with leading dimensions) and whole InferenceData posteriors back to the original
columns:

.. math::

    y = b_z + \\sum_j w_{z,j} \\frac{x_j - m_j}{s_j}
      = \\underbrace{\\Big(b_z - \\sum_j m_j \\frac{w_{z,j}}{s_j}\\Big)}_{b}
        + \\sum_j \\underbrace{\\frac{w_{z,j}}{s_j}}_{w_j} x_j .

The scale is the population sd (``ddof=0``), as scikit-learn's ``StandardScaler``. With
``center=False`` (a model without an intercept) the columns are divided by their sd but not
centred, which is ``StandardScaler(with_mean=False)``: the sd is still taken about the mean.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bayesreg.data import DataError

__all__ = ["Standardization"]


class Standardization(NamedTuple):
    """Column means and scales of a design matrix, and the maps between the two scales.

    Attributes
    ----------
    mean : ndarray of shape (n_features,)
        The column means subtracted (zeros when fitted with ``center=False``).
    scale : ndarray of shape (n_features,)
        The column population sds (``ddof=0``) divided by; all positive.

    Examples
    --------
    Standardise, fit (here least squares), and map the coefficients back: the predictions are the
    same on either scale.

    >>> import numpy as np
    >>> from bayesreg.scaling import Standardization
    >>> X = np.array([[1.0, 200.0], [2.0, 100.0], [4.0, 300.0], [5.0, 500.0]])
    >>> y = np.array([1.0, 2.0, 3.5, 6.0])
    >>> scaling = Standardization.from_data(X)
    >>> Z = scaling.transform(X)
    >>> Z.mean(axis=0).round(12).tolist(), Z.std(axis=0).round(12).tolist()
    ([0.0, 0.0], [1.0, 1.0])
    >>> A = np.column_stack([np.ones(4), Z])
    >>> intercept_z, *coef_z = np.linalg.lstsq(A, y, rcond=None)[0]
    >>> coef, intercept = scaling.to_original(np.array(coef_z), intercept_z)
    >>> bool(np.allclose(X @ coef + intercept, Z @ coef_z + intercept_z))
    True
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def from_data(cls, X, *, center: bool = True, names=None) -> Standardization:
        """The means (if ``center``) and population sds of the columns of ``X``.

        Parameters
        ----------
        X : array_like or DataFrame, shape (n_samples, n_features)
            Numeric, finite (`bayesreg.data` checks that).
        center : bool, default=True
            Subtract the means (``StandardScaler()``); False only divides by the sds
            (``StandardScaler(with_mean=False)``), for a model without an intercept.
        names : sequence of str, optional
            Column names for the error message (a DataFrame's own columns by default).

        Returns
        -------
        Standardization

        Raises
        ------
        DataError
            If a column is constant (its sd is 0, or below 1e-12 of its mean: nothing to divide
            by), naming every such column.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg.scaling import Standardization
        >>> X = np.array([[1.0, 10.0], [3.0, 10.0]])
        >>> Standardization.from_data(X[:, :1])
        Standardization(mean=array([2.]), scale=array([1.]))
        >>> Standardization.from_data(X[:, :1], center=False)
        Standardization(mean=array([0.]), scale=array([1.]))
        >>> Standardization.from_data(X, names=["dose", "batch"])
        Traceback (most recent call last):
        ...
        bayesreg.data.DataError: cannot standardise constant column 'batch' (sd 0): drop it first
        """
        if names is None and hasattr(X, "columns"):
            names = [str(name) for name in X.columns]
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise DataError(f"X must be 2-d (n_samples, n_features), got shape {X.shape}")
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        constant = np.flatnonzero(~(scale > 1e-12 * np.abs(mean)))
        if constant.size:
            label = [repr(str(names[j])) if names is not None else str(j) for j in constant]
            which = "column" if constant.size == 1 else "columns"
            pronoun = "it" if constant.size == 1 else "them"
            raise DataError(
                f"cannot standardise constant {which} {', '.join(label)} (sd 0): drop {pronoun} first"
            )
        return cls(mean if center else np.zeros_like(mean), scale)

    def transform(self, X) -> np.ndarray:
        """``(X − mean) / scale``, shape (n_samples, n_features), a new float64 array.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg.scaling import Standardization
        >>> Standardization(np.array([2.0]), np.array([4.0])).transform(np.array([[2.0], [10.0]]))
        array([[0.],
               [2.]])
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.mean.shape[0]:
            raise DataError(f"X has shape {X.shape}; the standardisation is for {self.mean.shape[0]} columns")
        return (X - self.mean) / self.scale

    def to_original(self, coef, intercept=0.0) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients and intercept of standardised columns, on the original columns.

        ``coef = coef_z / scale`` and ``intercept = intercept_z − Σⱼ meanⱼ·coefⱼ``, so that
        ``X @ coef + intercept == transform(X) @ coef_z + intercept_z``.

        Parameters
        ----------
        coef : array_like, shape (..., n_features)
            On the standardised scale; leading dimensions (chains, draws) are kept.
        intercept : array_like, shape (...), default=0.0
            On the standardised scale (0 for a model without one).

        Returns
        -------
        coef : ndarray, shape (..., n_features)
        intercept : ndarray, shape (...)

        Examples
        --------
        Two draws of one chain at once:

        >>> import numpy as np
        >>> from bayesreg.scaling import Standardization
        >>> scaling = Standardization(np.array([10.0, 0.0]), np.array([2.0, 0.5]))
        >>> coef_z, intercept_z = np.array([[[1.0, 1.0], [2.0, 0.0]]]), np.array([[3.0, 3.0]])
        >>> coef, intercept = scaling.to_original(coef_z, intercept_z)
        >>> coef.tolist(), intercept.tolist()
        ([[[0.5, 2.0], [1.0, 0.0]]], [[-2.0, -7.0]])
        """
        coef = np.asarray(coef, dtype=np.float64) / self.scale
        return coef, np.asarray(intercept, dtype=np.float64) - coef @ self.mean

    def to_standardized(self, coef, intercept=0.0) -> tuple[np.ndarray, np.ndarray]:
        """The inverse of `to_original`: coefficients of the original columns on standardised ones.

        Examples
        --------
        >>> import numpy as np
        >>> from bayesreg.scaling import Standardization
        >>> scaling = Standardization(np.array([10.0, 0.0]), np.array([2.0, 0.5]))
        >>> coef, intercept = scaling.to_standardized(*scaling.to_original(np.array([1.0, -1.0]), 3.0))
        >>> coef.tolist(), float(intercept)
        ([1.0, -1.0], 3.0)
        """
        coef = np.asarray(coef, dtype=np.float64)
        return coef * self.scale, np.asarray(intercept, dtype=np.float64) + coef @ self.mean

    def posterior_to_original(self, idata, *, groups=("posterior", "prior")):
        """An InferenceData whose ``coef`` and ``intercept`` are on the original columns.

        In each of ``groups`` that has a ``coef`` variable (dims ``(chain, draw, feature)``, the
        feature dimension last), ``coef`` and ``intercept`` become the original-scale draws
        (`to_original`, draw by draw) and the standardised ones are kept as ``coef_standardized``
        and ``intercept_standardized``. The Laplace prior's mixture variances ``coef_var`` (the
        variance of each standardised coefficient, ``coef = coef_std·√coef_var``) become the
        variances of the original-scale coefficients, ``coef_var / scale²``, the standardised ones
        kept as ``coef_var_standardized``; ``coef_std`` is unitless and stays. Other variables
        (``sigma``) and groups are unchanged; ``idata`` itself is not modified.

        Parameters
        ----------
        idata : arviz.InferenceData
            Draws of a model fitted on `transform`-ed columns.
        groups : sequence of str
            The groups to map (those missing are skipped).

        Returns
        -------
        arviz.InferenceData

        Examples
        --------
        >>> import arviz as az, numpy as np
        >>> from bayesreg.scaling import Standardization
        >>> scaling = Standardization(np.array([10.0, 0.0]), np.array([2.0, 0.5]))
        >>> draws = {"coef": np.ones((2, 3, 2)), "intercept": np.zeros((2, 3)), "sigma": np.ones((2, 3))}
        >>> idata = az.from_dict(posterior=draws, coords={"feature": ["a", "b"]}, dims={"coef": ["feature"]})
        >>> original = scaling.posterior_to_original(idata)
        >>> sorted(original.posterior.data_vars)
        ['coef', 'coef_standardized', 'intercept', 'intercept_standardized', 'sigma']
        >>> posterior = original.posterior
        >>> posterior["coef"].sel(feature="b").values[0].tolist(), float(posterior["intercept"][0, 0])
        ([2.0, 2.0, 2.0], -5.0)
        """
        out = idata.copy()
        for group in groups:
            if group not in out.groups() or "coef" not in out[group]:
                continue
            data = out[group]
            coef_z = data["coef"]
            intercept_z = data["intercept"] if "intercept" in data else 0.0
            coef, intercept = self.to_original(coef_z.values, np.asarray(intercept_z))
            mapped = data.assign(coef_standardized=coef_z, coef=coef_z.copy(data=coef))
            if "coef_var" in data:
                variance_z = data["coef_var"]
                mapped = mapped.assign(coef_var_standardized=variance_z, coef_var=variance_z / self.scale**2)
            if "intercept" in data:
                mapped = mapped.assign(
                    intercept_standardized=data["intercept"], intercept=data["intercept"].copy(data=intercept)
                )
            setattr(out, group, mapped)
        return out
