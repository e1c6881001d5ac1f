"""Per-person features the audience rules read, computed once and shared by every definition.

:class:`AudienceFeatures` holds the unified tables cut at ``as_of`` and computes each feature on
first use, caching it under its parameters: the last product view per person, paid orders per
person, the RFM classes, the CLV predictions (value tier, churn risk) and campaign outcomes. Ten
audiences reading "CLV tier" fit the CLV model once; audiences that need no CLV never fit it.

Every feature is an array aligned with :attr:`AudienceFeatures.people` (the OneIDs of the profiles),
so rules are boolean masks and combinations are ``&``, ``|``, ``~``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omni.audience.definitions import AudienceSettings
from omni.value.customer import customer_rfm, customer_value
from omni.workspace import Workspace, month_end

__all__ = ["AudienceFeatures"]

_NAT = np.iinfo(np.int64).min

#: The columns of the unified tables that the rules read (:meth:`AudienceFeatures.from_resolved`
#: reads only these: at 1M persons the keys and source columns it leaves are about 1 GB).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": ("oneid", "order_time", "amount", "status", "channel", "category"),
    "events": ("oneid", "event_time", "event_type", "category"),
    "campaign_assignments": ("campaign_id", "oneid", "arm", "contacted", "assigned_time"),
}


def _require(df: pd.DataFrame | None, cols: Sequence[str], what: str) -> pd.DataFrame:
    if df is None:
        raise ValueError(f"the {what} table is needed by this rule but was not given")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; it has {list(df.columns)}")
    return df


def table_columns(resolved, name: str) -> list[str] | None:
    """The columns of a frame or unified table of a :class:`omni.workspace.Resolved`
    (:meth:`~omni.workspace.Resolved.columns`); None when it has no such table."""
    return resolved.columns(name)


def _read_columns(resolved, name: str) -> pd.DataFrame | None:
    """A unified table with only its :data:`TABLE_COLUMNS` (all of it when one is missing)."""
    have = table_columns(resolved, name)
    if have is None:
        return None
    want = TABLE_COLUMNS[name]
    return resolved.read(name, [c for c in have if c in want] if all(c in have for c in want) else None)


class AudienceFeatures:
    """The unified data seen by audience rules, with lazily computed, cached per-person features.

    Parameters
    ----------
    profiles : DataFrame
        ``Resolved.profiles`` (``oneid``; other columns used by ``profile`` rules).
    as_of : Timestamp
        End of the observation, exclusive: events and orders at or after it are ignored; windows of
        ``days`` days are ``[as_of - days, as_of)``.
    orders, events, campaign_assignments : DataFrame, optional
        The unified tables (only needed by the rules that read them).
    campaigns : DataFrame, optional
        The ``campaigns`` source (campaign_id, start_date, end_date, arms).
    workspace : Workspace, optional
        The dataset the tables come from: the value features (RFM classes, CLV tiers, churn risk)
        are read from its memoized customer value (needed only by the rules that read them).
    month : str, optional
        ``YYYY-MM``: the month whose resolution the tables are (default: the month of the last
        instant before ``as_of``).
    settings : AudienceSettings, optional

    Attributes
    ----------
    people : Index
        OneIDs, one per profile, in profile order; every feature is aligned with it.
    """

    def __init__(
        self,
        profiles: pd.DataFrame,
        as_of: pd.Timestamp | str,
        orders: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        campaign_assignments: pd.DataFrame | None = None,
        campaigns: pd.DataFrame | None = None,
        workspace: Workspace | None = None,
        month: str | None = None,
        settings: AudienceSettings | None = None,
    ) -> None:
        _require(profiles, ["oneid"], "profiles")
        self.profiles = profiles
        self.people = pd.Index(profiles["oneid"].astype(str).to_numpy(), name="oneid")
        if not self.people.is_unique:
            n_dup = int(self.people.duplicated().sum())
            raise ValueError(f"profiles must have one row per oneid; {n_dup} oneid(s) repeat")
        ts = pd.Timestamp(as_of)
        if pd.isna(ts):
            raise ValueError(f"as_of must be a timestamp, got {as_of!r}")
        self.as_of = ts
        self.month = month
        self.orders = orders
        self.events = events
        self.campaign_assignments = campaign_assignments
        self.campaigns = campaigns
        self.workspace = workspace
        self.settings = settings or AudienceSettings()
        self._cache: dict[tuple, Any] = {}
        self._people_arrow: pa.Array | None = None  # :attr:`people` for :meth:`positions`

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_resolved(
        cls, resolved, month: str, campaigns: pd.DataFrame | None = None,
        settings: AudienceSettings | None = None, workspace: Workspace | None = None,
        profiles: pd.DataFrame | None = None,
    ) -> AudienceFeatures:
        """Features of a :class:`omni.workspace.Resolved` (``workspace.resolve(as_of=month)``) at
        the end of ``month`` (``YYYY-MM``).

        Only the columns of :data:`TABLE_COLUMNS` are read from the unified tables (a table
        missing some of them is read as it is, so a rule's error names its columns). ``profiles``
        replaces ``resolved.profiles`` (e.g. some of its columns only).
        """
        tables = {name: _read_columns(resolved, name) for name in TABLE_COLUMNS}
        return cls(
            resolved.profiles if profiles is None else profiles, month_end(month), orders=tables["orders"],
            events=tables["events"], campaign_assignments=tables["campaign_assignments"], campaigns=campaigns,
            workspace=workspace, month=month, settings=settings,
        )

    @property
    def n(self) -> int:
        return len(self.people)

    def positions(self, oneids: Any) -> np.ndarray:
        """Positions of OneIDs in :attr:`people` (-1 where unknown or null).

        A column of Arrow strings (a Series of the unified tables) is looked up as it is, without a
        Python string per row: at 5M persons the events' 30 M OneIDs as objects took 2-3 GB."""
        if self._people_arrow is None:
            self._people_arrow = pa.array(self.people.to_numpy(dtype=object), type=pa.large_string())
        if isinstance(oneids, pd.Series | pd.Index) and isinstance(oneids.dtype, pd.StringDtype | pd.ArrowDtype):
            keys = pa.array(oneids.array)
        else:
            keys = pa.array(pd.Index(np.asarray(oneids, dtype=object)).astype(str).to_numpy(dtype=object))
        got = pc.index_in(keys.cast(pa.large_string()), value_set=self._people_arrow)
        chunks = got.chunks if isinstance(got, pa.ChunkedArray) else [got]
        out = [c.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp, copy=False) for c in chunks]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.intp)

    def mask_of(self, oneids: Any) -> np.ndarray:
        """Boolean mask over :attr:`people` of the given OneIDs (unknown ones ignored)."""
        m = np.zeros(self.n, dtype=bool)
        pos = self.positions(oneids)
        m[pos[pos >= 0]] = True
        return m

    def _cached(self, key: tuple, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    # -- behaviour ------------------------------------------------------------------------
    def _per_person_max_time(self, oneids: pd.Series, times: pd.Series) -> np.ndarray:
        """Latest time per person as int64 ns (``_NAT`` where none)."""
        out = np.full(self.n, _NAT, dtype=np.int64)
        pos = self.positions(oneids)
        t = pd.to_datetime(times).to_numpy(dtype="datetime64[ns]").astype(np.int64)
        ok = (pos >= 0) & (t != _NAT)
        if ok.any():
            s = pd.Series(t[ok]).groupby(pos[ok]).max()
            out[s.index.to_numpy()] = s.to_numpy()
        return out

    def _filter(self, df: pd.DataFrame, col: str, values: Sequence[str] | None, what: str) -> np.ndarray:
        if values is None:
            return np.ones(len(df), dtype=bool)
        _require(df, [col], what)
        return df[col].astype("string").isin(list(values)).to_numpy(dtype=bool, na_value=False)

    def _window(self, times: pd.Series, days: int | None) -> np.ndarray:
        t = pd.to_datetime(times)
        keep = (t < self.as_of).to_numpy(dtype=bool, na_value=False)
        if days is not None:
            keep &= (t >= self.as_of - pd.Timedelta(days=int(days))).to_numpy(dtype=bool, na_value=False)
        return keep

    def last_event_time(self, days: int, event_types: Sequence[str],
                        category: Sequence[str] | None = None) -> np.ndarray:
        """Latest event of the given types (and categories) in ``[as_of - days, as_of)`` per person."""
        key = ("last_event", int(days), tuple(event_types), tuple(category or ()))

        def compute() -> np.ndarray:
            ev = _require(self.events, ["oneid", "event_time", "event_type"], "events")
            keep = self._window(ev["event_time"], days)
            keep &= self._filter(ev, "event_type", event_types, "events")
            keep &= self._filter(ev, "category", category, "events")
            keep &= ev["oneid"].notna().to_numpy()
            sub = ev.loc[keep]
            return self._per_person_max_time(sub["oneid"], sub["event_time"])

        return self._cached(key, compute)

    def _orders_mask(self, channel, category, days, status) -> np.ndarray:
        o = _require(self.orders, ["oneid", "order_time", "status"], "orders")
        keep = self._window(o["order_time"], days)
        keep &= self._filter(o, "status", status, "orders")
        keep &= self._filter(o, "channel", channel, "orders")
        keep &= self._filter(o, "category", category, "orders")
        keep &= o["oneid"].notna().to_numpy()
        return keep

    def last_order_time(self, category: Sequence[str] | None = None,
                        status: Sequence[str] = ("paid",)) -> np.ndarray:
        """Latest order (status, categories) before ``as_of`` per person, int64 ns."""
        key = ("last_order", tuple(category or ()), tuple(status))

        def compute() -> np.ndarray:
            keep = self._orders_mask(None, category, None, status)
            sub = self.orders.loc[keep]
            return self._per_person_max_time(sub["oneid"], sub["order_time"])

        return self._cached(key, compute)

    def order_count(self, channel: Sequence[str] | None = None, category: Sequence[str] | None = None,
                    days: int | None = None, status: Sequence[str] = ("paid",)) -> np.ndarray:
        """Orders per person matching channel / category / status in the window."""
        key = ("order_count", tuple(channel or ()), tuple(category or ()), days, tuple(status))

        def compute() -> np.ndarray:
            keep = self._orders_mask(channel, category, days, status)
            pos = self.positions(self.orders.loc[keep, "oneid"])
            return np.bincount(pos[pos >= 0], minlength=self.n)

        return self._cached(key, compute)

    # -- value ----------------------------------------------------------------------------
    def customer_value(self, part: Literal["rfm", "clv"]) -> pd.DataFrame:
        """RFM segments (``"rfm"``) or CLV predictions (``"clv"``) of the customers, indexed by
        oneid.

        Customers are the OneIDs with a paid order before ``as_of`` (anonymous buyers only with
        ``settings.include_anonymous``). ``"rfm"`` reads :func:`omni.value.customer_rfm` (no
        model fitted), ``"clv"`` :func:`omni.value.customer_value` with the settings' model,
        holdout check (``holdout_weeks`` 0: none), horizon, discount rate and tier shares: with
        the defaults at a month end, the value report's own fit.
        """
        if part not in ("rfm", "clv"):
            raise ValueError(f"part must be 'rfm' or 'clv', got {part!r}")
        if self.workspace is None:
            raise ValueError("RFM classes, CLV tiers and churn risk are read from a workspace; "
                             "none was given")
        s = self.settings
        kw = {"resolution": self.month, "include_anonymous": s.include_anonymous,
              "rfm_threshold": s.rfm_threshold}
        if part == "rfm":
            return customer_rfm(self.workspace, self.as_of, **kw).segments
        return customer_value(
            self.workspace, self.as_of, model=s.clv_model, holdout_weeks=max(s.holdout_weeks, 1),
            check=s.holdout_weeks > 0, clv_months=s.clv_months, discount_rate_annual=s.discount_rate_annual,
            tier_shares=s.tier_shares, **kw,
        ).predictions

    def rfm_class(self) -> tuple[np.ndarray, np.ndarray]:
        """RFM 8-class labels per person (Chinese, English); None for non-customers."""

        def compute():
            seg = self.customer_value("rfm")
            pos = self.positions(seg.index.to_numpy())
            zh = np.full(self.n, None, dtype=object)
            en = np.full(self.n, None, dtype=object)
            ok = pos >= 0
            zh[pos[ok]] = seg["segment"].astype(str).to_numpy()[ok]
            en[pos[ok]] = seg["segment_en"].astype(str).to_numpy()[ok]
            return zh, en

        return self._cached(("rfm_class",), compute)

    def clv(self) -> pd.DataFrame:
        """CLV predictions aligned with :attr:`people`: ``value_tier`` (None for non-customers),
        ``churn_risk`` and ``p_alive`` (NaN for non-customers)."""

        def compute():
            pred = self.customer_value("clv")
            pos = self.positions(pred.index.to_numpy())
            ok = pos >= 0
            tier = np.full(self.n, None, dtype=object)
            churn = np.full(self.n, np.nan)
            if "value_tier" in pred:
                tier[pos[ok]] = pred["value_tier"].astype(str).to_numpy()[ok]
            churn[pos[ok]] = pred["churn_risk"].to_numpy(dtype="float64")[ok]
            return pd.DataFrame({"value_tier": tier, "churn_risk": churn, "p_alive": 1.0 - churn},
                                index=self.people)

        return self._cached(("clv",), compute)

    # -- recommendations ------------------------------------------------------------------
    def top_category(self, categories: Sequence[str], k: int = 3) -> np.ndarray:
        """People whose top ``k`` recommendations (:func:`omni.recommend.load_topk`, the lists made
        at the end of :attr:`month`) include a SKU of one of ``categories``."""
        if self.workspace is None or self.month is None:
            raise ValueError("top_category reads the recommendations of a workspace's month; none was given")

        def compute():
            from omni.recommend.topk import load_topk

            return load_topk(self.workspace, self.month)

        t = self._cached(("topk",), compute)
        known = set(t["category"].astype(str).unique())
        bad = [c for c in categories if c not in known]
        if bad:
            raise ValueError(f"top_category.category: unknown category(ies) {bad}; the lists hold {sorted(known)}")
        sel = (t["rank"].to_numpy() <= k) & t["category"].astype(str).isin(list(categories)).to_numpy()
        return self.mask_of(t.loc[sel, "oneid"].astype(str).unique())

    # -- campaigns ------------------------------------------------------------------------
    def resolve_campaign(self, campaign: str) -> str:
        """A campaign id, or ``latest``: the campaign with the latest end date before ``as_of``."""
        c = _require(self.campaigns, ["campaign_id", "start_date", "end_date"], "campaigns")
        ids = c["campaign_id"].astype(str)
        if campaign != "latest":
            if campaign not in set(ids):
                raise ValueError(f"unknown campaign {campaign!r}; known: {sorted(ids)[:20]}")
            return campaign
        end = pd.to_datetime(c["end_date"], errors="coerce")
        ended = (end + pd.Timedelta(days=1) <= self.as_of).to_numpy(dtype=bool, na_value=False)
        if not ended.any():
            raise ValueError(f"campaign 'latest': no campaign ended before {self.as_of:%Y-%m-%d}")
        order = np.lexsort((ids.to_numpy()[ended], end.to_numpy()[ended]))
        return str(ids.to_numpy()[ended][order[-1]])

    def campaign_outcomes(self, campaign: str) -> pd.DataFrame:
        """:func:`omni.uplift.outcomes.campaign_outcomes` of one campaign (orders before ``as_of``)."""
        cid = self.resolve_campaign(campaign)

        def compute():
            from omni.uplift.outcomes import campaign_outcomes

            a = _require(self.campaign_assignments, ["campaign_id", "oneid", "arm", "contacted"],
                         "campaign_assignments")
            o = _require(self.orders, ["oneid", "order_time", "amount", "status"], "orders")
            o = o.loc[(pd.to_datetime(o["order_time"]) < self.as_of).to_numpy()]
            a = a.loc[a["oneid"].notna().to_numpy()]
            return campaign_outcomes(a, o, self.campaigns, cid, pre_days=0, on_duplicate="first")

        return self._cached(("campaign", cid), compute)

