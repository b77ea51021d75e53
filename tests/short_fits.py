"""Short NUTS fits as the estimator tests run them: their settings, the sampler seed an estimator
draws, and a call with the diagnostics' warnings silenced (the data fixtures are conftest.py's
``raw_diabetes_csv``, ``raw_diabetes_frame`` and ``raw_breast_cancer_frame``)."""

import warnings

import numpy as np

LINEAR_NUTS = {"num_warmup": 300, "num_samples": 300, "num_chains": 2}
LOGISTIC_NUTS = {"num_warmup": 200, "num_samples": 200, "num_chains": 2}
SEED = 0


def quiet(fit):
    """``fit()`` with the diagnostics' warnings silenced: short chains fall below the ESS threshold
    (the tests read the diagnostics themselves)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit()


def estimator_seed(random_state: int) -> int:
    """The sampler seed an estimator draws from ``random_state`` (scikit-learn's convention)."""
    return int(np.random.RandomState(random_state).randint(2**31 - 1))
