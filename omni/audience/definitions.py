"""Audience definitions: rule trees in YAML (or plain dicts), validated before anything runs.

A definitions file has optional ``settings`` (how the value features are computed) and a mapping of
``audiences``, each with a ``description`` and a ``rule``. A rule is one of

* a leaf ``{type: <rule type>, <parameter>: <value>, ...}`` (types in :data:`RULE_TYPES`);
* a combination ``{all: [rule, ...]}`` (and), ``{any: [rule, ...]}`` (or), ``{not: rule}``;
* a reference to another audience of the same file ``{audience: <name>}``.

Validation fills in defaults, so the stored rule is the effective one and its hash
(:func:`definition_hash`) changes whenever what the audience selects could change. Every error is a
``ValueError`` naming the audience and the key (``audience 'vip': rule.all[1].min: ...``).

See ``docs/audiences.md`` for the syntax with examples.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from omni.core.i18n import tr

__all__ = [
    "COMBINATORS",
    "DEFAULT_DEFINITIONS",
    "RULE_TYPES",
    "AudienceDefinition",
    "AudienceSettings",
    "Definitions",
    "definition_hash",
    "load_definitions",
    "parse_definitions",
]

DEFAULT_DEFINITIONS = "default_audiences.yaml"
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,63}")
COMBINATORS = ("all", "any", "not", "audience")

_REQUIRED = object()


def _check_int(v: Any, where: str, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ValueError(f"{where}: must be an integer >= {minimum}, got {v!r}")
    return int(v)


def _check_prob(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= float(v) <= 1.0:
        raise ValueError(f"{where}: must be a number between 0 and 1, got {v!r}")
    return float(v)


def _check_bool(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"{where}: must be true or false, got {v!r}")
    return v


def _check_str(v: Any, where: str) -> str:
    if isinstance(v, bool) or not isinstance(v, str | int) or not str(v).strip():
        raise ValueError(f"{where}: must be a non-empty text, got {v!r}")
    return str(v).strip()


def _check_str_list(v: Any, where: str) -> list[str]:
    """A text or a non-empty list of texts -> sorted distinct list (order does not matter)."""
    items = v if isinstance(v, list | tuple) else [v]
    if not items:
        raise ValueError(f"{where}: must not be empty")
    return sorted({_check_str(x, f"{where}[{i}]") for i, x in enumerate(items)})


def _opt(check):
    def f(v: Any, where: str):
        return None if v is None else check(v, where)

    return f


# rule type -> parameter -> (checker, default or _REQUIRED), and a one-line description
RULE_TYPES: dict[str, dict[str, tuple[Any, Any]]] = {
    "browse_abandon": {
        "days": (_check_int, _REQUIRED),
        "category": (_opt(_check_str_list), None),
        "event_types": (_check_str_list, ["add_to_cart", "product_view"]),
        "order_status": (_check_str_list, ["paid"]),
    },
    "rfm_class": {"classes": (_check_str_list, _REQUIRED)},
    "clv_tier": {"tiers": (_check_str_list, _REQUIRED)},
    "churn_risk": {"min": (_check_prob, _REQUIRED), "max": (_check_prob, 1.0)},
    "bought": {
        "channel": (_opt(_check_str_list), None),
        "category": (_opt(_check_str_list), None),
        "days": (_opt(_check_int), None),
        "min_orders": (_check_int, 1),
        "order_status": (_check_str_list, ["paid"]),
    },
    "campaign_responder": {
        "campaign": (_check_str, _REQUIRED),
        "arms": (_opt(_check_str_list), None),
        "contacted": (_check_bool, False),
    },
    "profile": {"column": (_check_str, _REQUIRED), "values": (_check_str_list, _REQUIRED)},
    "top_category": {"category": (_check_str_list, _REQUIRED), "k": (_check_int, 3)},
}

RULE_HELP: dict[str, str] = {
    "browse_abandon": "viewed (or carted) a product in the last `days` days and placed no order since",
    "rfm_class": "in one of the RFM 8 classes (Chinese or English labels)",
    "clv_tier": "in one of the CLV value tiers (A = top)",
    "churn_risk": "churn risk 1 - P(alive) between `min` and `max` (customers only)",
    "bought": "placed `min_orders`+ orders in the channel(s) / category(ies), in the last `days` days",
    "campaign_responder": "assigned to a treatment arm of the campaign and bought within its window",
    "profile": "a profile column (city_tier, gender, channel_mix, ...) has one of `values`",
    "top_category": "the top `k` recommendations for next month (omni.recommend) include a SKU of `category`",
}


@dataclass(frozen=True)
class AudienceSettings:
    """How value features are computed (shared by every audience of a file).

    Attributes
    ----------
    rfm_threshold : {"mean", "median"}
        Threshold statistic of the RFM 8-class scheme.
    clv_model : {"auto", "bgnbd", "paretonbd"}
        Purchase model of the CLV tiers and churn risk.
    holdout_weeks : int
        Length of the holdout used to pick the model with ``clv_model="auto"`` (0: pick by
        log-likelihood, no holdout check).
    clv_months : int
        CLV horizon of the value tiers.
    discount_rate_annual : float
        Annual discount rate of the CLV.
    tier_shares : tuple of float
        Customer shares of tiers A, B, C, ... by CLV rank (the last tier takes the rest).
    include_anonymous : bool
        Count orders without any usable identifier (a OneID of their own) as customers.

    The defaults are those of the value report (notebook 03), so tier A here is tier A there.
    """

    rfm_threshold: str = "mean"
    clv_model: str = "auto"
    holdout_weeks: int = 26
    clv_months: int = 12
    discount_rate_annual: float = 0.10
    tier_shares: tuple[float, ...] = (0.10, 0.20, 0.30)
    include_anonymous: bool = False

    @property
    def tier_labels(self) -> tuple[str, ...]:
        return tuple(chr(ord("A") + i) for i in range(len(self.tier_shares) + 1))

    def as_dict(self) -> dict[str, Any]:
        return {
            "rfm_threshold": self.rfm_threshold,
            "clv_model": self.clv_model,
            "holdout_weeks": self.holdout_weeks,
            "clv_months": self.clv_months,
            "discount_rate_annual": self.discount_rate_annual,
            "tier_shares": list(self.tier_shares),
            "include_anonymous": self.include_anonymous,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> AudienceSettings:
        """Settings from a mapping; unknown keys and bad values raise ValueError naming the key."""
        d = dict(d or {})
        known = set(cls().as_dict())
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"settings: unknown key(s) {unknown}; known: {sorted(known)}")
        s = cls()
        out: dict[str, Any] = {}
        if "rfm_threshold" in d:
            if d["rfm_threshold"] not in ("mean", "median"):
                raise ValueError(f"settings.rfm_threshold: must be 'mean' or 'median', got {d['rfm_threshold']!r}")
            out["rfm_threshold"] = d["rfm_threshold"]
        if "clv_model" in d:
            if d["clv_model"] not in ("auto", "bgnbd", "paretonbd"):
                raise ValueError(
                    f"settings.clv_model: must be 'auto', 'bgnbd' or 'paretonbd', got {d['clv_model']!r}"
                )
            out["clv_model"] = d["clv_model"]
        if "holdout_weeks" in d:
            out["holdout_weeks"] = _check_int(d["holdout_weeks"], "settings.holdout_weeks", minimum=0)
        if "clv_months" in d:
            out["clv_months"] = _check_int(d["clv_months"], "settings.clv_months")
        if "discount_rate_annual" in d:
            v = d["discount_rate_annual"]
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < 1:
                raise ValueError(f"settings.discount_rate_annual: must be in [0, 1), got {v!r}")
            out["discount_rate_annual"] = float(v)
        if "tier_shares" in d:
            v = d["tier_shares"]
            ok = isinstance(v, list | tuple) and len(v) >= 1 and all(
                isinstance(x, int | float) and not isinstance(x, bool) and x > 0 for x in v
            )
            if not ok or sum(v) >= 1:
                raise ValueError(
                    f"settings.tier_shares: must be a list of positive shares summing to less than 1, got {v!r}"
                )
            out["tier_shares"] = tuple(float(x) for x in v)
        if "include_anonymous" in d:
            out["include_anonymous"] = _check_bool(d["include_anonymous"], "settings.include_anonymous")
        return AudienceSettings(**{**s.as_dict(), "tier_shares": s.tier_shares, **out})


@dataclass(frozen=True)
class AudienceDefinition:
    """One validated audience.

    Attributes
    ----------
    name : str
        Letters, digits, ``_`` and ``-`` (it becomes part of export file names).
    rule : dict
        The validated rule tree with defaults filled in.
    description : str
    description_zh : str
        The description in Chinese reports (``description_zh:`` in the YAML; optional).
    """

    name: str
    rule: dict
    description: str = ""
    description_zh: str = ""

    def described(self) -> str:
        """The description in the report's language (the English one where no Chinese is given)."""
        return tr(self.description, self.description_zh or self.description)


