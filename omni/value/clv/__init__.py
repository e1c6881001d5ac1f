"""Customer lifetime value: purchase models (BG/NBD, Pareto/NBD), the spend model (Gamma-Gamma), CLV.

* :mod:`~omni.value.clv.bgnbd`, :mod:`~omni.value.clv.paretonbd`,
  :mod:`~omni.value.clv.gamma_gamma`: each model's mathematics and fit (lifetimes is imported only
  in :mod:`omni.value.clv._base`);
* :mod:`~omni.value.clv.selection`: the choice between the purchase models;
  :mod:`~omni.value.clv.check`: the calibration/holdout check at a date;
* :mod:`~omni.value.clv.discounted`: the discounted CLV sum; :mod:`~omni.value.clv.tiers`: value
  tiers; :mod:`~omni.value.clv.model`: :class:`CLVModel`, which puts them together;
* :mod:`~omni.value.clv.simulate`: summaries simulated with known parameters.
"""

from omni.value.clv._base import MODEL_LABELS, cdnow_path
from omni.value.clv.check import HoldoutCheck, holdout_check
from omni.value.clv.model import CLVModel
from omni.value.clv.simulate import simulate_summary
from omni.value.clv.tiers import value_tiers

__all__ = [
    "MODEL_LABELS",
    "CLVModel",
    "HoldoutCheck",
    "cdnow_path",
    "holdout_check",
    "simulate_summary",
    "value_tiers",
]
