"""The defaults that several entry points share, each in one place.

The estimators, the library functions, the command line and the report all take these values from
here, so a default changes in one line and nowhere else.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ALPHA_INTERVAL",
    "CV_FOLDS",
    "DASK_SIZE",
    "DSS_PROB",
    "DEMO_NUTS",
    "EM_NUTS",
    "EPS",
    "EVIDENCE",
    "HDI_PROB",
    "KFOLD_SPLITS",
    "HIERARCHICAL_TARGET_ACCEPT",
    "LASSO_LAMBDA_SQ_RATE",
    "LASSO_LAMBDA_SQ_SHAPE",
    "L1_RATIO",
    "MASS_MATRIX",
    "MAX_TREE_DEPTH",
    "NUTS",
    "N_ALPHAS",
    "PENALTY_NUM_WARMUP",
    "NUM_EM",
    "N_CS",
    "RIDGE_ALPHAS",
    "RIDGE_GLOBAL_SCALE",
    "PATH_NUTS",
    "PROJECTION_DRAWS",
    "SCALE_RATIO",
    "SEARCH_ALPHAS",
    "SEARCH_EPS",
    "SHRINKAGE",
    "SLICE_BYTES",
    "SHRINKAGE_TARGET_ACCEPT",
    "STUDENT_T_DF_PRIOR",
    "TARGET_ACCEPT",
    "THRESHOLDS",
    "NUTSSettings",
    "EvidenceSettings",
    "ShrinkageSettings",
    "Thresholds",
]


class NUTSSettings(NamedTuple):
    """How long NUTS runs: ``num_warmup`` adaptation steps and ``num_samples`` kept draws per chain.

    Examples
    --------
    >>> from bayesreg.defaults import NUTS, PATH_NUTS
    >>> NUTS
    NUTSSettings(num_warmup=1000, num_samples=1000, num_chains=4)
    >>> PATH_NUTS.num_samples * PATH_NUTS.num_chains  # draws kept at each α of a posterior path
    1200
    >>> NUTS._replace(num_chains=2)._asdict()  # as keyword arguments, two chains
    {'num_warmup': 1000, 'num_samples': 1000, 'num_chains': 2}
    """

    num_warmup: int
    num_samples: int
    num_chains: int


NUTS = NUTSSettings(num_warmup=1000, num_samples=1000, num_chains=4)
"""One posterior: the estimators with ``method="nuts"``, `~bayesreg.sample_posterior`, ``bayesreg fit``
and ``bayesreg compare``. Its ``num_warmup`` is the warmup of the sparsity priors
(`bayesreg.shrinkage`) and the hierarchical priors (`bayesreg.hierarchical`); the penalty priors
with a fixed α warm up for `PENALTY_NUM_WARMUP` steps (the rule: `~bayesreg.sampling.default_num_warmup`).
Run shorter, the horseshoe's collapsed chains on diabetes (500 warmup steps) gave a posterior sd
more than 4 MCSE from a Gibbs sampler's, and the hierarchical Laplace logistic chains on 8
breast-cancer columns diverged 4 times."""

PENALTY_NUM_WARMUP = 500
"""NUTS warmup steps per chain of a prior with a fixed scale: flat (no prior), Gaussian, Laplace and
elastic net at a fixed α (`~bayesreg.priors.Prior`; `~bayesreg.sampling.default_num_warmup`).
Their chains start at the exact MAP with the curvature there, and 500 steps reached the bulk ESS of
1000 within the seed-to-seed spread, with R-hat ≤ 1.007 and no divergence (4 chains × 1000 draws,
two seeds each; benchmarks/README.md, "Warmup length"): the diabetes lasso 3,205–3,399 (1000 steps:
2,824–3,113), star98's Gaussian lasso 3,020–3,519 (2,711–3,087), star98 binary 1,067–1,281
(817–1,094), the raw breast-cancer columns 1,695–2,297 (2,099–2,398); the diabetes elastic net,
six seeds, 5,895–6,625 (5,995–8,201: mean 14 % lower, more than the 4,000 draws either way). It saved
20–35 % of a fit's wall time there. (star98's Gaussian elastic net, sampled directly, diverged about
190 times in 4,000 draws with either warmup: a shorter one did not cause that.)"""

PATH_NUTS = NUTSSettings(num_warmup=300, num_samples=300, num_chains=4)
"""Each grid point of `~bayesreg.posterior_path` and ``bayesreg path --posterior``: every α is a whole
NUTS run, so shorter runs keep a grid affordable."""

DEMO_NUTS = NUTSSettings(num_warmup=500, num_samples=500, num_chains=4)
"""``bayesreg demo`` and its report."""

MASS_MATRIX = "auto"
"""The mass matrix NUTS adapts: "auto" is dense for a small model (at most
`bayesreg.engine.DENSE_UP_TO` unconstrained parameters) and for a model evaluated per row whose
squared parameter count is at most `bayesreg.engine.DENSE_DATA_FRACTION` of its data's elements
(about n/10 parameters), diagonal otherwise (`bayesreg.engine.dense_mass`)."""

TARGET_ACCEPT = 0.8
"""The mean acceptance probability NUTS's step size adapts to during warmup (numpyro's default): a
higher value (0.9, 0.95, 0.99) takes smaller steps, which removes divergences in a posterior of
strongly varying curvature at the cost of more gradient evaluations per draw."""

SHRINKAGE_TARGET_ACCEPT = 0.99
"""The NUTS acceptance target of the sparsity priors of `bayesreg.shrinkage` (their
``target_accept``, which the estimators, ``bayesreg fit`` and `~bayesreg.sample_posterior` use
unless told otherwise): their posteriors mix scales from ``1e-3`` to ``10`` within one trajectory,
and at numpyro's 0.8 the horseshoe's chains diverged on the tests' problems; at 0.99 they did not."""


