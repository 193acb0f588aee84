"""The invitation email (015): sent by the worker straight through ``portal.mail`` (the address
has no account, so there is no notice to write), with a token made as the email is written;
the database keeps only its SHA-256."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import render_template


def token_hash(token: str) -> str:
    """What the database keeps of a link's token (hex SHA-256)."""
    return hashlib.sha256(token.encode()).hexdigest()


def compose_invitation(app, invitation, token: str) -> EmailMessage:
    with app.test_request_context("/", base_url=app.config["PORTAL_URL"]):
        from flask import url_for

        subject = f"{invitation.inviter_name} invites you to {invitation.course_title}"
        context = dict(subject=subject, invitation=invitation,
                       link=url_for("outreach.invitation", invitation=token, _external=True))
        text = render_template("outreach/invitation_email.txt", **context)
        html = render_template("outreach/invitation_email.html", **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = app.config["MAIL_FROM"]
    message["To"] = invitation.email
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(idstring=str(invitation.id), domain="instructor-portal")
    message["X-Portal-Invitation"] = str(invitation.id)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
