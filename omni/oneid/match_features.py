"""Matching units and their quasi-identifier features for the probabilistic OneID stage.

The probabilistic stage compares two kinds of *units*:

* **accounts** (the left side): clusters of the deterministic graph held together only by an
  unbound platform buyer id (every record ``how == "account"``). Their features come from their
  own orders: receiver names, masked phones (``138****5678``) and delivery addresses.
* **profiles** (the right side): clusters with at least one person-level strong identifier
  (``how == "strong"``). Their features are what a CDP holds about the person: the full phones
  of the profile (masked to first 3 + last 4 digits so they compare with platform exports), the
  CRM name and city, and the receiver names, masked phones and addresses of the profile's own
  (bound) platform orders.

Every feature is kept as its distinct values (``mphones``, ``names``, ...: lists compared by
overlap, so a family member's name on one order does not hide the buyer's own name on the
others); name, masked phone, city and street also as their most frequent value (``name``,
``mphone``, ...: term-frequency adjustments and the scalar EM blocking rules). Only the raw
sources are used, never truth.

Quasi-identifier values are normalized for comparison here (the identifier table keeps them
as written): names also get a tone-less pinyin form (homophone typos such as 王静/王晶 agree),
provinces and cities lose their administrative suffixes (``广东省`` = ``广东``, ``深圳市`` =
``深圳``), districts are qualified by their city (``朝阳区`` exists in Beijing and Changchun), and
street addresses are reduced to a key of road, house number and the numbers after it
(``人民路62号星河湾9栋3204室``, ``人民路 62号 星河湾 9幢3204`` and ``徐汇区人民路62号星河湾9-3204``
all become ``人民路62号|9-3204``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from omni.normalize import as_string, quasi_table, shared_dictionary
from omni.oneid.inputs import record_positions
from omni.oneid.resolve import Resolution

if TYPE_CHECKING:
    from omni.io.dataset import Dataset
    from omni.io.spec import DatasetSpec, SourceSpec
    from omni.normalize import NormalizeConfig

__all__ = ["LEAN_QUASI_COLUMNS", "address_role", "concat_quasi_fields", "equals", "lean_quasi", "list_columns",
           "mask_phone_values", "match_units", "name_pinyin", "normalize_quasi", "quasi_fields", "unit_kinds",
           "wide_units"]

#: Features compared by the matcher, by the quasi-identifier field they come from.
FIELDS: tuple[str, ...] = ("name", "masked_phone", "province", "city", "district", "street")
QUASI_COLUMNS: tuple[str, ...] = ("record_key", "id_type", "value", "valid", "column")
#: What the embedded matcher reads of the quasi table (:func:`lean_quasi`).
LEAN_QUASI_COLUMNS: tuple[str, ...] = ("source", "row", "field", "value", "valid")
_FIELD_LIST = ", ".join(f"'{f}'" for f in FIELDS)
#: Weight of a profile's own phone against one order's receiver phone when picking its primary.
PHONE_PRIORITY = 1_000_000

_PROVINCE_SUFFIX = r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$"
_CITY_SUFFIX = r"(?:市|地区|盟)$"
_ROAD = r"^(?:[^\d]*?(?:区|县|旗))?([^\d\s]+?(?:大道|路|街|道|巷|弄|胡同))(\d+)号(.*)$"


# ------------------------------------------------------------------------------ quasi fields


def address_role(column: str) -> str:
    """Which part of an address a quasi-identifier column of type ``address`` holds.

    ``province`` / ``city`` / ``district`` when the column name says so (``province``,
    ``receiver_city``, ``county``, ``省``, ``市``, ``区``), otherwise ``street`` (the address line).
    """
    c = str(column).lower()
    if "province" in c or c.endswith("prov") or "省" in c:
        return "province"
    if "district" in c or "county" in c or c.endswith("区") or c.endswith("县"):
        return "district"
    if "city" in c or c.endswith("市"):
        return "city"
    return "street"


def quasi_fields(
    data: Dataset | Mapping[str, pd.DataFrame],
    spec: DatasetSpec | Mapping[str, SourceSpec] | None = None,
    config: NormalizeConfig | None = None,
    lean: bool = False,
) -> pd.DataFrame:
    """The quasi-identifier table with the source column of every row and its matching field.

    :func:`omni.normalize.quasi_table` gives one row per (record, quasi-identifier column) but
    no column name, and a source can hold several columns of one type (province, city, district
    and street are all ``address``). The table is ordered by source, column, record and holds
    one row per non-null raw value, so the column of every row follows from the non-null counts
    of the declared columns; the first and last row (and raw value) of every block are checked
    against the source table.

    Parameters
    ----------
    data, spec, config
        As for :func:`omni.normalize.quasi_table`.
    lean : bool
        Build the table the embedded matcher reads (:func:`lean_quasi`) without ever holding the
        full one: no key strings or raw values are made (at 5M persons the full table of one
        order export is some 60 M key strings).

    Returns
    -------
    DataFrame
        The quasi table plus ``column`` (source column, category) and ``field`` (``name``,
        ``masked_phone``, ``province``, ``city``, ``district``, ``street``; category); with
        ``lean``, the columns of :data:`LEAN_QUASI_COLUMNS`.

    Raises
    ------
    ValueError
        When the quasi table does not line up with the declared columns.
    """
    q = quasi_table(data, spec, config, lean=lean)
    tables = getattr(data, "tables", data)
    specs = getattr(spec if spec is not None else getattr(data, "spec", None), "sources", spec)
    names = [n for n in specs if n in tables]
    cols, roles, counts, blocks = [], [], [], []
    start = 0
    for name in names:
        df = tables[name]
        for qs in specs[name].quasi_identifiers:
            present = np.flatnonzero(as_string(df[qs.column]).notna().to_numpy())
            n = len(present)
            if n == 0:
                continue
            cols.append(f"{name}.{qs.column}")
            role = address_role(qs.column) if qs.type == "address" else qs.type
            roles.append(role)
            counts.append(n)
            blocks.append((name, qs.column, start, n, present[0], present[-1]))
            start += n
    if start != len(q):
        raise ValueError(
            f"quasi table has {len(q)} rows but the declared quasi-identifier columns hold {start} "
            "non-null values"
        )
    rows = q["row"].to_numpy()
    raw = None if lean else q["raw"]
    for name, col, s, n, first, last in blocks:
        src = None if lean else as_string(tables[name][col])
        for i, want in ((s, first), (s + n - 1, last)):
            if (str(q["source"].iat[i]) != name or int(rows[i]) != want
                    or (raw is not None and src.iat[int(rows[i])] != raw.iat[i])):
                raise ValueError(
                    f"quasi table row {i} does not come from column {col!r} of source {name!r}"
                )
    code = np.repeat(np.arange(len(cols), dtype=np.int32), counts)
    q["column"] = pd.Categorical.from_codes(code, categories=pd.Index(cols).unique()) if cols else (
        pd.Categorical([], categories=[]))
    fields = list(dict.fromkeys([*FIELDS, *roles]))  # codes, not a Python string per row
    q["field"] = pd.Categorical.from_codes(np.array([fields.index(r) for r in roles], dtype=np.int32)[code]
                                           if roles else np.zeros(0, np.int32), categories=fields)
    return lean_quasi(q) if lean else q


def lean_quasi(quasi: pd.DataFrame) -> pd.DataFrame:
    """The quasi table as the embedded matcher reads it (:data:`LEAN_QUASI_COLUMNS`).

    ``source``, ``row`` (int32; a record is its source and row), ``field``, ``valid`` and
    ``value`` dictionary-encoded (names, cities and streets repeat): no record keys, raw text,
    types or source columns, which only the explanations of the full table
    (:func:`quasi_fields`) read. At 1M persons (13.4 M rows) this is about 0.2 GB against 1.1 GB
    for the full table; :func:`match_units` gives the same units from either.

    Parameters
    ----------
    quasi : DataFrame
        A quasi table of :func:`quasi_fields` (of one source or several).

    Returns
    -------
    DataFrame
        Same rows and order.
    """
    missing = [c for c in LEAN_QUASI_COLUMNS if c not in quasi.columns]
    if missing:
        raise ValueError(f"quasi table is missing column(s) {missing}; build it with quasi_fields")
    value = _arrow_strings(quasi["value"]).dictionary_encode()  # chunks share one dictionary
    return pd.DataFrame({
        "source": quasi["source"].astype("category"),
        "row": quasi["row"].to_numpy(np.int32),
        "field": quasi["field"].astype("category"),
        "value": pd.Series(pd.arrays.ArrowExtensionArray(value), index=quasi.index),
        "valid": quasi["valid"].fillna(False).to_numpy(dtype=bool),
    }, index=quasi.index)


def concat_quasi_fields(parts: Sequence[pd.DataFrame], sources: Sequence[str] | None = None) -> pd.DataFrame:
    """Stack quasi tables of single sources (:func:`quasi_fields` of one source each, in spec
    order) into the table :func:`quasi_fields` gives for all of them at once.

    Parameters
    ----------
    parts : sequence of DataFrame
        Per-source quasi tables, in the order their sources are declared.
    sources : sequence of str, optional
        The categories of the stacked ``source`` column (e.g. every source of the spec, as
        :func:`quasi_fields` of a whole dataset has them); default: the parts' sources.

    Returns
    -------
    DataFrame
        Same columns and dtypes; categoricals carry the union of the parts' categories in order of
        appearance (``column``: source by source; ``field``: the known fields first).
    """
    from pandas.api.types import union_categoricals

    parts = [p for p in parts if len(p.columns)]
    if not parts:
        return pd.DataFrame(columns=[*QUASI_COLUMNS, "source", "row", "column", "field"])
    cats = [c for c in parts[0].columns if isinstance(parts[0][c].dtype, pd.CategoricalDtype)]
    # lean parts (lean_quasi): their value dictionaries become one, without decoding the values
    coded = [c for c in parts[0].columns if isinstance(parts[0][c].dtype, pd.ArrowDtype)
             and pa.types.is_dictionary(parts[0][c].dtype.pyarrow_dtype)]
    out = pd.concat([p.drop(columns=cats + coded) for p in parts], ignore_index=True)
    for c in coded:
        chunks = [ch for p in parts for ch in p[c].array.__arrow_array__().chunks if len(ch)]
        if chunks:
            out[c] = pd.arrays.ArrowExtensionArray(shared_dictionary(chunks))
        else:
            out[c] = pd.arrays.ArrowExtensionArray(pa.chunked_array([], type=parts[0][c].dtype.pyarrow_dtype))
    for c in cats:
        u = union_categoricals([pd.Categorical(p[c]) for p in parts])
        if c == "source" and sources is not None:
            u = u.set_categories(list(dict.fromkeys([*sources, *u.categories])))
        elif c == "field":
            u = u.set_categories(list(dict.fromkeys([*FIELDS, *u.categories])))
        out[c] = u
    return out[list(parts[0].columns)]


# ------------------------------------------------------------------------- value normalizers

#: DuckDB SQL that normalizes a quasi value ``v`` of each field for comparison (one place, used
#: both by the matcher and by :func:`normalize_quasi`).
_ROAD_RE = r"^(?:[^0-9]*?(?:区|县|旗))?([^0-9]+?(?:大道|路|街|道|巷|弄|胡同))([0-9]+)号(.*)$"
NORMALIZE_SQL: dict[str, str] = {
    "name": "v",
    "masked_phone": "v",
    "province": "regexp_replace(trim(v), '(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$', '')",
    "city": "regexp_replace(trim(v), '(市|地区|盟)$', '')",
    "district": "trim(v)",
    # the street line: road + number + '|' + the numbers after it; the text without spaces when
    # there is no road and number (``m`` is the match of _ROAD_RE on the text without spaces)
    "street": (
        "CASE WHEN m.road <> '' THEN m.road || m.num || '号|' || "
        "array_to_string(regexp_extract_all(m.rest, '[0-9]+'), '-') ELSE t END"
    ),
    "road": "CASE WHEN m.road <> '' THEN m.road || m.num || '号' END",
}


def _normalize_select(source: str) -> str:
    """SQL over ``source`` (columns ``field``, ``v``): adds ``nv`` (normalized) and ``road``."""
    cases = " ".join(f"WHEN '{f}' THEN {sql}" for f, sql in NORMALIZE_SQL.items() if f != "road")
    return f"""
        SELECT field, v, CASE field {cases} END AS nv,
               CASE WHEN field = 'street' THEN {NORMALIZE_SQL['road']} END AS road
        FROM (SELECT field, v, t,
                     CASE WHEN field = 'street'
                          THEN regexp_extract(t, '{_ROAD_RE}', ['road', 'num', 'rest']) END AS m
              FROM (SELECT field, v, regexp_replace(v, '\\s+', '', 'g') AS t FROM {source}))
    """


def _connect(threads: int | None = None):
    from omni.engine import LINKAGE_MEMORY_LIMIT, connect

    return connect(threads=threads, preserve_order=True, memory_limit=LINKAGE_MEMORY_LIMIT)


def normalize_quasi(values: pd.Series, field: str) -> pd.Series:
    """Comparison form of quasi-identifier values of one field (the matcher's own rules).

    ``province``: ``广东省`` / ``广东`` -> ``广东``; ``city``: ``深圳市`` -> ``深圳``; ``street``:
    road + number + the numbers after it (``人民路 62号 星河湾 9幢3204`` -> ``人民路62号|9-3204``);
    ``road``: road + number (``人民路62号``); ``name_py``: tone-less pinyin; other fields as given.
    """
    if field == "name_py":
        return name_pinyin(values)
    if field not in NORMALIZE_SQL:
        raise ValueError(f"unknown quasi field {field!r}; expected one of {sorted(NORMALIZE_SQL)}")
    values = pd.Series(values)
    con = _connect()
    f = "street" if field == "road" else field
    con.register("t_in", pa.table({
        "field": pa.array([f] * len(values), type=pa.string()),
        "v": pa.array(values.astype(object).where(values.notna(), None).tolist(), type=pa.string()),
    }))
    col = "road" if field == "road" else "nv"
    out = con.sql(f"SELECT {col} AS v FROM ({_normalize_select('t_in')})").to_arrow_table()
    con.close()
    return pd.Series(out.column("v").to_pylist(), index=values.index, dtype="string")


def name_pinyin(s: pd.Series) -> pd.Series:
    """Tone-less pinyin of names (``王静`` and ``王晶`` are both ``wangjing``).

    Characters are looked up once each (pypinyin), names are assembled from the per-character
    readings, so the cost grows with the distinct names and characters, not the records.
    """
    from pypinyin import lazy_pinyin

    s = pd.Series(s)
    codes, uniq = pd.factorize(s)
    if len(uniq) == 0:
        return pd.Series(pd.NA, index=s.index, dtype="string")
    chars = sorted(set("".join(map(str, uniq))))
    reading = dict(zip(chars, (lazy_pinyin(c)[0] for c in chars), strict=True))
    py = np.array(["".join([reading[c] for c in str(n)]) for n in uniq], dtype=object)
    return pd.Series(py[np.maximum(codes, 0)], index=s.index, dtype="string").where(codes >= 0)


def mask_phone_values(values: pd.Series) -> pd.Series:
    """First 3 + last 4 digits of normalized phones (E.164): ``+8613800138000`` -> ``138****8000``.

    Only mainland mobiles (``+861[3-9]`` + 9 digits) have a masked form; others are null.
    """
    import pyarrow.compute as pc

    v = pd.Series(values)
    arr = _arrow_strings(v.astype("string") if not isinstance(v.dtype, pd.StringDtype) else v)
    ok = pc.fill_null(pc.match_substring_regex(arr, r"^\+861[3-9]\d{9}$"), False)
    masked = pc.binary_join_element_wise(pc.utf8_slice_codeunits(arr, 3, 6), "****",
                                         pc.utf8_slice_codeunits(arr, -4, 2**31 - 1), "")
    out = pc.if_else(ok, masked, pa.scalar(None, pa.string()))
    return pd.Series(pd.arrays.ArrowStringArray(out), index=v.index)


# ----------------------------------------------------------------------------- the units


def equals(s: pd.Series, value: str) -> np.ndarray:
    """``s == value`` as a bool array; on categoricals through the codes (no string per row)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        i = s.cat.categories.get_indexer([value])[0]
        return np.asarray(s.cat.codes) == i if i >= 0 else np.zeros(len(s), dtype=bool)
    return (s.astype(str) == value).to_numpy()


def unit_kinds(res: Resolution) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks over clusters: (account clusters, profile clusters).

    An account cluster holds records linked only by an unbound platform account (``how ==
    "account"``) and none with a person-level strong identifier; a profile holds at least one
    ``how == "strong"`` record.
    """
    how = res.records["how"]
    cl = res.records["cluster"].to_numpy()
    n = res.n_clusters
    strong = np.zeros(n, dtype=bool)
    strong[cl[equals(how, "strong")]] = True
    account = np.zeros(n, dtype=bool)
    account[cl[equals(how, "account")]] = True
    return account & ~strong, strong


def _before_colon(s: pd.Series) -> np.ndarray:
    """``tmall:tb_x`` -> ``tmall`` (the scope of scoped ids), via Arrow."""
    import pyarrow.compute as pc

    parts = pc.split_pattern(_arrow_strings(s), ":", max_splits=1)
    return np.asarray(pc.list_element(parts, 0).to_numpy(zero_copy_only=False), dtype=object)


def _strong_values(res: Resolution, id_type: str, clusters_mask: np.ndarray) -> pd.DataFrame:
    """Linking values of one type per cluster: ``unit``, ``value``, ``n`` (records)."""
    vals = res.values
    is_t = equals(vals["id_type"], id_type) & equals(vals["status"], "strong")
    e = res.edges
    ev = e["val"].to_numpy()
    sel = is_t[ev]
    cl = res.records["cluster"].to_numpy()[e["rec"].to_numpy()[sel]]
    ok = clusters_mask[cl]
    df = pd.DataFrame({"unit": cl[ok], "val": ev[sel][ok]})
    df = df.groupby(["unit", "val"], sort=True).size().rename("n").reset_index()
    df["value"] = pd.Series(vals["value"].to_numpy()[df["val"].to_numpy()], dtype="string").array
    return df


def _arrow_strings(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A string column as Arrow: no copy when it is Arrow-backed already, one pass otherwise."""
    arr = s.array
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        out = pa.array(arr)
        if pa.types.is_string(out.type) or pa.types.is_large_string(out.type):
            return out
    if isinstance(s.dtype, pd.ArrowDtype):
        return pa.array(arr)
    return pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.string(), from_pandas=True)


