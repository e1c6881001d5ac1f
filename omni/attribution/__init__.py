"""Channel attribution: journeys, heuristic / Markov / Shapley models, ROI and truth checks.

Typical use::

    from omni import attribution as at

    j = at.build_journeys(touchpoints, orders, lookback_days=30)
    table = at.attribute(j)                       # every model, long frame
    markov = at.MarkovAttribution(order=1).fit(j)
    ci = at.bootstrap(at.markov_attribution, j, n_boot=200)
    roi = at.channel_roi(table, channel_spend)

See docs/attribution.md for the definitions and formulas.
"""

from omni.attribution.evaluation import compare_to_truth, true_channel_shares
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
from omni.attribution.models import MODELS, attribute
from omni.attribution.roi import channel_roi
from omni.attribution.shapley import (
    ShapleyAttribution,
    shapley_attribution,
    shapley_values,
    subset_sums,
)
from omni.attribution.simulate import DEFAULT_CHANNELS, SimulatedData, simulate_attribution_data
from omni.attribution.uncertainty import bootstrap

__all__ = [
    "DEFAULT_CHANNELS",
    "DIRECT",
    "MODELS",
    "PATH_SEP",
    "Journeys",
    "MarkovAttribution",
    "Paths",
    "ShapleyAttribution",
    "SimulatedData",
    "attribute",
    "bootstrap",
    "build_journeys",
    "channel_roi",
    "compare_to_truth",
    "conversions_from_orders",
    "first_touch",
    "last_non_direct",
    "last_touch",
    "linear",
    "markov_attribution",
    "position_based",
    "shapley_attribution",
    "shapley_values",
    "simulate_attribution_data",
    "subset_sums",
    "time_decay",
    "true_channel_shares",
]
