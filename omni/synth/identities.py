"""Identifiers and contact data of each person: names, phones, emails, devices, cookies,
memberships, WeChat ids, addresses, stores and public kiosks.

All values here are canonical (what the person "really" has); format variants and junk are added
when sources are written (:mod:`omni.synth.noise`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pypinyin import lazy_pinyin

from omni.synth.config import SynthConfig
from omni.synth.people import SITE, STORE, People
from omni.synth.reference import (
    CITIES,
    COMPOUNDS,
    DEFAULT_PHONES,
    EMAIL_DOMAINS,
    GIVEN_F,
    GIVEN_M,
    GIVEN_ZIPF_EXPONENT,
    MOBILE_PREFIXES,
    OFFICES,
    STREETS,
    SURNAMES,
    TYPO_CHARS,
)
from omni.synth.text import (
    BASE64URL,
    HEX_LOWER,
    assemble,
    cat,
    digit_matrix,
    fixed_strings,
    int_strings,
    join,
    random_chars,
    take,
    unique_ints,
)
from omni.synth.timeline import Timeline

__all__ = ["GIVEN_ALL", "Identities", "device_ids", "draw_identities", "draw_names",
           "unique_phones", "uuid_matrix"]

GIVEN_ALL: tuple[str, ...] = GIVEN_F + GIVEN_M


@dataclass
class Identities:
    """Canonical identifiers per person plus the device/cookie/store/kiosk tables."""

    # names
    name: pa.Array  # (n,) canonical full name
    name_typo: pa.Array  # (n,) the same name with one character mistyped
    surname: np.ndarray  # index into SURNAMES
    # phones (int64, 11 digits; -1 = none)
    phone: np.ndarray  # current phone
    phone_old: np.ndarray  # phone used before phone_change_t (changers only)
    phone_change_t: np.ndarray  # days; +inf when the phone never changed
    phone_second: np.ndarray  # second phone (two-phone people)
    # email
    email: pa.Array  # (n,) canonical, lower-case, null when none
    crm_email: np.ndarray  # bool: the member gave the email to the CRM
    # devices and cookies
    dev: np.ndarray  # (n, 2) device index, -1 none
    dev_ids: pa.Array  # canonical device ids (IDFA upper, OAID lower, IMEI digits)
    dev_ios: np.ndarray  # bool per device
    dev_lat: np.ndarray  # bool per device: limit ad tracking (ad SDKs see an all-zero IDFA)
    ck: np.ndarray  # (n, 3) cookie index, -1 none
    ck_ids: pa.Array
    ck_dev: np.ndarray  # device index of each cookie's browser, -1 desktop
    share_partner: np.ndarray  # person whose device/cookie this person also uses, -1 none
    # kiosks (one device + cookie each, in a store)
    kiosk_dev: np.ndarray
    kiosk_ck: np.ndarray
    kiosk_store: np.ndarray
    kiosk_of: np.ndarray  # (n,) kiosk used by the person, -1 none
    # stores
    store_city: np.ndarray  # city index per store
    store_ids: pa.Array
    home_store: np.ndarray  # (n,)
    # membership (CRM)
    reg_t: np.ndarray  # registration time (days), nan for non-members
    reg2_t: np.ndarray  # duplicate registration time, nan when none
    member_no: np.ndarray  # member number of the primary registration, -1
    member2_no: np.ndarray  # member number of the duplicate registration, -1
    register_channel: np.ndarray  # index into REGISTER_CHANNELS, -1
    opt_out: np.ndarray  # bool
    crm_phone: np.ndarray  # phone on file in the CRM (given at registration), -1
    site_account: np.ndarray  # int site account number, -1
    # WeChat
    app_ids: tuple[str, ...]
    follow: np.ndarray  # (n, 3) bool: follows app k
    follow_t: np.ndarray  # (n, 3) days
    openid: np.ndarray  # (n, 3) index into openid_values, -1
    openid_values: pa.Array
    unionid: pa.Array  # (n,) null when not a WeChat user or unionid missing
    # addresses
    home_address: pa.Array
    home_address_alt: pa.Array
    work_address: pa.Array
    work_district: np.ndarray

    def phone_at(
        self, rng: np.random.Generator, person: np.ndarray, t: np.ndarray, second_use: float
    ) -> np.ndarray:
        """Phone a person gives at ``t``: the old one before a change, sometimes the second."""
        old = self.phone_old[person]
        ph = np.where((old >= 0) & (t < self.phone_change_t[person]), old, self.phone[person])
        sec = self.phone_second[person]
        use_second = (sec >= 0) & (rng.random(len(person)) < second_use)
        return np.where(use_second, sec, ph)


def _zipf(n: int, exponent: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def _typo(name: str) -> str | None:
    if name[-1] in TYPO_CHARS:
        return name[:-1] + TYPO_CHARS[name[-1]]
    if name[0] in TYPO_CHARS:
        return TYPO_CHARS[name[0]] + name[1:]
    return None


def draw_names(
    rng: np.random.Generator, people: People
) -> tuple[pa.Array, pa.Array, np.ndarray, np.ndarray]:
    """Surname + given name from frequency lists; returns (name, typo name, surname, given)."""
    n = people.n
    sw = np.array([w for _, w in SURNAMES])
    surname = rng.choice(len(SURNAMES), size=n, p=sw / sw.sum())
    gf = rng.choice(len(GIVEN_F), size=n, p=_zipf(len(GIVEN_F), GIVEN_ZIPF_EXPONENT))
    gm = len(GIVEN_F) + rng.choice(len(GIVEN_M), size=n, p=_zipf(len(GIVEN_M), GIVEN_ZIPF_EXPONENT))
    given = np.where(people.female, gf, gm)
    surnames = [s for s, _ in SURNAMES]
    given_typo = [_typo(g) for g in GIVEN_ALL]
    surname_typo = [_typo(s) or s for s in surnames]
    name = join(take(surnames, surname), take(GIVEN_ALL, given))
    has_given_typo = np.array([t is not None for t in given_typo])[given]
    typo_given = take([t or g for t, g in zip(given_typo, GIVEN_ALL, strict=True)], given)
    name_typo_a = join(take(surnames, surname), typo_given)
    name_typo_b = join(take(surname_typo, surname), take(GIVEN_ALL, given))
    name_typo = pc.if_else(pa.array(has_given_typo), name_typo_a, name_typo_b)
    return name, name_typo, surname, given


def unique_phones(rng: np.random.Generator, k: int) -> np.ndarray:
    """``k`` distinct valid CN mobile numbers (int64), none of them junk-looking."""
    prefixes = np.array([int(p) for p, _ in MOBILE_PREFIXES], np.int64)
    pw = np.array([w for _, w in MOBILE_PREFIXES], float)
    blocked = np.array([int(p) for p in DEFAULT_PHONES] + [13800138000], np.int64)
    out = np.empty(0, np.int64)
    draw = int(k * 1.02) + 100
    while len(out) < k:
        pre = prefixes[rng.choice(len(prefixes), size=draw, p=pw / pw.sum())]
        rest = rng.integers(0, 100_000_000, size=draw)
        cand = pre * 100_000_000 + rest
        digits = digit_matrix(rest, 8)
        same = (digits == digits[:, :1]).all(axis=1)
        steps = np.diff(digits.astype(np.int16), axis=1)
        sequential = (steps == 1).all(axis=1) | (steps == -1).all(axis=1)
        cand = cand[~same & ~sequential & ~np.isin(cand, blocked)]
        allc = np.concatenate([out, cand])
        _, first = np.unique(allc, return_index=True)
        out = allc[np.sort(first)]
        draw = (k - len(out)) * 2 + 100
    return out[:k]


def uuid_matrix(rng: np.random.Generator, n: int, upper: bool) -> np.ndarray:
    """Random UUID-formatted ids ``8-4-4-4-12`` as a byte matrix."""
    h = random_chars(rng, n, 32, HEX_LOWER)
    if upper:
        h = np.where(h >= 97, h - 32, h).astype(np.uint8)
    return cat(n, h[:, :8], b"-", h[:, 8:12], b"-", h[:, 12:16], b"-", h[:, 16:20], b"-", h[:, 20:])


def device_ids(rng: np.random.Generator, ios: np.ndarray, imei: np.ndarray) -> pa.Array:
    """Canonical device ids: IDFA (upper-case UUID), OAID (lower-case UUID) or IMEI (15 digits)."""
    n = len(ios)
    groups = []
    for mask, build in (
        (ios, lambda m: fixed_strings(uuid_matrix(rng, m, upper=True))),
        (~ios & ~imei, lambda m: fixed_strings(uuid_matrix(rng, m, upper=False))),
        (
            ~ios & imei,
            lambda m: fixed_strings(
                cat(m, b"86", digit_matrix(unique_ints(rng, m, 0, 10**13), 13))
            ),
        ),
    ):
        idx = np.flatnonzero(mask)
        groups.append((idx, build(len(idx))))
    return assemble(n, groups)


def _emails(
    rng: np.random.Generator,
    people: People,
    surname: np.ndarray,
    given: np.ndarray,
    rows: np.ndarray,
) -> pa.Array:
    """Plausible unique emails for ``rows`` (pinyin + digits, initials + year, or QQ number)."""
    m = len(rows)
    sur_py = ["".join(lazy_pinyin(s)) for s, _ in SURNAMES]
    giv_py = ["".join(lazy_pinyin(g)) for g in GIVEN_ALL]
    sur_ini = [p[0] for p in sur_py]
    giv_ini = ["".join(x[0] for x in lazy_pinyin(g)) for g in GIVEN_ALL]
    dom_w = np.array([w for _, w in EMAIL_DOMAINS])
    domain = rng.choice(len(EMAIL_DOMAINS), size=m, p=dom_w / dom_w.sum())
    style = rng.choice(3, size=m, p=[0.55, 0.2, 0.25])
    s, g = surname[rows], given[rows]
    full = join(take(sur_py, s), take(giv_py, g), int_strings(rng.integers(1, 10_000, size=m)))
    initials = join(take(sur_ini, s), take(giv_ini, g), int_strings(people.birth_year[rows]))
    qq = int_strings(rng.integers(100_000, 3_500_000_000, size=m))
    local_idx = [np.flatnonzero(style == k) for k in range(3)]
    local = assemble(
        m,
        [
            (local_idx[0], full.take(pa.array(local_idx[0]))),
            (local_idx[1], initials.take(pa.array(local_idx[1]))),
            (local_idx[2], qq.take(pa.array(local_idx[2]))),
        ],
    )
    domain = np.where(style == 2, [d for d, _ in EMAIL_DOMAINS].index("qq.com"), domain)
    dom = take([d for d, _ in EMAIL_DOMAINS], domain)
    email = join(local, "@", dom)
    for _ in range(5):  # make unique: suffix the row number on repeats
        codes = np.asarray(email.dictionary_encode().indices)
        _, first = np.unique(codes, return_index=True)
        dup = np.ones(m, bool)
        dup[first] = False
        if not dup.any():
            break
        local = join(
            local,
            pa.array(np.where(dup, "_", "")),
            pa.array(np.where(dup, np.arange(m).astype(str), "")),
        )
        email = join(local, "@", dom)
    return email


def _addresses(
    rng: np.random.Generator, people: People
) -> tuple[pa.Array, pa.Array, pa.Array, np.ndarray]:
    n = people.n
    street = rng.integers(0, len(STREETS), size=n)
    number = 1 + np.floor(rng.pareto(1.2, size=n) * 30).astype(np.int64) % 998
    compound = rng.integers(0, len(COMPOUNDS), size=n)
    building = rng.integers(1, 31, size=n)
    room = rng.integers(1, 34, size=n) * 100 + rng.integers(1, 5, size=n)
    s, num, c = take(STREETS, street), int_strings(number), take(COMPOUNDS, compound)
    b, r = int_strings(building), int_strings(room)
    home = join(s, num, "号", c, b, "栋", r, "室")
    districts = [d for c_ in CITIES for d in c_[4]]
    dist_offset = np.cumsum([0] + [len(c_[4]) for c_ in CITIES])[:-1]
    dname = take(districts, dist_offset[people.city] + people.district)
    variants = [
        join(s, num, "号", c, b, "-", r),
        join(dname, s, num, "号", c, b, "栋", r, "室"),
        join(s, " ", num, "号 ", c, " ", b, "幢", r),
        join(s, num, "号", b, "栋", r, "室"),
    ]
    which = rng.integers(0, len(variants), size=n)
    alt = home
    for k, v in enumerate(variants):
        alt = pc.if_else(pa.array(which == k), v, alt)
    n_districts = np.array([len(c_[4]) for c_ in CITIES])
    work_district = np.floor(rng.random(n) * n_districts[people.city]).astype(np.int64)
    w_street = take(STREETS, rng.integers(0, len(STREETS), size=n))
    w_num = int_strings(rng.integers(1, 600, size=n))
    office = take(OFFICES, rng.integers(0, len(OFFICES), size=n))
    floor = int_strings(rng.integers(2, 40, size=n))
    work = join(w_street, w_num, "号", office, floor, "楼")
    return home, alt, work, work_district


def draw_identities(
    rng: np.random.Generator, people: People, cfg: SynthConfig, tl: Timeline
) -> Identities:
    """Draw every person's identifiers, memberships, devices, WeChat ids and addresses."""
    n = people.n
    name, name_typo, surname, given = draw_names(rng, people)
    phones = _draw_phones(rng, people, cfg, tl)
    # email ------------------------------------------------------------------------------------
    has_email = rng.random(n) < cfg.email_share
    rows = np.flatnonzero(has_email)
    email = take(
        _emails(rng, people, surname, given, rows),
        np.where(has_email, np.cumsum(has_email) - 1, -1),
    )

    devices = _draw_devices(rng, people, cfg, tl)
    stores = _draw_stores(rng, people, cfg, tl, len(devices["kiosk_dev"]))
    members = _draw_membership(rng, people, cfg, tl, phones, has_email)
    wechat = _draw_wechat(rng, people, cfg, tl)
    home, alt, work, work_district = _addresses(rng, people)
    return Identities(
        name=name,
        name_typo=name_typo,
        surname=surname,
        email=email,
        **phones,
        **devices,
        **stores,
        **members,
        **wechat,
        home_address=home,
        home_address_alt=alt,
        work_address=work,
        work_district=work_district,
    )


