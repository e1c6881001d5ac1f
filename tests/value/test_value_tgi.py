"""Tests of omni.value.tgi: hand-computed TGI and intervals, coverage by simulation, suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.core.reference import AGE_BANDS, age_band
from omni.value.tgi import tgi


def _people(counts: dict[str, int], col: str = "gender") -> pd.DataFrame:
    return pd.DataFrame({col: [v for v, n in counts.items() for _ in range(n)]})


SEG = _people({"F": 60, "M": 40})
BASE = _people({"F": 500, "M": 500})


def test_hand_computed_independent_samples() -> None:
    out = tgi(SEG, BASE, ["gender"]).set_index("value")
    # F: 0.6 / 0.5 * 100 = 120; se(log) = sqrt(0.4/60 + 0.5/500) = 0.0875595
    # 95% CI = 120 * exp(-/+ 1.959964 * 0.0875595) = [101.0766, 142.4663]
    assert out.loc["F", "tgi"] == pytest.approx(120.0)
    assert out.loc["F", "ci_low"] == pytest.approx(101.0766, abs=1e-3)
    assert out.loc["F", "ci_high"] == pytest.approx(142.4663, abs=1e-3)
    assert out.loc["F", "significant"]
    # M: 80, CI [62.4339, 102.5084] contains 100
    assert out.loc["M", "tgi"] == pytest.approx(80.0)
    assert out.loc["M", "ci_low"] == pytest.approx(62.4339, abs=1e-3)
    assert out.loc["M", "ci_high"] == pytest.approx(102.5084, abs=1e-3)
    assert not out.loc["M", "significant"]
    assert out.loc["F", "segment_count"] == 60 and out.loc["F", "base_count"] == 500
    assert out.loc["F", "segment_share"] == pytest.approx(0.6)
    assert out.loc["F", "base_share"] == pytest.approx(0.5)


def test_hand_computed_population_base() -> None:
    panel = pd.DataFrame({"gender": ["F", "M"], "population": [5_000_000, 5_000_000]})
    out = tgi(SEG, panel, ["gender"], base_is_population=True).set_index("value")
    # only the segment varies: se = sqrt(0.4/60) = 0.0816497 -> [102.2541, 140.8256]
    assert out.loc["F", "tgi"] == pytest.approx(120.0)
    assert out.loc["F", "ci_low"] == pytest.approx(102.2541, abs=1e-3)
    assert out.loc["F", "ci_high"] == pytest.approx(140.8256, abs=1e-3)
    assert out.loc["F", "base_count"] == 5_000_000
    assert "known population" in out.attrs["method"]


def test_hand_computed_nested_segment() -> None:
    # base = segment (60 F / 40 M) + rest (440 F / 460 M) = 500 / 500
    base = pd.concat([SEG, _people({"F": 440, "M": 460})], ignore_index=True)
    out = tgi(SEG, base, ["gender"], segment_in_base=True).set_index("value")
    # f = 0.1, p_s = 0.6, p_b = 0.5, p_r = 440/900:
    # var = (1/0.6 - 0.1/0.5)^2 * 0.24/100 + (0.9/0.5)^2 * p_r (1 - p_r)/900
    #     = 2.151111 * 0.0024 + 3.24 * 0.000277641 = 0.0060622 -> se = 0.0778603
    # CI = 120 * exp(-/+ 1.959964 * 0.0778603) = [103.016, 139.784]
    assert out.loc["F", "tgi"] == pytest.approx(120.0)
    assert out.loc["F", "ci_low"] == pytest.approx(103.016, abs=2e-3)
    assert out.loc["F", "ci_high"] == pytest.approx(139.784, abs=2e-3)
    indep = tgi(SEG, base, ["gender"]).set_index("value")
    assert (out["ci_high"] - out["ci_low"] < indep["ci_high"] - indep["ci_low"]).all()
    with pytest.raises(ValueError, match="not contained in the base"):
        tgi(_people({"F": 600}), BASE, ["gender"], segment_in_base=True)


def _coverage(mode: str, reps: int = 600) -> float:
    """Share of 95% intervals covering the true TGI 120 over independent replicates."""
    rng = np.random.default_rng({"indep": 1, "pop": 2, "nested": 3, "nested_as_indep": 4}[mode])
    cols = [f"r{i}" for i in range(reps)]
    ns, nb = 400, 2000
    kw: dict = {}
    if mode == "indep":
        seg = pd.DataFrame(rng.random((ns, reps)) < 0.30, columns=cols)
        base = pd.DataFrame(rng.random((nb, reps)) < 0.25, columns=cols)
    elif mode == "pop":
        seg = pd.DataFrame(rng.random((ns, reps)) < 0.30, columns=cols)
        base = pd.DataFrame({c: [True, False] for c in cols})
        base["population"] = [250_000, 750_000]
        kw = {"base_is_population": True}
    else:  # segment of 400 inside a base of 2000; rest share 0.2375 -> base share 0.25
        s = rng.random((ns, reps)) < 0.30
        rest = rng.random((nb - ns, reps)) < 0.2375
        seg = pd.DataFrame(s, columns=cols)
        base = pd.DataFrame(np.vstack([s, rest]), columns=cols)
        kw = {"segment_in_base": mode == "nested"}
    out = tgi(seg, base, cols, min_count=0, **kw)
    hit = out[out["value"].astype(bool)]
    assert len(hit) == reps
    return float(((hit["ci_low"] <= 120) & (hit["ci_high"] >= 120)).mean())


@pytest.mark.parametrize("mode", ["indep", "pop", "nested"])
def test_interval_coverage_by_simulation(mode) -> None:
    assert 0.93 <= _coverage(mode) <= 0.97


def test_independent_formula_is_conservative_for_nested_segments() -> None:
    assert _coverage("nested_as_indep") > 0.97


def test_suppression_and_significance() -> None:
    seg = _people({"F": 200, "M": 25})
    base = _people({"F": 1000, "M": 1000})
    out = tgi(seg, base, ["gender"], min_count=30).set_index("value")
    m = out.loc["M"]
    assert m["suppressed"] and pd.isna(m["tgi"]) and pd.isna(m["ci_low"])
    assert pd.isna(m["segment_count"]) and pd.isna(m["segment_share"])
    assert not m["significant"] and m["note"] == "suppressed: n < 30"
    assert m["base_count"] == 1000  # the base is not small, it stays visible
    f = out.loc["F"]
    assert not f["suppressed"] and f["significant"] and f["ci_low"] > 100
    assert f["tgi"] == pytest.approx(100 * (200 / 225) / 0.5)
    out0 = tgi(seg, base, ["gender"], min_count=0).set_index("value")
    assert not out0["suppressed"].any() and out0.loc["M", "significant"]  # 22 vs 100, clear


def test_categories_order_missing_values_and_absent_base_values() -> None:
    seg = pd.DataFrame(
        {
            "age_band": pd.Categorical(
                ["25-29"] * 40 + ["18-24"] * 40 + [None] * 5, categories=AGE_BANDS, ordered=True
            ),
            "city_tier": ["1"] * 50 + ["new"] * 35,
        }
    )
    base = pd.DataFrame(
        {
            "age_band": pd.Categorical(["18-24", "25-29", "50+"] * 100, categories=AGE_BANDS),
            "city_tier": ["1", "2", "3"] * 100,
        }
    )
    out = tgi(seg, base, ["age_band", "city_tier"])
    ages = out[out["attribute"] == "age_band"]
    assert ages["value"].tolist() == ["18-24", "25-29", "50+"]  # panel order, missing dropped
    assert ages["tgi"].iloc[0] == pytest.approx(100 * 0.5 / (1 / 3))
    tier = out[out["attribute"] == "city_tier"].set_index("value")
    assert tier.loc["new", "note"] == "absent from base" and pd.isna(tier.loc["new", "tgi"])
    assert tier.loc["2", "suppressed"]  # 0 segment members


def test_weights_use_kish_effective_size() -> None:
    seg = SEG.assign(w=2.0)
    base = BASE.assign(w=2.0)
    a = tgi(SEG, BASE, ["gender"])
    b = tgi(seg, base, ["gender"], weight_col="w")
    for col in ["tgi", "ci_low", "ci_high", "segment_share", "base_share"]:
        np.testing.assert_allclose(a[col], b[col])  # constant weights change nothing
    assert b["segment_count"].iloc[0] == 120
    uneven = SEG.assign(w=np.where(np.arange(100) % 2 == 0, 3.0, 1.0))
    c = tgi(uneven, BASE, ["gender"], weight_col="w").set_index("value")
    # Kish n_eff = (200)^2 / (50*9 + 50) = 80 < 100 rows -> wider than unweighted
    assert (c["ci_high"] - c["ci_low"]).loc["F"] > (
        a.set_index("value")["ci_high"] - a.set_index("value")["ci_low"]
    ).loc["F"]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="missing attribute"):
        tgi(SEG, BASE, ["city_tier"])
    with pytest.raises(ValueError, match="alpha"):
        tgi(SEG, BASE, ["gender"], alpha=1.5)
    with pytest.raises(ValueError, match="both"):
        tgi(SEG, BASE, ["gender"], base_is_population=True, segment_in_base=True)
    bad = SEG.assign(w=1.0)
    bad.loc[7, "w"] = -1.0
    with pytest.raises(ValueError, match="row 7"):
        tgi(bad, BASE, ["gender"], weight_col="w")
    with pytest.raises(ValueError, match="non-empty list"):
        tgi(SEG, BASE, "gender")
    with pytest.raises(ValueError, match="empty"):
        tgi(SEG.iloc[:0], BASE, ["gender"])


def test_age_band_boundaries() -> None:
    years = pd.Series(
        [2007, 2006, 2000, 1999, 1990, 1985, 1984, 1975, 1974, 1900, None, 2030],
        index=list("abcdefghijkl"),
    )
    got = age_band(years, 2024)
    assert got.index.equals(years.index)
    assert list(got.cat.categories) == AGE_BANDS and got.cat.ordered
    expected = [
        None,
        "18-24",
        "18-24",
        "25-29",
        "30-34",
        "35-39",
        "40-49",
        "40-49",
        "50+",
        None,
        None,
        None,
    ]
    assert [None if pd.isna(v) else v for v in got] == expected
    assert age_band(["1994", "1989"], 2024).tolist() == ["30-34", "35-39"]
    nullable = age_band(pd.Series([1990, None, 2010], dtype="Int64"), 2024)  # contract's int type
    assert nullable.iloc[0] == "30-34" and nullable.iloc[1:].isna().all()
    with pytest.raises(ValueError, match="row 1"):
        age_band(["1990", "abc"], 2024)
