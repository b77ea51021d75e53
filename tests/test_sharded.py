"""NUTS with the likelihood summed across row shards (bayesreg.sharded), against one process.

The reference is `sample_posterior` in this process on all the rows; the sharded runs are separate
processes launched here: two JAX processes joined on the loopback address (gloo over TCP), and one
process with two forced host devices. Each holds part of the rows of the unscaled breast-cancer
columns; the chains, seeded alike, must give the reference's draws up to the order of the sums.

Run as a script (``python tests/test_sharded.py CONFIG_JSON``), this file is one such process.
"""

import json
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

# unscaled breast-cancer columns: mean texture, mean smoothness, mean concavity, texture error (sds
# 4.3, 0.014, 0.080, 0.55): the chains sample them through the preconditioning of all rows
COLUMNS = [1, 4, 6, 11]
# Two runs each. NUTS amplifies a difference in the last bits of the log-likelihood (the order of
# its sums) about tenfold every ten steps: measured here between one process and two devices, the
# draws differ by 1e-12 after 10 warmup steps and 20 draws, 5e-9 after 20 and 20, and by O(1) (other
# draws from the same posterior) after 80. So the short run must give the same draws (to 1e-8),
# and the long one the same posterior (means within Monte Carlo error).
SAME_DRAWS = {"num_warmup": 10, "num_samples": 20, "num_chains": 2, "seed": 3, "progress_bar": False}
SAME_POSTERIOR = {"num_warmup": 200, "num_samples": 250, "num_chains": 2, "seed": 3, "progress_bar": False}
RUNS = {"same_draws": SAME_DRAWS, "same_posterior": SAME_POSTERIOR}
DRAWS_ATOL = 1e-8  # the same draws: what the order of the sums may change, not Monte Carlo error
TIMEOUT = 900  # seconds for a launched run (compilation on 2 busy cores)


def _data():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return np.ascontiguousarray(X[:, COLUMNS]), y.astype(float)


def _prior():
    from bayesreg.priors import prior_from_penalty

    return prior_from_penalty("gaussian", 1.0, family="bernoulli")  # LogisticRegression(C=1)'s penalty


def _gaussian():
    """The unscaled diabetes data and the keywords of a ridge posterior with σ sampled."""
    from sklearn.datasets import load_diabetes

    from bayesreg.priors import noise_prior, prior_from_penalty

    X, y = load_diabetes(return_X_y=True, scaled=False)
    kwargs = {"prior": prior_from_penalty("gaussian", 1.0, convention="sklearn"), "sigma": noise_prior(y)}
    return X, y, kwargs | {"laplace_parametrisation": "direct"}


def _worker(config: dict) -> None:
    """One process of a sharded run: join the others (if an address is given), take this
    process's block of rows, sample, and (process 0) save the draws and diagnostics to ``out``."""
    from bayesreg import sharded
    from bayesreg.models import logistic_regression

    if config.get("address"):
        sharded.connect(
            config["address"], config["num_processes"], config["process_id"], timeout=config["timeout"]
        )
    import jax

    X, y = _data()
    rows = np.array_split(np.arange(len(y)), jax.process_count())[jax.process_index()]
    X, y = X[rows], y[rows]
    if config.get("drop_column") == jax.process_index():
        X = X[:, 1:]
    data = sharded.shard_rows(X, y)
    stats = sharded.sufficient_stats(data)
    if jax.process_index() == 0:
        np.savez(Path(config["out"]) / "stats.npz", *stats)
    for run, settings in RUNS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # short chains: the test reads the diagnostics itself
            fit = sharded.fit_sharded_posterior(logistic_regression, data, prior=_prior(), **settings)
        if fit is not None:
            posterior = fit.idata.posterior
            np.savez(
                Path(config["out"]) / f"{run}.npz",
                coef=posterior["coef"].values,
                intercept=posterior["intercept"].values,
                y=fit.idata.observed_data["y"].values,
                devices=jax.device_count(),
                processes=jax.process_count(),
                shards=np.asarray(data.rows),
                divergences=fit.diagnostics.divergences,
                rhat=fit.diagnostics.max_rhat,
            )
    if config.get("gaussian"):  # the same short run of the linear model, on this process's rows
        from bayesreg.models import linear_regression

        X, y, kwargs = _gaussian()
        rows = np.array_split(np.arange(len(y)), jax.process_count())[jax.process_index()]
        data = sharded.shard_rows(X[rows], y[rows])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sharded.fit_sharded_posterior(linear_regression, data, **kwargs, **SAME_DRAWS)
        if fit is not None:
            names = ("coef", "intercept", "sigma")
            np.savez(
                Path(config["out"]) / "gaussian.npz", **{k: fit.idata.posterior[k].values for k in names}
            )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(configs: list[dict], env: dict | None = None, timeout: float = TIMEOUT) -> list:
    """Start one process per config (this file as a script) and wait for all; their results."""
    environment = {**os.environ, **(env or {})}
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, json.dumps(config)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for config in configs
    ]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return results


@pytest.fixture(scope="module")
def gaussian_one_process():
    """`sample_posterior` of the linear model on all the unscaled diabetes rows (the short run)."""
    from bayesreg.models import linear_regression
    from bayesreg.sampling import sample_posterior

    X, y, kwargs = _gaussian()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sample_posterior(linear_regression, X, y, **kwargs, **SAME_DRAWS)


@pytest.fixture(scope="module")
def one_process():
    """The reference: `sample_posterior` on all the rows in this process, for each run's settings."""
    from bayesreg.models import logistic_regression
    from bayesreg.sampling import sample_posterior

    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            run: sample_posterior(logistic_regression, X, y, prior=_prior(), **settings)
            for run, settings in RUNS.items()
        }


