-- 007: the database holds when driven directly (issue "Security"), and its
-- policies cost the same at a million enrollments as at a thousand (issue
-- "Scale"). The threat model of shared/spec/access-model.md is the rule:
-- whatever anon, authenticated or a signed-in user's claims can do in SQL,
-- an attacker can do, so every rule below holds in SQL.
--
--   1. a sign-in role: only `authenticator` may become portal_signin, the
--      only role that checks passwords and counts failures.
--   2. the caller's sets (schema rls): who the caller is (an active account,
--      else nobody: a deactivated user's claims get anon's rights), and the
--      courses and workshops they teach, administer or attend, computed once
--      per statement. Every policy compares a row with these sets
--      (`course_id = ANY ((SELECT rls.course_ids(...))::uuid[])`) or uses plain SQL
--      the planner inlines; no policy calls a SECURITY DEFINER helper per row.
--   3. the old per-row helpers answer for the active caller only; those that
--      answered about any row (course_organization, workshop_organization,
--      lesson_released_for...) are no longer granted to any API role.
--   4. money, meeting links, quiz answer keys and users' roles: column grants
--      keep them from roles that may read the row but not that column; named
--      functions answer them to those who may.
--   5. lesson progress is written only by functions that decide it (open,
--      complete, watch, submit answers scored here).
--   6. teachers are not students; only the owner moves a workshop between
--      organizations; a revived enrollment is priced again; a private or
--      deactivated instructor has no public profile; the monthly statistics
--      answer an organization's admin for that organization's rows only.
--   7. payment details are stored as an envelope of ciphertext only.
--   8. grants: every privilege of the API roles on every object is revoked
--      and granted again from the lists below (so Supabase's default
--      privileges, which grant ALL to anon, authenticated and service_role,
--      leave nothing behind), and the default privileges are revoked too.

-- begin roles ---------------------------------------------------------------
-- portal_signin: NOLOGIN, and only authenticator is a member. Created where
-- missing by portal.db.bootstrap_roles() as a superuser (every file's roles
-- block), so that here, as the owner, the block changes nothing.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal_signin') THEN
        CREATE ROLE portal_signin NOLOGIN NOINHERIT;
    END IF;
    IF NOT pg_has_role('authenticator', 'portal_signin', 'MEMBER') THEN
        GRANT portal_signin TO authenticator;
    END IF;
END
$roles$;
-- end roles -----------------------------------------------------------------

-- 2. the caller's sets -----------------------------------------------------------
CREATE SCHEMA rls;
REVOKE ALL ON SCHEMA rls FROM PUBLIC;

-- The caller, if their account is active.
CREATE FUNCTION rls.uid() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.id FROM public.users u WHERE u.id = (SELECT auth.uid()) AND u.is_active
$$;

CREATE FUNCTION rls.role() RETURNS public.user_role
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.role FROM public.users u WHERE u.id = (SELECT auth.uid()) AND u.is_active
$$;

CREATE FUNCTION rls.is_admin() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce((SELECT rls.role()) = 'admin', false)
$$;

-- The organization the caller administers (role org_admin), else NULL.
CREATE FUNCTION rls.admin_org() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.organization_id FROM public.users u
    WHERE u.id = (SELECT auth.uid()) AND u.is_active AND u.role = 'org_admin'
$$;

CREATE FUNCTION rls.member_org() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.organization_id FROM public.users u WHERE u.id = (SELECT auth.uid()) AND u.is_active
$$;

-- Courses the caller owns, and those they co-teach with any of p_perms
-- (the owner holds every permission).
CREATE FUNCTION rls.course_ids(p_perms text[]) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(id), '{}') FROM (
        SELECT c.id FROM public.courses c WHERE c.instructor_id = (SELECT rls.uid())
        UNION
        SELECT ci.course_id FROM public.course_instructors ci
        WHERE ci.instructor_id = (SELECT rls.uid())
          AND EXISTS (SELECT 1 FROM unnest(p_perms) p WHERE coalesce((ci.permissions ->> p)::boolean, false))
    ) taught
$$;

-- Courses the caller owns or co-teaches, whatever the permissions: what a
-- teacher may not act on as a student (votes, reviews).
CREATE FUNCTION rls.taught_course_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(id), '{}') FROM (
        SELECT c.id FROM public.courses c WHERE c.instructor_id = (SELECT rls.uid())
        UNION
        SELECT ci.course_id FROM public.course_instructors ci WHERE ci.instructor_id = (SELECT rls.uid())
    ) taught
$$;

CREATE FUNCTION rls.owned_course_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(c.id), '{}') FROM public.courses c WHERE c.instructor_id = (SELECT rls.uid())
$$;

-- Courses of the organization the caller administers.
CREATE FUNCTION rls.org_course_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(c.id), '{}') FROM public.courses c
    WHERE c.organization_id = (SELECT rls.admin_org())
$$;

-- Courses whose content the caller's enrollment opens.
CREATE FUNCTION rls.enrolled_course_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(e.course_id), '{}') FROM public.course_enrollments e
    WHERE e.user_id = (SELECT rls.uid()) AND e.status IN ('enrolled', 'in_progress', 'completed')
$$;

-- Workshops the caller owns or facilitates.
CREATE FUNCTION rls.workshop_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(id), '{}') FROM (
        SELECT w.id FROM public.workshops w WHERE w.instructor_id = (SELECT rls.uid())
        UNION
        SELECT f.workshop_id FROM public.workshop_facilitators f WHERE f.facilitator_id = (SELECT rls.uid())
    ) staffed
$$;

CREATE FUNCTION rls.owned_workshop_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(w.id), '{}') FROM public.workshops w WHERE w.instructor_id = (SELECT rls.uid())
$$;

CREATE FUNCTION rls.org_workshop_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(w.id), '{}') FROM public.workshops w
    WHERE w.organization_id = (SELECT rls.admin_org())
$$;

-- Workshops the caller holds a registration for, in the given statuses.
CREATE FUNCTION rls.registered_workshop_ids(p_statuses public.registration_status[]) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(r.workshop_id), '{}') FROM public.workshop_registrations r
    WHERE r.user_id = (SELECT rls.uid()) AND r.status = ANY (p_statuses)
$$;

-- Owners of the courses the caller is actively enrolled in: whom a profile
-- visible to "students" is shown to (a pending enrollment, which anyone can
-- make, does not count).
CREATE FUNCTION rls.teacher_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(DISTINCT c.instructor_id), '{}')
    FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
    WHERE e.user_id = (SELECT rls.uid()) AND e.status IN ('enrolled', 'in_progress', 'completed')
$$;

-- Members of the organization the caller administers.
CREATE FUNCTION rls.org_member_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(u.id), '{}') FROM public.users u
    WHERE u.organization_id = (SELECT rls.admin_org())
$$;

