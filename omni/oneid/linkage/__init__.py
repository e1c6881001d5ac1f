"""Probabilistic OneID stage (record linkage): link unbound platform accounts to existing profiles.

A platform order carries a platform-scoped buyer id, a receiver name, a masked phone
(``138****5678``) and an address. The deterministic graph links an account's own orders (the
buyer id), and links the account to a person only when the shop membership bound it to a phone.
This stage links the remaining accounts to existing person-level profiles with a Fellegi-Sunter
model (Splink on DuckDB; the same settings run on Splink's Spark backend):

1. Units (:mod:`omni.oneid.match_features`): each unbound account (left) and each profile with a
   person-level strong id (right), with their names, masked phones and address parts.
2. Blocking: pairs that share any masked phone, or any street address. Nothing else is ever
   compared (a name is never a blocking key: every 王伟 would meet every 王伟).
3. Comparisons (:mod:`~omni.oneid.linkage.comparisons`): masked phone (primary equal with term-frequency
   adjustment / any shared / else), name (primary equal with term-frequency adjustment / any
   shared / same pinyin / one character apart / same surname / else), address as one
   hierarchical comparison (same road, number and room / same road and number / same district /
   same city with the district unknown / same city, other district / same province / else: the
   parts of an address are nested, and counting city, district and street as independent
   evidence would count the same fact three times). Missing values are neutral (null level).
4. Training without labels: u by random sampling of pairs, the prior from a near-deterministic
   rule, m by expectation maximisation on two blocks (same primary masked phone; same primary
   street address) so every comparison is estimated on a block that does not fix it; m is
   floored at 0.001 per level.
5. Decision (:mod:`~omni.oneid.linkage.decisions`): an account links to its best profile when the match
   probability is at least ``match_threshold`` **and** the best match weight beats the second best
   candidate by at least ``match_margin`` (log2 Bayes factor); a profile receives at most
   ``max_accounts_per_platform`` accounts per platform (counting the accounts it already holds)
   and never more platform accounts in all than ``max_per_profile["platform_buyer"]``.

Linked accounts are merged into their profile (their records' ``how`` becomes ``probabilistic``);
the others stay profiles of their own. The links table says, for every link, the probability,
the match weight and the level at which every field agreed.

Modules: :mod:`~omni.oneid.linkage.comparisons` (Splink settings), :mod:`~omni.oneid.linkage.matcher`
(the estimator), :mod:`~omni.oneid.linkage.decisions` (who links to whom, and the merge),
:mod:`~omni.oneid.linkage.stage` (the stage the resolution runs), :mod:`~omni.oneid.linkage.text`
and :mod:`~omni.oneid.linkage.evaluation`. This package re-exports their public names.
"""

from omni.oneid.linkage.comparisons import (
    account_blocking_rules,
    account_comparisons,
    account_deterministic_rules,
    account_training_rules,
)
from omni.oneid.linkage.decisions import (
    LINK_COLUMNS,
    apply_links,
    choose_links,
    empty_links,
    merge_links,
)
from omni.oneid.linkage.evaluation import evaluate_links
from omni.oneid.linkage.matcher import (
    FellegiSunterMatcher,
    account_matcher,
    floor_m,
    model_parameters,
)
from omni.oneid.linkage.stage import AccountLinking, link_accounts, match_accounts, stage_report
from omni.oneid.linkage.text import explain_link

__all__ = [
    "LINK_COLUMNS",
    "AccountLinking",
    "FellegiSunterMatcher",
    "account_blocking_rules",
    "account_comparisons",
    "account_deterministic_rules",
    "account_matcher",
    "account_training_rules",
    "apply_links",
    "choose_links",
    "empty_links",
    "evaluate_links",
    "explain_link",
    "floor_m",
    "link_accounts",
    "match_accounts",
    "merge_links",
    "model_parameters",
    "stage_report",
]
