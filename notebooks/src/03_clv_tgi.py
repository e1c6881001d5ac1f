# %% [markdown] tags=["lang-en"]
# # Customer value: RFM, CLV and TGI
#
# Who are the brand's customers and what are they worth? Every identified OneID with a paid order
# in any channel (Tmall, JD, Douyin, own site, stores) up to the month end is a customer. The report
# sorts them into the 8 RFM classes, checks a purchase model (BG/NBD or Pareto/NBD) on a held-out
# half year and uses it with a spend model to predict each customer's P(alive), next purchases and
# 12-month value (CLV); lists the high-value customers who are slipping away; profiles the top value
# tier and the whole customer base with TGI; and compares the month with the previous one.

# %% [markdown] tags=["lang-zh"]
# # 客户价值：RFM、CLV 与 TGI
#
# 品牌的客户是谁、价值几何？截至月末在任一渠道（天猫、京东、抖音、官网、门店）有已支付订单、且已识别的 OneID 都算客户。
# 本报告把客户分入 RFM 八类；用留出的半年检验购买模型（BG/NBD 或 Pareto/NBD），并结合客单价模型预测每位客户的
# P(存活)、后续购买次数和 12 个月价值（CLV）；列出正在流失的高价值客户；用 TGI 刻画最高价值层和全体客户；并与上月对比。

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7
lang = "en"  # report language, "en" or "zh" (the runner passes --lang or the dataset's report: {lang})
purchase_model = "auto"  # "auto" (whichever predicts the holdout better), "bgnbd" or "paretonbd"
holdout_weeks = 26  # model check: fit on purchases up to this many weeks before the month end, predict the rest
clv_months = 12  # CLV horizon in months
discount_rate_annual = 0.10  # annual discount rate of the CLV
tier_shares = [0.10, 0.20, 0.30]  # shares of value tiers A, B, C by CLV rank (tier D: the rest)
rfm_threshold = "mean"  # 8-class scheme: R, F and M compared with their "mean" or "median"
include_anonymous = False  # count anonymous orders (no card, phone or account: a OneID of their own) as customers
churn_min_drop = 0.05  # watch list: P(alive) down by at least this much since the previous month end
churn_list_size = 20  # rows in the watch list (at most 20)
tgi_min_count = 30  # TGI cells with fewer people in the segment are suppressed
tgi_highlight = 120  # call out traits significantly over-represented with at least this TGI
n_boot = 200  # bootstrap replicates for the intervals of the mean CLV per RFM class

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

import omni
from omni.reporting.display import headline, note, table, use_report_style
from omni.value import narrative as nv
from omni.value import plots


def section(chart, tables, text):
    """Show a section's chart (drawn before this call), then its tables and its note, in this order."""
    plt.show()
    for shown in tables:
        table(**shown)
    note(text)


use_report_style(lang)
ws = omni.open(data)
r = omni.value.analyse_month(ws, month, seed=seed, purchase_model=purchase_model, holdout_weeks=holdout_weeks,
                             clv_months=clv_months, discount_rate_annual=discount_rate_annual, tier_shares=tier_shares,
                             rfm_threshold=rfm_threshold, include_anonymous=include_anonymous, n_boot=n_boot,
                             churn_min_drop=churn_min_drop, churn_list_size=churn_list_size,
                             tgi_min_count=tgi_min_count, tgi_highlight=tgi_highlight)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(nv.headline(r), title=nv.title(r))
note(nv.summary(r))

# %% [markdown] tags=["lang-en"]
# ## Recency, frequency and monetary value
# R is the number of days since a customer's last purchase, F the number of paid orders and M the
# total spend, all up to the month end and across every channel the customer's OneID joins.

# %% [markdown] tags=["lang-zh"]
# ## 最近购买、购买频次与消费金额
# R 为距客户最近一次购买的天数，F 为已支付订单数，M 为消费总额，均截至月末，覆盖该客户 OneID 打通的全部渠道。

# %%
section(plots.plot_rfm_distribution(r), [], nv.rfm(r))

# %% [markdown] tags=["lang-en"]
# ## The 8 RFM classes
# Each customer is recent or not (R below the threshold), frequent or not (F above it) and high-spending
# or not (M above it): eight classes from 重要价值 (recent, frequent, high spend) to 一般挽留 (none of
# the three). Mean CLV comes with a 95% bootstrap interval (customers resampled within each class).

# %% [markdown] tags=["lang-zh"]
# ## RFM 八类
# 每位客户按是否近期购买（R 低于阈值）、是否高频（F 高于阈值）、是否高消费（M 高于阈值）分类：从重要价值
# （近期、高频、高消费）到一般挽留（三者皆否）共八类。平均 CLV 附 95% bootstrap 区间（在各类内重抽客户）。

# %%
section(plots.plot_segment_shares(r), [nv.segments_table(r)], nv.segments(r))

# %% [markdown] tags=["lang-en"]
# ## The purchase model and how well it predicts
# BG/NBD and Pareto/NBD describe each customer as buying at a steady personal rate until an unseen
# dropout. To check them, both are fitted on the purchases up to the calibration end and asked to
# predict each customer's purchases in the held-out weeks that follow; the model with the smaller
# error (RMSE per customer) is refitted on all purchases up to the month end and used for the
# predictions. Gamma-Gamma predicts the spend per purchase.

