"""The discussions over HTTP (issue 19).

A lesson's discussion is shown on the player (``learning._player`` asks ``lesson_sections``):
its comments (a page of threads, "Older comments" loads the next one in place), its questions,
and for an assignment the hand-in. Posting a comment, a reply or a question with htmx answers
the refreshed section (the new post at the top, no reload); without JavaScript a 303 back to the
lesson. Bad input is a 422 with the values kept. Every id the caller may not read (another
course, a switch turned off, a locked lesson) is a 404; the database refuses the write anyway.

The teachers' side: the inbox of unanswered questions across their courses (the dashboard counts
them), a question's page where they answer, the grading queue and the grade form.
"""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user
from peewee import DatabaseError

from portal import refusals
from portal.db import database
from portal.discussions import bp, forms, queries
from portal.web import found, is_partial, notify, redirect_to, render, role_required

PARTICIPANTS = ("student", "instructor")
POSTED = "Your comment is posted."
ASKED = "Your question is posted. The course's instructors are told."
ANSWERED = "Your answer is posted."
SUBMITTED = "Your work is handed in. Your instructor is told."
NOT_SAVED = "This was not saved: see the message on the form."


def _scope(lesson_id) -> queries.Scope:
    s = found(queries.scope(lesson_id))
    if not (s.teaching or s.enrolled) or current_user.role not in PARTICIPANTS:
        abort(404)
    return s


def lesson_url(s: queries.Scope, anchor: str = "") -> str:
    """Where the lesson is read: the player for its students, the comments page for its teachers."""
    if s.enrolled and current_user.role == "student":
        return url_for("learning.lesson", slug=s.slug, lesson_id=s.lesson_id) + anchor
    return url_for("discussions.comments", lesson_id=s.lesson_id) + anchor


def lesson_sections(lesson_id, *, comment_form=None, question_form=None, submission_form=None) -> dict:
    """What the player shows under a lesson: the discussion's sections as the caller may use them."""
    s = queries.scope(lesson_id)
    if s is None:
        return {}
    me = current_user.id
    sections = {"scope": s}
    if s.comments:
        sections["comments"] = queries.comments(queries.COMMENTS.read({}), s, me).link(
            "discussions.comments", lesson_id=s.lesson_id)
        sections["comment_form"] = comment_form or forms.CommentForm(formdata=None)
    if s.questions:
        sections["questions"] = queries.lesson_questions(queries.QUESTIONS.read({}), s, me).link(
            "discussions.questions", lesson_id=s.lesson_id)
        sections["question_form"] = question_form or forms.QuestionForm(formdata=None)
    if s.content_type == "assignment" and s.enrolled:
        mine = queries.my_submission(s.lesson_id, me)
        sections["submission"] = mine
        sections["submission_form"] = submission_form or forms.SubmissionForm(
            formdata=None, data={"body": mine["body"], "link_url": mine["link_url"]} if mine else None)
    return sections


# --- comments ---------------------------------------------------------------------------------------

# A lesson's comments or questions as a page of their own (discussions/lesson_section.html).
COMMENTS_PAGE = {"heading": "Comments", "section": "discussions/_comments.html"}
QUESTIONS_PAGE = {"heading": "Questions", "section": "discussions/_questions.html"}

@bp.route("/lessons/<uuid:lesson_id>/comments", methods=["GET", "POST"])
@role_required(*PARTICIPANTS)
def comments(lesson_id):
    """GET: a page of the lesson's threads (htmx: the list only, for "Older comments").
    POST: a comment, or a reply (``parent``); htmx gets the section again, the new one first."""
    s = _scope(lesson_id)
    if not s.comments:
        abort(404)
    if request.method == "GET":
        thread = queries.as_uuid(request.args.get("thread"))
        page = queries.comments(queries.COMMENTS.read(request.args), s, current_user.id, thread=thread).link(
            "discussions.comments", lesson_id=s.lesson_id)
        return render("discussions/lesson_section.html", "discussions/_comment_list.html",
                      **COMMENTS_PAGE, s=s, comments=page,
                      comment_form=forms.CommentForm(formdata=None), back=lesson_url(s))
    form = forms.CommentForm()
    parent = queries.as_uuid(form.parent.data)
    if form.parent.data and parent is None:
        abort(404)
    if parent is not None:
        top = queries.comment(parent)
        if top is None or str(top["lesson_id"]) != str(s.lesson_id):
            abort(404)
    status = 422
    if form.validate_on_submit():
        try:
            with database.atomic():
                queries.add_comment(s, form.body.data, parent)
        except DatabaseError as exc:
            form.body.errors = [*form.body.errors, refusals.message(exc)]
        else:
            if not is_partial():
                return notify(redirect_to(lesson_url(s, "#comments")), POSTED)
            form, status = forms.CommentForm(formdata=None), 200
    return _comments_section(s, form, status, POSTED if status == 200 else NOT_SAVED)


