"""Every domain's charts drawn in Chinese with the report's CJK font: a missing glyph is an error."""

from __future__ import annotations

import warnings

import pytest

import omni
from omni.core.i18n import using_lang
from omni.reporting.display import cjk_font_path, use_report_style

# one chart per domain (notebook): (package, analyse_month kwargs, plot function)
CHARTS = [
    ("audit", {}, "plot_completeness"),
    ("identity", {}, "plot_profile_sizes"),
    ("value", {"n_boot": 20}, "plot_rfm_distribution"),
    ("attribution", {"n_boot": 20}, "plot_journeys"),
    ("uplift", {"n_boot": 20}, "plot_overview"),
    ("audience", {}, "plot_sizes"),
]


@pytest.fixture(scope="module")
def ws(test_world):
    return omni.open(test_world)


@pytest.mark.parametrize(("domain", "kwargs", "plot"), CHARTS, ids=[c[0] for c in CHARTS])
def test_chart_draws_every_chinese_glyph(ws, domain, kwargs, plot, tmp_path):
    import importlib

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert cjk_font_path() is not None, "no CJK font installed: make setup installs fonts-wqy-microhei"
    pkg = importlib.import_module(f"omni.{domain}")
    result = pkg.analyse_month(ws, "2026-10", **kwargs)
    with using_lang("zh"):
        use_report_style("zh")
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=r".*missing from font.*")
            getattr(importlib.import_module(f"omni.{domain}.plots"), plot)(result)
            fig = plt.gcf()
            texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
            assert any("\u4e00" <= ch <= "\u9fff" for t in texts for ch in t), "the chart has no Chinese label"
            fig.savefig(tmp_path / f"{domain}.png")  # drawing is where a missing glyph warns
        plt.close("all")
    use_report_style("en")


def test_missing_glyph_is_caught(tmp_path):
    """The check itself: a font without CJK glyphs does warn, and the filter makes that an error."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("渠道归因", family="DejaVu Sans")
    with warnings.catch_warnings(), pytest.raises(UserWarning, match="missing from font"):
        warnings.filterwarnings("error", message=r".*missing from font.*")
        fig.savefig(tmp_path / "boxes.png")
    plt.close(fig)
