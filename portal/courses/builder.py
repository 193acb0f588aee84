"""Placeholder: filled in by this issue."""

from portal.courses.blueprint import bp  # noqa: F401
