"""The student's learning: my learning, the lesson player, progress reports,
quizzes and certificates.

Student pages (``role_required("student")``: anonymous users sign in, other
roles get a 404) answer 404 for a course the student is not actively
enrolled in (enrolled, in progress or completed): the enrollment row is the
student's own under RLS, so another student's course is simply not there.

Locked lessons: course_lessons' policy hides a lesson the drip schedule has
not released yet, so its content cannot be read; ``learning_outline()``
still lists its title, which is how the player tells "locked" (a page that
says when it opens, status 403, without the content) from "no such lesson"
(404). Every POST on a locked lesson is a 404 and writes nothing; the
database refuses it anyway (the progress functions of 007 write only for a
released lesson of the caller's own active enrollment).

Progress is recorded on POSTs only (see ``queries``): opening a lesson
writes nothing.

After "Mark complete" the student goes on to the next lesson: a 303 to it
without JavaScript, and for htmx the next lesson's player fragment (its
curriculum, its progress bar: the figures the triggers just updated) with
``HX-Push-Url``, so the address bar, reload and back all keep working.

Quizzes are scored in the database (``submit_quiz()``, 007) against an answer
key no student can read; the player gets the questions without their answers
(``lesson_quiz()``). After a graded attempt it shows the score and which
questions were wrong, never the right answers, so a retry is a real retry;
the best score is kept. (Which questions were wrong is feedback any graded quiz
with retries gives away in time: the score alone, varied one answer at a time,
tells the same; the key itself is never sent.) Without JavaScript the result
travels to the redirected page in the session (shown once).

Certificates are public by their code (32 hex digits, 128 random bits):
anyone may open ``/certificates/<code>`` to verify one, through
``verify_certificate()``; an unknown code is a 404.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask import abort, make_response, request, session, url_for
from flask_login import current_user

from portal.courses.markdown import render_markdown
from portal.formatting import when
from portal.discussions.routes import lesson_sections
from portal.learning import certificates, queries
from portal.web import found, is_partial, notify, redirect_to, render, role_required
from portal.learning import bp


QUIZ_FEEDBACK = "learning_quiz_feedback"
POSITION = re.compile(r"^\s*[0-9]{1,9}\s*$")
CHOICE = re.compile(r"^[0-9]{1,3}$")  # ASCII digits: "²".isdigit() is true, int("²") is not


# --- my learning --------------------------------------------------------------------

@bp.route("/learning/")
@role_required("student")
def index():
    views = {name: spec.read(request.args) for name, spec in queries.SECTION_LISTS.items()}
    sections = queries.my_learning(current_user.id, views)
    for name, section in sections.items():  # each section's pager keeps the other sections' pages
        section.link("learning.index", **{key: value for other in sections.values() if other is not section
                                          for key, value in other.args().items()})
    return render("learning/index.html", sections=sections,
                  empty=not any(section.count for section in sections.values()))


@bp.route("/learning/<uuid:enrollment_id>/leave", methods=["GET", "POST"])
@role_required("student")
def leave(enrollment_id):
    """Leave a course one is enrolled in and has not completed (an instructor may have enrolled
    one, issue 15): a confirmation, then the enrollment is cancelled (the student's own move,
    allowed by 002's guard); enrolling again later brings the progress back. Another's
    enrollment, or one not active, is a 404."""
    enrolled = found(queries.leavable(enrollment_id, current_user.id))
    if request.method == "POST":
        queries.leave(enrollment_id)
        return notify(redirect_to(url_for("learning.index")), f"You left “{enrolled['title']}”.")
    return render("learning/leave.html", enrolled=enrolled)


# --- the player ---------------------------------------------------------------------

def _enrolled(slug: str) -> queries.Enrolled:
    return found(queries.enrolled_course(slug, current_user.id))


def _lesson_url(enrolled, lesson) -> str:
    return url_for("learning.lesson", slug=enrolled.slug, lesson_id=lesson.id)


@bp.route("/learn/<slug>/")
@role_required("student")
def resume(slug):
    """Back to where the student left off: the first released lesson not yet completed."""
    enrolled = _enrolled(slug)
    target = queries.outline(enrolled.course_id).resume_target()
    if target is None:  # every lesson was taken out of the course
        return notify(redirect_to(url_for("learning.index")),
                      f"“{enrolled.title}” has no lessons at the moment. Check back later.", "info")
    return redirect_to(_lesson_url(enrolled, target))


def _player(enrolled: queries.Enrolled, lesson_id, *, status: int | None = None, quiz: dict | None = None,
            push: bool = False):
    """The player page (the fragment for htmx) for one lesson of the course.

    ``quiz``: the state of the quiz form (``answers`` kept after a 422,
    ``result`` after a graded attempt). ``push``: the lesson differs from the
    request's URL (after "Mark complete"), so htmx is told to push its URL.
    """
    outline = queries.outline(enrolled.course_id)
    item = outline.find(lesson_id)
    if item is None:
        abort(404)
    lesson = queries.released_lesson(enrolled.course_id, lesson_id) if item.released else None
    if item.released and lesson is None:
        abort(404)
    before, after = outline.neighbours(lesson_id)
    questions = queries.quiz_questions(lesson.id) if lesson is not None and lesson.content_type == "quiz" else []
    if quiz is None and lesson is not None and lesson.content_type == "quiz":
        quiz = _pop_quiz_feedback(lesson_id)
    discussion = lesson_sections(lesson.id) if lesson is not None else {}  # 022: comments, questions, hand-in
    context = dict(enrolled=enrolled, outline=outline, item=item, lesson=lesson, before=before, after=after,
                   discussion=discussion,
                   questions=questions, quiz=quiz or {},
                   body=render_markdown(lesson.body) if lesson is not None and lesson.body else "",
                   video_src=_video_src(lesson),
                   video_link=lesson.video_url if lesson is not None and lesson.content_type == "video" else None)
    response = render("learning/lesson.html", "learning/_player.html",
                      status=status or (200 if item.released else 403), **context)
    if push and is_partial():
        response.headers["HX-Push-Url"] = _lesson_url(enrolled, item)
    return response


def _video_src(lesson) -> str | None:
    """The video's address when the player page may load it (https; the plain
    link below the player is there for any address the course gives)."""
    if lesson is None or lesson.content_type != "video" or not lesson.video_url:
        return None
    return lesson.video_url if lesson.video_url.lower().startswith("https://") else None


@bp.route("/learn/<slug>/lessons/<uuid:lesson_id>")
@role_required("student")
def lesson(slug, lesson_id):
    return _player(_enrolled(slug), lesson_id)


def _released(enrolled: queries.Enrolled, lesson_id):
    """(outline item, lesson) of a released lesson for a POST, or 404 (locked,
    not in the course, not readable under RLS)."""
    item = queries.outline(enrolled.course_id).find(lesson_id)
    if item is None or not item.released:
        abort(404)
    lesson = queries.released_lesson(enrolled.course_id, lesson_id)
    if lesson is None:
        abort(404)
    return item, lesson


@bp.route("/learn/<slug>/lessons/<uuid:lesson_id>/complete", methods=["POST"])
@role_required("student")
def complete(slug, lesson_id):
    """Mark a text, video or assignment lesson complete, then on to the next lesson.

    The last lesson of the course stays on screen after it, with the
    completion (and the certificate, when the course gives one).

    A video lesson is not refused for lack of watch time: the player holds
    the button back until the student has watched (static/js/player.js), and
    that is all a rule could do. The watch time is what the browser reports
    (any position up to the lesson's length), so refusing here would prove
    nothing; it would lock out a student who watched through the link (a
    video this page cannot play, or with JavaScript off), and the length the
    database caps it at is the instructor's estimate, which a shorter video
    never reaches.
    """
    enrolled = _enrolled(slug)
    _, lesson = _released(enrolled, lesson_id)
    if lesson.content_type in ("quiz", "assignment"):
        abort(404)  # a quiz is completed by passing it, an assignment by a passing grade (022)
    was_completed = enrolled.completed
    queries.complete_lesson(lesson_id)
    enrolled = _enrolled(slug)  # the triggers moved the progress (and perhaps the enrollment) on
    _, after = queries.outline(enrolled.course_id).neighbours(lesson_id)
    finished = enrolled.completed and not was_completed
    message = "You have completed the course. Well done!" if finished else None
    target = after.id if after is not None and not finished else lesson_id
    if is_partial():
        response = _player(enrolled, target, push=str(target) != str(lesson_id))
    else:
        response = redirect_to(url_for("learning.lesson", slug=slug, lesson_id=target))
    return notify(response, message) if message else response


@bp.route("/learn/<slug>/lessons/<uuid:lesson_id>/watch", methods=["POST"])
@role_required("student")
def watch(slug, lesson_id):
    """A video position report (seconds): the furthest one is kept. 204, no body."""
    enrolled = _enrolled(slug)
    _, lesson = _released(enrolled, lesson_id)
    if lesson.content_type != "video":
        abort(404)
    raw = request.form.get("position", "")
    if not POSITION.match(raw):
        return make_response({"error": "position must be a whole number of seconds, 0 or more"}, 422)
    queries.report_watch(lesson_id, int(raw))
    return "", 204


# --- quizzes ------------------------------------------------------------------------

def _pop_quiz_feedback(lesson_id) -> dict | None:
    feedback = session.get(QUIZ_FEEDBACK)
    if not feedback or feedback.get("lesson") != str(lesson_id):
        return None
    session.pop(QUIZ_FEEDBACK, None)
    return {"result": {"score": Decimal(feedback["score"]), "passed": feedback["passed"],
                       "wrong": feedback["wrong"], "best": Decimal(feedback["best"])}}


def _read_answers(questions: list[dict]) -> tuple[dict[int, int], list[int]]:
    """The chosen choice index per question, and the questions left unanswered
    (or answered with something that is not one of their choices)."""
    answers, missing = {}, []
    for i, question in enumerate(questions):
        raw = request.form.get(f"q{i}", "").strip()
        if CHOICE.match(raw) and int(raw) < len(question.get("choices") or []):
            answers[i] = int(raw)
        else:
            missing.append(i)
    return answers, missing


@bp.route("/learn/<slug>/lessons/<uuid:lesson_id>/quiz", methods=["POST"])
@role_required("student")
def quiz(slug, lesson_id):
    """Score a quiz attempt on the server; pass at the lesson's passing score."""
    enrolled = _enrolled(slug)
    item, lesson = _released(enrolled, lesson_id)
    if lesson.content_type != "quiz":
        abort(404)
    questions = queries.quiz_questions(lesson_id)
    answers, missing = _read_answers(questions)
    if missing:
        return _player(enrolled, lesson_id, status=422, quiz={"answers": answers, "missing": missing})
    was_completed = enrolled.completed
    attempt = queries.submit_quiz(lesson_id, [answers[i] for i in range(len(questions))])
    score, passed, wrong, best = attempt.score, attempt.passed, attempt.wrong, attempt.best
    enrolled = _enrolled(slug)
    message = "You have completed the course. Well done!" if enrolled.completed and not was_completed else None
    if not is_partial():
        session[QUIZ_FEEDBACK] = {"lesson": str(lesson_id), "score": str(score), "passed": passed,
                                  "wrong": wrong, "best": str(best)}
        response = redirect_to(url_for("learning.lesson", slug=slug, lesson_id=lesson_id))
    else:
        result = {"score": score, "passed": passed, "wrong": wrong, "best": best}
        response = _player(enrolled, lesson_id, quiz={"result": result})
    return notify(response, message) if message else response


# --- certificates -------------------------------------------------------------------

def _certificate(code: str) -> queries.VerifiedCertificate:
    found = queries.verify_certificate(code)
    if found is None:
        abort(404)
    return found


@bp.route("/certificates/<code>")
def certificate(code):
    """The public verification page: anyone with the code may check it."""
    found = _certificate(code)
    mine = current_user.is_authenticated and queries.own_certificate(found.code, current_user.id)
    return render("learning/certificate.html", certificate=found, mine=mine,
                  verify_url=url_for("learning.certificate", code=found.code, _external=True))


@bp.route("/certificates/<code>.pdf")
def certificate_pdf(code):
    found = _certificate(code)
    pdf = certificates.certificate_pdf(
        found, url_for("learning.certificate", code=found.code, _external=True),
        when(found.issued_at, "%d %B %Y"))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="certificate-{found.code}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
