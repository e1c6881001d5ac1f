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
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7  # passed by the report runner (audiences are deterministic)
definitions = None  # audience definitions YAML, or None for omni's default audiences
platforms = ["tencent", "google", "meta"]  # ad platforms counted for reach
k = 10  # counts of fewer people are blanked in tables and the heat map

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

import omni
from omni.audience import narrative, plots
from omni.reporting.display import headline, note, table, use_report_style

use_report_style()
ws = omni.open(data)
r = omni.audience.analyse_month(ws, month, definitions=definitions, platforms=platforms, k=k)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(r, title=f"Audiences at the end of {r.month}")
note(narrative.summary(r))

# %% [markdown]
# ## Audience sizes
# People each rule selects at the month end, how many of them opted out of marketing, and how many
# remain eligible for activation. Counts under the suppression threshold are blanked.

# %%
table(r.tables["sizes"], caption=f"Audiences at the end of {r.month} (counts under {r.k} blanked)")
plots.plot_sizes(r)
plt.show()
note(narrative.largest(r))

# %% [markdown]
# ## Overlap
# How many people two audiences share, as a share of the row audience (the diagonal is the audience
# itself). Overlapping audiences compete for the same people: decide which message wins before
# exporting both to one platform.

# %%
plots.plot_overlap(r)
plt.show()
note(narrative.overlap(r))

# %% [markdown]
# ## Reach by platform
# Eligible people each platform can match: Tencent Ads through the MD5 of an 11-digit mainland
# mobile or of a device id (IMEI, IDFA, OAID), Google Customer Match and Meta through the SHA-256 of
# an email or a phone with its country code. Identifiers shared by two OneIDs are never exported.

# %%
table(r.tables["reach"], caption=f"Eligible people reachable per platform and identifier (counts under {r.k} blanked)")
plots.plot_reach(r)
plt.show()
note(narrative.reach(r))

# %% [markdown]
# ## Consent
# A person counts as opted out when **any** of their records says so (conservative), not only the
# most recent one. The export removes them before anything is hashed, and an identifier that an
# opted-out person also holds is never exported for anyone.

# %%
note(narrative.consent(r))

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
