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
import matplotlib.pyplot as plt
from IPython.display import display

import omni
from omni.reporting.display import headline, note, table, use_report_style
from omni.uplift import analyse_month
from omni.uplift import narrative as un
from omni.uplift import plots as up
from omni.uplift import tables as ut
from omni.uplift.section import campaign_section

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
table(ut.month_comparison(r), caption=un.comparison_caption(r))
note(un.comparison(r))

# %% [markdown] tags=["lang-en"]
# ## Campaigns at a glance
# One line per campaign: size, design checks, what it caused as it ran (all arms together against
# the holdout, with 95% intervals) and the recommendation for next time.

# %% [markdown] tags=["lang-zh"]
# ## 活动概览
# 每个活动一行：规模、设计检查、活动期间带来的效果（所有干预组合并对比留出组，附 95% 区间）以及下次的建议。

# %%
if r.campaigns:
    table(ut.overview_table(r.campaigns),
          formats={"cost (CNY)": "{:,.0f}", "incremental profit (CNY)": "{:,.0f}"})
    up.plot_overview(r)
    plt.show()
    note(un.overview(r))

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
if r.campaigns and r.captures:
    table(un.identity_table(r), caption="Observed effect vs effect adjusted for identity capture (95%)")
    note(un.identity_summary(r))

# %% [markdown] tags=["lang-en"]
# ## Campaign by campaign
# Each campaign's section: design and checks, the effect, CUPED, uplift by segment, the Qini curve,
# the recommendation and the power note.

# %% [markdown] tags=["lang-zh"]
# ## 逐个活动
# 每个活动一节：设计与检查、效果、CUPED、分人群增量、Qini 曲线、建议和检验功效说明。

# %%
for campaign in r.campaigns:
    for block in campaign_section(campaign, margin=margin):
        if block.kind == "markdown":
            note(block.content)
        elif block.kind == "table":
            table(block.content, formats=block.formats, caption=block.caption)
        else:
            display(block.content)
            plt.close(block.content)

# %% [markdown] tags=["lang-en"]
# ## Can the predicted uplift be trusted?
# Each arm's uplift model is checked on the held-out people (never used to fit it), as EconML's
# DRTester and DoWhy's refuters do. The **best linear predictor** regresses the outcome on the
# treatment and on the treatment times the prediction: a slope above zero means the model finds
# people who respond more (1 = its sizes are right). **Calibration** compares the observed effect
# with the predicted one in five groups of the prediction. The **refuters** must leave the effect
# alone: a randomly permuted treatment must show none, a random extra covariate must not move it,
# random 80% subsets must give the same.

# %% [markdown] tags=["lang-zh"]
# ## 预测的增量可信吗？
# 每个组的增量模型都在留出的人群上检验（这些人从未用于拟合），做法同 EconML 的 DRTester 和 DoWhy 的反驳检验：
# **最佳线性预测**检验（斜率大于零说明模型找到了响应更强的人）、按预测五分位的**校准**，以及三项**反驳**
# （随机置换处理、随机共同原因、随机 80% 子集）。

# %%
from omni.uplift.validation import validate_cate  # noqa: E402

for campaign in r.campaigns:
    for arm, m in campaign.model.items():
        v = validate_cate(m["test"]["converted"], m["test"]["treated"], m["score"], seed=seed)
        table(un.validation_table(v), caption=un.validation_caption(campaign.campaign_id, arm))
        note(un.validation_verdict(v))
if not any(c.model for c in r.campaigns):
    note(un.no_model_to_check())

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
from omni.uplift.budget import best_share, budget_curve  # noqa: E402

for campaign in r.campaigns:
    for arm, m in campaign.model.items():
        curve = budget_curve(m["test"], m["score"], coupon_value=campaign.info["coupon_value"].get(arm, 0.0),
                             margin=margin, cost_per_contact=campaign.info["cost_per_contact"],
                             population=campaign.info["n_people"],
                             capture=r.captures.get(campaign.campaign_id))
        up.plot_budget_curve(curve, title=un.budget_curve_title(campaign.campaign_id, arm))
        plt.show()
        table(un.budget_table(curve), caption=un.budget_caption(campaign.campaign_id, arm))
        note(un.budget_summary(campaign.campaign_id, arm, best_share(curve)))