class ShrinkageSettings(NamedTuple):
    """The options of the sparsity priors of `bayesreg.shrinkage` (`~bayesreg.shrinkage.Horseshoe`,
    `~bayesreg.shrinkage.RegularizedHorseshoe`, `~bayesreg.shrinkage.R2D2`) when none is given.

    Attributes
    ----------
    global_scale : float
        The horseshoe's scale of τ's half-Cauchy prior (BayesReg's ``τ ~ C⁺(0, 1)``). The
        regularised horseshoe sets its τ₀ from ``expected_nonzero`` instead.
    weights_per_nonzero : float
        The regularised horseshoe's ``p₀`` when none is given is ``p / weights_per_nonzero`` (then
        at least 1 and at most ``p/2``): one weight in ten expected non-zero.
    slab_scale, slab_df : float
        The regularised horseshoe's slab: scale ``s`` and degrees of freedom ``ν`` (Piironen &
        Vehtari 2017's 2 and 4).
    r2_mean, r2_precision : float
        R2D2's Beta prior on R²: mean and ``a + b``; 0.5 and 2 make R² uniform (brms's defaults).

    Examples
    --------
    >>> from bayesreg.defaults import SHRINKAGE
    >>> SHRINKAGE.slab_scale, SHRINKAGE.slab_df, SHRINKAGE.r2_mean, SHRINKAGE.r2_precision
    (2.0, 4.0, 0.5, 2.0)
    """

    global_scale: float = 1.0
    weights_per_nonzero: float = 10.0
    slab_scale: float = 2.0
    slab_df: float = 4.0
    r2_mean: float = 0.5
    r2_precision: float = 2.0


SHRINKAGE = ShrinkageSettings()
"""The sparsity priors' defaults (`ShrinkageSettings`)."""

MAX_TREE_DEPTH = 10
"""The most doublings of a NUTS trajectory, at most ``2**10 = 1024`` leapfrog steps per draw (numpyro's
default): draws that reach it explore a posterior whose scales differ more than the mass matrix
corrects for, and a larger depth lets them go on (twice the cost per extra level)."""

