"""Named queries of the discussions, under the request's role and claims (022).

Row-level security decides everything: a lesson the caller may not read is not there (404); a
course whose comments (or questions) are turned off has none to read or write, so the sections
are simply not offered (``scope``). Lists page by position (keyset): a lesson's threads newest
first (``idx_lesson_comments_lesson``), its replies in order; the teachers' inbox of unanswered
questions oldest first (``idx_course_questions_unanswered``) and the grading queue oldest first
(``idx_assignment_submissions_waiting``), over the caller's courses computed once per statement.
Authors' names come from ``discussion_author_names`` (users rows are private to their owner).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from peewee import JOIN, SQL, NodeList, fn

from portal.db import database
from portal.listing import Choice, Page, Spec, View, keyset_page
from portal.models import (AssignmentSubmission, Course, CourseLesson, CourseQuestion, DiscussionReport, LessonComment,
                           QuestionAnswer, User, caller_courses)

EDIT_MINUTES = 15            # 022's edit window (the guards' interval)
GRADERS = ("manage_students",)
COMMENTS = Spec(page_size=10, keyset=True)
QUESTIONS = Spec(page_size=10, keyset=True)
INBOX = Spec(filters=(Choice("course", "Course", open=True, any_label="All your courses", max_length=36),),
             page_size=20, keyset=True)
GRADING = Spec(filters=(Choice("course", "Course", open=True, any_label="All your courses", max_length=36),),
               page_size=20, keyset=True)
REPLIES_SHOWN = 20          # replies shown under each thread of a page; the rest on the thread's own view
THREAD_REPLIES = 500        # replies on one thread's own view (?thread=)


def _in(field, function: str):
    """``field = ANY ((SELECT <function>()))``: the caller's set, once per statement."""
    return NodeList((field, SQL(f"= ANY ((SELECT {function}())::uuid[])")))


def as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


@dataclass
class Scope:
    """A lesson the caller reads, and what its course allows them."""
    lesson_id: object
    lesson_title: str
    content_type: str
    passing_score: int | None
    course_id: object
    course_title: str
    slug: str
    comments: bool      # the course allows comments and the caller takes part
    questions: bool     # questions are on (the course's and its instructor's switches)
    teaching: bool      # the caller teaches the course
    enrolled: bool      # the caller is an active student of the course


def scope(lesson_id) -> Scope | None:
    """The lesson (None when the caller may not read it) and the discussion's switches."""
    row = (CourseLesson.select(CourseLesson.id.alias("lesson_id"), CourseLesson.title.alias("lesson_title"),
                               CourseLesson.content_type, CourseLesson.passing_score,
                               Course.id.alias("course_id"), Course.title.alias("course_title"), Course.slug,
                               _in(Course.id, "rls.comment_course_ids").alias("comments"),
                               _in(Course.id, "rls.qa_course_ids").alias("questions"),
                               _in(Course.id, "rls.taught_course_ids").alias("teaching"),
                               _in(Course.id, "rls.enrolled_course_ids").alias("enrolled"))
           .join(Course, on=(Course.id == CourseLesson.course))
           .where(CourseLesson.id == lesson_id).dicts().first())
    return Scope(**row) if row else None


def names(course_id, ids) -> dict:
    """{user id: (display name, is teacher)} of the authors ``ids`` in one course's discussion."""
    ids = list({i for i in ids if i})
    if not ids:
        return {}
    cursor = database.execute_sql("SELECT user_id, display_name, is_teacher FROM discussion_author_names(%s, %s)",
                                  (course_id, ids))
    return {user_id: (name, teacher) for user_id, name, teacher in cursor.fetchall()}


# --- comments ------------------------------------------------------------------------------------

_COMMENT_COLUMNS = (LessonComment.id, LessonComment.author.alias("author_id"), LessonComment.parent.alias("parent_id"),
                    LessonComment.body, LessonComment.is_visible, LessonComment.reply_count,
                    LessonComment.created_at, LessonComment.edited_at, LessonComment.deleted_at,
                    LessonComment.open_report_count)


