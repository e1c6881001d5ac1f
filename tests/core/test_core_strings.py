"""omni.core.strings: string columns compared without a Python string per row."""

import numpy as np
import pandas as pd


def test_equals_text_reads_a_categoricals_codes_as_astype_str_would():
    from omni.core.strings import equals_text

    how = pd.Series(pd.Categorical(["strong", None, "weak", "strong"], categories=["weak", "strong", "nan"]))
    for text in ("strong", "weak", "nan", "none"):
        np.testing.assert_array_equal(equals_text(how, text), (how.astype(str) == text).to_numpy())
    plain = pd.Series(["strong", None, "x"], dtype=object)
    np.testing.assert_array_equal(equals_text(plain, "strong"), [True, False, False])
    assert equals_text(pd.Series(pd.Categorical([], categories=["a"])), "a").shape == (0,)
