"""The computation behind ``bayesreg demo``: every number its report and its printout show.

`run_demo` works on scikit-learn's diabetes data. It fits the MAP under a Laplace and a Gaussian
prior next to scikit-learn's ``Lasso`` and ``Ridge`` with the same penalty; solves the seeds'
2-feature problem of the L1/L2 geometry figures; samples the Laplace posterior with NUTS and sets it
against its MAP, with a posterior predictive check and the coverage of held-out rows; computes
the MAP path and the posterior path of the same model; sets the fixed α beside the α that
cross-validation and empirical Bayes learn from the data and beside the posterior of α under a
hyperprior (full Bayes, `bayesreg.hierarchical`); compares priors (`COMPARED_PRIORS`) by their
expected log predictive density (`bayesreg.prior_comparison.compare_priors`), with the penalty
each sparsity prior implies; and turns the Laplace posterior into a sparse answer
(`bayesreg.selection.selection_table`: projection predictive selection, interval exclusion, DSS and
LassoCV's support). It returns a `DemoResult`, which `bayesreg.report.demo_report` renders and
``bayesreg demo`` writes.

The demo has no ``standardize`` choice: the diabetes columns scikit-learn ships are already
standardised in a sense (centred, every column's sum of squares 1, so every sd is ``1/√442``), so
``standardize=True`` would only multiply every column by the same factor, which is a change of
``α`` (for the Laplace prior, ``standardize=True`` with ``α`` is the raw columns' fit with
``α/√442``) and nothing else. For columns in different units, see ``standardize`` in
`bayesreg.BayesianLinearRegression` (and ``load_diabetes(scaled=False)`` for the unscaled data).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from bayesreg.defaults import DEMO_NUTS, NUTSSettings

__all__ = [
    "COMPARED_PRIORS",
    "COVERAGE_PROB",
    "DEMO_SEED",
    "LASSO_OPTIONS",
    "MAP_ATOL",
    "MAP_RTOL",
    "PATH_SETTINGS",
    "RIDGE_OPTIONS",
    "SPLIT_OPTIONS",
    "DemoResult",
    "ComparisonDemo",
    "GeometryDemo",
    "LearnedAlphaDemo",
    "PathDemo",
    "PosteriorDemo",
    "SelectionDemo",
    "SkewnessCheck",
    "compared_priors",
    "geometry_example",
    "run_demo",
    "sparsity_priors",
]

DEMO_SEED = 0
"""Seed of the demo's NUTS runs and predictive draws: the report is reproducible."""

LASSO_OPTIONS = {"tol": 1e-12, "max_iter": 100_000}
RIDGE_OPTIONS = {"solver": "cholesky"}
"""scikit-learn's settings: tight enough that a difference measures bayesreg's error, not theirs."""

MAP_RTOL, MAP_ATOL = 1e-6, 1e-9
"""The agreement claimed with scikit-learn: each coefficient (and the intercept) within
``MAP_RTOL`` of its own size plus ``MAP_ATOL`` (for values near 0)."""

COVERAGE_PROB = 0.9
"""Probability of the central posterior predictive intervals checked on the held-out rows."""

SPLIT_OPTIONS = {"test_size": 0.2, "random_state": 0}
"""How the rows are split for the held-out check (``train_test_split``): a fixed fifth held out."""

PATH_SETTINGS = {"n_alphas": 12, "num_warmup": 200, "num_samples": 200, "num_chains": 4}
"""The demo's posterior path: a coarse grid and short chains (every α is a NUTS run, all in one
call), shorter than `bayesreg.defaults.PATH_NUTS` so that the demo takes minutes, not tens."""

COMPARED_PRIORS = (
    ("laplace", "fixed"),
    ("gaussian", "fixed"),
    ("laplace", "cv"),
    ("horseshoe", None),
    ("regularized_horseshoe", None),
    ("r2d2", None),
)
"""The priors the demo compares by predictive performance, as ``(prior, alpha)`` pairs: ``"fixed"``
is the demo's own α of that prior (``lasso_alpha`` for the Laplace prior, ``ridge_alpha`` for the
Gaussian one), ``"cv"`` or ``"eb"`` the α learned from the data, None a prior without a penalty
strength (the sparsity priors, with their default options, on standardised columns: their default
scales are meant for columns of unit sd, and the diabetes columns have sd 1/√442). Adding a pair
adds a row to the comparison and its plot; nothing else needs to change."""


