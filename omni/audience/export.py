"""Write audience files for ad platforms and in-house tools, and log every export.

For each audience and platform, :func:`export_audiences`

1. refuses to start without the pseudonymization key (``OMNI_PSEUDONYM_KEY``), for every platform:
   nothing personal may leave without the key being configured, and the log names the key used by
   a short keyed fingerprint (``key_id``) so a rotation shows;
2. removes everyone who opted out of marketing (by OneID) and everyone whose records carry an
   identifier of an opted-out record (by identifier: :func:`omni.consent.suppressed_by_identifier`),
   and counts both;
3. writes the platform's upload format from canonical identifiers with the platform's own
   normalization and hash (:mod:`omni.audience.hashing`), or keyed HMAC pseudonyms of the OneIDs
   for ``oneid``; people without a usable identifier are counted;
4. appends one line to ``export_log.jsonl`` (:mod:`omni.audience.log`).

Counts reconcile: ``in_audience = exported + opted_out_removed + opted_out_identifier_removed +
no_identifier``.

Files (UTF-8, ``\\n`` line ends, rows sorted by content so the same data give the same bytes):

* ``<audience>.tencent.<USER_ID_TYPE>.csv``: one hash per line, no header, one file per Tencent
  user id type (``HASH_MOBILE_PHONE``, ``HASH_IMEI``, ``HASH_IDFA``, ``HASH_OAID``) as Tencent's
  customer-file upload takes one id type per file;
* ``<audience>.google.csv``: Customer Match columns ``Email`` and ``Phone`` (repeated up to
  ``max_per_type`` times for people with several), one row per person;
* ``<audience>.meta.csv``: Meta customer-list columns ``email`` and ``phone`` (repeated up to
  ``max_per_type`` times), one row per person;
* ``<audience>.oneid.csv``: column ``oneid_pseudonym``, one keyed pseudonym per person.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omni._version import __version__
from omni.audience.definitions import rule_text
from omni.audience.hashing import AD_PLATFORMS, PLATFORM_FIELDS, PLATFORMS, md5_hex, sha256_hex
from omni.audience.identifiers import platform_values
from omni.audience.log import LOG_NAME, append_log, current_user, utc_now
from omni.audience.rules import AudienceSet
from omni.core.files import sha256_file
from omni.privacy import KEY_ENV, PseudonymKeyError, check_key_length, pseudonymize

__all__ = ["ExportResult", "export_audiences", "hashed_platform_values", "key_id", "reach_table",
           "require_key"]

_KEY_ID_MESSAGE = "omni-audience-export-key-id"


def require_key(key: str | bytes | None = None) -> str:
    """Check that a strong pseudonymization key is configured; return its ``key_id``.

    Raises
    ------
    omni.privacy.PseudonymKeyError
        Without a key, or with one shorter than :data:`omni.privacy.MIN_KEY_BYTES` (32 bytes),
        with the exact command to generate one.
    """
    if key is None and not (os.environ.get(KEY_ENV) or "").strip():
        raise PseudonymKeyError(
            f"audience exports refuse to run without a pseudonymization key: set {KEY_ENV} and "
            "keep it secret and stable (store it in your secret manager; never commit it). Every "
            "export needs it: oneid files hold keyed pseudonyms and the export log records which "
            "key was used (key_id)"
        )
    if key is not None:
        check_key_length(key, "the audience export key")  # the environment's is checked on use
    return key_id(key)


def key_id(key: str | bytes | None = None) -> str:
    """8 hex characters identifying the key (a keyed HMAC of a fixed text, not the key)."""
    return str(pseudonymize(_KEY_ID_MESSAGE, key=key, length=8))


@dataclass
class ExportResult:
    """What one audience x platform export did.

    ``in_audience = exported + opted_out_removed + opted_out_identifier_removed + no_identifier``:
    ``opted_out_removed`` counts people whose OneID opted out, ``opted_out_identifier_removed``
    the others whose records carry an identifier of an opted-out record.
    """

    audience: str
    platform: str
    in_audience: int
    opted_out_removed: int
    no_identifier: int
    exported: int
    fields: list[str]
    files: list[dict[str, Any]] = field(default_factory=list)
    definition_hash: str = ""
    opted_out_identifier_removed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _write_atomic(df: pd.DataFrame, path: Path, header: list[str] | bool) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.to_csv(tmp, index=False, header=header, lineterminator="\n", encoding="utf-8")
    tmp.replace(path)


def hashed_platform_values(contacts: pd.DataFrame, platform: str) -> pd.DataFrame:
    """:func:`~omni.audience.identifiers.platform_values` plus ``hash`` (lower-case hex)."""
    pv = platform_values(contacts, platform)
    h = pd.Series(pd.NA, index=pv.index, dtype="string[pyarrow]")
    for algo, fn in (("md5", md5_hex), ("sha256", sha256_hex)):
        sel = (pv["algo"] == algo).to_numpy()
        if sel.any():
            h[sel] = fn(pv.loc[sel, "value"].astype("string[pyarrow]")).to_numpy()
    pv["hash"] = h
    return pv


def _wide(sub: pd.DataFrame, fields: Sequence[str], max_per_type: int) -> tuple[pd.DataFrame, list[str]]:
    """One row per person, up to ``max_per_type`` columns per field (most-used values first)."""
    s = sub.sort_values(["oneid", "field", "n_records", "hash"], ascending=[True, True, False, True],
                        kind="stable")
    s = s.assign(rank=s.groupby(["oneid", "field"], sort=False).cumcount())
    s = s.loc[s["rank"] < max_per_type]
    w = s.pivot(index="oneid", columns=["field", "rank"], values="hash")
    cols = [(f, r) for f in fields for r in range(max_per_type)
            if r == 0 or ((f, r) in w.columns and w[(f, r)].notna().any())]
    w = w.reindex(columns=pd.MultiIndex.from_tuples(cols))
    w = w.astype(object).where(w.notna(), None)
    w = w.sort_values(by=cols, na_position="last", kind="stable").reset_index(drop=True)
    return w, [f for f, _ in cols]


def export_audiences(
    audiences: AudienceSet,
    contacts: pd.DataFrame | None,
    out: str | Path,
    platforms: Sequence[str] = PLATFORMS,
    names: Sequence[str] | None = None,
    key: str | bytes | None = None,
    max_per_type: int = 3,
    context: Mapping[str, Any] | None = None,
    log: bool = True,
    suppressed: pd.Series | None = None,
) -> list[ExportResult]:
    """Export audiences to platform files and append the log.

    Parameters
    ----------
    audiences : AudienceSet
        From :func:`omni.audience.build_audiences` (with ``opted_out`` set).
    contacts : DataFrame or None
        :func:`omni.audience.contact_identifiers` of (at least) the people to export; None is
        allowed only when ``platforms`` is ``["oneid"]``.
    out : path
        Output folder (created); files are replaced, the log ``export_log.jsonl`` is appended.
    platforms : sequence of str
        Any of ``tencent``, ``google``, ``meta``, ``oneid``.
    names : sequence of str, optional
        Audiences to export (default: all).
    key : str or bytes, optional
        Pseudonymization key (default: ``OMNI_PSEUDONYM_KEY``); required for every export.
    max_per_type : int
        Google / Meta: at most this many emails and phones per person (both platforms accept up
        to 3 columns of each); the most used first.
    context : mapping, optional
        Extra fields for the log (``dataset``, ``data_fingerprint``, ``month``...).
    log : bool
        Append to ``<out>/export_log.jsonl``.
    suppressed : Series of bool indexed by oneid, optional
        People whose records carry an identifier of an opted-out record
        (:func:`omni.consent.suppressed_by_identifier`; ``AudienceRun.suppressed()``):
        removed from every file of every platform and counted as ``opted_out_identifier_removed``.
        Without it only the opted-out OneIDs are removed and the log says
        ``identifier_suppression: false``.

    Returns
    -------
    list of ExportResult
        One per audience x platform, in that order.

    Raises
    ------
    omni.privacy.PseudonymKeyError
        Without a key (nothing is written).
    ValueError
        Unknown platform or audience, bad ``max_per_type``.
    """
    kid = require_key(key)
    plats, todo, ad = _export_plan(audiences, contacts, platforms, names, max_per_type)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    people = audiences.people
    sup, run_counts = _suppression(people, suppressed)
    hashed = {p: hashed_platform_values(contacts, p) for p in ad}
    reached = _reached(people, hashed)
    ctx = dict(context or {})
    results: list[ExportResult] = []
    for name in todo:
        m = audiences.mask(name)
        by_id = m & ~audiences.opted_out & sup
        elig = m & ~audiences.opted_out & ~sup
        n_in, n_out, n_id = int(m.sum()), int((m & audiences.opted_out).sum()), int(by_id.sum())
        d = audiences.definitions[name]
        for p in plats:
            if p == "oneid":
                files, fields, algo = _write_oneid(out_dir, name, people[elig], key)
                exported = int(elig.sum())
            else:
                files, fields, algo = _write_platform(out_dir, name, p, hashed[p], elig, max_per_type)
                exported = int((reached[p] & elig).sum())
            res = ExportResult(audience=name, platform=p, in_audience=n_in, opted_out_removed=n_out,
                               no_identifier=int(elig.sum()) - exported, exported=exported,
                               fields=fields, files=files, definition_hash=audiences.hashes.get(name, ""),
                               opted_out_identifier_removed=n_id)
            results.append(res)
            if log:
                append_log(out_dir / LOG_NAME, _log_entry(res, audiences, d, algo, kid, ctx, run_counts, contacts))
    return results


def _export_plan(audiences: AudienceSet, contacts: pd.DataFrame | None, platforms: Sequence[str],
                 names: Sequence[str] | None, max_per_type: int) -> tuple[list[str], list[str], list[str]]:
    """Check the export's arguments: the platforms (deduplicated), the audiences to export and the
    ad platforms among the platforms.

    Raises
    ------
    ValueError
        Unknown platform or audience, bad ``max_per_type``, ad platforms without contacts.
    """
    plats = list(dict.fromkeys(platforms))
    bad = [p for p in plats if p not in PLATFORMS]
    if bad or not plats:
        raise ValueError(f"unknown platform(s) {bad or plats}; known: {list(PLATFORMS)}")
    if isinstance(max_per_type, bool) or not isinstance(max_per_type, int) or not 1 <= max_per_type <= 3:
        raise ValueError(f"max_per_type must be 1, 2 or 3, got {max_per_type!r}")
    todo = list(names) if names else audiences.names
    for n in todo:
        audiences.mask(n)  # raises on an unknown name
    ad = [p for p in plats if p in AD_PLATFORMS]
    if ad and contacts is None:
        raise ValueError(f"contacts are needed for platform(s) {ad}")
    return plats, todo, ad


def _reached(people: pd.Index, hashed: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Per ad platform, who (in ``people`` order) has at least one hashed value; sets each
    platform frame's ``pos`` (position of its OneID in ``people``, -1 when absent)."""
    reached = {}
    for p, pv in hashed.items():
        pos = people.get_indexer(pv["oneid"].astype(str).to_numpy())
        pv["pos"] = pos
        r = np.zeros(len(people), dtype=bool)
        r[pos[pos >= 0]] = True
        reached[p] = r
    return reached


