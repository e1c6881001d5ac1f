"""Customer value: RFM classes, purchase and spend models (CLV), churn risk, TGI profiles.

* :func:`analyse_month` (the value report, notebook 03) returns a :class:`ValueResult`;
  :mod:`omni.value.plots` draws it and :mod:`omni.value.narrative` words it.
* :func:`customer_value` is customer value as of any date (RFM summary and classes, P(alive),
  expected purchases, CLV, value tiers), computed once per workspace, date and settings; the value
  report, campaign uplift and audiences read it. :func:`value_of_orders` is the same from an
  orders table.
* Models and building blocks: :mod:`omni.value.rfm`, :mod:`omni.value.clv`, :mod:`omni.value.tgi`.
"""

from omni.core.lazy import lazy_submodules
from omni.value.analysis import analyse_month
from omni.value.clv import CLVModel, value_tiers
from omni.value.customer import (
    CustomerRFM,
    CustomerValue,
    NoPaidOrdersError,
    customer_rfm,
    customer_value,
    identified_orders,
    restate,
    rfm_of_orders,
    value_of_orders,
)
from omni.value.result import ValueResult
from omni.value.rfm import SEGMENTS, rfm_scores, rfm_segments, rfm_summary

__all__ = [
    "SEGMENTS",
    "CLVModel",
    "CustomerRFM",
    "CustomerValue",
    "NoPaidOrdersError",
    "ValueResult",
    "analyse_month",
    "customer_rfm",
    "customer_value",
    "identified_orders",
    "restate",
    "rfm_of_orders",
    "rfm_scores",
    "rfm_segments",
    "rfm_summary",
    "value_of_orders",
    "value_tiers",
]


# the presentation modules load matplotlib: imported on first use (omni.<domain>.plots)
__getattr__ = lazy_submodules(__name__)
