"""A fitted estimator saved to a folder and loaded back (in this process and in a new one) predicts
bitwise the same; a folder that is not a model, or is damaged, is refused with the file named."""

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

import bayesreg
from bayesreg import BayesianLinearRegression, BayesianLogisticRegression, ModelFolderError
from bayesreg.model_folder import FORMAT_VERSION, MODEL_FILE, POSTERIOR_FILE
from bayesreg.predictive import prediction_table

SHORT = {"num_warmup": 100, "num_samples": 100, "num_chains": 2, "random_state": 0}


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short runs: the ESS warning is not what these tests are about
        return est.fit(X, y)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True, as_frame=True, scaled=False)  # unscaled, as users load it
    return X, y


@pytest.fixture(scope="module")
def cancer():
    data = load_breast_cancer(as_frame=True)
    X = data.data.iloc[:, [1, 4, 8]]  # unscaled columns
    labels = np.where(data.target == 1, "benign", "malignant")
    return X, labels


@pytest.fixture(scope="module")
def fitted(diabetes, cancer):
    """Linear and logistic fits, MAP and NUTS (σ estimated, a fixed σ for one more), and two on
    standardised columns (``standardize=True``: ``scaling_`` is saved too)."""
    X, y = diabetes
    Xc, labels = cancer
    return {
        "linear-map": _fit(BayesianLinearRegression(alpha=0.5), X, y),
        "linear-nuts": _fit(
            BayesianLinearRegression(prior="gaussian", alpha=1.0, method="nuts", **SHORT), X, y
        ),
        "linear-nuts-fixed-sigma": _fit(
            BayesianLinearRegression(prior="laplace", alpha=0.1, sigma=50.0, method="nuts", **SHORT), X, y
        ),
        "logistic-map": _fit(BayesianLogisticRegression(prior="gaussian", C=0.1), Xc, labels),
        "logistic-nuts": _fit(
            BayesianLogisticRegression(prior="gaussian", C=0.1, method="nuts", **SHORT), Xc, labels
        ),
        "linear-nuts-standardized": _fit(
            BayesianLinearRegression(alpha=0.5, standardize=True, method="nuts", **SHORT), X, y
        ),
        "logistic-map-standardized": _fit(BayesianLogisticRegression(C=0.1, standardize=True), Xc, labels),
    }


def _predictions(est, X) -> dict:
    """Every prediction the estimator makes at X."""
    out = {"predict": est.predict(X)}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
        out["decision_function"] = est.decision_function(X)
    if hasattr(est, "idata_"):
        out["predict_interval"] = est.predict_interval(X, prob=0.9)
        if not hasattr(est, "predict_proba"):
            out["std"] = est.predict(X, return_std=True)[1]
    table = prediction_table(est, X)
    for column in table.columns:
        out[f"table:{column}"] = table[column].to_numpy()
    return out


