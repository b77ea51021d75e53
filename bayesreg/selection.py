"""A sparse answer from a posterior: projection predictive selection, interval exclusion and DSS.

A posterior under a shrinkage prior keeps every feature; these functions turn it into a short list,
three ways, and set them beside the lasso's own answer (`selection_table`):

* `projection_selection`, projection predictive variable selection (Piironen, Paasiniemi & Vehtari
  2020, *Projective inference in high-dimensional problems*; the R package projpred and Python's
  kulprit). The reference posterior is kept as the model that predicts; a submodel on a subset of
  the features is judged by how well its *projection* reproduces the reference's predictions:

  - **search** (`search_order`): the L1 path on the reference fit, the lasso of the posterior-mean
    linear predictor ``η̄ = b̄ + X β̄`` on the standardised columns (`bayesreg.path.map_path`, exact by
    homotopy) on projpred's grid (`SEARCH_ALPHAS` values down to `SEARCH_EPS` · α_max): the order in
    which the features first become non-zero. projpred's L1 search likewise uses a single cluster,
    the reference's mean fit;
  - **projection** (`project`) of each of `PROJECTION_DRAWS` (projpred's ``ndraws_pred``) draws, thinned
    evenly within each chain, onto the first k features plus an intercept, for k = 0, 1, ...:
    Gaussian, the least-squares fit of the draw's fitted mean ``μ_s`` and the noise sd
    ``σ⊥_s² = σ_s² + ‖μ_s − μ⊥_s‖²/n``; Bernoulli, the Kullback–Leibler projection, the logistic
    regression of the draw's probabilities ``π_s`` (a maximum of ``Σ_i π_si log p_i + (1 − π_si)
    log(1 − p_i)``, whose score equations are ``X_kᵀ(π_s − p_s) = 0``), by Newton's method;
  - **evaluation**: each submodel's pointwise log predictive density by PSIS-LOO with the
    *reference* model's importance weights (``w_is`` from `bayesreg.loo.psis` of ``−log p(y_i |
    θ_s)``, as projpred's ``cv_varsel(validate_search = FALSE)``),
    ``elpd_i(k) = log Σ_s w_is p(y_i | θ⊥_s(k))``, its sum ``elpd(k)`` with ``se = √(n var_i)``, and the
    difference to the reference's ``elpd_i = log Σ_s w_is p(y_i | θ_s)`` with the se of the
    pointwise differences;
  - **suggested size** (`suggest_size`): projpred's default rule (``suggest_size(stat = "elpd",
    pct = 0, type = "upper")`` with ``summary.vsel``'s ``alpha = 2 pnorm(−1)``): the smallest k
    whose elpd difference to the reference has an upper one-standard-error bound at or above 0,
    ``elpd_diff(k) + se_diff(k) ≥ 0``.

  The search is not cross-validated, so the elpd of the selected submodels is optimistic (projpred's
  ``validate_search = FALSE``), most for the sizes just below the suggested one; with k = p the
  projection is the reference itself and its elpd the reference's.
* `interval_selection`: the features whose central or highest-density interval (ArviZ's `hdi`) at
  a level excludes 0;
* `dss_selection`: decoupled shrinkage and selection (Hahn & Carvalho 2015), the adaptive lasso of
  the posterior-mean fitted values with weights ``1/|β̄_j|``, its penalty chosen by the excess error
  of each summary over the posterior (`DSS_PROB`).

For the logistic model the search and DSS work on the linear predictor (the latent scale).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.linalg import solve_triangular
from scipy.special import expit, log_expit, logsumexp

from bayesreg.data import check_xy
from bayesreg.defaults import DSS_PROB, EPS, HDI_PROB, N_ALPHAS, PROJECTION_DRAWS, SEARCH_ALPHAS, SEARCH_EPS
from bayesreg.loo import psis
from bayesreg.params import Interval, Options, check_param
from bayesreg.path import alpha_grid, map_path

if TYPE_CHECKING:  # arviz is imported where it is used: `import bayesreg` does not load it
    import arviz as az

__all__ = [
    "DSSSelection",
    "Projection",
    "ProjectionSelection",
    "dss_selection",
    "interval_selection",
    "project",
    "projection_selection",
    "search_order",
    "selection_table",
    "suggest_size",
]

_NEWTON_STEPS = 100  # most Newton steps of the Bernoulli projection
_HALVINGS = 40  # most step halvings of one Newton step


class Projection(NamedTuple):
    """Posterior draws projected onto a subset of the features, as `project` returns them.

    Attributes
    ----------
    features : ndarray of int, shape (k,)
        The columns of ``X`` the submodel uses.
    coef : ndarray, shape (n_draws, k)
        The projected weights of each draw.
    intercept : ndarray, shape (n_draws,)
        The projected intercepts.
    sigma : ndarray, shape (n_draws,), or None
        The projected noise sd ``σ⊥`` (Gaussian), None for Bernoulli.
    linear_predictor : ndarray, shape (n_draws, n_samples)
        ``intercept + X[:, features] coef`` of each draw.

    Examples
    --------
    >>> from bayesreg.selection import Projection
    >>> Projection._fields
    ('features', 'coef', 'intercept', 'sigma', 'linear_predictor')
    """

    features: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    sigma: np.ndarray | None
    linear_predictor: np.ndarray


class ProjectionSelection(NamedTuple):
    """Projection predictive selection along a search path, as `projection_selection` returns it.

    Attributes
    ----------
    order : list of str
        The features in the order of the search path (the first k make the submodel of size k).
    table : pandas.DataFrame
        One row per size k = 0 ... ``max_size`` (index ``size``): ``feature`` (the one added at that
        size, "" for the intercept-only model), ``elpd_loo`` and ``se``, ``elpd_diff`` (submodel minus
        reference) and ``diff_se``, ``upper`` (``elpd_diff + diff_se``).
    suggested_size : int or None
        `suggest_size` of the table: None when no size up to ``max_size`` meets the rule.
    selected : list of str
        ``order[:suggested_size]`` (empty when no size was suggested).
    reference_elpd : float
        The reference's PSIS-LOO elpd on the projected draws, with the same weights.
    reference_se : float
        Its standard error.
    pointwise : ndarray, shape (max_size + 1, n_samples)
        ``elpd_i(k)`` of each submodel.
    reference_pointwise : ndarray, shape (n_samples,)
        The reference's ``elpd_i``.
    pareto_k : ndarray, shape (n_samples,)
        The Pareto k̂ of the reference's importance weights (ArviZ's; above ``min(1 − 1/log10 S, 0.7)``
        the LOO estimates of that observation are unreliable, and a warning says so).
    num_draws : int
        Draws projected (S).

    Examples
    --------
    >>> from bayesreg.selection import ProjectionSelection
    >>> ProjectionSelection._fields[:4]
    ('order', 'table', 'suggested_size', 'selected')
    """

    order: list
    table: pd.DataFrame
    suggested_size: int | None
    selected: list
    reference_elpd: float
    reference_se: float
    pointwise: np.ndarray
    reference_pointwise: np.ndarray
    pareto_k: np.ndarray
    num_draws: int


class DSSSelection(NamedTuple):
    """Decoupled shrinkage and selection along an adaptive-lasso path, as `dss_selection` returns it.

    Attributes
    ----------
    selected : list of str
        The features of the chosen summary.
    coef : ndarray, shape (n_features,)
        The adaptive lasso's weights at the chosen α (exact zeros off its support).
    intercept : float
        Its intercept.
    alpha : float
        Its penalty strength (the adaptive lasso's α, in scikit-learn's Lasso convention).
    table : pandas.DataFrame
        One row per grid point (index ``alpha``, decreasing): ``size`` (non-zero weights) and the
        posterior ``psi_mean``, ``psi_lower`` and ``psi_upper`` (central `DSS_PROB` interval) of the
        excess error of the support's least-squares summary.
    psi_full : float
        The posterior mean excess error of the dense summary ``η̄``, the bar a sparse summary must reach.

    Examples
    --------
    >>> from bayesreg.selection import DSSSelection
    >>> DSSSelection._fields
    ('selected', 'coef', 'intercept', 'alpha', 'table', 'psi_full')
    """

    selected: list
    coef: np.ndarray
    intercept: float
    alpha: float
    table: pd.DataFrame
    psi_full: float


class _Reference:
    """The reference posterior's draws, flattened over chains, with the data: ``coef`` (S, p),
    ``intercept`` (S,), ``sigma`` (S,) or None (Bernoulli, or not asked for: ``noise=False``), ``eta``
    (S, n) the linear predictor of each draw; the draws at ``draws`` (per chain) of ``num_draws`` or
    all; the feature names; the family; and the targets ``y`` checked for that family
    (`~bayesreg.data.check_xy`: two-class labels as 0/1 for Bernoulli), or None when not given."""

    def __init__(
        self,
        idata: az.InferenceData,
        X,
        family: str | None,
        num_draws: int | None = None,
        *,
        noise: bool = True,
        y=None,
    ):
        if "posterior" not in idata.groups() or "coef" not in idata.posterior:
            raise ValueError("idata has no posterior 'coef': selection needs posterior draws of the weights")
        posterior = idata.posterior
        self.family = _family(posterior, family)
        names = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else None
        X = np.asarray(X, dtype=np.float64)
        coef = np.asarray(posterior["coef"].to_numpy(), dtype=np.float64)
        if coef.ndim == 2:
            coef = coef[..., None]
        chains, draws, p = coef.shape
        if X.ndim != 2 or X.shape[1] != p:
            raise ValueError(
                f"X must have shape (n_samples, {p}) for a posterior of {p} coefficients, got {X.shape}"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X has NaN or infinite values")
        if names is None and "feature" in posterior["coef"].coords:
            names = [str(c) for c in posterior["coef"].coords["feature"].values]
        self.names = names if names is not None else [f"x{j}" for j in range(p)]
        self.X = X
        per_chain = draws if num_draws is None else min(draws, max(1, -(-num_draws // chains)))
        self.draws = np.unique(np.linspace(0, draws - 1, per_chain).round().astype(int))
        self.posterior = posterior.isel(draw=self.draws)
        self.coef = coef[:, self.draws].reshape(-1, p)
        size = self.coef.shape[0]
        self.intercept = _flat(posterior, "intercept", self.draws, size)
        self.mean_coef = coef.reshape(-1, p).mean(axis=0)
        self.mean_intercept = float(_flat(posterior, "intercept", np.arange(draws), chains * draws).mean())
        self.sigma = None
        if self.family == "gaussian" and noise:
            if "sigma" in posterior:
                self.sigma = _flat(posterior, "sigma", self.draws, size)
            elif "sigma" in posterior.attrs:
                self.sigma = np.full(size, float(posterior.attrs["sigma"]))
            else:
                raise ValueError(
                    "the posterior has no sigma (neither a variable nor posterior.attrs['sigma']): the "
                    "noise sd of the linear model is needed for its predictive density"
                )
        self.eta = self.intercept[:, None] + self.coef @ X.T
        self.y = None if y is None else check_xy(X, y, self.family).y

    @property
    def mean_eta(self) -> np.ndarray:
        """The posterior-mean linear predictor over all draws, ``b̄ + X β̄`` (n,)."""
        return self.mean_intercept + self.X @ self.mean_coef

    def reff(self) -> float:
        """`arviz.loo`'s relative efficiency of the kept draws: mean ESS ("mean") over every
        posterior value per draw, 1 for one chain."""
        import arviz as az

        if self.posterior.sizes["chain"] == 1:
            return 1.0
        ess = az.ess(self.posterior, method="mean")
        return float(np.hstack([ess[v].values.ravel() for v in ess.data_vars]).mean() / self.coef.shape[0])


def _family(posterior, family: str | None) -> str:
    if family is not None:
        return check_param("family", family)
    recorded = posterior.attrs.get("family")
    if recorded in ("gaussian", "bernoulli"):
        return str(recorded)
    if recorded is not None:
        raise ValueError(
            f"projection predictive selection works on linear and logistic posteriors, not {recorded!r} ones"
        )
    if "sigma" in posterior or "sigma" in posterior.attrs:
        return "gaussian"
    raise ValueError(
        "cannot tell whether idata is a linear or a logistic posterior (no posterior.attrs['family'], no "
        "sigma): pass family='gaussian' or family='bernoulli'"
    )


def _flat(posterior, name: str, draws: np.ndarray, size: int) -> np.ndarray:
    if name not in posterior:
        return np.zeros(size)
    values = np.asarray(posterior[name].to_numpy(), dtype=np.float64)
    if values.shape != posterior["coef"].shape[:2]:
        raise ValueError(
            f"the posterior's {name} has shape {values.shape}; one value per draw, shaped (chain, draw) "
            f"= {posterior['coef'].shape[:2]} as coef, was expected"
        )
    return values[:, draws].reshape(-1)


def _log_density(family: str, y: np.ndarray, eta: np.ndarray, sigma: np.ndarray | None) -> np.ndarray:
    """``log p(y_i | draw s)`` (S, n) of linear predictors ``eta`` (S, n) and noise sds ``sigma`` (S,)."""
    if family == "gaussian":
        z = (y - eta) / sigma[:, None]
        return -0.5 * z**2 - np.log(sigma)[:, None] - 0.5 * np.log(2 * np.pi)
    return y * log_expit(eta) + (1 - y) * log_expit(-eta)


def _design(X: np.ndarray, features: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(X.shape[0]), X[:, features]])


def _project_gaussian(eta: np.ndarray, sigma: np.ndarray, design: np.ndarray):
    """Least squares of each row of ``eta`` (S, n) on ``design`` (n, m): weights (S, m), fitted
    values (S, n) and ``σ⊥ = √(σ² + mean squared residual)``."""
    q, r = np.linalg.qr(design)
    diagonal = np.abs(np.diag(r))
    if diagonal.min() > 1e-10 * diagonal.max():  # full column rank: one QR for every draw
        weights = solve_triangular(r, q.T @ eta.T).T
    else:  # dependent columns: the minimum-norm solution
        weights = np.linalg.lstsq(design, eta.T, rcond=None)[0].T
    fitted = weights @ design.T
    return weights, fitted, np.sqrt(sigma**2 + np.mean((eta - fitted) ** 2, axis=1))


def _kl_objective(target: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """``Σ_i π_i log p_i + (1 − π_i) log(1 − p_i)`` per row: minus the KL divergence up to a constant."""
    return np.sum(target * log_expit(eta) + (1 - target) * log_expit(-eta), axis=1)


def _project_bernoulli(eta: np.ndarray, design: np.ndarray, start: np.ndarray | None):
    """The KL projection of each row's probabilities ``expit(eta)`` (S, n) onto logistic regressions
    on ``design`` (n, m), by damped Newton steps from ``start`` (S, m) (default: the intercept-only
    solution): weights (S, m) and linear predictors (S, n). Stops when every row's score
    ``designᵀ(π − p)`` is below ``1e-12 · n`` (warns for rows that do not get there)."""
    from sklearn.exceptions import ConvergenceWarning

    target = expit(eta)
    size, n, m = eta.shape[0], design.shape[0], design.shape[1]
    weights = np.zeros((size, m))
    if start is None:
        mean = np.clip(target.mean(axis=1), 1e-300, 1 - 1e-16)
        weights[:, 0] = np.log(mean) - np.log1p(-mean)
    else:
        weights[:, : start.shape[1]] = start
    tol = 1e-12 * n
    for _ in range(_NEWTON_STEPS):
        linear = weights @ design.T
        prob = expit(linear)
        score = (target - prob) @ design
        open_ = np.max(np.abs(score), axis=1) > tol
        if not open_.any():
            break
        curvature = np.einsum("sn,ni,nj->sij", (prob * (1 - prob))[open_], design, design)
        try:
            step = np.linalg.solve(curvature, score[open_][..., None])[..., 0]
        except np.linalg.LinAlgError:
            raise ValueError(
                "the Bernoulli projection's curvature is singular: the submodel's columns are linearly "
                "dependent (duplicate or collinear features, or more features than rows)"
            ) from None
        current = _kl_objective(target[open_], linear[open_])
        scale = np.ones(step.shape[0])
        for _ in range(_HALVINGS):  # halve the step of the rows it does not improve
            trial = weights[open_] + scale[:, None] * step
            worse = _kl_objective(target[open_], trial @ design.T) < current - 1e-13 * np.abs(current)
            if not worse.any():
                break
            scale[worse] /= 2
        weights[open_] = weights[open_] + scale[:, None] * step
    linear = weights @ design.T
    score = (target - expit(linear)) @ design
    if np.any(np.max(np.abs(score), axis=1) > tol):
        warnings.warn(
            f"the Bernoulli projection did not converge for {int(np.sum(np.abs(score).max(axis=1) > tol))} "
            f"draws in {_NEWTON_STEPS} Newton steps (largest score {np.abs(score).max():.3g})",
            ConvergenceWarning,
            stacklevel=3,
        )
    return weights, linear


def _projection(ref: _Reference, features: np.ndarray, start: np.ndarray | None = None) -> Projection:
    design = _design(ref.X, features)
    if ref.family == "gaussian":
        weights, fitted, sigma = _project_gaussian(ref.eta, ref.sigma, design)
    else:
        (weights, fitted), sigma = _project_bernoulli(ref.eta, design, start), None
    return Projection(features, weights[:, 1:], weights[:, 0], sigma, fitted)


def project(
    idata: az.InferenceData,
    X: ArrayLike,
    features,
    *,
    family: Literal["gaussian", "bernoulli"] | None = None,
    num_draws: int | None = PROJECTION_DRAWS,
) -> Projection:
    """Project posterior draws onto the submodel of ``features`` (with an intercept).

    For each draw ``s`` with linear predictor ``η_s = b_s + X β_s`` (the model's mean ``μ_s = η_s``
    for Gaussian, probabilities ``π_s = 1/(1 + e^{−η_s})`` for Bernoulli), the submodel's parameters
    minimise the Kullback–Leibler divergence from the draw's predictive distribution:

    * Gaussian: ``(b⊥, β⊥) = argmin ‖μ_s − b − X_k β‖²`` (least squares) and
      ``σ⊥_s² = σ_s² + ‖μ_s − μ⊥_s‖² / n``;
    * Bernoulli: ``(b⊥, β⊥) = argmax Σ_i π_si log p_i + (1 − π_si) log(1 − p_i)``, ``p = expit(b + X_k
      β)``: the logistic regression of the probabilities (score ``[1, X_k]ᵀ(π_s − p) = 0``), by Newton's
      method with step halving.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior with ``coef`` (chain, draw, feature), ``intercept`` (else 0) and, for Gaussian,
        ``sigma`` (a variable, or ``posterior.attrs["sigma"]`` when it was fixed).
    X : array_like, shape (n_samples, n_features)
        The design the posterior was fitted on.
    features : sequence of int
        Columns of ``X`` in the submodel (may be empty: the intercept-only model).
    family : {"gaussian", "bernoulli"}, optional
        Default: ``posterior.attrs["family"]``, else Gaussian when the posterior has a noise sd.
    num_draws : int or None
        Draws to project, thinned evenly within each chain (`PROJECTION_DRAWS`); None for all.

    Returns
    -------
    Projection

    Examples
    --------
    Draws of a 3-feature linear model projected onto its first two features; with all three the
    projection returns the draws themselves:

    >>> import numpy as np
    >>> import arviz as az
    >>> from bayesreg.selection import project
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> idata = az.from_dict(posterior={"coef": rng.normal(size=(2, 5, 3)),
    ...                                 "intercept": rng.normal(size=(2, 5)),
    ...                                 "sigma": np.full((2, 5), 0.5)})
    >>> sub = project(idata, X, [0, 1])
    >>> sub.coef.shape, bool(np.all(sub.sigma >= 0.5))
    ((10, 2), True)
    >>> full = project(idata, X, [0, 1, 2])
    >>> bool(np.allclose(full.coef, idata.posterior["coef"].values.reshape(10, 3)))
    True
    """
    ref = _Reference(idata, X, family, num_draws)
    return _projection(ref, _features(features, ref.X.shape[1]))


def _features(features, p: int) -> np.ndarray:
    features = np.asarray(features, dtype=int).reshape(-1)
    if np.any((features < 0) | (features >= p)) or len(set(features.tolist())) != features.size:
        raise ValueError(f"features must be distinct column indices in 0 .. {p - 1}, got {features.tolist()}")
    return features


def search_order(
    idata: az.InferenceData,
    X: ArrayLike,
    *,
    family: Literal["gaussian", "bernoulli"] | None = None,
    n_alphas: int = SEARCH_ALPHAS,
    eps: float = SEARCH_EPS,
) -> np.ndarray:
    """The L1 search path on the reference fit: the order in which the features enter the lasso of the
    posterior-mean linear predictor.

    The lasso ``min_w (1/2n)‖η̄ − c − Z w‖² + α‖w‖₁`` of ``η̄ = b̄ + X β̄`` on the standardised columns
    ``Z`` (`bayesreg.path.map_path` with ``standardize=True``, exact at each grid point) along
    ``n_alphas`` values from α_max down to ``eps · α_max``; a feature's place is the first grid point
    at which its weight is non-zero, ties broken by the larger standardised weight there. Features
    that never enter (more features than rows) follow, by decreasing ``|β̄_j| sd(x_j)``.

    Parameters
    ----------
    idata : arviz.InferenceData
        The reference posterior (see `project`).
    X : array_like, shape (n_samples, n_features)
    family : {"gaussian", "bernoulli"}, optional
        As in `project` (the path is on the linear predictor either way).
    n_alphas, eps
        The grid (`SEARCH_ALPHAS`, `SEARCH_EPS`: projpred's ``nlambda``, ``lambda_min_ratio``).

    Returns
    -------
    ndarray of int, shape (n_features,)
        Column indices, first to enter first.

    Examples
    --------
    A posterior centred on weights (0, 3, −1, 0.1): the strongest enters first:

    >>> import numpy as np
    >>> import arviz as az
    >>> from bayesreg.selection import search_order
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 4))
    >>> coef = np.array([0.0, 3.0, -1.0, 0.1]) + 0.01 * rng.normal(size=(2, 20, 4))
    >>> idata = az.from_dict(posterior={"coef": coef, "sigma": np.ones((2, 20))})
    >>> search_order(idata, X).tolist()
    [1, 2, 3, 0]
    """
    ref = _Reference(idata, X, family, num_draws=1, noise=False)
    return _search(ref.X, ref.mean_eta, ref.mean_coef, n_alphas, eps)


def _search(
    X: np.ndarray, target: np.ndarray, mean_coef: np.ndarray, n_alphas: int, eps: float
) -> np.ndarray:
    scale = X.std(axis=0)
    p = X.shape[1]
    if np.ptp(target) == 0:  # nothing to follow: the posterior means' order
        return np.argsort(-np.abs(mean_coef) * scale, kind="stable")
    alphas = alpha_grid(X, target, n_alphas=n_alphas, eps=eps, standardize=True)
    coefs = map_path(X, target, alphas, standardize=True).coefs * scale
    nonzero = coefs != 0
    entered = np.where(nonzero.any(axis=0), nonzero.argmax(axis=0), n_alphas)
    size_there = np.abs(coefs[np.minimum(entered, n_alphas - 1), np.arange(p)])
    size_there[entered == n_alphas] = np.abs(mean_coef * scale)[entered == n_alphas]
    return np.lexsort((-size_there, entered))


def suggest_size(elpd_diff: ArrayLike, diff_se: ArrayLike, *, num_se: float = 1.0) -> int | None:
    """projpred's default suggested size: the smallest k with ``elpd_diff[k] + num_se · diff_se[k] ≥ 0``.

    projpred's ``suggest_size(stat = "elpd", pct = 0, type = "upper")``, with ``summary.vsel``'s
    default ``alpha = 2 pnorm(−1)`` (a one-standard-error normal interval) and the reference as the
    baseline: the smallest submodel whose elpd is at most ``num_se`` standard errors (of the
    difference) below the reference's.

    Parameters
    ----------
    elpd_diff : array_like, shape (n_sizes,)
        Submodel minus reference elpd, for sizes 0, 1, ...
    diff_se : array_like, shape (n_sizes,)
        Standard errors of those differences.
    num_se : float
        Width of the bound in standard errors.

    Returns
    -------
    int or None
        None when no size meets the rule (projpred's NA: the search stopped too early).

    Examples
    --------
    >>> from bayesreg.selection import suggest_size
    >>> suggest_size([-50.0, -9.0, -2.5, -0.4, 0.0], [8.0, 5.0, 2.0, 0.5, 0.0])
    3
    >>> suggest_size([-50.0, -9.0], [8.0, 5.0]) is None
    True
    """
    elpd_diff, diff_se = np.asarray(elpd_diff, dtype=float), np.asarray(diff_se, dtype=float)
    if elpd_diff.shape != diff_se.shape or elpd_diff.ndim != 1:
        raise ValueError("elpd_diff and diff_se must be 1-d arrays of the same length")
    meets = np.flatnonzero(elpd_diff + num_se * diff_se >= 0)
    return int(meets[0]) if meets.size else None


def projection_selection(
    idata: az.InferenceData,
    X: ArrayLike,
    y: ArrayLike,
    *,
    family: Literal["gaussian", "bernoulli"] | None = None,
    max_size: int | None = None,
    num_draws: int | None = PROJECTION_DRAWS,
    order: ArrayLike | None = None,
) -> ProjectionSelection:
    """Projection predictive variable selection: search path, projections, LOO elpd, suggested size.

    The search is `search_order` (the L1 path on the reference fit) unless ``order`` is given; for each
    size k = 0 ... ``max_size`` the first k features are the submodel, `project` gives its draws and
    the reference model's PSIS weights ``w_is`` (normalised, from `bayesreg.loo.psis` of the
    reference's ``−log p(y_i | θ_s)`` with ArviZ's relative efficiency) its LOO predictive density

    ``elpd_i(k) = log Σ_s w_is p(y_i | θ⊥_s(k))``, ``elpd(k) = Σ_i elpd_i(k)``, ``se = √(n var_i elpd_i)``,

    beside the reference's ``elpd_i = log Σ_s w_is p(y_i | θ_s)`` (ArviZ's ``loo`` of the same draws);
    ``elpd_diff(k) = Σ_i (elpd_i(k) − elpd_i)`` with ``diff_se = √(n var_i(elpd_i(k) − elpd_i))``,
    and `suggest_size` picks the size.

    Parameters
    ----------
    idata : arviz.InferenceData
        The reference posterior (see `project`).
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
        Targets, or two-class labels for Bernoulli (the second class, sorted, is 1).
    family : {"gaussian", "bernoulli"}, optional
        As in `project`.
    max_size : int, optional
        The largest submodel (default: every feature, at most n − 2).
    num_draws : int or None
        Draws projected (`PROJECTION_DRAWS`, evenly thinned within chains); None for all.
    order : array_like of int, optional
        A search order to use instead of `search_order`.

    Returns
    -------
    ProjectionSelection

    Warns
    -----
    UserWarning
        When some reference Pareto k̂ is above ``min(1 − 1/log10 S, 0.7)``, or no size meets the rule.

    Examples
    --------
    A posterior around weights (2, 0, −1.5, 0) with σ = 1: the two real effects enter first and
    make the suggested submodel:

    >>> import numpy as np
    >>> import arviz as az
    >>> from bayesreg.selection import projection_selection
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(100, 4))
    >>> y = X @ np.array([2.0, 0.0, -1.5, 0.0]) + rng.normal(size=100)
    >>> design = np.column_stack([np.ones(100), X])
    >>> mean = np.linalg.lstsq(design, y, rcond=None)[0]
    >>> cov = np.linalg.inv(design.T @ design)  # the flat-prior posterior with σ = 1 known
    >>> draws = rng.multivariate_normal(mean, cov, size=(2, 200))
    >>> idata = az.from_dict(posterior={"intercept": draws[..., 0], "coef": draws[..., 1:]})
    >>> idata.posterior.attrs["sigma"] = 1.0  # a fixed noise sd, where bayesreg keeps one
    >>> result = projection_selection(idata, X, y)
    >>> result.order[:2], result.suggested_size, result.selected
    (['x0', 'x2'], 2, ['x0', 'x2'])
    >>> bool(abs(result.table.loc[4, "elpd_diff"]) < 1e-10)  # all four features: the reference itself
    True
    """
    ref = _Reference(idata, X, family, num_draws, y=y)
    y = ref.y
    n, p = ref.X.shape
    order = _search(ref.X, ref.mean_eta, ref.mean_coef, SEARCH_ALPHAS, SEARCH_EPS) if order is None else order
    order = _features(order, p)
    largest = min(order.size, n - 2)
    max_size = largest if max_size is None else check_param("max_size", max_size, _size_constraint(largest))
    log_lik = _log_density(ref.family, y, ref.eta, ref.sigma).T  # (n, S)
    log_weights, pareto_k = psis(-log_lik, ref.reff())
    _warn_pareto(pareto_k, log_lik.shape[1])
    reference = logsumexp(log_weights + log_lik, axis=1)
    pointwise = np.empty((max_size + 1, n))
    start = None
    for k in range(max_size + 1):
        sub = _projection(ref, order[:k], start)
        start = np.column_stack([sub.intercept, sub.coef])
        log_sub = _log_density(ref.family, y, sub.linear_predictor, sub.sigma).T
        pointwise[k] = logsumexp(log_weights + log_sub, axis=1)
    diff = pointwise - reference
    table = pd.DataFrame(
        {
            "feature": [""] + [ref.names[j] for j in order[:max_size]],
            "elpd_loo": pointwise.sum(axis=1),
            "se": np.sqrt(n * pointwise.var(axis=1)),
            "elpd_diff": diff.sum(axis=1),
            "diff_se": np.sqrt(n * diff.var(axis=1)),
        },
        index=pd.RangeIndex(max_size + 1, name="size"),
    )
    table["upper"] = table["elpd_diff"] + table["diff_se"]
    size = suggest_size(table["elpd_diff"], table["diff_se"])
    if size is None:
        warnings.warn(
            f"no submodel up to size {max_size} comes within one standard error of the reference's elpd: "
            "raise max_size",
            UserWarning,
            stacklevel=2,
        )
    names = [ref.names[j] for j in order]
    return ProjectionSelection(
        order=names,
        table=table,
        suggested_size=size,
        selected=names[:size] if size is not None else [],
        reference_elpd=float(reference.sum()),
        reference_se=float(np.sqrt(n * reference.var())),
        pointwise=pointwise,
        reference_pointwise=reference,
        pareto_k=pareto_k,
        num_draws=int(log_lik.shape[1]),
    )


def _size_constraint(largest: int) -> Interval:
    return Interval(integer=True, low=0, high=largest, closed="both")


def _warn_pareto(pareto_k: np.ndarray, draws: int) -> None:
    good_k = min(1 - 1 / np.log10(draws), 0.7)
    bad = int(np.sum(pareto_k > good_k))
    if bad:
        warnings.warn(
            f"Pareto k̂ above {good_k:.2f} for {bad} of {pareto_k.size} observations: the reference's "
            "importance weights, and so every submodel's LOO elpd, are unreliable for them",
            UserWarning,
            stacklevel=3,
        )


def interval_selection(
    idata: az.InferenceData,
    *,
    prob: float = HDI_PROB,
    method: Literal["hdi", "eti"] = "hdi",
) -> pd.DataFrame:
    """The features whose posterior interval at ``prob`` excludes 0.

    Parameters
    ----------
    idata : arviz.InferenceData
        A posterior with ``coef`` (chain, draw, feature).
    prob : float in (0, 1)
        The interval's mass (default `bayesreg.defaults.HDI_PROB`).
    method : {"hdi", "eti"}
        Highest-density interval (``arviz.hdi``) or central (equal-tailed) interval.

    Returns
    -------
    pandas.DataFrame
        Index the features; ``lower``, ``upper`` and ``selected`` (``lower > 0`` or ``upper < 0``).

    Examples
    --------
    >>> import numpy as np
    >>> import arviz as az
    >>> from bayesreg.selection import interval_selection
    >>> rng = np.random.default_rng(0)
    >>> coef = rng.normal([3.0, 0.1, -2.0], 1.0, size=(2, 500, 3))
    >>> idata = az.from_dict(posterior={"coef": coef}, coords={"feature": ["a", "b", "c"]},
    ...                      dims={"coef": ["feature"]})
    >>> interval_selection(idata)["selected"].tolist()
    [True, False, True]
    """
    import arviz as az

    prob = check_param("hdi_prob", prob)
    method = check_param("method", method, _INTERVAL_METHODS)
    coef = idata.posterior["coef"]
    if coef.ndim == 2:
        coef = coef.expand_dims("feature", axis=-1)
    feature_dim = coef.dims[-1]
    if method == "hdi":
        bounds = az.hdi(coef, hdi_prob=prob)[coef.name if coef.name else "coef"].to_numpy()
    else:
        bounds = np.quantile(coef.to_numpy(), [(1 - prob) / 2, (1 + prob) / 2], axis=(0, 1)).T
    names = [str(c) for c in coef[feature_dim].values] if feature_dim in coef.coords else None
    index = pd.Index(names if names else [f"x{j}" for j in range(bounds.shape[0])], name="feature")
    table = pd.DataFrame({"lower": bounds[:, 0], "upper": bounds[:, 1]}, index=index)
    table["selected"] = (table["lower"] > 0) | (table["upper"] < 0)
    return table


_INTERVAL_METHODS = Options(("hdi", "eti"))
_FOLDS = Interval(integer=True, low=2, high=None, closed="left")


def dss_selection(
    idata: az.InferenceData,
    X: ArrayLike,
    *,
    family: Literal["gaussian", "bernoulli"] | None = None,
    prob: float = DSS_PROB,
    n_alphas: int = N_ALPHAS,
    eps: float = EPS,
) -> DSSSelection:
    """Decoupled shrinkage and selection (Hahn & Carvalho 2015): a sparse summary of the posterior mean.

    The summary is the adaptive lasso of the posterior-mean linear predictor ``η̄ = b̄ + X β̄``,

    ``γ_α = argmin_{c, γ} (1/2n)‖η̄ − c − X γ‖² + α Σ_j |γ_j| / |β̄_j|``,

    solved as the lasso on the columns ``x_j |β̄_j|`` (`bayesreg.path.map_path`, exact by homotopy)
    on ``n_alphas`` values from α_max down to ``eps · α_max``: each α gives a support. A support is
    judged by the excess error (Hahn & Carvalho's ψ) of its least-squares summary ``η_A``, the
    projection of ``η̄`` onto an intercept and the support's columns (so that the lasso's shrinkage of
    the weights it keeps does not count against the support), for each posterior draw:
    ``ψ_s = √(σ_s² + ‖η_s − η_A‖²/n) − σ_s`` (σ = 0 for Bernoulli: the root mean squared difference of
    the linear predictors). The chosen α is the one of the sparsest support whose central ``prob``
    posterior interval of ψ reaches down to the posterior mean ψ of the dense summary ``η̄`` itself
    (the rule Hahn & Carvalho read off their plots of ψ against model size: a sparse summary that
    predicts no worse than the posterior mean, within the posterior's uncertainty); the least
    penalised α of that size. The dense summary carries the posterior's uncertainty about every
    weight, so under a weak prior (posterior means of noise features far from 0) the bar is high
    and DSS keeps more features than projection does.

    Parameters
    ----------
    idata : arviz.InferenceData
        The posterior (see `project`).
    X : array_like, shape (n_samples, n_features)
    family : {"gaussian", "bernoulli"}, optional
        As in `project`.
    prob : float in (0, 1)
        Mass of ψ's interval (`DSS_PROB`).
    n_alphas, eps
        The adaptive lasso's grid (`bayesreg.defaults.N_ALPHAS`, `bayesreg.defaults.EPS`).

    Returns
    -------
    DSSSelection

    Examples
    --------
    A posterior around weights (2, 0.02, −1.5) with σ = 1: the summary drops the negligible one:

    >>> import numpy as np
    >>> import arviz as az
    >>> from bayesreg.selection import dss_selection
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> coef = np.array([2.0, 0.02, -1.5]) + 0.1 * rng.normal(size=(2, 200, 3))
    >>> idata = az.from_dict(posterior={"coef": coef, "intercept": 0.1 * rng.normal(size=(2, 200)),
    ...                                 "sigma": np.ones((2, 200))})
    >>> result = dss_selection(idata, X)
    >>> result.selected, bool(result.coef[1] == 0)
    (['x0', 'x2'], True)
    """
    prob = check_param("hdi_prob", prob)
    ref = _Reference(idata, X, family, num_draws=None)
    p = ref.X.shape[1]
    weight = np.abs(ref.mean_coef)
    target = ref.mean_eta
    sigma = np.zeros(ref.coef.shape[0]) if ref.sigma is None else ref.sigma

    def psi(fitted: np.ndarray) -> np.ndarray:  # (n,) -> (S,)
        return np.sqrt(sigma**2 + np.mean((ref.eta - fitted) ** 2, axis=1)) - sigma

    psi_full = psi(target)
    scaled = ref.X * weight
    usable = weight > 0
    alphas = alpha_grid(scaled[:, usable], target, n_alphas=n_alphas, eps=eps)
    path = map_path(scaled[:, usable], target, alphas)
    coefs = np.zeros((alphas.size, p))
    coefs[:, usable] = path.coefs * weight[usable]
    rows = []
    refits: dict[tuple, np.ndarray] = {}
    for a, coef in zip(alphas, coefs, strict=True):
        support = tuple(np.flatnonzero(coef))
        if support not in refits:  # the least-squares summary of η̄ on the support
            design = _design(ref.X, np.array(support, dtype=int))
            refits[support] = design @ np.linalg.lstsq(design, target, rcond=None)[0]
        values = psi(refits[support])
        lower, upper = np.quantile(values, [(1 - prob) / 2, (1 + prob) / 2])
        rows.append((a, int(np.count_nonzero(coef)), values.mean(), lower, upper))
    columns = ["alpha", "size", "psi_mean", "psi_lower", "psi_upper"]
    table = pd.DataFrame(rows, columns=columns).set_index("alpha")
    good = np.flatnonzero(table["psi_lower"].to_numpy() <= psi_full.mean())
    # the sparsest good support; of the α giving it, the least penalised (the first met going down)
    best = good[np.argmin(table["size"].to_numpy()[good])] if good.size else alphas.size - 1
    coef = coefs[best]
    return DSSSelection(
        selected=[ref.names[j] for j in np.flatnonzero(coef)],
        coef=coef,
        intercept=float(path.intercepts[best]),
        alpha=float(alphas[best]),
        table=table,
        psi_full=float(psi_full.mean()),
    )


def selection_table(
    idata: az.InferenceData,
    X: ArrayLike,
    y: ArrayLike,
    *,
    family: Literal["gaussian", "bernoulli"] | None = None,
    projection: ProjectionSelection | None = None,
    prob: float = HDI_PROB,
    cv: int = 5,
) -> pd.DataFrame:
    """The supports that projection, interval exclusion, DSS and cross-validated L1 pick, side by side.

    Parameters
    ----------
    idata : arviz.InferenceData
        The reference posterior (see `project`).
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    family : {"gaussian", "bernoulli"}, optional
        As in `project`.
    projection : ProjectionSelection, optional
        A `projection_selection` of the same posterior and data (computed when not given).
    prob : float in (0, 1)
        The level of `interval_selection` (HDI).
    cv : int
        Folds of the cross-validated lasso: ``make_pipeline(StandardScaler(), LassoCV(cv=cv))``, for
        Bernoulli ``LogisticRegressionCV(Cs=10, cv=cv, l1_ratios=(1,), solver="saga")`` with log-loss
        scoring, on standardised columns (scikit-learn's defaults otherwise).

    Returns
    -------
    pandas.DataFrame
        Index the features; ``posterior_mean`` (of ``coef``), ``search_rank`` (1 = first to enter the
        projection's search path) and the boolean columns ``projection`` (in the first
        ``suggested_size``), ``interval``, ``dss`` and ``lasso_cv`` (a non-zero weight).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import arviz as az
    >>> from bayesreg.selection import selection_table
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(100, 4))
    >>> y = X @ np.array([2.0, 0.0, -1.5, 0.0]) + rng.normal(size=100)
    >>> design = np.column_stack([np.ones(100), X])
    >>> mean = np.linalg.lstsq(design, y, rcond=None)[0]
    >>> draws = rng.multivariate_normal(mean, np.linalg.inv(design.T @ design), size=(2, 200))
    >>> idata = az.from_dict(posterior={"intercept": draws[..., 0], "coef": draws[..., 1:]})
    >>> idata.posterior.attrs["sigma"] = 1.0  # a fixed noise sd, where bayesreg keeps one
    >>> table = selection_table(idata, X, y)
    >>> table[["projection", "interval", "dss", "lasso_cv"]].sum().tolist()  # features each picks
    [2, 2, 2, 2]
    >>> table.columns.tolist()
    ['posterior_mean', 'search_rank', 'projection', 'interval', 'dss', 'lasso_cv']
    """
    from sklearn.linear_model import LassoCV, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ref = _Reference(idata, X, family, num_draws=1, y=y)
    cv = check_param("cv", cv, _FOLDS)
    if projection is None:
        projection = projection_selection(idata, X, y, family=ref.family)
    if ref.family == "gaussian":
        lasso = LassoCV(cv=cv)
    else:
        lasso = LogisticRegressionCV(
            Cs=10, cv=cv, l1_ratios=(1.0,), solver="saga", scoring="neg_log_loss", max_iter=10_000
        )
    lasso_coef = np.ravel(make_pipeline(StandardScaler(), lasso).fit(ref.X, ref.y)[-1].coef_)
    chosen = set(projection.selected)
    rank = {name: i + 1 for i, name in enumerate(projection.order)}
    table = pd.DataFrame(
        {
            "posterior_mean": ref.mean_coef,
            "search_rank": [rank[name] for name in ref.names],
            "projection": [name in chosen for name in ref.names],
            "interval": interval_selection(idata, prob=prob)["selected"].to_numpy(),
            "dss": dss_selection(idata, X, family=ref.family).coef != 0,
            "lasso_cv": lasso_coef != 0,
        },
        index=pd.Index(ref.names, name="feature"),
    )
    return table
