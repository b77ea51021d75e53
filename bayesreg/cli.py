"""The ``bayesreg`` command line: ``bayesreg fit``, ``predict``, ``path``, ``demo`` and ``compare``.

A thin shell: it parses the options, calls the library and writes what the library returned. Every
option is checked by `bayesreg.params` (the message the library gives for the same value), the
data by `bayesreg.data`, the NUTS settings and the diagnostics thresholds come from
`bayesreg.defaults`, and the other defaults are those of the library function the option goes to.

Every problem with the input (the file, its columns and values, the options) is reported as one
line on stderr with exit code 2, before anything is written (and before any note on how the file was
read). A NUTS run that fails the diagnostics gate (`bayesreg.diagnostics`: R-hat, ESS, divergences,
E-BFMI) writes every file, marks the failure in them (the ``ok`` column) and exits with status 3.
Warnings name the options that address them, rendered from the library's settings
(`bayesreg.diagnostics.Remedy`) as the flags this parser has (an option the parser lacks is not
named). Outputs are written atomically: every file is written into a temporary folder inside the
output folder (``bayesreg fit --out`` saves the fitted model there with `bayesreg.model_folder.save`),
then each is moved into place with ``os.replace``; other files in that folder are never touched, and
a failed write leaves none of the new files (nor an output folder it created).

While a command runs, JAX's persistent compilation cache is switched on in a user cache folder
(``$XDG_CACHE_HOME/bayesreg/jax``, else ``~/.cache/bayesreg/jax``), so a second run on data of the same
shape skips most of XLA's compilation; the previous settings are restored when `main` returns, and
without a usable folder the command runs without the cache. No other global JAX setting is changed:
the library switches float64 on only inside its own functions.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import secrets
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bayesreg.defaults import (
    ALPHA_INTERVAL,
    DASK_SIZE,
    DEMO_NUTS,
    EPS,
    HDI_PROB,
    HIERARCHICAL_TARGET_ACCEPT,
    KFOLD_SPLITS,
    L1_RATIO,
    LASSO_LAMBDA_SQ_RATE,
    LASSO_LAMBDA_SQ_SHAPE,
    MASS_MATRIX,
    MAX_TREE_DEPTH,
    N_ALPHAS,
    NUTS,
    PATH_NUTS,
    PENALTY_NUM_WARMUP,
    RIDGE_GLOBAL_SCALE,
    SHRINKAGE_TARGET_ACCEPT,
    TARGET_ACCEPT,
    THRESHOLDS,
    NUTSSettings,
)
from bayesreg.params import (
    CONSTRAINTS,
    ESTIMATOR_CONSTRAINTS,
    GLM_FAMILIES,
    MODEL_CONSTRAINTS,
    PENALTY_KINDS,
    POSTERIOR_METHODS,
    PRIOR_KINDS,
    SPARSITY_KINDS,
    SPARSITY_OPTIONS,
    check_param,
    cli_type,
)

__all__ = ["main", "run"]

PROG = "bayesreg"

PREDICTIONS_FILE = "predictions.csv"
"""What ``bayesreg predict --out DIR`` writes."""

PREDICT_SHOWN_ROWS = 10
"""Rows of the predictions ``bayesreg predict`` prints."""

POSTERIOR_N_ALPHAS = 20
"""Grid points of ``bayesreg path --posterior`` without ``--n-alphas``: every α is a NUTS run."""

POSTERIOR_COLUMNS = ["mean", "sd", "hdi_low", "hdi_high"]
"""Columns ``bayesreg fit --method nuts`` adds to coefficients.csv, from `compare.posterior_summary`."""

GATE_COLUMNS = ["r_hat", "ess_bulk", "ess_tail", "divergences", "ok"]
"""The diagnostics gate per coefficient in coefficients.csv (`bayesreg.diagnostics.gate_columns`)."""

PATH_COLUMNS = ["median", "hdi_low", "hdi_high", "r_hat", "ess_bulk"]
"""Columns ``bayesreg path --posterior`` adds to path.csv (fields of a `~bayesreg.path.PosteriorPath`)."""

PATH_GATE_COLUMNS = ["max_r_hat", "min_ess_bulk", "divergences", "ok"]
"""The gate per alpha in path.csv (`PosteriorPath` fields and `check_path_diagnostics`'s ``ok``)."""

EXIT_STATUS = """\
exit status: 0 success; 1 the outputs could not be written; 2 bad input or options (one line on
  stderr, nothing written); 3 diagnostics failed: every file written and marked (ok = False), but the
  results are not to be trusted (the warnings say what to try)."""

# what the help texts quote: the HDI mass and the diagnostics thresholds of bayesreg.defaults
_HDI = f"{HDI_PROB:.0%} highest-density interval"
_RHAT = f"R-hat > {THRESHOLDS.rhat_max:g}"
_ESS = f"ESS < {THRESHOLDS.ess_min:.0f}"
_EBFMI = f"E-BFMI < {THRESHOLDS.ebfmi_min:g}"

FIT_EPILOG = f"""\
penalty strength:
  --alpha is the penalty strength alpha of --convention:
    sklearn (default), --family gaussian: alpha of scikit-learn's Lasso, Ridge or ElasticNet;
        Laplace prior scale b = sigma^2/(n alpha), Gaussian prior sd = sigma/sqrt(alpha).
    book, --family gaussian: NLL + alpha*|w|_1 or NLL + (alpha/2)*|w|^2 with
        NLL = |y - Xw - b|^2/(2 sigma^2); Laplace scale 1/alpha, Gaussian sd 1/sqrt(alpha).
    --family bernoulli (both conventions agree): alpha = 1/C of scikit-learn's
        LogisticRegression(C=...); Laplace prior scale C, Gaussian prior sd sqrt(C).
    glum (default for poisson, negative_binomial) and statsmodels: (1/2n) deviance
        + alpha*l1_ratio*|w|_1 + (alpha*(1 - l1_ratio)/2)*|w|^2, glum's GeneralizedLinearRegressor and
        statsmodels' GLM.fit_regularized; sklearn with --family poisson: PoissonRegressor (L2 only);
        book with poisson, negative_binomial, student_t (its only one): -loglike + penalty.
  The intercept is never penalised.

counts and outliers (--family poisson, negative_binomial, student_t):
  A count target must hold non-negative integers; a negative or fractional value is refused with
  its column and line. --exposure COL: a column of exposures (positive; the offset is its log; a
  value <= 0 is refused with its line); --offset COL: a column holding the log exposure. Neither
  is a feature. --dispersion (negative_binomial) and --df, --sigma (student_t) fix the likelihood's
  own parameters; without them they are estimated with the weights (their MAP or posterior mean
  is printed). --alpha must be a number, and the priors are laplace, gaussian and elasticnet.
  --alpha cv: the alpha that 5-fold cross-validation picks, exactly as scikit-learn's LassoCV(),
    ElasticNetCV(), RidgeCV(cv=KFold(5)) or (--family bernoulli) LogisticRegressionCV() do on
    the same folds and grid (--convention sklearn).
  --alpha eb (--family gaussian, --prior gaussian or laplace): empirical Bayes, the alpha that
    maximises the marginal likelihood: BayesianRidge's for --prior gaussian (sigma estimated with
    it), Monte Carlo EM for --prior laplace (--seed seeds it; its Monte Carlo error is printed).
  Either way the chosen alpha and where it came from are printed, written to DIR/alpha.csv and
    kept in DIR/model.json; the MAP (or with --method nuts the posterior) is that at this alpha.
  --alpha hierarchical (--method nuts, --prior laplace or gaussian): full Bayes, a hyperprior on
    the prior's scale sampled with the weights (laplace: Park & Casella's
    lambda^2 ~ Gamma({LASSO_LAMBDA_SQ_SHAPE:g}, {LASSO_LAMBDA_SQ_RATE:g}); gaussian: the weights' sd ~ \
C+(0, {RIDGE_GLOBAL_SCALE:g}) in units of sigma);
    --target-accept defaults to {HIERARCHICAL_TARGET_ACCEPT:g}. The posterior of alpha in --convention (for
    --family bernoulli alpha = 1/C) is printed as "the data support alpha in [a, b]"
    ({ALPHA_INTERVAL:.0%} interval; its median is model.json's alpha_) and written to DIR/alpha.csv;
    the coefficient column of coefficients.csv is the posterior mean (no MAP).
  --standardize: the prior is on the weights of the standardised columns (x - mean)/sd, so alpha
    means the same for every column whatever its units; the MAP is then scikit-learn's
    make_pipeline(StandardScaler(), Lasso(alpha)) (or Ridge, ...), and coefficients.csv, the printed
    table and posterior.nc's coef and intercept are on the original columns (posterior.nc keeps the
    standardised draws as coef_standardized and intercept_standardized).

sparsity priors (--method nuts only):
  --prior horseshoe: coef_j ~ N(0, (lambda_j tau sigma)^2), lambda_j ~ C+(0, 1),
    tau ~ C+(0, --global-scale).
  --prior regularized_horseshoe: the horseshoe with tau ~ C+(0, tau0), tau0 = p0/(p - p0) sigma/sqrt(n)
    (p0 = --expected-nonzero), and a slab of scale --slab-scale and --slab-df degrees of freedom.
  --prior r2d2: R^2 ~ Beta with mean --r2-mean and precision --r2-precision, shared among the
    weights by a Dirichlet.
  They take no --alpha (their scales are learned) and have no MAP (their densities are unbounded at 0):
  the coefficient column of coefficients.csv is the posterior mean, and --target-accept defaults to
  {SHRINKAGE_TARGET_ACCEPT:g}. bayesreg path does not take them (no penalty path).
posterior (--method nuts):
  NUTS samples the same model's posterior (the MAP is computed as well, for the penalty priors).
  The diagnostics gate fails when {_RHAT}, bulk or tail {_ESS}, any divergence or {_EBFMI}, and
  when R-hat cannot be computed (--num-chains 1: R-hat compares chains and needs at least 2); every
  problem (also draws at the maximum tree depth, which alone does not fail the gate) is a "warning:"
  line on stderr naming the options to try. A failed gate: the files are written, their ok column
  is False, and the exit status is 3. --seed makes a run repeatable (without it a seed is drawn and printed).
  Compiled programs are cached in $XDG_CACHE_HOME/bayesreg/jax (else ~/.cache/bayesreg/jax), so a
  second run on data of the same shape skips most of the compilation. --target-accept (higher:
  smaller steps, against divergences) and --max-tree-depth (longer trajectories) tune NUTS itself.

outputs:
  DIR/coefficients.csv  columns feature,coefficient (the MAP = the penalised estimate); one row per
                        feature, then "intercept". With --method nuts also the posterior's mean, sd,
                        hdi_low, hdi_high ({_HDI}) and the gate: r_hat (rank-normalised),
                        ess_bulk, ess_tail, divergences (of the run) and ok (this row within the
                        thresholds and the run passed).
  DIR/model.json        the fitted model (settings and fitted attributes, exact floats): DIR is a
                        model folder that `bayesreg predict DIR NEW.csv` and bayesreg.load(DIR) read.
  DIR/posterior.nc      with --method nuts: the draws as ArviZ InferenceData (arviz.from_netcdf), also
                        the model folder's posterior.
  DIR/target.txt        with --family bernoulli: which class is modelled ("modelling P(y = 'yes')").
  DIR/alpha.csv         with --alpha cv: one row per alpha of the grid: alpha (C with --family
                        bernoulli), the mean and sd of the held-out score over the folds, each
                        fold's score (fold_1, ...) and chosen (True at the chosen alpha). With
                        --alpha eb one row: alpha, its Monte Carlo standard error mcse (0 for
                        --prior gaussian) and method. With --alpha hierarchical one row: alpha
                        (the posterior median), mean, low and high (the interval's ends), prob
                        (its probability) and method; with --family bernoulli also C, C_low, C_high.
  Without --out (--method map only) the table is printed and nothing is written. Other files in
  DIR are left alone (a model.json that is not a bayesreg model is refused); nothing is written
  when the input is refused or a write fails.

{EXIT_STATUS}
"""


def _path_epilog(n_alphas: int) -> str:
    return f"""\
grid:
  By default the grid is scikit-learn's: --n-alphas values from alpha_max (the smallest alpha at which
  every MAP weight is exactly 0) down to eps * alpha_max, log-spaced, computed in decreasing order
  with warm starts ({n_alphas} points, or {POSTERIOR_N_ALPHAS} with --posterior). --alphas A,B,...
  gives the grid instead; it is required for --prior gaussian (an L2 penalty sets no weight to 0,
  so there is no alpha_max).
  alpha means what it means for `bayesreg fit` (see `bayesreg fit --help`): scikit-learn's Lasso /
  Ridge / ElasticNet alpha under --convention sklearn, 1/C of LogisticRegression for --family
  bernoulli. The MAP path equals scikit-learn's lasso_path / enet_path.

posterior (--posterior):
  NUTS samples the posterior at every alpha of the grid, all grid points and chains in one
  call of one compiled sampler (compiled once per grid size and settings, and cached in
  $XDG_CACHE_HOME/bayesreg/jax, else ~/.cache/bayesreg/jax). With --family gaussian the noise sd
  sigma is sampled unless --sigma fixes it. Cost: the compilation (tens of seconds on a small
  machine, less from the cache), then one NUTS run per alpha; keep the grid small. --family
  poisson, negative_binomial and student_t hold --dispersion, --df and --sigma fixed along the
  grid (as the MAP path does), and their chains start at each alpha's MAP, as those of bayesreg
  fit --method nuts do; an --offset or --exposure column enters every alpha's model.
  {_RHAT} (or no R-hat: one chain), bulk {_ESS} or divergences at an alpha fail the
  gate there: "warning:" lines on stderr name those alphas and the options to try, path.csv
  marks them (ok = False), path.png hatches them, and the exit status is 3 (after writing every
  file).

outputs:
  DIR/path.csv  one row per alpha and feature: alpha, feature, map (exact zeros are 0); with
                --posterior also median, hdi_low, hdi_high ({_HDI}), r_hat
                (rank-normalised) and ess_bulk of that weight at that alpha, and the gate of that
                alpha: max_r_hat, min_ess_bulk, divergences and ok.
  DIR/path.png  the MAP path (solid), with --posterior the posterior medians (dashed) and HDI bands;
                alphas that failed the gate are hatched grey.
  DIR/target.txt  with --family bernoulli: which class is modelled.
  Other files in DIR are left alone; nothing is written when the input is refused.

{EXIT_STATUS}
"""


PREDICT_EPILOG = f"""\
input:
  MODEL_DIR is a model folder: what `bayesreg fit --out DIR` writes (or est.save(DIR) in Python),
  model.json and, for a model fitted with --method nuts, posterior.nc. NEW.csv is read as `bayesreg
  fit` reads its data (the separator detected, or --sep; spaces around names stripped and a saved
  row index dropped, each with a note). Its columns are matched to the model's features by name:
  their order does not matter, other columns (the target, an identifier) are ignored and listed, a
  missing one is refused by name, and a NaN, inf or text value in a feature column is refused with
  its line in the file (the header is line 1).

outputs:
  DIR/predictions.csv  one row per data row of NEW.csv, in the same order, floats to 17 digits.
    gaussian: mean (the posterior mean line; the MAP line for a MAP model) and, for a NUTS model,
      sd (the posterior predictive sd of a new target, noise included) and lower, upper (its
      central --prob interval: equal-tailed quantiles, not an HDI).
    bernoulli: probability (of the modelled class, as `bayesreg fit` printed it: averaged over the
      posterior for a NUTS model), for a NUTS model lower, upper (the central --prob interval of
      that probability), and predicted (the more probable label).
    poisson, negative_binomial: mean (expected count; the posterior predictive mean for a NUTS
      model) and, for a NUTS model, sd (of a new count) and lower, upper (its central --prob
      interval, counts), all at each row's exposure.
  A MAP model is a point estimate: mean (probability) and predicted only, with a note.
  Without --out the first {PREDICT_SHOWN_ROWS} rows are printed and nothing is written. Other files in DIR
  are left alone; nothing is written when the input is refused.

offsets (count models):
  A count model fitted with --exposure COL or --offset COL predicts at each new row's exposure,
  read from the column of NEW.csv with the same name (a missing column, a NaN, inf or text value,
  or for an exposure a value <= 0 is refused with its line); --exposure COL or --offset COL name
  another column instead. A model fitted without either takes neither (its counts are per
  row, as in the data it was fitted on). A model folder saved from Python (est.save) records no
  column: then --offset or --exposure gives the rows' offset, and without them the counts are
  at exposure 1 (offset 0), as the printed lines say.

exit status: 0 success; 1 predictions.csv could not be written; 2 bad input or options (not a model
  folder, a damaged one, missing columns, bad values: one line on stderr, nothing written); 3 the
  model's posterior failed its diagnostics gate when it was fitted: predictions.csv is written, but
  the predictions are not to be trusted (refit as `bayesreg fit`'s warnings said).
"""


class _UsageError(Exception):
    """Bad input or options: one line on stderr, exit code 2."""


class _WriteError(Exception):
    """The outputs could not be written: one line on stderr, exit code 1."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports its errors as one line (raised, so `main` can return 2), and records
    the option string of every option by its destination in ``flags`` (options added to its groups
    too): the names warnings render the library's settings with (`bayesreg.diagnostics.Problem`)."""

    def __init__(self, *args, **kwargs):
        self.flags: dict[str, str] = {}  # before argparse adds --help
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")

    def add_argument(self, *args, **kwargs):
        return self._record(super().add_argument(*args, **kwargs))

    def add_argument_group(self, *args, **kwargs):
        group = super().add_argument_group(*args, **kwargs)
        add = group.add_argument
        group.add_argument = lambda *a, **k: self._record(add(*a, **k))
        return group

    def _record(self, action):
        if action.option_strings:
            self.flags[action.dest] = max(action.option_strings, key=len)
        return action


def _choice(name: str, constraints=CONSTRAINTS) -> dict:
    """``type`` and ``metavar`` of an option with a fixed set of values (``constraints[name]``, from
    `bayesreg.params`): a bad value gets the library's message (``unknown prior 'cauchy'; expected
    one of ...``)."""
    constraint = constraints[name]
    return {"type": cli_type(name, constraint), "metavar": "{" + ",".join(constraint.values) + "}"}


def _alphas(text: str) -> list[float]:
    """argparse type of --alphas: comma-separated penalty strengths, each checked as ``alpha``."""
    try:
        return [check_param("alpha", item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"alphas must be a comma-separated list of positive finite numbers, got {text!r}"
        ) from None


def _separator(text: str) -> str:
    """argparse type of --sep: the library's `bayesreg.data.separator`, with its message."""
    from bayesreg.data import DataError, separator

    try:
        return separator(text)
    except DataError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


_NUTS_MEANINGS = {
    "num_warmup": "warmup (adaptation) steps per chain",
    "num_samples": "draws kept per chain",
    "num_chains": "chains",
}


_PRIOR_WARMUP = (
    f"the prior's: {PENALTY_NUM_WARMUP} for {', '.join(PENALTY_KINDS)} at a fixed alpha, whose chains "
    f"start at the MAP; {NUTS.num_warmup} for {', '.join(SPARSITY_KINDS)} and --alpha hierarchical"
)
"""--num-warmup's default where it depends on the prior (`~bayesreg.sampling.default_num_warmup`)."""


def _nuts_options(
    parser, settings: NUTSSettings, note: str, *, seed: int | None = None, prior_warmup: bool = False
) -> None:
    """--num-warmup, --num-samples, --num-chains and --seed, showing the defaults of ``settings``.

    With ``seed=None`` (`fit` and `path`, which sample only when asked) every option defaults to None,
    so that giving one without sampling can be refused, the seed is drawn at random when not given,
    and --parametrisation, --mass-matrix, --target-accept and --max-tree-depth are added; otherwise
    (the demo) they default to ``settings`` and ``seed``. With ``prior_warmup`` (`fit` and `compare`)
    --num-warmup defaults to None, the prior's own warmup (`~bayesreg.sampling.default_num_warmup`).
    """
    from bayesreg.engine import DENSE_DATA_FRACTION, DENSE_UP_TO

    group = parser.add_argument_group(f"NUTS settings ({note})")
    for name, meaning in _NUTS_MEANINGS.items():
        value = getattr(settings, name)
        per_prior = prior_warmup and name == "num_warmup"
        group.add_argument(
            f"--{name.replace('_', '-')}",
            type=cli_type(name),
            default=None if seed is None or per_prior else value,
            metavar="N",
            help=f"{meaning} (default {_PRIOR_WARMUP if per_prior else value})",
        )
    shown = ": drawn at random, and printed" if seed is None else f" {seed}"
    group.add_argument(
        "--seed",
        type=cli_type("seed"),
        default=seed,
        metavar="S",
        help=f"random seed of the sampler (default{shown})",
    )
    if seed is None:
        group.add_argument(
            "--parametrisation",
            dest="laplace_parametrisation",
            **_choice("laplace_parametrisation"),
            default=None,
            help="how NUTS samples a Laplace prior: its density (direct), as a normal-exponential "
            "scale mixture without the kink at 0 (mixture), or auto: directly, and again as the "
            "mixture if a transition diverged (default auto)",
        )
        group.add_argument(
            "--mass-matrix",
            **_choice("mass_matrix"),
            default=None,
            help=f"the mass matrix NUTS adapts during warmup: auto (dense for at most {DENSE_UP_TO} "
            f"unconstrained parameters, and for more where their square is at most {DENSE_DATA_FRACTION:g} "
            "times the data's elements, as for logistic regression with up to about rows/10 "
            f"parameters; diagonal otherwise), dense or diagonal (default {MASS_MATRIX})",
        )
        group.add_argument(
            "--target-accept",
            type=cli_type("target_accept"),
            default=None,
            metavar="P",
            help="the mean acceptance probability the step size adapts to, in (0, 1): higher (0.9, "
            f"0.95, 0.99) takes smaller steps, against divergences (default {TARGET_ACCEPT:g}; "
            f"{SHRINKAGE_TARGET_ACCEPT:g} for the sparsity priors, {HIERARCHICAL_TARGET_ACCEPT:g} with "
            "--alpha hierarchical)",
        )
        group.add_argument(
            "--max-tree-depth",
            type=cli_type("max_tree_depth"),
            default=None,
            metavar="D",
            help="the most doublings of a trajectory, at most 2**D leapfrog steps per draw: raise it "
            f"when draws hit the maximum tree depth (default {MAX_TREE_DEPTH})",
        )


_SPARSITY_HELP = {
    "global_scale": "horseshoe: scale of the global scale tau's half-Cauchy prior (default "
    "{global_scale:g}); regularized_horseshoe: tau0 itself, instead of the one --expected-nonzero sets",
    "expected_nonzero": "regularized_horseshoe: expected number of non-zero weights p0 in (0, p), which "
    "sets tau0 = p0/(p - p0) sigma/sqrt(n) (default p/{weights_per_nonzero:g}, at least 1, at most p/2)",
    "slab_scale": "regularized_horseshoe: scale of the slab the large weights meet (default {slab_scale:g})",
    "slab_df": "regularized_horseshoe: degrees of freedom of the slab (default {slab_df:g})",
    "r2_mean": "r2d2: prior mean of R^2, in (0, 1) (default {r2_mean:g})",
    "r2_precision": "r2d2: precision a + b of R^2's Beta prior (default {r2_precision:g})",
}


def _sparsity_options(parser) -> None:
    """--global-scale, --expected-nonzero, --slab-scale, --slab-df, --r2-mean, --r2-precision: the
    sparsity priors' options (`bayesreg.params.SPARSITY_OPTIONS`), None unless given, with the
    defaults of `bayesreg.defaults.SHRINKAGE` in their help."""
    from bayesreg.defaults import SHRINKAGE

    group = parser.add_argument_group(
        "sparsity priors (--prior horseshoe, regularized_horseshoe, r2d2; --method nuts only)"
    )
    for name, meaning in _SPARSITY_HELP.items():
        group.add_argument(
            f"--{name.replace('_', '-')}",
            type=cli_type(name),
            default=None,
            metavar="X",
            help=meaning.format(**SHRINKAGE._asdict()),
        )


def _check_sparsity_options(args) -> None:
    """Refuse a sparsity prior's option for another prior, and with a sparsity prior the settings it
    does not take: --method map (no MAP exists), --alpha, --convention."""
    for name in _SPARSITY_HELP:
        if getattr(args, name) is not None and name not in SPARSITY_OPTIONS.get(args.prior, ()):
            takers = " or ".join(f"--prior {k}" for k, options in SPARSITY_OPTIONS.items() if name in options)
            raise _UsageError(f"{args.flags[name]} applies to {takers} only, not to --prior {args.prior}")
    if args.prior not in SPARSITY_KINDS:
        return
    if args.method not in POSTERIOR_METHODS:
        raise _UsageError(
            f"--prior {args.prior} has no MAP (its density is unbounded at 0, so the penalty has no "
            "minimum): use --method nuts (the coefficients are then posterior means)"
        )
    for name in ("alpha", "convention"):
        if getattr(args, name) is not None:
            raise _UsageError(
                f"{args.flags[name]} applies to the penalty priors (laplace, gaussian, elasticnet) only: "
                f"--prior {args.prior} learns its scales from the data"
            )


def _model_options(parser, *, alpha_name: str, sigma_help: str) -> None:
    """--prior, --l1-ratio, --convention, --family, --sigma, --standardize: the model, as `fit` and
    `path` share it."""

    parser.add_argument(
        "--prior",
        **_choice("prior", ESTIMATOR_CONSTRAINTS),
        default="laplace",
        help="prior on the weights: laplace (L1), gaussian (L2), elasticnet, or (fit --method nuts "
        "only) a sparsity prior: horseshoe, regularized_horseshoe, r2d2 (default: laplace)",
    )
    parser.add_argument(
        "--l1-ratio",
        type=cli_type("l1_ratio"),
        default=None,
        metavar="R",
        help=f"share of the L1 part for --prior elasticnet, in (0, 1) (default {L1_RATIO})",
    )
    parser.add_argument(
        "--convention",
        **_choice("convention"),
        default=None,
        help=f"how {alpha_name} maps to the prior (default: sklearn; glum for poisson and "
        "negative_binomial, book for student_t; see below)",
    )
    parser.add_argument(
        "--family",
        **_choice("family", MODEL_CONSTRAINTS),
        default="gaussian",
        help="likelihood: gaussian (linear regression), bernoulli (logistic regression, two-class "
        "target), poisson or negative_binomial (counts: non-negative integers; log link), student_t "
        "(robust linear regression)",
    )
    parser.add_argument("--sigma", type=cli_type("sigma"), default=None, metavar="S", help=sigma_help)
    glm = parser.add_argument_group("counts and outliers (--family poisson, negative_binomial, student_t)")
    glm.add_argument(
        "--offset",
        default=None,
        metavar="COL",
        help="poisson, negative_binomial: the column holding each row's offset, the log of its exposure "
        "(added to the linear predictor with coefficient 1, as glum's and statsmodels' offset); any "
        "finite number; the column is not a feature",
    )
    glm.add_argument(
        "--exposure",
        default=None,
        metavar="COL",
        help="poisson, negative_binomial: the column holding each row's exposure (time at risk, "
        "population): positive numbers, whose log is the offset (a value <= 0 is refused with its "
        "line); instead of --offset; the column is not a feature",
    )
    glm.add_argument(
        "--dispersion",
        type=cli_type("dispersion"),
        default=None,
        metavar="D",
        help="negative_binomial: the dispersion alpha of Var = mu + alpha mu^2, fixed (glum's theta, "
        "statsmodels' alpha); default: estimated with the weights (flat prior on (0, inf)); "
        "needed by bayesreg path",
    )
    glm.add_argument(
        "--df",
        type=cli_type("df"),
        default=None,
        metavar="NU",
        help="student_t: the degrees of freedom, fixed; default: estimated (Gamma(2, 0.1) prior); "
        "needed by bayesreg path",
    )
    parser.add_argument(
        "--standardize",
        action="store_true",
        help="fit on standardised columns ((x - mean) / sd; the prior, i.e. the penalty, on their "
        "weights) and report the coefficients on the original columns: for columns in very different "
        "units (default: the columns as given)",
    )


def _parser() -> _Parser:
    from bayesreg.demo import DEMO_SEED

    parser = _Parser(
        prog=PROG,
        description="Bayesian regularised regression: a penalty is a prior.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{fit,predict,path,demo,compare}")

    fit = commands.add_parser(
        "fit",
        help="fit a penalised (MAP) regression to a CSV file",
        description="Fit a linear (gaussian) or logistic (bernoulli) regression with a Laplace (L1), "
        "Gaussian (L2) or elastic-net prior on the weights (or, with --method nuts, a horseshoe, "
        "regularised horseshoe or R2D2 sparsity prior), print its coefficients and write them "
        "to DIR/coefficients.csv.",
        epilog=FIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _data_arguments(fit)
    fit.add_argument(
        "--save-log-likelihood",
        dest="log_likelihood",
        action="store_const",
        const=True,
        default=None,
        help="with --method nuts, keep the per-row log-likelihood of every draw in posterior.nc "
        "(rows x draws numbers; default: PSIS-LOO per row only, in its group 'loo')",
    )
    _data_options(fit)
    fit.add_argument(
        "--alpha",
        type=cli_type("alpha", ESTIMATOR_CONSTRAINTS["alpha"]),
        default=None,
        metavar="A",
        help="penalty strength > 0 (default 1.0), or learned from the data: cv (cross-validation), "
        "eb (empirical Bayes) or hierarchical (full Bayes, --method nuts); for --family bernoulli "
        "alpha = 1/C (see below)",
    )
    _model_options(
        fit,
        alpha_name="--alpha",
        sigma_help="noise sd of the gaussian likelihood, or scale of the student_t one (default: "
        "estimated; sampled with --method nuts)",
    )
    fit.add_argument(
        "--no-intercept",
        dest="fit_intercept",
        action="store_false",
        help="fit no intercept (by default an unpenalised intercept is fitted; coefficients.csv then has "
        "no intercept row)",
    )
    fit.add_argument(
        "--method",
        **_choice("method"),
        default="map",
        help="map: posterior mode = penalised estimate (default); nuts: also posterior samples "
        "(NUTS), summarised in coefficients.csv and saved to DIR/posterior.nc; gibbs: "
        "the same by the Gibbs sampler (--prior horseshoe or regularized_horseshoe, gaussian family)",
    )
    fit.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (created if needed); optional with --method map (without it the table is "
        "printed and nothing is written)",
    )
    _sparsity_options(fit)
    _nuts_options(fit, NUTS, "--method nuts only", prior_warmup=True)

    predict = commands.add_parser(
        "predict",
        help="predict with a saved model (bayesreg fit --out) for the rows of a CSV file",
        description="Load the model folder MODEL_DIR that `bayesreg fit --out` wrote and predict for "
        "every row of NEW.csv: the mean and, for a NUTS model, the predictive sd and a central "
        "interval (linear; counts at each row's exposure); the probability of the modelled class, "
        "with its interval, and the predicted label (logistic). Writes DIR/predictions.csv.",
        epilog=PREDICT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument("model", metavar="MODEL_DIR", help="a model folder written by bayesreg fit --out")
    predict.add_argument(
        "data", metavar="NEW.csv", help="CSV file with a header row and the model's features"
    )
    predict.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help=f"output folder (created if needed) for {PREDICTIONS_FILE}; without it the first "
        f"{PREDICT_SHOWN_ROWS} rows are printed and nothing is written",
    )
    predict.add_argument(
        "--prob",
        type=cli_type("prob", CONSTRAINTS["hdi_prob"]),
        default=None,
        metavar="P",
        help=f"mass of the central intervals, in (0, 1), for a model fitted with --method nuts "
        f"(default {HDI_PROB:g})",
    )
    predict.add_argument(
        "--sep",
        type=_separator,
        default=None,
        metavar="SEP",
        help="the file's separator: ',' ';' or tab (default: detected from the first lines)",
    )
    exposure = predict.add_argument_group(
        "counts (a model fitted with --family poisson or negative_binomial)"
    )
    exposure.add_argument(
        "--offset",
        default=None,
        metavar="COL",
        help="the column of NEW.csv holding each row's offset, the log of its exposure (default: the "
        "column the model was fitted with, by its name)",
    )
    exposure.add_argument(
        "--exposure",
        default=None,
        metavar="COL",
        help="the column of NEW.csv holding each row's exposure, positive (default: the column the "
        "model was fitted with, by its name)",
    )

    n_alphas = N_ALPHAS
    path = commands.add_parser(
        "path",
        help="the regularisation path (MAP over a grid of alpha), optionally with its posterior",
        description="Compute the MAP (the penalised estimate) of a linear, logistic, Poisson, negative "
        "binomial or Student-t regression at "
        "every alpha of a grid; with --posterior also sample the posterior at every alpha (NUTS) and "
        "summarise it by its median and HDI. Writes DIR/path.csv and DIR/path.png.",
        epilog=_path_epilog(n_alphas),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _data_arguments(path)
    _data_options(path)
    _model_options(
        path,
        alpha_name="alpha",
        sigma_help="noise sd of the gaussian likelihood (default: sampled with --posterior; needed with "
        "--convention book, whose objective divides the squared error by sigma^2), or scale of the "
        "student_t one (needed)",
    )
    grid = path.add_argument_group("grid of penalty strengths")
    grid.add_argument(
        "--n-alphas",
        type=cli_type("n_alphas"),
        default=None,
        metavar="N",
        help=f"grid points (default {n_alphas}, {POSTERIOR_N_ALPHAS} with --posterior)",
    )
    grid.add_argument(
        "--eps",
        type=cli_type("eps"),
        default=None,
        metavar="E",
        help=f"the grid ends at eps * alpha_max, in (0, 1) (default {EPS:g})",
    )
    grid.add_argument(
        "--alphas",
        type=_alphas,
        default=None,
        metavar="A,B,...",
        help="the grid itself, comma-separated positive numbers, in the order computed "
        "(instead of --n-alphas and --eps)",
    )
    path.add_argument(
        "--no-intercept",
        dest="fit_intercept",
        action="store_false",
        help="fit no intercept (by default an unpenalised intercept is fitted)",
    )
    path.add_argument(
        "--posterior",
        action="store_true",
        help="also sample the posterior at every alpha with NUTS (median, HDI, R-hat, ESS)",
    )
    path.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    _nuts_options(path, PATH_NUTS, "--posterior only; per alpha")

    demo = commands.add_parser(
        "demo",
        help="L1/L2 MAP and the Laplace posterior on the diabetes data; writes an HTML report",
        description="Fit the MAP under a Laplace and a Gaussian prior to scikit-learn's diabetes "
        "data and compare it with scikit-learn's Lasso and Ridge; sample the Laplace posterior with "
        "NUTS and set it against the MAP (exact zeros, intervals, predictive coverage on held-out "
        "rows) and along a grid of alpha (the MAP path and the posterior path). Writes DIR/report.html "
        "(self-contained), DIR/coefficients.csv, DIR/posterior.nc and DIR/path.csv (as `bayesreg path "
        "--posterior` writes it).",
    )
    demo.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    _nuts_options(demo, DEMO_NUTS, "the Laplace posterior", seed=DEMO_SEED)
    compare = commands.add_parser(
        "compare",
        help="fit several priors with NUTS and compare how well they predict (PSIS-LOO, K-fold)",
        description="Fit a linear (gaussian) or logistic (bernoulli) regression under each prior of "
        "--priors with NUTS, estimate each fit's expected log predictive density by PSIS-LOO (by "
        "K-fold cross-validation where a Pareto k exceeds ArviZ's threshold) and rank them with "
        "ArviZ's compare. Writes DIR/compare.csv (ArviZ's table: elpd_loo, p_loo, elpd_diff, "
        "weight, se, dse, warning; and elpd_method, pareto_k_high, pareto_k_max, diagnostics_ok) "
        "and DIR/compare.png.",
    )
    _data_arguments(compare)
    compare.add_argument(
        "--priors",
        type=_prior_names,
        required=True,
        metavar="P,Q,...",
        help=f"comma-separated priors to compare, among {', '.join(PRIOR_KINDS)}",
    )
    compare.add_argument(
        "--alpha",
        type=cli_type("alpha", ESTIMATOR_CONSTRAINTS["alpha"]),
        default=1.0,
        metavar="A",
        help="penalty strength of laplace, gaussian and elasticnet (default 1.0), or learned from the "
        "data: cv, eb (gaussian family) or hierarchical; for --family bernoulli alpha = 1/C",
    )
    compare.add_argument(
        "--family",
        **_choice("family"),
        default="gaussian",
        help="likelihood: gaussian (linear regression) or bernoulli (logistic regression, two-class target)",
    )
    compare.add_argument(
        "--standardize",
        action="store_true",
        help="fit every prior on standardised columns (the sparsity priors' default scales are "
        "meant for columns of unit sd); default: the columns as given",
    )
    compare.add_argument(
        "--no-intercept", dest="fit_intercept", action="store_false", help="fit no intercept"
    )
    compare.add_argument(
        "--kfold",
        **_choice("kfold"),
        default="auto",
        help="which priors get the K-fold elpd: those with a high Pareto k (auto, default), all, or none",
    )
    compare.add_argument(
        "--n-splits",
        type=cli_type("n_splits"),
        default=KFOLD_SPLITS,
        metavar="K",
        help=f"folds of the K-fold elpd, at least 2 (default {KFOLD_SPLITS})",
    )
    _data_options(compare)
    compare.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    _nuts_options(compare, NUTS, "every prior's fit, K-fold refits included", seed=0, prior_warmup=True)
    for command in (fit, predict, path, demo, compare):
        command.set_defaults(flags=command.flags)  # the same dict, filled as options were added
    return parser


# ---------------------------------------------------------------------------------------------------
# writing


def _check_out(out: str) -> Path:
    """Refuse an --out that cannot be a folder, before any work is done."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise _UsageError(f"--out {out!r} exists and is not a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise _UsageError(f"--out {out!r}: {str(parent)!r} is not a folder")
            break
    return path


def _check_model_out(out: str) -> Path:
    """`_check_out`, and refuse an --out whose model.json is not a bayesreg model folder's: `fit`
    writes its model there, and must not overwrite someone else's file of that name."""
    import json

    from bayesreg.model_folder import FORMAT, MODEL_FILE

    path = _check_out(out)
    existing = path / MODEL_FILE
    if existing.exists():
        try:
            ours = json.loads(existing.read_text(encoding="utf-8")).get("format") == FORMAT
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours:
            raise _UsageError(
                f"--out {out!r} holds a {MODEL_FILE} that is not a bayesreg model; fit writes its model "
                "there: choose another folder"
            )
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


Content = bytes | Callable[[Path], None]


def _write_all(folder: Path, files: dict[str, Content], model=None, offset_column=None) -> list[Path]:
    """Write ``files`` (and, with ``model``, the model folder `bayesreg.model_folder.save` writes for
    that fitted estimator, with its ``offset_column``) into ``folder`` atomically: every file into a
    temporary folder inside ``folder`` first, then each moved into place with ``os.replace``.

    A file's content is bytes, or a function that writes the file at the path it is given. When a
    write fails nothing is moved, the temporary folder is removed, and so are the folders this call
    created.
    """
    try:
        return _stage_and_replace(folder, files, model, offset_column)
    except (OSError, ValueError) as error:  # ValueError: a writer (netCDF, the model folder) refused
        raise _WriteError(f"cannot write the outputs to {str(folder)!r}: {_one_line(error)}") from None


def _stage_and_replace(folder: Path, files: dict[str, Content], model=None, offset_column=None) -> list[Path]:
    from bayesreg import model_folder

    created = [parent for parent in (folder, *folder.parents) if not parent.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    moved = False
    try:
        with tempfile.TemporaryDirectory(dir=folder, prefix=".bayesreg-") as staging:
            staged = Path(staging)
            if model is not None:  # first: save refuses a folder that holds other files
                model_folder.save(model, staged, offset_column=offset_column)
            for name, content in files.items():
                if callable(content):
                    content(staged / name)
                else:
                    (staged / name).write_bytes(content)
            names = [*files, *sorted(set(os.listdir(staged)) - set(files))]
            for name in names:
                os.chmod(
                    staged / name, 0o666 & ~_umask()
                )  # temporary files are private; give it a normal file's mode
                handle = os.open(staged / name, os.O_RDONLY)
                try:
                    os.fsync(handle)
                finally:
                    os.close(handle)
            moved = True
            for name in names:
                os.replace(staged / name, folder / name)
            return [folder / name for name in names]
    except BaseException:
        if not moved:
            for made in created:  # innermost first: each is empty once the one inside it is gone
                with contextlib.suppress(OSError):
                    made.rmdir()
        raise


# ---------------------------------------------------------------------------------------------------
# what fit and path share


def _check_model_options(args) -> None:
    """Refuse options that do not apply to the chosen model; fill in the library's l1_ratio."""

    if args.l1_ratio is not None and args.prior != "elasticnet":
        raise _UsageError(f"--l1-ratio applies to --prior elasticnet only, not to --prior {args.prior}")
    if args.sigma is not None and args.family not in ("gaussian", "student_t"):
        raise _UsageError(
            f"--sigma applies to --family gaussian and student_t only (a {args.family} likelihood has no "
            "noise sd)"
        )
    takers = {
        "offset": ("poisson", "negative_binomial"),
        "exposure": ("poisson", "negative_binomial"),
        "dispersion": ("negative_binomial",),
        "df": ("student_t",),
    }
    for name, families in takers.items():
        if getattr(args, name) is not None and args.family not in families:
            raise _UsageError(
                f"{args.flags[name]} applies to --family {' and '.join(families)} only, not to --family "
                f"{args.family}"
            )
    if args.offset is not None and args.exposure is not None:
        raise _UsageError("give --offset (the log exposure) or --exposure, not both")
    if args.family in GLM_FAMILIES:
        if getattr(args, "method", "map") == "gibbs":
            raise _UsageError("--method gibbs needs --family gaussian (a horseshoe prior's Gibbs sampler)")
        for name in _SPARSITY_HELP:
            if getattr(args, name, None) is not None:
                raise _UsageError(
                    f"{args.flags[name]} applies to --family gaussian and bernoulli; --family {args.family} "
                    f"takes --prior {args.prior} at its default options"
                )
    if args.l1_ratio is None:
        args.l1_ratio = L1_RATIO
    if args.convention is None and args.prior not in SPARSITY_KINDS:
        args.convention = _DEFAULT_CONVENTION.get(args.family, "sklearn")


_DEFAULT_CONVENTION = {"poisson": "glum", "negative_binomial": "glum", "student_t": "book"}
"""--convention's default where it is not sklearn: glum's (= statsmodels') for the count families,
which scikit-learn fits with an L2 penalty only; the book's for student_t, the only one defined there."""


def _target_accept(args) -> float:
    """NUTS's default acceptance target for the prior of ``args``: the sparsity priors' and the
    hierarchical priors' own (`~bayesreg.defaults.SHRINKAGE_TARGET_ACCEPT`,
    `~bayesreg.defaults.HIERARCHICAL_TARGET_ACCEPT`), else numpyro's."""
    if args.prior in SPARSITY_KINDS:
        return SHRINKAGE_TARGET_ACCEPT
    if getattr(args, "alpha", None) == "hierarchical":
        return HIERARCHICAL_TARGET_ACCEPT
    return TARGET_ACCEPT


def _sampling(
    args, settings: NUTSSettings, flag: str, sampling: bool, *, prior_warmup: bool = False
) -> dict | None:
    """The NUTS settings of a run: None without ``flag`` (whose NUTS options are then refused);
    with it ``num_warmup``, ``num_samples``, ``num_chains`` (given, else from ``settings``),
    ``seed`` (given, else drawn at random), ``mass_matrix``, ``target_accept`` and
    ``max_tree_depth`` (given, else the library's) and ``laplace_parametrisation`` (when given; else
    the library's default applies). With ``prior_warmup`` ``num_warmup`` is left out unless given:
    the library then takes the prior's own (`~bayesreg.sampling.default_num_warmup`)."""

    options = [
        *settings._fields,
        "seed",
        "mass_matrix",
        "target_accept",
        "max_tree_depth",
        "laplace_parametrisation",
        *(["log_likelihood"] if hasattr(args, "log_likelihood") else []),  # fit's
    ]
    if not sampling:
        for name in options:
            if getattr(args, name) is not None:
                raise _UsageError(f"{args.flags[name]} applies to {flag} only")
        return None
    defaults = {
        **settings._asdict(),
        "seed": secrets.randbelow(2**31 - 1),
        "mass_matrix": MASS_MATRIX,
        "target_accept": _target_accept(args),
        "max_tree_depth": MAX_TREE_DEPTH,
    }
    if prior_warmup:
        defaults["num_warmup"] = None
    chosen = {
        name: defaults.get(name) if getattr(args, name) is None else getattr(args, name) for name in options
    }
    return {name: value for name, value in chosen.items() if value is not None}


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest entry: the first left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _csv(frame) -> bytes:
    """``frame`` as CSV without its index, every float with 17 significant digits (round-trips)."""
    return frame.to_csv(index=False, float_format="%.17g").encode()


def _warning_text(message: Warning, flags: dict[str, str]) -> str:
    """A warning as one line; a `~bayesreg.diagnostics.Problem` with its remedies named by the
    command's ``flags`` (settings without an option are left out)."""
    from bayesreg.diagnostics import Problem

    problem = message.args[0] if message.args else None
    return _one_line(problem.describe(flags) if isinstance(problem, Problem) else message)


@contextlib.contextmanager
def _warnings_as_lines(command: str, flags: dict[str, str]):
    """Print each warning raised inside as one line on stderr (no Python warning output), the
    settings a warning suggests named by the command's options (``flags``)."""
    from sklearn.exceptions import ConvergenceWarning

    from bayesreg.diagnostics import PosteriorWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", PosteriorWarning)
        # ArviZ's notice of its 1.x refactor, raised when it is first imported (in a thread while
        # the chains run): about ArviZ's API, not about this run
        warnings.filterwarnings("ignore", category=FutureWarning, module="arviz")
        try:
            yield
        finally:
            for message in dict.fromkeys(_warning_text(w.message, flags) for w in caught):
                print(f"{PROG} {command}: warning: {message}", file=sys.stderr)


def _gate_failed(command: str) -> int:
    """The last line of a run whose diagnostics failed, and its exit status 3."""
    print(
        f"{PROG} {command}: diagnostics failed: every file was written and marked (ok = False), but "
        "the results are not to be trusted; see the warnings above (exit status 3)",
        file=sys.stderr,
    )
    return 3


def _warn_scale(X, names) -> None:
    """After a failed gate: `~bayesreg.diagnostics.scale_problem`'s warning, if the columns' scales
    are far apart."""
    from bayesreg.diagnostics import PosteriorWarning, scale_problem

    problem = scale_problem(X, names=names)
    if problem is not None:
        warnings.warn(PosteriorWarning(problem), stacklevel=2)


def _target_text(target: str, classes) -> str:
    """Which class a bernoulli model gives the probability of (the second of the sorted ``classes``)."""
    other, modelled = (c.item() if hasattr(c, "item") else c for c in classes)
    return f"modelling P({target} = {modelled!r}) against {target} = {other!r}"


def _alpha_max_warning(args, X, y, offset=None) -> float | None:
    """Warn when --alpha is at or above `~bayesreg.path.alpha_max` (L1 and elastic-net priors, where
    alpha_max is the smallest alpha at which every MAP weight is exactly 0): the prior swamps the
    data. Not for the book convention of a linear model without --sigma, nor for a likelihood whose
    dispersion, degrees of freedom or scale are estimated (alpha_max depends on them).
    Returns alpha_max when --alpha is at or above it, else None."""
    from bayesreg.path import alpha_max

    estimated = {
        "negative_binomial": args.dispersion is None,
        "student_t": args.df is None or args.sigma is None,
    }.get(args.family, False)
    if (
        args.prior == "gaussian"
        or estimated
        or (args.family == "gaussian" and args.convention == "book" and args.sigma is None)
    ):
        return None
    likelihood = {"offset": offset, "dispersion": args.dispersion, "df": args.df}
    largest = alpha_max(
        X,
        y,
        prior=args.prior,
        l1_ratio=args.l1_ratio,
        family=args.family,
        convention=args.convention,
        fit_intercept=args.fit_intercept,
        standardize=args.standardize,
        **({} if args.sigma is None else {"sigma": args.sigma}),
        **{name: value for name, value in likelihood.items() if value is not None},
    )
    if args.alpha >= largest:
        warnings.warn(
            f"--alpha {args.alpha:g} is at or above alpha_max = {largest:.4g}, the smallest alpha at "
            "which every MAP weight is exactly 0: the prior swamps the data; lower --alpha (bayesreg "
            "path shows the weights from alpha_max down)",
            UserWarning,
            stacklevel=2,
        )
        return largest
    return None


def _read(args):
    """The data files read in memory (`bayesreg.data.read_table`), the --offset or --exposure column
    checked with them (a bad value named by its file and line)."""
    from bayesreg.data import read_table

    return read_table(
        args.data,
        args.target,
        args.family,
        sep=args.sep,
        drop_constant=args.drop_constant,
        offset=args.offset,
        exposure=args.exposure,
    )


def _take_offset(args, X) -> np.ndarray | None:
    """Take the --offset (as it is) or --exposure (its log) column out of the features ``X`` (a
    DataFrame, changed in place); None without either."""
    name = args.offset if args.offset is not None else args.exposure
    if name is None:
        return None
    values = X.pop(name).to_numpy(dtype=np.float64)
    return values if args.offset is not None else np.log(values)


def _offset_record(args):
    """What `bayesreg.model_folder.save` records of a count model's offset: the --offset or
    --exposure column of ``fit``, or that there was none; None for the other families."""
    from bayesreg.data import COUNT_FAMILIES
    from bayesreg.model_folder import NO_OFFSET

    if args.family not in COUNT_FAMILIES:
        return None
    return _given_offset_column(args) or NO_OFFSET


def _given_offset_column(args):
    """The `~bayesreg.model_folder.OffsetColumn` that --offset or --exposure names, or None."""
    from bayesreg.model_folder import OffsetColumn

    if args.offset is not None:
        return OffsetColumn("offset", args.offset)
    return None if args.exposure is None else OffsetColumn("exposure", args.exposure)


def _print_notes(command: str, notes) -> None:
    """Print each change `read_csv` made to the data as one ``note:`` line on stderr."""
    for note in notes:
        print(f"{PROG} {command}: note: {note}", file=sys.stderr)


def _netcdf(idata) -> Content:
    """Writes ``idata`` to a path as netCDF, uncompressed: draws and per-observation
    log-likelihoods hardly compress, and zlib would take most of the writing time."""
    return lambda path: idata.to_netcdf(str(path), compress=False)


# ---------------------------------------------------------------------------------------------------
# data: in memory, or through Dask beyond a size (bayesreg.large)

ENGINES = ("auto", "memory", "dask")
"""--engine: auto reads through Dask when the files exceed `~bayesreg.defaults.DASK_SIZE` bytes."""


def _data_arguments(parser) -> None:
    """DATA (files or globs) and --target, as fit, path and compare take them."""
    parser.add_argument(
        "data",
        metavar="DATA",
        help="CSV or Parquet file with a header row, several, or a glob (quoted: 'data/*.parquet')",
        nargs="+",
    )
    parser.add_argument("--target", required=True, metavar="COL", help="name of the target column")


def _data_options(parser) -> None:
    """--sep, --drop-constant, --engine and --scheduler: how the data files are read."""
    parser.add_argument(
        "--sep",
        type=_separator,
        default=None,
        metavar="SEP",
        help="the file's separator: ',' ';' or tab (default: detected from the first lines)",
    )
    parser.add_argument(
        "--drop-constant",
        action="store_true",
        help="drop feature columns with one value in every row (a note names them); refused otherwise",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help=f"memory: read the files with pandas; dask: read them through dask.dataframe in one pass "
        f"to the gaussian likelihood's statistics (MAP or NUTS at a given alpha), or a pass per Newton "
        f"step for the bernoulli, poisson and negative_binomial MAP; auto (default): dask above "
        f"{DASK_SIZE / 2**30:g} GiB of files",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="with the dask engine, the scheduler of an existing cluster (tcp://HOST:PORT; default "
        "DASK_SCHEDULER_ADDRESS, else a local cluster of 2 worker processes started here)",
    )


def _read_large(args, command: str):
    """The data's `~bayesreg.large.DaskMoments` when they are read through Dask (--engine dask, or
    auto above `DASK_SIZE` bytes), or for ``fit --family bernoulli|poisson|negative_binomial
    --method map`` the `~bayesreg.large.LogisticMAP` or `~bayesreg.large.CountMAP` (a pass per
    proximal Newton step); else None (read in memory).
    What Dask cannot do is refused here, before the pass: the other families, compare, and every
    option but a MAP or a gaussian NUTS posterior at a given alpha without per-row log-likelihoods
    (fit), or the gaussian MAP or posterior path and the count families' MAP path (path), which
    comes back as a `~bayesreg.large.CountPath`."""
    from bayesreg.data import COUNT_FAMILIES, data_files
    from bayesreg.large import (
        dask_client,
        read_count_map,
        read_count_path,
        read_logistic_map,
        read_moments,
    )

    files = data_files(args.data)
    large = sum(path.stat().st_size for path in files) > DASK_SIZE
    if args.engine == "memory" or (args.engine == "auto" and not large):
        return None
    reason = None
    newton = ("bernoulli", *COUNT_FAMILIES)
    glm_map = args.family in newton and command == "fit" and args.method == "map"
    count_path = args.family in COUNT_FAMILIES and command == "path" and not args.posterior
    if args.family != "gaussian" and not (glm_map or count_path):
        reason = f"--family {args.family} needs the rows (a pass per optimisation step)"
        if args.family in newton:
            reason = f"--family {args.family} through Dask is a MAP only (--method map); NUTS needs the rows"
    elif command == "compare":
        reason = "bayesreg compare needs the rows (PSIS-LOO or k-fold CV per row)"
    elif command == "fit" and args.log_likelihood:
        reason = f"{args.flags['log_likelihood']} needs the rows (a log-likelihood per row)"
    elif command == "fit" and (args.prior in SPARSITY_KINDS or isinstance(args.alpha, str)):
        reason = "a learned alpha and the sparsity priors need the rows"
    if reason is not None:
        size = f"{sum(path.stat().st_size for path in files) / 2**30:.2f} GiB"
        raise _UsageError(
            f"the Dask engine reduces the data to the gaussian likelihood's statistics for a MAP, NUTS "
            f"at a given --alpha, or the MAP or posterior path, and fits the bernoulli, poisson and "
            f"negative_binomial MAP (and the counts' MAP path) by a pass per Newton step; "
            f"{reason}: "
            f"read them in memory (--engine memory; the files hold {size})"
        )
    with dask_client(args.scheduler) as client:
        if glm_map:
            model = {"prior": args.prior, "alpha": args.alpha, "l1_ratio": args.l1_ratio}
            model.update(
                convention=args.convention, fit_intercept=args.fit_intercept, standardize=args.standardize
            )
            if args.family in COUNT_FAMILIES:
                model.update(family=args.family, offset=args.offset, exposure=args.exposure)
                model.update(dispersion=args.dispersion if args.family == "negative_binomial" else None)
            read = read_logistic_map if args.family == "bernoulli" else read_count_map
            return read(
                files, args.target, sep=args.sep, drop_constant=args.drop_constant, client=client, **model
            )
        if count_path:
            model = {"prior": args.prior, "l1_ratio": args.l1_ratio, "convention": args.convention}
            model.update(fit_intercept=args.fit_intercept, standardize=args.standardize, family=args.family)
            model.update(offset=args.offset, exposure=args.exposure, dispersion=args.dispersion)
            if args.alphas is not None:
                model["alphas"] = np.asarray(args.alphas, dtype=float)
            else:
                model.update(n_alphas=N_ALPHAS if args.n_alphas is None else args.n_alphas)
                model.update(eps=EPS if args.eps is None else args.eps)
            return read_count_path(
                files, args.target, sep=args.sep, drop_constant=args.drop_constant, client=client, **model
            )
        return read_moments(files, args.target, sep=args.sep, drop_constant=args.drop_constant, client=client)


def _check_feature_names(args, names) -> None:
    """Refuse a feature named "intercept" where an intercept is fitted: coefficients.csv names the
    intercept's row so."""
    if args.fit_intercept and "intercept" in names:
        raise _UsageError(
            "a feature column is named 'intercept', the name of the intercept's row in "
            "coefficients.csv; rename it"
        )


def _fit_large(args, moments, out: Path | None, sampling: dict | None) -> int:
    """`bayesreg fit` from the statistics of one pass: the MAP (`~bayesreg.large.map_from_moments`)
    or, with ``sampling``, the NUTS posterior too (`~bayesreg.large.posterior_from_moments`, the
    diagnostics gate and exit status 3 as in memory), their table and coefficients.csv, and
    posterior.nc; no model folder (it holds a fitted estimator). posterior.nc has no observed data
    and no PSIS-LOO, which need the rows."""
    from sklearn.utils import check_random_state

    from bayesreg.compare import compare_map_posterior, posterior_summary, sparsity_summary
    from bayesreg.diagnostics import gate_columns
    from bayesreg.large import map_from_moments, posterior_from_moments

    _check_feature_names(args, moments.names)
    _print_notes("fit", moments.notes)
    model = {
        "prior": args.prior,
        "alpha": args.alpha,
        "l1_ratio": args.l1_ratio,
        "convention": args.convention,
        "sigma": args.sigma,
        "fit_intercept": args.fit_intercept,
        "standardize": args.standardize,
    }
    files: dict[str, Content] = {}
    summary = gate = table = None
    with _warnings_as_lines("fit", args.flags):
        if sampling is None:
            fitted = map_from_moments(moments, **model)
            mode = fitted.map
        else:
            nuts = {name: value for name, value in sampling.items() if name != "log_likelihood"}
            # the chains' seed for --seed, as the estimators derive it from random_state in memory
            nuts["seed"] = int(check_random_state(nuts["seed"]).randint(2**31 - 1))
            fitted = posterior_from_moments(moments, **model, **nuts)
            fit, mode = fitted.fit, fitted.fit.map
            fit.idata.posterior.attrs["family"] = "gaussian"
            summary = posterior_summary(fit.idata)
            gate = gate_columns(summary, fit.diagnostics)
        coef = np.asarray(mode.params["coef"], dtype=float)
        intercept = float(mode.params["intercept"]) if args.fit_intercept else None
        printed, files["coefficients.csv"] = _coefficient_table(moments.names, coef, intercept, summary, gate)
        if sampling is not None:
            table = compare_map_posterior(fit.idata, coef)
            files["posterior.nc"] = _netcdf(fit.idata)
        written = [] if out is None else _write_all(out, files)
    print(_prior_description(args, args.alpha, fitted.sigma, moments.n))
    state = "converged" if mode.converged else "NOT converged"
    print(
        f"MAP of {moments.n} rows, {len(moments.names)} features, target {args.target!r} (read through "
        f"Dask, one pass); {state} in {mode.num_steps} proximal Newton steps"
    )
    if sampling is not None:
        print(
            f"NUTS posterior from the statistics of the pass: {sampling['num_chains']} chains x "
            f"({fit.idata.sample_stats.attrs['num_warmup']} warmup + {sampling['num_samples']} draws), "
            f"seed {sampling['seed']}, {fit.mass_matrix} mass matrix, parametrisation {fit.parametrisation}"
        )
        verdict = "passed" if fit.diagnostics.ok else "FAILED (results not to be trusted)"
        print(f"diagnostics: {_diagnostics_line(fit.diagnostics)}; gate {verdict}")
    print()
    print(printed)
    print()
    if table is not None:
        print(_sparsity_line(sparsity_summary(table), table.attrs["hdi_prob"]))
    else:
        print(f"{int((coef == 0).sum())} of {len(moments.names)} coefficients are exactly 0")
    if written:
        print("wrote " + ", ".join(map(str, written)) + " (no model folder: predict needs an in-memory fit)")
    if sampling is not None:
        print(
            f"{PROG} fit: note: posterior.nc has no observed_data and no PSIS-LOO (group 'loo'): they "
            "need the rows, which the Dask pass reduced to their statistics",
            file=sys.stderr,
        )
        if not fit.diagnostics.ok:
            return _gate_failed("fit")
    return 0


def _fit_large_glm(args, result, out: Path | None) -> int:
    """`bayesreg fit --family bernoulli|poisson|negative_binomial` through Dask: the MAP of
    `~bayesreg.large.read_logistic_map` or `~bayesreg.large.read_count_map` (``result``), its
    table and coefficients.csv; no model folder (it holds a fitted estimator)."""
    from types import SimpleNamespace

    moments, mode = result.moments, result.map
    _check_feature_names(args, moments.names)
    _print_notes("fit", moments.notes)
    coef = np.asarray(mode.params["coef"], dtype=float)
    intercept = float(mode.params["intercept"]) if args.fit_intercept else None
    printed, content = _coefficient_table(moments.names, coef, intercept)
    written = [] if out is None else _write_all(out, {"coefficients.csv": content})
    fitted = None  # what _likelihood_description reads of an estimator: the fitted dispersion
    if args.family == "negative_binomial":
        dispersion = mode.params.get("dispersion", args.dispersion)
        fitted = SimpleNamespace(dispersion_=float(dispersion))
    elif args.family != "bernoulli":
        fitted = SimpleNamespace()
    print(_prior_description(args, args.alpha, 1.0, moments.n, fitted))
    if args.family == "bernoulli":
        print(_target_text(args.target, result.classes))
    state = "converged" if mode.converged else "NOT converged"
    rows = "rows kept on the workers" if result.persisted else "rows read in every pass"
    print(
        f"MAP of {moments.n} rows, {len(moments.names)} features, target {args.target!r} (read through "
        f"Dask, {result.passes} passes, {rows}); {state} in {mode.num_steps} proximal Newton steps"
    )
    print()
    print(printed)
    print()
    print(f"{int((coef == 0).sum())} of {len(moments.names)} coefficients are exactly 0")
    if written:
        print("wrote " + ", ".join(map(str, written)) + " (no model folder: predict needs an in-memory fit)")
    return 0


# ---------------------------------------------------------------------------------------------------
# fit


def _estimator(args, sampling: dict | None):
    from bayesreg.estimators import (
        BayesianLinearRegression,
        BayesianLogisticRegression,
        BayesianNegativeBinomialRegression,
        BayesianPoissonRegression,
        BayesianStudentTRegression,
    )

    settings = {
        "l1_ratio": args.l1_ratio,
        "method": args.method,
        "fit_intercept": args.fit_intercept,
        "standardize": args.standardize,
    }
    if sampling is not None:
        settings.update(sampling)
        settings["random_state"] = settings.pop("seed")
    if args.prior in SPARSITY_KINDS:
        settings["prior"] = args.prior
        if args.family not in GLM_FAMILIES:  # the count and Student-t models take the default options
            settings.update({name: getattr(args, name) for name in SPARSITY_OPTIONS[args.prior]})
        if args.family == "bernoulli":
            return BayesianLogisticRegression(**settings)
    elif args.family == "bernoulli":
        C = args.alpha if isinstance(args.alpha, str) else 1.0 / args.alpha
        return BayesianLogisticRegression(prior=args.prior, C=C, **settings)
    else:
        settings.update(prior=args.prior, alpha=args.alpha, convention=args.convention)
    if args.family == "poisson":
        return BayesianPoissonRegression(**settings)
    if args.family == "negative_binomial":
        return BayesianNegativeBinomialRegression(dispersion=args.dispersion, **settings)
    if args.family == "student_t":
        return BayesianStudentTRegression(df=args.df, sigma=args.sigma, **settings)
    return BayesianLinearRegression(sigma=args.sigma, **settings)


def _sparsity_description(args, prior, sigma: float, shape: tuple) -> str:
    """One line naming a sparsity prior's hierarchy with the numbers in force (its ``describe`` for
    the data's ``shape``, rows × features) and the noise sd of the fitted linear model."""
    columns = " of the standardized columns" if args.standardize else ""
    noise = ""
    if args.family == "gaussian":
        source = "given" if args.sigma is not None else "posterior mean"
        noise = f"; noise sd sigma = {sigma:.6g} ({source})"
    hierarchy = prior.describe(num_features=shape[1], n_samples=shape[0])
    return f"{args.prior} prior (no MAP: the density is unbounded at 0): weights{columns}: {hierarchy}{noise}"


def _likelihood_description(args, estimator) -> str:
    """The count and Student-t likelihoods' own parameters as fitted: each given, or its MAP or
    posterior mean."""
    source = "MAP" if args.method == "map" else "posterior mean"
    parts = []
    for name, label in (
        ("dispersion", "dispersion"),
        ("df", "degrees of freedom nu"),
        ("sigma", "scale sigma"),
    ):
        if hasattr(estimator, f"{name}_"):
            given = getattr(args, name) is not None
            parts.append(f"{label} = {getattr(estimator, f'{name}_'):.6g} ({'given' if given else source})")
    offset = (
        ""
        if args.offset is None and args.exposure is None
        else "; offset "
        + (
            f"column {args.offset!r}"
            if args.offset is not None
            else f"log of exposure column {args.exposure!r}"
        )
    )
    return f"; {args.family} likelihood" + (": " + ", ".join(parts) if parts else "") + offset


def _prior_description(args, alpha: float, sigma: float, n_samples: int, estimator=None) -> str:
    """One line stating the penalty ``alpha`` of the fit (given or learned) and the prior it is
    (`Prior.describe`), with the numbers in force at the noise sd ``sigma`` of the fitted linear model
    (1 for logistic regression, whose prior does not depend on it)."""
    from bayesreg.priors import prior_from_penalty

    prior = prior_from_penalty(
        args.prior,
        alpha,
        l1_ratio=args.l1_ratio,
        convention=args.convention,
        family=args.family,
        n_samples=n_samples,
    )
    if args.family == "bernoulli":
        penalty = f"alpha = {alpha:.6g} (C = {1.0 / alpha:.6g})"
    else:
        penalty = f"alpha = {alpha:.6g} ({args.convention} convention)"
    ratio = f", l1_ratio = {args.l1_ratio:g}" if args.prior == "elasticnet" else ""
    columns = " of the standardized columns" if args.standardize else ""
    noise = ""
    if estimator is not None and args.family in GLM_FAMILIES:
        noise = _likelihood_description(args, estimator)
    elif args.family == "gaussian":
        source = "given" if args.sigma is not None else "MAP" if args.method == "map" else "posterior mean"
        if args.sigma is None and args.method == "map" and args.alpha == "eb" and args.prior == "gaussian":
            source = "empirical Bayes"
        noise = f"; noise sd sigma = {sigma:.6g} ({source})"
    return f"{args.prior} prior, {penalty}{ratio}: weights{columns} ~ {prior.describe(sigma)}{noise}"


def _coefficient_table(
    names, coef, intercept, summary=None, gate=None, *, has_map: bool = True
) -> tuple[str, bytes]:
    """The printed table and the CSV content, one row per feature and one for the intercept (none when
    ``intercept`` is None: no intercept was fitted); ``summary`` (`compare.posterior_summary`) adds the
    `POSTERIOR_COLUMNS` and ``gate`` (`diagnostics.gate_columns`) the `GATE_COLUMNS`. Without a MAP
    (``has_map=False``: a sparsity prior) ``coef`` and ``intercept`` are the posterior means, the
    CSV's coefficient column, and the printed table shows them once, as its mean column."""
    import pandas as pd

    labels = [*map(str, names), *([] if intercept is None else ["intercept"])]
    values = np.append(coef, [] if intercept is None else [intercept]) + 0.0  # + 0.0: no "-0" in the CSV

    def shown(v, is_weight):
        return "0 (exact)" if is_weight and v == 0 else f"{v:.6g}"

    frame = pd.DataFrame({"feature": labels, "coefficient": values})
    map_texts = [shown(v, i < len(coef)) for i, v in enumerate(values)]
    if summary is None:
        rows = [[label, text] for label, text in zip(labels, map_texts, strict=True)]
        return _text_table(["feature", "coefficient"], rows), _csv(frame)
    summary, gate = summary.loc[labels, POSTERIOR_COLUMNS], gate.loc[labels, GATE_COLUMNS]
    for column in POSTERIOR_COLUMNS:
        frame[column] = summary[column].to_numpy(float) + 0.0
    for column in GATE_COLUMNS:
        frame[column] = gate[column].to_numpy()
    rows = [
        [
            label,
            *([text] if has_map else []),
            f"{s.mean:.4g}",
            f"{s.sd:.3g}",
            f"[{s.hdi_low:.4g}, {s.hdi_high:.4g}]",
            f"{g.r_hat:.3f}",
            f"{g.ess_bulk:.0f}",
            "yes" if g.ok else "NO",
        ]
        for label, text, s, g in zip(labels, map_texts, summary.itertuples(), gate.itertuples(), strict=True)
    ]
    header = [
        "feature",
        *(["MAP"] if has_map else []),
        "mean",
        "sd",
        f"{summary.attrs['hdi_prob']:.0%} HDI",
        "r_hat",
        "ess_bulk",
        "ok",
    ]
    return _text_table(header, rows), _csv(frame)


def _diagnostics_line(report) -> str:
    return (
        f"max R-hat {report.max_rhat:.3f}, min ESS bulk {report.min_ess_bulk:.0f} / tail "
        f"{report.min_ess_tail:.0f}, {report.divergences} divergences, min E-BFMI {report.min_ebfmi:.2f}, "
        f"{report.tree_depth_saturation:.1%} of draws at the maximum tree depth"
    )


def _sparsity_line(counts: dict, hdi_prob: float) -> str:
    p = counts["n_features"]
    return (
        f"MAP: {counts['map_zeros']} of {p} coefficients exactly 0; posterior mean: "
        f"{counts['posterior_mean_zeros']} exactly 0; {counts['hdi_contains_zero']} of {p} "
        f"{hdi_prob:.0%} HDIs contain 0"
    )


def _hdi_zero_line(summary, names) -> str:
    """How many of the weights' HDIs (`compare.posterior_summary`) contain 0: the sparsity priors'
    line, which has no MAP to count exact zeros of."""
    rows = summary.loc[[str(name) for name in names]]
    inside = int(((rows["hdi_low"] <= 0) & (rows["hdi_high"] >= 0)).sum())
    return f"posterior: {inside} of {len(rows)} {summary.attrs['hdi_prob']:.0%} HDIs contain 0 (no MAP)"


def _check_learned_alpha(args) -> None:
    """Refuse a learned --alpha (cv, eb) with options it does not apply to, before anything runs."""
    if not isinstance(args.alpha, str):
        return
    from bayesreg.data import COUNT_FAMILIES

    if args.family in GLM_FAMILIES and not (args.alpha == "hierarchical" and args.family in COUNT_FAMILIES):
        raise _UsageError(
            f"--alpha {args.alpha} is for --family gaussian and bernoulli: give --family {args.family} a "
            "number (bayesreg path shows the weights along a grid of alpha)"
        )
    if args.alpha == "hierarchical":
        if args.method != "nuts":
            raise _UsageError(
                "--alpha hierarchical samples alpha with the weights by NUTS (there is no MAP): add "
                "--method nuts, or use --alpha cv or eb for a MAP at a learned alpha"
            )
        if args.prior == "elasticnet":
            raise _UsageError(
                "--alpha hierarchical needs --prior laplace or gaussian (the elastic net has no "
                "hierarchical prior); use --alpha cv for the elastic net"
            )
        return
    if args.family == "gaussian" and args.convention != "sklearn":
        raise _UsageError(
            f"--alpha {args.alpha} learns scikit-learn's alpha: use --convention sklearn (at a book alpha "
            "the MAP depends on sigma)"
        )
    if args.alpha != "eb":
        return
    if args.family != "gaussian":
        raise _UsageError("--alpha eb (empirical Bayes) needs --family gaussian; use --alpha cv")
    if args.prior == "elasticnet":
        raise _UsageError("--alpha eb needs --prior gaussian or laplace; use --alpha cv for the elastic net")
    if args.prior == "gaussian" and args.sigma is not None:
        raise _UsageError("--alpha eb with --prior gaussian estimates sigma with alpha: drop --sigma")


_CV_COUNTERPARTS = {"laplace": "LassoCV", "elasticnet": "ElasticNetCV", "gaussian": "RidgeCV(cv=KFold(5))"}


def _learned_alpha(args, estimator) -> tuple[str, bytes] | None:
    """Where a learned --alpha came from, as one printed line, and alpha.csv's content; None for a
    given --alpha."""
    import pandas as pd

    if not isinstance(args.alpha, str):
        return None
    alpha = estimator.alpha_
    if args.alpha == "hierarchical":
        posterior = estimator.alpha_posterior_
        low, high = posterior.interval
        method = estimator.prior_.describe()
        row = {
            "alpha": [alpha],
            "mean": [posterior.mean],
            "low": [low],
            "high": [high],
            "prob": [posterior.prob],
            "method": [method],
        }
        if args.family == "bernoulli":
            row.update(C=[estimator.C_], C_low=[estimator.C_interval_[0]], C_high=[estimator.C_interval_[1]])
        line = f"alpha from full Bayes ({method}): {posterior.describe()}"
        return line, _csv(pd.DataFrame(row))
    if args.alpha == "eb":
        mcse = estimator.alpha_mcse_
        method = "BayesianRidge's evidence" if args.prior == "gaussian" else "Monte Carlo EM"
        line = f"alpha from empirical Bayes ({method}): alpha = {alpha:.6g} +- {mcse:.2g} (Monte Carlo se)"
        frame = pd.DataFrame({"alpha": [alpha], "mcse": [mcse], "method": [method]})
        return line, _csv(frame)
    if args.alpha != "cv":
        return None
    results = estimator.cv_results_
    scores, best = results["scores"], results["best_index"]
    n_alphas, n_folds = scores.shape
    scoring = results["scoring"]
    if args.family == "bernoulli":
        where = f"LogisticRegressionCV's grid: C = {estimator.C_:.6g}, alpha = 1/C = {alpha:.6g}"
        grid = {"C": 1.0 / results["alphas"]}
    else:
        where = f"{_CV_COUNTERPARTS[args.prior]}'s grid: alpha = {alpha:.6g}"
        grid = {"alpha": results["alphas"]}
    line = (
        f"alpha from {n_folds}-fold CV, {where} (index {best} of {n_alphas}, mean held-out {scoring} "
        f"{results['mean_score'][best]:.6g})"
    )
    frame = pd.DataFrame(
        {
            **grid,
            f"mean_{scoring}": results["mean_score"],
            f"sd_{scoring}": results["sd_score"],
            **{f"fold_{k + 1}": scores[:, k] for k in range(n_folds)},
            "chosen": np.arange(n_alphas) == best,
        }
    )
    return line, _csv(frame)


def _fit(args) -> int:
    from bayesreg.compare import compare_map_posterior, posterior_summary, sparsity_summary
    from bayesreg.data import check_xy
    from bayesreg.diagnostics import gate_columns

    _check_model_options(args)
    _check_sparsity_options(args)
    if args.alpha is None and args.prior not in SPARSITY_KINDS:
        args.alpha = 1.0
    _check_learned_alpha(args)
    sampling = _sampling(args, NUTS, "--method nuts", args.method in POSTERIOR_METHODS, prior_warmup=True)
    if args.out is None and sampling is not None:
        raise _UsageError(
            f"--method {args.method} needs --out DIR: the posterior is written to DIR/posterior.nc"
        )
    out = None if args.out is None else _check_model_out(args.out)
    moments = _read_large(args, "fit")
    if moments is not None:
        if args.family != "gaussian":
            return _fit_large_glm(args, moments, out)
        return _fit_large(args, moments, out, sampling)
    X, y, notes = _read(args)
    offset = _take_offset(args, X)
    _check_feature_names(args, map(str, X.columns))
    data = check_xy(X, y, family=args.family)  # what the estimator refuses, refused before the notes
    _print_notes("fit", notes)
    estimator = _estimator(args, sampling)
    with _warnings_as_lines("fit", args.flags):
        numeric = args.alpha is not None and not isinstance(args.alpha, str)
        swamped = _alpha_max_warning(args, data.X, data.y, offset) if numeric else None
        estimator.fit(X, y) if offset is None else estimator.fit(X, y, offset=offset)
        learned = _learned_alpha(args, estimator)
        mode = estimator.map_  # the MAP (the penalised estimate), also when coef_ holds posterior means
        point = {"coef": estimator.coef_, "intercept": estimator.intercept_} if mode is None else mode.params
        coef = np.asarray(point["coef"], dtype=float)  # a sparsity prior: the posterior means, no MAP
        intercept = float(point["intercept"]) if args.fit_intercept else None
        files: dict[str, Content] = {}
        summary = gate = table = None
        passed = True
        if sampling is not None:
            fit = estimator.posterior_fit_
            summary = posterior_summary(fit.idata)
            gate = gate_columns(summary, fit.diagnostics)
            passed = fit.diagnostics.ok
            table = None if mode is None else compare_map_posterior(fit.idata, coef)
        printed, files["coefficients.csv"] = _coefficient_table(
            X.columns, coef, intercept, summary, gate, has_map=mode is not None
        )
        modelled = None if args.family != "bernoulli" else _target_text(args.target, estimator.classes_)
        if modelled is not None:
            files["target.txt"] = f"{modelled}\n".encode()
        sigma = estimator.sigma_ if args.family == "gaussian" else 1.0
        if learned is not None:
            files["alpha.csv"] = learned[1]
        if mode is None:
            description = _sparsity_description(args, estimator.prior_, sigma, X.shape)
        else:
            description = _prior_description(args, estimator.alpha_, sigma, X.shape[0], estimator)
        record = _offset_record(args)
        written = (
            [] if out is None else _write_all(out, files, estimator, record)
        )  # + model.json, posterior.nc

    fit_line = f"MAP of {X.shape[0]} rows, {X.shape[1]} features, target {args.target!r}"
    if learned is not None:
        print(learned[0])
    print(description)
    if modelled is not None:
        print(modelled)
    if mode is not None:
        state = "converged" if mode.converged else "NOT converged"
        print(f"{fit_line}; {state} in {mode.num_steps} proximal Newton steps")
    if sampling is not None:
        how = (
            " (Laplace prior as a normal-exponential scale mixture)"
            if fit.parametrisation == "mixture"
            else ""
        )
        rows = (
            ""
            if mode is not None
            else f" of {X.shape[0]} rows, {X.shape[1]} features, target {args.target!r}"
        )
        warmup, draws = fit.idata.sample_stats.attrs["num_warmup"], sampling["num_samples"]
        runs = f"{sampling['num_chains']} chains x ({warmup} warmup + {draws} draws)"
        if fit.parametrisation == "gibbs":
            print(f"Gibbs posterior{rows}: {runs}, one sweep each, seed {sampling['seed']}")
        else:
            print(
                f"NUTS posterior{rows}: {runs}, seed {sampling['seed']}, {fit.mass_matrix} mass matrix{how}, "
                f"target_accept {sampling['target_accept']:g}, max tree depth {sampling['max_tree_depth']}"
            )
        verdict = "passed" if passed else "FAILED (results not to be trusted)"
        print(f"diagnostics: {_diagnostics_line(fit.diagnostics)}; gate {verdict}")
    print()
    print(printed)
    print()
    if table is not None:
        print(_sparsity_line(sparsity_summary(table), table.attrs["hdi_prob"]))
    elif sampling is not None:
        print(_hdi_zero_line(summary, X.columns))
    else:
        print(f"{int((coef == 0).sum())} of {X.shape[1]} coefficients are exactly 0")
    if swamped is not None:
        print(f"alpha {args.alpha:g} >= alpha_max = {swamped:.4g}: the prior swamps the data")
    if written:
        print("wrote " + ", ".join(map(str, written)))
    return 0 if passed else _gate_failed("fit")


# ---------------------------------------------------------------------------------------------------
# predict


def _predict_description(model, table, data: str, column=None) -> list[str]:
    """What the columns of ``table`` (`bayesreg.prediction_table` of ``model``) hold, in lines; a
    count model's at the offset of ``column`` (a `~bayesreg.model_folder.OffsetColumn`, or None)."""
    nuts = hasattr(model, "idata_")
    kind = type(model).__name__
    if nuts:
        s = model.idata_.posterior.sizes
        how = f"NUTS posterior, {s['chain']} chains x {s['draw']} draws"
    else:
        how = "MAP, a point estimate"
    lines = [f"{kind} ({how}): {len(table)} rows of {data!r} predicted"]
    interval = f"central {table.attrs['prob']:.0%} interval (lower, upper)"
    if hasattr(model, "classes_"):
        other, modelled = (c.item() if hasattr(c, "item") else c for c in model.classes_)
        what = f"probability of the class {modelled!r} (against {other!r})"
        lines.append(f"{what}{f', its {interval}' if nuts else ''} and the predicted label")
    else:
        lines.append("mean of a new target" + (f", its sd (noise included) and {interval}" if nuts else ""))
    if column is None and _is_count_model(model):
        lines.append("counts at exposure 1 (offset 0): multiply each row's mean by its exposure")
    elif column is not None and column.kind != "none":
        what = "exposure" if column.kind == "exposure" else "offset (log exposure)"
        lines.append(f"counts at each row's exposure: its {what} from column {column.column!r}")
    ignored = table.attrs["ignored_columns"]
    if ignored:
        lines.append("ignored columns (not features of the model): " + ", ".join(map(str, ignored)))
    return lines


def _is_count_model(model) -> bool:
    from bayesreg.estimators import BayesianNegativeBinomialRegression, BayesianPoissonRegression

    return isinstance(model, BayesianPoissonRegression | BayesianNegativeBinomialRegression)


def _predict_offset_column(args, model):
    """The `~bayesreg.model_folder.OffsetColumn` the new rows' offset comes from: --offset or
    --exposure, else the one recorded in the model folder (None where none was recorded). Refuses
    both options at once, either for a model that takes no offset, and either for a count model
    fitted without one."""
    from bayesreg.model_folder import NO_OFFSET, offset_column

    if args.offset is not None and args.exposure is not None:
        raise _UsageError("give --offset (the log exposure) or --exposure, not both")
    given = _given_offset_column(args)
    if not _is_count_model(model):
        if given is not None:
            raise _UsageError(
                f"{given.flag} applies to a count model (bayesreg fit --family poisson or "
                f"negative_binomial); {args.model!r} holds a {type(model).__name__}, which takes no offset"
            )
        return None
    recorded = offset_column(args.model)
    if given is None:
        return recorded
    if recorded == NO_OFFSET:
        raise _UsageError(
            f"{given.flag} {given.column}: the model in {args.model!r} was fitted without an offset "
            "(bayesreg fit had no --offset or --exposure), so its predictions take none"
        )
    return given


def _rows_offset(args, frame, column, names):
    """The new rows without the offset's ``column`` (a `~bayesreg.model_folder.OffsetColumn`), and
    their offset from it; a missing column, a feature's, or a bad value (NaN, inf, text; an
    exposure <= 0) refused, the value by its line in the file."""
    from bayesreg.data import DataError, bad_cell

    name = column.column
    if name not in [str(c) for c in frame.columns]:
        given = getattr(args, column.kind) is not None
        if given:
            raise DataError(
                f"{column.flag} {name!r}: {args.data!r} has no such column; its columns: "
                f"{', '.join(map(str, frame.columns))}"
            )
        raise DataError(
            f"the model was fitted with the {column.kind} column {name!r} (bayesreg fit {column.flag} "
            f"{name}), which {args.data!r} lacks: add each row's {column.kind} as column {name!r}, or "
            "name the column that holds it with --exposure COL or --offset COL"
        )
    if names is not None and name in [str(n) for n in names]:
        raise _UsageError(f"{column.flag} {name!r} is a feature of the model, not an offset column")
    bad = bad_cell(frame[name], exposure=column.kind == "exposure")
    if bad is not None:
        raise DataError(f"{args.data} line {bad[0] + 2}, {bad[1]}")
    return frame.drop(columns=name), column.offset(frame[name].to_numpy(dtype=np.float64))


def _predict(args) -> int:
    import pandas as pd

    from bayesreg.data import read_rows
    from bayesreg.model_folder import load
    from bayesreg.predictive import prediction_table

    out = None if args.out is None else _check_out(args.out)
    model = load(args.model)
    column = _predict_offset_column(args, model)
    names = getattr(model, "feature_names_in_", None)
    rows = read_rows(args.data, None if names is None else list(names), sep=args.sep)
    nuts = hasattr(model, "idata_")
    if args.prob is not None and not nuts:
        raise _UsageError(
            f"--prob applies to a model fitted with --method nuts; {args.model!r} holds a MAP fit, "
            "which has no intervals"
        )
    X, offset = rows.X, None
    if column is not None and column.kind != "none":
        X, offset = _rows_offset(args, rows.X, column, names)
    table = prediction_table(model, X, prob=HDI_PROB if args.prob is None else args.prob, offset=offset)
    _print_notes("predict", rows.notes)  # after every refusal: a refused run prints one line
    if not nuts:
        what = "probability and label" if hasattr(model, "classes_") else "mean"
        _print_notes(
            "predict",
            [
                f"the model is a MAP fit (a point estimate, without uncertainty): the {what} only, no sd "
                "or interval; refit with bayesreg fit --method nuts for those"
            ],
        )
    written = [] if out is None else _write_all(out, {PREDICTIONS_FILE: _csv(table)})
    for line in _predict_description(model, table, args.data, column):
        print(line)
    print()
    with pd.option_context("display.max_columns", None, "display.width", 200):
        print(table.head(PREDICT_SHOWN_ROWS).to_string(float_format="{:.6g}".format))
    if len(table) > PREDICT_SHOWN_ROWS:
        print(f"... ({len(table) - PREDICT_SHOWN_ROWS} more rows)")
    print()
    if written:
        print("wrote " + ", ".join(map(str, written)))
    if not nuts or model.diagnostics_.ok:
        return 0
    d = model.diagnostics_
    print(
        f"{PROG} predict: diagnostics failed: the model's NUTS posterior failed its diagnostics gate when "
        f"it was fitted (max R-hat {d.max_rhat:.3f}, min bulk ESS {d.min_ess_bulk:.0f}, {d.divergences} "
        "divergences), so its predictions are not to be trusted; refit it as bayesreg fit's warnings "
        "said (exit status 3)",
        file=sys.stderr,
    )
    return 3


# ---------------------------------------------------------------------------------------------------
# path


def _check_path_options(args) -> None:
    if args.prior in SPARSITY_KINDS:
        raise _UsageError(
            f"--prior {args.prior} has no penalty path: a sparsity prior has no alpha (it learns its "
            f"scales) and no MAP; fit it with bayesreg fit --prior {args.prior} --method nuts"
        )
    _check_model_options(args)
    if args.alphas is not None:
        for option in ("n_alphas", "eps"):
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                raise _UsageError(f"{flag} applies without --alphas only (--alphas gives the grid itself)")
    elif args.prior == "gaussian":
        raise _UsageError(
            "--prior gaussian needs --alphas: an L2 penalty sets no weight exactly to 0, so there is no "
            "alpha_max to start a grid from"
        )
    if args.convention == "book" and args.family == "gaussian" and args.sigma is None:
        raise _UsageError(
            "--convention book with --family gaussian needs --sigma: the book objective divides the "
            "squared error by sigma^2"
        )
    needed = {"negative_binomial": ("dispersion",), "student_t": ("df", "sigma")}.get(args.family, ())
    for name in needed:
        if getattr(args, name) is None:
            raise _UsageError(
                f"--family {args.family} needs {args.flags[name]} for a path: it is held fixed along the "
                "grid (bayesreg fit estimates it at one alpha)"
            )


def _path_table(names, penalised, posterior=None, ok=None) -> bytes:
    """path.csv: one row per alpha (in the order computed) and feature, the MAP of ``penalised``
    (a `MAPPath`) and with ``posterior`` (a `PosteriorPath`) its `PATH_COLUMNS` and the
    `PATH_GATE_COLUMNS` of each alpha (``ok``: `check_path_diagnostics`'s, per alpha)."""
    import pandas as pd

    n_alphas, p = penalised.coefs.shape
    frame = pd.DataFrame(
        {
            "alpha": np.repeat(penalised.alphas, p),
            "feature": np.tile(np.asarray(names, dtype=object), n_alphas),
            "map": penalised.coefs.ravel() + 0.0,  # + 0.0: no "-0" in the CSV
        }
    )
    if posterior is not None:
        for column in PATH_COLUMNS:
            frame[column] = np.asarray(getattr(posterior, column), dtype=float).ravel() + 0.0
        per_alpha = {
            "max_r_hat": posterior.max_r_hat + 0.0,
            "min_ess_bulk": posterior.min_ess_bulk + 0.0,
            "divergences": posterior.divergences,
            "ok": ok,
        }
        for column in PATH_GATE_COLUMNS:
            frame[column] = np.repeat(np.asarray(per_alpha[column]), p)
    return _csv(frame)


def _path_summary(penalised, posterior=None, ok=None, rows: int = 5) -> str:
    """Non-zeros of the MAP (and, with a posterior, HDIs that exclude 0) at a few alphas of the grid."""
    n_alphas, p = penalised.coefs.shape
    header = ["alpha", f"MAP non-zeros (of {p})"]
    if posterior is not None:
        header += [f"{posterior.hdi_prob:.0%} HDIs without 0", "max R-hat", "ok"]
    table = []
    for i in np.unique(np.linspace(0, n_alphas - 1, min(rows, n_alphas)).round().astype(int)):
        row = [f"{penalised.alphas[i]:.4g}", str(int((penalised.coefs[i] != 0).sum()))]
        if posterior is not None:
            outside = (posterior.hdi_low[i] > 0) | (posterior.hdi_high[i] < 0)
            row += [str(int(outside.sum())), f"{posterior.max_r_hat[i]:.3f}", "yes" if ok[i] else "NO"]
        table.append(row)
    return _text_table(header, table)


def _path(args) -> int:
    from bayesreg import report
    from bayesreg.data import check_xy
    from bayesreg.diagnostics import check_path_diagnostics
    from bayesreg.path import alpha_grid, map_path, posterior_path

    _check_path_options(args)
    sampling = _sampling(args, PATH_NUTS, "--posterior", args.posterior)
    out = _check_out(args.out)
    moments = _read_large(args, args.command)
    if moments is not None:
        return _path_large(args, moments, out, sampling)
    table = _read(args)
    offset = _take_offset(args, table.X)
    data = check_xy(table.X, table.y, family=args.family)
    X, y = data.X, data.y
    model = {
        "prior": args.prior,
        "l1_ratio": args.l1_ratio,
        "family": args.family,
        "convention": args.convention,
        "fit_intercept": args.fit_intercept,
        "standardize": args.standardize,
    }
    likelihood = {"offset": offset, "dispersion": args.dispersion, "df": args.df}
    model.update({name: value for name, value in likelihood.items() if value is not None})
    # the MAP takes a fixed sigma, or its own default (the sklearn MAP does not depend on sigma)
    fixed = {} if args.sigma is None else {"sigma": args.sigma}
    if args.alphas is None:
        n_alphas = args.n_alphas
        if n_alphas is None:
            n_alphas = POSTERIOR_N_ALPHAS if args.posterior else N_ALPHAS
        eps = EPS if args.eps is None else args.eps
        alphas = alpha_grid(X, y, n_alphas=n_alphas, eps=eps, **model, **fixed)
        grid = f"{n_alphas} alphas from alpha_max = {alphas[0]:.4g} down to {alphas[-1]:.4g} (eps = {eps:g})"
    else:
        alphas = np.asarray(args.alphas, dtype=float)
        grid = f"{alphas.size} alphas given, from {alphas[0]:.4g} to {alphas[-1]:.4g}"
    _print_notes("path", table.notes)  # after every refusal: a refused run prints one line
    modelled = None if args.family != "bernoulli" else _target_text(args.target, data.classes)
    with _warnings_as_lines("path", args.flags):
        posterior = ok = None
        if sampling is not None:
            posterior = posterior_path(X, y, alphas, sigma=args.sigma, **sampling, **model)
            ok = check_path_diagnostics(posterior).ok  # its warnings become lines on stderr
            if not ok.all() and not args.standardize:
                _warn_scale(X, data.names)
            penalised = posterior.map
        else:
            penalised = map_path(X, y, alphas, **model, **fixed)
        figure = report.path_figure(penalised if posterior is None else posterior, data.names)
        files: dict[str, Content] = {
            "path.csv": _path_table(data.names, penalised, posterior, ok),
            "path.png": lambda path: figure.savefig(path, format="png", dpi=110, bbox_inches="tight"),
        }
        if modelled is not None:
            files["target.txt"] = f"{modelled}\n".encode()
        written = _write_all(out, files)
    kind = {"laplace": "L1 (Laplace prior)", "gaussian": "L2 (Gaussian prior)"}.get(
        args.prior, f"elastic net (l1_ratio = {args.l1_ratio:g})"
    )
    columns = " (prior on the standardized columns; coefficients on the original ones)"
    print(
        f"{kind} path, {args.family} family, {args.convention} convention: {X.shape[0]} rows, "
        f"{X.shape[1]} features, target {args.target!r}{columns if args.standardize else ''}"
    )
    if modelled is not None:
        print(modelled)
    print(f"grid: {grid}; MAP converged at {int(penalised.converged.sum())} of {alphas.size}")
    if posterior is not None:
        print(_posterior_path_line("posterior", posterior, sampling, ok))
    print()
    print(_path_summary(penalised, posterior, ok))
    print()
    print("wrote " + ", ".join(map(str, written)))
    return 0 if ok is None or ok.all() else _gate_failed("path")


def _posterior_path_line(source: str, posterior, sampling: dict, ok) -> str:
    """The line `path --posterior` prints about the posterior at every α (``ok`` the gate's verdict
    per α), after ``source`` (where it was sampled from)."""
    mixture = " (Laplace prior as a scale mixture at some alphas)" if posterior.mixture.any() else ""
    return (
        f"{source}: NUTS at every alpha, {sampling['num_chains']} chains x ({sampling['num_warmup']} "
        f"warmup + {sampling['num_samples']} draws), seed {sampling['seed']}{mixture}; max R-hat "
        f"{posterior.max_r_hat.max():.3f}, min bulk ESS {posterior.min_ess_bulk.min():.0f}, "
        f"{int(posterior.divergences.sum())} divergences; gate passed at {int(ok.sum())} of {ok.size} alphas"
    )


def _path_large(args, moments, out: Path, sampling: dict | None) -> int:
    """`bayesreg path` through Dask: the gaussian MAP path from the statistics of one pass
    (`~bayesreg.large.path_from_moments`) or, with ``sampling``, the posterior at every alpha too
    (`~bayesreg.large.posterior_path_from_moments`, the gate columns and exit status 3 as in
    memory); or the count families' MAP path, which ``moments`` then is (a
    `~bayesreg.large.CountPath`, a pass per Newton step): path.csv and path.png as in memory."""
    from bayesreg import report
    from bayesreg.diagnostics import check_path_diagnostics
    from bayesreg.large import CountPath, path_from_moments, posterior_path_from_moments

    counts = isinstance(moments, CountPath)  # the count families' path, found while reading
    if counts:
        result, moments = moments, moments.moments
    _check_feature_names(args, moments.names)
    model = {
        "prior": args.prior,
        "l1_ratio": args.l1_ratio,
        "convention": args.convention,
        "fit_intercept": args.fit_intercept,
        "standardize": args.standardize,
    }
    if args.sigma is not None:
        model["sigma"] = args.sigma
    if args.alphas is None:
        n_alphas = args.n_alphas
        if n_alphas is None:
            n_alphas = POSTERIOR_N_ALPHAS if sampling is not None else N_ALPHAS
        eps = EPS if args.eps is None else args.eps
        penalised = result.path if counts else path_from_moments(moments, n_alphas=n_alphas, eps=eps, **model)
        alphas = penalised.alphas
        grid = f"{n_alphas} alphas from alpha_max = {alphas[0]:.4g} down to {alphas[-1]:.4g} (eps = {eps:g})"
    else:
        alphas = np.asarray(args.alphas, dtype=float)
        grid = f"{alphas.size} alphas given, from {alphas[0]:.4g} to {alphas[-1]:.4g}"
    _print_notes("path", moments.notes)
    with _warnings_as_lines("path", args.flags):
        posterior = ok = None
        if sampling is not None:
            posterior = posterior_path_from_moments(moments, alphas, **model, **sampling)
            ok = check_path_diagnostics(posterior).ok  # its warnings become lines on stderr
            penalised = posterior.map
        elif counts:
            penalised = result.path
        elif args.alphas is not None:
            penalised = path_from_moments(moments, alphas, **model)
        figure = report.path_figure(penalised if posterior is None else posterior, moments.names)
        files: dict[str, Content] = {
            "path.csv": _path_table(moments.names, penalised, posterior, ok),
            "path.png": lambda path: figure.savefig(path, format="png", dpi=110, bbox_inches="tight"),
        }
        written = _write_all(out, files)
    kind = {"laplace": "L1 (Laplace prior)", "gaussian": "L2 (Gaussian prior)"}.get(
        args.prior, f"elastic net (l1_ratio = {args.l1_ratio:g})"
    )
    columns = " (prior on the standardized columns; coefficients on the original ones)"
    shown = columns if args.standardize else ""
    passes = f"{result.passes} passes" if counts else "one pass"
    print(
        f"{kind} path, {args.family} family, {args.convention} convention: {moments.n} rows (read through "
        f"Dask, {passes}), {len(moments.names)} features, target {args.target!r}{shown}"
    )
    print(f"grid: {grid}; MAP converged at {int(penalised.converged.sum())} of {alphas.size}")
    if posterior is not None:
        print(_posterior_path_line("posterior from the statistics of the pass", posterior, sampling, ok))
    print()
    print(_path_summary(penalised, posterior, ok))
    print()
    print("wrote " + ", ".join(map(str, written)))
    return 0 if ok is None or ok.all() else _gate_failed("path")


# ---------------------------------------------------------------------------------------------------
# compare


def _prior_names(text: str) -> list[str]:
    """--priors: comma-separated names of `bayesreg.params.PRIOR_KINDS` (the names
    `~bayesreg.prior_comparison.compare_priors` takes)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in PRIOR_KINDS]
    if not names or unknown:
        shown = repr(unknown[0]) if unknown else "none"
        raise argparse.ArgumentTypeError(f"unknown prior {shown}; expected some of {', '.join(PRIOR_KINDS)}")
    return names


def _warmups(fits: dict) -> str:
    """The warmup steps the fits of `~bayesreg.prior_comparison.compare_priors` ran (each posterior's
    ``sample_stats.attrs["num_warmup"]``): one number where they agree, else each with its priors,
    e.g. ``"500 (laplace, gaussian) / 1000 (horseshoe)"``."""
    by_warmup: dict[int, list[str]] = {}
    for name, fitted in fits.items():
        idata = fitted.idata_ if hasattr(fitted, "idata_") else fitted.idata
        by_warmup.setdefault(int(idata.sample_stats.attrs["num_warmup"]), []).append(str(name))
    if len(by_warmup) == 1:
        return str(next(iter(by_warmup)))
    return " / ".join(f"{warmup} ({', '.join(names)})" for warmup, names in sorted(by_warmup.items()))


def _compare(args) -> int:
    from matplotlib.figure import Figure

    from bayesreg.data import check_xy, read_table
    from bayesreg.prior_comparison import compare_priors, plot_compare

    if args.family == "bernoulli" and args.alpha == "eb":
        raise _UsageError("--alpha eb (empirical Bayes) needs --family gaussian: use --alpha cv")
    out = _check_out(args.out)
    _read_large(args, args.command)  # refuses the Dask engine, which has no rows
    table = read_table(args.data, args.target, args.family, sep=args.sep, drop_constant=args.drop_constant)
    check_xy(table.X, table.y, family=args.family)
    _print_notes("compare", table.notes)
    strength = args.alpha if isinstance(args.alpha, str) else 1.0 / args.alpha  # C = 1/alpha
    with _warnings_as_lines("compare", args.flags):
        result = compare_priors(
            table.X,
            table.y,
            args.priors,
            family=args.family,
            alpha=args.alpha,
            C=strength,
            fit_intercept=args.fit_intercept,
            standardize=args.standardize,
            num_warmup=args.num_warmup,
            num_samples=args.num_samples,
            num_chains=args.num_chains,
            seed=args.seed,
            kfold=args.kfold,
            n_splits=args.n_splits,
        )
        fig = Figure(figsize=(8.0, 0.5 + 0.55 * len(result.table)), layout="constrained")
        plot_compare(result.table, ax=fig.subplots())
        written = _write_all(
            out,
            {
                "compare.csv": _csv(result.table.rename_axis("prior").reset_index()),
                "compare.png": lambda path: fig.savefig(path, format="png", dpi=110),
            },
        )
    t = result.table
    rows = [
        [
            str(name),
            f"{row['elpd_loo']:.2f}",
            f"{row['se']:.2f}",
            f"{row['elpd_diff']:.2f}",
            f"{row['dse']:.2f}",
            f"{row['weight']:.3f}",
            str(row["elpd_method"]),
            str(row["pareto_k_high"]),
            "yes" if row["diagnostics_ok"] else "NO",
        ]
        for name, row in t.iterrows()
    ]
    header = ["prior", "elpd", "se", "elpd_diff", "dse", "weight", "method", "k_high", "diagnostics ok"]
    print(
        f"{len(table.y)} rows, {table.X.shape[1]} features, target {args.target!r}: NUTS {args.num_chains} "
        f"chains x ({_warmups(result.fits)} warmup + {args.num_samples} draws) per prior, seed {args.seed}"
    )
    print(_text_table(header, rows))
    print(f"best: {t.index[0]} (elpd_diff and dse: the difference to it and its standard error)")
    print("wrote " + ", ".join(map(str, written)))
    return 0 if bool(t["diagnostics_ok"].all()) else _gate_failed("compare")


# ---------------------------------------------------------------------------------------------------
# demo


def _demo(args) -> int:
    from bayesreg import report
    from bayesreg.demo import run_demo
    from bayesreg.diagnostics import check_path_diagnostics

    out = _check_out(args.out)
    with _warnings_as_lines("demo", args.flags):
        r = run_demo(nuts=NUTSSettings(args.num_warmup, args.num_samples, args.num_chains), seed=args.seed)
        p, path = r.posterior, r.path  # both computed: run_demo's defaults
        written = _write_all(
            out,
            {
                "report.html": report.demo_report(r, flags=args.flags).encode(),
                "coefficients.csv": r.coefficients.to_csv(float_format="%.17g").encode(),
                "posterior.nc": _netcdf(p.idata),
                "path.csv": _path_table(
                    path.names,
                    path.posterior.map,
                    path.posterior,
                    check_path_diagnostics(path.posterior, warn=False).ok,
                ),
            },
        )
    print(f"diabetes data, {r.n_samples} rows: bayesreg MAP against scikit-learn")
    print(
        f"  L1 (Laplace prior) vs Lasso(alpha={r.lasso_alpha:g}): max |dcoef| = {r.max_delta_l1:.1e}, "
        f"identical zero sets: {'yes' if r.same_zeros_l1 else 'NO'}"
    )
    print(
        f"  L2 (Gaussian prior) vs Ridge(alpha={r.ridge_alpha:g}): max |dcoef| = {r.max_delta_l2:.1e}, "
        f"identical zero sets: {'yes' if r.same_zeros_l2 else 'NO'}"
    )
    s = p.settings
    print(
        f"Laplace posterior (NUTS, {s['num_chains']} chains x ({s['num_warmup']} warmup + "
        f"{s['num_samples']} draws), seed {s['seed']}):"
    )
    print(f"  {report.sparsity_sentence(p.table, p.sparsity)}")
    print(f"  diagnostics: {_diagnostics_line(p.diagnostics)}")
    print(
        f"  held-out coverage: {p.coverage:.1%} of {len(p.y_test)} held-out targets inside their "
        f"{p.coverage_prob:.0%} posterior predictive intervals (nominal {p.coverage_prob:.0%})"
    )
    s = path.settings
    print(
        f"Laplace posterior path ({s['n_alphas']} alphas, NUTS {s['num_chains']} chains x "
        f"({s['num_warmup']} warmup + {s['num_samples']} draws) per alpha, seed {s['seed']}):"
    )
    print(f"  {report.path_sentence(path.posterior, path.names)}")
    print("wrote " + ", ".join(map(str, written)))
    return 0


# ---------------------------------------------------------------------------------------------------
# entry point


def _one_line(message) -> str:
    return " ".join(str(message).split())


def _cache_folder() -> Path | None:
    """``$XDG_CACHE_HOME/bayesreg/jax`` (an absolute XDG_CACHE_HOME only), else ``~/.cache/bayesreg/jax``.

    None when neither gives an absolute path: the cache never lands in the working directory.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory
            return None
    folder = Path(base) / PROG / "jax"
    return folder if folder.is_absolute() else None


@contextlib.contextmanager
def _compilation_cache():
    """JAX's persistent compilation cache in `_cache_folder` while the block runs.

    Every compiled computation is cached (``jax_persistent_cache_min_compile_time_secs = 0``), so a
    second run on data of the same shape loads the samplers instead of compiling them. The previous
    settings come back afterwards. A cache folder chosen by the user (``JAX_COMPILATION_CACHE_DIR``)
    is left as it is; when the folder cannot be created or written, the block runs without a cache.
    """
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    folder = _cache_folder()
    if jax.config.jax_compilation_cache_dir is not None or folder is None:
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        usable = os.access(folder, os.W_OK | os.X_OK)
    except OSError:
        usable = False
    if not usable:
        yield
        return
    previous = jax.config.jax_persistent_cache_min_compile_time_secs
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    try:
        yield
    finally:
        jax.config.update("jax_compilation_cache_dir", None)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", previous)
        compilation_cache.reset_cache()  # forget the folder: later compilations are not cached


@contextlib.contextmanager
def _quiet_arviz_log():
    """ArviZ's logged notes (e.g. that one chain is too few for R-hat) held back while the block
    runs: the diagnostics' own warnings say the same in one line, with what to do."""
    import logging

    logger = logging.getLogger("arviz")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def main(argv: list[str] | None = None) -> int:
    """Run the ``bayesreg`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success, 1 when the outputs could not be written, 2 for bad input or options, 3 when a
        NUTS run failed its diagnostics (every file written and marked).

    Examples
    --------
    A bad option is refused before anything runs: exit status 2, and one line on stderr
    (``bayesreg fit: error: argument --alpha: alpha must be a positive finite number, got '0' ...``).

    >>> from bayesreg.cli import main
    >>> main(["fit", "data.csv", "--target", "y", "--alpha", "0", "--out", "out"])
    2
    """
    from bayesreg.data import DataError

    try:
        args = _parser().parse_args(argv)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return 2
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    command = {"fit": _fit, "predict": _predict, "path": _path, "demo": _demo, "compare": _compare}[
        args.command
    ]
    try:
        with _compilation_cache(), _quiet_arviz_log():
            return command(args)
    except _UsageError as error:
        message = str(error)
    except (DataError, ValueError, OSError) as error:
        message = _one_line(error) or type(error).__name__
    except _WriteError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1
    print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
    return 2


def _with_small_loop_kernels(flags: str) -> str:
    """``flags`` (an ``XLA_FLAGS`` value) with `~bayesreg.engine.SMALL_LOOPS_XLA_FLAG` added, unless
    they set ``xla_backend_extra_options`` themselves (a user's choice is kept as it is)."""
    from bayesreg.engine import SMALL_LOOPS_XLA_FLAG

    if "xla_backend_extra_options" in flags:
        return flags
    return f"{flags} {SMALL_LOOPS_XLA_FLAG}".strip()


def run() -> None:
    """The ``bayesreg`` console script: `main`, then exit with its status.

    The objects of the imported modules (JAX, NumPy, SciPy, pandas, scikit-learn), which live as
    long as the process, are moved out of the garbage collector's reach first (``gc.freeze``), so
    its collections no longer walk them. Everything left is frozen again before exit: Python's last
    collection would walk every object of JAX, ArviZ and SciPy and free nothing that the end of the
    process does not.

    The process's ``XLA_FLAGS`` gain `~bayesreg.engine.SMALL_LOOPS_XLA_FLAG` (see
    `_with_small_loop_kernels`) before JAX computes anything.
    """
    os.environ["XLA_FLAGS"] = _with_small_loop_kernels(os.environ.get("XLA_FLAGS", ""))
    gc.freeze()
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