@dataclass
class Definitions:
    """A validated set of audiences and their settings.

    Attributes
    ----------
    audiences : dict
        Name -> :class:`AudienceDefinition`, in file order.
    settings : AudienceSettings
    source : str
        Where the definitions came from (file path or ``"<dict>"``).
    """

    audiences: dict[str, AudienceDefinition]
    settings: AudienceSettings = field(default_factory=AudienceSettings)
    source: str = "<dict>"

    def __iter__(self):
        return iter(self.audiences.values())

    def __len__(self) -> int:
        return len(self.audiences)

    def __getitem__(self, name: str) -> AudienceDefinition:
        try:
            return self.audiences[name]
        except KeyError:
            raise ValueError(f"unknown audience {name!r}; defined: {list(self.audiences)}") from None

    @property
    def names(self) -> list[str]:
        return list(self.audiences)

    def select(self, names: list[str] | None) -> Definitions:
        """The named audiences (and the audiences they refer to), or all of them for None."""
        if not names:
            return self
        keep: dict[str, None] = {}

        def visit(n: str) -> None:
            if n in keep:
                return
            for ref in _references(self[n].rule):
                visit(ref)
            keep[n] = None

        for n in names:
            visit(n)
        order = [n for n in self.audiences if n in keep]
        return Definitions({n: self.audiences[n] for n in order}, self.settings, self.source)

    def expanded(self, name: str) -> dict:
        """The rule of ``name`` with every ``{audience: ...}`` reference replaced by its rule."""

        def expand(rule: dict) -> dict:
            if "audience" in rule:
                return expand(self[rule["audience"]].rule)
            if "all" in rule or "any" in rule:
                k = "all" if "all" in rule else "any"
                return {k: [expand(r) for r in rule[k]]}
            if "not" in rule:
                return {"not": expand(rule["not"])}
            return dict(rule)

        return expand(self[name].rule)

    def hash(self, name: str) -> str:
        """:func:`definition_hash` of one audience."""
        return definition_hash(self, name)

    def describe(self) -> list[dict[str, str]]:
        """Name, description and a one-line rule text per audience (for listings)."""
        return [{"audience": d.name, "description": d.description, "rule": rule_text(d.rule),
                 "definition_hash": self.hash(d.name)[:12]} for d in self]


