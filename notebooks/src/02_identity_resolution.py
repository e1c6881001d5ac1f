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
import os

data = os.environ.get("OMNI_DATA", "data/sample")  # dataset folder (raw/sources.yaml inside)
month = None  # report month YYYY-MM, or None for the last complete month in the data
seed = 7

# %% tags=["remove-cell"]
import html

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd

from omni.oneid import (
    evaluate_against_truth,
    explain,
    health,
    linkable_scores,
    scores_by_source_pair,
)
from omni.oneid.explain import mask_value
from omni.reporting.display import headline, note, table, use_report_style
from omni.workspace import Workspace

use_report_style()
ws = Workspace(data)
month = month or ws.last_complete_month()
r = ws.resolve(as_of=month)
res = r.resolution()
ro = r.record_oneid

# %% tags=["remove-cell"]
n_rec, n_prof = len(ro), ro["oneid"].nunique()
sizes = ro["oneid"].value_counts()
how = ro["how"].astype(str).value_counts()
truth_scores = None
if ws.has_truth():
    truth = ws.truth()
    truth_scores = evaluate_against_truth(ro, truth, strong_only=True)
    truth_all = evaluate_against_truth(ro, truth, strong_only=False)
    truth_linkable = linkable_scores(res, truth, strong_only=True)
changes = r.changes["change"].value_counts()

# %%
# NBVAL_CHECK_OUTPUT: headline numbers are deterministic for the test world
metrics = [
    {"key": "records", "label": "records resolved", "value": n_rec},
    {"key": "profiles", "label": "OneIDs (people)", "value": n_prof},
    {"key": "records_per_profile", "label": "records per OneID", "value": n_rec / n_prof, "fmt": "{:.2f}"},
    {"key": "multi_source_share", "label": "OneIDs seen in 2+ sources",
     "value": float((ro.groupby("oneid")["source"].nunique() > 1).mean()), "fmt": "{:.1%}", "better": "up"},
    {"key": "anonymous_share", "label": "records with no usable id", "value": float(how.get("none", 0) / n_rec),
     "fmt": "{:.1%}", "better": "down"},
]
if truth_scores:
    metrics += [
        {"key": "precision", "label": "pairwise precision (strong-id records)", "value": truth_scores["precision"], "fmt": "{:.4f}", "better": "up"},
        {"key": "recall", "label": "pairwise recall (strong-id records)", "value": truth_scores["recall"], "fmt": "{:.4f}", "better": "up"},
    ]
headline(metrics, title=f"OneID, records up to the end of {month}")

# %%
# warnings of the resolution (e.g. the probabilistic stage failed and it fell back to the rules only)
for w in r.summary.get("warnings", []):
    note(f"**Warning:** {html.escape(w)}")

# %% [markdown]
# ## Records to OneIDs, by source
# How many records each source brought, how many people they belong to, and how they were linked:
# by a strong identifier, attached through a weak one, or left alone for lack of any usable id
# (anonymous walk-ins, unknown devices).

# %%
by_src = ro.assign(how=ro["how"].astype(str)).pivot_table(index="source", columns="how", values="record_key",
                                                          aggfunc="count", fill_value=0, observed=True)
by_src.insert(0, "records", by_src.sum(axis=1))
by_src.insert(1, "oneids", ro.groupby("source", observed=True)["oneid"].nunique())
table(by_src.reset_index(), caption="Records by source and how they were linked (account: linked only by a platform account not bound to a person)")

# %% [markdown]
# ## Merge rates between sources
# Share of a source's records (row) whose OneID also holds a record from another source (column):
# how far each channel is joined to the others.

# %%
mr = health.merge_rates(ro["oneid"], ro["source"].astype(str))
fig, ax = plt.subplots(figsize=(7, 6))
im = ax.imshow(mr.to_numpy() * 100, cmap="Blues", vmin=0, vmax=100)
ax.set_xticks(range(len(mr.columns)), mr.columns, rotation=45, ha="right")
ax.set_yticks(range(len(mr.index)), mr.index)
for i in range(len(mr)):
    for j in range(len(mr)):
        ax.text(j, i, f"{mr.iat[i, j] * 100:.0f}", ha="center", va="center", fontsize=7,
                color="white" if mr.iat[i, j] > 0.6 else "black")
ax.set_title("Cross-source merge rate (%)")
fig.colorbar(im, ax=ax, label="% of records")
plt.show()

# %% [markdown]
# ## Profile sizes and identifiers per profile
# Most people leave a handful of records; very large profiles deserve a look (next section).

# %%
dist = health.cluster_size_distribution(ro["oneid"])
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.bar(dist["size"].astype(str), dist["profiles"], color="#4c72b0")
ax.set_yscale("log")
ax.set_xlabel("records per OneID")
ax.set_ylabel("OneIDs (log scale)")
ax.set_title("Profile size distribution")
plt.show()
table(dist, formats={"share_profiles": "{:.2%}", "share_records": "{:.2%}"})
table(health.identifiers_per_profile(res), formats={"mean": "{:.2f}", "p50": "{:.0f}", "p99": "{:.0f}",
                                                   "share_more_than_one": "{:.2%}"},
      caption="Distinct linking identifiers per OneID, by type")

