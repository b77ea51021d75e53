"""Issue 15: NUTS min bulk-ESS per second of bayesreg's count models against raw numpyro NUTS.

Data: statsmodels' fair (6,366 rows; the target ``affairs`` rounded to a count; the exposure
``yrs_married``, whose log is the offset; seven features in their own units: rate_marriage, age,
children, religious, educ, occupation, occupation_husb), as users load it ("unscaled") and with
its feature columns standardised ("standardised"; the offset unchanged).

Models (the same in every tool, float64): ``y ~ Poisson(exp(b + X w + offset))`` and the negative
binomial NB2 with its dispersion fixed at ``--dispersion`` (Var = μ + d μ²); ``w_j ~ Laplace(0,
scale)`` with the scale of ``prior_from_penalty("laplace", alpha, convention="glum", family,
n_samples=n)`` (glum's L1 penalty α, ``--alpha``), and a flat intercept ``b``.

Tools, each timed from arrays to posterior draws in hand:

* **numpyro**: a plain numpyro model (``numpyro.sample`` of ``coef`` from ``dist.Laplace``, the
  intercept from ``dist.ImproperUniform(real)``, ``dist.Poisson(rate=exp(eta))`` or
  ``dist.NegativeBinomial2(exp(eta), 1/d)`` in a plate) under ``NUTS(model)`` with numpyro's
  defaults (target_accept 0.8, diagonal mass matrix, max tree depth 10, uniform start in (-2, 2)),
  ``MCMC(num_warmup=1000, num_samples=1000, num_chains=4, chain_method="sequential")`` (one CPU
  device: numpyro runs the chains in sequence anyway);
* **fit_posterior**: ``bayesreg.fit_posterior(poisson_regression | negative_binomial_regression, X,
  y, prior=..., offset=..., num_samples=1000, num_chains=4)`` at its defaults (500 warmup steps for a
  fixed-scale prior, chains from the MAP with the curvature there, unit-scale columns, the "auto"
  mass matrix: dense here; PSIS-LOO per row computed, as every fit does);
* **fit_posterior w1000**: the same with ``num_warmup=1000``, numpyro's warmup;
* **estimator**: ``BayesianPoissonRegression`` / ``BayesianNegativeBinomialRegression(dispersion)``
  with ``method="nuts"``, ``fit(X, y, offset=offset)`` at its defaults (what ``bayesreg fit --method
  nuts`` runs).

Each (tool, data, model) runs in a fresh Python process (so the first call pays every compilation),
the tools taking turns (A B C D A B C D ... for ``--repeats``), and each process calls twice: the
first call (**wall cold**: tracing and compilation included) and a second one with the next seed
(**wall warm**: numpyro reruns its ``MCMC`` object, bayesreg reuses its compiled programs). Reported
per call: wall seconds, **min bulk ESS** (``arviz.ess(method="bulk")``, the minimum over every
weight and the intercept), **ESS/s** (min bulk ESS over the warm wall; ``ESS/s cold`` over the
cold), max R-hat (``arviz.rhat``), divergences, and the 1-minute load average when the process
started and ended. The XLA flag the ``bayesreg`` command sets (`bayesreg.engine.SMALL_LOOPS_XLA_FLAG`)
is set in every worker, numpyro's included.

Measured 2026-12-07 on 2 CPU cores shared with four other jobs (load average 15-23 throughout;
ratios within one run, absolute seconds inflated by the load), Laplace prior at glum α = 0.01:

* standardised, full settings (4 × 1000 draws; numpyro 1000 warmup, bayesreg its default 500):
  Poisson warm ESS/s numpyro 38.5, fit_posterior 207 (5.4×), fit_posterior with 1000 warmup 134
  (3.5×), estimator 126 (3.3×); NB2 (d = 5) numpyro 33.8, fit_posterior 96.7 (2.9×), with 1000
  warmup 98.6 (2.9×), estimator 87.0 (2.6×). Cold (compilation included): numpyro 130 s / 122 s,
  fit_posterior 62 s / 62 s. Every run R-hat ≤ 1.006, 0 divergences.
* unscaled Poisson, ``--quick`` (4 × (300 + 300) for every tool): numpyro's first call min bulk ESS
  628 in 194 s, its second ESS 6 at R-hat 1.79 in 214 s (the chains from its uniform start on columns
  in their own units did not mix); fit_posterior ESS 1,493 in 9.1 s warm (164 ESS/s), R-hat 1.011.

Run ``python benchmarks/bench_glm_nuts.py [--quick] [--repeats R] [--families F ...] [--data D ...]
[--tools T ...]``; ``--quick`` runs 300 warmup + 300 draws for every tool.

``--sparsity`` times instead the estimators under the priors that learn their scales, as users call
them: ``BayesianPoissonRegression`` / ``BayesianNegativeBinomialRegression`` (dispersion estimated,
its default) with ``method="nuts"`` and ``prior="horseshoe"``, ``"regularized_horseshoe"``,
``"r2d2"`` or ``prior="laplace", alpha="hierarchical"``, every other setting at its default (4 ×
1000 draws after 1000 warmup steps, target_accept 0.99), ``fit(X, y[, offset=...])`` on the whole
of fair (6,366 rows, the seven columns above, offset log(yrs_married)) and of randhie (20,190
rows, ``mdvis`` on its nine columns, no offset), unscaled; each fit in a fresh process. Reported:
wall seconds of ``fit`` (compilation included), max R-hat and min bulk ESS over every sampled
variable, divergences (``diagnostics_``), the 1-minute load average at the start and end.
Run ``python benchmarks/bench_glm_nuts.py --sparsity [--families F ...] [--sparsity-data D ...]
[--priors P ...] [--seed S]``.

Measured 2026-12-07 (glmhs branch, seed 0, load 2-9 with other jobs alongside): every fit of fair
(Poisson and NB2 under the four priors) and of randhie (Poisson under the four, NB2 under all but
R2D2, not run) had 0 divergent transitions, max R-hat 1.001-1.004, min bulk ESS 1,889-6,181, and
passed the diagnostics gate; fit 122-527 s on fair, 150-660 s on randhie (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TOOLS = ("numpyro", "fit_posterior", "fit_posterior_w1000", "estimator")
FAMILIES = ("poisson", "negative_binomial")
DATA = ("unscaled", "standardised")


def load_fair(kind: str):
    """X (n, 7), the counts y and the offset log(yrs_married); X standardised for "standardised"."""
    import statsmodels.api as sm

    fair = sm.datasets.fair.load_pandas().data
    X = fair.drop(columns=["affairs", "yrs_married"]).to_numpy(np.float64)
    if kind == "standardised":
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, np.round(fair["affairs"].to_numpy(np.float64)), np.log(fair["yrs_married"].to_numpy(np.float64))


SPARSITY_DATA = ("fair", "randhie")
SPARSITY_PRIORS = ("horseshoe", "regularized_horseshoe", "r2d2", "hierarchical")


def load_sparsity_data(name: str):
    """The whole of fair (X, y, offset log(yrs_married)) or randhie (X, mdvis, no offset), unscaled."""
    import statsmodels.api as sm

    if name == "fair":
        return load_fair("unscaled")
    frame = sm.datasets.randhie.load_pandas().data
    return frame.drop(columns=["mdvis"]).to_numpy(np.float64), frame["mdvis"].to_numpy(np.float64), None


def sparsity_worker(data: str, family: str, prior: str, seed: int) -> dict:
    """One fresh process: the estimator's ``fit`` under ``prior`` at its defaults, timed."""
    from bayesreg import BayesianNegativeBinomialRegression, BayesianPoissonRegression

    load_start = os.getloadavg()[0]
    X, y, offset = load_sparsity_data(data)
    options = {"prior": "laplace", "alpha": "hierarchical"} if prior == "hierarchical" else {"prior": prior}
    cls = BayesianPoissonRegression if family == "poisson" else BayesianNegativeBinomialRegression
    est = cls(method="nuts", random_state=seed, **options)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y, **({} if offset is None else {"offset": offset}))
    wall = time.perf_counter() - start
    d = est.diagnostics_
    return {
        "data": data,
        "family": family,
        "prior": prior,
        "seed": seed,
        "wall": wall,
        "max_r_hat": d.max_rhat,
        "min_ess_bulk": d.min_ess_bulk,
        "divergences": int(d.divergences),
        "ok": bool(d.ok),
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
    }


