"""Knobs of the synthetic world: :class:`SynthConfig` (every rate, with realistic defaults)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from omni.synth.reference import TIERS, TOUCH_CHANNELS

__all__ = ["CampaignSpec", "SynthConfig", "UPLIFT_SEGMENTS"]

CAMPAIGN_CHANNELS = ("sms", "email", "wechat_push")
UPLIFT_SEGMENTS = ("dormant", "light", "active_medium", "lapsing_medium", "heavy")


@dataclass(frozen=True)
class CampaignSpec:
    """One randomized campaign with a holdout.

    Parameters
    ----------
    name : str
        Campaign name (``campaigns.csv``).
    channel : str
        Contact channel: ``sms``, ``email`` or ``wechat_push``.
    end_days_before_end : int
        The campaign's last day is this many days before the dataset's last day.
    duration_days : int
        Length of the campaign window (contact on the first day, conversions until the last).
    arms : tuple of str
        Treatment arm names (the control arm is always called ``control``).
    arm_effects : tuple of float
        Multiplier of the segment uplift for each arm (same order as ``arms``).
    coupon_values : tuple of float
        Coupon value in CNY per arm (0 for none), deducted from campaign-caused orders.
    control_share : float
        Planned share of assigned members held out as control.
    reach : float
        Share of eligible members randomized into the campaign.
    cost_per_contact : float
        Cost in CNY per contacted member.
    """

    name: str
    channel: str
    end_days_before_end: int
    duration_days: int
    arms: tuple[str, ...]
    arm_effects: tuple[float, ...]
    coupon_values: tuple[float, ...]
    control_share: float
    reach: float
    cost_per_contact: float


def _default_campaigns() -> tuple[CampaignSpec, ...]:
    # Dates with the default span (end 2026-10-31): 2024-05-21..06-03, 2024-11-01..11-11,
    # 2025-05-11..05-24, 2025-09-01..09-21, 2026-10-01..10-14, 2026-10-17..10-31.
    return (
        CampaignSpec(
            "618预热短信券", "sms", 880, 14, ("coupon_20",), (1.0,), (20.0,), 0.10, 0.35, 0.05
        ),
        CampaignSpec(
            "双11公众号推送", "wechat_push", 719, 11, ("push",), (0.6,), (0.0,), 0.15, 0.45, 0.01
        ),
        CampaignSpec(
            "会员日邮件", "email", 525, 14, ("newsletter",), (0.4,), (0.0,), 0.20, 0.45, 0.005
        ),
        CampaignSpec(
            "秋季召回短信", "sms", 405, 21, ("coupon_30",), (1.25,), (30.0,), 0.10, 0.35, 0.05
        ),
        CampaignSpec(
            "秋季新品推送", "wechat_push", 17, 14, ("push",), (0.6,), (0.0,), 0.15, 0.45, 0.01
        ),
        CampaignSpec(
            "双11预热召回短信",
            "sms",
            0,
            15,
            ("coupon_20", "coupon_50"),
            (1.0, 1.6),
            (20.0, 50.0),
            0.20,
            0.40,
            0.05,
        ),
    )


def _default_touch_effects() -> dict[str, float]:
    # Probability that one touch of this channel/type triggers an extra purchase within a few
    # days while the person is alive. Display impressions are numerous but nearly useless;
    # clicks beat impressions; social/KOL content is strong.
    return {
        "search:impression": 0.02,
        "search:click": 0.15,
        "display:impression": 0.01,
        "display:click": 0.06,
        "social_kol:impression": 0.10,
        "social_kol:click": 0.20,
        "sms:send": 0.10,
        "email:send": 0.02,
        "email:open": 0.06,
        "wechat_push:send": 0.04,
        "wechat_push:open": 0.12,
    }


#: SynthConfig fields that are probabilities (checked to lie in [0, 1]).
_PROBABILITY_FIELDS = ("female_share", "preexisting_share", "email_share", "crm_email_given",
                       "ios_share", "imei_share", "second_device_share", "marketing_opt_out",
                       "platform_bind_share", "web_login_share", "web_device_on_event",
                       "intent_search_click", "intent_display_impression", "ticket_per_order",
                       "ticket_per_refund", "two_phone_share", "second_phone_use",
                       "phone_change_share", "duplicate_member_share", "duplicate_other_email",
                       "name_typo_rate", "family_receiver_rate", "work_address_rate",
                       "address_variant_rate", "shared_device_share", "kiosk_person_share",
                       "phone_variant_rate", "fullwidth_phone_rate", "email_variant_rate",
                       "device_case_rate", "zero_idfa_rate", "null_like_rate",
                       "crm_default_phone_rate", "pos_walkin_share", "pos_card_share",
                       "pos_default_phone_rate", "bad_row_rate", "wechat_unionid_share",
                       "contact_failure", "contamination")
#: SynthConfig fields that must be > 0.
_POSITIVE_FIELDS = ("purchase_rate_mean", "purchase_rate_shape", "dropout_rate_mean",
                    "dropout_rate_shape", "spend_shape", "spend_mean", "preexisting_years",
                    "preference_concentration", "web_events_per_session", "persons_per_store",
                    "persons_per_kiosk", "trigger_delay_mean_days", "trigger_delay_max_days",
                    "kiosk_sessions_mean")


@dataclass(frozen=True)
class SynthConfig:
    """Every rate and knob of the synthetic world. Defaults describe a beauty/fashion brand.

    Rates are per person-year unless the name says otherwise; shares are probabilities.
    The groups are: people, latent purchase process, value drivers, channels and identities,
    behaviour volumes, touch effects, campaigns and hard cases (noise). See
    ``docs/synthetic_world.md`` for what each knob does.
    """

    # --- people -----------------------------------------------------------------------------
    female_share: float = 0.75
    age_band_weights: tuple[float, ...] = (0.21, 0.25, 0.21, 0.14, 0.12, 0.07)
    tier_weights: tuple[float, ...] = (0.22, 0.30, 0.22, 0.15, 0.11)
    preexisting_share: float = 0.30  # acquired before the span starts
    preexisting_years: float = 3.0  # ... within this many years before it
    # --- latent purchase process (Pareto/NBD + Gamma-Gamma) -----------------------------------
    purchase_rate_mean: float = 1.8  # E[lambda], repeat purchases per alive year
    purchase_rate_shape: float = 1.1  # Gamma shape r of lambda
    dropout_rate_mean: float = 0.40  # E[mu], per year; lifetime ~ Exponential(mu)
    dropout_rate_shape: float = 1.5  # Gamma shape s of mu
    spend_shape: float = 4.0  # p: order value ~ Gamma(p, nu)
    spend_q: float = 3.5  # q: nu ~ Gamma(q, gamma)
    spend_mean: float = 260.0  # E[p / nu] in CNY (sets gamma)
    # --- value drivers (multipliers, renormalised to keep the means above) --------------------
    rate_tier_mult: tuple[float, ...] = (1.40, 1.20, 1.0, 0.85, 0.70)
    spend_tier_mult: tuple[float, ...] = (1.35, 1.15, 1.0, 0.88, 0.78)
    rate_age_mult: tuple[float, ...] = (0.90, 1.20, 1.25, 1.05, 0.90, 0.75)
    spend_age_mult: tuple[float, ...] = (0.75, 1.00, 1.20, 1.20, 1.10, 0.95)
    skincare_rate_slope: float = 1.5  # lambda *= 1 + slope * (affinity - mean affinity)
    skincare_spend_slope: float = 1.0
    seasonality: bool = True  # 38节, 618, 双11, 双12, Spring Festival dip
    # --- channels and identities ------------------------------------------------------------
    preference_weights: tuple[float, ...] = (0.42, 0.15, 0.31, 0.12)
    # order channel mix (tmall, jd, douyin, site, store) per preference
    preference_mix: tuple[tuple[float, ...], ...] = (
        (0.45, 0.24, 0.24, 0.03, 0.04),
        (0.10, 0.05, 0.05, 0.65, 0.15),
        (0.08, 0.04, 0.04, 0.06, 0.78),
        (0.10, 0.05, 0.05, 0.55, 0.25),
    )
    preference_concentration: float = 8.0
    member_share_by_preference: tuple[float, ...] = (0.38, 0.97, 0.72, 0.90)
    wechat_user_share_by_preference: tuple[float, ...] = (0.22, 0.35, 0.30, 0.97)
    wechat_app_follow: tuple[float, ...] = (0.85, 0.60, 0.15)  # official account, mall MP, store MP
    wechat_phone_bound: tuple[float, ...] = (0.10, 0.55, 0.40)
    wechat_unionid_share: float = 0.92
    email_share: float = 0.55
    crm_email_given: float = 0.85
    ios_share: float = 0.45
    imei_share: float = 0.08  # of Android devices: IMEI-like ids instead of OAID
    second_device_share: float = 0.20
    cookie_count_weights: tuple[float, ...] = (0.50, 0.35, 0.15)  # 1, 2, 3 browsers
    marketing_opt_out: float = 0.08
    platform_bind_share: float = 0.40  # platform buyers binding their phone (会员通)
    # --- behaviour volumes ----------------------------------------------------------------------
    web_session_rate: float = 1.85
    web_events_per_session: float = 2.6
    web_login_share: float = 0.15  # share of members' everyday sessions logged in
    web_device_on_event: float = 0.80
    display_impression_rate: float = 2.6
    search_impression_rate: float = 0.55
    social_impression_rate: float = 0.90
    sms_send_rate: float = 0.55  # to members (opt-in) with a phone
    email_send_rate: float = 0.50  # to members with an email
    wechat_push_rate: float = 0.80  # to official-account followers
    click_through: dict[str, float] = field(
        default_factory=lambda: {"search": 0.10, "display": 0.01, "social_kol": 0.03}
    )
    open_rate: dict[str, float] = field(
        default_factory=lambda: {"email": 0.20, "wechat_push": 0.35}
    )
    intent_search_click: float = (
        0.25  # organic online orders preceded by a (non-causal) search click
    )
    intent_display_impression: float = 0.35  # ... by a retargeting impression
    touch_window_before_days: float = 60.0
    touch_window_after_days: float = 90.0
    ticket_per_order: float = 0.022
    ticket_per_refund: float = 0.30
    ticket_rate: float = 0.012
    ecom_status_probs: tuple[float, ...] = (0.90, 0.06, 0.04)  # paid, refunded, cancelled
    pos_status_probs: tuple[float, ...] = (0.97, 0.03)  # paid, refunded
    persons_per_store: float = 2500.0
    # --- touch effects (attribution truth) ----------------------------------------------------
    touch_effects: dict[str, float] = field(default_factory=_default_touch_effects)
    trigger_delay_mean_days: float = 1.5
    trigger_delay_max_days: float = 7.0
    # --- campaigns ------------------------------------------------------------------------------
    campaigns: tuple[CampaignSpec, ...] = field(default_factory=_default_campaigns)
    uplift_by_segment: dict[str, float] = field(
        default_factory=lambda: {
            "dormant": 0.015,
            "light": 0.04,
            "active_medium": 0.05,
            "lapsing_medium": 0.11,
            "heavy": 0.004,
        }
    )
    uplift_tier_mult: tuple[float, ...] = (1.20, 1.10, 1.0, 0.80, 0.60)
    heavy_min_orders: int = 5  # orders in the 365 days before the campaign
    lapsing_days: int = 90
    contact_failure: float = 0.03  # treated but not delivered
    contamination: float = 0.01  # control members contacted by mistake
    # --- hard cases -----------------------------------------------------------------------------
    two_phone_share: float = 0.05
    second_phone_use: float = 0.35
    phone_change_share: float = 0.03
    duplicate_member_share: float = 0.02
    duplicate_other_email: float = 0.50
    name_typo_rate: float = 0.02
    family_receiver_rate: float = 0.05
    work_address_rate: float = 0.15
    address_variant_rate: float = 0.20
    shared_device_share: float = 0.02
    kiosk_person_share: float = 0.03
    persons_per_kiosk: float = 150.0
    kiosk_sessions_mean: float = 1.6
    phone_variant_rate: float = 0.15
    fullwidth_phone_rate: float = 0.01
    email_variant_rate: float = 0.06
    device_case_rate: float = 0.05
    zero_idfa_rate: float = 0.06  # iOS ad/app records with limit-ad-tracking (all-zero IDFA)
    null_like_rate: float = 0.30  # missing identifiers written as "null", "NULL", "0", "N/A", ""
    crm_default_phone_rate: float = 0.003
    pos_walkin_share: float = 0.25
    pos_card_share: float = 0.70  # identified member customers who show the card (else phone)
    pos_default_phone_rate: float = 0.15  # walk-ins for whom the clerk types a default phone
    bad_row_rate: float = 0.0005

    def __post_init__(self) -> None:
        _check_prob(self, list(_PROBABILITY_FIELDS))
        for name in _POSITIVE_FIELDS:
            if not getattr(self, name) > 0:
                raise ValueError(f"SynthConfig.{name} must be > 0, got {getattr(self, name)!r}")
        if self.spend_q <= 1:
            raise ValueError(
                f"SynthConfig.spend_q must be > 1 (finite mean spend), got {self.spend_q}"
            )
        self._check_weights_and_lengths()
        self._check_effects_and_campaigns()

    def _check_weights_and_lengths(self) -> None:
        """Weight vectors (their length and sum) and the per-tier/age/preference multipliers."""
        _check_weights("age_band_weights", self.age_band_weights, 6)
        _check_weights("tier_weights", self.tier_weights, len(TIERS))
        _check_weights("preference_weights", self.preference_weights, 4)
        _check_weights("cookie_count_weights", self.cookie_count_weights, 3)
        _check_weights("ecom_status_probs", self.ecom_status_probs, 3)
        _check_weights("pos_status_probs", self.pos_status_probs, 2)
        if len(self.preference_mix) != 4:
            raise ValueError("SynthConfig.preference_mix needs one channel mix per preference (4)")
        for i, mix in enumerate(self.preference_mix):
            _check_weights(f"preference_mix[{i}]", mix, 5)
        for name, n in [
            ("rate_tier_mult", 5),
            ("spend_tier_mult", 5),
            ("uplift_tier_mult", 5),
            ("rate_age_mult", 6),
            ("spend_age_mult", 6),
            ("member_share_by_preference", 4),
            ("wechat_user_share_by_preference", 4),
            ("wechat_app_follow", 3),
            ("wechat_phone_bound", 3),
        ]:
            values = getattr(self, name)
            if len(values) != n or min(values) < 0:
                raise ValueError(
                    f"SynthConfig.{name} needs {n} non-negative values, got {values!r}"
                )

    def _check_effects_and_campaigns(self) -> None:
        """Touch effects, uplift segments and the campaign specs."""
        known = {
            f"{c}:{t}" for c in TOUCH_CHANNELS for t in ("impression", "click", "send", "open")
        }
        for key, p in self.touch_effects.items():
            if key not in known:
                raise ValueError(f"SynthConfig.touch_effects: unknown channel:type {key!r}")
            if not 0 <= p <= 1:
                raise ValueError(f"SynthConfig.touch_effects[{key!r}] must be in [0, 1], got {p}")
        if set(self.uplift_by_segment) != set(UPLIFT_SEGMENTS):
            raise ValueError(
                f"SynthConfig.uplift_by_segment needs exactly the segments "
                f"{UPLIFT_SEGMENTS}, got {sorted(self.uplift_by_segment)}"
            )
        names = [c.name for c in self.campaigns]
        if len(set(names)) != len(names):
            raise ValueError(f"SynthConfig.campaigns: duplicate campaign names in {names}")
        for c in self.campaigns:
            if c.channel not in CAMPAIGN_CHANNELS:
                raise ValueError(
                    f"campaign {c.name!r}: channel must be one of {CAMPAIGN_CHANNELS}, "
                    f"got {c.channel!r}"
                )
            if not (len(c.arms) == len(c.arm_effects) == len(c.coupon_values) >= 1):
                raise ValueError(
                    f"campaign {c.name!r}: arms, arm_effects and coupon_values need "
                    f"the same length (>= 1)"
                )
            if "control" in c.arms:
                raise ValueError(f"campaign {c.name!r}: 'control' is reserved for the holdout arm")
            if not (0 < c.control_share < 1 and 0 < c.reach <= 1 and c.duration_days >= 1):
                raise ValueError(
                    f"campaign {c.name!r}: need 0 < control_share < 1, 0 < reach <= 1 "
                    f"and duration_days >= 1"
                )

    def to_dict(self) -> dict:
        """Plain, JSON-able dict of every knob (campaigns as a list of dicts)."""
        return dataclasses.asdict(self)


def _check_prob(cfg: SynthConfig, names: list[str]) -> None:
    for name in names:
        value = getattr(cfg, name)
        if not 0 <= value <= 1:
            raise ValueError(f"SynthConfig.{name} must be a probability in [0, 1], got {value!r}")


def _check_weights(name: str, values: tuple[float, ...], n: int) -> None:
    if len(values) != n or min(values) < 0 or sum(values) <= 0:
        raise ValueError(f"SynthConfig.{name} needs {n} non-negative weights, got {values!r}")
