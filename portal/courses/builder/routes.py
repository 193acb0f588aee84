"""The curriculum builder and drip release: thin views over ``builder/queries.py``.

Every edit happens in place with htmx (a module's or lesson's fragment swaps
to its form and back, adding appends, deleting removes, a move re-renders
the list) and also works as a plain form POST answered with a 303. Bad input
comes back as the form with 422: the fragment for htmx, the whole page with
the form open in place otherwise. Each success is confirmed with
``portal.web.notify`` (the message region at the top of the page).

Reordering: drag and drop, the move up / down buttons (one step a press), and
"Move to…", a form choosing the place among those offered (any place of the
course for a lesson), which needs neither a mouse nor JavaScript.

Who may: pages need view_content (drip release also opens to
manage_students, who keep its unlock section). Writes are *not* gated here:
they run under row-level security and the 004 functions, so a teacher
without edit_content (or manage_students for unlocks) who posts gets a 404
because the database refused, and nothing changes. Only answers that write
nothing (an edit form, a quiz "add a question", a preview, a form sent back
with its messages) are refused in Python, with the same 404.
"""

from __future__ import annotations

import uuid
from datetime import date

from flask import abort, request, url_for
from peewee import IntegrityError

from portal import refusals
from portal.courses.builder import queries
from portal.courses.access import course_access
from portal.courses import bp
from portal.courses.builder.forms import (LESSON_TYPE_LABELS, LessonAddForm, LessonForm, ModuleForm,
                                          UnlockForm, add_error, chosen_place, drip_rules_form,
                                          lesson_form_data, lesson_places, module_places, move_form,
                                          rule_key, schedule_from, with_ids)
from portal.courses.markdown import render_markdown
from portal.db import constraint_name, database, sqlstate, UNIQUE_VIOLATION
from portal.web import found, is_partial, redirect_to, render, role_required
from portal.web import notify

PAGE = "courses/curriculum.html"
DRIP_PAGE = "courses/drip.html"


# --- helpers ------------------------------------------------------------------------

def _done(message: str, url: str):
    """A plain form's success: a 303 (post/redirect/get), the message shown on the next page."""
    return notify(redirect_to(url), message)


def _curriculum_url(course_id, anchor: str | None = None) -> str:
    return url_for("courses.curriculum", course_id=course_id, _anchor=anchor)


def _refused(form, exc: IntegrityError) -> None:
    """A constraint the form did not foresee: a message on the field it names, else on the form."""
    name = constraint_name(exc) or ""
    for hint, field in (("title", "title"), ("description", "description"), ("body", "body"),
                        ("video", "video_url"), ("duration", "duration_minutes"),
                        ("passing_score", "passing_score")):
        if hint in name and field in form:
            add_error(form[field], "This value was not accepted.")
            return
    form.form_errors.append(refusals.message(exc))


def _context(access, **extra) -> dict:
    """What the curriculum page and its fragments need; the outline is loaded by the caller."""
    lesson_add_forms = extra.pop("lesson_add_forms", {})

    def lesson_add_form(module):
        form = lesson_add_forms.get(module.id) or LessonAddForm(formdata=None)
        return with_ids(form, f"lesson-add-{module.id}")

    context = {
        "access": access, "course": access.course, "active": "curriculum",
        "can_edit": access.can("edit_content"), "type_labels": LESSON_TYPE_LABELS,
        "module_add_form": with_ids(ModuleForm(formdata=None), "module-add"),
        "lesson_add_form": lesson_add_form, "editing": None, "confirming": None, "moving": None,
        "moved": None, "modules": [],
    }
    context.update(extra)
    return context


def _page(access, status: int = 200, partial: str = "courses/_modules.html", modules=None, **extra):
    """The curriculum page (its outline fragment for htmx), with ``extra`` in place."""
    if modules is None:
        modules = queries.outline(access.course.id)
    return render(PAGE, partial, status=status, **_context(access, modules=modules, **extra))


def _respond(access, partial: str, status: int = 200, **extra):
    """A fragment for htmx; otherwise the whole page, with the same thing shown in place."""
    if is_partial():
        return render(PAGE, partial, status=status, **_context(access, **extra))
    return _page(access, status=status, **extra)


