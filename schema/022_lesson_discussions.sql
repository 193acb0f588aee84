-- 022: lesson discussions, questions and answers, assignment submissions and
-- grades (issue 19).
--
-- Who takes part: a course's participants are its actively enrolled students
-- (enrolled, in progress, completed) and its teachers (the owner and every
-- co-instructor or assistant, whatever their permissions). Admins read
-- everything (they moderate); nobody else reads a row of these tables.
--
-- The switches, enforced here: comments exist for a course only while
-- courses.allow_comments; questions and answers only while courses.allow_qa
-- and the owner's instructor_settings.allow_student_questions (both default
-- on). With a switch off, nothing of that kind is readable or writable by a
-- participant (the rows stay, and come back when it is turned on again).
--
-- Policies compute the caller's courses once per statement (the initplan
-- shape of 008): rls.comment_course_ids(), rls.qa_course_ids(), and 007's
-- rls.course_ids() for the graders (manage_students: the core's permission
-- for acting on a course's students).
--
-- The engagement score (one formula, progress_figures below, replacing 002's
-- body with the same signature):
--     learning   = 50 x completed lessons / lessons
--                + 30 x min(watch time / video time of the course, 1)
--                + 20 x mean quiz score / 100              (002, unchanged)
--     taking part = min(20, 2 x comments + 3 x questions + 3 x answers
--                           + 5 x assignment submissions)
--     engagement_score = min(100, learning + taking part)
-- counting the student's own comments (replies too), questions, answers and
-- submissions in the course, hidden or not, while they exist. A student who
-- took no part keeps the score they had (no recount of history at this
-- migration). student_progress keeps the four counts by delta (the triggers
-- below, after locking the enrollment: 008's order, enrollments first), and
-- the score follows from the stored figures; verify_denormalized_figures
-- compares the score with progress_figures, and private.verify_discussion_figures
-- the four counts and the answer/unanswered counts with their rows.

-- 0. activity kinds (used below only inside plpgsql bodies: a new enum value
--    cannot be used as a literal in the transaction that adds it)
ALTER TYPE public.activity_type ADD VALUE IF NOT EXISTS 'assignment_submitted';
ALTER TYPE public.activity_type ADD VALUE IF NOT EXISTS 'assignment_graded';

-- 1. the caller's sets ----------------------------------------------------------------------
CREATE FUNCTION rls.comment_course_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(array_agg(c.id), '{}') FROM public.courses c
    WHERE c.allow_comments
      AND (c.id = ANY ((SELECT rls.enrolled_course_ids())::uuid[])
           OR c.id = ANY ((SELECT rls.taught_course_ids())::uuid[]))
$$;

CREATE FUNCTION rls.qa_course_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(array_agg(c.id), '{}') FROM public.courses c
    LEFT JOIN public.instructor_settings s ON s.user_id = c.instructor_id
    WHERE c.allow_qa AND coalesce(s.allow_student_questions, true)
      AND (c.id = ANY ((SELECT rls.enrolled_course_ids())::uuid[])
           OR c.id = ANY ((SELECT rls.taught_course_ids())::uuid[]))
$$;

-- The lessons of the caller's drip courses not yet released to them (as a student: a teacher's
-- courses have none); their comments and questions (and those questions' answers) are not the
-- caller's to read until the lesson opens. Computed once per statement (lesson_released_for
-- per lesson of the caller's drip courses only; empty for everyone else).
CREATE FUNCTION rls.locked_lesson_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(array_agg(l.id), '{}') FROM public.course_enrollments e
    JOIN public.courses c ON c.id = e.course_id AND c.drip_content
    JOIN public.course_lessons l ON l.course_id = c.id
    WHERE e.user_id = (SELECT rls.uid()) AND e.status IN ('enrolled', 'in_progress', 'completed')
      AND NOT c.id = ANY ((SELECT rls.taught_course_ids())::uuid[])
      AND NOT coalesce(public.lesson_released_for(e.id, l.id), false)
$$;


-- 2. tables ------------------------------------------------------------------------------------
CREATE TABLE public.lesson_comments (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id         uuid NOT NULL,
    lesson_id         uuid NOT NULL,
    author_id         uuid NOT NULL DEFAULT (auth.uid()) REFERENCES public.users (id) ON DELETE CASCADE,
    parent_id         uuid,
    body              text NOT NULL,
    is_visible        boolean NOT NULL DEFAULT true,
    open_report_count integer NOT NULL DEFAULT 0 CHECK (open_report_count >= 0),
    first_open_report_at timestamptz,
    reply_count       integer NOT NULL DEFAULT 0 CHECK (reply_count >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    edited_at         timestamptz,
    deleted_at        timestamptz,   -- a thread's first comment deleted by its author: blanked, its replies kept
    FOREIGN KEY (lesson_id, course_id) REFERENCES public.course_lessons (id, course_id) ON DELETE CASCADE,
    UNIQUE (id, lesson_id),
    FOREIGN KEY (parent_id, lesson_id) REFERENCES public.lesson_comments (id, lesson_id) ON DELETE CASCADE,
    CONSTRAINT lesson_comment_body CHECK (char_length(body) <= 5000 AND body ~ '\S'),
    CONSTRAINT lesson_comment_not_own_parent CHECK (parent_id IS DISTINCT FROM id),
    CONSTRAINT lesson_comment_reports_dated CHECK ((open_report_count = 0) = (first_open_report_at IS NULL))
);
-- A lesson's threads, newest first (keyset), and each thread's replies in order.
CREATE INDEX idx_lesson_comments_lesson ON public.lesson_comments (lesson_id, created_at DESC, id DESC)
    WHERE parent_id IS NULL;
CREATE INDEX idx_lesson_comments_parent ON public.lesson_comments (parent_id, created_at, id)
    WHERE parent_id IS NOT NULL;
CREATE INDEX idx_lesson_comments_author ON public.lesson_comments (author_id, course_id);
CREATE INDEX idx_lesson_comments_course ON public.lesson_comments (course_id);
CREATE INDEX idx_lesson_comments_reported ON public.lesson_comments (first_open_report_at, id)
    WHERE open_report_count > 0;
-- The moderation queue's hidden ones, newest first.
CREATE INDEX idx_lesson_comments_hidden ON public.lesson_comments (created_at DESC, id DESC) WHERE NOT is_visible;

CREATE TABLE public.course_questions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id          uuid NOT NULL REFERENCES public.courses (id) ON DELETE CASCADE,
    lesson_id          uuid,
    author_id          uuid NOT NULL DEFAULT (auth.uid()) REFERENCES public.users (id) ON DELETE CASCADE,
    title              text NOT NULL,
    body               text NOT NULL DEFAULT '',
    accepted_answer_id uuid,
    answer_count       integer NOT NULL DEFAULT 0 CHECK (answer_count >= 0),
    is_visible         boolean NOT NULL DEFAULT true,
    open_report_count  integer NOT NULL DEFAULT 0 CHECK (open_report_count >= 0),
    first_open_report_at timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    edited_at          timestamptz,
    FOREIGN KEY (lesson_id, course_id) REFERENCES public.course_lessons (id, course_id) ON DELETE SET NULL (lesson_id),
    UNIQUE (id, course_id),
    CONSTRAINT course_question_title CHECK (char_length(btrim(title)) BETWEEN 3 AND 200),
    CONSTRAINT course_question_body CHECK (char_length(body) <= 5000),
    CONSTRAINT course_question_reports_dated CHECK ((open_report_count = 0) = (first_open_report_at IS NULL))
);
-- A course's (or lesson's) questions, newest first; the teachers' inbox of unanswered ones.
CREATE INDEX idx_course_questions_course ON public.course_questions (course_id, created_at DESC, id DESC);
CREATE INDEX idx_course_questions_lesson ON public.course_questions (lesson_id, created_at DESC, id DESC)
    WHERE lesson_id IS NOT NULL;
CREATE INDEX idx_course_questions_unanswered ON public.course_questions (course_id, created_at, id)
    WHERE answer_count = 0 AND is_visible;
CREATE INDEX idx_course_questions_author ON public.course_questions (author_id, course_id);
CREATE INDEX idx_course_questions_reported ON public.course_questions (first_open_report_at, id)
    WHERE open_report_count > 0;
CREATE INDEX idx_course_questions_hidden ON public.course_questions (created_at DESC, id DESC) WHERE NOT is_visible;

CREATE TABLE public.question_answers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    question_id uuid NOT NULL,
    course_id   uuid NOT NULL,
    author_id   uuid NOT NULL DEFAULT (auth.uid()) REFERENCES public.users (id) ON DELETE CASCADE,
    body        text NOT NULL,
    is_visible  boolean NOT NULL DEFAULT true,
    open_report_count integer NOT NULL DEFAULT 0 CHECK (open_report_count >= 0),
    first_open_report_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    edited_at   timestamptz,
    FOREIGN KEY (question_id, course_id) REFERENCES public.course_questions (id, course_id) ON DELETE CASCADE,
    UNIQUE (id, question_id),
    CONSTRAINT question_answer_body CHECK (char_length(body) <= 5000 AND body ~ '\S'),
    CONSTRAINT question_answer_reports_dated CHECK ((open_report_count = 0) = (first_open_report_at IS NULL))
);
CREATE INDEX idx_question_answers_question ON public.question_answers (question_id, created_at, id);
CREATE INDEX idx_question_answers_author ON public.question_answers (author_id, course_id);
CREATE INDEX idx_question_answers_reported ON public.question_answers (first_open_report_at, id)
    WHERE open_report_count > 0;
CREATE INDEX idx_question_answers_hidden ON public.question_answers (created_at DESC, id DESC) WHERE NOT is_visible;
-- The accepted answer goes with its answer; that it is one of the question's own is the guard's.
ALTER TABLE public.course_questions
    ADD CONSTRAINT course_question_accepted_answer FOREIGN KEY (accepted_answer_id)
        REFERENCES public.question_answers (id) ON DELETE SET NULL;
CREATE INDEX idx_course_questions_accepted ON public.course_questions (accepted_answer_id)
    WHERE accepted_answer_id IS NOT NULL;

CREATE TYPE public.submission_status AS ENUM ('submitted', 'graded');
CREATE TABLE public.assignment_submissions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrollment_id uuid NOT NULL,
    user_id       uuid NOT NULL,
    course_id     uuid NOT NULL,
    lesson_id     uuid NOT NULL,
    body          text NOT NULL DEFAULT '',
    link_url      text,
    status        public.submission_status NOT NULL DEFAULT 'submitted',
    score         numeric(5,2),
    passing_score integer,          -- the lesson's mark at grading time
    feedback      text,
    graded_by     uuid REFERENCES public.users (id) ON DELETE SET NULL,
    graded_at     timestamptz,
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (enrollment_id, user_id, course_id)
        REFERENCES public.course_enrollments (id, user_id, course_id) ON DELETE CASCADE,
    FOREIGN KEY (lesson_id, course_id) REFERENCES public.course_lessons (id, course_id) ON DELETE CASCADE,
    UNIQUE (enrollment_id, lesson_id),
    CONSTRAINT assignment_submission_body CHECK (char_length(body) <= 20000),
    CONSTRAINT assignment_submission_link CHECK (link_url IS NULL OR (link_url ~ '^https?://[^\s]+$'
                                                                     AND char_length(link_url) <= 2000)),
    CONSTRAINT assignment_submission_not_empty CHECK (body ~ '\S' OR link_url IS NOT NULL),
    CONSTRAINT assignment_submission_score CHECK (score BETWEEN 0 AND 100),
    CONSTRAINT assignment_submission_feedback CHECK (char_length(feedback) <= 5000),
    CONSTRAINT assignment_submission_graded
        CHECK ((status = 'graded') = (score IS NOT NULL AND graded_at IS NOT NULL))
);
-- The graders' queue: a course's submissions waiting, oldest first.
CREATE INDEX idx_assignment_submissions_waiting ON public.assignment_submissions (course_id, submitted_at, id)
    WHERE status = 'submitted';
