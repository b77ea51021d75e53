"""Issues 2 and 13: lasso and ridge MAP against scikit-learn at equal accuracy, as users call it.

Problem: n = 20000 rows, p = 200 AR(1)-correlated features (corr(x_i, x_j) = ρ^|i−j|, ρ = 0.5),
half of the true weights non-zero, unit noise. Two bayesreg paths are timed, from NumPy arrays to
coefficients:

* ``bayesreg fit``: ``BayesianLinearRegression(prior=kind, alpha=alpha).fit(X, y)``, what users
  call (validation, statistics, σ estimated with its prior: the MAP of (w, b, σ), computed on the
  host by `bayesreg.engine.map.linear_map`, nothing compiled);
* ``bayesreg map_estimate``::

    stats = SufficientStats.from_data(X, y)
    res = map_estimate(linear_regression_stats, stats,
                       prior=prior_from_penalty(kind, alpha, n_samples=n), sigma=1.0)

(``from_data`` inside the timed region): the engine's compiled MAP solver. With ``--logistic`` also
``BayesianLogisticRegression(prior="gaussian", C).fit`` against ``LogisticRegression(C)`` on the
labels ``y > median(y)``. Each is timed

* warm: same process, after a first call, median of ``--repeats`` calls (≥ 7), interleaved round by
  round with the scikit-learn fits so that load from other processes hits every method alike;
* first call in a fresh process (``--fresh`` child processes), of the estimator's ``fit``: compile
  time = first call − median of the warm calls in that same child; the child also records JAX's
  own tracing, MLIR lowering and XLA compilation durations (``jax.monitoring`` events) during the
  first call.

scikit-learn: ``Lasso(alpha, tol)`` with the loosest ``tol`` of a half-decade grid whose coefficients
(and those of every tighter tol) are within ``--accuracy`` (1e-6) of the reference, plus
``Lasso`` at its default tol and ``Lasso(precompute=True)`` (at its own loosest tol) for context;
``Ridge(alpha)`` (default solver: Cholesky on dense data, a direct method, so tol does not apply).

Reference: a tightly converged solve independent of bayesreg. Lasso: scikit-learn at tol=1e-14,
then the stationarity equations re-solved on its support (kept when the signs and the KKT
conditions hold); ridge: least squares on the augmented system ``[Xc; √α I] w = [yc; 0]``. The
KKT residual of each reference is reported.

Run ``python benchmarks/bench_map.py [--quick]``; ``--help`` for the options. The table goes to
stdout and everything to a JSON file (``benchmarks/results/`` by default).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from ar1_data import make_data  # benchmarks/ is on sys.path when a script runs

ROOT = Path(__file__).resolve().parents[1]
ENV_VARS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "XLA_FLAGS",
    "JAX_ENABLE_X64",
    "JAX_COMPILATION_CACHE_DIR",
    "JAX_PLATFORMS",
)


def _make_bayesreg_importable() -> None:
    """Import bayesreg from this checkout when the installed one resolves to a namespace package.

    (An editable install made before ``bayesreg/__init__.py`` existed maps ``bayesreg`` to a bare
    namespace; ``bayesreg.models`` still resolves through the editable finder.)
    """
    spec = importlib.util.find_spec("bayesreg")
    if spec is None or spec.origin is None:
        sys.path.insert(0, str(ROOT))


# ----------------------------------------------------------------------------- data and references


def _centred(X, y):
    x_mean, y_mean = X.mean(axis=0), y.mean()
    return X - x_mean, y - y_mean, x_mean, y_mean


def lasso_kkt(Xc, yc, coef, alpha):
    """Largest violation of the lasso optimality conditions, in units of alpha."""
    grad = -(Xc.T @ (yc - Xc @ coef)) / Xc.shape[0]
    at_zero = np.maximum(np.abs(grad) - alpha, 0.0)
    off_zero = np.abs(grad + alpha * np.sign(coef))
    return float(np.max(np.where(coef == 0, at_zero, off_zero)) / alpha)


def lasso_reference(X, y, alpha):
    """Tightly converged lasso: sklearn at tol=1e-14, then polished on its support."""
    from sklearn.linear_model import Lasso

    Xc, yc, x_mean, y_mean = _centred(X, y)
    n = X.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    coef = fit.coef_.copy()
    kkt = lasso_kkt(Xc, yc, coef, alpha)
    support = coef != 0
    sign = np.sign(coef[support])
    Xs = Xc[:, support]
    polished = np.zeros_like(coef)
    polished[support] = np.linalg.solve(Xs.T @ Xs, Xs.T @ yc - n * alpha * sign)
    kkt_polished = lasso_kkt(Xc, yc, polished, alpha)
    how = "sklearn tol=1e-14"
    if np.all(np.sign(polished[support]) == sign) and kkt_polished <= kkt:
        coef, kkt, how = polished, kkt_polished, "sklearn tol=1e-14, re-solved on its support"
    return {
        "coef": coef,
        "intercept": float(y_mean - x_mean @ coef),
        "kkt_residual": kkt,
        "how": how,
        "max_diff_to_sklearn_1e-14": float(np.max(np.abs(coef - fit.coef_))),
    }


def ridge_reference(X, y, alpha):
    """Ridge by least squares on the augmented system (QR-based, no normal equations)."""
    Xc, yc, x_mean, y_mean = _centred(X, y)
    p = X.shape[1]
    A = np.vstack([Xc, np.sqrt(alpha) * np.eye(p)])
    b = np.concatenate([yc, np.zeros(p)])
    coef = np.linalg.lstsq(A, b, rcond=None)[0]
    grad = Xc.T @ (yc - Xc @ coef) - alpha * coef
    kkt = float(np.max(np.abs(grad)) / np.max(np.abs(Xc.T @ yc)))
    return {
        "coef": coef,
        "intercept": float(y_mean - x_mean @ coef),
        "kkt_residual": kkt,
        "how": "lstsq on [Xc; sqrt(alpha) I]",
    }


def logistic_reference(X, labels, C):
    """L2 logistic regression by scikit-learn's newton-cholesky at tol=1e-14 (a Newton method)."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(X, labels)
    p = 1.0 / (1.0 + np.exp(-(X @ fit.coef_[0] + fit.intercept_[0])))
    grad = C * X.T @ (p - labels) + fit.coef_[0]
    return {
        "coef": fit.coef_[0],
        "intercept": float(fit.intercept_[0]),
        "kkt_residual": float(np.max(np.abs(grad))),
        "how": "sklearn newton-cholesky tol=1e-14",
    }


