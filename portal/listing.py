"""One way to build a list page.

A list declares its filters and sort keys once (``Spec``); ``Spec.read`` cleans
the query string into a ``View`` (unknown values dropped, text trimmed and
bounded); the named query builds its rows and returns ``Spec.page`` (the rows,
the page within the pages there are, "21-40 of 57"); the route binds the
page's links to its endpoint (``Page.link``), so query modules never know the
routes. Templates render every list the same way: ``macros/lists.html``'s
``filter_bar`` and ``pager``, and the list's own rows partial for htmx.
``csv_response`` streams the same filtered list as a CSV file (formula
injection neutralised by defusedcsv and ``cell``), read through one server-side
cursor (``stream``), never the whole list in memory.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from dataclasses import dataclass, field
from math import ceil
from typing import Any, Callable, Iterable

from defusedcsv import csv
from flask import Response, stream_with_context, url_for
from flask_login import current_user
from peewee import DatabaseError, DateTimeField, DecimalField, Field, IntegerField, Tuple, UUIDField
from playhouse.postgres_ext import ServerSide

from portal import db


@dataclass(frozen=True)
class Text:
    """A free-text filter (a search box): whitespace collapsed, at most ``max_length`` characters."""
    name: str
    label: str
    max_length: int = 200
    lower: bool = False
    placeholder: str = ""
    bar: bool = True      # shown in the filter bar (else elsewhere, e.g. as tabs)
    kind: str = "text"

    def clean(self, raw) -> str:
        value = " ".join(str(raw or "").split())[:self.max_length]  # NULs are gone already (portal.forms)
        return value.lower() if self.lower else value


@dataclass(frozen=True)
class Choice:
    """One of known values (``choices``: value -> label); anything else is the default.

    ``open``: the values come from the data (categories, tags) and are known only
    once the query has run, so any one line of text up to ``max_length`` is kept
    (it simply matches nothing when no row has it); the query puts the values to
    offer in ``view.choices[name]``."""
    name: str
    label: str
    choices: dict = field(default_factory=dict)
    default: str = ""
    any_label: str = "Any"
    bar: bool = True
    open: bool = False
    max_length: int = 100
    lower: bool = False
    kind: str = "choice"

    def clean(self, raw) -> str:
        value = " ".join(str(raw or "").split())
        if self.open:
            value = value[:self.max_length]
            return value.lower() if self.lower else value
        return value if value in self.choices else self.default


@dataclass(frozen=True)
class Spec:
    """What a list offers: its filters, its sort keys (key -> label) and its page size."""
    filters: tuple = ()
    sorts: dict = field(default_factory=dict)
    default_sort: str = ""
    page_size: int = 20
    page_arg: str = "page"  # the query argument of the page (two lists on one page need two)
    # Paging by position (``after``/``before`` the key of a row shown) instead of page numbers:
    # for lists that grow without bound, where page 500 would read 10,000 rows to skip them.
    keyset: bool = False

    def read(self, args) -> "View":
        """The view a query string (``request.args``) asks for."""
        values = {f.name: f.clean(args.get(f.name, "")) for f in self.filters}
        sort = args.get("sort", "")
        try:
            page = int(args.get(self.page_arg) or 1)
        except (TypeError, ValueError):
            page = 1
        view = View(self, values, sort if sort in self.sorts else self.default_sort, max(1, page))
        if self.keyset:
            view.after, view.before = position(args.get("after")), position(args.get("before"))
            if view.after is not None:
                view.before = None
        return view

    def page(self, view: "View", rows: list, matching: int, **extra) -> "Page":
        """One page of rows (already limited to the page) of ``matching`` rows in all."""
        return Page(view=view, rows=rows, matching=matching, extra=extra)

    def clamp(self, view: "View", matching: int) -> tuple[int, int]:
        """(page, pages): the view's page kept within 1..pages (an empty list has one page)."""
        pages = max(1, ceil(matching / self.page_size))
        return min(view.page, pages), pages


@dataclass
class View:
    """A list as the request asks for it: cleaned filter values, the sort and the page."""
    spec: Spec
    values: dict
    sort: str
    page: int
    choices: dict = field(default_factory=dict)
    after: list | None = None       # keyset: the key of the row this page follows
    before: list | None = None      # keyset: the key of the row this page precedes

    def __getattr__(self, name):  # view.q, view.category...: the filter's cleaned value
        values = self.__dict__.get("values") or {}
        if name in values:
            return values[name]
        raise AttributeError(name)

    @property
    def narrowed(self) -> bool:
        """Whether anything but the order narrows the list (a "clear" link makes sense)."""
        return any(value != f.default if isinstance(f, Choice) else bool(value)
                   for f, value in zip(self.spec.filters, self.values.values()))

    def args(self, **changes) -> dict:
        """Query-string arguments for a link that keeps this view but ``changes``; defaults are
        left out, so the address stays short and one view has one address."""
        values = {**self.values, "sort": self.sort, "page": self.page, **changes}
        out = {}
        for f in self.spec.filters:
            value = values.get(f.name)
            default = f.default if isinstance(f, Choice) else ""
            out[f.name] = value if value and value != default else None
        out["sort"] = values["sort"] if values["sort"] and values["sort"] != self.spec.default_sort else None
        if self.spec.keyset:  # a new order or filter starts from the top: no position, no page
            out["after"], out["before"] = changes.get("after"), changes.get("before")
            return out
        out[self.spec.page_arg] = values["page"] if (values["page"] or 1) > 1 else None
        return out

    def filter_choices(self, f: Choice) -> dict:
        return self.choices.get(f.name, f.choices)


