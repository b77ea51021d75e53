"""Simulation study of the sparsity priors (issue 14): support recovery, coefficient RMSE and 90%
interval coverage of the horseshoe, the regularised horseshoe, R2D2, the hierarchical (Bayesian)
lasso and LassoCV, over many seeds.

Settings (``--settings``): ``wide`` is n = 100 rows and p = 1,000 columns, ``tall`` n = 1,000 and
p = 100. In both, the columns are independent standard normal, 10 weights are non-zero (magnitudes
0.5, 0.72, …, 2.5 with alternating signs, at columns drawn at random per seed), the noise sd is 1 and
there is an intercept of 1 (every method fits one).

Methods (``--methods``):

- ``lasso_cv``: scikit-learn's ``LassoCV()`` with its defaults (5 unshuffled folds, 100 α): support =
  the non-zero weights, estimate = the weights; it gives no intervals.
- ``horseshoe``, ``regularized_horseshoe``, ``r2d2``: ``BayesianLinearRegression(prior=NAME,
  method="nuts")`` with the prior's defaults, σ sampled; estimate = the posterior mean, interval = the
  central 90% posterior interval, support = the weights whose interval excludes 0.
- ``hierarchical_lasso``: ``BayesianLinearRegression(prior="laplace", alpha="hierarchical",
  method="nuts")`` (Park & Casella's Gamma prior on λ², `bayesreg.hierarchical`), summarised the same
  way.
- ``horseshoe_gibbs``, ``regularized_horseshoe_gibbs``, ``hierarchical_lasso_gibbs``: the same
  horseshoe, regularised horseshoe and hierarchical lasso models (the estimator's defaults: σ's prior
  `noise_prior`, the regularised horseshoe's τ₀ from p₀ = p/10, the lasso's Gamma(1, 1.78) on λ²)
  sampled by `bayesreg.gibbs.gibbs_posterior`, summarised the same way.

``--target-accept`` sets NUTS's acceptance target (default: the prior's own,
`bayesreg.sampling.default_target_accept`).

Per fit: precision and recall of the support against the 10 true non-zero weights (precision is 1
when nothing is selected), RMSE of the estimate over all p weights, coverage of the 90% intervals
over all weights and over the non-zero ones, wall time (the first fit of a shape in a process
includes compilation), divergences, the largest R-hat and the smallest bulk ESS over the weights and
the scalar parameters (τ, σ, the intercept, …; not the p local scales), and the sampler (the
posterior's ``parametrisation``: "gibbs", or the form NUTS sampled). Rows are appended to ``--out``
(a CSV) as each fit finishes, and a seed/method pair already there is not run again, so a long study
can be resumed, or split over processes with ``--first-seed`` and one CSV each. The summary (mean and
its standard error over seeds, the worst max R-hat, and the number of fits whose weights or scalars
failed the diagnostics gate's R-hat or bulk-ESS threshold, `bayesreg.defaults.THRESHOLDS`) is
printed as a Markdown table; ``--seeds 0`` prints it for ``--out`` without fitting.

    python benchmarks/bench_simulation.py --settings tall --seeds 20
    python benchmarks/bench_simulation.py --settings wide --seeds 20 --methods lasso_cv,horseshoe_gibbs
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

SETTINGS = {"wide": (100, 1000), "tall": (1000, 100)}
NONZERO = 10
MAGNITUDES = np.linspace(0.5, 2.5, NONZERO)
NOISE_SD = 1.0
INTERCEPT = 1.0
INTERVAL = 0.9
ESTIMATOR_METHODS = {
    "horseshoe": {"prior": "horseshoe"},
    "regularized_horseshoe": {"prior": "regularized_horseshoe"},
    "r2d2": {"prior": "r2d2"},
    "hierarchical_lasso": {"prior": "laplace", "alpha": "hierarchical"},
}
"""The NUTS methods: the arguments of ``BayesianLinearRegression`` besides the NUTS settings."""
GIBBS_METHODS = {
    "horseshoe_gibbs": "horseshoe",
    "regularized_horseshoe_gibbs": "regularized_horseshoe",
    "hierarchical_lasso_gibbs": "hierarchical_laplace",
}
"""The Gibbs methods: the prior `bayesreg.gibbs.gibbs_posterior` samples (a sparsity prior of
`bayesreg.shrinkage`, or ``hierarchical_laplace``: `bayesreg.hierarchical.HierarchicalLaplace`)."""
BAYES_METHODS = (*ESTIMATOR_METHODS, *GIBBS_METHODS)
METHODS = ("lasso_cv", *BAYES_METHODS)


def make_data(setting: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X`` (n, p), ``y`` (n,) and the true weights (p,) of one replicate."""
    n, p = SETTINGS[setting]
    rng = np.random.default_rng([seed, p])
    X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    coef[rng.choice(p, NONZERO, replace=False)] = MAGNITUDES * (-1.0) ** np.arange(NONZERO)
    y = INTERCEPT + X @ coef + NOISE_SD * rng.standard_normal(n)
    return X, y, coef


