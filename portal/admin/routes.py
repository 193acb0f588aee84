"""Administration (platform admins): the overview, users, organizations and the job queue.

Views are thin: ``accounts`` reads and acts through the functions of 017, which check that the
caller is an active platform admin and the rules about accounts; a refusal comes back as its
message (``accounts.Refused``) and the form is shown again with the admin's values (422). An
account or an organization that does not exist is a 404. Organization admins have their own area
(``/organization/``); the old address of their home sends them there.
"""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user

from portal.admin import accounts, bp, forms, queries
from portal.formatting import monthly_sales_chart
from portal.web import found, notify, redirect_to, render, role_required

MONTHS_NOTE = "From the nightly monthly statistics: today's sales appear tomorrow."


@bp.route("/")
@role_required("admin", "org_admin")
def index():
    """The platform at a glance (kept figures; see accounts.overview)."""
    if current_user.role == "org_admin":
        return redirect(url_for("organization.index"), code=303)
    figures = accounts.overview()
    months = accounts.revenue_by_month()
    return render("admin/index.html", figures=figures, months=months, months_note=MONTHS_NOTE,
                  revenue_chart=_revenue_chart(months), roles=accounts.ROLES)


def _revenue_chart(months: list[dict]) -> dict:
    total = sum(m["gross"] for m in months)
    fees = sum(m["fees"] for m in months)
    return dict(summary=f"Gross sales over the last 12 months: {total:,.2f}; platform fees: {fees:,.2f}",
                data=monthly_sales_chart(months))


# --- users -------------------------------------------------------------------------------------------

@bp.route("/users")
@role_required("admin")
def users():
    view = accounts.USERS.read(request.args)
    view.choices["org"] = accounts.organization_choices()
    listing = accounts.users(view).link("admin.users")
    return render("admin/users.html", "admin/_users.html", listing=listing, roles=accounts.ROLES,
                  too_short=accounts.search_too_short(view), search_min=accounts.SEARCH_MIN)


def _user_page(user: dict, status: int = 200, **bound):
    """A user's page with its forms: those in ``bound`` as posted, the others from the account."""
    membership = bound.get("membership_form") or forms.MembershipForm(
        formdata=None, data={"organization": str(user["organization_id"] or "")})
    _organization_choices(membership, user)
    context = dict(
        role_form=forms.own_ids(bound.get("role_form") or forms.RoleForm(formdata=None, data={"role": user["role"]}),
                                "role"),
        active_form=forms.own_ids(bound.get("active_form") or forms.ActiveForm(formdata=None), "status"),
        membership_form=forms.own_ids(membership, "membership"),
        instructor_form=forms.own_ids(bound.get("instructor_form") or forms.InstructorForm(
            formdata=None, data={"verified": user["is_verified"], "featured": user["is_featured"]}), "profile"),
    )
    return render("admin/user.html", status=status, person=user, roles=accounts.ROLES,
                  myself=str(user["id"]) == str(current_user.id), **context)


def _organization_choices(form, user: dict, submitted: str | None = None) -> None:
    """The select's choices: the first organizations by name, the user's own, and the one submitted
    when it exists (an organization past the first ones is valid: the database says so, not the list)."""
    choices = accounts.organization_choices()
    if user["organization_id"] and str(user["organization_id"]) not in choices:
        choices[str(user["organization_id"])] = user["organization_name"]
    wanted = accounts.as_uuid(submitted)
    if wanted is not None and str(wanted) not in choices:
        org = accounts.organization(wanted)
        if org is not None:
            choices[str(wanted)] = org["name"]
    form.organization.choices = forms.choices([("", "None"), *choices.items()])


@bp.route("/users/<uuid:user_id>")
@role_required("admin")
def user(user_id):
    return _user_page(found(accounts.user(user_id)))


def _done(user_id, message: str, changed: bool):
    back = redirect_to(url_for("admin.user", user_id=user_id))
    return notify(back, message if changed else "Nothing changed.", "success" if changed else "info")


