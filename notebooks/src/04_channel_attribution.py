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
import os

data = os.environ.get("OMNI_DATA", "data/sample")  # dataset folder (raw/sources.yaml inside)
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
import numpy as np
import pandas as pd

from omni import attribution as at
from omni.attribution import report as ar
from omni.core.markup import escape_md, md_join
from omni.reporting.display import headline, note, table, use_report_style
from omni.reporting.index import previous_month
from omni.workspace import Workspace

use_report_style()
ws = Workspace(data)
month = month or ws.last_complete_month()
prev_month = previous_month(month)
r = ws.resolve(as_of=month)
spend = ws.dataset.tables["channel_spend"]
currency = ws.spec.currency or ""
currency_md = escape_md(currency)  # in Markdown text; tables and figures take it as it is
settings = {"lookback_days": lookback_days, "include_impressions": include_impressions,
            "channel_map": channel_map, "half_life_days": half_life_days, "markov_order": markov_order}

# %% tags=["remove-cell"]
cur = ar.attribute_month(r["touchpoints"], r["orders"], spend, month, **settings)
j, tab = cur.journeys, cur.table
fig_cur = ar.month_figures(cur, headline_model)
prev = fig_prev = None  # previous month restated on this month's OneIDs: same identity graph for both
in_prev = r["orders"]["order_time"].between(*ar.month_bounds(prev_month), inclusive="left")
if (in_prev & (r["orders"]["status"] == "paid")).any():
    prev = ar.attribute_month(r["touchpoints"], r["orders"], spend, prev_month, **settings)
    fig_prev = ar.month_figures(prev, headline_model)
disagree = ar.model_disagreement(tab)
roi_verdict = ar.roi_summary(cur.roi, target_roas)
hm = ar.MODEL_LABELS[headline_model]
label = ar.MODEL_LABELS
channels = [c for c in ar.share_matrix(tab)[headline_model].sort_values(ascending=False).index if c != at.DIRECT]
model_colors = dict(zip(label, plt.get_cmap("tab10").colors, strict=False))
truth_cmp = None
if ws.has_truth():
    causes = ws.truth("orders_cause")
    true_shares = ar.month_true_shares(causes, j, channel_map)
    truth_cmp = at.compare_to_truth({m: g for m, g in tab.groupby("model", sort=False)}, true_shares)
    visibility = ar.cause_visibility(causes, j, r["touchpoints"], channel_map)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
top = disagree.iloc[0]
metrics = [
    {"key": "conversions", "label": "conversions (paid orders, all sales channels)", "value": fig_cur["conversions"], "better": "up"},
    {"key": "touched_share", "label": f"conversions with a marketing touch in the {lookback_days} days before",
     "value": fig_cur["touched_share"], "fmt": "{:.1%}", "better": "up"},
    {"key": "median_days_to_convert", "label": "median time from first touch to order", "value": fig_cur["median_days_to_convert"],
     "fmt": "{:.1f}", "unit": "days"},
    {"key": "attributed_to_touches", "label": f"conversions credited to marketing ({hm})", "value": fig_cur["attributed_to_touches"],
     "fmt": "{:.1%}", "better": "up"},
    {"key": "top_channel", "label": f"channel with the largest share ({hm})", "value": f"{fig_cur['top_channel']} ({fig_cur['top_share']:.1%})"},
    {"key": "spend", "label": "marketing spend", "value": fig_cur["spend"], "fmt": "{:,.0f}", "unit": currency},
    {"key": "blended_cpa", "label": f"spend per conversion credited to paid channels ({hm})", "value": fig_cur["blended_cpa"],
     "fmt": "{:,.2f}", "unit": currency, "better": "down"},
    {"key": "max_model_gap", "label": "largest gap between models in a channel's share", "value": float(top["spread"] * 100),
     "fmt": "{:.1f}", "unit": "pp", "better": "down"},
]
if truth_cmp is not None:
    best = truth_cmp["total_abs_dev"].idxmin()
    metrics += [
        {"key": "truth_deviation", "label": f"{hm}: distance from the true channel shares (0-2)",
         "value": float(truth_cmp.loc[headline_model, "total_abs_dev"]), "fmt": "{:.2f}", "better": "down"},
        {"key": "truth_best_model", "label": "model closest to the true shares",
         "value": f"{label[best]} ({truth_cmp.loc[best, 'total_abs_dev']:.2f})"},
    ]