def comments(view: View, s: Scope, me, thread=None) -> Page:
    """One page of the lesson's threads (newest first), each with its first replies (oldest first);
    with ``thread``, that thread alone with up to THREAD_REPLIES replies."""
    condition = (LessonComment.lesson == s.lesson_id) & LessonComment.parent.is_null()
    if thread is not None:
        condition &= LessonComment.id == thread
    query = LessonComment.select(*_COMMENT_COLUMNS).where(condition).dicts()
    page = keyset_page(view, query, ((LessonComment.created_at, "created_at"), (LessonComment.id, "id")),
                       descending=True, matching=0)
    threads = {row["id"]: row for row in page.rows}
    for row in page.rows:
        row["replies"] = []
    if threads:
        # each thread's first replies (a lateral read per thread on idx_lesson_comments_parent)
        replies = database.execute_sql(
            "SELECT r.id FROM unnest(%s::uuid[]) AS t(id) CROSS JOIN LATERAL ("
            " SELECT x.id FROM lesson_comments x WHERE x.parent_id = t.id"
            " ORDER BY x.created_at, x.id LIMIT %s) r",
            ([str(t) for t in threads], THREAD_REPLIES if thread is not None else REPLIES_SHOWN)).fetchall()
        if replies:
            for reply in (LessonComment.select(*_COMMENT_COLUMNS).where(LessonComment.id.in_([r[0] for r in replies]))
                          .order_by(LessonComment.created_at, LessonComment.id).dicts()):
                threads[reply["parent_id"]]["replies"].append(reply)
    everyone = [r["author_id"] for r in page.rows] + [x["author_id"] for r in page.rows for x in r["replies"]]
    who = names(s.course_id, everyone)
    window = datetime.now(timezone.utc) - timedelta(minutes=EDIT_MINUTES)
    for row in [*page.rows, *(x for r in page.rows for x in r["replies"])]:
        row["author"], row["by_teacher"] = who.get(row["author_id"], ("Someone", False))
        if row["deleted_at"]:   # blanked by its author: the replies stay, the author is not shown
            row["author"], row["by_teacher"] = "Deleted comment", False
        row["mine"] = row["author_id"] == me and not row["deleted_at"]
        row["editable"] = row["mine"] and row["created_at"] > window
        # the author deletes their own while it is visible and not under report (the policy)
        row["deletable"] = row["mine"] and row["is_visible"] and not row["open_report_count"]
    return page


def comment(comment_id) -> dict | None:
    """One comment the caller reads, with its lesson and course."""
    return (LessonComment.select(*_COMMENT_COLUMNS, LessonComment.lesson.alias("lesson_id"),
                                 LessonComment.course.alias("course_id"))
            .where(LessonComment.id == comment_id).dicts().first())


def add_comment(s: Scope, body: str, parent) -> object:
    return database.execute_sql("INSERT INTO lesson_comments (course_id, lesson_id, parent_id, body) "
                                "VALUES (%s, %s, %s, %s) RETURNING id",
                                (s.course_id, s.lesson_id, parent, body)).fetchone()[0]


def edit_comment(comment_id, body: str) -> int:
    """The author's edit (the guard: the author, within the window)."""
    return LessonComment.update(body=body).where(LessonComment.id == comment_id).execute()


def delete_comment(comment_id) -> str | None:
    """The caller's own comment (the policy: visible and not under report; admins any): "deleted",
    "blanked" (a thread's first comment with replies: 022 keeps the thread, the text gone), or None
    (refused: under report or hidden)."""
    if LessonComment.delete().where(LessonComment.id == comment_id).execute():
        return "deleted"
    blanked = (LessonComment.select().where((LessonComment.id == comment_id) & LessonComment.deleted_at.is_null(False))
               .exists())
    return "blanked" if blanked else None


def report(*, comment_id=None, question_id=None, answer_id=None, reason: str, details: str | None) -> None:
    DiscussionReport.insert(comment=comment_id, question=question_id, answer=answer_id, reason=reason,
                            details=details or None).execute()