# ----------------------------------------------------------------------------- the methods timed


def estimator_fit(X, y, kind, alpha):
    """What users call: the estimator's ``fit`` (σ estimated), from arrays to coefficients."""
    from bayesreg import BayesianLinearRegression

    return BayesianLinearRegression(prior=kind, alpha=alpha).fit(X, y)


def bayesreg_fit(X, y, kind, alpha):
    """The path of issue 2, from arrays to coefficients: statistics and `map_estimate`, σ = 1."""
    from bayesreg import map_estimate, prior_from_penalty
    from bayesreg.models import SufficientStats, linear_regression_stats

    stats = SufficientStats.from_data(X, y)
    prior = prior_from_penalty(kind, alpha, n_samples=X.shape[0])
    res = map_estimate(linear_regression_stats, stats, prior=prior, sigma=1.0)
    return res


def _bayesreg_method(X, y, kind, alpha):
    def run():
        res = bayesreg_fit(X, y, kind, alpha)
        return res.params["coef"], float(res.params["intercept"]), res

    return run


def _estimator_method(X, y, kind, alpha):
    def run():
        est = estimator_fit(X, y, kind, alpha)
        return est.coef_, float(est.intercept_), est.map_

    return run


def _logistic_method(X, labels, C):
    def run():
        from bayesreg import BayesianLogisticRegression

        est = BayesianLogisticRegression(prior="gaussian", C=C).fit(X, labels)
        return est.coef_, float(est.intercept_), est.map_

    return run


def _sklearn_method(X, y, estimator):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = estimator.fit(X, y)
        return np.ravel(fit.coef_), float(np.ravel(fit.intercept_)[0]), fit

    return run


