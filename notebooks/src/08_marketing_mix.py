# %% [markdown] tags=["lang-en"]
# # Marketing mix
#
# How many orders does each channel really cause, and where should the next yuan go? A geo-level
# marketing mix model reads daily spend and sales per region (carryover, diminishing returns, trend,
# season, the retail peaks and price), is calibrated with the geo lift experiments, and is set against
# the path models of report 04: the triangulation. On synthetic data it is checked against the truth.

# %% [markdown] tags=["lang-zh"]
# # 营销组合模型
#
# 每个渠道真正带来了多少订单？下一元预算该投向哪里？地区级营销组合模型读取各地区每天的花费与销售（滞后效应、边际递减、
# 趋势、季节、零售大促和价格），用地区增量实验校准，并与报告 04 的路径模型对照（三角验证）；在合成数据上与真值比较。

# %% tags=["parameters"]
data = "data/sample"  # dataset folder; the mix's sources are in <data>/mix
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7
lang = "en"  # report language, "en" or "zh"
calibrate = True  # let the lift experiments enter the fit
n_draws = 200  # posterior draws behind the intervals
plan_weeks = 52  # the optimiser plans the last this many weeks' budget again
low, high = 0.5, 2.0  # each channel's budget bounds, as multiples of its current budget

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

import omni
from omni.mix import analyse_month, plots
from omni.mix import narrative as nr
from omni.reporting.display import headline, note, table, use_report_style

use_report_style(lang)
ws = omni.open(data)
r = analyse_month(ws, month, calibrate=calibrate, n_draws=n_draws, plan_weeks=plan_weeks, low=low, high=high,
                  seed=seed)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(nr.headline(r), title=nr.title(r))
note(nr.summary(r))

# %% [markdown] tags=["lang-en"]
# ## Orders over time: baseline and media
# Weekly orders of all regions: what the baseline would bring without media, and each channel's
# incremental orders on top, against the orders seen.

# %% [markdown] tags=["lang-zh"]
# ## 订单随时间的分解：基线与媒体
# 全部地区的每周订单：没有媒体时基线会带来的订单，叠加各渠道的增量订单，并与实际订单对照。

# %%
plots.plot_decomposition(r)
plt.show()
note(nr.decomposition(r))

# %% [markdown] tags=["lang-en"]
# ## Response curves and return on spend
# Carryover and saturation make each extra yuan earn less than the last. ROAS is incremental revenue
# per unit of spend over the plan period, with 90% intervals.

# %% [markdown] tags=["lang-zh"]
# ## 响应曲线与投放回报
# 滞后与饱和使每多投一元的回报递减。ROAS 为计划期内每单位花费带来的增量收入，附 90% 区间。

# %%
plots.plot_curves(r)
plt.show()
note(nr.curves(r))
plots.plot_roas(r)
plt.show()
table(**nr.roas_table(r))

# %% [markdown] tags=["lang-en"]
# ## Triangulation: MMM, experiments and path models
# The lift experiments switched a channel off in some regions for four weeks; their measured lift
# (regions compared with the others, placebo standard errors) enters the fit and is shown next to
# the model's effect for the same test. Path models see only the channels with touches.

# %% [markdown] tags=["lang-zh"]
# ## 三角验证：MMM、实验与路径模型
# 增量实验在部分地区把某渠道关停四周；实测增量（与其他地区对比，安慰剂标准误）进入拟合，并与模型对同一实验的估计并列。
# 路径模型只能看到有触点的渠道。

# %%
if (t := nr.lifts_table(r)) is not None:
    table(**t)
table(**nr.triangulation_table(r))
if "path_shares" in r.tables:
    plots.plot_triangulation(r)
    plt.show()
note(nr.triangulation(r))

# %% [markdown] tags=["lang-en"]
# ## The optimiser's plan
# The plan period's budget moved between channels at the same total, within the bounds, until the
# marginal ROAS of the channels inside their bounds is equal.

# %% [markdown] tags=["lang-zh"]
# ## 优化方案
# 在总预算和边界不变的前提下在渠道间调整预算，直到未触及边界的渠道边际 ROAS 相等。

# %%
plots.plot_plan(r)
plt.show()
table(**nr.plan_table(r))
note(nr.plan(r))

# %% [markdown] tags=["lang-en"]
# ## Truth check (synthetic data only)
# The generator keeps every channel's incremental orders per day and region and its true curve.

# %% [markdown] tags=["lang-zh"]
# ## 真值检验（仅合成数据）
# 生成器记录了每个渠道每天每个地区的增量订单及其真实响应曲线。

# %%
if (t := nr.truth_table(r)) is not None:
    plots.plot_truth(r)
    plt.show()
    table(**t)
note(nr.truth(r))
table(**nr.quarantine_table(r))