CREATE INDEX idx_assignment_submissions_lesson ON public.assignment_submissions (lesson_id);
CREATE INDEX idx_assignment_submissions_user ON public.assignment_submissions (user_id, course_id);

CREATE TYPE public.discussion_report_reason AS ENUM ('spam', 'offensive', 'off_topic', 'other');
CREATE TABLE public.discussion_reports (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    comment_id  uuid REFERENCES public.lesson_comments (id) ON DELETE CASCADE,
    question_id uuid REFERENCES public.course_questions (id) ON DELETE CASCADE,
    answer_id   uuid REFERENCES public.question_answers (id) ON DELETE CASCADE,
    reporter_id uuid NOT NULL DEFAULT (auth.uid()) REFERENCES public.users (id) ON DELETE CASCADE,
    reason      public.discussion_report_reason NOT NULL,
    details     text CHECK (char_length(details) <= 1000),
    resolved_at timestamptz,
    resolved_by uuid REFERENCES public.users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT discussion_report_one_subject CHECK (num_nonnulls(comment_id, question_id, answer_id) = 1),
    CONSTRAINT discussion_report_other_says_why CHECK (reason <> 'other' OR btrim(coalesce(details, '')) <> ''),
    UNIQUE (comment_id, reporter_id),
    UNIQUE (question_id, reporter_id),
    UNIQUE (answer_id, reporter_id)
);
CREATE INDEX idx_discussion_reports_comment ON public.discussion_reports (comment_id) WHERE comment_id IS NOT NULL;
CREATE INDEX idx_discussion_reports_question ON public.discussion_reports (question_id) WHERE question_id IS NOT NULL;
CREATE INDEX idx_discussion_reports_answer ON public.discussion_reports (answer_id) WHERE answer_id IS NOT NULL;
CREATE INDEX idx_discussion_reports_reporter ON public.discussion_reports (reporter_id);

-- 3. kept figures ------------------------------------------------------------------------------
ALTER TABLE public.student_progress
    ADD COLUMN comment_count integer NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    ADD COLUMN question_count integer NOT NULL DEFAULT 0 CHECK (question_count >= 0),
    ADD COLUMN answer_count integer NOT NULL DEFAULT 0 CHECK (answer_count >= 0),
    ADD COLUMN submission_count integer NOT NULL DEFAULT 0 CHECK (submission_count >= 0);
-- Unanswered visible questions per course: the dashboard's count sums the caller's courses.
ALTER TABLE public.courses
    ADD COLUMN unanswered_question_count integer NOT NULL DEFAULT 0 CHECK (unanswered_question_count >= 0);

-- The one formula (see the header), from its parts.
CREATE FUNCTION public.engagement_score(p_lessons integer, p_completed integer, p_watched bigint,
                                        p_video_seconds numeric, p_quizzes integer, p_quiz_mean numeric,
                                        p_comments integer, p_questions integer, p_answers integer,
                                        p_submissions integer)
RETURNS numeric(5,2)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH r AS (SELECT CASE WHEN p_lessons = 0 THEN 0 ELSE p_completed::numeric / p_lessons END AS completion)
    SELECT least(100,
                 round(100 * (0.5 * completion
                              + 0.3 * CASE WHEN p_video_seconds = 0 THEN completion
                                           ELSE least(p_watched::numeric / p_video_seconds, 1) END
                              + 0.2 * CASE WHEN p_quizzes = 0 THEN completion
                                           ELSE coalesce(p_quiz_mean, 0) / 100 END), 2)
                 + least(20, 2 * p_comments + 3 * p_questions + 3 * p_answers + 5 * p_submissions))::numeric(5,2)
    FROM r
$$;