@dataclass
class Page:
    """One page of a list, and what the page needs around it. ``url(**changes)`` links to this
    list with ``changes`` (page=..., a filter...); the route binds it with ``link``."""
    view: View
    rows: list
    matching: int
    extra: dict = field(default_factory=dict)
    url: Callable[..., str] | None = None

    next_token: str | None = None   # keyset: the position of the next page, when there is one
    prev_token: str | None = None

    def __post_init__(self):
        self.page, self.pages = self.view.spec.clamp(self.view, self.matching)

    @property
    def keyset(self) -> bool:
        return self.view.spec.keyset

    def __getattr__(self, name):  # page.counts...: what the query added; page.q...: the view's filters
        extra = self.__dict__.get("extra") or {}
        if name in extra:
            return extra[name]
        view = self.__dict__.get("view")
        if view is not None and name in view.values:
            return view.values[name]
        raise AttributeError(name)

    @property
    def sort(self) -> str:
        return self.view.sort

    def args(self, **changes) -> dict:
        return self.view.args(**changes)

    @property
    def narrowed(self) -> bool:
        return self.view.narrowed

    @property
    def page_size(self) -> int:
        return self.view.spec.page_size

    @property
    def sorts(self) -> dict:
        return self.view.spec.sorts

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return (self.page - 1) * self.page_size + len(self.rows)

    def link(self, endpoint: str, **fixed) -> "Page":
        """Bind the page's links to ``endpoint`` (with ``fixed`` arguments such as a slug)."""
        self.url = lambda **changes: url_for(endpoint, **{**fixed, **self.view.args(**changes)})
        return self


def position(token: str | None) -> list | None:
    """A keyset position from the query string (``token``'s inverse), or None when absent or
    not one (a tampered link starts from the top rather than fail)."""
    if not token or len(token) > 400:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or not all(isinstance(v, (str, int)) for v in values):
        return None
    return values