def _references(rule: dict) -> list[str]:
    if "audience" in rule:
        return [rule["audience"]]
    if "all" in rule or "any" in rule:
        return [r for sub in rule.get("all", rule.get("any", [])) for r in _references(sub)]
    if "not" in rule:
        return _references(rule["not"])
    return []


def _rule_types(rule: dict) -> set[str]:
    if "all" in rule or "any" in rule:
        return set().union(*(_rule_types(r) for r in rule.get("all", rule.get("any", []))))
    if "not" in rule:
        return _rule_types(rule["not"])
    return {rule["type"]} if "type" in rule else set()


def rule_text(rule: dict) -> str:
    """A compact one-line rendering of a rule (for listings and logs)."""
    if "audience" in rule:
        return f"@{rule['audience']}"
    if "all" in rule:
        return "(" + " AND ".join(rule_text(r) for r in rule["all"]) + ")"
    if "any" in rule:
        return "(" + " OR ".join(rule_text(r) for r in rule["any"]) + ")"
    if "not" in rule:
        return "NOT " + rule_text(rule["not"])
    params = ", ".join(f"{k}={v}" for k, v in rule.items() if k != "type" and v is not None)
    return f"{rule['type']}({params})"


def _validate_rule(rule: Any, where: str, names: set[str]) -> dict:
    if not isinstance(rule, Mapping):
        raise ValueError(f"{where}: a rule must be a mapping such as {{type: browse_abandon, days: 7}}, got {rule!r}")
    keys = set(rule)
    combo = keys & {"all", "any", "not", "audience"}
    if combo:
        if len(keys) != 1:
            raise ValueError(f"{where}: a combination must have exactly one key ({'/'.join(COMBINATORS)}), got {sorted(keys)}")
        k = next(iter(keys))
        v = rule[k]
        if k in ("all", "any"):
            if not isinstance(v, list) or not v:
                raise ValueError(f"{where}.{k}: must be a non-empty list of rules")
            return {k: [_validate_rule(r, f"{where}.{k}[{i}]", names) for i, r in enumerate(v)]}
        if k == "not":
            return {"not": _validate_rule(v, f"{where}.not", names)}
        ref = _check_str(v, f"{where}.audience")
        if ref not in names:
            raise ValueError(f"{where}.audience: unknown audience {ref!r}; defined: {sorted(names)}")
        return {"audience": ref}
    if "type" not in rule:
        raise ValueError(
            f"{where}: missing 'type' (one of {sorted(RULE_TYPES)}) or a combination key ({', '.join(COMBINATORS)})"
        )
    rtype = rule["type"]
    if rtype not in RULE_TYPES:
        raise ValueError(f"{where}.type: unknown rule type {rtype!r}; known: {sorted(RULE_TYPES)}")
    spec = RULE_TYPES[rtype]
    unknown = sorted(set(rule) - set(spec) - {"type"})
    if unknown:
        raise ValueError(f"{where}: unknown parameter(s) {unknown} for rule type {rtype!r}; known: {sorted(spec)}")
    out: dict[str, Any] = {"type": rtype}
    for p, (check, default) in spec.items():
        if p in rule:
            out[p] = check(rule[p], f"{where}.{p}")
        elif default is _REQUIRED:
            raise ValueError(f"{where}.{p}: required for rule type {rtype!r}")
        else:
            out[p] = default
    if rtype == "churn_risk" and out["min"] > out["max"]:
        raise ValueError(f"{where}: min ({out['min']}) is above max ({out['max']})")
    return out


