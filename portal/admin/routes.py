"""Administration. The moderation and organization pages arrive with their own issue;
the job queue is here: how many jobs wait, retry, run or are dead, the jobs of each
state with why they last failed, and running a dead job again."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from portal.admin import bp, queries
from portal.web import notify, placeholder, redirect_to, render, role_required


@bp.route("/")
@role_required("admin", "org_admin")
def index():
    if current_user.role == "admin":
        return placeholder("Moderation", "Review reports, users and organizations across the platform.")
    return placeholder("Organization", "Your organization's courses, workshops, instructors and revenue.")


@bp.route("/jobs")
@role_required("admin")
def jobs():
    state = request.args.get("state", "dead")
    if state not in queries.STATES:
        state = "dead"
    before = queries.job_id(request.args.get("before", type=int))  # anything else: from the newest
    rows, next_before = queries.jobs(state, before)
    return render("admin/jobs.html", counts=queries.job_counts(), states=queries.STATES, state=state,
                  rows=rows, next_before=next_before, first_page=before is None)


@bp.route("/jobs/<int:job_id>/retry", methods=["POST"])
@role_required("admin")
def retry_job(job_id):
    back = redirect_to(url_for("admin.jobs"))
    if not queries.retry(job_id):
        return notify(back, f"Job {job_id} is not dead (it may have been retried already).", "info")
    return notify(back, f"Job {job_id} will run again now.")
