"""The recommenders: time-aware popularity, buy again, co-purchase and co-view neighbours, ALS and
BPR (the ``implicit`` package, on CPU), and their blend.

Everything is fitted on a :class:`History` (the interactions before a cut-off) and scores users in
chunks (:meth:`Recommender.scores`: a dense ``users x items`` block per model), so every person
can be scored at 1M people without an all-pairs matrix in memory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["COMPONENTS", "BlendParts", "FitStopped", "History", "Recommender", "factor_matrix", "fit_factors",
           "fit_recommender", "history_at", "in_chunks", "reserve_core", "top_k"]

#: Models scored by :class:`Recommender` (``popularity`` is the baseline).
COMPONENTS = ("popularity", "buy_again", "copurchase", "coview", "als", "bpr")
DAY = np.timedelta64(1, "D")


@dataclass
class History:
    """Interactions before ``end`` as sparse matrices (users x items).

    Attributes
    ----------
    bought : csr_matrix
        Recency-weighted purchase lines (half-life ``half_life_days``).
    count : csr_matrix
        Purchase lines (quantities ignored).
    last_days : csr_matrix
        Days from the last purchase of the item to ``end`` (+1, so 0 means never).
    viewed : csr_matrix
        Recency-weighted views.
    recent_pop : ndarray
        Recency-weighted purchases of each item (all users).
    """

    end: np.datetime64
    n_users: int
    n_items: int
    bought: sp.csr_matrix
    count: sp.csr_matrix
    last_days: sp.csr_matrix
    viewed: sp.csr_matrix
    item_interval: np.ndarray  # median days between two purchases of the item by one person
    channel_mask: str | None = None


def _csr(user, item, w, shape) -> sp.csr_matrix:
    m = sp.csr_matrix((np.asarray(w, np.float32), (np.asarray(user), np.asarray(item))), shape=shape)
    m.sum_duplicates()
    return m


def history_at(purchases: pd.DataFrame, views: pd.DataFrame, n_users: int, n_items: int,
               end: np.datetime64 | pd.Timestamp, half_life_days: float = 60.0,
               channel: str | None = None) -> History:
    """The interactions strictly before ``end`` (optionally the purchases of one ``channel`` only,
    and then no views: a platform sees neither the brand's site nor the other channels)."""
    end = np.datetime64(pd.Timestamp(end), "ns")
    p = purchases.loc[(purchases["time"].to_numpy() < end)]
    if channel is not None:
        p = p.loc[(p["channel"].to_numpy() == channel)]
        v = views.iloc[:0]
    else:
        v = views.loc[views["time"].to_numpy() < end]
    shape = (n_users, n_items)
    age = (end - p["time"].to_numpy()) / DAY
    decay = np.exp(-np.log(2) * age / half_life_days)
    bought = _csr(p["user"], p["item"], decay, shape)
    count = _csr(p["user"], p["item"], np.ones(len(p)), shape)
    # last purchase: max over (user, item) of -age -> days since
    key = p["user"].to_numpy(np.int64) * n_items + p["item"].to_numpy(np.int64)
    order = np.lexsort((age, key))
    k_s, a_s = key[order], age[order]
    first = np.r_[True, k_s[1:] != k_s[:-1]] if len(k_s) else np.zeros(0, bool)
    last = sp.csr_matrix((a_s[first] + 1.0, (k_s[first] // n_items, k_s[first] % n_items)), shape=shape)
    # inter-purchase intervals of the same item by the same person
    same = np.r_[False, k_s[1:] == k_s[:-1]] if len(k_s) else np.zeros(0, bool)
    gaps = np.r_[0.0, np.diff(a_s)] if len(a_s) else np.zeros(0)  # ages ascend within a key
    gi = (k_s % n_items)[same]
    gv = gaps[same]
    interval = np.full(n_items, np.nan)
    if len(gi):
        g = pd.Series(gv[gv > 1]).groupby(gi[gv > 1]).median()
        interval[g.index.to_numpy()] = g.to_numpy()
    vage = (end - v["time"].to_numpy()) / DAY
    viewed = _csr(v["user"], v["item"], np.exp(-np.log(2) * vage / (half_life_days / 2)), shape)
    return History(end, n_users, n_items, bought, count, last, viewed, interval, channel)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Item codes of the ``k`` best scores per row, best first (ties: lower code)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    ps = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -ps), axis=1)
    return np.take_along_axis(part, order, axis=1)


def _neighbours(a: sp.csr_matrix, b: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """Item-item cosine of the binary co-occurrence ``a.T @ b`` (diagonal 0), top ``keep`` per row."""
    a1 = (a > 0).astype(np.float32)
    b1 = (b > 0).astype(np.float32)
    c = (a1.T @ b1).tocsr()
    c.setdiag(0)
    c.eliminate_zeros()
    na = np.sqrt(np.asarray(a1.sum(axis=0)).ravel())
    nb = np.sqrt(np.asarray(b1.sum(axis=0)).ravel())
    c = sp.diags(1 / np.maximum(na, 1)) @ c @ sp.diags(1 / np.maximum(nb, 1))
    c = c.tocsr()
    if keep and c.nnz:
        for i in range(c.shape[0]):  # per item (thousands of SKUs), not per record
            s, e = c.indptr[i], c.indptr[i + 1]
            if e - s > keep:
                d = c.data[s:e]
                d[d < np.partition(d, len(d) - keep)[len(d) - keep]] = 0
        c.eliminate_zeros()
    return c.astype(np.float32)


@dataclass
class Recommender:
    """Fitted models over one :class:`History`; :meth:`scores` gives each model's scores."""

    history: History
    segment: np.ndarray  # popularity segment of each user
    pop_by_segment: np.ndarray  # (segments, items)
    copurchase: sp.csr_matrix
    coview: sp.csr_matrix
    als_user: np.ndarray | None
    als_item: np.ndarray | None
    bpr_user: np.ndarray | None
    bpr_item: np.ndarray | None
    repeat: np.ndarray
    on_sale: np.ndarray  # bool per item: launched by the end of the target month
    line_of_item: np.ndarray | None = None
    weights: dict[str, float] = field(default_factory=dict)
    segment_names: np.ndarray | None = None  # label of each popularity segment code

    def component(self, name: str, users: np.ndarray) -> np.ndarray:
        """Dense scores of ``users`` (codes) for every item from one model."""
        h = self.history
        if name == "popularity":
            return self.pop_by_segment[self.segment[users]]
        if name == "buy_again":
            cnt = h.count[users].toarray()
            days = h.last_days[users].toarray() - 1.0
            interval = np.where(np.isfinite(h.item_interval), h.item_interval, 90.0)
            due = days / interval[None, :]
            timing = np.where(self.repeat[None, :], np.exp(-0.5 * ((due - 1.0) / 0.7) ** 2) + 0.15,
                              0.15 * np.exp(-days / 365.0))
            return np.where(cnt > 0, np.sqrt(cnt) * timing, 0.0).astype(np.float32)
        if name == "copurchase":
            return np.asarray((h.bought[users] @ self.copurchase).todense(), np.float32)
        if name == "coview":
            return np.asarray((h.viewed[users] @ self.coview).todense(), np.float32)
        if name == "als":
            return self.als_user[users] @ self.als_item.T
        if name == "bpr":
            return self.bpr_user[users] @ self.bpr_item.T
        raise ValueError(f"unknown model {name!r}; known: {list(COMPONENTS)} and 'blend'")

    def scores(self, name: str, users: np.ndarray, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Scores of ``users`` for every item: one model, or ``"blend"`` (the weighted sum of the
        models' per-user standardized scores, see :meth:`blend_parts`; new SKUs get their product
        line's mean score). Items not on sale get -inf."""
        if name == "blend":
            return self.blend_parts(users).scores(self.weights if weights is None else weights)
        s = self.component(name, users).astype(np.float32, copy=False)
        return np.where(self.on_sale[None, :], s, -np.inf).astype(np.float32)

    def blend_parts(self, users: np.ndarray, components: Sequence[str] | None = None) -> BlendParts:
        """Each model's scores of ``users`` divided by their row's standard deviation over items,
        kept as low-rank and sparse terms (no ``users x items`` matrix per model).

        A model's z-scores are ``(s - mean) / sd`` per row. The mean only shifts a row by a
        constant, which no ranking sees, so the blend ranks by ``sum_c w_c s_c / sd_c``: the
        factor models' and popularity's rows are low-rank (their sd comes from the factors' Gram
        matrix), buy again and the neighbours are sparse (their sd from the non-zeros).
        ``components``: the models to keep (default: every fitted one with a weight, or all).
        """
        users = np.asarray(users)
        if components is None:
            components = [c for c in COMPONENTS if self.fitted(c) and (not self.weights or self.weights.get(c))]
        low: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        sparse: dict[str, sp.csr_matrix] = {}
        n_items = self.history.n_items
        for c in components:
            if c == "popularity":
                seg = self.segment[users]
                pop = self.pop_by_segment.astype(np.float64)
                sd = pop.std(axis=1)
                inv = np.where(sd > 1e-12, 1.0 / np.maximum(sd, 1e-12), 0.0)
                a = np.zeros((len(users), pop.shape[0]), np.float32)
                a[np.arange(len(users)), seg] = inv[seg]
                low[c] = (a, self.pop_by_segment)  # segments x items
            elif c in ("als", "bpr"):
                u, v = (self.als_user, self.als_item) if c == "als" else (self.bpr_user, self.bpr_item)
                a = u[users].astype(np.float64)
                v64 = v.astype(np.float64)
                mean = a @ v64.mean(axis=0)
                msq = np.einsum("ij,jk,ik->i", a, (v64.T @ v64) / n_items, a)
                sd = np.sqrt(np.maximum(msq - mean * mean, 0.0))
                inv = np.where(sd > 1e-12, 1.0 / np.maximum(sd, 1e-12), 0.0)
                low[c] = ((a * inv[:, None]).astype(np.float32), np.ascontiguousarray(v.T))
            else:
                m = self._sparse_component(c, users)
                s1 = np.asarray(m.sum(axis=1), np.float64).ravel()
                s2 = np.asarray(m.multiply(m).sum(axis=1), np.float64).ravel()
                mean = s1 / n_items
                sd = np.sqrt(np.maximum(s2 / n_items - mean * mean, 0.0))
                inv = np.where(sd > 1e-12, 1.0 / np.maximum(sd, 1e-12), 0.0)
                sparse[c] = (sp.diags(inv.astype(np.float32)) @ m).tocsr()
        return BlendParts(self, len(users), low, sparse)

    def fitted(self, name: str) -> bool:
        """Whether model ``name`` was fitted (ALS and BPR only when asked for)."""
        return {"als": self.als_user, "bpr": self.bpr_user}.get(name, self.history) is not None

    def _sparse_component(self, name: str, users: np.ndarray) -> sp.csr_matrix:
        """Buy again, co-purchase or co-view scores of ``users`` as a sparse matrix (the same
        values as :meth:`component`, zero where it is zero)."""
        h = self.history
        if name == "buy_again":
            cnt = h.count[users].tocsr()
            cnt.sort_indices()
            last = h.last_days[users].tocsr()
            last.sort_indices()
            days = last.data.astype(np.float64) - 1.0
            item = last.indices
            interval = np.where(np.isfinite(h.item_interval), h.item_interval, 90.0)
            due = days / interval[item]
            rep = self.repeat[item]
            timing = np.where(rep, np.exp(-0.5 * ((due - 1.0) / 0.7) ** 2) + 0.15, 0.15 * np.exp(-days / 365.0))
            out = sp.csr_matrix((timing.astype(np.float32), last.indices, last.indptr), shape=last.shape)
            return out.multiply(cnt.sqrt()).tocsr().astype(np.float32)
        if name == "copurchase":
            return (h.bought[users] @ self.copurchase).tocsr().astype(np.float32)
        if name == "coview":
            return (h.viewed[users] @ self.coview).tocsr().astype(np.float32)
        raise ValueError(f"{name!r} is not a sparse model")

    @cached_property
    def seen_items(self) -> np.ndarray:
        """Bool per item: bought or viewed in the history."""
        h = self.history
        return (np.asarray(h.count.sum(axis=0)).ravel() + np.asarray(h.viewed.sum(axis=0)).ravel()) > 0

    @cached_property
    def cold_map(self) -> sp.csr_matrix:
        """Items x items: scores ``s @ cold_map`` give each SKU nobody bought or viewed yet (on
        sale, in a product line with bought or viewed SKUs) the mean score of those SKUs, and every
        other SKU its own score. Linear, so it applies to each term of the blend."""
        n = self.history.n_items
        rows, cols, vals = np.arange(n), np.arange(n), np.ones(n, np.float32)
        line = self.line_of_item
        if line is not None:
            seen = self.seen_items
            warm = seen & (line >= 0)
            cold = np.flatnonzero(~seen & self.on_sale & (line >= 0))
            per_line = np.bincount(line[warm], minlength=int(line.max()) + 1) if warm.any() else np.zeros(1, int)
            cold = cold[per_line[line[cold]] > 0] if len(cold) else cold
            if len(cold):
                keep = np.ones(n, bool)
                keep[cold] = False
                w_items = np.flatnonzero(warm)
                # for every cold SKU, one entry per warm SKU of its line (thousands of SKUs, not records)
                pairs = [(w_items[line[w_items] == line[c]], c) for c in cold]
                r2 = np.concatenate([w for w, _ in pairs])
                c2 = np.concatenate([np.full(len(w), c) for w, c in pairs])
                v2 = np.concatenate([np.full(len(w), 1.0 / len(w), np.float32) for w, _ in pairs])
                rows, cols, vals = np.r_[rows[keep], r2], np.r_[cols[keep], c2], np.r_[vals[keep], v2]
        return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))

    def recommend(self, name: str, users: np.ndarray, k: int, chunk: int = 20_000,
                  weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Top-``k`` item codes per user (rows in ``users`` order)."""
        out = np.empty((len(users), min(k, self.history.n_items)), np.int64)

        def one(s: int) -> None:
            out[s:s + chunk] = top_k(self.scores(name, users[s:s + chunk], weights), k)

        in_chunks(one, range(0, len(users), chunk))
        return out


_reserved_cores = 0
_reserve_lock = threading.Lock()


def reserve_core() -> Callable[[], None]:
    """Keep one core for work running beside (a fit on a thread of its own): :func:`in_chunks`
    and :func:`fit_recommender` use one thread fewer until the returned release is called (once;
    later calls do nothing). The threads never change a result, only how long it takes."""
    global _reserved_cores
    with _reserve_lock:
        _reserved_cores += 1
    released = []

    def release() -> None:
        global _reserved_cores
        with _reserve_lock:
            if not released:
                released.append(True)
                _reserved_cores -= 1

    return release


def _cores() -> int:
    """Cores free for this process's own threads (:func:`reserve_core`)."""
    return max(1, (os.cpu_count() or 1) - _reserved_cores)


def in_chunks(fn: Callable[[int], None], starts: Sequence[int], workers: int | None = None) -> None:
    """``fn(start)`` for every chunk start, on ``workers`` threads (default: up to 2 free cores;
    numpy and BLAS release the GIL, BLAS runs one thread each). Each call writes its own rows, so
    the result does not depend on the threads' order."""
    workers = workers or min(2, _cores())
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        if workers == 1 or len(starts) < 2:
            for s in starts:
                fn(s)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            for f in [pool.submit(fn, s) for s in starts]:
                f.result()


@dataclass
class BlendParts:
    """The blend's terms for ``n`` users (:meth:`Recommender.blend_parts`): per model, either a
    low-rank pair ``(a, b)`` with scores ``a @ b`` (``a``: users x r, ``b``: r x items) or a sparse
    users x items matrix, each already divided by the row's standard deviation."""

    recommender: Recommender
    n: int
    low: dict[str, tuple[np.ndarray, np.ndarray]]
    sparse: dict[str, sp.csr_matrix]

    def scores(self, weights: Mapping[str, float], rows: slice | np.ndarray = slice(None),
               columns: np.ndarray | None = None) -> np.ndarray:
        """The blend's scores of the users ``rows`` (positions among this object's users) for
        ``weights``, as one dense block over the items ``columns`` (default all); new SKUs take
        their line's mean (:attr:`Recommender.cold_map`), items not on sale -inf."""
        missing = [c for c, w in weights.items() if w and c not in self.low and c not in self.sparse]
        if missing:
            raise ValueError(f"the blend weighs {missing}, which these parts do not hold")
        rec = self.recommender
        cols = np.arange(rec.history.n_items) if columns is None else np.asarray(columns)
        cmap = rec.cold_map[:, cols]
        n_rows = len(np.arange(self.n)[rows])
        a = [np.float32(weights[c]) * a[rows] for c, (a, _) in self.low.items() if weights.get(c)]
        b = [np.asarray(b @ cmap, np.float32) for c, (_, b) in self.low.items() if weights.get(c)]
        if a:
            s = np.ascontiguousarray(np.hstack(a)) @ np.ascontiguousarray(np.vstack(b))
        else:
            s = np.zeros((n_rows, len(cols)), np.float32)
        total = None
        for c, m in self.sparse.items():
            if weights.get(c):
                t = np.float32(weights[c]) * m[rows]
                total = t if total is None else total + t
        if total is not None and total.nnz:
            t = (total @ cmap).tocoo()
            s[t.row, t.col] += t.data
        s[:, ~rec.on_sale[cols]] = -np.inf
        return s


#: BPR's epochs per ``iterations`` and its learning rate: 45 epochs at 0.1 (the blend's recall as
#: with 90 at 0.05 on the 50k and 200k worlds, in half the time; docs/recommendations.md).
BPR_EPOCHS_PER_ITERATION = 3
BPR_LEARNING_RATE = 0.1


class FitStopped(Exception):
    """A factor model's fit stopped on request (:func:`fit_factors`'s ``stop``)."""


def _implicit_factors(kind: str, matrix: sp.csr_matrix, factors: int, iterations: int, seed: int,
                      threads: int, stop: threading.Event | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ALS or BPR factors (``implicit``; call inside ``threadpool_limits(1, "blas")``)."""
    if kind == "als":
        from implicit.cpu.als import AlternatingLeastSquares

        m = AlternatingLeastSquares(factors=factors, regularization=0.1, iterations=iterations,
                                    random_state=seed, num_threads=threads)
    else:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        m = BayesianPersonalizedRanking(factors=factors, learning_rate=BPR_LEARNING_RATE, regularization=0.01,
                                        iterations=iterations * BPR_EPOCHS_PER_ITERATION, random_state=seed,
                                        num_threads=threads)

    def check(*_) -> None:  # after every epoch (no effect on the fit)
        if stop.is_set():
            raise FitStopped(kind)

    m.fit(matrix, show_progress=False, callback=check if stop is not None else None)
    return np.asarray(m.user_factors, np.float32), np.asarray(m.item_factors, np.float32)


def factor_matrix(kind: str, h: History, alpha: float = 20.0) -> sp.csr_matrix | None:
    """The users x items matrix ALS (``"als"``: confidence ``alpha`` x the recency-weighted
    purchases and 0.3 x views) or BPR (``"bpr"``: bought or viewed) is fitted on; None when the
    history has no purchase or view (nothing to fit)."""
    conf = (h.bought + 0.3 * h.viewed).tocsr().astype(np.float32)
    if not conf.nnz:
        return None
    if kind == "bpr":
        return (h.count + h.viewed > 0).astype(np.float32).tocsr()
    conf.data = (alpha * conf.data).astype(np.float32)
    return conf


def fit_factors(kind: str, h: History, *, factors: int = 32, iterations: int = 15, alpha: float = 20.0,
                seed: int = 7, threads: int = 1,
                stop: threading.Event | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """ALS or BPR factors of ``h`` as :func:`fit_recommender` fits them (the same numbers), for a
    caller that fits one on a thread of its own; None when there is nothing to fit.

    Parameters
    ----------
    stop : threading.Event, optional
        Checked after every epoch: once set, the fit stops with :class:`FitStopped`.
    """
    from threadpoolctl import threadpool_limits

    matrix = factor_matrix(kind, h, alpha)
    if matrix is None:
        return None
    with threadpool_limits(1, "blas"):
        return _implicit_factors(kind, matrix, factors, iterations, seed, threads, stop)


def fit_recommender(h: History, segment: np.ndarray, repeat: np.ndarray, on_sale: np.ndarray,
                    line_of_item: np.ndarray | None = None, *, factors: int = 32, iterations: int = 15,
                    alpha: float = 20.0, neighbours: int = 50, seed: int = 7, threads: int = 1,
                    components: Sequence[str] = COMPONENTS,
                    fitted: Mapping[str, Callable[[], tuple[np.ndarray, np.ndarray] | None]] | None = None
                    ) -> Recommender:
    """Fit every model on ``h``.

    Parameters
    ----------
    h : History
    segment : ndarray
        Popularity segment code of each user (new people get the list of their segment).
    repeat, on_sale : ndarray of bool
        Per item: bought again (consumables); launched by the end of the target month.
    line_of_item : ndarray, optional
        Product-line code per item (-1 unknown): how new SKUs enter the blend.
    factors, iterations, alpha : int, int, float
        ALS/BPR latent factors and iterations; ALS confidence ``1 + alpha * weight``.
    neighbours : int
        Co-purchase and co-view neighbours kept per item.
    seed, threads : int
        ``random_state`` and threads of ``implicit`` (0: all cores).
    fitted : mapping, optional
        ``"als"`` or ``"bpr"`` -> a callable giving that model's factors, fitted elsewhere on the
        same history and settings (:func:`fit_factors`, e.g. on another thread: the call waits).
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    fitted = fitted or {}
    todo = {k: factor_matrix(k, h, alpha) for k in ("als", "bpr") if k in components and k not in fitted}
    todo = {k: m for k, m in todo.items() if m is not None}
    if todo:  # imported here, once: two threads importing one module deadlock
        import implicit.cpu.als
        import implicit.cpu.bpr  # noqa: F401
    # ALS and BPR fit side by side on their own threads (implicit runs without the GIL; each fit
    # on ``threads`` threads, so the factors do not depend on how many run at once)
    with threadpool_limits(1, "blas"), ThreadPoolExecutor(max(1, min(len(todo), _cores()))) as pool:
        jobs = {k: pool.submit(_implicit_factors, k, m, factors, iterations, seed, threads) for k, m in todo.items()}
        n_seg = int(segment.max()) + 1 if len(segment) else 1
        seg_pop = np.zeros((n_seg, h.n_items), np.float32)
        b = h.bought.tocoo()
        np.add.at(seg_pop, (segment[b.row], b.col), b.data)
        overall = seg_pop.sum(axis=0)
        seg_pop = seg_pop / np.maximum(seg_pop.sum(axis=1, keepdims=True), 1e-9)
        overall = overall / max(overall.sum(), 1e-9)
        pop = (0.6 * seg_pop + 0.4 * overall[None, :]).astype(np.float32)
        cop = (_neighbours(h.count, h.count, neighbours) if "copurchase" in components
               else sp.csr_matrix((h.n_items, h.n_items)))
        cov = (_neighbours(h.viewed, h.count, neighbours) if "coview" in components and h.viewed.nnz
               else sp.csr_matrix((h.n_items, h.n_items), dtype=np.float32))
        got = {k: jobs[k].result() for k in jobs} | {k: f() for k, f in fitted.items() if k in components}
        als_u, als_i = got.get("als") or (None, None)
        bpr_u, bpr_i = got.get("bpr") or (None, None)
    return Recommender(h, segment, pop, cop, cov, als_u, als_i, bpr_u, bpr_i, repeat, on_sale, line_of_item)