def reported(*, comment_id=None, question_id=None, answer_id=None, me) -> bool:
    """Whether the caller has reported this already (their own reports are theirs to read)."""
    condition = ((DiscussionReport.comment == comment_id) if comment_id
                 else (DiscussionReport.answer == answer_id) if answer_id
                 else (DiscussionReport.question == question_id))
    return DiscussionReport.select().where(condition & (DiscussionReport.reporter == me)).exists()


# --- questions and answers -------------------------------------------------------------------

_QUESTION_COLUMNS = (CourseQuestion.id, CourseQuestion.author.alias("author_id"), CourseQuestion.title,
                     CourseQuestion.body, CourseQuestion.answer_count, CourseQuestion.is_visible,
                     CourseQuestion.accepted_answer.alias("accepted_answer_id"), CourseQuestion.created_at,
                     CourseQuestion.course.alias("course_id"), CourseQuestion.lesson.alias("lesson_id"))


def lesson_questions(view: View, s: Scope, me) -> Page:
    """One page of the lesson's questions, newest first."""
    query = CourseQuestion.select(*_QUESTION_COLUMNS).where(CourseQuestion.lesson == s.lesson_id)
    return _question_page(view, query, s.course_id, me)


def _question_page(view: View, query, course_id, me) -> Page:
    """One page of ``query``'s questions of one course, newest first, each with its author's name."""
    page = keyset_page(view, query.dicts(), ((CourseQuestion.created_at, "created_at"), (CourseQuestion.id, "id")),
                       descending=True, matching=0)
    who = names(course_id, [r["author_id"] for r in page.rows])
    for row in page.rows:
        row["author"], row["by_teacher"] = who.get(row["author_id"], ("Someone", False))
        row["mine"] = row["author_id"] == me
    return page


@dataclass
class CourseScope:
    """A course whose questions the caller reads (questions on, and they take part)."""
    course_id: object
    course_title: str
    slug: str
    teaching: bool
    enrolled: bool


def course_scope(course_id) -> CourseScope | None:
    row = (Course.select(Course.id.alias("course_id"), Course.title.alias("course_title"), Course.slug,
                         _in(Course.id, "rls.taught_course_ids").alias("teaching"),
                         _in(Course.id, "rls.enrolled_course_ids").alias("enrolled"))
           .where((Course.id == course_id) & _in(Course.id, "rls.qa_course_ids")).dicts().first())
    return CourseScope(**row) if row else None


def course_questions(view: View, cs: CourseScope, me) -> Page:
    """One page of the course's questions (on the course or any lesson), newest first."""
    query = (CourseQuestion.select(*_QUESTION_COLUMNS, CourseLesson.title.alias("lesson_title"))
             .join(CourseLesson, JOIN.LEFT_OUTER, on=(CourseLesson.id == CourseQuestion.lesson))
             .where(CourseQuestion.course == cs.course_id))
    return _question_page(view, query, cs.course_id, me)


def ask_course(cs: CourseScope, title: str, body: str) -> object:
    return database.execute_sql("INSERT INTO course_questions (course_id, title, body) VALUES (%s, %s, %s) "
                                "RETURNING id", (cs.course_id, title, body or "")).fetchone()[0]


def question(question_id) -> dict | None:
    """One question the caller reads, with its course and lesson."""
    return (CourseQuestion.select(*_QUESTION_COLUMNS, Course.title.alias("course_title"), Course.slug,
                                  CourseLesson.title.alias("lesson_title"))
            .join(Course, on=(Course.id == CourseQuestion.course))
            .join(CourseLesson, JOIN.LEFT_OUTER, on=(CourseLesson.id == CourseQuestion.lesson))
            .where(CourseQuestion.id == question_id).dicts().first())


def answer_row(answer_id) -> dict | None:
    """One answer the caller reads, with its question's id."""
    return (QuestionAnswer.select(QuestionAnswer.id, QuestionAnswer.author.alias("author_id"), QuestionAnswer.body,
                                  QuestionAnswer.question.alias("question_id"))
            .where(QuestionAnswer.id == answer_id).dicts().first())