-- Whether a lesson is released to the caller's own enrollment in its
-- course (drip rules and early unlocks); false for anyone not enrolled.
-- Policies call it only for rows of courses the caller is enrolled in.
CREATE FUNCTION rls.lesson_released(p_lesson_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(public.lesson_released_for(e.id, l.id), false)
    FROM public.course_lessons l
    JOIN public.course_enrollments e ON e.course_id = l.course_id
    WHERE l.id = p_lesson_id AND e.user_id = (SELECT rls.uid())
      AND e.status IN ('enrolled', 'in_progress', 'completed')
$$;

-- 3. the old helpers: the active caller only ----------------------------------------
CREATE OR REPLACE FUNCTION public.current_user_role() RETURNS public.user_role
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT rls.role()
$$;
CREATE OR REPLACE FUNCTION public.is_platform_admin() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT rls.is_admin()
$$;
CREATE OR REPLACE FUNCTION public.admin_of_organization() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT rls.admin_org()
$$;
CREATE OR REPLACE FUNCTION public.member_of_organization() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT rls.member_org()
$$;
CREATE OR REPLACE FUNCTION public.has_course_permission(p_course_id uuid, perm text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.courses c
                   WHERE c.id = p_course_id AND c.instructor_id = (SELECT rls.uid()))
        OR EXISTS (SELECT 1 FROM public.course_instructors ci
                   WHERE ci.course_id = p_course_id
                     AND ci.instructor_id = (SELECT rls.uid())
                     AND coalesce((ci.permissions ->> perm)::boolean, false))
$$;
CREATE OR REPLACE FUNCTION public.is_course_owner(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.courses
                   WHERE id = p_course_id AND instructor_id = (SELECT rls.uid()))
$$;
CREATE OR REPLACE FUNCTION public.active_enrollment(p_course_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT id FROM public.course_enrollments
    WHERE course_id = p_course_id AND user_id = (SELECT rls.uid())
      AND status IN ('enrolled', 'in_progress', 'completed')
$$;
CREATE OR REPLACE FUNCTION public.is_workshop_staff(p_workshop_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.workshops
                   WHERE id = p_workshop_id AND instructor_id = (SELECT rls.uid()))
        OR EXISTS (SELECT 1 FROM public.workshop_facilitators
                   WHERE workshop_id = p_workshop_id AND facilitator_id = (SELECT rls.uid()))
$$;
CREATE OR REPLACE FUNCTION public.is_workshop_owner(p_workshop_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.workshops
                   WHERE id = p_workshop_id AND instructor_id = (SELECT rls.uid()))
$$;
CREATE OR REPLACE FUNCTION public.can_view_instructor(p_instructor_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT p_instructor_id = (SELECT rls.uid())
        OR rls.is_admin()
        OR EXISTS (SELECT 1 FROM public.users u
                   WHERE u.id = p_instructor_id
                     AND u.organization_id = rls.admin_org())
$$;
-- A completed enrollment, reviews allowed, and not a teacher of the course.
CREATE OR REPLACE FUNCTION public.can_review_course(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.course_enrollments
                   WHERE course_id = p_course_id AND user_id = (SELECT rls.uid()) AND status = 'completed')
       AND coalesce((SELECT s.allow_course_reviews FROM public.courses c
                     JOIN public.instructor_settings s ON s.user_id = c.instructor_id
                     WHERE c.id = p_course_id), true)
       AND NOT p_course_id = ANY (rls.course_ids('{}'))
       AND NOT EXISTS (SELECT 1 FROM public.course_instructors ci
                       WHERE ci.course_id = p_course_id AND ci.instructor_id = (SELECT rls.uid()))
$$;
CREATE OR REPLACE FUNCTION public.can_see_review(p_review_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (
        SELECT 1 FROM public.course_reviews r
        WHERE r.id = p_review_id
          AND ((r.is_visible AND public.is_course_published(r.course_id))
               OR r.user_id = (SELECT rls.uid())
               OR public.has_course_permission(r.course_id, 'view_content')
               OR public.has_course_permission(r.course_id, 'respond_reviews')
               OR rls.is_admin()))
$$;
CREATE OR REPLACE FUNCTION public.is_review_author(p_review_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.course_reviews
                   WHERE id = p_review_id AND user_id = (SELECT rls.uid()))
$$;

-- Rehash on sign-in or a change of password: only for one's own active account.
CREATE OR REPLACE FUNCTION public.set_own_password_hash(p_password_hash text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF (SELECT rls.uid()) IS NULL THEN
        RAISE EXCEPTION 'not signed in' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE private.user_credentials
    SET password_hash = p_password_hash, updated_at = now()
    WHERE user_id = (SELECT rls.uid());
END
$$;

-- The caller's own account, with the fields no one else's row shows to them.
CREATE FUNCTION public.my_account()
RETURNS TABLE (id uuid, email citext, full_name text, avatar_url text, role public.user_role,
               organization_id uuid, timezone text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.id, u.email, u.full_name, u.avatar_url, u.role, u.organization_id,
           coalesce(s.timezone, 'UTC')
    FROM public.users u LEFT JOIN public.instructor_settings s ON s.user_id = u.id
    WHERE u.id = (SELECT rls.uid())
$$;

-- A user's role, organization and active flag, which no reader gets from
-- users: for oneself, one's organization's members as its admin, and admins.
CREATE FUNCTION public.account_of(p_user_id uuid)
RETURNS TABLE (role public.user_role, organization_id uuid, is_active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT u.role, u.organization_id, u.is_active FROM public.users u
    WHERE u.id = p_user_id
      AND (u.id = (SELECT rls.uid()) OR rls.is_admin()
           OR (u.organization_id IS NOT NULL AND u.organization_id = rls.admin_org()))
$$;

-- 4. money, meeting links and answer keys, to those who may -----------------------------

-- What a student paid for an enrollment: the student, and those who may
-- read the course's revenue (owner, co with view_revenue, the course's
-- organization's admin, admins); NULL for everyone else.
CREATE FUNCTION public.enrollment_amount_paid(p_enrollment_id uuid) RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT e.amount_paid FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
    WHERE e.id = p_enrollment_id
      AND (e.user_id = (SELECT rls.uid())
           OR e.course_id = ANY (rls.course_ids('{view_revenue}'))
           OR c.organization_id = rls.admin_org()
           OR rls.is_admin())
$$;

CREATE FUNCTION public.registration_amount_paid(p_registration_id uuid) RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT r.amount_paid FROM public.workshop_registrations r JOIN public.workshops w ON w.id = r.workshop_id
    WHERE r.id = p_registration_id
      AND (r.user_id = (SELECT rls.uid())
           OR w.instructor_id = (SELECT rls.uid())
           OR w.organization_id = rls.admin_org()
           OR rls.is_admin())
$$;

CREATE FUNCTION public.workshop_revenue(p_workshop_id uuid) RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT w.total_revenue FROM public.workshops w
    WHERE w.id = p_workshop_id
      AND (w.instructor_id = (SELECT rls.uid())
           OR w.organization_id = rls.admin_org()
           OR rls.is_admin())
$$;

-- The joining link: staff, confirmed registrants (a seat, paid or free), the
-- organization's admin, admins.
CREATE FUNCTION public.workshop_meeting_url(p_workshop_id uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT w.meeting_url FROM public.workshops w
    WHERE w.id = p_workshop_id
      AND (w.id = ANY (rls.workshop_ids())
           OR EXISTS (SELECT 1 FROM public.workshop_registrations r
                      WHERE r.workshop_id = w.id AND r.user_id = (SELECT rls.uid())
                        AND r.status IN ('registered', 'attended') AND r.payment_status = 'completed')
           OR w.organization_id = rls.admin_org()
           OR rls.is_admin())
$$;

-- A quiz as the caller may see it: whole (with its answer key) for those
-- who may edit or view the course's content and for admins; without the
-- answers for a student to whom the lesson is released, or anyone for a
-- preview lesson of a published course; NULL otherwise.
CREATE FUNCTION public.lesson_quiz(p_lesson_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT CASE
        WHEN l.course_id = ANY (rls.course_ids('{view_content,edit_content}')) OR rls.is_admin()
            THEN l.quiz
        WHEN (l.is_preview AND c.status = 'published') OR rls.lesson_released(l.id)
            THEN jsonb_build_object('questions', coalesce(
                (SELECT jsonb_agg(q - 'answer' ORDER BY n)
                 FROM jsonb_array_elements(l.quiz -> 'questions') WITH ORDINALITY AS qs (q, n)), '[]'))
        END
    FROM public.course_lessons l JOIN public.courses c ON c.id = l.course_id
    WHERE l.id = p_lesson_id AND l.quiz IS NOT NULL
$$;

-- 5. lesson progress, decided here ------------------------------------------------------

-- The caller's enrollment for a lesson released to them, locked; raises otherwise.
CREATE FUNCTION public.enrollment_for_lesson(p_lesson_id uuid)
RETURNS TABLE (enrollment_id uuid, user_id uuid, course_id uuid, content_type public.lesson_content_type,
               passing_score integer, quiz jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN QUERY
    SELECT e.id, e.user_id, e.course_id, l.content_type, l.passing_score, l.quiz
    FROM public.course_lessons l
    JOIN public.course_enrollments e ON e.course_id = l.course_id
    WHERE l.id = p_lesson_id AND e.user_id = (SELECT rls.uid())
      AND e.status IN ('enrolled', 'in_progress', 'completed')
      AND public.lesson_released_for(e.id, l.id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such lesson' USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$$;

-- Opening a lesson starts it (once); returns its progress row's status.
CREATE FUNCTION public.start_lesson(p_lesson_id uuid) RETURNS public.lesson_progress_status
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    en record;
    result public.lesson_progress_status;
BEGIN
    SELECT * INTO en FROM public.enrollment_for_lesson(p_lesson_id);
    INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status)
    VALUES (en.enrollment_id, p_lesson_id, en.user_id, en.course_id, 'in_progress')
    ON CONFLICT (enrollment_id, lesson_id) DO NOTHING;
    SELECT status INTO result FROM public.lesson_progress
    WHERE enrollment_id = en.enrollment_id AND lesson_id = p_lesson_id;
    RETURN result;
END
$$;

-- Marks a text, video or assignment lesson complete (a quiz completes by
-- being passed). Completing twice changes nothing.
CREATE FUNCTION public.complete_lesson(p_lesson_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    en record;
BEGIN
    SELECT * INTO en FROM public.enrollment_for_lesson(p_lesson_id);
    IF en.content_type = 'quiz' THEN
        RAISE EXCEPTION 'a quiz is completed by passing it' USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status)
    VALUES (en.enrollment_id, p_lesson_id, en.user_id, en.course_id, 'completed')
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE SET status = 'completed'
    WHERE lesson_progress.status <> 'completed';
END
$$;

-- Watch time: the furthest position reported (bounded by the lesson's
-- length by the bound_watch_time trigger); it never goes back.
CREATE FUNCTION public.record_watch_time(p_lesson_id uuid, p_seconds integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    en record;
    result integer;
BEGIN
    IF p_seconds IS NULL OR p_seconds < 0 THEN
        RAISE EXCEPTION 'watch time is a number of seconds' USING ERRCODE = 'check_violation';
    END IF;
    SELECT * INTO en FROM public.enrollment_for_lesson(p_lesson_id);
    INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status, watch_time_seconds)
    VALUES (en.enrollment_id, p_lesson_id, en.user_id, en.course_id, 'in_progress', p_seconds)
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE SET watch_time_seconds = EXCLUDED.watch_time_seconds
    WHERE lesson_progress.watch_time_seconds < EXCLUDED.watch_time_seconds;
    SELECT watch_time_seconds INTO result FROM public.lesson_progress
    WHERE enrollment_id = en.enrollment_id AND lesson_id = p_lesson_id;
    RETURN result;
END
$$;

-- Scores the caller's answers (one choice index per question, in order)
-- against the answer key, which never leaves the database. The best score
-- is kept; a pass completes the lesson and a later fail never undoes it.
CREATE FUNCTION public.submit_quiz(p_lesson_id uuid, p_answers integer[])
RETURNS TABLE (score numeric, passed boolean, best_score numeric, wrong integer[], questions integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    en record;
    total integer;
    wrong_ones integer[];
    got numeric(5,2);
    best numeric(5,2);
BEGIN
    SELECT * INTO en FROM public.enrollment_for_lesson(p_lesson_id);
    IF en.content_type <> 'quiz' THEN
        RAISE EXCEPTION 'this lesson is not a quiz' USING ERRCODE = 'check_violation';
    END IF;
    -- A quiz emptied after publishing cannot be failed: it scores 100.
    total := coalesce(jsonb_array_length(en.quiz -> 'questions'), 0);
    IF coalesce(array_length(p_answers, 1), 0) <> total THEN
        RAISE EXCEPTION 'answer every question' USING ERRCODE = 'check_violation';
    END IF;
    -- Which questions (0-based) were answered wrongly: the student sees
    -- which to think over again, never the right choice.
    SELECT coalesce(array_agg(n - 1 ORDER BY n), '{}') INTO wrong_ones
    FROM jsonb_array_elements(en.quiz -> 'questions') WITH ORDINALITY AS qs (q, n)
    WHERE (q ->> 'answer')::int IS DISTINCT FROM p_answers[n::int];
    got := CASE WHEN total = 0 THEN 100 ELSE round(100.0 * (total - cardinality(wrong_ones)) / total, 2) END;
    INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status, quiz_score)
    VALUES (en.enrollment_id, p_lesson_id, en.user_id, en.course_id,
            CASE WHEN got >= en.passing_score THEN 'completed' ELSE 'in_progress' END::public.lesson_progress_status,
            got)
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE
    SET quiz_score = greatest(coalesce(lesson_progress.quiz_score, 0), EXCLUDED.quiz_score),
        status = CASE WHEN lesson_progress.status = 'completed'
                        OR greatest(coalesce(lesson_progress.quiz_score, 0), EXCLUDED.quiz_score) >= en.passing_score
                      THEN 'completed' ELSE lesson_progress.status END::public.lesson_progress_status
    WHERE lesson_progress.quiz_score IS NULL OR EXCLUDED.quiz_score > lesson_progress.quiz_score
       OR (lesson_progress.status <> 'completed'
           AND greatest(coalesce(lesson_progress.quiz_score, 0), EXCLUDED.quiz_score) >= en.passing_score);
    SELECT p.quiz_score INTO best FROM public.lesson_progress p
    WHERE p.enrollment_id = en.enrollment_id AND p.lesson_id = p_lesson_id;
    RETURN QUERY SELECT got::numeric, got >= en.passing_score, best::numeric, wrong_ones, total;
END
$$;

-- The learner's outline, for the active caller only (else 005's own body).
CREATE OR REPLACE FUNCTION public.learning_outline(p_course_id uuid)
RETURNS TABLE (module_id uuid, module_title text, module_position integer,
               lesson_id uuid, lesson_title text, lesson_position integer,
               content_type public.lesson_content_type, duration_minutes integer, is_preview boolean,
               released boolean, opens_at timestamptz,
               progress_status public.lesson_progress_status, quiz_score numeric,
               watch_time_seconds integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH en AS (
        SELECT e.id, e.enrolled_at, c.drip_schedule, c.drip_content,
               coalesce((SELECT s.timezone FROM public.instructor_settings s
                         WHERE s.user_id = c.instructor_id), 'UTC') AS tz
        FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
        WHERE e.course_id = p_course_id AND e.user_id = (SELECT rls.uid())
          AND e.status <> 'refunded'
    )
    SELECT m.id, m.title, m.position, l.id, l.title, l.position, l.content_type, l.duration_minutes,
           l.is_preview, r.released,
           CASE WHEN r.released THEN NULL
                ELSE greatest(public.drip_rule_opens_at(en.drip_schedule -> m.id::text, en.enrolled_at, en.tz),
                              public.drip_rule_opens_at(en.drip_schedule -> l.id::text, en.enrolled_at, en.tz))
           END,
           p.status, p.quiz_score, p.watch_time_seconds
    FROM en
    JOIN public.course_modules m ON m.course_id = p_course_id
    JOIN public.course_lessons l ON l.module_id = m.id
    CROSS JOIN LATERAL (SELECT coalesce(public.lesson_released_for(en.id, l.id), false) AS released) r
    LEFT JOIN public.lesson_progress p ON p.enrollment_id = en.id AND p.lesson_id = l.id
    ORDER BY m.position, l.position
$$;

-- Checkout for the active caller's own enrollment (005's body otherwise).
CREATE OR REPLACE FUNCTION public.start_checkout(p_enrollment_id uuid, p_provider text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid uuid := (SELECT rls.uid());
    e record;
    open_checkout record;
    new_id uuid;
BEGIN
    SELECT en.id, en.user_id, en.course_id, en.status, en.payment_status, c.price_amount, c.currency,
           coalesce(s.auto_approve_enrollments, true) AS auto_approve
    INTO e
    FROM public.course_enrollments en
    JOIN public.courses c ON c.id = en.course_id
    LEFT JOIN public.instructor_settings s ON s.user_id = c.instructor_id
    WHERE en.id = p_enrollment_id AND en.user_id = uid
    FOR NO KEY UPDATE OF en;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such enrollment' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF e.payment_status IN ('completed', 'refunded') THEN
        RAISE EXCEPTION '%', CASE WHEN e.price_amount = 0 THEN 'this enrollment has nothing to pay'
                                  ELSE 'this enrollment is already paid' END
            USING ERRCODE = 'check_violation';
    END IF;
    IF e.status <> 'pending' THEN
        RAISE EXCEPTION 'this enrollment has nothing to pay' USING ERRCODE = 'check_violation';
    END IF;
    IF e.price_amount = 0 THEN
        PERFORM public.close_open_checkouts(e.id, 'The course became free: there is nothing to pay.');
        UPDATE public.course_enrollments
        SET payment_status = 'completed',
            status = CASE WHEN e.auto_approve THEN 'enrolled' ELSE 'pending' END::public.enrollment_status
        WHERE id = e.id;
        RETURN NULL;
    END IF;
    SELECT id, amount, currency INTO open_checkout
    FROM public.checkouts WHERE enrollment_id = e.id AND status = 'open' FOR NO KEY UPDATE;
    IF FOUND THEN
        IF (open_checkout.amount, open_checkout.currency) = (e.price_amount, e.currency) THEN
            RETURN open_checkout.id;
        END IF;
        PERFORM public.close_open_checkouts(e.id, 'The price changed: this checkout was closed.');
    END IF;
    INSERT INTO public.checkouts (enrollment_id, user_id, course_id, provider, amount, currency)
    VALUES (e.id, e.user_id, e.course_id, p_provider, e.price_amount, e.currency)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- 6. teachers are not students; prices; organizations; profiles; statistics ---------------

-- Enroll the caller (002's rules), except that teachers of the course are
-- refused, and a revived enrollment is priced again: a real payment it
-- made still counts (nobody pays twice), a free one made when the course
-- was free does not pay for the course it has become.
CREATE OR REPLACE FUNCTION public.enroll_in_course(p_course_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid uuid := (SELECT rls.uid());
    c record;
    existing record;
    auto_approve boolean;
    settled boolean;
    new_id uuid;
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'sign in to enroll' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT id, instructor_id, price_amount INTO c
    FROM public.courses WHERE id = p_course_id AND status = 'published';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such course' USING ERRCODE = 'no_data_found';
    END IF;
    IF c.instructor_id = uid OR EXISTS (SELECT 1 FROM public.course_instructors
                                         WHERE course_id = c.id AND instructor_id = uid) THEN
        RAISE EXCEPTION 'instructors do not enroll in their own course' USING ERRCODE = 'check_violation';
    END IF;
    auto_approve := coalesce((SELECT s.auto_approve_enrollments FROM public.instructor_settings s
                              WHERE s.user_id = c.instructor_id), true);

    SELECT id, status, payment_status, amount_paid INTO existing
    FROM public.course_enrollments WHERE course_id = c.id AND user_id = uid FOR NO KEY UPDATE;
    IF FOUND THEN
        IF existing.status = 'refunded' THEN
            RAISE EXCEPTION 'this enrollment was refunded; ask support to restore it'
                USING ERRCODE = 'unique_violation';
        ELSIF existing.status <> 'cancelled' THEN
            RAISE EXCEPTION 'already enrolled' USING ERRCODE = 'unique_violation';
        END IF;
        settled := c.price_amount = 0
                   OR (existing.payment_status = 'completed' AND existing.amount_paid > 0);
        UPDATE public.course_enrollments
        SET status = CASE WHEN settled AND auto_approve THEN 'enrolled' ELSE 'pending' END::public.enrollment_status,
            payment_status = CASE WHEN settled THEN 'completed' ELSE 'pending' END::public.payment_status,
            enrolled_at = now()
        WHERE id = existing.id;
        RETURN existing.id;
    END IF;

    INSERT INTO public.course_enrollments (course_id, user_id, status, payment_status)
    VALUES (c.id, uid,
            CASE WHEN c.price_amount = 0 AND auto_approve THEN 'enrolled' ELSE 'pending' END::public.enrollment_status,
            CASE WHEN c.price_amount = 0 THEN 'completed' ELSE 'pending' END::public.payment_status)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Register the caller (002's rules); the workshop's staff are refused, and a
-- revived registration is priced again.
CREATE OR REPLACE FUNCTION public.register_for_workshop(p_workshop_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid uuid := (SELECT rls.uid());
    w record;
    existing record;
    seat public.registration_status;
    new_id uuid;
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'sign in to register' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT id, instructor_id, capacity, price_amount, start_time INTO w
    FROM public.workshops WHERE id = p_workshop_id AND status = 'published'
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such workshop' USING ERRCODE = 'no_data_found';
    END IF;
    IF w.start_time <= now() THEN
        RAISE EXCEPTION 'this workshop has already started' USING ERRCODE = 'check_violation';
    END IF;
    IF w.instructor_id = uid OR EXISTS (SELECT 1 FROM public.workshop_facilitators
                                         WHERE workshop_id = w.id AND facilitator_id = uid) THEN
        RAISE EXCEPTION 'instructors do not register for their own workshop' USING ERRCODE = 'check_violation';
    END IF;
    seat := CASE WHEN (SELECT count(*) FROM public.workshop_registrations
                       WHERE workshop_id = w.id AND status IN ('registered', 'attended', 'no_show')) < w.capacity
                 THEN 'registered' ELSE 'waitlisted' END;

    SELECT id, status, payment_status, amount_paid INTO existing
    FROM public.workshop_registrations WHERE workshop_id = w.id AND user_id = uid;
    IF FOUND THEN
        IF existing.status <> 'cancelled' THEN
            RAISE EXCEPTION 'already registered' USING ERRCODE = 'unique_violation';
        END IF;
        -- Priced again, as enrollments are: a real payment still counts.
        UPDATE public.workshop_registrations
        SET status = seat, registered_at = now(),
            payment_status = CASE WHEN w.price_amount = 0
                                    OR (existing.payment_status = 'completed' AND existing.amount_paid > 0)
                                  THEN 'completed' ELSE 'pending' END::public.payment_status
        WHERE id = existing.id;
        RETURN existing.id;
    END IF;

    INSERT INTO public.workshop_registrations (workshop_id, user_id, status, payment_status)
    VALUES (w.id, uid, seat,
            CASE WHEN w.price_amount = 0 THEN 'completed' ELSE 'pending' END::public.payment_status)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Registration moves (002's), except that staff never mark their own, and
-- only a settled seat (paid, or free) is marked attended.
CREATE OR REPLACE FUNCTION public.guard_registrations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT public.api_caller() OR NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF NEW.user_id = (SELECT rls.uid()) AND NEW.status = 'cancelled'
       AND OLD.status IN ('registered', 'waitlisted') THEN
        RETURN NEW;
    END IF;
    IF public.is_workshop_staff(NEW.workshop_id) AND NEW.user_id IS DISTINCT FROM (SELECT rls.uid())
       AND NEW.status IN ('attended', 'no_show')
       AND OLD.status IN ('registered', 'attended', 'no_show')
       AND (NEW.status = 'no_show' OR OLD.payment_status = 'completed') THEN
        RETURN NEW;
    END IF;
    PERFORM public.refuse(format('a registration cannot move from %s to %s here', OLD.status, NEW.status));
    RETURN NULL;
END
$$;

-- A co-teacher is an active instructor, not the owner, never a second
-- 'primary', and not a student of what they would teach.
CREATE OR REPLACE FUNCTION public.check_co_teacher() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    teacher uuid;
    owner uuid;
    studies boolean;
BEGIN
    IF TG_TABLE_NAME = 'course_instructors' THEN
        teacher := NEW.instructor_id;
        SELECT instructor_id INTO owner FROM public.courses WHERE id = NEW.course_id;
        studies := EXISTS (SELECT 1 FROM public.course_enrollments
                           WHERE course_id = NEW.course_id AND user_id = teacher
                             AND status NOT IN ('cancelled', 'refunded'));
    ELSE
        teacher := NEW.facilitator_id;
        SELECT instructor_id INTO owner FROM public.workshops WHERE id = NEW.workshop_id;
        studies := EXISTS (SELECT 1 FROM public.workshop_registrations
                           WHERE workshop_id = NEW.workshop_id AND user_id = teacher AND status <> 'cancelled');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.users WHERE id = teacher AND role = 'instructor' AND is_active) THEN
        RAISE EXCEPTION 'a co-teacher must be an active instructor' USING ERRCODE = 'check_violation';
    END IF;
    IF teacher = owner THEN
        RAISE EXCEPTION 'the owner already teaches this' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.role::text = 'primary' THEN
        RAISE EXCEPTION 'the owner is the one primary teacher' USING ERRCODE = 'check_violation';
    END IF;
    IF studies THEN
        RAISE EXCEPTION 'a student of this cannot also teach it' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

-- A course's or a workshop's organization is its owner's decision (006's
-- rule for courses, now for workshops too), and the owner picks their own
-- organization or none. The rule lives in these guards rather than in the
-- update policies' WITH CHECK, which would have to read the row's stored
-- organization from the table they guard.
CREATE OR REPLACE FUNCTION public.guard_course_organization() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF public.api_caller() AND NEW.organization_id IS DISTINCT FROM OLD.organization_id
       AND NOT rls.is_admin() THEN
        IF OLD.instructor_id IS DISTINCT FROM (SELECT rls.uid()) THEN
            PERFORM public.refuse(format('only its owner moves a %s between organizations',
                                         CASE TG_TABLE_NAME WHEN 'courses' THEN 'course' ELSE 'workshop' END));
        END IF;
        IF NEW.organization_id IS NOT NULL AND NEW.organization_id IS DISTINCT FROM rls.member_org() THEN
            PERFORM public.refuse('an owner moves it into their own organization only');
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_workshop_organization BEFORE UPDATE OF organization_id ON public.workshops
    FOR EACH ROW EXECUTE FUNCTION public.guard_course_organization();

-- Profiles: who sees an instructor's profile, kept on the profile row from
-- the account (active, still an instructor) and the settings' visibility,
-- so the policy is a column test: 'public', 'students' (their students
-- only), 'private', or 'hidden' (deactivated, or no longer an instructor).
ALTER TABLE public.instructor_profiles
    ADD COLUMN visibility text NOT NULL DEFAULT 'public'
        CHECK (visibility IN ('public', 'students', 'private', 'hidden'));

CREATE FUNCTION public.profile_visibility_of(p_user_id uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT CASE WHEN u.is_active AND u.role = 'instructor'
                THEN coalesce(s.profile_visibility, 'public') ELSE 'hidden' END
    FROM public.users u LEFT JOIN public.instructor_settings s ON s.user_id = u.id
    WHERE u.id = p_user_id
$$;

CREATE FUNCTION public.sync_profile_visibility() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.instructor_profiles p SET visibility = public.profile_visibility_of(p.user_id)
    WHERE p.user_id = (to_jsonb(NEW) ->> CASE TG_TABLE_NAME WHEN 'users' THEN 'id' ELSE 'user_id' END)::uuid
      AND p.visibility IS DISTINCT FROM public.profile_visibility_of(p.user_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER sync_profile_visibility AFTER INSERT OR UPDATE OF is_active, role ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.sync_profile_visibility();
CREATE TRIGGER sync_profile_visibility AFTER INSERT OR UPDATE OF profile_visibility ON public.instructor_settings
    FOR EACH ROW EXECUTE FUNCTION public.sync_profile_visibility();
CREATE TRIGGER sync_profile_visibility AFTER INSERT ON public.instructor_profiles
    FOR EACH ROW EXECUTE FUNCTION public.sync_profile_visibility();
UPDATE public.instructor_profiles p SET visibility = public.profile_visibility_of(p.user_id)
WHERE p.visibility IS DISTINCT FROM public.profile_visibility_of(p.user_id);

CREATE OR REPLACE VIEW public.public_instructors AS
SELECT u.id, u.full_name, u.avatar_url, p.headline, p.bio, p.expertise_tags, p.pillars,
       p.website_url, p.social_links, p.is_verified, p.is_featured, p.total_students,
       p.total_courses, p.total_workshops, p.average_rating, p.total_reviews
FROM public.users u JOIN public.instructor_profiles p ON p.user_id = u.id
WHERE p.visibility = 'public';

-- The teachers of a published course by name (and avatar); whether each has
-- a public profile to link to.
CREATE OR REPLACE VIEW public.course_teachers AS
SELECT c.id AS course_id, c.instructor_id, 'primary'::public.course_instructor_role AS role,
       u.full_name, u.avatar_url, p.visibility = 'public' AS has_public_profile
FROM public.courses c JOIN public.users u ON u.id = c.instructor_id
LEFT JOIN public.instructor_profiles p ON p.user_id = c.instructor_id
WHERE c.status = 'published'
UNION ALL
SELECT ci.course_id, ci.instructor_id, ci.role, u.full_name, u.avatar_url,
       coalesce(p.visibility = 'public', false)
FROM public.course_instructors ci
JOIN public.courses c ON c.id = ci.course_id
JOIN public.users u ON u.id = ci.instructor_id
LEFT JOIN public.instructor_profiles p ON p.user_id = ci.instructor_id
WHERE c.status = 'published';

-- Monthly statistics by organization as well, so an organization's admin
-- gets that organization's months only (never the standalone courses of an
-- instructor who belongs to it). The function sums the rows the caller may
-- see into one row a month, as before.
DROP FUNCTION public.get_instructor_monthly_stats(uuid);
DROP MATERIALIZED VIEW public.instructor_monthly_stats;
CREATE MATERIALIZED VIEW public.instructor_monthly_stats AS
WITH months AS (
    SELECT c.instructor_id, c.organization_id, date_trunc('month', e.enrolled_at)::date AS month,
           count(*) AS new_enrollments, 0::bigint AS completions, 0::numeric AS gross, 0::numeric AS fees,
           0::numeric AS earnings, 0::bigint AS transactions, 0::bigint AS reviews, 0::numeric AS rating_sum
    FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT c.instructor_id, c.organization_id, date_trunc('month', e.completed_at)::date, 0, count(*), 0, 0, 0, 0, 0, 0
    FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
    WHERE e.completed_at IS NOT NULL
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT r.instructor_id, coalesce(c.organization_id, w.organization_id),
           date_trunc('month', r.transaction_date)::date, 0, 0,
           sum(r.amount), sum(r.platform_fee_amount), sum(r.instructor_earnings), count(*), 0, 0
    FROM public.revenue_transactions r
    LEFT JOIN public.courses c ON c.id = r.course_id
    LEFT JOIN public.workshops w ON w.id = r.workshop_id
    WHERE r.payment_status = 'completed'
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT c.instructor_id, c.organization_id, date_trunc('month', v.created_at)::date, 0, 0, 0, 0, 0, 0,
           count(*), sum(v.rating)
    FROM public.course_reviews v JOIN public.courses c ON c.id = v.course_id
    WHERE v.is_visible
    GROUP BY 1, 2, 3
)
SELECT instructor_id, organization_id, month,
       sum(new_enrollments)::integer AS new_enrollments,
       sum(completions)::integer AS completions,
       sum(gross)::numeric(12,2) AS gross_revenue,
       sum(fees)::numeric(12,2) AS platform_fees,
       sum(earnings)::numeric(12,2) AS net_revenue,
       sum(transactions)::integer AS transaction_count,
       sum(reviews)::integer AS new_reviews,
       sum(rating_sum)::integer AS rating_sum
FROM months
GROUP BY instructor_id, organization_id, month;
CREATE UNIQUE INDEX uq_instructor_monthly_stats
    ON public.instructor_monthly_stats (instructor_id, organization_id, month) NULLS NOT DISTINCT;

CREATE FUNCTION public.get_instructor_monthly_stats(p_instructor_id uuid)
RETURNS TABLE (instructor_id uuid, month date, new_enrollments integer, completions integer,
               gross_revenue numeric(12,2), platform_fees numeric(12,2), net_revenue numeric(12,2),
               transaction_count integer, new_reviews integer, average_rating numeric(3,2))
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT s.instructor_id, s.month, sum(s.new_enrollments)::integer, sum(s.completions)::integer,
           sum(s.gross_revenue)::numeric(12,2), sum(s.platform_fees)::numeric(12,2),
           sum(s.net_revenue)::numeric(12,2), sum(s.transaction_count)::integer,
           sum(s.new_reviews)::integer,
           round(sum(s.rating_sum)::numeric / nullif(sum(s.new_reviews), 0), 2)::numeric(3,2)
    FROM public.instructor_monthly_stats s
    WHERE s.instructor_id = p_instructor_id
      AND (p_instructor_id = (SELECT rls.uid()) OR (SELECT rls.is_admin())
           OR s.organization_id = (SELECT rls.admin_org()))
    GROUP BY s.instructor_id, s.month
    ORDER BY s.month DESC
$$;

-- 7. payment details: an envelope of ciphertext only ---------------------------------------
-- portal/secretbox.py writes "v1.<key id>.<base64url(nonce || AES-GCM ciphertext)>".
ALTER TABLE public.instructor_settings ADD CONSTRAINT payment_details_are_encrypted
    CHECK (payment_details IS NULL
           OR (payment_details ~ '^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{38,}$'
               AND char_length(payment_details) <= 4100));

-- Two helpers of 004/006 answered for any course id: now only for the
-- course's editors (and admins), who are the ones that call them.
CREATE OR REPLACE FUNCTION public.has_empty_quiz(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.course_lessons l
                   WHERE l.course_id = p_course_id AND l.content_type = 'quiz'
                     AND coalesce(jsonb_array_length(l.quiz -> 'questions'), 0) = 0)
       AND (public.has_course_permission(p_course_id, 'edit_content') OR rls.is_admin())
$$;
CREATE OR REPLACE FUNCTION public.lock_course_outline(p_course_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.require_content_editor(p_course_id);
    PERFORM pg_advisory_xact_lock(4004, hashtext(p_course_id::text));
END
$$;

-- Password hashes cost what a sign-in may spend: argon2id with at most
-- 64 MiB, 10 passes and 4 lanes (portal/passwords.py checks the same before
-- verifying). A hash's own parameters decide what verifying it costs, and
-- anyone may sign up.
CREATE FUNCTION public.bounded_argon2id(p_hash text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((SELECT x[1]::int BETWEEN 1024 AND 65536 AND x[2]::int BETWEEN 1 AND 10
                            AND x[3]::int BETWEEN 1 AND 4
                     FROM regexp_match(p_hash, '^\$argon2id\$v=19\$m=([0-9]{1,6}),t=([0-9]{1,3}),p=([0-9]{1,2})\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$') AS x),
                    false)
$$;
ALTER TABLE private.user_credentials ADD CONSTRAINT password_hashes_have_bounded_cost
    CHECK (public.bounded_argon2id(password_hash));

-- 8. row-level security, policies and grants -------------------------------------------------
--
-- A policy's EXISTS on another table ends in OFFSET 0, which keeps PostgreSQL
-- from turning it into a hashed subplan: that would read every row the
-- subquery could match (every enrollment of a 100k-student instructor, every
-- published course) to answer for the few rows a page shows; as a correlated
-- probe it is one index lookup per row read.

-- Every policy is dropped and written again from the caller's sets.
DO $drop$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT policyname, schemaname, tablename FROM pg_policies
             WHERE schemaname IN ('public', 'private') LOOP
        EXECUTE format('DROP POLICY %I ON %I.%I', p.policyname, p.schemaname, p.tablename);
    END LOOP;
END
$drop$;

-- organizations
CREATE POLICY organizations_read ON public.organizations FOR SELECT TO authenticated
    USING (id = (SELECT rls.member_org()) OR (SELECT rls.is_admin()));
CREATE POLICY organizations_create ON public.organizations FOR INSERT TO authenticated
    WITH CHECK ((SELECT rls.is_admin()));
CREATE POLICY organizations_update ON public.organizations FOR UPDATE TO authenticated
    USING (id = (SELECT rls.admin_org()) OR (SELECT rls.is_admin()))
    WITH CHECK (id = (SELECT rls.admin_org()) OR (SELECT rls.is_admin()));
CREATE POLICY organizations_delete ON public.organizations FOR DELETE TO authenticated
    USING ((SELECT rls.is_admin()));

-- users: yourself; your organization's members as its admin; admins; and
-- the students of what you teach (name, avatar and email only: the column
-- grants below keep role, organization and active flag from every reader;
-- one's own come from my_account()).
CREATE POLICY users_read ON public.users FOR SELECT TO authenticated
    USING (id = (SELECT rls.uid())
           OR (SELECT rls.is_admin())
           OR organization_id = (SELECT rls.admin_org())
           OR EXISTS (SELECT 1 FROM public.course_enrollments e
                      WHERE e.user_id = users.id
                        AND e.course_id = ANY ((SELECT rls.course_ids('{view_content,manage_students}'))::uuid[])
                      OFFSET 0)
           OR EXISTS (SELECT 1 FROM public.workshop_registrations r
                      WHERE r.user_id = users.id AND r.workshop_id = ANY ((SELECT rls.workshop_ids())::uuid[])
                      OFFSET 0));
CREATE POLICY users_update ON public.users FOR UPDATE TO authenticated
    USING (id = (SELECT rls.uid()) OR (SELECT rls.is_admin()))
    WITH CHECK (id = (SELECT rls.uid()) OR (SELECT rls.is_admin()));
CREATE POLICY users_delete ON public.users FOR DELETE TO authenticated
    USING ((SELECT rls.is_admin()));

-- instructor_profiles: by visibility; always oneself, one's organization's
-- admin and admins.
CREATE POLICY instructor_profiles_read_public ON public.instructor_profiles FOR SELECT TO anon
    USING (visibility = 'public');
CREATE POLICY instructor_profiles_read ON public.instructor_profiles FOR SELECT TO authenticated
    USING (visibility = 'public'
           OR user_id = (SELECT rls.uid())
           OR (SELECT rls.is_admin())
           OR (visibility = 'students' AND user_id = ANY ((SELECT rls.teacher_ids())::uuid[]))
           OR user_id = ANY ((SELECT rls.org_member_ids())::uuid[]));
CREATE POLICY instructor_profiles_update ON public.instructor_profiles FOR UPDATE TO authenticated
    USING (user_id = (SELECT rls.uid()) OR (SELECT rls.is_admin()))
    WITH CHECK (user_id = (SELECT rls.uid()) OR (SELECT rls.is_admin()));
CREATE POLICY instructor_profiles_delete ON public.instructor_profiles FOR DELETE TO authenticated
    USING ((SELECT rls.is_admin()));

-- instructor_settings: the instructor alone.
CREATE POLICY instructor_settings_read ON public.instructor_settings FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid()));
CREATE POLICY instructor_settings_update ON public.instructor_settings FOR UPDATE TO authenticated
    USING (user_id = (SELECT rls.uid())) WITH CHECK (user_id = (SELECT rls.uid()));

-- courses
CREATE POLICY courses_read_published ON public.courses FOR SELECT TO anon
    USING (is_published);
-- (instructor_id is tested itself too: a course inserted by this very
-- statement is not in the set computed when the statement began, and
-- INSERT ... RETURNING must see it.)
CREATE POLICY courses_read ON public.courses FOR SELECT TO authenticated
    USING (is_published
           OR instructor_id = (SELECT rls.uid())
           OR id = ANY ((SELECT rls.course_ids('{view_content,edit_content,manage_students}'))::uuid[])
           OR organization_id = (SELECT rls.admin_org())
           OR (SELECT rls.is_admin())
           OR id = ANY ((SELECT rls.enrolled_course_ids())::uuid[]));
CREATE POLICY courses_create ON public.courses FOR INSERT TO authenticated
    WITH CHECK (instructor_id = (SELECT rls.uid())
                AND (SELECT rls.role()) = 'instructor'
                AND (organization_id IS NULL OR organization_id = (SELECT rls.member_org())));
CREATE POLICY courses_update ON public.courses FOR UPDATE TO authenticated
    USING (id = ANY ((SELECT rls.course_ids('{edit_content}'))::uuid[]) OR (SELECT rls.is_admin()))
    WITH CHECK (id = ANY ((SELECT rls.course_ids('{edit_content}'))::uuid[]) OR (SELECT rls.is_admin()));
CREATE POLICY courses_delete ON public.courses FOR DELETE TO authenticated
    USING ((instructor_id = (SELECT rls.uid()) AND status = 'draft'
            AND NOT EXISTS (SELECT 1 FROM public.course_enrollments e WHERE e.course_id = courses.id))
           OR (SELECT rls.is_admin()));

-- course_modules
CREATE POLICY course_modules_read ON public.course_modules FOR SELECT TO authenticated
    USING (course_id = ANY ((SELECT rls.course_ids('{view_content}'))::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR (SELECT rls.is_admin())
           OR course_id = ANY ((SELECT rls.enrolled_course_ids())::uuid[]));
CREATE POLICY course_modules_write ON public.course_modules FOR ALL TO authenticated
    USING (course_id = ANY ((SELECT rls.course_ids('{edit_content}'))::uuid[]))
    WITH CHECK (course_id = ANY ((SELECT rls.course_ids('{edit_content}'))::uuid[]));

-- course_lessons: released content for students (rls.lesson_released only
-- on rows of courses the caller is enrolled in), previews of published
-- courses for everyone. The quiz column (answer key) is no API role's:
-- lesson_quiz() gives it out.
CREATE POLICY course_lessons_read_preview ON public.course_lessons FOR SELECT TO anon
    USING (is_preview AND EXISTS (SELECT 1 FROM public.courses c
                                  WHERE c.id = course_lessons.course_id AND c.is_published OFFSET 0));
CREATE POLICY course_lessons_read ON public.course_lessons FOR SELECT TO authenticated
    USING (course_id = ANY ((SELECT rls.course_ids('{view_content}'))::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR (SELECT rls.is_admin())
           OR (is_preview AND EXISTS (SELECT 1 FROM public.courses c
                                      WHERE c.id = course_lessons.course_id AND c.is_published OFFSET 0))
           OR (course_id = ANY ((SELECT rls.enrolled_course_ids())::uuid[]) AND rls.lesson_released(id)));
CREATE POLICY course_lessons_write ON public.course_lessons FOR ALL TO authenticated
    USING (course_id = ANY ((SELECT rls.course_ids('{edit_content}'))::uuid[]))
    WITH CHECK (course_id = ANY ((SELECT rls.course_ids('{edit_content}'))::uuid[]));

-- course_enrollments
CREATE POLICY course_enrollments_read ON public.course_enrollments FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_content,manage_students}'))::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR (SELECT rls.is_admin()));
CREATE POLICY course_enrollments_update ON public.course_enrollments FOR UPDATE TO authenticated
    USING (user_id = (SELECT rls.uid()) OR course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[]))
    WITH CHECK (user_id = (SELECT rls.uid()) OR course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[]));
CREATE POLICY course_enrollments_delete ON public.course_enrollments FOR DELETE TO authenticated
    USING ((SELECT rls.is_admin()));

-- lesson_progress: read by the student, the course's teachers and admins;
-- written only by start_lesson, complete_lesson, record_watch_time and
-- submit_quiz.
CREATE POLICY lesson_progress_read ON public.lesson_progress FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_content,manage_students}'))::uuid[])
           OR (SELECT rls.is_admin()));

-- student_progress
CREATE POLICY student_progress_read ON public.student_progress FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_content,manage_students}'))::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR (SELECT rls.is_admin()));

-- student_activity
CREATE POLICY student_activity_read ON public.student_activity FOR SELECT TO authenticated
    USING (instructor_id = (SELECT rls.uid())
           OR student_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_content,manage_students}'))::uuid[])
           OR workshop_id = ANY ((SELECT rls.workshop_ids())::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR workshop_id = ANY ((SELECT rls.org_workshop_ids())::uuid[])
           OR (SELECT rls.is_admin()));

-- revenue_transactions
CREATE POLICY revenue_transactions_read ON public.revenue_transactions FOR SELECT TO authenticated
    USING (instructor_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_revenue}'))::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR workshop_id = ANY ((SELECT rls.org_workshop_ids())::uuid[])
           OR (SELECT rls.is_admin()));

-- course_reviews
CREATE POLICY course_reviews_read_public ON public.course_reviews FOR SELECT TO anon
    USING (is_visible AND EXISTS (SELECT 1 FROM public.courses c
                                  WHERE c.id = course_reviews.course_id AND c.is_published OFFSET 0));
CREATE POLICY course_reviews_read ON public.course_reviews FOR SELECT TO authenticated
    USING ((is_visible AND EXISTS (SELECT 1 FROM public.courses c
                                   WHERE c.id = course_reviews.course_id AND c.is_published OFFSET 0))
           OR user_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_content,respond_reviews}'))::uuid[])
           OR (SELECT rls.is_admin()));
CREATE POLICY course_reviews_create ON public.course_reviews FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT rls.uid()) AND public.can_review_course(course_id));
CREATE POLICY course_reviews_update ON public.course_reviews FOR UPDATE TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{respond_reviews}'))::uuid[])
           OR (SELECT rls.is_admin()))
    WITH CHECK (user_id = (SELECT rls.uid())
                OR course_id = ANY ((SELECT rls.course_ids('{respond_reviews}'))::uuid[])
                OR (SELECT rls.is_admin()));
CREATE POLICY course_reviews_delete ON public.course_reviews FOR DELETE TO authenticated
    USING (user_id = (SELECT rls.uid()) OR (SELECT rls.is_admin()));

-- workshop_feedback: attendees, once, and never the workshop's staff.
CREATE POLICY workshop_feedback_read ON public.workshop_feedback FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR workshop_id = ANY ((SELECT rls.workshop_ids())::uuid[])
           OR workshop_id = ANY ((SELECT rls.org_workshop_ids())::uuid[])
           OR (SELECT rls.is_admin()));
CREATE POLICY workshop_feedback_create ON public.workshop_feedback FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT rls.uid())
                AND workshop_id = ANY ((SELECT rls.registered_workshop_ids('{attended}'))::uuid[])
                AND NOT workshop_id = ANY ((SELECT rls.workshop_ids())::uuid[]));
CREATE POLICY workshop_feedback_update ON public.workshop_feedback FOR UPDATE TO authenticated
    USING (user_id = (SELECT rls.uid())) WITH CHECK (user_id = (SELECT rls.uid()));
CREATE POLICY workshop_feedback_delete ON public.workshop_feedback FOR DELETE TO authenticated
    USING ((SELECT rls.is_admin()));

-- course_instructors
CREATE POLICY course_instructors_read ON public.course_instructors FOR SELECT TO authenticated
    USING (instructor_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.owned_course_ids())::uuid[])
           OR (SELECT rls.is_admin()));
CREATE POLICY course_instructors_write ON public.course_instructors FOR ALL TO authenticated
    USING (course_id = ANY ((SELECT rls.owned_course_ids())::uuid[]) OR (SELECT rls.is_admin()))
    WITH CHECK (course_id = ANY ((SELECT rls.owned_course_ids())::uuid[]) OR (SELECT rls.is_admin()));

-- workshops
CREATE POLICY workshops_read_published ON public.workshops FOR SELECT TO anon
    USING (is_published);
CREATE POLICY workshops_read ON public.workshops FOR SELECT TO authenticated
    USING (is_published
           OR instructor_id = (SELECT rls.uid())
           OR id = ANY ((SELECT rls.workshop_ids())::uuid[])
           OR organization_id = (SELECT rls.admin_org())
           OR (SELECT rls.is_admin())
           OR id = ANY ((SELECT rls.registered_workshop_ids('{registered,waitlisted,attended,no_show}'))::uuid[]));
CREATE POLICY workshops_create ON public.workshops FOR INSERT TO authenticated
    WITH CHECK (instructor_id = (SELECT rls.uid())
                AND (SELECT rls.role()) = 'instructor'
                AND (organization_id IS NULL OR organization_id = (SELECT rls.member_org())));
CREATE POLICY workshops_update ON public.workshops FOR UPDATE TO authenticated
    USING (id = ANY ((SELECT rls.workshop_ids())::uuid[]) OR (SELECT rls.is_admin()))
    WITH CHECK (id = ANY ((SELECT rls.workshop_ids())::uuid[]) OR (SELECT rls.is_admin()));
CREATE POLICY workshops_delete ON public.workshops FOR DELETE TO authenticated
    USING ((instructor_id = (SELECT rls.uid()) AND status = 'draft'
            AND NOT EXISTS (SELECT 1 FROM public.workshop_registrations r WHERE r.workshop_id = workshops.id))
           OR (SELECT rls.is_admin()));

-- workshop_registrations
CREATE POLICY workshop_registrations_read ON public.workshop_registrations FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR workshop_id = ANY ((SELECT rls.workshop_ids())::uuid[])
           OR workshop_id = ANY ((SELECT rls.org_workshop_ids())::uuid[])
           OR (SELECT rls.is_admin()));
