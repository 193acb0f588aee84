"""The route rules of the notices and background jobs (issue "Notifications and background
jobs") that take an id, a token or a key, or answer a POST only: each is tested as every actor
in tests/test_web_notifications.py (test_web_routes.py fails on any route that no such table
names; the pages without arguments are in its ROUTES).

* the notices: open one, mark one or all read (every signed-in role, their own notices only);
* unsubscribing through an email's signed link (anyone holding the link, signed in or not);
* the notification settings' POST (every signed-in role);
* running a dead job again (platform admins only);
* the development mailbox's messages (anyone, in development only).
"""

RULES: set[str] = {
    "/notifications/<uuid:notice_id>",
    "/notifications/<uuid:notice_id>/read",
    "/notifications/read",
    "/notifications/unsubscribe/<token>",
    "/admin/jobs/<int:job_id>/retry",
    "/dev/mail/<key>",
    "/dev/mail/<key>.html",
}