# %% [markdown]
# ## The largest profiles and what holds them together
# A bridging identifier is one whose removal would split the profile: where an over-merge would come
# from. The drawing shows the largest profile's records (dots, by source) and identifiers (squares,
# masked).

# %%
big = health.largest_clusters(res, k=8)
show = big.drop(columns=["bridges"]).copy()
show["cluster"] = [ro["oneid"].iloc[int(np.flatnonzero(res.records["cluster"].to_numpy() == c)[0])][:4] + "…" for c in big["cluster"]]
table(show.rename(columns={"cluster": "oneid"}), caption="Largest OneIDs")

c0 = int(big["cluster"].iloc[0])
recs = np.flatnonzero(res.records["cluster"].to_numpy() == c0)
e = res.edges[res.edges["rec"].isin(recs)]
status = res.values["status"].astype(str).to_numpy()
e = e[np.isin(status[e["val"].to_numpy()], ["strong", "weak"])]
g = nx.Graph()
src = res.records["source"].astype(str).to_numpy()
for rr, vv in zip(e["rec"], e["val"], strict=True):
    t = str(res.values.at[vv, "id_type"])
    g.add_node(f"r{rr}", kind="record", source=src[rr])
    g.add_node(f"v{vv}", kind="id", label=f"{t}\n{mask_value(t, res.values.at[vv, 'value'])}")
    g.add_edge(f"r{rr}", f"v{vv}")
if g.number_of_nodes() <= 400:
    pos = nx.spring_layout(g, seed=seed)
    fig, ax = plt.subplots(figsize=(9, 6))
    sources = sorted({d["source"] for _, d in g.nodes(data=True) if d["kind"] == "record"})
    cmap = plt.get_cmap("tab10")
    for k, s in enumerate(sources):
        nodes = [n for n, d in g.nodes(data=True) if d.get("source") == s]
        nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_size=30, node_color=[cmap(k)], label=s, ax=ax)
    idn = [n for n, d in g.nodes(data=True) if d["kind"] == "id"]
    nx.draw_networkx_nodes(g, pos, nodelist=idn, node_size=60, node_shape="s", node_color="#444", ax=ax)
    nx.draw_networkx_edges(g, pos, alpha=0.3, ax=ax)
    if len(idn) <= 25:
        nx.draw_networkx_labels(g, pos, labels={n: g.nodes[n]["label"] for n in idn}, font_size=6, ax=ax)
    ax.set_title(f"Largest OneID: {len(recs)} records, {len(idn)} identifiers")
    ax.legend(fontsize=7, loc="upper left")
    ax.axis("off")
    plt.show()

# %% [markdown]
# ## What each rule held back
# Identifier values kept from linking and the records they appear on: invalid or blocked values,
# shared values (seen with too many people), ambiguous weak ids (a family tablet), and values removed
# to keep a profile within its per-type limits. Without these rules a naive graph that connects every
# shared value glues different people together.

# %%
impact = health.rule_impact(res)
table(impact, formats={"values": "{:,.0f}", "records": "{:,.0f}"}, caption="Values held back, by rule")
naive = health.naive_clusters(ws.ids[ws.ids["record_key"].isin(ro["record_key"])], ro[["record_key"]])
naive_sizes = pd.Series(naive).value_counts()
cmp = pd.DataFrame({
    "graph": ["omni rules", "naive: connect every shared value"],
    "profiles": [n_prof, len(naive_sizes)],
    "largest profile (records)": [int(sizes.max()), int(naive_sizes.max())],
})
if ws.has_truth():
    nv = evaluate_against_truth(ro.assign(oneid=naive), truth, strong_only=True)
    cmp["pairwise precision"] = [truth_scores["precision"], nv["precision"]]
    cmp["pairwise recall"] = [truth_scores["recall"], nv["recall"]]
table(cmp, formats={"pairwise precision": "{:.4f}", "pairwise recall": "{:.4f}"})
if len(r.removals):
    table(r.removals.groupby(["rule", "id_type", "limit_type"]).size().rename("values removed").reset_index(),
          caption="Profile-limit splits")

# %% [markdown]
# ## Platform buyers: linked by rule, by probability, or not at all
# Tmall, JD and Douyin orders carry a platform-scoped buyer id, a receiver name, a masked phone
# (138****5678) and an address. Accounts bound to a phone through the shop membership are linked by
# rule; the others go through a Fellegi-Sunter model (Splink on DuckDB, trained without labels by
# EM) against existing profiles, and are linked only above the match threshold and clearly ahead of
# the runner-up.

# %%
from omni.oneid.linkage import linkage_summary

