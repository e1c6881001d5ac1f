"""OneID settings in one place: identifier strength, per-type limits and shared-value caps."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OneIDConfig"]

STRONG_TYPES: tuple[str, ...] = ("member_id", "phone", "email", "unionid", "platform_buyer")
WEAK_TYPES: tuple[str, ...] = ("openid", "device_id", "cookie_id")


@dataclass(frozen=True)
class OneIDConfig:
    """Rules of the deterministic identity graph.

    Parameters
    ----------
    strong_types : tuple of str
        Identifier types that link records into one person on their own.
    weak_types : tuple of str
        Identifier types that only *attach* records to a person when they point at exactly one
        strong profile; they never merge two strong profiles.
    max_per_profile : dict
        Per-type limit of distinct values one profile may hold (e.g. at most 3 phones). A component
        over a limit is split by removing the identifier that bridges the most values of that type
        (or, with no single bridge, the most recently seen values beyond the limit).
    max_cooccurring : int
        An identifier seen on records together with more than this many distinct values of one
        strong type (a store kiosk with hundreds of member ids) is treated as *shared*: it never links.
    max_cooccurring_weak : int
        The same cap counted over weak types (a kiosk device seen with hundreds of cookies).
    max_records : dict
        Per-type cap on the number of records one value may appear on before it is treated as shared
        (a default number typed for every walk-in). Types not listed are uncapped.
    account_types : tuple of str
        Strong types that identify an account rather than a person (platform buyer ids): they link
        the account's records, but count as person-level only once bound to another strong id.
    bridging_types : tuple of str
        Weak types that identify one person within their scope (a WeChat openid is one person's
        account in one app). Seen with 2 to ``max_bridge_profiles`` strong profiles they join them
        (the profiles are one person seen through different channels); seen with more they stay
        ambiguous. Records linked only through them count as ``weak``.
    max_bridge_profiles : int
        Most strong profiles a bridging value may join.
    max_split_rounds : int
        How many rounds of limit-splitting to run; components still over a limit after that are
        reported in the health checks.
    probabilistic : bool
        Run the probabilistic stage (:mod:`omni.oneid.linkage`): link unbound platform
        accounts to existing profiles by receiver name, masked phone and address.
    match_threshold : float
        Minimum match probability of a probabilistic link.
    match_margin : float
        Minimum lead, in match weight (log2 Bayes factor), of the best profile over the
        runner-up for an account to link (4 = at least 16 times as likely).
    max_accounts_per_platform : int
        A profile receives platform accounts of one platform only while it holds fewer than this
        many (bound accounts count); ``max_per_profile["platform_buyer"]`` caps all platforms.
    match_seed : int
        Seed of the matcher's random pair sampling (u estimation).
    """

    strong_types: tuple[str, ...] = STRONG_TYPES
    weak_types: tuple[str, ...] = WEAK_TYPES
    max_per_profile: dict[str, int] = field(
        default_factory=lambda: {
            "member_id": 3,
            "phone": 3,
            "email": 3,
            "unionid": 2,
            "platform_buyer": 8,
        }
    )
    max_cooccurring: int = 5
    max_cooccurring_weak: int = 20
    max_records: dict[str, int] = field(
        default_factory=lambda: {
            "phone": 3000,
            "email": 3000,
            "device_id": 3000,
            "cookie_id": 3000,
            "openid": 3000,
        }
    )
    max_split_rounds: int = 5
    account_types: tuple[str, ...] = ("platform_buyer",)
    bridging_types: tuple[str, ...] = ("openid",)
    max_bridge_profiles: int = 2
    probabilistic: bool = True
    match_threshold: float = 0.95
    match_margin: float = 4.0
    max_accounts_per_platform: int = 1
    match_seed: int = 7

    def as_dict(self) -> dict:
        """Settings as a plain dict (for fingerprints and reports)."""
        return {
            "strong_types": list(self.strong_types),
            "weak_types": list(self.weak_types),
            "max_per_profile": dict(sorted(self.max_per_profile.items())),
            "max_cooccurring": self.max_cooccurring,
            "max_cooccurring_weak": self.max_cooccurring_weak,
            "max_records": dict(sorted(self.max_records.items())),
            "max_split_rounds": self.max_split_rounds,
            "account_types": list(self.account_types),
            "bridging_types": list(self.bridging_types),
            "max_bridge_profiles": self.max_bridge_profiles,
            "probabilistic": self.probabilistic,
            "match_threshold": self.match_threshold,
            "match_margin": self.match_margin,
            "max_accounts_per_platform": self.max_accounts_per_platform,
            "match_seed": self.match_seed,
        }