def fit_lasso_cv(X, y, args) -> dict:
    from sklearn.linear_model import LassoCV

    coef = LassoCV().fit(X, y).coef_
    return {"estimate": coef, "selected": coef != 0, "lower": None, "upper": None}


def posterior_of(X, y, args, method: str):
    """The InferenceData of one Bayesian method's fit."""
    settings = {"num_warmup": args.num_warmup, "num_samples": args.num_samples, "num_chains": args.num_chains}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the diagnostics are recorded in the row instead
        if method in GIBBS_METHODS:
            from bayesreg.gibbs import gibbs_posterior
            from bayesreg.hierarchical import hierarchical_prior
            from bayesreg.priors import noise_prior
            from bayesreg.shrinkage import shrinkage_prior

            kind = GIBBS_METHODS[method]
            # the estimators' defaults: the regularised horseshoe's τ₀ from p₀ = p/10 and n
            if kind == "hierarchical_laplace":
                prior = hierarchical_prior("laplace")
            else:
                options = {"n_samples": X.shape[0]} if kind == "regularized_horseshoe" else {}
                prior = shrinkage_prior(kind, **options)
            return gibbs_posterior(X, y, prior, sigma=noise_prior(y), seed=args.seed_offset, **settings)
        from bayesreg import BayesianLinearRegression

        estimator = BayesianLinearRegression(
            **ESTIMATOR_METHODS[method],
            method="nuts",
            random_state=args.seed_offset,
            target_accept=args.target_accept,
            **settings,
        )
        return estimator.fit(X, y).idata_


def fit_bayes(X, y, args, prior: str) -> dict:
    import arviz as az

    idata = posterior_of(X, y, args, prior)
    draws = idata.posterior["coef"].to_numpy().reshape(-1, X.shape[1])
    tail = (1.0 - INTERVAL) / 2.0
    lower, upper = np.quantile(draws, [tail, 1.0 - tail], axis=0)
    stats = idata.sample_stats
    # the weights and every scalar parameter (τ, σ, the intercept, λ², ...); not the p local scales
    names = [name for name, value in idata.posterior.items() if name == "coef" or value.ndim == 2]
    rhat = np.concatenate([np.ravel(v) for v in az.rhat(idata, var_names=names).values()])
    ess = np.concatenate([np.ravel(v) for v in az.ess(idata, var_names=names).values()])
    return {
        "estimate": draws.mean(axis=0),
        "selected": (lower > 0) | (upper < 0),
        "lower": lower,
        "upper": upper,
        "divergences": int(stats["diverging"].sum()),
        "max_rhat": float(np.nanmax(rhat)),
        "min_ess": float(np.nanmin(ess)),
        "sampler": stats.attrs.get("parametrisation", "?"),  # "gibbs", or what NUTS sampled
    }


def score(result: dict, coef: np.ndarray) -> dict:
    """Precision, recall, RMSE and coverage of one fit against the true weights."""
    truth = coef != 0
    selected = result["selected"]
    hits = int(np.sum(selected & truth))
    row = {
        "selected": int(selected.sum()),
        "precision": hits / selected.sum() if selected.any() else 1.0,
        "recall": hits / truth.sum(),
        "rmse": float(np.sqrt(np.mean((result["estimate"] - coef) ** 2))),
        "coverage": np.nan,
        "coverage_nonzero": np.nan,
        "divergences": result.get("divergences", np.nan),
        "max_rhat": result.get("max_rhat", np.nan),
        "min_ess": result.get("min_ess", np.nan),
        "sampler": result.get("sampler", "–"),
    }
    if result["lower"] is not None:
        inside = (result["lower"] <= coef) & (coef <= result["upper"])
        row["coverage"] = float(inside.mean())
        row["coverage_nonzero"] = float(inside[truth].mean())
    return row


