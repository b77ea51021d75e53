"""``bayesreg compare``: priors compared by how well they predict, from the command line.

The comparison itself (PSIS-LOO against ArviZ, the K-fold fallback against a hand-written K-fold) is
checked in tests/test_prior_comparison.py; here the command must refuse bad input in one line with
exit status 2 and write exactly `compare_priors`'s table for the same data and settings, with its
figure, exiting 0 or 3 as the diagnostics gate says. Real data as users load them: scikit-learn's
diabetes data, unscaled.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from cli_runs import run
from sklearn.datasets import load_diabetes

from bayesreg.data import read_csv
from bayesreg.prior_comparison import compare_priors

SETTINGS = {"num_warmup": 100, "num_samples": 100, "num_chains": 2, "seed": 1}
PRIORS = ["laplace", "gaussian"]


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    X, y = load_diabetes(return_X_y=True, as_frame=True, scaled=False)
    path = tmp_path_factory.mktemp("compare_data") / "diabetes.csv"
    X.assign(progression=y).to_csv(path, index=False)
    return path


def _argv(csv, *extra):
    return ["compare", str(csv), "--target", "progression", *extra]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--priors", "laplace,cauchy", "--out", "X"],
            "argument --priors: unknown prior 'cauchy'; expected some of gaussian, laplace, elasticnet, "
            "horseshoe, regularized_horseshoe, r2d2",
        ),
        (["--priors", ",", "--out", "X"], "argument --priors: unknown prior none"),
        (
            ["--priors", "laplace", "--family", "poisson", "--out", "X"],
            "argument --family: unknown family 'poisson'; expected one of gaussian, bernoulli",
        ),
        (["--priors", "laplace"], "the following arguments are required: --out"),
        (["--priors", "laplace", "--n-splits", "1", "--out", "X"], "n-splits must be at least 2, got '1'"),
        (["--priors", "laplace", "--kfold", "some", "--out", "X"], "unknown kfold 'some'"),
        (
            ["--priors", "laplace", "--family", "bernoulli", "--alpha", "eb", "--out", "X"],
            "--alpha eb (empirical Bayes) needs --family gaussian",
        ),
    ],
)
def test_refusals_are_one_line_with_exit_2(extra, message, diabetes_csv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run(_argv(diabetes_csv, *extra))
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("bayesreg compare: error: "), stderr
    assert message in stderr
    assert not (tmp_path / "X").exists()  # nothing written


def test_a_real_run_writes_compare_priors_table_and_figure(diabetes_csv, tmp_path, cache_home):
    out = tmp_path / "out"
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in SETTINGS.items()]
    code, stdout, stderr = run(
        _argv(diabetes_csv, "--priors", ",".join(PRIORS), "--kfold", "none", *flags, "--out", str(out))
    )
    assert "Traceback" not in stderr
    X, y, _ = read_csv(str(diabetes_csv), "progression", "gaussian")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = compare_priors(X, y, PRIORS, kfold="none", **SETTINGS).table
    written = pd.read_csv(out / "compare.csv").set_index("prior")
    assert written.index.tolist() == expected.index.tolist()
    for column in ("elpd_loo", "p_loo", "elpd_diff", "weight", "se", "dse", "pareto_k_max"):
        np.testing.assert_array_equal(written[column].to_numpy(float), expected[column].to_numpy(float))
    assert written["elpd_method"].tolist() == ["psis-loo"] * len(PRIORS)
    assert written["diagnostics_ok"].tolist() == expected["diagnostics_ok"].tolist()
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the gate: exit 0 only when every fit passed its diagnostics (2 x 100 draws: ESS < 400, so 3)
    assert code == (0 if expected["diagnostics_ok"].all() else 3), stderr
    assert f"best: {expected.index[0]}" in stdout
