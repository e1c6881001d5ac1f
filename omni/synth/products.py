"""Products: a SKU catalogue, people's latent tastes, order line items and product views.

Everything here is drawn from its own random stream (``default_rng([seed, PRODUCT_STREAM])``),
after and independently of the rest of the world, so the files that existed before products did
(orders, events, ...) stay byte-identical for a seed. The order's category (already drawn) is the
category of its first line; line amounts are the order amount split in proportion to quantity x
list price, in cents, the last line absorbing the rounding, so they sum to the order amount.

Tastes (recorded in ``truth/``):

* a SKU has a category, a product line, a price tier, a launch day, a season (all year,
  spring-summer or autumn-winter), a popularity and low-rank factors (its line's centre plus noise);
* a person has low-rank factors; her logit for a SKU is ``u_i . v_j + b_j`` plus a price-tier term
  from her mean spend. Her consideration set is the Gumbel top-5 of each category (one slot is an
  evergreen SKU, so something is always on sale);
* an order's first line is drawn from the set of its category (weights: the softmax of the set,
  times season 1 / 0.15 out of season, 0 before launch, x2 in the 60 days after a launch);
* a repeat buyer has a staple (a consumable SKU) bought again with a probability that grows with
  the days since her previous order over the staple's refill cycle;
* extra lines: the complement of the first line's SKU (bought together) or another draw from a
  category of her affinity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from omni.synth.purchases import Orders, OrderValues
from omni.synth.reference import CATEGORIES
from omni.synth.timeline import Timeline

__all__ = ["PRODUCT_STREAM", "SEASONS", "TIER_NAMES", "Catalogue", "LineItems", "ProductWorld",
           "Tastes", "draw_catalogue", "draw_lines", "draw_products", "draw_tastes", "draw_views",
           "n_skus", "season_factor"]

#: Tag of the products' random stream: ``default_rng([seed, PRODUCT_STREAM])``.
PRODUCT_STREAM = 19
SEASONS = ("all_year", "spring_summer", "autumn_winter")
TIER_NAMES = ("entry", "core", "premium")
SET_SIZE = 5  # consideration slots per category
FACTORS = 8
OUT_OF_SEASON = 0.15
LAUNCH_BOOST_DAYS, LAUNCH_BOOST = 60.0, 2.0
EXTRA_LINES_MEAN = 0.45
COMPLEMENT_SHARE = 0.4
# repeat (consumable) share and base price (CNY) per category
REPEAT_SHARE = (0.6, 0.3, 0.1, 0.6, 0.0, 0.0)
BASE_PRICE = (260.0, 180.0, 420.0, 120.0, 380.0, 220.0)
TIER_PRICE = (0.6, 1.0, 1.9)


def n_skus(persons: int) -> int:
    """Catalogue size: about 100 SKUs for a 3,000-person world, 2,600 at 1M."""
    return int(min(3000, 100 + persons // 400))


@dataclass
class Catalogue:
    """One row per SKU (index = SKU number)."""

    category: np.ndarray  # index into CATEGORIES
    line: np.ndarray  # global product-line number
    line_name: list[str]  # name of each line
    tier: np.ndarray  # index into TIER_NAMES
    price_cents: np.ndarray
    launch: np.ndarray  # launch day (days since start; < 0 before the span)
    season: np.ndarray  # index into SEASONS
    repeat: np.ndarray  # bool: consumable, bought again
    cycle: np.ndarray  # refill cycle, days (repeat items)
    pop: np.ndarray  # popularity logit
    factors: np.ndarray  # (n, FACTORS)
    complement: np.ndarray  # SKU bought together with this one

    def __len__(self) -> int:
        return len(self.category)

    @property
    def evergreen(self) -> np.ndarray:
        return (self.season == 0) & (self.launch < 0)

    def sku_ids(self) -> pa.Array:
        return pa.array([f"SKU{k + 1:05d}" for k in range(len(self))], pa.string())


@dataclass
class Tastes:
    """Each person's consideration sets, staple and repeat propensity."""

    factors: np.ndarray  # (persons, FACTORS) float32
    slots: np.ndarray  # (persons, categories, SET_SIZE) SKU numbers
    logits: np.ndarray  # (persons, categories, SET_SIZE) float32
    staple: np.ndarray  # SKU number
    repeat_p: np.ndarray  # probability of re-buying the staple when due


