"""Build the report notebooks from percent-format sources in notebooks/src/*.py.

A source file is Python with ``# %%`` cell markers (``# %% [markdown]`` for Markdown cells, whose
lines start with ``# ``) and optional tags: ``# %% tags=["parameters"]``. Run ``make notebooks`` after
editing a source; the .ipynb files are what papermill and JupyterLab open.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

MARK = re.compile(r"^# %%(?P<md> \[markdown\])?(?:\s+tags=(?P<tags>\[.*\]))?\s*$")


def parse(text: str) -> list[nbformat.NotebookNode]:
    cells, cur, kind, tags = [], [], None, []

    def flush():
        if kind is None:
            return
        src = "\n".join(cur).strip("\n")
        if kind == "md":
            src = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in src.splitlines())
            cell = nbformat.v4.new_markdown_cell(src)
        else:
            cell = nbformat.v4.new_code_cell(src)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.splitlines():
        m = MARK.match(line)
        if m:
            flush()
            kind = "md" if m.group("md") else "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            cur = []
        elif kind is not None:
            cur.append(line)
    flush()
    return cells


#: A header line ``# omni-notebook: {...}`` (JSON) becomes the notebook's ``omni`` metadata, which
#: the report runner reads: ``{"needs": "sources"}`` marks a notebook that reads the source files
#: only, so it runs while the month is being resolved.
HEADER = re.compile(r"^# omni-notebook:\s*(?P<meta>\{.*\})\s*$")


def header(text: str) -> dict:
    for line in text.splitlines():
        if MARK.match(line):
            break
        m = HEADER.match(line)
        if m:
            return json.loads(m.group("meta"))
    return {}


def build(src: Path, out_dir: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    text = src.read_text(encoding="utf-8")
    nb.cells = parse(text)
    if header(text):
        nb.metadata["omni"] = header(text)
    for i, c in enumerate(nb.cells):
        c["id"] = f"{src.stem[:2]}-{i:03d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (omni)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    out = out_dir / f"{src.stem}.ipynb"
    nbformat.write(nb, out)
    return out


def execute_and_keep_checked(nb_path: Path) -> None:
    """Run a notebook in place (papermill, default parameters) and keep only the outputs of cells
    marked ``# NBVAL_CHECK_OUTPUT``: those are what nbval compares in ``make test``."""
    import papermill as pm

    from omni.reporting.runner import kernel_config  # the kernel over IPC, as in a report run

    tmp = nb_path.with_suffix(".run.ipynb")
    pm.execute_notebook(str(nb_path), str(tmp), cwd=str(nb_path.parent), kernel_name="python3", progress_bar=False,
                        config=kernel_config())
    ran = nbformat.read(tmp, as_version=4)
    tmp.unlink()
    nb = nbformat.read(nb_path, as_version=4)
    for cell, done in zip(nb.cells, ran.cells, strict=True):
        if cell.cell_type != "code":
            continue
        if "NBVAL_CHECK_OUTPUT" in cell.source:
            cell.outputs = done.outputs
            cell.execution_count = done.execution_count
        else:
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, nb_path)


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    unknown = [a for a in sys.argv[1:] if a.startswith("-") and a != "--execute"]
    if unknown:  # an unknown flag must not build (without --execute the checked outputs are dropped)
        sys.exit(f"nbbuild: unknown option(s) {unknown}; usage: nbbuild.py [--execute] [notebooks/src/NN_name.py ...]")
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    srcs = [Path(p) for p in args] or sorted((root / "notebooks" / "src").glob("[0-9][0-9]_*.py"))
    for s in srcs:
        out = build(s, root / "notebooks")
        if "--execute" in sys.argv:
            execute_and_keep_checked(out)
        print(out)
