# %% [markdown]
# # Campaign uplift
#
# What did the campaigns that ended this month cause? Every campaign here is randomized with a
# holdout (control) group. For each one: were people split and treated as designed, how much more
# did the treated buy (with intervals, sharpened by CUPED), for whom it worked, whether an uplift
# model can find the people who respond (Qini), who to send to next time with the expected
# incremental revenue, and how large an effect the design could detect. On synthetic data it ends
# by checking the reported intervals against the true effects.

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7
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

use_report_style()
ws = omni.open(data)
r = analyse_month(ws, month, campaigns=campaigns, seed=seed, pre_days=pre_days, margin=margin,
                  segment_min_n=segment_min_n, n_boot=n_boot, test_share=test_share)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(r, title=f"Campaign uplift, {r.month}")
note(un.summary(r))

# %% [markdown]
# ## This month against the previous month
# The same figures for the campaigns of the previous month (or, if none ended then, the most recent
# campaign before it), recomputed with this month's identity resolution.

# %%
table(ut.month_comparison(r), caption=f"{r.month} vs {r.previous.month}")
note(un.comparison(r))

# %% [markdown]
# ## Campaigns at a glance
# One line per campaign: size, design checks, what it caused as it ran (all arms together against
# the holdout, with 95% intervals) and the recommendation for next time.

# %%
if r.campaigns:
    table(ut.overview_table(r.campaigns),
          formats={"cost (CNY)": "{:,.0f}", "incremental profit (CNY)": "{:,.0f}"})
    up.plot_overview(r)
    plt.show()
    note(un.overview(r))

# %% [markdown]
# ## What OneID sees and what the campaigns caused
# Effects are measured on the assigned person's OneID. Orders that identity resolution cannot tie
# to the person (a store purchase without a member card, a Tmall/JD/Douyin account never bound to a
# phone and not linked by the probabilistic stage) land elsewhere, in every arm alike. The share of
# orders captured is estimated from the data (walk-in store orders, the linking stage's recall) and
# the effect is corrected for it; the correction's own uncertainty widens the interval.

# %%
if r.campaigns and r.captures:
    table(un.identity_table(r), caption="Observed effect vs effect adjusted for identity capture (95%)")
    note(un.identity_summary(r))

# %% [markdown]
# ## Campaign by campaign
# Each campaign's section: design and checks, the effect, CUPED, uplift by segment, the Qini curve,
# the recommendation and the power note.

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

# %% [markdown]
# ## Can the predicted uplift be trusted?
# Each arm's uplift model is checked on the held-out people (never used to fit it), as EconML's
# DRTester and DoWhy's refuters do. The **best linear predictor** regresses the outcome on the
# treatment and on the treatment times the prediction: a slope above zero means the model finds
# people who respond more (1 = its sizes are right). **Calibration** compares the observed effect
# with the predicted one in five groups of the prediction. The **refuters** must leave the effect
# alone: a randomly permuted treatment must show none, a random extra covariate must not move it,
# random 80% subsets must give the same.

# %%
from omni.uplift.validation import validate_cate  # noqa: E402

for campaign in r.campaigns:
    for arm, m in campaign.model.items():
        v = validate_cate(m["test"]["converted"], m["test"]["treated"], m["score"], seed=seed)
        table(un.validation_table(v), caption=f"{campaign.campaign_id} {arm}: uplift model checks")
        note(v["verdict"])
if not any(c.model for c in r.campaigns):
    note("No campaign had an uplift model to check (too few people or buyers).")

# %% [markdown]
# ## How many people to target: the budget curve
# Ranking the held-out people by predicted uplift and targeting the top share, the incremental
# profit is margin x incremental revenue minus the coupons (every treated buyer redeems one) and the
# contact cost, scaled to everyone assigned and corrected for identity capture. The band is the 95%
# interval; a share is worth targeting only where the band stays above zero.

# %%
from omni.uplift.budget import best_share, budget_curve  # noqa: E402

for campaign in r.campaigns:
    for arm, m in campaign.model.items():
        curve = budget_curve(m["test"], m["score"], coupon_value=campaign.info["coupon_value"].get(arm, 0.0),
                             margin=margin, cost_per_contact=campaign.info["cost_per_contact"],
                             population=campaign.info["n_people"],
                             capture=r.captures.get(campaign.campaign_id))
        up.plot_budget_curve(curve, title=f"{campaign.campaign_id} {arm}: incremental profit by share targeted")
        plt.show()
        table(un.budget_table(curve), caption=f"{campaign.campaign_id} {arm}: budget curve")
        note(un.budget_summary(campaign.campaign_id, arm, best_share(curve)))
if not any(c.model for c in r.campaigns):
    note("No campaign had an uplift model to rank people with; the recommendation above values "
         "sending to everyone.")

# %% [markdown]
# ## Truth check
# Only on synthetic data, whose generator knows each person's true uplift: do the reported 95%
# intervals contain the true effect? The same lifts measured with the true person ids instead of
# OneIDs separate what identity resolution loses (orders it cannot link to the person) from the
# estimator's own error.

# %%
truth = ({"campaign_truth": ws.truth("campaign_truth"), "record_person": ws.truth("record_person")}
         if ws.has_truth() else None)
check = r.truth_check(truth)
if check is not None:
    table(ut.truth_table(check), caption="True intention-to-treat effect vs reported 95% intervals")
    if len(check.segments):
        table(ut.segment_coverage(check), formats={"share covered": "{:.0%}"},
              caption="Segment intervals (conversion) containing the true segment effect")
    note(un.truth_summary(check))
    if r.captures:
        note(un.identity_coverage_summary(r.identity_coverage(check)))
else:
    note("This dataset has no ground truth (or no campaign to check); the truth check is skipped.")

# %% [markdown]
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
