"""``bayesreg fit --out`` writes a model folder, ``bayesreg predict`` predicts with it, and the NUTS
settings ``--target-accept`` / ``--max-tree-depth`` reach the sampler.

The NUTS fit is the one of tests/test_cli.py (diabetes, 2 chains x (100 + 100), seed 3), so the
compiled sampler is shared within a test session. Predictions are checked against the loaded
estimator's own methods (bitwise, through the CSV's 17 significant digits) and against what an
estimator fitted in this process predicts.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runs import run as _run
from sklearn.datasets import load_breast_cancer, load_diabetes

import bayesreg
from bayesreg.cli import main
from bayesreg.data import read_csv

KEEP = "keep.txt"
KEEP_TEXT = "a file that was here before\n"
NUTS = ["--num-warmup", "100", "--num-samples", "100", "--num-chains", "2", "--seed", "3"]

# every test with the command line's JAX cache in a temporary folder (conftest.py)
pytestmark = pytest.mark.usefixtures("cache_home")


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The diabetes data as fit reads it, and new rows: the same rows with the feature columns in
    reverse order, an identifier (text) and the target (both ignored by predict)."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    folder = tmp_path_factory.mktemp("data")
    X.assign(progression=y).to_csv(folder / "diabetes.csv", index=False)
    new = X[X.columns[::-1]].assign(id=[f"p{i}" for i in range(len(X))], progression=y)
    new.to_csv(folder / "new.csv", index=False)
    return {"X": X, "y": y, "train": folder / "diabetes.csv", "new": folder / "new.csv", "folder": folder}


@pytest.fixture(scope="module")
def nuts_model(data, tmp_path_factory):
    """``fit --method nuts --out``: a short run (the gate fails: exit 3) into a folder with a file of
    the user's."""
    folder = tmp_path_factory.mktemp("model")
    (folder / KEEP).write_text(KEEP_TEXT)
    argv = ["fit", str(data["train"]), "--target", "progression", "--alpha", "0.1", "--method", "nuts"]
    code, out, err = _run([*argv, *NUTS, "--out", str(folder)])
    return {"code": code, "folder": folder, "out": out, "err": err}


@pytest.fixture(scope="module")
def nuts_predictions(nuts_model, data, tmp_path_factory):
    out = tmp_path_factory.mktemp("predictions")
    code, stdout, stderr = _run(
        ["predict", str(nuts_model["folder"]), str(data["new"]), "--prob", "0.8", "--out", str(out)]
    )
    return {"code": code, "folder": out, "out": stdout, "err": stderr}


def test_fit_out_writes_a_model_folder(nuts_model, data):
    folder = nuts_model["folder"]
    assert nuts_model["code"] == 3, nuts_model["err"]  # short chains: the gate fails, every file written
    assert _listing(folder) == ["coefficients.csv", KEEP, "model.json", "posterior.nc"]  # no temporary files
    assert (folder / KEEP).read_text() == KEEP_TEXT
    assert (
        f"wrote {folder / 'coefficients.csv'}, {folder / 'model.json'}, {folder / 'posterior.nc'}"
        in (nuts_model["out"])
    )
    loaded = bayesreg.load(folder)
    assert isinstance(loaded, bayesreg.BayesianLinearRegression)
    assert loaded.get_params()["num_samples"] == 100 and loaded.get_params()["random_state"] == 3
    assert list(loaded.feature_names_in_) == list(data["X"].columns)
    # the folder's posterior is the one coefficients.csv summarises
    written = pd.read_csv(folder / "coefficients.csv")
    np.testing.assert_allclose(written["mean"].to_numpy()[:-1], loaded.coef_, rtol=1e-15)
    assert not loaded.diagnostics_.ok
    # an estimator fitted in this process with the settings the command line gave, on the data as
    # the command line read them (pandas' CSV parser may move a float by an ulp): the same draws
    X, y, _ = read_csv(data["train"], "progression")
    est = bayesreg.BayesianLinearRegression(
        alpha=0.1, method="nuts", num_warmup=100, num_samples=100, num_chains=2, random_state=3
    ).fit(X, y)
    np.testing.assert_array_equal(
        est.idata_.posterior["coef"].to_numpy(), loaded.idata_.posterior["coef"].to_numpy()
    )
    assert est.predict(X).tobytes() == loaded.predict(X).tobytes()


