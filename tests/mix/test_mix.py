"""omni.mix: adstock/Hill by hand, parameter recovery, optimiser, calibration, spend quarantine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omni.mix import MarketingMixModel, allocate, build_panel, check_spend, geometric_adstock, hill
from omni.mix.experiments import measure_lifts
from omni.synth.mix import MixConfig, simulate_mix


def test_adstock_and_hill_by_hand():
    a = geometric_adstock(np.array([100.0, 0.0, 0.0, 50.0]), 0.6, init_days=0)
    # A0 = 0.4*100 = 40; A1 = 0.6*40 = 24; A2 = 14.4; A3 = 0.6*14.4 + 0.4*50 = 28.64
    assert a.tolist() == pytest.approx([40.0, 24.0, 14.4, 28.64])
    steady = geometric_adstock(np.full(50, 7.0), 0.8)  # weights sum to 1: a constant keeps its level
    assert steady == pytest.approx(np.full(50, 7.0))
    # hill(3; K=1, S=2) = 9 / (9 + 1)
    assert hill(np.array([0.0, 1.0, 3.0]), 1.0, 2.0).tolist() == pytest.approx([0.0, 0.5, 0.9])


def _small_panel(seed: int = 3, regions: int = 8, experiments: int = 3):
    cfg = MixConfig(regions=regions, experiments=experiments, experiment_regions=3,
                    channels=("search", "display", "social_kol"), bad_spend_rows=0)
    m = simulate_mix(seed, "2024-01-01", "2025-12-31", cfg)
    sales, spend, exp = m.frames()
    return m, build_panel(sales, spend, channels=list(m.channels)), exp


@pytest.fixture(scope="module")
def small():
    return _small_panel()


def test_fit_recovers_known_parameters(small):
    m, panel, _ = small
    fit = MarketingMixModel(n_draws=100).fit(panel)
    true = np.array([m.incremental[:, :, k].sum() for k in range(3)])
    est = fit.contributions_.sum(axis=(0, 1))
    assert est.sum() == pytest.approx(true.sum(), rel=0.10)
    assert np.abs(est / est.sum() - true / true.sum()).sum() < 0.15
    true_decay = np.array([m.params["curves"][c]["decay"] for c in m.channels])
    assert np.abs(fit.decay_ - true_decay).max() < 0.2
    tot = fit.channel_totals(panel)
    assert (tot["orders_lo"] <= tot["orders"]).all() and (tot["orders"] <= tot["orders_hi"]).all()


def test_optimiser_equalises_marginal_roas_on_an_analytic_case():
    # f_c(x) = a_c x / (x + K_c): optimum at sqrt(a_c K_c / lam) - K_c with sum x = B
    a, k = np.array([300.0, 200.0, 500.0]), np.array([40.0, 10.0, 80.0])
    plan = allocate(lambda c, b: a[c] * b / (b + k[c]), np.array([50.0, 50.0, 50.0]), low=0.0, high=10.0,
                    steps=3000)
    x = plan["recommended"].to_numpy()
    lam = (np.sqrt(a * k).sum() / (150.0 + k.sum())) ** 2
    assert x == pytest.approx(np.sqrt(a * k / lam) - k, abs=0.3)
    assert x.sum() == pytest.approx(150.0, abs=0.1)
    mr = plan["marginal_roas"].to_numpy()
    assert mr.max() - mr.min() < 0.02 * mr.mean()
    assert plan["response_recommended"].sum() > plan["response_current"].sum()
    with pytest.raises(ValueError, match="outside what the bounds allow"):
        allocate(lambda c, b: b, np.array([1.0, 1.0]), low=0.5, high=2.0, budget=10.0)


def test_calibration_pulls_the_channel_toward_the_experiment(small):
    _, panel, exp = small
    lifts = measure_lifts(exp, panel)
    free = MarketingMixModel(n_draws=50).fit(panel)
    free_effect = MarketingMixModel(n_draws=50).fit(panel, exp, lifts.assign(se_orders=1e12)).lifts_
    # an experiment claiming twice the effect, measured precisely, moves its channel up
    target = lifts.iloc[[0]].copy()
    ch = target["channel"].iloc[0]
    k = panel.channels.index(ch)
    target["lift_orders"] = free_effect["model_orders"].iloc[0] * 2
    target["se_orders"] = free_effect["model_orders"].iloc[0] * 0.05
    cal = MarketingMixModel(n_draws=50).fit(panel, exp, target)
    before, after = free.contributions_[:, :, k].sum(), cal.contributions_[:, :, k].sum()
    assert after > before * 1.05
    goal, free_gap = target["lift_orders"].iloc[0], abs(free_effect["model_orders"].iloc[0] - target["lift_orders"].iloc[0])
    assert abs(cal.lifts_["model_orders"].iloc[0] - goal) < 0.95 * free_gap  # the data resist: a pull, not a jump


def test_bad_spend_rows_are_quarantined_with_reasons():
    sales = pd.DataFrame({"date": pd.to_datetime(["2025-01-01", "2025-01-02"] * 2),
                          "region": ["A", "A", "B", "B"], "orders": [1, 2, 3, 4], "revenue": [1.0] * 4})
    spend = pd.DataFrame({"spend_id": ["s1", "s2", "s3", "s4", "s5"],
                          "date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-09", "2025-01-02",
                                                  "2025-01-02"]),
                          "region": ["A", "A", "A", "Z", "B"], "channel": ["tv", "tv", "tv", "tv", "tv"],
                          "spend": [1.0, 2.0, 3.0, 4.0, 5.0]})
    ok, q = check_spend(spend, sales, rows=np.arange(2, 7))
    assert ok["spend_id"].tolist() == ["s1", "s5"]
    assert q["reason"].tolist() == ["duplicate_cell", "no_sales_day", "unknown_region"]
    assert q["record_key"].tolist() == ["media_spend:s2", "media_spend:s3", "media_spend:s4"]
    assert q["row"].tolist() == [3, 4, 5] and q["column"].tolist() == ["channel", "date", "region"]
    assert len(ok) + len(q) == len(spend)


def test_test_world_mix_loads_with_reconciled_counts():
    import omni
    from omni.io.dataset import load_source
    from omni.mix.analysis import mix_workspace
    from omni.mix.inputs import file_rows

    ws = mix_workspace(omni.open("data/test_world"))
    ms, rs = load_source(ws.spec, "media_spend"), load_source(ws.spec, "regional_sales")
    ok, q = check_spend(ms.table, rs.table, file_rows(ms.table, ms.quarantine, ms.rows_in))
    assert len(ok) + len(q) + len(ms.quarantine) == ms.rows_in
    assert sorted(set(q["reason"]) | set(ms.quarantine["reason"])) == ["duplicate_cell", "negative_amount",
                                                                        "no_sales_day"]


def _shocked_panel(seed: int, shock: float = 0.03):
    """A 12-region, 3-channel world whose orders share a weekly shock across regions (a week of
    good or bad trading everywhere); the truth's realised contributions move with it."""
    cfg = MixConfig(regions=12, experiments=0, channels=("search", "display", "social_kol"), bad_spend_rows=0)
    m = simulate_mix(seed, "2024-01-01", "2025-12-31", cfg)
    t, r, c = m.spend.shape
    week = np.exp(np.random.default_rng(seed).normal(0, shock, (t + 6) // 7)).repeat(7)[:t]
    orders = np.round(m.orders * week[:, None])
    true = (m.incremental * week[:, None, None]).sum(axis=(0, 1))
    spend = pd.DataFrame({"date": np.repeat(m.days, r * c), "region": np.tile(np.repeat(m.regions, c), t),
                          "channel": np.tile(m.channels, t * r), "spend": m.spend.reshape(-1)})
    sales = pd.DataFrame({"date": np.repeat(m.days, r), "region": np.tile(m.regions, t),
                          "orders": orders.reshape(-1), "revenue": orders.reshape(-1) * 100.0,
                          "price_index": m.price_index.reshape(-1)})
    return build_panel(sales, spend[spend["spend"] > 0], channels=list(m.channels)), true


def test_intervals_hold_the_truth_under_common_weekly_shocks():
    # Shocks common to all regions in a week: the plain Laplace covariance counts 12 regions as 12
    # independent observations, its errors spread 1.7x its posterior sd and its 90 % intervals
    # miss the truth far more often than 10 %; the Driscoll-Kraay sandwich counts each week once.
    z = {"laplace": [], "driscoll_kraay": []}
    for seed in range(1, 6):
        panel, true = _shocked_panel(seed)
        fit = MarketingMixModel(n_draws=100, seed=seed).fit(panel)
        assert fit.hac_lags_ == 4  # floor(4 * (105 weeks / 100) ** (2 / 9))
        for cov in ("driscoll_kraay", "laplace"):
            fit.covariance = cov
            fit._laplace(panel)
            tot = fit.channel_totals(panel)
            z[cov].append((tot["orders"].to_numpy() - true) / fit._sims["orders"].std(axis=0))
    zd, zl = np.concatenate(z["driscoll_kraay"]), np.concatenate(z["laplace"])
    assert 0.6 < zd.std() < 1.3 < zl.std()
    held, held_laplace = int((np.abs(zd) <= 1.645).sum()), int((np.abs(zl) <= 1.645).sum())
    assert held >= 11 and held_laplace < held  # of 15 channel-seeds (90 % nominal); measured 12 and 10
    with pytest.raises(ValueError, match="covariance must be 'driscoll_kraay' or 'laplace'"):
        MarketingMixModel(covariance="robust")


def test_the_mix_reads_the_month_attribution_channel_attribution_made(test_world, tmp_path, monkeypatch):
    """In the report, 04 attributes the month and 08's path-model shares read that attribution
    from the shared memo: nothing attributed again, the same shares; other settings compute."""
    import shutil

    import omni.attribution.month as am
    from omni.attribution import analyse_month as attribution_month
    from omni.core.month import Month
    from omni.mix.analysis import _path_shares
    from omni.workspace import Workspace

    d = tmp_path / "world"
    shutil.copytree(test_world / "raw", d / "raw")
    month = Month.parse("2026-10")
    want = _path_shares(Workspace(d), month, 30)  # computed here, nothing kept
    assert not list((d / "processed" / "memo").rglob("attribution-*.pkl"))
    attribution_month(Workspace(d, share=True), month, lookback_days=30, include_impressions=True)
    assert len(list((d / "processed" / "memo").rglob("attribution-*.pkl"))) == 1

    def refuse(*_a, **_k):
        raise AssertionError("attributed again")

    monkeypatch.setattr(am, "attribute_month", refuse)
    got = _path_shares(Workspace(d, share=True), month, 30)
    pd.testing.assert_frame_equal(got, want)
    with pytest.raises(AssertionError, match="attributed again"):  # another lookback: not the same result
        _path_shares(Workspace(d, share=True), month, 14)
