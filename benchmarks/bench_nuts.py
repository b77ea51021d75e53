"""NUTS against raw numpyro, PyMC and nutpie: the "Performance" goals of issue 3.

Scenarios (each tool runs in a fresh Python process, launched by this script; the process wall time
from launch to draws in hand, imports included, is the *end-to-end* time):

1. **Diabetes Bayesian lasso** (scikit-learn's diabetes data, n = 442, p = 10, α = 0.1): raw numpyro,
   ``BayesianLinearRegression(method="nuts")`` (MAP + NUTS, ``laplace_parametrisation="auto"``),
   PyMC and nutpie, cold (empty PyTensor / numba caches) and, for PyMC and nutpie, warm (a second
   process reusing the caches the cold one filled). The JAX tools also run a second time in the same
   process (``2nd run, same process``), which shows whether the compiled sampler is reused.
2. **A second fit of the same shape**: ``bayesreg fit DATA.csv --target target --method nuts`` on the
   diabetes CSV (the console script, as a user runs it) twice in fresh processes with its persistent
   compilation cache (``$XDG_CACHE_HOME/bayesreg/jax``, pointed at a fresh folder here) and twice with
   the cache disabled (``JAX_ENABLE_COMPILATION_CACHE=false``), and twice with stderr on a
   pseudo-terminal (so its progress bar is on, as for a user at a terminal; a fresh cache folder);
   then a script doing the same fit
   (read the CSV, fit the estimator, write ``posterior.nc`` and ``coefficients.csv``) with the cache
   set by itself (``jax_compilation_cache_dir``, ``jax_persistent_cache_min_compile_time_secs = 0``),
   which splits the time into startup + imports, MAP (since session 4 found while the chains run,
   so it includes waiting for them), NUTS outside the MAP, compile and writing, and counts cache
   hits and misses; if its second run still misses, once more with a fixed ``PYTHONHASHSEED``. Wall
   and CPU time of each process. Goal: the second run under 5 s end-to-end.
3. **Gaussian likelihood, n = 5000, p = 100** (AR(1) features with ρ = 0.5, 10 non-zero weights,
   unit noise, α = 0.01): min bulk-ESS per second of raw numpyro (per-observation likelihood),
   bayesreg (``sample_posterior`` with ``linear_regression_stats``: the likelihood from the
   sufficient statistics, O(p²) per gradient), PyMC and nutpie (per-observation likelihood).
   Goal: bayesreg ≥ 3× nutpie.
4. **Logistic regression, n = 200, p = 10** (AR(1) features, ρ = 0.5, 3 non-zero weights, C = 1):
   raw numpyro against bayesreg (``sample_posterior`` with ``logistic_regression``), PyMC and
   nutpie for context. Goal: bayesreg ≥ raw numpyro.
5. **star98, unscaled** (statsmodels' star98: 303 rows, 21 columns in their own units, from
   percentages to products of them up to 7e4; targets PERMINTE and LOWINC):
   ``BayesianLinearRegression(method="nuts")`` with every default (Laplace prior, α = 1, σ
   sampled), and with ``laplace_parametrisation="direct"`` for comparison, each in a fresh process:
   max R-hat, min bulk ESS (coef, intercept, σ), divergences, wall time of the fit (first call,
   compilation included, and a second call with another seed). Needs statsmodels.

The same model in every tool: ``intercept`` flat (improper uniform; ``pm.Flat``); for the Gaussian
likelihood ``sigma ~ Exponential(rate = 1/std(y))`` and ``coef ~ Laplace(0, sigma²/(n α))``
conditional on σ (scikit-learn's Lasso convention, what ``prior_from_penalty("laplace", α,
n_samples=n)`` gives); for the logistic likelihood ``coef ~ Laplace(0, C)``. Everything in float64.
Every process runs with ``bayesreg.engine.SMALL_LOOPS_XLA_FLAG`` in ``XLA_FLAGS``, as the
``bayesreg`` command sets it (session 6), raw numpyro's included.
4 chains × 1000 warmup + 1000 draws (``--quick``: 300 + 300), seed 0 (+ 3 per repeat).

Columns:

* **compile s**: JAX: the durations of JAX's tracing, MLIR lowering and XLA compilation events
  (``jax.monitoring``) during the cold call; PyMC: ``pm.sample`` wall time minus its recorded
  ``sampling_time``; nutpie: ``compile_pymc_model``.
* **sampling s**: JAX: each JAX process calls three times (seeds s, s + 1, s + 2, with s = 3 × the
  repeat's index, so that ``--repeats`` gives medians over seeds): cold; again in the same process
  (``2nd run, same process`` rows: what a refit recompiles); and once more after switching on the
  persistent compilation cache, so the third call loads every program it would recompile: its wall
  time less its remaining tracing, lowering and cache reads is the sampling time (warmup and draws;
  for bayesreg also the MAP, the log-likelihood and the InferenceData), and its draws give the ESS.
  Two corrections (issue 3, session 2) made numpyro's figure honest: the persistent cache's read
  time is no longer added to the compile events (JAX reports it *inside* ``backend_compile_duration``:
  counted twice, it took 0.15-0.2 s of numpyro's ~0.7 s of sampling away in scenario 4, where
  numpyro's ``MCMC`` reloads its programs on every run and bayesreg's are already in memory); and the
  JAX workers run with ``JAX_CPU_ENABLE_ASYNC_DISPATCH=false``, so that no compile event overlaps
  the sampler's execution. PyMC: ``sampling_time`` (tuning + draws); nutpie:
  ``nutpie.sample``. The ``bayesreg (sampler only)`` row times the jitted loop of the chains
  (``bayesreg.engine.chains.advance_chains``; ``bayesreg.sampling._advances`` in sessions 3-6,
  ``_chains`` before) inside that third call, without
  their first state, the log-likelihood and the InferenceData.
* **end-to-end s**: launch of the fresh process to draws in hand (interpreter start, imports, data,
  compilation, sampling).
* **min bulk ESS**: ``arviz.ess(method="bulk")``, the minimum over every coordinate of ``coef``,
  ``intercept`` and ``sigma``; **ESS/s** divides it by *sampling s* (``ESS/s e2e`` by end-to-end).
* **load**: the 1-minute load average (``os.getloadavg``) when the process started and ended. With
  ``--repeats R`` every figure is the median of R fresh processes (tools take turns).
* **reference loop**: the seconds of a fixed pure-Python loop (`reference_loop`) at the start and end
  of each scenario, a measure of the machine's speed that the load average misses.

Run ``python benchmarks/bench_nuts.py [--quick] [--scenario N ...] [--tools T ...] [--repeats R]
[--blas-threads K] [--max-load L] [--json FILE]``; ``--help`` says more. Results also go to a JSON file
in ``benchmarks/results/`` (not committed). The bayesreg measured is the one Python imports (the
checkout, or ``PYTHONPATH``); the printed git head and modified files are those of the checkout.
PyMC and nutpie are benchmark-only dependencies (``pip install pymc nutpie``); a tool that cannot be
imported is reported as missing and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PARAMS = ("coef", "intercept", "sigma")
COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",  # includes reading the persistent cache on a hit
)
TOOLS = {
    1: ("numpyro", "bayesreg", "pymc", "nutpie"),
    3: ("numpyro", "bayesreg", "pymc", "nutpie"),
    4: ("numpyro", "bayesreg", "pymc", "nutpie"),
}
TITLES = {
    1: "Diabetes Bayesian lasso (n=442, p=10, alpha=0.1, sigma unknown)",
    2: "A second `bayesreg fit --method nuts` on the diabetes data",
    3: "Gaussian likelihood, n=5000, p=100, AR(1) rho=0.5, alpha=0.01, sigma unknown",
    4: "Logistic regression, n=200, p=10, AR(1) rho=0.5, C=1",
    5: "star98 unscaled (n=303, p=21), BayesianLinearRegression(method='nuts'), default settings",
}
STAR98_TARGETS = ("PERMINTE", "LOWINC")


# --------------------------------------------------------------------------------------------- data


def ar1_design(rng, n: int, p: int, rho: float):
    """Standard normal features with corr(x_i, x_j) = rho^|i-j|."""
    import numpy as np

    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1.0 - rho**2) * rng.standard_normal(n)
    return X


def scenario_data(scenario: int) -> dict:
    """``X``, ``y``, the family and the penalty of a scenario (the same arrays in every process)."""
    import numpy as np

    if scenario in (1, 2):
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True)
        return {"X": X, "y": y, "family": "gaussian", "alpha": 0.1}
    if scenario == 3:
        rng = np.random.default_rng(3)
        n, p = 5000, 100
        X = ar1_design(rng, n, p, 0.5)
        coef = np.zeros(p)
        coef[::10] = rng.choice([-1.0, 1.0], 10) * rng.uniform(0.5, 2.0, 10)
        y = 1.0 + X @ coef + rng.standard_normal(n)
        return {"X": X, "y": y, "family": "gaussian", "alpha": 0.01}
    rng = np.random.default_rng(4)
    n, p = 200, 10
    X = ar1_design(rng, n, p, 0.5)
    coef = np.zeros(p)
    coef[[0, 1, 4]] = [1.5, -1.0, 0.5]
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-(-0.5 + X @ coef)))).astype(float)
    return {"X": X, "y": y, "family": "bernoulli", "C": 1.0}


# ------------------------------------------------------------------------------------------ workers


class _CompileClock:
    """Sums JAX's compile-related event durations and persistent-cache hits / misses."""

    def __init__(self):
        import jax.monitoring

        self.seconds = 0.0
        self.events: dict[str, float] = {}
        jax.monitoring.register_event_duration_secs_listener(self._duration)
        jax.monitoring.register_event_listener(self._event)

    def _duration(self, event, duration, **_):
        if event in COMPILE_EVENTS:
            self.seconds += duration

    def _event(self, event, **_):
        if event.endswith(("cache_hits", "cache_misses")):
            name = event.rsplit("/", 1)[-1]
            self.events[name] = self.events.get(name, 0) + 1

    def reset(self):
        self.seconds = 0.0
        self.events = {}


