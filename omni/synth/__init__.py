"""Synthetic omnichannel world (``omni synth``): a beauty/fashion brand's customers across
CRM, site/app, Tmall/JD/Douyin, stores, WeChat, customer service and marketing touchpoints,
written as a dataset folder (``raw/`` + ``truth/``) that follows ``docs/data_contract.md``.

See ``docs/synthetic_world.md`` for what is modelled, the knobs and the truth files.
"""

from __future__ import annotations

from omni.synth.config import CampaignSpec, SynthConfig
from omni.synth.world import generate_world

__all__ = ["CampaignSpec", "SynthConfig", "generate_world"]
