# %% [markdown] tags=["lang-en"]
# # Campaign uplift
#
# What did the campaigns that ended this month cause? Every campaign here is randomized with a
# holdout (control) group. For each one: were people split and treated as designed, how much more
# did the treated buy (with intervals, sharpened by CUPED), for whom it worked, whether an uplift
# model can find the people who respond (Qini), who to send to next time with the expected
# incremental revenue, and how large an effect the design could detect. On synthetic data it ends
# by checking the reported intervals against the true effects.

# %% [markdown] tags=["lang-zh"]
# # 活动增量
#
# 本月结束的活动带来了什么？这里的每个活动都是随机分组并设有留出（对照）组的。逐个活动回答：分组和触达是否符合设计，
# 干预组多买了多少（附区间，并用 CUPED 提高精度），对哪些人有效，增量模型能否找出会响应的人（Qini），下次该发给谁以及
# 预期的增量收入，以及该设计能检测到多大的效果。在合成数据上，最后检验报告的区间是否覆盖真实效果。

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7
lang = "en"  # report language, "en" or "zh" (the runner passes --lang or the dataset's report: {lang})
campaigns = None  # campaign ids, e.g. ["CMP06"], or None for every campaign ending in the month
pre_days = 365  # pre-period (days before the start) for CUPED and the balance check
margin = 0.4  # gross margin on incremental revenue, used for profit
segment_min_n = 100  # segment lifts are estimated only where every arm has this many people
n_boot = 200  # bootstrap resamples for the interval of the Qini coefficient
test_share = 0.3  # share of each campaign held out to check the uplift model

# %% tags=["remove-cell"]
import omni
from omni.reporting.display import headline, note, show, use_report_style
from omni.uplift import analyse_month
from omni.uplift import narrative as un
from omni.uplift import section as us

use_report_style(lang)
ws = omni.open(data)
r = analyse_month(ws, month, campaigns=campaigns, seed=seed, pre_days=pre_days, margin=margin,
                  segment_min_n=segment_min_n, n_boot=n_boot, test_share=test_share)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(un.headline(r), title=un.title(r))
note(un.summary(r))

# %% [markdown] tags=["lang-en"]
# ## This month against the previous month
# The same figures for the campaigns of the previous month (or, if none ended then, the most recent
# campaign before it), recomputed with this month's identity resolution.

# %% [markdown] tags=["lang-zh"]
# ## 本月与上月对比
# 上月活动（若上月没有活动结束，则为之前最近的一个活动）的同一组指标，用本月的身份识别结果重新计算。

# %%
show(us.comparison_section(r))

# %% [markdown] tags=["lang-en"]
# ## Campaigns at a glance
# One line per campaign: size, design checks, what it caused as it ran (all arms together against
# the holdout, with 95% intervals) and the recommendation for next time.

# %% [markdown] tags=["lang-zh"]
# ## 活动概览
# 每个活动一行：规模、设计检查、活动期间带来的效果（所有干预组合并对比留出组，附 95% 区间）以及下次的建议。

# %%
show(us.overview_section(r))

# %% [markdown] tags=["lang-en"]
# ## What OneID sees and what the campaigns caused
# Effects are measured on the assigned person's OneID. Orders that identity resolution cannot tie
# to the person (a store purchase without a member card, a Tmall/JD/Douyin account never bound to a
# phone and not linked by the probabilistic stage) land elsewhere, in every arm alike. The share of
# orders captured is estimated from the data (walk-in store orders, the linking stage's recall) and
# the effect is corrected for it; the correction's own uncertainty widens the interval.

# %% [markdown] tags=["lang-zh"]
# ## OneID 看到的与活动真正带来的
# 效果按被分配会员的 OneID 计量。身份识别无法归到本人的订单（门店无会员卡的购买、从未绑定手机号且未被概率匹配
# 链接的天猫/京东/抖音账号）会落在别处，各组一样。被捕获的订单比例由数据估计（门店散客订单、匹配阶段的召回率），
# 效果据此校正；校正本身的不确定性会加宽区间。

# %%
show(us.identity_section(r))

# %% [markdown] tags=["lang-en"]
# ## Campaign by campaign
# Each campaign's section: design and checks, the effect, CUPED, uplift by segment, the Qini curve,
# the recommendation and the power note.

# %% [markdown] tags=["lang-zh"]
# ## 逐个活动
# 每个活动一节：设计与检查、效果、CUPED、分人群增量、Qini 曲线、建议和检验功效说明。

# %%
show(us.campaign_sections(r, margin=margin))

# %% [markdown] tags=["lang-en"]
# ## Can the predicted uplift be trusted?

# %% [markdown] tags=["lang-zh"]
# ## 预测的增量可信吗？

# %%
show(us.validation_section(r, seed=seed))

# %% [markdown] tags=["lang-en"]
# ## How many people to target: the budget curve
# Ranking the held-out people by predicted uplift and targeting the top share, the incremental
# profit is margin x incremental revenue minus the coupons (every treated buyer redeems one) and the
# contact cost, scaled to everyone assigned and corrected for identity capture. The band is the 95%
# interval; a share is worth targeting only where the band stays above zero.

# %% [markdown] tags=["lang-zh"]
# ## 应该触达多少人：预算曲线
# 按预测增量给留出人群排序并触达前若干比例，增量利润 = 毛利率 × 增量收入 − 优惠券成本 − 触达成本，按全部分配人数
# 放大并校正身份捕获率。阴影为 95% 区间；只有区间整体高于零的比例才值得触达。

# %%
show(us.budget_section(r, margin=margin))

# %% [markdown] tags=["lang-en"]
# ## Truth check
# Only on synthetic data, whose generator knows each person's true uplift: do the reported 95%
# intervals contain the true effect? The same lifts measured with the true person ids instead of
# OneIDs separate what identity resolution loses (orders it cannot link to the person) from the
# estimator's own error.

# %% [markdown] tags=["lang-zh"]
# ## 真值检验
# 仅适用于合成数据，其生成器知道每个人真实的增量：报告的 95% 区间是否包含真实效果？用真实的个人 ID 代替 OneID 测得的
# 增量，可以把身份识别造成的损失（无法关联到本人的订单）与估计量自身的误差区分开。

# %%
show(us.truth_section(r, r.truth_check(ws)))  # the truth's Parquet files, joined on the analysed keys only

# %% [markdown] tags=["lang-en"]
# ## How the numbers are made

# %% [markdown] tags=["lang-zh"]
# ## 数字是怎么来的

# %%
note(un.methods())
