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
import os

data = os.environ.get("OMNI_DATA", "data/sample")  # dataset folder (raw/sources.yaml inside)
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
import numpy as np
import pandas as pd

from omni import value_report as vr
from omni.core.markup import escape_md
from omni.reporting.display import headline, note, table, use_report_style
from omni.reporting.index import previous_month
from omni.workspace import Workspace

use_report_style()
ws = Workspace(data)
month = month or ws.last_complete_month()
prev_month = previous_month(month)
r = ws.resolve(as_of=month)
currency = ws.spec.currency or ""
currency_md = escape_md(currency)  # in Markdown text; tables and figures take it as it is

# %% tags=["remove-cell"]
orders, n_anonymous = r["orders"], 0
if not include_anonymous:
    orders, n_anonymous = vr.identified_orders(orders, r.record_oneid)
settings = {"clv_months": clv_months, "discount_rate_annual": discount_rate_annual,
            "tier_shares": tuple(tier_shares), "rfm_threshold": rfm_threshold}
cur = vr.value_month(orders, month, model=purchase_model, holdout_weeks=holdout_weeks, **settings)
s, p, seg = cur.summary, cur.predictions, cur.segments
clv = cur.clv_col
model_label = vr.MODEL_LABELS[cur.model.model_]
top_tier = str(p["value_tier"].cat.categories[0])
fig_cur = vr.month_figures(cur, orders, top=tier_shares[0])
prev = fig_prev = prev_restated = watch = None
watch_fig = {"falling": np.nan, "high_value": np.nan}
prev_note = ""
try:
    prev = vr.value_month(orders, prev_month, model=cur.model.model_, check=False, **settings)
except ValueError as exc:  # no (or too few) purchases up to the previous month end
    prev_note = str(exc)
if prev is not None:
    fig_prev = vr.month_figures(prev, orders, top=tier_shares[0])
    prev_restated = vr.restate(cur, prev)
    watch, watch_fig = vr.churn_watchlist(cur, prev_restated, r.profiles, tier=top_tier,
                                          min_drop=churn_min_drop, n=min(churn_list_size, 20))
seg_tab = vr.segment_table(cur, n_boot=n_boot, seed=seed)
tt = vr.tier_table(cur).set_index("value_tier")
attrs = vr.profile_attributes(r.profiles, s.index)
tgi_top = vr.tier_tgi(attrs, p["value_tier"], tier=top_tier, min_count=tgi_min_count)
panel = ws.dataset.tables.get("market_panel")
tgi_panel = vr.panel_tgi(attrs, panel, min_count=tgi_min_count) if panel is not None else None
truth_cal = truth_fig = None
if ws.has_truth():
    truth_cal, truth_fig = vr.truth_check(cur, r.record_oneid, ws.truth("record_person"), ws.truth("persons"))

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
err = fig_cur["holdout_error_pct"]
metrics = [
    {"key": "customers", "label": "customers (identified OneIDs with a paid order)", "value": fig_cur["customers"], "better": "up"},
    {"key": "active_customers", "label": f"customers who bought in {month}", "value": fig_cur["active_customers"], "better": "up"},
    {"key": "repeat_share", "label": "customers who bought on 2 or more days", "value": fig_cur["repeat_share"], "fmt": "{:.1%}",
     "better": "up"},
    {"key": "clv_total", "label": f"predicted value of the next {clv_months} months, all customers (discounted)",
     "value": fig_cur["clv_total"], "fmt": "{:,.0f}", "unit": currency, "better": "up"},
    {"key": "clv_mean", "label": f"mean {clv_months}-month CLV per customer", "value": fig_cur["clv_mean"], "fmt": "{:,.1f}",
     "unit": currency, "better": "up"},
    {"key": "top_tier_value_share", "label": f"share of that value held by the top {tier_shares[0]:.0%} of customers",
     "value": fig_cur["top_share"], "fmt": "{:.1%}"},
    {"key": "at_risk_share", "label": "repeat buyers with P(alive) below 50%", "value": fig_cur["at_risk_share"], "fmt": "{:.1%}",
     "better": "down"},
    {"key": "important_value_share", "label": "重要价值 (important value) customers", "value": fig_cur["important_value_share"],
     "fmt": "{:.1%}", "better": "up"},
    {"key": "watchlist", "label": f"tier-{top_tier} customers whose P(alive) fell {churn_min_drop * 100:.0f}+ points this month",
     "value": watch_fig["falling"], "fmt": "{:,.0f}", "better": "down"},
    {"key": "model", "label": "purchase model (error of the holdout total)",
     "value": model_label + (f" ({err:+.1f}%)" if np.isfinite(err) else "")},
]
if truth_fig is not None:
    metrics.append({"key": "truth_rank_corr", "label": "rank correlation of predicted and true purchases (per person)",
                    "value": truth_fig["rank_corr_purchases"], "fmt": "{:.2f}", "better": "up"})