def _codes_as_dictionary(cat: pd.Categorical, names: Sequence[str]) -> pa.DictionaryArray:
    codes = np.asarray(cat.codes, dtype=np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0),
                                          pa.array(list(names), type=pa.string()))


def _quasi_rows(quasi: pd.DataFrame) -> pa.Table:
    """The quasi table as Arrow: ``field``, ``v``, ``valid`` (no row-wise work in Python:
    categoricals become dictionary arrays, strings are passed through)."""
    need = ("value", "valid", "field") if "field" in quasi.columns else QUASI_COLUMNS
    missing = [c for c in need if c not in quasi.columns]
    if missing:
        hint = (" (build it with omni.oneid.match_features.quasi_fields, which adds the source "
                "column of every row)" if "column" in missing else "")
        raise ValueError(f"quasi table is missing column(s) {missing}{hint}")
    if "field" in quasi.columns:
        f = pd.Categorical(quasi["field"])
        field = _codes_as_dictionary(f, [str(c) for c in f.categories])
    else:
        # role of every (id_type, column) combination, computed once per combination
        combo = pd.MultiIndex.from_arrays([quasi["id_type"].astype("category"),
                                           quasi["column"].astype("category")])
        codes, uniq = pd.factorize(combo)
        roles = [address_role(str(c).split(".", 1)[-1]) if str(t) == "address" else str(t)
                 for t, c in uniq]  # one per distinct (type, column): a handful
        field = _codes_as_dictionary(pd.Categorical.from_codes(codes, categories=range(len(uniq))),
                                     roles)
    return pa.table({
        "field": field,
        "v": _arrow_strings(quasi["value"]),
        "valid": pa.array(quasi["valid"].fillna(False).to_numpy(dtype=bool)),
    })


