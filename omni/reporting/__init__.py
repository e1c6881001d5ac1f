"""Report running and presentation: papermill runs, HTML export, the index site, display helpers."""

__all__: list[str] = []  # the submodules are imported by name (omni.reporting.plots, .display, ...)
