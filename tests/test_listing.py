"""The list-page kit (portal/listing.py): what a query string becomes, and the links back."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from portal.listing import Choice, Spec, Text

SPEC = Spec(filters=(Choice("status", "Status", {"all": "All", "draft": "Drafts"}, default="all", bar=False),
                     Text("q", "Search", max_length=10),
                     Choice("tag", "Tag", open=True, max_length=5, lower=True)),
            sorts={"newest": "Newest", "rating": "Best rated"}, default_sort="newest", page_size=5)


def test_unknown_values_fall_back_and_text_is_trimmed_and_bounded():
    view = SPEC.read(MultiDict({"status": "secret", "q": "  a   very long search  ", "tag": " PyThon ",
                                "sort": "revenue", "page": "x"}))
    assert view.values == {"status": "all", "q": "a very lon", "tag": "pytho"}
    assert (view.sort, view.page) == ("newest", 1)
    assert SPEC.read(MultiDict({"page": "-3"})).page == 1
    assert SPEC.read({"page": "4"}).page == 4  # a plain dict will do


def test_links_leave_defaults_out_so_a_view_has_one_address():
    view = SPEC.read(MultiDict({"status": "draft", "q": "sql", "sort": "newest", "page": "2"}))
    assert view.args() == {"status": "draft", "q": "sql", "tag": None, "sort": None, "page": 2}
    assert view.args(page=1, status="all", sort="rating") == {"status": None, "q": "sql", "tag": None,
                                                             "sort": "rating", "page": None}
    assert view.narrowed
    assert not SPEC.read(MultiDict({"status": "all", "sort": "rating"})).narrowed


def test_a_page_is_kept_within_the_pages_there_are():
    view = SPEC.read(MultiDict({"page": "9"}))
    page = SPEC.page(view, rows=[1, 2], matching=7)
    assert (page.page, page.pages, page.first_shown, page.last_shown) == (2, 2, 6, 7)
    empty = SPEC.page(SPEC.read(MultiDict()), rows=[], matching=0)
    assert (empty.page, empty.pages, empty.first_shown) == (1, 1, 0)


def test_a_page_reads_its_extras_and_its_views_filters():
    page = SPEC.page(SPEC.read(MultiDict({"q": "go"})), rows=[], matching=0, counts={"all": 0})
    assert page.counts == {"all": 0} and page.q == "go" and page.sort == "newest"


def test_a_keyset_position_travels_as_an_opaque_token_and_a_bad_one_is_no_position():
    from datetime import datetime, timezone
    from uuid import UUID
    from portal.listing import position, token
    at = datetime(2026, 12, 6, 20, 30, tzinfo=timezone.utc)
    row = UUID("00000000-0000-4000-8000-000000000001")
    assert position(token([7, at, row])) == [7, at.isoformat(), str(row)]
    for bad in ("%%%", "x" * 401, token([]).replace("W", "{"), "eyJhIjoxfQ", "", None):  # eyJhIjoxfQ: {"a":1}
        assert position(bad) is None


def test_a_keyset_view_reads_after_or_before_and_links_start_from_the_top():
    from portal.listing import token
    keyed = Spec(sorts={"newest": "Newest", "helpful": "Most helpful"}, default_sort="newest", keyset=True)
    view = keyed.read(MultiDict({"after": token([1]), "before": token([2]), "sort": "helpful"}))
    assert (view.after, view.before) == ([1], None)  # both given: after wins
    assert view.args(sort="newest") == {"sort": None, "after": None, "before": None}
    assert view.args(after="abc") == {"sort": "helpful", "after": "abc", "before": None}


def test_a_position_that_does_not_fit_the_lists_keys_is_no_position():
    """A token that decodes but is not a position of this list (cut short, another list's, values of
    the wrong type, an integer beyond bigint) starts from the top instead of failing in the database."""
    from datetime import datetime, timezone
    from uuid import UUID
    from portal.listing import typed_position
    from portal.models import CourseReview
    keys = ((CourseReview.helpful_count, "helpful_count"), (CourseReview.created_at, "created_at"),
            (CourseReview.id, "id"))
    at = datetime(2026, 12, 6, 20, 30, tzinfo=timezone.utc)
    row = "00000000-0000-4000-8000-000000000001"
    assert typed_position(keys, [3, at.isoformat(), row]) == [3, at, UUID(row)]
    for bad in (["x"], [3, at.isoformat()], ["3", at.isoformat(), row], [True, at.isoformat(), row],
                [2 ** 70, at.isoformat(), row], [3, "yesterday", row], [3, at.isoformat(), "not-a-uuid"],
                [3, 17, row], {"a": 1}, [3, "2026-01-01T00:00:00+15:59:59.999999", row],
                [3, "2026-01-01T00:00:00+05:30:30", row], [3, "2026-01-01T00:00:00-16:00", row]):
        assert typed_position(keys, bad) is None, bad
    assert typed_position(keys, [3, "2026-01-01T00:00:00+15:59", row])[1].utcoffset().seconds == 15 * 3600 + 59 * 60


def test_a_key_that_is_an_expression_takes_only_its_declared_type():
    """A key that is not a column (the reviews inbox's "unanswered first") declares its Python type: a
    position holding anything else (1, "x", -1) is no position; one that declares none takes none."""
    from datetime import datetime, timezone
    from portal.listing import typed_position
    from portal.models import CourseReview
    unanswered = CourseReview.instructor_response.is_null()
    keys = ((unanswered, "unanswered", bool), (CourseReview.created_at, "created_at"))
    at = datetime(2026, 12, 6, 20, 30, tzinfo=timezone.utc).isoformat()
    assert typed_position(keys, [True, at])[0] is True
    for bad in (1, 0, -1, "x", None, 2 ** 70):
        assert typed_position(keys, [bad, at]) is None, bad
    assert typed_position(((unanswered, "unanswered"), (CourseReview.created_at, "created_at")), [True, at]) is None
