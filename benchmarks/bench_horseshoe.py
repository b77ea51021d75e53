"""The horseshoe on n = 100 rows and p = 1,000 columns: bayesreg's Gibbs sampler and its collapsed NUTS
sampler against numpyro's own horseshoe example model (issue 14, item 5), in one run; and the wall time
of a regularised-horseshoe fit at n = 100, p = 5,000.

Data: ``X`` (n × p) standard normal, 10 non-zero weights (±1 … ±3, alternating signs) among the
first 10 columns, unit noise, ``y`` centred (as numpyro's example centres it).

- numpyro: ``model_normal_likelihood`` of numpyro's ``examples/horseshoe_regression.py``, copied
  below as it is there (non-centred: ``betas = τ·λ·z``, ``τ, λ_j ~ C⁺(0, 1)``, noise precision
  ``~ Gamma(3, 1)``, no intercept), NUTS with numpyro's defaults (target_accept 0.8, diagonal mass
  matrix, tree depth 10);
- gibbs: ``gibbs_posterior(X, y, Horseshoe(), sigma=σ-prior, fit_intercept=False)``
  (`bayesreg.gibbs`: Johndrow, Orenstein & Bhattacharya (2020)'s exact sweep: τ and σ by Metropolis
  with the weights (and for the joint move σ) integrated out, the weights by Bhattacharya et al.'s
  O(n²p) draw, each 1/λ_j² by an exact rejection sampler, then τλ_j split anew between τ and λ_j
  by a slice step at fixed products), its defaults otherwise;
- bayesreg: ``fit_posterior(linear_regression, X, y, prior=Horseshoe(), sigma=σ-prior,
  fit_intercept=False)`` with its defaults: the collapsed form (τ, λ and σ sampled, the weights
  integrated out and drawn exactly at each draw; with p > n each gradient is one n × n Cholesky
  factor, O(n²p)), target_accept 0.99. σ's prior is numpyro's (σ = precision^-1/2, precision ~
  Gamma(3, 1)); bayesreg's horseshoe scales the weights by σ (BayesReg's form, ``coef_j ~ N(0,
  λ_j²τ²σ²)``), numpyro's example does not: the two posteriors differ in that.

Both run the same number of chains (numpyro's one after another, ``chain_method="sequential"``;
the Gibbs sampler's side by side in one program), and each is timed end to end as a user calls it
(compilation and warmup included; the Gibbs and bayesreg calls also compute PSIS-LOO and bayesreg's
the diagnostics). Each run length L (``--lengths``: L warmup + L kept per chain) is run
``--repeats`` times with seeds ``seed``, ``seed + 1``, ... in one invocation; the Gibbs program is
compiled once per length, so its second run at a length shows the time without compilation.
Reported per run: min bulk ESS (ArviZ) over the weights and over τ, divergences, wall time, min
bulk ESS per second over the weights and τ together, and the Gibbs / numpyro ratio of the last.

The regularised horseshoe (``--rhs``): ``fit_posterior(..., sampler="gibbs")`` with
``RegularizedHorseshoe(n_samples=n)`` (p₀ = p/10) and the same σ prior on n = 100, p = 5,000 (same
data recipe), timed end to end as users call it (PSIS-LOO and the diagnostics included).

    python benchmarks/bench_horseshoe.py                      # 4 × (L + L), L = 500 and 1000, 2 runs each
    python benchmarks/bench_horseshoe.py --lengths 500 --repeats 1 --skip numpyro bayesreg
    python benchmarks/bench_horseshoe.py --rhs --p 5000 --lengths 500 --repeats 2 --skip numpyro bayesreg
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.distributions.transforms import PowerTransform
from numpyro.infer import MCMC, NUTS

from bayesreg.gibbs import gibbs_posterior
from bayesreg.models import linear_regression
from bayesreg.sampling import fit_posterior
from bayesreg.shrinkage import Horseshoe, RegularizedHorseshoe


def model_normal_likelihood(X, Y):
    """numpyro's examples/horseshoe_regression.py, as it is there."""
    D_X = X.shape[1]
    lambdas = numpyro.sample("lambdas", dist.HalfCauchy(jnp.ones(D_X)))
    tau = numpyro.sample("tau", dist.HalfCauchy(jnp.ones(1)))
    unscaled_betas = numpyro.sample("unscaled_betas", dist.Normal(0.0, jnp.ones(D_X)))
    scaled_betas = numpyro.deterministic("betas", tau * lambdas * unscaled_betas)
    mean_function = jnp.dot(X, scaled_betas)
    prec_obs = numpyro.sample("prec_obs", dist.Gamma(3.0, 1.0))
    sigma_obs = 1.0 / jnp.sqrt(prec_obs)
    numpyro.sample("Y", dist.Normal(mean_function, sigma_obs), obs=Y)


