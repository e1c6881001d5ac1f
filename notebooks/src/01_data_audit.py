# omni-notebook: {"needs": "sources"}
# %% [markdown]
# # Data audit
#
# Is this month's data fit to analyse? For every source: how many rows arrived and how many were
# quarantined (and why), how complete and valid the columns and identifiers are, whether the data is
# fresh, whether volumes and clocks look normal, whether ids point at known members, how sources
# overlap, and where personal data sits. It ends with a ranked list of issues and a quality score per
# source. Personal data is shown masked only.

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7  # passed by the report runner (the audit draws nothing at random)

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

import omni
from omni.audit import narrative, plots
from omni.reporting.display import headline, note, table, use_report_style

use_report_style()
ws = omni.open(data)
r = omni.audit.analyse_month(ws, month)
t = r.tables

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(r, title=f"Data audit, {r.month}")
note(narrative.summary(r))

# %% [markdown]
# ## Sources at a glance
# Rows received, accepted and quarantined; the time span each source covers; and freshness (days from
# the last record to the end of the report month).

# %%
table(
    t["overview"][["source", "format", "encoding", "timezone", "rows_in", "accepted", "quarantined",
                   "quarantine_rate", "first", "last", "days_stale", "rows_this_month"]],
    formats={"quarantine_rate": "{:.3%}", "days_stale": "{:.1f}", "first": "{:%Y-%m-%d}", "last": "{:%Y-%m-%d}",
             "rows_this_month": "{:,.0f}"},
)

# %% [markdown]
# ## Quarantined rows and why
# Rows that failed validation are kept aside with a reason, never dropped silently. One row can
# have several problem cells.

# %%
if t["quarantine"].empty:
    note(narrative.no_quarantine())
else:
    table(t["quarantine"],
          caption="Quarantined cells by source, column and reason (example row = 1-based data row in the file)")

# %% [markdown]
# ## Completeness
# Share of rows with a value, per column. Identifier columns are often sparse by design (not every
# order has a member card), so the chart and the quality score count the other columns; required
# columns must be complete.

# %%
plots.plot_completeness(r)
plt.show()
table(t["incomplete_columns"][["source", "column", "type", "identifier", "filled", "required"]],
      formats={"filled": "{:.1%}"}, caption="Columns less than 95% filled")

# %% [markdown]
# ## Identifier validity and junk values
# Identifiers are normalized (phones to E.164, emails lower-cased, device ids canonical, WeChat and
# platform ids scoped). Values that cannot identify anyone (null-like strings, store default phones,
# all-zero device ids, masked phones, malformed values) are blocked from linking.

# %%
table(t["validity"], formats={"valid_share": "{:.2%}", "top_invalid_n": "{:,.0f}"},
      caption="Identifier values per source and type")
table(t["junk"], caption="Blocked and invalid identifier values by reason")

# %% [markdown]
# ## Outlying amounts
# Amounts that pass validation (finite, not negative, under the column's `max`) but sit far from their
# source's typical value: robust z-score on the log amount (median and MAD per source and column),
# beyond 5. Listed by file row number for review; they stay in the analysis.

# %%
if t["outliers"].empty:
    note(narrative.no_outliers())
else:
    table(t["outliers"], formats={"value": "{:,.2f}", "typical": "{:,.2f}", "robust_z": "{:+.1f}"},
          max_rows=30, caption="Outlying amounts (row = 1-based data row in the file)")

# %% [markdown]
# ## Duplicates
# Accepted rows identical to another row in every column but the record key (duplicate keys
# themselves are quarantined above).

# %%
table(t["duplicates"], formats={"duplicate_share": "{:.2%}"})

# %% [markdown]
# ## Volume over time
# Rows per month for the last 12 months; this month against the mean of the previous three.

# %%
plots.plot_volume(r)
plt.show()
table(t["volume_change"], formats={"previous_mean": "{:,.0f}", "change": "{:+.1%}", "this_month": "{:,.0f}"})

# %% [markdown]
# ## Clocks and timezones
# People's daily rhythm is the same in every channel, so a source whose hour-of-day profile is shifted
# against the others was probably stamped in another timezone (UTC exports read as Beijing time show
# a shift of -8 h). The loader converts each source from its declared timezone; a flag here means the
# declaration is probably wrong.

# %%
if len(t["clocks"]):
    table(t["clocks"], formats={"corr_at_best": "{:.2f}", "corr_at_zero": "{:.2f}"})
    note(narrative.clocks(r))

# %% [markdown]
# ## Referential integrity and overlap between sources
# Member ids used in orders, events and campaigns should exist in the CRM. Overlap: the share of one
# source's phone numbers also present in another (how much each channel can be joined on phone).

# %%
if len(t["integrity"]):
    table(t["integrity"], formats={"unknown_share": "{:.2%}"})
plots.plot_overlap(r)
plt.show()

# %% [markdown]
# ## Personal data inventory
# Columns holding personal data, as declared in sources.yaml and as detected in the values. An
# undeclared detection is an issue: it would escape masking.

# %%
table(t["pii"], formats={"detected_share": "{:.0%}"}, max_rows=40)

# %% [markdown]
# ## Issues, most severe first, and the quality score per source
# The score is the mean of five checks (accepted share, completeness, identifier validity, freshness,
# clock), from 0 to 100.

# %%
table(t["issues"], max_rows=30)
plots.plot_scores(r)
plt.show()