L1_RATIO = 0.5
"""Share of the L1 part of the elastic-net penalty (scikit-learn's ``ElasticNet`` default)."""

N_ALPHAS = 100
"""Points of a MAP path's grid (scikit-learn's ``lasso_path`` default)."""

EPS = 1e-3
"""Where a path's grid ends, as a fraction of ``alpha_max`` (scikit-learn's ``lasso_path`` default)."""

CV_FOLDS = 5
"""Folds of `~bayesreg.cv.cv_alpha`'s split (scikit-learn's ``cv=None`` default: 5, unshuffled)."""

RIDGE_ALPHAS = (0.1, 1.0, 10.0)
"""The linear L2 grid of `~bayesreg.cv.cv_alpha` without an ``alpha_max`` (``RidgeCV``'s ``alphas``)."""

N_CS = 10
"""Points of `~bayesreg.cv.cv_alpha`'s logistic grid, ``C`` in ``logspace(-4, 4, N_CS)``
(``LogisticRegressionCV``'s ``Cs``)."""


class EvidenceSettings(NamedTuple):
    """The fixed-point iteration and Gamma hyperpriors of `~bayesreg.evidence.evidence_gaussian` and
    `~bayesreg.evidence.evidence_ard` (scikit-learn's ``BayesianRidge`` / ``ARDRegression`` defaults).

    Examples
    --------
    >>> from bayesreg.defaults import EVIDENCE
    >>> EVIDENCE.max_iter, EVIDENCE.tol, EVIDENCE.threshold_lambda
    (300, 0.001, 10000.0)
    """

    max_iter: int = 300
    tol: float = 1e-3
    alpha_1: float = 1e-6
    alpha_2: float = 1e-6
    lambda_1: float = 1e-6
    lambda_2: float = 1e-6
    threshold_lambda: float = 1e4


EVIDENCE = EvidenceSettings()
"""`~bayesreg.evidence.evidence_gaussian` / `~bayesreg.evidence.evidence_ard` defaults."""

NUM_EM = 200
"""EM iterations of `~bayesreg.evidence.evidence_laplace` (the estimate averages the second half)."""

EM_NUTS = NUTSSettings(num_warmup=500, num_samples=500, num_chains=4)
"""`~bayesreg.evidence.evidence_laplace`'s Gibbs sampler: sweeps before the first EM iteration
(``num_warmup``), sweeps per iteration (``num_samples``) and independent runs (``num_chains``)."""

LASSO_LAMBDA_SQ_SHAPE = 1.0
"""Shape r of the Bayesian lasso's ``λ² ~ Gamma(r, δ)`` (Park & Casella 2008, §5: r = 1)."""

LASSO_LAMBDA_SQ_RATE = 1.78
"""Rate δ of the Bayesian lasso's ``λ² ~ Gamma(r, δ)`` (Park & Casella 2008, §5: δ = 1.78)."""

RIDGE_GLOBAL_SCALE = 1.0
"""Scale of the half-Cauchy prior ``τ ~ C⁺(0, s)`` on the hierarchical ridge's sd (in units of σ)."""

HIERARCHICAL_TARGET_ACCEPT = 0.95
"""The NUTS acceptance target of the hierarchical priors (the priors' ``target_accept``). A weight
pinned by the data and a small global scale meet on a curved ridge of ``z·scale``. At 0.95 the
collapsed chains on the diabetes data (unscaled and standardised) and the direct chains of the
logistic model on 8 breast-cancer columns (4 × (1000 + 1000)) had 0 divergences. Short chains on
tiny problems do diverge now and then: calibration runs (150 warmup steps, 20–40 rows, 3 columns,
200 replicates) diverged in 9–41 replicates at 0.95 and in 2–10 at 0.99, with uniform ranks in
both."""

ALPHA_INTERVAL = 0.9
"""Probability of the central interval `~bayesreg.hierarchical.alpha_posterior` reports."""