ls = linkage_summary(ro)
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.barh(ls["linked"][::-1], ls["share"][::-1] * 100, color=["#999", "#cf222e", "#2da44e", "#4c72b0"])
ax.set_xlabel("share of platform order records (%)")
ax.set_title("How platform orders reach a person")
plt.show()
table(ls, formats={"share": "{:.1%}"})
stage = r.summary.get("probabilistic") or {}
if stage.get("status") == "failed":
    note("**The probabilistic stage did not run to the end**, so this resolution uses the deterministic "
         "rules only: no platform account is linked by probability this month. "
         f"{html.escape(stage.get('error', ''))}")
elif stage:
    dec = stage.get("decisions", {})
    note(f"{stage.get('accounts', 0):,} unbound accounts were scored against {stage.get('profiles', 0):,} profiles "
         f"over {stage.get('candidate_pairs', 0):,} candidate pairs (blocked on masked phone and address; "
         f"never on name alone). Linked: {dec.get('linked', 0):,}; below the threshold "
         f"{stage.get('threshold', float('nan')):.2f}: {dec.get('below_threshold', 0):,}; no candidate: "
         f"{dec.get('no_candidate', 0):,}; too close to a runner-up: {dec.get('ambiguous', 0):,}.")
    mu = pd.DataFrame(stage.get("model_parameters", []))
    if len(mu):
        table(mu.dropna(subset=["m_probability"])[["comparison", "label", "m_probability", "u_probability", "match_weight"]],
              formats={"m_probability": "{:.4f}", "u_probability": "{:.2e}", "match_weight": "{:+.2f}"},
              caption="Model parameters: m and u per comparison level (EM, no labels)", max_rows=30)
if ws.has_truth() and len(r.links):
    person = truth.set_index("record_key")["person_id"]
    ok = (person.reindex(r.links["account_record"]).to_numpy() == person.reindex(r.links["target_record"]).to_numpy())
    note(f"Against the synthetic truth, {ok.mean():.2%} of the {len(r.links):,} probabilistic links join the right person.")

# %% [markdown]
# ## OneIDs since last month
# Last month's ids are kept for the same people; when two profiles merge the older id survives, and a
# split keeps the id on the larger part.

# %%
ch = r.changes["change"].value_counts().reindex(["kept", "new", "merged_into", "split_from", "retired"], fill_value=0)
table(ch.rename("OneIDs").rename_axis("change").reset_index())
note(f"{ch['kept']:,} OneIDs carried over from last month, {ch['new']:,} new people, "
     f"{ch['merged_into']:,} ids merged into an older one, {ch['split_from']:,} split off.")

# %% [markdown]
# ## Accuracy against the synthetic truth
# Only on synthetic data, whose generator knows who is who. Pairwise precision: of the record pairs
# put in one OneID, the share that are truly one person; recall: of the true pairs, the share found.
# Stated for records carrying a strong identifier (the population OneID rules can link) and for all.

# %%
if ws.has_truth():
    acc = pd.DataFrame([{"records": "with a strong identifier", **truth_scores}, {"records": "all", **truth_all}])
    note(f"Recall on strong-id records is {truth_scores['recall']:.4f} against the full truth and "
         f"{truth_linkable['recall']:.4f} against the *linkable* truth (true pairs joined by some chain of "
         "valid identifiers). The gap is data, not rules: e.g. WeChat followers whose unionid the CRM "
         "never recorded and who gave no phone cannot be linked by any deterministic method.")
    table(acc[["records", "n_records", "precision", "recall", "f1", "bcubed_precision", "bcubed_recall", "bcubed_f1"]],
          formats={c: "{:.4f}" for c in ["precision", "recall", "f1", "bcubed_precision", "bcubed_recall", "bcubed_f1"]})
    m = ro.merge(truth, on="record_key")
    sp = scores_by_source_pair(m["oneid"].to_numpy(), m["person_id"].to_numpy(), m["source"].astype(str).to_numpy())
    table(sp.sort_values("true_pairs", ascending=False), formats={"precision": "{:.4f}", "recall": "{:.4f}", "f1": "{:.4f}",
          "pred_pairs": "{:,.0f}", "true_pairs": "{:,.0f}", "tp": "{:,.0f}"}, caption="By source pair (all records)", max_rows=30)
else:
    note("This dataset has no ground truth; accuracy is not measured.")

# %% [markdown]
# ## Explaining a link
# `omni.oneid.explain(res, a, b)` says why two records share a OneID (the chain of identifiers) or
# which rule kept them apart. Two examples from this month's data:

# %%
rk = res.records["record_key"].to_numpy()
pair_same = rk[recs[:2]] if len(recs) >= 2 else None
if pair_same is not None:
    print(explain(res, pair_same[0], pair_same[1]))
shared = res.values[res.values["status"].astype(str) == "shared"]
if len(shared):
    v = int(shared["n_records"].idxmax())
    on = res.edges.loc[res.edges["val"] == v, "rec"].to_numpy()
    cl = res.records["cluster"].to_numpy()
    other = on[cl[on] != cl[on[0]]]
    if len(other):
        print()
        print(explain(res, rk[on[0]], rk[other[0]]))
