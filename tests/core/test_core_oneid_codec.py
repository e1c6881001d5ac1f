import numpy as np
import pandas as pd
import pytest

from omni.core.oneid_codec import format_oneids, parse_oneids


def test_round_trip_fixed_width_and_wide_numbers():
    nums = np.array([0, 1, 42, 999_999_999, 10**9, 12_345_678_901])
    text = format_oneids(nums).to_pylist()
    assert text[:4] == ["O000000000", "O000000001", "O000000042", "O999999999"]
    assert text[4:] == ["O1000000000", "O12345678901"]
    assert parse_oneids(pd.Series(text[:4])).tolist() == nums[:4].tolist()


def test_parse_names_the_first_bad_row():
    with pytest.raises(ValueError, match=r"previous map row 3: 'X000000001' is not a OneID"):
        parse_oneids(pd.Series(["O000000001", "O000000002", "X000000001"]))
    with pytest.raises(ValueError, match="row 2"):
        parse_oneids(pd.Series(["O000000001", None]))
