"""How figures and times read on screen."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from portal import formatting

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, shown", [
    (Decimal("1234.5"), "$1,234.50"), (Decimal("-20.005"), "−$20.01"), (None, "$0.00"), (0, "$0.00")])
def test_money(value, shown):
    """Money has two decimals, thousands separators and a real minus sign."""
    assert formatting.money(value) == shown


@pytest.mark.parametrize("delta, shown", [
    (timedelta(seconds=5), "just now"), (timedelta(minutes=1), "1 minute ago"),
    (timedelta(hours=5), "5 hours ago"), (timedelta(days=2), "2 days ago"),
    (timedelta(days=10), "15 Nov 2026")])
def test_ago(app, delta, shown):
    """Recent times read as "ago", older ones as a date."""
    with app.test_request_context():
        assert formatting.ago(NOW - delta, now=NOW) == shown


@pytest.mark.parametrize("value, shown", [
    (Decimal("80.00"), "80%"), (Decimal("0.00"), "0%"), (Decimal("66.67"), "66.7%"), (Decimal("33.33"), "33.3%"),
    (Decimal("99.96"), "100%"), (Decimal("12.5"), "12.5%"), (70, "70%"), (Decimal("-0.04"), "0%"), (None, "—")])
def test_percent(value, shown):
    """A percentage is whole when it is ("80%"), else it has one decimal ("66.7%"); none is a dash."""
    assert formatting.percent(value) == shown


def test_rating_and_number():
    """A missing rating is a dash; counts have separators."""
    assert formatting.rating(None) == "—" and formatting.rating(Decimal("4.5")) == "4.50"
    assert formatting.number(1234567) == "1,234,567"
