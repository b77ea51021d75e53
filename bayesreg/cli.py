"""The ``bayesreg`` command line: ``bayesreg fit``, ``bayesreg path`` and ``bayesreg demo``.

Every problem with the input (the file, its columns and values, the options) is reported as one
line on stderr with exit code 2, before anything is written. Outputs are written atomically (a
temporary file in the output folder, then ``os.replace``); other files in that folder are never
touched.

While a command runs, JAX's persistent compilation cache is switched on in a user cache folder
(``$XDG_CACHE_HOME/bayesreg/jax``, else ``~/.cache/bayesreg/jax``), so a second run on data of the same
shape skips most of XLA's compilation; the previous settings are restored when `main` returns, and
without a usable folder the command runs without the cache. No other global JAX setting is changed:
the library switches float64 on only inside its own functions.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import os
import secrets
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["main"]

PROG = "bayesreg"

# NUTS settings: `bayesreg fit` uses the estimators' defaults, the demo modest ones (so that it stays
# reasonably fast) with a fixed seed (so that its report is reproducible)
FIT_NUTS = {"num_warmup": 1000, "num_samples": 1000, "num_chains": 4, "mass_matrix": "auto"}
DEMO_NUTS = {"num_warmup": 500, "num_samples": 500, "num_chains": 4, "seed": 0}
# `bayesreg path --posterior`: one NUTS run per alpha (all in one call), so shorter chains
PATH_NUTS = {"num_warmup": 300, "num_samples": 300, "num_chains": 4, "mass_matrix": "auto"}
PATH_N_ALPHAS = {"map": 100, "posterior": 20}  # default grid sizes without / with --posterior

FIT_EPILOG = """\
penalty strength:
  --alpha is the penalty strength alpha of --convention:
    sklearn (default), --family gaussian: alpha of scikit-learn's Lasso, Ridge or ElasticNet;
        Laplace prior scale b = sigma^2/(n alpha), Gaussian prior sd = sigma/sqrt(alpha).
    book, --family gaussian: NLL + alpha*|w|_1 or NLL + (alpha/2)*|w|^2 with
        NLL = |y - Xw - b|^2/(2 sigma^2); Laplace scale 1/alpha, Gaussian sd 1/sqrt(alpha).
    --family bernoulli (both conventions agree): alpha = 1/C of scikit-learn's
        LogisticRegression(C=...); Laplace prior scale C, Gaussian prior sd sqrt(C).
  The intercept is never penalised.

posterior (--method nuts):
  NUTS samples the same model's posterior (the MAP is computed as well). Diagnostics that cross the
  usual thresholds (R-hat > 1.01, bulk or tail ESS < 400, any divergence, E-BFMI < 0.3, maximum
  tree depth reached) are printed as "warning:" lines on stderr, each saying what to try; the
  exit status stays 0. --seed makes a run repeatable (without it a seed is drawn and printed).
  Compiled programs are cached in $XDG_CACHE_HOME/bayesreg/jax (else ~/.cache/bayesreg/jax), so a
  second run on data of the same shape skips most of the compilation.

outputs:
  DIR/coefficients.csv  columns feature,coefficient (the MAP = the penalised estimate); one row per
                        feature, then "intercept". With --method nuts also the posterior's mean, sd,
                        hdi_low, hdi_high (94% highest-density interval), r_hat (rank-normalised) and
                        ess_bulk.
  DIR/posterior.nc      with --method nuts: the draws as ArviZ InferenceData (arviz.from_netcdf).
  Other files in DIR are left alone; nothing is written when the input is refused.

exit status: 0 success, 2 bad input or options (one line on stderr), 1 the outputs could not be written.
"""


PATH_EPILOG = """\
grid:
  By default the grid is scikit-learn's: --n-alphas values from alpha_max (the smallest alpha at which
  every MAP weight is exactly 0) down to eps * alpha_max, log-spaced, computed in decreasing order
  with warm starts (100 points, or 20 with --posterior). --alphas A,B,... gives the grid instead; it is
  required for --prior gaussian (an L2 penalty sets no weight to 0, so there is no alpha_max).
  alpha means what it means for `bayesreg fit` (see `bayesreg fit --help`): scikit-learn's Lasso /
  Ridge / ElasticNet alpha under --convention sklearn, 1/C of LogisticRegression for --family
  bernoulli. The MAP path equals scikit-learn's lasso_path / enet_path.

posterior (--posterior):
  NUTS samples the posterior at every alpha of the grid, all grid points and chains in one
  call of one compiled sampler (compiled once per grid size and settings, and cached in
  $XDG_CACHE_HOME/bayesreg/jax, else ~/.cache/bayesreg/jax). The noise sd sigma is sampled unless
  --sigma fixes it. Cost: the compilation (tens of seconds on a small machine, less from the cache),
  then one NUTS run per alpha; keep the grid small. R-hat > 1.01, bulk ESS < 400 or divergences at
  any alpha are printed as "warning:" lines on stderr; the exit status stays 0.