class GeometryDemo(NamedTuple):
    """The 2-feature problem of the L1/L2 geometry figures, solved (book convention, σ = 1).

    The data are centred and the model has no intercept, as in `bayesreg.plots.plot_penalty_geometry`.

    Attributes
    ----------
    X, y : ndarray, shapes (n_samples, 2), (n_samples,)
        The data of `geometry_example` (not centred).
    alpha : float
        Penalty strength.
    w_star : ndarray, shape (2,)
        Least squares on the centred data.
    map_l2, map_l1 : ndarray, shape (2,)
        The MAP under the Gaussian prior (sd ``1/√α``) and the Laplace prior (scale ``1/α``).
    closed_form_l2 : ndarray, shape (2,)
        The seeds' closed form of the L2 optimum, ``(H + αI)⁻¹ H w*`` with ``H = XcᵀXc``.

    Examples
    --------
    >>> from bayesreg.demo import GeometryDemo
    >>> GeometryDemo._fields
    ('X', 'y', 'alpha', 'w_star', 'map_l2', 'map_l1', 'closed_form_l2')
    """

    X: np.ndarray
    y: np.ndarray
    alpha: float
    w_star: np.ndarray
    map_l2: np.ndarray
    map_l1: np.ndarray
    closed_form_l2: np.ndarray


class SkewnessCheck(NamedTuple):
    """A posterior predictive check of the skewness of the targets.

    Attributes
    ----------
    observed : float
        Sample skewness of the observed targets.
    replicated_mean, replicated_sd : float
        Mean and sd of the skewness over the replicated data sets.
    n_replicated : int
        Replicated data sets: one per posterior draw.
    p_value : float
        Share of replicated data sets at least as skewed as the observed one.

    Examples
    --------
    >>> from bayesreg.demo import SkewnessCheck
    >>> SkewnessCheck(observed=0.44, replicated_mean=0.0, replicated_sd=0.12, n_replicated=400, p_value=0.0)
    SkewnessCheck(observed=0.44, replicated_mean=0.0, replicated_sd=0.12, n_replicated=400, p_value=0.0)
    """

    observed: float
    replicated_mean: float
    replicated_sd: float
    n_replicated: int
    p_value: float


class PosteriorDemo(NamedTuple):
    """The Laplace posterior of ``bayesreg demo`` (NUTS), set against its MAP.

    Attributes
    ----------
    idata : arviz.InferenceData
        The posterior on all rows (written to ``posterior.nc``).
    table : DataFrame, shape (n_features, 10)
        `bayesreg.compare.compare_map_posterior` of ``idata`` and the MAP (`~bayesreg.defaults.HDI_PROB`
        HDI).
    sparsity : dict
        `bayesreg.compare.sparsity_summary` of ``table``.
    diagnostics : DiagnosticsReport
        Of the fit on all rows.
    prior : bayesreg.priors.Prior
        The Laplace prior (noise-scaled: scikit-learn's Lasso convention).
    alpha : float
        The Lasso penalty strength of the prior.
    settings : dict
        ``num_warmup``, ``num_samples``, ``num_chains``, ``seed``.
    mixture : bool
        Whether the Laplace prior was sampled as a normal–exponential scale mixture (after
        divergences of the direct parametrisation).
    prior_sigma : float
        The posterior median of σ, at which the noise-scaled prior is drawn.
    prior_scale, prior_sd : float
        The Laplace prior's scale ``b`` and sd ``√2·b`` at ``prior_sigma``.
    narrower_than_prior : int
        Weights whose posterior sd is below ``prior_sd``.
    X, y : ndarray, shapes (n_samples, n_features), (n_samples,)
        All rows.
    X_test, y_test : ndarray, shapes (n_test, n_features), (n_test,)
        The held-out rows.
    idata_train : arviz.InferenceData
        The posterior of the same model fitted to the other rows.
    diagnostics_train : DiagnosticsReport
    coverage : float
        Share of held-out targets inside their central ``coverage_prob`` posterior predictive
        interval (`bayesreg.compare.predictive_coverage`, seed ``settings["seed"]``).
    coverage_prob : float
        The nominal level.
    coverage_se : float
        Binomial standard error of ``coverage`` for a calibrated model, ``√(p(1 − p)/n_test)``.
    skewness : SkewnessCheck
        Of the replicated data sets at all rows (`bayesreg.predictive.predictive_draws`, seed
        ``settings["seed"]``: the data sets `bayesreg.plots.plot_ppc` draws with that seed).

    Examples
    --------
    >>> from bayesreg.demo import PosteriorDemo
    >>> PosteriorDemo._fields[:3]
    ('idata', 'table', 'sparsity')
    """

    idata: object
    table: pd.DataFrame
    sparsity: dict
    diagnostics: object
    prior: object
    alpha: float
    settings: dict
    mixture: bool
    prior_sigma: float
    prior_scale: float
    prior_sd: float
    narrower_than_prior: int
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    idata_train: object
    diagnostics_train: object
    coverage: float
    coverage_prob: float
    coverage_se: float
    skewness: SkewnessCheck


