"""The audit log page has no form of its own: it is read-only, and its filters are a GET query
string cleaned by the list kit (``portal.listing``: unknown values dropped). Nobody writes the
log but the database's triggers (016)."""