headline(metrics, title=f"Channel attribution, conversions in {month}")
text = (
    f"In {month}, {fig_cur['conversions']:,} paid orders worth {fig_cur['value']:,.0f} {currency_md} were placed across all sales "
    f"channels. {fig_cur['touched_share']:.0%} of them followed a marketing touch on the buyer's OneID within {lookback_days} days; "
    f"the rest have no touch in view and stay with *direct*. The {hm} model credits {fig_cur['attributed_to_touches']:.1%} of the "
    f"conversions to marketing, most to **{escape_md(fig_cur['top_channel'])}** ({fig_cur['top_share']:.1%} of all conversions); "
    f"spend was {fig_cur['spend']:,.0f} {currency_md}, {fig_cur['blended_cpa']:,.2f} {currency_md} per conversion credited to a paid channel. "
    f"The models disagree most on **{escape_md(top['channel'])}**: {top['min_share']:.1%} of conversions under {label[top['min_model']]}, "
    f"{top['max_share']:.1%} under {label[top['max_model']]}."
)
if fig_prev is not None:
    text += (f" Against {prev_month}: {fig_cur['conversions'] - fig_prev['conversions']:+,} conversions, marketing's share "
             f"{fig_prev['attributed_to_touches']:.1%} → {fig_cur['attributed_to_touches']:.1%}.")
if cur.invalid_amounts:
    text += f" {cur.invalid_amounts} paid order(s) with a missing or negative amount were left out (see the data audit)."
note(text)

# %% [markdown]
# ## Journeys: how people get to an order
# A journey is the buyer's touches (all devices and channels joined by OneID) in the lookback window
# before a paid order; touches after a person's last order that did not lead to one form a
# non-converting journey. Most orders have no touch at all; among those that do, short paths dominate.

# %%
stats = ar.journey_stats(j)
ld = ar.length_distribution(j, max_touches=8)
ttc = ar.time_to_convert_distribution(j)
fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
x = np.arange(len(ld))
a1.bar(x - 0.2, ld["conversion_share"] * 100, width=0.4, label="converting journeys", color="#4c72b0")
a1.bar(x + 0.2, ld["null_share"] * 100, width=0.4, label="journeys without an order", color="#c0c0c0")
a1.set_xticks(x, ld["touches"])
a1.set_xlabel("touches in the journey (0 = order without any touch)")
a1.set_ylabel("share of journeys (%)")
a1.set_title("Journey length")
a1.legend(fontsize=8)
a2.bar(ttc["days"], ttc["share"] * 100, color="#4c72b0")
a2.set_xlabel("days from the first touch to the order")
a2.set_ylabel("share of touched conversions (%)")
a2.set_title("Time to convert")
plt.tight_layout()
plt.show()
paths = ar.publishable(ar.top_paths(j, n=15), "people")
shown = paths[paths["people"].notna()]
if len(shown):
    table(paths.rename(columns={"share_of_conversions": "share of all conversions"}),
          formats={"conversion_rate": "{:.1%}", "value": "{:,.0f}", "share of all conversions": "{:.2%}"},
          caption="Most converting touch paths (people = distinct OneIDs; paths of fewer than 10 people are blanked)")
p0 = shown.iloc[0] if len(shown) else None
note(
    f"{stats['touched_conversions']:,} of {stats['conversions']:,} conversions had at least one touch; they saw "
    f"{stats['mean_touches']:.2f} touches on average and {stats['multichannel_share']:.0%} of them came through two or more channels. "
    f"Half converted within {stats['median_days_to_convert']:.1f} days of their first touch, 90% within "
    f"{stats['p90_days_to_convert']:.1f} days. Of the touched journeys (converting or not) {stats['touched_conversion_rate']:.1%} ended in an order."
    + (f" The most converting path is **{escape_md(p0['path'])}** ({p0['conversions']:,.0f} conversions, "
       f"{p0['conversion_rate']:.1%} of its journeys convert)." if p0 is not None else
       " No touch path was followed by 10 or more people, so none is listed.")
)