def _editor(access):
    """Form steps that write nothing (an edit form, a quiz step, a form sent back with
    messages) are for editors only: a 404 like the database's refusal of the write."""
    if not access.can("edit_content"):
        abort(404)


def _module_or_404(course_id, module_id):
    return found(queries.module_in(course_id, module_id))


def _lesson_or_404(course_id, lesson_id):
    return found(queries.lesson_in(course_id, lesson_id))


def _move_request() -> tuple[str, int]:
    """``by=-1|1`` (move up / down) or ``to=<index>`` (drag and drop); anything else is a 400."""
    by, to = request.form.get("by"), request.form.get("to")
    try:
        if by is not None:
            value = int(by)
            if value in (-1, 1):
                return "by", value
        elif to is not None:
            value = int(to)
            if 0 <= value <= 100_000:
                return "to", value
    except ValueError:
        pass
    abort(400)


def _position_message(title: str, modules, item_id, kind: str) -> str:
    if kind == "module":
        ids = [m.id for m in modules]
        return f"Module “{title}” is now {ids.index(item_id) + 1} of {len(ids)}."
    for module in modules:
        ids = [lesson.id for lesson in module.lesson_list]
        if item_id in ids:
            return (f"Lesson “{title}” is now {ids.index(item_id) + 1} of {len(ids)} "
                    f"in module “{module.title}”.")
    return f"Lesson “{title}” moved."


def _moved_list(access, item, kind: str, by: str | None):
    """After a move: the re-rendered module list for htmx (``by``: "up", "down" or "to" (a
    chosen place) tells builder.js which control of the item keeps the focus), a 303 otherwise."""
    modules = queries.outline(access.course.id)
    message = _position_message(item.title, modules, item.id, kind)
    if not is_partial():
        return _done(message, _curriculum_url(access.course.id, f"{kind}-{item.id}"))
    moved = {"id": item.id, "kind": kind, "by": by}
    response = render(PAGE, "courses/_module_list.html", **_context(access, modules=modules, moved=moved))
    return notify(response, message)


def _direction(how: str, value: int) -> str | None:
    return ("up" if value < 0 else "down") if how == "by" else None


# --- "Move to…": a chosen place, with the keyboard alone and without JavaScript ---------

def _move_form(kind: str, item, modules, *, posted: bool):
    places = module_places(modules, item.id) if kind == "module" else lesson_places(modules, item.id)
    form = with_ids(move_form(places, posted=posted), f"{kind}-{item.id}-move")
    form.position.label.text = f"Move the {kind} “{item.title}” to"
    return form


def _move_form_response(access, kind: str, item, form, modules, status: int = 200):
    """The form in place of the item (its heading, or its row): the fragment for htmx, or the
    page with it open. A 422 fragment is retargeted to the form's place."""
    if is_partial():
        response = render(PAGE, f"courses/_{kind}_move.html", status=status,
                          **_context(access, **{kind: item}, form=form))
        if status == 422:
            place = f"#module-{item.id}-head" if kind == "module" else f"#lesson-{item.id}"
            response.headers.update({"HX-Retarget": place, "HX-Reswap": "outerHTML"})
        return response
    return _page(access, status=status, modules=modules, moving={kind: item.id, "form": form})


def _move_to(access, kind: str, item):
    """A "Move to…" POST (``position``): the item goes to the chosen place. A place that is
    not offered (gone since the form was shown, or made up) brings the form back: 422."""
    modules = queries.outline(access.course.id)
    form = _move_form(kind, item, modules, posted=True)
    if form.validate_on_submit():
        module_id, index = chosen_place(form)
        if kind == "module":
            queries.move_module(item.id, index)
        else:
            queries.move_lesson(item.id, module_id, index)
        return _moved_list(access, item, kind, "to")
    _editor(access)
    return _move_form_response(access, kind, item, form, modules, status=422)


# --- the page -----------------------------------------------------------------------

@bp.route("/<uuid:course_id>/curriculum")
@role_required("instructor")
def curriculum(course_id):
    """Modules and lessons in order (three queries: course, modules, lessons); read-only without edit_content."""
    return _page(course_access(course_id, "view_content"))


