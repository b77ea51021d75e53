"""Parameter constraints: one table, one checker, one message for each kind of mistake.

Every public setting that more than one entry point takes (the estimators, the path functions, the
posterior functions and the command line) has its constraint in `CONSTRAINTS`, and every entry point
checks it with `check_params` (or, on the command line, with the argparse type `cli_type`), so a bad
value gets the same message wherever it is given::

    alpha must be a positive finite number, got 0
    num_chains must be at least 1, got 0
    unknown prior 'cauchy'; expected one of gaussian, laplace, elasticnet

The command line names the option as it is typed, after argparse's own prefix
(``argument --num-chains: num-chains must be at least 1, got '0'``).
This is scikit-learn's ``_parameter_constraints`` idea with bayesreg's own small set of constraint
types (scikit-learn's are private to it).
"""

from __future__ import annotations

import argparse
import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = [
    "CONSTRAINTS",
    "CONVENTIONS",
    "ESTIMATOR_CONSTRAINTS",
    "FAMILIES",
    "FITTED_FAMILIES",
    "GLM_FAMILIES",
    "KFOLD_CHOICES",
    "LEARNED",
    "LEARNED_C",
    "MODEL_CONSTRAINTS",
    "MASS_MATRICES",
    "MAX_TREE_DEPTH_LIMIT",
    "METHODS",
    "POSTERIOR_METHODS",
    "SAMPLERS",
    "NONNEGATIVE",
    "PARAMETRISATIONS",
    "PENALTY_KINDS",
    "PRIOR_KINDS",
    "SPARSITY_KINDS",
    "SPARSITY_OPTIONS",
    "SCORINGS",
    "Interval",
    "Options",
    "check_param",
    "check_params",
    "cli_type",
]


class Interval(NamedTuple):
    """Numbers of one kind between two bounds.

    Attributes
    ----------
    integer : bool
        Integers only (``numbers.Integral``, not bool) or any real number (finite).
    low, high : float or None
        Bounds; None is unbounded on that side.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval.
    hint : str
        Appended to the message in parentheses (what to use instead), or "".
    none_ok : bool
        Whether ``None`` (the documented "choose for me") is allowed too.
    also : tuple of str
        Words allowed besides the numbers (``alpha="cv"``); the message then lists them.

    Examples
    --------
    >>> from bayesreg.params import CONSTRAINTS, Interval, check_param
    >>> CONSTRAINTS["num_chains"]
    Interval(integer=True, low=1, high=None, closed='left', hint='', none_ok=False, also=())
    >>> check_param("learning_rate", 2.0, Interval(integer=False, low=0.0, high=1.0))
    Traceback (most recent call last):
    ...
    ValueError: learning_rate must lie strictly between 0 and 1, got 2.0
    """

    integer: bool
    low: float | None
    high: float | None
    closed: str = "neither"
    hint: str = ""
    none_ok: bool = False
    also: tuple = ()


class Options(NamedTuple):
    """One of a fixed set of values (strings or booleans).

    Attributes
    ----------
    values : tuple
        The allowed values, in the order the message lists them.

    Examples
    --------
    >>> from bayesreg.params import Options, check_param
    >>> backend = Options(("jax", "numpy"))
    >>> check_param("backend", "numpy", backend)
    'numpy'
    >>> check_param("backend", "torch", backend)
    Traceback (most recent call last):
    ...
    ValueError: unknown backend 'torch'; expected one of jax, numpy
    """

    values: tuple