def make_data(n: int, p: int, nonzero: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    coef[:nonzero] = np.linspace(1.0, 3.0, nonzero) * (-1.0) ** np.arange(nonzero)
    y = X @ coef + rng.standard_normal(n)
    return X, y - y.mean(), coef


def summarise(name: str, idata, coef_var: str, seconds: float) -> dict:
    ess = az.ess(idata, var_names=[coef_var, "tau"], method="bulk")
    coef_ess, tau_ess = float(ess[coef_var].min()), float(ess["tau"].min())
    row = {
        "sampler": name,
        "seconds": seconds,
        "min_ess_coef": coef_ess,
        "ess_tau": tau_ess,
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "ess_per_s": min(coef_ess, tau_ess) / seconds,
        "steps": float(idata.sample_stats["n_steps"].mean()),
        "rhat": float(az.rhat(idata, var_names=[coef_var, "tau"]).to_array().max()),
    }
    print(
        f"{name:9s} {seconds:8.1f} s  min bulk ESS coef {coef_ess:8.1f}  tau {tau_ess:8.1f}  "
        f"divergences {row['divergences']:5d}  min ESS/s {row['ess_per_s']:8.3f}  "
        f"steps per draw {row['steps']:6.1f}  max R-hat {row['rhat']:.3f}",
        flush=True,
    )
    return row


def run_numpyro(X, y, args) -> dict:
    kernel = NUTS(model_normal_likelihood)
    mcmc = MCMC(
        kernel,
        num_warmup=args.num_warmup,
        num_samples=args.num_samples,
        num_chains=args.num_chains,
        chain_method="sequential",
        progress_bar=args.progress,
    )
    start = time.perf_counter()
    with jax.enable_x64(True):
        key = jax.random.PRNGKey(args.run_seed)
        mcmc.run(key, jnp.asarray(X), jnp.asarray(y), extra_fields=("num_steps",))
        jax.block_until_ready(mcmc.get_samples())
    seconds = time.perf_counter() - start
    idata = az.from_numpyro(mcmc)
    if idata.posterior["tau"].ndim == 3:  # numpyro's tau has shape (1,)
        idata.posterior["tau"] = idata.posterior["tau"][..., 0]
    return summarise("numpyro", idata, "betas", seconds)


def sigma_prior():
    """numpyro's example's noise: σ = precision^-1/2, precision ~ Gamma(3, 1)."""
    return dist.TransformedDistribution(dist.Gamma(3.0, 1.0), PowerTransform(-0.5))


def run_gibbs(X, y, args, prior=None, name="gibbs") -> dict:
    prior = Horseshoe() if prior is None else prior
    start = time.perf_counter()
    idata = gibbs_posterior(
        X,
        y,
        prior,
        sigma=sigma_prior(),
        fit_intercept=False,
        num_warmup=args.num_warmup,
        num_samples=args.num_samples,
        num_chains=args.num_chains,
        seed=args.run_seed,
    )
    seconds = time.perf_counter() - start
    return summarise(name, idata, "coef", seconds)


def run_bayesreg(X, y, args, prior=None, sampler="nuts", name="bayesreg") -> dict:
    """`fit_posterior` as users call it (by default the horseshoe by its collapsed NUTS chains)."""
    prior = Horseshoe() if prior is None else prior
    sigma = sigma_prior()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_posterior(
            linear_regression,
            X,
            y,
            prior=prior,
            sigma=sigma,
            fit_intercept=False,
            num_warmup=args.num_warmup,
            num_samples=args.num_samples,
            num_chains=args.num_chains,
            seed=args.run_seed,
            progress_bar=args.progress,
            sampler=sampler,
        )
    seconds = time.perf_counter() - start
    for warning in caught:
        print(f"  {name} warned:", str(warning.message)[:200])
    print(f"  {name}: parametrisation {fit.parametrisation}, mass matrix {fit.mass_matrix}")
    return summarise(name, fit.idata, "coef", seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--p", type=int, default=1000)
    parser.add_argument("--nonzero", type=int, default=10)
    parser.add_argument(
        "--lengths",
        type=int,
        nargs="+",
        default=[500, 1000],
        help="run lengths L: L warmup + L kept per chain",
    )
    parser.add_argument(
        "--repeats", type=int, default=2, help="runs of each length (seeds seed, seed + 1, ...)"
    )
    parser.add_argument("--num-chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", choices=["gibbs", "numpyro", "bayesreg"], nargs="*", default=["bayesreg"])
    parser.add_argument("--rhs", action="store_true", help="the regularised horseshoe by Gibbs only")
    parser.add_argument("--progress", action="store_true", help="progress bars on stderr")
    args = parser.parse_args()
    X, y, _ = make_data(args.n, args.p, args.nonzero, args.seed)
    rows = []
    for length in args.lengths:
        for repeat in range(args.repeats):
            args.num_warmup = args.num_samples = length
            args.run_seed = args.seed + repeat
            print(
                f"n = {args.n}, p = {args.p}, {args.nonzero} non-zero; {args.num_chains} × "
                f"({length} + {length}), seed {args.run_seed}; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            row = {"length": length, "seed": args.run_seed}
            if args.rhs:
                rhs = RegularizedHorseshoe(n_samples=args.n)
                run_bayesreg(X, y, args, rhs, sampler="gibbs", name="gibbs-rhs")
                continue
            for name, run in (("gibbs", run_gibbs), ("bayesreg", run_bayesreg), ("numpyro", run_numpyro)):
                if name not in args.skip:
                    row[name] = run(X, y, args)
            for name in ("gibbs", "bayesreg"):
                if name in row and "numpyro" in row:
                    ratio = row[name]["ess_per_s"] / row["numpyro"]["ess_per_s"]
                    row[f"{name}_ratio"] = ratio
                    print(f"{name} / numpyro, min bulk ESS/s over coef and tau: {ratio:.2f}×", flush=True)
            rows.append(row)
    ratios = [row["gibbs_ratio"] for row in rows if "gibbs_ratio" in row]
    if ratios:
        print(
            "gibbs / numpyro over all runs: "
            + ", ".join(f"{r:.1f}×" for r in ratios)
            + f"; min {min(ratios):.1f}×"
        )
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
