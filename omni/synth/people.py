"""People of the synthetic world: demographics, preferences and the latent purchase process.

The purchase process is Pareto/NBD with Gamma-Gamma spend, so CLV models have a real target:

* repeat purchases while alive: Poisson with rate ``lambda_i`` (per year, on the seasonal clock),
  ``lambda_i ~ Gamma(r, mean / r)`` times value drivers (city tier, age band, skincare affinity);
* lifetime after acquisition ~ Exponential(``mu_i``), ``mu_i ~ Gamma(s, mean / s)``;
* order value ~ Gamma(p, scale = m_i / p) with person mean ``m_i = p / nu_i`` times value drivers,
  ``nu_i ~ Gamma(q, rate = gamma)``.

The drivers are renormalised to mean 1 so ``E[lambda]`` and ``E[m]`` equal the configured means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omni.synth.config import SynthConfig
from omni.synth.reference import (
    AFFINITY_ALPHA,
    AGE_BAND_RANGES,
    CITIES,
    TIERS,
)
from omni.synth.text import categorical_draw
from omni.synth.timeline import ONLINE_HOURS, STORE_HOURS, YEAR_DAYS, Timeline

__all__ = ["People", "draw_people"]

# Channel index in reference.ORDER_CHANNELS
SITE, STORE = 3, 4


@dataclass
class People:
    """Per-person arrays (index = person number, 0..n-1)."""

    n: int
    female: np.ndarray  # bool
    age: np.ndarray  # age at the start of the span
    age_band: np.ndarray  # index into AGE_BANDS
    birth_year: np.ndarray
    city: np.ndarray  # index into CITIES
    tier: np.ndarray  # index into TIERS
    district: np.ndarray  # index into the city's districts
    pref: np.ndarray  # index into PREFERENCES
    chan_probs: np.ndarray  # (n, 5) order channel mix: tmall, jd, douyin, site, store
    affinity: np.ndarray  # (n, 6) category affinities (rows sum to 1)
    member: np.ndarray  # bool: CRM member
    wechat: np.ndarray  # bool: uses the brand's WeChat apps
    acq: np.ndarray  # acquisition time (days since start; < 0 before the span)
    acq_channel: np.ndarray  # index into ORDER_CHANNELS
    lam: np.ndarray  # repeat purchase rate per alive year
    mu: np.ndarray  # dropout rate per year
    death: np.ndarray  # dropout time (days since start)
    spend_mean: np.ndarray  # mean order value, CNY
    exposure: np.ndarray  # seasonal-weighted alive years inside the span after acquisition

    @property
    def alive_start(self) -> np.ndarray:
        """Start of the observable alive window (days)."""
        return np.maximum(self.acq, 0.0)


def _dirichlet(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    g = rng.standard_gamma(alpha)
    g = np.maximum(g, 1e-12)
    return g / g.sum(axis=1, keepdims=True)


def draw_people(rng: np.random.Generator, n: int, cfg: SynthConfig, tl: Timeline) -> People:
    """Draw ``n`` people with demographics, preferences and latent purchase parameters."""
    female = rng.random(n) < cfg.female_share

    age_band, age, birth_year = _draw_age(rng, n, cfg, tl)

    city, tier, district = _draw_city(rng, n, cfg)

    # channel preference, tilted by age: the young buy on platforms (Douyin), the older in stores
    pw = np.tile(np.asarray(cfg.preference_weights, float), (n, 1))
    pw[age < 30, 0] *= 1.25
    pw[age >= 40, 2] *= 1.35
    pw[tier >= 3, 0] *= 1.2
    pref = categorical_draw(rng, pw, np.arange(n))
    mix = np.asarray(cfg.preference_mix, float)
    mix = mix / mix.sum(axis=1, keepdims=True)
    chan_probs = _dirichlet(rng, cfg.preference_concentration * mix[pref] + 0.05)
    young = age < 30
    chan_probs[young, 2] *= 1.5  # douyin
    chan_probs /= chan_probs.sum(axis=1, keepdims=True)

    alpha = np.where(female[:, None], np.array(AFFINITY_ALPHA["F"]), np.array(AFFINITY_ALPHA["M"]))
    affinity = _dirichlet(rng, alpha)

    # latent purchase process -------------------------------------------------------------------
    r = cfg.purchase_rate_shape
    lam0 = rng.gamma(r, cfg.purchase_rate_mean / r, size=n)
    skin = affinity[:, 0]
    rate_mult = (
        np.asarray(cfg.rate_tier_mult)[tier]
        * np.asarray(cfg.rate_age_mult)[age_band]
        * np.maximum(1.0 + cfg.skincare_rate_slope * (skin - skin.mean()), 0.2)
    )
    lam = lam0 * rate_mult / rate_mult.mean()
    s = cfg.dropout_rate_shape
    mu = rng.gamma(s, cfg.dropout_rate_mean / s, size=n)
    p, q = cfg.spend_shape, cfg.spend_q
    gamma_rate = cfg.spend_mean * (q - 1) / p
    nu = rng.gamma(q, 1.0 / gamma_rate, size=n)
    spend_mult = (
        np.asarray(cfg.spend_tier_mult)[tier]
        * np.asarray(cfg.spend_age_mult)[age_band]
        * np.maximum(1.0 + cfg.skincare_spend_slope * (skin - skin.mean()), 0.2)
    )
    spend_mean = (p / nu) * spend_mult / spend_mult.mean()

    # membership and WeChat use depend on preference (and a little on value)
    value_rank = np.argsort(np.argsort(lam, kind="stable"), kind="stable") / max(n - 1, 1)
    p_member = np.asarray(cfg.member_share_by_preference)[pref] * (0.85 + 0.30 * value_rank)
    member = rng.random(n) < np.minimum(p_member, 0.99)
    wechat = rng.random(n) < np.asarray(cfg.wechat_user_share_by_preference)[pref]
    # the brand's own site/app needs an account: non-members buy elsewhere
    chan_probs[~member, SITE] = 0.0
    chan_probs /= chan_probs.sum(axis=1, keepdims=True)

    acq, acq_channel, death, exposure = _draw_acquisition(rng, n, cfg, tl, chan_probs, mu)

    return People(
        n=n,
        female=female,
        age=age,
        age_band=age_band,
        birth_year=birth_year,
        city=city,
        tier=tier,
        district=district,
        pref=pref,
        chan_probs=chan_probs,
        affinity=affinity,
        member=member,
        wechat=wechat,
        acq=acq,
        acq_channel=acq_channel,
        lam=lam,
        mu=mu,
        death=death,
        spend_mean=spend_mean,
        exposure=exposure,
    )


def _draw_age(rng: np.random.Generator, n: int, cfg: SynthConfig, tl: Timeline) -> tuple[np.ndarray, ...]:
    """Age band, age (years at the start) and birth year of ``n`` people."""
    band_w = np.asarray(cfg.age_band_weights, float)
    age_band = rng.choice(len(band_w), size=n, p=band_w / band_w.sum())
    lo = np.array([r[0] for r in AGE_BAND_RANGES])[age_band]
    hi = np.array([r[1] for r in AGE_BAND_RANGES])[age_band]
    # within the 50+ band ages thin out with age
    u = rng.random(n)
    u = np.where(age_band == len(AGE_BAND_RANGES) - 1, u**1.8, u)
    age = lo + np.floor(u * (hi - lo + 1)).astype(np.int64)
    birth_year = tl.start.year - age
    return age_band, age, birth_year


def _draw_city(rng: np.random.Generator, n: int, cfg: SynthConfig) -> tuple[np.ndarray, ...]:
    """City (weighted within its tier by the tier weights), city tier and district of ``n`` people."""
    tier_of_city = np.array([TIERS.index(c[2]) for c in CITIES])
    city_w = np.array([c[3] for c in CITIES], float)
    tier_w = np.asarray(cfg.tier_weights, float)
    tier_total = np.bincount(tier_of_city, weights=city_w, minlength=len(TIERS))
    p_city = city_w / tier_total[tier_of_city] * (tier_w / tier_w.sum())[tier_of_city]
    city = rng.choice(len(CITIES), size=n, p=p_city / p_city.sum())
    tier = tier_of_city[city]
    n_districts = np.array([len(c[4]) for c in CITIES])
    district = np.floor(rng.random(n) * n_districts[city]).astype(np.int64)
    return city, tier, district


def _draw_acquisition(rng: np.random.Generator, n: int, cfg: SynthConfig, tl: Timeline, chan_probs: np.ndarray,
                      mu: np.ndarray) -> tuple[np.ndarray, ...]:
    """Acquisition time and channel (some before the span, the rest along it, seasonal: 双11 brings
    new buyers), dropout time and the alive exposure inside the span, in years."""
    pre = rng.random(n) < cfg.preexisting_share
    acq = np.empty(n)
    acq[pre] = -rng.random(pre.sum()) * cfg.preexisting_years * YEAR_DAYS
    acq[~pre] = tl.unclock(rng.random((~pre).sum()) * tl.cum[-1])
    acq_channel = categorical_draw(rng, chan_probs, np.arange(n))
    # first purchases happen in opening hours (stores) or mostly in the evening (online)
    for rows, hours in (
        (~pre & (acq_channel == STORE), STORE_HOURS),
        (~pre & (acq_channel != STORE), ONLINE_HOURS),
    ):
        acq[rows] = np.minimum(tl.with_time_of_day(rng, acq[rows], hours), np.nextafter(tl.days, 0))
    life_days = rng.exponential(1.0, size=n) / mu * YEAR_DAYS
    death = acq + np.minimum(life_days, 200 * YEAR_DAYS)
    exposure = tl.exposure_years(np.maximum(acq, 0.0), np.minimum(death, tl.days))
    return acq, acq_channel, death, exposure
