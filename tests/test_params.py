"""One checker, one message: `bayesreg.params` against the values users get wrong."""

import argparse

import numpy as np
import pytest

from bayesreg.params import CONSTRAINTS, Interval, check_param, check_params, cli_type

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
