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
            "penalty priors",
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
        (["--family", "poisson", "--posterior"], "--posterior is for --family gaussian and bernoulli"),
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
