"""Issue 15: where the chains of a sparsity or hierarchical prior on a count model start.

`bayesreg.fit_posterior` starts them from the mode of the model's density on the unconstrained space
(`bayesreg.sampling.shrinkage_start`: BFGS from a weak-ridge MAP start, then a draw from the Laplace
approximation there, whose covariance is the initial inverse mass matrix); `bayesreg.sample_posterior`
runs the same model with the same settings (centred columns, the prior's 1000 warmup steps and
target_accept 0.99, dense mass matrix) from numpyro's uniform start in (-2, 2). Both are timed end to
end, each (tool, data, prior, seed) in a fresh process, the tools taking turns.

Data (unscaled, as the tests use them): 600 rows of statsmodels' fair (``affairs`` rounded, the
offset ``log(yrs_married)``; rate_marriage, age, religious, educ, occupation), Poisson; 400 rows of
randhie (``mdvis``; lncoins, idp, lpi, fmde, physlm, disea, hlthg, hlthf), NB2 with dispersion 1.
Priors: the horseshoe (``hs``), the regularised horseshoe (``rhs``, n_samples = rows), R2D2
(``r2d2``), the hierarchical Laplace (``hl``) and Gaussian (``hg``) priors, at their defaults.
Reported: max R-hat and min bulk ESS over every sampled variable (`bayesreg.diagnostics`), the
divergences of 4 × 1000 draws, wall seconds, the 1-minute load average at the end.

Run ``python benchmarks/bench_shrinkage_start.py [--data fair randhie] [--priors hs hl] [--seeds 0 1]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
import warnings

DATA = ("fair", "randhie")
PRIORS = ("hs", "rhs", "r2d2", "hl", "hg")
TOOLS = ("fit_posterior", "sample_posterior")


def load(data: str):
    import numpy as np
    import statsmodels.api as sm

    if data == "fair":
        frame = sm.datasets.fair.load_pandas().data
        frame = frame.iloc[np.sort(np.random.default_rng(1).choice(len(frame), 600, replace=False))]
        columns = ["rate_marriage", "age", "religious", "educ", "occupation"]
        offset = np.log(frame["yrs_married"].to_numpy())
        return frame[columns].to_numpy(float), np.round(frame["affairs"].to_numpy()), {"offset": offset}
    frame = sm.datasets.randhie.load_pandas().data
    frame = frame.iloc[np.sort(np.random.default_rng(0).choice(len(frame), 400, replace=False))]
    columns = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf"]
    return frame[columns].to_numpy(float), frame["mdvis"].to_numpy(float), {"dispersion": 1.0}


def worker(tool: str, data: str, prior_name: str, seed: int) -> dict:
    from bayesreg.engine import SMALL_LOOPS_XLA_FLAG

    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {SMALL_LOOPS_XLA_FLAG}"
    from bayesreg.diagnostics import check_diagnostics
    from bayesreg.hierarchical import HierarchicalGaussian, HierarchicalLaplace
    from bayesreg.models import negative_binomial_regression, poisson_regression
    from bayesreg.sampling import fit_posterior, sample_posterior
    from bayesreg.shrinkage import R2D2, Horseshoe, RegularizedHorseshoe

    X, y, kwargs = load(data)
    priors = {
        "hs": Horseshoe(),
        "rhs": RegularizedHorseshoe(n_samples=X.shape[0]),
        "r2d2": R2D2(),
        "hl": HierarchicalLaplace(),
        "hg": HierarchicalGaussian(),
    }
    model = poisson_regression if data == "fair" else negative_binomial_regression
    settings = {"num_samples": 1000, "num_chains": 4, "seed": seed, "progress_bar": False}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prior = priors[prior_name]
        if tool == "fit_posterior":
            diagnostics = fit_posterior(model, X, y, prior=prior, **settings, **kwargs).diagnostics
        else:
            diagnostics = check_diagnostics(sample_posterior(model, X, y, prior=prior, **settings, **kwargs))
    return {
        "tool": tool,
        "data": data,
        "prior": prior_name,
        "seed": seed,
        "max_rhat": diagnostics.max_rhat,
        "min_ess_bulk": diagnostics.min_ess_bulk,
        "divergences": diagnostics.divergences,
        "ok": diagnostics.ok,
        "seconds": time.perf_counter() - start,
        "load": os.getloadavg()[0],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=DATA, default=list(DATA))
    parser.add_argument("--priors", nargs="+", choices=PRIORS, default=["hs", "hl"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        tool, data, prior, seed = options.worker
        print(json.dumps(worker(tool, data, prior, int(seed))))
        return
    print("| tool | data | prior | seed | max R-hat | min bulk ESS | divergences | gate | s | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for data, prior, seed, tool in itertools.product(options.data, options.priors, options.seeds, TOOLS):
        command = [sys.executable, __file__, "--worker", tool, data, prior, str(seed)]
        r = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        print(
            f"| {tool} | {data} | {prior} | {seed} | {r['max_rhat']:.3f} | {r['min_ess_bulk']:.0f} | "
            f"{r['divergences']} | {'pass' if r['ok'] else 'fail'} | {r['seconds']:.1f} | {r['load']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