def _min_ess(idata) -> float:
    import arviz as az

    names = [v for v in PARAMS if v in idata.posterior]
    ess = az.ess(idata, var_names=names, method="bulk")
    return float(min(float(ess[v].min()) for v in ess.data_vars))


def _divergences(idata) -> int:
    return int(idata.sample_stats["diverging"].sum())


def _numpyro_model(data):
    import numpy as np
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    n, p = data["X"].shape
    gaussian = data["family"] == "gaussian"
    rate = 1.0 / float(np.std(data["y"]))
    nalpha = n * data.get("alpha", 1.0)
    C = data.get("C", 1.0)

    def model(X, y):
        if gaussian:
            sigma = numpyro.sample("sigma", dist.Exponential(rate))
            coef = numpyro.sample("coef", dist.Laplace(0.0, sigma**2 / nalpha).expand([p]).to_event(1))
        else:
            coef = numpyro.sample("coef", dist.Laplace(0.0, C).expand([p]).to_event(1))
        intercept = numpyro.sample("intercept", dist.ImproperUniform(constraints.real, (), ()))
        mean = intercept + X @ coef
        with numpyro.plate("obs", n):
            if gaussian:
                numpyro.sample("y", dist.Normal(mean, sigma), obs=y)
            else:
                numpyro.sample("y", dist.Bernoulli(logits=mean), obs=y)

    return model