def _draw_phones(rng: np.random.Generator, people: People, cfg: SynthConfig, tl: Timeline) -> dict[str, Any]:
    """Phones: the current one, an older one for changers (with the change time), a second one."""
    n = people.n
    # phones -----------------------------------------------------------------------------------
    # a phone change happens inside the span, at least 30 days after acquisition
    lo = np.maximum(people.acq, 0.0) + 30
    changer = (rng.random(n) < cfg.phone_change_share) & (lo < tl.days - 31)
    two = rng.random(n) < cfg.two_phone_share
    pool = unique_phones(rng, n + int(changer.sum()) + int(two.sum()))
    phone = pool[:n]
    phone_old = np.full(n, -1, np.int64)
    phone_old[changer] = pool[n : n + changer.sum()]
    phone_second = np.full(n, -1, np.int64)
    phone_second[two] = pool[n + changer.sum() :]
    hi = np.maximum(lo + 1, tl.days - 30.0)
    phone_change_t = np.full(n, np.inf)
    phone_change_t[changer] = (lo + rng.random(n) * (hi - lo))[changer]

    return {"phone": phone, "phone_old": phone_old, "phone_change_t": phone_change_t,
            "phone_second": phone_second}


def _draw_devices(rng: np.random.Generator, people: People, cfg: SynthConfig, tl: Timeline) -> dict[str, Any]:
    """Devices, cookies, kiosks, and families sharing a device (and its browser)."""
    n = people.n
    # devices and cookies ------------------------------------------------------------------------
    n_dev = 1 + (rng.random(n) < cfg.second_device_share)
    ios0 = rng.random(n) < cfg.ios_share
    ios1 = np.where(rng.random(n) < 0.7, ios0, ~ios0)
    dev = np.full((n, 2), -1, np.int64)
    dev[:, 0] = np.arange(n)
    second = np.flatnonzero(n_dev == 2)
    dev[second, 1] = n + np.arange(len(second))
    n_person_dev = n + len(second)
    n_kiosk = max(1, int(round(n * cfg.kiosk_person_share / cfg.persons_per_kiosk)))
    dev_ios = np.concatenate([ios0, ios1[second], np.zeros(n_kiosk, bool)])
    imei = rng.random(len(dev_ios)) < cfg.imei_share
    imei[n_person_dev:] = False
    dev_ids = device_ids(rng, dev_ios, imei)
    dev_lat = dev_ios & (rng.random(len(dev_ios)) < cfg.zero_idfa_rate)
    kiosk_dev = n_person_dev + np.arange(n_kiosk)

    cw = np.asarray(cfg.cookie_count_weights, float)
    n_ck = 1 + rng.choice(3, size=n, p=cw / cw.sum())
    ck = np.full((n, 3), -1, np.int64)
    ck_dev_list = []
    next_ck = 0
    for slot in range(3):
        has = np.flatnonzero(n_ck > slot)
        ck[has, slot] = next_ck + np.arange(len(has))
        next_ck += len(has)
        ck_dev_list.append(
            dev[has, 0] if slot == 0 else (dev[has, 1] if slot == 1 else np.full(len(has), -1))
        )
    ck_dev = np.concatenate(ck_dev_list + [kiosk_dev])
    kiosk_ck = next_ck + np.arange(n_kiosk)
    ck_ids = fixed_strings(random_chars(rng, len(ck_dev), 32, HEX_LOWER))

    # families sharing a device (and its browser): pair people in the same city
    k_pairs = int(round(n * cfg.shared_device_share / 2))
    share_partner = np.full(n, -1, np.int64)
    active = np.flatnonzero((people.death > 0) & (people.acq < tl.days))
    k_pairs = min(k_pairs, len(active) // 2)
    if k_pairs:
        chosen = rng.choice(active, size=2 * k_pairs, replace=False)
        chosen = chosen[np.lexsort((rng.random(len(chosen)), people.city[chosen]))]
        a, b = chosen[0::2], chosen[1::2]
        share_partner[a] = b
        dev[a, 1] = dev[b, 0]
        ck[a, 1] = ck[b, 0]

    return {"dev": dev, "dev_ids": dev_ids, "dev_ios": dev_ios, "dev_lat": dev_lat, "ck": ck,
            "ck_ids": ck_ids, "ck_dev": ck_dev, "share_partner": share_partner,
            "kiosk_dev": kiosk_dev, "kiosk_ck": kiosk_ck}


def _draw_stores(rng: np.random.Generator, people: People, cfg: SynthConfig, tl: Timeline,
                 n_kiosk: int) -> dict[str, Any]:
    """Stores per city, each person's home store, the kiosks' stores and who uses a kiosk."""
    n = people.n
    active = np.flatnonzero((people.death > 0) & (people.acq < tl.days))
    # stores and kiosks ------------------------------------------------------------------------
    city_share = np.bincount(people.city, minlength=len(CITIES)) + 1.0
    n_stores = max(len(CITIES), int(round(n / cfg.persons_per_store)))
    extra = n_stores - len(CITIES)
    alloc = np.ones(len(CITIES), np.int64)
    if extra > 0:
        quota = city_share / city_share.sum() * extra
        alloc += np.floor(quota).astype(np.int64)
        rest = n_stores - alloc.sum()
        alloc[np.argsort(-(quota - np.floor(quota)), kind="stable")[:rest]] += 1
    store_city = np.repeat(np.arange(len(CITIES)), alloc)
    store_ids = fixed_strings(cat(n_stores, b"S", digit_matrix(np.arange(1, n_stores + 1), 4)))
    first_store = np.concatenate([[0], np.cumsum(alloc)[:-1]])
    home_store = first_store[people.city] + np.floor(rng.random(n) * alloc[people.city]).astype(
        np.int64
    )
    kiosk_store = rng.integers(0, n_stores, size=n_kiosk)
    n_kiosk_people = min(len(active), int(round(n * cfg.kiosk_person_share)))
    kiosk_of = np.full(n, -1, np.int64)
    kiosk_people = rng.choice(active, size=n_kiosk_people, replace=False)
    kiosk_of[kiosk_people] = rng.integers(0, n_kiosk, size=n_kiosk_people)

    return {"store_city": store_city, "store_ids": store_ids, "home_store": home_store,
            "kiosk_store": kiosk_store, "kiosk_of": kiosk_of}


def _draw_membership(rng: np.random.Generator, people: People, cfg: SynthConfig, tl: Timeline,
                     phones: dict[str, Any], has_email: np.ndarray) -> dict[str, Any]:
    """Registrations (and duplicate ones), member numbers, channels, consent and CRM contacts."""
    n = people.n
    phone, phone_old = phones["phone"], phones["phone_old"]
    phone_change_t, phone_second = phones["phone_change_t"], phones["phone_second"]
    # membership -------------------------------------------------------------------------------
    member = people.member
    at_first = (people.acq_channel == SITE) | (people.acq_channel == STORE) | (rng.random(n) < 0.5)
    delay = np.where(at_first, 0.0, rng.exponential(120.0, size=n))
    # people register while they are customers (before they lapse) and inside the data
    reg = np.minimum(
        np.minimum(people.acq + delay, np.maximum(people.death, people.acq)), tl.days - 1
    )
    reg_t = np.where(member, reg, np.nan)
    dup = member & (rng.random(n) < cfg.duplicate_member_share)
    reg2_t = np.where(dup, reg_t + rng.random(n) * (tl.days - reg_t), np.nan)
    reg2_t = np.where(dup & (reg2_t < tl.days - 0.01) & (reg2_t > 0), reg2_t, np.nan)
    # member numbers follow registration order (primary and duplicate registrations together)
    times = np.concatenate([reg_t, reg2_t])
    valid = ~np.isnan(times)
    order = np.flatnonzero(valid)[np.argsort(times[valid], kind="stable")]
    number = np.full(2 * n, -1, np.int64)
    number[order] = 10_000_001 + np.arange(len(order)) * 3 + rng.integers(0, 3, size=len(order))
    member_no, member2_no = number[:n], number[n:]
    reg_chan = np.full(n, -1, np.int64)
    # acquisition channel (tmall, jd, douyin, site, store) -> index into REGISTER_CHANNELS
    # ("store", "site", "app", "wechat_mp", "tmall", "jd", "douyin")
    by_acq = np.array([4, 5, 6, 1, 0])[people.acq_channel]
    app = (people.acq_channel == SITE) & (rng.random(n) < 0.5)
    by_acq = np.where(app, 2, by_acq)
    by_acq = np.where(people.pref == 3, 3, by_acq)  # wechat-first people join in the mini program
    reg_chan[member] = by_acq[member]
    opt_out = member & (rng.random(n) < cfg.marketing_opt_out)
    crm_email = member & has_email & (rng.random(n) < cfg.crm_email_given)
    crm_phone = np.full(n, -1, np.int64)
    m_idx = np.flatnonzero(member)
    before_change = (phone_old[m_idx] >= 0) & (reg_t[m_idx] < phone_change_t[m_idx])
    crm_phone[m_idx] = np.where(before_change, phone_old[m_idx], phone[m_idx])
    use_second = (phone_second[m_idx] >= 0) & (rng.random(len(m_idx)) < 0.2)
    crm_phone[m_idx] = np.where(use_second, phone_second[m_idx], crm_phone[m_idx])
    site_account = np.full(n, -1, np.int64)
    site_account[member] = (
        100_000_000 + rng.permutation(member.sum()) * 7 + rng.integers(0, 7, size=member.sum())
    )

    return {"reg_t": reg_t, "reg2_t": reg2_t, "member_no": member_no, "member2_no": member2_no,
            "register_channel": reg_chan, "opt_out": opt_out, "crm_email": crm_email,
            "crm_phone": crm_phone, "site_account": site_account}


def _draw_wechat(rng: np.random.Generator, people: People, cfg: SynthConfig, tl: Timeline) -> dict[str, Any]:
    """WeChat: three official-account app ids, who follows which (and when), openids, unionids."""
    n = people.n
    # WeChat -----------------------------------------------------------------------------------
    app_ids = tuple(
        ("wx" + bytes(random_chars(rng, 1, 16, HEX_LOWER)[0]).decode()) for _ in range(3)
    )
    follow = people.wechat[:, None] & (rng.random((n, 3)) < np.asarray(cfg.wechat_app_follow))
    f_lo = np.maximum(people.acq - 60.0, -730.0)
    f_hi = np.minimum(people.death, tl.days)
    f_hi = np.where(f_hi > f_lo, f_hi, f_lo + 30.0)
    follow_t = f_lo[:, None] + rng.random((n, 3)) * (f_hi - f_lo)[:, None]
    follow_t = np.minimum(follow_t, tl.days - 0.01)
    openid = np.full((n, 3), -1, np.int64)
    parts = []
    off = 0
    for k in range(3):
        idx = np.flatnonzero(follow[:, k])
        openid[idx, k] = off + np.arange(len(idx))
        off += len(idx)
        prefix = b"o" + bytes(random_chars(rng, 1, 5, BASE64URL)[0])
        parts.append(
            fixed_strings(cat(len(idx), prefix, random_chars(rng, len(idx), 22, BASE64URL)))
        )
    openid_values = pa.concat_arrays(parts)
    has_union = people.wechat & (rng.random(n) < cfg.wechat_unionid_share)
    uprefix = b"o" + bytes(random_chars(rng, 1, 5, BASE64URL)[0])
    unionid = fixed_strings(cat(n, uprefix, random_chars(rng, n, 22, BASE64URL)))
    unionid = pc.if_else(pa.array(has_union), unionid, pa.nulls(n, pa.string()))

    return {"app_ids": app_ids, "follow": follow, "follow_t": follow_t, "openid": openid,
            "openid_values": openid_values, "unionid": unionid}