CREATE POLICY workshop_registrations_update ON public.workshop_registrations FOR UPDATE TO authenticated
    USING (user_id = (SELECT rls.uid()) OR workshop_id = ANY ((SELECT rls.workshop_ids())::uuid[]))
    WITH CHECK (user_id = (SELECT rls.uid()) OR workshop_id = ANY ((SELECT rls.workshop_ids())::uuid[]));
CREATE POLICY workshop_registrations_delete ON public.workshop_registrations FOR DELETE TO authenticated
    USING ((SELECT rls.is_admin()));

-- workshop_facilitators
CREATE POLICY workshop_facilitators_read_public ON public.workshop_facilitators FOR SELECT TO anon
    USING (EXISTS (SELECT 1 FROM public.workshops w WHERE w.id = workshop_id AND w.is_published OFFSET 0));
CREATE POLICY workshop_facilitators_read ON public.workshop_facilitators FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM public.workshops w WHERE w.id = workshop_id AND w.is_published OFFSET 0)
           OR facilitator_id = (SELECT rls.uid())
           OR workshop_id = ANY ((SELECT rls.owned_workshop_ids())::uuid[])
           OR (SELECT rls.is_admin()));
CREATE POLICY workshop_facilitators_write ON public.workshop_facilitators FOR ALL TO authenticated
    USING (workshop_id = ANY ((SELECT rls.owned_workshop_ids())::uuid[]) OR (SELECT rls.is_admin()))
    WITH CHECK (workshop_id = ANY ((SELECT rls.owned_workshop_ids())::uuid[]) OR (SELECT rls.is_admin()));