def work_numpyro(data, settings, clock, out) -> None:
    import arviz as az
    import jax
    import numpy as np
    from numpyro.infer import MCMC, NUTS

    jax.config.update("jax_enable_x64", True)
    mcmc = MCMC(
        NUTS(_numpyro_model(data)),
        num_warmup=settings["num_warmup"],
        num_samples=settings["num_samples"],
        num_chains=settings["num_chains"],
        chain_method="vectorized",
        progress_bar=False,
    )

    tiny = MCMC(
        NUTS(_numpyro_model(data)),
        num_warmup=1,
        num_samples=1,
        num_chains=settings["num_chains"],
        chain_method="vectorized",
        progress_bar=False,
    )

    def run(seed, short=False):
        m = tiny if short else mcmc
        m.run(jax.random.PRNGKey(seed), data["X"], data["y"], extra_fields=("diverging",))
        draws = {name: np.asarray(v) for name, v in m.get_samples(group_by_chain=True).items()}
        diverging = np.asarray(m.get_extra_fields(group_by_chain=True)["diverging"])
        return lambda: az.from_dict(posterior=draws, sample_stats={"diverging": diverging})

    out.update(_three_runs(run, settings, clock))


def _three_runs(run, settings, clock) -> dict:
    """Cold run, rerun in the same process, rerun served by the persistent compilation cache.

    ``run(seed, short=False)`` blocks until the draws are in hand and returns a thunk giving the
    InferenceData; ``short=True`` runs 1 warmup step and 1 draw. Two short runs follow the three
    (the second served by the caches like run 3): the CPU time of run 3 less that of the second short
    run is the *marginal sampler CPU*, the CPU that warmup and draws take beyond a call's fixed costs
    (numpyro's tracing on every ``MCMC.run``; bayesreg's log-likelihood and InferenceData). Being CPU
    time, it holds up when other processes load the machine, where wall times do not.
    Run 1 is the cold one (no persistent cache). Then JAX's persistent compilation cache is switched
    on (a fresh folder): run 2 shows what a second call in the same process recompiles (and fills
    the cache), run 3 is served from the cache, so its wall time less the remaining tracing, lowering
    and cache reads is the sampling time, free of the compile work that overlaps execution. The
    compile time is that of run 1's events (run 1's wall time less run 3's sampling time is kept as
    ``compile_by_difference``: it goes wrong when the load changes between the runs).
    """
    import jax
    from jax._src import compilation_cache

    runs = []
    for k in range(3):
        if k == 1:
            jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="jax-cache-"))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
            compilation_cache.reset_cache()
        clock.reset()
        start, cpu = time.perf_counter(), time.process_time()
        to_idata = run(settings["seed"] + k)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        runs.append(
            {
                "wall": wall,
                "cpu": cpu,
                "compile": clock.seconds,
                "at": time.time(),
                "cache": dict(clock.events),
            }
        )
        if k in (0, 2):
            idata = to_idata()
            runs[-1].update(min_ess=_min_ess(idata), divergences=_divergences(idata))
    cold, rerun, cached = runs
    short = []
    for _ in range(2):
        start = time.process_time()
        run(settings["seed"] + 3, short=True)
        short.append(time.process_time() - start)
    sampling = cached["wall"] - cached["compile"]
    return {
        "compile": cold["compile"],
        "compile_by_difference": cold["wall"] - sampling,
        "sampling": sampling,
        "sampling_call_cpu": cached["cpu"],
        "short_call_cpu": short[1],
        "sampler_cpu": cached["cpu"] - short[1],
        "done_at": cold["at"],
        "min_ess": cached["min_ess"],
        "divergences": cached["divergences"],
        "cold_run": cold,
        "rerun_wall": rerun["wall"],
        "rerun_compile": rerun["compile"],
        "cached_run": cached,
    }