@dataclass
class LineItems:
    """One row per order line (orders in ``Orders`` row order, lines in line order)."""

    order: np.ndarray  # row in Orders
    line_no: np.ndarray  # 1, 2, ... within the order
    sku: np.ndarray
    quantity: np.ndarray
    cents: np.ndarray  # line amount (sums to the order's cents)


@dataclass
class ProductWorld:
    catalogue: Catalogue
    tastes: Tastes
    lines: LineItems
    view_event: np.ndarray  # rows of Events with a viewed SKU
    view_sku: np.ndarray


def season_factor(season: np.ndarray, month: np.ndarray) -> np.ndarray:
    """1 in season, :data:`OUT_OF_SEASON` out of it (months 1-12; spring-summer = March to August)."""
    summer = (month >= 3) & (month <= 8)
    out_ = ((season == 1) & ~summer) | ((season == 2) & summer)
    return np.where(out_, OUT_OF_SEASON, 1.0)


def _month_of(tl: Timeline, t: np.ndarray) -> np.ndarray:
    day = np.datetime64(tl.start, "D") + np.floor(np.asarray(t, float)).astype("timedelta64[D]")
    return day.astype("datetime64[M]").astype(np.int64) % 12 + 1


def draw_catalogue(rng: np.random.Generator, n: int, tl: Timeline) -> Catalogue:
    """``n`` SKUs across the categories, in product lines, with prices, launches and seasons."""
    n_cat = len(CATEGORIES)
    share = np.array([0.26, 0.22, 0.08, 0.12, 0.20, 0.12])
    counts = np.maximum(np.round(share * n).astype(np.int64), SET_SIZE + 2)
    category = np.repeat(np.arange(n_cat), counts)
    n = len(category)
    lines_per_cat = np.maximum(counts // 10, 2)
    line_offset = np.concatenate([[0], np.cumsum(lines_per_cat)[:-1]])
    line = line_offset[category] + (rng.random(n) * lines_per_cat[category]).astype(np.int64)
    line_name = [f"{CATEGORIES[c]}-{k + 1}" for c in range(n_cat) for k in range(lines_per_cat[c])]
    centres = rng.normal(0.0, 1.0, size=(len(line_name), FACTORS))
    factors = centres[line] + rng.normal(0.0, 0.6, size=(n, FACTORS))
    tier = rng.choice(3, size=n, p=[0.3, 0.5, 0.2])
    price = np.asarray(BASE_PRICE)[category] * np.asarray(TIER_PRICE)[tier] * rng.lognormal(0, 0.15, n)
    price_cents = (np.round(price) * 100 - 10).astype(np.int64)  # ends in .90... like 259.90
    launched_in_span = rng.random(n) < 0.18
    launch = np.where(launched_in_span, rng.uniform(30, tl.days - 1, n), -rng.uniform(30, 1500, n))
    season = rng.choice(3, size=n, p=[0.7, 0.15, 0.15])
    # one evergreen SKU at least per category and line
    first = np.unique(line, return_index=True)[1]
    season[first], launch[first] = 0, -np.abs(launch[first]) - 30
    repeat = rng.random(n) < np.asarray(REPEAT_SHARE)[category]
    cycle = np.where(repeat, rng.uniform(40, 120, n), np.inf)
    pop = rng.normal(0.0, 0.9, n)
    # complement: the closest evergreen SKU of the next category (a cleanser and a serum, ...)
    complement = np.empty(n, np.int64)
    ever = (season == 0) & (launch < 0)
    for c in range(n_cat):
        me = np.flatnonzero(category == c)
        cand = np.flatnonzero((category == (c + 1) % n_cat) & ever)
        sim = factors[me] @ factors[cand].T + pop[cand][None, :]
        complement[me] = cand[np.argmax(sim, axis=1)]
    return Catalogue(category, line, line_name, tier, price_cents, launch, season, repeat, cycle,
                     pop, factors, complement)


def draw_tastes(
    rng: np.random.Generator, cat: Catalogue, spend_mean: np.ndarray, affinity: np.ndarray,
    chunk: int = 50_000,
) -> Tastes:
    """Person factors and, per category, the Gumbel top-5 consideration set (one evergreen slot)."""
    n = len(spend_mean)
    n_cat = affinity.shape[1]
    u = rng.normal(0.0, 1.0 / np.sqrt(FACTORS) * 1.6, size=(n, FACTORS)).astype(np.float32)
    z_spend = ((np.log(spend_mean) - np.log(spend_mean).mean()) / max(np.log(spend_mean).std(), 1e-9))
    v = cat.factors.astype(np.float32)
    slots = np.empty((n, n_cat, SET_SIZE), np.int32)
    logits = np.empty((n, n_cat, SET_SIZE), np.float32)
    ever = cat.evergreen
    members = [np.flatnonzero(cat.category == c) for c in range(n_cat)]
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        base = u[s:e] @ v.T + cat.pop.astype(np.float32)[None, :]
        base += (0.5 * z_spend[s:e, None] * (cat.tier[None, :] - 1)).astype(np.float32)
        g = base - np.log(-np.log(rng.random(base.shape, dtype=np.float32) + 1e-12) + 1e-12)
        for c, m in enumerate(members):
            gc = g[:, m]
            top = np.argpartition(-gc, SET_SIZE - 1, axis=1)[:, :SET_SIZE]
            chosen = m[top]
            has_ever = ever[chosen].any(axis=1)
            if not has_ever.all():  # the last slot becomes the best evergreen SKU
                em = np.flatnonzero(ever[m])
                best = m[em[np.argmax(gc[:, em], axis=1)]]
                worst = np.argmin(np.take_along_axis(gc, top, axis=1), axis=1)
                rows = np.flatnonzero(~has_ever)
                chosen[rows, worst[rows]] = best[rows]
            slots[s:e, c] = chosen
            logits[s:e, c] = np.take_along_axis(base, chosen, axis=1)
    # staple: the consumable with the best Gumbel-perturbed logit
    rep = np.flatnonzero(cat.repeat & cat.evergreen)
    staple = np.empty(n, np.int64)
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        b = u[s:e] @ v[rep].T + cat.pop[rep][None, :]
        b = b - np.log(-np.log(rng.random(b.shape) + 1e-12) + 1e-12)
        staple[s:e] = rep[np.argmax(b, axis=1)]
    repeat_p = rng.beta(2.0, 3.0, n) * np.minimum(1.0, 0.4 + 1.5 * affinity[:, 0])
    return Tastes(u, slots, logits, staple, repeat_p)


def _available(cat: Catalogue, sku: np.ndarray, t: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Sale weight of SKUs at times ``t``: 0 before launch, season factor, launch boost."""
    launch = cat.launch[sku]
    w = season_factor(cat.season[sku], month) * (t >= launch)
    return w * np.where((t >= launch) & (t < launch + LAUNCH_BOOST_DAYS), LAUNCH_BOOST, 1.0)


def _draw_slot(rng: np.random.Generator, cat: Catalogue, tastes: Tastes, person: np.ndarray,
               category: np.ndarray, t: np.ndarray, month: np.ndarray) -> np.ndarray:
    """One SKU per row from the person's consideration set of ``category`` at ``t``."""
    sku = tastes.slots[person, category]  # (m, SET_SIZE)
    lg = tastes.logits[person, category].astype(np.float64)
    w = np.exp(lg - lg.max(axis=1, keepdims=True)) * _available(
        cat, sku, t[:, None], month[:, None])
    cum = np.cumsum(w, axis=1)
    u = rng.random(len(person)) * cum[:, -1]
    k = np.minimum((u[:, None] > cum).sum(axis=1), SET_SIZE - 1)
    return sku[np.arange(len(person)), k]


def draw_lines(rng: np.random.Generator, cat: Catalogue, tastes: Tastes, orders: Orders,
               values: OrderValues, affinity: np.ndarray, tl: Timeline) -> LineItems:
    """Line items of every order: the first in the order's category, staples, complements, extras."""
    n = len(orders)
    person, t = orders.person.astype(np.int64), orders.t
    month = _month_of(tl, t)
    main = _draw_slot(rng, cat, tastes, person, values.category.astype(np.int64), t, month)
    # days since the person's previous order (orders are sorted by time)
    order = np.lexsort((t, person))
    gap = np.full(n, np.inf)
    same = person[order][1:] == person[order][:-1]
    gap[order[1:][same]] = (t[order][1:] - t[order][:-1])[same]
    staple = tastes.staple[person]
    due = np.minimum(1.0, gap / cat.cycle[staple])
    with_staple = (rng.random(n) < tastes.repeat_p[person] * due) & (t >= cat.launch[staple])
    n_extra = np.minimum(rng.poisson(EXTRA_LINES_MEAN, n), 3)
    # extra lines
    e_order = np.repeat(np.arange(n), n_extra)
    comp = cat.complement[main[e_order]]
    use_comp = (rng.random(len(e_order)) < COMPLEMENT_SHARE) & (t[e_order] >= cat.launch[comp])
    cum = np.cumsum(affinity, axis=1)
    cum /= cum[:, -1:]
    e_cat = np.minimum((rng.random(len(e_order))[:, None] > cum[person[e_order]]).sum(axis=1),
                       affinity.shape[1] - 1)
    other = _draw_slot(rng, cat, tastes, person[e_order], e_cat, t[e_order], month[e_order])
    e_sku = np.where(use_comp, comp, other)
    s_order = np.flatnonzero(with_staple)
    # stack: first lines, staples, extras; one line per (order, SKU) with quantities added
    o_all = np.concatenate([np.arange(n), s_order, e_order])
    sku_all = np.concatenate([main, staple[s_order], e_sku])
    rank = np.concatenate([np.zeros(n), np.ones(len(s_order)), 2 + np.arange(len(e_order)) * 0.0])
    qty = 1 + (rng.random(len(o_all)) < 0.12) + (cat.repeat[sku_all] & (rng.random(len(o_all)) < 0.2))
    key = o_all * len(cat) + sku_all
    pos = np.arange(len(key))
    by_key = np.lexsort((pos, rank, key))  # each (order, SKU) together, its first line first
    k_s = key[by_key]
    first = np.r_[True, k_s[1:] != k_s[:-1]]
    q_sum = np.bincount(np.cumsum(first) - 1, weights=qty[by_key]).astype(np.int64)
    keep, q = by_key[first], q_sum
    line_order = np.lexsort((pos[keep], rank[keep], o_all[keep]))
    keep, q = keep[line_order], q[line_order]
    lo, ls = o_all[keep], sku_all[keep]
    starts = np.r_[True, lo[1:] != lo[:-1]]
    line_no = np.arange(len(lo)) - np.maximum.accumulate(np.where(starts, np.arange(len(lo)), 0)) + 1
    cents = _split_cents(values.cents[lo], q * cat.price_cents[ls], lo)
    return LineItems(lo, line_no.astype(np.int64), ls, q, cents)


def _split_cents(order_cents: np.ndarray, weight: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Split each order's cents over its lines by weight; the last line absorbs the rounding."""
    w = weight.astype(np.float64)
    total_w = np.bincount(order, weights=w)[order]
    share = np.floor(order_cents * w / total_w).astype(np.int64)
    last = np.r_[order[1:] != order[:-1], True]
    allotted = np.bincount(order, weights=share.astype(np.float64)).astype(np.int64)[order]
    return np.where(last, share + order_cents - allotted, share)


def draw_views(rng: np.random.Generator, cat: Catalogue, tastes: Tastes, person: np.ndarray,
               t: np.ndarray, etype: np.ndarray, category: np.ndarray, tl: Timeline,
               view_types: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The SKU of each product view and add-to-cart: 75 % from the person's set, else any SKU of
    the category on sale (new launches first: their boost)."""
    rows = np.flatnonzero(np.isin(etype, view_types) & (category >= 0))
    p, c, tt = person[rows].astype(np.int64), category[rows].astype(np.int64), t[rows]
    month = _month_of(tl, tt)
    taste = _draw_slot(rng, cat, tastes, p, c, tt, month)
    # any SKU of the category: uniform, retried against availability once, else the taste pick
    counts = np.bincount(cat.category, minlength=len(CATEGORIES))
    offset = np.concatenate([[0], np.cumsum(counts)[:-1]])
    by_cat = np.argsort(cat.category, kind="stable")
    any_sku = by_cat[offset[c] + (rng.random(len(rows)) * counts[c]).astype(np.int64)]
    ok = _available(cat, any_sku, tt, month) > 0
    sku = np.where((rng.random(len(rows)) < 0.75) | ~ok, taste, any_sku)
    return rows, sku


def expected_weights(cat: Catalogue, tastes: Tastes, affinity: np.ndarray,
                     rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected lines per order of each SKU in the consideration sets, staples and complements
    (on sale, in season, no launch boost) for the people ``rows``: the truth's taste.

    Returns ``(person, sku, weight)`` with one row per (person, SKU), weight > 0.
    """
    m = len(rows)
    lg = tastes.logits[rows].astype(np.float64)
    pi = np.exp(lg - lg.max(axis=2, keepdims=True))
    pi /= pi.sum(axis=2, keepdims=True)
    aff = affinity[rows]
    other = EXTRA_LINES_MEAN * (1 - COMPLEMENT_SHARE)
    w_main = aff[:, :, None] * pi  # P(first line = SKU)
    w = w_main * (1 + other)
    person = np.repeat(rows, lg.shape[1] * lg.shape[2])
    sku = tastes.slots[rows].reshape(-1).astype(np.int64)
    weight = w.reshape(-1)
    comp_w = (w_main * EXTRA_LINES_MEAN * COMPLEMENT_SHARE).reshape(-1)
    staple_w = tastes.repeat_p[rows] * 0.6
    p_all = np.concatenate([person, person, rows])
    s_all = np.concatenate([sku, cat.complement[sku], tastes.staple[rows]])
    w_all = np.concatenate([weight, comp_w, staple_w])
    key = p_all * len(cat) + s_all
    uniq, inv = np.unique(key, return_inverse=True)
    tot = np.bincount(inv, weights=w_all)
    del m
    return uniq // len(cat), uniq % len(cat), tot


def draw_products(rng: np.random.Generator, people, orders: Orders, values: OrderValues, events,
                  tl: Timeline, view_types: tuple[int, ...]) -> ProductWorld:
    """The catalogue, tastes, line items of every order and the SKU of every product view."""
    cat = draw_catalogue(rng, n_skus(people.n), tl)
    tastes = draw_tastes(rng, cat, people.spend_mean, people.affinity)
    lines = draw_lines(rng, cat, tastes, orders, values, people.affinity, tl)
    rows, sku = draw_views(rng, cat, tastes, events.person, events.t, events.etype,
                           events.category, tl, view_types)
    return ProductWorld(cat, tastes, lines, rows, sku)


def launch_dates(cat: Catalogue, tl: Timeline) -> np.ndarray:
    """Launch days as days since 1970-01-01 (int)."""
    start = (tl.start - dt.date(1970, 1, 1)).days
    return start + np.floor(cat.launch).astype(np.int64)
