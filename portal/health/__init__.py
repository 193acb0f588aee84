"""Health: liveness and readiness of the web app, and whether a worker is alive, for a
load balancer or an orchestrator (JSON, no sign-in, nothing about anyone's data)."""

from flask import Blueprint

bp = Blueprint("health", __name__)

# The views register themselves on bp (the import is last, on purpose).
from portal.health import routes  # noqa: E402,F401