class PathDemo(NamedTuple):
    """The regularisation paths of ``bayesreg demo`` (Laplace prior, scikit-learn's Lasso convention).

    Attributes
    ----------
    map_path : bayesreg.MAPPath
        The MAP (= lasso) path on scikit-learn's default grid.
    posterior : bayesreg.PosteriorPath
        The NUTS posterior (σ sampled) on a coarse grid (`PATH_SETTINGS`), with its own MAP path.
    names : list of str
        Feature names.
    settings : dict
        ``n_alphas``, ``num_warmup``, ``num_samples``, ``num_chains``, ``seed`` of the posterior path.

    Examples
    --------
    >>> from bayesreg.demo import PathDemo
    >>> PathDemo._fields
    ('map_path', 'posterior', 'names', 'settings')
    """

    map_path: object
    posterior: object
    names: list
    settings: dict


class LearnedAlphaDemo(NamedTuple):
    """The demo's fixed α beside the α learned from the data (scikit-learn's convention).

    Attributes
    ----------
    table : DataFrame, shape (3, 6) or (4, 10)
        Index ``fixed``, ``cv``, ``eb``, and ``hierarchical`` when the hierarchical priors were
        fitted (with the interval columns). Columns ``laplace`` and ``gaussian``: the
        α of ``BayesianLinearRegression(prior=..., alpha=...)`` (the demo's number, ``alpha="cv"``,
        ``alpha="eb"``) and, for ``hierarchical``, the posterior median of α (``posteriors``);
        ``laplace_low``, ``laplace_high``, ``gaussian_low``, ``gaussian_high``: the central
        `~bayesreg.hierarchical.ALPHA_INTERVAL` interval of that posterior (NaN for the point
        choices); ``laplace_reference`` and ``gaussian_reference``: scikit-learn's own choice where
        it has one (the fixed number itself, ``LassoCV().alpha_``, ``RidgeCV(cv=KFold(5)).alpha_``,
        and ``BayesianRidge``'s ``lambda_ / alpha_`` for the Gaussian evidence; NaN for the Laplace
        evidence and for full Bayes, which scikit-learn does not compute); ``laplace_mcse``: the
        Monte Carlo standard error of the Laplace evidence's α and of the posterior median of α
        (ArviZ's ``mcse(method="median")``; 0 elsewhere); ``laplace_nonzero``: non-zero weights of
        the Laplace MAP at that α (for ``hierarchical``, at the posterior median).
    n_features : int
        Weights of the model.
    seed : int
        Seed of the Laplace evidence's Monte Carlo EM and of the hierarchical fits' chains.
    posteriors : dict or None
        ``{"laplace": AlphaPosterior, "gaussian": AlphaPosterior}``: `~bayesreg.hierarchical.alpha_posterior`
        of the hierarchical fits, in scikit-learn's convention (None, as the next three, when the
        hierarchical priors were not fitted).
    fits : dict or None
        ``{"laplace": PosteriorFit, "gaussian": PosteriorFit}``: `~bayesreg.sampling.fit_posterior`
        under `~bayesreg.hierarchical.HierarchicalLaplace` and
        `~bayesreg.hierarchical.HierarchicalGaussian` with the estimators' σ prior
        (`~bayesreg.priors.noise_prior`) and a flat intercept.
    priors : dict or None
        The two hierarchical priors, with their default hyperpriors.
    settings : dict or None
        ``num_warmup``, ``num_samples``, ``num_chains``, ``seed`` of the hierarchical fits.

    Examples
    --------
    >>> from bayesreg.demo import LearnedAlphaDemo
    >>> LearnedAlphaDemo._fields
    ('table', 'n_features', 'seed', 'posteriors', 'fits', 'priors', 'settings')
    """

    table: pd.DataFrame
    n_features: int
    seed: int
    posteriors: dict | None = None
    fits: dict | None = None
    priors: dict | None = None
    settings: dict | None = None


class SelectionDemo(NamedTuple):
    """A sparse answer from the demo's Laplace posterior (`bayesreg.selection`).

    Attributes
    ----------
    projection : bayesreg.selection.ProjectionSelection
        `~bayesreg.selection.projection_selection` of the posterior on all rows: the search order,
        the elpd of each submodel size against the reference's, and the suggested size.
    table : DataFrame, shape (n_features, 6)
        `~bayesreg.selection.selection_table` of the same posterior, given ``projection``: the
        features that projection, HDI exclusion, DSS and ``LassoCV`` (standardised columns) pick.
    hdi_prob : float
        The level of the HDIs of the interval rule (`~bayesreg.defaults.HDI_PROB`).

    Examples
    --------
    >>> from bayesreg.demo import SelectionDemo
    >>> SelectionDemo._fields
    ('projection', 'table', 'hdi_prob')
    """

    projection: object
    table: pd.DataFrame
    hdi_prob: float