def _comments_section(s, form, status, message):
    page = queries.comments(queries.COMMENTS.read({}), s, current_user.id).link(
        "discussions.comments", lesson_id=s.lesson_id)
    # a refused reply shows its error in that thread's reply form (kept open), the top form stays blank
    reply_form = form if status != 200 and form.parent.data else None
    top_form = forms.CommentForm(formdata=None) if reply_form else form
    response = render("discussions/lesson_section.html", "discussions/_comments.html",
                      **COMMENTS_PAGE, status=status, s=s,
                      comments=page, comment_form=top_form, reply_form=reply_form, back=lesson_url(s))
    return notify(response, message, "success" if status == 200 else "error") if is_partial() else response


def _comment(comment_id) -> tuple[dict, queries.Scope]:
    """A comment the caller may read, and its lesson's scope; 404 otherwise."""
    row = found(queries.comment(comment_id))
    return row, _scope(row["lesson_id"])


def _my_comment(comment_id) -> tuple[dict, queries.Scope]:
    """The caller's own comment, and its lesson's scope; 404 for anyone else's."""
    row, s = _comment(comment_id)
    if row["author_id"] != current_user.id:
        abort(404)
    return row, s


@bp.route("/comments/<uuid:comment_id>/edit", methods=["GET", "POST"])
@role_required(*PARTICIPANTS)
def edit_comment(comment_id):
    """The author rewrites their comment within 15 minutes of posting it (the database's guard decides)."""
    row, s = _my_comment(comment_id)
    back = lesson_url(s, f"#comment-{comment_id}")
    if request.method == "GET":
        form = forms.CommentForm(formdata=None, data={"body": row["body"]})
        return render("discussions/edit_comment.html", form=form, comment=row, s=s, back=back,
                      minutes=queries.EDIT_MINUTES)
    form = forms.CommentForm()
    if form.validate_on_submit():
        try:
            with database.atomic():
                queries.edit_comment(comment_id, form.body.data)
        except DatabaseError as exc:   # the window is over (discussion_edit_window)
            form.body.errors = [*form.body.errors, refusals.message(exc)]
        else:
            return notify(redirect_to(back), "Your comment is updated.")
    return render("discussions/edit_comment.html", form=form, comment=row, s=s, back=back,
                  minutes=queries.EDIT_MINUTES, status=422)


@bp.route("/comments/<uuid:comment_id>/delete", methods=["GET", "POST"])
@role_required(*PARTICIPANTS)
def delete_comment(comment_id):
    """Ask first (a page; htmx asks with hx-confirm), then delete one's own comment and its replies."""
    row, s = _my_comment(comment_id)
    if row["deleted_at"]:
        abort(404)   # already blanked
    if request.method == "GET":
        return render("discussions/delete_comment.html", comment=row, s=s, back=lesson_url(s, "#comments"))
    done = queries.delete_comment(comment_id)
    if done is None:
        return notify(redirect_to(lesson_url(s, "#comments")),
                      "This comment is being looked at by a moderator, so it stays for now.", "error")
    if done == "blanked":
        return notify(redirect_to(lesson_url(s, "#comments")),
                      "Your comment is deleted; the replies to it stay, under “[deleted]”.")
    return notify(redirect_to(lesson_url(s, "#comments")), "Your comment is deleted.")


def _report(target: dict, *, comment_id=None, question_id=None, answer_id=None, back: str):
    form = forms.ReportForm()
    if target["author_id"] == current_user.id:
        abort(404)
    if request.method == "POST" and form.validate_on_submit():
        if queries.reported(comment_id=comment_id, question_id=question_id, answer_id=answer_id, me=current_user.id):
            return notify(redirect_to(back), "You have already reported this.", "info")
        try:
            with database.atomic():
                queries.report(comment_id=comment_id, question_id=question_id, answer_id=answer_id,
                               reason=form.reason.data, details=form.details.data)
        except DatabaseError as exc:
            form.form_errors.append(refusals.message(exc))
        else:
            return notify(redirect_to(back), "Thank you: a moderator will look at it.")
    status = 422 if request.method == "POST" else 200
    return render("discussions/report.html", form=form, target=target, back=back, status=status,
                  action=request.path)


