"""Linear regression with a Gaussian likelihood and a prior on the weights.

.. math::

    y_i \\mid w, b, σ \\sim \\mathcal N(b + x_i^\\top w,\\ σ^2), \\qquad w \\sim p(w),

so ``-log p(w, b | y) = ‖y − b − Xw‖²/(2σ²) − log p(w) + const``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from bayesreg.models.sites import sample_sigma, sample_weights
from bayesreg.priors import Prior

__all__ = ["SufficientStats", "linear_regression", "linear_regression_stats"]


def linear_regression(
    X, y=None, *, prior: Prior | None, sigma=1.0, intercept_prior=None, fit_intercept: bool = True
):
    """Bayesian linear regression, one likelihood term per observation.

    Parameters
    ----------
    X : array, shape (n_samples, n_features)
    y : array, shape (n_samples,), optional
        Observed targets; ``None`` samples them (prior / posterior predictive).
    prior : Prior or None
        Prior on ``coef``; ``None`` is flat (no penalty).
    sigma : float or numpyro Distribution
        A fixed noise sd, or the prior of the site ``sigma``.
    intercept_prior : numpyro Distribution, optional
        Prior of ``intercept``; flat (unpenalised) by default.
    fit_intercept : bool
        Without it the intercept is 0 and not a site.

    Examples
    --------
    The log posterior density (up to a constant) is the Gaussian log-likelihood plus the Laplace
    log-prior of the weights; the intercept's prior is flat:

    >>> import jax, numpy as np
    >>> from numpyro.infer.util import log_density
    >>> from bayesreg.priors import prior_from_penalty
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
    >>> params = {"coef": np.array([0.5, 1.0]), "intercept": np.array(0.5)}
    >>> from scipy.stats import laplace, norm
    >>> from bayesreg.models import linear_regression
    >>> prior = prior_from_penalty("laplace", 2.0, convention="book")  # Laplace(0, 0.5) on each weight
    >>> logp = jax.jit(lambda p: log_density(linear_regression, (X, y), {"prior": prior}, p)[0])
    >>> log_likelihood = norm.logpdf(y, loc=0.5 + X @ params["coef"], scale=1.0).sum()
    >>> bool(np.isclose(logp(params), log_likelihood + laplace.logpdf(params["coef"], scale=0.5).sum()))
    True
    """
    sd = sample_sigma(sigma)
    coef, intercept = sample_weights(
        X.shape[1], prior, sigma=sd, intercept_prior=intercept_prior, fit_intercept=fit_intercept
    )
    mean = intercept + X @ coef
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample("y", dist.Normal(mean, sd), obs=y)


class SufficientStats(NamedTuple):
    """What the Gaussian likelihood needs of ``(X, y)``: O(p²) per evaluation instead of O(np).

    With the centred data ``Xc = X − x̄``, ``yc = y − ȳ`` (no centring without an intercept):
    ``‖y − b − Xw‖² = yc'yc − 2w'Xc'yc + w'Xc'Xc w + n(ȳ − b − x̄'w)²``.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.models import SufficientStats
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
    >>> stats = SufficientStats.from_data(X, y)
    >>> float(stats.n), stats.xtx.shape
    (3.0, (2, 2))
    >>> coef, intercept = np.array([0.5, 1.0]), 0.5
    >>> rss = stats.residual_sum_of_squares(coef, intercept)
    >>> bool(np.isclose(rss, np.sum((y - intercept - X @ coef) ** 2)))
    True
    """

    n: jax.Array
    x_mean: jax.Array  # (p,)
    y_mean: jax.Array  # ()
    xtx: jax.Array  # (p, p)
    xty: jax.Array  # (p,)
    yty: jax.Array  # ()

    # `from_data` centres a column inside the Gram matrix while ``1 + mean²/sd²`` is at most this
    # (at most two digits lost to cancellation), and from a centred copy of the column beyond
    CENTRING_LIMIT = 100.0
    # below this many entries of X, `from_data` centres a copy of X (microseconds, one digit more
    # accurate, the statistics bitwise those of earlier versions); from it on, the copy-free Gram
    COPY_FREE_SIZE = 2**20

    @classmethod
    def from_data(cls, X, y, *, center: bool = True) -> SufficientStats:
        """Compute the statistics of ``X`` (n, p) and ``y`` (n,) with NumPy.

        Chosen by size: below ``COPY_FREE_SIZE`` (2²⁰) entries of ``X``, from a centred copy of
        ``X``; from it on, without copying ``X``: ``XᵀX`` is one BLAS ``syrk`` on ``X`` as it is
        (C or Fortran order), half the arithmetic of a matrix product, and the centring happens
        inside it, ``Xcᵀ Xc = XᵀX − n x̄x̄ᵀ``. That subtraction loses ``log10(1 + x̄ⱼ²/sⱼ²)``
        digits in column ``j`` (``sⱼ`` its sd), so the rows and columns of the columns with
        ``1 + x̄ⱼ²/sⱼ² > CENTRING_LIMIT`` (100) come from a centred copy of those columns only,
        ``(Xⱼ − x̄ⱼ)ᵀ X``, which loses nothing to cancellation. ``y`` is centred by a copy (n
        numbers) and ``Xcᵀyc = Xᵀyc − x̄ Σ yc`` needs no copy of ``X`` either.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
        y : array_like, shape (n_samples,)
        center : bool, default=True
            Centre ``X`` and ``y`` by their means (the model has an intercept); otherwise the means
            are 0 and the statistics are the raw products.

        Returns
        -------
        SufficientStats
            NumPy float64 arrays.
        """
        import numpy as np
        from scipy.linalg.blas import dsyrk

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n, p = X.shape
        if X.size < cls.COPY_FREE_SIZE:
            if center:
                x_mean, y_mean = X.mean(axis=0), y.mean()
                X, y = X - x_mean, y - y_mean
            else:
                x_mean, y_mean = np.zeros(p), np.zeros(())
            return cls(np.asarray(float(n)), x_mean, np.asarray(y_mean), X.T @ X, X.T @ y, np.asarray(y @ y))
        if not (X.flags.c_contiguous or X.flags.f_contiguous):
            X = np.ascontiguousarray(X)
        # dsyrk on Xᵀ (Fortran-ordered when X is C-ordered) gives XᵀX in its upper triangle
        upper = dsyrk(1.0, X.T, trans=0) if X.flags.c_contiguous else dsyrk(1.0, X, trans=1)
        xtx = np.triu(upper) + np.triu(upper, 1).T
        if not center:
            return cls(np.asarray(float(n)), np.zeros(p), np.zeros(()), xtx, X.T @ y, np.asarray(y @ y))
        x_mean, y_mean = X.mean(axis=0), y.mean()
        yc = y - y_mean
        xty = X.T @ yc - x_mean * yc.sum()
        diag = np.diag(xtx).copy()
        xtx -= n * np.outer(x_mean, x_mean)
        # columns whose mean is large against their sd: centred exactly, from a copy of those only
        far = np.flatnonzero(diag > cls.CENTRING_LIMIT * np.maximum(np.diag(xtx), np.finfo(float).tiny))
        if far.size:
            centred = X[:, far] - x_mean[far]
            rows = centred.T @ X - np.outer(centred.sum(axis=0), x_mean)
            xtx[far, :] = rows
            xtx[:, far] = rows.T
            xtx[np.ix_(far, far)] = centred.T @ centred
            xty[far] = centred.T @ yc
        return cls(np.asarray(float(n)), x_mean, np.asarray(y_mean), xtx, xty, np.asarray(yc @ yc))

    @classmethod
    def from_dask(
        cls, data, y=None, *, target: str | None = None, center: bool = True, client=None
    ) -> SufficientStats:
        """The statistics of a Dask DataFrame or Array in one pass over its rows, each partition
        checked and reduced where it lies (`bayesreg.large.sufficient_stats_from_dask`, which takes
        the same arguments; Dask is imported only then).

        Examples
        --------
        >>> import dask.dataframe as dd, numpy as np, pandas as pd
        >>> from bayesreg.models import SufficientStats
        >>> frame = pd.DataFrame({"a": [1.0, 0.0, 1.0, 3.0], "b": [0.0, 1.0, 1.0, 2.0],
        ...                       "y": [1.0, 2.0, 2.5, 4.0]})
        >>> stats = SufficientStats.from_dask(dd.from_pandas(frame, npartitions=2), target="y")
        >>> memory = SufficientStats.from_data(frame[["a", "b"]], frame["y"])
        >>> all(np.allclose(a, b, rtol=1e-12) for a, b in zip(stats, memory))
        True
        """
        from bayesreg.large import sufficient_stats_from_dask

        return sufficient_stats_from_dask(data, y, target=target, center=center, client=client)

    def residual_sum_of_squares(self, coef, intercept):
        """``‖y − intercept − X coef‖²`` from the statistics."""
        offset = self.y_mean - intercept - self.x_mean @ coef
        return self.yty - 2.0 * coef @ self.xty + coef @ self.xtx @ coef + self.n * offset**2


def linear_regression_stats(
    stats: SufficientStats,
    *,
    prior: Prior | None,
    sigma=1.0,
    intercept_prior=None,
    fit_intercept: bool = True,
):
    """The same model as `linear_regression`, its likelihood evaluated from `SufficientStats`.

    The joint density equals `linear_regression`'s with ``y`` observed (one factor ``y`` instead of
    a plate); use it for MAP and NUTS when ``n ≫ p``, and `linear_regression` for per-observation
    log-likelihoods and predictions.

    Examples
    --------
    The same log posterior density, from the rows or from their statistics:

    >>> import jax, numpy as np
    >>> from numpyro.infer.util import log_density
    >>> from bayesreg.priors import prior_from_penalty
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
    >>> params = {"coef": np.array([0.5, 1.0]), "intercept": np.array(0.5)}
    >>> from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats
    >>> kwargs = {"prior": prior_from_penalty("gaussian", 1.0, convention="book"), "sigma": 0.5}
    >>> per_row = jax.jit(lambda p: log_density(linear_regression, (X, y), kwargs, p)[0])
    >>> stats = SufficientStats.from_data(X, y)
    >>> from_stats = jax.jit(lambda p: log_density(linear_regression_stats, (stats,), kwargs, p)[0])
    >>> bool(np.isclose(per_row(params), from_stats(params)))
    True
    """
    sd = sample_sigma(sigma)
    coef, intercept = sample_weights(
        stats.xty.shape[0],
        prior,
        sigma=sd,
        intercept_prior=intercept_prior,
        fit_intercept=fit_intercept,
    )
    rss = stats.residual_sum_of_squares(coef, intercept)
    numpyro.factor("y", -0.5 * rss / sd**2 - stats.n * (jnp.log(sd) + 0.5 * jnp.log(2 * jnp.pi)))
