# %% [markdown]
# # Channel attribution
#
# Which marketing channels earn this month's orders, and how sure can we be? Journeys are built per
# OneID across devices and channels: every paid order in any sales channel (Tmall, JD, Douyin, own
# site, stores) is a conversion, and the buyer's ad, search, KOL, SMS, email and WeChat touches in the
# lookback window before it form its path. Rule-based, Markov-chain and Shapley models share out the
# conversions with bootstrap intervals, spend turns them into CPA and ROAS, and the report shows where
# the models disagree, what changed since last month and, on synthetic data, how close each model is
# to the true channel effects.

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7
lookback_days = 30  # touches up to this many days before an order count for it
include_impressions = True  # count ad impressions (view-through) as touches, not only clicks/sends/opens
channel_map = None  # optional grouping of touch channels, e.g. {"sms": "crm", "email": "crm"}
half_life_days = 7.0  # time-decay model: a touch this many days before the order counts half
markov_order = 1  # Markov chain order: states are the last k channels
n_boot = 200  # bootstrap replicates for the share intervals
target_roas = 1.0  # ROAS a channel must reach to pay back (1: revenue equals spend; 1 / gross margin for profit)
headline_model = "markov"  # model behind the headline channel figures

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

import omni
from omni.attribution import analyse_month, plots
from omni.attribution import narrative as nr
from omni.reporting.display import headline, note, table, use_report_style

use_report_style()
ws = omni.open(data)
r = analyse_month(ws, month, lookback_days=lookback_days, include_impressions=include_impressions,
                  channel_map=channel_map, half_life_days=half_life_days, markov_order=markov_order,
                  n_boot=n_boot, target_roas=target_roas, headline_model=headline_model, seed=seed)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(r, title=f"Channel attribution, conversions in {r.month}")
note(nr.summary(r))

# %% [markdown]
# ## Journeys: how people get to an order
# A journey is the buyer's touches (all devices and channels joined by OneID) in the lookback window
# before a paid order; touches after a person's last order that did not lead to one form a
# non-converting journey. Most orders have no touch at all; among those that do, short paths dominate.

# %%
plots.plot_journeys(r)
plt.show()
if (t := nr.paths_table(r)) is not None:
    table(**t)
note(nr.journeys(r))

# %% [markdown]
# ## Online to offline
# Per sales channel: how many orders had a marketing touch or a visit to the brand's site or app in
# the lookback window before them. Store purchases preceded by online activity are the
# "research online, buy offline" journeys that only a person-level (OneID) view can see.

# %%
table(**nr.conversion_channels_table(r))
if (t := nr.store_paths_table(r)) is not None:
    table(**t)
else:
    note(nr.no_store_paths(r))
note(nr.online_to_offline(r))

# %% [markdown]
# ## Channel shares by model
# Each model shares out the month's conversions among the channels; *direct* keeps the orders
# without any touch. Bars show each model's share of all conversions with a 95% bootstrap interval
# (journeys resampled; every path-based model sees the same replicates).

# %%
plots.plot_model_shares(r)
plt.show()
table(**nr.share_table(r))
note(nr.model_shares(r))

# %% [markdown]
# ## The Markov chain: transitions and removal effects
# Journeys read as walks from *start* through channel states to *conversion* or *null* (no order).
# The removal effect of a channel is the share of conversions lost if every path through it ended
# in *null*, computed exactly on the absorbing chain; the Markov model shares conversions in proportion.

# %%
plots.plot_markov(r)
plt.show()
note(nr.markov(r))

# %% [markdown]
# ## Return on spend per channel and model
# The month's spend per channel against the conversions and revenue each model credits to it: CPA
# (spend per credited conversion) and ROAS (credited revenue per unit of spend). The dashed line is
# the target ROAS set in the parameters.

# %%
plots.plot_roas(r)
plt.show()
table(**nr.roi_table(r))
table(**nr.roi_range_table(r))
note(nr.roi(r))

# %% [markdown]
# ## Where the models disagree, and what it means for budget
# For each channel the lowest and highest share any model gives it, and its rank among the channels
# under the most and least favourable model. A channel whose rank holds in every model can be
# funded on any of them; where the models disagree the budget decision depends on a modelling
# choice that observational data cannot settle, and a holdout test (report 05) should decide.

# %%
plots.plot_model_ranks(r)
plt.show()
table(**nr.disagreement_table(r))
note(nr.disagreement(r))

# %% [markdown]
# ## This month against the previous month
# The same journeys, models and spend for the previous month (its conversions and the touches before
# them), restated on this month's OneIDs so that both months rest on the same identity graph; the
# change in the key figures and in each channel's share, and the campaigns that ran this month.

# %%
if r.previous is not None:
    table(**nr.comparison_table(r))
    plots.plot_share_change(r)
    plt.show()
    if (t := nr.campaigns_table(r)) is not None:
        table(**t)
note(nr.month_change(r))

# %% [markdown]
# ## Truth check (synthetic data only)
# The generator records which orders a touch caused and through which channel. The true share of
# a channel is its part of the touch-caused conversions among this month's orders; each model's
# shares are renormalized over the marketing channels (*direct* left out) and compared. Total
# absolute deviation runs from 0 (exact) to 2 (disjoint).

# %%
if r.true_shares is not None:
    plots.plot_truth_shares(r)
    plt.show()
    table(**nr.truth_table(r))
    table(**nr.visibility_table(r))
note(nr.truth(r))