def work_bayesreg(data, settings, clock, out) -> None:
    import jax
    import numpy as np
    import numpyro.distributions as dist
    import numpyro.infer

    import bayesreg.estimators as estimators
    import bayesreg.sampling as sampling

    # scenarios 1, 3, 4 time the sampler within one process: no exported programs (scenario 2's)
    try:
        import bayesreg.engine.programs as programs

        programs.export_folder = lambda: None
    except ImportError:  # a bayesreg before the engine subpackage
        try:
            import bayesreg._export_cache as export_cache

            export_cache.folder = lambda: None
        except ImportError:  # a bayesreg before the export cache
            pass

    timings = {
        "mcmc_run": 0.0,
        "map": 0.0,
        "sample_posterior": 0.0,
        "sample_posterior_calls": 0,
        "chains": 0.0,
    }

    def timed(key, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timings[key] += time.perf_counter() - start
                if key == "sample_posterior":
                    timings["sample_posterior_calls"] += 1

        return wrapper

    numpyro.infer.MCMC.run = timed("mcmc_run", numpyro.infer.MCMC.run)
    # the jitted sampler alone, without the log-likelihood and InferenceData: the chains driver's
    # loop (bayesreg.engine.chains.advance_chains), `_advances` (the loop, sessions 3-6) or `_chains`
    # (the whole sampler in one program) in older checkouts
    try:
        import bayesreg.engine.chains as loop_owner

        name = "advance_chains"
    except ImportError:
        loop_owner = sampling
        name = next((n for n in ("_advances", "_chains") if hasattr(sampling, n)), None)
    if name is not None:
        chains = getattr(loop_owner, name)

        def blocking_chains(*args, **kwargs):
            return jax.block_until_ready(chains(*args, **kwargs))

        setattr(loop_owner, name, timed("chains", blocking_chains))
    estimators.map_estimate = timed("map", estimators.map_estimate)
    if hasattr(estimators, "fit_posterior"):
        # the estimators' NUTS fit (bayesreg.sampling.fit_posterior) starts the chains, finds the MAP
        # while they run, then waits for the InferenceData: the call less the MAP counts as
        # sample_posterior (the MAP's time includes whatever of the chains it waits for)
        sampling.map_estimate = timed("map", sampling.map_estimate)
        whole = estimators.fit_posterior

        def fit_posterior(*args, **kwargs):
            map_before, start = timings["map"], time.perf_counter()
            try:
                return whole(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start - (timings["map"] - map_before)
                timings["sample_posterior"] += elapsed
                timings["sample_posterior_calls"] += 1

        estimators.fit_posterior = fit_posterior
    elif hasattr(estimators, "_posterior_started"):
        # since session 4 the estimators start the chains, find the MAP while they run, then wait
        # for the InferenceData: both steps count as sample_posterior (the MAP's time includes
        # whatever of the chains it waits for)
        started = estimators._posterior_started

        def posterior_started(*args, **kwargs):
            finish = timed("sample_posterior", started)(*args, **kwargs)
            timings["sample_posterior_calls"] -= 1  # counted once, when finished
            return timed("sample_posterior", finish)

        estimators._posterior_started = posterior_started
    else:
        estimators.sample_posterior = timed("sample_posterior", estimators.sample_posterior)
    sample_posterior = timed("sample_posterior", sampling.sample_posterior)
    nuts = {k: settings[k] for k in ("num_warmup", "num_samples", "num_chains")}
    X, y = data["X"], data["y"]

    def fit(seed, short):
        if short:
            nuts.update(num_warmup=1, num_samples=1)
        else:
            nuts.update(num_warmup=settings["num_warmup"], num_samples=settings["num_samples"])
        if settings["scenario"] == 1:
            est = estimators.BayesianLinearRegression(
                prior="laplace", alpha=data["alpha"], method="nuts", random_state=seed, **nuts
            ).fit(X, y)
            return est.idata_
        if data["family"] == "gaussian":
            from bayesreg import prior_from_penalty
            from bayesreg.models import SufficientStats, linear_regression, linear_regression_stats

            prior = prior_from_penalty("laplace", data["alpha"], n_samples=X.shape[0])
            return sample_posterior(
                linear_regression_stats,
                SufficientStats.from_data(X, y),
                observed=(linear_regression, X, y),
                prior=prior,
                sigma=dist.Exponential(1.0 / max(float(np.std(y)), 1e-12)),
                fit_intercept=True,
                seed=seed,
                **nuts,
            )
        from bayesreg import prior_from_penalty
        from bayesreg.models import logistic_regression

        prior = prior_from_penalty("laplace", 1.0 / data["C"], family="bernoulli")
        return sample_posterior(logistic_regression, X, y, prior=prior, fit_intercept=True, seed=seed, **nuts)

    breakdowns = []

    def run(seed, short=False):
        for key in timings:
            timings[key] = 0
        idata = fit(seed, short)
        breakdowns.append(dict(timings, mixture="coef_std" in idata.posterior))
        return lambda: idata

    out.update(_three_runs(run, settings, clock))
    out["breakdown"] = breakdowns[0]
    out["breakdown_cached"] = breakdowns[2]


def _pymc_model(data):
    import numpy as np
    import pymc as pm

    X, y = data["X"], data["y"]
    n, p = X.shape
    with pm.Model() as model:
        if data["family"] == "gaussian":
            sigma = pm.Exponential("sigma", lam=1.0 / float(np.std(y)))
            coef = pm.Laplace("coef", mu=0.0, b=sigma**2 / (n * data["alpha"]), shape=p)
            intercept = pm.Flat("intercept")
            pm.Normal("y", mu=intercept + pm.math.dot(X, coef), sigma=sigma, observed=y)
        else:
            coef = pm.Laplace("coef", mu=0.0, b=data["C"], shape=p)
            intercept = pm.Flat("intercept")
            pm.Bernoulli("y", logit_p=intercept + pm.math.dot(X, coef), observed=y)
    return model


def work_pymc(data, settings, clock, out) -> None:
    import pymc as pm

    model = _pymc_model(data)
    start = time.perf_counter()
    with model:
        idata = pm.sample(
            draws=settings["num_samples"],
            tune=settings["num_warmup"],
            chains=settings["num_chains"],
            cores=min(settings["num_chains"], os.cpu_count() or 1),
            random_seed=settings["seed"],
            progressbar=False,
            compute_convergence_checks=False,
        )
    wall = time.perf_counter() - start
    out["done_at"] = time.time()
    sampling = float(idata.sample_stats.attrs["sampling_time"])
    out.update(
        compile=wall - sampling, sampling=sampling, min_ess=_min_ess(idata), divergences=_divergences(idata)
    )


def work_nutpie(data, settings, clock, out) -> None:
    import nutpie

    model = _pymc_model(data)
    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=settings["num_samples"],
        tune=settings["num_warmup"],
        chains=settings["num_chains"],
        seed=settings["seed"],
        progress_bar=False,
    )
    sampling = time.perf_counter() - start
    out["done_at"] = time.time()
    out.update(compile=compile_s, sampling=sampling, min_ess=_min_ess(idata), divergences=_divergences(idata))


WORKERS = {"numpyro": work_numpyro, "bayesreg": work_bayesreg, "pymc": work_pymc, "nutpie": work_nutpie}


def worker_main(tool: str, settings: dict, launched: float) -> None:
    """Runs in the fresh process: import, fit, print one ``RESULT {json}`` line."""
    out: dict = {"load_start": os.getloadavg()[0]}
    start = time.time()
    import warnings

    warnings.filterwarnings("ignore")
    clock = None
    if tool in ("numpyro", "bayesreg"):
        import jax

        clock = _CompileClock()
        jax.config.update("jax_enable_x64", tool == "numpyro")  # bayesreg switches x64 on itself
    else:
        import pymc  # noqa: F401  (import time is part of end-to-end, as for the JAX tools)
    data = scenario_data(settings["scenario"])
    out["import_and_data"] = time.time() - start
    WORKERS[tool](data, settings, clock, out)
    out["end_to_end"] = out.pop("done_at") - launched
    out["load_end"] = os.getloadavg()[0]
    print("RESULT " + json.dumps(out), flush=True)


# ------------------------------------------------------------------------------------ scenario 2

SECOND_FIT = r"""
import json, os, sys, time
csv, out_dir, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
launched = float(sys.argv[5])  # sys.argv[4] == "--launched"
import jax, jax.monitoring
if settings["cache_dir"]:
    jax.config.update("jax_compilation_cache_dir", settings["cache_dir"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
compile_s, events = [0.0], {}
def on_duration(event, duration, **_):
    if event in %(events)r:
        compile_s[0] += duration
def on_event(event, **_):
    if event.endswith(("cache_hits", "cache_misses")):
        name = event.rsplit("/", 1)[-1]; events[name] = events.get(name, 0) + 1
jax.monitoring.register_event_duration_secs_listener(on_duration)
jax.monitoring.register_event_listener(on_event)
import pandas as pd
import bayesreg.estimators as estimators
timings = {}
def timed(name, fn):
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - t
    return wrapper
estimators.map_estimate = timed("map", estimators.map_estimate)
if hasattr(estimators, "fit_posterior"):  # the chains start first, the MAP runs meanwhile
    import bayesreg.sampling as sampling
    sampling.map_estimate = timed("map", sampling.map_estimate)
    whole = estimators.fit_posterior
    def fit_posterior(*a, **k):
        map_before = timings.get("map", 0.0)
        t = time.perf_counter()
        try:
            return whole(*a, **k)
        finally:
            spent = time.perf_counter() - t - (timings.get("map", 0.0) - map_before)
            timings["nuts"] = timings.get("nuts", 0.0) + spent
    estimators.fit_posterior = fit_posterior
elif hasattr(estimators, "_posterior_started"):  # the chains start first, the MAP runs meanwhile
    started = estimators._posterior_started
    estimators._posterior_started = lambda *a, **k: timed("nuts", timed("nuts", started)(*a, **k))
else:
    estimators.sample_posterior = timed("nuts", estimators.sample_posterior)
imported = time.time()
frame = pd.read_csv(csv)
X, y = frame.drop(columns="target"), frame["target"]
est = estimators.BayesianLinearRegression(
    prior="laplace", alpha=0.1, method="nuts", random_state=0,
    num_warmup=settings["num_warmup"], num_samples=settings["num_samples"],
    num_chains=settings["num_chains"],
).fit(X, y)
fitted = time.time()
est.idata_.to_netcdf(os.path.join(out_dir, "posterior.nc"))
post = est.idata_.posterior
pd.DataFrame({"feature": list(X.columns), "mean": post["coef"].mean(("chain", "draw")).to_numpy()}).to_csv(
    os.path.join(out_dir, "coefficients.csv"), index=False)
done = time.time()
print("RESULT " + json.dumps({
    "end_to_end": done - launched, "startup_and_imports": imported - launched, "fit": fitted - imported,
    "write": done - fitted, "compile": compile_s[0], "cache": events,
    "map": timings.get("map", 0.0), "nuts": timings.get("nuts", 0.0),
    "divergences": int(est.idata_.sample_stats["diverging"].sum()),
    "mixture": "coef_std" in post,
}), flush=True)
"""


def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("bayesreg")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from bayesreg.cli import run; run()"]


def _on_terminal(argv, env) -> subprocess.CompletedProcess:
    """Run ``argv`` with its stderr on a pseudo-terminal (so the command line shows its progress bar,
    as for a user at a terminal) and its stdout captured."""
    import threading

    master, slave = os.openpty()
    shown = []

    def drain():  # the terminal's side: read until the process has closed its end
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: no process holds the terminal any more
                break
            if not data:
                break
            shown.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, text=True, env=env, cwd=ROOT) as proc:
        os.close(slave)
        stdout, _ = proc.communicate()
    reader.join(timeout=10)
    os.close(master)
    stderr = b"".join(shown).decode(errors="replace")
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