# %% [markdown]
# ## Online to offline
# Per sales channel: how many orders had a marketing touch or a visit to the brand's site or app in
# the lookback window before them. Store purchases preceded by online activity are the
# "research online, buy offline" journeys that only a person-level (OneID) view can see.

# %%
cc = ar.conversion_channel_summary(j, r["events"])
table(ar.publishable(cc, "conversions"),
      formats={"value": "{:,.0f}", "touched_share": "{:.1%}", "mean_touches": "{:.2f}", "visited_share": "{:.1%}",
               "online_share": "{:.1%}"},
      caption=f"Orders by sales channel and what happened online in the {lookback_days} days before")
store_paths = ar.publishable(ar.top_paths(j, n=8, conversion_channel="store"), "people")
if store_paths["people"].notna().any():
    table(store_paths.rename(columns={"share_of_conversions": "share of store orders"}),
          formats={"value": "{:,.0f}", "share of store orders": "{:.2%}"},
          caption="Most frequent online paths before a store purchase")
else:
    note("No online path before a store purchase was followed by 10 or more people; none is listed.")
st = cc.set_index("conversion_channel")
if "store" in st.index:
    s = st.loc["store"]
    note(f"{s['online_share']:.1%} of the {s['conversions']:,} store purchases had online activity in the {lookback_days} days before: "
         f"{s['touched_share']:.1%} a marketing touch (most often last **{escape_md(s['top_last_touch'] or '–')}**) and {s['visited_share']:.1%} a "
         f"visit to the site or app. Across all channels {st.loc['all', 'online_share']:.1%} of orders had either.")
else:
    note("No store purchases this month.")

# %% [markdown]
# ## Channel shares by model
# Each model shares out the month's conversions among the channels; *direct* keeps the orders
# without any touch. Bars show each model's share of all conversions with a 95% bootstrap interval
# (journeys resampled; every path-based model sees the same replicates).

# %%
boot = ar.bootstrap_shares(j, n_boot=n_boot, seed=seed, half_life_days=half_life_days, markov_order=markov_order)
models = list(dict.fromkeys(tab["model"]))
ncol = 3
nrow = int(np.ceil(len(channels) / ncol))
fig, axes = plt.subplots(nrow, ncol, figsize=(12, 2.9 * nrow), squeeze=False)
for k, ch in enumerate(channels):  # one panel per channel
    ax = axes.flat[k]
    b = boot[boot["channel"] == ch].set_index("model").reindex(models)
    y = np.arange(len(models))
    err = np.vstack([(b["share"] - b["share_lo"]).clip(lower=0), (b["share_hi"] - b["share"]).clip(lower=0)]) * 100
    ax.barh(y, b["share"] * 100, xerr=err, color=[model_colors[m] for m in models], capsize=2, error_kw={"lw": 0.8})
    ax.set_yticks(y, [label[m] for m in models] if k % ncol == 0 else [""] * len(models), fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.6)
    ax.set_title(ch)
    ax.set_xlabel("share of conversions (%)")
for ax in list(axes.flat)[len(channels):]:
    ax.axis("off")