def _check_cycles(rules: dict[str, dict]) -> None:
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            cycle = " -> ".join(path[path.index(n):] + [n])
            raise ValueError(f"audience {n!r}: circular reference {cycle}")
        state[n] = 1
        for ref in _references(rules[n]):
            visit(ref, path + [n])
        state[n] = 2

    for n in rules:
        visit(n, [])


def parse_definitions(data: Mapping[str, Any], source: str = "<dict>") -> Definitions:
    """Validate a definitions mapping (the parsed YAML).

    Parameters
    ----------
    data : mapping
        ``{"settings": {...}, "audiences": {name: {"description": ..., "rule": {...}}}}``;
        ``version`` (1) is optional.
    source : str
        Shown in error messages.

    Returns
    -------
    Definitions

    Raises
    ------
    ValueError
        Naming the audience and the key: unknown rule type, parameter or setting, a missing or bad
        parameter, an unknown or circular audience reference, a bad name.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: audience definitions must be a mapping with an 'audiences' key")
    unknown = sorted(set(data) - {"version", "settings", "audiences"})
    if unknown:
        raise ValueError(f"{source}: unknown top-level key(s) {unknown}; expected version, settings, audiences")
    if data.get("version", 1) != 1:
        raise ValueError(f"{source}: version must be 1, got {data.get('version')!r}")
    try:
        settings = AudienceSettings.from_dict(data.get("settings"))
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    auds = data.get("audiences")
    if not isinstance(auds, Mapping) or not auds:
        raise ValueError(f"{source}: 'audiences' must be a non-empty mapping of name -> definition")
    names = {str(n) for n in auds}
    out: dict[str, AudienceDefinition] = {}
    for name, body in auds.items():
        name = str(name)
        if not NAME_RE.fullmatch(name):
            raise ValueError(
                f"audience {name!r}: names start with a letter and use letters, digits, '_' or '-' "
                "(at most 64 characters): they become export file names"
            )
        if not isinstance(body, Mapping):
            raise ValueError(f"audience {name!r}: must be a mapping with 'rule' (and 'description')")
        extra = sorted(set(body) - {"description", "description_zh", "rule"})
        if extra:
            raise ValueError(f"audience {name!r}: unknown key(s) {extra}; expected description, description_zh, rule")
        if "rule" not in body:
            raise ValueError(f"audience {name!r}: missing 'rule'")
        try:
            rule = _validate_rule(body["rule"], "rule", names)
        except ValueError as exc:
            raise ValueError(f"audience {name!r}: {exc}") from None
        out[name] = AudienceDefinition(name=name, rule=rule, description=str(body.get("description") or ""),
                                       description_zh=str(body.get("description_zh") or ""))
    _check_cycles({n: d.rule for n, d in out.items()})
    return Definitions(out, settings, source)


def load_definitions(path: str | Path | None = None) -> Definitions:
    """Read and validate a YAML definitions file (the packaged defaults when ``path`` is None)."""
    if path is None:
        text = resources.files("omni.audience").joinpath(DEFAULT_DEFINITIONS).read_text(encoding="utf-8")
        source = f"omni/audience/{DEFAULT_DEFINITIONS}"
    else:
        p = Path(path)
        if not p.exists():
            raise ValueError(f"audience definitions file {str(p)!r} does not exist")
        text, source = p.read_text(encoding="utf-8"), str(p)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    return parse_definitions(data, source=source)


_SETTINGS_USED = {
    "rfm_class": ("rfm_threshold", "include_anonymous"),
    "clv_tier": ("clv_model", "holdout_weeks", "clv_months", "discount_rate_annual", "tier_shares",
                 "include_anonymous"),
    "churn_risk": ("clv_model", "holdout_weeks", "include_anonymous"),
}


def definition_hash(defs: Definitions, name: str) -> str:
    """SHA-256 (hex) of an audience's effective definition.

    Covers the rule with references expanded and the settings its rule types depend on, so two
    exports with the same hash selected people by the same logic (on possibly different data: the
    log records the data fingerprint separately). Descriptions do not count.
    """
    rule = defs.expanded(name)
    used = sorted({k for t in _rule_types(rule) for k in _SETTINGS_USED.get(t, ())})
    sd = defs.settings.as_dict()
    payload = {"rule": rule, "settings": {k: sd[k] for k in used}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