def _log_entry(res: ExportResult, audiences: AudienceSet, d: Any, algo: Any, kid: str, ctx: dict[str, Any],
               run_counts: dict[str, Any], contacts: pd.DataFrame | None) -> dict[str, Any]:
    """The export log's entry for one audience x platform file set."""
    entry = {
        "time_utc": utc_now(), "user": current_user(), **ctx,
        "as_of": str(audiences.as_of), "audience": res.audience,
        "description": d.description, "rule": rule_text(d.rule),
        "definition_hash": res.definition_hash, "platform": res.platform, "fields": res.fields,
        "hash": algo, "in_audience": res.in_audience, "opted_out_removed": res.opted_out_removed,
        "opted_out_identifier_removed": res.opted_out_identifier_removed,
        "no_identifier": res.no_identifier, "exported": res.exported, "files": res.files,
        "key_id": kid, "omni_version": __version__, **run_counts,
    }
    if contacts is not None and res.platform != "oneid":  # over everyone in the contacts frame
        entry["run_shared_values_dropped"] = int(contacts.attrs.get("shared_values", 0))
        entry["run_opted_out_values_dropped"] = int(contacts.attrs.get("opted_out_values", 0))
    return entry


def _suppression(people: pd.Index, suppressed: pd.Series | None) -> tuple[np.ndarray, dict[str, Any]]:
    """People removed by identifier (a mask over ``people``) and the run's counts for the log."""
    sup = np.zeros(len(people), dtype=bool)
    run_counts: dict[str, Any] = {"identifier_suppression": suppressed is not None}
    if suppressed is None:
        return sup, run_counts
    s = suppressed.fillna(False).astype(bool)
    pos = people.get_indexer(pd.Index(s.index[s.to_numpy()]).astype(str))
    sup[pos[pos >= 0]] = True
    a = suppressed.attrs  # counts over the whole run, never values
    run_counts.update(run_opt_out_records=a.get("records"),
                      run_opt_out_quarantined_rows=a.get("quarantined_records"),
                      run_opt_out_identifier_values=a.get("values"))
    return sup, run_counts


