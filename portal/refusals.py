"""What the database refuses, in users' words: one table.

Every RAISE of a function or guard trigger names its refusal in the error's
constraint field (schema/009), and a real constraint violation names its
constraint there. ``MESSAGES`` maps both to the one sentence users see, so a
page never matches the database's wording and never shows it;
tests/test_refusals.py checks that every RAISE in the database carries a code
and that every code has a message here.
"""

from __future__ import annotations

from portal.db import constraint_name, sqlstate

MESSAGES = {
    # signing in and up
    "sign_in_required": "Please sign in first.",
    "sign_up_role": "One signs up as a student or as an instructor.",
    "not_permitted": "You do not have access to this.",
    "admin_only": "Only a platform administrator can do that.",
    # the account (011)
    "same_email": "That is already your address.",
    "too_many_email_changes": "You asked to change your address five times in the last hour. Please try again later.",
    "email_change_not_pending": "This link is no longer valid: the change was confirmed, cancelled, replaced by a "
                                "newer one, or it expired. Ask for a new one on your account page.",
    "users_email_key": "Another account uses that address.",
    "admin_keeps_account": "A platform administrator's account is closed by the operators.",
    "profile_education_rows": "Each education row needs a degree and an institution (years from 1950 to 2100).",
    "profile_certification_rows": "Each certification needs a name (years from 1950 to 2100).",
    "profile_work_experience_rows": "Each work experience row needs a role and a company (years from 1950 to 2100).",
    "profile_social_links": "Social links must be https addresses of known networks.",
    "profile_expertise_tags": "Use at most 15 expertise tags of 1 to 40 characters each.",
    "instructor_timezone_name": "Choose a time zone from the list.",
    # notifications and the job queue (010)
    "unknown_notification_event": "There is no such kind of notification.",
    "unknown_job_state": "There is no such job state.",
    "job_not_dead": "That job is not dead: it has run again or is waiting to.",
    # courses and their outline
    "course_not_found": "There is no such course, or you do not have access to it.",
    "course_not_open": "This course is not open for enrollment.",
    "course_starts_as_draft": "A new course starts as a draft.",
    "course_status_move": "The course cannot move to that status from where it is now.",
    "course_not_ready": "Publish the course once it has a description and a module with a lesson.",
    "course_empty_quiz": "Publish the course once every quiz has at least one question.",
    "course_slug_locked": "A published course keeps its web address: unpublish it to change the address.",
    "courses_slug_key": "Another course already uses this web address.",
    "drip_schedule_rules_are_days_or_dates": "Each release rule is a number of days after enrolling or a date.",
    "module_not_found": "There is no such module, or you do not have access to it.",
    "lesson_not_found": "There is no such lesson, or you do not have access to it.",
    "module_not_in_course": "That module belongs to another course.",
    # the teaching team
    "team_no_such_instructor": "No active instructor has that email. They need an instructor account on the "
                               "portal first.",
    "team_owner_already_teaches": "That is your own email: you already teach this course as its primary "
                                  "instructor.",
    "team_inactive_instructor": "This account is no longer an active instructor, so nothing can be changed: "
                                "remove them instead.",
    "team_primary_is_owner": "A course has one primary instructor, its owner. Choose co-instructor or "
                             "teaching assistant.",
    "team_student_cannot_teach": "This instructor is enrolled in the course as a student, so they cannot "
                                 "also teach it.",
    "course_instructors_course_id_instructor_id_key": "This instructor is already on the team. Change "
                                                      "their permissions in the list instead.",
    # the audit log (016)
    "audit_log_append_only": "The audit log is a record: nothing in it is changed or deleted.",
    # enrolling and paying
    "own_course": "Instructors do not enroll in their own course.",
    "already_enrolled": "You are already enrolled in this course.",
    "enrollment_refunded": "This enrollment was refunded. Please contact support to restore it.",
    "enrollment_not_found": "There is no such enrollment, or you do not have access to it.",
    "nothing_to_pay": "This enrollment has nothing to pay.",
    "already_paid": "This enrollment is already paid.",
    "nothing_to_refund": "Nothing was paid, so there is nothing to refund.",
    # revenue: refunds and payouts (020)
    "sale_not_found": "There is no such sale, or you do not have access to it.",
    "sale_already_refunded": "This sale was refunded already (nothing of it is left to refund, or you refund a sale once, in full).",
    "refund_amount_range": "A refund is more than 0 and at most what is left of the sale, in whole cents.",
    "refund_reason_required": "Say why the sale is refunded (at most 500 characters).",
    "refund_window_closed": "The refund window of this sale has closed. An administrator can still refund it.",
    "payout_already_scheduled": "This instructor already has a scheduled payout: mark it paid or cancel it first.",
    "nothing_to_pay_out": "Nothing to pay out: no earnings past the refund window (or refunds outweigh them).",
    "payout_not_scheduled": "This payout is no longer scheduled: it was paid or cancelled already.",
    "payout_not_found": "There is no such payout.",
    "refund_exceeds_sale": "A sale's refunds never add up to more than what was paid.",
    "payout_rows_changed": "This payout's rows no longer add up to its totals (a row was paid or moved another way): cancel it and make it again.",
    "payout_amount_is_gross_less_fees": "A payout's total is its gross less its fees.",
    "paid_payouts_have_a_date": "A paid payout has a payment date.",
    "uq_payouts_one_scheduled": "This instructor already has a scheduled payout: mark it paid or cancel it first.",
    # workshops
    "workshop_not_open": "This workshop is not open for registration.",
    "workshop_started": "This workshop has already started.",
    "own_workshop": "Instructors do not register for their own workshop.",
    "already_registered": "You are already registered for this workshop.",
    "registration_not_found": "There is no such registration, or you do not have access to it.",
    "registration_not_payable": "Only a registered seat is paid for.",
    # workshops (021)
    "workshop_not_found": "There is no such workshop, or you do not have access to it.",
    "workshop_closed": "This workshop is completed or cancelled, so it is no longer changed.",
    "workshop_capacity_below_seats": "The capacity cannot be lower than the seats already taken.",
    "workshop_publish_past": "A workshop is published before it starts: move its start into the future.",
    "workshop_complete_early": "A workshop is marked completed once it has ended.",
    "workshop_times_in_range": "Workshop times are between the years 2000 and 2200.",
    "workshop_move_past": "This workshop is published and has registrations: its start stays in the future "
                          "(cancel it, or complete it once it has ended).",
    "workshop_cancel_started": "This workshop has already started, so it is not cancelled: mark it completed "
                               "once it has ended instead.",
    "workshop_has_registrations": "This workshop has registrations: cancel it (everyone registered is told) "
                                  "instead of moving it back to a draft.",
    "workshop_refund_cutoff_range": "The refund cutoff is between 0 and 720 hours before the start.",
    "attendance_before_start": "Attendance is taken once the workshop has started.",
    "feedback_before_end": "Feedback opens when the workshop has ended.",
    "in_person_workshops_have_a_location": "An in-person or hybrid workshop needs a location.",
    "online_workshops_have_a_meeting_url": "An online or hybrid workshop needs a meeting link before it is "
                                           "published.",
    "workshop_ends_after_it_starts": "The workshop ends after it starts.",
    "workshop_feedback_workshop_id_user_id_key": "You already gave feedback on this workshop.",
    # learning
    "quiz_completed_by_passing": "A quiz is completed by passing it.",
    "watch_time_invalid": "Watch time is a whole number of seconds.",
    "not_a_quiz": "This lesson is not a quiz.",
    "quiz_unanswered": "Please answer every question.",
    # bulk enrollment and announcements (015)
    "too_many_rows": "At most 1,000 addresses a list: split it into several.",
    "paid_course_needs_grant": "This course has a price: tick “Grant access without payment” to enroll these "
                               "students free of charge, or let them enroll and pay themselves.",
    "bulk_daily_limit": "That is more students than you may add today. Send the rest tomorrow.",
    "audience_unknown": "Choose who the announcement is for.",
    "email_unconfirmed": "Confirm your own email address first: the link is in the email we sent you "
                         "(your account page sends it again).",
    # the platform admin's acts on accounts and organizations (017)
    "account_not_found": "There is no such account.",
    "admin_changes_self": "You cannot change your own role, organization or active flag: another "
                          "administrator can.",
    "admin_role_by_operators": "The platform administrator role is given and taken by the operators, "
                               "not through the portal.",
    "admin_active_by_operators": "A platform administrator is deactivated and reactivated by the operators, "
                                 "not through the portal.",
    "org_admin_changes_organization": "An organization admin who moves to another organization stops being "
                                      "an organization admin.",
    "teacher_not_instructor": "Only an instructor owns or teaches a course or a workshop.",
    "instructor_still_teaches": "This instructor still owns or teaches courses or workshops. Hand them over "
                                "or archive them first; until then they stay an instructor.",
    "org_admin_needs_organization": "An organization admin belongs to an organization: add them to one first.",
    "org_admin_has_organization": "An organization admin belongs to an organization: add them to one first.",
    "organization_not_found": "There is no such organization.",
    "not_an_instructor": "This account is not an instructor: no instructor profile to verify or feature.",
    "admin_reason_length": "A reason has at most 500 characters.",
    "organizations_slug_key": "Another organization already uses this web address.",
    # lesson discussions, questions and assignments (022)
    "comment_reply_depth": "Replies go under a comment, not under another reply.",
    "discussion_edit_window": "The time to edit this has passed (15 minutes after posting).",
    "question_asker_only": "Only the student who asked can change the question or accept an answer.",
    "accepted_answer_of_question": "Accept one of this question's own answers.",
    "not_an_assignment": "This lesson is not an assignment.",
    "assignment_already_graded": "This assignment has been graded, so it can no longer be changed.",
    "submission_not_found": "There is no such submission, or you cannot grade it.",
    "lesson_comment_body": "Write a comment of at most 5,000 characters.",
    "question_answer_body": "Write an answer of at most 5,000 characters.",
    "course_question_title": "Give the question a title of 3 to 200 characters.",
    "course_question_body": "The question's details have at most 5,000 characters.",
    "assignment_submission_body": "Your answer has at most 20,000 characters.",
    "assignment_submission_link": "The link must be a web address starting with http:// or https://.",
    "assignment_submission_not_empty": "Write your answer or give a link to your work.",
    "assignment_submission_score": "Give a score from 0 to 100.",
    "assignment_submission_feedback": "Feedback has at most 5,000 characters.",
    "discussion_report_other_says_why": "Say what is wrong when you choose “Other”.",
    "discussion_reports_comment_id_reporter_id_key": "You have already reported this.",
    "discussion_reports_question_id_reporter_id_key": "You have already reported this.",
    "assignment_completed_by_grade": "An assignment is completed when your instructor gives it a passing grade.",
    "question_rate_limit": "You have asked many questions in this course in the last hour: wait a little before asking another.",
    "grade_not_active_student": "This student is no longer enrolled in the course, so their work cannot be graded.",
    "grade_own_submission": "You cannot grade your own work.",
    "discussion_report_one_subject": "Report one comment, question or answer at a time.",
    "discussion_reports_answer_id_reporter_id_key": "You have already reported this.",
}

# What users see when a refusal has no entry above, by SQLSTATE class.
BY_CLASS = {
    "23": "Some of what you entered was not accepted.",
    "22": "Some of what you entered was not accepted.",
    "42": "You do not have access to this.",
    "P0": "There is nothing here, or you do not have access to it.",
}
DEFAULT = "This was not saved: a value was not accepted."


def code(exc: BaseException) -> str | None:
    """The refusal's stable code (a RAISE's CONSTRAINT, or the violated constraint's name)."""
    return constraint_name(exc)


def message(exc: BaseException, default: str | None = None) -> str:
    """The user's message for a refused statement: its code's entry, else ``default``, else its class's."""
    found = MESSAGES.get(code(exc) or "")
    if found:
        return found
    if default:
        return default
    return BY_CLASS.get((sqlstate(exc) or "")[:2], DEFAULT)
