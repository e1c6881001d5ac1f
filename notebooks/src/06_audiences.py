# %% [markdown]
# # Audiences
#
# Who can marketing act on this month? Each audience is a rule over the unified data (what people
# viewed, bought, in which channel, their RFM class, CLV tier and churn risk, their response to the
# last campaign), defined in a YAML file. For each one the report shows how many people it selects,
# how many of them opted out of marketing (they are never exported), how the audiences overlap, and
# how many each ad platform could reach with the identifiers we hold. The export itself
# (`omni audience export`) writes each platform's hashed upload file and logs every export; this
# report shows counts only.

# %% tags=["parameters"]
import os

data = os.environ.get("OMNI_DATA", "data/sample")  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7  # passed by the report runner (audiences are deterministic)
definitions = None  # audience definitions YAML, or None for omni's default audiences
k = 10  # counts of fewer people are blanked in tables and the heat map

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np

from omni.audience import prepare_audiences, reach_table
from omni.audience import report as AR
from omni.core.markup import escape_md
from omni.reporting.display import headline, note, table, use_report_style
from omni.workspace import Workspace

use_report_style()
ws = Workspace(data)
month = month or ws.last_complete_month()
run = prepare_audiences(data, month, definitions, workspace=ws)
aset = run.audiences
contacts = run.contacts()
fig = AR.headline_figures(aset, contacts, run.opted_out)
sizes = AR.size_table(aset, k=k)
reach = AR.reach_summary(aset, contacts, k=k)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(
    [
        {"key": "audiences", "label": "audiences defined", "value": fig["audiences"]},
        {"key": "people_in_audiences", "label": "people in at least one audience", "value": fig["people_in_audiences"]},
        {"key": "reachable", "label": "of them reachable on an ad platform (not opted out, usable identifier)",
         "value": fig["reachable"], "better": "up"},
        {"key": "opted_out_removed", "label": "audience members removed: opted out of marketing",
         "value": fig["opted_out_removed"]},
        {"key": "reach_share", "label": "eligible members with a usable phone, email or device id",
         "value": fig["reach_share"], "fmt": "{:.1%}", "better": "up"},
    ],
    title=f"Audiences at the end of {month}",
)
note(
    f"{fig['audiences']} audiences select {fig['people_in_audiences']:,} distinct people at the end of {month}. "
    f"{fig['opted_out_removed']:,} of them opted out of marketing and are removed from every export; of the "
    f"{fig['eligible']:,} who remain, {fig['reachable']:,} ({fig['reach_share']:.0%}) carry a phone, email or "
    "device id an ad platform can match; the others can still be reached in-house (app, WeChat, stores) through "
    "their pseudonymized OneID."
)

# %% [markdown]
# ## Audience sizes
# People each rule selects at the month end, how many of them opted out of marketing, and how many
# remain eligible for activation. Counts under the suppression threshold are blanked.

# %%
table(sizes, caption=f"Audiences at the end of {month} (counts under {k} blanked)")
shown = sizes.dropna(subset=["people"])
if len(shown):
    fig_s, ax = plt.subplots(figsize=(9, 0.6 + 0.45 * len(shown)))
    y = np.arange(len(shown))
    ax.barh(y, shown["people"].astype(float), color="#4c72b0", label="selected by the rule")
    ax.barh(y, shown["opted out"].astype(float).fillna(0), color="#dd8452", label="of them opted out (not exported)")
    ax.set_yticks(y, shown["audience"])
    ax.invert_yaxis()
    ax.set_xlabel("people")
    ax.set_ylabel("audience")
    ax.set_title("Audience size and opted-out members")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    plt.tight_layout()
    plt.show()
big = aset.sizes().sort_values("eligible", ascending=False).iloc[0]
note(f"The largest audience is **{escape_md(big['audience'])}** ({escape_md(big['description'])}). Audiences are built from every "
     "channel the person's OneID joins, so a store buyer who also browses the app is one person, not two.")

# %% [markdown]
# ## Overlap
# How many people two audiences share, as a share of the row audience (the diagonal is the audience
# itself). Overlapping audiences compete for the same people: decide which message wins before
# exporting both to one platform.

