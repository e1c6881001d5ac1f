"""Channel attribution: journeys, heuristic / Markov / Shapley models, ROI and truth checks.

A report month in one call (notebook 04)::

    import omni
    from omni import attribution as at

    result = at.analyse_month(omni.open("data/sample"), "2026-10", lookback_days=30)
    result.headline                    # the figures of the report's headline
    result.tables["disagreement"]      # where the models disagree
    result.compare(result.previous)    # the month against the previous one

and the models on any journeys::

    j = at.build_journeys(touchpoints, orders, lookback_days=30)
    table = at.attribute(j)                       # every model, long frame
    markov = at.MarkovAttribution(order=1).fit(j)
    ci = at.bootstrap(at.markov_attribution, j, n_boot=200)
    roi = at.channel_roi(table, channel_spend)

See docs/attribution.md for the definitions and formulas.
"""

from omni.attribution.analysis import analyse_month
from omni.attribution.comparison import (
    channel_ranks,
    model_disagreement,
    share_change,
    share_matrix,
    touch_channels,
)
from omni.attribution.evaluation import compare_to_truth, true_channel_shares
from omni.attribution.figures import month_figures
from omni.attribution.heuristics import (
    first_touch,
    last_non_direct,
    last_touch,
    linear,
    position_based,
    time_decay,
)
from omni.attribution.journeys import (
    DIRECT,
    PATH_SEP,
    Journeys,
    Paths,
    build_journeys,
    conversions_from_orders,
)
from omni.attribution.markov import MarkovAttribution, markov_attribution
from omni.attribution.models import MODEL_LABELS, MODELS, attribute
from omni.attribution.month import (
    MonthAttribution,
    active_campaigns,
    attribute_month,
    has_conversions,
    month_journeys,
    paid_conversions,
    select_journeys,
)
from omni.attribution.result import AttributionResult
from omni.attribution.roi import channel_roi, roi_summary
from omni.attribution.shapley import (
    ShapleyAttribution,
    shapley_attribution,
    shapley_values,
    subset_sums,
)
from omni.attribution.simulate import DEFAULT_CHANNELS, SimulatedData, simulate_attribution_data
from omni.attribution.stats import (
    conversion_channel_summary,
    journey_stats,
    length_distribution,
    time_to_convert_distribution,
    top_paths,
)
from omni.attribution.truth import cause_visibility, month_true_shares, touch_shares
from omni.attribution.uncertainty import bootstrap, bootstrap_shares
from omni.core.lazy import lazy_submodules

__all__ = [
    "AttributionResult",
    "DEFAULT_CHANNELS",
    "DIRECT",
    "Journeys",
    "MODELS",
    "MODEL_LABELS",
    "MarkovAttribution",
    "MonthAttribution",
    "PATH_SEP",
    "Paths",
    "ShapleyAttribution",
    "SimulatedData",
    "active_campaigns",
    "analyse_month",
    "attribute",
    "attribute_month",
    "bootstrap",
    "bootstrap_shares",
    "build_journeys",
    "cause_visibility",
    "channel_ranks",
    "channel_roi",
    "compare_to_truth",
    "conversion_channel_summary",
    "conversions_from_orders",
    "first_touch",
    "has_conversions",
    "journey_stats",
    "last_non_direct",
    "last_touch",
    "length_distribution",
    "linear",
    "markov_attribution",
    "model_disagreement",
    "month_figures",
    "month_journeys",
    "month_true_shares",
    "paid_conversions",
    "position_based",
    "roi_summary",
    "select_journeys",
    "shapley_attribution",
    "shapley_values",
    "share_change",
    "share_matrix",
    "simulate_attribution_data",
    "subset_sums",
    "time_decay",
    "time_to_convert_distribution",
    "top_paths",
    "touch_channels",
    "touch_shares",
    "true_channel_shares",
]


# the presentation modules load matplotlib: imported on first use (omni.<domain>.plots)
__getattr__ = lazy_submodules(__name__)