headline(metrics, title=f"Customer value at the end of {month}")
text = (
    f"{fig_cur['customers']:,} customers had bought by the end of {month}; {fig_cur['active_customers']:,} of them bought in the "
    f"month ({fig_cur['new_customers']:,} for the first time) and {fig_cur['repeat_share']:.0%} have bought on more than one day. "
    f"The {model_label} + Gamma-Gamma model expects {fig_cur['expected_purchases_90d']:,.0f} purchases from them in the next 90 days "
    f"and {fig_cur['clv_total']:,.0f} {currency_md} of (discounted) spend in the next {clv_months} months, {fig_cur['clv_mean']:,.0f} "
    f"{currency_md} per customer on average but very unevenly: the top {tier_shares[0]:.0%} (tier {top_tier}) hold "
    f"{fig_cur['top_share']:.0%} of it, while {fig_cur['at_risk_share']:.0%} of the repeat buyers have probably lapsed (P(alive) < 50%)."
)
if fig_prev is not None:
    text += (f" Against {prev_month}: {fig_cur['customers'] - fig_prev['customers']:+,} customers, predicted value "
             f"{fig_cur['clv_total'] / fig_prev['clv_total'] - 1:+.1%}.")
if n_anonymous or cur.invalid_amounts:
    text += (f" Left out: {n_anonymous:,} anonymous paid orders (no card, phone or account: never recognizable as a repeat "
             f"buyer)" + (f" and {cur.invalid_amounts:,} paid orders with a missing or negative amount (see the data audit)"
                          if cur.invalid_amounts else "") + ".")
note(text)

# %% [markdown]
# ## Recency, frequency and monetary value
# R is the number of days since a customer's last purchase, F the number of paid orders and M the
# total spend, all up to the month end and across every channel the customer's OneID joins.

# %%
fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(13, 3.6))
a1.hist(s["days_since_last"], bins=40, color="#4c72b0")
a1.set_xlabel("days since the last purchase (R)")
a1.set_ylabel("customers")
a1.set_title("Recency")
fcap = s["n_orders"].clip(upper=10)
fc = fcap.value_counts().sort_index()
a2.bar(fc.index, fc.to_numpy() / len(s) * 100, color="#4c72b0")
a2.set_xticks(fc.index, [str(int(i)) if i < 10 else "10+" for i in fc.index])
a2.set_xlabel("paid orders per customer (F)")
a2.set_ylabel("share of customers (%)")
a2.set_title("Frequency")
mpos = s["revenue"][s["revenue"] > 0]
a3.hist(mpos, bins=np.logspace(np.log10(max(mpos.min(), 1.0)), np.log10(mpos.max()), 40), color="#4c72b0")
a3.set_xscale("log")
a3.set_xlabel(f"total spend per customer (M, {currency}, log scale)")
a3.set_ylabel("customers")
a3.set_title("Monetary value")
fig.suptitle(f"RFM distribution of {len(s):,} customers at the end of {month}", fontweight="bold")
plt.tight_layout()
plt.show()
thr = seg.attrs["thresholds"]
note(
    f"Half the customers last bought more than {s['days_since_last'].median():,.0f} days ago; {(s['n_orders'] == 1).mean():.0%} have "
    f"a single order and {(s['n_orders'] >= 5).mean():.1%} five or more. The median customer has spent "
    f"{s['revenue'].median():,.0f} {currency_md}, the mean is {s['revenue'].mean():,.0f} {currency_md}: a few heavy buyers pull it up. "
    f"These {thr['statistic']}s are the thresholds of the 8 classes below: R {thr['recency_days']:,.0f} days, "
    f"F {thr['frequency']:.2f} orders, M {thr['monetary']:,.0f} {currency_md}."
)

# %% [markdown]
# ## The 8 RFM classes
# Each customer is recent or not (R below the threshold), frequent or not (F above it) and high-spending
# or not (M above it): eight classes from 重要价值 (recent, frequent, high spend) to 一般挽留 (none of
# the three). Mean CLV comes with a 95% bootstrap interval (customers resampled within each class).

# %%
st = seg_tab.copy()
fig, ax = plt.subplots(figsize=(10, 4))
x = np.arange(len(st))
for k, (col, lab, colr) in enumerate([("customer_share", "customers", "#c0c0c0"), ("revenue_share", "revenue to date", "#4c72b0"),
                                      ("clv_share", f"predicted {clv_months}-month value", "#dd8452")]):
    ax.bar(x + (k - 1) * 0.27, st[col].astype(float).fillna(0) * 100, width=0.27, label=lab, color=colr)