if not any(c.model for c in r.campaigns):
    note(un.no_model_to_rank())

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
check = r.truth_check(ws)  # the truth's Parquet files, joined in the engine on the analysed keys only
if check is not None:
    table(ut.truth_table(check), caption="True intention-to-treat effect vs reported 95% intervals")
    if len(check.segments):
        table(ut.segment_coverage(check), formats={"share covered": "{:.0%}"},
              caption="Segment intervals (conversion) containing the true segment effect")
    note(un.truth_summary(check))
    if r.captures:
        note(un.identity_coverage_summary(r.identity_coverage(check)))
else:
    note(un.no_truth())

# %% [markdown] tags=["lang-en"]
# ## How the numbers are made
# - **Outcome**: a person converted if they placed any paid order (refunded and cancelled orders never
#   count), in any channel, from the start to the end date of the campaign; revenue is the sum of those
#   orders. Orders count only when OneID links them to the person. **Adjusted for capture**: the
#   effect divided by the share c of the assigned people's orders OneID captures (for conversion
#   times (1 - holdout conversion)^(1/c - 1)), c estimated by channel from the data, its uncertainty
#   added by the delta method. Effects compare people by the arm they were **assigned** to, contacted
#   or not (intention to treat); the effect on the contacted is the complier effect (ITT / contact rate).
# - **Checks**: sample ratio by chi-square (flag at p < 0.001), balance by standardized mean differences
#   (|SMD| > 0.1), contamination (> 1% of the holdout contacted) and reach (> 10% of the treated not
#   contacted).
# - **Intervals**: two-proportion z (conversion) and Welch t (revenue), 95%; with several arms the
#   p-values are Holm-adjusted. **CUPED** subtracts theta x (pre-period value - its mean), theta =
#   cov / var over all people.
# - **Segments** (RFM 8 classes and CLV tiers from orders before the start; city tier) are estimated
#   only with at least `segment_min_n` people per arm; counts under 10 are hidden. Cochran's Q tests
#   whether the lifts differ.
# - **Uplift model**: one logistic regression per arm (T-learner) on 70% of the people; the Qini curve
#   and its coefficient (bootstrap interval) on the other 30%. The share to target is chosen on the
#   70% and valued on the 30%. Costs: contacts x cost per contact + a coupon for every treated buyer
#   (conservative); profit = margin x incremental revenue - cost.
# - **Power**: smallest detectable lift at 80% power, 5% two-sided (Fleiss), for the design's size
#   and split. Details and references: docs/uplift.md.

# %% [markdown] tags=["lang-zh"]
# ## 数字是怎么来的
# - **结果指标**：在活动开始到结束日期之间，在任一渠道有已支付订单即算转化；收入为这些订单之和。只有被 OneID 关联到
#   本人的订单才计入。效果按分配到的组（无论是否触达）比较（意向性分析，ITT）；对已触达者的效果为依从者效应（ITT / 触达率）。
# - **检查**：用卡方检验样本比例（p < 0.001 时标记），用标准化均值差检验平衡（|SMD| > 0.1），污染（留出组被触达超过 1%）
#   和触达（干预组未被触达超过 10%）。
# - **区间**：两比例 z 检验（转化）和 Welch t 检验（收入），95%；多个干预组时 p 值经 Holm 校正。**CUPED** 减去
#   theta x（前期值 - 其均值），theta = 全体人群上的 cov / var。
# - **人群分组**（按活动开始前订单计算的 RFM 八类和 CLV 分层；城市级别）仅在每组至少 `segment_min_n` 人时估计；
#   少于 10 的计数不予显示。Cochran's Q 检验各组增量是否不同。
# - **增量模型**：每个组一个逻辑回归（T-learner），用 70% 的人训练；Qini 曲线及其系数（bootstrap 区间）在另外 30% 上计算。
#   目标人群比例在 70% 上选定，在 30% 上估值。成本：触达人数 x 单次触达成本 + 每个干预组买家一张优惠券（保守）；
#   利润 = 毛利率 x 增量收入 - 成本。
# - **检验功效**：在 80% 功效、5% 双侧（Fleiss）下，按设计的规模和分组比例可检测到的最小增量。详情与参考文献见 docs/uplift.md。

