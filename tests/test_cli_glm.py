"""``bayesreg fit|path --family poisson|negative_binomial|student_t``: the MAP of the command line is
the estimator's (and so glum's) on the same file, an exposure or offset column enters as the
estimator's ``offset``, bad counts and exposures are refused in one line naming the column and the
file line, options that do not apply are refused, and one short NUTS run per family writes its files."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from cli_runs import run
from references import assert_map_equal, glum_glm

from bayesreg import (
    BayesianNegativeBinomialRegression,
    BayesianPoissonRegression,
    BayesianStudentTRegression,
    load,
)
from bayesreg.path import map_path

pytestmark = pytest.mark.usefixtures("cache_home")  # the command line's JAX cache in a temporary folder


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """fair (affairs rounded: a count; yrs_married the exposure) and stackloss, as CSV files; fair's
    first 300 rows for the NUTS runs."""
    folder = tmp_path_factory.mktemp("glm")
    fair = sm.datasets.fair.load_pandas().data
    fair["affairs"] = np.round(fair["affairs"])
    fair["log_years"] = np.log(fair["yrs_married"])
    stackloss = sm.datasets.stackloss.load_pandas().data
    paths = {
        "fair": folder / "fair.csv",
        "small": folder / "small.csv",
        "stackloss": folder / "stackloss.csv",
    }
    fair.drop(columns="log_years").to_csv(paths["fair"], index=False)
    fair.iloc[:300].drop(columns="log_years").to_csv(paths["small"], index=False)
    stackloss.to_csv(paths["stackloss"], index=False)
    offset_file = folder / "fair_offset.csv"
    fair.drop(columns="yrs_married").to_csv(offset_file, index=False)
    paths["fair_offset"] = offset_file
    return paths, fair, stackloss


def _coefficients(folder):
    table = pd.read_csv(folder / "coefficients.csv").set_index("feature")["coefficient"]
    return table.drop("intercept").to_numpy(), float(table["intercept"])


def test_fit_exposure_is_the_estimators_offset_and_glum(files, tmp_path):
    paths, fair, _ = files
    code, out, err = run(
        ["fit", str(paths["fair"]), "--target", "affairs", "--family", "poisson", "--exposure", "yrs_married",
         "--alpha", "0.01", "--out", str(tmp_path / "a")]
    )  # fmt: skip
    assert code == 0, err
    assert "poisson likelihood; offset log of exposure column 'yrs_married'" in out
    X = fair.drop(columns=["affairs", "yrs_married", "log_years"])
    y, offset = fair["affairs"].to_numpy(float), fair["log_years"].to_numpy()
    est = BayesianPoissonRegression(alpha=0.01).fit(X, y, offset=offset)
    coef, intercept = _coefficients(tmp_path / "a")
    np.testing.assert_array_equal(coef, est.coef_)
    assert intercept == est.intercept_
    reference = glum_glm("poisson", X.to_numpy(float), y, 0.01, 1.0, offset=offset)
    assert_map_equal(coef, intercept, reference.coef, reference.intercept, label="CLI poisson vs glum")
    loaded = load(tmp_path / "a")
    np.testing.assert_array_equal(loaded.predict(X, offset=offset), est.predict(X, offset=offset))
    # the same model from a log-exposure column (--offset)
    code, out, err = run(
        ["fit", str(paths["fair_offset"]), "--target", "affairs", "--family", "poisson",
         "--offset", "log_years", "--alpha", "0.01", "--out", str(tmp_path / "b")]
    )  # fmt: skip
    assert code == 0, err
    np.testing.assert_allclose(_coefficients(tmp_path / "b")[0], coef, rtol=1e-9, atol=1e-12)


def test_fit_negative_binomial_and_student_t_map(files):
    paths, _, stackloss = files
    code, out, err = run(
        ["fit", str(paths["fair"]), "--target", "affairs", "--family", "negative_binomial",
         "--dispersion", "0.8", "--exposure", "yrs_married", "--alpha", "0.01"]
    )  # fmt: skip
    assert code == 0, err
    assert "dispersion = 0.8 (given)" in out and "glum convention" in out
    code, out, err = run(
        ["fit", str(paths["stackloss"]), "--target", "STACKLOSS", "--family", "student_t", "--df", "3",
         "--sigma", "2", "--alpha", "40"]
    )  # fmt: skip
    assert code == 0, err
    X, y = stackloss.drop(columns="STACKLOSS"), stackloss["STACKLOSS"]
    est = BayesianStudentTRegression(alpha=40.0, df=3.0, sigma=2.0).fit(X, y)
    zeros = int((est.coef_ == 0).sum())
    assert "book convention" in out and f"{zeros} of 3 coefficients are exactly 0" in out
    assert zeros > 0


def test_path_equals_map_path(files, tmp_path):
    paths, fair, _ = files
    code, out, err = run(
        ["path", str(paths["fair"]), "--target", "affairs", "--family", "negative_binomial",
         "--dispersion", "0.8", "--exposure", "yrs_married", "--n-alphas", "4", "--eps", "0.05",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 0, err
    assert "negative_binomial family, glum convention" in out
    table = pd.read_csv(tmp_path / "path.csv")
    X = fair.drop(columns=["affairs", "yrs_married", "log_years"]).to_numpy(float)
    alphas = np.unique(table["alpha"])[::-1]
    path = map_path(
        X, fair["affairs"].to_numpy(float), alphas, family="negative_binomial", convention="glum",
        dispersion=0.8, offset=fair["log_years"].to_numpy(),
    )  # fmt: skip
    np.testing.assert_array_equal(table["map"].to_numpy().reshape(4, -1), path.coefs + 0.0)


def _write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("a,y\n1,2\n2,-1\n3,4\n", ["--family", "poisson"], "line 3, column 'y' (the target): -1 is negative"),
        (
            "a,y\n1,2\n2,1\n3,4.5\n",
            ["--family", "negative_binomial"],
            "line 4, column 'y' (the target): 4.5 is not an integer",
        ),
        (
            "a,t,y\n1,2,2\n2,0,1\n3,1,4\n",
            ["--family", "poisson", "--exposure", "t"],
            "line 3, column 't' (the exposure): 0 is not positive (the offset is log(exposure))",
        ),
        ("a,y\n1,2\n2,1\n3,4\n", ["--family", "poisson", "--exposure", "t"], "exposure column 't' not found"),
        (
            "a,y\n1,2\n2,1\n3,4\n",
            ["--family", "poisson", "--dispersion", "1"],
            "--family negative_binomial only",
        ),
        ("a,y\n1,2\n2,1\n3,4\n", ["--family", "negative_binomial", "--df", "3"], "--family student_t only"),
        ("a,y\n1,2\n2,1\n3,4\n", ["--offset", "a"], "--family poisson and negative_binomial only"),
        (
            "a,y\n1,2\n2,1\n3,4\n",
            ["--family", "poisson", "--sigma", "1"],
            "--family gaussian and student_t only",
        ),
        (
            "a,t,y\n1,1,2\n2,1,1\n3,1,4\n",
            ["--family", "poisson", "--offset", "t", "--exposure", "t"],
            "not both",
        ),
        (
            "a,y\n1,2\n2,1\n3,4\n",
            ["--family", "poisson", "--alpha", "cv"],
            "--alpha cv is for --family gaussian",
        ),
        (
            "a,y\n1,2\n2,1\n3,4\n",
            ["--family", "poisson", "--prior", "r2d2", "--method", "nuts"],
            "--alpha applies to the penalty priors",
        ),
        ("a,y\n1,2\n2,1\n3,4\n", ["--family", "poisson", "--convention", "sklearn"], "L2 penalty only"),
        ("a,y\n1,2\n2,1\n3,4\n", ["--family", "student_t", "--convention", "glum"], "no Student-t objective"),
    ],
)
def test_fit_refuses_in_one_line(tmp_path, text, options, message):
    code, out, err = run(["fit", _write(tmp_path, text), "--target", "y", "--alpha", "0.1", *options])
    assert code == 2, (out, err)
    assert message in err and err.count("\n") == 1, err
    assert out == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--family", "negative_binomial"], "--family negative_binomial needs --dispersion for a path"),
        (["--family", "student_t", "--df", "3"], "--family student_t needs --sigma for a path"),
    ],
)
def test_path_refuses_in_one_line(tmp_path, options, message):
    text = "a,b,y\n1,0,2\n2,1,1\n3,0,4\n4,2,0\n"
    code, out, err = run(
        ["path", _write(tmp_path, text), "--target", "y", "--out", str(tmp_path / "o"), *options]
    )
    assert code == 2, (out, err)
    assert message in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("family", "data", "target", "options"),
    [
        ("poisson", "small", "affairs", ["--exposure", "yrs_married", "--alpha", "0.01"]),
        ("negative_binomial", "small", "affairs", ["--exposure", "yrs_married", "--alpha", "0.01"]),
        ("student_t", "stackloss", "STACKLOSS", ["--alpha", "1", "--df", "4"]),
    ],
)
def test_fit_nuts_writes_the_posterior(files, tmp_path, family, data, target, options):
    """One short NUTS run per family (cheap: 2 chains × (100 + 100)): every file is written, exit 0 or
    3 (the gate may fail on so few draws, which is then said), and the saved model loads with its
    posterior."""
    paths, _, _ = files
    code, out, err = run(
        ["fit", str(paths[data]), "--target", target, "--family", family, *options, "--method", "nuts",
         "--num-warmup", "100", "--num-samples", "100", "--num-chains", "2", "--seed", "1",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert code in (0, 3), err
    assert ("gate passed" in out) == (code == 0)
    assert {"coefficients.csv", "model.json", "posterior.nc"} <= {p.name for p in tmp_path.iterdir()}
    table = pd.read_csv(tmp_path / "coefficients.csv")
    assert {"mean", "sd", "hdi_low", "hdi_high", "r_hat", "ok"} <= set(table.columns)
    loaded = load(tmp_path)
    assert loaded.idata_.posterior.attrs["family"] == family
    assert loaded.idata_.posterior["coef"].shape[:2] == (2, 100)
    if family == "negative_binomial":
        assert isinstance(loaded, BayesianNegativeBinomialRegression)
        assert "dispersion" in loaded.idata_.posterior


# ---------------------------------------------------------------------------------------------------
# bayesreg path --posterior for the count families


def test_path_posterior_counts_is_posterior_path_and_marks_the_gate(files, tmp_path):
    """``path --family poisson --exposure COL --posterior``: path.csv holds `posterior_path`'s numbers
    for the same data, offset, grid and seed (bitwise: the same compiled sampler), the gate columns of
    each alpha; 2 x 100 draws fall short of bulk ESS 400, so every alpha fails the gate: the warning
    lines, path.png written, exit status 3."""
    from bayesreg.diagnostics import check_path_diagnostics
    from bayesreg.path import posterior_path

    paths, fair, _ = files
    nuts = {"num_warmup": 100, "num_samples": 100, "num_chains": 2}
    code, out, err = run(
        ["path", str(paths["small"]), "--target", "affairs", "--family", "poisson", "--exposure",
         "yrs_married", "--alphas", "2,0.4", "--posterior", "--seed", "0",
         *[f"--{k.replace('_', '-')}={v}" for k, v in nuts.items()], "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 3, err
    assert {"path.csv", "path.png"} <= {p.name for p in tmp_path.iterdir()}
    small = fair.iloc[:300]
    X = small.drop(columns=["affairs", "yrs_married", "log_years"]).to_numpy(float)
    expected = posterior_path(
        X, small["affairs"].to_numpy(float), [2.0, 0.4], family="poisson", convention="glum",
        offset=small["log_years"].to_numpy(), seed=0, progress_bar=False, **nuts,
    )  # fmt: skip
    written = pd.read_csv(tmp_path / "path.csv")
    p = X.shape[1]
    for column in ("median", "hdi_low", "hdi_high", "r_hat", "ess_bulk"):
        np.testing.assert_array_equal(written[column].to_numpy(), getattr(expected, column).ravel() + 0.0)
    np.testing.assert_array_equal(written["map"].to_numpy(), expected.map.coefs.ravel() + 0.0)
    for column in ("max_r_hat", "min_ess_bulk", "divergences"):
        np.testing.assert_array_equal(written[column].to_numpy(), np.repeat(getattr(expected, column), p))
    ok = check_path_diagnostics(expected, warn=False).ok
    assert written["ok"].tolist() == np.repeat(ok, p).tolist() and not ok.any()
    assert "poisson family, glum convention" in out and "gate passed at 0 of 2 alphas" in out
    lines = err.strip().splitlines()
    assert any(line.startswith("bayesreg path: warning: ") and "bulk ESS" in line for line in lines), err
    assert lines[-1].startswith("bayesreg path: diagnostics failed")


# ---------------------------------------------------------------------------------------------------
# bayesreg predict with a count model: the new rows' exposure


@pytest.fixture(scope="module")
def count_models(files, tmp_path_factory):
    """Model folders written by ``bayesreg fit``: a Poisson NUTS model with --exposure yrs_married
    (fair's first 300 rows, 2 x (100 + 100)), a negative binomial MAP model with --offset log_years,
    a Poisson MAP model without an offset, and the new rows (fair's rows 300-339) as CSV files."""
    paths, fair, _ = files
    folder = tmp_path_factory.mktemp("count_models")
    fits = {
        "nuts": ["--family", "poisson", "--exposure", "yrs_married", "--method", "nuts",
                 "--num-warmup", "100", "--num-samples", "100", "--num-chains", "2", "--seed", "3"],
        "nb_map": ["--family", "negative_binomial", "--dispersion", "0.8", "--offset", "log_years"],
        "no_offset": ["--family", "poisson"],
    }  # fmt: skip
    data = {"nuts": "small", "nb_map": "fair_offset", "no_offset": "small"}
    codes = {}
    for name, options in fits.items():
        argv = ["fit", str(paths[data[name]]), "--target", "affairs", "--alpha", "0.01", *options]
        codes[name], _, err = run([*argv, "--out", str(folder / name)])
        assert codes[name] in (0, 3), err
    new = fair.iloc[300:340].drop(columns="affairs")
    (folder / "new.csv").write_text(new.to_csv(index=False))
    return {"folder": folder, "codes": codes, "new": new}


def _predict(count_models, model, *options, data="new.csv", out="p"):
    folder = count_models["folder"]
    argv = ["predict", str(folder / model), str(folder / data), *options]
    return run([*argv, *(["--out", str(folder / out)] if out else [])])


def test_predict_counts_at_the_new_rows_exposure(count_models):
    """predictions.csv of a Poisson NUTS model fitted with --exposure yrs_married: the estimator's
    predict (posterior predictive mean and sd) and predict_interval at offset log(yrs_married) of the
    new rows, bitwise; the counts at exposure 1 differ (the offset was read)."""
    new = count_models["new"]
    code, out, err = _predict(count_models, "nuts", out="p_nuts")
    assert code == count_models["codes"]["nuts"], err
    assert "counts at each row's exposure: its exposure from column 'yrs_married'" in out
    model = load(count_models["folder"] / "nuts")
    X, offset = new.drop(columns=["yrs_married", "log_years"]), new["log_years"].to_numpy()
    mean, sd = model.predict(X, offset=offset, return_std=True)
    table = pd.read_csv(count_models["folder"] / "p_nuts" / "predictions.csv")
    assert list(table.columns) == ["mean", "sd", "lower", "upper"]
    np.testing.assert_array_equal(table["mean"], mean)
    np.testing.assert_array_equal(table["sd"], sd)
    np.testing.assert_array_equal(table[["lower", "upper"]], model.predict_interval(X, offset=offset))
    assert not np.allclose(table["mean"], model.predict(X), rtol=1e-3)
    # the log exposure named with --offset: the same numbers up to log(exp(.))'s round-off
    code, _, err = _predict(count_models, "nuts", "--offset", "log_years", out="p_log")
    assert code == count_models["codes"]["nuts"], err
    again = pd.read_csv(count_models["folder"] / "p_log" / "predictions.csv")
    np.testing.assert_allclose(again[["mean", "sd"]], table[["mean", "sd"]], rtol=1e-12)


def test_predict_map_count_model_reads_its_offset_column(count_models):
    """A negative binomial MAP model fitted with --offset log_years: the new rows' log_years column is
    its offset (mean = the estimator's predict, bitwise); the column missing is refused by name."""
    new = count_models["new"]
    code, out, err = _predict(count_models, "nb_map", out="p_nb")
    assert code == 0, err
    model = load(count_models["folder"] / "nb_map")
    X = new.drop(columns=["yrs_married", "log_years"])
    table = pd.read_csv(count_models["folder"] / "p_nb" / "predictions.csv")
    np.testing.assert_array_equal(table["mean"], model.predict(X, offset=new["log_years"].to_numpy()))
    new.drop(columns="log_years").to_csv(count_models["folder"] / "no_log.csv", index=False)
    code, out, err = _predict(count_models, "nb_map", data="no_log.csv", out=None)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "fitted with the offset column 'log_years' (bayesreg fit --offset log_years)" in err


@pytest.mark.parametrize(
    ("model", "options", "edit", "message"),
    [
        ("no_offset", ["--exposure", "yrs_married"], None, "fitted without an offset"),
        ("nuts", ["--exposure", "age"], None, "--exposure 'age' is a feature of the model"),
        ("nuts", ["--exposure", "years"], None, "--exposure 'years': "),
        ("nuts", ["--offset", "log_years", "--exposure", "yrs_married"], None, "not both"),
        (
            "nuts",
            [],
            ("yrs_married", 3, 0.0),
            "line 5, column 'yrs_married' (the exposure): 0 is not positive",
        ),
        ("nuts", ["--offset", "log_years"], ("log_years", 0, np.nan), "line 2, column 'log_years': NaN"),
        ("linear", ["--offset", "age"], None, "BayesianStudentTRegression, which takes no offset"),
    ],
)
def test_predict_offset_refusals(count_models, files, model, options, edit, message):
    folder = count_models["folder"]
    if model == "linear":
        paths = files[0]
        code, _, err = run(["fit", str(paths["stackloss"]), "--target", "STACKLOSS", "--family", "student_t",
                            "--df", "3", "--sigma", "2", "--out", str(folder / "linear")])  # fmt: skip
        assert code == 0, err
    data = "new.csv"
    if edit is not None:
        column, row, value = edit
        new = count_models["new"].copy()
        new.loc[new.index[row], column] = value
        new.to_csv(folder / "edited.csv", index=False)
        data = "edited.csv"
    code, out, err = _predict(count_models, model, *options, data=data, out="refused")
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert message in err
    assert not (folder / "refused").exists()


def test_predict_python_saved_count_model(count_models, tmp_path):
    """A count model saved from Python records no offset column: predict says the counts are at
    exposure 1, and takes --exposure for the rows' exposure."""
    new = count_models["new"]
    X = new.drop(columns=["yrs_married", "log_years"])
    loaded = load(count_models["folder"] / "nb_map")
    loaded.save(tmp_path / "saved")
    (tmp_path / "new.csv").write_text(new.to_csv(index=False))
    code, out, err = run(
        ["predict", str(tmp_path / "saved"), str(tmp_path / "new.csv"), "--out", str(tmp_path / "a")]
    )
    assert code == 0, err
    assert "counts at exposure 1 (offset 0)" in out
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "a" / "predictions.csv")["mean"], loaded.predict(X))
    argv = ["predict", str(tmp_path / "saved"), str(tmp_path / "new.csv"), "--exposure", "yrs_married"]
    code, out, err = run([*argv, "--out", str(tmp_path / "b")])
    assert code == 0, err
    np.testing.assert_allclose(
        pd.read_csv(tmp_path / "b" / "predictions.csv")["mean"],
        loaded.predict(X, offset=new["log_years"].to_numpy()),
        rtol=1e-12,
    )