class ComparisonDemo(NamedTuple):
    """The priors of `COMPARED_PRIORS` compared by predictive performance on the diabetes data.

    Attributes
    ----------
    comparison : bayesreg.prior_comparison.PriorComparison
        `~bayesreg.prior_comparison.compare_priors`'s result (its ``table`` is ArviZ's ``compare``
        table with the K-fold and diagnostics columns).
    settings : dict
        ``num_warmup``, ``num_samples``, ``num_chains``, ``seed`` of every fit.
    sparsity_priors : dict, optional
        `sparsity_priors` of the data's rows, for `bayesreg.plots.plot_prior_penalties` (the report
        draws their penalties when given).
    n_features : int, optional
        p, which the regularised horseshoe's and R2D2's penalties depend on.

    Examples
    --------
    >>> from bayesreg.demo import ComparisonDemo
    >>> ComparisonDemo._fields
    ('comparison', 'settings', 'sparsity_priors', 'n_features')
    """

    comparison: object
    settings: dict
    sparsity_priors: dict | None = None
    n_features: int | None = None


class DemoResult(NamedTuple):
    """What ``bayesreg demo`` computed.

    Attributes
    ----------
    coefficients : DataFrame, shape (n_features + 1, 4)
        Index: feature names then ``"intercept"``; columns ``bayesreg_l1``, ``sklearn_lasso``,
        ``bayesreg_l2``, ``sklearn_ridge`` (the MAP under the Laplace and the Gaussian prior, and
        scikit-learn's fits with `LASSO_OPTIONS` and `RIDGE_OPTIONS`).
    lasso_alpha, ridge_alpha : float
        scikit-learn penalty strengths used.
    sigma_l1, sigma_l2 : float
        Noise sd σ (its MAP) of the two bayesreg fits.
    laplace_scale : float
        Scale ``b = σ²/(nα)`` of the Laplace prior at ``sigma_l1``.
    gaussian_sd : float
        Sd ``σ/√α`` of the Gaussian prior at ``sigma_l2``.
    n_samples : int
    max_delta_l1, max_delta_l2 : float
        max |Δcoef| between bayesreg and scikit-learn, weights and intercept.
    within_l1, within_l2 : bool
        Whether every coefficient and the intercept lies within ``MAP_RTOL·|scikit-learn's| + MAP_ATOL``
        of scikit-learn's.
    same_zeros_l1, same_zeros_l2 : bool
        Whether both give exactly the same set of exact zeros.
    converged : bool
        Whether both MAP fits met their convergence criterion.
    geometry : GeometryDemo
        The 2-feature problem of the geometry figures.
    posterior : PosteriorDemo or None
        The NUTS posterior under the Laplace prior (None when not sampled).
    path : PathDemo or None
        The MAP path and the posterior path of the Laplace model (None when not computed).
    learned : LearnedAlphaDemo or None
        The fixed α beside the α that cross-validation and empirical Bayes pick and the posterior of
        α under a hyperprior (None when not computed).
    comparison : ComparisonDemo or None
        The priors of `COMPARED_PRIORS` compared by PSIS-LOO / K-fold (None when not computed).
    selection : SelectionDemo or None
        The sparse answers from the Laplace posterior (None when not computed).

    Examples
    --------
    The MAP part alone (no NUTS):

    >>> from bayesreg.demo import run_demo
    >>> result = run_demo(posterior=False, path=False)
    >>> result.within_l1, result.same_zeros_l1, result.within_l2, result.posterior
    (True, True, True, None)
    """

    coefficients: pd.DataFrame
    lasso_alpha: float
    ridge_alpha: float
    sigma_l1: float
    sigma_l2: float
    laplace_scale: float
    gaussian_sd: float
    n_samples: int
    max_delta_l1: float
    max_delta_l2: float
    within_l1: bool
    within_l2: bool
    same_zeros_l1: bool
    same_zeros_l2: bool
    converged: bool
    geometry: GeometryDemo
    posterior: PosteriorDemo | None = None
    path: PathDemo | None = None
    learned: LearnedAlphaDemo | None = None
    comparison: ComparisonDemo | None = None
    selection: SelectionDemo | None = None