ax.set_xticks(x, st["segment_en"], rotation=25, ha="right")
ax.set_xlabel("RFM class")
ax.set_ylabel("share of all customers (%)")
ax.set_title("RFM classes: share of customers, revenue and predicted value")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
st["mean CLV (95% interval)"] = [
    "–" if pd.isna(m) else f"{m:,.0f} ({lo:,.0f}–{hi:,.0f})" for m, lo, hi in zip(st["mean_clv"], st["clv_lo"], st["clv_hi"], strict=True)
]
show = st.drop(columns=["mean_clv", "clv_lo", "clv_hi"]).rename(columns={
    "segment": "class", "segment_en": "class (English)", "customer_share": "share", "revenue": f"revenue ({currency})",
    "revenue_share": "revenue share", "clv_share": "value share", "mean_p_alive": "mean P(alive)",
    "mean_days_since_last": "mean days since last", "mean_orders": "mean orders"})
table(show, formats={"share": "{:.1%}", f"revenue ({currency})": "{:,.0f}", "revenue share": "{:.1%}", "value share": "{:.1%}",
                     "mean P(alive)": "{:.2f}", "mean days since last": "{:,.0f}", "mean orders": "{:.1f}"},
      caption=f"RFM classes at the end of {month} (CLV in {currency}; classes of fewer than 10 customers are blanked)")
big = st.set_index("segment")
iv = big.loc["重要价值"]
gw = big.loc["一般挽留"]
note(
    f"重要价值 (important value) customers are {iv['customer_share']:.1%} of the base but brought {iv['revenue_share']:.0%} of the revenue "
    f"to date and hold {iv['clv_share']:.0%} of the predicted value (mean CLV {iv['mean_clv']:,.0f} {currency_md}). "
    f"The largest class is **{escape_md(big['customers'].astype(float).idxmax())}** ({big['customer_share'].astype(float).max():.0%} of customers). "
    f"一般挽留 (general win-back: not recent, one-off, low spend) are {gw['customer_share']:.0%} of customers with a mean CLV of "
    f"{gw['mean_clv']:,.0f} {currency_md}: low priority. 重要保持 and 重要挽留 (frequent or high spenders who have not bought recently) "
    f"are where reactivation pays: mean P(alive) {big.loc['重要保持', 'mean_p_alive']:.2f} and {big.loc['重要挽留', 'mean_p_alive']:.2f}."
)

# %% [markdown]
# ## The purchase model and how well it predicts
# BG/NBD and Pareto/NBD describe each customer as buying at a steady personal rate until an unseen
# dropout. To check them, both are fitted on the purchases up to the calibration end and asked to
# predict each customer's purchases in the held-out weeks that follow; the model with the smaller
# error (RMSE per customer) is refitted on all purchases up to the month end and used for the
# predictions. Gamma-Gamma predicts the spend per purchase.

# %%
chk = cur.check
if chk is None:
    note(f"The holdout check was not run: {escape_md(cur.check_note)}. "
         + ("The model was chosen by log-likelihood on all data." if purchase_model == "auto" else
            f"The model is {model_label}, as set in the parameters."))
else:
    ht = vr.holdout_table(chk)
    fitted = [m for m in ("bgnbd", "paretonbd") if f"predicted_{m}" in ht.columns]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    xx = np.arange(len(ht))
    ax.bar(xx, ht["actual"].astype(float), color="#c0c0c0", label="actual")
    for m, mk in zip(fitted, ("o", "s"), strict=False):
        ax.plot(xx, ht[f"predicted_{m}"].astype(float), marker=mk, lw=1.5,
                label=f"{vr.MODEL_LABELS[m]}" + (" (chosen)" if m == chk.model_ else ""))
    ax.set_xticks(xx, ht["frequency_cal"])
    ax.set_xlabel("repeat purchase days in the calibration period")
    ax.set_ylabel("mean purchases in the holdout per customer")
    ax.set_title(f"Holdout check: {holdout_weeks} weeks after {cur.calibration_end:%Y-%m-%d}, actual vs predicted")
    ax.legend(fontsize=8)
    plt.show()
    sc = vr.model_scores(chk)
    table(sc, formats={"log_likelihood": "{:,.1f}", "rmse": "{:.4f}", "mae": "{:.4f}", "holdout_purchases_predicted": "{:,.0f}",
                       "holdout_purchases_actual": "{:,.0f}", "total_error_pct": "{:+.1f}%"},
          caption=f"Holdout scores ({chk.n_customers_:,} customers with a purchase before the calibration end)")
params = vr.model_parameters(cur.model)
if prev is not None:
    params["previous month's fit"] = vr.model_parameters(prev.model)["value"].to_numpy()
table(params.rename(columns={"value": f"fit to {month}"}),
      formats={f"fit to {month}": "{:,.3f}", "previous month's fit": "{:,.3f}"},
      caption=f"Parameters of the chosen model, fitted on all purchases to the month end (time in weeks; {currency})")