def _write_oneid(out_dir: Path, name: str, oneids: pd.Index,
                 key: str | bytes | None) -> tuple[list[dict[str, Any]], list[str], str]:
    """The keyed pseudonyms of an audience's eligible OneIDs: (files, fields, hash)."""
    ids = pd.Series(oneids.to_numpy(), dtype="string[pyarrow]")
    pseud = pseudonymize(ids, key=key).sort_values(kind="stable").reset_index(drop=True)
    path = out_dir / f"{name}.oneid.csv"
    _write_atomic(pd.DataFrame({"oneid_pseudonym": pseud}), path, header=["oneid_pseudonym"])
    files = [{"file": path.name, "field": "oneid_pseudonym", "rows": int(len(pseud)),
              "sha256": sha256_file(path)}]
    return files, ["oneid_pseudonym"], "hmac-sha256"


def _write_platform(out_dir: Path, name: str, platform: str, pv: pd.DataFrame, elig: np.ndarray,
                    max_per_type: int) -> tuple[list[dict[str, Any]], list[str], str]:
    """An ad platform's file(s) of an audience's eligible members: (files, fields, hash).

    ``pv`` is :func:`hashed_platform_values` with ``pos``, the position of each row's OneID among
    the audiences' people (-1: not one of them). Tencent gets one file per field, Google and Meta
    one wide file.
    """
    sub = pv.loc[(pv["pos"] >= 0).to_numpy() & elig[np.maximum(pv["pos"].to_numpy(), 0)]]
    fields = [f.field for f in PLATFORM_FIELDS[platform]]
    files: list[dict[str, Any]] = []
    if platform == "tencent":
        for f in fields:
            vals = pd.Series(sub.loc[(sub["field"] == f).to_numpy(), "hash"].unique())
            if not len(vals):
                continue
            vals = vals.sort_values(kind="stable").reset_index(drop=True)
            path = out_dir / f"{name}.tencent.{f}.csv"
            _write_atomic(vals.to_frame(), path, header=False)
            files.append({"file": path.name, "field": f, "rows": int(len(vals)), "sha256": sha256_file(path)})
    else:
        w, header = _wide(sub, fields, max_per_type)
        path = out_dir / f"{name}.{platform}.csv"
        _write_atomic(w, path, header=header)
        files.append({"file": path.name, "field": ",".join(header), "rows": int(len(w)),
                      "sha256": sha256_file(path)})
    return files, fields, PLATFORM_FIELDS[platform][0].algo


