"""Command-line entry point: ``omni <command>`` (also ``python -m omni``)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence

from omni._version import __version__
from omni.core import Month
from omni.core.errors import OmniError, OmniWarning, one_line
from omni.memory import MEMORY_CHECK_ENV

__all__ = ["build_parser", "main"]

# The commands import their omni packages when they run: omni.synth pulls scipy, omni.workspace and
# omni.oneid pull networkx and scipy, omni.reporting.runner pulls nbformat/papermill, omni.audience
# pulls networkx, scipy and yaml. At the top they would add 0.2-1 s to every `omni --help`.


def _month(value: str | None) -> str | None:
    """A ``--month``/``--as-of`` value checked as strict ``YYYY-MM`` (None stays None).

    Raises
    ------
    omni.core.MonthError
        Anything but ``YYYY-MM`` of a real month.
    """
    return None if value is None else str(Month.parse(value))


def _positive_int(value: str) -> int:
    """An argparse type: an integer of at least 1 (argparse reports anything else in one line)."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {n}")
    return n


def _memory_size(value: str) -> float:
    """An argparse type: a memory size (``12GB``, ``800MB``, ``12``) in GB."""
    from omni.reporting.schedule import parse_memory  # lazy: see top

    try:
        return parse_memory(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _cmd_synth(args: argparse.Namespace) -> int:
    from omni.synth import generate_world  # lazy: see top

    if args.mix_only:
        from omni.synth.mix import default_mix_config, generate_mix

        rows = generate_mix(f"{args.out}/mix", args.seed, args.start, args.end,
                            default_mix_config(args.persons))
        if not args.quiet:
            print(f"wrote {args.out}/mix: " + ", ".join(f"{k}={v:,}" for k, v in rows.items()))
        return 0
    summary = generate_world(
        out=args.out,
        persons=args.persons,
        seed=args.seed,
        start=args.start,
        end=args.end,
        progress=not args.quiet,
    )
    if not args.quiet:
        print(f"wrote {summary['out']}: " + ", ".join(f"{k}={v:,}" for k, v in summary["rows"].items()))
    return 0


EVAL_MAX_RECORDS = 5_000_000


def _cmd_resolve(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    # lazy: see the note at the top
    from omni.oneid import OneIDConfig, evaluate_against_truth, linkable_scores
    from omni.oneid.baseline import naive_clusters
    from omni.workspace import Workspace

    as_of = _month(args.as_of)
    ws = Workspace(args.data, config=OneIDConfig(probabilistic=not args.rules_only), progress=not args.quiet,
                   engine=args.engine, master=args.master, raw_uri=args.raw_uri)
    previous = pd.read_parquet(args.previous) if args.previous else None
    res = ws.resolve(as_of=as_of, previous=previous, stable=as_of is not None)
    out = dict(res.summary)
    out.pop("config", None)
    # counted on the categorical codes (no 20M-element object array at 1M persons)
    out["how"] = {str(k): int(v) for k, v in res.record_oneid["how"].value_counts().items() if v}
    out["changes"] = {str(k): int(v) for k, v in res.changes["change"].value_counts().items() if v}
    evaluate = ws.has_truth() and (args.evaluate == "yes" or (
        args.evaluate == "auto" and len(res.record_oneid) <= EVAL_MAX_RECORDS))
    if ws.has_truth() and not evaluate:
        out["accuracy"] = "not scored (--evaluate yes to score against the truth)"
    if evaluate:
        truth = ws.truth()
        for scope, strong in (("strong_id_records", True), ("all_records", False)):
            s = evaluate_against_truth(res.record_oneid, truth, strong_only=strong)
            out[f"accuracy_{scope}"] = {k: round(v, 4) for k, v in s.items() if k in ("precision", "recall", "f1", "bcubed_f1")}
        ls = linkable_scores(res.resolution(), truth)
        out["recall_vs_linkable_truth_strong_id_records"] = round(ls["recall"], 4)
        if args.naive:
            recs = res.record_oneid[["record_key"]]
            naive = naive_clusters(ws.ids[ws.ids["record_key"].isin(recs["record_key"])], recs)
            nv = res.record_oneid.assign(oneid=naive)
            s = evaluate_against_truth(nv, truth, strong_only=True)
            out["naive_accuracy_strong_id_records"] = {k: round(v, 4) for k, v in s.items() if k in ("precision", "recall", "f1")}
    print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from omni.reporting.runner import run_report  # lazy: see top

    # a failing notebook raises ReportError (one line naming the notebook and cell; exit 1)
    month_dir = run_report(
        data=args.data, month=_month(args.month), notebooks=args.notebooks, out=args.out, seed=args.seed,
        only=args.only.split(",") if args.only else None, progress=not args.quiet, jobs=args.jobs,
        lang=args.lang, memory_budget=args.memory_budget,
    )
    print(month_dir / "index.html")
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from omni.workspace import clear_cache, verify_cache  # lazy: see top

    if args.action == "clear":
        removed = clear_cache(args.data)
        print(f"removed {removed}" if removed else f"no cache to remove for {args.data}")
        return 0
    checks = verify_cache(args.data)
    if not checks:
        print(f"no cached resolutions for {args.data}")
        return 0
    for c in checks:
        print(f"{'OK' if c.ok else 'MISMATCH':<8} {c.name}  {c.detail}")
    bad = sum(not c.ok for c in checks)
    print(f"{len(checks) - bad} of {len(checks)} cache entries verified"
          + (f"; {bad} damaged: they are rebuilt on next use (or run `omni cache clear`)" if bad else ""))
    return 1 if bad else 0


@contextlib.contextmanager
def _progress_log(name: str, enabled: bool) -> Iterator[None]:
    """While the block runs, show the INFO records of logger ``name`` on stderr as plain lines."""
    if not enabled:
        yield
        return
    logger = logging.getLogger(name)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _cmd_audience(args: argparse.Namespace) -> int:
    import pandas as pd

    # lazy: see the note at the top
    from omni.audience import LOG_NAME, export_dataset, load_definitions, prepare_audiences

    names = [n.strip() for n in args.only.split(",") if n.strip()] if getattr(args, "only", None) else None
    progress = _progress_log("omni.audience", not getattr(args, "quiet", True))
    try:
        defs = load_definitions(args.definitions)
        if args.action == "list":
            with pd.option_context("display.max_colwidth", 90, "display.width", 200):
                print(pd.DataFrame(defs.select(names).describe()).to_string(index=False))
            return 0
        if args.action == "size":
            with progress:
                run = prepare_audiences(args.data, _month(args.month), defs, names, progress=not args.quiet)
            sizes = run.audiences.sizes()[["audience", "size", "opted_out", "eligible", "description"]]
            print(f"audiences of {run.workspace.path.name} at the end of {run.month} "
                  f"({int(run.opted_out.sum()):,} people opted out of marketing)")
            with pd.option_context("display.max_colwidth", 70, "display.width", 200):
                print(sizes.to_string(index=False))
                if args.overlap:
                    print("\npeople in both (row and column audience):")
                    print(run.audiences.overlap().to_string())
            return 0
        platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
        with progress:
            run, results = export_dataset(args.data, args.out, _month(args.month), defs, names,
                                          platforms=platforms, max_per_type=args.max_per_type,
                                          progress=not args.quiet)
    except ValueError as err:  # a bad definition, platform or option: expected, one line
        if isinstance(err, OmniError):
            raise
        raise OmniError(f"audience {args.action}: {err}",
                        hint="see `omni audience list` and docs/audiences.md") from err
    table = pd.DataFrame([r.as_dict() for r in results])
    table["files"] = table["files"].map(len)
    cols = ["audience", "platform", "in_audience", "opted_out_removed", "opted_out_identifier_removed",
            "no_identifier", "exported", "files"]
    print(f"exported {table['audience'].nunique()} audience(s) of {run.workspace.path.name} at the end of "
          f"{run.month} to {args.out}")
    print(table[cols].to_string(index=False))
    from pathlib import Path

    print(f"log: {Path(args.out) / LOG_NAME}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omni",
        description="Omnichannel customer analytics: synthetic data, OneID, reports.",
    )
    parser.add_argument("--version", action="version", version=f"omni {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (expected errors print one line)")
    sub = parser.add_subparsers(dest="command", metavar="command")
    sub.required = True

    p = sub.add_parser("synth", help="write a synthetic omnichannel dataset with ground truth")
    p.add_argument("--out", default="data/sample", help="dataset folder to write (default data/sample)")
    p.add_argument("--persons", type=int, default=50_000, help="number of people (1,000 to 5,000,000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same files)")
    p.add_argument("--start", default="2024-01-01", help="first day of the data (YYYY-MM-DD)")
    p.add_argument("--end", default="2026-10-31", help="last day of the data (YYYY-MM-DD)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--mix-only", action="store_true",
                   help="write only the marketing mix dataset (<out>/mix) next to an existing world")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("resolve", help="resolve every record to a OneID and write the unified tables")
    p.add_argument("--data", default="data/sample", help="dataset folder (default data/sample)")
    p.add_argument("--as-of", dest="as_of", default=None, help="resolve records up to the end of this month (YYYY-MM)")
    p.add_argument("--previous", default=None, help="previous run's record_oneid.parquet, to keep its OneIDs")
    p.add_argument("--naive", action="store_true", help="also score the naive connect-every-shared-value graph")
    p.add_argument("--rules-only", dest="rules_only", action="store_true",
                   help="deterministic rules only, without the probabilistic account-linking stage")
    p.add_argument("--evaluate", choices=("auto", "yes", "no"), default="auto",
                   help="score against the ground truth of a synthetic dataset (auto: when it has truth and "
                        f"at most {EVAL_MAX_RECORDS:,} records; the scoring joins on string keys and is slow above)")
    p.add_argument("--engine", choices=("embedded", "spark"), default="embedded",
                   help="where the resolution runs: this machine (default) or Apache Spark (same outputs)")
    p.add_argument("--master", default=None,
                   help="Spark master with --engine spark: local[2] (default), spark://host:7077, yarn, k8s://...")
    p.add_argument("--raw-uri", dest="raw_uri", default=None,
                   help="with --engine spark: read the source files from this folder of a Hadoop file system "
                        "(hdfs://..., s3a://..., file://...); --data then needs only raw/sources.yaml")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--no-memory-check", dest="no_memory_check", action="store_true",
                   help="resolve even when the records look too many for the memory available (OMNI_MEMORY_CHECK=off)")
    p.set_defaults(func=_cmd_resolve)

    p = sub.add_parser("report", help="run the notebooks for a month and write reviewer HTML")
    p.add_argument("--data", default="data/sample", help="dataset folder (default data/sample)")
    p.add_argument("--month", default=None, help="YYYY-MM (default: the last complete month in the data)")
    p.add_argument("--notebooks", default="notebooks", help="folder of NN_name.ipynb notebooks")
    p.add_argument("--out", default="reports", help="reports folder (default reports)")
    p.add_argument("--seed", type=int, default=7, help="seed passed to every notebook")
    p.add_argument("--only", default=None, help="comma-separated notebook prefixes, e.g. 01,02")
    p.add_argument("--jobs", type=_positive_int, default=None,
                   help="notebooks run at once, each in its own kernel (default 2, 1 on one core)")
    p.add_argument("--memory-budget", dest="memory_budget", type=_memory_size, default=None,
                   help="memory the running notebooks may take together by their estimates, e.g. 12GB; a "
                        "notebook waits while it would not fit (default: half the memory available at the start)")
    p.add_argument("--lang", choices=("en", "zh"), default=None,
                   help="report language (default: report: {lang: ...} in sources.yaml, else en)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--no-memory-check", dest="no_memory_check", action="store_true",
                   help="resolve even when the records look too many for the memory available (OMNI_MEMORY_CHECK=off)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("audience", help="list, size and export audiences (hashed per ad platform, consent applied)")
    asub = p.add_subparsers(dest="action", metavar="action")
    asub.required = True
    a = asub.add_parser("list", help="list the audience definitions")
    a.add_argument("--definitions", default=None, help="audience definitions YAML (default: omni's defaults)")
    a.add_argument("--only", default=None, help="comma-separated audience names")
    a = asub.add_parser("size", help="resolve the data and count each audience (size, opted out, eligible)")
    a.add_argument("--overlap", action="store_true", help="also print the pairwise overlap counts")
    a2 = asub.add_parser("export", help="write one file per audience and platform and append export_log.jsonl "
                         "(needs OMNI_PSEUDONYM_KEY)")
    a2.add_argument("--out", required=True, help="output folder (files are replaced, the log is appended)")
    a2.add_argument("--platforms", default="tencent,google,meta,oneid",
                    help="comma-separated: tencent, google, meta, oneid (default: all)")
    a2.add_argument("--max-per-type", dest="max_per_type", type=int, default=3,
                    help="google/meta: emails and phones per person, 1-3 (default 3)")
    for a in (asub.choices["size"], a2):
        a.add_argument("--data", default="data/sample", help="dataset folder (default data/sample)")
        a.add_argument("--month", default=None, help="YYYY-MM (default: the last complete month in the data)")
        a.add_argument("--definitions", default=None, help="audience definitions YAML (default: omni's defaults)")
        a.add_argument("--only", default=None, help="comma-separated audience names (default: all)")
        a.add_argument("--quiet", action="store_true", help="no progress output")
        a.add_argument("--no-memory-check", dest="no_memory_check", action="store_true",
                       help="resolve even when the records look too many for the memory available (OMNI_MEMORY_CHECK=off)")
    p.set_defaults(func=_cmd_audience)

    p = sub.add_parser("cache", help="check or remove the cached resolutions under <data>/processed")
    csub = p.add_subparsers(dest="action", metavar="action")
    csub.required = True
    for name, text in (("verify", "check every cached file against the manifest (exit 1 on a mismatch)"),
                       ("clear", "remove <data>/processed (rebuilt on next use)")):
        c = csub.add_parser(name, help=text)
        c.add_argument("--data", default="data/sample", help="dataset folder (default data/sample)")
    p.set_defaults(func=_cmd_cache)
    for p in [*sub.choices.values(), *asub.choices.values(), *csub.choices.values()]:
        # also after the command (`omni report --debug`); SUPPRESS keeps a global --debug
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


_default_format_warning = warnings.formatwarning


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    """omni's own warnings as one ``omni: warning: ...`` line; any other warning as Python shows it."""
    if issubclass(category, OmniWarning):
        return f"omni: warning: {one_line(str(message))}\n"
    return _default_format_warning(message, category, filename, lineno, line)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``omni`` with ``argv`` (default: the command line) and return the exit status.

    Expected errors (:class:`omni.core.errors.OmniError`: a broken data contract, a missing or weak
    key, a bad ``--month``, a failed notebook; and a missing file) print one line
    ``omni: error: <message> (hint: ...)`` on stderr and return their exit code (2; 1 for a failed
    notebook). ``--debug`` re-raises them for the traceback. Any other exception is a bug and keeps
    its traceback. Warnings of omni (:class:`omni.core.errors.OmniWarning`) print as one
    ``omni: warning: ...`` line.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    previous_format = warnings.formatwarning
    warnings.formatwarning = _format_warning
    saved_check = os.environ.get(MEMORY_CHECK_ENV)
    if getattr(args, "no_memory_check", False):
        os.environ[MEMORY_CHECK_ENV] = "off"  # read by the resolution, here or in the report's child
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OmniError as err:
        if debug:
            raise
        print(f"omni: error: {one_line(str(err))}", file=sys.stderr)
        return int(err.exit_code)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as err:
        if debug:
            raise
        print(f"omni: error: {one_line(str(err))} (hint: check the path; run with --debug for the traceback)",
              file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = previous_format
        if saved_check is None:
            os.environ.pop(MEMORY_CHECK_ENV, None)
        else:
            os.environ[MEMORY_CHECK_ENV] = saved_check
