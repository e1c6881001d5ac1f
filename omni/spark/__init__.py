"""OneID on Apache Spark: the scale-out engine (``omni resolve --engine spark``).

The embedded engine (pandas, NumPy and DuckDB on one machine) stays the default. This package runs
the same contract, the same normalization and the same rules on Spark DataFrames, for brands whose
records no longer fit one machine, and writes its outputs in the embedded engine's Parquet layout
so that the notebooks and ``omni report`` read them unchanged. See docs/scale_out.md.
"""
