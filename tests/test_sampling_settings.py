"""The NUTS settings ``target_accept`` and ``max_tree_depth``: checked, and honoured by the chains.

* ``max_tree_depth=d`` caps every trajectory at ``2**d − 1`` leapfrog steps (numpyro counts them in
  ``num_steps``), so the recorded tree depth never exceeds ``d``;
* a higher ``target_accept`` adapts a smaller step size and a higher mean acceptance probability;
* bad values get one message naming the setting, from `sample_posterior`, `fit_posterior` and
  `sample_chains` alike.
"""

import re

import jax
import numpy as np
import pytest

from bayesreg.defaults import MAX_TREE_DEPTH, TARGET_ACCEPT
from bayesreg.engine.arrays import as_arrays
from bayesreg.engine.chains import sample_chains
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats
from bayesreg.priors import prior_from_penalty
from bayesreg.sampling import fit_posterior, sample_posterior

NUM_WARMUP, NUM_SAMPLES, NUM_CHAINS = 200, 200, 2


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 3)) * np.array([1.0, 10.0, 0.1])  # scales that need long trajectories
    y = X @ np.array([1.0, 0.1, 5.0]) + rng.normal(size=50)
    return X, y


def _run(data, **settings):
    X, y = data
    return sample_posterior(
        linear_regression_stats,
        SufficientStats.from_data(X, y),
        observed=(linear_regression, X, y),
        prior=prior_from_penalty("gaussian", 1.0, convention="book"),
        sigma=1.0,
        num_warmup=NUM_WARMUP,
        num_samples=NUM_SAMPLES,
        num_chains=NUM_CHAINS,
        seed=0,
        progress_bar=False,
        mass_matrix="diagonal",
        **settings,
    )


@pytest.fixture(scope="module")
def default_run(data):
    return _run(data)


def test_defaults_are_numpyros():
    assert (TARGET_ACCEPT, MAX_TREE_DEPTH) == (0.8, 10)


def test_max_tree_depth_caps_every_trajectory(data, default_run):
    shallow = _run(data, max_tree_depth=2)
    assert int(shallow.sample_stats["n_steps"].max()) <= 2**2 - 1
    assert int(shallow.sample_stats["tree_depth"].max()) <= 2
    # without the cap the same chains take longer trajectories
    assert int(default_run.sample_stats["n_steps"].max()) > 3


def test_higher_target_accept_takes_smaller_steps(data, default_run):
    careful = _run(data, target_accept=0.99)
    step = float(careful.sample_stats["step_size"].mean())
    assert step < 0.8 * float(default_run.sample_stats["step_size"].mean())
    accept = float(careful.sample_stats["acceptance_rate"].mean())
    assert accept > float(default_run.sample_stats["acceptance_rate"].mean())
    assert accept > 0.95


BAD = [
    ({"target_accept": 1.0}, "target_accept must lie strictly between 0 and 1, got 1.0"),
    ({"target_accept": 0}, "target_accept must lie strictly between 0 and 1, got 0"),
    ({"max_tree_depth": 0}, "max_tree_depth must be at least 1, got 0"),
    ({"max_tree_depth": 16}, "max_tree_depth must be at most 15, got 16"),
    ({"max_tree_depth": 5.5}, "max_tree_depth must be an integer, got 5.5"),
]


@pytest.mark.parametrize(("setting", "message"), BAD)
@pytest.mark.parametrize("entry", ["sample_posterior", "fit_posterior", "sample_chains"])
def test_bad_settings_named(data, entry, setting, message):
    X, y = data
    kwargs = {"prior": None, "sigma": 1.0, "num_warmup": 10, "num_samples": 10, "num_chains": 1}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        if entry == "sample_posterior":
            sample_posterior(linear_regression, X, y, **kwargs, **setting)
        elif entry == "fit_posterior":
            fit_posterior(linear_regression, X, y, **kwargs, **setting)
        else:
            with jax.enable_x64(True):
                args, model_kwargs = as_arrays(((X, y), {"prior": None, "sigma": 1.0}))
                sample_chains(
                    linear_regression,
                    0,
                    args,
                    model_kwargs,
                    num_chains=1,
                    num_warmup=10,
                    num_samples=10,
                    **setting,
                )