KFOLD_SPLITS = 10
"""Folds of `~bayesreg.prior_comparison.compare_priors`'s K-fold fallback (Vehtari, Gelman & Gabry
2017 use 10): ten refits of a flagged prior."""

# projection predictive and decoupled selection (`bayesreg.selection`)

PROJECTION_DRAWS = 400
"""Posterior draws projected for the evaluation of each submodel size (projpred's ``ndraws_pred``),
thinned evenly within each chain; all draws when there are fewer."""

SEARCH_ALPHAS = 150
"""Points of the L1 search path's grid (projpred's ``nlambda``)."""

SEARCH_EPS = 1e-5
"""Where the L1 search path's grid ends, as a fraction of α_max (projpred's ``lambda_min_ratio``)."""

DSS_PROB = 0.9
"""Mass of the central posterior interval of the excess error by which
`~bayesreg.selection.dss_selection` picks its penalty."""

HDI_PROB = 0.94
"""Mass of the highest-density intervals in tables, paths and plots (ArviZ's default)."""


class Thresholds(NamedTuple):
    """Where a NUTS run stops being trusted (Vehtari et al. 2021; Betancourt 2017).

    Attributes
    ----------
    rhat_max : float
        Largest acceptable rank-normalised split R-hat.
    ess_min : float
        Smallest acceptable bulk and tail effective sample size.
    ebfmi_min : float
        Smallest acceptable energy Bayesian fraction of missing information.

    Examples
    --------
    >>> from bayesreg.defaults import THRESHOLDS, Thresholds
    >>> THRESHOLDS
    Thresholds(rhat_max=1.01, ess_min=400.0, ebfmi_min=0.3)
    >>> Thresholds(ess_min=100.0)  # laxer for a quick look (check_diagnostics takes each as a keyword)
    Thresholds(rhat_max=1.01, ess_min=100.0, ebfmi_min=0.3)
    """

    rhat_max: float = 1.01
    ess_min: float = 400.0
    ebfmi_min: float = 0.3


THRESHOLDS = Thresholds()
"""The thresholds `~bayesreg.diagnostics.check_diagnostics` applies, and the command line and the
report show."""

SCALE_RATIO = 1e3
"""Largest over smallest column sd above which the columns count as badly scaled: NUTS then samples
a Gaussian likelihood with the coefficients integrated out (``laplace_parametrisation="auto"``,
`bayesreg.sampling`), and a failed run's warning suggests ``standardize=True``
(`~bayesreg.diagnostics.scale_problem`). NUTS adapts its mass matrix towards ``1e-3·I`` (numpyro's
regularisation), which swamps posterior variances as small as badly scaled columns give; statsmodels'
star98 (ratio 2.0e4) failed (R-hat 2.1, bulk ESS 5), the unscaled diabetes columns (ratio 69) did not."""

DASK_SIZE = 2**30
"""Bytes of data files above which ``bayesreg fit`` reads them through Dask (`bayesreg.large`: one
pass, reduced to the Gaussian likelihood's statistics) rather than into memory; ``--engine`` overrides
it. pandas holds a CSV file in a few times its size, so 1 GiB of files needs several GB in memory."""

SLICE_BYTES = 2**24
"""Bytes of float64 values in the slice of a partition that a Dask worker reduces at once
(`bayesreg._partition.row_slices`: ``max(1, SLICE_BYTES // (8 · columns))`` rows), so that a pass's
temporary copies stay at a slice's size whatever the width: 41,120 rows at 50 columns and 2,095 at
1,001, where one 25,000-row partition is 200 MB."""

STUDENT_T_DF_PRIOR = (2.0, 0.1)
"""Shape and rate of the Gamma prior of the Student-t degrees of freedom ν when ``df=None``: mean 20,
mode 10, 5% below 3.6 (Juárez & Steel 2010's choice, the one Stan's prior guide recommends), so
that the data decide between heavy tails (ν of a few) and a nearly normal likelihood."""
