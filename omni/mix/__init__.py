"""Marketing mix: a geo-level MMM calibrated with lift experiments, a budget optimiser, and the
triangulation of the MMM, the experiments and the path models (docs/attribution.md)."""

from omni.mix.adstock import geometric_adstock, hill, hill_derivative
from omni.mix.analysis import analyse_month
from omni.mix.experiments import measure_lifts
from omni.mix.inputs import MixPanel, build_panel, check_spend
from omni.mix.model import MarketingMixModel, MixPriors
from omni.mix.optimise import allocate, marginal_roas, plan_response
from omni.mix.result import MixResult
from omni.mix.triangulate import calibrated_paths, triangulate

__all__ = ["MarketingMixModel", "MixPanel", "MixPriors", "MixResult", "allocate", "analyse_month",
           "build_panel", "calibrated_paths", "check_spend", "geometric_adstock", "hill", "hill_derivative",
           "marginal_roas", "measure_lifts", "plan_response", "triangulate"]