def run_demo(
    *,
    lasso_alpha: float = 0.1,
    ridge_alpha: float = 0.1,
    posterior: bool = True,
    path: bool = True,
    learned: bool | None = None,
    hierarchical: bool | None = None,
    comparison: bool | None = None,
    selection: bool | None = None,
    nuts: NUTSSettings = DEMO_NUTS,
    seed: int = DEMO_SEED,
) -> DemoResult:
    """Everything ``bayesreg demo`` shows, computed on scikit-learn's diabetes data.

    The L1 and L2 MAP (``BayesianLinearRegression(prior="laplace" | "gaussian")``) against
    scikit-learn's Lasso and Ridge run to tight tolerances (`LASSO_OPTIONS`, `RIDGE_OPTIONS`), so
    the differences measure bayesreg's error, not scikit-learn's; and the geometry problem
    (`geometry_example`). With ``posterior`` the Laplace model is also sampled with NUTS (its MAP
    is the L1 column): once on all rows, once on most of them (`SPLIT_OPTIONS`) to measure the
    posterior predictive coverage of the others. Diagnostics warnings of the fits
    (`bayesreg.diagnostics.PosteriorWarning`) are raised as usual.

    Parameters
    ----------
    lasso_alpha, ridge_alpha : float
        scikit-learn penalty strengths.
    posterior : bool
        Sample the Laplace posterior.
    path : bool
        Compute the Laplace model's MAP path (scikit-learn's default grid) and posterior path
        (`PATH_SETTINGS`, seed ``seed``).
    learned : bool, optional
        Set the fixed α beside the α of ``alpha="cv"`` and ``alpha="eb"`` and the posterior of α
        under the hierarchical priors, for the Laplace and the Gaussian prior (`LearnedAlphaDemo`;
        the Laplace evidence runs Monte Carlo EM, about 20 s, and each hierarchical prior is one
        NUTS fit with the settings ``nuts``, when ``hierarchical``). Default: as ``posterior``.
    hierarchical : bool, optional
        With ``learned``, also fit the hierarchical priors (full Bayes: the posterior of α).
        Default: as ``posterior``.
    comparison : bool, optional
        Compare the priors of `COMPARED_PRIORS` by predictive performance (`ComparisonDemo`: one
        NUTS fit of each with the settings ``nuts``, ten more for a prior whose Pareto k̂ is high).
        Default: as ``posterior``.
    selection : bool
        Turn the Laplace posterior into sparse answers (`SelectionDemo`; needs ``posterior``; no
        sampling). Default: as ``posterior``.
    nuts : NUTSSettings
        NUTS settings of the Laplace posterior (the posterior path has its own, `PATH_SETTINGS`).
    seed : int
        Seed of the NUTS runs and of the predictive draws.

    Returns
    -------
    DemoResult

    Examples
    --------
    >>> from bayesreg.demo import run_demo
    >>> result = run_demo(posterior=False, path=False)
    >>> result.coefficients.loc[["age", "bmi"], ["bayesreg_l1", "sklearn_lasso"]].round(3)
             bayesreg_l1  sklearn_lasso
    feature
    age            0.000          0.000
    bmi          517.216        517.216
    """
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Lasso, Ridge

    from bayesreg.estimators import BayesianLinearRegression
    from bayesreg.priors import prior_from_penalty

    if selection and not posterior:
        raise ValueError(
            "selection=True needs posterior=True: the sparse answers come from the Laplace posterior"
        )
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    n = X.shape[0]
    sampling = {"method": "nuts", **nuts._asdict(), "random_state": seed} if posterior else {}
    l1 = BayesianLinearRegression(prior="laplace", alpha=lasso_alpha, **sampling).fit(X, y)
    l2 = BayesianLinearRegression(prior="gaussian", alpha=ridge_alpha).fit(X, y)
    lasso = Lasso(alpha=lasso_alpha, **LASSO_OPTIONS).fit(X, y)
    ridge = Ridge(alpha=ridge_alpha, **RIDGE_OPTIONS).fit(X, y)

    # the MAP (coef_ holds the posterior mean after a NUTS fit); + 0.0 turns -0.0 (which
    # scikit-learn's coordinate descent leaves) into 0.0
    def bayesreg_column(est):
        return np.append(np.asarray(est.map_.params["coef"], dtype=float), est.map_.params["intercept"]) + 0.0

    def sklearn_column(est):
        return np.append(np.asarray(est.coef_, dtype=float), est.intercept_) + 0.0

    table = pd.DataFrame(
        {
            "bayesreg_l1": bayesreg_column(l1),
            "sklearn_lasso": sklearn_column(lasso),
            "bayesreg_l2": bayesreg_column(l2),
            "sklearn_ridge": sklearn_column(ridge),
        },
        index=pd.Index([*map(str, X.columns), "intercept"], name="feature"),
    )
    weights = slice(0, X.shape[1])

    def within(ours, theirs):
        return bool(
            np.all(np.abs(table[ours] - table[theirs]) <= MAP_RTOL * np.abs(table[theirs]) + MAP_ATOL)
        )

    def same_zeros(ours, theirs):
        return bool(np.array_equal(table[ours][weights] == 0, table[theirs][weights] == 0))

    laplace_rate = prior_from_penalty("laplace", lasso_alpha, n_samples=n).rates(float(l1.sigma_))[0]
    gaussian_precision = prior_from_penalty("gaussian", ridge_alpha, n_samples=n).rates(float(l2.sigma_))[1]
    fitted_posterior = _posterior_demo(l1, X, y, {**nuts._asdict(), "seed": seed}) if posterior else None
    return DemoResult(
        coefficients=table,
        lasso_alpha=float(lasso_alpha),
        ridge_alpha=float(ridge_alpha),
        sigma_l1=float(l1.sigma_),
        sigma_l2=float(l2.sigma_),
        laplace_scale=float(1.0 / laplace_rate),
        gaussian_sd=float(1.0 / np.sqrt(gaussian_precision)),
        n_samples=int(n),
        max_delta_l1=float(np.abs(table.bayesreg_l1 - table.sklearn_lasso).max()),
        max_delta_l2=float(np.abs(table.bayesreg_l2 - table.sklearn_ridge).max()),
        within_l1=within("bayesreg_l1", "sklearn_lasso"),
        within_l2=within("bayesreg_l2", "sklearn_ridge"),
        same_zeros_l1=same_zeros("bayesreg_l1", "sklearn_lasso"),
        same_zeros_l2=same_zeros("bayesreg_l2", "sklearn_ridge"),
        converged=bool(l1.map_.converged and l2.map_.converged),
        geometry=_geometry_demo(),
        posterior=fitted_posterior,
        path=_path_demo(X, y, seed) if path else None,
        learned=(
            _learned_demo(
                X, y, lasso_alpha, ridge_alpha, nuts if _either(hierarchical, posterior) else None, seed
            )
            if _either(learned, posterior)
            else None
        ),
        comparison=(
            _comparison_demo(X, y, lasso_alpha, ridge_alpha, nuts, seed)
            if _either(comparison, posterior)
            else None
        ),
        selection=_selection_demo(fitted_posterior) if _either(selection, posterior) else None,
    )


