"""``generate_world``: simulate the omnichannel world and write ``raw/`` and ``truth/``."""

from __future__ import annotations

import datetime as dt
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from omni._version import __version__
from omni.core.progress import console, say
from omni.memory import release_memory
from omni.synth.behaviour import ADD_TO_CART, PRODUCT_VIEW, service_tickets, web_events
from omni.synth.campaigns import ScheduledCampaign, run_campaigns
from omni.synth.config import UPLIFT_SEGMENTS, SynthConfig
from omni.synth.identities import draw_identities
from omni.synth.mix import MixConfig, default_mix_config, simulate_mix, write_mix
from omni.synth.people import draw_people
from omni.synth.products import PRODUCT_STREAM, draw_products, expected_weights
from omni.synth.purchases import Orders, order_values, organic_orders
from omni.synth.reference import (
    AGE_BANDS,
    CATEGORIES,
    ORDER_CHANNELS,
    PREFERENCES,
    TIERS,
    TOUCH_CHANNELS,
)
from omni.synth.sources import (
    CITY_SHORT,
    PERSON_SOURCES,
    PROVINCE_FULL,
    SOURCE_SPECS,
    Rendered,
    render_assignments,
    render_campaigns,
    render_channel_spend,
    render_crm,
    render_ecom,
    render_market_panel,
    render_order_lines,
    render_platform_members,
    render_pos,
    render_product_views,
    render_products,
    render_tickets,
    render_touchpoints,
    render_web_events,
    render_wechat,
    seq_ids,
)
from omni.synth.state import World
from omni.synth.text import join, take
from omni.synth.timeline import DAY, Timeline
from omni.synth.touches import (
    Touches,
    background_touches,
    intent_touches,
    triggered_orders,
)
from omni.synth.writer import write_csv, write_json, write_parquet, write_yaml

__all__ = ["STAGES", "build_params", "generate_world", "render_sources", "simulate", "write_source",
           "write_truth"]

#: 5M persons (about 100 M records) is the largest world measured on the project machine: 19 min,
#: an 18.6 GB peak (docs/benchmarks.md); the world is held in memory, about 3 GB per million persons.
MIN_PERSONS, MAX_PERSONS = 1_000, 5_000_000
# Every stage draws from its own child of the seed, so changing one stage never shifts another.
STAGES = (
    "people",
    "identities",
    "organic",
    "touches",
    "intent",
    "trigger",
    "campaigns",
    "values",
    "web",
    "tickets",
    "crm_members",
    "web_events",
    "ecom_orders",
    "platform_members",
    "pos_orders",
    "wechat_followers",
    "service_tickets",
    "touchpoints",
    "channel_spend",
    "campaigns_table",
    "campaign_assignments",
    "market_panel",
)


log = logging.getLogger(__name__)


class _Progress:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.t0 = self.last = time.perf_counter()
        if enabled:
            console()

    def step(self, what: str) -> None:
        release_memory()  # each stage's freed scratch back to the OS (GBs at millions of persons)
        now = time.perf_counter()
        if self.enabled:
            say(f"[omni synth] {what}: {now - self.last:.1f}s (total {now - self.t0:.1f}s)", log)
        self.last = now