outputs:
  DIR/path.csv  one row per alpha and feature: alpha, feature, map (exact zeros are 0); with
                --posterior also median, hdi_low, hdi_high (94% highest-density interval), r_hat
                (rank-normalised) and ess_bulk of that weight at that alpha.
  DIR/path.png  the MAP path (solid), with --posterior the posterior medians (dashed) and HDI bands.
  Other files in DIR are left alone; nothing is written when the input is refused.

exit status: 0 success, 2 bad input or options (one line on stderr), 1 the outputs could not be written.
"""


class _UsageError(Exception):
    """Bad input or options: one line on stderr, exit code 2."""


class _WriteError(Exception):
    """The outputs could not be written: one line on stderr, exit code 1."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports its errors as one line (raised, so `main` can return 2)."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def _positive(name: str):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a positive number, got {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{name} must be a positive finite number, got {text!r}")
        return value

    return parse


def _count(name: str, minimum: int = 1):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be at least {minimum}, got {text!r}")
        return value

    return parse


def _nuts_options(parser, *, settings: dict, note: str, unset_by_default: bool, seed_help: str) -> None:
    """--num-warmup, --num-samples, --num-chains, --seed and, when ``settings`` has a "mass_matrix",
    --mass-matrix, with the defaults of ``settings``.

    With ``unset_by_default`` the options default to None (so that giving them can be checked) and
    ``settings`` only fills the help text.
    """
    from bayesreg.engine import DENSE_UP_TO, MASS_MATRICES

    group = parser.add_argument_group(f"NUTS settings ({note})")
    for option, meaning in [
        ("num_warmup", "warmup (adaptation) steps per chain"),
        ("num_samples", "draws kept per chain"),
        ("num_chains", "chains"),
    ]:
        flag = option.replace("_", "-")
        group.add_argument(
            f"--{flag}",
            type=_count(flag),
            default=None if unset_by_default else settings[option],
            metavar="N",
            help=f"{meaning} (default {settings[option]})",
        )
    group.add_argument(
        "--seed",
        type=_count("seed", minimum=0),
        default=None if unset_by_default else settings["seed"],
        metavar="S",
        help=seed_help,
    )
    if "mass_matrix" in settings:
        group.add_argument(
            "--mass-matrix",
            choices=MASS_MATRICES,
            default=None if unset_by_default else settings["mass_matrix"],
            help=f"the mass matrix NUTS adapts during warmup: auto (dense for at most {DENSE_UP_TO} "
            "unconstrained parameters, diagonal above), dense or diagonal "
            f"(default {settings['mass_matrix']})",
        )


def _alphas(text: str) -> list[float]:
    values = []
    for item in text.split(","):
        try:
            value = float(item)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(
                f"alphas must be a comma-separated list of positive finite numbers, got {text!r}"
            )
        values.append(value)
    return values


def _unit_interval(name: str):
    """argparse type: a number strictly between 0 and 1."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number in (0, 1), got {text!r}") from None
        if not 0.0 < value < 1.0:
            raise argparse.ArgumentTypeError(f"{name} must lie strictly between 0 and 1, got {text!r}")
        return value

    return parse


def _model_options(parser, *, alpha_name: str, sigma_help: str | None = None) -> None:
    """--prior, --l1-ratio, --convention, --family, --sigma: the model, as `fit` and `path` share it."""
    sigma_help = (
        sigma_help or "noise sd of the gaussian likelihood (default: estimated; sampled with --method nuts)"
    )
    parser.add_argument(
        "--prior",
        choices=("laplace", "gaussian", "elasticnet"),
        default="laplace",
        help="prior on the weights: laplace (L1), gaussian (L2), elasticnet (default: laplace)",
    )
    parser.add_argument(
        "--l1-ratio",
        type=_unit_interval("l1-ratio"),
        default=None,
        metavar="R",
        help="share of the L1 part for --prior elasticnet, in (0, 1) (default 0.5)",
    )
    parser.add_argument(
        "--convention",
        choices=("sklearn", "book"),
        default="sklearn",
        help=f"how {alpha_name} maps to the prior (default: sklearn; see below)",
    )
    parser.add_argument(
        "--family",
        choices=("gaussian", "bernoulli"),
        default="gaussian",
        help="likelihood: gaussian (linear regression) or bernoulli (logistic regression, two-class target)",
    )
    parser.add_argument(
        "--sigma",
        type=_positive("sigma"),
        default=None,
        metavar="S",
        help=sigma_help,
    )


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Bayesian regularised regression: a penalty is a prior.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{fit,path,demo}")

    fit = commands.add_parser(
        "fit",
        help="fit a penalised (MAP) regression to a CSV file",
        description="Fit a linear (gaussian) or logistic (bernoulli) regression with a Laplace (L1), "
        "Gaussian (L2) or elastic-net prior on the weights, print its coefficients and write them "
        "to DIR/coefficients.csv.",
        epilog=FIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
    fit.add_argument("--target", required=True, metavar="COL", help="name of the target column")
    fit.add_argument(
        "--alpha",
        type=_positive("alpha"),
        default=1.0,
        metavar="A",
        help="penalty strength > 0 (default 1.0); for --family bernoulli alpha = 1/C (see below)",
    )
    _model_options(fit, alpha_name="--alpha")
    fit.add_argument(
        "--method",
        choices=("map", "nuts"),
        default="map",
        help="map: posterior mode = penalised estimate (default); nuts: also posterior samples "
        "(NUTS), summarised in coefficients.csv and saved to DIR/posterior.nc",
    )
    fit.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    _nuts_options(
        fit,
        settings=FIT_NUTS,
        note="--method nuts only",
        unset_by_default=True,
        seed_help="random seed of the sampler (default: drawn at random, and printed)",
    )

    path = commands.add_parser(
        "path",
        help="the regularisation path (MAP over a grid of alpha), optionally with its posterior",
        description="Compute the MAP (the penalised estimate) of a linear or logistic regression at "
        "every alpha of a grid; with --posterior also sample the posterior at every alpha (NUTS) and "
        "summarise it by its median and HDI. Writes DIR/path.csv and DIR/path.png.",
        epilog=PATH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    path.add_argument("data", metavar="DATA.csv", help="CSV file with a header row")
    path.add_argument("--target", required=True, metavar="COL", help="name of the target column")
    _model_options(
        path,
        alpha_name="alpha",
        sigma_help="noise sd of the gaussian likelihood (default: sampled with --posterior; needed with "
        "--convention book, whose objective divides the squared error by sigma^2)",
    )
    grid = path.add_argument_group("grid of penalty strengths")
    grid.add_argument(
        "--n-alphas",
        type=_count("n-alphas"),
        default=None,
        metavar="N",
        help=f"grid points (default {PATH_N_ALPHAS['map']}, {PATH_N_ALPHAS['posterior']} with --posterior)",
    )
    grid.add_argument(
        "--eps",
        type=_unit_interval("eps"),
        default=None,
        metavar="E",
        help="the grid ends at eps * alpha_max, in (0, 1) (default 1e-3)",
    )
    grid.add_argument(
        "--alphas",
        type=_alphas,
        default=None,
        metavar="A,B,...",
        help="the grid itself, comma-separated positive numbers, in the order computed "
        "(instead of --n-alphas and --eps)",
    )
    path.add_argument(
        "--no-intercept",
        dest="fit_intercept",
        action="store_false",
        help="fit no intercept (by default an unpenalised intercept is fitted)",
    )
    path.add_argument(
        "--posterior",
        action="store_true",
        help="also sample the posterior at every alpha with NUTS (median, HDI, R-hat, ESS)",
    )
    path.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    _nuts_options(
        path,
        settings=PATH_NUTS,
        note="--posterior only; per alpha",
        unset_by_default=True,
        seed_help="random seed of the sampler (default: drawn at random, and printed)",
    )

    demo = commands.add_parser(
        "demo",
        help="L1/L2 MAP and the Laplace posterior on the diabetes data; writes an HTML report",
        description="Fit the MAP under a Laplace and a Gaussian prior to scikit-learn's diabetes "
        "data and compare it with scikit-learn's Lasso and Ridge; sample the Laplace posterior with "
        "NUTS and set it against the MAP (exact zeros, intervals, predictive coverage on held-out "
        "rows) and along a grid of alpha (the MAP path and the posterior path). Writes DIR/report.html "
        "(self-contained), DIR/coefficients.csv, DIR/posterior.nc and DIR/path.csv (as `bayesreg path "
        "--posterior` writes it).",
    )
    demo.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    _nuts_options(
        demo,
        settings=DEMO_NUTS,
        note="the Laplace posterior",
        unset_by_default=False,
        seed_help=f"random seed of the sampler (default {DEMO_NUTS['seed']})",
    )
    return parser


# ---------------------------------------------------------------------------------------------------
# writing


def _check_out(out: str) -> Path:
    """Refuse an --out that cannot be a folder, before any work is done."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise _UsageError(f"--out {out!r} exists and is not a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise _UsageError(f"--out {out!r}: {str(parent)!r} is not a folder")
            break
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


Content = bytes | Callable[[Path], None]


def _write_all(folder: Path, files: dict[str, Content]) -> list[Path]:
    """Write ``files`` into ``folder`` atomically: all temporary files first, then ``os.replace``.

    A file's content is bytes, or a function that writes the file at the path it is given.
    """
    try:
        return _stage_and_replace(folder, files)
    except (OSError, ValueError) as error:  # ValueError: a writer (netCDF) refused
        raise _WriteError(f"cannot write the outputs to {str(folder)!r}: {_one_line(error)}") from None


def _stage_and_replace(folder: Path, files: dict[str, Content]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            staged.append((name, Path(temp)))
            os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
            if callable(content):
                os.close(handle)
                content(Path(temp))
                handle = os.open(temp, os.O_RDONLY)
                try:
                    os.fsync(handle)
                finally:
                    os.close(handle)
                continue
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
        written = []
        for name, temp in staged:
            os.replace(temp, folder / name)
            written.append(folder / name)
        return written
    finally:
        for _, temp in staged:
            if temp.exists():
                temp.unlink()


# ---------------------------------------------------------------------------------------------------
# fit


HDI_PROB = 0.94  # of the hdi_low, hdi_high columns
POSTERIOR_COLUMNS = ["mean", "sd", "hdi_low", "hdi_high", "r_hat", "ess_bulk"]


def _estimator(args):
    from bayesreg.estimators import BayesianLinearRegression, BayesianLogisticRegression

    l1_ratio = 0.5 if args.l1_ratio is None else args.l1_ratio
    settings = {"l1_ratio": l1_ratio, "method": args.method}
    if args.method == "nuts":
        settings.update(
            num_warmup=args.num_warmup,
            num_samples=args.num_samples,
            num_chains=args.num_chains,
            random_state=args.seed,
            mass_matrix=args.mass_matrix,
        )
    if args.family == "bernoulli":
        return BayesianLogisticRegression(prior=args.prior, C=1.0 / args.alpha, **settings)
    return BayesianLinearRegression(
        prior=args.prior, alpha=args.alpha, convention=args.convention, sigma=args.sigma, **settings
    )


def _check_model_options(args) -> None:
    """What `fit` and `path` refuse alike: options that do not apply to the chosen model."""
    if args.l1_ratio is not None and args.prior != "elasticnet":
        raise _UsageError(f"--l1-ratio applies to --prior elasticnet only, not to --prior {args.prior}")
    if args.sigma is not None and args.family != "gaussian":
        raise _UsageError(
            "--sigma applies to --family gaussian only (a bernoulli likelihood has no noise sd)"
        )


def _check_nuts_options(args, sampling: bool, flag: str, settings: dict) -> None:
    """Refuse NUTS options without ``flag``; with it, fill the defaults of ``settings`` and a seed."""
    if not sampling:
        for option in ("num_warmup", "num_samples", "num_chains", "seed", "mass_matrix"):
            if getattr(args, option) is not None:
                raise _UsageError(f"--{option.replace('_', '-')} applies to {flag} only")
        return
    for option, default in settings.items():
        if getattr(args, option) is None:
            setattr(args, option, default)
    if args.seed is None:
        args.seed = secrets.randbelow(2**31 - 1)


def _check_options(args) -> None:
    _check_model_options(args)
    _check_nuts_options(args, args.method == "nuts", "--method nuts", FIT_NUTS)


def _prior_description(args, estimator, n_samples: int) -> str:
    """One line stating the penalty and the prior it is, with the numbers in force (the noise sd
    of a fitted linear model; none for logistic regression, whose prior does not depend on it)."""
    from bayesreg.priors import prior_from_penalty

    l1_ratio = 0.5 if args.l1_ratio is None else args.l1_ratio
    prior = prior_from_penalty(
        args.prior,
        args.alpha,
        l1_ratio=l1_ratio,
        convention=args.convention,
        family=args.family,
        n_samples=n_samples,
    )
    sigma = estimator.sigma_ if args.family == "gaussian" else 1.0
    lam1, lam2 = (float(v) for v in prior.rates(sigma))
    parts = []
    if lam1 > 0:
        parts.append(f"Laplace(0, {1.0 / lam1:.6g})")
    if lam2 > 0:
        parts.append(f"Normal(0, {1.0 / math.sqrt(lam2):.6g})")
    shape = parts[0] if len(parts) == 1 else f"elastic net, density ∝ {' x '.join(parts)}"
    if args.family == "bernoulli":
        penalty = f"alpha = {args.alpha:g} (C = {1.0 / args.alpha:.6g})"
    else:
        penalty = f"alpha = {args.alpha:g} ({args.convention} convention)"
    ratio = f", l1_ratio = {l1_ratio:g}" if args.prior == "elasticnet" else ""
    noise = ""
    if args.family == "gaussian":
        source = "given" if args.sigma is not None else "MAP" if args.method == "map" else "posterior mean"
        noise = f"; noise sd sigma = {sigma:.6g} ({source})"
    return f"{args.prior} prior, {penalty}{ratio}: weights ~ {shape}{noise}"


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest entry: the first left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _coefficient_table(names, coef, intercept, posterior=None) -> tuple[str, bytes]:
    """The printed table and the CSV content; ``posterior`` adds the `POSTERIOR_COLUMNS`."""
    import io

    import pandas as pd

    labels = [*map(str, names), "intercept"]
    values = [*(float(c) + 0.0 for c in coef), float(intercept) + 0.0]  # + 0.0: no "-0" in the CSV

    def shown(v, is_weight):
        return "0 (exact)" if is_weight and v == 0 else f"{v:.6g}"

    frame = pd.DataFrame({"feature": labels, "coefficient": values})
    map_texts = [shown(v, i < len(labels) - 1) for i, v in enumerate(values)]
    if posterior is None:
        rows = [[label, text] for label, text in zip(labels, map_texts, strict=True)]
        printed = _text_table(["feature", "coefficient"], rows)
    else:
        summary = posterior.loc[labels, POSTERIOR_COLUMNS]
        for column in POSTERIOR_COLUMNS:
            frame[column] = summary[column].to_numpy(float) + 0.0
        rows = [
            [
                label,
                text,
                f"{s.mean:.4g}",
                f"{s.sd:.3g}",
                f"[{s.hdi_low:.4g}, {s.hdi_high:.4g}]",
                f"{s.r_hat:.3f}",
                f"{s.ess_bulk:.0f}",
            ]
            for label, text, s in zip(labels, map_texts, summary.itertuples(), strict=True)
        ]
        header = ["feature", "MAP", "mean", "sd", f"{HDI_PROB:.0%} HDI", "r_hat", "ess_bulk"]
        printed = _text_table(header, rows)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.17g")
    return printed, buffer.getvalue().encode()


def _posterior_summary(idata, map_coef):
    """Per coefficient and the intercept: the `POSTERIOR_COLUMNS`, and the MAP-vs-posterior table.

    Returns
    -------
    summary : DataFrame, index = feature names then "intercept" (when sampled)
    table : DataFrame
        `bayesreg.compare.compare_map_posterior` of the weights.
    """
    import arviz as az

    from bayesreg.compare import compare_map_posterior

    table = compare_map_posterior(idata, map_coef, hdi_prob=HDI_PROB)
    summary = table[["mean", "sd", "hdi_low", "hdi_high"]].copy()
    names = [v for v in ("coef", "intercept") if v in idata.posterior]
    rhat = az.rhat(idata, var_names=names)
    ess = az.ess(idata, var_names=names, method="bulk")
    summary["r_hat"] = rhat["coef"].to_numpy()
    summary["ess_bulk"] = ess["coef"].to_numpy()
    if "intercept" in idata.posterior:
        draws = idata.posterior["intercept"].to_numpy().ravel()
        low, high = az.hdi(idata, var_names=["intercept"], hdi_prob=HDI_PROB)["intercept"].to_numpy()
        summary.loc["intercept"] = [
            draws.mean(),
            draws.std(ddof=1),
            low,
            high,
            float(rhat["intercept"]),
            float(ess["intercept"]),
        ]
    return summary, table


def _map_coefficients(estimator) -> tuple[np.ndarray, float]:
    """The MAP (the penalised estimate), also when ``coef_`` holds posterior means."""
    params = estimator.map_.params
    return np.asarray(params["coef"], dtype=float), float(params.get("intercept", 0.0))


@contextlib.contextmanager
def _warnings_as_lines(command: str):
    """Print each warning raised inside as one line on stderr (no Python warning output)."""
    from sklearn.exceptions import ConvergenceWarning

    from bayesreg.diagnostics import PosteriorWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", PosteriorWarning)
        try:
            yield
        finally:
            for message in dict.fromkeys(_one_line(w.message) for w in caught):
                print(f"{PROG} {command}: warning: {message}", file=sys.stderr)


def _diagnostics_line(report) -> str:
    return (
        f"max R-hat {report.max_rhat:.3f}, min ESS bulk {report.min_ess_bulk:.0f} / tail "
        f"{report.min_ess_tail:.0f}, {report.divergences} divergences, min E-BFMI {report.min_ebfmi:.2f}, "
        f"{report.tree_depth_saturation:.1%} of draws at the maximum tree depth"
    )


def _sparsity_line(counts: dict, hdi_prob: float) -> str:
    p = counts["n_features"]
    return (
        f"MAP: {counts['map_zeros']} of {p} coefficients exactly 0; posterior mean: "
        f"{counts['posterior_mean_zeros']} exactly 0; {counts['hdi_contains_zero']} of {p} "
        f"{hdi_prob:.0%} HDIs contain 0"
    )


def _netcdf(idata) -> Content:
    """Writes ``idata`` to a path as netCDF, uncompressed: the draws and per-observation
    log-likelihoods hardly compress (by 9% on the diabetes fit) and zlib took 0.4 of its 0.65 s."""
    return lambda path: idata.to_netcdf(str(path), compress=False)


def _fit(args) -> int:
    from bayesreg.compare import sparsity_summary
    from bayesreg.data import read_csv

    _check_options(args)
    out = _check_out(args.out)
    X, y = read_csv(args.data, args.target)
    if "intercept" in map(str, X.columns):
        raise _UsageError(
            "a feature column is named 'intercept', the name of the intercept's row in "
            "coefficients.csv; rename it"
        )
    nuts = args.method == "nuts"
    estimator = _estimator(args)
    with _warnings_as_lines("fit"):
        estimator.fit(X, y)
        coef, intercept = _map_coefficients(estimator)
        files: dict[str, Content] = {}
        summary = table = None
        if nuts:
            fit = estimator.posterior_fit_
            summary, table = _posterior_summary(fit.idata, coef)
            files["posterior.nc"] = _netcdf(fit.idata)
        printed, csv = _coefficient_table(X.columns, coef, intercept, summary)
        files["coefficients.csv"] = csv
        description = _prior_description(args, estimator, X.shape[0])
        written = _write_all(out, files)

    zeros = int((coef == 0).sum())
    fit_line = f"MAP of {X.shape[0]} rows, {X.shape[1]} features, target {args.target!r}"
    state = "converged" if estimator.map_.converged else "NOT converged"
    fit_line += f"; {state} in {estimator.map_.num_steps} proximal Newton steps"
    print(description)
    print(fit_line)
    if nuts:
        mixture = fit.parametrisation == "mixture"
        how = " (Laplace prior as a normal-exponential scale mixture)" if mixture else ""
        print(
            f"NUTS posterior: {args.num_chains} chains x ({args.num_warmup} warmup + {args.num_samples} "
            f"draws), seed {args.seed}, {fit.mass_matrix} mass matrix{how}"
        )
        print(f"diagnostics: {_diagnostics_line(fit.diagnostics)}")
    print()
    print(printed)
    print()
    if nuts:
        print(_sparsity_line(sparsity_summary(table), HDI_PROB))
    else:
        print(f"{zeros} of {X.shape[1]} coefficients are exactly 0")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


# ---------------------------------------------------------------------------------------------------
# path

PATH_COLUMNS = ["median", "hdi_low", "hdi_high", "r_hat", "ess_bulk"]  # with --posterior
RHAT_MAX, ESS_MIN = 1.01, 400.0  # the thresholds of bayesreg.diagnostics


def _check_path_options(args) -> None:
    _check_model_options(args)
    _check_nuts_options(args, args.posterior, "--posterior", PATH_NUTS)
    if args.alphas is not None:
        for option in ("n_alphas", "eps"):
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                raise _UsageError(f"{flag} applies without --alphas only (--alphas gives the grid itself)")
    elif args.prior == "gaussian":
        raise _UsageError(
            "--prior gaussian needs --alphas: an L2 penalty sets no weight exactly to 0, so there is no "
            "alpha_max to start a grid from"
        )
    if args.convention == "book" and args.family == "gaussian" and args.sigma is None:
        raise _UsageError(
            "--convention book with --family gaussian needs --sigma: the book objective divides the "
            "squared error by sigma^2"
        )


def _path_data(args) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The CSV's feature names, features (n, p) and target (n,), checked as `fit` checks them."""
    from bayesreg.data import DataError, check_finite, check_numeric_columns, check_target, read_csv

    frame, target = read_csv(args.data, args.target)
    check_numeric_columns(frame)
    y, _ = check_target(target, args.family)  # the target first, as the estimators do
    if frame.shape[1] == 0:
        raise DataError(f"no feature columns: {args.data!r} has only the target column")
    names = [str(c) for c in frame.columns]
    X = frame.to_numpy(dtype=float)
    check_finite(X, names)
    if X.shape[0] < 2:
        raise DataError(f"found {X.shape[0]} sample(s) while a minimum of 2 is required")
    return names, X, y


def _is_posterior(result) -> bool:
    """Whether a path is a `~bayesreg.path.PosteriorPath` (else a `~bayesreg.path.MAPPath`)."""
    from bayesreg.path import PosteriorPath

    return isinstance(result, PosteriorPath)


def _path_table(names, result) -> bytes:
    """path.csv: one row per alpha (in the order computed) and feature."""
    import io

    import pandas as pd

    posterior = _is_posterior(result)
    penalised = result.map if posterior else result
    n_alphas, p = penalised.coefs.shape
    frame = pd.DataFrame(
        {
            "alpha": np.repeat(result.alphas, p),
            "feature": np.tile(np.asarray(names, dtype=object), n_alphas),
            "map": penalised.coefs.ravel() + 0.0,  # + 0.0: no "-0" in the CSV
        }
    )
    if posterior:
        for column in PATH_COLUMNS:
            frame[column] = np.asarray(getattr(result, column), dtype=float).ravel() + 0.0
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.17g")
    return buffer.getvalue().encode()


def _path_warnings(result) -> None:
    """One `PosteriorWarning` per diagnostic crossed at some alpha (printed as one line each)."""
    from bayesreg.diagnostics import PosteriorWarning

    def where(mask):
        shown = ", ".join(f"{a:.4g}" for a in result.alphas[mask][:5])
        return shown + (", ..." if mask.sum() > 5 else "")

    bad = result.max_r_hat > RHAT_MAX
    if bad.any():
        warnings.warn(
            f"R-hat up to {result.max_r_hat.max():.3f} (> {RHAT_MAX}) at {bad.sum()} alphas ({where(bad)}): "
            "chains disagree; raise --num-warmup and --num-samples",
            PosteriorWarning,
            stacklevel=2,
        )
    bad = result.min_ess_bulk < ESS_MIN
    if bad.any():
        warnings.warn(
            f"bulk ESS as low as {result.min_ess_bulk.min():.0f} (< {ESS_MIN:.0f}) at {bad.sum()} alphas "
            f"({where(bad)}): raise --num-samples or --num-chains before trusting medians and intervals",
            PosteriorWarning,
            stacklevel=2,
        )
    bad = result.divergences > 0
    if bad.any():
        warnings.warn(
            f"{result.divergences.sum()} divergent transitions at {bad.sum()} alphas ({where(bad)}): the "
            "posterior there may be misrepresented",
            PosteriorWarning,
            stacklevel=2,
        )


def _path_summary(result, rows: int = 5) -> str:
    """Non-zeros of the MAP (and, with a posterior, HDIs that exclude 0) at a few alphas of the grid."""
    posterior = _is_posterior(result)
    penalised = result.map if posterior else result
    n_alphas, p = penalised.coefs.shape
    header = ["alpha", f"MAP non-zeros (of {p})"]
    if posterior:
        header += [f"{result.hdi_prob:.0%} HDIs without 0", "max R-hat"]
    table = []
    for i in np.unique(np.linspace(0, n_alphas - 1, min(rows, n_alphas)).round().astype(int)):
        row = [f"{result.alphas[i]:.4g}", str(int((penalised.coefs[i] != 0).sum()))]
        if posterior:
            outside = (result.hdi_low[i] > 0) | (result.hdi_high[i] < 0)
            row += [str(int(outside.sum())), f"{result.max_r_hat[i]:.3f}"]
        table.append(row)
    return _text_table(header, table)


def _path(args) -> int:
    from bayesreg import report
    from bayesreg.path import alpha_grid, map_path, posterior_path

    _check_path_options(args)
    out = _check_out(args.out)
    names, X, y = _path_data(args)
    model = {
        "prior": args.prior,
        "l1_ratio": 0.5 if args.l1_ratio is None else args.l1_ratio,
        "family": args.family,
        "convention": args.convention,
        "fit_intercept": args.fit_intercept,
    }
    map_sigma = 1.0 if args.sigma is None else args.sigma  # the sklearn MAP does not depend on sigma
    if args.alphas is None:
        n_alphas = args.n_alphas or PATH_N_ALPHAS["posterior" if args.posterior else "map"]
        eps = 1e-3 if args.eps is None else args.eps
        alphas = alpha_grid(X, y, n_alphas=n_alphas, eps=eps, sigma=map_sigma, **model)
        grid = f"{n_alphas} alphas from alpha_max = {alphas[0]:.4g} down to {alphas[-1]:.4g} (eps = {eps:g})"
    else:
        alphas = np.asarray(args.alphas, dtype=float)
        grid = f"{alphas.size} alphas given, from {alphas[0]:.4g} to {alphas[-1]:.4g}"
    with _warnings_as_lines("path"):
        if args.posterior:
            result = posterior_path(
                X,
                y,
                alphas,
                sigma=args.sigma,
                num_warmup=args.num_warmup,
                num_samples=args.num_samples,
                num_chains=args.num_chains,
                seed=args.seed,
                mass_matrix=args.mass_matrix,
                **model,
            )
            penalised = result.map
            _path_warnings(result)
        else:
            result = penalised = map_path(X, y, alphas, sigma=map_sigma, **model)
        csv = _path_table(names, result)
        figure = report.path_figure(result, names)
        written = _write_all(
            out,
            {
                "path.csv": csv,
                "path.png": lambda path: figure.savefig(path, format="png", dpi=110, bbox_inches="tight"),
            },
        )
    kind = {"laplace": "L1 (Laplace prior)", "gaussian": "L2 (Gaussian prior)"}.get(
        args.prior, f"elastic net (l1_ratio = {model['l1_ratio']:g})"
    )
    print(
        f"{kind} path, {args.family} family, {args.convention} convention: {X.shape[0]} rows, "
        f"{X.shape[1]} features, target {args.target!r}"
    )
    converged = int(penalised.converged.sum())
    print(f"grid: {grid}; MAP converged at {converged} of {alphas.size}")
    if args.posterior:
        mixture = " (Laplace prior as a scale mixture at some alphas)" if result.mixture.any() else ""
        print(
            f"posterior: NUTS at every alpha, {args.num_chains} chains x ({args.num_warmup} warmup + "
            f"{args.num_samples} draws), seed {args.seed}{mixture}; max R-hat {result.max_r_hat.max():.3f}, "
            f"min bulk ESS {result.min_ess_bulk.min():.0f}, {int(result.divergences.sum())} divergences"
        )
    print()
    print(_path_summary(result))
    print()
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


# ---------------------------------------------------------------------------------------------------
# demo


def _demo(args) -> int:
    from bayesreg import report
    from bayesreg.defaults import NUTSSettings
    from bayesreg.demo import run_demo

    out = _check_out(args.out)
    with _warnings_as_lines("demo"):
        result = run_demo(
            nuts=NUTSSettings(args.num_warmup, args.num_samples, args.num_chains), seed=args.seed
        )
        page = report.demo_report(result)
        idata = result.posterior.idata
        files: dict[str, Content] = {
            "report.html": page.encode(),
            "coefficients.csv": result.coefficients.to_csv(float_format="%.17g").encode(),
            "posterior.nc": _netcdf(idata),
        }
        if result.path is not None:
            files["path.csv"] = _path_table(result.path.names, result.path.posterior)
        written = _write_all(out, files)
    r, p = result, result.posterior
    print(f"diabetes data, {r.n_samples} rows: bayesreg MAP against scikit-learn")
    print(
        f"  L1 (Laplace prior) vs Lasso(alpha={r.lasso_alpha:g}): max |dcoef| = {r.max_delta_l1:.1e}, "
        f"identical zero sets: {'yes' if r.same_zeros_l1 else 'NO'}"
    )
    print(
        f"  L2 (Gaussian prior) vs Ridge(alpha={r.ridge_alpha:g}): max |dcoef| = {r.max_delta_l2:.1e}, "
        f"identical zero sets: {'yes' if r.same_zeros_l2 else 'NO'}"
    )
    s = p.settings
    print(
        f"Laplace posterior (NUTS, {s['num_chains']} chains x ({s['num_warmup']} warmup + "
        f"{s['num_samples']} draws), seed {s['seed']}):"
    )
    print(f"  {report.sparsity_sentence(p.table, p.sparsity)}")
    print(f"  diagnostics: {_diagnostics_line(p.diagnostics)}")
    print(
        f"  held-out coverage: {p.coverage:.1%} of {len(p.y_test)} held-out targets inside their "
        f"{p.coverage_prob:.0%} posterior predictive intervals (nominal {p.coverage_prob:.0%})"
    )
    if r.path is not None:
        s = r.path.settings
        print(
            f"Laplace posterior path ({s['n_alphas']} alphas, NUTS {s['num_chains']} chains x "
            f"({s['num_warmup']} warmup + {s['num_samples']} draws) per alpha, seed {s['seed']}):"
        )
        print(f"  {report.path_sentence(r.path.posterior, r.path.names)}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


# ---------------------------------------------------------------------------------------------------
# entry point


def _one_line(message) -> str:
    return " ".join(str(message).split())


def _cache_folder() -> Path | None:
    """``$XDG_CACHE_HOME/bayesreg/jax`` (an absolute XDG_CACHE_HOME only), else ``~/.cache/bayesreg/jax``.

    None when neither gives an absolute path: the cache never lands in the working directory.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory
            return None
    folder = Path(base) / PROG / "jax"
    return folder if folder.is_absolute() else None


@contextlib.contextmanager
def _compilation_cache():
    """JAX's persistent compilation cache in `_cache_folder` while the block runs.

    Every compiled computation is cached (``jax_persistent_cache_min_compile_time_secs = 0``), so a
    second run on data of the same shape loads the samplers instead of compiling them. The previous
    settings come back afterwards. A cache folder chosen by the user (``JAX_COMPILATION_CACHE_DIR``)
    is left as it is; when the folder cannot be created or written, the block runs without a cache.
    """
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    folder = _cache_folder()
    if jax.config.jax_compilation_cache_dir is not None or folder is None:
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        usable = os.access(folder, os.W_OK | os.X_OK)
    except OSError:
        usable = False
    if not usable:
        yield
        return
    previous = jax.config.jax_persistent_cache_min_compile_time_secs
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    try:
        yield
    finally:
        jax.config.update("jax_compilation_cache_dir", None)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", previous)
        compilation_cache.reset_cache()  # forget the folder: later compilations are not cached


def main(argv: list[str] | None = None) -> int:
    """Run the ``bayesreg`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success, 2 for bad input or options, 1 when the outputs could not be written.
    """
    from bayesreg.data import DataError

    try:
        args = _parser().parse_args(argv)
    except _UsageError as error:
        print(error, file=sys.stderr)
        return 2
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    command = {"fit": _fit, "path": _path, "demo": _demo}[args.command]
    try:
        with _compilation_cache():
            return command(args)
    except _UsageError as error:
        message = str(error)
    except (DataError, ValueError, OSError) as error:
        message = _one_line(error) or type(error).__name__
    except _WriteError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1
    print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
    return 2


def _with_small_loop_kernels(flags: str) -> str:
    """``flags`` (an ``XLA_FLAGS`` value) with `~bayesreg.engine.SMALL_LOOPS_XLA_FLAG` added, unless
    they set ``xla_backend_extra_options`` themselves (a user's choice is kept as it is)."""
    from bayesreg.engine import SMALL_LOOPS_XLA_FLAG

    if "xla_backend_extra_options" in flags:
        return flags
    return f"{flags} {SMALL_LOOPS_XLA_FLAG}".strip()


def run() -> None:
    """The ``bayesreg`` console script: `main`, then exit with its status.

    The objects of the imported modules (JAX, NumPy, SciPy, pandas, scikit-learn), which live as
    long as the process, are moved out of the garbage collector's reach first (``gc.freeze``): its
    collections then no longer walk them, 0.25 s of a second ``fit --method nuts`` (0.06 s after).
    Everything left is frozen again before exit: Python's last collection at exit, over all the
    objects of JAX, ArviZ and SciPy, took 0.4 s of a 5 s ``fit`` and frees nothing the end of the
    process does not.

    The process's ``XLA_FLAGS`` gain `~bayesreg.engine.SMALL_LOOPS_XLA_FLAG` (see
    `_with_small_loop_kernels`) before JAX computes anything.
    """
    os.environ["XLA_FLAGS"] = _with_small_loop_kernels(os.environ.get("XLA_FLAGS", ""))
    gc.freeze()
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