def test_predict_writes_what_the_loaded_model_predicts(nuts_predictions, nuts_model, data):
    assert nuts_predictions["code"] == 3, nuts_predictions["err"]  # the model failed its gate
    assert _listing(nuts_predictions["folder"]) == ["predictions.csv"]
    written = pd.read_csv(nuts_predictions["folder"] / "predictions.csv")
    assert list(written.columns) == ["mean", "sd", "lower", "upper"]
    loaded = bayesreg.load(nuts_model["folder"])
    X = data["X"]  # the columns in the model's order; new.csv has them reversed
    mean, sd = loaded.predict(X, return_std=True)
    interval = loaded.predict_interval(X, prob=0.8)
    # bitwise: %.17g round-trips every float64
    assert written["mean"].to_numpy().tobytes() == mean.tobytes()
    assert written["sd"].to_numpy().tobytes() == sd.tobytes()
    assert written[["lower", "upper"]].to_numpy().tobytes() == np.ascontiguousarray(interval).tobytes()


def test_predict_prints_a_summary_and_says_the_gate_failed(nuts_predictions, data):
    out, err = nuts_predictions["out"], nuts_predictions["err"]
    assert "BayesianLinearRegression (NUTS posterior, 2 chains x 100 draws): 442 rows of" in out
    assert "central 80% interval" in out
    assert "ignored columns (not features of the model): id, progression" in out
    assert f"wrote {nuts_predictions['folder'] / 'predictions.csv'}" in out
    assert "... (432 more rows)" in out  # the first 10 rows are printed
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayesreg predict: diagnostics failed: "), err
    assert "(exit status 3)" in lines[0]


def test_predict_without_out_prints_and_writes_nothing(nuts_model, data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(["predict", str(nuts_model["folder"]), str(data["new"])])
    assert code == 3
    assert "mean" in out and "lower" in out and "wrote" not in out
    assert _listing(tmp_path) == []


def test_predict_logistic_map_model(tmp_path):
    """A MAP logistic model: the probability of the modelled class and the label, as the loaded
    estimator gives them, with a note that a MAP fit has no uncertainty; exit 0."""
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :8]
    X.assign(diagnosis=np.where(y == 1, "benign", "malignant")).to_csv(tmp_path / "train.csv", index=False)
    X.iloc[:40, ::-1].to_csv(tmp_path / "new.csv")  # with pandas' saved index column
    argv = ["fit", str(tmp_path / "train.csv"), "--target", "diagnosis", "--family", "bernoulli"]
    code, out, err = _run([*argv, "--prior", "gaussian", "--alpha", "0.5", "--out", str(tmp_path / "m")])
    assert code == 0, err
    assert _listing(tmp_path / "m") == ["coefficients.csv", "model.json", "target.txt"]
    code, out, err = _run(["predict", str(tmp_path / "m"), str(tmp_path / "new.csv"), "--out", str(tmp_path)])
    assert code == 0, err
    assert err.splitlines() == [
        "bayesreg predict: note: dropped column 'Unnamed: 0' (a saved row index 0..n-1)",
        "bayesreg predict: note: the model is a MAP fit (a point estimate, without uncertainty): the "
        "probability and label only, no sd or interval; refit with bayesreg fit --method nuts for those",
    ]
    assert "probability of the class 'malignant' (against 'benign') and the predicted label" in out
    written = pd.read_csv(tmp_path / "predictions.csv")
    loaded = bayesreg.load(tmp_path / "m")
    assert list(written.columns) == ["probability", "predicted"]
    assert written["probability"].to_numpy().tobytes() == loaded.predict_proba(X.iloc[:40])[:, 1].tobytes()
    assert written["predicted"].tolist() == loaded.predict(X.iloc[:40]).tolist()


def _refused(argv, match) -> str:
    code, out, err = _run(argv)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err and out == ""
    assert match in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / KEEP).write_text(KEEP_TEXT)
    return folder


def _damaged(nuts_model, tmp_path, damage) -> str:
    copy = tmp_path / "model"
    shutil.copytree(nuts_model["folder"], copy)
    damage(copy)
    return str(copy)


def _new_rows(data, tmp_path, change) -> str:
    frame = pd.read_csv(data["new"]).astype({"bmi": object})
    path = tmp_path / "rows.csv"
    change(frame).to_csv(path, index=False)
    return str(path)


def _set(column, row, value):
    def change(frame):
        frame.loc[row, column] = value
        return frame

    return change


