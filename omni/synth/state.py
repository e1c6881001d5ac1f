"""The simulated world before it is written out (people, identities, behaviour, campaigns)."""

from __future__ import annotations

from dataclasses import dataclass

from omni.synth.behaviour import Events, Tickets
from omni.synth.campaigns import CampaignResult
from omni.synth.config import SynthConfig
from omni.synth.identities import Identities
from omni.synth.people import People
from omni.synth.products import ProductWorld
from omni.synth.purchases import Orders, OrderValues
from omni.synth.timeline import Timeline
from omni.synth.touches import Touches

__all__ = ["World"]


@dataclass
class World:
    """Everything the source writers need; rows of orders/touches/events are sorted by time."""

    cfg: SynthConfig
    tl: Timeline
    people: People
    ids: Identities
    orders: Orders
    values: OrderValues
    touches: Touches
    campaigns: CampaignResult
    events: Events
    tickets: Tickets
    skipped_campaigns: list[str]
    products: ProductWorld | None = None  # issue 19: catalogue, tastes, line items, views
