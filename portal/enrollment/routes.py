"""Enrolling and paying: the routes arrive with the Learning issue."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("enrollment", __name__)
