"""The synthetic world's marketing mix: daily media spend and regional sales with a known response.

A brand-level feed next to the person-level world: two to three years of daily spend per channel
and region (flighting, pulses, dark weeks, regional plans), daily orders and revenue per region
(trend, seasonality, the retail peaks of :mod:`omni.core.calendar`, price promotions) and geo lift
experiments (a channel switched off in random regions for four weeks). Media act through geometric
adstock and Hill saturation on spend per unit of regional demand; regions share each channel's
curve and have their own size. The truth keeps every channel's incremental orders and revenue per
day and region, the curves and each experiment's true effect.

It draws from its own random stream (``np.random.default_rng([seed, MIX_STREAM])``), so the
person-level world's files do not change when it is written. It is written as a dataset of its
own, ``<world>/mix/raw`` (with its ``sources.yaml``) and ``<world>/mix/truth``: the person-level
contract, its audit and its resolutions stay as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.signal import lfilter

from omni.core.calendar import retail_peaks
from omni.synth.reference import TOUCH_CHANNELS
from omni.synth.timeline import Timeline
from omni.synth.writer import write_csv, write_json, write_parquet, write_yaml

__all__ = ["MIX_CHANNELS", "MIX_SOURCE_SPECS", "MIX_STREAM", "REGIONS", "MixConfig", "MixWorld", "default_mix_config",
           "channel_response", "generate_mix", "simulate_mix", "write_mix"]

#: Tag of the mix's random stream (its own child of the world's seed).
MIX_STREAM = 2020
#: The touch channels of the person-level world and two offline media that no path sees.
MIX_CHANNELS: tuple[str, ...] = TOUCH_CHANNELS + ("ott_video", "outdoor")
#: Mainland provincial regions (the first ``MixConfig.regions`` are used).
REGIONS: tuple[str, ...] = (
    "广东", "江苏", "浙江", "山东", "上海", "北京", "四川", "河南", "湖北", "福建", "湖南", "安徽",
    "河北", "陕西", "重庆", "辽宁", "江西", "云南", "广西", "天津", "山西", "黑龙江", "吉林", "贵州",
    "内蒙古", "新疆", "甘肃", "海南", "宁夏", "青海", "西藏",
)
# channel -> (adstock decay range, plan style, cost per 1000 impressions or sends, ROAS range)
_STYLE: dict[str, tuple[tuple[float, float], str, float, tuple[float, float]]] = {
    "search": ((0.05, 0.30), "always_on", 30.0, (2.0, 5.0)),
    "display": ((0.30, 0.60), "flights", 15.0, (0.8, 2.5)),
    "social_kol": ((0.40, 0.70), "flights", 60.0, (2.0, 6.0)),
    "sms": ((0.00, 0.20), "crm", 50.0, (6.0, 15.0)),
    "email": ((0.00, 0.20), "crm", 4.0, (6.0, 20.0)),
    "wechat_push": ((0.05, 0.30), "crm", 2.0, (6.0, 20.0)),
    "ott_video": ((0.50, 0.80), "flights", 80.0, (1.0, 3.0)),
    "outdoor": ((0.50, 0.85), "long_flights", 20.0, (0.7, 2.0)),
}
_EXPERIMENT_CHANNELS = ("search", "display", "social_kol", "ott_video", "outdoor", "sms")
# truth-only baseline multipliers of the retail peaks (the model knows the dates, not these)
_PEAK_MULT = {"618_presale": 1.25, "618_day": 2.2, "double11_presale": 1.35, "double11_day": 3.5,
              "double12_day": 1.6, "spring_festival": 0.7}
_DOW = np.array([0.95, 0.95, 0.97, 0.98, 1.02, 1.08, 1.05])  # Monday .. Sunday

MIX_SOURCE_SPECS: dict[str, dict] = {
    "media_spend": {
        "file": "media_spend.parquet", "format": "parquet", "timezone": "Asia/Shanghai",
        "key": "spend_id",
        "columns": {"spend_id": "string", "date": "date", "region": "category",
                    "channel": "category", "spend": "float", "impressions": "float"},
        "required": ["spend_id", "date", "region", "channel", "spend"],
        "identifiers": [], "quasi_identifiers": [], "pii": [], "amounts": ["spend"],
    },
    "regional_sales": {
        "file": "regional_sales.csv", "format": "csv", "encoding": "utf-8",
        "timezone": "Asia/Shanghai", "key": "sales_id",
        "columns": {"sales_id": "string", "date": "date", "region": "category", "orders": "int",
                    "revenue": "float", "price_index": "float"},
        "required": ["sales_id", "date", "region", "orders", "revenue"],
        "identifiers": [], "quasi_identifiers": [], "pii": [], "amounts": ["revenue"],
    },
    "geo_experiments": {
        "file": "geo_experiments.csv", "format": "csv", "encoding": "utf-8",
        "timezone": "Asia/Shanghai", "key": "row_id",
        "columns": {"row_id": "string", "experiment_id": "string", "channel": "category",
                    "region": "category", "arm": "category", "start_date": "date",
                    "end_date": "date"},
        "required": ["row_id", "experiment_id", "channel", "region", "arm", "start_date",
                     "end_date"],
        "identifiers": [], "quasi_identifiers": [], "pii": [], "amounts": [],
    },
}


@dataclass(frozen=True)
class MixConfig:
    """Knobs of the mix world.

    Parameters
    ----------
    regions : int
        Number of regions (1 to 31).
    orders_per_day : float
        National baseline orders per day (before media), a mid-sized beauty brand.
    media_share : tuple of float
        Range of the share of all orders that media cause (one draw per seed).
    offline_share : tuple of float
        Range of the share of media-caused orders from ``ott_video`` and ``outdoor``.
    experiments : int
        Geo lift experiments (0 to 12).
    experiment_days : int
        Days a channel stays dark in the test regions.
    experiment_regions : int
        Regions switched off per experiment.
    noise : float
        Standard deviation of the daily log noise of a region's orders.
    price_elasticity : float
        Orders scale with ``price_index ** -price_elasticity``.
    bad_spend_rows : int
        Damaged media_spend rows (negative spend, a second row for a cell, a day without sales).
    """

    regions: int = 30
    orders_per_day: float = 20_000.0
    media_share: tuple[float, float] = (0.20, 0.35)
    offline_share: tuple[float, float] = (0.15, 0.30)
    experiments: int = 6
    experiment_days: int = 28
    experiment_regions: int = 8
    noise: float = 0.04
    price_elasticity: float = 1.2
    bad_spend_rows: int = 6
    channels: tuple[str, ...] = field(default=MIX_CHANNELS)

    def __post_init__(self) -> None:
        if not 1 <= self.regions <= len(REGIONS):
            raise ValueError(f"MixConfig.regions must be 1..{len(REGIONS)}, got {self.regions}")
        if not 0 <= self.experiments <= 12:
            raise ValueError(f"MixConfig.experiments must be 0..12, got {self.experiments}")
        unknown = [c for c in self.channels if c not in _STYLE]
        if unknown:
            raise ValueError(f"MixConfig.channels: unknown channel(s) {unknown}")


@dataclass
class MixWorld:
    """The simulated mix (arrays indexed day x region [x channel])."""

    days: np.ndarray  # datetime64[D], T
    regions: list[str]
    channels: list[str]
    spend: np.ndarray  # T x R x C, what ran
    impressions: np.ndarray  # T x R x C
    orders: np.ndarray  # T x R, int
    revenue: np.ndarray  # T x R
    price_index: np.ndarray  # T x R
    incremental: np.ndarray  # T x R x C, true incremental orders
    aov: np.ndarray  # T x R, average order value
    experiments: list[dict[str, Any]]
    params: dict[str, Any]

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The world as the loader would give it, without writing files: daily regional sales
        (date, region, orders, revenue, price_index), the spend that ran (date, region, channel,
        spend; rows with spend only) and the lift tests' arms (experiment_id, channel, region,
        arm, start_date, end_date)."""
        t, r, c = self.spend.shape
        spend = pd.DataFrame({"date": np.repeat(self.days, r * c), "region": np.tile(np.repeat(self.regions, c), t),
                              "channel": np.tile(self.channels, t * r), "spend": self.spend.reshape(-1)})
        sales = pd.DataFrame({"date": np.repeat(self.days, r), "region": np.tile(self.regions, t),
                              "orders": self.orders.reshape(-1), "revenue": self.revenue.reshape(-1),
                              "price_index": self.price_index.reshape(-1)})
        exp = pd.DataFrame([(e["experiment_id"], e["channel"], reg, "dark" if k in e["treated"] else "control",
                             self.days[e["start"]], self.days[e["end"]]) for e in self.experiments
                            for k, reg in enumerate(self.regions)],
                           columns=["experiment_id", "channel", "region", "arm", "start_date", "end_date"])
        return sales, spend[spend["spend"] > 0], exp


