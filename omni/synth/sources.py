"""Render the simulated world into the source tables of the data contract.

Each ``render_<source>`` returns a :class:`Rendered`: the columns (Arrow arrays, in contract
order), the true person of every row (for ``truth/record_person.parquet``) and the bad rows
injected. :data:`SOURCE_SPECS` is what ``sources.yaml`` says about each source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omni.synth.identities import GIVEN_ALL
from omni.synth.noise import (
    device_strings,
    email_strings,
    inject_bad_rows,
    masked_phones,
    phone_strings,
    take_with_null_likes,
    with_null_likes,
)
from omni.synth.people import SITE, STORE
from omni.synth.reference import (
    AGE_BANDS,
    CATEGORIES,
    CITIES,
    DEFAULT_PHONES,
    EMAIL_DOMAINS,
    EVENT_TYPES,
    GIVEN_F,
    GIVEN_M,
    ORDER_CHANNELS,
    PANEL_ADULTS,
    PANEL_AGE_SHARES,
    PANEL_MALE_SHARE,
    PANEL_TIER_SHARES,
    PANEL_YOUNG_CITY_TILT,
    PROVINCE_SHORT,
    REGISTER_CHANNELS,
    SURNAMES,
    TICKET_TOPICS,
    TIERS,
    TOUCH_CHANNELS,
    TOUCH_TYPES,
)
from omni.synth.state import World
from omni.synth.text import (
    assemble,
    cat,
    date_strings,
    digit_matrix,
    fixed_strings,
    int_strings,
    join,
    money,
    take,
    timestamp_strings,
    unique_ints,
)
from omni.synth.touches import VIA_COOKIE, VIA_DEVICE, VIA_EMAIL, VIA_OPENID, VIA_PHONE

__all__ = ["CITY_SHORT", "PERSON_SOURCES", "PROVINCE_FULL", "Rendered", "SOURCE_SPECS",
           "market_panel_counts", "member_at", "member_ids", "render_assignments",
           "render_campaigns", "render_channel_spend", "render_crm", "render_ecom",
           "render_market_panel", "render_platform_members", "render_pos", "render_tickets",
           "render_order_lines", "render_product_views", "render_products", "render_touchpoints",
           "render_web_events", "render_wechat", "seq_ids"]

LOCAL_TZ = "Asia/Shanghai"
CITY_SHORT = [c[0] for c in CITIES]
CITY_FULL = [c[0] + "市" for c in CITIES]
PROVINCE_FULL = [c[1] for c in CITIES]
PROVINCE_ABBR = [
    PROVINCE_SHORT.get(p, p.removesuffix("省").removesuffix("市")) for p in PROVINCE_FULL
]
DISTRICTS = [d for c in CITIES for d in c[4]]
DISTRICT_OFFSET = np.cumsum([0] + [len(c[4]) for c in CITIES])[:-1]
ECOM_STATUS = ("paid", "refunded", "cancelled")
POS_STATUS = ("paid", "refunded")

# cost per touch (CNY) by channel and type, for channel_spend
UNIT_COST = {
    ("search", "click"): 2.2,
    ("search", "impression"): 0.004,
    ("display", "impression"): 0.028,
    ("display", "click"): 0.0,
    ("social_kol", "impression"): 0.06,
    ("social_kol", "click"): 0.3,
    ("sms", "send"): 0.05,
    ("email", "send"): 0.004,
    ("wechat_push", "send"): 0.002,
}


def _spec(
    file: str,
    key: str,
    columns: dict[str, str],
    required: list[str],
    identifiers: list[dict] | None = None,
    quasi: list[dict] | None = None,
    pii: list[str] | None = None,
    fmt: str = "csv",
    encoding: str = "utf-8",
    timezone: str = LOCAL_TZ,
    amounts: list[str] | None = None,
    role: str | None = None,
    column_map: dict[str, str] | None = None,
) -> dict:
    spec: dict = {"file": file, "format": fmt}
    if fmt == "csv":
        spec["encoding"] = encoding
    spec.update(
        {
            "timezone": timezone,
            "key": key,
            "columns": columns,
            "required": required,
            "identifiers": identifiers or [],
            "quasi_identifiers": quasi or [],
            "pii": pii or [],
        }
    )
    if amounts:
        spec["amounts"] = amounts
    if role:
        spec["role"] = role
        spec["map"] = column_map or {}
    return spec


def _id(column: str, type_: str, scope: str | None = None) -> dict:
    return {"column": column, "type": type_, **({"scope": scope} if scope else {})}


SOURCE_SPECS: dict[str, dict] = {
    "crm_members": _spec(
        "crm_members.csv",
        "member_id",
        {
            "member_id": "string",
            "phone": "string",
            "email": "string",
            "unionid": "string",
            "name": "string",
            "gender": "category",
            "birth_year": "int",
            "city": "string",
            "register_time": "datetime",
            "register_channel": "category",
            "marketing_opt_out": "bool",
        },
        ["member_id", "register_time"],
        [
            _id("member_id", "member_id"),
            _id("phone", "phone"),
            _id("email", "email"),
            _id("unionid", "unionid"),
        ],
        [_id("name", "name"), _id("city", "address")],
        ["phone", "email", "unionid", "name"],
    ),
    "web_events": _spec(
        "web_events.parquet",
        "event_id",
        {
            "event_id": "string",
            "cookie_id": "string",
            "device_id": "string",
            "member_id": "string",
            "event_time": "datetime",
            "event_type": "category",
            "category": "category",
        },
        ["event_id", "event_time"],
        [
            _id("cookie_id", "cookie_id"),
            _id("device_id", "device_id"),
            _id("member_id", "member_id"),
        ],
        pii=["cookie_id", "device_id"],
        fmt="parquet",
        role="events",
    ),
    "ecom_orders": _spec(
        "ecom_orders.csv",
        "order_id",
        {
            "order_id": "string",
            "platform": "category",
            "buyer_id": "string",
            "member_id": "string",
            "order_time": "datetime",
            "amount": "float",
            "status": "category",
            "category": "category",
            "receiver_name": "string",
            "receiver_phone": "string",
            "province": "string",
            "city": "string",
            "district": "string",
            "address": "string",
        },
        ["order_id", "platform", "order_time", "amount"],
        [_id("buyer_id", "platform_buyer", "platform"), _id("member_id", "member_id")],
        [
            _id("receiver_name", "name"),
            _id("receiver_phone", "masked_phone"),
            _id("province", "address"),
            _id("city", "address"),
            _id("district", "address"),
            _id("address", "address"),
        ],
        ["buyer_id", "receiver_name", "receiver_phone", "address"],
        amounts=["amount"],
        role="orders",
        column_map={"channel": "platform"},
    ),
    "platform_members": _spec(
        "platform_members.csv",
        "binding_id",
        {
            "binding_id": "string",
            "platform": "category",
            "buyer_id": "string",
            "phone": "string",
            "bind_time": "datetime",
        },
        ["binding_id", "platform", "buyer_id"],
        [_id("buyer_id", "platform_buyer", "platform"), _id("phone", "phone")],
        pii=["buyer_id", "phone"],
    ),
    "pos_orders": _spec(
        "pos_orders.csv",
        "order_id",
        {
            "order_id": "string",
            "store_id": "string",
            "city": "string",
            "member_card": "string",
            "phone": "string",
            "order_time": "datetime",
            "amount": "float",
            "status": "category",
            "category": "category",
        },
        ["order_id", "store_id", "order_time", "amount"],
        [_id("member_card", "member_id"), _id("phone", "phone")],
        pii=["phone"],
        encoding="gbk",
        amounts=["amount"],
        role="orders",
        column_map={"channel": "=store"},
    ),
    "wechat_followers": _spec(
        "wechat_followers.csv",
        "follower_id",
        {
            "follower_id": "string",
            "app_id": "category",
            "openid": "string",
            "unionid": "string",
            "phone": "string",
            "follow_time": "datetime",
        },
        ["follower_id", "app_id", "openid"],
        [_id("openid", "openid", "app_id"), _id("unionid", "unionid"), _id("phone", "phone")],
        pii=["openid", "unionid", "phone"],
    ),
    "service_tickets": _spec(
        "service_tickets.csv",
        "ticket_id",
        {
            "ticket_id": "string",
            "phone": "string",
            "openid": "string",
            "app_id": "category",
            "created_time": "datetime",
            "topic": "category",
        },
        ["ticket_id", "created_time"],
        [_id("phone", "phone"), _id("openid", "openid", "app_id")],
        pii=["phone", "openid"],
        timezone="UTC",
    ),
    "touchpoints": _spec(
        "touchpoints.parquet",
        "touch_id",
        {
            "touch_id": "string",
            "device_id": "string",
            "cookie_id": "string",
            "phone": "string",
            "email": "string",
            "openid": "string",
            "app_id": "category",
            "touch_time": "datetime",
            "channel": "category",
            "touch_type": "category",
            "campaign_id": "string",
        },
        ["touch_id", "touch_time", "channel"],
        [
            _id("device_id", "device_id"),
            _id("cookie_id", "cookie_id"),
            _id("phone", "phone"),
            _id("email", "email"),
            _id("openid", "openid", "app_id"),
        ],
        pii=["device_id", "cookie_id", "phone", "email", "openid"],
        fmt="parquet",
        role="touchpoints",
    ),
    "channel_spend": _spec(
        "channel_spend.csv",
        "spend_id",
        {"spend_id": "string", "date": "date", "channel": "category", "spend": "float"},
        ["spend_id", "date", "channel", "spend"],
        amounts=["spend"],
    ),
    "campaigns": _spec(
        "campaigns.csv",
        "campaign_id",
        {
            "campaign_id": "string",
            "name": "string",
            "channel": "category",
            "start_date": "date",
            "end_date": "date",
            "arms": "string",
            "control_share": "float",
            "cost_per_contact": "float",
            "coupon_value": "string",
        },
        ["campaign_id", "start_date", "end_date"],
    ),
    "campaign_assignments": _spec(
        "campaign_assignments.csv",
        "assignment_id",
        {
            "assignment_id": "string",
            "campaign_id": "string",
            "member_id": "string",
            "arm": "category",
            "assigned_time": "datetime",
            "contacted": "bool",
        },
        ["assignment_id", "campaign_id", "member_id", "arm"],
        [_id("member_id", "member_id")],
        role="campaign_assignments",
    ),
    "market_panel": _spec(
        "market_panel.csv",
        "cell_id",
        {
            "cell_id": "string",
            "gender": "category",
            "age_band": "category",
            "city_tier": "category",
            "population": "int",
        },
        ["cell_id", "gender", "age_band", "city_tier", "population"],
    ),
    # products (issue 19): the catalogue, order line items and the SKU of product views
    "products": _spec(
        "products.csv",
        "sku",
        {
            "sku": "string",
            "product_line": "string",
            "category": "category",
            "price_tier": "category",
            "list_price": "float",
            "launch_date": "date",
            "season": "category",
            "repeat_item": "bool",
        },
        ["sku", "category", "list_price"],
        amounts=["list_price"],
    ),
    "order_lines": _spec(
        "order_lines.csv",
        "line_id",
        {
            "line_id": "string",
            "order_source": "category",
            "order_id": "string",
            "line_no": "int",
            "sku": "string",
            "quantity": "int",
            "unit_price": "float",
            "amount": "float",
        },
        ["line_id", "order_source", "order_id", "sku", "quantity", "amount"],
        amounts=["unit_price", "amount"],
    ),
    "product_views": _spec(
        "product_views.parquet",
        "event_id",
        {"event_id": "string", "sku": "string"},
        ["event_id", "sku"],
        fmt="parquet",
    ),
}
PERSON_SOURCES = (
    "crm_members",
    "web_events",
    "ecom_orders",
    "platform_members",
    "pos_orders",
    "wechat_followers",
    "service_tickets",
    "touchpoints",
    "campaign_assignments",
)


@dataclass
class Rendered:
    """One source ready to write."""

    name: str
    columns: dict[str, pa.Array]
    person: np.ndarray | None = None  # true person of each row
    keys: pa.Array | None = None  # key of each row before bad-row injection
    bad_rows: dict[str, list[str]] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    rows: int = 0  # number of rows (kept after the columns are written and dropped)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))


# -- small helpers ------------------------------------------------------------------------------
def seq_ids(prefix: str, n: int, width: int, start: int = 1) -> pa.Array:
    """``prefix`` + zero-padded sequence numbers."""
    return fixed_strings(cat(n, prefix, digit_matrix(start + np.arange(n), width)))


def member_ids(numbers: np.ndarray) -> pa.Array:
    """Member numbers (-1 = none) -> ``M########``."""
    numbers = np.asarray(numbers, np.int64)
    ok = np.flatnonzero(numbers >= 0)
    return assemble(
        len(numbers), [(ok, fixed_strings(cat(len(ok), "M", digit_matrix(numbers[ok], 8))))]
    )


