"""`bayesreg.data.check_xy`: every problem with features and target named where it is."""

import numpy as np
import pandas as pd
import pytest

from bayesreg.data import DataError, check_xy

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
