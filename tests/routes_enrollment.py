"""The enrollment area's route rules, each tested as every actor by its own test modules
(test_web_routes.py fails on any route that no such table names).

* tests/test_web_enrollment.py: enroll, retry, the checkout page, pay, decline;
* tests/test_payments_webhook.py: the webhook;
* tests/test_web_approvals.py: the approval queue, approve, decline an enrollment;
* tests/test_web_exports.py: the queue as a CSV file.
"""

RULES: set[str] = {
    "/catalog/<slug>/enroll",
    "/catalog/<slug>/checkout",
    "/checkout/<uuid:checkout_id>",
    "/checkout/<uuid:checkout_id>/pay",
    "/checkout/<uuid:checkout_id>/decline",
    "/payments/webhook",
    "/students/approvals",
    "/students/approvals/export.csv",
    "/students/approvals/<uuid:enrollment_id>/approve",
    "/students/approvals/<uuid:enrollment_id>/decline",
}