def _assert_bitwise(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        if a[key].dtype.kind == "f":
            assert a[key].tobytes() == b[key].tobytes(), key  # bitwise, NaN or -0.0 included
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize(
    "name",
    [
        "linear-map",
        "linear-nuts",
        "linear-nuts-fixed-sigma",
        "logistic-map",
        "logistic-nuts",
        "linear-nuts-standardized",
        "logistic-map-standardized",
    ],
)
def test_save_load_predicts_bitwise_the_same(fitted, diabetes, cancer, name, tmp_path):
    est = fitted[name]
    X = cancer[0] if name.startswith("logistic") else diabetes[0]
    est.save(tmp_path / "model")
    files = sorted(os.listdir(tmp_path / "model"))
    assert files == ([MODEL_FILE, POSTERIOR_FILE] if "nuts" in name else [MODEL_FILE])
    loaded = bayesreg.load(tmp_path / "model")
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    _assert_bitwise(_predictions(loaded, X), _predictions(est, X))
    for attribute in ("coef_", "intercept_", "n_features_in_", "n_iter_", "prior_"):
        np.testing.assert_array_equal(getattr(loaded, attribute), getattr(est, attribute))
    assert list(loaded.feature_names_in_) == list(est.feature_names_in_)
    assert loaded.map_.converged == est.map_.converged and loaded.map_.num_steps == est.map_.num_steps
    for key, value in est.map_.params.items():
        assert loaded.map_.params[key].tobytes() == value.tobytes()
    assert hasattr(loaded, "scaling_") == ("standardized" in name) == hasattr(est, "scaling_")
    if "standardized" in name:
        for a, b in zip(loaded.scaling_, est.scaling_, strict=True):
            assert a.dtype == b.dtype == np.float64 and a.tobytes() == b.tobytes()
    if hasattr(est, "classes_"):
        assert (
            loaded.classes_.tolist() == est.classes_.tolist() and loaded.classes_.dtype == est.classes_.dtype
        )
    else:
        assert loaded.sigma_ == est.sigma_
        assert (loaded.sigma_prior_ is None) == (est.sigma_prior_ is None)
    if "nuts" in name:
        assert loaded.diagnostics_ == est.diagnostics_ or np.isnan(est.diagnostics_.max_rhat)
        assert loaded.posterior_fit_.parametrisation == est.posterior_fit_.parametrisation
        assert loaded.posterior_fit_.mass_matrix == est.posterior_fit_.mass_matrix
        # the posterior's draws are the same to the bit
        for var in est.idata_.posterior.data_vars:
            a = est.idata_.posterior[var].to_numpy()
            assert loaded.idata_.posterior[var].to_numpy().tobytes() == a.tobytes(), var


def test_a_new_process_predicts_bitwise_the_same(fitted, diabetes, tmp_path):
    """The point of saving: a later process, which never saw the fit, loads and predicts."""
    est = fitted["linear-nuts"]
    X = diabetes[0]
    est.save(tmp_path / "model")
    X.to_csv(tmp_path / "new.csv", index=False)
    script = (
        "import sys, numpy as np, pandas as pd, bayesreg\n"
        "est = bayesreg.load(sys.argv[1])\n"
        "X = pd.read_csv(sys.argv[2])\n"
        "mean, sd = est.predict(X, return_std=True)\n"
        "np.savez(sys.argv[3], mean=mean, sd=sd, interval=est.predict_interval(X, prob=0.9))\n"
    )
    out = tmp_path / "out.npz"
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "model"), str(tmp_path / "new.csv"), str(out)],
        check=True,
        timeout=300,
    )
    X_read = pd.read_csv(tmp_path / "new.csv")
    mean, sd = est.predict(X_read, return_std=True)
    with np.load(out) as there:
        assert there["mean"].tobytes() == mean.tobytes()
        assert there["sd"].tobytes() == sd.tobytes()
        assert there["interval"].tobytes() == est.predict_interval(X_read, prob=0.9).tobytes()


def test_json_floats_round_trip_exactly(fitted, tmp_path):
    est = fitted["linear-map"]
    est.save(tmp_path)
    document = json.loads((tmp_path / MODEL_FILE).read_text())
    assert (
        document["format_version"] == FORMAT_VERSION and document["estimator"] == "BayesianLinearRegression"
    )
    assert np.asarray(document["fitted"]["coef_"]).tobytes() == est.coef_.tobytes()
    assert document["fitted"]["intercept_"] == est.intercept_ and document["fitted"]["sigma_"] == est.sigma_