# %% [markdown] tags=["lang-zh"]
# ## 购买模型及其预测能力
# BG/NBD 和 Pareto/NBD 把每位客户描述为以稳定的个人速率购买，直到某个看不见的时点流失。为检验模型，两者都用校准期末
# 之前的购买拟合，再预测其后留出各周中每位客户的购买；误差（每位客户的 RMSE）较小的模型用截至月末的全部购买重新拟合，
# 用于预测。Gamma-Gamma 模型预测每次购买的客单价。

# %%
section(plots.plot_holdout(r), nv.model_tables(r), nv.model(r))

# %% [markdown] tags=["lang-en"]
# ## CLV and the value tiers
# CLV is the expected spend of the next months, discounted: expected purchases month by month
# (which fall as P(alive) decays) times the expected spend per purchase. Customers are ranked by CLV
# into tiers: A the top 10%, B the next 20%, C the next 30%, D the rest.

# %% [markdown] tags=["lang-zh"]
# ## CLV 与价值分层
# CLV 是未来若干个月的预期消费（折现）：逐月的预期购买次数（随 P(存活) 衰减而下降）乘以预期客单价。客户按 CLV 排序分层：
# A 为前 10%，B 为其后 20%，C 为再后 30%，D 为其余。

# %%
section(plots.plot_clv_distribution(r), [nv.tiers_table(r)], nv.tiers(r))

# %% [markdown] tags=["lang-en"]
# ## Churn risk: high-value customers slipping away
# P(alive) is the model's probability that a customer still buys from the brand. It falls every month
# without a purchase, fastest for customers who used to buy often. The watch list holds the customers
# who were in the top value tier at the previous month end and whose P(alive) has fallen since, most
# value lost first; both dates use this month's model so the change is the customer's silence, not a
# refit. Ids are shortened.

# %% [markdown] tags=["lang-zh"]
# ## 流失风险：正在流失的高价值客户
# P(存活) 是模型给出的客户仍在本品牌购买的概率。没有购买的每个月它都会下降，过去购买越频繁的客户降得越快。观察名单
# 列出上月末属于最高价值层、此后 P(存活) 下降的客户，损失价值最大的在前；两个时点都用本月的模型，因此变化来自客户的
# 沉默而非模型重拟合。ID 已缩短。

# %%
section(plots.plot_churn(r), nv.churn_tables(r), nv.churn(r))

# %% [markdown] tags=["lang-en"]
# ## Who the top-tier customers are (TGI against all customers)
# TGI = share of a trait among the tier-A customers ÷ its share among all customers × 100: above 100
# the trait is more common among the most valuable customers. Intervals account for tier A being part
# of all customers. Demographics (gender, age, city) come from the CRM and are known for members only;
# channels and categories come from every customer's orders.

# %% [markdown] tags=["lang-zh"]
# ## 最高价值层客户画像（相对全体客户的 TGI）
# TGI = 某特征在 A 层客户中的占比 ÷ 在全体客户中的占比 × 100：高于 100 说明该特征在最有价值的客户中更常见。区间考虑了
# A 层本身是全体客户的一部分。人口属性（性别、年龄、城市）来自 CRM，仅会员已知；渠道和品类来自每位客户的订单。

# %%
section(plots.plot_tgi_top(r), nv.tgi_top_tables(r), nv.tgi_top(r))

# %% [markdown] tags=["lang-en"]
# ## The customer base against the market (TGI against the market panel)
# The third-party panel gives the adult population by gender, age band and city tier: TGI shows which
# groups the brand reaches more (above 100) or less than their weight in the population. The panel is a
# census-like count, so only the customers' side carries sampling error.

# %% [markdown] tags=["lang-zh"]
# ## 客户群与市场对比（相对市场样本的 TGI）
# 第三方样本给出按性别、年龄段和城市级别划分的成年人口：TGI 显示品牌触达哪些人群多于（高于 100）或少于其人口占比。
# 样本是类普查的计数，因此只有客户一侧带有抽样误差。

# %%
section(plots.plot_tgi_panel(r), nv.panel_tables(r), nv.panel(r))

# %% [markdown] tags=["lang-en"]
# ## This month against the previous month
# The same figures at the previous month end (the model refitted on the purchases up to then, same
# OneIDs), and how customers moved between the RFM classes over the month.

# %% [markdown] tags=["lang-zh"]
# ## 本月与上月对比
# 上月末的同一组指标（模型用截至当时的购买重新拟合，OneID 相同），以及本月客户在 RFM 各类之间的迁移。

# %%
for shown in nv.comparison_tables(r):
    table(**shown)
plots.plot_migration(r)
plt.show()
note(nv.comparison(r))

# %% [markdown] tags=["lang-en"]
# ## Truth check (synthetic data only)
# The synthetic world's generator knows each person's purchase rate while active, dropout rate and
# dropout date. Each customer OneID is mapped to the person most of its records belong to; a person
# whose orders sit on several OneIDs (unlinked platform accounts) is compared through the sum of their
# predictions. The true expected organic purchases of the next 12 months follow from the person's
# rates if still active at the month end (orders caused by ads and campaigns are not included).

# %% [markdown] tags=["lang-zh"]
# ## 真值检验（仅合成数据）
# 合成世界的生成器知道每个人活跃时的购买速率、流失速率和流失日期。每个客户 OneID 对应到其多数记录所属的人；订单分散在
# 多个 OneID 上的人（未关联的平台账号）用其预测之和比较。若此人在月末仍活跃，其未来 12 个月真实的预期自然购买次数由其
# 速率推出（不含广告和活动带来的订单）。

# %%
section(plots.plot_truth_calibration(r), nv.truth_tables(r), nv.truth(r))
