"""The targets: the only place that knows a platform. One folder each, with the same files; see registry.py."""