-- drip_unlocks
CREATE POLICY drip_unlocks_read ON public.drip_unlocks FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_content,manage_students}'))::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR (SELECT rls.is_admin()));
CREATE POLICY drip_unlocks_create ON public.drip_unlocks FOR INSERT TO authenticated
    WITH CHECK ((course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[]) OR (SELECT rls.is_admin()))
                AND unlocked_by IS NOT DISTINCT FROM (SELECT rls.uid()));
CREATE POLICY drip_unlocks_delete ON public.drip_unlocks FOR DELETE TO authenticated
    USING (course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[]) OR (SELECT rls.is_admin()));

-- checkouts: money, so the student's own and those who may read the
-- course's revenue (no longer every co-instructor who manages students).
CREATE POLICY checkouts_read ON public.checkouts FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_revenue}'))::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR (SELECT rls.is_admin()));

-- certificates
CREATE POLICY certificates_read ON public.certificates FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_content,manage_students}'))::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR (SELECT rls.is_admin()));

-- review_helpful_votes and review_reports
CREATE POLICY review_helpful_votes_read ON public.review_helpful_votes FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid()) OR (SELECT rls.is_admin()));
CREATE POLICY review_helpful_votes_create ON public.review_helpful_votes FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT rls.uid())
                AND public.can_see_review(review_id)
                AND NOT public.is_review_author(review_id)
                -- teachers are not students: no votes on reviews of what they teach
                AND NOT EXISTS (SELECT 1 FROM public.course_reviews r
                                WHERE r.id = review_id
                                  AND r.course_id = ANY ((SELECT rls.taught_course_ids())::uuid[])
                                OFFSET 0));
