"""Report blocks (omni.core.blocks): a figure from what a plot function returned, table blocks from a
narrative's table arguments, nothing for what a narrative did not produce."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from omni.core.blocks import Block, figure, figure_of, markdown, table


def test_figure_of_an_axes_an_array_of_axes_a_figure_and_none():
    fig, axes = plt.subplots(1, 3)
    try:
        assert figure_of(axes[1]) is fig
        assert figure_of(axes) is fig and figure_of(np.array([axes], dtype=object)) is fig
        assert figure_of(fig) is fig
        assert figure_of(None) is None
        assert figure(axes) == [Block("figure", fig)]
        assert figure(None) == []  # a plot with nothing to draw returns None: no block
    finally:
        plt.close(fig)


def test_table_blocks_take_the_narratives_table_arguments():
    df = pd.DataFrame({"channel": ["sms", "email"], "share": [0.25, 0.75]})
    [b] = table({"df": df, "formats": {"share": "{:.1%}"}, "caption": "Shares", "index": True})
    assert (b.kind, b.formats, b.caption, b.max_rows, b.index) == ("table", {"share": "{:.1%}"}, "Shares", 25, True)
    assert b.content is df
    [b] = table({"df": df}, max_rows=30)  # keyword arguments override the narrative's
    assert (b.formats, b.caption, b.max_rows, b.index) == (None, None, 30, False)
    assert table(None) == []  # a narrative's optional table that has nothing to show


def test_markdown_block_only_for_a_text():
    assert markdown("**A** rose") == [Block("markdown", "**A** rose")]
    assert markdown(None) == [] and markdown("") == []