def member_at(rng: np.random.Generator, w: World, person: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Member number used at ``t``: the duplicate registration half the time once it exists."""
    ids = w.ids
    primary = np.where(t >= ids.reg_t[person], ids.member_no[person], -1)
    dup = (t >= ids.reg2_t[person]) & (rng.random(len(person)) < 0.5)
    return np.where(dup, ids.member2_no[person], primary)


def _bool_nulls(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


# -- person-bearing sources ----------------------------------------------------------------------
def render_crm(w: World, rng: np.random.Generator) -> Rendered:
    ids, cfg = w.ids, w.cfg
    prim = np.flatnonzero(~np.isnan(ids.reg_t))
    dup = np.flatnonzero(~np.isnan(ids.reg2_t))
    person = np.concatenate([prim, dup])
    is_dup = np.concatenate([np.zeros(len(prim), bool), np.ones(len(dup), bool)])
    number = np.concatenate([ids.member_no[prim], ids.member2_no[dup]])
    reg = np.concatenate([ids.reg_t[prim], ids.reg2_t[dup]])
    order = np.argsort(number, kind="stable")
    person, is_dup, number, reg = person[order], is_dup[order], number[order], reg[order]
    n = len(person)

    u = rng.random(n)
    later_phone = ids.phone_at(rng, person, reg, 0.6)
    phone = np.where(is_dup & (u >= 0.5), later_phone, ids.crm_phone[person])
    junk = rng.random(n) < cfg.crm_default_phone_rate
    phone = np.where(junk, int(DEFAULT_PHONES[0]), phone)

    has_email = ids.crm_email[person]
    base_email = ids.email.take(pa.array(person))
    domains = [d for d, _ in EMAIL_DOMAINS]
    other = join(
        pc.replace_substring_regex(base_email, "@.*$", ""),
        int_strings(rng.integers(1, 100, size=n)),
        "@",
        take(domains, rng.integers(0, len(domains), size=n)),
    )
    u = rng.random(n)
    dup_email = pc.if_else(
        pa.array(u < cfg.duplicate_other_email),
        other,
        pc.if_else(
            pa.array(u < cfg.duplicate_other_email + 0.3), base_email, pa.nulls(n, pa.string())
        ),
    )
    email = pc.if_else(
        pa.array(is_dup),
        dup_email,
        pc.if_else(pa.array(has_email), base_email, pa.nulls(n, pa.string())),
    )

    union_ok = (ids.register_channel[person] == REGISTER_CHANNELS.index("wechat_mp")) | (
        rng.random(n) < 0.3
    )
    union_ok &= ~is_dup | (rng.random(n) < 0.1)
    unionid = pc.if_else(
        pa.array(union_ok), ids.unionid.take(pa.array(person)), pa.nulls(n, pa.string())
    )
    typo = pa.array(rng.random(n) < cfg.name_typo_rate)
    name = pc.if_else(typo, ids.name_typo.take(pa.array(person)), ids.name.take(pa.array(person)))
    gender = pa.array(
        np.where(w.people.female[person], "F", "M"), pa.string(), mask=_bool_nulls(rng, n, 0.03)
    )
    birth = pa.array(w.people.birth_year[person], pa.int64(), mask=_bool_nulls(rng, n, 0.10))
    city = take(CITY_SHORT, np.where(_bool_nulls(rng, n, 0.02), -1, w.people.city[person]))
    chan = np.where(is_dup, rng.choice([1, 2, 0, 3], size=n), ids.register_channel[person])
    opt = np.where(is_dup, rng.random(n) < cfg.marketing_opt_out, ids.opt_out[person])
    keys = member_ids(number)
    cols = {
        "member_id": keys,
        "phone": phone_strings(rng, phone, cfg),
        "email": email_strings(rng, email, cfg),
        "unionid": with_null_likes(rng, unionid, cfg.null_like_rate),
        "name": name,
        "gender": gender,
        "birth_year": birth,
        "city": city,
        "register_time": timestamp_strings(w.tl.seconds(reg)),
        "register_channel": take(REGISTER_CHANNELS, chan),
        "marketing_opt_out": pa.array(opt.astype(bool)),
    }
    bad = inject_bad_rows(
        rng, cols, keys, {"bad_date": "register_time", "missing_key": "member_id"}, cfg.bad_row_rate
    )
    return Rendered("crm_members", cols, person, keys, bad)


def render_web_events(w: World, rng: np.random.Generator) -> Rendered:
    ev, ids, cfg = w.events, w.ids, w.cfg
    n = len(ev.person)
    keys = seq_ids("EV", n, 11)
    rate = cfg.null_like_rate / 10
    dev = device_strings(rng, ev.device, ids.dev_ids, ids.dev_lat, cfg, null_rate=rate)
    cols = {
        "event_id": keys,
        "cookie_id": take_with_null_likes(rng, ids.ck_ids, ev.cookie, rate),
        "device_id": dev,
        "member_id": with_null_likes(rng, member_ids(ev.member), rate),
        "event_time": pa.array(w.tl.seconds(ev.t) * 1000, pa.timestamp("ms")),
        "event_type": take(EVENT_TYPES, ev.etype),
        "category": take(CATEGORIES, ev.category),
    }
    return Rendered("web_events", cols, ev.person, keys)


def _platform_ids(rng: np.random.Generator, platform: np.ndarray) -> pa.Array:
    """Distinct buyer ids as the platforms show them: ``tb_`` + 10 letters/digits, ``jd_`` + 12,
    ``dy_`` + 12 digits (a repeated id would glue two people together)."""
    n = len(platform)
    groups = []
    for k, (prefix, base, width) in enumerate(
        ((b"tb_", 36, 10), (b"jd_", 36, 12), (b"dy_", 10, 12))
    ):
        idx = np.flatnonzero(platform == k)
        values = unique_ints(rng, len(idx), base ** (width - 1), base**width)
        groups.append(
            (idx, fixed_strings(cat(len(idx), prefix, digit_matrix(values, width, base))))
        )
    return assemble(n, groups)


def render_ecom(w: World, rng: np.random.Generator) -> Rendered:
    o, ids, cfg, ppl = w.orders, w.ids, w.cfg, w.people
    rows = np.flatnonzero(o.channel != STORE)
    person, t, chan = o.person[rows], o.t[rows], o.channel[rows]
    n = len(rows)
    # order numbers in each platform's style, increasing with time
    groups = []
    for k, (base, width, step) in enumerate(
        (
            (3_412_000_000_000_000_000, 19, 1_000_000_000),
            (281_000_000_000, 12, 1000),
            (6_920_000_000_000_000_000, 19, 1_000_000_000),
        )
    ):
        idx = np.flatnonzero(chan == k)
        num = base + np.arange(len(idx), dtype=np.int64) * step + rng.integers(0, step, len(idx))
        groups.append((idx, fixed_strings(digit_matrix(num, width))))
    idx = np.flatnonzero(chan == SITE)
    groups.append((idx, seq_ids("SO", len(idx), 10, start=1_000_000_001)))
    keys = assemble(n, groups)
    # buyer ids: one per (person, platform); own-site buyers show their site account id
    plat = chan < SITE
    code = person[plat] * 3 + chan[plat]
    uniq, first, inv = np.unique(code, return_index=True, return_inverse=True)
    pair_ids = _platform_ids(rng, uniq % 3)
    site_acct = fixed_strings(cat(len(idx), "U", digit_matrix(ids.site_account[person[idx]], 9)))
    buyer = assemble(n, [(np.flatnonzero(plat), pair_ids.take(pa.array(inv))), (idx, site_acct)])
    member = np.full(n, -1, np.int64)
    member[idx] = member_at(rng, w, person[idx], t[idx])
    # receiver: the buyer (sometimes mistyped) or a family member with the same surname
    u = rng.random(n)
    typo = u < cfg.name_typo_rate
    family = (u >= cfg.name_typo_rate) & (u < cfg.name_typo_rate + cfg.family_receiver_rate)
    given = np.where(
        rng.random(n) < 0.6,
        rng.integers(0, len(GIVEN_F), n),
        len(GIVEN_F) + rng.integers(0, len(GIVEN_M), n),
    )
    fam_name = join(take([s for s, _ in SURNAMES], ids.surname[person]), take(GIVEN_ALL, given))
    pa_person = pa.array(person)
    name = pc.if_else(pa.array(typo), ids.name_typo.take(pa_person), ids.name.take(pa_person))
    name = pc.if_else(pa.array(family), fam_name, name)
    phone = ids.phone_at(rng, person, t, cfg.second_phone_use)
    other = ids.phone[rng.integers(0, ppl.n, size=n)]
    phone = np.where(family, other, phone)
    # address: home (as written, or another way of writing it) or work
    work = rng.random(n) < cfg.work_address_rate
    alt = rng.random(n) < cfg.address_variant_rate
    address = pc.if_else(
        pa.array(alt), ids.home_address_alt.take(pa_person), ids.home_address.take(pa_person)
    )
    address = pc.if_else(pa.array(work), ids.work_address.take(pa_person), address)
    city_i = ppl.city[person]
    district = np.where(work, ids.work_district[person], ppl.district[person])
    short_prov = rng.random(n) < 0.3
    short_city = rng.random(n) < 0.3
    values = w.values
    cols = {
        "order_id": keys,
        "platform": take(ORDER_CHANNELS, chan),
        "buyer_id": with_null_likes(rng, buyer, cfg.null_like_rate),
        "member_id": with_null_likes(rng, member_ids(member), cfg.null_like_rate / 10),
        "order_time": timestamp_strings(w.tl.seconds(t)),
        "amount": money(values.cents[rows]),
        "status": take(ECOM_STATUS, values.status[rows]),
        "category": take(CATEGORIES, values.category[rows]),
        "receiver_name": name,
        "receiver_phone": masked_phones(phone),
        "province": pc.if_else(
            pa.array(short_prov), take(PROVINCE_ABBR, city_i), take(PROVINCE_FULL, city_i)
        ),
        "city": pc.if_else(pa.array(short_city), take(CITY_SHORT, city_i), take(CITY_FULL, city_i)),
        "district": take(DISTRICTS, DISTRICT_OFFSET[city_i] + district),
        "address": address,
    }
    bad = inject_bad_rows(
        rng,
        cols,
        keys,
        {
            "bad_date": "order_time",
            "negative_amount": "amount",
            "non_numeric_amount": "amount",
            "missing_key": "order_id",
        },
        cfg.bad_row_rate,
    )
    first_t = t[np.flatnonzero(plat)][first]
    return Rendered(
        "ecom_orders",
        cols,
        person,
        keys,
        bad,
        extra={"order_rows": rows, "pairs": uniq, "pair_ids": pair_ids, "pair_first_t": first_t},
    )


def render_platform_members(w: World, rng: np.random.Generator, ecom: Rendered) -> Rendered:
    cfg = w.cfg
    pairs, pair_ids, first_t = (
        ecom.extra["pairs"],
        ecom.extra["pair_ids"],
        ecom.extra["pair_first_t"],
    )
    bind = np.flatnonzero(rng.random(len(pairs)) < cfg.platform_bind_share)
    person, platform = pairs[bind] // 3, pairs[bind] % 3
    t = first_t[bind] + rng.exponential(20.0, size=len(bind))
    keep = t < w.tl.days
    bind, person, platform, t = bind[keep], person[keep], platform[keep], t[keep]
    order = np.lexsort((bind, t))
    bind, person, platform, t = bind[order], person[order], platform[order], t[order]
    n = len(bind)
    keys = seq_ids("BD", n, 9)
    phone = w.ids.phone_at(rng, person, t, cfg.second_phone_use)
    cols = {
        "binding_id": keys,
        "platform": take(ORDER_CHANNELS, platform),
        "buyer_id": pair_ids.take(pa.array(bind)),
        "phone": phone_strings(rng, phone, cfg),
        "bind_time": timestamp_strings(w.tl.seconds(t)),
    }
    return Rendered("platform_members", cols, person, keys)


def render_pos(w: World, rng: np.random.Generator) -> Rendered:
    o, ids, cfg = w.orders, w.ids, w.cfg
    rows = np.flatnonzero(o.channel == STORE)
    person, t = o.person[rows], o.t[rows]
    n = len(rows)
    n_stores = len(ids.store_city)
    store = np.where(rng.random(n) < 0.85, ids.home_store[person], rng.integers(0, n_stores, n))
    day = w.tl.day_number(t)
    order = np.lexsort((t, day, store))
    s_sorted, d_sorted = store[order], day[order]
    new_group = np.ones(n, bool)
    new_group[1:] = (s_sorted[1:] != s_sorted[:-1]) | (d_sorted[1:] != d_sorted[:-1])
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    seq = np.empty(n, np.int64)
    seq[order] = np.arange(n) - group_start + 1
    ymd = pc.replace_substring(date_strings(day), "-", "")
    keys = join(
        ids.store_ids.take(pa.array(store)), "-", ymd, "-", fixed_strings(digit_matrix(seq, 4))
    )
    walkin = rng.random(n) < cfg.pos_walkin_share
    registered = t >= ids.reg_t[person]
    card = ~walkin & registered & (rng.random(n) < cfg.pos_card_share)
    card_no = np.where(card, member_at(rng, w, person, t), -1)
    phone = np.where(~walkin & ~card, ids.phone_at(rng, person, t, cfg.second_phone_use), -1)
    default = walkin & (rng.random(n) < cfg.pos_default_phone_rate)
    default_no = np.where(rng.random(n) < 0.85, int(DEFAULT_PHONES[0]), int(DEFAULT_PHONES[1]))
    phone = np.where(default, default_no, phone)
    values = w.values
    cols = {
        "order_id": keys,
        "store_id": ids.store_ids.take(pa.array(store)),
        "city": take(CITY_SHORT, ids.store_city[store]),
        "member_card": with_null_likes(rng, member_ids(card_no), cfg.null_like_rate),
        "phone": phone_strings(rng, phone, cfg),
        "order_time": timestamp_strings(w.tl.seconds(t)),
        "amount": money(values.cents[rows]),
        "status": take(POS_STATUS, np.minimum(values.status[rows], 1)),
        "category": take(CATEGORIES, values.category[rows]),
    }
    bad = inject_bad_rows(
        rng,
        cols,
        keys,
        {
            "bad_date": "order_time",
            "negative_amount": "amount",
            "non_numeric_amount": "amount",
            "missing_key": "order_id",
        },
        cfg.bad_row_rate,
    )
    return Rendered(
        "pos_orders",
        cols,
        person,
        keys,
        bad,
        extra={"order_rows": rows, "walkin": walkin, "default_phone": default},
    )


def render_wechat(w: World, rng: np.random.Generator) -> Rendered:
    ids, cfg = w.ids, w.cfg
    person, app = np.nonzero(ids.follow)
    t = ids.follow_t[person, app]
    order = np.lexsort((app, person, t))
    person, app, t = person[order], app[order], t[order]
    n = len(person)
    keys = seq_ids("FL", n, 9)
    bound = rng.random(n) < np.asarray(cfg.wechat_phone_bound)[app]
    phone = np.where(bound, ids.phone_at(rng, person, t, cfg.second_phone_use), -1)
    cols = {
        "follower_id": keys,
        "app_id": take(ids.app_ids, app),
        "openid": ids.openid_values.take(pa.array(ids.openid[person, app])),
        "unionid": with_null_likes(rng, ids.unionid.take(pa.array(person)), cfg.null_like_rate),
        "phone": phone_strings(rng, phone, cfg),
        "follow_time": timestamp_strings(w.tl.seconds(t)),
    }
    return Rendered("wechat_followers", cols, person, keys)


def render_tickets(w: World, rng: np.random.Generator) -> Rendered:
    tk, ids, cfg = w.tickets, w.ids, w.cfg
    n = len(tk.person)
    keys = seq_ids("CS", n, 9)
    has_app = tk.app >= 0
    oid = np.where(has_app, ids.openid[tk.person, np.maximum(tk.app, 0)], -1)
    utc = w.tl.seconds(tk.t) - 8 * 3600  # written in UTC by the service system
    cols = {
        "ticket_id": keys,
        "phone": phone_strings(rng, tk.phone, cfg),
        "openid": take_with_null_likes(rng, ids.openid_values, oid, cfg.null_like_rate),
        "app_id": take(ids.app_ids, tk.app),
        "created_time": timestamp_strings(utc),
        "topic": take(TICKET_TOPICS, tk.topic),
    }
    bad = inject_bad_rows(
        rng, cols, keys, {"bad_date": "created_time", "missing_key": "ticket_id"}, cfg.bad_row_rate
    )
    return Rendered("service_tickets", cols, tk.person, keys, bad)


def render_touchpoints(w: World, rng: np.random.Generator) -> Rendered:
    tp, ids, cfg = w.touches, w.ids, w.cfg
    n = len(tp.person)
    keys = seq_ids("TP", n, 11)
    rate = cfg.null_like_rate / 10
    dev_rows = tp.via == VIA_DEVICE
    device = np.where(dev_rows, ids.dev[tp.person, np.minimum(tp.slot, 1)], -1)
    ck_rows = tp.via == VIA_COOKIE
    cookie = np.where(ck_rows, ids.ck[tp.person, tp.slot], -1)
    ph_rows = np.flatnonzero(tp.via == VIA_PHONE)
    em_rows = np.flatnonzero(tp.via == VIA_EMAIL)
    oid_rows = tp.via == VIA_OPENID
    oid = np.where(oid_rows, ids.openid[tp.person, 0], -1)
    camp_ids = [sc.campaign_id for sc in w.campaigns.scheduled]
    cols = {
        "touch_id": keys,
        "device_id": device_strings(rng, device, ids.dev_ids, ids.dev_lat, cfg, null_rate=rate),
        "cookie_id": take_with_null_likes(rng, ids.ck_ids, cookie, rate),
        "phone": assemble(
            n,
            [
                (
                    ph_rows,
                    phone_strings(rng, ids.crm_phone[tp.person[ph_rows]], cfg, null_likes=False),
                )
            ],
        ),
        "email": assemble(
            n, [(em_rows, email_strings(rng, ids.email.take(pa.array(tp.person[em_rows])), cfg))]
        ),
        "openid": take(ids.openid_values, oid),
        "app_id": take(ids.app_ids, np.where(oid_rows, 0, -1)),
        "touch_time": pa.array(w.tl.seconds(tp.t) * 1000, pa.timestamp("ms")),
        "channel": take(TOUCH_CHANNELS, tp.channel),
        "touch_type": take(TOUCH_TYPES, tp.ttype),
        "campaign_id": take(camp_ids, tp.campaign) if camp_ids else pa.nulls(n, pa.string()),
    }
    return Rendered("touchpoints", cols, tp.person, keys)


def render_assignments(w: World, rng: np.random.Generator) -> Rendered:
    c = w.campaigns
    order = np.lexsort((c.person, c.assigned_t, c.campaign))
    n = len(order)
    keys = seq_ids("AS", n, 9)
    names = [["control", *sc.spec.arms] for sc in c.scheduled]
    offset = np.cumsum([0] + [len(x) for x in names])[:-1].astype(np.int64)
    arm_pool = [a for x in names for a in x]
    arm_idx = offset[c.campaign[order]] + c.arm[order] if n else np.empty(0, np.int64)
    cols = {
        "assignment_id": keys,
        "campaign_id": take([sc.campaign_id for sc in c.scheduled], c.campaign[order]),
        "member_id": member_ids(w.ids.member_no[c.person[order]]),
        "arm": take(arm_pool, arm_idx),
        "assigned_time": timestamp_strings(w.tl.seconds(c.assigned_t[order])),
        "contacted": pa.array(c.contacted[order]),
    }
    return Rendered("campaign_assignments", cols, c.person[order], keys, extra={"order": order})


# -- sources without persons ---------------------------------------------------------------------
def render_channel_spend(w: World, rng: np.random.Generator) -> Rendered:
    tp, tl = w.touches, w.tl
    day = np.minimum(np.floor(tp.t).astype(np.int64), tl.days - 1)
    n_ch = len(TOUCH_CHANNELS)
    cost = np.zeros((len(TOUCH_CHANNELS), len(TOUCH_TYPES)))
    for (c, ty), v in UNIT_COST.items():
        cost[TOUCH_CHANNELS.index(c), TOUCH_TYPES.index(ty)] = v
    per_touch = cost[tp.channel, tp.ttype]
    spend = np.bincount(day * n_ch + tp.channel, weights=per_touch, minlength=tl.days * n_ch)
    spend = spend * rng.lognormal(0.0, 0.15, size=len(spend))
    # days x channels, day-major
    d = np.repeat(np.arange(tl.days), n_ch)
    ch = np.tile(np.arange(n_ch), tl.days)
    cols = {
        "spend_id": seq_ids("SP", len(d), 6),
        "date": date_strings(tl.epoch0 // 86_400 + d),
        "channel": take(TOUCH_CHANNELS, ch),
        "spend": money(np.round(spend * 100).astype(np.int64)),
    }
    return Rendered("channel_spend", cols)


def render_campaigns(w: World, rng: np.random.Generator) -> Rendered:
    sc = w.campaigns.scheduled
    day0 = w.tl.epoch0 // 86_400

    def fmt(v: float) -> str:
        return f"{v:g}"

    cols = {
        "campaign_id": pa.array([s.campaign_id for s in sc], pa.string()),
        "name": pa.array([s.spec.name for s in sc], pa.string()),
        "channel": pa.array([s.spec.channel for s in sc], pa.string()),
        "start_date": date_strings(np.array([day0 + s.start for s in sc], np.int64)),
        "end_date": date_strings(np.array([day0 + s.end for s in sc], np.int64)),
        "arms": pa.array(["|".join(s.spec.arms) for s in sc], pa.string()),
        "control_share": pa.array([s.spec.control_share for s in sc], pa.float64()),
        "cost_per_contact": pa.array([s.spec.cost_per_contact for s in sc], pa.float64()),
        "coupon_value": pa.array(
            ["|".join(fmt(v) for v in s.spec.coupon_values) for s in sc], pa.string()
        ),
    }
    return Rendered("campaigns", cols)


def market_panel_counts(rng: np.random.Generator) -> tuple[list[tuple[str, str, str]], np.ndarray]:
    """Adult population by gender x age band x city tier (a census-like benchmark)."""
    age = np.asarray(PANEL_AGE_SHARES, float)
    tier = np.asarray(PANEL_TIER_SHARES, float)
    young = np.array([1, 1, 1, 0, 0, 0], float)
    tilt = np.asarray(PANEL_YOUNG_CITY_TILT, float)
    # joint age x tier with young adults tilted towards big cities, tier margins kept
    joint = age[:, None] * tier[None, :] * np.where(young[:, None] > 0, tilt[None, :], 1.0)
    joint = joint / joint.sum(axis=0, keepdims=True) * tier[None, :]
    cells, pop = [], []
    for g, share in (("F", 1 - PANEL_MALE_SHARE), ("M", PANEL_MALE_SHARE)):
        for a, band in enumerate(AGE_BANDS):
            for k, tier_name in enumerate(TIERS):
                cells.append((g, band, tier_name))
                pop.append(PANEL_ADULTS * share * joint[a, k])
    noise = rng.normal(1.0, 0.01, size=len(pop))
    return cells, np.round(np.asarray(pop) * noise).astype(np.int64)


def render_market_panel(w: World, rng: np.random.Generator) -> Rendered:
    cells, pop = market_panel_counts(rng)
    cols = {
        "cell_id": seq_ids("C", len(cells), 3),
        "gender": pa.array([c[0] for c in cells], pa.string()),
        "age_band": pa.array([c[1] for c in cells], pa.string()),
        "city_tier": pa.array([c[2] for c in cells], pa.string()),
        "population": pa.array(pop, pa.int64()),
    }
    return Rendered("market_panel", cols)


# -- products (issue 19) ---------------------------------------------------------------------------
def render_products(w: World, rng: np.random.Generator) -> Rendered:
    from omni.synth.products import SEASONS, TIER_NAMES, launch_dates

    c = w.products.catalogue
    cols = {
        "sku": c.sku_ids(),
        "product_line": take(c.line_name, c.line),
        "category": take(CATEGORIES, c.category),
        "price_tier": take(TIER_NAMES, c.tier),
        "list_price": money(c.price_cents),
        "launch_date": date_strings(launch_dates(c, w.tl)),
        "season": take(SEASONS, c.season),
        "repeat_item": pa.array(c.repeat),
    }
    return Rendered("products", cols)


def render_order_lines(
    w: World, rng: np.random.Generator, ecom: Rendered, pos: Rendered
) -> Rendered:
    """One row per order line; ``order_id`` is the order's key in its source (before bad rows)."""
    li, c = w.products.lines, w.products.catalogue
    n_orders = len(w.orders)
    src = np.full(n_orders, -1, np.int64)
    at = np.full(n_orders, -1, np.int64)
    for k, r in enumerate((ecom, pos)):
        rows = r.extra["order_rows"]
        src[rows], at[rows] = k, np.arange(len(rows))
    s, a = src[li.order], at[li.order]
    n = len(li.order)
    order_id = assemble(
        n, [(np.flatnonzero(s == k), r.keys.take(pa.array(a[s == k]))) for k, r in enumerate((ecom, pos))]
    )
    keys = seq_ids("OL", n, 10)
    cols = {
        "line_id": keys,
        "order_source": take(("ecom_orders", "pos_orders"), s),
        "order_id": order_id,
        "line_no": pa.array(li.line_no, pa.int64()),
        "sku": c.sku_ids().take(pa.array(li.sku)),
        "quantity": pa.array(li.quantity, pa.int64()),
        "unit_price": money(c.price_cents[li.sku]),
        "amount": money(li.cents),
    }
    bad = inject_bad_rows(
        rng,
        cols,
        keys,
        {"negative_amount": "amount", "non_numeric_amount": "amount", "missing_key": "line_id"},
        w.cfg.bad_row_rate,
    )
    return Rendered("order_lines", cols, bad_rows=bad, keys=keys)


def render_product_views(w: World, rng: np.random.Generator, web: Rendered) -> Rendered:
    pw = w.products
    cols = {
        "event_id": web.keys.take(pa.array(pw.view_event)),
        "sku": pw.catalogue.sku_ids().take(pa.array(pw.view_sku)),
    }
    return Rendered("product_views", cols)
