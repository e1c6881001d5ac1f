"""omni.core: the business rules and value types every layer shares.

Nothing here imports another omni package: ``core`` is the bottom layer. Each rule lives here once
(the report month, how report text is escaped, ...) and the layers above read it from here.
"""

from __future__ import annotations

from omni.core.errors import OmniError, OmniWarning, one_line
from omni.core.markup import (
    CSP,
    CSP_META,
    MarkdownFormatter,
    escape_html,
    escape_md,
    md,
    md_join,
    md_table,
    render_markdown,
)
from omni.core.month import Month, MonthError

__all__ = [
    "CSP",
    "CSP_META",
    "MarkdownFormatter",
    "Month",
    "MonthError",
    "OmniError",
    "OmniWarning",
    "escape_html",
    "escape_md",
    "md",
    "md_join",
    "md_table",
    "one_line",
    "render_markdown",
]