def _check_args(persons: int, seed: int) -> None:
    if isinstance(persons, bool) or not isinstance(persons, int | np.integer):
        raise ValueError(f"persons must be an integer, got {persons!r}")
    if not MIN_PERSONS <= persons <= MAX_PERSONS:
        raise ValueError(
            f"persons must be between {MIN_PERSONS:,} and {MAX_PERSONS:,}, got {persons:,}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def simulate(
    persons: int,
    seed: int,
    start: str,
    end: str,
    cfg: SynthConfig,
    progress: _Progress | None = None,
) -> World:
    """Run the simulation (no files written)."""
    progress = progress or _Progress(False)
    tl = Timeline(start, end, cfg.seasonality)
    rng = {
        name: np.random.default_rng(s)
        for name, s in zip(STAGES, np.random.SeedSequence(seed).spawn(len(STAGES)), strict=True)
    }
    people = draw_people(rng["people"], persons, cfg, tl)
    ids = draw_identities(rng["identities"], people, cfg, tl)
    progress.step("people and identities")
    organic = organic_orders(rng["organic"], people, ids, tl)
    background = background_touches(rng["touches"], people, ids, cfg, tl)
    intent = intent_touches(rng["intent"], organic, ids, cfg)
    pre = Touches.concat([background, intent])
    pre = pre.take(np.flatnonzero((pre.t >= 0) & (pre.t < tl.days)))
    triggered = triggered_orders(rng["trigger"], pre, people, ids, cfg, tl)
    progress.step("organic orders and touchpoints")
    camp, skipped = run_campaigns(
        rng["campaigns"], people, ids, Orders.concat([organic, triggered]), cfg, tl
    )
    progress.step("campaigns")
    # all touches sorted by time; order.touch re-pointed at the sorted rows
    every = Touches.concat([pre, camp.touches])
    order = np.lexsort((np.arange(len(every)), every.t))
    position = np.empty(len(every), np.int64)
    position[order] = np.arange(len(every))
    touches = every.take(order)
    extra = camp.orders
    extra.touch = np.where(extra.touch >= 0, extra.touch + len(pre), -1)
    orders = Orders.concat([organic, triggered, extra])
    orders.touch = np.where(orders.touch >= 0, position[np.maximum(orders.touch, 0)], -1)
    orders = orders.sorted()
    values = order_values(rng["values"], orders, people, cfg)
    events = web_events(rng["web"], people, ids, orders, values, cfg, tl)
    tickets = service_tickets(rng["tickets"], people, ids, orders, values, cfg, tl)
    progress.step("web events and service tickets")
    # products last, from their own stream: the draws above (and their files) do not change
    products = draw_products(np.random.default_rng([seed, PRODUCT_STREAM]), people, orders, values,
                             events, tl, (PRODUCT_VIEW, ADD_TO_CART))
    progress.step("products, line items and product views")
    return World(
        cfg=cfg,
        tl=tl,
        people=people,
        ids=ids,
        orders=orders,
        values=values,
        touches=touches,
        campaigns=camp,
        events=events,
        tickets=tickets,
        skipped_campaigns=skipped,
        products=products,
    )


RENDERERS = {
    "crm_members": render_crm,
    "web_events": render_web_events,
    "ecom_orders": render_ecom,
    "platform_members": render_platform_members,
    "pos_orders": render_pos,
    "wechat_followers": render_wechat,
    "service_tickets": render_tickets,
    "touchpoints": render_touchpoints,
    "channel_spend": render_channel_spend,
    "campaigns": render_campaigns,
    "campaign_assignments": render_assignments,
    "market_panel": render_market_panel,
}


def render_sources(w: World, seed: int, raw: Path | None = None) -> dict[str, Rendered]:
    """Render every source of the contract (in ``SOURCE_SPECS`` order).

    With ``raw`` each source is written as soon as it is rendered (in a writer thread, while the
    next source renders) and its columns are then dropped; keys, persons and extras are kept for
    the truth. Files do not depend on the thread timing.
    """
    rng = {
        name: np.random.default_rng(s)
        for name, s in zip(STAGES, np.random.SeedSequence(seed).spawn(len(STAGES)), strict=True)
    }
    out: dict[str, Rendered] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for name, render in RENDERERS.items():
            stage = "campaigns_table" if name == "campaigns" else name
            if name == "platform_members":
                r = render_platform_members(w, rng[stage], out["ecom_orders"])
            else:
                r = render(w, rng[stage])
            r.rows = len(r)
            out[name] = r
            if raw is not None:
                if pending is not None:
                    pending.result()  # at most one source waiting to be written
                pending = pool.submit(_write_and_drop, r, raw)
        if w.products is not None:
            # products (issue 19): their own stream, rendered after every other source
            prng = np.random.default_rng([seed, PRODUCT_STREAM, 1])
            for r in (
                render_products(w, prng),
                render_order_lines(w, prng, out["ecom_orders"], out["pos_orders"]),
                render_product_views(w, prng, out["web_events"]),
            ):
                r.rows = len(r)
                out[r.name] = r
                if raw is not None:
                    if pending is not None:
                        pending.result()
                    pending = pool.submit(_write_and_drop, r, raw)
        if pending is not None:
            pending.result()
    return out


def _write_and_drop(r: Rendered, raw: Path) -> None:
    write_source(r, raw)
    r.columns = {}
    release_memory()


def write_source(r: Rendered, raw: Path) -> None:
    """Write one rendered source to ``raw/`` as its spec says (CSV encoding or Parquet)."""
    spec = SOURCE_SPECS[r.name]
    path = raw / spec["file"]
    if spec["format"] == "parquet":
        low_card = [c for c, t in spec["columns"].items() if t == "category"] + [
            c for c in ("campaign_id",) if c in spec["columns"]
        ]
        write_parquet(r.columns, path, dictionary=low_card)
    else:
        write_csv(r.columns, path, spec.get("encoding", "utf-8"))


