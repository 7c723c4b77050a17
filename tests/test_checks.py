"""The shared integer check: one message format for every bad integer argument."""

import numpy as np
import pytest

from symsharing._checks import check_int


def test_accepts_python_and_numpy_integers():
    assert check_int(3, "n") == 3
    value = check_int(np.int64(4), "n", minimum=4)
    assert value == 4 and type(value) is int


@pytest.mark.parametrize("value", [True, 2.0, "3", None, [1]])
def test_rejects_non_integers_naming_the_argument(value):
    with pytest.raises(TypeError, match=rf"width must be an int, got .* \({type(value).__name__}\)$"):
        check_int(value, "width")


def test_minimum_and_its_meaning_in_the_message():
    with pytest.raises(ValueError, match=r"depth must be >= 0 \(number of hidden layers\), got -1"):
        check_int(-1, "depth", minimum=0, meaning=" (number of hidden layers)")
    assert check_int(-1, "offset") == -1  # no minimum: any integer