# --- modules ------------------------------------------------------------------------

@bp.route("/<uuid:course_id>/modules", methods=["POST"])
@role_required("instructor")
def module_add(course_id):
    access = course_access(course_id)
    form = with_ids(ModuleForm(), "module-add")
    if form.validate_on_submit():
        try:
            with database.atomic():
                module = queries.add_module(course_id, form.title.data, form.description.data)
        except IntegrityError as exc:
            _refused(form, exc)
        else:
            message = f"Module “{module.title}” added."
            if not is_partial():
                return _done(message, _curriculum_url(course_id, f"module-{module.id}"))
            response = render(PAGE, "courses/_module_added.html", **_context(access, module=module))
            return notify(response, message)
    _editor(access)
    if is_partial():
        response = render(PAGE, "courses/_module_add.html", status=422,
                          **_context(access, module_add_form=form))
        response.headers.update({"HX-Retarget": "#module-add", "HX-Reswap": "outerHTML"})
        return response
    return _page(access, status=422, module_add_form=form)


@bp.route("/<uuid:course_id>/modules/<uuid:module_id>")
@role_required("instructor")
def module_show(course_id, module_id):
    """One module's heading (what Cancel swaps back); the whole page on a plain GET."""
    access = course_access(course_id, "view_content")
    module = _module_or_404(course_id, module_id)
    return _respond(access, "courses/_module_head.html", module=module)


@bp.route("/<uuid:course_id>/modules/<uuid:module_id>/edit")
@role_required("instructor")
def module_edit(course_id, module_id):
    access = course_access(course_id, "view_content")
    _editor(access)
    module = _module_or_404(course_id, module_id)
    form = with_ids(ModuleForm(data={"title": module.title, "description": module.description}),
                    f"module-{module.id}")
    return _respond(access, "courses/_module_form.html", module=module, form=form,
                    editing={"module": module.id, "form": form})


@bp.route("/<uuid:course_id>/modules/<uuid:module_id>", methods=["POST"])
@role_required("instructor")
def module_save(course_id, module_id):
    access = course_access(course_id)
    module = _module_or_404(course_id, module_id)
    form = with_ids(ModuleForm(), f"module-{module.id}")
    if form.validate_on_submit():
        try:
            with database.atomic():
                saved = queries.update_module(course_id, module_id, form.title.data, form.description.data)
        except IntegrityError as exc:
            _refused(form, exc)
        else:
            if not saved:
                abort(404)  # RLS: not an editor of this course
            message = f"Module “{form.title.data}” saved."
            if not is_partial():
                return _done(message, _curriculum_url(course_id, f"module-{module_id}"))
            module = _module_or_404(course_id, module_id)
            return notify(render(PAGE, "courses/_module_head.html", **_context(access, module=module)),
                          message)
    _editor(access)
    return _respond(access, "courses/_module_form.html", status=422, module=module, form=form,
                    editing={"module": module.id, "form": form})


@bp.route("/<uuid:course_id>/modules/<uuid:module_id>/delete", methods=["POST"])
@role_required("instructor")
def module_delete(course_id, module_id):
    """Deletes the module and its lessons once confirmed (hx-confirm, or the in-place question without JS)."""
    access = course_access(course_id)
    module = _module_or_404(course_id, module_id)
    lessons = queries.lesson_count(module_id)
    if request.form.get("confirm") != "yes":
        _editor(access)
        if is_partial():
            abort(400)
        return _page(access, confirming={"module": module.id, "lessons": lessons})
    if not queries.delete_module(module_id):
        abort(404)
    message = (f"Module “{module.title}” deleted"
               + (f" with its {lessons} lesson{'s' if lessons != 1 else ''}." if lessons else "."))
    if not is_partial():
        return _done(message, _curriculum_url(course_id))
    response = render(PAGE, "courses/_module_deleted.html",
                      **_context(access, remaining=queries.module_count(course_id)))
    return notify(response, message)


@bp.route("/<uuid:course_id>/modules/<uuid:module_id>/move")
@role_required("instructor")
def module_move_form(course_id, module_id):
    """The "Move to…" form: the places the module can take, in place of its heading."""
    access = course_access(course_id, "view_content")
    _editor(access)
    module = _module_or_404(course_id, module_id)
    modules = queries.outline(course_id)
    return _move_form_response(access, "module", module, _move_form("module", module, modules, posted=False),
                               modules)


