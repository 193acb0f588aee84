"""Configuration from the environment, with safe development defaults.

``PORTAL_ENV=production`` turns the defaults strict: the app refuses to start
with the development secret key, and session cookies are Secure.
"""

from __future__ import annotations

import os

DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"


class ConfigError(RuntimeError):
    """Configuration that must not run: the message says what to set."""


def from_environment() -> dict:
    production = os.environ.get("PORTAL_ENV", "development") == "production"
    return {
        "PORTAL_ENV": "production" if production else "development",
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET),
        # As authenticator; `python -m portal run` sets it for the embedded server.
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "DATABASE_POOL_SIZE": int(os.environ.get("DATABASE_POOL_SIZE", "8")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "portal_session",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
        # The CSRF token is bound to the session; no extra expiry that would
        # break a form left open over lunch.
        "WTF_CSRF_TIME_LIMIT": None,
        # Failed sign-ins allowed per account and per address within the window
        # (ASVS 2.2.1: at most 100 an hour per account).
        "SIGN_IN_ACCOUNT_LIMIT": int(os.environ.get("SIGN_IN_ACCOUNT_LIMIT", "10")),
        "SIGN_IN_ADDRESS_LIMIT": int(os.environ.get("SIGN_IN_ADDRESS_LIMIT", "50")),
        "SIGN_IN_WINDOW_MINUTES": int(os.environ.get("SIGN_IN_WINDOW_MINUTES", "15")),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
    }


def check(config) -> None:
    """Refuse a configuration that is unsafe or incomplete."""
    if config["PORTAL_ENV"] == "production":
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEVELOPMENT_SECRET \
                or len(config["SECRET_KEY"]) < 32:
            raise ConfigError("production needs SECRET_KEY set to a random value of 32+ characters")
    if not config.get("DATABASE_URL"):
        raise ConfigError("DATABASE_URL (as authenticator) is not set; `python -m portal run` sets it "
                          "for the embedded server")