_WIDE = (("name", "names"), ("name_py", "names_py"), ("mphone", "mphones"),
         ("province", "provinces"), ("city", "cities"), ("district", "districts"),
         ("street", "streets"), ("road", "roads"))
#: Features whose most frequent value is kept (term-frequency adjustments, blocking, EM).
_MODES: tuple[str, ...] = ("name", "mphone", "city", "street")


def _features(res: Resolution, quasi: pd.DataFrame, unit_side: np.ndarray,
              phones: pd.DataFrame, threads: int | None) -> dict[int, pa.Table]:
    """Per side (1: accounts, 2: profiles): one row per unit with mode and list columns."""
    con = _connect(threads)
    rec = res.records
    cl = rec["cluster"].to_numpy()
    side = unit_side[cl]
    # each quasi row's record: by (source, row), integers, when both tables have them (a
    # resolution from the sources; a join on 20 M key strings held 2.8 GB more at 1M persons),
    # else by key; rows of records not resolved here (after an as-of cut) find none
    pos = record_positions(quasi, rec, unknown="skip")
    found = pos >= 0
    at = np.where(found, pos, 0)
    take = np.flatnonzero(found & (side[at] > 0))
    q = _quasi_rows(quasi).take(pa.array(take))
    con.register("q", q.append_column("unit", pa.array(cl[at[take]], type=pa.int64()))
                 .append_column("side", pa.array(side[at[take]], type=pa.int8())))
    del pos, found, at, take, q
    con.register("ph", pa.table({
        "unit": pa.array(phones["unit"].to_numpy(np.int64)),
        "v": pa.array(phones["masked"].to_numpy(dtype=object), type=pa.string()),
        "w": pa.array(phones["w"].to_numpy(np.int64)),
    }))
    con.execute(f"""
        CREATE TEMP TABLE raw AS
        SELECT m.side, m.unit, CAST(m.field AS VARCHAR) AS field, CAST(m.v AS VARCHAR) AS v,
               count(*) AS w
        FROM q m
        WHERE m.valid AND m.v IS NOT NULL AND CAST(m.field AS VARCHAR) IN ({_FIELD_LIST})
        GROUP BY ALL
    """)
    # distinct values normalized once each; the street line also gives the road
    con.execute(f"""
        CREATE TEMP TABLE dv AS
        {_normalize_select("(SELECT DISTINCT field, v FROM raw)")}
    """)
    names = con.sql("SELECT DISTINCT v FROM raw WHERE field = 'name' ORDER BY v").to_arrow_table()
    py = name_pinyin(pd.Series(names.column("v").to_pylist(), dtype="string"))
    con.register("py", pa.table({"v": names.column("v"),
                                 "py": pa.array(py.to_numpy(dtype=object), type=pa.string())}))
    # every (side, unit, feature, value) with its weight: the masked phones of both sides are one
    # feature, so the weights are summed once over the four parts
    con.execute("""
        CREATE TEMP TABLE units_long AS
        SELECT side, unit, f, v, CAST(sum(n) AS BIGINT) AS n FROM (
            SELECT side, unit, CASE field WHEN 'masked_phone' THEN 'mphone' ELSE field END AS f,
                   nv AS v, w AS n
            FROM raw JOIN dv USING (field, v) WHERE nv IS NOT NULL AND nv <> ''
            UNION ALL
            SELECT side, unit, 'road' AS f, road AS v, w AS n
            FROM raw JOIN dv USING (field, v) WHERE field = 'street' AND road IS NOT NULL
            UNION ALL
            SELECT side, unit, 'name_py' AS f, py.py AS v, w AS n
            FROM raw JOIN py USING (v) WHERE field = 'name'
            UNION ALL
            SELECT CAST(2 AS TINYINT) AS side, unit, 'mphone' AS f, v, w AS n FROM ph
        ) GROUP BY ALL
    """)
    con.execute("DROP TABLE raw; DROP TABLE dv")
    n_rows = con.execute("SELECT count(*) FROM units_long").fetchall()[0][0]
    if n_rows <= WIDE_UNITS_IN_MEMORY_ROWS:
        t = con.sql("SELECT * FROM units_long").to_arrow_table()
        con.close()
        return wide_units(t)
    out = _wide_units_in_engine(con)
    con.close()
    return out