def run_one(setting: str, seed: int, method: str, args) -> dict:
    X, y, coef = make_data(setting, seed)
    start = time.perf_counter()
    result = fit_lasso_cv(X, y, args) if method == "lasso_cv" else fit_bayes(X, y, args, method)
    seconds = time.perf_counter() - start
    return {"setting": setting, "seed": seed, "method": method, "seconds": seconds, **score(result, coef)}


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error over seeds of each measure, per setting and method."""
    measures = [
        "precision",
        "recall",
        "rmse",
        "coverage",
        "coverage_nonzero",
        "seconds",
        "divergences",
        "max_rhat",
        "min_ess",
    ]
    by_method = table.groupby(["setting", "method"])
    groups = by_method[measures]
    mean, se, count = groups.mean(), groups.sem(), groups.size()
    cells = mean.map(lambda v: f"{v:.3f}") + " ± " + se.map(lambda v: f"{v:.3f}")
    cells = cells.where(mean.notna(), "–")
    cells.insert(0, "seeds", count)
    if "sampler" in table:  # rows from before the column existed have none
        samplers = by_method["sampler"].agg(lambda s: "/".join(sorted(set(s.dropna().astype(str)))))
        cells.insert(0, "sampler", samplers)
    cells["worst_rhat"] = (
        by_method["max_rhat"].max().map(lambda v: f"{v:.3f}").where(mean["max_rhat"].notna(), "–")
    )
    from bayesreg.defaults import THRESHOLDS

    # the fits whose weights or scalars failed the diagnostics gate's R-hat or bulk-ESS threshold
    failed = (table["max_rhat"] > THRESHOLDS.rhat_max) | (table["min_ess"] < THRESHOLDS.ess_min)
    cells["failed_gate"] = failed.groupby([table["setting"], table["method"]]).sum().astype(int)
    cells["failed_gate"] = cells["failed_gate"].where(mean["max_rhat"].notna(), "–")
    return cells


def markdown(cells: pd.DataFrame) -> str:
    """``cells`` as a Markdown table, its index levels as the first columns."""
    flat = cells.reset_index()
    lines = ["| " + " | ".join(flat.columns) + " |", "|" + "---|" * flat.shape[1]]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in flat.itertuples(index=False)]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="wide,tall")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="run seeds first-seed, …, first-seed + seeds − 1"
    )
    parser.add_argument("--num-warmup", type=int, default=1000)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--num-chains", type=int, default=4)
    parser.add_argument("--seed-offset", type=int, default=0, help="the samplers' seed")
    parser.add_argument(
        "--target-accept", type=float, default=None, help="NUTS's acceptance target (default: the prior's)"
    )
    parser.add_argument("--out", type=Path, default=Path("simulation.csv"))
    args = parser.parse_args(argv)
    settings = args.settings.split(",")
    methods = args.methods.split(",")
    unknown = sorted(set(settings) - set(SETTINGS)) + sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown setting or method: {', '.join(unknown)}")
    done = pd.read_csv(args.out) if args.out.exists() else pd.DataFrame(columns=["setting", "seed", "method"])
    finished = set(zip(done["setting"], done["seed"], done["method"], strict=True))
    for setting in settings:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for method in methods:
                if (setting, seed, method) in finished:
                    continue
                row = run_one(setting, seed, method, args)
                pd.DataFrame([row]).to_csv(args.out, mode="a", header=not args.out.exists(), index=False)
                print(
                    f"{setting} seed {seed:2d} {method:22s} {row['seconds']:7.1f} s  precision "
                    f"{row['precision']:.2f} recall {row['recall']:.2f} rmse {row['rmse']:.3f} "
                    f"coverage {row['coverage']:.3f} max R-hat {row['max_rhat']:.3f} "
                    f"divergences {row['divergences']}",
                    flush=True,
                )
    table = pd.read_csv(args.out)
    table = table[table["setting"].isin(settings) & table["method"].isin(methods)]
    print(markdown(summary(table)))


if __name__ == "__main__":
    main()