@bp.route("/comments/<uuid:comment_id>/report", methods=["GET", "POST"])
@role_required(*PARTICIPANTS)
def report_comment(comment_id):
    row, s = _comment(comment_id)
    return _report(row, comment_id=comment_id, back=lesson_url(s, "#comments"))


# --- questions and answers -------------------------------------------------------------------------

@bp.route("/lessons/<uuid:lesson_id>/questions", methods=["GET", "POST"])
@role_required(*PARTICIPANTS)
def questions(lesson_id):
    """GET: a page of the lesson's questions. POST (students): ask one; htmx gets the section again."""
    s = _scope(lesson_id)
    if not s.questions:
        abort(404)
    if request.method == "GET":
        page = queries.lesson_questions(queries.QUESTIONS.read(request.args), s, current_user.id).link(
            "discussions.questions", lesson_id=s.lesson_id)
        return render("discussions/lesson_section.html", "discussions/_question_list.html",
                      **QUESTIONS_PAGE, s=s, questions=page,
                      question_form=forms.QuestionForm(formdata=None), back=lesson_url(s))
    if not s.enrolled or current_user.role != "student":
        abort(404)   # teachers answer; students ask
    form = forms.QuestionForm()
    status = 422
    if form.validate_on_submit():
        try:
            with database.atomic():
                queries.ask(s, form.title.data, form.body.data)
        except DatabaseError as exc:
            form.title.errors = [*form.title.errors, refusals.message(exc)]
        else:
            if not is_partial():
                return notify(redirect_to(lesson_url(s, "#questions")), ASKED)
            form, status = forms.QuestionForm(formdata=None), 200
    page = queries.lesson_questions(queries.QUESTIONS.read({}), s, current_user.id).link(
        "discussions.questions", lesson_id=s.lesson_id)
    response = render("discussions/lesson_section.html", "discussions/_questions.html",
                      **QUESTIONS_PAGE, status=status, s=s,
                      questions=page, question_form=form, back=lesson_url(s))
    if is_partial():
        notify(response, ASKED if status == 200 else NOT_SAVED, "success" if status == 200 else "error")
    return response


@bp.route("/courses/<uuid:course_id>/questions", methods=["GET", "POST"])
@role_required(*PARTICIPANTS)
def course_questions(course_id):
    """The course's questions (on the course itself or on any lesson), newest first; its students
    ask one about the course as a whole here."""
    cs = found(queries.course_scope(course_id))
    if not (cs.teaching or cs.enrolled):
        abort(404)
    form, status = forms.QuestionForm(formdata=None), 200
    if request.method == "POST":
        if not cs.enrolled or current_user.role != "student":
            abort(404)
        form, status = forms.QuestionForm(), 422
        if form.validate_on_submit():
            try:
                with database.atomic():
                    question_id = queries.ask_course(cs, form.title.data, form.body.data)
            except DatabaseError as exc:
                form.title.errors = [*form.title.errors, refusals.message(exc)]
            else:
                return notify(redirect_to(url_for("discussions.question", question_id=question_id)), ASKED)
    page = queries.course_questions(queries.QUESTIONS.read(request.args), cs, current_user.id).link(
        "discussions.course_questions", course_id=cs.course_id)
    back = (url_for("learning.resume", slug=cs.slug) if cs.enrolled and current_user.role == "student"
            else url_for("discussions.inbox"))
    return render("discussions/course_questions.html", "discussions/_question_list.html", status=status,
                  cs=cs, questions=page, question_form=form, back=back)


def _question(question_id) -> dict:
    q = found(queries.question(question_id))
    if current_user.role not in PARTICIPANTS:
        abort(404)
    return q


def _question_page(q, form, status=200):
    rows = queries.answers(q, current_user.id)
    s = queries.scope(q["lesson_id"]) if q["lesson_id"] else None
    back = lesson_url(s, "#questions") if s else url_for("discussions.course_questions", course_id=q["course_id"])
    if current_user.role == "instructor":
        back = url_for("discussions.inbox")
    return render("discussions/question.html", status=status, q=q, answers=rows, form=form, back=back,
                  back_to_lesson=s is not None, asker=q["author_id"] == current_user.id)


@bp.route("/questions/<uuid:question_id>", methods=["GET"])
@role_required(*PARTICIPANTS)
def question(question_id):
    q = _question(question_id)
    return _question_page(q, forms.AnswerForm(formdata=None))


