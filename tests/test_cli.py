"""The ``bayesreg`` command line: bad input is refused in one line, good runs match scikit-learn.

The fits here reuse the shapes of the demo (diabetes, 10 features) and of the estimator tests
(breast cancer, 569 x 8), so the compiled MAP solvers are shared within a test session; the NUTS
run of ``fit --method nuts`` and the demo's use the same small settings (`NUTS`), so they share one
compiled sampler. JAX's compilation cache goes to a temporary XDG_CACHE_HOME, never the user's.
"""

import datetime
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runs import run as _run
from references import assert_map_equal, sklearn_linear, sklearn_linear_path, sklearn_logistic
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.preprocessing import StandardScaler

import bayesreg
from bayesreg.cli import _with_small_loop_kernels, main

POSTERIOR_PATH_COLUMNS = [
    "alpha",
    "feature",
    "map",
    "median",
    "hdi_low",
    "hdi_high",
    "r_hat",
    "ess_bulk",
    "max_r_hat",
    "min_ess_bulk",
    "divergences",
    "ok",
]
KEEP = "keep.txt"
KEEP_TEXT = "a file that was here before\n"
# small NUTS settings shared by the fit and demo tests: one compiled sampler, a short run that fails
# the diagnostics gate (200 draws fall short of ESS 400): exit status 3
NUTS = ["--num-warmup", "100", "--num-samples", "100", "--num-chains", "2"]

# every test with the command line's JAX cache in a temporary folder (conftest.py)
pytestmark = pytest.mark.usefixtures("cache_home")


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    """Diabetes data as CSV, target column ``progression``: 442 rows, 10 features."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    path = tmp_path_factory.mktemp("data") / "diabetes.csv"
    X.assign(progression=y).to_csv(path, index=False)
    return path


@pytest.fixture
def out(tmp_path):
    """An output folder that already holds a file the CLI must leave alone."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / KEEP).write_text(KEEP_TEXT)
    return folder


def _untouched(folder: Path) -> bool:
    return sorted(os.listdir(folder)) == [KEEP] and (folder / KEEP).read_text() == KEEP_TEXT


def _write(tmp_path, name, text=None, frame=None) -> str:
    path = tmp_path / name
    if frame is not None:
        frame.to_csv(path, index=False)
    else:
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def _good_frame(n=6):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "y": rng.normal(size=n)})


def _frame_with(column, row, value, n=6):
    frame = _good_frame(n).astype({column: object})
    frame.loc[row, column] = value
    return frame


def _csv(text=None, frame=None):
    """A builder of a data file (raw text or bytes, or a DataFrame) in the test's folder."""
    return lambda tmp_path: _write(tmp_path, "data.csv", text, frame)


GOOD = _csv(frame=_good_frame())

# name: (data file builder, further arguments, the text the one error line must contain)
BAD_INPUTS = {
    "missing file": (lambda tmp_path: str(tmp_path / "nowhere.csv"), [], "nowhere.csv' does not exist"),
    "empty file": (_csv(""), [], "is empty"),
    "unparsable file": (_csv("a,b,y\n1,2,3\n4,5,6,7\n"), [], "Expected 3 fields in line 3, saw 4"),
    "binary file": (_csv(b"\x89PNG\r\n\x1a\n\xff\xfe\x00"), [], "cannot parse"),
    "header only": (_csv("a,b,y\n"), [], "has a header but no rows"),
    "missing target": (GOOD, ["--target", "nope"], "target column 'nope' not found"),
    "wrong separator": (GOOD, ["--sep", ";"], "target column 'y' not found in"),
    "unknown separator": (
        GOOD,
        ["--sep", "|"],
        "--sep: unknown separator '|'; expected one of ',', ';', 'tab'",
    ),
    "NaN": (
        _csv(frame=_frame_with("a", 2, np.nan)),
        [],
        "data.csv line 4, column 'a': NaN (NaN and inf values are not allowed)",
    ),
    "inf": (_csv(frame=_frame_with("b", 1, "inf")), [], "data.csv line 3, column 'b': inf (NaN and inf"),
    "text column": (
        _csv(frame=_frame_with("b", 3, "high")),
        [],
        "data.csv line 5, column 'b': 'high' is not a number",
    ),
    "NaN target": (
        _csv(frame=_frame_with("y", 4, np.nan)),
        [],
        "data.csv line 6, column 'y' (the target): NaN (NaN and inf",
    ),
    "text target": (
        _csv(frame=_frame_with("y", 4, "big")),
        [],
        "data.csv line 6, column 'y' (the target): 'big' is not a number",
    ),
    "empty label": (
        _csv(frame=_good_frame(6).assign(y=["no", "yes", None, "no", "yes", "no"])),
        ["--family", "bernoulli"],
        "data.csv line 4, column 'y' (the target): NaN (NaN and inf",
    ),
    "constant columns": (
        _csv(frame=_good_frame().assign(c=1.0, e=0)),
        [],
        "constant columns: 'c', 'e' (a column with one value carries no information; drop them or pass "
        "--drop-constant)",
    ),
    "constant target": (
        _csv(frame=_good_frame().assign(y=3.0)),
        [],
        "target 'y' is constant: every row holds 3 (a target with one value leaves nothing to fit)",
    ),
    "single row": (_csv(frame=_good_frame(1)), [], "1 sample"),
    "non-binary target": (
        _csv(frame=_good_frame(9).assign(y=[0, 1, 2] * 3)),
        ["--family", "bernoulli"],
        "found 3 classes: 0, 1, 2",
    ),
    "alpha zero": (
        GOOD,
        ["--alpha", "0"],
        "alpha must be a positive finite number or one of 'cv', 'eb', 'hierarchical', got '0'",
    ),
    "alpha negative": (
        GOOD,
        ["--alpha", "-1"],
        "alpha must be a positive finite number or one of 'cv', 'eb', 'hierarchical', got '-1'",
    ),
    "alpha nan": (
        GOOD,
        ["--alpha", "nan"],
        "alpha must be a positive finite number or one of 'cv', 'eb', 'hierarchical', got 'nan'",
    ),
    "alpha word": (
        GOOD,
        ["--alpha", "cvv"],
        "alpha must be a positive number or one of 'cv', 'eb', 'hierarchical', got 'cvv'",
    ),
    "eb logistic": (
        _csv(frame=_good_frame(8).assign(y=[0, 1] * 4)),
        ["--alpha", "eb", "--family", "bernoulli"],
        "--alpha eb (empirical Bayes) needs --family gaussian; use --alpha cv",
    ),
    "eb elastic net": (
        GOOD,
        ["--alpha", "eb", "--prior", "elasticnet"],
        "--alpha eb needs --prior gaussian or laplace",
    ),
    "eb ridge sigma": (GOOD, ["--alpha", "eb", "--prior", "gaussian", "--sigma", "1"], "drop --sigma"),
    "cv book": (GOOD, ["--alpha", "cv", "--convention", "book"], "use --convention sklearn"),
    "alpha inf": (
        GOOD,
        ["--alpha=inf"],
        "alpha must be a positive finite number or one of 'cv', 'eb', 'hierarchical', got 'inf'",
    ),
    "alpha text": (
        GOOD,
        ["--alpha", "abc"],
        "alpha must be a positive number or one of 'cv', 'eb', 'hierarchical', got 'abc'",
    ),
    "unknown prior": (
        GOOD,
        ["--prior", "cauchy"],
        "--prior: unknown prior 'cauchy'; expected one of gaussian, laplace, elasticnet, horseshoe, "
        "regularized_horseshoe, r2d2",
    ),
    "unknown convention": (
        GOOD,
        ["--convention", "glmnet"],
        "--convention: unknown convention 'glmnet'; expected one of sklearn, book, glum, statsmodels",
    ),
    "unknown family": (
        GOOD,
        ["--family", "gamma"],
        "--family: unknown family 'gamma'; expected one of gaussian, bernoulli, poisson, "
        "negative_binomial, student_t",
    ),
    "unknown method": (GOOD, ["--method", "vi"], "--method: unknown method 'vi'; expected one of map, nuts"),
    "l1-ratio out of range": (GOOD, ["--prior", "elasticnet", "--l1-ratio", "1.5"], "got '1.5'"),
    "l1-ratio without elastic net": (GOOD, ["--l1-ratio", "0.3"], "--prior elasticnet only"),
    "sigma with bernoulli": (
        GOOD,
        ["--family", "bernoulli", "--sigma", "1"],
        "--family gaussian and student_t only",
    ),
    "sigma zero": (GOOD, ["--sigma", "0"], "sigma must be a positive finite number, got '0'"),
    "feature named intercept": (
        _csv(frame=_good_frame().rename(columns={"b": "intercept"})),
        [],
        "named 'intercept'",
    ),
    "target option without value": (GOOD, ["--target"], "--target: expected one argument"),
    "NUTS option without nuts": (
        GOOD,
        ["--num-samples", "10"],
        "--num-samples applies to --method nuts only",
    ),
    "seed without nuts": (GOOD, ["--seed", "1"], "--seed applies to --method nuts only"),
    "mass matrix without nuts": (
        GOOD,
        ["--mass-matrix", "dense"],
        "--mass-matrix applies to --method nuts only",
    ),
    "unknown mass matrix": (
        GOOD,
        ["--method", "nuts", "--mass-matrix", "full"],
        "unknown mass-matrix 'full'; expected one of auto, dense, diagonal",
    ),
    "no chains": (GOOD, ["--method", "nuts", "--num-chains", "0"], "num-chains must be at least 1, got '0'"),
    "fractional draws": (GOOD, ["--method", "nuts", "--num-samples", "1.5"], "must be an integer, got '1.5'"),
    # the sparsity priors: no MAP, no alpha, and each option for its own prior only
    "sparsity prior with map": (GOOD, ["--prior", "horseshoe"], "--prior horseshoe has no MAP"),
    "sparsity prior with alpha": (
        GOOD,
        ["--prior", "r2d2", "--method", "nuts", "--alpha", "0.5"],
        "--alpha applies to the penalty priors (laplace, gaussian, elasticnet) only",
    ),
    "sparsity prior with convention": (
        GOOD,
        ["--prior", "horseshoe", "--method", "nuts", "--convention", "book"],
        "--convention applies to the penalty priors",
    ),
    "global scale with laplace": (
        GOOD,
        ["--global-scale", "0.5"],
        "--global-scale applies to --prior horseshoe or --prior regularized_horseshoe only, not to "
        "--prior laplace",
    ),
    "slab df with r2d2": (
        GOOD,
        ["--prior", "r2d2", "--method", "nuts", "--slab-df", "3"],
        "--slab-df applies to --prior regularized_horseshoe only, not to --prior r2d2",
    ),
    "r2 mean with horseshoe": (
        GOOD,
        ["--prior", "horseshoe", "--method", "nuts", "--r2-mean", "0.3"],
        "--r2-mean applies to --prior r2d2 only, not to --prior horseshoe",
    ),
    "global scale zero": (
        GOOD,
        ["--prior", "horseshoe", "--method", "nuts", "--global-scale", "0"],
        "global-scale must be a positive finite number, got '0'",
    ),
    "slab scale negative": (
        GOOD,
        ["--slab-scale=-2"],
        "slab-scale must be a positive finite number, got '-2'",
    ),
    "slab df zero": (GOOD, ["--slab-df", "0"], "slab-df must be a positive finite number, got '0'"),
    "expected nonzero zero": (
        GOOD,
        ["--expected-nonzero", "0"],
        "expected-nonzero must be a positive finite number, got '0'",
    ),
    "expected nonzero above p": (
        GOOD,
        ["--prior", "regularized_horseshoe", "--method", "nuts", "--expected-nonzero", "2"],
        "expected_nonzero must be below the number of weights (2), got 2",
    ),
    "r2 mean one": (GOOD, ["--r2-mean", "1"], "r2-mean must lie strictly between 0 and 1, got '1'"),
    "r2 precision text": (GOOD, ["--r2-precision", "x"], "r2-precision must be a positive number, got 'x'"),
}