#: Up to this many (side, unit, feature, value) rows the wide units are made in NumPy
#: (:func:`wide_units`), above it in DuckDB, which spills to disk within its memory limit. At 1M
#: persons (9.8 M rows) NumPy took 7 CPU-seconds and 1.86 GB above what was held, DuckDB 16 and
#: 2.47 GB; at 5M (about 49 M rows) NumPy would need about 9 GB more, beside a process already at
#: 12-16 GB in this stage. 20 M rows is about 2M persons, where the records reach
#: :data:`omni.memory.OUT_OF_CORE_RECORDS`.
WIDE_UNITS_IN_MEMORY_ROWS = 20_000_000


def _wide_units_in_engine(con) -> dict[int, pa.Table]:
    """:func:`wide_units` of the table ``units_long`` in DuckDB (the same tables): the mode by
    ``arg_min(v, (-n, v))`` and the sorted list per (side, unit, feature), then one row per unit."""
    con.execute(f"""
        CREATE TEMP TABLE g AS
        SELECT side, unit, f,
               arg_min(v, (-n, v)) FILTER (WHERE f IN ({", ".join(f"'{m}'" for m in _MODES)}))
                   AS mode,
               list_sort(list(v)) AS vals
        FROM units_long GROUP BY side, unit, f
    """)
    con.execute("DROP TABLE units_long")
    cols = ", ".join(
        (f"any_value(mode) FILTER (WHERE f = '{a}') AS {a}, " if a in _MODES else "")
        + f"any_value(vals) FILTER (WHERE f = '{a}') AS {b}" for a, b in _WIDE)
    out = {}
    for s in (1, 2):
        out[s] = _null_empty_lists(con.sql(f"""
            SELECT unit AS unique_id, {cols} FROM g WHERE side = {s}
            GROUP BY unit ORDER BY unit
        """).to_arrow_table())
    return out