def answers(q: dict, me) -> list[dict]:
    """The question's answers: the accepted one first, then oldest first (at most 200)."""
    rows = list(QuestionAnswer.select(QuestionAnswer.id, QuestionAnswer.author.alias("author_id"),
                                      QuestionAnswer.body, QuestionAnswer.created_at, QuestionAnswer.is_visible)
                .where(QuestionAnswer.question == q["id"])
                .order_by((QuestionAnswer.id == q["accepted_answer_id"]).desc() if q["accepted_answer_id"]
                          else QuestionAnswer.created_at, QuestionAnswer.created_at, QuestionAnswer.id)
                .limit(200).dicts())
    who = names(q["course_id"], [q["author_id"]] + [r["author_id"] for r in rows])
    q["author"], q["by_teacher"] = who.get(q["author_id"], ("Someone", False))
    for row in rows:
        row["author"], row["by_teacher"] = who.get(row["author_id"], ("Someone", False))
        row["accepted"] = row["id"] == q["accepted_answer_id"]
        row["mine"] = row["author_id"] == me
    return rows


def ask(s: Scope, title: str, body: str) -> object:
    return database.execute_sql("INSERT INTO course_questions (course_id, lesson_id, title, body) "
                                "VALUES (%s, %s, %s, %s) RETURNING id",
                                (s.course_id, s.lesson_id, title, body or "")).fetchone()[0]


def answer(q: dict, body: str) -> object:
    return database.execute_sql("INSERT INTO question_answers (question_id, course_id, body) "
                                "VALUES (%s, %s, %s) RETURNING id", (q["id"], q["course_id"], body)).fetchone()[0]


def accept(question_id, answer_id) -> int:
    """The asker's choice (the policy and the guard: the asker only, an answer of this question)."""
    return CourseQuestion.update(accepted_answer=answer_id).where(CourseQuestion.id == question_id).execute()


# --- assignments ----------------------------------------------------------------------------------

def my_submission(lesson_id, me) -> dict | None:
    return (AssignmentSubmission.select(AssignmentSubmission.id, AssignmentSubmission.body,
                                        AssignmentSubmission.link_url, AssignmentSubmission.status,
                                        AssignmentSubmission.score, AssignmentSubmission.passing_score,
                                        AssignmentSubmission.feedback, AssignmentSubmission.graded_at,
                                        AssignmentSubmission.submitted_at)
            .where((AssignmentSubmission.lesson == lesson_id) & (AssignmentSubmission.user == me)).dicts().first())


def submit(lesson_id, body: str, link: str | None) -> object:
    return database.execute_sql("SELECT submit_assignment(%s, %s, %s)", (lesson_id, body or "", link or None)
                                ).fetchone()[0]


# --- the teachers' side ------------------------------------------------------------------------

def taught_courses(*perms) -> dict:
    """{id as text: title} of the caller's courses (owned, or co-taught with any of ``perms``)."""
    rows = (Course.select(Course.id, Course.title).where(caller_courses(Course.id, *perms))
            .order_by(Course.title, Course.id).tuples())
    return {str(course): title for course, title in rows}


def inbox(view: View) -> Page:
    """Unanswered visible questions of the courses the caller teaches (questions on), oldest first."""
    view.choices["course"] = courses = {k: v for k, v in taught_courses("view_content", "edit_content",
                                                                       "manage_students", "view_revenue",
                                                                       "respond_reviews").items()}
    condition = (_in(CourseQuestion.course, "rls.qa_course_ids") & _in(CourseQuestion.course, "rls.taught_course_ids")
                 & (CourseQuestion.answer_count == 0) & CourseQuestion.is_visible)
    course = as_uuid(view.course)
    if course is not None:
        condition &= CourseQuestion.course == course
    query = (CourseQuestion.select(*_QUESTION_COLUMNS, Course.title.alias("course_title"),
                                   CourseLesson.title.alias("lesson_title"))
             .join(Course, on=(Course.id == CourseQuestion.course))
             .join(CourseLesson, JOIN.LEFT_OUTER, on=(CourseLesson.id == CourseQuestion.lesson))
             .where(condition).dicts())
    page = keyset_page(view, query, ((CourseQuestion.created_at, "created_at"), (CourseQuestion.id, "id")),
                       descending=False, matching=0, courses=courses)
    # one statement for the page, the caller's sets computed once (discussion_author_names_in)
    who = {}
    if page.rows:
        pairs = sorted({(str(r["course_id"]), str(r["author_id"])) for r in page.rows})
        cursor = database.execute_sql(
            "SELECT course_id, user_id, display_name FROM discussion_author_names_in(%s::uuid[], %s::uuid[])",
            ([c for c, _ in pairs], [a for _, a in pairs]))
        who = {(course, user): name for course, user, name in cursor.fetchall()}
    for row in page.rows:
        row["author"] = who.get((row["course_id"], row["author_id"]), "A student")
    return page