CREATE POLICY review_helpful_votes_delete ON public.review_helpful_votes FOR DELETE TO authenticated
    USING (user_id = (SELECT rls.uid()));
CREATE POLICY review_reports_read ON public.review_reports FOR SELECT TO authenticated
    USING (reporter_id = (SELECT rls.uid()) OR (SELECT rls.is_admin()));
CREATE POLICY review_reports_create ON public.review_reports FOR INSERT TO authenticated
    WITH CHECK (reporter_id = (SELECT rls.uid())
                AND public.can_see_review(review_id)
                AND NOT public.is_review_author(review_id));
CREATE POLICY review_reports_update ON public.review_reports FOR UPDATE TO authenticated
    USING ((SELECT rls.is_admin())) WITH CHECK ((SELECT rls.is_admin()));
CREATE POLICY review_reports_delete ON public.review_reports FOR DELETE TO authenticated
    USING ((SELECT rls.is_admin()));

-- Engagement per course, for courses whose students the reader may see.
CREATE OR REPLACE VIEW public.student_engagement_summary WITH (security_invoker = true) AS
SELECT c.id AS course_id,
       c.instructor_id,
       c.title AS course_title,
       count(s.id)::integer AS student_count,
       count(s.id) FILTER (WHERE e.status = 'completed')::integer AS completed_students,
       coalesce(round(avg(s.progress_percentage), 2), 0)::numeric(5,2) AS average_progress,
       coalesce(round(avg(s.engagement_score), 2), 0)::numeric(5,2) AS average_engagement,
       coalesce(round(avg(s.average_quiz_score), 2), 0)::numeric(5,2) AS average_quiz_score,
       count(s.id) FILTER (WHERE s.last_activity_at > now() - interval '7 days')::integer AS active_last_7_days,
       count(s.id) FILTER (WHERE s.progress_percentage < 30 AND s.created_at < now() - interval '7 days'
                           AND e.status IN ('enrolled', 'in_progress'))::integer AS at_risk_students,
       CASE WHEN count(s.id) = 0 THEN 0
            ELSE round(100.0 * count(s.id) FILTER (WHERE e.status = 'completed') / count(s.id), 2)
       END::numeric(5,2) AS completion_rate