fig.suptitle(f"Channel share of the conversions in {month}, by model (95% bootstrap intervals)", fontweight="bold")
plt.tight_layout()
plt.show()
wide = ar.share_matrix(tab).reindex([*channels, at.DIRECT]).rename(columns=label)
table(wide, formats={c: "{:.1%}" for c in wide.columns}, index=True, caption="Share of the month's conversions by channel and model")
mk_b = boot[(boot["model"] == headline_model) & (boot["channel"] == channels[0])].iloc[0]
rate_col = label["shapley_rate"]
negative = wide.index[(wide[rate_col] < 0).to_numpy()].tolist() if rate_col in wide.columns else []
note(
    f"Under {hm}, **{escape_md(channels[0])}** earns {mk_b['share']:.1%} of the conversions (95% interval {mk_b['share_lo']:.1%} to "
    f"{mk_b['share_hi']:.1%}). *Direct* keeps {wide.loc[at.DIRECT].min():.1%} to {wide.loc[at.DIRECT].max():.1%}: orders whose buyer had "
    f"no touch in view. The rule-based models differ only in where along a path they put the credit; Markov and the Shapley "
    f"conversion-count game credit channels for being on converting paths, while the conversion-rate Shapley game also compares "
    f"with journeys that did not convert."
    + (f" It gives {', '.join(f'**{escape_md(c)}**' for c in negative)} a negative share: they reach many people who do not buy."
       if negative else "")
)

# %% [markdown]
# ## The Markov chain: transitions and removal effects
# Journeys read as walks from *start* through channel states to *conversion* or *null* (no order).
# The removal effect of a channel is the share of conversions lost if every path through it ended
# in *null*, computed exactly on the absorbing chain; the Markov model shares conversions in proportion.

# %%
mk = at.MarkovAttribution(order=markov_order).fit(j)
tm = mk.transition_matrix_
counts = mk.transition_counts_.sum(axis=1)
tm = tm.loc[counts.sort_values(ascending=False).index[:14]]
tm = tm.loc[:, (tm > 0).any(axis=0)]
fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1.6, 1]})
im = a1.imshow(tm.to_numpy() * 100, cmap="Blues", vmin=0, vmax=100, aspect="auto")
a1.set_xticks(range(tm.shape[1]), tm.columns, rotation=45, ha="right", fontsize=8)
a1.set_yticks(range(tm.shape[0]), tm.index, fontsize=8)
for i in range(tm.shape[0]):
    for k in range(tm.shape[1]):
        v = tm.iat[i, k] * 100
        if v >= 0.5:
            a1.text(k, i, f"{v:.0f}", ha="center", va="center", fontsize=7, color="white" if v > 60 else "black")
a1.set_xlabel("next state")
a1.set_ylabel("current state")
a1.set_title("Transition probabilities (%)")
fig.colorbar(im, ax=a1, label="% of exits from the row state")
re = mk.removal_effects_.drop(index=at.DIRECT, errors="ignore").sort_values()
re = re[re > 0]
a2.barh(re.index, re.to_numpy() * 100, color="#4c72b0")
a2.set_xlabel("conversions lost if the channel is removed (%)")
a2.set_title("Removal effects")
plt.tight_layout()
plt.show()
top_re = re.index[-1] if len(re) else "–"
note(
    f"A journey converts with probability {mk.conversion_rate_:.1%} ({mk.n_journeys_:,.0f} journeys, {mk.n_paths_:,} distinct paths; "
    f"orders without touches included as the path *direct*). Removing **{escape_md(top_re)}** would lose "
    f"{re.iloc[-1]:.1%} of the conversions, the largest removal effect among the marketing channels. "
    f"Removal effects overlap (a path through two channels is lost when either is removed), so they add up to more than the share "
    f"each channel finally gets."
)

# %% [markdown]
# ## Return on spend per channel and model
# The month's spend per channel against the conversions and revenue each model credits to it: CPA
# (spend per credited conversion) and ROAS (credited revenue per unit of spend). The dashed line is
# the target ROAS set in the parameters.

# %%
paid_roi = cur.roi[cur.roi["spend"] > 0]
fig, ax = plt.subplots(figsize=(9, 0.45 * roi_verdict.shape[0] + 2.2))
order_ch = roi_verdict.sort_values("roas_max")["channel"].tolist()
for i, ch in enumerate(order_ch):  # a handful of channels
    rows = paid_roi[paid_roi["channel"] == ch]
    vals = rows["roas"].to_numpy(dtype=float)
    ok = np.isfinite(vals)
    if ok.any():
        ax.plot([vals[ok].min(), vals[ok].max()], [i, i], color="#999", lw=2, zorder=1)
    for m, v in zip(rows["model"], vals, strict=True):
        if np.isfinite(v):
            ax.scatter(v, i, color=model_colors[m], s=28, zorder=2, label=label[m] if i == 0 else None)
