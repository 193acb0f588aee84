"""``/healthz``: the process answers (no database). ``/readyz``: it can serve pages (the
request's transaction opened, and the database answers as anon). ``/healthz/worker``:
a job worker beat within the last minute, with the age of the oldest due job; 503 when
none did."""

from __future__ import annotations

from flask import jsonify

from portal.db import database
from portal.health import bp


@bp.route("/healthz")
def live():
    return jsonify(status="alive")


@bp.route("/readyz")
def ready():
    database.execute_sql("SELECT 1").fetchone()
    return jsonify(status="ready")


@bp.route("/healthz/worker")
def worker():
    workers, oldest = database.execute_sql(
        "SELECT workers, oldest_waiting_seconds FROM job_queue_health()").fetchone()
    body = jsonify(status="alive" if workers else "no worker", workers=workers,
                   oldest_waiting_seconds=oldest or 0)
    return body, (200 if workers else 503)