def _timed_process(argv, env, variant: str, run: int, *, terminal: bool = False) -> dict:
    load = os.getloadavg()[0]
    cpu = _children_cpu()
    launched = time.time()
    if argv[-1] == "--launched":
        argv = [*argv, repr(launched)]
    if terminal:
        proc = _on_terminal(argv, env)
    else:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    wall = time.time() - launched
    cpu = _children_cpu() - cpu
    result = _parse(proc) if "RESULT " in proc.stdout else {}
    if proc.returncode != 0:
        result["error"] = f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1][:300]}"
    result.update(variant=variant, run=run, process_wall=wall, process_cpu=cpu)
    result.update(load_start=load, load_end=os.getloadavg()[0])
    return result


def run_second_fit(settings: dict, workdir: Path, args) -> dict:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    csv = workdir / "diabetes.csv"
    frame.to_csv(csv, index=False)
    out_dir = workdir / "fit-out"
    out_dir.mkdir(exist_ok=True)
    nuts = ["--num-warmup", str(settings["num_warmup"]), "--num-samples", str(settings["num_samples"])]
    nuts += ["--num-chains", str(settings["num_chains"]), "--seed", str(settings["seed"])]
    cli = [*_cli_command(), "fit", str(csv), "--target", "target", "--alpha", "0.1", "--method", "nuts"]
    cli += [*nuts, "--out", str(out_dir)]
    script = workdir / "second_fit.py"
    script.write_text(SECOND_FIT % {"events": COMPILE_EVENTS})
    rows = []

    def twice(name, argv, env, terminal=False):
        for run in (1, 2):
            _wait_for_load(args)
            rows.append(_timed_process(argv, env, name, run, terminal=terminal))
            print("  " + _second_fit_line(rows[-1]), flush=True)

    # the CLI as a user runs it: its own cache folder ($XDG_CACHE_HOME/bayesreg/jax), fresh here
    env = dict(
        _clean_env(), XDG_CACHE_HOME=str(workdir / "xdg-no-cache"), JAX_ENABLE_COMPILATION_CACHE="false"
    )
    twice("CLI, cache disabled", cli, env)
    cli_ok = "error" not in rows[-1]
    env = dict(_clean_env(), XDG_CACHE_HOME=str(workdir / "xdg-cli"))
    twice("CLI, its persistent cache", cli, env)
    # the same with stderr on a terminal: the progress bar on, as a user at a terminal sees it
    env = dict(_clean_env(), XDG_CACHE_HOME=str(workdir / "xdg-cli-terminal"))
    twice("CLI on a terminal, its cache", cli, env, terminal=True)
    # the same fit as a script that times its parts (and sets the cache itself)
    base = [sys.executable, str(script), str(csv), str(out_dir)]
    for name, hashseed in (("script, persistent cache", None), ("script, cache + PYTHONHASHSEED=0", "0")):
        cache_dir = workdir / f"jax-cache-{len(rows)}"
        sub = json.dumps(dict(settings, cache_dir=str(cache_dir)))
        env = _clean_env()
        if hashseed is not None:
            if rows[-1].get("cache", {}).get("cache_misses", 0) == 0:
                break  # no miss left to explain
            env["PYTHONHASHSEED"] = hashseed
        twice(name, [*base, sub, "--launched"], env)
    return {"cli_command": cli, "cli_runs": cli_ok, "runs": rows}


