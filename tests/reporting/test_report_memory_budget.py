"""Memory-aware scheduling of the report's notebooks (omni.reporting.schedule, issue 16): the
decision with fake estimates, the estimates (metadata, scaled by records; learnt from the previous
report), the budget's parsing, and one report on the test world whose two notebooks would not fit
together."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from omni.reporting.runner import run_report
from omni.reporting.schedule import (
    KERNEL_BASE_GB,
    MEMORY_GB_AT_1M,
    estimate_memory,
    expected_left,
    notebook_memory_at_1m,
    parse_memory,
    startable,
)

#: Peak GB at 1M persons of the six notebooks and the runner's resolution (fake, round figures).
AT_1M = {"01": 4.0, "02": 5.0, "03": 4.0, "04": 3.0, "05": 8.0, "06": 9.0, "resolution": 9.0}


def _simulate(order, estimates, seconds, budget, jobs, early=(), resolution=0.0):
    """Start and end time of every notebook when the runner follows :func:`startable`: ``early``
    notebooks may start while the resolution (``resolution`` seconds) runs, the rest after it."""
    start, end = {}, {}
    pending = [n for n in order if n in early]
    for n in startable(pending, ["resolution"] if resolution else [], estimates, budget, jobs):
        pending.remove(n)
        start[n] = 0.0
    t = resolution  # the runner starts nothing else until the month is resolved
    pending += [n for n in order if n not in early]
    while True:
        end.update({n: start[n] + seconds[n] for n in start if n not in end and start[n] + seconds[n] <= t})
        running = [n for n in start if n not in end]
        for n in startable(pending, running, estimates, budget, jobs):
            pending.remove(n)
            start[n] = t
            running.append(n)
        if not running:
            return start, end
        t = min(start[n] + seconds[n] for n in running)


def _overlap(a, b, start, end):
    return start[a] < end[b] and start[b] < end[a]


def test_heavy_notebooks_run_one_after_the_other_at_1m():
    order = ["01", "02", "03", "04", "05", "06"]
    seconds = {"01": 100, "02": 170, "03": 70, "04": 50, "05": 130, "06": 150}
    start, end = _simulate(order, AT_1M, seconds, budget=12.0, jobs=2, early=["01"], resolution=300)
    assert not _overlap("05", "06", start, end)  # 8 + 9 GB > 12 GB
    assert start["01"] == 300  # 4 GB beside the resolution's 9 GB would pass 12 GB: it waits
    assert _overlap("02", "03", start, end) or _overlap("02", "04", start, end)  # two at a time still
    # a later, lighter notebook goes ahead of one that waits for memory
    assert startable(["06", "04"], ["05"], AT_1M, 12.0, 2) == ["04"]
    # with the whole machine (or no budget) it is the plain two-at-a-time schedule
    start, end = _simulate(order, AT_1M, seconds, budget=None, jobs=2, early=["01"], resolution=300)
    assert start["01"] == 0 and _overlap("05", "06", start, end)


def test_small_worlds_stay_fully_parallel():
    small = {k: KERNEL_BASE_GB + (v - KERNEL_BASE_GB) * 60_000 / 20e6 for k, v in AT_1M.items()}
    assert max(small.values()) < 0.5
    assert startable(["02", "03", "04"], ["resolution"], small, 6.0, 2) == ["02", "03"]
    assert startable(["03", "04"], ["02"], small, 6.0, 2) == ["03"]  # jobs still bound it
    assert startable(["01"], ["resolution"], small, 6.0, 2) == ["01"]  # the audit beside the resolution


def test_startable_edges():
    # nothing runs: the first pending starts even above the budget (it would never run otherwise)
    assert startable(["06", "05"], [], AT_1M, 4.0, 2) == ["06"]
    # but not beside the resolution
    assert startable(["06"], ["resolution"], AT_1M, 4.0, 2) == []
    # the resolution takes memory, not a job slot
    assert startable(["03", "04"], ["resolution"], AT_1M, 15.0, 2) == ["03"]
    assert startable(["03", "04"], ["resolution"], AT_1M, 100.0, 2) == ["03", "04"]
    assert startable(["03"], ["02", "04"], AT_1M, 100.0, 2) == []
    assert startable([], [], AT_1M, 1.0, 2) == []
    # what the runner keeps after resolving counts against the budget, takes no slot, and never
    # keeps a notebook waiting when no other notebook runs
    est = {**AT_1M, "runner": 2.3}
    assert startable(["06"], ["runner"], est, 12.0, 2) == ["06"]
    assert startable(["03", "04"], ["runner"], est, 100.0, 2) == ["03", "04"]
    assert startable(["02", "04"], ["runner", "03"], est, 9.0, 2) == []  # 2.3 + 4 + (5 or 3) > 9
    assert startable(["02", "04"], ["runner", "03"], est, 9.5, 2) == ["04"]


def test_time_left_follows_the_memory_schedule():
    seconds = {"07": 1451.0, "02": 606.0, "06": 700.0, "08": 93.0}
    # at 5M every kernel needs more than half the budget: one after the other, the sum of the times
    big = {"07": 29.6, "02": 19.8, "06": 28.1, "08": 9.5, "runner": 0.2}
    order = ["07", "06", "02", "08"]
    assert expected_left(order, ["runner"], big, seconds, 10.5, 2) == pytest.approx(2850.0)
    # dividing by the jobs, as the runner did, said half that
    assert sum(seconds.values()) / 2 == pytest.approx(1425.0)
    # small kernels: two at a time; 06, 02 and 08 (1,399 s) fill the second slot beside 07
    small = dict.fromkeys(big, 0.3)
    assert expected_left(order, ["runner"], small, seconds, 10.5, 2) == pytest.approx(1451.0)
    assert expected_left(order, [], small, seconds, None, 1) == pytest.approx(2850.0)
    # a running notebook counts with what it has left; the resolution and unknown names count done
    assert expected_left(["08"], ["runner", "07"], big, seconds, 10.5, 2, ran={"07": 1400.0}) == pytest.approx(144.0)
    assert expected_left(["08"], ["resolution", "prepare"], big, seconds, 10.5, 2) == pytest.approx(93.0)
    assert expected_left([], ["runner"], big, seconds, 10.5, 2) == 0.0
    # the same makespan as the step-by-step simulation of the runner above, on the 1M figures
    order6 = ["01", "02", "03", "04", "05", "06"]
    sec6 = {"01": 100, "02": 170, "03": 70, "04": 50, "05": 130, "06": 150}
    for budget, jobs in ((12.0, 2), (None, 2), (9.0, 2), (30.0, 3)):
        _, end = _simulate(order6, AT_1M, sec6, budget=budget, jobs=jobs)
        assert expected_left(order6, [], AT_1M, sec6, budget, jobs) == pytest.approx(max(end.values()))


def test_parse_memory():
    assert parse_memory("12GB") == 12.0 and parse_memory("12g") == 12.0 and parse_memory("12") == 12.0
    assert parse_memory("512MB") == 0.5 and parse_memory(" 1.5 GB ") == 1.5 and parse_memory(3) == 3.0
    for bad in ("12XB", "-1GB", "0", "GB", ""):
        with pytest.raises(ValueError, match="not a memory size"):
            parse_memory(bad)


def test_bad_memory_budget_is_one_line_exit_2(test_world, capsys):
    from omni.cli import main

    with pytest.raises(SystemExit) as err:
        main(["report", "--data", str(test_world), "--memory-budget", "lots"])
    assert err.value.code == 2
    got = capsys.readouterr().err.strip().splitlines()
    assert got[-1].endswith("argument --memory-budget: not a memory size: 'lots' (expected e.g. 12GB, 800MB or 12)")


def _notebook(path, name, meta=None, body="x = 1"):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("data = None\nmonth = None\nseed = 0\nlang = 'en'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if meta:
        nb.metadata["omni"] = meta
    nbformat.write(nb, path / f"{name}.ipynb")
    return path / f"{name}.ipynb"


def test_estimates_scale_with_records_and_learn_from_the_previous_report(tmp_path):
    a = _notebook(tmp_path, "05_campaign_uplift")
    b = _notebook(tmp_path, "07_extra", {"memory_gb_at_1m": 2.4})
    assert notebook_memory_at_1m(a) == MEMORY_GB_AT_1M["05"] and notebook_memory_at_1m(b) == 2.4
    at_1m = estimate_memory([a, b], tmp_path, "w", records=20_000_000)
    assert at_1m == {"05_campaign_uplift": pytest.approx(MEMORY_GB_AT_1M["05"]), "07_extra": pytest.approx(2.4),
                     "resolution": pytest.approx(MEMORY_GB_AT_1M["resolution"])}
    half = estimate_memory([b], tmp_path, "w", records=10_000_000)
    assert half["07_extra"] == pytest.approx(KERNEL_BASE_GB + (2.4 - KERNEL_BASE_GB) / 2)
    # a previous report of the same dataset measured the kernels: its peaks win, scaled by records
    (tmp_path / "2026-09").mkdir()
    (tmp_path / "2026-09" / "metrics.json").write_text(json.dumps(
        {"dataset": "w", "records": 10_000_000, "resolution_peak_gb": 5.4,
         "notebooks": {"05_campaign_uplift": {"seconds": 1.0, "peak_gb": 3.4}}}))
    got = estimate_memory([a, b], tmp_path, "w", records=20_000_000)
    assert got["05_campaign_uplift"] == pytest.approx(KERNEL_BASE_GB + 2 * (3.4 - KERNEL_BASE_GB))
    assert got["resolution"] == pytest.approx(KERNEL_BASE_GB + 2 * (5.4 - KERNEL_BASE_GB))
    assert got["07_extra"] == pytest.approx(2.4)  # not measured: its metadata
    other = estimate_memory([a], tmp_path, "another", records=20_000_000)
    assert other["05_campaign_uplift"] == pytest.approx(MEMORY_GB_AT_1M["05"])


PROBE = """import json, os, pathlib, time
t = time.time()
time.sleep(1.5)
pathlib.Path({out!r}).write_text(json.dumps({{"start": t, "end": time.time(), "cwd": os.getcwd()}}))
"""


def test_report_runs_two_heavy_notebooks_one_after_the_other(test_world, tmp_path, monkeypatch):
    import omni.reporting.runner as runner

    # what the runner keeps counts against the budget: here the test process, whatever other
    # tests left in it, so it is fixed at 0.2 GB
    monkeypatch.setattr(runner, "resident_gb", lambda: 0.2)
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    for name in ("01_heavy", "02_heavy", "03_light"):
        _notebook(nbs, name, body=PROBE.format(out=str(tmp_path / f"{name}.json")))
    out = tmp_path / "out"
    (out / "2026-09").mkdir(parents=True)  # an earlier report measured 01 and 02 at 3 GB each
    (out / "2026-09" / "metrics.json").write_text(json.dumps(
        {"dataset": test_world.name, "notebooks": {"01_heavy": {"peak_gb": 3.0}, "02_heavy": {"peak_gb": 3.0},
                                                   "03_light": {"peak_gb": 0.5}}}))
    here = os.getcwd()
    month_dir = run_report(data=test_world, month="2026-10", notebooks=nbs, out=out, progress=False, jobs=2,
                           memory_budget="4GB")
    # notebooks run side by side in threads: none may move this process's working directory (papermill's
    # cwd= would chdir it, racing), yet each kernel starts in the notebooks' folder
    assert os.getcwd() == here
    t = {n: json.loads((tmp_path / f"{n}.json").read_text()) for n in ("01_heavy", "02_heavy", "03_light")}
    assert {Path(v["cwd"]).resolve() for v in t.values()} == {nbs.resolve()}
    assert t["01_heavy"]["end"] <= t["02_heavy"]["start"]  # 3 + 3 GB > 4 GB: one after the other
    assert t["03_light"]["start"] < t["01_heavy"]["end"]  # 0.5 GB fits beside the first
    metrics = json.loads((month_dir / "metrics.json").read_text())
    assert metrics["memory_budget_gb"] == 4.0 and metrics["records"] > 50_000
    peaks = {k: v.get("peak_gb") for k, v in metrics["notebooks"].items()}
    assert all(p is not None and 0.02 < p < 3 for p in peaks.values()), peaks  # each kernel measured



def test_longest_notebook_first_shortens_the_1m_report():
    """At 1M persons the recommendations notebook takes a third of the notebooks' time: offered
    in notebook order it starts last and runs beside an idle slot; offered longest first (what the
    runner does with the notebooks that wait for the resolution) the report ends sooner. Figures:
    the kernel peaks and times of the 1M report in docs/benchmarks.md (2026-12-05)."""
    from omni.reporting.schedule import longest_first

    seconds = {"01": 100, "02": 130, "03": 57, "04": 41, "05": 78, "06": 123, "07": 306, "08": 44}
    peaks = {"01": 3.8, "02": 5.5, "03": 4.3, "04": 2.5, "05": 3.4, "06": 5.0, "07": 7.9, "08": 2.2,
             "resolution": 7.5}
    late = ["02", "03", "04", "05", "06", "07", "08"]
    assert longest_first(late, seconds) == ["07", "02", "06", "05", "03", "08", "04"]
    assert longest_first(["b", "a", "c"], {"a": 5}) == ["a", "b", "c"]  # unknown: 0 s, order kept
    ends = {}
    for name, order in (("given", ["01", *late]), ("longest", ["01", *longest_first(late, seconds)])):
        start, end = _simulate(order, peaks, seconds, budget=11.2, jobs=2, early=["01"], resolution=270)
        ends[name] = max(end.values())
        assert not any(_overlap(a, b, start, end) and peaks[a] + peaks[b] > 11.2
                       for a in seconds for b in seconds if a < b)  # the budget holds either way
    assert ends["longest"] <= ends["given"] - 25  # 841 s against 870 s