# %%
if len(aset.names) > 1:
    AR.plot_overlap(aset, k=k)
    plt.title("People shared by two audiences")
    plt.tight_layout()
    plt.show()
    jac = aset.overlap("jaccard")
    np.fill_diagonal(jac.values, np.nan)
    i, j = np.unravel_index(np.nanargmax(jac.to_numpy()), jac.shape) if np.isfinite(jac.to_numpy()).any() else (0, 0)
    if np.isfinite(jac.to_numpy()).any() and jac.iloc[i, j] > 0:
        note(f"The most similar pair is **{escape_md(jac.index[i])}** and **{escape_md(jac.columns[j])}** (Jaccard {jac.iloc[i, j]:.2f}: "
             "shared people over people in either). Cells with fewer than "
             f"{k} people are left blank.")
else:
    note("Only one audience is defined: there is nothing to overlap.")

# %% [markdown]
# ## Reach by platform
# Eligible people each platform can match: Tencent Ads through the MD5 of an 11-digit mainland
# mobile or of a device id (IMEI, IDFA, OAID), Google Customer Match and Meta through the SHA-256 of
# an email or a phone with its country code. Identifiers shared by two OneIDs are never exported.

# %%
table(reach, caption=f"Eligible people reachable per platform and identifier (counts under {k} blanked)")
plat = reach.set_index("audience")[["tencent (any)", "google (any)", "meta (any)"]].astype(float)
elig = reach.set_index("audience")["eligible"].astype(float)
share = plat.div(elig, axis=0)
if share.notna().any().any():
    ax = (share * 100).plot.bar(figsize=(10, 3.8), color=["#4c72b0", "#55a868", "#8172b2"])
    ax.legend(["Tencent Ads", "Google Customer Match", "Meta"], loc="upper left", bbox_to_anchor=(1.01, 1),
              frameon=False)
    ax.set_ylabel("share of eligible people (%)")
    ax.set_xlabel("audience")
    ax.set_title("Share of each audience a platform can match")
    ax.set_ylim(0, 100)
    plt.xticks(rotation=30, ha="right")
    plt.tight_layout()
    plt.show()
tot = reach_table(aset, contacts).sum(numeric_only=True)  # memberships over all audiences
best = max(["tencent", "google", "meta"], key=lambda p: tot[p])
device_only = tot["tencent"] - tot["tencent HASH_MOBILE_PHONE"]
note(f"Summed over the audiences, **{escape_md(best)}** can match the most eligible members "
     f"({tot[best] / max(tot['eligible'], 1):.0%}). Google could match "
     f"{tot['google Phone'] / max(tot['eligible'], 1):.0%} of them by phone and "
     f"{tot['google Email'] / max(tot['eligible'], 1):.0%} by email; Tencent also reaches members known only by "
     f"an app device ({f'{device_only:,.0f}' if device_only >= k else f'fewer than {k}'} audience memberships "
     "without a usable phone). A platform's real match rate is lower than this: it only finds people who use it.")

# %% [markdown]
# ## Consent
# A person counts as opted out when **any** of their records says so (conservative), not only the
# most recent one. The export removes them before anything is hashed, and an identifier that an
# opted-out person also holds is never exported for anyone.

# %%
oo_records = fig["opted_out_records_only"]
note(
    f"{fig['opted_out_total']:,} people have opted out of marketing; "
    + (f"{oo_records:,} of them only on an older member record that the profile's most-recent-value rule would "
       "have missed. " if oo_records >= k else
       ("a few of them only on an older member record. " if oo_records else ""))
    + f"{fig['opted_out_removed']:,} of them fall into at least one audience and are removed from every export."
)

# %% [markdown]
# ## How the audiences are made
# - **Definitions** live in a YAML file (`omni audience list` shows them; the defaults are in
#   `omni/audience/default_audiences.yaml`, the syntax in `docs/audiences.md`). Every audience is
#   evaluated at the end of the month over orders in every channel, site/app events, campaign
#   assignments and the RFM/CLV figures of the value report (same model, same tiers).
# - **browse_abandon**: a product view or add-to-cart in the last *N* days and no paid order at or
#   after the last one. **bought**: paid orders in a channel/category and window. **rfm_class**,
#   **clv_tier**, **churn_risk** (1 − P(alive)): customers only. **campaign_responder**: assigned to
#   a treatment arm and bought within the campaign window. Rules combine with all/any/not.
# - **Export** (`omni audience export --out DIR`): one file per audience and platform, built from
#   normalized identifiers with each platform's own rule (Tencent MD5 of the 11-digit mobile and of
#   device ids; Google SHA-256 of E.164 phones and normalized emails; Meta SHA-256 of digits-only
#   phones and emails), plus keyed HMAC pseudonyms of the OneIDs for in-house tools. It refuses to
#   run without `OMNI_PSEUDONYM_KEY` and appends who, when, what and how many to `export_log.jsonl`.