@bp.route("/<uuid:course_id>/modules/<uuid:module_id>/move", methods=["POST"])
@role_required("instructor")
def module_move(course_id, module_id):
    """``position=<place>`` ("Move to…"), ``to=<index>`` (drag and drop) or ``by=-1|1``
    (move up / down), under the outline lock."""
    access = course_access(course_id)
    module = _module_or_404(course_id, module_id)
    if "position" in request.form:
        return _move_to(access, "module", module)
    how, value = _move_request()
    if how == "by":
        queries.shift_module(module_id, value)
    else:
        queries.move_module(module_id, value)
    return _moved_list(access, module, "module", _direction(how, value))


# --- lessons ------------------------------------------------------------------------

@bp.route("/<uuid:course_id>/modules/<uuid:module_id>/lessons", methods=["POST"])
@role_required("instructor")
def lesson_add(course_id, module_id):
    access = course_access(course_id)
    module = _module_or_404(course_id, module_id)
    form = with_ids(LessonAddForm(), f"lesson-add-{module.id}")
    if form.validate_on_submit():
        try:
            with database.atomic():
                lesson = queries.add_lesson(course_id, module_id, form.title.data, form.content_type.data,
                                            form.video_url.data)
        except IntegrityError as exc:
            _refused(form, exc)
        else:
            message = f"Lesson “{lesson.title}” added to “{module.title}”."
            if not is_partial():
                return _done(message, _curriculum_url(course_id, f"lesson-{lesson.id}"))
            response = render(PAGE, "courses/_lesson_added.html",
                              **_context(access, module=module, lesson=lesson))
            return notify(response, message)
    _editor(access)
    if is_partial():
        response = render(PAGE, "courses/_lesson_add.html", status=422,
                          **_context(access, module=module, lesson_add_forms={module.id: form}))
        response.headers.update({"HX-Retarget": f"#lesson-add-{module.id}", "HX-Reswap": "outerHTML"})
        return response
    return _page(access, status=422, lesson_add_forms={module.id: form})


def _first_error(form) -> str | None:
    """The id of the first field with a message, in the order the form shows them."""
    for name in ("title", "content_type", "module", "duration_minutes", "is_preview", "body", "video_url",
                 "passing_score"):
        if form[name].errors:
            return form[name].id
    for i, entry in enumerate(form.questions.entries):
        q = entry.form
        if q.prompt.errors:
            return q.prompt.id
        for choice in q.choices.entries:
            if choice.errors:
                return choice.id
        if q.answer.errors:
            return f"{form.prefix_id}-q{i}-add-choice"
    return None


def _focus_after(form, action: str | None) -> str:
    """Where the cursor goes when the form comes back: the field the action added, the
    button near what it removed, the first field with a message, or the title."""
    name, _, rest = (action or "").partition(":")
    numbers = [int(n) for n in rest.split(":") if n.isdigit()]
    entries = form.questions.entries
    if name == "preview":
        return f"{form.prefix_id}-preview-button"
    if name == "add_question" and entries:
        return entries[-1].form.prompt.id
    if name == "add_choice" and numbers and numbers[0] < len(entries) and entries[numbers[0]].form.choices.entries:
        return entries[numbers[0]].form.choices.entries[-1].id
    if name == "remove_choice" and numbers and numbers[0] < len(entries):
        return f"{form.prefix_id}-q{numbers[0]}-add-choice"
    if name == "remove_question":
        return f"{form.prefix_id}-add-question"
    return _first_error(form) or form.title.id


def _lesson_form_response(access, lesson, form, status: int = 200, action: str | None = None):
    form.prefix_id = f"lesson-{lesson.id}"
    with_ids(form.label_entries(), form.prefix_id)
    preview = render_markdown(form.body.data)
    editing = {"lesson": lesson.id, "form": form, "preview": preview}
    return _respond(access, "courses/_lesson_form.html", status=status, lesson=lesson, form=form,
                    editing=editing, preview=preview, focus=_focus_after(form, action))


