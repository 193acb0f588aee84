"""The WSGI entry point for gunicorn: ``gunicorn wsgi:app``.

Configuration comes from the environment (see portal/config.py);
``python -m portal run`` sets it for the embedded server.
"""

from portal import create_app

app = create_app()
