"""`bayesreg.data.check_xy`: every problem with features and target named where it is."""

import numpy as np
import pandas as pd
import pytest

from bayesreg.data import DataError, check_xy, read_csv

FRAME = pd.DataFrame({"age": [30.0, 41.0, 52.0, 63.0], "dose": [1, 2, 3, 4]})


@pytest.mark.parametrize(
    ("X", "y", "family", "message"),
    [
        (FRAME.assign(dose=["1", "2", "x", "4"]), [1.0, 2, 3, 4], "gaussian", "column 'dose' is not numeric"),
        (FRAME.assign(age=[30.0, np.inf, 1, 2]), [1.0, 2, 3, 4], "gaussian", "column 'age' has inf in row 1"),
        (FRAME, [1.0, np.nan, 3, 4], "gaussian", "target has NaN in row 1"),
        (FRAME, ["a", "b", "c", "d"], "gaussian", "target is not numeric"),
        (FRAME, [0, 1, 2, 0], "bernoulli", "found 3 classes"),
        (FRAME.iloc[:, :0], [1.0, 2, 3, 4], "gaussian", "no feature columns"),
        (FRAME.iloc[:1], [1.0], "gaussian", "found 1 sample(s) while a minimum of 2 is required"),
        (FRAME, [1.0, 2, 3], "gaussian", "X has 4 rows but y has 3"),
        (np.ones(4), [1.0, 2, 3, 4], "gaussian", "X must be 2-d"),
    ],
)
def test_each_problem_is_named(X, y, family, message):
    with pytest.raises(DataError) as error:
        check_xy(X, y, family)
    assert message in str(error.value), str(error.value)


def test_good_data_comes_back_as_float_arrays_with_names():
    checked = check_xy(FRAME, pd.Series(["yes", "no", "yes", "yes"]), "bernoulli")
    np.testing.assert_array_equal(checked.X, FRAME.to_numpy(float))
    assert checked.X.dtype == np.float64 and checked.names == ["age", "dose"]
    np.testing.assert_array_equal(checked.y, [1.0, 0.0, 1.0, 1.0])
    assert checked.classes.tolist() == ["no", "yes"]
    plain = check_xy(FRAME.to_numpy(), [1, 2, 3, 4])
    assert plain.names is None and plain.classes is None and plain.y.dtype == np.float64


def _file(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "family", "message"),
    [
        # the header is line 1, so the third data row is line 4
        ("age,bmi,y\n1,2,3\n4,5,6\n7,,9\n", "gaussian", "line 4, column 'bmi': NaN (NaN and inf values"),
        ("age,bmi,y\n1,2,3\n4,NaN,6\n", "gaussian", "line 3, column 'bmi': NaN"),
        ("age,bmi,y\n1,2,3\n4,-inf,6\n", "gaussian", "line 3, column 'bmi': inf"),
        ("age,bmi,y\n1,2,3\n4,high,6\n", "gaussian", "line 3, column 'bmi': 'high' is not a number"),
        ("age,bmi,y\n1,2,3\n4,5,inf\n", "gaussian", "line 3, column 'y' (the target): inf"),
        ("age,bmi,y\n1,2,3\n4,5,big\n", "gaussian", "line 3, column 'y' (the target): 'big' is not a number"),
        ("age,bmi,y\n1,2,no\n4,5,\n", "bernoulli", "line 3, column 'y' (the target): NaN"),
    ],
)
def test_read_csv_names_the_line_and_column(tmp_path, text, family, message):
    path = _file(tmp_path, text)
    with pytest.raises(DataError) as error:
        read_csv(path, "y", family)
    assert str(error.value).startswith(f"{path} {message}"), str(error.value)


def test_read_csv_takes_labels_for_bernoulli(tmp_path):
    X, y, notes = read_csv(_file(tmp_path, "age,y\n1,no\n2,yes\n"), "y", "bernoulli")
    assert X["age"].tolist() == [1, 2] and y.tolist() == ["no", "yes"] and notes == []


def test_read_csv_drops_a_saved_row_index_only(tmp_path):
    frame = pd.DataFrame({"age": [30.0, 41.0, 52.0], "y": [1.0, 2.0, 3.0]})
    frame.to_csv(tmp_path / "saved.csv")  # pandas writes its index under an empty header
    X, y, notes = read_csv(tmp_path / "saved.csv", "y")
    assert list(X.columns) == ["age"] and y.tolist() == [1.0, 2.0, 3.0]
    assert notes == ["dropped column 'Unnamed: 0' (a saved row index 0..n-1)"]
    # named 'Unnamed: 0' in the file, 0..n-1: also dropped
    X, _, notes = read_csv(_file(tmp_path, "Unnamed: 0,age,y\n0,1,2\n1,3,4\n"), "y")
    assert list(X.columns) == ["age"] and len(notes) == 1
    # unnamed but not 0..n-1, or not the first column: kept, and no note
    for text, columns in [
        (",age,y\n1,1,2\n2,3,4\n", ["Unnamed: 0", "age"]),
        ("age,,y\n1,0,2\n3,1,4\n", ["age", "Unnamed: 1"]),
        ("idx,age,y\n0,1,2\n1,3,4\n", ["idx", "age"]),
    ]:
        X, _, notes = read_csv(_file(tmp_path, text), "y")
        assert list(X.columns) == columns and notes == [], text