def _either(choice: bool | None, default: bool) -> bool:
    return default if choice is None else bool(choice)


def geometry_example() -> tuple[np.ndarray, np.ndarray, float]:
    """The 2-feature problem of the geometry figures: ``X`` (40, 2), ``y`` (40,), and ``alpha``.

    Correlated features with least-squares solution ``w* ≈ (1.40, 0.52)``; with ``α = 20`` (book
    convention, σ = 1) the L1 optimum lands on the ``w₁`` axis (``w̃₂ = 0`` exactly) while the L2
    optimum only shrinks both weights.

    Examples
    --------
    >>> from bayesreg.demo import geometry_example
    >>> X, y, alpha = geometry_example()
    >>> X.shape, y.shape, alpha
    ((40, 2), (40,), 20.0)
    """
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 2)) @ np.array([[1.0, 0.0], [0.6, 0.5]])
    y = X @ np.array([1.5, 0.6]) + 0.8 * rng.normal(size=40)
    return X, y, 20.0


def _geometry_demo() -> GeometryDemo:
    """`geometry_example` solved: least squares, both MAPs and the seeds' L2 closed form."""
    from bayesreg.closed_forms import l2_quadratic_solution
    from bayesreg.estimators import BayesianLinearRegression

    X, y, alpha = geometry_example()
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w_star = np.linalg.lstsq(Xc, yc, rcond=None)[0]

    def map_of(kind):
        est = BayesianLinearRegression(
            prior=kind, alpha=alpha, convention="book", sigma=1.0, fit_intercept=False
        )
        return np.asarray(est.fit(Xc, yc).coef_, dtype=float)

    return GeometryDemo(
        X=X,
        y=y,
        alpha=alpha,
        w_star=w_star,
        map_l2=map_of("gaussian"),
        map_l1=map_of("laplace"),
        closed_form_l2=l2_quadratic_solution(Xc.T @ Xc, w_star, alpha),
    )


def _path_demo(X: pd.DataFrame, y: pd.Series, seed: int) -> PathDemo:
    from bayesreg.path import alpha_grid, map_path, posterior_path

    names = [str(c) for c in X.columns]
    X, y = X.to_numpy(float), y.to_numpy(float)
    fine = map_path(X, y, alpha_grid(X, y))
    nuts = {k: v for k, v in PATH_SETTINGS.items() if k != "n_alphas"}
    alphas = alpha_grid(X, y, n_alphas=PATH_SETTINGS["n_alphas"])
    sampled = posterior_path(X, y, alphas, seed=seed, **nuts)
    return PathDemo(map_path=fine, posterior=sampled, names=names, settings={**PATH_SETTINGS, "seed": seed})


def _skewness(values: np.ndarray) -> np.ndarray:
    """Sample skewness along the last axis."""
    centred = values - values.mean(axis=-1, keepdims=True)
    return (centred**3).mean(axis=-1) / (centred**2).mean(axis=-1) ** 1.5