def run_sparsity(args) -> None:
    """Each (data, family, prior) in a fresh process; one table row each."""
    env = dict(os.environ)
    from bayesreg.engine import SMALL_LOOPS_XLA_FLAG

    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {SMALL_LOOPS_XLA_FLAG}".strip()
    print("| data | family | prior | fit s | max R-hat | min bulk ESS | divergences | gate | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    results = []
    for data in args.sparsity_data:
        for family in args.families:
            for prior in args.priors:
                job = json.dumps([data, family, prior, args.seed])
                argv = [sys.executable, str(Path(__file__)), "--sparsity-worker", job]
                proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
                if proc.returncode != 0:
                    reason = proc.stderr.strip().splitlines()[-1:]
                    print(f"| {data} | {family} | {prior} | failed: {reason} |")
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                results.append(r)
                print(
                    f"| {data} | {family} | {prior} | {r['wall']:.1f} | {r['max_r_hat']:.3f} | "
                    f"{r['min_ess_bulk']:.0f} | {r['divergences']} | {'pass' if r['ok'] else 'fail'} | "
                    f"{r['load_start']:.1f}/{r['load_end']:.1f} |",
                    flush=True,
                )
    folder = HERE / "results"
    folder.mkdir(exist_ok=True)
    (folder / "bench_glm_nuts_sparsity.json").write_text(json.dumps(results, indent=1))


def raw_numpyro_model(X, y, offset, scale, family, dispersion):
    """The model written as a numpyro user would: the Laplace prior and the flat intercept, the
    Poisson or NB2 likelihood of the log mean ``b + X w + offset``."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    coef = numpyro.sample("coef", dist.Laplace(0.0, scale).expand([X.shape[1]]).to_event(1))
    intercept = numpyro.sample("intercept", dist.ImproperUniform(constraints.real, (), ()))
    mean = jnp.exp(intercept + X @ coef + offset)
    with numpyro.plate("obs", X.shape[0]):
        if family == "poisson":
            numpyro.sample("y", dist.Poisson(mean), obs=y)
        else:
            numpyro.sample("y", dist.NegativeBinomial2(mean, 1.0 / dispersion), obs=y)


def worker(tool: str, data: str, family: str, settings: dict) -> dict:
    """One fresh process: two calls of ``tool`` (seeds s, s + 1); their walls, ESS and diagnostics."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import arviz as az

    from bayesreg.priors import prior_from_penalty

    out: dict = {"tool": tool, "data": data, "family": family, "load_start": os.getloadavg()[0]}
    X, y, offset = load_fair(data)
    n = len(y)
    prior = prior_from_penalty("laplace", settings["alpha"], convention="glum", family=family, n_samples=n)
    scale = 1.0 / float(prior.l1)
    dispersion = settings["dispersion"]
    warmup, draws, chains = settings["num_warmup"], settings["num_samples"], settings["num_chains"]
    calls = []
    mcmc = None
    for k in range(2):
        seed = settings["seed"] + k
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if tool == "numpyro":
                from numpyro.infer import MCMC, NUTS

                if mcmc is None:
                    kernel = NUTS(raw_numpyro_model)
                    mcmc = MCMC(
                        kernel,
                        num_warmup=warmup,
                        num_samples=draws,
                        num_chains=chains,
                        chain_method="sequential",
                        progress_bar=False,
                    )
                try:
                    mcmc.run(
                        jax.random.PRNGKey(seed),
                        X,
                        y,
                        offset,
                        scale,
                        family,
                        dispersion,
                        extra_fields=("diverging",),
                    )
                    samples = mcmc.get_samples(group_by_chain=True)
                    posterior = {k: np.asarray(v) for k, v in samples.items()}
                    divergences = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
                    used_warmup = warmup
                except RuntimeError as error:  # e.g. no valid initial parameters
                    calls.append({"error": str(error).splitlines()[0], "wall": time.perf_counter() - start})
                    continue
            elif tool in ("fit_posterior", "fit_posterior_w1000"):
                from bayesreg.models import negative_binomial_regression, poisson_regression
                from bayesreg.sampling import fit_posterior

                model = poisson_regression if family == "poisson" else negative_binomial_regression
                extra = {} if family == "poisson" else {"dispersion": dispersion}
                fit = fit_posterior(
                    model,
                    X,
                    y,
                    prior=prior,
                    offset=offset,
                    num_warmup=1000 if tool == "fit_posterior_w1000" else settings["bayesreg_warmup"],
                    num_samples=draws,
                    num_chains=chains,
                    seed=seed,
                    progress_bar=False,
                    **extra,
                )
                idata = fit.idata
                posterior = {v: idata.posterior[v].to_numpy() for v in ("coef", "intercept")}
                divergences = int(fit.diagnostics.divergences)
                used_warmup = int(idata.sample_stats.attrs["num_warmup"])
            else:
                from bayesreg import BayesianNegativeBinomialRegression, BayesianPoissonRegression

                options = {
                    "alpha": settings["alpha"],
                    "method": "nuts",
                    "num_samples": draws,
                    "num_chains": chains,
                    "random_state": seed,
                }
                if settings["bayesreg_warmup"] is not None:
                    options["num_warmup"] = settings["bayesreg_warmup"]
                if family == "poisson":
                    est = BayesianPoissonRegression(**options)
                else:
                    est = BayesianNegativeBinomialRegression(dispersion=dispersion, **options)
                est.fit(X, y, offset=offset)
                idata = est.idata_
                posterior = {v: idata.posterior[v].to_numpy() for v in ("coef", "intercept")}
                divergences = int(est.diagnostics_.divergences)
                used_warmup = int(idata.sample_stats.attrs["num_warmup"])
        wall = time.perf_counter() - start
        ess = az.ess(posterior, method="bulk")
        rhat = az.rhat(posterior)
        calls.append(
            {
                "wall": wall,
                "min_ess_bulk": float(min(float(np.min(ess[v])) for v in ess.data_vars)),
                "max_r_hat": float(max(float(np.max(rhat[v])) for v in rhat.data_vars)),
                "divergences": divergences,
                "num_warmup": used_warmup,
            }
        )
    out["calls"] = calls
    out["load_end"] = os.getloadavg()[0]
    return out


def _launch(tool, data, family, settings) -> dict:
    env = dict(os.environ)
    from bayesreg.engine import SMALL_LOOPS_XLA_FLAG

    env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {SMALL_LOOPS_XLA_FLAG}".strip()
    argv = [sys.executable, str(Path(__file__)), "--worker", tool, data, family, json.dumps(settings)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        return {"tool": tool, "data": data, "family": family, "failed": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _row(result) -> str:
    head = f"{result['family']:<17} {result['data']:<12} {result['tool']:<20}"
    if "failed" in result:
        return f"{head} process failed: {result['failed']}"
    cold, warm = (result["calls"] + [{}, {}])[:2]
    if "error" in cold or "error" in warm:
        return f"{head} {cold.get('error') or warm.get('error')}"
    ess = (cold["min_ess_bulk"], warm["min_ess_bulk"])
    r_hat, divergences = max(cold["max_r_hat"], warm["max_r_hat"]), cold["divergences"] + warm["divergences"]
    return (
        f"{head} {warm['num_warmup']:>6} {cold['wall']:>9.1f} {warm['wall']:>9.1f} {ess[0]:>8.0f} "
        f"{ess[1]:>8.0f} {ess[0] / cold['wall']:>9.1f} {ess[1] / warm['wall']:>8.1f} {r_hat:>7.3f} "
        f"{divergences:>5} {result['load_start']:>5.1f}/{result['load_end']:<5.1f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 warmup + 300 draws for every tool")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--data", nargs="+", choices=DATA, default=list(DATA))
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--alpha", type=float, default=0.01, help="glum's L1 penalty alpha (default 0.01)")
    parser.add_argument("--dispersion", type=float, default=5.0, help="NB2's fixed dispersion (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--sparsity", action="store_true", help="the sparsity and hierarchical priors' fits")
    parser.add_argument("--sparsity-data", nargs="+", choices=SPARSITY_DATA, default=list(SPARSITY_DATA))
    parser.add_argument("--priors", nargs="+", choices=SPARSITY_PRIORS, default=list(SPARSITY_PRIORS))
    parser.add_argument("--sparsity-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sparsity_worker:
        print(json.dumps(sparsity_worker(*json.loads(args.sparsity_worker))))
        return
    if args.sparsity:
        run_sparsity(args)
        return
    if args.worker:
        tool, data, family, settings = args.worker
        print(json.dumps(worker(tool, data, family, json.loads(settings))))
        return
    settings = {
        "alpha": args.alpha,
        "dispersion": args.dispersion,
        "num_warmup": 300 if args.quick else 1000,
        "bayesreg_warmup": 300 if args.quick else None,
        "num_samples": 300 if args.quick else 1000,
        "num_chains": 4,
        "seed": args.seed,
    }
    print(
        f"fair, L1 alpha = {args.alpha:g} (glum), NB dispersion {args.dispersion:g}; 4 chains x "
        f"{settings['num_samples']} draws; warmup: numpyro {settings['num_warmup']}, bayesreg "
        f"{settings['bayesreg_warmup'] or 'its default'}; load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'family':<17} {'data':<12} {'tool':<20} {'warmup':>6} {'cold s':>9} {'warm s':>9} {'ESS cold':>8} "
        f"{'ESS warm':>8} {'ESS/s cold':>9} {'ESS/s':>8} {'R-hat':>7} {'div':>5} load"
    )
    results = []
    for repeat in range(args.repeats):
        for family in args.families:
            for data in args.data:
                for tool in args.tools:  # the tools take turns on each problem
                    result = _launch(tool, data, family, {**settings, "seed": settings["seed"] + 2 * repeat})
                    results.append(result)
                    print(_row(result), flush=True)
    folder = HERE / "results"
    folder.mkdir(exist_ok=True)
    (folder / "bench_glm_nuts.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