def test_read_csv_strips_spaces_around_names(tmp_path):
    X, y, notes = read_csv(_file(tmp_path, "age, bmi ,y\n1,2,3\n4,5,6\n"), "y")
    assert list(X.columns) == ["age", "bmi"] and y.tolist() == [3, 6]
    assert notes == ["stripped spaces from column names: ' bmi ' -> 'bmi'"]
    X, y, notes = read_csv(_file(tmp_path, "age ,bmi, y\n1,2,3\n4,5,6\n"), "y")  # the target too
    assert list(X.columns) == ["age", "bmi"] and y.tolist() == [3, 6]
    assert notes == ["stripped spaces from column names: 'age ' -> 'age', ' y' -> 'y'"]
    with pytest.raises(DataError, match="columns 'bmi' and ' bmi' have the same name once spaces"):
        read_csv(_file(tmp_path, "bmi, bmi,y\n1,2,3\n4,5,6\n"), "y")


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_read_csv_detects_the_separator(tmp_path, sep):
    text = (
        sep.join(["age", "bmi", "y"])
        + "\n"
        + "\n".join(sep.join(row) for row in [["1", "2.5", "3"], ["4", "5", "6"]])
    )
    X, y, notes = read_csv(_file(tmp_path, text + "\n"), "y")
    assert list(X.columns) == ["age", "bmi"] and X["bmi"].tolist() == [2.5, 5.0] and y.tolist() == [3, 6]
    assert notes == []


def test_read_csv_sep_forces_the_separator(tmp_path):
    path = _file(tmp_path, "a;b;y\n1;2;3\n4;5;6\n")
    assert list(read_csv(path, "y", sep=";").X.columns) == ["a", "b"]
    assert list(read_csv(path, "y", sep="semicolon").X.columns) == ["a", "b"]
    with pytest.raises(
        DataError,
        match=r"target column 'y' not found .*; columns: a;b;y \(one column, read with separator '\\t'",
    ):
        read_csv(path, "y", sep="tab")
    with pytest.raises(DataError, match=r"unknown separator '\|'; expected one of ',', ';', 'tab'"):
        read_csv(path, "y", sep="|")


def test_read_csv_explains_a_wrong_separator(tmp_path):
    path = _file(tmp_path, "a;b;y\n1;2;3\n4;5;6\n")
    with pytest.raises(DataError, match=r"columns: a;b;y \(one column, read with separator ',': is the sep"):
        read_csv(path, "y", sep=",")
    path = _file(tmp_path, "a;y\n1,5;3\n4,25;6\n")
    with pytest.raises(
        DataError, match=r"line 2, column 'a': '1,5' is not a number \(write decimals with a point"
    ):
        read_csv(path, "y")


def test_read_csv_refuses_or_drops_constant_columns(tmp_path):
    path = _file(tmp_path, "x1,x3,x5,x7,y\n1,0,2,5,3\n2,0,3,5,4\n4,0,1,5,6\n")
    with pytest.raises(DataError) as error:
        read_csv(path, "y")
    assert str(error.value) == (
        "constant columns: 'x3', 'x7' (a column with one value carries no information; drop them or pass "
        "--drop-constant)"
    )
    X, y, notes = read_csv(path, "y", drop_constant=True)
    assert list(X.columns) == ["x1", "x5"] and y.tolist() == [3, 4, 6]
    assert notes == ["dropped constant columns: 'x3', 'x7' (one value in every row)"]
    for target, value in [("2.5", "2.5"), ("'yes'", "yes")]:
        with pytest.raises(DataError, match=rf"target .y. is constant: every row holds {target} \(a target"):
            read_csv(_file(tmp_path, f"x1,y\n1,{value}\n2,{value}\n"), "y", "bernoulli", drop_constant=True)


def test_constant_gaussian_target_refused_by_the_estimators_too():
    """A constant target through the estimators (not only the CSV reader): refused with a message that
    says so, instead of a noise sd of ~1e-127 from the degenerate noise prior."""
    import numpy as np

    from bayesreg import BayesianLinearRegression
    from bayesreg.data import DataError, check_xy

    X = np.random.default_rng(0).normal(size=(20, 3))
    for fit in (lambda: BayesianLinearRegression().fit(X, np.full(20, 2.0)), lambda: check_xy(X, [2.0] * 20)):
        with pytest.raises(DataError, match="target is constant: every row holds 2"):
            fit()