ax.axvline(target_roas, color="#cf222e", ls="--", lw=1, label=f"target ROAS {target_roas:g}")
positive = bool((paid_roi["roas"].dropna() > 0).all())
ax.set_xscale("log" if positive else "symlog", **({} if positive else {"linthresh": 1}))
ax.set_yticks(range(len(order_ch)), order_ch)
ax.set_xlabel(f"ROAS: credited revenue per {currency or 'unit'} of spend ({'log' if positive else 'symmetric log'} scale)")
ax.set_title(f"ROAS by channel and model, {month}")
ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.18))
plt.show()
hm_roi = cur.roi[(cur.roi["model"] == headline_model) & (cur.roi["spend"] > 0)].drop(columns="model")
table(hm_roi, formats={"spend": "{:,.2f}", "conversions": "{:,.1f}", "value": "{:,.0f}", "cpa": "{:,.2f}", "roas": "{:,.1f}"},
      caption=f"Spend, credited conversions and revenue, CPA and ROAS ({hm}; spend and values in {currency})")
rv = roi_verdict.assign(min_model=roi_verdict["min_model"].map(label), max_model=roi_verdict["max_model"].map(label))
table(rv, formats={"spend": "{:,.2f}", "roas_min": "{:,.1f}", "roas_max": "{:,.1f}", "cpa_min": "{:,.2f}", "cpa_max": "{:,.2f}"},
      caption=f"ROAS and CPA range across the {len(models)} models, and the verdict against a target ROAS of {target_roas:g}")
big = rv.iloc[0]
note(
    f"Spend this month: {rv['spend'].sum():,.0f} {currency_md}, {big['spend'] / rv['spend'].sum():.0%} of it on **{escape_md(big['channel'])}**, "
    f"which returns {big['roas_min']:,.1f} to {big['roas_max']:,.1f} {currency_md} of revenue per {currency_md} spent depending on the model "
    f"(CPA {big['cpa_min']:,.2f} to {big['cpa_max']:,.2f}). "
    + ". ".join(f"{v.capitalize()}: {md_join(rv.loc[rv['verdict'] == v, 'channel'])}" for v in rv["verdict"].unique())
    + ". These are averages over all credited conversions; the next unit of spend usually returns less, and a channel with a "
    "tiny spend shows a huge ROAS on a handful of conversions."
)

# %% [markdown]
# ## Where the models disagree, and what it means for budget
# For each channel the lowest and highest share any model gives it, and its rank among the channels
# under the most and least favourable model. A channel whose rank holds in every model can be
# funded on any of them; where the models disagree the budget decision depends on a modelling
# choice that observational data cannot settle, and a holdout test (report 05) should decide.

# %%
ranks = ar.share_matrix(tab).drop(index=at.DIRECT, errors="ignore").rank(axis=0, ascending=False, method="min")
fig, ax = plt.subplots(figsize=(10, 4))
for ch in channels:  # a handful of channels
    ax.plot(range(len(models)), ranks.loc[ch, models], marker="o", label=ch)
ax.set_xticks(range(len(models)), [label[m] for m in models], rotation=30, ha="right", fontsize=8)
ax.set_yticks(range(1, len(channels) + 1))
ax.invert_yaxis()
ax.set_xlabel("attribution model")
ax.set_ylabel("channel rank by share (1 = largest)")
ax.set_title("Channel ranking under each model")
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
plt.tight_layout()
plt.show()
dshow = disagree.assign(min_model=disagree["min_model"].map(label), max_model=disagree["max_model"].map(label),
                        spread=disagree["spread"] * 100, rank_stable=disagree["rank_stable"].map({True: "yes", False: "no"}))