def _posterior_demo(fitted, X: pd.DataFrame, y: pd.Series, settings: dict) -> PosteriorDemo:
    """The posterior part of the demo from the NUTS fit on all rows, plus the held-out fit."""
    from sklearn.base import clone
    from sklearn.model_selection import train_test_split

    from bayesreg.compare import compare_map_posterior, predictive_coverage, sparsity_summary
    from bayesreg.predictive import predictive_draws
    from bayesreg.priors import prior_from_penalty

    fit = fitted.posterior_fit_
    table = compare_map_posterior(fit.idata, fit.map.params["coef"])
    X_train, X_test, y_train, y_test = train_test_split(X, y, **SPLIT_OPTIONS)
    train = clone(fitted).fit(X_train, y_train)
    X_test, y_test = X_test.to_numpy(float), y_test.to_numpy(float)
    X, y = X.to_numpy(float), y.to_numpy(float)
    seed = settings["seed"]
    coverage = predictive_coverage(train.posterior_fit_.idata, X_test, y_test, prob=COVERAGE_PROB, seed=seed)

    prior = prior_from_penalty("laplace", fitted.alpha, convention=fitted.convention, n_samples=len(X))
    sigma = float(np.median(fit.idata.posterior["sigma"].to_numpy()))
    scale = float(1.0 / prior.rates(sigma)[0])
    prior_sd = float(np.sqrt(2.0) * scale)

    replicated = _skewness(predictive_draws(fit.idata, X, seed=seed))
    observed = float(_skewness(y))
    return PosteriorDemo(
        idata=fit.idata,
        table=table,
        sparsity=sparsity_summary(table),
        diagnostics=fit.diagnostics,
        prior=prior,
        alpha=float(fitted.alpha),
        settings=settings,
        mixture=fit.parametrisation == "mixture",
        prior_sigma=sigma,
        prior_scale=scale,
        prior_sd=prior_sd,
        narrower_than_prior=int((table["sd"] < prior_sd).sum()),
        X=X,
        y=y,
        X_test=X_test,
        y_test=y_test,
        idata_train=train.posterior_fit_.idata,
        diagnostics_train=train.posterior_fit_.diagnostics,
        coverage=coverage,
        coverage_prob=COVERAGE_PROB,
        coverage_se=float(np.sqrt(COVERAGE_PROB * (1 - COVERAGE_PROB) / len(y_test))),
        skewness=SkewnessCheck(
            observed=observed,
            replicated_mean=float(np.mean(replicated)),
            replicated_sd=float(np.std(replicated)),
            n_replicated=int(replicated.size),
            p_value=float(np.mean(replicated >= observed)),
        ),
    )


def compared_priors(lasso_alpha: float, ridge_alpha: float) -> dict:
    """The priors of `COMPARED_PRIORS` as `~bayesreg.prior_comparison.compare_priors` takes them, by
    their names in the table: an estimator for each prior with an α, the name for the others.

    Examples
    --------
    >>> from bayesreg.demo import compared_priors
    >>> list(compared_priors(0.1, 0.1))
    ['laplace (alpha=0.1)', 'gaussian (alpha=0.1)', 'laplace (alpha=cv)', 'horseshoe', \
'regularized_horseshoe', 'r2d2']
    """
    from bayesreg.estimators import BayesianLinearRegression

    fixed = {"laplace": lasso_alpha, "gaussian": ridge_alpha}
    priors = {}
    for prior, alpha in COMPARED_PRIORS:
        if alpha is None:
            priors[prior] = prior
            continue
        value = fixed.get(prior, lasso_alpha) if alpha == "fixed" else alpha
        priors[f"{prior} (alpha={value:g})" if alpha == "fixed" else f"{prior} (alpha={alpha})"] = (
            BayesianLinearRegression(prior=prior, alpha=value)
        )
    return priors


def _comparison_demo(X, y, lasso_alpha, ridge_alpha, nuts: NUTSSettings, seed: int) -> ComparisonDemo:
    from bayesreg.prior_comparison import compare_priors

    priors = compared_priors(lasso_alpha, ridge_alpha)
    result = compare_priors(X, y, priors, standardize=True, **nuts._asdict(), seed=seed)
    return ComparisonDemo(
        comparison=result,
        settings={**nuts._asdict(), "seed": seed},
        sparsity_priors=sparsity_priors(X.shape[0]),
        n_features=int(X.shape[1]),
    )


def sparsity_priors(n_samples: int) -> dict:
    """The sparsity priors of `COMPARED_PRIORS` (those without an α) by name, with their default
    options, as `~bayesreg.shrinkage.shrinkage_prior` builds them; the regularised horseshoe's
    global scale τ₀ needs the rows, ``n_samples``.

    Examples
    --------
    >>> from bayesreg.demo import sparsity_priors
    >>> priors = sparsity_priors(442)
    >>> list(priors), priors["regularized_horseshoe"].n_samples
    (['horseshoe', 'regularized_horseshoe', 'r2d2'], 442)
    """
    from bayesreg.shrinkage import shrinkage_prior

    rows = {"n_samples": int(n_samples)}
    return {
        prior: shrinkage_prior(prior, **(rows if prior == "regularized_horseshoe" else {}))
        for prior, alpha in COMPARED_PRIORS
        if alpha is None
    }


