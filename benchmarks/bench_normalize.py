"""Benchmark: loading 1M-row CSVs and normalizing ~20M identifier rows.

Each stage runs in its own subprocess so that its peak resident memory (resource.getrusage) is its
own. Stages:

``load``
    Write a 1M-row UTF-8 CSV (UTC timestamps, phone variants, leading-zero ids, ~0.5% injected bad
    rows) and a 1M-row GBK CSV, then time ``load_source`` on each. Accuracy: accepted/quarantined
    rows against the injected truth.
``phone``
    ``normalize_phone`` on 1M raw values (200k people, 8 formats incl. full-width and Excel floats,
    5% junk of known reasons). Accuracy: share of rows with the expected value / reason.
``ids``
    ``identifier_table`` on 5M records x 4 identifier columns (= 20M identifier rows; phones,
    emails, device ids, member ids drawn from 1M people). Reports rows/s, peak memory and the
    memory of the result.

Targets (brief): a 1M-row CSV loads in seconds; ~20M identifier rows fit in memory.

    .venv/bin/python benchmarks/bench_normalize.py              # full sizes (~2-3 minutes)
    .venv/bin/python benchmarks/bench_normalize.py --quick      # 10x smaller
    .venv/bin/python benchmarks/bench_normalize.py --stage phone
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

SEED = 7
PREFIXES = np.array([135, 136, 137, 138, 139, 150, 151, 158, 159, 166, 177, 186, 187, 188, 199])
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华")


def peak_mb() -> float:
    """Peak resident set size of this process, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _str(a: np.ndarray | pa.Array) -> pa.Array:
    return pc.cast(pa.array(a), pa.string())


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def national_numbers(n_people: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct 11-digit CN mobiles (int64), none with an all-same-digit tail (never junk)."""
    suffix = (np.arange(n_people * 2, dtype=np.int64) * 7919 + 12345) % 10**8
    digits = np.stack([(suffix // 10**k) % 10 for k in range(8)])
    suffix = suffix[~(digits == digits[0]).all(axis=0)][:n_people]
    return rng.choice(PREFIXES, n_people) * 10**8 + suffix


def phone_variants(nat: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Format each national number in one of 8 ways (vectorized string kernels)."""
    s = _str(nat)
    a, b, c = (pc.utf8_slice_codeunits(s, i, j) for i, j in ((0, 3), (3, 7), (7, 11)))
    forms = [
        s,
        _join("+86", s),
        _join("+86 ", a, " ", b, " ", c),
        _join(a, "-", b, "-", c),
        _join("0086-", s),
        _join(s, ".0"),
        _join("(+86)", s),
        _join(" ", a, ".", b, ".", c, " "),
    ]
    which = rng.integers(0, len(forms) + 1, len(nat))  # one more slot: full-width digits
    out = pc.choose(pa.array(np.minimum(which, len(forms) - 1)), *forms)
    full = which == len(forms)
    if full.any():
        fw = pa.array(pc.filter(s, pa.array(full)))
        for d in "0123456789":
            fw = pc.replace_substring(fw, d, chr(0xFF10 + int(d)))
        out = out.to_numpy(zero_copy_only=False).astype(object)
        out[full] = fw.to_numpy(zero_copy_only=False)
        out = pa.array(out, pa.string())
    return out


JUNK = {
    "13800000000": "blocked_default_phone",
    "18888888888": "blocked_default_phone",
    "null": "null_like",
    "未知": "null_like",
    "-": "null_like",
    "138****5678": "masked",
    "12345678901": "sequential",
    "1380013800": "bad_format",
}


def phone_sample(n: int, n_people: int, junk_share: float, rng: np.random.Generator):
    """Raw phone values with known truth: (raw, expected_value, expected_reason)."""
    nat = national_numbers(n_people, rng)[rng.integers(0, n_people, n)]
    raw = phone_variants(nat, rng).to_numpy(zero_copy_only=False).astype(object)
    value = np.char.add("+86", nat.astype(str)).astype(object)
    reason = np.full(n, None, dtype=object)
    junk = rng.random(n) < junk_share
    keys = np.array(list(JUNK), dtype=object)
    pick = keys[rng.integers(0, len(keys), junk.sum())]
    raw[junk] = pick
    value[junk] = None
    reason[junk] = [JUNK[k] for k in pick]
    return raw, value, reason


# ------------------------------------------------------------------------------------ stages


def stage_phone(n: int) -> dict:
    from omni.normalize import normalize_phone

    rng = np.random.default_rng(SEED)
    raw, value, reason = phone_sample(n, n // 5, 0.05, rng)
    s = pd.Series(pa.array(raw, pa.string()), dtype="string[pyarrow]")
    t0 = time.perf_counter()
    r = normalize_phone(s)
    dt = time.perf_counter() - t0
    got_v = r["value"].astype(object).where(r["valid"], None).to_numpy()
    got_r = r["reason"].astype(object).where(~r["valid"], None).to_numpy()
    ok = (pd.Series(got_v).fillna("") == pd.Series(value).fillna("")).to_numpy() & (
        pd.Series(got_r).fillna("") == pd.Series(reason).fillna("")
    ).to_numpy()
    return {
        "stage": "phone",
        "rows": n,
        "distinct": int(s.nunique()),
        "seconds": round(dt, 2),
        "rows_per_s": int(n / dt),
        "accuracy": float(ok.mean()),
        "peak_rss_mb": round(peak_mb()),
    }


def _write_csvs(folder: Path, n: int, rng: np.random.Generator) -> tuple[int, int]:
    raw, _, _ = phone_sample(n, n // 2, 0.02, rng)
    member = pc.utf8_lpad(_str(np.arange(n)), 9, "0")
    t = pa.array(
        np.datetime64("2024-01-01T00:00:00")
        + rng.integers(0, 3 * 365 * 86400, n).astype("timedelta64[s]")
    )
    when = pc.utf8_replace_slice(pc.cast(t, pa.string()), 10, 11, " ")
    name = _join(
        pa.array(np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]),
        pa.array(np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]),
    )
    amount = np.round(rng.gamma(2.0, 150.0, n), 2).astype(str).astype(object)
    when_np = when.to_numpy(zero_copy_only=False).astype(object)
    # Injected problems: 0.2% unparseable times, 0.2% negative amounts, 0.1% duplicate keys.
    bad_time = rng.random(n) < 0.002
    bad_amount = (rng.random(n) < 0.002) & ~bad_time
    dup = (rng.random(n) < 0.001) & ~bad_time & ~bad_amount
    dup[0] = False
    when_np[bad_time] = "2026-13-45 25:00:00"
    amount[bad_amount] = "-1.00"
    member_np = member.to_numpy(zero_copy_only=False).astype(object)
    member_np[dup] = member_np[0]
    table = pa.table(
        {
            "member_id": pa.array(member_np, pa.string()),
            "phone": pa.array(raw, pa.string()),
            "email": _join("user", _str(np.arange(n)), "@example.com"),
            "name": name,
            "register_time": pa.array(when_np, pa.string()),
            "amount": pa.array(amount, pa.string()),
            "opt_out": pa.array(np.where(rng.random(n) < 0.1, "true", "false")),
        }
    )
    pacsv.write_csv(table, folder / "crm.csv")
    text = (folder / "crm.csv").read_text(encoding="utf-8")
    (folder / "pos.csv").write_bytes(text.encode("gbk"))
    bad = int((bad_time | bad_amount | dup).sum())
    return n - bad, bad


def stage_load(n: int) -> dict:
    from omni.io import load_source, read_spec

    rng = np.random.default_rng(SEED)
    cols = (
        "{member_id: string, phone: string, email: string, name: string, register_time: datetime, "
        "amount: float, opt_out: bool}"
    )
    yaml_text = f"""\
dataset: bench
timezone: Asia/Shanghai
sources:
  crm:
    file: crm.csv
    encoding: utf-8
    timezone: UTC
    key: member_id
    columns: {cols}
    required: [member_id, register_time]
    amounts: [amount]
    pii: [phone, email, name]
  pos:
    file: pos.csv
    encoding: gbk
    key: member_id
    columns: {cols}
    required: [member_id, register_time]
    amounts: [amount]
    pii: [phone, email, name]
"""
    out: dict = {"stage": "load", "rows": n}
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        (folder / "sources.yaml").write_text(yaml_text, encoding="utf-8")
        good, bad = _write_csvs(folder, n, rng)
        out["file_mb"] = round((folder / "crm.csv").stat().st_size / 2**20, 1)
        spec = read_spec(folder)
        for name in ("crm", "pos"):
            t0 = time.perf_counter()
            ls = load_source(spec, name)
            dt = time.perf_counter() - t0
            out[f"{name}_seconds"] = round(dt, 2)
            out[f"{name}_rows_per_s"] = int(n / dt)
            out[f"{name}_exact"] = bool(ls.accepted == good and ls.quarantined == bad)
    out["peak_rss_mb"] = round(peak_mb())
    return out


def stage_ids(records: int) -> dict:
    from omni.io.spec import IdSpec, SourceSpec
    from omni.normalize import identifier_table

    rng = np.random.default_rng(SEED)
    people = records // 5
    person = rng.integers(0, people, records)
    raw, _, _ = phone_sample(records, people, 0.02, rng)
    df = pd.DataFrame(
        {
            "record_id": pd.array(_str(np.arange(records)), dtype="string[pyarrow]"),
            "phone": pd.array(pa.array(raw, pa.string()), dtype="string[pyarrow]"),
            "email": pd.array(
                _join("User", _str(person), "@Example.com "), dtype="string[pyarrow]"
            ),
            "device_id": pd.array(
                _join("D", pc.utf8_lpad(_str(person * 3 + rng.integers(0, 3, records)), 15, "0")),
                dtype="string[pyarrow]",
            ),
            "member_id": pd.array(pc.utf8_lpad(_str(person), 10, "0"), dtype="string[pyarrow]"),
        }
    )
    del raw, person
    spec = {
        "s": SourceSpec(
            "s",
            "s.parquet",
            key="record_id",
            columns={c: "string" for c in df.columns},
            identifiers=[IdSpec(c, c) for c in ("phone", "email", "device_id", "member_id")],
        )
    }
    before = peak_mb()
    t0 = time.perf_counter()
    ids = identifier_table({"s": df}, spec)
    dt = time.perf_counter() - t0
    return {
        "stage": "ids",
        "records": records,
        "identifier_rows": len(ids),
        "valid_share": round(float(ids["valid"].mean()), 4),
        "seconds": round(dt, 2),
        "rows_per_s": int(len(ids) / dt),
        "result_mb": round(ids.memory_usage(deep=True).sum() / 2**20),
        "peak_rss_before_mb": round(before),
        "peak_rss_mb": round(peak_mb()),
    }


STAGES = {"phone": stage_phone, "load": stage_load, "ids": stage_ids}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stage", choices=[*STAGES, "all"], default="all")
    ap.add_argument("--quick", action="store_true", help="10x smaller sizes")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    scale = 10 if args.quick else 1
    sizes = {"phone": 1_000_000 // scale, "load": 1_000_000 // scale, "ids": 5_000_000 // scale}
    if args.child:
        print(json.dumps(STAGES[args.stage](sizes[args.stage])), flush=True)
        return 0
    stages = list(STAGES) if args.stage == "all" else [args.stage]
    for st in stages:
        cmd = [sys.executable, __file__, "--stage", st, "--child"] + (
            ["--quick"] if args.quick else []
        )
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            print(res.stderr, file=sys.stderr)
            return res.returncode
        result = json.loads(res.stdout.strip().splitlines()[-1])
        wall = time.perf_counter() - t0
        print(f"== {st} (subprocess wall {wall:.1f} s, incl. data generation)")
        for k, v in result.items():
            if k != "stage":
                print(f"  {k:<22} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