def generate_world(
    out: str | Path,
    persons: int = 50_000,
    seed: int = 7,
    start: str = "2024-01-01",
    end: str = "2026-10-31",
    progress: bool = False,
    config: SynthConfig | None = None,
    mix: MixConfig | bool = True,
) -> dict:
    """Simulate a beauty/fashion brand's omnichannel customers and write a dataset folder.

    Parameters
    ----------
    out : str or Path
        Dataset folder; ``raw/`` (sources + ``sources.yaml``) and ``truth/`` are written in it.
    persons : int
        Number of people, 1,000 to 5,000,000. Record counts scale linearly (about 20 per
        person); 5M persons take about 19 min and 19 GB of memory.
    seed : int
        Random seed; the same seed (and arguments) gives byte-identical files.
    start, end : str
        First and last day, ``YYYY-MM-DD`` (local time, Asia/Shanghai).
    progress : bool
        Print one line per stage with elapsed seconds on stderr.
    config : SynthConfig, optional
        Every rate and knob; defaults to ``SynthConfig()``.
    mix : MixConfig or bool
        Also write the marketing mix dataset into ``out/mix`` (:mod:`omni.synth.mix`, its own
        random stream: the files above do not change). True: 30 regions (10 below 10,000
        persons, to keep small test worlds quick); False: none.

    Returns
    -------
    dict
        JSON-able summary: ``out`` (path), ``rows`` (source -> rows), ``truth`` (file -> rows),
        ``seconds``.
    """
    _check_args(persons, seed)
    cfg = SynthConfig() if config is None else config
    if not isinstance(cfg, SynthConfig):
        raise ValueError(f"config must be a SynthConfig, got {type(cfg).__name__}")
    clock = _Progress(progress)
    persons = int(persons)
    world = simulate(persons, int(seed), start, end, cfg, clock)
    out = Path(out)
    raw, truth = out / "raw", out / "truth"
    raw.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    rendered = render_sources(world, int(seed), raw)
    write_yaml(
        {
            "dataset": out.resolve().name,
            "timezone": "Asia/Shanghai",
            "currency": "CNY",
            "sources": SOURCE_SPECS,
        },
        raw / "sources.yaml",
    )
    clock.step("render and write raw sources")
    truth_rows = write_truth(world, rendered, truth, persons, int(seed), start, end)
    clock.step("write truth")
    if mix is not False:
        mcfg = mix if isinstance(mix, MixConfig) else default_mix_config(persons)
        # as params.json holds them, so that `omni synth --mix-only` writes the same files
        shares = {c: round(v["share_of_touch_caused"], 10) for c, v in _touch_caused(world.orders).items()}
        mrows = write_mix(simulate_mix(int(seed), start, end, mcfg, shares), out / "mix", int(seed), mcfg)
        truth_rows.update({f"mix/{k}": v for k, v in mrows.items()})
        clock.step("marketing mix")
    rows = {name: r.rows for name, r in rendered.items()}
    return {
        "out": str(out),
        "rows": rows,
        "truth": truth_rows,
        "seconds": round(time.perf_counter() - clock.t0, 2),
    }


