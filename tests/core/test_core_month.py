import pandas as pd
import pytest

from omni.core import Month, MonthError


@pytest.mark.parametrize("bad", ["2026-1", "2026-13", "2026-00", "2026-10-01", "Oct 2026", "", None, 202610,
                                 " 2026-10", "2026/10", "２０２６-10"])
def test_parse_refuses_anything_but_yyyy_mm(bad):
    with pytest.raises(MonthError, match="YYYY-MM|no such month"):
        Month.parse(bad)


def test_bounds_and_steps_agree_with_pandas_periods():
    for text in ["2024-02", "2026-01", "2026-12"]:
        m = Month.parse(text)
        p = pd.Period(text, freq="M")
        assert m.start == p.start_time
        assert m.end == (p + 1).start_time
        assert m.last_day == p.end_time.normalize()
        assert str(m.previous) == str(p - 1) and str(m.next) == str(p + 1)
        assert str(m.shift(-13)) == str(p - 13) and str(m.shift(25)) == str(p + 25)
    assert Month.parse("2024-02").last_day == pd.Timestamp("2024-02-29")
    assert Month.of("2026-10-31 23:59:59") == Month.parse("2026-10")
    assert Month.parse("2026-01") < Month.parse("2026-02")
    assert Month.parse(Month(2026, 3)) == Month(2026, 3)
