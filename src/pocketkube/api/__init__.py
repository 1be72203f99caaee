"""Object model and pure API machinery: no I/O lives here.

Resources (what the server serves), errors (as Kubernetes `Status`), selectors, defaults,
validation, patches and tables are plain functions over JSON-shaped dicts.
"""
