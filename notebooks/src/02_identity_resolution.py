# %% [markdown]
# # Identity resolution (OneID)
#
# Every record from CRM, site/app, Tmall/JD/Douyin, stores, WeChat, service and ad touchpoints is
# resolved to one person, the OneID. Strong identifiers (phone, email, member id, WeChat unionid,
# bound platform ids) link records; weak ones (cookies, devices, single-app openids) only attach
# records to a person they point at unambiguously; shared values (store kiosks, default phones) and
# profiles breaking per-type limits are cut. This report shows how the records came together, what
# each rule held back, how ids changed since last month, and, on synthetic data, how accurate it is.

# %% tags=["parameters"]
data = "data/sample"  # dataset folder (raw/sources.yaml inside); OMNI_DATA overrides it
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt

import omni
from omni.identity import narrative, plots
from omni.identity.narrative import FORMATS
from omni.reporting.display import headline, note, table, use_report_style

use_report_style()
ws = omni.open(data)
r = omni.identity.analyse_month(ws, month)

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
headline(r, title=narrative.title(r))

# %%
# what the OneIDs are: known people, platform-only buyers, anonymous profiles (and the truth, if any)
note(narrative.people(r))

# %%
# warnings of the resolution (e.g. the probabilistic stage failed and it fell back to the rules only)
for w in narrative.warnings(r):
    note(w)

# %% [markdown]
# ## Records to OneIDs, by source
# How many records each source brought, how many people they belong to, and how they were linked:
# by a strong identifier, attached through a weak one, or left alone for lack of any usable id
# (anonymous walk-ins, unknown devices).

# %%
table(r.tables["by_source"], caption="Records by source and how they were linked (account: linked only by a platform account not bound to a person)")

# %% [markdown]
# ## Merge rates between sources
# Share of a source's records (row) whose OneID also holds a record from another source (column):
# how far each channel is joined to the others.

# %%
plots.plot_merge_rates(r)
plt.show()

# %% [markdown]
# ## Profile sizes and identifiers per profile
# Most people leave a handful of records; very large profiles deserve a look (next section).

# %%
plots.plot_profile_sizes(r)
plt.show()
table(r.tables["profile_sizes"], formats=FORMATS["profile_sizes"])
table(r.tables["identifiers_per_profile"], formats=FORMATS["identifiers_per_profile"],
      caption="Distinct linking identifiers per OneID, by type")

# %% [markdown]
# ## The largest profiles and what holds them together
# A bridging identifier is one whose removal would split the profile: where an over-merge would come
# from. The drawing shows the largest profile's records (dots, by source) and identifiers (squares,
# masked).

# %%
table(r.tables["largest"], caption="Largest OneIDs")
if plots.plot_cluster(r, seed=seed) is not None:
    plt.show()

# %% [markdown]
# ## What each rule held back
# Identifier values kept from linking and the records they appear on: invalid or blocked values,
# shared values (seen with too many people), ambiguous weak ids (a family tablet), and values removed
# to keep a profile within its per-type limits. Without these rules a naive graph that connects every
# shared value glues different people together.

# %%
table(r.tables["rule_impact"], formats=FORMATS["rule_impact"], caption="Values held back, by rule")
table(r.tables["naive_comparison"], formats=FORMATS["naive_comparison"])
if len(r.tables["limit_removals"]):
    table(r.tables["limit_removals"], caption="Profile-limit splits")

# %% [markdown]
# ## Platform buyers: linked by rule, by probability, or not at all
# Tmall, JD and Douyin orders carry a platform-scoped buyer id, a receiver name, a masked phone
# (138****5678) and an address. Accounts bound to a phone through the shop membership are linked by
# rule; the others go through a Fellegi-Sunter model (Splink on DuckDB, trained without labels by
# EM) against existing profiles, and are linked only above the match threshold and clearly ahead of
# the runner-up.

# %%
plots.plot_platform_linkage(r)
plt.show()
table(r.tables["platform_linkage"], formats=FORMATS["platform_linkage"])
if (stage := narrative.probabilistic_stage(r)) is not None:
    note(stage)
if len(r.tables["model_parameters"]):
    table(r.tables["model_parameters"], formats=FORMATS["model_parameters"],
          caption="Model parameters: m and u per comparison level (EM, no labels)", max_rows=30)
if (links := narrative.link_accuracy(r)) is not None:
    note(links)

# %% [markdown]
# ## OneIDs since last month
# Last month's ids are kept for the same people; when two profiles merge the older id survives, and a
# split keeps the id on the larger part.

# %%
table(r.tables["oneid_changes"])
note(narrative.oneid_changes(r))

# %% [markdown]
# ## Accuracy against the synthetic truth
# Only on synthetic data, whose generator knows who is who. Pairwise precision: of the record pairs
# put in one OneID, the share that are truly one person; recall: of the true pairs, the share found.
# Stated for records carrying a strong identifier (the population OneID rules can link) and for all.

# %%
note(narrative.accuracy(r))
if r.has_truth:
    table(r.tables["accuracy"].drop(columns="linkable_recall"), formats=FORMATS["accuracy"])
    table(r.tables["source_pairs"], formats=FORMATS["source_pairs"], caption="By source pair (all records)",
          max_rows=30)

# %% [markdown]
# ## Explaining a link
# `omni.oneid.explain(res, a, b)` says why two records share a OneID (the chain of identifiers) or
# which rule kept them apart. Two examples from this month's data:

# %%
print(narrative.examples(r))