PENALTY_KINDS = ("gaussian", "laplace", "elasticnet")
"""The priors that are penalties: each has a MAP (the penalised estimate) and a penalty strength α, so
the penalty paths, cross-validation and `~bayesreg.priors.prior_from_penalty` take these."""
SPARSITY_KINDS = ("horseshoe", "regularized_horseshoe", "r2d2")
"""The sparsity priors of `bayesreg.shrinkage`: no α (their scales are learned) and no MAP (their
densities are unbounded at 0), so they are fitted by NUTS only."""
PRIOR_KINDS = PENALTY_KINDS + SPARSITY_KINDS
"""Every ``prior=`` the estimators and ``bayesreg fit`` take."""
SPARSITY_OPTIONS = {
    "horseshoe": ("global_scale",),
    "regularized_horseshoe": ("expected_nonzero", "global_scale", "slab_scale", "slab_df"),
    "r2d2": ("r2_mean", "r2_precision"),
}
"""The options of each sparsity prior, as the estimators and the command line name them (the
fields of the `bayesreg.shrinkage` objects; the regularised horseshoe's ``n_samples`` is the data's)."""
CONVENTIONS = ("sklearn", "book", "glum", "statsmodels")
"""How a library's penalty strength α maps to the prior (`~bayesreg.priors.prior_from_penalty` and
`~bayesreg.priors.penalty_from_prior` take each): "book", the negative log-likelihood plus the
penalty; "sklearn", scikit-learn's Lasso / Ridge / ElasticNet, LogisticRegression and
PoissonRegressor; "glum", glum's ``GeneralizedLinearRegressor`` (half the mean deviance plus the
penalty); "statsmodels", statsmodels' ``fit_regularized`` of ``GLM`` and ``OLS`` (the mean negative
log-likelihood plus the penalty)."""
FAMILIES = ("gaussian", "bernoulli", "poisson", "negative_binomial", "student_t")
"""The likelihoods of `bayesreg.models` (the MAP and `~bayesreg.priors.prior_from_penalty` take each)."""
FITTED_FAMILIES = FAMILIES[:2]
"""The families of ``CONSTRAINTS["family"]``: those that cross-validation, the posterior paths, prior
comparison and projection take (the linear and the logistic model). The MAP paths, the estimators
and ``bayesreg fit`` / ``path`` take every family of `FAMILIES` (``MODEL_CONSTRAINTS``)."""
GLM_FAMILIES = FAMILIES[2:]
"""The families with an estimator each besides the linear and logistic ones
(`~bayesreg.BayesianPoissonRegression`, `~bayesreg.BayesianNegativeBinomialRegression`,
`~bayesreg.BayesianStudentTRegression`): a penalty prior at a given α, the MAP or NUTS."""
METHODS = ("map", "nuts", "gibbs")
"""What the estimators compute: the posterior mode, or draws of the posterior (`POSTERIOR_METHODS`)."""
POSTERIOR_METHODS = ("nuts", "gibbs")
"""The methods of `METHODS` that draw the posterior: "nuts" by `~bayesreg.sampling.fit_posterior`'s
NUTS, "gibbs" by the Gibbs sampler (the Gaussian likelihood with a horseshoe-family prior or
a hierarchical Laplace or Gaussian prior only)."""
SAMPLERS = ("auto", "nuts", "gibbs")
"""How `~bayesreg.sampling.fit_posterior` draws: NUTS, the Gibbs sampler of `bayesreg.gibbs`, or
"auto" (`~bayesreg.gibbs.choose_sampler`: Gibbs for the Gaussian likelihood with a prior of
`~bayesreg.gibbs.GIBBS_PRIORS` and more weights than rows, NUTS otherwise)."""
PARAMETRISATIONS = ("auto", "collapsed", "direct", "mixture")
"""What NUTS samples: "collapsed", the noise sd and the prior variances with the coefficients
integrated out (`~bayesreg.models.linear_regression_collapsed`; the Gaussian likelihood under a flat,
Gaussian or Laplace prior); "direct", the model's density; "mixture", a Laplace prior as the
normal–exponential scale mixture (`~bayesreg.engine.LaplaceScaleMixture`); "auto": collapsed where
the model has that form, else directly, and (posterior fits and paths) again as the mixture where a
Laplace density diverged (`~bayesreg.engine.fall_back_to_mixture`)."""
MASS_MATRICES = ("auto", "dense", "diagonal")
"""The mass matrix NUTS adapts: "auto" is dense up to `~bayesreg.engine.DENSE_UP_TO` unconstrained
parameters, and above where a dense matrix costs little next to a gradient that reads every row
(`~bayesreg.engine.dense_mass`), diagonal otherwise."""