@bp.route("/<uuid:course_id>/lessons/<uuid:lesson_id>")
@role_required("instructor")
def lesson_show(course_id, lesson_id):
    """One lesson's row (what Cancel swaps back); the whole page on a plain GET."""
    access = course_access(course_id, "view_content")
    lesson = _lesson_or_404(course_id, lesson_id)
    return _respond(access, "courses/_lesson.html", lesson=lesson)


@bp.route("/<uuid:course_id>/lessons/<uuid:lesson_id>/edit")
@role_required("instructor")
def lesson_edit(course_id, lesson_id):
    access = course_access(course_id, "view_content")
    _editor(access)
    lesson = _lesson_or_404(course_id, lesson_id)
    form = LessonForm(data=lesson_form_data(lesson)).set_modules(queries.modules_of(course_id))
    return _lesson_form_response(access, lesson, form)


@bp.route("/<uuid:course_id>/lessons/<uuid:lesson_id>", methods=["POST"])
@role_required("instructor")
def lesson_save(course_id, lesson_id):
    """Saves the lesson; ``action`` (preview, add or remove a question or a choice) only re-renders the form."""
    access = course_access(course_id)
    lesson = _lesson_or_404(course_id, lesson_id)
    form = LessonForm().set_modules(queries.modules_of(course_id))
    action = request.form.get("action")
    if action:
        _editor(access)
        if action != "preview" and not form.apply(action):
            abort(400)
        return _lesson_form_response(access, lesson, form, action=action)
    if not form.validate_on_submit():
        _editor(access)
        return _lesson_form_response(access, lesson, form, status=422)
    try:
        with database.atomic():
            saved = queries.update_lesson(course_id, lesson_id, form.columns())
            moved = saved and form.module.data != str(lesson.module_id)
            if moved:
                queries.move_lesson(lesson_id, form.module.data, queries.LAST)
    except IntegrityError as exc:
        _refused(form, exc)
        return _lesson_form_response(access, lesson, form, status=422)
    if not saved:
        abort(404)  # RLS: not an editor of this course
    message = f"Lesson “{form.title.data}” saved."
    if not is_partial():
        return _done(message, _curriculum_url(course_id, f"lesson-{lesson_id}"))
    if moved:  # it now sits in another module's list
        modules = queries.outline(course_id)
        response = render(PAGE, "courses/_module_list.html", **_context(access, modules=modules))
        response.headers.update({"HX-Retarget": "#modules", "HX-Reswap": "outerHTML"})
        return notify(response, message + " " + _position_message(form.title.data, modules,
                                                                   lesson.id, "lesson"))
    lesson = _lesson_or_404(course_id, lesson_id)
    return notify(render(PAGE, "courses/_lesson.html", **_context(access, lesson=lesson)), message)


@bp.route("/<uuid:course_id>/lessons/<uuid:lesson_id>/delete", methods=["POST"])
@role_required("instructor")
def lesson_delete(course_id, lesson_id):
    access = course_access(course_id)
    lesson = _lesson_or_404(course_id, lesson_id)
    if request.form.get("confirm") != "yes":
        _editor(access)
        if is_partial():
            abort(400)
        return _page(access, confirming={"lesson": lesson.id})
    if not queries.delete_lesson(lesson_id):
        abort(404)
    message = f"Lesson “{lesson.title}” deleted."
    if not is_partial():
        return _done(message, _curriculum_url(course_id, f"module-{lesson.module_id}"))
    return notify(render(PAGE, "courses/_lesson_deleted.html", **_context(access)), message)


@bp.route("/<uuid:course_id>/lessons/<uuid:lesson_id>/move")
@role_required("instructor")
def lesson_move_form(course_id, lesson_id):
    """The "Move to…" form: the places the lesson can take (its module or another), in place of its row."""
    access = course_access(course_id, "view_content")
    _editor(access)
    lesson = _lesson_or_404(course_id, lesson_id)
    modules = queries.outline(course_id)
    return _move_form_response(access, "lesson", lesson, _move_form("lesson", lesson, modules, posted=False),
                               modules)


