"""One checker, one message: `bayesreg.params` against the values users get wrong."""

import argparse

import numpy as np
import pytest

from bayesreg import (
    BayesianLinearRegression,
    BayesianLogisticRegression,
    alpha_grid,
    fit_posterior,
    map_estimate,
    map_path,
    posterior_path,
    sample_posterior,
)
from bayesreg.calibration import sbc_ranks
from bayesreg.models import linear_regression
from bayesreg.params import (
    CONSTRAINTS,
    ESTIMATOR_CONSTRAINTS,
    Interval,
    check_param,
    check_params,
    cli_type,
)

BAD = [
    ("alpha", 0, "alpha must be a positive finite number, got 0"),
    ("alpha", -1.0, "alpha must be a positive finite number, got -1.0"),
    ("alpha", float("nan"), "alpha must be a positive finite number, got nan"),
    ("alpha", float("inf"), "alpha must be a positive finite number, got inf"),
    ("alpha", "abc", "alpha must be a positive number, got 'abc'"),
    ("alpha", True, "alpha must be a positive number, got True"),
    ("num_chains", 0, "num_chains must be at least 1, got 0"),
    ("num_samples", 1.5, "num_samples must be an integer, got 1.5"),
    ("seed", -1, "seed must be at least 0, got -1"),
    ("hdi_prob", 1.0, "hdi_prob must lie strictly between 0 and 1, got 1.0"),
    ("l1_ratio", 1.5, "l1_ratio must lie strictly between 0 and 1, got 1.5 (use prior='laplace' for 1"),
    ("eps", "small", "eps must be a number in (0, 1), got 'small'"),
    ("prior", "cauchy", "unknown prior 'cauchy'; expected one of gaussian, laplace, elasticnet"),
    ("mass_matrix", "full", "unknown mass_matrix 'full'; expected one of auto, dense, diagonal"),
    ("fit_intercept", "yes", "fit_intercept must be True or False, got 'yes'"),
    ("sigma", 0.0, "sigma must be a positive finite number, got 0.0"),
    ("thin", 0, "thin must be at least 1, got 0"),
    ("batch_size", 0, "batch_size must be at least 1, got 0"),
    ("random_state", -1, "random_state must be at least 0, got -1"),
    ("scoring", "auc", "unknown scoring 'auc'; expected one of mse, r2, accuracy, log_loss"),
    ("alpha_1", -1e-6, "alpha_1 must be a finite number in [0, inf), got -1e-06"),
    ("lambda_2", "x", "lambda_2 must be a number, got 'x'"),
    ("threshold_lambda", 0, "threshold_lambda must be a positive finite number, got 0"),
    ("num_em", 0, "num_em must be at least 1, got 0"),
    ("max_iter", 2.5, "max_iter must be an integer, got 2.5"),
    ("global_scale", 0.0, "global_scale must be a positive finite number, got 0.0"),
    ("slab_scale", "wide", "slab_scale must be a positive number, got 'wide'"),
    ("slab_df", -4, "slab_df must be a positive finite number, got -4"),
    ("expected_nonzero", 0, "expected_nonzero must be a positive finite number, got 0 (the expected number"),
    ("r2_mean", 1.0, "r2_mean must lie strictly between 0 and 1, got 1.0"),
    ("r2_precision", float("inf"), "r2_precision must be a positive finite number, got inf"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_bad_values_get_one_message(name, value, message):
    with pytest.raises(ValueError) as error:
        check_param(name, value)
    assert str(error.value).startswith(message), str(error.value)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("alpha", "0", "alpha must be a positive finite number, got '0'"),
        ("alpha", "nan", "alpha must be a positive finite number, got 'nan'"),
        ("alpha", "abc", "alpha must be a positive number, got 'abc'"),
        ("num_chains", "0", "num-chains must be at least 1, got '0'"),
        ("num_samples", "1.5", "num-samples must be an integer, got '1.5'"),
        ("eps", "1", "eps must lie strictly between 0 and 1, got '1'"),
        ("eps", "small", "eps must be a number in (0, 1), got 'small'"),
        ("prior", "cauchy", "unknown prior 'cauchy'; expected one of gaussian, laplace, elasticnet"),
    ],
)
def test_command_line_type_says_the_same(name, text, message):
    """The command line's message is `check_param`'s, with the option as typed and the text given."""
    with pytest.raises(argparse.ArgumentTypeError) as error:
        cli_type(name)(text)
    assert str(error.value).startswith(message), str(error.value)


def test_good_values_come_back_as_plain_python():
    values = check_params(
        {"alpha": np.float64(0.5), "num_chains": np.int64(4), "sigma": None, "prior": "laplace", "seed": 0}
    )
    assert values == {"alpha": 0.5, "num_chains": 4, "sigma": None, "prior": "laplace", "seed": 0}
    assert type(values["alpha"]) is float and type(values["num_chains"]) is int
    assert cli_type("num_warmup")("300") == 300 and cli_type("l1_ratio")("0.25") == 0.25
    assert check_param("fit_intercept", False) is False


def test_interval_bounds():
    closed = Interval(integer=False, low=0.0, high=1.0, closed="both")
    assert check_param("p", 0.0, closed) == 0.0 and check_param("p", 1.0, closed) == 1.0
    with pytest.raises(ValueError, match=r"p must be a finite number in \[0, 1\], got 1.5"):
        check_param("p", 1.5, closed)
    half = Interval(integer=False, low=0.0, high=1.0, closed="left")
    assert check_param("p", 0.0, half) == 0.0
    with pytest.raises(ValueError, match=r"p must be a finite number in \[0, 1\), got 1.0"):
        check_param("p", 1.0, half)
    assert set(CONSTRAINTS) >= {"alpha", "C", "num_warmup", "mass_matrix", "hdi_prob"}