@bp.route("/questions/<uuid:question_id>/answers", methods=["POST"])
@role_required(*PARTICIPANTS)
def answer(question_id):
    q = _question(question_id)
    form = forms.AnswerForm()
    if form.validate_on_submit():
        try:
            with database.atomic():
                answer_id = queries.answer(q, form.body.data)
        except DatabaseError as exc:
            form.body.errors = [*form.body.errors, refusals.message(exc)]
        else:
            return notify(redirect_to(url_for("discussions.question", question_id=question_id)
                                      + f"#answer-{answer_id}"), ANSWERED)
    return _question_page(q, form, 422)


@bp.route("/questions/<uuid:question_id>/accept", methods=["POST"])
@role_required("student")
def accept(question_id):
    """The asker marks one of the answers accepted."""
    q = _question(question_id)
    answer_id = queries.as_uuid(request.form.get("answer"))
    if q["author_id"] != current_user.id or answer_id is None:
        abort(404)
    try:
        with database.atomic():
            queries.accept(question_id, answer_id)
    except DatabaseError:
        abort(404)   # not an answer of this question (the guard refuses it)
    return notify(redirect_to(url_for("discussions.question", question_id=question_id) + f"#answer-{answer_id}"),
                  "You accepted this answer.")


@bp.route("/questions/<uuid:question_id>/report", methods=["GET", "POST"])
@role_required(*PARTICIPANTS)
def report_question(question_id):
    q = _question(question_id)
    return _report(q, question_id=question_id, back=url_for("discussions.question", question_id=question_id))


@bp.route("/answers/<uuid:answer_id>/report", methods=["GET", "POST"])
@role_required(*PARTICIPANTS)
def report_answer(answer_id):
    a = found(queries.answer_row(answer_id))
    _question(a["question_id"])
    back = url_for("discussions.question", question_id=a["question_id"]) + f"#answer-{answer_id}"
    return _report(a, answer_id=answer_id, back=back)


# --- assignments -------------------------------------------------------------------------------------

@bp.route("/lessons/<uuid:lesson_id>/submission", methods=["POST"])
@role_required("student")
def submit(lesson_id):
    """Hand in (or again, until graded) an assignment: back to the lesson."""
    s = _scope(lesson_id)
    if not s.enrolled or s.content_type != "assignment":
        abort(404)
    form = forms.SubmissionForm()
    if form.validate_on_submit():
        try:
            with database.atomic():
                queries.submit(lesson_id, form.body.data, form.link_url.data)
        except DatabaseError as exc:
            form.body.errors = [*form.body.errors, refusals.message(exc)]
        else:
            return notify(redirect_to(lesson_url(s, "#submission")), SUBMITTED)
    response = render("discussions/submit.html", "discussions/_submission.html", status=422, s=s,
                      submission=queries.my_submission(lesson_id, current_user.id), submission_form=form,
                      back=lesson_url(s))
    return notify(response, NOT_SAVED, "error") if is_partial() else response


# --- the teachers' side -----------------------------------------------------------------------------

@bp.route("/inbox")
@role_required("instructor")
def inbox():
    """Unanswered questions across the caller's courses, oldest first."""
    page = queries.inbox(queries.INBOX.read(request.args)).link("discussions.inbox")
    return render("discussions/inbox.html", "discussions/_inbox.html", listing=page)


@bp.route("/grading")
@role_required("instructor")
def grading():
    """Submissions waiting for a grade in the courses the caller grades, oldest first."""
    page = queries.grading(queries.GRADING.read(request.args)).link("discussions.grading")
    return render("discussions/grading.html", "discussions/_grading.html", listing=page)


@bp.route("/submissions/<uuid:submission_id>", methods=["GET", "POST"])
@role_required("instructor")
def grade(submission_id):
    """A submission and its grade form (teachers with manage_students grade; others read)."""
    row = found(queries.submission(submission_id))
    if request.method == "GET":
        form = forms.GradeForm(formdata=None, data={"score": row["score"], "feedback": row["feedback"]})
        return render("discussions/grade.html", sub=row, form=form)
    if not row["may_grade"]:
        abort(404)
    form = forms.GradeForm()
    if form.validate_on_submit():
        try:
            with database.atomic():
                passed = queries.grade(submission_id, form.score.data, form.feedback.data)
        except DatabaseError as exc:
            form.score.errors = [*form.score.errors, refusals.message(exc)]
        else:
            message = ("Graded: the student passed and the lesson is completed for them." if passed
                       else "Graded: below the lesson's passing score. The student is told.")
            return notify(redirect_to(url_for("discussions.grading")), message)
    return render("discussions/grade.html", sub=row, form=form, status=422)
