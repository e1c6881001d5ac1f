# %% [markdown]
# # Customer value: RFM, CLV and TGI
#
# Who are the brand's customers and what are they worth? Every identified OneID with a paid order
# in any channel (Tmall, JD, Douyin, own site, stores) up to the month end is a customer. The report
# sorts them into the 8 RFM classes, checks a purchase model (BG/NBD or Pareto/NBD) on a held-out
# half year and uses it with a spend model to predict each customer's P(alive), next purchases and
# 12-month value (CLV); lists the high-value customers who are slipping away; profiles the top value
# tier and the whole customer base with TGI; and compares the month with the previous one.

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7
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


use_report_style()
ws = omni.open(data)
r = omni.value.analyse_month(ws, month, seed=seed, purchase_model=purchase_model, holdout_weeks=holdout_weeks,
                             clv_months=clv_months, discount_rate_annual=discount_rate_annual, tier_shares=tier_shares,
                             rfm_threshold=rfm_threshold, include_anonymous=include_anonymous, n_boot=n_boot,
                             churn_min_drop=churn_min_drop, churn_list_size=churn_list_size,
                             tgi_min_count=tgi_min_count, tgi_highlight=tgi_highlight)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(r, title=f"Customer value at the end of {r.month}")
note(nv.summary(r))

# %% [markdown]
# ## Recency, frequency and monetary value
# R is the number of days since a customer's last purchase, F the number of paid orders and M the
# total spend, all up to the month end and across every channel the customer's OneID joins.

# %%
section(plots.plot_rfm_distribution(r), [], nv.rfm(r))

# %% [markdown]
# ## The 8 RFM classes
# Each customer is recent or not (R below the threshold), frequent or not (F above it) and high-spending
# or not (M above it): eight classes from 重要价值 (recent, frequent, high spend) to 一般挽留 (none of
# the three). Mean CLV comes with a 95% bootstrap interval (customers resampled within each class).

# %%
section(plots.plot_segment_shares(r), [nv.segments_table(r)], nv.segments(r))

# %% [markdown]
# ## The purchase model and how well it predicts
# BG/NBD and Pareto/NBD describe each customer as buying at a steady personal rate until an unseen
# dropout. To check them, both are fitted on the purchases up to the calibration end and asked to
# predict each customer's purchases in the held-out weeks that follow; the model with the smaller
# error (RMSE per customer) is refitted on all purchases up to the month end and used for the
# predictions. Gamma-Gamma predicts the spend per purchase.

# %%
section(plots.plot_holdout(r), nv.model_tables(r), nv.model(r))

# %% [markdown]
# ## CLV and the value tiers
# CLV is the expected spend of the next months, discounted: expected purchases month by month
# (which fall as P(alive) decays) times the expected spend per purchase. Customers are ranked by CLV
# into tiers: A the top 10%, B the next 20%, C the next 30%, D the rest.

# %%
section(plots.plot_clv_distribution(r), [nv.tiers_table(r)], nv.tiers(r))

# %% [markdown]
# ## Churn risk: high-value customers slipping away
# P(alive) is the model's probability that a customer still buys from the brand. It falls every month
# without a purchase, fastest for customers who used to buy often. The watch list holds the customers
# who were in the top value tier at the previous month end and whose P(alive) has fallen since, most
# value lost first; both dates use this month's model so the change is the customer's silence, not a
# refit. Ids are shortened.

# %%
section(plots.plot_churn(r), nv.churn_tables(r), nv.churn(r))

# %% [markdown]
# ## Who the top-tier customers are (TGI against all customers)
# TGI = share of a trait among the tier-A customers ÷ its share among all customers × 100: above 100
# the trait is more common among the most valuable customers. Intervals account for tier A being part
# of all customers. Demographics (gender, age, city) come from the CRM and are known for members only;
# channels and categories come from every customer's orders.

# %%
section(plots.plot_tgi_top(r), nv.tgi_top_tables(r), nv.tgi_top(r))

# %% [markdown]
# ## The customer base against the market (TGI against the market panel)
# The third-party panel gives the adult population by gender, age band and city tier: TGI shows which
# groups the brand reaches more (above 100) or less than their weight in the population. The panel is a
# census-like count, so only the customers' side carries sampling error.

# %%
section(plots.plot_tgi_panel(r), nv.panel_tables(r), nv.panel(r))

# %% [markdown]
# ## This month against the previous month
# The same figures at the previous month end (the model refitted on the purchases up to then, same
# OneIDs), and how customers moved between the RFM classes over the month.

# %%
for shown in nv.comparison_tables(r):
    table(**shown)
plots.plot_migration(r)
plt.show()
note(nv.comparison(r))

# %% [markdown]
# ## Truth check (synthetic data only)
# The synthetic world's generator knows each person's purchase rate while active, dropout rate and
# dropout date. Each customer OneID is mapped to the person most of its records belong to; a person
# whose orders sit on several OneIDs (unlinked platform accounts) is compared through the sum of their
# predictions. The true expected organic purchases of the next 12 months follow from the person's
# rates if still active at the month end (orders caused by ads and campaigns are not included).

# %%
section(plots.plot_truth_calibration(r), nv.truth_tables(r), nv.truth(r))