# name: (model folder builder, data file builder, further arguments, what the one error line says)
PREDICT_REFUSALS = {
    "no model folder": (
        lambda m, d, t: str(t / "nowhere"),
        lambda d, t: str(d["new"]),
        [],
        "nowhere/model.json does not exist: ",
    ),
    "a folder without a model": (
        lambda m, d, t: str(d["folder"]),
        lambda d, t: str(d["new"]),
        [],
        "is not a bayesreg model folder",
    ),
    "corrupt model.json": (
        lambda m, d, t: _damaged(
            m, t, lambda f: (f / "model.json").write_text('{"format": "bayesreg model", ')
        ),
        lambda d, t: str(d["new"]),
        [],
        "model.json is not valid JSON (line 1",
    ),
    "missing posterior": (
        lambda m, d, t: _damaged(m, t, lambda f: (f / "posterior.nc").unlink()),
        lambda d, t: str(d["new"]),
        [],
        "posterior.nc is missing: the model was fitted with method='nuts'",
    ),
    "missing data file": (
        lambda m, d, t: str(m["folder"]),
        lambda d, t: str(t / "none.csv"),
        [],
        "none.csv' does not exist",
    ),
    "missing columns": (
        lambda m, d, t: str(m["folder"]),
        lambda d, t: _new_rows(d, t, lambda f: f.drop(columns=["bmi", "s3"])),
        [],
        "the model's feature columns 'bmi', 's3' are missing from",
    ),
    "NaN in a feature": (
        lambda m, d, t: str(m["folder"]),
        lambda d, t: _new_rows(d, t, _set("bmi", 3, np.nan)),
        [],
        "rows.csv line 5, column 'bmi': NaN (NaN and inf values are not allowed)",
    ),
    "text in a feature": (
        lambda m, d, t: str(m["folder"]),
        lambda d, t: _new_rows(d, t, _set("bmi", 0, "high")),
        [],
        "rows.csv line 2, column 'bmi': 'high' is not a number",
    ),
    "prob out of range": (
        lambda m, d, t: str(m["folder"]),
        lambda d, t: str(d["new"]),
        ["--prob", "1.5"],
        "argument --prob: prob must lie strictly between 0 and 1, got '1.5'",
    ),
}


@pytest.mark.parametrize("case", list(PREDICT_REFUSALS))
def test_predict_refuses_in_one_line_and_writes_nothing(case, nuts_model, data, tmp_path, out):
    model, rows, args, match = PREDICT_REFUSALS[case]
    line = _refused(
        ["predict", model(nuts_model, data, tmp_path), rows(data, tmp_path), *args, "--out", str(out)], match
    )
    assert line.startswith("bayesreg predict: error: ")
    assert _listing(out) == [KEEP] and (out / KEEP).read_text() == KEEP_TEXT


def test_predict_ignores_bad_values_in_unused_columns(nuts_model, data, tmp_path):
    rows = _new_rows(data, tmp_path, lambda f: f.assign(id=np.nan, progression="?"))
    code, out, err = _run(["predict", str(nuts_model["folder"]), rows, "--out", str(tmp_path / "p")])
    assert code == 3, err
    assert "ignored columns (not features of the model): id, progression" in out


def test_prob_with_a_map_model_refused(data, tmp_path, out):
    code, _, err = _run(["fit", str(data["train"]), "--target", "progression", "--out", str(tmp_path / "m")])
    assert code == 0, err
    _refused(
        ["predict", str(tmp_path / "m"), str(data["new"]), "--prob", "0.5", "--out", str(out)],
        "--prob applies to a model fitted with --method nuts",
    )
    assert _listing(out) == [KEEP]


def test_fit_refuses_a_foreign_model_json(data, out):
    (out / "model.json").write_text('{"mine": true}')
    _refused(
        ["fit", str(data["train"]), "--target", "progression", "--out", str(out)],
        "holds a model.json that is not a bayesreg model",
    )
    assert (out / "model.json").read_text() == '{"mine": true}' and (out / KEEP).read_text() == KEEP_TEXT


def test_fit_replaces_its_own_model_folder(data, tmp_path):
    """A second fit into the same folder replaces the model: the folder then holds the new one."""
    folder = tmp_path / "m"
    argv = ["fit", str(data["train"]), "--target", "progression", "--out", str(folder)]
    assert _run([*argv, "--alpha", "0.1"])[0] == 0
    assert _run([*argv, "--alpha", "0.2", "--prior", "gaussian"])[0] == 0
    assert json.loads((folder / "model.json").read_text())["params"]["prior"] == "gaussian"
    assert bayesreg.load(folder).alpha == 0.2


def test_a_failed_write_leaves_nothing(data, tmp_path, monkeypatch, out):
    """The model cannot be saved: exit 1, one line, no file of the run, the folders it created gone,
    the user's files untouched."""

    def refuse(estimator, folder, **options):
        raise OSError("disk full")

    monkeypatch.setattr(bayesreg.model_folder, "save", refuse)
    for folder in (tmp_path / "new" / "deeper", out):
        code, _, err = _run(["fit", str(data["train"]), "--target", "progression", "--out", str(folder)])
        assert code == 1 and err.strip().splitlines() == [
            f"bayesreg fit: error: cannot write the outputs to {str(folder)!r}: disk full"
        ]
    assert not (tmp_path / "new").exists()
    assert _listing(out) == [KEEP]


