"""Product recommendations across every channel (issue 19).

Purchases in stores, on the platforms and on the brand's site, and product views, joined by
OneID into one history per person; models from a time-aware popularity baseline to ALS/BPR
(``implicit``) and their blend; a temporal evaluation against popularity and the truth's oracle;
per-OneID lists in the cache that audiences can activate. See docs/recommendations.md.
"""

from omni.recommend.analysis import (
           analyse_month,
           choose_weights,
           load_interactions,
           prepare_month,
           recommend_lists,
)
from omni.recommend.data import build_interactions, catalogue_from, line_reconciliation
from omni.recommend.evaluation import paired_bootstrap, per_user_metrics
from omni.recommend.models import fit_recommender, history_at
from omni.recommend.result import RecommendResult
from omni.recommend.rules import apply_rules, cap_per_category
from omni.recommend.topk import load_topk

__all__ = ["RecommendResult", "analyse_month", "apply_rules", "build_interactions", "cap_per_category",
           "catalogue_from", "choose_weights", "fit_recommender", "history_at", "line_reconciliation",
           "load_interactions", "load_topk", "paired_bootstrap", "per_user_metrics", "prepare_month",
           "recommend_lists"]
