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
import omni
from omni.reporting.display import headline, note, show, use_report_style
from omni.value import narrative as nv
from omni.value import section as s

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
show(s.rfm(r))

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
show(s.segments(r))

# %% [markdown] tags=["lang-en"]
# ## The purchase model and how well it predicts

# %% [markdown] tags=["lang-zh"]
# ## 购买模型及其预测能力

# %%
show(s.model(r))  # BG/NBD or Pareto/NBD checked on the held-out weeks; Gamma-Gamma for the spend

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
show(s.tiers(r))

# %% [markdown] tags=["lang-en"]
# ## Churn risk: high-value customers slipping away

# %% [markdown] tags=["lang-zh"]
# ## 流失风险：正在流失的高价值客户

# %%
show(s.churn(r))  # P(alive) of last month's top tier then and now; the watch list (ids shortened)

# %% [markdown] tags=["lang-en"]
# ## Who the top-tier customers are (TGI against all customers)

# %% [markdown] tags=["lang-zh"]
# ## 最高价值层客户画像（相对全体客户的 TGI）

# %%
show(s.tgi_top(r))  # TGI = a trait's share in tier A / its share in all customers x 100

# %% [markdown] tags=["lang-en"]
# ## The customer base against the market (TGI against the market panel)

# %% [markdown] tags=["lang-zh"]
# ## 客户群与市场对比（相对市场样本的 TGI）

# %%
show(s.panel(r))  # TGI of all customers against the market panel's population

# %% [markdown] tags=["lang-en"]
# ## This month against the previous month
# The same figures at the previous month end (the model refitted on the purchases up to then, same
# OneIDs), and how customers moved between the RFM classes over the month.

# %% [markdown] tags=["lang-zh"]
# ## 本月与上月对比
# 上月末的同一组指标（模型用截至当时的购买重新拟合，OneID 相同），以及本月客户在 RFM 各类之间的迁移。

# %%
show(s.comparison(r))  # the previous month end's figures, the RFM migration and what changed

# %% [markdown] tags=["lang-en"]
# ## Truth check (synthetic data only)

# %% [markdown] tags=["lang-zh"]
# ## 真值检验（仅合成数据）

# %%
show(s.truth(r))  # predictions against the generator's rates and dropout dates