# -- truth ---------------------------------------------------------------------------------------
def _person_table(w: World, person_ids: pa.Array) -> pa.Table:
    p, ids, tl = w.people, w.ids, w.tl
    acq_day = tl.epoch0 // DAY + np.floor(p.acq).astype(np.int64)
    death_s = tl.seconds(np.minimum(p.death, tl.days + 100 * 365.25))
    cols = {
        "person_id": person_ids,
        "gender": pa.array(np.where(p.female, "F", "M")),
        "birth_year": pa.array(p.birth_year, pa.int64()),
        "age_band": take(AGE_BANDS, p.age_band),
        "city": take(CITY_SHORT, p.city),
        "province": take(PROVINCE_FULL, p.city),
        "city_tier": take(TIERS, p.tier),
        "acquisition_date": pa.array(acq_day.astype(np.int32), pa.date32()),
        "acquisition_channel": take(ORDER_CHANNELS, p.acq_channel),
        "channel_pref": take(PREFERENCES, p.pref),
    }
    for k, c in enumerate(ORDER_CHANNELS):
        cols[f"mix_{c}"] = pa.array(p.chan_probs[:, k])
    for k, c in enumerate(CATEGORIES):
        cols[f"affinity_{c}"] = pa.array(p.affinity[:, k])
    cols.update(
        {
            "purchase_rate": pa.array(p.lam),
            "dropout_rate": pa.array(p.mu),
            "dropout_time": pa.array(death_s, pa.timestamp("s")),
            "mean_spend": pa.array(p.spend_mean),
            "alive_exposure_years": pa.array(p.exposure),
            "preexisting": pa.array(p.acq < 0),
            "is_member": pa.array(~np.isnan(ids.reg_t)),
            "duplicate_member": pa.array(~np.isnan(ids.reg2_t)),
            "has_email": pa.array(np.asarray(ids.email.is_valid())),
            "wechat_user": pa.array(p.wechat),
            "two_phones": pa.array(ids.phone_second >= 0),
            "phone_changed": pa.array(ids.phone_old >= 0),
            "shares_device": pa.array(ids.share_partner >= 0),
            "kiosk_user": pa.array(ids.kiosk_of >= 0),
        }
    )
    return pa.table(cols)


def write_truth(
    w: World,
    rendered: dict[str, Rendered],
    truth: Path,
    persons: int,
    seed: int,
    start: str,
    end: str,
) -> dict[str, int]:
    """Write ``truth/``: persons, record_person, orders_cause, campaign_truth, params.json."""
    person_ids = seq_ids("P", w.people.n, 8)
    write_parquet(_person_table(w, person_ids), truth / "persons.parquet")

    schema = pa.schema([("record_key", pa.string()), ("person_id", pa.string())])
    n_records = 0
    with pq.ParquetWriter(
        truth / "record_person.parquet",
        schema,
        compression="zstd",
        compression_level=1,
        use_dictionary=False,
    ) as writer:
        for name in PERSON_SOURCES:
            r = rendered[name]
            keys = join(f"{name}:", r.keys)
            writer.write_table(pa.table([keys, person_ids.take(pa.array(r.person))], schema=schema))
            n_records += len(r.keys)

    # orders and their true cause
    touch_keys = join("touchpoints:", rendered["touchpoints"].keys)
    camp_ids = [sc.campaign_id for sc in w.campaigns.scheduled]
    parts = []
    for name in ("ecom_orders", "pos_orders"):
        r = rendered[name]
        rows = r.extra["order_rows"]
        o = w.orders.take(rows)
        parts.append(
            pa.table(
                {
                    "record_key": join(f"{name}:", r.keys),
                    "cause": take(("organic",) + TOUCH_CHANNELS, o.cause),
                    "touch_key": touch_keys.take(pa.array(o.touch, mask=o.touch < 0)),
                    "campaign_id": take(camp_ids, o.campaign)
                    if camp_ids
                    else pa.nulls(len(rows), pa.string()),
                    "acquisition": pa.array(o.acquisition),
                }
            )
        )
    causes = pa.concat_tables(parts)
    write_parquet(causes, truth / "orders_cause.parquet")

    # campaigns
    c = w.campaigns
    ra = rendered["campaign_assignments"]
    order = ra.extra["order"]
    names = [["control", *sc.spec.arms] for sc in c.scheduled]
    offset = np.cumsum([0] + [len(x) for x in names])[:-1].astype(np.int64)
    pool = [a for x in names for a in x]
    camp_k = c.campaign[order]
    ct = pa.table(
        {
            "campaign_id": take(camp_ids, camp_k),
            "record_key": join("campaign_assignments:", ra.keys),
            "person_id": person_ids.take(pa.array(c.person[order])),
            "arm": take(pool, offset[camp_k] + c.arm[order])
            if len(order)
            else pa.nulls(0, pa.string()),
            "eval_arm": take(pool, offset[camp_k] + 1 + c.eval_arm[order])
            if len(order)
            else pa.nulls(0, pa.string()),
            "segment": take(UPLIFT_SEGMENTS, c.segment[order]),
            "city_tier": take(TIERS, w.people.tier[c.person[order]]),
            "contacted": pa.array(c.contacted[order]),
            "alive": pa.array(c.alive[order]),
            "p_extra": pa.array(c.p_extra[order]),
            "p_no_organic": pa.array(c.p_no_organic[order]),
            "uplift_conv": pa.array(c.uplift_conv[order]),
            "uplift_revenue": pa.array(c.uplift_revenue[order]),
            "extra_order": pa.array(c.extra[order]),
        }
    )
    write_parquet(ct, truth / "campaign_truth.parquet")

    if w.products is not None:
        _write_product_truth(w, person_ids, truth)

    params = build_params(w, rendered, causes, persons, seed, start, end)
    write_json(params, truth / "params.json")
    return {
        "persons": w.people.n,
        "record_person": n_records,
        "orders_cause": causes.num_rows,
        "campaign_truth": ct.num_rows,
    }