# ---------------------------------------------------------------------------------------------------
# --target-accept and --max-tree-depth


def _nuts_fit(data, folder, *options):
    argv = ["fit", str(data["train"]), "--target", "progression", "--alpha", "0.1", "--method", "nuts"]
    return _run([*argv, *NUTS, *options, "--out", str(folder)])


def test_target_accept_reaches_the_sampler(nuts_model, data, tmp_path):
    """A higher target acceptance adapts a smaller step size in every chain (same seed and data)."""
    az = pytest.importorskip("arviz")
    code, out, err = _nuts_fit(data, tmp_path, "--target-accept", "0.95")
    assert code == 3, err
    assert "target_accept 0.95, max tree depth 10" in out
    default = az.from_netcdf(nuts_model["folder"] / "posterior.nc").sample_stats["step_size"]
    higher = az.from_netcdf(tmp_path / "posterior.nc").sample_stats["step_size"]
    assert (higher.mean("draw") < default.mean("draw")).all(), (higher.mean("draw"), default.mean("draw"))
    assert bayesreg.load(tmp_path).target_accept == 0.95


def test_max_tree_depth_reaches_the_sampler_and_warnings_name_target_accept(nuts_model, data, tmp_path):
    """--max-tree-depth 3 caps every draw's tree depth (the default run goes deeper); a low
    --target-accept makes NUTS diverge, and the warning names --target-accept."""
    az = pytest.importorskip("arviz")
    code, out, err = _nuts_fit(data, tmp_path, "--max-tree-depth", "3", "--target-accept", "0.3")
    assert code == 3, err
    assert "target_accept 0.3, max tree depth 3" in out
    default = az.from_netcdf(nuts_model["folder"] / "posterior.nc").sample_stats["tree_depth"]
    capped = az.from_netcdf(tmp_path / "posterior.nc").sample_stats
    assert int(default.max()) > 3
    assert int(capped["tree_depth"].max()) == 3
    assert int(capped["diverging"].sum()) > 0
    assert any(
        line.startswith("bayesreg fit: warning: ") and "divergent" in line and "raise --target-accept" in line
        for line in err.splitlines()
    ), err
    assert bayesreg.load(tmp_path).max_tree_depth == 3


class _Stop(Exception):
    """Raised by the recording sampler: the test needs the settings, not the draws."""


def test_path_posterior_passes_the_settings_to_the_sampler(data, tmp_path, monkeypatch):
    import bayesreg.path

    seen = {}

    def record(*args, **kwargs):
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(bayesreg.path, "sample_chains", record)
    argv = ["path", str(data["train"]), "--target", "progression", "--posterior", "--alphas", "1,0.1"]
    with pytest.raises(_Stop):
        main([*argv, "--target-accept", "0.9", "--max-tree-depth", "6", "--out", str(tmp_path)])
    assert seen["target_accept"] == 0.9 and seen["max_tree_depth"] == 6


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["fit", "--target-accept", "0.9"], "--target-accept applies to --method nuts only"),
        (["fit", "--max-tree-depth", "5"], "--max-tree-depth applies to --method nuts only"),
        (["path", "--alphas", "1", "--target-accept", "0.9"], "--target-accept applies to --posterior only"),
        (["path", "--alphas", "1", "--max-tree-depth", "5"], "--max-tree-depth applies to --posterior only"),
        (
            ["fit", "--method", "nuts", "--target-accept", "1"],
            "argument --target-accept: target-accept must lie strictly between 0 and 1, got '1'",
        ),
        (
            ["fit", "--method", "nuts", "--max-tree-depth", "16"],
            "argument --max-tree-depth: max-tree-depth must be at most 15, got '16'",
        ),
        (["fit", "--method", "nuts", "--max-tree-depth", "2.5"], "must be an integer, got '2.5'"),
    ],
)
def test_nuts_settings_refused(argv, match, data, out):
    command, *options = argv
    _refused([command, str(data["train"]), "--target", "progression", *options, "--out", str(out)], match)
    assert _listing(out) == [KEEP]


def test_help_texts(capsys):
    assert main(["predict", "--help"]) == 0
    text = capsys.readouterr().out
    assert "MODEL_DIR" in text and "predictions.csv" in text and "exit status:" in text
    assert main(["fit", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--target-accept" in text and "--max-tree-depth" in text and "model.json" in text