table(dshow.rename(columns={"spread": "spread (pp)"}),
      formats={"min_share": "{:.1%}", "max_share": "{:.1%}", "spread (pp)": "{:.1f}"},
      caption="Share of conversions: lowest and highest across models")
stable = disagree.loc[disagree["rank_stable"], "channel"].tolist()
moving = disagree.loc[~disagree["rank_stable"], "channel"].tolist()
spend_by = rv.set_index("channel")["spend"]
at_stake = spend_by.reindex([c for c in moving if c in spend_by.index]).sum() / spend_by.sum() if spend_by.sum() else np.nan
note(
    (f"Same rank under every model: **{md_join(stable)}**. " if stable else "No channel keeps its rank under every model. ")
    + (f"Rank depends on the model: {md_join(moving)}; they take {at_stake:.0%} of this month's spend. " if moving else "")
    + f"The largest gap is **{escape_md(top['channel'])}** ({top['spread'] * 100:.1f} share points between {label[top['min_model']]} and "
    f"{label[top['max_model']]}). Models that reward being on many converting paths (Markov, Shapley conversions) favour channels "
    "that reach many people; first touch favours openers of journeys, last touch closers. Shift budget only where the direction "
    "holds in every model, and test the rest with a holdout before moving money."
)

# %% [markdown]
# ## This month against the previous month
# The same journeys, models and spend for the previous month (its conversions and the touches before
# them), restated on this month's OneIDs so that both months rest on the same identity graph; the
# change in the key figures and in each channel's share, and the campaigns that ran this month.

# %%
if prev is None:
    note(f"No paid orders in {prev_month} in the data: there is no previous month to compare with.")
else:
    labels = {"conversions": "conversions", "value": f"revenue ({currency})", "touched_share": "conversions with a touch",
              "mean_touches": "touches per touched conversion", "median_days_to_convert": "median days to convert",
              "attributed_to_touches": f"credited to marketing ({hm})", "spend": f"spend ({currency})",
              "blended_cpa": f"spend per credited conversion ({currency})", "blended_roas": f"ROAS of paid channels ({hm})",
              "top_channel": f"top channel ({hm})"}
    cmp = ar.compare_months(fig_cur, fig_prev, labels)
    pct = {"touched_share", "attributed_to_touches"}
    for col in ("this_month", "previous_month", "change"):
        sign = "+" if col == "change" else ""
        cmp[col] = [
            "–" if not isinstance(v, str) and pd.isna(v) else v if isinstance(v, str)
            else f"{v * 100:+.1f} pp" if k in pct and col == "change" else f"{v:.1%}" if k in pct
            else f"{v:{sign},.0f}" if k == "conversions" else f"{v:{sign},.2f}"
            for k, v in zip(labels, cmp[col], strict=True)
        ]
    table(cmp.rename(columns={"this_month": month, "previous_month": prev_month}), formats={"relative_change": "{:+.1%}"})
    sc = ar.share_change(tab, prev.table, headline_model)
    sc = sc[sc["channel"] != at.DIRECT]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    x = np.arange(len(sc))
    ax.bar(x - 0.2, sc["previous_share"] * 100, width=0.4, label=prev_month, color="#c0c0c0")
    ax.bar(x + 0.2, sc["share"] * 100, width=0.4, label=month, color="#4c72b0")
    ax.set_xticks(x, sc["channel"])
    ax.set_xlabel("channel")
    ax.set_ylabel("share of conversions (%)")
    ax.set_title(f"Channel share of conversions ({hm}), {prev_month} vs {month}")
    ax.legend()
    plt.show()
    mover = sc.iloc[sc["change"].abs().to_numpy().argmax()]
    camp = ar.active_campaigns(ws.dataset.tables["campaigns"], month, r["touchpoints"])
    if len(camp):
        table(ar.publishable(camp, "people"), caption=f"Campaigns running in {month} (touches and people reached this month)")
    note(
        f"Conversions {fig_cur['conversions']:,} vs {fig_prev['conversions']:,} "
        f"({(fig_cur['conversions'] / fig_prev['conversions'] - 1):+.1%}). The largest shift in {hm} share is **{escape_md(mover['channel'])}**: "
        f"{mover['previous_share']:.1%} → {mover['share']:.1%} ({mover['change'] * 100:+.1f} points)"
        + (f"; campaigns this month: {', '.join(f'{escape_md(c)} ({escape_md(h)})' for c, h in zip(camp['campaign_id'], camp['channel'], strict=True))}."
           if len(camp) and "channel" in camp.columns else ".")
    )