def build_params(
    w: World,
    rendered: dict[str, Rendered],
    causes: pa.Table,
    persons: int,
    seed: int,
    start: str,
    end: str,
) -> dict:
    """Settings, channel effects, campaign uplift by segment, hard-case and bad-row counts."""
    cfg, p, o, c = w.cfg, w.people, w.orders, w.campaigns
    repeat = (o.cause == 0) & ~o.acquisition
    touch_caused = _touch_caused(o)
    campaigns = [_campaign_params(w, k, sc) for k, sc in enumerate(c.scheduled)]
    bad = {
        name: {
            kind: {"count": len(keys), "record_keys": [f"{name}:{k}" for k in keys]}
            for kind, keys in r.bad_rows.items()
        }
        for name, r in rendered.items()
        if r.bad_rows
    }
    return {
        "generator": "omni.synth",
        "omni_version": __version__,
        "seed": seed,
        "persons": persons,
        "start": str(w.tl.start),
        "end": str(w.tl.end),
        "timezone": "Asia/Shanghai",
        "config": cfg.to_dict(),
        "rows": {name: r.rows for name, r in rendered.items()},
        "latent_process": {
            "mean_purchase_rate": float(p.lam.mean()),
            "configured_purchase_rate_mean": cfg.purchase_rate_mean,
            "mean_dropout_rate": float(p.mu.mean()),
            "mean_spend": float(p.spend_mean.mean()),
            "organic_repeat_orders": int(repeat.sum()),
            "expected_organic_repeat_orders": float((p.lam * p.exposure).sum()),
            "alive_exposure_years": float(p.exposure.sum()),
            "acquisition_orders": int(o.acquisition.sum()),
        },
        "channel_effects": dict(cfg.touch_effects),
        "orders_by_cause": {
            "organic": int((o.cause == 0).sum()),
            **{ch: v["orders"] for ch, v in touch_caused.items()},
        },
        "touch_caused_conversions": touch_caused,
        "uplift_by_segment": dict(cfg.uplift_by_segment),
        "uplift_tier_mult": dict(zip(TIERS, cfg.uplift_tier_mult, strict=True)),
        "campaigns": campaigns,
        "skipped_campaigns": list(w.skipped_campaigns),
        "bad_rows": bad,
        "hard_cases": _hard_cases(w, rendered),
    }


def _touch_caused(o: Orders) -> dict[str, dict[str, Any]]:
    """Orders caused by each touch channel (and how many through a campaign), with their shares."""
    n_orders = len(o)
    touch_caused = {}
    n_touch_caused = int((o.cause > 0).sum())
    for k, ch in enumerate(TOUCH_CHANNELS):
        sel = o.cause == k + 1
        count = int(sel.sum())
        touch_caused[ch] = {
            "orders": count,
            "via_campaign": int((sel & (o.campaign >= 0)).sum()),
            "share_of_orders": count / max(n_orders, 1),
            "share_of_touch_caused": count / max(n_touch_caused, 1),
        }
    return touch_caused