FROM public.courses c
LEFT JOIN public.course_enrollments e
       ON e.course_id = c.id AND e.status IN ('enrolled', 'in_progress', 'completed')
LEFT JOIN public.student_progress s ON s.enrollment_id = e.id
WHERE NOT public.api_caller()
   OR c.id = ANY ((SELECT rls.course_ids('{view_content,manage_students}'))::uuid[])
   OR c.organization_id = (SELECT rls.admin_org())
   OR (SELECT rls.is_admin())
GROUP BY c.id, c.instructor_id, c.title;

-- Grants: every privilege of the API roles on what the owner owns is
-- revoked, then granted again from the lists below. Members of extensions
-- (citext's functions) keep theirs.
DO $revoke$
DECLARE
    obj record;
BEGIN
    FOR obj IN
        SELECT format('%s %s', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.oid::regclass) AS name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'private', 'rls') AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND c.relowner = current_user::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        UNION ALL
        SELECT format('FUNCTION %s', p.oid::regprocedure)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('public', 'private', 'rls') AND p.prokind IN ('f', 'p')
          AND p.proowner = current_user::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM PUBLIC, anon, authenticated, service_role, portal_signin', obj.name);
    END LOOP;
END
$revoke$;
-- New objects of the owner get nothing by default (Supabase's default
-- privileges grant ALL in public to the API roles).
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM PUBLIC, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM PUBLIC, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM PUBLIC, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

