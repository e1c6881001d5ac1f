"""Command-line entry point: ``omni <command>`` (also ``python -m omni``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _cmd_synth(args: argparse.Namespace) -> int:
    from omni.synth import generate_world

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


def build_parser() -> argparse.ArgumentParser:
    from omni import __version__

    parser = argparse.ArgumentParser(
        prog="omni",
        description="Omnichannel customer analytics: synthetic data, OneID, reports.",
    )
    parser.add_argument("--version", action="version", version=f"omni {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    sub.required = True

    p = sub.add_parser("synth", help="write a synthetic omnichannel dataset with ground truth")
    p.add_argument("--out", default="data/sample", help="dataset folder to write (default data/sample)")
    p.add_argument("--persons", type=int, default=50_000, help="number of people (1,000 to 1,000,000)")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same files)")
    p.add_argument("--start", default="2024-01-01", help="first day of the data (YYYY-MM-DD)")
    p.add_argument("--end", default="2026-10-31", help="last day of the data (YYYY-MM-DD)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=_cmd_synth)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