def reach_table(audiences: AudienceSet, contacts: pd.DataFrame,
                platforms: Sequence[str] = AD_PLATFORMS) -> pd.DataFrame:
    """How many eligible members of each audience each platform can reach, and by which field.

    Returns
    -------
    DataFrame
        One row per audience: ``audience``, ``eligible``, then per platform the people with at
        least one usable identifier (``<platform>``) and per field (``<platform> <field>``), and
        ``any platform``.
    """
    people = audiences.people
    cols: dict[str, np.ndarray] = {}
    any_p = np.zeros(len(people), dtype=bool)
    for p in platforms:
        pv = platform_values(contacts, p)
        pos = people.get_indexer(pv["oneid"].astype(str).to_numpy())
        tot = np.zeros(len(people), dtype=bool)
        tot[pos[pos >= 0]] = True
        cols[p] = tot
        any_p |= tot
        for f in PLATFORM_FIELDS[p]:
            sel = (pv["field"] == f.field).to_numpy() & (pos >= 0)
            fm = np.zeros(len(people), dtype=bool)
            fm[pos[sel]] = True
            cols[f"{p} {f.field}"] = fm
    cols["any platform"] = any_p
    rows = []
    for n in audiences.names:
        e = audiences.mask(n, eligible=True)
        rows.append({"audience": n, "eligible": int(e.sum()), **{c: int((e & v).sum()) for c, v in cols.items()}})
    return pd.DataFrame(rows)
