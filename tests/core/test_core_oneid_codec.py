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


def test_large_strings_from_parquet_parse_alike_and_bad_ones_are_named():
    """Parquet gives OneIDs back as large strings: they take the same byte path (no regex per row)
    and a bad value among them is still named by its row."""
    import pyarrow as pa

    nums = np.array([7, 0, 123_456_789])
    big = pa.chunked_array([format_oneids(nums).cast(pa.large_string())])
    assert parse_oneids(big).tolist() == nums.tolist()
    with pytest.raises(ValueError, match=r"row 2: 'O12' is not a OneID"):
        parse_oneids(pa.chunked_array([pa.array(["O000000001", "O12"], type=pa.large_string())]))