def _learned_demo(
    X, y, lasso_alpha: float, ridge_alpha: float, nuts: NUTSSettings, seed: int
) -> LearnedAlphaDemo:
    """α three ways for the Laplace and the Gaussian prior, with scikit-learn's choices beside them."""
    from sklearn.linear_model import BayesianRidge, LassoCV, RidgeCV
    from sklearn.model_selection import KFold

    from bayesreg.defaults import CV_FOLDS, RIDGE_ALPHAS
    from bayesreg.estimators import BayesianLinearRegression

    rows = {}
    bayesian_ridge = BayesianRidge().fit(X, y)
    references = {
        "fixed": (lasso_alpha, ridge_alpha),
        "cv": (
            LassoCV().fit(X, y).alpha_,
            RidgeCV(alphas=RIDGE_ALPHAS, cv=KFold(CV_FOLDS)).fit(X, y).alpha_,
        ),
        "eb": (np.nan, bayesian_ridge.lambda_ / bayesian_ridge.alpha_),
    }
    for how, (lasso_reference, ridge_reference) in references.items():
        alphas = {"laplace": lasso_alpha, "gaussian": ridge_alpha} if how == "fixed" else None
        fitted = {
            prior: BayesianLinearRegression(
                prior=prior, alpha=alphas[prior] if alphas else how, random_state=seed
            ).fit(X, y)
            for prior in ("laplace", "gaussian")
        }
        laplace = fitted["laplace"]
        rows[how] = {
            "laplace": laplace.alpha_,
            "laplace_reference": float(lasso_reference),
            "laplace_mcse": float(getattr(laplace, "alpha_mcse_", 0.0)),
            "laplace_nonzero": int(np.count_nonzero(laplace.coef_)),
            "gaussian": fitted["gaussian"].alpha_,
            "gaussian_reference": float(ridge_reference),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    if nuts is None:
        return LearnedAlphaDemo(table=table, n_features=int(X.shape[1]), seed=seed)
    import arviz as az

    priors, fits, posteriors = _hierarchical_fits(X, y, nuts, seed)
    laplace = posteriors["laplace"]
    at_median = BayesianLinearRegression(prior="laplace", alpha=laplace.median).fit(X, y)
    table.loc["hierarchical"] = {
        "laplace": laplace.median,
        "laplace_reference": np.nan,
        "laplace_mcse": float(az.mcse(laplace.draws, method="median")),
        "laplace_nonzero": int(np.count_nonzero(at_median.coef_)),
        "gaussian": posteriors["gaussian"].median,
        "gaussian_reference": np.nan,
    }
    for kind, post in posteriors.items():
        table[f"{kind}_low"] = table[f"{kind}_high"] = np.nan
        table.loc["hierarchical", [f"{kind}_low", f"{kind}_high"]] = post.interval
    return LearnedAlphaDemo(
        table=table,
        n_features=int(X.shape[1]),
        seed=seed,
        posteriors=posteriors,
        fits=fits,
        priors=priors,
        settings={**nuts._asdict(), "seed": seed},
    )


def _hierarchical_fits(X, y, nuts: NUTSSettings, seed: int) -> tuple[dict, dict, dict]:
    """The hierarchical Laplace and Gaussian posteriors (the estimators' σ prior, flat intercept) and
    the posterior of α of each in scikit-learn's convention: priors, fits and `AlphaPosterior`s."""
    from bayesreg.hierarchical import HierarchicalGaussian, HierarchicalLaplace, alpha_posterior
    from bayesreg.models import linear_regression
    from bayesreg.priors import noise_prior
    from bayesreg.sampling import fit_posterior

    names = [str(c) for c in X.columns]
    X, y = X.to_numpy(float), y.to_numpy(float)
    priors = {"laplace": HierarchicalLaplace(), "gaussian": HierarchicalGaussian()}
    fits = {
        kind: fit_posterior(
            linear_regression,
            X,
            y,
            prior=prior,
            sigma=noise_prior(y),
            feature_names=names,
            seed=seed,
            progress_bar=False,
            **nuts._asdict(),
        )
        for kind, prior in priors.items()
    }
    posteriors = {
        kind: alpha_posterior(fits[kind].idata, prior, convention="sklearn", n_samples=len(y))
        for kind, prior in priors.items()
    }
    return priors, fits, posteriors


def _selection_demo(posterior: PosteriorDemo) -> SelectionDemo:
    """Projection predictive selection and the table of sparse answers, from the Laplace posterior."""
    from bayesreg.defaults import HDI_PROB
    from bayesreg.selection import projection_selection, selection_table

    projection = projection_selection(posterior.idata, posterior.X, posterior.y)
    table = selection_table(posterior.idata, posterior.X, posterior.y, projection=projection, prob=HDI_PROB)
    return SelectionDemo(projection=projection, table=table, hdi_prob=HDI_PROB)