def _second_fit_line(r: dict) -> str:
    head = f"{r['variant']:<34} run {r['run']}: {r['process_wall']:6.1f} s end-to-end"
    head += f" (CPU {r['process_cpu']:5.1f} s)"
    tail = f"load {r['load_start']:.1f}->{r['load_end']:.1f}"
    if "error" in r:
        return f"{head} FAILED {r['error']}; {tail}"
    if "fit" not in r:
        return f"{head}; {tail}"
    cache = ", ".join(f"{k} {v}" for k, v in sorted(r.get("cache", {}).items())) or "-"
    return (
        f"{head} = {r['startup_and_imports']:.1f} startup+imports + {r['fit']:.1f} fit "
        f"(MAP {r['map']:.1f}, NUTS {r['nuts']:.1f} outside it; compile {r['compile']:.1f}) "
        f"+ {r['write']:.1f} write; "
        f"persistent cache: {cache}; div {r['divergences']}{' (mixture)' if r['mixture'] else ''}; {tail}"
    )


# --------------------------------------------------------------------------------------- driver


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


BLAS_THREADS: int | None = None


def _clean_env() -> dict:
    env = dict(os.environ)
    if BLAS_THREADS is not None:
        for key in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[key] = str(BLAS_THREADS)
    for key in list(env):
        if key.startswith("JAX_COMPILATION_CACHE") or key.startswith("JAX_PERSISTENT_CACHE"):
            env.pop(key)
    env.pop("PYTHONHASHSEED", None)
    # a user's second run finds the bytecode its first run wrote (this machine's shell sets
    # PYTHONDONTWRITEBYTECODE, which makes every run compile bayesreg's sources again)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # every process compiles as the bayesreg command does (bayesreg.cli.run adds this flag): XLA:CPU
    # may then compile a small while loop into one kernel. numpyro gets it too (same environment);
    # PyMC and nutpie do not use XLA.
    from bayesreg.cli import _with_small_loop_kernels

    env["XLA_FLAGS"] = _with_small_loop_kernels(env.get("XLA_FLAGS", ""))
    return env


def _wait_for_load(args) -> None:
    if args.max_load is None:
        return
    deadline = time.time() + args.max_wait
    while os.getloadavg()[0] > args.max_load and time.time() < deadline:
        time.sleep(5)


def _parse(proc) -> dict:
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"exit {proc.returncode}: {tail[:300]}"}


def _available(tool: str) -> bool:
    module = {"numpyro": "numpyro", "bayesreg": "bayesreg", "pymc": "pymc", "nutpie": "nutpie"}[tool]
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, check=False)
    return proc.returncode == 0


