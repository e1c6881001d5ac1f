# %% [markdown] tags=["lang-en"]
# # Channel attribution
#
# Which marketing channels earn this month's orders, and how sure can we be? Journeys are built per
# OneID across devices and channels: every paid order in any sales channel (Tmall, JD, Douyin, own
# site, stores) is a conversion, and the buyer's ad, search, KOL, SMS, email and WeChat touches in the
# lookback window before it form its path. Rule-based, Markov-chain and Shapley models share out the
# conversions with bootstrap intervals, spend turns them into CPA and ROAS, and the report shows where
# the models disagree, what changed since last month and, on synthetic data, how close each model is
# to the true channel effects.

# %% [markdown] tags=["lang-zh"]
# # 渠道归因
#
# 本月的订单由哪些营销渠道带来，把握有多大？按 OneID 跨设备、跨渠道构建用户路径：任一销售渠道（天猫、京东、抖音、
# 官网、门店）的每笔已支付订单都是一次转化，买家在回溯窗口内的广告、搜索、KOL、短信、邮件和微信触点构成其路径。
# 规则模型、马尔可夫链模型和 Shapley 模型分配转化并给出 bootstrap 区间，结合投放花费得到 CPA 和 ROAS；报告还展示
# 各模型的分歧、与上月相比的变化，以及（在合成数据上）各模型与真实渠道效果的接近程度。

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7
lang = "en"  # report language, "en" or "zh" (the runner passes --lang or the dataset's report: {lang})
lookback_days = 30  # touches up to this many days before an order count for it
include_impressions = True  # count ad impressions (view-through) as touches, not only clicks/sends/opens
channel_map = None  # optional grouping of touch channels, e.g. {"sms": "crm", "email": "crm"}
half_life_days = 7.0  # time-decay model: a touch this many days before the order counts half
markov_order = 1  # Markov chain order: states are the last k channels
n_boot = 200  # bootstrap replicates for the share intervals
target_roas = 1.0  # ROAS a channel must reach to pay back (1: revenue equals spend; 1 / gross margin for profit)
headline_model = "markov"  # model behind the headline channel figures

# %% tags=["remove-cell"]
import omni
from omni.attribution import analyse_month
from omni.attribution import narrative as nr
from omni.attribution import section as s
from omni.reporting.display import headline, note, show, use_report_style

use_report_style(lang)
ws = omni.open(data)
r = analyse_month(ws, month, lookback_days=lookback_days, include_impressions=include_impressions,
                  channel_map=channel_map, half_life_days=half_life_days, markov_order=markov_order,
                  n_boot=n_boot, target_roas=target_roas, headline_model=headline_model, seed=seed)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(nr.headline(r), title=nr.title(r))
note(nr.summary(r))

# %% [markdown] tags=["lang-en"]
# ## Journeys: how people get to an order
# A journey is the buyer's touches (all devices and channels joined by OneID) in the lookback window
# before a paid order; touches after a person's last order that did not lead to one form a
# non-converting journey. Most orders have no touch at all; among those that do, short paths dominate.

# %% [markdown] tags=["lang-zh"]
# ## 用户路径：人们如何走到下单
# 一条路径是买家在下单前回溯窗口内的触点（按 OneID 打通所有设备和渠道）；一个人最后一次下单之后、没有带来订单的触点
# 构成未转化路径。多数订单没有任何触点；有触点的订单中以短路径为主。

# %%
show(s.journeys(r))

# %% [markdown] tags=["lang-en"]
# ## Online to offline
# Per sales channel: how many orders had a marketing touch or a visit to the brand's site or app in
# the lookback window before them. Store purchases preceded by online activity are the
# "research online, buy offline" journeys that only a person-level (OneID) view can see.

# %% [markdown] tags=["lang-zh"]
# ## 线上到线下
# 按销售渠道：有多少订单在回溯窗口内有营销触点或访问过品牌官网/App。线上有活动、随后在门店购买，就是只有在个人
# （OneID）层面才能看到的“线上研究、线下购买”路径。

# %%
show(s.online_to_offline(r))

# %% [markdown] tags=["lang-en"]
# ## Channel shares by model
# Each model shares out the month's conversions among the channels; *direct* keeps the orders
# without any touch. Bars show each model's share of all conversions with a 95% bootstrap interval
# (journeys resampled; every path-based model sees the same replicates).

# %% [markdown] tags=["lang-zh"]
# ## 各模型的渠道份额
# 每个模型把本月的转化分配给各渠道；*direct*（直接）保留没有任何触点的订单。条形表示各模型在全部转化中给出的份额及
# 95% bootstrap 区间（重抽路径；所有基于路径的模型使用相同的重抽样本）。

# %%
show(s.shares(r))

# %% [markdown] tags=["lang-en"]
# ## The Markov chain: transitions and removal effects
# Journeys read as walks from *start* through channel states to *conversion* or *null* (no order).
# The removal effect of a channel is the share of conversions lost if every path through it ended
# in *null*, computed exactly on the absorbing chain; the Markov model shares conversions in proportion.

# %% [markdown] tags=["lang-zh"]
# ## 马尔可夫链：转移与移除效应
# 路径被视为从 *start* 经过各渠道状态走到 *conversion*（转化）或 *null*（未下单）。某渠道的移除效应是：若经过它的
# 每条路径都终止于 *null*，会损失的转化比例，在吸收链上精确计算；马尔可夫模型按此比例分配转化。

# %%
show(s.markov(r))

# %% [markdown] tags=["lang-en"]
# ## Return on spend per channel and model
# The month's spend per channel against the conversions and revenue each model credits to it: CPA
# (spend per credited conversion) and ROAS (credited revenue per unit of spend). The dashed line is
# the target ROAS set in the parameters.

# %% [markdown] tags=["lang-zh"]
# ## 各渠道各模型的投放回报
# 本月各渠道的花费与各模型归因给它的转化和收入：CPA（每个归因转化的花费）和 ROAS（每单位花费带来的归因收入）。
# 虚线是参数中设定的目标 ROAS。

# %%
show(s.roas(r))

# %% [markdown] tags=["lang-en"]
# ## Where the models disagree, and what it means for budget

# %% [markdown] tags=["lang-zh"]
# ## 模型的分歧及其对预算的含义

# %%
show(s.disagreement(r))  # each channel's share range and ranks; where models disagree, a holdout test decides

# %% [markdown] tags=["lang-en"]
# ## This month against the previous month

# %% [markdown] tags=["lang-zh"]
# ## 本月与上月对比

# %%
show(s.comparison(r))  # the previous month restated on this month's OneIDs

# %% [markdown] tags=["lang-en"]
# ## Truth check (synthetic data only)

# %% [markdown] tags=["lang-zh"]
# ## 真值检验（仅合成数据）

# %%
show(s.truth(r))  # each model's shares against the generator's touch-caused conversions