gi = cur.model.gg_independence_
warn = [w for w in cur.model.warnings_ + (chk.warnings_ if chk is not None else [])]
text = ""
if chk is not None:
    c = sc.iloc[0]
    e = c["total_error_pct"]
    text += (f"**{c['model']}** predicted the holdout {'better' if len(sc) > 1 else ''} (per-customer RMSE {c['rmse']:.4f}"
             + (f" vs {sc['rmse'].iloc[-1]:.4f} for {sc['model'].iloc[-1]}" if len(sc) > 1 else "") + "); it expected "
             f"{c['holdout_purchases_predicted']:,.0f} purchases where {c['holdout_purchases_actual']:,.0f} happened ({e:+.1f}%). "
             + ("That is close. " if abs(e) <= 5 else
                f"It {'over' if e > 0 else 'under'}-predicts the total: the model assumes steady buying, while promotions (618, 双11), "
                "campaigns and the mix of new customers move the level from one half year to the next; per-customer ranking, "
                "which drives the tiers and the watch list, is less affected. ")
             + ("Where the two models are this close the choice barely changes CLV, but BG/NBD gives every one-time buyer "
                "P(alive) = 1, so P(alive) figures here are quoted for repeat buyers. "
                if len(sc) > 1 and abs(sc["rmse"].iloc[0] - sc["rmse"].iloc[-1]) < 0.001 * sc["rmse"].iloc[0] else ""))
pp = params.set_index("parameter")["value"]
life = (f"half of the new customers are still active {pp['median lifetime']:.1f} years after their first purchase "
        f"({pp['still active after a year']:.0%} after one year)" if "median lifetime" in pp.index else
        f"after each purchase {pp['mean dropout probability per purchase']:.0%} of the customers drop out, on average")
text += (f"Refitted to {month}: an active customer buys {pp['mean purchase rate while active']:.2f} times a year on average and "
         f"spends {pp['mean spend per purchase']:,.0f} {currency_md} per purchase; {life}. Spend per purchase and purchase frequency are "
         f"{'nearly independent' if abs(gi.get('corr', 0)) < 0.3 else 'correlated'} among repeat buyers (correlation "
         f"{gi.get('corr', float('nan')):.2f}), as Gamma-Gamma assumes.")
if warn:
    text += " Fit warnings: " + "; ".join(warn[:3]) + "."
note(text)

# %% [markdown]
# ## CLV and the value tiers
# CLV is the expected spend of the next months, discounted: expected purchases month by month
# (which fall as P(alive) decays) times the expected spend per purchase. Customers are ranked by CLV
# into tiers: A the top 10%, B the next 20%, C the next 30%, D the rest.

# %%
conc_clv = vr.value_concentration(p[clv])
conc_rev = vr.value_concentration(s["revenue"])
fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
cpos = p[clv][p[clv] > 0]
lo_clv = max(float(cpos.quantile(0.001)), 1.0)  # the few below go into the first bin
a1.hist(cpos.clip(lower=lo_clv), bins=np.logspace(np.log10(lo_clv), np.log10(cpos.max()), 50), color="#4c72b0")
a1.set_xscale("log")
tcut = tt["min_clv"].astype(float)
for tier_label, v in tcut.iloc[:-1].items():
    a1.axvline(v, color="#cf222e", ls="--", lw=0.8)
    a1.text(v, a1.get_ylim()[1] * 0.95, f" {tier_label}", color="#cf222e", fontsize=8, va="top")
a1.set_xlabel(f"{clv_months}-month CLV per customer ({currency}, log scale)")
a1.set_ylabel("customers")
a1.set_title("CLV distribution (dashed: lower edge of each tier)")
a2.plot(conc_clv["customer_share"] * 100, conc_clv["value_share"] * 100, label=f"predicted {clv_months}-month value", color="#dd8452")
a2.plot(conc_rev["customer_share"] * 100, conc_rev["value_share"] * 100, label="revenue to date", color="#4c72b0")
a2.plot([0, 100], [0, 100], color="#999", lw=0.8, ls=":", label="equal shares")
a2.axvline(tier_shares[0] * 100, color="#cf222e", ls="--", lw=0.8)
a2.annotate(f"top {tier_shares[0]:.0%}: {fig_cur['top_share']:.0%}", (tier_shares[0] * 100, fig_cur["top_share"] * 100),
            xytext=(8, -14), textcoords="offset points", fontsize=8, color="#cf222e")