def launch(tool: str, settings: dict, env: dict, args) -> dict:
    _wait_for_load(args)
    cpu = _children_cpu()
    launched = time.time()
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", tool]
    argv += ["--launched", repr(launched), "--settings", json.dumps(settings)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    result = _parse(proc)
    result["process_wall"] = time.time() - launched
    result["process_cpu"] = _children_cpu() - cpu  # all runs of the worker, not only the cold one
    return result


def _median(rows: list[dict], key: str):
    values = [r[key] for r in rows if isinstance(r.get(key), int | float)]
    return statistics.median(values) if values else None


def _summarise(label: str, rows: list[dict]) -> dict:
    ok = [r for r in rows if "error" not in r]
    summary = {"tool": label, "repeats": len(ok), "runs": rows}
    if not ok:
        summary["error"] = rows[0].get("error", "no run") if rows else "no run"
        return summary
    for key in (
        "compile",
        "sampling",
        "sampler_cpu",
        "end_to_end",
        "min_ess",
        "divergences",
        "rerun_wall",
        "rerun_compile",
    ):
        summary[key] = _median(ok, key)
    rated = [r for r in ok if r.get("min_ess") is not None]
    by_cpu = [r for r in rated if r.get("sampler_cpu")]
    summary["ess_per_cpu_s"] = (
        statistics.median(r["min_ess"] / r["sampler_cpu"] for r in by_cpu) if by_cpu else None
    )
    summary["ess_per_s"] = statistics.median(r["min_ess"] / r["sampling"] for r in rated) if rated else None
    timed = [r for r in rated if r.get("end_to_end")]
    summary["ess_per_s_e2e"] = (
        statistics.median(r["min_ess"] / r["end_to_end"] for r in timed) if timed else None
    )
    loads = [r["load_start"] for r in ok] + [r["load_end"] for r in ok]
    summary["load"] = (min(loads), max(loads))
    return summary


def star98_worker(target: str, parametrisation: str) -> dict:
    """Scenario 5 in this process: two fits (seeds 0 and 1) of the estimator with default settings."""
    import warnings

    from statsmodels.datasets import star98

    from bayesreg import BayesianLinearRegression

    data = star98.load_pandas().data
    X, y = data.drop(columns=[target]), data[target]
    row: dict = {"target": target, "parametrisation": parametrisation}
    for call, seed in (("first", 0), ("second", 1)):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = BayesianLinearRegression(
                method="nuts", laplace_parametrisation=parametrisation, random_state=seed
            )
            est.fit(X, y)
        row[f"{call} s"] = time.perf_counter() - start
        report = est.diagnostics_
        row[f"{call} rhat"], row[f"{call} ess"] = report.max_rhat, report.min_ess_bulk
        row[f"{call} div"] = report.divergences
    return row


def run_star98(args) -> list[dict]:
    """Scenario 5: each target and parametrisation in a fresh process (`star98_worker`)."""
    rows = []
    for target in STAR98_TARGETS:
        for parametrisation in ("auto", "direct"):
            _wait_for_load(args)
            code = (
                "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_nuts; "
                "print('ROW', json.dumps(bench_nuts.star98_worker(sys.argv[2], sys.argv[3])))"
            )
            proc = subprocess.run(
                [sys.executable, "-c", code, str(HERE), target, parametrisation],
                capture_output=True,
                text=True,
                env=_clean_env(),
                check=False,
            )
            lines = [line for line in proc.stdout.splitlines() if line.startswith("ROW ")]
            if not lines:
                print(f"   {target} {parametrisation}: failed\n{proc.stderr[-2000:]}", flush=True)
                continue
            row = json.loads(lines[-1][4:])
            rows.append(row)
            print(
                f"   {target:9s} {parametrisation:7s}"
                + "".join(
                    f"  {call}: {row[f'{call} s']:6.1f} s, R-hat {row[f'{call} rhat']:.3f}, "
                    f"ESS {row[f'{call} ess']:6.0f}, div {row[f'{call} div']}"
                    for call in ("first", "second")
                ),
                flush=True,
            )
    return rows


def run_scenario(scenario: int, settings: dict, workdir: Path, args) -> list[dict]:
    tools = [t for t in TOOLS[scenario] if t in args.tools]
    missing = [t for t in tools if not _available(t)]
    for t in missing:
        print(f"  {t}: cannot be imported here; skipped")
    tools = [t for t in tools if t not in missing]
    runs: dict[str, list[dict]] = {}
    for repeat in range(args.repeats):
        for tool in tools:
            env = _clean_env()
            cache = workdir / f"pytensor-s{scenario}-{tool}-r{repeat}"
            env["PYTENSOR_FLAGS"] = f"base_compiledir={cache}"
            # repeat r runs seeds 3r, 3r + 1, 3r + 2 (cold, rerun, measured): medians over repeats are
            # medians over seeds, not one seed's draws again
            sub = dict(settings, scenario=scenario, seed=settings["seed"] + 3 * repeat)
            if tool in ("numpyro", "bayesreg"):
                env["JAX_CPU_ENABLE_ASYNC_DISPATCH"] = "false"
            labels = [f"{tool} (cold)" if scenario == 1 and tool in ("pymc", "nutpie") else tool]
            results = [launch(tool, sub, env, args)]
            if scenario == 1 and tool in ("pymc", "nutpie"):
                labels.append(f"{tool} (warm: 2nd process)")
                results.append(launch(tool, sub, env, args))
            for label, result in zip(labels, results, strict=True):
                runs.setdefault(label, []).append(result)
                print(f"  [{repeat + 1}/{args.repeats}] {_run_line(label, result)}", flush=True)
            if tool in ("numpyro", "bayesreg") and "error" not in results[0]:
                rerun = dict(results[0], sampling=results[0]["rerun_wall"] - results[0]["rerun_compile"])
                rerun.update(
                    compile=results[0]["rerun_compile"], end_to_end=None, min_ess=None, divergences=None
                )
                rerun.pop("breakdown", None)
                runs.setdefault(f"{tool} (2nd run, same process)", []).append(rerun)
            chains = (
                results[0].get("breakdown_cached", {}).get("chains") if "error" not in results[0] else None
            )
            if chains:
                only = dict(results[0], sampling=chains, compile=None, end_to_end=None, sampler_cpu=None)
                only.pop("breakdown", None)
                runs.setdefault(f"{tool} (sampler only)", []).append(only)
    return [_summarise(label, rows) for label, rows in runs.items()]


def _run_line(label: str, r: dict) -> str:
    if "error" in r:
        return f"{label}: FAILED {r['error']}"
    cpu = ""
    if "sampler_cpu" in r:
        cpu = f" (CPU of that call {r['sampling_call_cpu']:.2f} s, marginal sampler CPU"
        cpu += f" {r['sampler_cpu']:.2f} s)"
    return (
        f"{label}: compile {r['compile']:.1f} s, sampling {r['sampling']:.2f} s{cpu}, end-to-end "
        f"{r['end_to_end']:.1f} s, min bulk ESS {r['min_ess']:.0f}, div {r['divergences']}, "
        f"load {r['load_start']:.1f}->{r['load_end']:.1f}"
    )


def _fmt(value, spec: str) -> str:
    width = int("".join(c for c in spec.split(".")[0] if c.isdigit()) or 0)
    return "-".rjust(width) if value is None else format(value, spec)


def print_table(scenario: int, rows: list[dict]) -> None:
    ref = {
        r["tool"].split(" ")[0]: r.get("ess_per_s")
        for r in rows
        if r["tool"] in ("numpyro", "nutpie", "nutpie (cold)")
    }
    ref_cpu = next((r.get("ess_per_cpu_s") for r in rows if r["tool"] == "numpyro"), None)
    head = (
        f"{'tool':<32} {'compile s':>9} {'sampling s':>10} {'end-to-end s':>12} {'min ESS':>8} "
        f"{'ESS/s':>8} {'ESS/s e2e':>9} {'div':>5} {'x nutpie':>8} {'x numpyro':>9} {'ESS/CPU-s':>9} "
        f"{'x numpyro':>9}  load(1-min)"
    )
    print(f"\nScenario {scenario}: {TITLES[scenario]}")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['tool']:<32} FAILED: {r['error']}")
            continue
        e2e_rate = r["ess_per_s_e2e"]
        ratios = [
            _fmt(r["ess_per_s"] / ref[k], ".2f") if ref.get(k) and r["ess_per_s"] else "-"
            for k in ("nutpie", "numpyro")
        ]
        by_cpu = r.get("ess_per_cpu_s")
        cpu_ratio = _fmt(by_cpu / ref_cpu, ".2f") if by_cpu and ref_cpu else "-"
        print(
            f"{r['tool']:<32} {_fmt(r['compile'], '9.1f')} {_fmt(r['sampling'], '10.1f')} "
            f"{_fmt(r['end_to_end'], '12.1f')} {_fmt(r['min_ess'], '8.0f')} {_fmt(r['ess_per_s'], '8.0f')} "
            f"{_fmt(e2e_rate, '9.0f')} {_fmt(r['divergences'], '5.0f')} {ratios[0]:>8} {ratios[1]:>9} "
            f"{_fmt(by_cpu, '9.0f')} {cpu_ratio:>9}  "
            f"{r['load'][0]:.1f}-{r['load'][1]:.1f} (n={r['repeats']})"
        )
    for r in rows:
        breakdown = r.get("runs", [{}])[0].get("breakdown")
        if breakdown and "error" not in r:
            parts = ", ".join(
                f"{k} {v:.1f} s" if isinstance(v, float) else f"{k} {v}" for k, v in breakdown.items()
            )
            print(f"  {r['tool']} (first run) time inside: {parts}")


