"""The invitation email (015): sent by the worker straight through ``portal.mail`` (the address
has no account, so there is no notice to write), with a token made as the email is written;
the database keeps only its SHA-256."""

from __future__ import annotations

import hashlib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import render_template


def plain_text(markdown: str | None) -> str:
    """Markdown as the plain text a reader sees (an announcement's excerpt in its email): rendered
    and sanitized as in the portal, then its tags dropped and its spaces collapsed."""
    from portal.courses.markdown import render_markdown

    return render_markdown(markdown).striptags()


def token_hash(token: str) -> str:
    """What the database keeps of a link's token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


class NotAnAddress(ValueError):
    """The invitation's address does not make a To header naming exactly it (015's CHECK keeps
    such addresses out; this is the last guard before a header is written)."""


def recipient(address: str) -> Address:
    """``address`` as a To header's one recipient, refused unless the header parses back to it
    (no group, display name or second address slipped in)."""
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, TypeError) as exc:
        raise NotAnAddress(address) from exc
    if parsed.addr_spec != address:
        raise NotAnAddress(address)
    return parsed


def compose_invitation(app, invitation, token: str) -> EmailMessage:
    to = recipient(invitation.email)
    with app.test_request_context("/", base_url=app.config["PORTAL_URL"]):
        from flask import url_for

        # one line, whatever the names hold (a newline in a header kills the job), as portal.mail does
        subject = " ".join(f"{invitation.inviter_name} invites you to {invitation.course_title}".split())
        context = dict(subject=subject, invitation=invitation,
                       link=url_for("outreach.invitation", invitation=token, _external=True))
        text = render_template("outreach/invitation_email.txt", **context)
        html = render_template("outreach/invitation_email.html", **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = app.config["MAIL_FROM"]
    message["To"] = to
    if [address.addr_spec for address in message["To"].addresses] != [invitation.email]:
        raise NotAnAddress(invitation.email)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(idstring=str(invitation.id), domain="instructor-portal")
    message["X-Portal-Invitation"] = str(invitation.id)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