-- The student's own posts in a course (the truth of the four kept counts).
CREATE FUNCTION public.participation_figures(p_user_id uuid, p_course_id uuid,
                                             OUT comments integer, OUT questions integer,
                                             OUT answers integer, OUT submissions integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT (SELECT count(*) FROM public.lesson_comments WHERE author_id = p_user_id AND course_id = p_course_id)::integer,
           (SELECT count(*) FROM public.course_questions WHERE author_id = p_user_id AND course_id = p_course_id)::integer,
           (SELECT count(*) FROM public.question_answers WHERE author_id = p_user_id AND course_id = p_course_id)::integer,
           (SELECT count(*) FROM public.assignment_submissions WHERE user_id = p_user_id AND course_id = p_course_id)::integer
$$;

-- 002's definition, its engagement score now the formula above.
CREATE OR REPLACE FUNCTION public.progress_figures(p_enrollment_id uuid)
RETURNS TABLE (total_lessons integer, completed_lessons integer, progress_percentage numeric(5,2),
               total_watch_time_seconds bigint, last_activity_at timestamptz,
               total_quizzes integer, passed_quizzes integer, average_quiz_score numeric(5,2),
               engagement_score numeric(5,2))
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    WITH course AS (
        SELECT count(*)::integer AS lessons,
               count(*) FILTER (WHERE l.content_type = 'quiz')::integer AS quizzes,
               coalesce(sum(l.duration_minutes) FILTER (WHERE l.content_type = 'video'), 0) * 60 AS video_seconds
        FROM public.course_enrollments e
        JOIN public.course_lessons l ON l.course_id = e.course_id
        WHERE e.id = p_enrollment_id
    ), done AS (
        SELECT count(*) FILTER (WHERE p.status = 'completed')::integer AS completed,
               coalesce(sum(p.watch_time_seconds), 0)::bigint AS watched,
               max(p.updated_at) AS last_at,
               count(*) FILTER (WHERE l.content_type = 'quiz' AND p.quiz_score >= l.passing_score)::integer AS passed,
               round(avg(p.quiz_score) FILTER (WHERE l.content_type = 'quiz'), 2) AS quiz_mean
        FROM public.lesson_progress p
        JOIN public.course_lessons l ON l.id = p.lesson_id
        WHERE p.enrollment_id = p_enrollment_id
    ), part AS (
        SELECT f.* FROM public.course_enrollments e
        CROSS JOIN LATERAL public.participation_figures(e.user_id, e.course_id) f
        WHERE e.id = p_enrollment_id
    )
    SELECT c.lessons, d.completed,
           round(100 * CASE WHEN c.lessons = 0 THEN 0 ELSE d.completed::numeric / c.lessons END, 2)::numeric(5,2),
           d.watched, d.last_at, c.quizzes, d.passed, d.quiz_mean::numeric(5,2),
           public.engagement_score(c.lessons, d.completed, d.watched, c.video_seconds, c.quizzes, d.quiz_mean,
                                   coalesce(p.comments, 0), coalesce(p.questions, 0), coalesce(p.answers, 0),
                                   coalesce(p.submissions, 0))
    FROM course c CROSS JOIN done d LEFT JOIN part p ON true
$$;

-- 002's refresh (maintenance, rebuild, lesson events), now also writing the four counts.
CREATE OR REPLACE FUNCTION public.refresh_progress_figures(p_enrollment_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    f record;
    p record;
    counted boolean;
BEGIN
    PERFORM 1 FROM public.course_enrollments WHERE id = p_enrollment_id FOR NO KEY UPDATE;
    SELECT * INTO f FROM public.progress_figures(p_enrollment_id);
    SELECT x.* INTO p FROM public.course_enrollments e
    CROSS JOIN LATERAL public.participation_figures(e.user_id, e.course_id) x WHERE e.id = p_enrollment_id;
    UPDATE public.student_progress s
    SET comment_count = p.comments, question_count = p.questions, answer_count = p.answers,
        submission_count = p.submissions
    WHERE s.enrollment_id = p_enrollment_id
      AND (s.comment_count, s.question_count, s.answer_count, s.submission_count)
          IS DISTINCT FROM (p.comments, p.questions, p.answers, p.submissions);
    counted := FOUND;
    UPDATE public.student_progress s
    SET total_lessons = f.total_lessons, completed_lessons = f.completed_lessons,
        progress_percentage = f.progress_percentage,
        total_watch_time_seconds = f.total_watch_time_seconds,
        last_activity_at = f.last_activity_at, total_quizzes = f.total_quizzes,
        passed_quizzes = f.passed_quizzes, average_quiz_score = f.average_quiz_score,
        engagement_score = f.engagement_score
    WHERE s.enrollment_id = p_enrollment_id
      AND (s.total_lessons, s.completed_lessons, s.progress_percentage, s.total_watch_time_seconds,
           s.last_activity_at, s.total_quizzes, s.passed_quizzes, s.average_quiz_score, s.engagement_score)
          IS DISTINCT FROM
          (f.total_lessons, f.completed_lessons, f.progress_percentage, f.total_watch_time_seconds,
           f.last_activity_at, f.total_quizzes, f.passed_quizzes, f.average_quiz_score, f.engagement_score);
    RETURN FOUND OR counted;
END
$$;

-- One delta of one of the four counts for the author's enrollment in the course
-- (none for a teacher), and the score from the stored figures. Locks the
-- enrollment first (008's order), then its student_progress row.
CREATE FUNCTION private.count_participation(p_user uuid, p_course uuid, p_kind text, p_delta integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    enrollment uuid;
    video numeric;
BEGIN
    SELECT id INTO enrollment FROM public.course_enrollments
    WHERE user_id = p_user AND course_id = p_course FOR NO KEY UPDATE;
    IF enrollment IS NULL THEN
        RETURN;
    END IF;
    SELECT coalesce(sum(l.duration_minutes) FILTER (WHERE l.content_type = 'video'), 0) * 60 INTO video
    FROM public.course_lessons l WHERE l.course_id = p_course;
    UPDATE public.student_progress s
    SET comment_count = s.comment_count + CASE WHEN p_kind = 'comment' THEN p_delta ELSE 0 END,
        question_count = s.question_count + CASE WHEN p_kind = 'question' THEN p_delta ELSE 0 END,
        answer_count = s.answer_count + CASE WHEN p_kind = 'answer' THEN p_delta ELSE 0 END,
        submission_count = s.submission_count + CASE WHEN p_kind = 'submission' THEN p_delta ELSE 0 END
    WHERE s.enrollment_id = enrollment;
    UPDATE public.student_progress s
    SET engagement_score = public.engagement_score(s.total_lessons, s.completed_lessons,
                                                   s.total_watch_time_seconds, video, s.total_quizzes,
                                                   s.average_quiz_score, s.comment_count, s.question_count,
                                                   s.answer_count, s.submission_count)
    WHERE s.enrollment_id = enrollment;
END
$$;

-- 4. guards and stamps ---------------------------------------------------------------------------
-- Comments: replies are one level deep; an author edits their own within the
-- window (15 minutes, here and in portal/discussions EDIT_MINUTES); only an
-- admin hides or shows. Invoker rights, as 002's guards: api_caller() tells
-- an API role from the definer functions' own writes (the kept counts).
CREATE FUNCTION private.guard_lesson_comment() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.parent_id IS NOT NULL
           AND EXISTS (SELECT 1 FROM public.lesson_comments WHERE id = NEW.parent_id AND parent_id IS NOT NULL) THEN
            RAISE EXCEPTION 'replies are one level deep'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'comment_reply_depth';
        END IF;
        RETURN NEW;
    END IF;
    IF public.api_caller() THEN
        IF NEW.body IS DISTINCT FROM OLD.body THEN
            IF OLD.author_id IS DISTINCT FROM (SELECT auth.uid()) OR OLD.deleted_at IS NOT NULL THEN
                RAISE EXCEPTION 'only its author edits a comment'
                    USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
            END IF;
            IF now() > OLD.created_at + interval '15 minutes' THEN
                RAISE EXCEPTION 'the edit window is over'
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'discussion_edit_window';
            END IF;
        END IF;
        IF NEW.is_visible IS DISTINCT FROM OLD.is_visible AND NOT rls.is_admin() THEN
            RAISE EXCEPTION 'only an administrator moderates'
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
        END IF;
    END IF;
    IF NEW.body IS DISTINCT FROM OLD.body THEN
        NEW.edited_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_lesson_comment BEFORE INSERT OR UPDATE ON public.lesson_comments
    FOR EACH ROW EXECUTE FUNCTION private.guard_lesson_comment();

-- Deleting a thread's first comment that has replies (a DELETE statement of its own, by its author
-- or an admin; pg_trigger_depth() = 1) blanks it instead: "[deleted]", the author no longer shown
-- (deleted_at), the thread kept, so classmates' replies, their points, and replies under report
-- or hidden (with their reports) are never destroyed with it. The cascades (a lesson or an account
-- deleted: depth 2) delete as before.
CREATE FUNCTION private.keep_replied_thread() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF pg_trigger_depth() = 1 AND OLD.parent_id IS NULL
       AND EXISTS (SELECT 1 FROM public.lesson_comments r WHERE r.parent_id = OLD.id) THEN
        UPDATE public.lesson_comments SET body = '[deleted]', deleted_at = coalesce(deleted_at, now())
        WHERE id = OLD.id;
        RETURN NULL;
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER keep_replied_thread BEFORE DELETE ON public.lesson_comments
    FOR EACH ROW EXECUTE FUNCTION private.keep_replied_thread();

-- Questions: the author edits within the window and accepts an answer; only
-- an admin hides or shows.
CREATE FUNCTION private.guard_course_question() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- at most 10 questions an hour per student and course (each tells the course's teachers)
        IF public.api_caller()
           AND (SELECT count(*) FROM (SELECT 1 FROM public.course_questions q
                                      WHERE q.author_id = NEW.author_id AND q.course_id = NEW.course_id
                                        AND q.created_at > now() - interval '1 hour' LIMIT 10) x) >= 10 THEN
            RAISE EXCEPTION 'too many questions in an hour'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'question_rate_limit';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.accepted_answer_id IS DISTINCT FROM OLD.accepted_answer_id AND NEW.accepted_answer_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM public.question_answers a
                       WHERE a.id = NEW.accepted_answer_id AND a.question_id = NEW.id) THEN
        RAISE EXCEPTION 'the accepted answer answers this question'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'accepted_answer_of_question';
    END IF;
    IF public.api_caller() THEN
        IF (NEW.title, NEW.body, NEW.accepted_answer_id) IS DISTINCT FROM (OLD.title, OLD.body, OLD.accepted_answer_id)
           AND OLD.author_id IS DISTINCT FROM (SELECT auth.uid()) THEN
            RAISE EXCEPTION 'only the asker edits a question or accepts an answer'
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'question_asker_only';
        END IF;
        IF (NEW.title, NEW.body) IS DISTINCT FROM (OLD.title, OLD.body)
           AND now() > OLD.created_at + interval '15 minutes' THEN
            RAISE EXCEPTION 'the edit window is over'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'discussion_edit_window';
        END IF;
        IF NEW.is_visible IS DISTINCT FROM OLD.is_visible AND NOT rls.is_admin() THEN
            RAISE EXCEPTION 'only an administrator moderates'
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
        END IF;
    END IF;
    IF (NEW.title, NEW.body) IS DISTINCT FROM (OLD.title, OLD.body) THEN
        NEW.edited_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_course_question BEFORE INSERT OR UPDATE ON public.course_questions
    FOR EACH ROW EXECUTE FUNCTION private.guard_course_question();

CREATE FUNCTION private.guard_question_answer() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF public.api_caller() THEN
        IF NEW.body IS DISTINCT FROM OLD.body THEN
            IF OLD.author_id IS DISTINCT FROM (SELECT auth.uid()) THEN
                RAISE EXCEPTION 'only its author edits an answer'
                    USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
            END IF;
            IF now() > OLD.created_at + interval '15 minutes' THEN
                RAISE EXCEPTION 'the edit window is over'
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'discussion_edit_window';
            END IF;
        END IF;
        IF NEW.is_visible IS DISTINCT FROM OLD.is_visible AND NOT rls.is_admin() THEN
            RAISE EXCEPTION 'only an administrator moderates'
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
        END IF;
    END IF;
    IF NEW.body IS DISTINCT FROM OLD.body THEN
        NEW.edited_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_question_answer BEFORE UPDATE ON public.question_answers
    FOR EACH ROW EXECUTE FUNCTION private.guard_question_answer();

CREATE FUNCTION private.stamp_discussion_report() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NEW.resolved_at IS DISTINCT FROM OLD.resolved_at THEN
        NEW.resolved_by := CASE WHEN NEW.resolved_at IS NULL THEN NULL ELSE (SELECT auth.uid()) END;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER stamp_discussion_report BEFORE UPDATE ON public.discussion_reports
    FOR EACH ROW EXECUTE FUNCTION private.stamp_discussion_report();

-- 5. the figures' triggers (deltas) ----------------------------------------------------------------
CREATE FUNCTION private.track_comment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM private.count_participation(NEW.author_id, NEW.course_id, 'comment', 1);
        IF NEW.parent_id IS NOT NULL THEN
            UPDATE public.lesson_comments SET reply_count = reply_count + 1 WHERE id = NEW.parent_id;
        END IF;
    ELSE
        -- A lesson's deletion takes its comments (the cascade: an RI trigger, whose name sorts before
        -- every other AFTER trigger of course_lessons, so the rows are gone first) and then recounts
        -- every enrollment of the course (002's update_progress_on_lesson_change ->
        -- refresh_progress_figures), before this trigger fires: the recount is the figure, and a
        -- delta on top would count twice (tests/test_discussions_sql.py deletes a lesson).
        IF EXISTS (SELECT 1 FROM public.course_lessons WHERE id = OLD.lesson_id) THEN
            PERFORM private.count_participation(OLD.author_id, OLD.course_id, 'comment', -1);
        END IF;
        IF OLD.parent_id IS NOT NULL THEN   -- none when the parent itself goes (the cascade)
            UPDATE public.lesson_comments SET reply_count = reply_count - 1 WHERE id = OLD.parent_id;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER track_comment AFTER INSERT OR DELETE ON public.lesson_comments
    FOR EACH ROW EXECUTE FUNCTION private.track_comment();

-- A question is unanswered (and counted on its course) while visible with no answer.
CREATE FUNCTION private.track_question() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    was boolean := TG_OP <> 'INSERT' AND OLD.is_visible AND OLD.answer_count = 0;
    now_open boolean := TG_OP <> 'DELETE' AND NEW.is_visible AND NEW.answer_count = 0;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM private.count_participation(NEW.author_id, NEW.course_id, 'question', 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM private.count_participation(OLD.author_id, OLD.course_id, 'question', -1);
    END IF;
    IF was AND NOT now_open THEN
        UPDATE public.courses SET unanswered_question_count = unanswered_question_count - 1
        WHERE id = OLD.course_id AND unanswered_question_count > 0;
    ELSIF now_open AND NOT was THEN
        UPDATE public.courses SET unanswered_question_count = unanswered_question_count + 1
        WHERE id = NEW.course_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER track_question AFTER INSERT OR DELETE OR UPDATE OF is_visible, answer_count
    ON public.course_questions
    FOR EACH ROW EXECUTE FUNCTION private.track_question();

CREATE FUNCTION private.track_answer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM private.count_participation(NEW.author_id, NEW.course_id, 'answer', 1);
        UPDATE public.course_questions SET answer_count = answer_count + 1 WHERE id = NEW.question_id;
    ELSE
        PERFORM private.count_participation(OLD.author_id, OLD.course_id, 'answer', -1);
        UPDATE public.course_questions SET answer_count = answer_count - 1
        WHERE id = OLD.question_id AND answer_count > 0;  -- none when the question goes (the cascade)
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER track_answer AFTER INSERT OR DELETE ON public.question_answers
    FOR EACH ROW EXECUTE FUNCTION private.track_answer();

CREATE FUNCTION private.track_submission() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM private.count_participation(NEW.user_id, NEW.course_id, 'submission', 1);
    ELSIF EXISTS (SELECT 1 FROM public.course_lessons WHERE id = OLD.lesson_id) THEN   -- as for comments
        PERFORM private.count_participation(OLD.user_id, OLD.course_id, 'submission', -1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER track_submission AFTER INSERT OR DELETE ON public.assignment_submissions
    FOR EACH ROW EXECUTE FUNCTION private.track_submission();

-- Open reports on a comment or question (016's shape for reviews).
CREATE FUNCTION private.track_discussion_reports() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    was_open boolean := TG_OP <> 'INSERT' AND OLD.resolved_at IS NULL;
    is_open boolean := TG_OP <> 'DELETE' AND NEW.resolved_at IS NULL;
BEGIN
    IF was_open AND NOT is_open THEN
        IF OLD.comment_id IS NOT NULL THEN
            UPDATE public.lesson_comments c
            SET open_report_count = c.open_report_count - 1,
                first_open_report_at = CASE WHEN c.open_report_count = 1 THEN NULL
                    ELSE (SELECT min(x.created_at) FROM public.discussion_reports x
                          WHERE x.comment_id = OLD.comment_id AND x.resolved_at IS NULL AND x.id <> OLD.id) END
            WHERE c.id = OLD.comment_id;
        ELSIF OLD.answer_id IS NOT NULL THEN
            UPDATE public.question_answers a
            SET open_report_count = a.open_report_count - 1,
                first_open_report_at = CASE WHEN a.open_report_count = 1 THEN NULL
                    ELSE (SELECT min(x.created_at) FROM public.discussion_reports x
                          WHERE x.answer_id = OLD.answer_id AND x.resolved_at IS NULL AND x.id <> OLD.id) END
            WHERE a.id = OLD.answer_id;
        ELSE
            UPDATE public.course_questions q
            SET open_report_count = q.open_report_count - 1,
                first_open_report_at = CASE WHEN q.open_report_count = 1 THEN NULL
                    ELSE (SELECT min(x.created_at) FROM public.discussion_reports x
                          WHERE x.question_id = OLD.question_id AND x.resolved_at IS NULL AND x.id <> OLD.id) END
            WHERE q.id = OLD.question_id;
        END IF;
    ELSIF is_open AND NOT was_open THEN
        IF NEW.comment_id IS NOT NULL THEN
            UPDATE public.lesson_comments
            SET open_report_count = open_report_count + 1,
                first_open_report_at = LEAST(first_open_report_at, NEW.created_at)
            WHERE id = NEW.comment_id;
        ELSIF NEW.answer_id IS NOT NULL THEN
            UPDATE public.question_answers
            SET open_report_count = open_report_count + 1,
                first_open_report_at = LEAST(first_open_report_at, NEW.created_at)
            WHERE id = NEW.answer_id;
        ELSE
            UPDATE public.course_questions
            SET open_report_count = open_report_count + 1,
                first_open_report_at = LEAST(first_open_report_at, NEW.created_at)
            WHERE id = NEW.question_id;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER track_discussion_reports AFTER INSERT OR DELETE OR UPDATE OF resolved_at
    ON public.discussion_reports
    FOR EACH ROW EXECUTE FUNCTION private.track_discussion_reports();

-- 6. notifications (positions 600-649) --------------------------------------------------------------
INSERT INTO public.notification_events (event_type, audience, label, email_default, in_portal_default, position)
VALUES ('new_question', 'instructor', 'A student asks a question in your course', true, true, 600),
       ('new_submission', 'instructor', 'A student hands in an assignment in your course', true, true, 610),
       ('question_answered', 'student', 'Someone answers your question', true, true, 620),
       ('assignment_graded', 'student', 'Your assignment is graded', true, true, 630);

-- The teachers told are the ones who act on the course's students: its owner and every
-- co-instructor with manage_students (the issue's "the teacher"), never the author; one notice
-- per key and teacher, and with p_refresh a notice already there is made new again (unread, dated
-- now) instead of adding another (a hand-in again). The payloads name no person: delete_account
-- (011/014) scrubs the names it knows of from others' notices, and these would otherwise keep a
-- deleted student's name.
CREATE FUNCTION private.notify_student_managers(p_course uuid, p_author uuid, p_event text, p_payload jsonb,
                                                p_dedup text, p_refresh boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    t uuid;
BEGIN
    FOR t IN SELECT c.instructor_id FROM public.courses c WHERE c.id = p_course
             UNION SELECT ci.instructor_id FROM public.course_instructors ci
                   WHERE ci.course_id = p_course
                     AND coalesce((ci.permissions ->> 'manage_students')::boolean, false)
             ORDER BY 1
    LOOP
        CONTINUE WHEN t IS NOT DISTINCT FROM p_author;
        IF private.notify(t, p_event, p_payload, p_dedup) IS NULL AND p_refresh THEN
            UPDATE public.notifications SET payload = p_payload, read_at = NULL, created_at = now()
            WHERE user_id = t AND event_type = p_event AND dedup_key = p_dedup;
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION private.notify_question() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    c record;
BEGIN
    SELECT id, title, slug INTO c FROM public.courses WHERE id = NEW.course_id;
    PERFORM private.notify_student_managers(c.id, NEW.author_id, 'new_question', jsonb_build_object(
        'question_id', NEW.id, 'course_id', c.id, 'course_title', c.title, 'course_slug', c.slug,
        'title', NEW.title),
        format('question:%s', NEW.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER notify_question AFTER INSERT ON public.course_questions
    FOR EACH ROW EXECUTE FUNCTION private.notify_question();

CREATE FUNCTION private.notify_answer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    q record;
BEGIN
    SELECT qq.id, qq.author_id, qq.title, c.title AS course_title, c.slug AS course_slug
    INTO q FROM public.course_questions qq JOIN public.courses c ON c.id = qq.course_id
    WHERE qq.id = NEW.question_id;
    IF q.author_id IS DISTINCT FROM NEW.author_id THEN
        PERFORM private.notify(q.author_id, 'question_answered', jsonb_build_object(
            'question_id', q.id, 'answer_id', NEW.id, 'title', q.title, 'course_title', q.course_title,
            'course_slug', q.course_slug,
            'by_teacher', NEW.author_id = ANY (ARRAY(SELECT c.instructor_id FROM public.courses c
                                                     WHERE c.id = NEW.course_id
                                                     UNION SELECT ci.instructor_id FROM public.course_instructors ci
                                                     WHERE ci.course_id = NEW.course_id))),
            format('answer:%s', NEW.id));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER notify_answer AFTER INSERT ON public.question_answers
    FOR EACH ROW EXECUTE FUNCTION private.notify_answer();

-- 6b. the audit trail of moderation (016's pattern) ----------------------------------------------
-- A comment, question or answer hidden or shown again, or deleted (by its author or an admin; not
-- with its lesson, question or course, whose own deletion says it); a report on one dismissed
-- (resolved while the post stays visible), resolved by hiding the post, re-dated, reopened or
-- deleted (not with its post). Posts carry their course's scope; reports none (who reported and
-- why stays with moderation: admins alone read those rows), as 016's review reports.
CREATE FUNCTION private.audit_discussion_post() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    kind constant text := CASE TG_TABLE_NAME WHEN 'lesson_comments' THEN 'comment'
                                             WHEN 'course_questions' THEN 'question' ELSE 'answer' END;
    entity constant text := CASE TG_TABLE_NAME WHEN 'lesson_comments' THEN 'lesson_comment'
                                               WHEN 'course_questions' THEN 'course_question' ELSE 'question_answer' END;
    c record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT organization_id, instructor_id INTO c FROM public.courses WHERE id = OLD.course_id;
        IF NOT FOUND
           OR (kind = 'comment' AND NOT EXISTS (SELECT 1 FROM public.course_lessons l
                                                WHERE l.id = (to_jsonb(OLD) ->> 'lesson_id')::uuid))
           OR (kind = 'answer' AND NOT EXISTS (SELECT 1 FROM public.course_questions q
                                               WHERE q.id = (to_jsonb(OLD) ->> 'question_id')::uuid)) THEN
            RETURN NULL;
        END IF;
        PERFORM private.audit(kind || '.deleted', entity, OLD.id,
            jsonb_build_object('is_visible', OLD.is_visible, 'author_id', OLD.author_id),
            NULL, c.organization_id, OLD.course_id, NULL, c.instructor_id);
        RETURN NULL;
    END IF;
    SELECT organization_id, instructor_id INTO c FROM public.courses WHERE id = NEW.course_id;
    PERFORM private.audit(CASE WHEN NEW.is_visible THEN kind || '.restored' ELSE kind || '.hidden' END,
        entity, NEW.id, jsonb_build_object('is_visible', OLD.is_visible),
        jsonb_build_object('is_visible', NEW.is_visible), c.organization_id, NEW.course_id, NULL, c.instructor_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_lesson_comment AFTER UPDATE OF is_visible ON public.lesson_comments
    FOR EACH ROW WHEN (OLD.is_visible IS DISTINCT FROM NEW.is_visible)
    EXECUTE FUNCTION private.audit_discussion_post();
CREATE TRIGGER audit_lesson_comment_deleted AFTER DELETE ON public.lesson_comments
    FOR EACH ROW EXECUTE FUNCTION private.audit_discussion_post();
CREATE TRIGGER audit_course_question AFTER UPDATE OF is_visible ON public.course_questions
    FOR EACH ROW WHEN (OLD.is_visible IS DISTINCT FROM NEW.is_visible)
    EXECUTE FUNCTION private.audit_discussion_post();
CREATE TRIGGER audit_course_question_deleted AFTER DELETE ON public.course_questions
    FOR EACH ROW EXECUTE FUNCTION private.audit_discussion_post();
CREATE TRIGGER audit_question_answer AFTER UPDATE OF is_visible ON public.question_answers
    FOR EACH ROW WHEN (OLD.is_visible IS DISTINCT FROM NEW.is_visible)
    EXECUTE FUNCTION private.audit_discussion_post();
CREATE TRIGGER audit_question_answer_deleted AFTER DELETE ON public.question_answers
    FOR EACH ROW EXECUTE FUNCTION private.audit_discussion_post();

CREATE FUNCTION private.audit_discussion_report() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    r public.discussion_reports;
    visible boolean;
BEGIN
    r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    SELECT x.is_visible INTO visible FROM (
        SELECT c.is_visible FROM public.lesson_comments c WHERE c.id = r.comment_id
        UNION ALL SELECT q.is_visible FROM public.course_questions q WHERE q.id = r.question_id
        UNION ALL SELECT a.is_visible FROM public.question_answers a WHERE a.id = r.answer_id) x;
    IF TG_OP = 'DELETE' THEN
        IF FOUND THEN   -- not with its post (the post's deletion says it)
            PERFORM private.audit('discussion_report.deleted', 'discussion_report', OLD.id,
                jsonb_build_object('comment_id', OLD.comment_id, 'question_id', OLD.question_id,
                                   'answer_id', OLD.answer_id, 'reason', OLD.reason, 'resolved_at', OLD.resolved_at),
                NULL, NULL, NULL, NULL, NULL);
        END IF;
        RETURN NULL;
    END IF;
    PERFORM private.audit(
        CASE WHEN NEW.resolved_at IS NULL THEN 'discussion_report.reopened'
             WHEN OLD.resolved_at IS NOT NULL THEN 'discussion_report.redated'
             WHEN visible THEN 'discussion_report.dismissed'
             ELSE 'discussion_report.resolved' END,
        'discussion_report', NEW.id,
        jsonb_build_object('resolved_at', OLD.resolved_at, 'resolved_by', OLD.resolved_by),
        jsonb_build_object('resolved_at', NEW.resolved_at, 'resolved_by', NEW.resolved_by,
                           'comment_id', NEW.comment_id, 'question_id', NEW.question_id,
                           'answer_id', NEW.answer_id, 'reason', NEW.reason),
        NULL, NULL, NULL, NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_discussion_report AFTER UPDATE OF resolved_at ON public.discussion_reports
    FOR EACH ROW WHEN (OLD.resolved_at IS DISTINCT FROM NEW.resolved_at)
    EXECUTE FUNCTION private.audit_discussion_report();
CREATE TRIGGER audit_discussion_report_deleted AFTER DELETE ON public.discussion_reports
    FOR EACH ROW EXECUTE FUNCTION private.audit_discussion_report();

-- 7. reading policies ------------------------------------------------------------------------------
ALTER TABLE public.lesson_comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.lesson_comments FORCE ROW LEVEL SECURITY;
ALTER TABLE public.course_questions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.course_questions FORCE ROW LEVEL SECURITY;
ALTER TABLE public.question_answers ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.question_answers FORCE ROW LEVEL SECURITY;
ALTER TABLE public.assignment_submissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.assignment_submissions FORCE ROW LEVEL SECURITY;
ALTER TABLE public.discussion_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.discussion_reports FORCE ROW LEVEL SECURITY;

-- The questions on the caller's locked lessons (rls.locked_lesson_ids()), whose answers they do
-- not read either; once per statement, empty unless the caller studies a drip course.
CREATE FUNCTION rls.locked_question_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(array_agg(q.id), '{}') FROM public.course_questions q
    WHERE q.lesson_id = ANY ((SELECT rls.locked_lesson_ids())::uuid[])
$$;

-- Comments: participants of a course that allows them read the visible ones
-- and their own, on lessons released to them; admins read all.
CREATE POLICY lesson_comments_read ON public.lesson_comments FOR SELECT TO authenticated
    USING ((course_id = ANY ((SELECT rls.comment_course_ids())::uuid[])
            AND (is_visible OR author_id = (SELECT rls.uid()))
            AND lesson_id <> ALL ((SELECT rls.locked_lesson_ids())::uuid[]))
           OR (SELECT rls.is_admin()));
CREATE POLICY lesson_comments_create ON public.lesson_comments FOR INSERT TO authenticated
    WITH CHECK (author_id = (SELECT rls.uid())
                AND course_id = ANY ((SELECT rls.comment_course_ids())::uuid[])
                AND (course_id = ANY ((SELECT rls.taught_course_ids())::uuid[])
                     OR rls.lesson_released(lesson_id)));
CREATE POLICY lesson_comments_update ON public.lesson_comments FOR UPDATE TO authenticated
    USING ((author_id = (SELECT rls.uid()) AND course_id = ANY ((SELECT rls.comment_course_ids())::uuid[]))
           OR (SELECT rls.is_admin()))
    WITH CHECK ((author_id = (SELECT rls.uid()) AND course_id = ANY ((SELECT rls.comment_course_ids())::uuid[]))
                OR (SELECT rls.is_admin()));
-- The author deletes their own unless it is hidden or under report (016's rule for reviews).
CREATE POLICY lesson_comments_delete ON public.lesson_comments FOR DELETE TO authenticated
    USING ((author_id = (SELECT rls.uid()) AND is_visible AND open_report_count = 0
            AND course_id = ANY ((SELECT rls.comment_course_ids())::uuid[]))
           OR (SELECT rls.is_admin()));

CREATE POLICY course_questions_read ON public.course_questions FOR SELECT TO authenticated
    USING ((course_id = ANY ((SELECT rls.qa_course_ids())::uuid[])
            AND (is_visible OR author_id = (SELECT rls.uid()))
            AND (lesson_id IS NULL OR lesson_id <> ALL ((SELECT rls.locked_lesson_ids())::uuid[])))
           OR (SELECT rls.is_admin()));
-- Students ask (teachers answer).
CREATE POLICY course_questions_create ON public.course_questions FOR INSERT TO authenticated
    WITH CHECK (author_id = (SELECT rls.uid())
                AND course_id = ANY ((SELECT rls.qa_course_ids())::uuid[])
                AND course_id = ANY ((SELECT rls.enrolled_course_ids())::uuid[])
                AND (lesson_id IS NULL OR rls.lesson_released(lesson_id)));
CREATE POLICY course_questions_update ON public.course_questions FOR UPDATE TO authenticated
    USING ((author_id = (SELECT rls.uid()) AND course_id = ANY ((SELECT rls.qa_course_ids())::uuid[]))
           OR (SELECT rls.is_admin()))
    WITH CHECK ((author_id = (SELECT rls.uid()) AND course_id = ANY ((SELECT rls.qa_course_ids())::uuid[]))
                OR (SELECT rls.is_admin()));
CREATE POLICY course_questions_delete ON public.course_questions FOR DELETE TO authenticated
    USING ((author_id = (SELECT rls.uid()) AND is_visible AND open_report_count = 0 AND answer_count = 0
            AND course_id = ANY ((SELECT rls.qa_course_ids())::uuid[]))
           OR (SELECT rls.is_admin()));

CREATE POLICY question_answers_read ON public.question_answers FOR SELECT TO authenticated
    USING ((course_id = ANY ((SELECT rls.qa_course_ids())::uuid[])
            AND (is_visible OR author_id = (SELECT rls.uid()))
            AND question_id <> ALL ((SELECT rls.locked_question_ids())::uuid[]))
           OR (SELECT rls.is_admin()));
CREATE POLICY question_answers_create ON public.question_answers FOR INSERT TO authenticated
    WITH CHECK (author_id = (SELECT rls.uid())
                AND course_id = ANY ((SELECT rls.qa_course_ids())::uuid[])
                AND EXISTS (SELECT 1 FROM public.course_questions q
                            WHERE q.id = question_answers.question_id AND q.is_visible));
CREATE POLICY question_answers_update ON public.question_answers FOR UPDATE TO authenticated
    USING ((author_id = (SELECT rls.uid()) AND course_id = ANY ((SELECT rls.qa_course_ids())::uuid[]))
           OR (SELECT rls.is_admin()))
    WITH CHECK ((author_id = (SELECT rls.uid()) AND course_id = ANY ((SELECT rls.qa_course_ids())::uuid[]))
                OR (SELECT rls.is_admin()));
-- The author deletes their own unless it is hidden or under report (as comments and questions).
CREATE POLICY question_answers_delete ON public.question_answers FOR DELETE TO authenticated
    USING ((author_id = (SELECT rls.uid()) AND is_visible AND open_report_count = 0
            AND course_id = ANY ((SELECT rls.qa_course_ids())::uuid[]))
           OR (SELECT rls.is_admin()));

-- Submissions: the student their own, the course's teachers who read its
-- students (view_content or manage_students, as lesson_progress), admins.
-- Written only through submit_assignment() and grade_assignment().
CREATE POLICY assignment_submissions_read ON public.assignment_submissions FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_content,manage_students}'))::uuid[])
           OR (SELECT rls.is_admin()));

-- Reports: the reporter their own; admins all (and resolve them).
CREATE POLICY discussion_reports_read ON public.discussion_reports FOR SELECT TO authenticated
    USING (reporter_id = (SELECT rls.uid()) OR (SELECT rls.is_admin()));
-- A participant reports what they can read and did not write (the read
-- policies of the subject decide, evaluated as the caller).
CREATE POLICY discussion_reports_create ON public.discussion_reports FOR INSERT TO authenticated
    WITH CHECK (reporter_id = (SELECT rls.uid())
                AND (EXISTS (SELECT 1 FROM public.lesson_comments c
                             WHERE c.id = discussion_reports.comment_id AND c.author_id <> (SELECT rls.uid()))
                     OR EXISTS (SELECT 1 FROM public.course_questions q
                                WHERE q.id = discussion_reports.question_id AND q.author_id <> (SELECT rls.uid()))
                     OR EXISTS (SELECT 1 FROM public.question_answers a
                                WHERE a.id = discussion_reports.answer_id AND a.author_id <> (SELECT rls.uid()))));
CREATE POLICY discussion_reports_update ON public.discussion_reports FOR UPDATE TO authenticated
    USING ((SELECT rls.is_admin())) WITH CHECK ((SELECT rls.is_admin()));
CREATE POLICY discussion_reports_delete ON public.discussion_reports FOR DELETE TO authenticated
    USING ((SELECT rls.is_admin()));

-- 8. the writers of submissions and grades ---------------------------------------------------------

-- 009's complete_lesson, its body unchanged but for one refusal: an assignment lesson is completed
-- by a passing grade (grade_assignment), never by the student marking it (issue 19).
CREATE OR REPLACE FUNCTION public.complete_lesson(p_lesson_id uuid)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    en record;
BEGIN
    SELECT * INTO en FROM public.enrollment_for_lesson(p_lesson_id);
    IF en.content_type = 'quiz' THEN
        RAISE EXCEPTION 'a quiz is completed by passing it' USING ERRCODE = 'check_violation', CONSTRAINT = 'quiz_completed_by_passing';
    END IF;
    IF en.content_type = 'assignment' THEN
        RAISE EXCEPTION 'an assignment is completed by a passing grade'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'assignment_completed_by_grade';
    END IF;
    INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status)
    VALUES (en.enrollment_id, p_lesson_id, en.user_id, en.course_id, 'completed')
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE SET status = 'completed'
    WHERE lesson_progress.status <> 'completed';
END
$$;

-- The student hands in (or again, until graded) their work for an assignment
-- lesson released to them. Returns the submission's id.
CREATE FUNCTION public.submit_assignment(p_lesson_id uuid, p_body text, p_link_url text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    en record;
    sub record;
    new_id uuid;
    c record;
BEGIN
    IF (SELECT rls.uid()) IS NULL THEN
        RAISE EXCEPTION 'sign in first' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    -- the lesson first (what its deletion locks first, before it recounts every enrollment), then
    -- the enrollment (008's order for the figures): the inserts' key checks then wait on nothing
    PERFORM 1 FROM public.course_lessons WHERE id = p_lesson_id FOR KEY SHARE;
    SELECT e.id AS enrollment_id, e.user_id, e.course_id, l.content_type INTO en
    FROM public.course_lessons l
    JOIN public.course_enrollments e ON e.course_id = l.course_id
    WHERE l.id = p_lesson_id AND e.user_id = (SELECT rls.uid())
      AND e.status IN ('enrolled', 'in_progress', 'completed')
      AND public.lesson_released_for(e.id, l.id)
    FOR NO KEY UPDATE OF e;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such lesson' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'lesson_not_found';
    END IF;
    IF en.content_type <> 'assignment' THEN
        RAISE EXCEPTION 'not an assignment' USING ERRCODE = 'check_violation', CONSTRAINT = 'not_an_assignment';
    END IF;
    SELECT id, status INTO sub FROM public.assignment_submissions
    WHERE enrollment_id = en.enrollment_id AND lesson_id = p_lesson_id FOR UPDATE;
    IF sub.status = 'graded' THEN
        RAISE EXCEPTION 'already graded' USING ERRCODE = 'check_violation', CONSTRAINT = 'assignment_already_graded';
    END IF;
    IF sub.id IS NULL THEN
        INSERT INTO public.assignment_submissions (enrollment_id, user_id, course_id, lesson_id, body, link_url)
        VALUES (en.enrollment_id, en.user_id, en.course_id, p_lesson_id, coalesce(p_body, ''),
                nullif(btrim(p_link_url), ''))
        RETURNING id INTO new_id;
    ELSE
        UPDATE public.assignment_submissions
        SET body = coalesce(p_body, ''), link_url = nullif(btrim(p_link_url), ''), submitted_at = now()
        WHERE id = sub.id RETURNING id INTO new_id;
    END IF;
    -- the lesson is started (as opening it does), the act logged, the teacher told
    INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status)
    VALUES (en.enrollment_id, p_lesson_id, en.user_id, en.course_id, 'in_progress')
    ON CONFLICT (enrollment_id, lesson_id) DO NOTHING;
    PERFORM public.log_activity('assignment_submitted', en.user_id, en.course_id, NULL, p_lesson_id,
                                jsonb_build_object('submission_id', new_id, 'resubmitted', sub.id IS NOT NULL));
    SELECT co.id, co.title, co.slug, co.instructor_id, l.title AS lesson_title INTO c
    FROM public.courses co JOIN public.course_lessons l ON l.course_id = co.id
    WHERE co.id = en.course_id AND l.id = p_lesson_id;
    -- one notice per submission and teacher: a hand-in again refreshes it (unread, dated now)
    PERFORM private.notify_student_managers(c.id, en.user_id, 'new_submission', jsonb_build_object(
        'submission_id', new_id, 'course_id', c.id, 'course_title', c.title, 'course_slug', c.slug,
        'lesson_title', c.lesson_title, 'resubmitted', sub.id IS NOT NULL),
        format('submission:%s', new_id), true);
    RETURN new_id;
END
$$;

-- A teacher with manage_students grades (or regrades) a submission. A score at
-- or above the lesson's passing score (any score when it has none) completes
-- the lesson for the student; a lower regrade does not take a completion back
-- (completion is a fact at a date, as in 002).
CREATE FUNCTION public.grade_assignment(p_submission_id uuid, p_score numeric, p_feedback text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    sub record;
    lesson record;
    en record;
    given numeric(5,2);
    mark integer;
    passed boolean;
    c record;
BEGIN
    IF (SELECT rls.uid()) IS NULL THEN
        RAISE EXCEPTION 'sign in first' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    SELECT s.id, s.enrollment_id, s.user_id, s.course_id, s.lesson_id INTO sub
    FROM public.assignment_submissions s WHERE s.id = p_submission_id;
    IF NOT FOUND OR NOT sub.course_id = ANY (rls.course_ids('{manage_students}')) THEN
        RAISE EXCEPTION 'no such submission' USING ERRCODE = 'insufficient_privilege',
            CONSTRAINT = 'submission_not_found';
    END IF;
    IF sub.user_id = (SELECT rls.uid()) THEN
        RAISE EXCEPTION 'nobody grades their own work' USING ERRCODE = 'insufficient_privilege',
            CONSTRAINT = 'grade_own_submission';
    END IF;
    -- the lesson first (as its deletion locks it, then every enrollment), then the enrollment
    -- (008's order), then the submission; each read again under its lock
    SELECT content_type, passing_score INTO lesson FROM public.course_lessons WHERE id = sub.lesson_id
    FOR KEY SHARE;
    SELECT status INTO en FROM public.course_enrollments WHERE id = sub.enrollment_id FOR NO KEY UPDATE;
    PERFORM 1 FROM public.assignment_submissions WHERE id = sub.id FOR UPDATE;
    IF NOT FOUND THEN   -- the lesson (and so the work) went while we waited
        RAISE EXCEPTION 'no such submission' USING ERRCODE = 'insufficient_privilege',
            CONSTRAINT = 'submission_not_found';
    END IF;
    IF lesson.content_type IS DISTINCT FROM 'assignment' THEN
        RAISE EXCEPTION 'not an assignment' USING ERRCODE = 'check_violation', CONSTRAINT = 'not_an_assignment';
    END IF;
    IF en.status NOT IN ('enrolled', 'in_progress', 'completed') THEN
        RAISE EXCEPTION 'not an active student of the course' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'grade_not_active_student';
    END IF;
    IF p_score IS NULL OR p_score < 0 OR p_score > 100 THEN
        RAISE EXCEPTION 'a score from 0 to 100' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'assignment_submission_score';
    END IF;
    -- judged as stored (numeric(5,2)): 69.999 is 70.00, and passes a mark of 70
    given := round(p_score, 2);
    mark := lesson.passing_score;
    passed := given >= coalesce(mark, 0);
    UPDATE public.assignment_submissions
    SET status = 'graded', score = given, passing_score = mark, feedback = nullif(btrim(p_feedback), ''),
        graded_by = (SELECT rls.uid()), graded_at = now()
    WHERE id = sub.id;
    PERFORM public.log_activity('assignment_graded', sub.user_id, sub.course_id, NULL, sub.lesson_id,
                                jsonb_build_object('submission_id', sub.id, 'score', given,
                                                   'passing_score', mark, 'passed', passed));
    IF passed THEN
        INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status)
        VALUES (sub.enrollment_id, sub.lesson_id, sub.user_id, sub.course_id, 'completed')
        ON CONFLICT (enrollment_id, lesson_id) DO UPDATE SET status = 'completed'
        WHERE lesson_progress.status <> 'completed';
    END IF;
    SELECT co.title, co.slug, l.title AS lesson_title INTO c
    FROM public.courses co JOIN public.course_lessons l ON l.course_id = co.id
    WHERE co.id = sub.course_id AND l.id = sub.lesson_id;
    PERFORM private.notify(sub.user_id, 'assignment_graded', jsonb_build_object(
        'submission_id', sub.id, 'course_title', c.title, 'course_slug', c.slug, 'lesson_id', sub.lesson_id,
        'lesson_title', c.lesson_title, 'score', given, 'passing_score', mark, 'passed', passed),
        format('graded:%s:%s', sub.id, extract(epoch FROM now())));
    RETURN passed;
END
$$;

-- 9. what the pages read ---------------------------------------------------------------------------
-- Unanswered questions in the caller's courses (the dashboard's count): the
-- kept counts of a handful of course rows.
CREATE FUNCTION public.unanswered_questions_count() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(sum(c.unanswered_question_count), 0)::integer FROM public.courses c
    WHERE c.id = ANY ((SELECT rls.qa_course_ids())::uuid[])
      AND c.id = ANY ((SELECT rls.taught_course_ids())::uuid[])
$$;

-- Who wrote what a caller reads in one course's discussion: users rows are
-- private to their owner, so names come from here, for authors of comments,
-- questions or answers in that course only, and only to a caller who takes
-- part in it (or an admin). Teachers by their full name (as course_teachers
-- shows them), students as review_authors shows reviewers ("Sam K.").
-- Pairs (p_course_ids[i], p_ids[i]): a page that spans courses (the inbox) asks once, and the
-- caller's sets are computed once for the statement, not once per course.
CREATE FUNCTION public.discussion_author_names_in(p_course_ids uuid[], p_ids uuid[])
RETURNS TABLE (course_id uuid, user_id uuid, display_name text, is_teacher boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH allowed AS (
        SELECT rls.is_admin() AS admin, rls.comment_course_ids() AS comment_courses,
               rls.qa_course_ids() AS qa_courses,
               CASE WHEN rls.is_admin() THEN '{}'::uuid[] ELSE rls.locked_lesson_ids() END AS locked,
               CASE WHEN rls.is_admin() THEN '{}'::uuid[] ELSE rls.locked_question_ids() END AS locked_questions
    ), pairs AS (
        SELECT DISTINCT x.course_id, x.user_id
        FROM unnest(p_course_ids[1:200], p_ids[1:200]) AS x(course_id, user_id)
        WHERE x.course_id IS NOT NULL AND x.user_id IS NOT NULL
    )
    SELECT p.course_id, u.id,
           CASE WHEN t.teaches THEN n.name
                ELSE split_part(n.name, ' ', 1)
                     || CASE WHEN n.name LIKE '% %' THEN ' ' || upper(left(regexp_replace(n.name, '^.* ', ''), 1)) || '.'
                             ELSE '' END END,
           t.teaches
    FROM allowed, pairs p
    JOIN public.users u ON u.id = p.user_id
    CROSS JOIN LATERAL (SELECT btrim(regexp_replace(u.full_name, '\s+', ' ', 'g')) AS name) n
    CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM public.courses c WHERE c.id = p.course_id AND c.instructor_id = u.id)
                               OR EXISTS (SELECT 1 FROM public.course_instructors ci
                                          WHERE ci.course_id = p.course_id AND ci.instructor_id = u.id) AS teaches) t
    WHERE ((allowed.admin OR p.course_id = ANY (allowed.comment_courses))
           AND EXISTS (SELECT 1 FROM public.lesson_comments x WHERE x.author_id = u.id AND x.course_id = p.course_id
                       AND x.lesson_id <> ALL (allowed.locked)))
       OR ((allowed.admin OR p.course_id = ANY (allowed.qa_courses))
           AND (EXISTS (SELECT 1 FROM public.course_questions x WHERE x.author_id = u.id
                        AND x.course_id = p.course_id
                        AND (x.lesson_id IS NULL OR x.lesson_id <> ALL (allowed.locked)))
                OR EXISTS (SELECT 1 FROM public.question_answers x WHERE x.author_id = u.id
                           AND x.course_id = p.course_id AND x.question_id <> ALL (allowed.locked_questions))))
$$;

-- One course's authors (the lesson and question pages).
CREATE FUNCTION public.discussion_author_names(p_course_id uuid, p_ids uuid[])
RETURNS TABLE (user_id uuid, display_name text, is_teacher boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT n.user_id, n.display_name, n.is_teacher
    FROM public.discussion_author_names_in(array_fill(p_course_id, ARRAY[coalesce(cardinality(p_ids), 0)]), p_ids) n
$$;

-- Checker of this migration's kept counts, in verify_denormalized_figures' shape.
CREATE FUNCTION private.verify_discussion_figures()
RETURNS TABLE (table_name text, row_id uuid, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT 'student_progress', s.enrollment_id,
           jsonb_build_object('comment_count', s.comment_count, 'question_count', s.question_count,
                              'answer_count', s.answer_count, 'submission_count', s.submission_count),
           jsonb_build_object('comment_count', f.comments, 'question_count', f.questions,
                              'answer_count', f.answers, 'submission_count', f.submissions)
    FROM (SELECT enrollment_id FROM public.student_progress
          WHERE comment_count + question_count + answer_count + submission_count > 0
          UNION SELECT e.id FROM public.lesson_comments x JOIN public.course_enrollments e
                ON e.user_id = x.author_id AND e.course_id = x.course_id
          UNION SELECT e.id FROM public.course_questions x JOIN public.course_enrollments e
                ON e.user_id = x.author_id AND e.course_id = x.course_id
          UNION SELECT e.id FROM public.question_answers x JOIN public.course_enrollments e
                ON e.user_id = x.author_id AND e.course_id = x.course_id
          UNION SELECT enrollment_id FROM public.assignment_submissions) ids
    JOIN public.student_progress s ON s.enrollment_id = ids.enrollment_id
    CROSS JOIN LATERAL public.participation_figures(s.user_id, s.course_id) f
    WHERE (s.comment_count, s.question_count, s.answer_count, s.submission_count)
          IS DISTINCT FROM (f.comments, f.questions, f.answers, f.submissions)
    UNION ALL
    SELECT 'course_questions', q.id, jsonb_build_object('answer_count', q.answer_count),
           jsonb_build_object('answer_count', (SELECT count(*) FROM public.question_answers a WHERE a.question_id = q.id))
    FROM public.course_questions q
    WHERE q.answer_count <> (SELECT count(*) FROM public.question_answers a WHERE a.question_id = q.id)
    UNION ALL
    SELECT 'lesson_comments', c.id, jsonb_build_object('reply_count', c.reply_count),
           jsonb_build_object('reply_count', (SELECT count(*) FROM public.lesson_comments r WHERE r.parent_id = c.id))
    FROM public.lesson_comments c
    WHERE c.parent_id IS NULL
      AND c.reply_count <> (SELECT count(*) FROM public.lesson_comments r WHERE r.parent_id = c.id)
    UNION ALL
    SELECT 'courses', c.id, jsonb_build_object('unanswered_question_count', c.unanswered_question_count),
           jsonb_build_object('unanswered_question_count', coalesce(q.n, 0))
    FROM public.courses c
    LEFT JOIN (SELECT course_id, count(*)::integer AS n FROM public.course_questions
               WHERE is_visible AND answer_count = 0 GROUP BY course_id) q ON q.course_id = c.id
    WHERE c.unanswered_question_count <> coalesce(q.n, 0)
$$;

-- Rewrites this migration's per-post figures of one instructor's courses (or all): each question's
-- answers, each thread's replies, each reported post's open reports, each course's unanswered
-- questions (student_progress's four counts are refresh_progress_figures', which
-- rebuild_denormalized_figures runs). Returns how many rows it corrected.
CREATE FUNCTION private.rebuild_discussion_figures(p_instructor_id uuid DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    mine uuid[] := ARRAY(SELECT id FROM public.courses
                         WHERE p_instructor_id IS NULL OR instructor_id = p_instructor_id ORDER BY id);
    fixed integer := 0;
    n integer;
BEGIN
    UPDATE public.course_questions q SET answer_count = x.n
    FROM (SELECT q2.id, (SELECT count(*)::integer FROM public.question_answers a WHERE a.question_id = q2.id) AS n
          FROM public.course_questions q2 WHERE q2.course_id = ANY (mine)) x
    WHERE q.id = x.id AND q.answer_count <> x.n;
    GET DIAGNOSTICS n = ROW_COUNT; fixed := fixed + n;
    UPDATE public.lesson_comments c SET reply_count = x.n
    FROM (SELECT c2.id, (SELECT count(*)::integer FROM public.lesson_comments r WHERE r.parent_id = c2.id) AS n
          FROM public.lesson_comments c2 WHERE c2.course_id = ANY (mine) AND c2.parent_id IS NULL) x
    WHERE c.id = x.id AND c.reply_count <> x.n;
    GET DIAGNOSTICS n = ROW_COUNT; fixed := fixed + n;
    UPDATE public.lesson_comments c SET open_report_count = coalesce(x.n, 0), first_open_report_at = x.first
    FROM (SELECT c2.id, r.n, r.first FROM public.lesson_comments c2
          LEFT JOIN (SELECT comment_id, count(*)::integer AS n, min(created_at) AS first
                     FROM public.discussion_reports WHERE resolved_at IS NULL AND comment_id IS NOT NULL
                     GROUP BY comment_id) r ON r.comment_id = c2.id
          WHERE c2.course_id = ANY (mine)) x
    WHERE c.id = x.id AND (c.open_report_count, c.first_open_report_at) IS DISTINCT FROM (coalesce(x.n, 0), x.first);
    GET DIAGNOSTICS n = ROW_COUNT; fixed := fixed + n;
    UPDATE public.course_questions q SET open_report_count = coalesce(x.n, 0), first_open_report_at = x.first
    FROM (SELECT q2.id, r.n, r.first FROM public.course_questions q2
          LEFT JOIN (SELECT question_id, count(*)::integer AS n, min(created_at) AS first
                     FROM public.discussion_reports WHERE resolved_at IS NULL AND question_id IS NOT NULL
                     GROUP BY question_id) r ON r.question_id = q2.id
          WHERE q2.course_id = ANY (mine)) x
    WHERE q.id = x.id AND (q.open_report_count, q.first_open_report_at) IS DISTINCT FROM (coalesce(x.n, 0), x.first);
    GET DIAGNOSTICS n = ROW_COUNT; fixed := fixed + n;
    UPDATE public.question_answers a SET open_report_count = coalesce(x.n, 0), first_open_report_at = x.first
    FROM (SELECT a2.id, r.n, r.first FROM public.question_answers a2
          LEFT JOIN (SELECT answer_id, count(*)::integer AS n, min(created_at) AS first
                     FROM public.discussion_reports WHERE resolved_at IS NULL AND answer_id IS NOT NULL
                     GROUP BY answer_id) r ON r.answer_id = a2.id
          WHERE a2.course_id = ANY (mine)) x
    WHERE a.id = x.id AND (a.open_report_count, a.first_open_report_at) IS DISTINCT FROM (coalesce(x.n, 0), x.first);
    GET DIAGNOSTICS n = ROW_COUNT; fixed := fixed + n;
    UPDATE public.courses c SET unanswered_question_count = x.n
    FROM (SELECT c2.id, (SELECT count(*)::integer FROM public.course_questions q
                         WHERE q.course_id = c2.id AND q.is_visible AND q.answer_count = 0) AS n
          FROM public.courses c2 WHERE c2.id = ANY (mine)) x
    WHERE c.id = x.id AND c.unanswered_question_count <> x.n;
    GET DIAGNOSTICS n = ROW_COUNT; fixed := fixed + n;
    RETURN fixed;
END
$$;

-- The timeline's words for the two new kinds: 008's recent activity (the dashboard) and 014's
-- activity page, their bodies otherwise unchanged (008's compares the kind as text: a value added
-- in this transaction cannot be a literal of its type in a SQL function's body).
CREATE OR REPLACE FUNCTION public.get_instructor_recent_activity(p_instructor_id uuid, p_limit integer DEFAULT 50,
                                                      p_before timestamptz DEFAULT NULL,
                                                      p_before_id uuid DEFAULT NULL)
RETURNS TABLE (activity_id uuid, activity_type public.activity_type, description text,
               student_id uuid, student_name text, student_avatar_url text,
               course_id uuid, course_title text, workshop_id uuid, workshop_title text,
               lesson_id uuid, lesson_title text, metadata jsonb, occurred_at timestamptz)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT a.id, a.activity_type,
           coalesce(u.full_name, 'A student') || ' ' ||
           CASE a.activity_type::text
               WHEN 'enrolled' THEN 'enrolled in ' || coalesce(c.title, 'a course')
               WHEN 'enrollment_cancelled' THEN 'cancelled their enrollment in ' || coalesce(c.title, 'a course')
               WHEN 'lesson_started' THEN 'started "' || coalesce(l.title, 'a lesson') || '"'
               WHEN 'lesson_completed' THEN 'completed "' || coalesce(l.title, 'a lesson') || '"'
               WHEN 'quiz_passed' THEN 'passed "' || coalesce(l.title, 'a quiz') || '" with ' || (a.metadata ->> 'quiz_score') || '%'
               WHEN 'quiz_failed' THEN 'scored ' || (a.metadata ->> 'quiz_score') || '% on "' || coalesce(l.title, 'a quiz') || '"'
               WHEN 'course_completed' THEN 'completed ' || coalesce(c.title, 'a course')
               WHEN 'review_posted' THEN 'reviewed ' || coalesce(c.title, 'a course') || ' (' || (a.metadata ->> 'rating') || '/5)'
               WHEN 'workshop_registered' THEN 'registered for ' || coalesce(w.title, 'a workshop')
               WHEN 'workshop_cancelled' THEN 'cancelled their registration for ' || coalesce(w.title, 'a workshop')
               WHEN 'workshop_attended' THEN 'attended ' || coalesce(w.title, 'a workshop')
               WHEN 'feedback_submitted' THEN 'left feedback on ' || coalesce(w.title, 'a workshop')
               WHEN 'refunded' THEN 'was refunded for ' || coalesce(c.title, w.title, 'a purchase')
               WHEN 'assignment_submitted' THEN 'handed in "' || coalesce(l.title, 'an assignment') || '"'
               WHEN 'assignment_graded' THEN 'got ' || coalesce(a.metadata ->> 'score', '?') || '% on "'
                                             || coalesce(l.title, 'an assignment') || '"'
                                             || CASE WHEN (a.metadata ->> 'passed')::boolean THEN ' (passed)'
                                                     ELSE ' (not passed)' END
           END,
           a.student_id, u.full_name, u.avatar_url,
           a.course_id, c.title, a.workshop_id, w.title, a.lesson_id, l.title,
           a.metadata, a.occurred_at
    FROM public.student_activity a
    LEFT JOIN public.users u ON u.id = a.student_id
    LEFT JOIN public.courses c ON c.id = a.course_id
    LEFT JOIN public.workshops w ON w.id = a.workshop_id
    LEFT JOIN public.course_lessons l ON l.id = a.lesson_id
    WHERE a.instructor_id = p_instructor_id
      AND (p_before IS NULL
           OR (a.occurred_at, a.id) < (p_before, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff')))
      AND (SELECT public.can_view_instructor(p_instructor_id))
    ORDER BY a.occurred_at DESC, a.id DESC
    LIMIT least(greatest(coalesce(p_limit, 50), 1), 200)
$$;

CREATE OR REPLACE FUNCTION public.instructor_activity_page(p_course_id uuid DEFAULT NULL,
                                                p_type public.activity_type DEFAULT NULL,
                                                p_student_id uuid DEFAULT NULL,
                                                p_limit integer DEFAULT 50,
                                                p_before timestamptz DEFAULT NULL,
                                                p_before_id uuid DEFAULT NULL,
                                                p_after timestamptz DEFAULT NULL,
                                                p_after_id uuid DEFAULT NULL,
                                                p_courses_only boolean DEFAULT false)
RETURNS TABLE (activity_id uuid, activity_type public.activity_type, description text,
               student_id uuid, student_name text, student_avatar_url text,
               course_id uuid, course_title text, workshop_id uuid, workshop_title text,
               lesson_id uuid, lesson_title text, metadata jsonb, occurred_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := rls.uid();
    taught uuid[] := rls.course_ids('{view_content,manage_students}');
    owned uuid[] := rls.owned_course_ids();
    owned_workshops uuid[];
    staffed uuid[] := CASE WHEN p_courses_only THEN '{}'::uuid[] ELSE rls.workshop_ids() END;
    newer constant boolean := p_after IS NOT NULL;
    at_time constant timestamptz := CASE WHEN p_after IS NOT NULL THEN p_after ELSE p_before END;
    at_id constant uuid := coalesce(CASE WHEN p_after IS NOT NULL THEN p_after_id ELSE p_before_id END,
                                    CASE WHEN p_after IS NOT NULL THEN '00000000-0000-0000-0000-000000000000'
                                         ELSE 'ffffffff-ffff-ffff-ffff-ffffffffffff' END::uuid);
    n constant integer := least(greatest(coalesce(p_limit, 50), 1), 200);
    dir constant text := CASE WHEN newer THEN 'ASC' ELSE 'DESC' END;
    filter text;
    tail text;
    sources text[] := '{}';
    timeline boolean := NOT p_courses_only;
BEGIN
    IF me IS NULL THEN
        RETURN;
    END IF;
    IF p_course_id IS NOT NULL THEN
        IF NOT p_course_id = ANY (taught) THEN
            RETURN;
        END IF;
        taught := ARRAY[p_course_id];
        staffed := '{}';
        timeline := false;
    END IF;
    -- $1 type, $2 position time, $3 position id, $4 student, $5 me, $6 courses, $7 workshops
    filter := CASE WHEN p_type IS NOT NULL THEN ' AND a.activity_type = $1' ELSE '' END
           || CASE WHEN at_time IS NOT NULL
                   THEN format(' AND (a.occurred_at, a.id) %s ($2, $3)', CASE WHEN newer THEN '>' ELSE '<' END)
                   ELSE '' END;
    tail := format(' ORDER BY a.occurred_at %1$s, a.id %1$s LIMIT %2$s', dir, n);
    IF p_student_id IS NOT NULL THEN
        sources := ARRAY['SELECT a.id, a.occurred_at FROM public.student_activity a WHERE a.student_id = $4 AND ('
                         || CASE WHEN timeline THEN 'a.instructor_id = $5 OR ' ELSE '' END
                         || 'a.course_id = ANY ($6) OR a.workshop_id = ANY ($7))' || filter || tail];
    ELSE
        IF timeline THEN
            sources := sources || ('SELECT a.id, a.occurred_at FROM public.student_activity a '
                                   || 'WHERE a.instructor_id = $5' || filter || tail);
            -- the owned courses' and workshops' rows are the timeline's already (one scan, not one each)
            taught := ARRAY(SELECT t FROM unnest(taught) t WHERE NOT t = ANY (owned));
            owned_workshops := rls.owned_workshop_ids();
            staffed := ARRAY(SELECT t FROM unnest(staffed) t WHERE NOT t = ANY (owned_workshops));
        END IF;
        sources := sources || ('SELECT s.id, s.occurred_at FROM unnest($6) AS x(id) CROSS JOIN LATERAL ('
                               || 'SELECT a.id, a.occurred_at FROM public.student_activity a '
                               || 'WHERE a.course_id = x.id' || filter || tail || ') s');
        sources := sources || ('SELECT s.id, s.occurred_at FROM unnest($7) AS x(id) CROSS JOIN LATERAL ('
                               || 'SELECT a.id, a.occurred_at FROM public.student_activity a '
                               || 'WHERE a.workshop_id = x.id' || filter || tail || ') s');
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH picked AS (
            SELECT p.id, p.occurred_at FROM (%1$s) p
            ORDER BY p.occurred_at %2$s, p.id %2$s LIMIT %3$s
        )
        SELECT a.id, a.activity_type,
               coalesce(u.full_name, 'A student') || ' ' ||
               CASE a.activity_type
                   WHEN 'enrolled' THEN 'enrolled in ' || coalesce(c.title, 'a course')
                   WHEN 'enrollment_cancelled' THEN 'cancelled their enrollment in ' || coalesce(c.title, 'a course')
                   WHEN 'lesson_started' THEN 'started "' || coalesce(l.title, 'a lesson') || '"'
                   WHEN 'lesson_completed' THEN 'completed "' || coalesce(l.title, 'a lesson') || '"'
                   WHEN 'quiz_passed' THEN 'passed "' || coalesce(l.title, 'a quiz') || '" with '
                                           || coalesce(a.metadata ->> 'quiz_score', '?') || '%%'
                   WHEN 'quiz_failed' THEN 'scored ' || coalesce(a.metadata ->> 'quiz_score', '?') || '%% on "'
                                           || coalesce(l.title, 'a quiz') || '"'
                   WHEN 'course_completed' THEN 'completed ' || coalesce(c.title, 'a course')
                   WHEN 'review_posted' THEN 'reviewed ' || coalesce(c.title, 'a course')
                                             || coalesce(' (' || (a.metadata ->> 'rating') || '/5)', '')
                   WHEN 'workshop_registered' THEN 'registered for ' || coalesce(w.title, 'a workshop')
                   WHEN 'workshop_cancelled' THEN 'cancelled their registration for ' || coalesce(w.title, 'a workshop')
                   WHEN 'workshop_attended' THEN 'attended ' || coalesce(w.title, 'a workshop')
                   WHEN 'feedback_submitted' THEN 'left feedback on ' || coalesce(w.title, 'a workshop')
                   WHEN 'refunded' THEN 'was refunded for ' || coalesce(c.title, w.title, 'a purchase')
                   WHEN 'assignment_submitted' THEN 'handed in "' || coalesce(l.title, 'an assignment') || '"'
                   WHEN 'assignment_graded' THEN 'got ' || coalesce(a.metadata ->> 'score', '?') || '%% on "'
                                                 || coalesce(l.title, 'an assignment') || '"'
                                                 || CASE WHEN (a.metadata ->> 'passed')::boolean THEN ' (passed)'
                                                         ELSE ' (not passed)' END
                   ELSE replace(a.activity_type::text, '_', ' ')
               END,
               a.student_id, u.full_name, u.avatar_url,
               a.course_id, c.title, a.workshop_id, w.title, a.lesson_id, l.title,
               a.metadata, a.occurred_at
        FROM picked
        JOIN public.student_activity a ON a.id = picked.id
        LEFT JOIN public.users u ON u.id = a.student_id
        LEFT JOIN public.courses c ON c.id = a.course_id
        LEFT JOIN public.workshops w ON w.id = a.workshop_id
        LEFT JOIN public.course_lessons l ON l.id = a.lesson_id
        ORDER BY a.occurred_at %2$s, a.id %2$s
    $q$, array_to_string(ARRAY(SELECT '(' || s || ')' FROM unnest(sources) s), ' UNION '), dir, n)
    USING p_type, at_time, at_id, p_student_id, me, taught, staffed;
END
$$;

-- The person's data (011's export), now with what they wrote in discussions and handed in;
-- the body otherwise 011's.
CREATE OR REPLACE FUNCTION public.export_my_data() RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := (SELECT rls.uid());
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'sign in first' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    RETURN jsonb_build_object(
        'exported_at', now(),
        'account', (SELECT jsonb_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name,
                                              'avatar_url', u.avatar_url, 'role', u.role,
                                              'organization_id', u.organization_id,
                                              'email_confirmed_at', u.email_confirmed_at,
                                              'created_at', u.created_at, 'updated_at', u.updated_at)
                    FROM public.users u WHERE u.id = me),
        'instructor_profile', (SELECT to_jsonb(p) FROM public.instructor_profiles p WHERE p.user_id = me),
        'instructor_settings', (SELECT to_jsonb(s) - 'payment_details'
                                       || jsonb_build_object('payment_details_stored', s.payment_details IS NOT NULL)
                                FROM public.instructor_settings s WHERE s.user_id = me),
        'notification_settings', (SELECT to_jsonb(n) FROM public.notification_settings n WHERE n.user_id = me),
        'sessions', coalesce((SELECT jsonb_agg(to_jsonb(s) - 'user_id' ORDER BY s.created_at)
                              FROM public.user_sessions s WHERE s.user_id = me), '[]'),
        'email_changes', coalesce((SELECT jsonb_agg(to_jsonb(c) - 'user_id' ORDER BY c.created_at)
                                   FROM public.email_changes c WHERE c.user_id = me), '[]'),
        'enrollments', coalesce((
            SELECT jsonb_agg(to_jsonb(e) || jsonb_build_object(
                       'course_title', c.title,
                       'lesson_progress', coalesce((SELECT jsonb_agg(to_jsonb(lp) - 'user_id')
                                                    FROM public.lesson_progress lp
                                                    WHERE lp.enrollment_id = e.id), '[]'))
                   ORDER BY e.enrolled_at)
            FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
            WHERE e.user_id = me), '[]'),
        'reviews', coalesce((SELECT jsonb_agg(to_jsonb(r) ORDER BY r.created_at)
                             FROM public.course_reviews r WHERE r.user_id = me), '[]'),
        'certificates', coalesce((SELECT jsonb_agg(to_jsonb(c) ORDER BY c.issued_at)
                                  FROM public.certificates c WHERE c.user_id = me), '[]'),
        'workshop_registrations', coalesce((SELECT jsonb_agg(to_jsonb(w) ORDER BY w.registered_at)
                                            FROM public.workshop_registrations w WHERE w.user_id = me), '[]'),
        'notifications', coalesce((SELECT jsonb_agg(to_jsonb(n) - 'user_id' - 'dedup_key' - 'email_error'
                                                    - 'email_attempts' ORDER BY n.created_at)
                                   FROM public.notifications n WHERE n.user_id = me), '[]'),
        'courses_owned', coalesce((SELECT jsonb_agg(jsonb_build_object('id', c.id, 'title', c.title,
                                                                       'status', c.status, 'created_at', c.created_at)
                                                    ORDER BY c.created_at)
                                   FROM public.courses c WHERE c.instructor_id = me), '[]'),
        'workshops_owned', coalesce((SELECT jsonb_agg(jsonb_build_object('id', w.id, 'title', w.title,
                                                                         'status', w.status, 'start_time', w.start_time)
                                                      ORDER BY w.start_time)
                                     FROM public.workshops w WHERE w.instructor_id = me), '[]'),
        -- 022: what the person wrote in discussions, and their hand-ins with their grades
        'lesson_comments', coalesce((SELECT jsonb_agg(to_jsonb(x) - 'author_id' ORDER BY x.created_at)
                                     FROM public.lesson_comments x WHERE x.author_id = me), '[]'),
        'course_questions', coalesce((SELECT jsonb_agg(to_jsonb(x) - 'author_id' ORDER BY x.created_at)
                                      FROM public.course_questions x WHERE x.author_id = me), '[]'),
        'question_answers', coalesce((SELECT jsonb_agg(to_jsonb(x) - 'author_id' ORDER BY x.created_at)
                                      FROM public.question_answers x WHERE x.author_id = me), '[]'),
        'assignment_submissions', coalesce((SELECT jsonb_agg(to_jsonb(x) - 'user_id' - 'graded_by'
                                                             ORDER BY x.submitted_at)
                                            FROM public.assignment_submissions x WHERE x.user_id = me), '[]'),
        'discussion_reports', coalesce((SELECT jsonb_agg(to_jsonb(x) - 'reporter_id' - 'resolved_by'
                                                         ORDER BY x.created_at)
                                        FROM public.discussion_reports x WHERE x.reporter_id = me), '[]'));
END
$$;

-- 10. grants ---------------------------------------------------------------------------------------
REVOKE ALL ON public.lesson_comments, public.course_questions, public.question_answers,
    public.assignment_submissions, public.discussion_reports
FROM PUBLIC, anon, authenticated, authenticator, service_role, portal_signin, portal_worker;
GRANT SELECT, INSERT (course_id, lesson_id, parent_id, body), UPDATE (body, is_visible), DELETE
    ON public.lesson_comments TO authenticated;
GRANT SELECT, INSERT (course_id, lesson_id, title, body), UPDATE (title, body, accepted_answer_id, is_visible),
    DELETE ON public.course_questions TO authenticated;
GRANT SELECT, INSERT (question_id, course_id, body), UPDATE (body, is_visible), DELETE
    ON public.question_answers TO authenticated;
GRANT SELECT ON public.assignment_submissions TO authenticated;
GRANT SELECT, INSERT (comment_id, question_id, answer_id, reason, details), UPDATE (resolved_at), DELETE
    ON public.discussion_reports TO authenticated;

REVOKE ALL ON FUNCTION rls.comment_course_ids(), rls.qa_course_ids(), rls.locked_lesson_ids(),
    rls.locked_question_ids(),
    public.engagement_score(integer, integer, bigint, numeric, integer, numeric, integer, integer, integer, integer),
    public.participation_figures(uuid, uuid), private.count_participation(uuid, uuid, text, integer),
    private.guard_lesson_comment(), private.guard_course_question(), private.guard_question_answer(),
    private.keep_replied_thread(), private.audit_discussion_post(), private.audit_discussion_report(),
    private.stamp_discussion_report(), private.track_comment(), private.track_question(),
    private.track_answer(), private.track_submission(), private.track_discussion_reports(),
    private.notify_question(), private.notify_answer(),
    private.notify_student_managers(uuid, uuid, text, jsonb, text, boolean),
    public.submit_assignment(uuid, text, text), public.grade_assignment(uuid, numeric, text),
    public.unanswered_questions_count(), private.verify_discussion_figures(),
    public.discussion_author_names(uuid, uuid[]), public.discussion_author_names_in(uuid[], uuid[]),
    private.rebuild_discussion_figures(uuid)
FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION rls.comment_course_ids(), rls.qa_course_ids(), rls.locked_lesson_ids(),
    rls.locked_question_ids(),
    public.submit_assignment(uuid, text, text), public.grade_assignment(uuid, numeric, text),
    public.unanswered_questions_count(), public.discussion_author_names(uuid, uuid[]),
    public.discussion_author_names_in(uuid[], uuid[])
TO authenticated;