a2.set_xlabel("customers, highest value first (%)")
a2.set_ylabel("cumulative share of the value (%)")
a2.set_title("Value concentration")
a2.legend(fontsize=8, loc="lower right")
plt.tight_layout()
plt.show()
table(tt.reset_index().rename(columns={"value_tier": "tier", "customer_share": "share", "min_clv": "lowest CLV", "mean_clv": "mean CLV",
                                       "clv_sum": "total CLV", "clv_share": "value share", "mean_p_alive": "mean P(alive)",
                                       "expected_purchases_90d": "purchases expected in 90 days",
                                       "repeat_buyer_share": "repeat buyers", "revenue_share": "revenue share to date"}),
      formats={"share": "{:.1%}", "lowest CLV": "{:,.0f}", "mean CLV": "{:,.0f}", "total CLV": "{:,.0f}", "value share": "{:.1%}",
               "mean P(alive)": "{:.2f}", "purchases expected in 90 days": "{:,.0f}", "repeat buyers": "{:.0%}",
               "revenue share to date": "{:.1%}"},
      caption=f"Value tiers by {clv_months}-month CLV ({currency})")
ta, td = tt.loc[top_tier], tt.iloc[-1]
rev_top = vr.top_share(s["revenue"], tier_shares[0])
note(
    f"Tier {top_tier} ({ta['customers']:,.0f} customers, CLV from {ta['min_clv']:,.0f} {currency_md}) holds {ta['clv_share']:.0%} of the "
    f"predicted value and brought {ta['revenue_share']:.0%} of the revenue so far; {ta['repeat_buyer_share']:.0%} of them are repeat "
    f"buyers, with a mean P(alive) of {ta['mean_p_alive']:.2f}. The last tier ({escape_md(tt.index[-1])}, {td['customer_share']:.0%} of customers) "
    f"holds {td['clv_share']:.0%}: {1 - td['repeat_buyer_share']:.0%} of them bought only once, and together they are expected to buy "
    f"{td['expected_purchases_90d']:,.0f} times in the next 90 days ({td['expected_purchases_90d'] / td['customers']:.2f} per customer). "
    + (f"Predicted value is more concentrated than past revenue (top {tier_shares[0]:.0%}: {fig_cur['top_share']:.0%} vs {rev_top:.0%}): "
       "it weighs recency and frequency, so a big spender who stopped buying keeps revenue but loses CLV."
       if fig_cur["top_share"] > rev_top else
       f"Predicted value is less concentrated than past revenue (top {tier_shares[0]:.0%}: {fig_cur['top_share']:.0%} vs {rev_top:.0%}): "
       "the spend model pulls each customer's average spend towards the population mean, and past big orders do not repeat for sure.")
    + (" (BG/NBD gives P(alive) = 1 to customers who bought only once: without a repeat purchase it has not seen them drop out.)"
       if cur.model.model_ == "bgnbd" else "")
)

# %% [markdown]
# ## Churn risk: high-value customers slipping away
# P(alive) is the model's probability that a customer still buys from the brand. It falls every month
# without a purchase, fastest for customers who used to buy often. The watch list holds the customers
# who were in the top value tier at the previous month end and whose P(alive) has fallen since, most
# value lost first; both dates use this month's model so the change is the customer's silence, not a
# refit. Ids are shortened.

# %%
if prev is None:
    note(f"There is no previous month end to compare with ({escape_md(prev_note or 'no purchases before ' + month)}).")