@bp.route("/users/<uuid:user_id>/role", methods=["POST"])
@role_required("admin")
def set_role(user_id):
    person = found(accounts.user(user_id))
    form = forms.RoleForm()
    if form.validate_on_submit():
        try:
            changed = accounts.set_role(user_id, form.role.data, form.reason.data)
        except accounts.Refused as refused:
            form.form_errors.append(refused.message)
        else:
            return _done(user_id, f"{person['full_name']} is now: {accounts.ROLES[form.role.data]}. "
                                  "They are told.", changed)
    return _user_page(person, 422, role_form=form)


@bp.route("/users/<uuid:user_id>/active", methods=["POST"])
@role_required("admin")
def set_active(user_id):
    person = found(accounts.user(user_id))
    form = forms.ActiveForm()
    deactivate = person["is_active"]
    if form.validate_on_submit():
        if deactivate and not form.confirm.data:
            form.confirm.errors = [*form.confirm.errors, forms.CONFIRM]
        else:
            try:
                changed = accounts.set_active(user_id, not deactivate, form.reason.data)
            except accounts.Refused as refused:
                form.form_errors.append(refused.message)
            else:
                message = (f"{person['full_name']} is deactivated and signed out everywhere." if deactivate
                           else f"{person['full_name']} is active again and told so.")
                return _done(user_id, message, changed)
    return _user_page(person, 422, active_form=form)


@bp.route("/users/<uuid:user_id>/organization", methods=["POST"])
@role_required("admin")
def set_organization(user_id):
    person = found(accounts.user(user_id))
    form = forms.MembershipForm()
    _organization_choices(form, person, request.form.get("organization"))
    if form.validate_on_submit():
        try:
            changed = accounts.set_organization(user_id, accounts.as_uuid(form.organization.data), form.reason.data)
        except accounts.Refused as refused:
            form.form_errors.append(refused.message)
        else:
            return _done(user_id, f"{person['full_name']}'s organization is changed. They are told.", changed)
    return _user_page(person, 422, membership_form=form)


@bp.route("/users/<uuid:user_id>/instructor", methods=["POST"])
@role_required("admin")
def set_instructor(user_id):
    person = found(accounts.user(user_id))
    form = forms.InstructorForm()
    if not person["has_profile"] or person["role"] != "instructor":  # a demoted member's profile is hidden
        form.form_errors.append("This account is not an instructor: no instructor profile to verify or feature.")
    elif form.validate_on_submit():
        try:
            changed = accounts.set_instructor_flags(user_id, form.verified.data, form.featured.data, form.reason.data)
        except accounts.Refused as refused:
            form.form_errors.append(refused.message)
        else:
            return _done(user_id, f"{person['full_name']}'s profile is updated. They are told.", changed)
    return _user_page(person, 422, instructor_form=form)


# --- organizations ---------------------------------------------------------------------------------------

def _organizations_page(form=None, status: int = 200):
    view = accounts.ORGANIZATIONS.read(request.args)
    listing = accounts.organizations(view).link("admin.organizations")
    return render("admin/organizations.html", "admin/_organizations.html", status=status, listing=listing,
                  form=form or forms.OrganizationForm(formdata=None))


@bp.route("/organizations")
@role_required("admin")
def organizations():
    return _organizations_page()


@bp.route("/organizations", methods=["POST"])
@role_required("admin")
def create_organization():
    form = forms.OrganizationForm()
    if form.validate_on_submit():
        slug = form.slug.data or accounts.slug_for(form.name.data)
        try:
            org_id = accounts.create_organization(form.name.data, slug)
        except accounts.Refused as refused:
            (form.slug if refused.code == "organizations_slug_key" else form.name).errors.append(refused.message)
        else:
            return notify(redirect_to(url_for("admin.organization", org_id=org_id)),
                          f"{form.name.data} is created. Add its members below.")
    return _organizations_page(form, 422)


