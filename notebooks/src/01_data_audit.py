# %% [markdown]
# # Data audit
#
# Is this month's data fit to analyse? For every source: how many rows arrived and how many were
# quarantined (and why), how complete and valid the columns and identifiers are, whether the data is
# fresh, whether volumes and clocks look normal, whether ids point at known members, how sources
# overlap, and where personal data sits. It ends with a ranked list of issues and a quality score per
# source. Personal data is shown masked only.

# %% tags=["parameters"]
import os

data = os.environ.get("OMNI_DATA", "data/sample")  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

from omni import audit
from omni.core.markup import escape_md
from omni.reporting.display import headline, note, table, use_report_style
from omni.workspace import Workspace

use_report_style()
ws = Workspace(data)
month = month or ws.last_complete_month()
ds = ws.dataset
ids = ws.ids

# %% tags=["remove-cell"]
overview = audit.source_overview(ds, month)
qreasons = audit.quarantine_reasons(ds)
comp = audit.completeness(ds)
validity = audit.identifier_validity(ids)
junk = audit.junk_values(ids)
dups = audit.duplicate_rows(ds)
volume = audit.monthly_volume(ds, month)
vchange = audit.volume_change(volume)
tz = audit.timezone_check(ds)
integrity = audit.referential_integrity(ids, "member_id")
pii = audit.pii_inventory(ds)
scores = audit.quality_scores(overview, comp, validity, tz)
issues = audit.ranked_issues(overview, qreasons, validity, tz, integrity, vchange, pii, read=audit.read_checks(ds))
outliers = audit.amount_outliers(ds)
issues = audit.with_issues(issues, audit.outlier_issues(outliers))

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(
    [
        {"key": "sources", "label": "sources", "value": len(overview)},
        {"key": "rows_in", "label": "rows received", "value": int(overview["rows_in"].sum()), "better": "up"},
        {"key": "quarantine_rate", "label": "rows quarantined",
         "value": float(overview["quarantined"].sum() / overview["rows_in"].sum()), "fmt": "{:.3%}", "better": "down"},
        {"key": "reconciled", "label": "sources whose counts reconcile",
         "value": f"{int(overview['reconciled'].sum())} of {len(overview)}"},
        {"key": "high_issues", "label": "high-severity issues", "value": int((issues["severity"] == "high").sum()), "better": "down"},
        {"key": "quality_score", "label": "mean quality score (0-100)", "value": float(scores["score"].mean()), "fmt": "{:.1f}", "better": "up"},
    ],
    title=f"Data audit, {month}",
)
worst = scores.iloc[0]
n_rec = int(overview["reconciled"].sum())
note(
    ("Every row is accounted for" if n_rec == len(overview) else "**Not every row is accounted for**")
    + f": rows received = accepted + quarantined = records counted in the file itself in "
    f"{n_rec} of {len(overview)} sources. The weakest source is "
    f"**{escape_md(worst['source'])}** (score {worst['score']:.0f}/100); the ranked issue list at the end says why."
)

# %% [markdown]
# ## Sources at a glance
# Rows received, accepted and quarantined; the time span each source covers; and freshness (days from
# the last record to the end of the report month).

# %%
table(
    overview[["source", "format", "encoding", "timezone", "rows_in", "accepted", "quarantined",
              "quarantine_rate", "first", "last", "days_stale", "rows_this_month"]],
    formats={"quarantine_rate": "{:.3%}", "days_stale": "{:.1f}", "first": "{:%Y-%m-%d}", "last": "{:%Y-%m-%d}",
             "rows_this_month": "{:,.0f}"},
)

# %% [markdown]
# ## Quarantined rows and why
# Rows that failed validation are kept aside with a reason, never dropped silently. One row can
# have several problem cells.

# %%
if qreasons.empty:
    note("No row was quarantined.")
else:
    table(qreasons, caption="Quarantined cells by source, column and reason (example row = 1-based data row in the file)")

# %% [markdown]
# ## Completeness
# Share of rows with a value, per column. Identifier columns are often sparse by design (not every
# order has a member card), so the chart and the quality score count the other columns; required
# columns must be complete.

# %%
low = comp[comp["filled"] < 0.95].sort_values("filled")
fig, ax = plt.subplots(figsize=(8, 3.5))
by_source = comp[~comp["identifier"]].groupby("source")["filled"].mean().sort_values()
ax.barh(by_source.index, by_source.to_numpy() * 100, color="#4c72b0")
ax.set_xlabel("mean share of filled values, non-identifier columns (%)")
ax.set_title("Completeness by source")
ax.set_xlim(0, 100)
plt.show()
table(low[["source", "column", "type", "identifier", "filled", "required"]], formats={"filled": "{:.1%}"},
      caption="Columns less than 95% filled")

