"""omni.core: the business rules and value types every layer shares.

Nothing here imports another omni package: ``core`` is the bottom layer. Each rule lives here once
(the report month, ...) and the layers above read it from here.
"""

from __future__ import annotations

from omni.core.errors import OmniError, OmniWarning, one_line
from omni.core.month import Month, MonthError

__all__ = ["Month", "MonthError", "OmniError", "OmniWarning", "one_line"]