def loosest_tol(X, y, alpha, ref_coef, accuracy, *, precompute=False):
    """Loosest half-decade tol of sklearn's Lasso meeting accuracy (and every tighter tol with it)."""
    from sklearn.linear_model import Lasso

    grid = [10.0 ** (-k / 2) for k in range(2, 25)]  # 1e-1, 3.2e-2, 1e-2, ..., 1e-12
    table = []
    for tol in grid:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = Lasso(alpha=alpha, tol=tol, precompute=precompute, max_iter=100_000).fit(X, y)
        table.append(
            {"tol": tol, "max_diff": float(np.max(np.abs(fit.coef_ - ref_coef))), "n_iter": int(fit.n_iter_)}
        )
    chosen = None
    for row in reversed(table):  # from the tightest: stop at the first failure
        if row["max_diff"] > accuracy:
            break
        chosen = row["tol"]
    return chosen, table


# ----------------------------------------------------------------------------- environment


def environment() -> dict:
    import jax
    import numpyro
    import scipy
    import sklearn

    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "jax": jax.__version__,
            "numpyro": numpyro.__version__,
        },
        "env": {k: os.environ.get(k) for k in ENV_VARS},
        "jax_compilation_cache_dir": jax.config.jax_compilation_cache_dir,
        "jax_devices": [str(d) for d in jax.devices()],
        "git": _git_state(),
    }
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            {
                k: d.get(k)
                for k in ("internal_api", "prefix", "version", "num_threads", "architecture", "filepath")
            }
            for d in threadpool_info()
        ]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    return info


def _git_state() -> dict:
    def git(*args):
        try:
            out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "bayesreg", "models")
    modified = " ".join(line.split()[-1] for line in (dirty or "").splitlines())
    return {"head": git("rev-parse", "--short", "HEAD"), "library_files_modified": modified}


def _limit_threads(n) -> None:
    """Limit every BLAS and OpenMP pool loaded so far (numpy's and scipy's OpenBLAS; JAX calls
    LAPACK through scipy's) to ``n`` threads, for the rest of the process."""
    if n is None:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)


# ----------------------------------------------------------------------------- fresh-process child


def child(args) -> None:
    """First call in a fresh process, then warm calls; one JSON line on stdout."""
    _make_bayesreg_importable()
    t0 = time.perf_counter()
    import jax
    import jax.monitoring

    import bayesreg
    import bayesreg.models  # noqa: F401

    import_s = time.perf_counter() - t0
    _limit_threads(args.blas_threads)
    if args.persistent_cache:
        jax.config.update("jax_compilation_cache_dir", args.persistent_cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    events: dict[str, float] = {}
    recording = [False]

    def listen(event, duration, **kwargs):
        if recording[0]:
            events[event] = events.get(event, 0.0) + duration

    jax.monitoring.register_event_duration_secs_listener(listen)
    X, y, _ = make_data(args.n, args.p, args.rho, args.seed)
    alpha = args.lasso_alpha if args.child == "laplace" else args.ridge_alpha
    recording[0] = True
    t = time.perf_counter()
    res = estimator_fit(X, y, args.child, alpha).map_
    first = time.perf_counter() - t
    recording[0] = False
    warm = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        estimator_fit(X, y, args.child, alpha)
        warm.append(time.perf_counter() - t)
    short = {
        "/jax/core/compile/jaxpr_trace_duration": "tracing_s",
        "/jax/core/compile/jaxpr_to_mlir_module_duration": "mlir_lowering_s",
        "/jax/core/compile/backend_compile_duration": "xla_compile_s",
        "/jax/compilation_cache/cache_retrieval_time_sec": "cache_retrieval_s",
    }
    out = {
        "kind": args.child,
        "import_s": import_s,
        "first_call_s": first,
        "warm_median_s": statistics.median(warm),
        "compile_s": first - statistics.median(warm),
        "jax_events": {short.get(k, k): v for k, v in events.items()},
        "converged": bool(res.converged),
    }
    print("CHILD_JSON " + json.dumps(out))


def fresh_runs(args, kind: str) -> list[dict]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--repeats", str(args.repeats)]
    for name in ("n", "p", "rho", "seed", "lasso_alpha", "ridge_alpha"):
        cmd += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.blas_threads is not None:
        cmd += ["--blas-threads", str(args.blas_threads)]
    if args.persistent_cache:
        cmd += ["--persistent-cache", args.persistent_cache]
    runs = []
    for _ in range(args.fresh):
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("CHILD_JSON ")]
        if out.returncode != 0 or not lines:
            raise RuntimeError(f"fresh-process run failed:\n{out.stdout}\n{out.stderr}")
        runs.append(json.loads(lines[-1][len("CHILD_JSON ") :]))
    return runs