@bp.route("/<uuid:course_id>/lessons/<uuid:lesson_id>/move", methods=["POST"])
@role_required("instructor")
def lesson_move(course_id, lesson_id):
    """``position=<module id>:<place>`` ("Move to…"), ``module=<id>&to=<index>`` (drag and
    drop, also into another module) or ``by=-1|1``."""
    access = course_access(course_id)
    lesson = _lesson_or_404(course_id, lesson_id)
    if "position" in request.form:
        return _move_to(access, "lesson", lesson)
    how, value = _move_request()
    if how == "by":
        queries.shift_lesson(lesson_id, value)
    else:
        target = request.form.get("module") or str(lesson.module_id)
        if not _is_uuid(target):
            abort(400)
        module = _module_or_404(course_id, target)
        queries.move_lesson(lesson_id, module.id, value)
    return _moved_list(access, lesson, "lesson", _direction(how, value))


# --- drip release -------------------------------------------------------------------

def _drip_access(course_id):
    """Teachers with view_content (the schedule) or manage_students (early unlocks)."""
    access = course_access(course_id)
    if not (access.can("view_content") or access.can("manage_students")):
        abort(404)
    return access


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _on(day: str) -> str:
    return date.fromisoformat(day).strftime("%-d %b %Y")


def explain(rules) -> str:
    """In plain words, when an item opens for a student, given the rules it must meet
    (a lesson meets its module's rule and its own)."""
    days = [r for r in rules if isinstance(r, int) and not isinstance(r, bool)]
    dates = [r for r in rules if isinstance(r, str)]
    longest, latest = (max(days) if days else 0), (max(dates) if dates else None)
    if latest and longest:
        return f"{_days(longest)} after the student enrolls, and not before {_on(latest)}"
    if latest:
        return f"on {_on(latest)} (at once for students who enroll after that)"
    if longest:
        return f"{_days(longest)} after the student enrolls"
    return "as soon as the student enrolls"


def _drip_items(modules, schedule: dict) -> list[dict]:
    """Modules and their lessons, in order, with their rule and what students see."""
    items = []
    for module in modules:
        module_rule = schedule.get(str(module.id))
        items.append({"id": module.id, "kind": "module", "title": module.title, "rule": module_rule,
                      "key": rule_key(module.id),
                      "opens": explain([module_rule] if module_rule is not None else [])})
        for lesson in module.lesson_list:
            own = schedule.get(str(lesson.id))
            items.append({"id": lesson.id, "kind": "lesson", "title": lesson.title, "rule": own,
                          "key": rule_key(lesson.id), "module": module.title,
                          "opens": explain([r for r in (module_rule, own) if r is not None])})
    return items


def _drip_context(access, *, rules_form=None, unlock_form=None, modules=None) -> dict:
    course = access.course
    can_view, can_manage = access.can("view_content"), access.can("manage_students")
    if modules is None:
        modules = queries.outline(course.id) if can_view else []
    schedule = course.drip_schedule or {}
    item_ids = [m.id for m in modules] + [lesson.id for m in modules for lesson in m.lesson_list]
    if rules_form is None and access.can("edit_content"):
        rules_form = drip_rules_form(item_ids, schedule, course.drip_content, blank=True)
    context = {"access": access, "course": course, "active": "drip", "can_view": can_view,
               "can_edit": access.can("edit_content"), "can_manage": can_manage,
               "items": _drip_items(modules, schedule), "rules_form": rules_form,
               "timezone": queries.owner_timezone(course) if access.is_owner else None,
               "students": [], "unlocks": [], "more_unlocks": False, "unlock_page": 1, "student_q": ""}
    if can_manage:
        search = (request.args.get("student_q") or "").strip()[:100]
        try:
            page = max(1, min(int(request.args.get("page", 1)), 10_000))
        except ValueError:
            page = 1
        students = queries.enrolled_students(course.id, search or None)
        if unlock_form is None:
            unlock_form = UnlockForm(formdata=None)
        chosen = unlock_form.enrollment.data
        if chosen and _is_uuid(chosen) and not any(str(s.id) == chosen for s in students):
            found = queries.enrolled_student(course.id, chosen)
            if found:
                students.insert(0, found)
        unlock_form.set_choices(students, modules)
        unlocks, more = queries.unlocks(course.id, page)
        context.update(students=students, unlock_form=unlock_form, unlocks=unlocks, more_unlocks=more,
                       unlock_page=page, student_q=search)
    return context


