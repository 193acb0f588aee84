"""Email: compose a notice as a message (plain text and HTML, in the reader's time
zone, with an unsubscribe link), and send it through SMTP, or in development keep
it in a local Maildir that the portal shows at ``/dev/mail``.

Composing and sending run in the worker (``portal/jobs``), never in a request.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from flask import render_template

from portal.notifications import events


def compose(app, notice, reset_token: str | None = None) -> EmailMessage:
    """The message for one row of ``private.email_to_send`` (a password reset's with the token the
    worker made for it: the database holds only its hash)."""
    tz = events.zone(notice.timezone)
    payload = notice.payload
    account = notice.event_type in events.ACCOUNT_EVENTS
    with app.test_request_context("/", base_url=app.config["PORTAL_URL"]):
        from flask import url_for

        if notice.event_type == "email_confirmation":   # the link signs the user and this address
            payload = {**payload, "token": events.confirmation_token(notice.user_id, notice.email)}
        elif notice.event_type == "email_change":      # the link signs the user and this change
            payload = {**payload, "token": events.email_change_token(notice.user_id, payload["change_id"])}
        elif notice.event_type == "password_reset":
            payload = {**payload, "token": reset_token,
                       "minutes": app.config["PASSWORD_RESET_TTL_MINUTES"]}
        subject = events.summary(notice.event_type, payload, tz)
        context = dict(
            name=notice.full_name, payload=payload, subject=subject, tz=tz,
            local_time=events.local_time,
            link=events.link(notice.event_type, payload, external=True),
            unsubscribe=None if account else url_for(
                "notifications.unsubscribe", _external=True,
                token=events.unsubscribe_token(notice.user_id, notice.event_type)),
            preferences=url_for("settings.notifications", _external=True),
        )
        text = render_template(f"email/{notice.event_type}.txt", **context)
        html = render_template(f"email/{notice.event_type}.html", **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = app.config["MAIL_FROM"]
    message["To"] = formataddr((" ".join(notice.full_name.split()), notice.email))
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(idstring=str(notice.id), domain="instructor-portal")
    if context["unsubscribe"]:
        message["List-Unsubscribe"] = f"<{context['unsubscribe']}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058: the link takes a bare POST
    message["X-Portal-Notification"] = str(notice.id)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(app, message: EmailMessage) -> None:
    """Deliver one message; any failure raises (the job retries it)."""
    config = app.config
    if config["MAIL_BACKEND"] == "capture":
        capture_box(app).add(message)
        return
    security = config["SMTP_SECURITY"]
    if security == "tls":
        server = smtplib.SMTP_SSL(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"],
                                  context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"])
    with server:
        if security == "starttls":
            server.starttls(context=ssl.create_default_context())
        if config.get("SMTP_USERNAME"):
            server.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        server.send_message(message)


def capture_box(app) -> mailbox.Maildir:
    """The development mailbox (created on first use)."""
    path = Path(app.config["MAIL_CAPTURE_DIR"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(path, create=True)