def _check_same_chains(folder: Path, reference: dict) -> dict:
    """The sharded runs saved in ``folder`` against the one-process runs: the short run's draws
    and means within `DRAWS_ATOL`; the long run's means within 4 Monte Carlo standard errors
    (ArviZ's ``mcse`` of both runs, combined), where its draws are other draws."""
    import arviz as az

    short, long = (dict(np.load(folder / f"{run}.npz")) for run in RUNS)
    ref_short, ref_long = reference["same_draws"], reference["same_posterior"]
    for name in ("coef", "intercept"):
        ref = ref_short.posterior[name].values
        assert short[name].shape == ref.shape
        assert np.abs(short[name] - ref).max() <= DRAWS_ATOL, name
        assert np.abs(short[name].mean(axis=(0, 1)) - ref.mean(axis=(0, 1))).max() <= DRAWS_ATOL, name
    sharded = az.from_dict(posterior={name: long[name] for name in ("coef", "intercept")})
    assert int(long["divergences"]) == 0 and float(long["rhat"]) < 1.05
    for name in ("coef", "intercept"):
        got, ref = sharded.posterior[name], ref_long.posterior[name]
        error = np.hypot(
            az.mcse(sharded, var_names=[name])[name].values, az.mcse(ref_long, var_names=[name])[name].values
        )
        difference = np.abs(got.mean(("chain", "draw")).values - ref.mean(("chain", "draw")).values)
        assert np.all(difference <= 4 * error), (name, difference, error)
    np.testing.assert_array_equal(short["y"], ref_short.observed_data["y"].values)
    # the Gaussian statistics summed across the shards are those of all the rows
    from bayesreg.models import SufficientStats

    stats = np.load(folder / "stats.npz")
    for got, expected in zip(stats.values(), SufficientStats.from_data(*_data()), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    return short


def test_two_processes_on_loopback_give_the_one_process_chains(one_process, tmp_path):
    address = f"127.0.0.1:{_free_port()}"
    configs = [
        {"address": address, "num_processes": 2, "process_id": i, "timeout": 120, "out": str(tmp_path)}
        for i in range(2)
    ]
    for code, _, err in _launch(configs):
        assert code == 0, err[-3000:]
    result = _check_same_chains(tmp_path, one_process)
    assert int(result["processes"]) == 2 and int(result["devices"]) == 2
    assert result["shards"].tolist() == [285, 284]  # uneven: process 1's block is padded by a row


def test_two_forced_host_devices_give_the_one_process_chains(one_process, gaussian_one_process, tmp_path):
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=2"
    ((code, _, err),) = _launch([{"out": str(tmp_path), "gaussian": True}], env={"XLA_FLAGS": flags})
    assert code == 0, err[-3000:]
    result = _check_same_chains(tmp_path, one_process)
    assert int(result["processes"]) == 1 and int(result["devices"]) == 2
    assert result["shards"].tolist() == [569]  # one process: its rows split across its 2 devices
    gaussian = np.load(tmp_path / "gaussian.npz")
    for name in ("coef", "intercept", "sigma"):
        expected = gaussian_one_process.posterior[name].values
        assert np.abs(gaussian[name] - expected).max() <= DRAWS_ATOL * max(1.0, np.abs(expected).max()), name


def test_a_shard_with_other_columns_is_refused_naming_each_process(tmp_path):
    address = f"127.0.0.1:{_free_port()}"
    configs = [
        {"address": address, "num_processes": 2, "process_id": i, "timeout": 120, "out": str(tmp_path)}
        | {"drop_column": 1}
        for i in range(2)
    ]
    for code, _, err in _launch(configs):
        assert code != 0
        assert "column counts are process 0: 4, process 1: 3" in err, err[-3000:]


def test_an_unreachable_coordinator_names_its_address(tmp_path):
    address = f"127.0.0.1:{_free_port()}"  # nothing listens there
    config = {"address": address, "num_processes": 2, "process_id": 1, "timeout": 2, "out": str(tmp_path)}
    ((code, _, err),) = _launch([config], timeout=120)
    assert code != 0
    assert f"could not reach the JAX coordinator at {address}" in err, err[-3000:]


def test_bad_rows_and_settings_are_refused_in_one_process():
    from bayesreg.models import linear_regression_stats, logistic_regression
    from bayesreg.sharded import fit_sharded_posterior, shard_rows

    X, y = _data()
    with pytest.raises(ValueError, match=r"one value per row of X; process 0 has \(568,\) for X \(569, 4\)"):
        shard_rows(X, y[:-1])
    with pytest.raises(ValueError, match="X must be a matrix"):
        shard_rows(X[:, 0], y)
    bad = X.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="process 0 has a NaN or infinite value"):
        shard_rows(bad, y)
    data = shard_rows(X, y)
    with pytest.raises(ValueError, match="not linear_regression_stats"):
        fit_sharded_posterior(linear_regression_stats, data, prior=_prior())
    with pytest.raises(ValueError, match="'collapsed' is not available across shards"):
        fit_sharded_posterior(logistic_regression, data, prior=_prior(), laplace_parametrisation="collapsed")
    with pytest.raises(TypeError, match="ShardedRows that shard_rows returns, not tuple"):
        fit_sharded_posterior(logistic_regression, (X, y), prior=_prior())
    with pytest.raises(ValueError, match="num_chains"):
        fit_sharded_posterior(logistic_regression, data, prior=_prior(), num_chains=0)


if __name__ == "__main__":
    _worker(json.loads(sys.argv[1]))