# %% [markdown]
# ## Identifier validity and junk values
# Identifiers are normalized (phones to E.164, emails lower-cased, device ids canonical, WeChat and
# platform ids scoped). Values that cannot identify anyone (null-like strings, store default phones,
# all-zero device ids, masked phones, malformed values) are blocked from linking.

# %%
table(validity, formats={"valid_share": "{:.2%}", "top_invalid_n": "{:,.0f}"},
      caption="Identifier values per source and type")
table(junk, caption="Blocked and invalid identifier values by reason")

# %% [markdown]
# ## Outlying amounts
# Amounts that pass validation (finite, not negative, under the column's `max`) but sit far from their
# source's typical value: robust z-score on the log amount (median and MAD per source and column),
# beyond 5. Listed by file row number for review; they stay in the analysis.

# %%
if outliers.empty:
    note("No amount is far from its source's typical value.")
else:
    table(outliers, formats={"value": "{:,.2f}", "typical": "{:,.2f}", "robust_z": "{:+.1f}"}, max_rows=30,
          caption="Outlying amounts (row = 1-based data row in the file)")

# %% [markdown]
# ## Duplicates
# Accepted rows identical to another row in every column but the record key (duplicate keys
# themselves are quarantined above).

# %%
table(dups, formats={"duplicate_share": "{:.2%}"})

# %% [markdown]
# ## Volume over time
# Rows per month for the last 12 months; this month against the mean of the previous three.

# %%
fig, ax = plt.subplots(figsize=(9, 4))
for col in volume.columns:
    if volume[col].sum() > 0:
        ax.plot(volume.index.to_timestamp(), volume[col] / 1000, marker="o", ms=3, label=col)
ax.set_ylabel("rows per month (thousands)")
ax.set_xlabel("month")
ax.set_title("Monthly volume by source")
ax.legend(fontsize=8, ncol=2)
plt.show()
table(vchange, formats={"previous_mean": "{:,.0f}", "change": "{:+.1%}", "this_month": "{:,.0f}"})

# %% [markdown]
# ## Clocks and timezones
# People's daily rhythm is the same in every channel, so a source whose hour-of-day profile is shifted
# against the others was probably stamped in another timezone (UTC exports read as Beijing time show
# a shift of -8 h). The loader converts each source from its declared timezone; a flag here means the
# declaration is probably wrong.

# %%
if len(tz):
    table(tz, formats={"corr_at_best": "{:.2f}", "corr_at_zero": "{:.2f}"})
    flagged = tz[tz["flag"]]
    note("No source looks shifted." if flagged.empty else
         "Shifted: " + ", ".join(f"**{escape_md(r.source)}** ({r.best_shift_hours:+d} h)" for r in flagged.itertuples())
         + ". Check the `timezone` declared for it in sources.yaml.")

# %% [markdown]
# ## Referential integrity and overlap between sources
# Member ids used in orders, events and campaigns should exist in the CRM. Overlap: the share of one
# source's phone numbers also present in another (how much each channel can be joined on phone).

# %%
if len(integrity):
    table(integrity, formats={"unknown_share": "{:.2%}"})
ov = audit.identifier_overlap(ids, "phone")
if len(ov):
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(ov.to_numpy() * 100, cmap="Blues", vmin=0, vmax=100)
    ax.set_xticks(range(len(ov.columns)), ov.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(ov.index)), ov.index)
    ax.set_title("Phones of the row source found in the column source (%)")
    fig.colorbar(im, ax=ax, label="% of distinct phone numbers")
    plt.show()

# %% [markdown]
# ## Personal data inventory
# Columns holding personal data, as declared in sources.yaml and as detected in the values. An
# undeclared detection is an issue: it would escape masking.

# %%
table(pii, formats={"detected_share": "{:.0%}"}, max_rows=40)

# %% [markdown]
# ## Issues, most severe first, and the quality score per source
# The score is the mean of five checks (accepted share, completeness, identifier validity, freshness,
# clock), from 0 to 100.

# %%
table(issues, max_rows=30)
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.barh(scores["source"], scores["score"], color=["#cf222e" if s < 80 else "#4c72b0" for s in scores["score"]])
ax.set_xlabel("quality score (0-100)")
ax.set_xlim(0, 100)
ax.set_title("Quality score by source")
plt.show()