LEARNED = ("cv", "eb", "hierarchical")
"""How the estimators learn the penalty strength from the data instead of taking a number:
``"cv"``, the α that k-fold cross-validation picks (`~bayesreg.cv.cv_alpha`); ``"eb"``, empirical
Bayes, the α that maximises the marginal likelihood (`bayesreg.evidence`); ``"hierarchical"``, full
Bayes, a hyperprior on the prior's scale sampled with the weights by NUTS
(`bayesreg.hierarchical`: the posterior of α, not one value)."""
LEARNED_C = ("cv", "hierarchical")
"""The ways of `LEARNED` the logistic model learns ``C`` by (empirical Bayes needs the Gaussian
likelihood)."""
KFOLD_CHOICES = ("auto", "all", "none")
"""Which priors `~bayesreg.prior_comparison.compare_priors` gives the K-fold elpd: those with a high
Pareto k̂, every one, or none."""
SCORINGS = ("mse", "r2", "accuracy", "log_loss")
"""What `~bayesreg.cv.cv_alpha` scores on the held-out rows."""

MAX_TREE_DEPTH_LIMIT = 15
"""The largest ``max_tree_depth`` NUTS takes: ``2**15 = 32768`` leapfrog steps per draw, beyond which
a run is better served by a better mass matrix or parametrisation than by a longer trajectory."""

POSITIVE = Interval(integer=False, low=0.0, high=None)
UNIT = Interval(integer=False, low=0.0, high=1.0)
COUNT = Interval(integer=True, low=1, high=None, closed="left")
SEED = Interval(integer=True, low=0, high=None, closed="left")
NONNEGATIVE = Interval(integer=False, low=0.0, high=None, closed="left")
"""A finite number ≥ 0 (the Gamma hyperpriors' shapes and rates, the evidence iteration's ``tol``)."""
BOOLEAN = Options((True, False))

CONSTRAINTS: dict[str, Interval | Options] = {
    "prior": Options(PENALTY_KINDS),
    "convention": Options(CONVENTIONS),
    "family": Options(FITTED_FAMILIES),
    "scoring": Options(SCORINGS),
    "method": Options(METHODS),
    "laplace_parametrisation": Options(PARAMETRISATIONS),
    "mass_matrix": Options(MASS_MATRICES),
    "target_accept": UNIT,
    "global_scale": POSITIVE,
    "slab_scale": POSITIVE,
    "slab_df": POSITIVE,
    "expected_nonzero": POSITIVE._replace(hint="the expected number of non-zero weights, below their number"),
    "r2_mean": UNIT,
    "r2_precision": POSITIVE,
    "max_tree_depth": Interval(integer=True, low=1, high=MAX_TREE_DEPTH_LIMIT, closed="both"),
    "fit_intercept": BOOLEAN,
    "standardize": BOOLEAN,
    "log_likelihood": BOOLEAN,
    "alpha": POSITIVE,
    "C": POSITIVE,
    "sigma": POSITIVE._replace(none_ok=True),
    "dispersion": POSITIVE._replace(none_ok=True, hint="None estimates it"),
    "df": POSITIVE._replace(none_ok=True, hint="None estimates it"),
    "tol": POSITIVE,
    "l1_ratio": UNIT._replace(hint="use prior='laplace' for 1 and prior='gaussian' for 0"),
    "hdi_prob": UNIT,
    "eps": UNIT,
    "num_warmup": COUNT,
    "num_samples": COUNT,
    "num_chains": COUNT,
    "max_steps": COUNT,
    "max_iter": COUNT,
    "num_em": COUNT,
    "kfold": Options(KFOLD_CHOICES),
    "n_splits": Interval(integer=True, low=2, high=None, closed="left"),
    "alpha_1": NONNEGATIVE,
    "alpha_2": NONNEGATIVE,
    "lambda_1": NONNEGATIVE,
    "lambda_2": NONNEGATIVE,
    "threshold_lambda": POSITIVE,
    "n_alphas": COUNT,
    "thin": COUNT,
    "num_replicates": COUNT,
    "num_draws": COUNT,
    "batch_size": COUNT._replace(none_ok=True),
    "seed": SEED,
    "random_state": SEED._replace(none_ok=True),
}
"""The constraint of each setting by its Python name (the command line's ``--num-chains`` is
``num_chains``)."""