def _refused(capsys, argv, match):
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    assert match in lines[0], lines[0]
    assert captured.out == ""
    return lines[0]


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_refused_in_one_line(case, tmp_path, out, capsys):
    build, args, match = BAD_INPUTS[case]
    target = [] if "--target" in args else ["--target", "y"]
    line = _refused(capsys, ["fit", build(tmp_path), *args, *target, "--out", str(out)], match)
    assert line.startswith("bayesreg fit: error: ")
    assert _untouched(out)


def test_out_that_is_a_file_refused(tmp_path, capsys):
    data = _write(tmp_path, "good.csv", frame=_good_frame())
    target = tmp_path / "taken"
    target.write_text(KEEP_TEXT)
    _refused(capsys, ["fit", data, "--target", "y", "--out", str(target)], "is not a folder")
    assert target.read_text() == KEEP_TEXT


def test_refused_run_creates_no_out_folder(tmp_path, capsys):
    folder = tmp_path / "new" / "deeper"
    _refused(capsys, ["fit", str(tmp_path / "none.csv"), "--target", "y", "--out", str(folder)], "exist")
    assert not (tmp_path / "new").exists()


def test_no_command_and_help(capsys):
    _refused(capsys, [], "required")
    assert main(["fit", "--help"]) == 0
    text = capsys.readouterr().out
    assert "1/C" in text and "coefficients.csv" in text