def _organization_page(org: dict, status: int = 200, **bound):
    view = accounts.MEMBERS.read(request.args)
    members = accounts.users(view, organization=org["id"]).link("admin.organization", org_id=org["id"])
    return render("admin/organization.html", "admin/_members.html", status=status, org=org, listing=members,
                  roles=accounts.ROLES, too_short=accounts.search_too_short(view), search_min=accounts.SEARCH_MIN,
                  rename_form=bound.get("rename_form") or forms.RenameForm(formdata=None, data={"name": org["name"]}),
                  member_form=bound.get("member_form") or forms.MemberForm(formdata=None))


@bp.route("/organizations/<uuid:org_id>")
@role_required("admin")
def organization(org_id):
    return _organization_page(found(accounts.organization(org_id)))


@bp.route("/organizations/<uuid:org_id>/name", methods=["POST"])
@role_required("admin")
def rename_organization(org_id):
    org = found(accounts.organization(org_id))
    form = forms.RenameForm()
    if form.validate_on_submit():
        try:
            accounts.rename_organization(org_id, form.name.data)
        except accounts.Refused as refused:
            form.name.errors.append(refused.message)
        else:
            return notify(redirect_to(url_for("admin.organization", org_id=org_id)),
                          f"The organization is now called {form.name.data}.")
    return _organization_page(org, 422, rename_form=form)


@bp.route("/organizations/<uuid:org_id>/members", methods=["POST"])
@role_required("admin")
def add_member(org_id):
    org = found(accounts.organization(org_id))
    form = forms.MemberForm()
    if form.validate_on_submit():
        member = accounts.user_id_by_email(form.email.data)
        if member is None:
            form.email.errors.append("No account has that email address. They sign up first.")
        else:
            try:
                changed = accounts.set_organization(member, org_id, None)
            except accounts.Refused as refused:
                form.email.errors.append(refused.message)
            else:
                message = (f"{form.email.data} is now a member of {org['name']}. They are told." if changed
                           else f"{form.email.data} is already a member.")
                return notify(redirect_to(url_for("admin.organization", org_id=org_id)), message,
                              "success" if changed else "info")
    return _organization_page(org, 422, member_form=form)


@bp.route("/organizations/<uuid:org_id>/members/<uuid:user_id>/remove", methods=["POST"])
@role_required("admin")
def remove_member(org_id, user_id):
    org = found(accounts.organization(org_id))
    member = found(accounts.is_member(user_id, org["id"]))
    back = redirect_to(url_for("admin.organization", org_id=org_id))
    try:
        accounts.set_organization(user_id, None, None)
    except accounts.Refused as refused:
        return notify(back, refused.message, "error")
    lost = " and no longer administers it" if member["role"] == "org_admin" else ""
    return notify(back, f"{member['full_name']} is no longer a member of {org['name']}{lost}. "
                        "Their courses and workshops in the organization stay with it.")


@bp.route("/organizations/<uuid:org_id>/members/<uuid:user_id>/admin", methods=["POST"])
@role_required("admin")
def member_admin(org_id, user_id):
    """Make a member who is a student the organization's admin (make=yes), or an org admin a plain
    member again, a student (make=no); anyone else (an instructor, for instance) is left as they
    are: the button says what it does only for those two. The first POST shows what will happen
    (a confirmation page), the confirmed one acts."""
    org = found(accounts.organization(org_id))
    member = found(accounts.is_member(user_id, org["id"]))
    make = request.form.get("make") == "yes"
    back = redirect_to(url_for("admin.organization", org_id=org_id))
    if member["role"] != ("student" if make else "org_admin"):
        return notify(back, f"Nothing changed: {member['full_name']} is {accounts.ROLES[member['role']].lower()} "
                            f"here, and this button acts only on {'students' if make else 'organization admins'}.",
                      "info")
    if request.form.get("confirm") != "y":
        return render("admin/member_admin_confirm.html", org=org, member=member, make=make)
    try:
        accounts.set_role(user_id, "org_admin" if make else "student", None)
    except accounts.Refused as refused:
        return notify(back, refused.message, "error")
    return notify(back, f"{member['full_name']} {'administers' if make else 'no longer administers'} "
                        f"{org['name']}.")


# --- the job queue -------------------------------------------------------------------------------------

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