def _null_empty_lists(t: pa.Table) -> pa.Table:
    """An empty list (an empty FILTER in some engines) as null, as :func:`wide_units` gives it."""
    import pyarrow.compute as pc

    for i, name in enumerate(t.column_names):
        col = t.column(i)
        if pa.types.is_list(col.type):
            empty = pc.equal(pc.list_value_length(col), 0)
            t = t.set_column(i, name, pc.if_else(empty, pa.nulls(len(col), col.type), col))
    return t


#: The list columns' type (as DuckDB gives lists: Splink reads them in DuckDB).
_LIST = pa.list_(pa.field("l", pa.string()))


def _bits(n: int) -> int:
    return max(1, int(n).bit_length())


def wide_units(t: pa.Table) -> dict[int, pa.Table]:
    """One row per unit and side from one row per (``side``, ``unit``, ``f``, ``v``) with its
    weight ``n``: ``unique_id``; per feature of :data:`_WIDE` the sorted distinct values (a list;
    null when none), and for :data:`_MODES` the mode (most weight; ties: the smallest value).

    Sorted once by one integer key (side, unit, feature, the value's rank in binary string order,
    as DuckDB sorts), the groups are contiguous runs: the lists are slices of the sorted values and
    the mode is the first value of a run at the run's largest weight. At 1M persons (9.8 M rows)
    this took 7 CPU-seconds where DuckDB's ``arg_min(v, (-n, v))`` and ``list_sort(list(v))``
    per group, then a pivot per side, took 16, with the same tables.
    """
    import pyarrow.compute as pc

    names = [a for a, _ in _WIDE]
    fcode = pc.index_in(t.column("f"), value_set=pa.array(names))
    if fcode.null_count:  # features not in the wide table are not read
        t = t.filter(pc.is_valid(fcode))
        fcode = fcode.filter(pc.is_valid(fcode))
    fcode = np.asarray(fcode.to_numpy(zero_copy_only=False), dtype=np.int64)
    side = t.column("side").to_numpy().astype(np.int64)
    unit = t.column("unit").to_numpy().astype(np.int64)
    n = t.column("n").to_numpy().astype(np.int64)
    enc = pc.dictionary_encode(t.column("v")).combine_chunks()
    sort = pc.sort_indices(enc.dictionary).to_numpy()  # binary order, as DuckDB's
    rank = np.empty(len(sort), np.int64)
    rank[sort] = np.arange(len(sort))
    vr = rank[enc.indices.to_numpy()]
    ordered = enc.dictionary.take(pa.array(sort))
    del enc, rank, sort, t
    vb, fb = _bits(len(ordered)), _bits(len(names))
    ub = _bits(int(unit.max()) if len(unit) else 1)
    if 1 + ub + fb + vb > 62:
        raise ValueError(f"too many units or values for one sort key ({ub} + {fb} + {vb} bits)")
    key = (((((side << ub) | unit) << fb) | fcode) << vb) | vr
    del side, unit, fcode
    order = np.argsort(key)  # unique keys: (side, unit, f, v) is one row each
    key, vr, n = key[order], vr[order], n[order]
    del order
    run = key >> vb
    starts = np.flatnonzero(np.r_[True, run[1:] != run[:-1]]) if len(run) else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, len(run)])
    of_row = np.repeat(np.arange(len(starts)), lengths)
    g = run[starts]
    g_f, g_unit, g_side = g & ((1 << fb) - 1), (g >> fb) & ((1 << ub) - 1), g >> (fb + ub)
    del key, run, g
    top = np.flatnonzero(n == np.maximum.reduceat(n, starts)[of_row]) if len(n) else np.zeros(0, np.int64)
    mode = vr[top[np.r_[True, of_row[top][1:] != of_row[top][:-1]]]] if len(top) else top
    del of_row, top, n
    out = {}
    for s in (1, 2):
        gs = np.flatnonzero(g_side == s)
        gu = g_unit[gs]  # in unit order within a side
        units = gu[np.r_[True, gu[1:] != gu[:-1]]] if len(gu) else gu
        cols = {"unique_id": pa.array(units, pa.int64())}
        for i, (a, b) in enumerate(_WIDE):
            ga = gs[g_f[gs] == i]
            at = np.searchsorted(units, g_unit[ga])
            missing = np.ones(len(units), bool)
            missing[at] = False
            if a in _MODES:
                m = np.full(len(units), -1, np.int64)
                m[at] = mode[ga]
                cols[a] = ordered.take(pa.array(m, mask=m < 0))
            size = np.zeros(len(units), np.int64)
            size[at] = lengths[ga]
            offsets = pa.array(np.r_[0, np.cumsum(size)].astype(np.int32))
            values = ordered.take(pa.array(vr[_ranges(starts[ga], lengths[ga])]))
            cols[b] = pa.ListArray.from_arrays(offsets, values, type=_LIST, mask=pa.array(missing))
        out[s] = pa.table(cols)
    return out


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + l) for s, l in zip(starts, lengths)])``, without the loop."""
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    if not len(starts):
        return np.zeros(0, np.int64)
    steps = np.ones(int(lengths.sum()), np.int64)
    steps[0] = starts[0]
    ends = np.cumsum(lengths)
    steps[ends[:-1]] = starts[1:] - (starts[:-1] + lengths[:-1] - 1)  # from one run's last to the next start
    return np.cumsum(steps)


def match_units(
    res: Resolution, quasi: pd.DataFrame, ids: pd.DataFrame | None = None,
    threads: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two sides of the probabilistic stage, one row per unit.

    Parameters
    ----------
    res : Resolution
        Output of the deterministic graph.
    quasi : DataFrame
        Quasi-identifier table with ``column`` (see :func:`quasi_fields`).
    ids : DataFrame, optional
        The identifier table; only checked. The profile phones are read from the resolution's
        linking values, so a phone the graph blocked (a store default, a shared number) never
        becomes evidence.
    threads : int, optional
        DuckDB threads (default: all cores).

    Returns
    -------
    accounts, profiles : DataFrame
        ``unique_id`` (cluster); the most frequent ``name``, ``mphone``, ``city`` and
        ``street`` (ties: smallest value); the distinct values of every feature as sorted lists
        (``names``, ``names_py``, ``mphones``, ``provinces``, ``cities``, ``districts``,
        ``streets``, ``roads``; null when none).
        Accounts also have ``account`` (the scoped buyer id), ``platform`` and ``n_records``;
        profiles have ``accounts_<platform>``: the platform accounts they already hold. Every
        account is listed (accounts without any quasi value have null features); profiles
        without any feature are left out (nothing can match them). Sorted by ``unique_id``.
        List columns are Arrow-backed (``pd.ArrowDtype``).
    """
    if ids is not None and "id_type" not in ids.columns:
        raise ValueError(f"identifier table has no 'id_type' column; it has {list(ids.columns)}")
    acc_mask, prof_mask = unit_kinds(res)
    unit_side = np.zeros(res.n_clusters, dtype=np.int8)
    unit_side[acc_mask] = 1
    unit_side[prof_mask] = 2
    # profiles: their own phones, masked like a platform export, rank before receiver phones
    ph = _strong_values(res, "phone", prof_mask)
    masked = mask_phone_values(pd.Series(ph["value"].array, dtype="string"))
    ok = masked.notna().to_numpy()
    phones = pd.DataFrame({"unit": ph["unit"].to_numpy()[ok], "masked": masked.to_numpy()[ok],
                           "w": ph["n"].to_numpy()[ok].astype(np.int64) + PHONE_PRIORITY})
    feats = _features(res, quasi, unit_side, phones, threads)

    acc_units = np.flatnonzero(acc_mask)
    left = pd.DataFrame({"unique_id": acc_units}).merge(
        feats[1].to_pandas(types_mapper=pd.ArrowDtype), on="unique_id", how="left")
    right = feats[2].to_pandas(types_mapper=pd.ArrowDtype)

    acct = _strong_values(res, "platform_buyer", acc_mask | prof_mask)
    acct["platform"] = _before_colon(acct["value"])
    a = acct[acc_mask[acct["unit"].to_numpy()]].sort_values(["unit", "n", "value"],
                                                            ascending=[True, False, True])
    a = a.drop_duplicates("unit").set_index("unit")
    left["account"] = a["value"].reindex(acc_units).to_numpy()
    left["platform"] = a["platform"].reindex(acc_units).to_numpy()
    n_rec = np.bincount(res.records["cluster"].to_numpy(), minlength=res.n_clusters)
    left["n_records"] = n_rec[acc_units]
    p = acct[prof_mask[acct["unit"].to_numpy()]]
    held = p.groupby(["unit", "platform"]).size().unstack(fill_value=0)
    for plat in held.columns:
        right[f"accounts_{plat}"] = held[plat].reindex(right["unique_id"]).fillna(0).to_numpy(np.int64)
    return left, right


def list_columns(frame: pd.DataFrame) -> Sequence[str]:
    """The list-valued feature columns of a unit table."""
    return [b for _, b in _WIDE if b in frame.columns]
