"""Report running and presentation: papermill runs, HTML export, the index site, display helpers."""