def channel_response(spend: np.ndarray, decay: float, half_sat: float, slope: float, beta: float,
                     size: np.ndarray, init_days: int = 28) -> np.ndarray:
    """Expected incremental orders of one channel per day and region (the world's true curve).

    ``size[r] * beta * hill(adstock / size[r])`` with geometric adstock normalised to keep spend
    units (``A_t = decay * A_{t-1} + (1 - decay) * s_t``, started at the mean of the first
    ``init_days``) and ``hill(x) = x**slope / (x**slope + half_sat**slope)``.
    """
    a = geometric(spend, decay, init_days)
    x = a / size[None, :]
    xs = np.power(np.maximum(x, 0.0), slope)
    return size[None, :] * beta * xs / (xs + half_sat**slope)


def geometric(spend: np.ndarray, decay: float, init_days: int = 28) -> np.ndarray:
    """Normalised geometric adstock along axis 0 (see :func:`channel_response`)."""
    s = np.asarray(spend, float)
    a0 = s[:init_days].mean(axis=0, keepdims=True)
    return lfilter([1.0 - decay], [1.0, -decay], s, axis=0, zi=decay * a0)[0]


def _plan(rng: np.random.Generator, style: str, t_days: int, dates: np.ndarray,
          season: np.ndarray) -> np.ndarray:
    """National daily spend shape of one channel (mean 1 over the span)."""
    weeks = (t_days + 6) // 7
    peaks = retail_peaks(dates)
    presale = (peaks["618_presale"] + peaks["double11_presale"]).to_numpy() > 0
    if style == "always_on":
        weekly = np.exp(rng.normal(0, 0.15, weeks)).repeat(7)[:t_days]
        shape = (1 + 0.6 * (season - 1)) * weekly * np.where(presale, 1.8, 1.0)
    elif style == "crm":
        sends = rng.random(t_days) < 0.35
        shape = sends * np.exp(rng.normal(0, 0.4, t_days)) * np.where(presale, 2.5, 1.0)
    else:
        on_len, off_len = ((2, 7), (1, 4)) if style == "flights" else ((4, 11), (2, 7))
        on = np.zeros(weeks, bool)
        level = np.zeros(weeks)
        k = int(rng.integers(0, 3))
        while k < weeks:
            n_on = int(rng.integers(*on_len))
            on[k:k + n_on] = True
            level[k:k + n_on] = np.exp(rng.normal(0, 0.35))
            k += n_on + int(rng.integers(*off_len))
        shape = (on * level).repeat(7)[:t_days]
        # pulses: every channel runs through the presales, harder than usual
        shape = np.where(presale, np.maximum(shape, 1.0) * 2.2, shape)
    return shape / shape.mean()