ESTIMATOR_CONSTRAINTS: dict[str, Interval | Options] = {
    **CONSTRAINTS,
    "prior": Options(PRIOR_KINDS),
    "target_accept": UNIT._replace(none_ok=True),
    "num_warmup": COUNT._replace(none_ok=True),
    **{
        name: CONSTRAINTS[name]._replace(none_ok=True)
        for name in sorted({o for v in SPARSITY_OPTIONS.values() for o in v})
    },
    "alpha": POSITIVE._replace(also=LEARNED),
    "C": POSITIVE._replace(also=LEARNED_C),
}
"""`CONSTRAINTS` as the estimators (and ``bayesreg fit``) check their parameters: ``prior`` is any of
`PRIOR_KINDS`; ``alpha`` (``C``) is a number or a way to learn it from the data (`LEARNED`; the
logistic model learns ``C`` by `LEARNED_C`); ``target_accept``, ``num_warmup`` and the sparsity
priors' options may be None, "the prior's default"."""

MODEL_CONSTRAINTS: dict[str, Interval | Options] = {**CONSTRAINTS, "family": Options(FAMILIES)}
"""`CONSTRAINTS` with every likelihood of `FAMILIES`: the MAP paths (`bayesreg.path.map_path`,
`~bayesreg.path.alpha_max`) and ``bayesreg fit`` / ``path`` check ``family`` against it."""


def _describe(c: Interval) -> str:
    """What an interval asks for, e.g. "a positive finite number", "an integer", "a number in (0, 1)"."""
    if c.integer:
        return "an integer"
    if (c.low, c.high, c.closed) == (0.0, None, "neither"):
        return "a positive number"
    if (c.low, c.high) == (0.0, 1.0):
        return "a number in (0, 1)"
    return "a number"


def _outside(c: Interval, value) -> str | None:
    """Why ``value`` (of the right kind) lies outside ``c``, or None when it lies inside."""
    low_ok = c.low is None or value > c.low or (value == c.low and c.closed in ("left", "both"))
    high_ok = c.high is None or value < c.high or (value == c.high and c.closed in ("right", "both"))
    if low_ok and high_ok and (c.integer or math.isfinite(value)):
        return None
    if c.integer:
        if not low_ok:
            return f"must be at least {c.low}" if c.closed in ("left", "both") else f"must exceed {c.low}"
        return f"must be at most {c.high}" if c.closed in ("right", "both") else f"must be below {c.high}"
    if (c.low, c.high, c.closed) == (0.0, None, "neither"):
        return "must be a positive finite number"
    if c.low is not None and c.high is not None and c.closed == "neither":
        return f"must lie strictly between {c.low:g} and {c.high:g}"
    left = "[" if c.closed in ("left", "both") else "("
    right = "]" if c.closed in ("right", "both") else ")"
    low = "-inf" if c.low is None else f"{c.low:g}"
    high = "inf" if c.high is None else f"{c.high:g}"
    return f"must be a finite number in {left}{low}, {high}{right}"


def _message(name: str, value, problem: str, hint: str = "", also: tuple = ()) -> str:
    if also:
        problem += " or one of " + ", ".join(repr(word) for word in also)
    return f"{name} {problem}, got {value!r}" + (f" ({hint})" if hint else "")