else:
    was_top = (prev_restated["value_tier"].astype(str) == top_tier).to_numpy()
    then = prev_restated["p_alive"][was_top]
    now = p["p_alive"].reindex(then.index)
    bought = (s["last_purchase"].reindex(then.index) >= cur.end.to_period("M").start_time).to_numpy()
    fig, ax = plt.subplots(figsize=(6.5, 5))
    ax.scatter(then[~bought], now[~bought], s=6, alpha=0.35, color="#cf222e", label=f"no purchase in {month}")
    ax.scatter(then[bought], now[bought], s=6, alpha=0.5, color="#4c72b0", label=f"bought in {month}")
    ax.plot([0, 1], [0, 1], color="black", lw=0.8)
    ax.plot([churn_min_drop, 1], [0, 1 - churn_min_drop], color="#999", lw=0.8, ls="--",
            label=f"{churn_min_drop * 100:.0f} points lower")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"P(alive) at the end of {prev_month}")
    ax.set_ylabel(f"P(alive) at the end of {month}")
    ax.set_title(f"Tier-{top_tier} customers of {prev_month}: P(alive) then and now")
    ax.legend(fontsize=8, loc="upper left")
    plt.show()
    if len(watch):
        wl = watch.drop(columns=["tier_then"]).rename(columns={
            "segment": "RFM class", "tier_now": "tier now", "revenue": f"revenue ({currency})", "days_since_last": "days since last",
            "p_alive_then": f"P(alive) {prev_month}", "p_alive_now": f"P(alive) {month}", "p_alive_change": "change",
            "clv_then": f"CLV {prev_month}", "clv_now": f"CLV {month}", "clv_lost": "CLV lost", "channel_pref": "main channel",
            "marketing_opt_out": "opted out"})
        if "opted out" in wl.columns:
            wl["opted out"] = wl["opted out"].map({True: "yes", False: "no"}).fillna("–")
        table(wl, formats={f"revenue ({currency})": "{:,.0f}", f"P(alive) {prev_month}": "{:.2f}", f"P(alive) {month}": "{:.2f}",
                           "change": "{:+.2f}", f"CLV {prev_month}": "{:,.0f}", f"CLV {month}": "{:,.0f}", "CLV lost": "{:,.0f}"},
              caption=f"Watch list: tier-{top_tier} customers of {prev_month} whose P(alive) fell by {churn_min_drop:.2f} or more, "
                      f"most value lost first (CLV in {currency})")
    w0 = watch.iloc[0] if len(watch) else None
    note(
        f"Of the {watch_fig['high_value']:,.0f} tier-{top_tier} customers of {prev_month}, {(~bought).mean():.0%} did not buy in {month}; "
        f"{watch_fig['falling']:,.0f} lost {churn_min_drop * 100:.0f} or more points of P(alive). Together they still hold "
        f"{watch_fig['clv_at_risk']:,.0f} {currency_md} of predicted value after losing {watch_fig['clv_lost']:,.0f} {currency_md} this month"
        + (f"; {watch_fig['contactable']:,.0f} of them have not opted out of marketing" if np.isfinite(watch_fig["contactable"]) else "")
        + ". "
        + (f"The top of the list bought {w0['orders']:,} times for {w0['revenue']:,.0f} {currency_md} but not for {w0['days_since_last']:,} "
           f"days: P(alive) {w0['p_alive_then']:.2f} → {w0['p_alive_now']:.2f}. " if w0 is not None else "")
        + "A reactivation contact (service call, member benefit) costs little next to the value at stake; the full list with ids "
        "is available to CRM staff through `omni.value_report.churn_watchlist` in the analyst environment."
    )

# %% [markdown]
# ## Who the top-tier customers are (TGI against all customers)
# TGI = share of a trait among the tier-A customers ÷ its share among all customers × 100: above 100
# the trait is more common among the most valuable customers. Intervals account for tier A being part
# of all customers. Demographics (gender, age, city) come from the CRM and are known for members only;
# channels and categories come from every customer's orders.

# %%
labels = {"gender": "gender", "age_band": "age band", "city_tier": "city tier", "channel_pref": "main sales channel",
          "channel_mix": "online / offline mix", "top_category": "main category"}
fig = vr.plot_tgi(tgi_top, f"Tier-{top_tier} customers against all customers, TGI with 95% intervals",
                  highlight=tgi_highlight, labels=labels)
plt.show()
ov_top = vr.over_indexed(tgi_top, min_tgi=tgi_highlight)
cov = attrs.notna().mean()
if len(ov_top):
    table(ov_top[["attribute", "value", "segment_share", "base_share", "tgi", "ci_low", "ci_high"]].assign(
          attribute=lambda d: d["attribute"].map(labels)).rename(columns={"segment_share": f"share in tier {top_tier}",
                                                                            "base_share": "share of all customers"}),
          formats={f"share in tier {top_tier}": "{:.1%}", "share of all customers": "{:.1%}", "tgi": "{:.0f}", "ci_low": "{:.0f}",
                   "ci_high": "{:.0f}"},
          caption=f"Traits over-represented in tier {top_tier} (significant, TGI ≥ {tgi_highlight})")
under = tgi_top[tgi_top["significant"] & (tgi_top["tgi"] < 100) & ~tgi_top["suppressed"]].sort_values("tgi")
note(
    (("Over-represented among the most valuable customers: " + "; ".join(
        f"**{escape_md(labels[t.attribute])} {escape_md(t.value)}** (TGI {t.tgi:.0f}, {t.segment_share:.0%} of tier {top_tier} vs {t.base_share:.0%} of all)"
        for t in ov_top.head(4).itertuples()) + ". ") if len(ov_top) else
     f"No trait is significantly over-represented in tier {top_tier} at TGI ≥ {tgi_highlight}. ")
    + (("Under-represented: " + "; ".join(f"{escape_md(labels[t.attribute])} {escape_md(t.value)} (TGI {t.tgi:.0f})" for t in under.head(3).itertuples())
        + ". ") if len(under) else "")
    + f"Known for {cov['gender']:.0%} of customers (gender), {cov['age_band']:.0%} (age band) and {cov['city_tier']:.0%} (city tier); "
    "buying across channels goes with value because a OneID that joins store and online orders sees more of the person's purchases."
)

# %% [markdown]
# ## The customer base against the market (TGI against the market panel)
# The third-party panel gives the adult population by gender, age band and city tier: TGI shows which
# groups the brand reaches more (above 100) or less than their weight in the population. The panel is a
# census-like count, so only the customers' side carries sampling error.