# %% [markdown]
# ## Truth check (synthetic data only)
# The generator records which orders a touch caused and through which channel. The true share of
# a channel is its part of the touch-caused conversions among this month's orders; each model's
# shares are renormalized over the marketing channels (*direct* left out) and compared. Total
# absolute deviation runs from 0 (exact) to 2 (disjoint).

# %%
if truth_cmp is None:
    note("This dataset has no ground truth; the models are not checked against true channel effects.")
else:
    ts = ar.touch_shares(tab).reindex(channels)
    fig, ax = plt.subplots(figsize=(10, 4))
    x = np.arange(len(channels))
    w = 0.8 / (len(models) + 1)
    ax.bar(x - 0.4 + w / 2, true_shares.reindex(channels).fillna(0) * 100, width=w, color="black", label="true share")
    for k, m in enumerate(models):  # a handful of models
        ax.bar(x - 0.4 + w * (k + 1.5), ts[m] * 100, width=w, color=model_colors[m], label=label[m])
    ax.set_xticks(x, channels)
    ax.set_xlabel("channel")
    ax.set_ylabel("share of touch-credited conversions (%)")
    ax.set_title("Model shares against the true shares of touch-caused conversions")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    plt.show()
    tc = truth_cmp.reset_index().assign(model=lambda d: d["model"].map(label)).sort_values("total_abs_dev")
    table(tc, formats={"total_abs_dev": "{:.3f}", "max_abs_dev": "{:.3f}", "rank_corr": "{:.2f}"},
          caption="Distance of each model's shares from the true shares")
    vis = ar.publishable(visibility, "caused_conversions")
    table(vis.rename(columns={"on_buyer_oneid": "causing touch on the buyer's OneID", "in_window": "and counted in the journey"}),
          formats={"visible_share": "{:.1%}"}, caption="Touch-caused conversions whose causing touch the journeys can see")
    vv = visibility.set_index("channel")
    va = vv.loc["all"]
    bt = tc.iloc[0]
    gap = (ts[headline_model] - true_shares.reindex(channels).fillna(0)).sort_values()
    big_enough = vv.drop(index="all").query("caused_conversions >= 10")["visible_share"]  # suppressed cells stay hidden
    least = big_enough.idxmin() if len(big_enough) else None
    note(
        f"{int(va['caused_conversions']):,} of this month's {fig_cur['conversions']:,} orders were caused by a touch. The closest model is "
        f"**{escape_md(bt['model'])}** (total deviation {bt['total_abs_dev']:.2f}, rank correlation {bt['rank_corr']:.2f}); {hm} is at "
        f"{truth_cmp.loc[headline_model, 'total_abs_dev']:.2f}. {hm} over-credits **{escape_md(gap.index[-1])}** ({ts.loc[gap.index[-1], headline_model]:.0%} "
        f"against a true {true_shares.get(gap.index[-1], 0):.0%}) and under-credits **{escape_md(gap.index[0])}** "
        f"({ts.loc[gap.index[0], headline_model]:.0%} against {true_shares.get(gap.index[0], 0):.0%}). Only {va['visible_share']:.0%} of the "
        f"causing touches are in view of the journeys{f' (for **{escape_md(least)}** {big_enough[least]:.0%})' if least else ''}: the rest reached a device or "
        f"cookie that identity resolution could not tie to the buyer, or fell outside the lookback or the counted touch types. Every "
        f"model works from this incomplete picture and credits what it sees on converting paths, whether or not it caused the order; "
        f"only randomized holdouts (report 05) measure causal effects."
    )