def test_resaving_a_map_fit_over_a_nuts_folder_drops_the_old_posterior(fitted, tmp_path):
    fitted["linear-nuts"].save(tmp_path)
    (tmp_path / "coefficients.csv").write_text("kept\n")  # what the command line writes next to it
    fitted["linear-map"].save(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["coefficients.csv", MODEL_FILE]
    assert not hasattr(bayesreg.load(tmp_path), "idata_")


def test_a_foreign_folder_is_not_overwritten(fitted, tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(
        ModelFolderError, match=r"holds other files \(thesis.tex\) .* \(it has no model.json\)"
    ):
        fitted["linear-map"].save(tmp_path)
    (tmp_path / MODEL_FILE).write_text('{"name": "someone else\'s"}')
    with pytest.raises(ModelFolderError, match=r"its model.json is not a bayesreg model"):
        fitted["linear-map"].save(tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "precious"
    with pytest.raises(ModelFolderError, match=r"is a file, not a folder"):
        fitted["linear-map"].save(tmp_path / "thesis.tex")


def test_damaged_folders_are_refused_naming_the_file(fitted, tmp_path):
    with pytest.raises(
        ModelFolderError, match=r"model.json does not exist: .* is not a bayesreg model folder"
    ):
        bayesreg.load(tmp_path)
    folder = tmp_path / "model"
    fitted["logistic-nuts"].save(folder)
    text = (folder / MODEL_FILE).read_text()

    (folder / MODEL_FILE).write_text(text[: len(text) // 2])
    with pytest.raises(ModelFolderError, match=r"model.json is not valid JSON \(line \d+, column \d+"):
        bayesreg.load(folder)

    document = json.loads(text)
    del document["fitted"]["coef_"]
    (folder / MODEL_FILE).write_text(json.dumps(document))
    with pytest.raises(ModelFolderError, match=r"model.json lacks the field 'coef_'"):
        bayesreg.load(folder)

    (folder / MODEL_FILE).write_text(json.dumps({**json.loads(text), "format_version": 99}))
    with pytest.raises(
        ModelFolderError, match=r"model.json has format version 99; this bayesreg reads version 1"
    ):
        bayesreg.load(folder)

    (folder / MODEL_FILE).write_text(json.dumps({"format": "something else"}))
    with pytest.raises(ModelFolderError, match=r"model.json is not a bayesreg model file"):
        bayesreg.load(folder)

    (folder / MODEL_FILE).write_text(text)
    (folder / POSTERIOR_FILE).write_bytes(b"not netcdf")
    with pytest.raises(ModelFolderError, match=r"posterior.nc could not be read as ArviZ netCDF"):
        bayesreg.load(folder)
    (folder / POSTERIOR_FILE).unlink()
    with pytest.raises(
        ModelFolderError, match=r"posterior.nc is missing: the model was fitted with method='nuts'"
    ):
        bayesreg.load(folder)


def test_unknown_fitted_attributes_are_refused(diabetes, tmp_path):
    """A fitted attribute save does not know would be lost on loading: refused, named."""
    X, y = diabetes
    est = BayesianLinearRegression(alpha=0.5).fit(X, y)
    est.scale_ = np.ones(X.shape[1])
    with pytest.raises(ModelFolderError, match=r"cannot save the fitted attribute\(s\) scale_"):
        est.save(tmp_path)
    with pytest.raises(Exception, match=r"not fitted"):
        BayesianLinearRegression().save(tmp_path)


@pytest.mark.parametrize(
    ("cls", "params", "learned"),
    [
        (BayesianLinearRegression, {"alpha": "cv"}, ("alpha_", "cv_results_")),
        (BayesianLinearRegression, {"alpha": "eb", "prior": "gaussian"}, ("alpha_", "alpha_mcse_")),
        (BayesianLinearRegression, {"alpha": 0.5}, ("alpha_",)),
        (BayesianLogisticRegression, {"C": "cv", "prior": "gaussian"}, ("alpha_", "C_", "cv_results_")),
    ],
)
def test_learned_alpha_round_trips(cls, params, learned, diabetes, cancer, tmp_path):
    """The penalty strength of the fit (learned or given) and the CV scores come back exactly."""
    X, y = diabetes if cls is BayesianLinearRegression else cancer
    est = _fit(cls(**params), X, y)
    est.save(tmp_path)
    loaded = bayesreg.load(tmp_path)
    assert loaded.get_params() == est.get_params()
    for name in learned:
        value, back = getattr(est, name), getattr(loaded, name)
        if name != "cv_results_":
            assert back == value, name
            continue
        assert back.keys() == value.keys()
        for key, item in value.items():
            np.testing.assert_array_equal(back[key], item)
            assert type(back[key]) is type(item) or isinstance(item, np.ndarray)
    assert np.array_equal(loaded.predict(X), est.predict(X))