GRANT USAGE ON SCHEMA rls TO authenticated;
GRANT USAGE ON SCHEMA public TO portal_signin;

-- Tables. Figures, payment fields and stamps are in no write list; money
-- columns, meeting links, answer keys and users' roles are in no read list.
DO $grants$
DECLARE
    -- Every column of a table but the named ones.
    cols text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = 'public.courses'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname <> 'total_revenue';
    EXECUTE format('GRANT SELECT (%s) ON public.courses TO anon, authenticated', cols);

    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = 'public.workshops'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname NOT IN ('total_revenue', 'meeting_url');
    EXECUTE format('GRANT SELECT (%s) ON public.workshops TO anon, authenticated', cols);

    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = 'public.course_lessons'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname <> 'quiz';
    EXECUTE format('GRANT SELECT (%s) ON public.course_lessons TO anon, authenticated', cols);

    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = 'public.course_enrollments'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname <> 'amount_paid';
    EXECUTE format('GRANT SELECT (%s) ON public.course_enrollments TO authenticated', cols);

    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = 'public.workshop_registrations'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname <> 'amount_paid';
    EXECUTE format('GRANT SELECT (%s) ON public.workshop_registrations TO authenticated', cols);
END
$grants$;

GRANT SELECT, INSERT (name, slug, settings), UPDATE (name, slug, settings), DELETE
    ON public.organizations TO authenticated;
