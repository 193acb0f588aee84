"""One way to page a list: keep the requested page within the pages there are,
and say which rows a page shows ("21–40 of 57")."""

from __future__ import annotations

from math import ceil


def clamp(page, total: int, size: int) -> tuple[int, int]:
    """(page, pages): the requested page kept within 1..pages; an empty list has one page."""
    pages = max(1, ceil(total / size))
    return min(max(1, page or 1), pages), pages


class Shown:
    """``first_shown`` and ``last_shown`` for a page object with ``rows``, ``page`` and ``page_size``."""

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return (self.page - 1) * self.page_size + len(self.rows)
