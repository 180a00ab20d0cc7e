"""The one pagination: which slice of a list a page is, for SQL lists (`window`) and lists in memory (`paginate`).

A page past the end shows the last page; an empty list has one empty page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    page: int
    pages: int
    per_page: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def as_dict(self, items: list) -> dict:
        """The API's shape of every paged list (`api.common.page_of`)."""
        return {"items": items, "total": self.total, "page": self.page, "pages": self.pages,
                "per_page": self.per_page}


def window(total: int, page: int, per_page: int) -> Window:
    pages = max(1, -(-total // per_page))
    return Window(min(page, pages), pages, per_page, total)


def paginate(items: list, page: int, per_page: int) -> dict:
    """One page of a list already in memory, in the API's shape."""
    at = window(len(items), page, per_page)
    return at.as_dict(items[at.offset: at.offset + per_page])