# ----------------------------------------------------------------------------- main


def time_interleaved(methods: dict, repeats: int) -> dict:
    """Median, min and all times of each method, the methods taking turns round by round."""
    times = {name: [] for name in methods}
    for name, fn in methods.items():  # warm-up (the bayesreg compile happens here)
        t = time.perf_counter()
        fn()
        times[name + " (first call)"] = [time.perf_counter() - t]
    for _ in range(repeats):
        for name, fn in methods.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return times


def _stats(ts):
    return {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts), "all_s": ts}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="7 repeats, 1 fresh process per kind")
    parser.add_argument("--repeats", type=int, default=None, help="warm calls per method (>= 7)")
    parser.add_argument("--fresh", type=int, default=None, help="fresh processes per kind")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--p", type=int, default=200)
    parser.add_argument("--rho", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lasso-alpha", type=float, default=0.05)
    parser.add_argument("--ridge-alpha", type=float, default=1.0)
    parser.add_argument("--logistic", action="store_true", help="also bayesreg vs LogisticRegression")
    parser.add_argument("--logistic-c", type=float, default=1.0)
    parser.add_argument("--accuracy", type=float, default=1e-6)
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS/OpenMP threads (threadpoolctl) in every process, bayesreg and sklearn alike",
    )
    parser.add_argument(
        "--persistent-cache",
        default=None,
        metavar="DIR",
        help="JAX persistent compilation cache for the fresh processes (the first one fills it)",
    )
    parser.add_argument("--json", default=None, help="output JSON (default benchmarks/results/...)")
    parser.add_argument("--child", choices=("laplace", "gaussian"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 7 if args.quick else 15
    if args.fresh is None:
        args.fresh = 1 if args.quick else 3
    args.repeats = max(args.repeats, 7)
    if args.child:
        child(args)
        return 0

    _make_bayesreg_importable()
    from sklearn.linear_model import Lasso, Ridge

    import bayesreg.models  # noqa: F401  (loads jax, scipy, sklearn: their thread pools exist now)

    _limit_threads(args.blas_threads)

    load_start = os.getloadavg()
    env = environment()
    X, y, coef_true = make_data(args.n, args.p, args.rho, args.seed)
    print(f"bayesreg MAP vs scikit-learn: n={args.n} p={args.p} AR(1) rho={args.rho}")
    print(
        f"git {env['git']['head']}, library files modified: {env['git']['library_files_modified'] or 'none'}"
    )
    print("env:", ", ".join(f"{k}={v}" for k, v in env["env"].items() if v is not None) or "(none set)")
    print("  unset:", ", ".join(k for k, v in env["env"].items() if v is None))
    if isinstance(env["threadpools"], list):
        for d in env["threadpools"]:
            arch = d.get("architecture") or "-"
            print(
                f"  threadpool {d['internal_api']:9s} {d['prefix']:18s} {d['version'] or '-':14s} "
                f"threads={d['num_threads']} arch={arch}"
            )
    else:
        print(" ", env["threadpools"])
    print(f"  blas-threads limit: {args.blas_threads}; jax cache dir: {env['jax_compilation_cache_dir']}")
    print(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")

    ref = {
        "laplace": lasso_reference(X, y, args.lasso_alpha),
        "gaussian": ridge_reference(X, y, args.ridge_alpha),
    }
    tol, tol_table = loosest_tol(X, y, args.lasso_alpha, ref["laplace"]["coef"], args.accuracy)
    tol_pre, tol_table_pre = loosest_tol(
        X, y, args.lasso_alpha, ref["laplace"]["coef"], args.accuracy, precompute=True
    )
    if tol is None or tol_pre is None:
        raise RuntimeError("no tol on the grid gets sklearn's Lasso within the accuracy")

    a, r = args.lasso_alpha, args.ridge_alpha
    methods = {
        "laplace": {
            "bayesreg": _estimator_method(X, y, "laplace", a),
            "bayesreg map_estimate": _bayesreg_method(X, y, "laplace", a),
            f"sklearn Lasso tol={tol:.1e}": _sklearn_method(X, y, Lasso(alpha=a, tol=tol, max_iter=100_000)),
            "sklearn Lasso tol=1e-4 (default)": _sklearn_method(X, y, Lasso(alpha=a)),
            f"sklearn Lasso precompute=True tol={tol_pre:.1e}": _sklearn_method(
                X, y, Lasso(alpha=a, tol=tol_pre, precompute=True, max_iter=100_000)
            ),
        },
        "gaussian": {
            "bayesreg": _estimator_method(X, y, "gaussian", r),
            "bayesreg map_estimate": _bayesreg_method(X, y, "gaussian", r),
            "sklearn Ridge (auto: cholesky)": _sklearn_method(X, y, Ridge(alpha=r)),
        },
    }
    equal_accuracy = {
        "laplace": f"sklearn Lasso tol={tol:.1e}",
        "gaussian": "sklearn Ridge (auto: cholesky)",
    }
    default_tol = {
        "laplace": "sklearn Lasso tol=1e-4 (default)",
        "gaussian": "sklearn Ridge (auto: cholesky)",
    }
    if args.logistic:
        from sklearn.linear_model import LogisticRegression

        labels = (y > np.median(y)).astype(float)
        ref["logistic"] = logistic_reference(X, labels, args.logistic_c)
        methods["logistic"] = {
            "bayesreg": _logistic_method(X, labels, args.logistic_c),
            "sklearn LogisticRegression (lbfgs, default tol)": _sklearn_method(
                X, labels, LogisticRegression(C=args.logistic_c, max_iter=10_000)
            ),
            "sklearn LogisticRegression newton-cholesky": _sklearn_method(
                X, labels, LogisticRegression(C=args.logistic_c, solver="newton-cholesky")
            ),
        }
        equal_accuracy["logistic"] = "sklearn LogisticRegression newton-cholesky"
        default_tol["logistic"] = "sklearn LogisticRegression (lbfgs, default tol)"

    results = {"args": vars(args), "environment": env, "n_zero_true": int(np.sum(coef_true == 0))}
    for kind, kind_methods in methods.items():
        times = time_interleaved(kind_methods, args.repeats)
        fresh = fresh_runs(args, kind) if kind != "logistic" else []
        rows = {}
        for name, fn in kind_methods.items():
            coef, intercept, fitted = fn()
            row = {
                **_stats(times[name]),
                "first_call_in_process_s": times[name + " (first call)"][0],
                "max_abs_diff_coef": float(np.max(np.abs(coef - ref[kind]["coef"]))),
                "abs_diff_intercept": abs(intercept - ref[kind]["intercept"]),
                "n_zero": int(np.sum(coef == 0)),
            }
            if name.startswith("bayesreg"):
                row.update(num_steps=fitted.num_steps, residual=fitted.residual, converged=fitted.converged)
            rows[name] = row
        base = rows["bayesreg"]["median_s"]
        for name, row in rows.items():
            row["ratio_bayesreg_over_this"] = base / row["median_s"]
            paired = [b / s for b, s in zip(times["bayesreg"], times[name], strict=True)]
            row["paired_ratio_median"] = statistics.median(paired)
        compile_s = [f["compile_s"] for f in fresh] or [float("nan")]
        results[kind] = {
            "alpha": {"laplace": a, "gaussian": r}.get(kind, args.logistic_c),
            "reference": {k: v for k, v in ref[kind].items() if k != "coef"},
            "reference_n_zero": int(np.sum(ref[kind]["coef"] == 0)),
            "methods": rows,
            "equal_accuracy_sklearn": equal_accuracy[kind],
            "ratio_at_equal_accuracy": rows["bayesreg"]["median_s"] / rows[equal_accuracy[kind]]["median_s"],
            "default_tol_sklearn": default_tol[kind],
            "ratio_at_default_tol": rows["bayesreg"]["median_s"] / rows[default_tol[kind]]["median_s"],
            "fresh_process": fresh,
            "compile_s_median": statistics.median(compile_s),
        }
    results["laplace"]["sklearn_tol_search"] = {"plain": tol_table, "precompute": tol_table_pre}
    results["laplace"]["sklearn_loosest_tol"] = {"plain": tol, "precompute": tol_pre}
    load_end = os.getloadavg()
    results["load_average"] = {"start": load_start, "end": load_end}

    _print_table(results, args)
    print(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    path = Path(args.json) if args.json else _default_json_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=float))
    print(f"JSON: {path}")
    return 0


def _spread(row) -> str:
    """Interquartile range of the warm times, in ms."""
    q1, _, q3 = statistics.quantiles(row["all_s"], n=4)
    return f"{1e3 * q1:.1f}-{1e3 * q3:.1f}"


def _default_json_path(args) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    tag = f"-blas{args.blas_threads}" if args.blas_threads is not None else ""
    return ROOT / "benchmarks" / "results" / f"bench_map-{stamp}{tag}.json"


def _print_table(results, args) -> None:
    for kind, label in (("laplace", "LASSO"), ("gaussian", "RIDGE"), ("logistic", "LOGISTIC (C)")):
        if kind not in results:
            continue
        res = results[kind]
        ref = res["reference"]
        print()
        print(
            f"{label} alpha={res['alpha']}  reference: {ref['how']}, KKT residual {ref['kkt_residual']:.1e}, "
            f"{res['reference_n_zero']} zeros of {args.p}"
        )
        header = (
            f"  {'method':50s} {'median ms':>9s} {'spread ms':>11s} {'max|Δcoef|':>10s} {'zeros':>5s} "
            f"{'bayesreg/this':>13s}"
        )
        print(header)
        print("  " + "-" * (len(header) - 2))
        for name, row in res["methods"].items():
            print(
                f"  {name:50s} {1e3 * row['median_s']:9.1f} {_spread(row):>11s} "
                f"{row['max_abs_diff_coef']:10.1e} {row['n_zero']:5d} {row['ratio_bayesreg_over_this']:13.2f}"
            )
        b = res["methods"]["bayesreg"]
        print(
            f"  bayesreg fit: {b['num_steps']} proximal Newton steps, converged={b['converged']}; "
            f"first call in this process {b['first_call_in_process_s']:.2f} s"
        )
        print(
            f"  fit ratio at equal accuracy (vs {res['equal_accuracy_sklearn']}): "
            f"{res['ratio_at_equal_accuracy']:.2f}  (goal <= 1.0)"
        )
        print(f"  fit ratio vs {res['default_tol_sklearn']}: {res['ratio_at_default_tol']:.2f}")
        for i, f in enumerate(res["fresh_process"]):
            ev = f["jax_events"]
            print(
                f"  fresh process {i + 1}: import {f['import_s']:.2f} s, "
                f"first call {f['first_call_s']:.2f} s, "
                f"warm {1e3 * f['warm_median_s']:.1f} ms -> compile {f['compile_s']:.2f} s "
                f"[jax: tracing {ev.get('tracing_s', 0):.2f}, lowering {ev.get('mlir_lowering_s', 0):.2f}, "
                f"XLA {ev.get('xla_compile_s', 0):.2f} s]"
            )
        print(f"  compile time (median of fresh processes): {res['compile_s_median']:.2f} s  (goal < 1 s)")
    tols = results["laplace"]["sklearn_tol_search"]
    print()
    print("sklearn Lasso tol search (max|Δcoef| vs reference):")
    for key in ("plain", "precompute"):
        cells = " ".join(f"{row['tol']:.0e}:{row['max_diff']:.0e}" for row in tols[key])
        print(f"  {key:10s} loosest={results['laplace']['sklearn_loosest_tol'][key]:.1e}  {cells}")


if __name__ == "__main__":
    sys.exit(main())
