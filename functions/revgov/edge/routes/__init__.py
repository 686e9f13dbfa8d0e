"""Route modules, one per product area; importing them fills the route table."""


def load_all() -> None:
    from . import cases, events, platform  # noqa: F401
