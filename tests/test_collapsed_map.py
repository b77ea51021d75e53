"""The MAP of a collapsed fit comes from the sufficient statistics (`bayesreg.sampling.fit_posterior`):
it equals the MAP `map_estimate` finds from the rows (as the collapsed branch did before), within
the solver's tolerance, on the unscaled diabetes data."""

import numpy as np
import numpyro.distributions as dist
import pytest
from short_fits import SEED, quiet

from bayesreg.engine import map_estimate
from bayesreg.models import linear_regression
from bayesreg.priors import prior_from_penalty
from bayesreg.sampling import fit_posterior

SHORT = {"num_warmup": 50, "num_samples": 50, "num_chains": 1, "progress_bar": False, "seed": SEED}

CASES = {  # the prior on coef and the noise sd (a fixed sd leaves a Laplace prior's variances to sample)
    "flat": lambda n: (None, dist.Exponential(1.0)),
    "ridge": lambda n: (prior_from_penalty("gaussian", 10.0), dist.Exponential(1.0)),
    "lasso": lambda n: (prior_from_penalty("laplace", 0.5, n_samples=n), dist.Exponential(1.0)),
    "lasso_book_fixed_sigma": lambda n: (prior_from_penalty("laplace", 0.05, convention="book"), 50.0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_collapsed_map_equals_map_of_rows(raw_diabetes_frame, name):
    X, y = (np.asarray(a, dtype=float) for a in raw_diabetes_frame)
    prior, sigma = CASES[name](X.shape[0])
    kwargs = {"prior": prior, "sigma": sigma}
    fit = quiet(
        lambda: fit_posterior(linear_regression, X, y, laplace_parametrisation="collapsed", **SHORT, **kwargs)
    )
    rows = map_estimate(linear_regression, X, y, **kwargs)
    assert fit.parametrisation == "collapsed"
    assert fit.map.converged and rows.converged
    assert fit.map.params.keys() == rows.params.keys()
    # both solved to a relative optimality residual of 1e-10: they were 1e-11 apart
    for site, value in rows.params.items():
        np.testing.assert_allclose(fit.map.params[site], value, rtol=1e-9, atol=1e-12 * np.abs(value).max())