def _drip_render(access, partial: str, status: int = 200, **extra):
    return render(DRIP_PAGE, partial, status=status, **_drip_context(access, **extra))


@bp.route("/<uuid:course_id>/drip")
@role_required("instructor")
def drip(course_id):
    """The schedule (editable with edit_content) and early unlocks (with manage_students)."""
    return _drip_render(_drip_access(course_id), "courses/_drip_page.html")


@bp.route("/<uuid:course_id>/drip", methods=["POST"])
@role_required("instructor")
def drip_save(course_id):
    """Saves drip on/off and the rules, under RLS on courses (edit_content)."""
    access = course_access(course_id)
    course = access.course
    modules = queries.outline(course_id) if access.can("view_content") else []
    item_ids = [m.id for m in modules] + [lesson.id for m in modules for lesson in m.lesson_list]
    form = drip_rules_form(item_ids, course.drip_schedule or {}, course.drip_content)
    if form.validate_on_submit():
        schedule = schedule_from(form, item_ids, course.drip_schedule or {})
        try:
            with database.atomic():
                saved = queries.save_drip(course_id, bool(form.drip_content.data), schedule)
        except IntegrityError as exc:
            form.form_errors.append(f"The schedule was not saved. {refusals.message(exc)}")
        else:
            if not saved:
                abort(404)  # RLS: not an editor of this course
            message = ("Drip schedule saved. " + ("Drip release is on." if form.drip_content.data
                                                  else "Drip release is off: everything opens at once."))
            if not is_partial():
                return _done(message, url_for("courses.drip", course_id=course_id))
            access = course_access(course_id)  # the course as saved
            return notify(_drip_render(access, "courses/_drip_rules.html", modules=modules), message)
    _editor(access)
    return _drip_render(access, "courses/_drip_rules.html", status=422, rules_form=form, modules=modules)


@bp.route("/<uuid:course_id>/drip/unlocks", methods=["POST"])
@role_required("instructor")
def unlock_add(course_id):
    """Unlocks the whole course, a module or a lesson early for one enrolled student (manage_students)."""
    access = course_access(course_id)
    form = UnlockForm()
    modules = queries.outline(course_id) if access.can("view_content") else []
    posted = queries.enrolled_student(course_id, form.enrollment.data) if _is_uuid(form.enrollment.data) else None
    form.set_choices([posted] if posted else [], modules)
    if form.validate_on_submit():
        try:
            with database.atomic():
                queries.add_unlock(course_id, posted, **form.unlock())
        except IntegrityError as exc:
            if sqlstate(exc) == UNIQUE_VIOLATION:
                add_error(form.target, "This student already has that unlocked.")
            else:
                add_error(form.target, "That is not part of this course.")
        else:
            what = next((c.label for c in form.target.choices if c.value == form.target.data), "content")
            message = f"Unlocked for {posted.student_label}: {what[0].lower() + what[1:]}."
            if not is_partial():
                return _done(message, url_for("courses.drip", course_id=course_id, _anchor="drip-unlocks"))
            return notify(_drip_render(_drip_access(course_id), "courses/_drip_unlocks.html",
                                       modules=modules), message)
    if not access.can("manage_students"):
        abort(404)
    return _drip_render(access, "courses/_drip_unlocks.html", status=422,
                        unlock_form=form, modules=modules)


@bp.route("/<uuid:course_id>/drip/unlocks/<uuid:unlock_id>/delete", methods=["POST"])
@role_required("instructor")
def unlock_delete(course_id, unlock_id):
    """Removes an early unlock: the student waits for the schedule again (manage_students)."""
    course_access(course_id)  # a course the user does not teach is a 404 first
    if not queries.delete_unlock(course_id, unlock_id):
        abort(404)  # not this course's, or RLS refused
    message = "Early unlock removed: the schedule applies again."
    if not is_partial():
        return _done(message, url_for("courses.drip", course_id=course_id, _anchor="drip-unlocks"))
    return notify(_drip_render(_drip_access(course_id), "courses/_drip_unlocks.html"), message)


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False
