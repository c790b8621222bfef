"""A tiny runnable job used by the corpus cases."""


def handler(event=None, context=None):
    """Return a constant result."""
    return {"ok": True}
