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


def standardized_logistic_posterior(X, y, prior):
    """The `fit_posterior` of the logistic model on the standardised columns of the frame ``X`` with
    the sampler seed and short settings the estimator tests use: what a logistic estimator with
    ``standardize=True`` and ``random_state=SEED`` samples."""
    from bayesreg.models import logistic_regression
    from bayesreg.sampling import fit_posterior
    from bayesreg.scaling import Standardization

    Xa = X.to_numpy(float)
    scaling = Standardization.from_data(Xa, center=True)
    return quiet(
        lambda: fit_posterior(
            logistic_regression,
            scaling.transform(Xa),
            y.to_numpy(float),
            feature_names=list(X.columns),
            seed=estimator_seed(SEED),
            prior=prior,
            fit_intercept=True,
            **LOGISTIC_NUTS,
        )
    )