def test_fit_lasso_writes_coefficients(diabetes_csv, out, capsys):
    code = main(["fit", str(diabetes_csv), "--target", "progression", "--alpha", "0.1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    written = pd.read_csv(out / "coefficients.csv")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    assert list(written.columns) == ["feature", "coefficient"]
    assert list(written.feature) == [*X.columns, "intercept"]
    ref = Lasso(alpha=0.1, tol=1e-12, max_iter=100_000).fit(X, y)
    expected = np.append(ref.coef_, ref.intercept_)
    np.testing.assert_allclose(written.coefficient, expected, rtol=0, atol=1e-6)
    # each coefficient and the intercept against Lasso(0.1) polished and certified, the same exact zeros
    certified = sklearn_linear("laplace", X.to_numpy(float), y.to_numpy(float), 0.1)
    coef, intercept = written.coefficient.to_numpy()[:-1], written.coefficient.iloc[-1]
    assert_map_equal(coef, intercept, certified.coef, certified.intercept, label="fit", names=X.columns)
    assert (written.coefficient == 0).any()  # the table shows exact zeros
    assert "0 (exact)" in captured.out and "intercept" in captured.out
    assert (out / KEEP).read_text() == KEEP_TEXT
    assert sorted(os.listdir(out)) == ["coefficients.csv", KEEP, "model.json"]  # no temporary files left


def test_fit_logistic_alpha_is_inverse_C(tmp_path, out, capsys):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:, :8]  # the shapes of the estimator tests
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)]).assign(label=np.where(y == 1, "B", "M"))
    data = _write(tmp_path, "cancer.csv", frame=frame)
    argv = ["fit", data, "--target", "label", "--family", "bernoulli", "--prior", "gaussian"]
    code = main([*argv, "--alpha", "2.5", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "C = 0.4" in captured.out
    # which class the probability is of: printed and saved ("M" sorts after "B")
    assert "modelling P(label = 'M') against label = 'B'" in captured.out.splitlines()
    assert (out / "target.txt").read_text() == "modelling P(label = 'M') against label = 'B'\n"
    written = pd.read_csv(out / "coefficients.csv")
    ref = LogisticRegression(C=0.4, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, frame.label)
    np.testing.assert_allclose(written.coefficient, np.append(ref.coef_[0], ref.intercept_), atol=1e-6)
    certified = sklearn_logistic(X, frame.label, 0.4, 0.0)  # "M" (classes_[1]) is the positive class
    coef, intercept = written.coefficient.to_numpy()[:-1], written.coefficient.iloc[-1]
    assert_map_equal(coef, intercept, certified.coef, certified.intercept, label="fit --family bernoulli")


# ---------------------------------------------------------------------------------------------------
# --method nuts

POSTERIOR_COLUMNS = [
    "mean",
    "sd",
    "hdi_low",
    "hdi_high",
    "r_hat",
    "ess_bulk",
    "ess_tail",
    "divergences",
    "ok",
]


@pytest.fixture(scope="module")
def nuts_run(diabetes_csv, tmp_path_factory, cache_home):
    """``fit --method nuts`` with a short run (2 chains x (100 + 100)): code, folder, stdout, stderr."""
    folder = tmp_path_factory.mktemp("nuts")
    (folder / KEEP).write_text(KEEP_TEXT)
    jax = pytest.importorskip("jax")
    before = (jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs)
    cwd = sorted(os.listdir())
    argv = ["fit", str(diabetes_csv), "--target", "progression", "--alpha", "0.1", "--method", "nuts"]
    code, stdout, stderr = _run([*argv, *NUTS, "--seed", "3", "--out", str(folder)])
    after = (jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs)
    return {
        "code": code,
        "folder": folder,
        "out": stdout,
        "err": stderr,
        "jax_config": (before, after),
        "cwd": (cwd, sorted(os.listdir())),
    }


def test_nuts_writes_posterior_and_summary(nuts_run):
    az = pytest.importorskip("arviz")
    folder = nuts_run["folder"]
    assert nuts_run["code"] == 3, nuts_run["err"]  # the gate failed: every file written, and marked
    assert sorted(os.listdir(folder)) == [
        "coefficients.csv",
        KEEP,
        "model.json",
        "posterior.nc",
    ]  # no temporary files
    assert (folder / KEEP).read_text() == KEEP_TEXT
    idata = az.from_netcdf(folder / "posterior.nc")
    coef = idata.posterior["coef"]
    assert coef.sizes == {"chain": 2, "draw": 100, "feature": 10}
    written = pd.read_csv(folder / "coefficients.csv")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    assert list(written.columns) == ["feature", "coefficient", *POSTERIOR_COLUMNS]
    assert list(written.feature) == [*X.columns, "intercept"]
    assert list(coef.coords["feature"].to_numpy()) == list(X.columns)
    # the mean column is the posterior mean of the draws written next to it
    means = np.append(coef.mean(("chain", "draw")).to_numpy(), float(idata.posterior["intercept"].mean()))
    np.testing.assert_allclose(written["mean"], means, rtol=1e-12)
    sds = np.append(
        coef.std(("chain", "draw"), ddof=1).to_numpy(), float(idata.posterior["intercept"].std(ddof=1))
    )
    np.testing.assert_allclose(written["sd"], sds, rtol=1e-10)
    rhat = az.rhat(idata, var_names=["coef", "intercept"])
    ess = az.ess(idata, var_names=["coef", "intercept"], method="bulk")
    np.testing.assert_allclose(written["r_hat"], np.append(rhat["coef"], rhat["intercept"]), rtol=1e-12)
    np.testing.assert_allclose(written["ess_bulk"], np.append(ess["coef"], ess["intercept"]), rtol=1e-12)
    tail = az.ess(idata, var_names=["coef", "intercept"], method="tail")
    np.testing.assert_allclose(written["ess_tail"], np.append(tail["coef"], tail["intercept"]), rtol=1e-12)
    assert (written["divergences"] == int(idata.sample_stats["diverging"].sum())).all()
    assert not written["ok"].any()  # 200 draws: ESS < 400, so no row passes
    # the HDI columns are ArviZ's 94% HDIs of the draws written next to them
    hdi = az.hdi(idata, var_names=["coef", "intercept"], hdi_prob=0.94)
    np.testing.assert_allclose(written.hdi_low, np.append(hdi["coef"][:, 0], hdi["intercept"][0]), rtol=1e-12)
    np.testing.assert_allclose(
        written.hdi_high, np.append(hdi["coef"][:, 1], hdi["intercept"][1]), rtol=1e-12
    )
    # the coefficient column keeps the MAP, which is the lasso (polished and certified)
    ref = Lasso(alpha=0.1, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(written.coefficient, np.append(ref.coef_, ref.intercept_), rtol=0, atol=1e-6)
    certified = sklearn_linear("laplace", X.to_numpy(float), y.to_numpy(float), 0.1)
    coef, intercept = written.coefficient.to_numpy()[:-1], written.coefficient.iloc[-1]
    assert_map_equal(coef, intercept, certified.coef, certified.intercept, label="fit --method nuts MAP")
    assert (written.coefficient[:-1] == 0).any()


def test_nuts_prints_the_posterior(nuts_run):
    out = nuts_run["out"]
    # 12 unconstrained parameters (10 weights, intercept, σ): "auto" is dense
    assert "NUTS posterior: 2 chains x (100 warmup + 100 draws), seed 3, dense mass matrix" in out
    assert "diagnostics: max R-hat" in out and "divergences" in out
    assert "; gate FAILED (results not to be trusted)" in out
    assert re.search(r"MAP: [1-9]\d* of 10 coefficients exactly 0; posterior mean: 0 exactly 0", out)
    assert "noise sd sigma" in out and "(posterior mean)" in out


def test_nuts_mass_matrix_option(diabetes_csv, tmp_path, cache_home):
    """--mass-matrix diagonal is what the chains adapt: printed, and recorded in posterior.nc."""
    az = pytest.importorskip("arviz")
    argv = ["fit", str(diabetes_csv), "--target", "progression", "--alpha", "0.1", "--method", "nuts"]
    code, stdout, stderr = _run(
        [*argv, *NUTS, "--seed", "3", "--mass-matrix", "diagonal", "--out", str(tmp_path)]
    )
    assert code == 3, stderr  # short chains: the gate fails
    assert "seed 3, diagonal mass matrix" in stdout
    idata = az.from_netcdf(tmp_path / "posterior.nc")
    assert idata.sample_stats.attrs["mass_matrix"] == "diagonal"


def test_nuts_diagnostics_are_one_warning_line_each(nuts_run):
    err = nuts_run["err"]
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert "PosteriorWarning" not in err and "warnings.warn" not in err  # no Python warning output
    assert lines, "200 draws must fall short of ESS 400"
    *warned, last = lines
    assert all(line.startswith("bayesreg fit: warning: ") for line in warned), lines
    assert any("ESS as low as" in line and "try: raise --num-samples" in line for line in warned)
    assert last.startswith("bayesreg fit: diagnostics failed: every file was written and marked")


def test_nuts_uses_a_user_cache_and_restores_jax_config(nuts_run, cache_home):
    before, after = nuts_run["jax_config"]
    assert after == before  # the cache is switched on only while the command runs
    cache = cache_home / "bayesreg" / "jax"
    assert cache.is_dir() and any(cache.iterdir())  # compiled programs were stored there
    cwd_before, cwd_after = nuts_run["cwd"]
    assert cwd_after == cwd_before  # nothing in the working directory


def test_unusable_cache_folder_is_skipped_silently(diabetes_csv, out, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    code = main(["fit", str(diabetes_csv), "--target", "progression", "--alpha", "0.1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""
    assert (out / "coefficients.csv").exists()


def test_small_loop_kernels_flag_added_unless_the_user_set_backend_options():
    flag = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1048576"
    assert _with_small_loop_kernels("") == flag
    assert (
        _with_small_loop_kernels("--xla_cpu_enable_fast_math=false")
        == f"--xla_cpu_enable_fast_math=false {flag}"
    )
    own = "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=0"
    assert _with_small_loop_kernels(own) == own


def test_small_loop_kernels_flag_takes_effect_after_importing_the_cli():
    """`run` sets the flag after the imports: they must leave XLA unstarted, or it reads
    ``XLA_FLAGS`` without the flag. A loop that reads and writes some 12 KiB per iteration is then one
    kernel (the default limit is 1 KiB)."""
    code = (
        "import os, bayesreg.cli as cli, jax, jax.numpy as jnp\n"
        "os.environ['XLA_FLAGS'] = cli._with_small_loop_kernels('')\n"
        "loop = lambda x: jax.lax.fori_loop(0, 9, lambda i, v: jnp.sin(v) + v[::-1], x)\n"
        "print('xla_cpu_small_call' in jax.jit(loop).lower(jnp.ones(1024)).compile().as_text())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.stdout.split() == ["True"], result.stderr


def test_console_script_entry_point(tmp_path, cache_home):
    # ArviZ prints a FutureWarning about its coming refactor at import, once a day per user cache
    # (stamped in $XDG_CACHE_HOME/arviz); the fresh cache of these tests has seen it today
    stamp = cache_home / "arviz" / "daily_warning"
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(datetime.date.today().isoformat())
    script = shutil.which("bayesreg", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "bayesreg.cli"]
    out = tmp_path / "out"
    result = subprocess.run(
        [*command, "fit", str(tmp_path / "missing.csv"), "--target", "y", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "missing.csv" in lines[0] and "does not exist" in lines[0]
    assert not out.exists()


# ---------------------------------------------------------------------------------------------------
# the demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory, cache_home):
    """``bayesreg demo`` with the small NUTS settings: code, folder, stdout (stderr is checked here)."""
    folder = tmp_path_factory.mktemp("demo")
    (folder / KEEP).write_text(KEEP_TEXT)
    code, stdout, stderr = _run(["demo", "--out", str(folder), *NUTS])
    assert "Traceback" not in stderr
    assert all(line.startswith("bayesreg demo: warning: ") for line in stderr.splitlines()), stderr
    return code, folder, stdout


def test_demo_writes_report_and_coefficients(demo):
    code, folder, stdout = demo
    assert code == 0
    assert sorted(os.listdir(folder)) == ["coefficients.csv", KEEP, "path.csv", "posterior.nc", "report.html"]
    assert (folder / KEEP).read_text() == KEEP_TEXT
    table = pd.read_csv(folder / "coefficients.csv", index_col=0)
    assert list(table.columns) == ["bayesreg_l1", "sklearn_lasso", "bayesreg_l2", "sklearn_ridge"]
    assert list(table.index) == [*load_diabetes(as_frame=True).data.columns, "intercept"]
    assert "max |dcoef|" in stdout


def test_demo_report_is_self_contained(demo):
    _, folder, _ = demo
    page = (folder / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 8
    assert 'src="http' not in page and 'href="http' not in page
    assert "<script" not in page and "<link" not in page
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert all(s.startswith(("data:image/png;base64,", "#")) for s in sources), sources


def test_demo_report_states_the_differences(demo):
    _, folder, _ = demo
    page = (folder / "report.html").read_text()
    table = pd.read_csv(folder / "coefficients.csv", index_col=0)
    X, y = load_diabetes(return_X_y=True)
    for ours, theirs, kind in [
        ("bayesreg_l1", "sklearn_lasso", "laplace"),
        ("bayesreg_l2", "sklearn_ridge", "gaussian"),
    ]:
        delta = float(np.abs(table[ours] - table[theirs]).max())
        assert delta <= 1e-6 * max(1.0, float(table[theirs].abs().max()))
        assert f"max |Δcoef| = <b>{delta:.1e}</b>" in page
        assert np.array_equal(table[ours][:-1] == 0, table[theirs][:-1] == 0)
        # each coefficient and the intercept of the MAP against the demo's scikit-learn fit (alpha 0.1),
        # polished and certified
        certified = sklearn_linear(kind, X, y, 0.1)
        coef, intercept = table[ours].to_numpy()[:-1], table[ours].iloc[-1]
        assert_map_equal(coef, intercept, certified.coef, certified.intercept, label=f"demo {ours}")
    assert (table.bayesreg_l1[:-1] == 0).any() and not (table.bayesreg_l2[:-1] == 0).any()
    for text in ("b = σ²/(nα)", "σ/√α", "(H + αI)⁻¹Hw*", "exactly 0"):
        assert text in page


def test_demo_report_has_the_posterior(demo):
    """The sparsity sentence and the diagnostics in the report are those of the posterior.nc written."""
    az = pytest.importorskip("arviz")
    from bayesreg.compare import compare_map_posterior, sparsity_summary
    from bayesreg.diagnostics import check_diagnostics

    _, folder, stdout = demo
    page = (folder / "report.html").read_text()
    idata = az.from_netcdf(folder / "posterior.nc")
    assert idata.posterior["coef"].sizes == {"chain": 2, "draw": 100, "feature": 10}
    l1_map = pd.read_csv(folder / "coefficients.csv", index_col=0).bayesreg_l1.iloc[:-1]
    counts = sparsity_summary(compare_map_posterior(idata, l1_map.to_numpy()))
    # the Laplace MAP has exact zeros (a posterior mean of continuous draws never has: that count is
    # checked only as the sentence below states it)
    assert counts["map_zeros"] > 0
    zeros = ", ".join(l1_map.index[l1_map == 0])
    for text in (
        f"The Laplace MAP has {counts['map_zeros']} exact zeros ({zeros})",
        f"the posterior mean has {counts['posterior_mean_zeros']} and the posterior median "
        f"{counts['posterior_median_zeros']}",
        f"{counts['hdi_contains_zero']} of {counts['n_features']} 94% HDIs contain 0",
    ):
        assert text in page and text in stdout, text
    for title in (
        "diagnostics first",
        "What the MAP leaves out",
        "Prior against posterior",
        "held-out coverage",
    ):
        assert title in page
    report = check_diagnostics(idata, warn=False)
    assert f"{report.max_rhat:.4f}" in page and f"{report.min_ess_bulk:.0f}" in page
    assert re.search(r"cover <b>\d+\.\d%</b> of the other 89 targets \(nominal 90%", page)
    assert "held-out coverage:" in stdout


# ---------------------------------------------------------------------------------------------------
# bayesreg path

# what `path` refuses on its own, and a sample of what it refuses through the code `fit` uses too
PATH_BAD_INPUTS = {
    "alphas text": (GOOD, ["--alphas", "0.1,abc"], "alphas must be a comma-separated list of positive"),
    "alphas negative": (GOOD, ["--alphas=1,-0.5"], "got '1,-0.5'"),
    "alphas empty item": (GOOD, ["--alphas", "1,,0.1"], "got '1,,0.1'"),
    "n-alphas zero": (GOOD, ["--n-alphas", "0"], "n-alphas must be at least 1, got '0'"),
    "eps one": (GOOD, ["--eps", "1"], "eps must lie strictly between 0 and 1, got '1'"),
    "eps zero": (GOOD, ["--eps", "0"], "eps must lie strictly between 0 and 1, got '0'"),
    "eps text": (GOOD, ["--eps", "small"], "eps must be a number in (0, 1), got 'small'"),
    "alphas and n-alphas": (
        GOOD,
        ["--alphas", "1,0.1", "--n-alphas", "5"],
        "--n-alphas applies without --alphas",
    ),
    "gaussian without alphas": (GOOD, ["--prior", "gaussian"], "--prior gaussian needs --alphas"),
    "book without sigma": (
        GOOD,
        ["--convention", "book"],
        "--convention book with --family gaussian needs --sigma",
    ),
    "NUTS option without posterior": (
        GOOD,
        ["--num-chains", "2"],
        "--num-chains applies to --posterior only",
    ),
    "no draws": (GOOD, ["--posterior", "--num-samples", "0"], "num-samples must be at least 1, got '0'"),
    "mass matrix without posterior": (
        GOOD,
        ["--mass-matrix", "diagonal"],
        "--mass-matrix applies to --posterior only",
    ),
    "sparsity prior": (GOOD, ["--prior", "horseshoe"], "--prior horseshoe has no penalty path"),
    **{
        name: BAD_INPUTS[name]
        for name in (
            "missing file",
            "NaN",
            "text column",
            "NaN target",
            "single row",
            "non-binary target",
            "l1-ratio without elastic net",
            "sigma with bernoulli",
            "unknown prior",
        )
    },
}


@pytest.mark.parametrize("case", list(PATH_BAD_INPUTS))
def test_path_bad_input_refused_in_one_line(case, tmp_path, out, capsys):
    build, args, match = PATH_BAD_INPUTS[case]
    line = _refused(capsys, ["path", build(tmp_path), *args, "--target", "y", "--out", str(out)], match)
    assert line.startswith("bayesreg path: error: ")
    assert _untouched(out)


def test_path_help(capsys):
    assert main(["path", "--help"]) == 0
    text = capsys.readouterr().out
    for needle in ("path.csv", "path.png", "alpha_max", "--posterior", "--alphas", "--no-intercept"):
        assert needle in text, needle


def _lasso_path_reference(X, y, alphas):
    """scikit-learn's lasso_path on centred data (the intercept is unpenalised), tight tolerance."""
    from sklearn.linear_model import lasso_path

    Xc, yc = X - X.mean(axis=0), y - y.mean()
    _, coefs, _ = lasso_path(Xc, yc, alphas=alphas, tol=1e-12, max_iter=10**6, precompute=False)
    return coefs.T  # (n_alphas, p)


def _assert_lasso_path(coefs, X, y, alphas, label):
    from bayesreg.path import alpha_max

    """Each weight of a written MAP path against scikit-learn's lasso_path, polished and certified per
    α (`references.assert_map_equal`; path.csv has no intercept, so only the weights). The grid starts
    at alpha_max, where every weight is exactly 0 and the largest gradient sits on the edge of its
    subdifferential by definition: that point is checked to be all zero, the others certified."""
    assert alphas[0] == alpha_max(X, y) and np.all(coefs[0] == 0.0)
    for i, reference in enumerate(sklearn_linear_path(X, y, alphas[1:]), start=1):
        assert_map_equal(coefs[i], 0.0, reference.coef, 0.0, label=f"{label} alpha={alphas[i]:.4g}")


def test_path_writes_the_lasso_path(diabetes_csv, out, capsys):
    from bayesreg.path import alpha_grid

    code = main(["path", str(diabetes_csv), "--target", "progression", "--n-alphas", "30", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    assert sorted(os.listdir(out)) == [KEEP, "path.csv", "path.png"]  # no temporary files left
    assert (out / KEEP).read_text() == KEEP_TEXT
    assert (out / "path.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = pd.read_csv(out / "path.csv")
    assert list(written.columns) == ["alpha", "feature", "map"]
    data = pd.read_csv(diabetes_csv)
    X, y = data.drop(columns="progression").to_numpy(float), data.progression.to_numpy(float)
    names = list(data.columns[:-1])
    alphas = alpha_grid(X, y, n_alphas=30)
    np.testing.assert_array_equal(written.alpha.to_numpy(), np.repeat(alphas, 10))
    assert list(written.feature) == names * 30
    coefs = written["map"].to_numpy().reshape(30, 10)
    reference = _lasso_path_reference(X, y, alphas)
    np.testing.assert_allclose(coefs, reference, rtol=0, atol=1e-6 * np.abs(reference).max())
    assert np.all(coefs[0] == 0)
    _assert_lasso_path(coefs, X, y, alphas, "path.csv")
    assert "grid: 30 alphas from alpha_max" in captured.out
    assert "MAP converged at 30 of 30" in captured.out
    first_row = next(line for line in captured.out.splitlines() if line.startswith(f"{alphas[0]:.4g} "))
    assert first_row.split()[-1] == "0"  # no non-zero weight at alpha_max


def test_path_given_alphas_without_intercept(diabetes_csv, out, capsys):
    from bayesreg.path import map_path

    argv = ["path", str(diabetes_csv), "--target", "progression", "--alphas", "0.01,1,0.1", "--no-intercept"]
    code = main([*argv, "--prior", "elasticnet", "--l1-ratio", "0.3", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    written = pd.read_csv(out / "path.csv")
    np.testing.assert_array_equal(written.alpha.to_numpy(), np.repeat([0.01, 1.0, 0.1], 10))  # order kept
    data = pd.read_csv(diabetes_csv)
    X, y = data.drop(columns="progression").to_numpy(float), data.progression.to_numpy(float)
    expected = map_path(X, y, [0.01, 1.0, 0.1], prior="elasticnet", l1_ratio=0.3, fit_intercept=False)
    np.testing.assert_array_equal(written["map"].to_numpy().reshape(3, 10), expected.coefs + 0.0)
    assert "elastic net (l1_ratio = 0.3) path" in captured.out and "3 alphas given" in captured.out


@pytest.fixture(scope="module")
def path_posterior_run(diabetes_csv, tmp_path_factory, cache_home):
    """``path --posterior`` with the demo's path settings (one compiled sampler in the session)."""
    from bayesreg.demo import PATH_SETTINGS

    folder = tmp_path_factory.mktemp("path_posterior")
    (folder / KEEP).write_text(KEEP_TEXT)
    settings = [f"--{k.replace('_', '-')}={v}" for k, v in PATH_SETTINGS.items()]
    argv = ["path", str(diabetes_csv), "--target", "progression", "--posterior", *settings, "--seed", "0"]
    code, stdout, stderr = _run([*argv, "--out", str(folder)])
    return {"code": code, "folder": folder, "out": stdout, "err": stderr, "settings": PATH_SETTINGS}


def test_path_posterior_writes_what_posterior_path_computes(path_posterior_run, diabetes_csv):
    from bayesreg.path import alpha_grid, posterior_path

    run = path_posterior_run
    assert run["code"] == 3, run["err"]  # short chains fail the gate somewhere on the grid
    folder, settings = run["folder"], run["settings"]
    assert sorted(os.listdir(folder)) == [KEEP, "path.csv", "path.png"]
    written = pd.read_csv(folder / "path.csv")
    assert list(written.columns) == POSTERIOR_PATH_COLUMNS
    n_alphas = settings["n_alphas"]
    assert len(written) == n_alphas * 10
    data = pd.read_csv(diabetes_csv)
    X, y = data.drop(columns="progression").to_numpy(float), data.progression.to_numpy(float)
    alphas = alpha_grid(X, y, n_alphas=n_alphas)
    nuts = {k: v for k, v in settings.items() if k != "n_alphas"}
    expected = posterior_path(X, y, alphas, seed=0, progress_bar=False, **nuts)  # the same draws
    for column in ("median", "hdi_low", "hdi_high", "r_hat", "ess_bulk"):
        np.testing.assert_array_equal(written[column].to_numpy(), getattr(expected, column).ravel() + 0.0)
    np.testing.assert_array_equal(written["map"].to_numpy(), expected.map.coefs.ravel() + 0.0)
    # the gate of each alpha, on each of its rows: the path's worst R-hat and ESS, its divergences,
    # and check_path_diagnostics' verdict
    from bayesreg.diagnostics import check_path_diagnostics

    for column in ("max_r_hat", "min_ess_bulk", "divergences"):
        np.testing.assert_array_equal(written[column].to_numpy(), np.repeat(getattr(expected, column), 10))
    ok = check_path_diagnostics(expected, warn=False).ok
    assert written["ok"].tolist() == np.repeat(ok, 10).tolist() and not ok.all()
    failing = ~ok
    assert (
        (expected.max_r_hat[failing] > 1.01)
        | (expected.min_ess_bulk[failing] < 400)
        | (expected.divergences[failing] > 0)
    ).all()
    # the MAP is the lasso path; where it is exactly 0 the posterior puts mass on both sides of 0
    reference = _lasso_path_reference(X, y, alphas)
    np.testing.assert_allclose(written["map"].to_numpy().reshape(n_alphas, 10), reference, rtol=0, atol=1e-4)
    _assert_lasso_path(written["map"].to_numpy().reshape(n_alphas, 10), X, y, alphas, "path --posterior")
    zero = written["map"] == 0
    assert zero.sum() >= 10
    assert ((written.hdi_low[zero] < 0) & (written.hdi_high[zero] > 0)).all()


def test_path_posterior_prints_summary_and_one_line_warnings(path_posterior_run):
    run = path_posterior_run
    s = run["settings"]
    assert (
        f"posterior: NUTS at every alpha, {s['num_chains']} chains x ({s['num_warmup']} warmup + "
        f"{s['num_samples']} draws), seed 0" in run["out"]
    )
    assert "94% HDIs without 0" in run["out"] and "max R-hat" in run["out"]
    lines = run["err"].strip().splitlines()
    assert "Traceback" not in run["err"] and "PosteriorWarning" not in run["err"]
    assert lines, "200 draws per chain must fall short of bulk ESS 400 somewhere on the grid"
    *warned, last = lines
    assert all(line.startswith("bayesreg path: warning: ") for line in warned), lines
    assert any("bulk ESS as low as" in line and "try: raise --num-samples" in line for line in warned)
    assert last.startswith("bayesreg path: diagnostics failed: every file was written and marked")
    assert "gate passed at" in run["out"] and " NO" in run["out"]


def test_demo_report_has_the_path(demo):
    """The path sentence's numbers are those of the path.csv the demo wrote (recomputed here)."""
    from bayesreg.demo import PATH_SETTINGS

    _, folder, stdout = demo
    page = (folder / "report.html").read_text()
    table = pd.read_csv(folder / "path.csv")
    assert list(table.columns) == POSTERIOR_PATH_COLUMNS
    names = list(load_diabetes(as_frame=True).data.columns)
    n_alphas = PATH_SETTINGS["n_alphas"]
    assert len(table) == n_alphas * len(names) and list(table.feature[: len(names)]) == names
    zeros = (table["map"] == 0).to_numpy().reshape(n_alphas, -1)
    width = (table.hdi_high - table.hdi_low).to_numpy().reshape(n_alphas, -1)
    alphas = table.alpha.to_numpy()[:: len(names)]
    counts = zeros.sum(axis=1)
    # the strongest penalty with the most exact zeros short of all of them
    i = max((k for k in range(n_alphas) if 0 < counts[k] < len(names)), key=lambda k: (counts[k], -k))
    w = width[i, zeros[i]]
    zeroed = ", ".join(n for n, z in zip(names, zeros[i], strict=True) if z)
    expected = (
        f"At α = {alphas[i]:.3g} the MAP has {counts[i]} of {len(names)} coefficients exactly 0 ({zeroed}), "
        f"while the 94% HDIs of those {counts[i]} still have widths from {w.min():.3g} to {w.max():.3g} "
        f"(median {np.median(w):.3g}). Over the {n_alphas} α of the grid the MAP is exactly 0 in "
        f"{zeros.sum()} of {zeros.size} (α, coefficient) pairs, the posterior median in "
        f"{int((table['median'] == 0).sum())}."
    )
    assert expected in page and expected in stdout
    assert "The regularisation path: where the MAP is 0 and the posterior is not" in page
    assert zeros.sum() > 0


def test_saved_row_index_dropped_with_a_note(tmp_path, out, capsys):
    data = tmp_path / "indexed.csv"
    _good_frame(8).to_csv(data)  # with pandas' index, under an empty header
    # alpha below alpha_max (about 0.3 here), so that the note is the only line
    assert main(["fit", str(data), "--target", "y", "--alpha", "0.01", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "bayesreg fit: note: dropped column 'Unnamed: 0' (a saved row index 0..n-1)"
    ]
    features = pd.read_csv(out / "coefficients.csv")["feature"].tolist()
    assert features == ["a", "b", "intercept"]


def test_spaces_around_names_stripped_with_a_note(tmp_path, out, capsys):
    data = _write(tmp_path, "spaced.csv", frame=_good_frame(8).rename(columns={"a": " a", "y": "y "}))
    assert main(["path", data, "--target", "y", "--n-alphas", "5", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "bayesreg path: note: stripped spaces from column names: ' a' -> 'a', 'y ' -> 'y'"
    ]
    assert set(pd.read_csv(out / "path.csv")["feature"]) == {"a", "b"}


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_files_are_read(tmp_path, out, capsys, sep):
    frame = _good_frame(8)
    data = tmp_path / "data.csv"
    frame.to_csv(data, sep=sep, index=False)
    for command in (["fit", "--alpha", "0.01"], ["path", "--n-alphas", "5"]):  # alpha < alpha_max
        assert main([*command, str(data), "--target", "y", "--out", str(out)]) == 0
        assert capsys.readouterr().err == ""
    assert pd.read_csv(out / "coefficients.csv")["feature"].tolist() == ["a", "b", "intercept"]
    assert (
        main(["fit", str(data), "--target", "y", "--sep", "tab" if sep == "\t" else sep, "--out", str(out)])
        == 0
    )


def test_drop_constant_drops_them_with_a_note(tmp_path, out, capsys):
    data = _write(tmp_path, "data.csv", frame=_good_frame(8).assign(c=1.0))
    for command in (["fit", "--alpha", "0.01"], ["path", "--n-alphas", "5"]):  # alpha < alpha_max
        assert main([*command, data, "--target", "y", "--drop-constant", "--out", str(out)]) == 0
        name = command[0]
        assert capsys.readouterr().err.splitlines() == [
            f"bayesreg {name}: note: dropped constant columns: 'c' (one value in every row)"
        ]
    assert pd.read_csv(out / "coefficients.csv")["feature"].tolist() == ["a", "b", "intercept"]
    assert set(pd.read_csv(out / "path.csv")["feature"]) == {"a", "b"}


def test_fit_no_intercept_is_the_estimators_fit_intercept_false(tmp_path, out, capsys):
    from bayesreg.estimators import BayesianLinearRegression

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X = X + 0.05  # not centred, so the fit without an intercept differs from the fit with one
    data = _write(tmp_path, "shifted.csv", frame=X.assign(progression=y))
    assert (
        main(["fit", data, "--target", "progression", "--alpha", "0.1", "--no-intercept", "--out", str(out)])
        == 0
    )
    table = capsys.readouterr().out.split("\n\n")[1]
    assert "bmi" in table and "intercept" not in table
    written = pd.read_csv(out / "coefficients.csv")
    assert written["feature"].tolist() == list(X.columns)
    expected = BayesianLinearRegression(prior="laplace", alpha=0.1, fit_intercept=False).fit(X, y)
    with_intercept = BayesianLinearRegression(prior="laplace", alpha=0.1).fit(X, y)
    np.testing.assert_allclose(written["coefficient"], expected.map_.params["coef"], rtol=1e-6, atol=1e-9)
    assert np.abs(written["coefficient"] - with_intercept.map_.params["coef"]).max() > 1.0


# ---------------------------------------------------------------------------------------------------
# the diagnostics gate: exit status 3 and the marks in every file; warnings that name existing flags


def test_demo_report_has_a_gate_banner_when_a_run_failed(demo):
    """The demo's short chains fail the gate: the report opens with the banner (before the contents),
    naming what failed and the demo's own options to try."""
    _, folder, _ = demo
    page = (folder / "report.html").read_text()
    assert page.index('<div class="gate"') < page.index("<ol>")
    banner = page[page.index('<div class="gate"') : page.index("</div>")]
    assert "Diagnostics failed: these posterior results are not to be trusted" in banner
    assert "ESS as low as" in banner and "raise --num-samples" in banner
    assert "num_samples" not in banner  # the command's flags, not the Python names


@pytest.fixture(scope="module")
def passing_run(diabetes_csv, tmp_path_factory, cache_home):
    """``fit --method nuts`` with the default NUTS settings (4 x (500 + 1000)): the gate passes."""
    folder = tmp_path_factory.mktemp("passing")
    argv = ["fit", str(diabetes_csv), "--target", "progression", "--alpha", "0.1", "--method", "nuts"]
    code, stdout, stderr = _run([*argv, "--seed", "1", "--out", str(folder)])
    return {"code": code, "folder": folder, "out": stdout, "err": stderr}


def test_a_passing_run_exits_0_with_ok_everywhere(passing_run):
    from bayesreg.defaults import THRESHOLDS

    assert passing_run["code"] == 0, passing_run["err"]
    assert passing_run["err"] == ""
    written = pd.read_csv(passing_run["folder"] / "coefficients.csv")
    assert list(written.columns) == ["feature", "coefficient", *POSTERIOR_COLUMNS]
    assert written["ok"].all() and (written["divergences"] == 0).all()
    assert (written["r_hat"] <= THRESHOLDS.rhat_max).all()
    assert (written[["ess_bulk", "ess_tail"]] >= THRESHOLDS.ess_min).all().all()
    assert "; gate passed" in passing_run["out"]
    assert " NO" not in passing_run["out"]


def test_one_chain_exits_3_and_says_r_hat_needs_two(diabetes_csv, tmp_path, cache_home):
    argv = ["fit", str(diabetes_csv), "--target", "progression", "--method", "nuts", "--seed", "2"]
    code, _, stderr = _run([*argv, *NUTS[:4], "--num-chains", "1", "--out", str(tmp_path)])
    assert code == 3, stderr
    assert (
        "bayesreg fit: warning: 1 chain: R-hat compares chains and needs at least 2, so convergence "
        "cannot be checked; try: raise --num-chains" in stderr.splitlines()
    )
    assert "arviz" not in stderr.lower()  # ArviZ's own log line is held back
    written = pd.read_csv(tmp_path / "coefficients.csv")
    assert written["r_hat"].isna().all() and not written["ok"].any()


def _cli_flags() -> set[str]:
    """Every option string of every subcommand, read from the parser."""
    from bayesreg.cli import _parser

    parser = _parser()
    commands = [["fit", "d.csv", "--target", "y"], ["path", "d.csv", "--target", "y", "--out", "o"]]
    commands.append(["demo", "--out", "o"])
    commands.append(["compare", "d.csv", "--target", "y", "--priors", "laplace", "--out", "o"])
    return set().union(*(parser.parse_args(argv).flags.values() for argv in commands))


def test_every_flag_a_warning_names_exists(nuts_run, path_posterior_run, demo):
    """The flags in the warnings of the failing runs exist in the parser; and every remedy the
    library's diagnostics can name renders only as a flag the parser has."""
    from bayesreg.cli import _parser
    from bayesreg.diagnostics import Problem, Remedy

    flags = _cli_flags()
    named = set()
    for err in (nuts_run["err"], path_posterior_run["err"]):
        named |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", err))
    assert named and named <= flags, named - flags
    settings = ["num_warmup", "num_samples", "num_chains", "target_accept", "max_tree_depth"]
    settings += ["laplace_parametrisation", "mass_matrix", "standardize"]
    problem = Problem("x", [Remedy(name) for name in settings])
    fit_flags = _parser().parse_args(["fit", "d.csv", "--target", "y"]).flags
    rendered = problem.describe(fit_flags)
    assert set(re.findall(r"--[a-z][a-z-]*", rendered)) <= flags
    assert "raise --num-warmup" in rendered and "raise --num-chains" in rendered
    assert "--parametrisation" in rendered  # the flag of laplace_parametrisation
    assert "--standardize" in rendered


def test_parametrisation_option(diabetes_csv, tmp_path, cache_home, capsys):
    """--parametrisation mixture is the estimators' laplace_parametrisation: printed, and the scale
    mixture's sites are in posterior.nc; without --method nuts it is refused in one line."""
    az = pytest.importorskip("arviz")
    argv = ["fit", str(diabetes_csv), "--target", "progression", "--alpha", "0.1"]
    code, stdout, stderr = _run(
        [
            *argv,
            "--method",
            "nuts",
            *NUTS,
            "--seed",
            "3",
            "--parametrisation",
            "mixture",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 3, stderr
    assert "(Laplace prior as a normal-exponential scale mixture)" in stdout
    assert "coef_std" in az.from_netcdf(tmp_path / "posterior.nc").posterior
    _refused(
        capsys, [*argv, "--parametrisation", "direct"], "--parametrisation applies to --method nuts only"
    )


def test_fit_map_without_out_prints_and_writes_nothing(diabetes_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["fit", str(diabetes_csv), "--target", "progression", "--alpha", "0.1"])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""
    assert "intercept" in captured.out and "wrote" not in captured.out
    assert os.listdir(tmp_path) == []
    argv = ["fit", str(diabetes_csv), "--target", "progression", "--method", "nuts"]
    _refused(capsys, argv, "--method nuts needs --out DIR")


def test_alpha_above_alpha_max_is_named(diabetes_csv, out, capsys):
    """--alpha 1e12: every MAP weight is 0 (as Lasso's), and both the warning and the printed
    output say that alpha is above alpha_max (bayesreg.path.alpha_max, checked against the lasso:
    just below it one weight is non-zero)."""
    from bayesreg.path import alpha_max

    X, y = load_diabetes(return_X_y=True)
    largest = alpha_max(X, y)
    exact = {"tol": 1e-12, "max_iter": 100_000}
    assert (Lasso(alpha=largest * 0.99, **exact).fit(X, y).coef_ != 0).sum() == 1
    assert (Lasso(alpha=largest * 1.01, **exact).fit(X, y).coef_ == 0).all()
    code = main(["fit", str(diabetes_csv), "--target", "progression", "--alpha", "1e12", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err.splitlines() == [
        f"bayesreg fit: warning: --alpha 1e+12 is at or above alpha_max = {largest:.4g}, the smallest alpha "
        "at which every MAP weight is exactly 0: the prior swamps the data; lower --alpha (bayesreg path "
        "shows the weights from alpha_max down)"
    ]
    assert f"alpha 1e+12 >= alpha_max = {largest:.4g}: the prior swamps the data" in captured.out
    code = main(["fit", str(diabetes_csv), "--target", "progression", "--alpha", f"{largest * 0.99!r}"])
    assert code == 0 and "alpha_max" not in capsys.readouterr().err


def _indexed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as pandas saves it with its index: an unnamed first column 0..n-1 (read_csv notes it)."""
    return frame.reset_index().rename(columns={"index": "Unnamed: 0"})


@pytest.mark.parametrize(
    "command, frame, args, match",
    [
        ("fit", _good_frame().assign(intercept=1.5 + np.arange(6)), [], "named 'intercept'"),
        ("fit", _good_frame().assign(y=[0.0, 1, 2, 0, 1, 2]), ["--family", "bernoulli"], "2 classes"),
        ("fit", _good_frame().assign(y=list("aabbab")), [], "'a' is not a number"),
        ("fit", _good_frame().assign(b=1.0), [], "constant"),
        ("fit", _good_frame().assign(y=4.0), [], "target 'y' is constant"),
        ("fit", _good_frame().head(1), [], "sample"),
        ("path", _good_frame().assign(y=4.0), [], "target 'y' is constant"),
        ("path", _good_frame().assign(b=1.0), [], "constant"),
        ("path", _good_frame().assign(y=[0.0, 1, 2, 0, 1, 2]), ["--family", "bernoulli"], "2 classes"),
        ("path", _good_frame(), ["--prior", "gaussian"], "--prior gaussian needs --alphas"),
    ],
)
def test_a_refusal_after_a_read_note_is_one_line(command, frame, args, match, tmp_path, out, capsys):
    """A file whose saved index is dropped (a note) and that is then refused: stderr is the one line
    of the refusal, exit status 2, nothing written."""
    data = _write(tmp_path, "indexed.csv", frame=_indexed(frame))
    line = _refused(capsys, [command, data, "--target", "y", *args, "--out", str(out)], match)
    assert "note:" not in line
    assert _untouched(out)


# ---------------------------------------------------------------------------------------------------
# --standardize


@pytest.fixture(scope="module")
def unscaled_csv(tmp_path_factory):
    """Diabetes as users load it, unscaled (column sds 0.5 to 35), target ``progression``."""
    X, y = load_diabetes(return_X_y=True, as_frame=True, scaled=False)
    path = tmp_path_factory.mktemp("unscaled") / "diabetes_unscaled.csv"
    X.assign(progression=y).to_csv(path, index=False)
    return path


def _unscaled(path) -> tuple[pd.DataFrame, np.ndarray]:
    data = pd.read_csv(path)
    return data.drop(columns="progression"), data.progression.to_numpy(float)


def test_fit_standardize_writes_the_original_columns(unscaled_csv, out, capsys):
    """``fit --standardize``: coefficients.csv and the table are the estimator's with
    ``standardize=True`` (which tests/test_scaling.py checks against the StandardScaler pipeline), on
    the original columns; the prior line names the standardised columns; model.json keeps the
    scaling."""
    import bayesreg
    from bayesreg import BayesianLinearRegression

    argv = ["fit", str(unscaled_csv), "--target", "progression", "--alpha", "0.5", "--standardize"]
    code = main([*argv, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == "", captured.err
    X, y = _unscaled(unscaled_csv)
    est = BayesianLinearRegression(alpha=0.5, standardize=True).fit(X, y)
    written = pd.read_csv(out / "coefficients.csv")
    np.testing.assert_array_equal(written.coefficient.to_numpy(), np.append(est.coef_, est.intercept_) + 0.0)
    assert (written.coefficient == 0).any()
    assert "laplace prior, alpha = 0.5 (sklearn convention): weights of the standardized columns ~" in (
        captured.out
    )
    assert bayesreg.load(out).scaling_.scale.tobytes() == est.scaling_.scale.tobytes()
    # without the flag, the raw columns' Lasso: another answer
    assert main([*argv[:-1], "--out", str(out)]) == 0
    capsys.readouterr()
    assert not np.allclose(pd.read_csv(out / "coefficients.csv").coefficient, written.coefficient)


def test_fit_standardize_nuts_keeps_the_standardized_draws(unscaled_csv, tmp_path, cache_home):
    az = pytest.importorskip("arviz")
    argv = ["fit", str(unscaled_csv), "--target", "progression", "--alpha", "0.5", "--method", "nuts"]
    code, stdout, stderr = _run([*argv, "--standardize", *NUTS, "--seed", "3", "--out", str(tmp_path)])
    assert code == 3 and "Traceback" not in stderr, stderr  # 200 draws: ESS < 400, the gate fails
    assert "--standardize" not in stderr  # it is on: no warning suggests it
    assert "weights of the standardized columns ~" in stdout
    idata = az.from_netcdf(tmp_path / "posterior.nc")
    posterior = idata.posterior
    scale = StandardScaler().fit(_unscaled(unscaled_csv)[0]).scale_
    np.testing.assert_allclose(posterior["coef"], posterior["coef_standardized"] / scale, rtol=1e-12)
    written = pd.read_csv(tmp_path / "coefficients.csv")
    means = np.append(posterior["coef"].mean(("chain", "draw")), float(posterior["intercept"].mean()))
    np.testing.assert_allclose(written["mean"], means, rtol=1e-12)
    # the MAP column: the MAP fit's with --standardize
    code, _, _ = _run([*argv[:-2], "--standardize", "--out", str(tmp_path / "map")])
    assert code == 0
    mode = pd.read_csv(tmp_path / "map" / "coefficients.csv").coefficient
    np.testing.assert_allclose(written.coefficient, mode, rtol=1e-9, atol=1e-12)


def test_path_standardize_is_map_path_standardized(unscaled_csv, out, capsys):
    from bayesreg.path import alpha_grid, map_path

    argv = ["path", str(unscaled_csv), "--target", "progression", "--n-alphas", "20", "--standardize"]
    code = main([*argv, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == "", captured.err
    X, y = _unscaled(unscaled_csv)
    alphas = alpha_grid(X, y, n_alphas=20, standardize=True)
    expected = map_path(X, y, alphas, standardize=True)
    written = pd.read_csv(out / "path.csv")
    np.testing.assert_array_equal(written.alpha.to_numpy(), np.repeat(alphas, 10))
    np.testing.assert_array_equal(written["map"].to_numpy(), expected.coefs.ravel() + 0.0)
    assert "(prior on the standardized columns; coefficients on the original ones)" in captured.out


def test_path_posterior_standardize_is_posterior_path_standardized(unscaled_csv, tmp_path, cache_home):
    """``path --posterior --standardize`` with the demo's path settings (the session's compiled
    sampler): path.csv is `posterior_path(..., standardize=True)`'s, same seed."""
    from bayesreg.demo import PATH_SETTINGS
    from bayesreg.path import alpha_grid, posterior_path

    settings = [f"--{k.replace('_', '-')}={v}" for k, v in PATH_SETTINGS.items()]
    argv = ["path", str(unscaled_csv), "--target", "progression", "--posterior", "--standardize"]
    code, _, stderr = _run([*argv, *settings, "--seed", "0", "--out", str(tmp_path)])
    assert code == 3 and "Traceback" not in stderr, stderr  # short chains fail the gate somewhere
    X, y = _unscaled(unscaled_csv)
    alphas = alpha_grid(X, y, n_alphas=PATH_SETTINGS["n_alphas"], standardize=True)
    nuts = {k: v for k, v in PATH_SETTINGS.items() if k != "n_alphas"}
    expected = posterior_path(X, y, alphas, standardize=True, seed=0, progress_bar=False, **nuts)
    written = pd.read_csv(tmp_path / "path.csv")
    for column in ("median", "hdi_low", "hdi_high", "r_hat"):
        np.testing.assert_array_equal(written[column].to_numpy(), getattr(expected, column).ravel() + 0.0)
    np.testing.assert_array_equal(written["map"].to_numpy(), expected.map.coefs.ravel() + 0.0)


def test_fit_standardize_alpha_max_is_the_standardized_columns(unscaled_csv, out, capsys):
    """The warning of an --alpha that swamps the data names the alpha_max of the columns the prior is
    on: with --standardize, the standardised ones (StandardScaler's; the lasso is all zeros from there)."""
    from bayesreg.path import alpha_max

    X, y = _unscaled(unscaled_csv)
    largest = alpha_max(X, y, standardize=True)
    Z = StandardScaler().fit_transform(X)
    exact = {"tol": 1e-12, "max_iter": 100_000}
    assert (Lasso(alpha=largest * 0.99, **exact).fit(Z, y).coef_ != 0).sum() == 1
    assert (Lasso(alpha=largest * 1.01, **exact).fit(Z, y).coef_ == 0).all()
    argv = ["fit", str(unscaled_csv), "--target", "progression", "--standardize"]
    assert main([*argv, "--alpha", f"{largest * 1.01!r}", "--out", str(out)]) == 0
    assert f"alpha_max = {largest:.4g}, the smallest alpha" in capsys.readouterr().err
    assert main([*argv, "--alpha", f"{largest * 0.99!r}"]) == 0
    assert "alpha_max" not in capsys.readouterr().err


def test_save_log_likelihood_option(diabetes_csv, nuts_run, tmp_path, cache_home, capsys):
    """By default posterior.nc holds PSIS-LOO per row (group 'loo', one number per row and field) and
    no n x draws log-likelihood; --save-log-likelihood keeps that too, and az.loo on it is what
    bayesreg.loo.loo reads from the default file (the same seed: the same draws). Without --method
    nuts the option is refused in one line."""
    az = pytest.importorskip("arviz")
    from bayesreg.loo import LOO_GROUP, loo

    default = az.from_netcdf(nuts_run["folder"] / "posterior.nc")
    assert "log_likelihood" not in default.groups() and LOO_GROUP in default.groups()
    argv = ["fit", str(diabetes_csv), "--target", "progression", "--alpha", "0.1"]
    code, _, stderr = _run(
        [*argv, "--method", "nuts", *NUTS, "--seed", "3", "--save-log-likelihood", "--out", str(tmp_path)]
    )
    assert code == nuts_run["code"], stderr
    kept = az.from_netcdf(tmp_path / "posterior.nc")
    assert kept.log_likelihood["y"].shape == (
        *kept.posterior["coef"].shape[:2],
        default[LOO_GROUP]["elpd_loo"].size,
    )
    np.testing.assert_array_equal(kept.posterior["coef"], default.posterior["coef"])
    np.testing.assert_allclose(loo(default).loo_i, az.loo(kept, pointwise=True).loo_i, rtol=1e-10)
    _refused(capsys, [*argv, "--save-log-likelihood"], "--save-log-likelihood applies to --method nuts only")


# ---------------------------------------------------------------------------------------------------
# --alpha cv | eb


def test_fit_alpha_cv_is_lassocv(diabetes_csv, out, capsys, tmp_path):
    """``--alpha cv`` prints LassoCV's choice and where it came from, writes every grid point's fold
    scores to alpha.csv, the MAP at that alpha to coefficients.csv, and a model folder that
    ``bayesreg predict`` reads."""
    from sklearn.linear_model import LassoCV

    code = main(["fit", str(diabetes_csv), "--target", "progression", "--alpha", "cv", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    reference = LassoCV(tol=1e-12, max_iter=10**6).fit(X, y)
    table = pd.read_csv(out / "alpha.csv")
    assert list(table.columns) == [
        "alpha",
        "mean_mse",
        "sd_mse",
        *[f"fold_{k}" for k in range(1, 6)],
        "chosen",
    ]
    np.testing.assert_allclose(table.alpha, reference.alphas_, rtol=1e-12)
    np.testing.assert_allclose(table.iloc[:, 3:8], reference.mse_path_, rtol=1e-7)
    (best,) = np.flatnonzero(table.chosen)
    np.testing.assert_allclose(table.alpha[best], reference.alpha_, rtol=1e-12)
    line = f"alpha from 5-fold CV, LassoCV's grid: alpha = {table.alpha[best]:.6g} (index {best} of 100"
    assert line in captured.out
    written = pd.read_csv(out / "coefficients.csv").coefficient.to_numpy()
    certified = sklearn_linear("laplace", X.to_numpy(float), y.to_numpy(float), table.alpha[best])
    assert_map_equal(written[:-1], written[-1], certified.coef, certified.intercept, label="fit --alpha cv")
    loaded = bayesreg.load(out)
    assert loaded.alpha == "cv" and loaded.alpha_ == table.alpha[best]
    new = tmp_path / "new.csv"
    X.iloc[:7].to_csv(new, index=False)
    predictions = tmp_path / "predictions"
    code, _, err = _run(["predict", str(out), str(new), "--out", str(predictions)])
    assert code == 0, err
    predicted = pd.read_csv(predictions / "predictions.csv")
    np.testing.assert_allclose(predicted["mean"], X.iloc[:7] @ written[:-1] + written[-1], rtol=1e-12)


def test_fit_alpha_eb_is_bayesian_ridge(diabetes_csv, out, capsys):
    from sklearn.linear_model import BayesianRidge

    argv = ["fit", str(diabetes_csv), "--target", "progression", "--alpha", "eb", "--prior", "gaussian"]
    code = main([*argv, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    reference = BayesianRidge().fit(X, y)
    table = pd.read_csv(out / "alpha.csv")
    assert list(table.columns) == ["alpha", "mcse", "method"] and len(table) == 1
    np.testing.assert_allclose(table.alpha[0], reference.lambda_ / reference.alpha_, rtol=1e-9)
    assert table.mcse[0] == 0.0
    assert (
        f"alpha from empirical Bayes (BayesianRidge's evidence): alpha = {table.alpha[0]:.6g}" in captured.out
    )
    assert f"noise sd sigma = {reference.alpha_**-0.5:.6g} (empirical Bayes)" in captured.out
    written = pd.read_csv(out / "coefficients.csv").coefficient.to_numpy()
    assert_map_equal(written[:-1], written[-1], reference.coef_, reference.intercept_, label="fit --alpha eb")