def reference_loop() -> float:
    """Seconds of a fixed pure-Python loop (3 million additions): 0.11-0.13 s on this machine in
    session 5, up to 0.18 s in a slow period. A rough measure of the machine's speed, which the load
    average misses: in one afternoon the same second CLI fit took 4.7-8.6 s at a load average of ~1."""
    start = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 warmup + 300 draws instead of 1000 + 1000")
    parser.add_argument("--scenario", type=int, nargs="+", choices=(1, 2, 3, 4, 5), default=[1, 2, 3, 4, 5])
    parser.add_argument("--repeats", type=int, default=1, help="fresh processes per tool (medians)")
    parser.add_argument("--tools", nargs="+", default=["numpyro", "bayesreg", "pymc", "nutpie"])
    parser.add_argument("--max-load", type=float, default=None, help="wait for a 1-min load below this")
    parser.add_argument("--max-wait", type=float, default=300.0, help="longest wait for --max-load, s")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="set OPENBLAS/OMP/MKL_NUM_THREADS in every process (default: the libraries' own choice)",
    )
    parser.add_argument("--json", type=Path, default=None, help="result file (default benchmarks/results/)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(args.worker, json.loads(args.settings), args.launched)
        return 0

    global BLAS_THREADS
    BLAS_THREADS = args.blas_threads
    draws = 300 if args.quick else 1000
    settings = {"num_warmup": draws, "num_samples": draws, "num_chains": 4, "seed": 0}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    versions = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.metadata as m\n"
            "for p in ('jax', 'numpyro', 'arviz', 'pymc', 'pytensor', 'nutpie', 'numba'):\n"
            "    try: print(p, m.version(p))\n"
            "    except m.PackageNotFoundError: print(p, 'missing')",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    env_info = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "git_head": head.stdout.strip(),
        "modified": subprocess.run(
            ["git", "status", "--porcelain", "--", "bayesreg", "models"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        ).stdout.split("\n")[:-1],
        "versions": dict(zip(versions[::2], versions[1::2], strict=False)),
        "settings": settings,
        "blas_threads": args.blas_threads,
        "load_at_start": os.getloadavg(),
    }
    print(f"bench_nuts: {json.dumps(env_info)}")
    report: dict = {"environment": env_info, "scenarios": {}, "reference_loop": []}
    workdir = Path(tempfile.mkdtemp(prefix="bench_nuts-"))
    try:
        for scenario in sorted(set(args.scenario)):
            speed = reference_loop()
            print(
                f"\n== scenario {scenario}: {TITLES[scenario]} (load {os.getloadavg()[0]:.1f}; "
                f"reference loop {speed:.2f} s)",
                flush=True,
            )
            report["reference_loop"].append([scenario, "start", speed])
            if scenario == 2:
                report["scenarios"]["2"] = run_second_fit(settings, workdir, args)
            elif scenario == 5:
                report["scenarios"]["5"] = run_star98(args)
            else:
                rows = run_scenario(scenario, settings, workdir, args)
                report["scenarios"][str(scenario)] = rows
                print_table(scenario, rows)
            speed = reference_loop()
            print(f"   reference loop at the end of scenario {scenario}: {speed:.2f} s", flush=True)
            report["reference_loop"].append([scenario, "end", speed])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report["environment"]["load_at_end"] = os.getloadavg()
    path = args.json or HERE / "results" / f"bench_nuts-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nload average at end: {os.getloadavg()}; results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
