"""Wire formats the venue protocols share: numbers as venue strings, numeric order ids."""

from __future__ import annotations

from dev_tools.venue.matching import VenueError


def num(value: float | int) -> str:
    """A number as the venues send it: a decimal string, 10 significant digits."""
    return format(value, ".10g") if isinstance(value, float) else str(value)


def parse_order_id(value: str | None) -> int | None:
    """A venue order id from a request parameter; an id that is not a number is unknown."""
    if not value:
        return None
    if not str(value).isdigit():
        raise VenueError("unknown_order", f"Order {value} does not exist.")
    return int(value)