def simulate_mix(seed: int, start: str | dt.date, end: str | dt.date, cfg: MixConfig | None = None,
                 touch_shares: dict[str, float] | None = None) -> MixWorld:
    """Simulate the mix world (no files written).

    Parameters
    ----------
    seed : int
        The world's seed; the mix draws from ``default_rng([seed, MIX_STREAM])``.
    start, end : str or date
        First and last day.
    cfg : MixConfig, optional
    touch_shares : dict, optional
        True shares of the touch-caused orders per touch channel in the person-level world: the
        touch channels' true shares of media-caused orders follow them (so the MMM, the experiments
        and the path models can be compared per channel). Default: equal shares.

    Returns
    -------
    MixWorld
    """
    cfg = cfg or MixConfig()
    rng = np.random.default_rng([int(seed), MIX_STREAM])
    tl = Timeline(start, end, seasonality=False)
    t_days, n_r, chans = tl.days, cfg.regions, list(cfg.channels)
    n_c = len(chans)
    dates = np.datetime64(tl.start.isoformat(), "D") + np.arange(t_days)
    regions = list(REGIONS[:n_r])
    # --- baseline demand ---------------------------------------------------------------------
    w = np.sort(np.exp(rng.normal(0, 0.7, n_r)))[::-1]
    size = cfg.orders_per_day * w / w.sum()  # baseline orders per day by region
    level = np.exp(rng.normal(0, 0.05, n_r))
    doy = (dates - dates.astype("datetime64[Y]")).astype(int)
    phase = rng.uniform(0, 2 * np.pi, 2)
    season = (1 + rng.uniform(0.04, 0.10) * np.sin(2 * np.pi * doy / 365.25 + phase[0])
              + 0.03 * np.sin(4 * np.pi * doy / 365.25 + phase[1]))
    trend = np.exp(rng.uniform(-0.03, 0.12) * np.arange(t_days) / 365.25)
    peaks = retail_peaks(dates)
    peak_mult = np.ones(t_days)
    for name, mult in _PEAK_MULT.items():
        peak_mult *= np.where(peaks[name].to_numpy() > 0, mult, 1.0)
    md = dates.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    peak_mult *= np.where((md == 3) & (dom <= 8), 1.15, 1.0)  # 38 女王节: not in the calendar
    dow = _DOW[(dates.astype(int) + 3) % 7]  # 1970-01-01 was a Thursday
    discount = np.where(peaks[["618_day", "double11_day"]].sum(axis=1).to_numpy() > 0, 0.80,
                        np.where(peaks[["618_presale", "double11_presale"]].sum(axis=1).to_numpy() > 0,
                                 0.90, 1.0))
    weeks = (t_days + 6) // 7
    promo = np.where(rng.random((weeks, n_r)) < 0.08, 0.92, 1.0).repeat(7, axis=0)[:t_days]
    price = np.round(discount[:, None] * promo * np.exp(rng.normal(0, 0.01, (t_days, n_r))), 4)
    base = (size * level)[None, :] * (trend * season * peak_mult * dow)[:, None]
    base = base * price ** -cfg.price_elasticity
    # --- media plans ---------------------------------------------------------------------------
    media_share = rng.uniform(*cfg.media_share)
    offline = rng.uniform(*cfg.offline_share)
    touch = [c for c in chans if c in TOUCH_CHANNELS]
    off = [c for c in chans if c not in TOUCH_CHANNELS]
    ts = np.array([max((touch_shares or {}).get(c, 1.0 / len(touch)), 0.02) for c in touch])
    shares = dict(zip(touch, ts / ts.sum() * (1 - offline if off else 1.0), strict=True))
    if off:
        split = rng.dirichlet(np.full(len(off), 4.0))
        shares.update(zip(off, split * offline, strict=True))
    share = np.array([shares[c] for c in chans])
    total_base = base.sum()
    target = share * media_share / (1 - media_share) * total_base
    aov_r = 260.0 * np.exp(rng.normal(0, 0.1, n_r))
    aov = aov_r[None, :] * price * np.exp(rng.normal(0, 0.02, (t_days, n_r)))
    roas = np.array([rng.uniform(*_STYLE[c][3]) for c in chans])
    budget = target * aov.mean() / roas
    spend = np.zeros((t_days, n_r, n_c))
    impressions = np.zeros_like(spend)
    for k, c in enumerate(chans):
        style = _STYLE[c][1]
        national = _plan(rng, style, t_days, dates, season) * budget[k] / t_days
        reg = size * np.exp(rng.normal(0, 0.35, n_r))
        var = np.exp(rng.normal(0, 0.25 if style != "always_on" else 0.08, (weeks, n_r)))
        if style in ("flights", "long_flights"):
            var *= rng.random((weeks, n_r)) < 0.88  # regional plans skip some flights
        split = (reg[None, :] * var)
        split = (split / np.maximum(split.sum(axis=1, keepdims=True), 1e-12)).repeat(7, axis=0)[:t_days]
        spend[:, :, k] = national[:, None] * split
        cpm = _STYLE[c][2] * np.exp(rng.normal(0, 0.1, (t_days, n_r)))
        impressions[:, :, k] = spend[:, :, k] / cpm * 1000.0
    spend = np.round(spend, 2)
    bau = spend.copy()
    # --- geo experiments ---------------------------------------------------------------------
    experiments: list[dict[str, Any]] = []
    used: dict[str, list[tuple[int, int]]] = {}
    presale_any = (peaks[["618_presale", "618_day", "double11_presale", "double11_day"]].sum(axis=1)
                   .to_numpy() > 0)
    exp_chans = [c for c in _EXPERIMENT_CHANNELS if c in chans]
    order = list(rng.permutation(exp_chans)) if exp_chans else []
    for e in range(cfg.experiments if exp_chans else 0):
        c = order[e % len(order)]
        k = chans.index(c)
        n_days = cfg.experiment_days
        for _ in range(200):
            s0 = int(rng.integers(max(t_days - 420, 60), t_days - n_days - 21))
            window = slice(s0, s0 + n_days + 14)
            clash = any(a < s0 + n_days + 35 and s0 < b + 35 for a, b in used.get(c, []))
            if not presale_any[window].any() and not clash:
                break
        used.setdefault(c, []).append((s0, s0 + n_days))
        n_treat = min(cfg.experiment_regions, max(n_r // 3, 1))  # controls outnumber the dark
        treated = np.sort(rng.choice(n_r, n_treat, replace=False))
        spend[s0:s0 + n_days, treated, k] = 0.0
        impressions[s0:s0 + n_days, treated, k] = 0.0
        experiments.append({"experiment_id": f"GEO{e + 1:02d}", "channel": c, "start": s0,
                            "end": s0 + n_days - 1, "treated": treated.tolist()})
    # --- response ----------------------------------------------------------------------------
    decay = np.array([rng.uniform(*_STYLE[c][0]) for c in chans])
    slope = rng.uniform(0.9, 1.8, n_c)
    kappa = np.exp(rng.uniform(np.log(0.5), np.log(1.6), n_c))
    half_sat, beta = np.zeros(n_c), np.zeros(n_c)
    contrib = np.zeros_like(spend)
    for k in range(n_c):
        a = geometric(spend[:, :, k], decay[k]) / size[None, :]
        half_sat[k] = kappa[k] * a[a > 0].mean() if (a > 0).any() else 1.0
        unit = channel_response(spend[:, :, k], decay[k], half_sat[k], slope[k], 1.0, size)
        beta[k] = target[k] / max(unit.sum(), 1e-12)
        contrib[:, :, k] = unit * beta[k]
    # --- noise and outcomes ------------------------------------------------------------------
    ar = lfilter([1.0], [1.0, -0.8], rng.normal(0, 0.01, (t_days, n_r)), axis=0)
    mult = np.exp(rng.normal(0, cfg.noise, (t_days, n_r)) + ar)
    mean = (base + contrib.sum(axis=2)) * mult
    orders = rng.poisson(mean)
    revenue = np.round(orders * aov, 2)
    incremental = contrib * mult[:, :, None]
    for e in experiments:
        k = chans.index(e["channel"])
        g, s0 = e["treated"], e["start"]
        w_end = min(e["end"] + 15, t_days)
        full = channel_response(bau[:, :, k], decay[k], half_sat[k], slope[k], beta[k], size)
        lost = (full[s0:w_end][:, g] - contrib[s0:w_end][:, g, k]) * mult[s0:w_end][:, g]
        e["true_lift_orders"] = float(lost.sum())
        e["true_lift_revenue"] = float((lost * aov[s0:w_end][:, g]).sum())
        e["withheld_spend"] = float(bau[s0:e["end"] + 1][:, g, k].sum())
    params = {
        "seed": int(seed), "stream": MIX_STREAM, "config": _plain(asdict(cfg)),
        "start": str(tl.start), "end": str(tl.end), "regions": regions, "channels": chans,
        "region_size": dict(zip(regions, size.tolist(), strict=True)),
        "media_share": float(media_share), "target_shares": dict(zip(chans, share.tolist(), strict=True)),
        "touch_shares": {c: float(v) for c, v in (touch_shares or {}).items()},
        "curves": {c: {"decay": float(decay[k]), "half_saturation": float(half_sat[k]),
                       "slope": float(slope[k]), "beta": float(beta[k]), "roas_planned": float(roas[k])}
                   for k, c in enumerate(chans)},
        "price_elasticity": cfg.price_elasticity,
        "peak_multipliers": dict(_PEAK_MULT),
    }
    return MixWorld(dates, regions, chans, spend, impressions, orders, revenue, price, incremental,
                    aov, experiments, params)


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def _date_strings(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, "datetime64[D]").astype(str), pa.string())


def write_mix(m: MixWorld, out: str | Path, seed: int, cfg: MixConfig | None = None) -> dict[str, int]:
    """Write ``out/raw`` (sources.yaml, media_spend, regional_sales, geo_experiments) and
    ``out/truth`` (mix_contributions.parquet, mix_params.json); returns rows per file."""
    cfg = cfg or MixConfig()
    out = Path(out)
    raw, truth = out / "raw", out / "truth"
    raw.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([int(seed), MIX_STREAM, 1])
    t_days, n_r, n_c = m.spend.shape
    d = np.repeat(np.arange(t_days), n_r * n_c)
    r = np.tile(np.repeat(np.arange(n_r), n_c), t_days)
    c = np.tile(np.arange(n_c), t_days * n_r)
    keep = m.spend.reshape(-1) > 0  # a cell without spend has no row
    d, r, c = d[keep], r[keep], c[keep]
    spend = m.spend.reshape(-1)[keep]
    imps = np.round(m.impressions.reshape(-1)[keep])
    dates = m.days[d]
    bad: dict[str, list[str]] = {}
    n = len(d)
    if cfg.bad_spend_rows and n > 10:
        pick = rng.choice(n, cfg.bad_spend_rows, replace=False)
        third = max(len(pick) // 3, 1)
        spend = spend.copy()
        spend[pick[:third]] = -spend[pick[:third]]  # negative spend
        bad["negative_amount"] = [f"MS{i + 1:07d}" for i in pick[:third]]
        dup = pick[third:2 * third]  # a second row for the same day, region and channel
        late = np.full(len(pick[2 * third:]), m.days[-1] + 3)  # a day without sales data
        ids_dup = [f"MS{n + i + 1:07d}" for i in range(len(dup))]
        ids_late = [f"MS{n + len(dup) + i + 1:07d}" for i in range(len(late))]
        bad["duplicate_cell"] = ids_dup
        bad["no_sales_day"] = ids_late
        dates = np.concatenate([dates, m.days[d[dup]], late])
        r = np.concatenate([r, r[dup], r[pick[2 * third:]]])
        c = np.concatenate([c, c[dup], c[pick[2 * third:]]])
        spend = np.concatenate([spend, np.abs(spend[dup]), np.abs(spend[pick[2 * third:]])])
        imps = np.concatenate([imps, imps[dup], imps[pick[2 * third:]]])
    ids = pa.array([f"MS{i + 1:07d}" for i in range(len(dates))], pa.string())
    write_parquet({
        "spend_id": ids, "date": _date_strings(dates),
        "region": pa.array(np.asarray(m.regions, object)[r], pa.string()),
        "channel": pa.array(np.asarray(m.channels, object)[c], pa.string()),
        "spend": pa.array(spend, pa.float64()), "impressions": pa.array(imps, pa.float64()),
    }, raw / "media_spend.parquet", dictionary=["date", "region", "channel"])
    sd = np.repeat(np.arange(t_days), n_r)
    sr = np.tile(np.arange(n_r), t_days)
    write_csv({
        "sales_id": pa.array([f"RS{i + 1:07d}" for i in range(len(sd))], pa.string()),
        "date": _date_strings(m.days[sd]),
        "region": pa.array(np.asarray(m.regions, object)[sr], pa.string()),
        "orders": pa.array(m.orders.reshape(-1).astype(np.int64)),
        "revenue": pa.array(m.revenue.reshape(-1)),
        "price_index": pa.array(m.price_index.reshape(-1)),
    }, raw / "regional_sales.csv")
    rows = []
    for e in m.experiments:
        for k, reg in enumerate(m.regions):
            rows.append((e["experiment_id"], e["channel"], reg,
                         "dark" if k in e["treated"] else "control",
                         str(m.days[e["start"]]), str(m.days[e["end"]])))
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 6
    write_csv({
        "row_id": pa.array([f"GX{i + 1:05d}" for i in range(len(rows))], pa.string()),
        "experiment_id": pa.array(cols[0], pa.string()), "channel": pa.array(cols[1], pa.string()),
        "region": pa.array(cols[2], pa.string()), "arm": pa.array(cols[3], pa.string()),
        "start_date": pa.array(cols[4], pa.string()), "end_date": pa.array(cols[5], pa.string()),
    }, raw / "geo_experiments.csv")
    write_yaml({"dataset": f"{out.resolve().parent.name}-mix", "timezone": "Asia/Shanghai",
                "currency": "CNY", "sources": MIX_SOURCE_SPECS}, raw / "sources.yaml")
    # truth: incremental orders and revenue per day, region and channel
    inc = m.incremental
    rev = inc * m.aov[:, :, None]
    write_parquet({
        "date": _date_strings(m.days[np.repeat(np.arange(t_days), n_r * n_c)]),
        "region": pa.array(np.asarray(m.regions, object)[np.tile(np.repeat(np.arange(n_r), n_c), t_days)],
                           pa.string()),
        "channel": pa.array(np.asarray(m.channels, object)[np.tile(np.arange(n_c), t_days * n_r)],
                            pa.string()),
        "incremental_orders": pa.array(inc.reshape(-1)),
        "incremental_revenue": pa.array(rev.reshape(-1)),
    }, truth / "mix_contributions.parquet", dictionary=["date", "region", "channel"])
    totals = inc.sum(axis=(0, 1))
    params = dict(m.params)
    params.update({
        "incremental_orders": dict(zip(m.channels, totals.tolist(), strict=True)),
        "incremental_revenue": dict(zip(m.channels, rev.sum(axis=(0, 1)).tolist(), strict=True)),
        "true_shares": dict(zip(m.channels, (totals / totals.sum()).tolist(), strict=True)),
        "total_orders": int(m.orders.sum()),
        "spend": dict(zip(m.channels, m.spend.sum(axis=(0, 1)).tolist(), strict=True)),
        "experiments": [{**e, "start_date": str(m.days[e["start"]]), "end_date": str(m.days[e["end"]]),
                         "treated": [m.regions[k] for k in e["treated"]]} for e in m.experiments],
        "bad_spend_rows": {k: {"count": len(v), "spend_ids": v} for k, v in bad.items()},
    })
    write_json(params, truth / "mix_params.json")
    return {"media_spend": len(dates), "regional_sales": len(sd), "geo_experiments": len(rows),
            "mix_contributions": inc.size}


def default_mix_config(persons: int) -> MixConfig:
    """The mix of a world of ``persons`` people: 30 regions, 10 below 10,000 persons (small test
    worlds stay quick to model)."""
    return MixConfig(regions=30 if persons >= 10_000 else 10)


def generate_mix(out: str | Path, seed: int, start: str = "2024-01-01", end: str = "2026-10-31",
                 cfg: MixConfig | None = None, touch_shares: dict[str, float] | None = None) -> dict[str, int]:
    """Simulate and write the mix dataset into ``out`` (usually ``<world>/mix``).

    Without ``touch_shares``, the person-level world's true touch shares are read from
    ``<out>/../truth/params.json`` when it exists (equal shares otherwise).
    """
    out = Path(out)
    if touch_shares is None:
        p = out.parent / "truth" / "params.json"
        if p.exists():
            import json

            tc = json.loads(p.read_text(encoding="utf-8")).get("touch_caused_conversions", {})
            touch_shares = {c: v["share_of_touch_caused"] for c, v in tc.items()}
    cfg = cfg or MixConfig()
    m = simulate_mix(seed, start, end, cfg, touch_shares)
    return write_mix(m, out, seed, cfg)
