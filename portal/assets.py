"""Front-end libraries from npm (package.json, installed by ``make setup``),
served from ``/static/vendor/<name>``: pinned, local, never a CDN."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, abort, send_file

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"

# name in the URL -> (npm package, file inside it)
VENDOR = {
    "htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
    "chart.umd.min.js": ("chart.js", "dist/chart.umd.min.js"),
    "Sortable.min.js": ("sortablejs", "Sortable.min.js"),
}

bp = Blueprint("assets", __name__)


def package_version(package: str) -> str:
    manifest = NODE_MODULES / package / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.exists() else "missing"


def missing() -> list[str]:
    """Vendor files that are not installed (``make setup`` installs them)."""
    return [name for name, (package, path) in VENDOR.items() if not (NODE_MODULES / package / path).exists()]


@bp.route("/static/vendor/<name>")
def vendor(name: str):
    if name not in VENDOR:
        abort(404)
    package, path = VENDOR[name]
    file = NODE_MODULES / package / path
    if not file.exists():
        abort(404)
    # The version is in the page's URL (?v=), so a long cache is safe.
    return send_file(file, max_age=60 * 60 * 24 * 365)