GRANT SELECT (id, email, full_name, avatar_url, created_at, updated_at),
      UPDATE (full_name, avatar_url, email, role, organization_id, is_active), DELETE
    ON public.users TO authenticated;
GRANT SELECT ON public.instructor_profiles TO anon;
GRANT SELECT, UPDATE (headline, bio, expertise_tags, pillars, education, certifications,
                      work_experience, social_links, website_url, is_verified, is_featured), DELETE
    ON public.instructor_profiles TO authenticated;
GRANT SELECT, UPDATE (email_notifications, push_notifications, auto_approve_enrollments,
                      allow_student_questions, allow_course_reviews, profile_visibility,
                      payment_method, payment_details, payout_schedule, calendar_sync_enabled,
                      calendar_provider, timezone)
    ON public.instructor_settings TO authenticated;
GRANT INSERT (id, instructor_id, organization_id, title, slug, subtitle, description, thumbnail_url,
              level, language, price_amount, currency, status, category, tags, what_you_will_learn,
              target_audience, certificate_enabled, certificate_template_url, allow_comments,
              allow_qa, drip_content, drip_schedule),
      UPDATE (instructor_id, organization_id, title, slug, subtitle, description, thumbnail_url,
              level, language, price_amount, currency, status, category, tags, what_you_will_learn,
              target_audience, certificate_enabled, certificate_template_url, allow_comments,
              allow_qa, drip_content, drip_schedule),
      DELETE
    ON public.courses TO authenticated;
GRANT SELECT, INSERT (id, course_id, title, description, position),
      UPDATE (title, description, position), DELETE
    ON public.course_modules TO authenticated;
GRANT INSERT (id, module_id, course_id, title, position, content_type, body, video_url,
              duration_minutes, is_preview, quiz, passing_score),
      UPDATE (module_id, title, position, content_type, body, video_url, duration_minutes,
              is_preview, quiz, passing_score),
      DELETE
    ON public.course_lessons TO authenticated;
GRANT UPDATE (status), DELETE ON public.course_enrollments TO authenticated;
GRANT SELECT ON public.lesson_progress, public.student_progress, public.student_activity,
                public.revenue_transactions TO authenticated;
GRANT SELECT ON public.course_reviews TO anon;
GRANT SELECT,
      INSERT (course_id, user_id, rating, title, review_text, content_quality_rating,
              instructor_rating, value_rating),
      UPDATE (rating, title, review_text, content_quality_rating, instructor_rating, value_rating,
              instructor_response, is_visible, moderation_reason),
      DELETE
    ON public.course_reviews TO authenticated;
GRANT SELECT,
      INSERT (workshop_id, user_id, overall_satisfaction, content_rating, delivery_rating,
              interaction_rating, what_went_well, what_could_improve, nps_score, would_recommend),
      UPDATE (overall_satisfaction, content_rating, delivery_rating, interaction_rating,
              what_went_well, what_could_improve, nps_score, would_recommend),
      DELETE
    ON public.workshop_feedback TO authenticated;
GRANT SELECT, INSERT (course_id, instructor_id, role, permissions), UPDATE (role, permissions), DELETE
    ON public.course_instructors TO authenticated;
GRANT INSERT (id, instructor_id, organization_id, title, slug, description, start_time, end_time,
              timezone, location, meeting_url, capacity, price_amount, currency, status, type, tags,
              prerequisites, what_you_will_learn, certificate_enabled, certificate_template_url),
      UPDATE (instructor_id, organization_id, title, slug, description, start_time, end_time,
              timezone, location, meeting_url, capacity, price_amount, currency, status, type, tags,
              prerequisites, what_you_will_learn, certificate_enabled, certificate_template_url),
      DELETE
    ON public.workshops TO authenticated;
GRANT UPDATE (status), DELETE ON public.workshop_registrations TO authenticated;
GRANT SELECT ON public.workshop_facilitators TO anon;
GRANT SELECT, INSERT (workshop_id, facilitator_id, role), UPDATE (role), DELETE
    ON public.workshop_facilitators TO authenticated;
GRANT SELECT, INSERT (enrollment_id, user_id, course_id, module_id, lesson_id), DELETE
    ON public.drip_unlocks TO authenticated;
GRANT SELECT ON public.checkouts, public.certificates TO authenticated;
GRANT SELECT, INSERT (review_id), DELETE ON public.review_helpful_votes TO authenticated;
GRANT SELECT, INSERT (review_id, reason, details), UPDATE (resolved_at), DELETE
    ON public.review_reports TO authenticated;
-- Owner-rights views of public facts, and the invoker-rights engagement view.
GRANT SELECT ON public.public_instructors, public.course_outline, public.course_teachers,
                public.review_authors TO anon, authenticated;
GRANT SELECT ON public.student_engagement_summary TO authenticated;
-- service_role (the payment webhook, back-office jobs) reads every table of
-- public; it writes only through the functions granted to it below.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO service_role;
REVOKE SELECT ON public.instructor_monthly_stats FROM service_role;
-- Only the instructor reads their payment details' ciphertext.
REVOKE SELECT ON public.instructor_settings FROM service_role;
DO $settings$
DECLARE
    cols text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
    WHERE attrelid = 'public.instructor_settings'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname <> 'payment_details';
    EXECUTE format('GRANT SELECT (%s) ON public.instructor_settings TO service_role', cols);
END
$settings$;

-- Functions: the allow-list (tests/test_grants.py keeps the same list).
-- Sign-in: only portal_signin, which only authenticator can become.
GRANT EXECUTE ON FUNCTION public.credentials_for_sign_in(text),
    public.sign_in_throttled(text, text, integer, integer, interval),
    public.record_sign_in_failure(text, text)
TO portal_signin;
GRANT EXECUTE ON FUNCTION public.sign_up(text, text, text, public.user_role),
    public.verify_certificate(text), public.lesson_quiz(uuid)
TO anon;
-- What signed-in users call, and what their policies and guards call as them.
GRANT EXECUTE ON FUNCTION
    rls.uid(), rls.role(), rls.is_admin(), rls.admin_org(), rls.member_org(), rls.course_ids(text[]),
    rls.owned_course_ids(), rls.taught_course_ids(), rls.org_course_ids(), rls.enrolled_course_ids(), rls.workshop_ids(),
    rls.owned_workshop_ids(), rls.org_workshop_ids(), rls.registered_workshop_ids(public.registration_status[]),
    rls.teacher_ids(), rls.org_member_ids(), rls.lesson_released(uuid),
    public.api_caller(), public.refuse(text),
    public.current_user_role(), public.is_platform_admin(), public.has_course_permission(uuid, text),
    public.is_course_owner(uuid), public.is_workshop_staff(uuid), public.can_review_course(uuid),
    public.can_see_review(uuid), public.is_review_author(uuid),
    public.my_account(), public.account_of(uuid), public.set_own_password_hash(text), public.verify_certificate(text),
    public.enroll_in_course(uuid), public.register_for_workshop(uuid), public.start_checkout(uuid, text),
    public.learning_outline(uuid), public.lesson_quiz(uuid), public.start_lesson(uuid),
    public.complete_lesson(uuid), public.record_watch_time(uuid, integer), public.submit_quiz(uuid, integer[]),
    public.course_revenue(uuid), public.workshop_revenue(uuid), public.workshop_meeting_url(uuid),
    public.enrollment_amount_paid(uuid), public.registration_amount_paid(uuid),
    public.admin_refund(uuid, uuid), public.mark_payouts_paid(uuid[]),
    public.add_course_instructor(uuid, text, public.course_instructor_role, jsonb),
    public.course_is_publishable(uuid), public.has_empty_quiz(uuid),
    public.lock_course_outline(uuid), public.require_content_editor(uuid),
    public.renumber_modules(uuid), public.renumber_lessons(uuid),
    public.move_module(uuid, integer), public.move_lesson(uuid, uuid, integer),
    public.delete_module(uuid), public.delete_lesson(uuid),
    public.shift_module(uuid, integer), public.shift_lesson(uuid, integer),
    public.is_iso_date(text), public.valid_drip_schedule(jsonb), public.valid_quiz(jsonb),
    public.drip_rule_met(jsonb, timestamptz, text), public.drip_rule_opens_at(jsonb, timestamptz, text),
    public.get_instructor_dashboard_stats(uuid), public.get_instructor_student_progress(uuid, uuid),
    public.get_instructor_revenue_breakdown(uuid, timestamptz, timestamptz),
    public.get_instructor_recent_activity(uuid, integer, timestamptz, uuid),
    public.get_instructor_monthly_stats(uuid), public.can_view_instructor(uuid)
TO authenticated;
-- The payment path.
GRANT EXECUTE ON FUNCTION public.apply_payment_event(text, uuid, text, text, jsonb),
    public.confirm_course_payment(uuid), public.confirm_workshop_payment(uuid),
    public.refund_course_enrollment(uuid), public.refund_workshop_registration(uuid),
    public.api_caller(), public.course_revenue(uuid), public.verify_certificate(text),
    public.valid_quiz(jsonb), public.valid_drip_schedule(jsonb), public.is_iso_date(text)
TO service_role;
