"""Evaluate audience definitions into sets of OneIDs, their sizes and overlaps.

:func:`build_audiences` turns validated :class:`~omni.audience.definitions.Definitions` into an
:class:`AudienceSet`: one boolean mask per audience over the people of an
:class:`~omni.audience.features.AudienceFeatures`, evaluated vectorized (a leaf rule is a comparison
over per-person arrays, ``all``/``any``/``not`` are ``&``/``|``/``~``, a reference reuses the other
audience's mask). Consent is kept apart: an audience holds everyone its rule selects, and
``opted_out`` says who may not be contacted; exports remove them and count them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omni.audience.definitions import Definitions, _references, rule_text
from omni.audience.features import _NAT, AudienceFeatures

__all__ = ["AudienceSet", "build_audiences", "evaluate_rule", "overlap_matrix"]


def _rfm_labels() -> tuple[list[str], list[str]]:
    # lazy: the omni.value package pulls scipy.optimize/scipy.special (CLV models); at the top it
    # would add about 0.45 s to `import omni.audience` and so to `omni audience list`
    from omni.value.rfm import SEGMENT_ORDER_EN, SEGMENT_ORDER_ZH

    return list(SEGMENT_ORDER_ZH), list(SEGMENT_ORDER_EN)


def _leaf(rule: dict, f: AudienceFeatures, where: str) -> np.ndarray:
    t = rule["type"]
    if t == "browse_abandon":
        viewed = f.last_event_time(rule["days"], rule["event_types"], rule["category"])
        ordered = f.last_order_time(rule["category"], rule["order_status"])
        return (viewed != _NAT) & ~(ordered >= viewed)
    if t == "bought":
        n = f.order_count(rule["channel"], rule["category"], rule["days"], rule["order_status"])
        return n >= rule["min_orders"]
    if t == "rfm_class":
        zh_known, en_known = _rfm_labels()
        bad = [c for c in rule["classes"] if c not in zh_known and c not in en_known]
        if bad:
            raise ValueError(f"{where}.classes: unknown RFM class(es) {bad}; known: {zh_known} or {en_known}")
        zh, en = f.rfm_class()
        wanted = set(rule["classes"])
        return pd.Series(zh).isin(wanted).to_numpy() | pd.Series(en).isin(wanted).to_numpy()
    if t == "clv_tier":
        labels = f.settings.tier_labels
        bad = [x for x in rule["tiers"] if x not in labels]
        if bad:
            raise ValueError(f"{where}.tiers: unknown tier(s) {bad}; with tier_shares "
                             f"{list(f.settings.tier_shares)} the tiers are {list(labels)}")
        return f.clv()["value_tier"].isin(rule["tiers"]).to_numpy()
    if t == "churn_risk":
        risk = f.clv()["churn_risk"].to_numpy()
        with np.errstate(invalid="ignore"):
            return (risk >= rule["min"]) & (risk <= rule["max"])
    if t == "campaign_responder":
        out = f.campaign_outcomes(rule["campaign"])
        sel = out["treated"].to_numpy() & out["converted"].to_numpy()
        if rule["arms"] is not None:
            arms = set(out["arm"].astype(str))
            bad = [a for a in rule["arms"] if a not in arms]
            if bad:
                raise ValueError(f"{where}.arms: arm(s) {bad} not in campaign {out['campaign_id'].iloc[0]!r} "
                                 f"(its arms: {sorted(arms)})")
            sel &= out["arm"].astype(str).isin(rule["arms"]).to_numpy()
        if rule["contacted"]:
            sel &= out["contacted"].to_numpy(dtype=bool)
        return f.mask_of(out.loc[sel, "oneid"].to_numpy())
    if t == "profile":
        col = rule["column"]
        if col not in f.profiles.columns:
            raise ValueError(f"{where}.column: profiles have no column {col!r}; they have {list(f.profiles.columns)}")
        vals = f.profiles[col].astype("string").str.strip()
        return vals.isin(rule["values"]).to_numpy(dtype=bool, na_value=False)
    if t == "top_category":
        return f.top_category(rule["category"], rule["k"])
    raise ValueError(f"{where}.type: unknown rule type {t!r}")  # parse_definitions prevents this


def evaluate_rule(rule: dict, features: AudienceFeatures, masks: Mapping[str, np.ndarray] | None = None,
                  where: str = "rule") -> np.ndarray:
    """Boolean mask over ``features.people`` of a validated rule.

    ``masks`` holds already evaluated audiences for ``{audience: name}`` references.
    """
    if "all" in rule or "any" in rule:
        k = "all" if "all" in rule else "any"
        parts = [evaluate_rule(r, features, masks, f"{where}.{k}[{i}]") for i, r in enumerate(rule[k])]
        return np.logical_and.reduce(parts) if k == "all" else np.logical_or.reduce(parts)
    if "not" in rule:
        return ~evaluate_rule(rule["not"], features, masks, f"{where}.not")
    if "audience" in rule:
        if masks is None or rule["audience"] not in masks:
            raise ValueError(f"{where}.audience: {rule['audience']!r} is not evaluated yet")
        return masks[rule["audience"]]
    try:
        return np.asarray(_leaf(rule, features, where), dtype=bool)
    except ValueError as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith(where) else f"{where} ({rule['type']}): {msg}") from None


@dataclass
class AudienceSet:
    """Evaluated audiences over one set of people.

    Attributes
    ----------
    people : Index
        OneIDs; masks are aligned with it.
    masks : dict
        Audience name -> boolean array: everyone the rule selects (opted-out people included).
    opted_out : ndarray of bool
        People who opted out of marketing (never exported).
    definitions : Definitions
    as_of : Timestamp
    hashes : dict
        Audience name -> :func:`~omni.audience.definitions.definition_hash`.
    """

    people: pd.Index
    masks: dict[str, np.ndarray]
    opted_out: np.ndarray
    definitions: Definitions
    as_of: pd.Timestamp
    hashes: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.masks)

    def mask(self, name: str, eligible: bool = False) -> np.ndarray:
        """Mask of an audience; with ``eligible`` only the people who did not opt out."""
        if name not in self.masks:
            raise ValueError(f"unknown audience {name!r}; built: {self.names}")
        m = self.masks[name]
        return m & ~self.opted_out if eligible else m

    def members(self, name: str, eligible: bool = False) -> pd.Index:
        """OneIDs of an audience (sorted)."""
        return self.people[self.mask(name, eligible)].sort_values()

    def sizes(self) -> pd.DataFrame:
        """One row per audience: ``audience``, ``description``, ``size`` (everyone the rule
        selects), ``opted_out`` (of them), ``eligible`` (size - opted_out), ``rule`` and
        ``definition_hash`` (first 12 hex)."""
        rows = []
        for n, m in self.masks.items():
            size = int(m.sum())
            out = int((m & self.opted_out).sum())
            d = self.definitions[n]
            rows.append({"audience": n, "description": d.described(), "size": size, "opted_out": out,
                         "eligible": size - out, "rule": rule_text(d.rule),
                         "definition_hash": self.hashes.get(n, "")[:12]})
        return pd.DataFrame(rows, columns=["audience", "description", "size", "opted_out", "eligible",
                                           "rule", "definition_hash"])

    def overlap(self, measure: str = "count", eligible: bool = False) -> pd.DataFrame:
        """:func:`overlap_matrix` of these audiences (optionally of their eligible members)."""
        return overlap_matrix({n: self.mask(n, eligible) for n in self.masks}, measure=measure)

    def union(self, eligible: bool = False) -> np.ndarray:
        """Mask of the people in at least one audience."""
        if not self.masks:
            return np.zeros(len(self.people), dtype=bool)
        return np.logical_or.reduce([self.mask(n, eligible) for n in self.masks])


def overlap_matrix(audiences: AudienceSet | Mapping[str, Collection | np.ndarray],
                   measure: str = "count") -> pd.DataFrame:
    """Pairwise overlap of audiences.

    Parameters
    ----------
    audiences : AudienceSet or mapping
        An :class:`AudienceSet`, or name -> boolean mask (all of one length) or name -> collection
        of OneIDs.
    measure : {"count", "jaccard"}
        ``count``: people in both (the diagonal is each audience's size); ``jaccard``:
        ``|A ∩ B| / |A ∪ B|`` (1 on the diagonal, NaN for two empty audiences).

    Returns
    -------
    DataFrame
        Square, audiences as index and columns, in the given order.
    """
    if measure not in ("count", "jaccard"):
        raise ValueError(f"measure must be 'count' or 'jaccard', got {measure!r}")
    if isinstance(audiences, AudienceSet):
        return audiences.overlap(measure)
    names = list(audiences)
    if not names:
        return pd.DataFrame()
    vals = list(audiences.values())
    is_mask = all(isinstance(v, np.ndarray) and v.dtype == bool for v in vals)
    if is_mask:
        lengths = {len(v) for v in vals}
        if len(lengths) != 1:
            raise ValueError(f"masks must have one length, got {sorted(lengths)}")
        m = np.vstack(vals)
    else:
        ids = [pd.Index(list(v)).astype(str).unique() for v in vals]
        universe = ids[0].append(ids[1:]).unique() if len(ids) > 1 else ids[0]
        m = np.zeros((len(names), len(universe)), dtype=bool)
        for i, v in enumerate(ids):
            m[i, universe.get_indexer(v)] = True
    x = m.astype(np.float64)  # BLAS product: exact for counts below 2**53
    both = np.rint(x @ x.T).astype(np.int64)
    if measure == "count":
        return pd.DataFrame(both, index=names, columns=names)
    size = np.diag(both)
    union = size[:, None] + size[None, :] - both
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, both / np.maximum(union, 1), np.nan)
    return pd.DataFrame(jac, index=names, columns=names)


def build_audiences(definitions: Definitions, features: AudienceFeatures,
                    opted_out: np.ndarray | pd.Series | None = None,
                    names: list[str] | None = None) -> AudienceSet:
    """Evaluate audiences.

    Parameters
    ----------
    definitions : Definitions
        From :func:`~omni.audience.definitions.load_definitions` or ``parse_definitions``.
    features : AudienceFeatures
    opted_out : bool array aligned with ``features.people``, or bool Series indexed by oneid, optional
        Who opted out of marketing (see :func:`omni.consent.opted_out`); default nobody.
    names : list of str, optional
        Only these audiences (and those they refer to).

    Raises
    ------
    ValueError
        Naming the audience and rule path, when the data cannot answer a rule (unknown RFM class,
        tier, campaign, arm or profile column; a missing table).
    """
    defs = definitions.select(names)
    n = features.n
    if opted_out is None:
        oo = np.zeros(n, dtype=bool)
    elif isinstance(opted_out, pd.Series):
        oo = np.zeros(n, dtype=bool)
        flagged = opted_out.index[opted_out.fillna(False).astype(bool).to_numpy()]
        oo |= features.mask_of(flagged.to_numpy())
    else:
        oo = np.asarray(opted_out, dtype=bool)
        if oo.shape != (n,):
            raise ValueError(f"opted_out must have one value per person ({n}), got shape {oo.shape}")
    masks: dict[str, np.ndarray] = {}

    def visit(name: str) -> None:  # referenced audiences first (definitions are acyclic)
        if name in masks:
            return
        d = defs[name]
        for ref in _references(d.rule):
            visit(ref)
        try:
            masks[name] = evaluate_rule(d.rule, features, masks)
        except ValueError as exc:
            raise ValueError(f"audience {name!r}: {exc}") from None

    for d in defs:
        visit(d.name)
    masks = {d.name: masks[d.name] for d in defs}
    return AudienceSet(people=features.people, masks=masks, opted_out=oo, definitions=defs,
                       as_of=features.as_of, hashes={d.name: defs.hash(d.name) for d in defs})