def _campaign_params(w: World, k: int, sc: ScheduledCampaign) -> dict[str, Any]:
    """Campaign ``k``'s settings, assignment counts, configured uplift and realized true uplift."""
    cfg, c = w.cfg, w.campaigns
    sel = c.campaign == k
    realized = {}
    for s, seg in enumerate(UPLIFT_SEGMENTS):
        m = sel & (c.segment == s)
        realized[seg] = {
            "members": int(m.sum()),
            "mean_uplift_conv": float(c.uplift_conv[m].mean()) if m.any() else None,
        }
    arm = c.arm[sel]
    return {
        "campaign_id": sc.campaign_id,
        "name": sc.spec.name,
        "channel": sc.spec.channel,
        "start_date": str(w.tl.start + _days(sc.start)),
        "end_date": str(w.tl.start + _days(sc.end)),
        "arms": list(sc.spec.arms),
        "arm_effects": dict(zip(sc.spec.arms, sc.spec.arm_effects, strict=True)),
        "coupon_values": dict(zip(sc.spec.arms, sc.spec.coupon_values, strict=True)),
        "planned_control_share": sc.spec.control_share,
        "assigned": int(sel.sum()),
        "control_share": float((arm == 0).mean()) if len(arm) else None,
        "contaminated_controls": int((sel & (c.arm == 0) & c.contacted).sum()),
        "extra_orders": int((sel & c.extra).sum()),
        "uplift_by_segment_and_tier": {
            arm_name: {
                seg: {
                    tier: round(min(cfg.uplift_by_segment[seg] * tm * eff, 0.95), 10)
                    for tier, tm in zip(TIERS, cfg.uplift_tier_mult, strict=True)
                }
                for seg in UPLIFT_SEGMENTS
            }
            for arm_name, eff in zip(sc.spec.arms, sc.spec.arm_effects, strict=True)
        },
        "mean_true_uplift_by_segment": realized,
    }


def _hard_cases(w: World, rendered: dict[str, Rendered]) -> dict[str, Any]:
    """Counts of the identity hard cases the world contains (duplicates, shared devices, kiosks...)."""
    ids = w.ids
    pos = rendered["pos_orders"]
    walkin = pos.extra["walkin"]
    kiosk_people = int((ids.kiosk_of >= 0).sum())
    ev = w.events
    kiosk_events = np.isin(ev.cookie, ids.kiosk_ck)
    return {
        "members": int((~np.isnan(ids.reg_t)).sum()),
        "duplicate_members": int((~np.isnan(ids.reg2_t)).sum()),
        "two_phone_persons": int((ids.phone_second >= 0).sum()),
        "phone_changed_persons": int((ids.phone_old >= 0).sum()),
        "shared_device_persons": int((ids.share_partner >= 0).sum()) * 2,
        "kiosks": len(ids.kiosk_dev),
        "kiosk_persons": kiosk_people,
        "kiosk_events": int(kiosk_events.sum()),
        "pos_walkin_orders": int(walkin.sum()),
        "pos_walkin_share": float(walkin.mean()) if len(walkin) else None,
        "pos_default_phone_orders": int(pos.extra["default_phone"].sum()),
        "lat_devices": int(ids.dev_lat.sum()),
        "default_phones": ["13800000000", "13888888888"],
    }


#: Rows of ``truth/taste.parquet`` kept per person (the best by expected lines per order).
TASTE_TOP = 30


def _write_product_truth(w: World, person_ids: pa.Array, truth: Path, chunk: int = 100_000) -> None:
    """``truth/products.parquet`` (the catalogue's latent side) and ``truth/taste.parquet``: per
    person the SKUs of her taste with their expected lines per order (on sale, in season): the
    best achievable ranking (the oracle) follows from it."""
    pw = w.products
    c = pw.catalogue
    skus = c.sku_ids()
    write_parquet(
        {
            "sku": skus,
            "popularity": pa.array(c.pop),
            "repeat_item": pa.array(c.repeat),
            "cycle_days": pa.array(np.where(c.repeat, c.cycle, np.nan)),
            "complement_sku": skus.take(pa.array(c.complement)),
            "launch_day": pa.array(c.launch),
            "season": pa.array(c.season.astype(np.int64)),
        },
        truth / "products.parquet",
    )
    schema = pa.schema([("person_id", pa.string()), ("sku", pa.string()), ("weight", pa.float64())])
    with pq.ParquetWriter(truth / "taste.parquet", schema, compression="zstd",
                          compression_level=1) as writer:
        for s in range(0, w.people.n, chunk):
            rows = np.arange(s, min(s + chunk, w.people.n))
            person, sku, weight = expected_weights(c, pw.tastes, w.people.affinity, rows)
            order = np.lexsort((sku, -weight, person))
            person, sku, weight = person[order], sku[order], weight[order]
            start = np.r_[True, person[1:] != person[:-1]]
            rank = np.arange(len(person)) - np.maximum.accumulate(np.where(start, np.arange(len(person)), 0))
            keep = rank < TASTE_TOP
            writer.write_table(pa.table([person_ids.take(pa.array(person[keep])),
                                         skus.take(pa.array(sku[keep])), pa.array(weight[keep])],
                                        schema=schema))


def _days(k: int) -> dt.timedelta:
    return dt.timedelta(days=int(k))
