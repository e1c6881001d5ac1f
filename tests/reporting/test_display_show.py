"""display.show: a section's blocks shown in order, each the way note, table and a figure show it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import IPython.display
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from omni.core.blocks import Block
from omni.core.i18n import using_lang
from omni.reporting import display


@pytest.fixture()
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: out.append(obj))
    return out


def test_show_renders_blocks_in_order_as_note_table_and_figure(shown):
    import omni.attribution.narrative  # noqa: F401  (registers its terms: sms -> 短信)

    fig, ax = plt.subplots()
    df = pd.DataFrame({"channel": ["sms"] * 3, "share": [0.123, 0.5, 0.25]}, index=["a", "b", "c"])
    blocks = [Block("markdown", "**Shares** by channel"),
              Block("table", df, {"share": "{:.1%}"}, "Shares", max_rows=2, index=True),
              Block("figure", fig)]
    display.show(iter(blocks))  # any iterable: a section may yield its blocks
    md, tab, pic = shown
    assert md["text/html"] == '<div class="omni-md"><p><strong>Shares</strong> by channel</p>\n</div>'
    assert md["text/markdown"] == "**Shares** by channel"
    html = tab.data
    assert "<caption" in html and ">Shares</caption>" in html
    assert "<th>index</th><th>channel</th><th>share</th>" in html  # the index is shown
    assert "<td>a</td><td>sms</td><td>12.3%</td>" in html and "<td>c</td>" not in html  # two rows of three
    assert "Showing 2 of 3 rows." in html
    assert pic is fig and not plt.fignum_exists(fig.number)  # shown, then closed
    with using_lang("zh"):
        display.show([Block("table", df.head(1), {"share": "{:.1%}"})])
    assert "<td>短信</td>" in shown[-1].data


def test_show_refuses_an_unknown_block_kind(shown):
    with pytest.raises(ValueError, match="show: unknown block kind 'chart' \\(markdown, table or figure\\)"):
        display.show([Block("chart", None)])
    assert shown == []
