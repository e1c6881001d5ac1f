import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from omni.reporting.display import use_report_style  # noqa: E402
from omni.reporting.plots import interval_bars, log_scale, percent_heatmap  # noqa: E402


def _labels(axis):
    plt.gcf().canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_log_axes_label_ticks_as_plain_numbers_with_mathtext_off():
    use_report_style()  # draws '$' literally: default log tick labels would show '$\\mathdefault{10^{3}}$'
    fig, ax = plt.subplots()
    ax.hist(np.logspace(0, 4, 200), bins=np.logspace(0, 4, 20))
    log_scale(ax, "x")
    labels = _labels(ax.xaxis)
    assert labels and not any("$" in t or "mathdefault" in t for t in labels)
    assert "1,000" in labels
    plt.close(fig)


def test_percent_heatmap_writes_percentages_and_leaves_suppressed_cells_blank():
    shares = pd.DataFrame([[0.5, np.nan], [0.004, 1.0]], index=["a", "b"], columns=["x", "$y$"])
    fig, ax = plt.subplots()
    percent_heatmap(shares, ax=ax, title="t")
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["100", "50"]  # NaN blank, 0.4 % under the 0.5 % label floor
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "$y$"]
    plt.close(fig)


def test_interval_bars_put_the_first_label_on_top():
    fig, ax = plt.subplots()
    interval_bars(["first", "second"], [0.1, 0.2], [0.0, 0.1], [0.2, np.nan], ax=ax, scale=100)
    ticks = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert ticks["first"] > ticks["second"]
    plt.close(fig)