# %%
if tgi_panel is None:
    note("This dataset has no market panel; the customer base is not compared with the population.")
else:
    fig = vr.plot_tgi(tgi_panel, "All customers against the market panel, TGI with 95% intervals", highlight=tgi_highlight,
                      labels=labels)
    plt.show()
    ov_panel = vr.over_indexed(tgi_panel, min_tgi=tgi_highlight)
    table(tgi_panel[["attribute", "value", "segment_share", "base_share", "tgi", "ci_low", "ci_high", "note"]].assign(
          attribute=lambda d: d["attribute"].map(labels)).rename(columns={"segment_share": "share of customers",
                                                                            "base_share": "share of the population"}),
          formats={"share of customers": "{:.1%}", "share of the population": "{:.1%}", "tgi": "{:.0f}", "ci_low": "{:.0f}",
                   "ci_high": "{:.0f}"}, caption="Customers against the market panel, every cell")
    low = tgi_panel[tgi_panel["significant"] & (tgi_panel["tgi"] < 100) & ~tgi_panel["suppressed"]].sort_values("tgi")
    note(
        "The brand over-reaches " + ", ".join(
            f"**{escape_md(labels[t.attribute])} {escape_md(t.value)}** (TGI {t.tgi:.0f})" for t in ov_panel.head(4).itertuples())
        + (". It under-reaches " + ", ".join(f"{escape_md(labels[t.attribute])} {escape_md(t.value)} (TGI {t.tgi:.0f})" for t in low.head(3).itertuples())
           if len(low) else "")
        + ". Over-represented groups are the core market to defend; large under-represented groups are the room for growth, "
        "if the product fits them. Demographics come from CRM members, who may differ from platform-only buyers."
    )

# %% [markdown]
# ## This month against the previous month
# The same figures at the previous month end (the model refitted on the purchases up to then, same
# OneIDs), and how customers moved between the RFM classes over the month.

# %%
if prev is None:
    note(f"There is no previous month end to compare with ({escape_md(prev_note or 'no purchases before ' + month)}).")
else:
    flabels = {"customers": "customers", "new_customers": "new customers in the month", "active_customers": "customers who bought",
               "orders_month": "paid orders in the month", "revenue_month": f"revenue in the month ({currency})",
               "repeat_share": "repeat buyers", "clv_total": f"predicted {clv_months}-month value ({currency})",
               "clv_mean": f"mean CLV ({currency})", "top_share": f"value share of the top {tier_shares[0]:.0%}",
               "at_risk_share": "repeat buyers with P(alive) below 50%", "important_value_share": "重要价值 customers",
               "expected_purchases_90d": "purchases expected in 90 days"}
    cmp = vr.compare_months(fig_cur, fig_prev, flabels)
    pct = {"repeat_share", "top_share", "at_risk_share", "important_value_share"}
    cnt = {"customers", "new_customers", "active_customers", "orders_month"}
    for col in ("previous_month", "this_month", "change"):
        sign = "+" if col == "change" else ""
        cmp[col] = [
            f"{v * 100:+.1f} pp" if k in pct and col == "change" else f"{v:.1%}" if k in pct
            else f"{v:{sign},.0f}" for k, v in zip(flabels, cmp[col], strict=True)
        ]
    table(cmp.rename(columns={"previous_month": prev_month, "this_month": month}), formats={"relative_change": "{:+.1%}"})
    mig = vr.segment_migration(prev.segments, seg)
    shares = mig.div(mig.sum(axis=1).where(lambda x: x > 0), axis=0) * 100
    shown = shares.where(mig >= 10)  # fewer than 10 customers: not shown
    fig, ax = plt.subplots(figsize=(9, 5.5))
    im = ax.imshow(shown.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(mig.shape[1]), mig.columns, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(mig.shape[0]), mig.index, fontsize=8)
    for i in range(mig.shape[0]):  # 9 x 8 cells
        for j in range(mig.shape[1]):
            v = shown.iat[i, j]
            if np.isfinite(v) and v >= 0.5:
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7, color="white" if v > 60 else "black")
    ax.set_xlabel(f"RFM class at the end of {month}")
    ax.set_ylabel(f"RFM class at the end of {prev_month}")
    ax.set_title("Where last month's customers are now (% of the row; cells under 10 customers blank)")
    fig.colorbar(im, ax=ax, label="% of the row's customers")
    plt.tight_layout()
    plt.show()
    stay = np.diag(mig.iloc[:8].to_numpy()).sum() / mig.iloc[:8].to_numpy().sum()
    iv_row = mig.loc["important value"]
    note(
        f"{fig_cur['customers'] - fig_prev['customers']:+,} customers ({fig_cur['new_customers']:,} new), revenue in the month "
        f"{fig_cur['revenue_month']:,.0f} vs {fig_prev['revenue_month']:,.0f} {currency_md}. Predicted {clv_months}-month value "
        f"{fig_prev['clv_total']:,.0f} → {fig_cur['clv_total']:,.0f} {currency_md} ({fig_cur['clv_total'] / fig_prev['clv_total'] - 1:+.1%}); "
        f"repeat buyers with P(alive) below 50%: {fig_prev['at_risk_share']:.1%} → {fig_cur['at_risk_share']:.1%}. "
        f"{stay:.0%} of last month's customers stayed in their class; of the {iv_row.sum():,} 重要价值 customers "
        f"{iv_row.get('important value', 0) / max(iv_row.sum(), 1):.0%} still are. Class thresholds are means over all customers and move "
        "a little each month, so part of the movement is the thresholds, not the customers."
    )