def _entry_points(name, value):
    """Every public function and estimator that takes the setting ``name``, called with ``value``."""
    X, y = np.random.default_rng(0).normal(size=(10, 2)), np.arange(10.0)
    nuts = {"method": "nuts"} if name in ("num_chains", "mass_matrix") else {}
    calls = {
        "BayesianLinearRegression": lambda: BayesianLinearRegression(**nuts, **{name: value}).fit(X, y),
        "BayesianLogisticRegression": lambda: BayesianLogisticRegression(**nuts, **{name: value}).fit(
            X, y % 2
        ),
        "posterior_path": lambda: posterior_path(X, y, [0.1], **{name: value}),
        "sample_posterior": lambda: sample_posterior(linear_regression, X, y, prior=None, **{name: value}),
        "fit_posterior": lambda: fit_posterior(linear_regression, X, y, prior=None, **{name: value}),
        "map_path": lambda: map_path(X, y, [0.1], **{name: value}),
        "map_estimate": lambda: map_estimate(linear_regression, X, y, prior=None, **{name: value}),
        "alpha_grid": lambda: alpha_grid(X, y, **{name: value}),
        "sbc_ranks": lambda: sbc_ranks(linear_regression, X, **{name: value}),
    }
    sampling = ("BayesianLinearRegression", "BayesianLogisticRegression", "posterior_path")
    sampling += ("sample_posterior", "fit_posterior")
    takes = {
        "num_chains": sampling,
        "mass_matrix": sampling,
        "tol": ("map_path", "map_estimate"),
        "n_alphas": ("alpha_grid",),
        "num_warmup": ("posterior_path", "sample_posterior", "sbc_ranks"),
    }
    return [("check_param", lambda: check_param(name, value))] + [
        (entry, calls[entry]) for entry in takes[name]
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("num_chains", 0, "num_chains must be at least 1, got 0"),
        ("mass_matrix", "full", "unknown mass_matrix 'full'; expected one of auto, dense, diagonal"),
        ("tol", 0.0, "tol must be a positive finite number, got 0.0"),
        ("n_alphas", 2.5, "n_alphas must be an integer, got 2.5"),
        ("num_warmup", -1, "num_warmup must be at least 1, got -1"),
    ],
)
def test_every_entry_point_says_the_same(name, value, message):
    """A bad setting gets `check_param`'s message, word for word, from every function that takes it."""
    for entry, call in _entry_points(name, value):
        with pytest.raises(ValueError) as error:
            call()
        assert str(error.value) == message, entry


def test_learned_alpha_words_and_nonnegative_bounds():
    """The estimators' ``alpha`` (``C``) is a positive number or a word of `LEARNED` (``C``: `LEARNED_C`);
    a number in [0, inf) accepts 0 and says so when refused."""
    alpha, C = ESTIMATOR_CONSTRAINTS["alpha"], ESTIMATOR_CONSTRAINTS["C"]
    words = ["cv", "eb", "hierarchical"]
    assert [check_param("alpha", v, alpha) for v in (*words, 2)] == [*words, 2.0]
    assert [check_param("C", v, C) for v in ("cv", "hierarchical")] == ["cv", "hierarchical"]
    for name, value, constraint, message in [
        (
            "alpha",
            "cvv",
            alpha,
            "alpha must be a positive number or one of 'cv', 'eb', 'hierarchical', got 'cvv'",
        ),
        (
            "alpha",
            -1,
            alpha,
            "alpha must be a positive finite number or one of 'cv', 'eb', 'hierarchical', got -1",
        ),
        ("C", "eb", C, "C must be a positive number or one of 'cv', 'hierarchical', got 'eb'"),
        ("alpha", "cv", CONSTRAINTS["alpha"], "alpha must be a positive number, got 'cv'"),
    ]:
        with pytest.raises(ValueError) as error:
            check_param(name, value, constraint)
        assert str(error.value) == message
    assert check_param("alpha_1", 0) == 0.0


def test_sparsity_priors_are_estimator_priors_only():
    """The estimators (and ``bayesreg fit``) take every prior; the penalty functions (paths, CV,
    `prior_from_penalty`) only the penalties, and say which; a sparsity prior's option may be None
    for the estimators (the prior's default)."""
    from bayesreg import prior_from_penalty
    from bayesreg.params import PENALTY_KINDS, PRIOR_KINDS, SPARSITY_KINDS, SPARSITY_OPTIONS

    assert PRIOR_KINDS == PENALTY_KINDS + SPARSITY_KINDS
    assert SPARSITY_KINDS == ("horseshoe", "regularized_horseshoe", "r2d2")
    for kind in SPARSITY_KINDS:
        assert check_param("prior", kind, ESTIMATOR_CONSTRAINTS["prior"]) == kind
        with pytest.raises(
            ValueError, match=f"unknown prior '{kind}'; expected one of gaussian, laplace, elasticnet$"
        ):
            prior_from_penalty(kind, 1.0)
    for option in {name for names in SPARSITY_OPTIONS.values() for name in names}:
        assert check_param(option, None, ESTIMATOR_CONSTRAINTS[option]) is None
        with pytest.raises(ValueError, match=f"^{option} must (be|lie)"):
            check_param(option, -1.0, ESTIMATOR_CONSTRAINTS[option])
    assert check_param("target_accept", None, ESTIMATOR_CONSTRAINTS["target_accept"]) is None
