-- 004: what the course builder (issue "Courses") needs from the database.
--
--   1. lifecycle: draft -> published -> archived (and back to published);
--      a course is published only with a description and at least one
--      module holding a lesson; a published course keeps its slug.
--   2. curriculum positions: dense (0, 1, 2, ...) and unique per course
--      (modules) and per module (lessons), also under concurrent edits.
--      Inserts append, deletes close the gap, and moves and deletes go
--      through move_module / move_lesson / shift_module / shift_lesson /
--      delete_module / delete_lesson.
--   3. drip release: drip_schedule rules per module or per lesson, N days
--      after enrollment or on a fixed date, and per-student early unlocks
--      (drip_unlocks), read by lesson_released_for() and so by RLS.
--   4. co-instructors: added by email through add_course_instructor()
--      (the owner cannot read other users' emails), with a closed set of
--      boolean permissions.
--   5. quizzes: the shape of course_lessons.quiz is checked.
--
-- Rules bind the API roles (anon, authenticated); maintenance, triggers and
-- the test factories run as the owner, as in 002's guards.

-- 1. lifecycle ----------------------------------------------------------------

-- True when the course has what publishing needs: a description and a
-- lesson (a lesson always sits in a module of the same course).
-- SECURITY INVOKER: it answers only about a course the caller can read.
CREATE FUNCTION public.course_is_publishable(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(btrim(c.description), '') <> ''
       AND EXISTS (SELECT 1 FROM public.course_lessons l WHERE l.course_id = c.id)
    FROM public.courses c WHERE c.id = p_course_id
$$;
REVOKE EXECUTE ON FUNCTION public.course_is_publishable(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.course_is_publishable(uuid) TO authenticated;

CREATE FUNCTION public.guard_course_lifecycle() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT public.api_caller() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'a new course starts as a draft' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF (OLD.status, NEW.status) NOT IN (('draft', 'published'), ('published', 'archived'),
                                            ('archived', 'published')) THEN
            RAISE EXCEPTION 'a % course cannot become %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        -- NEW's description may change in the same statement, so check NEW.
        IF NEW.status = 'published' AND (coalesce(btrim(NEW.description), '') = ''
            OR NOT EXISTS (SELECT 1 FROM public.course_lessons l WHERE l.course_id = NEW.id)) THEN
            RAISE EXCEPTION 'publish a course once it has a description and a module with a lesson'
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    -- Links, bookmarks and the catalog point at a published course's slug.
    IF OLD.published_at IS NOT NULL AND NEW.slug IS DISTINCT FROM OLD.slug THEN
        RAISE EXCEPTION 'a published course keeps its address (slug)' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_course_lifecycle BEFORE INSERT OR UPDATE ON public.courses
    FOR EACH ROW EXECUTE FUNCTION public.guard_course_lifecycle();

-- 2. curriculum positions -------------------------------------------------------
--
-- Every change of positions in a course first takes one transaction-level
-- advisory lock for the course, so concurrent edits of one outline run one
-- after the other and each sees the other's result. An advisory lock rather
-- than a lock on the course row: adding or removing a lesson fires 002's
-- progress trigger, which locks enrollments before courses, and taking the
-- course row first here would invert that order.

CREATE FUNCTION public.lock_course_outline(p_course_id uuid) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(4004, hashtext(p_course_id::text))
$$;

-- The writer must be allowed to edit the course's content (RLS would refuse
-- the writes anyway; checking first gives one clear error and takes no lock).
CREATE FUNCTION public.require_content_editor(p_course_id uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF public.api_caller() AND NOT (public.has_course_permission(p_course_id, 'edit_content')
                                    OR public.is_platform_admin()) THEN
        RAISE EXCEPTION 'no such course' USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- New modules and lessons go to the end of their list, whatever position the
-- writer sent.
CREATE FUNCTION public.append_position() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM public.lock_course_outline(NEW.course_id);
    IF TG_TABLE_NAME = 'course_modules' THEN
        SELECT coalesce(max(position) + 1, 0) INTO NEW.position
        FROM public.course_modules WHERE course_id = NEW.course_id;
    ELSE
        SELECT coalesce(max(position) + 1, 0) INTO NEW.position
        FROM public.course_lessons WHERE module_id = NEW.module_id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER append_position BEFORE INSERT ON public.course_modules
    FOR EACH ROW EXECUTE FUNCTION public.append_position();
CREATE TRIGGER append_position BEFORE INSERT ON public.course_lessons
    FOR EACH ROW EXECUTE FUNCTION public.append_position();

-- Renumber a course's modules, or a module's lessons, 0..n-1 in their
-- current order. One UPDATE: the deferrable unique keys are checked at the
-- end of the statement, so positions may pass through each other.
-- SECURITY INVOKER: called by a request, RLS decides (edit_content); called
-- by the gap-closing trigger, it runs as that trigger's owner.
CREATE FUNCTION public.renumber_modules(p_course_id uuid) RETURNS void
LANGUAGE sql AS $$
    UPDATE public.course_modules m SET position = o.n
    FROM (SELECT id, row_number() OVER (ORDER BY position, id) - 1 AS n
          FROM public.course_modules WHERE course_id = p_course_id) o
    WHERE m.id = o.id AND m.position <> o.n
$$;

CREATE FUNCTION public.renumber_lessons(p_module_id uuid) RETURNS void
LANGUAGE sql AS $$
    UPDATE public.course_lessons l SET position = o.n
    FROM (SELECT id, row_number() OVER (ORDER BY position, id) - 1 AS n
          FROM public.course_lessons WHERE module_id = p_module_id) o
    WHERE l.id = o.id AND l.position <> o.n
$$;

-- A delete closes its gap (once per statement, for every parent it touched).
-- Lessons deleted with their module find no module left and renumber nothing.
CREATE FUNCTION public.close_position_gaps() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    parent record;
BEGIN
    IF TG_TABLE_NAME = 'course_modules' THEN
        FOR parent IN SELECT DISTINCT course_id FROM gone ORDER BY course_id LOOP
            PERFORM public.lock_course_outline(parent.course_id);
            PERFORM public.renumber_modules(parent.course_id);
        END LOOP;
    ELSE
        FOR parent IN SELECT DISTINCT course_id, module_id FROM gone ORDER BY course_id, module_id LOOP
            PERFORM public.lock_course_outline(parent.course_id);
            PERFORM public.renumber_lessons(parent.module_id);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER close_position_gaps AFTER DELETE ON public.course_modules
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION public.close_position_gaps();
CREATE TRIGGER close_position_gaps AFTER DELETE ON public.course_lessons
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION public.close_position_gaps();

-- Move a module to index p_to (0-based, clamped) in its course.
-- SECURITY INVOKER: the writes go through RLS as the caller.
CREATE FUNCTION public.move_module(p_module_id uuid, p_to integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    course uuid := (SELECT course_id FROM public.course_modules WHERE id = p_module_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such module' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    UPDATE public.course_modules m SET position = o.n
    FROM (SELECT id, CASE WHEN id = p_module_id THEN least(greatest(p_to, 0), count(*) OVER () - 1)
                          WHEN rn < greatest(p_to, 0) THEN rn ELSE rn + 1 END AS n
          FROM (SELECT id, position,
                       row_number() OVER (ORDER BY id = p_module_id, position, id) - 1 AS rn
                FROM public.course_modules WHERE course_id = course) ranked) o
    WHERE m.id = o.id AND m.position <> o.n;  -- ranks are dense, so the result is 0..n-1
END
$$;

-- Move a lesson to index p_to of module p_module_id (its own or another
-- module of the same course: the composite key refuses any other).
CREATE FUNCTION public.move_lesson(p_lesson_id uuid, p_module_id uuid, p_to integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    lesson record;
BEGIN
    SELECT course_id, module_id INTO lesson FROM public.course_lessons WHERE id = p_lesson_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such lesson' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM public.require_content_editor(lesson.course_id);
    PERFORM public.lock_course_outline(lesson.course_id);
    IF NOT EXISTS (SELECT 1 FROM public.course_modules WHERE id = p_module_id AND course_id = lesson.course_id) THEN
        RAISE EXCEPTION 'that module is not in this course' USING ERRCODE = 'check_violation';
    END IF;
    -- Park the lesson after every other lesson of the target, then place it.
    UPDATE public.course_lessons SET module_id = p_module_id,
           position = (SELECT coalesce(max(position) + 1, 0) FROM public.course_lessons WHERE module_id = p_module_id)
    WHERE id = p_lesson_id AND module_id <> p_module_id;
    UPDATE public.course_lessons l SET position = o.n
    FROM (SELECT id, CASE WHEN id = p_lesson_id THEN least(greatest(p_to, 0), count(*) OVER () - 1)
                          WHEN rn < greatest(p_to, 0) THEN rn ELSE rn + 1 END AS n
          FROM (SELECT id, row_number() OVER (ORDER BY id = p_lesson_id, position, id) - 1 AS rn
                FROM public.course_lessons WHERE module_id = p_module_id) ranked) o
    WHERE l.id = o.id AND l.position <> o.n;
    IF lesson.module_id <> p_module_id THEN
        PERFORM public.renumber_lessons(lesson.module_id);
    END IF;
END
$$;

-- Delete a module (with its lessons) or a lesson, taking the outline lock
-- first. A plain DELETE works too (RLS allows it to editors) and its gap is
-- closed by the trigger above, but it locks the row before that trigger can
-- take the outline lock, so it may deadlock with a concurrent move (and
-- PostgreSQL then aborts one of them); the portal always uses these.
CREATE FUNCTION public.delete_module(p_module_id uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    course uuid := (SELECT course_id FROM public.course_modules WHERE id = p_module_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such module' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    DELETE FROM public.course_modules WHERE id = p_module_id;
    RETURN FOUND;
END
$$;

CREATE FUNCTION public.delete_lesson(p_lesson_id uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    course uuid := (SELECT course_id FROM public.course_lessons WHERE id = p_lesson_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such lesson' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    DELETE FROM public.course_lessons WHERE id = p_lesson_id;
    RETURN FOUND;
END
$$;

-- Move up (-1) or down (+1) from where the item is now, read under the lock,
-- so two people pressing "move up" at once both move it.
CREATE FUNCTION public.shift_module(p_module_id uuid, p_by integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    course uuid := (SELECT course_id FROM public.course_modules WHERE id = p_module_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such module' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    PERFORM public.move_module(p_module_id,
        (SELECT position FROM public.course_modules WHERE id = p_module_id) + p_by);
END
$$;

CREATE FUNCTION public.shift_lesson(p_lesson_id uuid, p_by integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    course uuid := (SELECT course_id FROM public.course_lessons WHERE id = p_lesson_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such lesson' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    PERFORM public.move_lesson(p_lesson_id, l.module_id, l.position + p_by)
    FROM public.course_lessons l WHERE l.id = p_lesson_id;
END
$$;
GRANT EXECUTE ON FUNCTION public.move_module(uuid, integer), public.move_lesson(uuid, uuid, integer),
    public.shift_module(uuid, integer), public.shift_lesson(uuid, integer),
    public.delete_module(uuid), public.delete_lesson(uuid) TO authenticated;

-- 3. drip release -------------------------------------------------------------
--
-- courses.drip_schedule maps a module's or a lesson's id to its rule:
--   a number     released that many days after the student's enrollment;
--   "YYYY-MM-DD" released on that date, in the course owner's time zone
--                (instructor_settings.timezone, UTC when unset).
-- A lesson opens when its module's rule and its own rule are both met (a
-- lesson never opens before its module). Ids not in the schedule open at
-- once. 002's rule ({"<module id>": days}) is the first form.

-- A real calendar date written YYYY-MM-DD (the cast to date is only STABLE).
CREATE FUNCTION public.is_iso_date(p_text text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_text !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN false;
    END IF;
    PERFORM make_date(substr(p_text, 1, 4)::int, substr(p_text, 6, 2)::int, substr(p_text, 9, 2)::int);
    RETURN true;
EXCEPTION WHEN datetime_field_overflow OR invalid_parameter_value THEN
    RETURN false;
END
$$;

CREATE FUNCTION public.valid_drip_schedule(p_schedule jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_typeof(p_schedule) = 'object'
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_each(p_schedule) r
           WHERE NOT (r.key ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
              OR NOT CASE jsonb_typeof(r.value)
                     WHEN 'number' THEN r.value::text ~ '^[0-9]{1,4}$' AND r.value::text::int <= 3650
                     WHEN 'string' THEN public.is_iso_date(r.value #>> '{}')
                     ELSE false END)
$$;
ALTER TABLE public.courses ADD CONSTRAINT drip_schedule_rules_are_days_or_dates
    CHECK (public.valid_drip_schedule(drip_schedule));

-- Is one rule met for an enrollment made at p_enrolled_at?
CREATE FUNCTION public.drip_rule_met(p_rule jsonb, p_enrolled_at timestamptz, p_timezone text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE jsonb_typeof(p_rule)
           WHEN 'number' THEN p_enrolled_at + make_interval(days => (p_rule #>> '{}')::int) <= now()
           WHEN 'string' THEN (p_rule #>> '{}')::date <= (now() AT TIME ZONE p_timezone)::date
           ELSE true END
$$;

-- Per-student early unlocks: the whole course (no module, no lesson), one
-- module, or one lesson, for one enrollment.
CREATE TABLE public.drip_unlocks (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrollment_id uuid NOT NULL,
    user_id       uuid NOT NULL,
    course_id     uuid NOT NULL,
    module_id     uuid,
    lesson_id     uuid,
    unlocked_by   uuid DEFAULT (auth.uid()) REFERENCES public.users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (enrollment_id, user_id, course_id)
        REFERENCES public.course_enrollments (id, user_id, course_id) ON DELETE CASCADE,
    FOREIGN KEY (module_id, course_id) REFERENCES public.course_modules (id, course_id) ON DELETE CASCADE,
    FOREIGN KEY (lesson_id, course_id) REFERENCES public.course_lessons (id, course_id) ON DELETE CASCADE,
    CONSTRAINT unlock_one_module_or_one_lesson CHECK (num_nonnulls(module_id, lesson_id) <= 1),
    UNIQUE NULLS NOT DISTINCT (enrollment_id, module_id, lesson_id)
);
CREATE INDEX idx_drip_unlocks_course ON public.drip_unlocks (course_id);
CREATE INDEX idx_drip_unlocks_module ON public.drip_unlocks (module_id) WHERE module_id IS NOT NULL;
CREATE INDEX idx_drip_unlocks_lesson ON public.drip_unlocks (lesson_id) WHERE lesson_id IS NOT NULL;

-- Replaces 002's version: lesson rules, dates and unlocks.
CREATE OR REPLACE FUNCTION public.lesson_released_for(p_enrollment_id uuid, p_lesson_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT NOT c.drip_content
        OR EXISTS (SELECT 1 FROM public.drip_unlocks u
                   WHERE u.enrollment_id = e.id
                     AND (u.lesson_id = l.id OR u.module_id = l.module_id
                          OR (u.module_id IS NULL AND u.lesson_id IS NULL)))
        OR (public.drip_rule_met(c.drip_schedule -> l.module_id::text, e.enrolled_at, tz.name)
            AND public.drip_rule_met(c.drip_schedule -> l.id::text, e.enrolled_at, tz.name))
    FROM public.course_lessons l
    JOIN public.courses c ON c.id = l.course_id
    JOIN public.course_enrollments e ON e.course_id = c.id AND e.id = p_enrollment_id
    CROSS JOIN LATERAL (SELECT coalesce((SELECT s.timezone FROM public.instructor_settings s
                                         WHERE s.user_id = c.instructor_id), 'UTC') AS name) tz
    WHERE l.id = p_lesson_id
$$;

ALTER TABLE public.drip_unlocks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.drip_unlocks FORCE ROW LEVEL SECURITY;
-- Unlocking early is managing a student: owner or co with manage_students.
GRANT SELECT, INSERT (enrollment_id, user_id, course_id, module_id, lesson_id), DELETE
    ON public.drip_unlocks TO authenticated;
GRANT SELECT ON public.drip_unlocks TO service_role;  -- as 002 does for every table
CREATE POLICY drip_unlocks_read ON public.drip_unlocks FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid())
           OR public.has_course_permission(course_id, 'view_content')
           OR public.has_course_permission(course_id, 'manage_students')
           OR public.course_organization(course_id) = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()));
CREATE POLICY drip_unlocks_create ON public.drip_unlocks FOR INSERT TO authenticated
    WITH CHECK ((public.has_course_permission(course_id, 'manage_students')
                 OR (SELECT public.is_platform_admin()))
                AND unlocked_by IS NOT DISTINCT FROM (SELECT auth.uid()));
CREATE POLICY drip_unlocks_delete ON public.drip_unlocks FOR DELETE TO authenticated
    USING (public.has_course_permission(course_id, 'manage_students') OR (SELECT public.is_platform_admin()));

-- A deleted module or lesson takes its rule out of the schedule. Skipped
-- when the course itself is going (its row is gone or going).
CREATE FUNCTION public.forget_drip_rules() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.courses c SET drip_schedule = c.drip_schedule - ids.keys
    FROM (SELECT course_id, array_agg(id::text) AS keys FROM gone GROUP BY course_id) ids
    WHERE c.id = ids.course_id AND c.drip_schedule ?| ids.keys;
    RETURN NULL;
END
$$;
CREATE TRIGGER forget_drip_rules AFTER DELETE ON public.course_modules
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION public.forget_drip_rules();
CREATE TRIGGER forget_drip_rules AFTER DELETE ON public.course_lessons
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION public.forget_drip_rules();

-- 4. co-instructors -------------------------------------------------------------

ALTER TABLE public.course_instructors ADD CONSTRAINT permissions_are_known_flags
    CHECK (jsonb_typeof(permissions) = 'object'
           AND permissions - ARRAY['view_content', 'edit_content', 'manage_students', 'view_revenue',
                                   'respond_reviews'] = '{}'::jsonb
           AND NOT jsonb_path_exists(permissions, '$.* ? (@.type() != "boolean")'));

-- The owner adds a co-teacher by email. SECURITY DEFINER because the owner
-- cannot read other users' rows; it answers only the owner (or an admin),
-- and only with "no active instructor has that email" or the new row's id.
CREATE FUNCTION public.add_course_instructor(p_course_id uuid, p_email text,
                                             p_role public.course_instructor_role,
                                             p_permissions jsonb) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    teacher uuid;
    new_id uuid;
BEGIN
    IF NOT (public.is_course_owner(p_course_id) OR public.is_platform_admin()) THEN
        RAISE EXCEPTION 'no such course' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_role = 'primary' THEN
        RAISE EXCEPTION 'a course has one primary instructor, its owner' USING ERRCODE = 'check_violation';
    END IF;
    SELECT id INTO teacher FROM public.users
    WHERE email = btrim(p_email)::citext AND role = 'instructor' AND is_active;
    IF teacher IS NULL THEN
        RAISE EXCEPTION 'no active instructor has that email' USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO public.course_instructors (course_id, instructor_id, role, permissions)
    VALUES (p_course_id, teacher, p_role, p_permissions)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
REVOKE EXECUTE ON FUNCTION public.add_course_instructor(uuid, text, public.course_instructor_role, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.add_course_instructor(uuid, text, public.course_instructor_role, jsonb)
    TO authenticated;

-- 5. quizzes --------------------------------------------------------------------
-- {"questions": [{"prompt": text, "choices": [text, text, ...], "answer": index}, ...]}
CREATE FUNCTION public.valid_quiz(p_quiz jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_typeof(p_quiz -> 'questions') = 'array', false)
       AND jsonb_array_length(p_quiz -> 'questions') <= 100
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_array_elements(p_quiz -> 'questions') q
           WHERE jsonb_typeof(q -> 'prompt') IS DISTINCT FROM 'string'
              OR btrim(q ->> 'prompt') = ''
              OR jsonb_typeof(q -> 'choices') IS DISTINCT FROM 'array'
              OR jsonb_array_length(q -> 'choices') NOT BETWEEN 2 AND 10
              OR jsonb_path_exists(q -> 'choices', '$[*] ? (@.type() != "string")')
              OR jsonb_typeof(q -> 'answer') IS DISTINCT FROM 'number'
              OR (q ->> 'answer') !~ '^[0-9]+$'
              OR (q ->> 'answer')::int >= jsonb_array_length(q -> 'choices'))
$$;
ALTER TABLE public.course_lessons ADD CONSTRAINT quizzes_have_questions_with_answers
    CHECK (quiz IS NULL OR public.valid_quiz(quiz));

-- Functions the API roles reach while they write (001 revokes EXECUTE from
-- PUBLIC by default): the checks, the rule test and the outline lock.
GRANT EXECUTE ON FUNCTION public.lock_course_outline(uuid), public.require_content_editor(uuid),
    public.renumber_modules(uuid), public.renumber_lessons(uuid),
    public.is_iso_date(text), public.valid_drip_schedule(jsonb), public.valid_quiz(jsonb),
    public.drip_rule_met(jsonb, timestamptz, text)
    TO authenticated, service_role;