def unanswered_count() -> int:
    """The dashboard's figure: the kept counts of the caller's courses (022)."""
    return database.execute_sql("SELECT unanswered_questions_count()").fetchone()[0]


_SUBMISSION_COLUMNS = (AssignmentSubmission.id, AssignmentSubmission.user.alias("student_id"),
                       AssignmentSubmission.course.alias("course_id"), AssignmentSubmission.lesson.alias("lesson_id"),
                       AssignmentSubmission.body, AssignmentSubmission.link_url, AssignmentSubmission.status,
                       AssignmentSubmission.score, AssignmentSubmission.passing_score, AssignmentSubmission.feedback,
                       AssignmentSubmission.graded_at, AssignmentSubmission.submitted_at,
                       Course.title.alias("course_title"),
                       fn.coalesce(CourseLesson.title, "An assignment").alias("lesson_title"),
                       fn.coalesce(CourseLesson.passing_score, AssignmentSubmission.passing_score)
                       .alias("lesson_passing_score"),
                       fn.coalesce(User.full_name, "A student").alias("student_name"))


def _submissions():
    return (AssignmentSubmission.select(*_SUBMISSION_COLUMNS)
            .join(Course, on=(Course.id == AssignmentSubmission.course))
            # a grader without view_content reads no lesson (course_lessons' policy): the work still shows
            .join(CourseLesson, JOIN.LEFT_OUTER, on=(CourseLesson.id == AssignmentSubmission.lesson))
            .join(User, JOIN.LEFT_OUTER, on=(User.id == AssignmentSubmission.user)))


def grading(view: View) -> Page:
    """Submissions waiting for a grade in the courses the caller grades (manage_students), oldest first."""
    view.choices["course"] = courses = taught_courses(*GRADERS)
    condition = caller_courses(AssignmentSubmission.course, *GRADERS) & (AssignmentSubmission.status == "submitted")
    course = as_uuid(view.course)
    if course is not None:
        condition &= AssignmentSubmission.course == course
    return keyset_page(view, _submissions().where(condition).dicts(),
                       ((AssignmentSubmission.submitted_at, "submitted_at"), (AssignmentSubmission.id, "id")),
                       descending=False, matching=0, courses=courses)


def submission(submission_id) -> dict | None:
    """One submission the caller reads (the student's teachers who read its students)."""
    row = _submissions().where(AssignmentSubmission.id == submission_id).dicts().first()
    if row is not None:
        row["may_grade"] = str(row["course_id"]) in taught_courses(*GRADERS)
    return row


def grade(submission_id, score, feedback: str | None) -> bool:
    """Grade (or regrade); whether the score passes the lesson's mark (the lesson is then completed)."""
    return database.execute_sql("SELECT grade_assignment(%s, %s, %s)", (submission_id, score, feedback or None)
                                ).fetchone()[0]


def grades_of(student_id) -> list[dict]:
    """A student's submissions in the caller's courses (the instructor's student page), newest first."""
    return list(_submissions().where(AssignmentSubmission.user == student_id)
                .order_by(AssignmentSubmission.submitted_at.desc(), AssignmentSubmission.id.desc())
                .limit(100).dicts())
