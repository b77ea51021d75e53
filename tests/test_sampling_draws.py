"""Fixed-seed draws of `sample_posterior` are bitwise those pinned in ``tests/data/draws``.

XLA compiles for the CPU it runs on (AVX2 or AVX-512 kernels, other roundings), and a NUTS chain
amplifies a last-bit difference into other draws, so the pins are kept per CPU kind
(`cpu_kind`): ``tests/data/draws/KIND/plain.npz`` holds the runs that sample ``coef`` as it is
(``precondition=False``): ``lasso_direct``, ``lasso_mixture``, ``ridge_fixed_sigma``,
``logistic`` and ``lasso_collapsed``; ``KIND/preconditioned.npz`` the default runs
(``*_preconditioned``, `bayesreg.sampling.Preconditioning`). The x86_64-avx512f plain runs are
those written at commit c409ca2 (its first four bitwise those of commit 89d67a9, before the
compiled machinery moved into `bayesreg.engine`). A reorganisation of the engine must not change
a single bit of them: the same model, settings, seed and data give the same draws. Rewrite a file
only for a deliberate change of the sampler (and say so in the commit), or to pin a CPU kind not
pinned yet, on a commit whose draws are known to be right: ``python tests/test_sampling_draws.py
--write`` (or ``--write-preconditioned``) writes this machine's kind.
"""

import os
import platform
import sys
from pathlib import Path

import numpy as np
import numpyro.distributions as dist
import pytest

from bayesreg import prior_from_penalty, sample_posterior
from bayesreg.engine import SMALL_LOOPS_XLA_FLAG
from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats, logistic_regression

PINS = Path(__file__).parent / "data" / "draws"
PRECONDITIONED = ("lasso_direct", "lasso_mixture", "ridge_fixed_sigma", "logistic")
SETTINGS = {"num_warmup": 100, "num_samples": 100, "num_chains": 2, "seed": 3, "progress_bar": False}


def cpu_kind() -> str:
    """The machine's architecture and its widest vector extension XLA compiles for (from the CPU
    flags of /proc/cpuinfo where there is one): ``x86_64-avx512f``, ``x86_64-avx2`` ..."""
    machine = platform.machine()
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return machine
    for extension in ("avx512f", "avx2"):
        if extension in flags:
            return f"{machine}-{extension}"
    return machine


def _pins(preconditioned: bool) -> Path:
    return PINS / cpu_kind() / ("preconditioned.npz" if preconditioned else "plain.npz")


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)) * np.array([1.0, 10.0, 0.1, 1.0])
    y = 1.0 + X @ np.array([0.5, 0.0, 3.0, -1.0]) + rng.normal(size=60)
    return X, y


def _runs() -> dict[str, dict]:
    """Each run's posterior draws by site, keyed by run name."""
    X, y = _data()
    n = X.shape[0]
    stats = SufficientStats.from_data(X, y)
    sigma = dist.Exponential(1.0 / np.std(y))
    lasso = prior_from_penalty("laplace", 0.1, n_samples=n)
    ridge = prior_from_penalty("gaussian", 5.0, n_samples=n)
    labels = (y > np.median(y)).astype(float)

    def lasso_stats(parametrisation, **settings):
        return sample_posterior(
            linear_regression_stats,
            stats,
            observed=(linear_regression, X, y),
            prior=lasso,
            sigma=sigma,
            laplace_parametrisation=parametrisation,
            **settings,
            **SETTINGS,
        )

    def direct_runs(**settings):
        return {
            "lasso_direct": lasso_stats("direct", **settings),
            "lasso_mixture": lasso_stats("mixture", **settings),
            "ridge_fixed_sigma": sample_posterior(
                linear_regression, X, y, prior=ridge, sigma=1.3, **settings, **SETTINGS
            ),
            "logistic": sample_posterior(
                logistic_regression,
                X,
                labels,
                prior=prior_from_penalty("gaussian", 1.0, family="bernoulli"),
                **settings,
                **SETTINGS,
            ),
        }

    runs = {
        **direct_runs(precondition=False),
        "lasso_collapsed": lasso_stats("collapsed"),
        **{f"{name}_preconditioned": idata for name, idata in direct_runs().items()},
    }
    return {
        name: {site: idata.posterior[site].to_numpy() for site in idata.posterior.data_vars}
        for name, idata in runs.items()
    }


@pytest.fixture(scope="module")
def runs():
    return _runs()


@pytest.mark.parametrize(
    "name",
    [
        "lasso_direct",
        "lasso_mixture",
        "lasso_collapsed",
        "ridge_fixed_sigma",
        "logistic",
        *(f"{name}_preconditioned" for name in PRECONDITIONED),
    ],
)
def test_draws_are_bitwise_unchanged(runs, name):
    reference = _pins(name.endswith("_preconditioned"))
    assert reference.exists(), (
        f"no draws pinned for CPU kind {cpu_kind()} ({reference}): write them with "
        f"python tests/test_sampling_draws.py --write{'-preconditioned' * name.endswith('_preconditioned')} "
        "on a commit whose draws are known to be right"
    )
    with np.load(reference) as saved:
        expected = {key.split("/", 1)[1]: saved[key] for key in saved.files if key.startswith(f"{name}/")}
    assert expected, f"no reference draws for {name}"
    assert sorted(runs[name]) == sorted(expected)
    for site, draws in runs[name].items():
        np.testing.assert_array_equal(draws, expected[site], err_msg=f"{name}: {site}")


if __name__ == "__main__" and sys.argv[1:] in (["--write"], ["--write-preconditioned"]):
    # compiled as the suite compiles (tests/conftest.py): the mixture's draws depend on it
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {SMALL_LOOPS_XLA_FLAG}"
    preconditioned = sys.argv[1] == "--write-preconditioned"
    flat = {
        f"{name}/{site}": v
        for name, sites in _runs().items()
        if name.endswith("_preconditioned") == preconditioned
        for site, v in sites.items()
    }
    _pins(preconditioned).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(_pins(preconditioned), **flat)
