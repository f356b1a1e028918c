"""Data files that ship inside the package (see NOTICE.md)."""