# %% [markdown]
# ## Truth check (synthetic data only)
# The synthetic world's generator knows each person's purchase rate while active, dropout rate and
# dropout date. Each customer OneID is mapped to the person most of its records belong to; a person
# whose orders sit on several OneIDs (unlinked platform accounts) is compared through the sum of their
# predictions. The true expected organic purchases of the next 12 months follow from the person's
# rates if still active at the month end (orders caused by ads and campaigns are not included).

# %%
if truth_fig is None:
    note("This dataset has no ground truth; the model is not checked against the true purchase process.")
else:
    rb = truth_cal[truth_cal["group"] != "one-time buyers"]
    ot = truth_cal[truth_cal["group"] == "one-time buyers"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot([0, 100], [0, 100], color="#999", lw=0.8, ls=":", label="perfect calibration")
    ax.plot(rb["mean_p_alive"] * 100, rb["alive_share"] * 100, marker="o", color="#4c72b0",
            label="repeat buyers, tenths by P(alive)")
    if len(ot):
        ax.scatter(ot["mean_p_alive"] * 100, ot["alive_share"] * 100, marker="s", s=50, color="#dd8452", zorder=3,
                   label="one-time buyers")
    ax.set_xlim(0, 102)
    ax.set_ylim(0, 102)
    ax.set_xlabel("mean predicted P(alive) (%)")
    ax.set_ylabel("customers whose person is truly still active (%)")
    ax.set_title("P(alive) against the true active share")
    ax.legend(fontsize=8, loc="upper left")
    plt.show()
    tf = truth_fig
    rows = [("customers matched / persons behind them", f"{tf['customers']:,.0f} / {tf['persons']:,.0f}"),
            ("persons whose orders sit on 2+ OneIDs", f"{tf['split_persons']:.1%}"),
            ("rank correlation, predicted vs true expected purchases (per person)", f"{tf['rank_corr_purchases']:.2f}"),
            ("rank correlation, CLV vs true expected spend (per person)", f"{tf['rank_corr_clv']:.2f}"),
            ("rank correlation with the true purchase rate (active persons)", f"{tf['rank_corr_rate']:.2f}"),
            ("purchases in the next 12 months: predicted / true organic", f"{tf['predicted_purchases']:,.0f} / {tf['true_purchases']:,.0f}"),
            ("mean P(alive) / share truly active (all customers)", f"{tf['mean_p_alive']:.1%} / {tf['alive_share']:.1%}"),
            ("P(alive) ranks active above lapsed: AUC repeat buyers / all customers", f"{tf['auc_alive']:.2f} / {tf['auc_alive_all']:.2f}")]
    table(pd.DataFrame(rows, columns=["check", "value"]))
    table(truth_cal, formats={"mean_p_alive": "{:.1%}", "alive_share": "{:.1%}"}, caption="P(alive) calibration")
    note(
        f"Per person, the predicted purchases rank with the true expected purchases at {tf['rank_corr_purchases']:.2f} (Spearman) and "
        f"the CLV with the true expected spend at {tf['rank_corr_clv']:.2f}; the model knows a person's rate only from the few "
        f"purchases it saw, so the ranks of light buyers are noisy. Among repeat buyers P(alive) separates the still active from the "
        f"lapsed with an AUC of {tf['auc_alive']:.2f} (0.5 = chance)"
        + (f"; one-time buyers all get P(alive) = 1 from BG/NBD although {ot['alive_share'].iloc[0]:.0%} of them are active"
           if cur.model.model_ == "bgnbd" and len(ot) else "")
        + f". In total the model expects {tf['predicted_purchases']:,.0f} purchases in the next 12 months against "
        f"{tf['true_purchases']:,.0f} from the true organic process: {tf['split_persons']:.0%} of the persons have orders on several "
        "OneIDs, each of which looks like a lighter, shorter-lived customer to the model, and the seasonality of the synthetic world "
        "(双11, 618) is not in the model."
    )