def check_param(name: str, value: Any, constraint: Interval | Options | None = None, *, shown: Any = None):
    """``value`` checked against ``constraint`` (by default ``CONSTRAINTS[name]``), as a plain Python
    value (int, float, str, bool or None).

    Parameters
    ----------
    name : str
        The setting's name, as the message shows it.
    value : object
        The value given.
    constraint : Interval or Options, optional
        Defaults to ``CONSTRAINTS[name]``.
    shown : object, optional
        What the message says was given (the command line shows the text typed); ``value`` by default.

    Returns
    -------
    int, float, str, bool or None

    Raises
    ------
    ValueError
        Naming the setting, what it must be and the value given.

    Examples
    --------
    >>> check_param("num_chains", 4)
    4
    >>> check_param("alpha", 0)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be a positive finite number, got 0
    """
    constraint = CONSTRAINTS[name] if constraint is None else constraint
    shown = value if shown is None else shown
    if isinstance(constraint, Options):
        for allowed in constraint.values:
            if value is allowed or (isinstance(allowed, str) and isinstance(value, str) and value == allowed):
                return allowed
        if constraint is BOOLEAN or all(isinstance(v, bool) for v in constraint.values):
            raise ValueError(_message(name, shown, "must be True or False"))
        expected = ", ".join(str(v) for v in constraint.values)
        raise ValueError(f"unknown {name} {shown!r}; expected one of {expected}")
    if value is None and constraint.none_ok:
        return None
    if isinstance(value, str) and value in constraint.also:
        return value
    kind = numbers.Integral if constraint.integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        number = None
        if not constraint.integer and not isinstance(value, bool):
            try:  # a NumPy scalar or a numeric string is a number too
                number = float(value)
            except (TypeError, ValueError):
                number = None
        if number is None:
            problem = f"must be {_describe(constraint)}"
            raise ValueError(_message(name, shown, problem, constraint.hint, constraint.also))
        value = number
    value = int(value) if constraint.integer else float(value)
    problem = _outside(constraint, value)
    if problem is not None:
        raise ValueError(_message(name, shown, problem, constraint.hint, constraint.also))
    return value


def check_params(
    values: Mapping[str, Any], constraints: Mapping[str, Interval | Options] | None = None
) -> dict:
    """Every entry of ``values`` checked by `check_param` (against ``constraints``, by default
    `CONSTRAINTS`), in order; returns them as plain Python values.

    Examples
    --------
    >>> check_params({"prior": "laplace", "num_warmup": 500})
    {'prior': 'laplace', 'num_warmup': 500}
    """
    constraints = CONSTRAINTS if constraints is None else constraints
    return {name: check_param(name, value, constraints[name]) for name, value in values.items()}


def cli_type(name: str, constraint: Interval | Options | None = None):
    """An argparse ``type=`` that parses the option's text and checks it as `check_param` does, with the
    same message (the option named as it is typed, e.g. ``num-chains``).

    Examples
    --------
    >>> import argparse
    >>> from bayesreg.params import cli_type
    >>> parser = argparse.ArgumentParser(prog="bayesreg")
    >>> _ = parser.add_argument("--num-chains", type=cli_type("num_chains"))
    >>> parser.parse_args(["--num-chains", "4"]).num_chains
    4
    >>> cli_type("num_chains")("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: num-chains must be at least 1, got '0'
    """
    constraint = CONSTRAINTS[name] if constraint is None else constraint
    flag = name.replace("_", "-")

    def parse(text: str):
        value: Any = text
        if isinstance(constraint, Interval):
            try:
                value = int(text) if constraint.integer else float(text)
            except ValueError:
                pass  # check_param names the problem: not a number / not an integer
        try:
            return check_param(flag, value, constraint, shown=text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = flag  # argparse names the type in its own messages
    return parse