def token(values) -> str:
    """A row's key as a short, opaque query-string value (times as ISO text, ids as text)."""
    plain = [v if isinstance(v, int) else (v.isoformat() if hasattr(v, "isoformat") else str(v)) for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def keyset_page(view: View, query, keys: tuple, *, descending: bool, matching: int, **extra) -> "Page":
    """One page of ``query`` by position: ``keys`` are (expression, row name) pairs that order the
    list uniquely, all ascending or all ``descending`` (a key that is not a column names its Python
    type third: ``(expression, name, bool)``, so that a position is typed for it too). Reads one row more than the page to know
    whether there is a next one; a page before a position is read backwards and turned round.
    The expressions are compared with the position's values as one row value, so PostgreSQL
    types them like the columns (timestamps, uuids)."""
    size = view.spec.page_size
    at = view.after or view.before
    backwards = view.before is not None
    if at is not None:
        at = typed_position(keys, at)
        backwards = backwards and at is not None
    down = descending != backwards
    if at is not None:
        left, right = Tuple(*(key[0] for key in keys)), Tuple(*at[:len(keys)])
        query = query.where(left < right if down else left > right)
    order = [key[0].desc() if down else key[0].asc() for key in keys]
    rows = list(query.order_by(*order).limit(size + 1))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    key = lambda row: token([row[k[1]] for k in keys])  # noqa: E731
    page = Page(view=view, rows=rows, matching=matching, extra=extra)
    page.next_token = key(rows[-1]) if rows and (more or backwards) else None
    page.prev_token = key(rows[0]) if rows and at is not None and (more or not backwards) else None
    return page


def typed_position(keys: tuple, values: list | None) -> list | None:
    """A position's values typed as its keys' columns, or None when it is not a position of this
    list (tampered, cut short, or another list's): such a link starts from the top rather than
    fail in the database."""
    if not isinstance(values, list) or len(values) != len(keys):
        return None
    try:
        return [_typed(key[0], value, *key[2:]) for key, value in zip(keys, values)]
    except (TypeError, ValueError, ArithmeticError):
        return None


def _typed(expression, value, kind: type | None = None):
    """``value`` as ``token`` wrote it (times as ISO text, ids as text, integers as numbers), typed as
    ``expression``'s column; TypeError or ValueError when it cannot be one. A key that is not a
    column (an expression) is ``kind`` (its declared Python type) exactly, and one that declares
    none is no position at all: an untyped value would reach PostgreSQL's comparison as it came."""
    if not isinstance(expression, Field):
        if kind is None or type(value) is not kind:
            raise TypeError(f"a position value of {expression!r} is a {getattr(kind, '__name__', 'typed key')}")
        return value
    expected = int if isinstance(expression, IntegerField) else str
    if isinstance(value, bool) or not isinstance(value, expected):
        raise TypeError(f"a position value of {expression!r} is a {expected.__name__}")
    if isinstance(expression, DateTimeField):
        return moment(value, aware=False)
    if isinstance(expression, UUIDField):
        return uuid.UUID(value)
    if isinstance(expression, IntegerField) and not -2**63 <= value < 2**63:
        raise ValueError("out of bigint's range")
    if isinstance(expression, DecimalField):
        return Decimal(value)
    return value


def moment(value: str, *, aware: bool = True) -> datetime:
    """A position's time (ISO text, as ``token`` writes it) as PostgreSQL takes it; ValueError when it
    is not one: without an offset when ``aware`` (it would be read in the server's zone), or with an
    offset PostgreSQL refuses (beyond 15:59, or not whole minutes: "+15:59:59.999999" parses here)."""
    at = datetime.fromisoformat(value)
    offset = at.utcoffset()
    if offset is None:
        if aware:
            raise ValueError("a time without its offset")
        return at
    if abs(offset) >= timedelta(hours=16) or offset % timedelta(minutes=1):
        raise ValueError("an offset PostgreSQL refuses")
    return at


def page_of(view: View, query, matching: int):
    """The rows of ``query`` (a Peewee select, ordered) on the view's page, once the page is
    kept within the pages there are."""
    page, _ = view.spec.clamp(view, matching)
    if not matching:
        return []
    return list(query.limit(view.spec.page_size).offset((page - 1) * view.spec.page_size))


EXPORT_FETCH = 1000  # rows per round trip of an export's server-side cursor
# What a spreadsheet may take for a formula at the start of a cell. defusedcsv escapes a cell that
# starts with one; a cell that starts with a tab, a return or a space before one is escaped here.
FORMULA_START = "=+-@|%"
LEADING_BLANKS = "\t\r\n\x0b\x0c "
INCOMPLETE = "# The export stopped early: the database did not answer in time. Please download it again."

log = logging.getLogger(__name__)


def cell(value):
    """A value as a CSV cell: None is empty; text that a spreadsheet would run as a formula,
    after leading blanks or not, is written as text."""
    if value is None:
        return ""
    if isinstance(value, str):
        rest = value.lstrip(LEADING_BLANKS)
        if len(rest) < len(value) and rest[:1] and rest[0] in FORMULA_START:
            return "'" + value
    return value


def stream(query):
    """Every row of ``query`` (a Peewee select) through one server-side cursor: one statement and
    one snapshot however long the list, ``EXPORT_FETCH`` rows in memory at a time."""
    return ServerSide(query, array_size=EXPORT_FETCH)


def _close(reading, filename: str) -> None:
    """Close an export's row iterator while its transaction is still open: a client that stops
    reading ends the file early, and a generator left to the garbage collector would close its
    server-side cursor later, on a connection already back in the pool (CLOSE of an unknown cursor,
    which fails there and could abort the transaction of whichever request holds it then)."""
    close = getattr(reading, "close", None)
    if close is None:
        return
    try:
        close()
    except DatabaseError as exc:  # the transaction failed already; the rollback that follows ends it
        log.warning("export %s: closing its rows: %s", filename, db.sqlstate(exc) or type(exc).__name__)


def csv_response(filename: str, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Response:
    """Stream ``rows`` (a lazy iterator, e.g. over ``stream(query)``) as ``filename``.csv.

    The rows are read while the file is sent, after the view has returned and the
    request's own transaction has ended, so the reading runs in a transaction of its
    own under the same user's role and claims (``db.request_context``): RLS decides
    the export exactly as it decides the page. The file starts with a byte-order mark
    (spreadsheets then read UTF-8 names right). Once sending has begun its status is
    sent too, so a database that stops answering (an outage, the statement timeout) ends
    the file with a line that says so, and the log says why."""
    user_id = current_user.id if current_user.is_authenticated else None

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(list(header))
        try:
            with db.request_context(user_id):
                reading = iter(rows)
                try:
                    for row in reading:
                        writer.writerow([cell(value) for value in row])
                        if buffer.tell() > 64 * 1024:
                            yield buffer.getvalue()
                            buffer.seek(0)
                            buffer.truncate()
                finally:
                    _close(reading, filename)
        except DatabaseError as exc:
            log.warning("export %s stopped: %s", filename, db.sqlstate(exc) or type(exc).__name__)
            buffer.write(INCOMPLETE + "\r\n")
        yield buffer.getvalue()

    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.csv"',
                             "Cache-Control": "no-store"})
