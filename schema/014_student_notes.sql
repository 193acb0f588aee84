-- 014: a student's page and the instructor's activity timeline (issue 15, part B).
--
-- 1. instructor_student_notes: an instructor's private notes on a student.
--    Reading: the author alone. The access model gives notes no reader beyond
--    "the instructor's private notes" (issue 15), and where it is silent the
--    answer is deny: co-instructors do not share notes (each writes their own),
--    the student never reads notes about themself, org admins and platform
--    admins read none, and service_role (the back office) holds no grant.
--    Notes follow the teaching: the author reads, writes, rewrites and deletes
--    a note while the student is enrolled (any status) in a course the author
--    owns or co-teaches with manage_students, and the course the note names,
--    if any (course_id), is one of those enrollments: one predicate for every
--    operation, so SQL answers as the portal does (a student who is no longer
--    theirs to manage hides the notes; they come back with the permission).
--    The author is the caller (WITH CHECK), and only the body is updatable
--    (column grants): no note moves to another author, student or course, and
--    no stamp is forged.
--    A note goes with either account: delete_account (011, replaced in 4.)
--    erases the notes written by and about the account on both of its outcomes
--    (private.forget_notes_of), "deactivated" as well as "deleted". An admin
--    deactivating an account (users.is_active) is no deletion and erases
--    nothing: the account may come back; its notes stay hidden from everyone
--    else meanwhile, as always.
CREATE TABLE public.instructor_student_notes (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instructor_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    student_id    uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    course_id     uuid REFERENCES public.courses (id) ON DELETE SET NULL,
    body          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT instructor_student_notes_body_length
        CHECK (char_length(body) <= 5000 AND body ~ '\S'),
    CONSTRAINT instructor_student_notes_not_oneself CHECK (instructor_id <> student_id)
);
-- The student's page lists the caller's notes on one student, newest first (keyset).
CREATE INDEX idx_instructor_student_notes_author
    ON public.instructor_student_notes (instructor_id, student_id, created_at DESC, id DESC);
-- The foreign keys' other ends (deleting a user or a course).
CREATE INDEX idx_instructor_student_notes_student ON public.instructor_student_notes (student_id);
CREATE INDEX idx_instructor_student_notes_course ON public.instructor_student_notes (course_id);

CREATE FUNCTION private.stamp_student_note() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER stamp_student_note BEFORE UPDATE ON public.instructor_student_notes
    FOR EACH ROW EXECUTE FUNCTION private.stamp_student_note();

-- The notes written by or about an account, erased when it closes (delete_account).
-- Called from delete_account (SECURITY DEFINER) only: it runs as the owner.
CREATE FUNCTION private.forget_notes_of(p_user uuid) RETURNS void
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp AS $$
    DELETE FROM public.instructor_student_notes WHERE instructor_id = p_user OR student_id = p_user
$$;

ALTER TABLE public.instructor_student_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.instructor_student_notes FORCE ROW LEVEL SECURITY;
-- One predicate, the teaching (see the header): the caller's set of courses is
-- computed once per statement; the enrollment is looked up by (user_id,
-- course_id) under the caller's own read policy (008's index), once per note
-- row read: a page of one student's notes.
CREATE POLICY instructor_student_notes_read ON public.instructor_student_notes FOR SELECT TO authenticated
    USING (instructor_id = (SELECT rls.uid())
                AND EXISTS (SELECT 1 FROM public.course_enrollments e
                            WHERE e.user_id = instructor_student_notes.student_id
                              AND e.course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
                              AND (instructor_student_notes.course_id IS NULL
                                   OR e.course_id = instructor_student_notes.course_id)
                            OFFSET 0));
CREATE POLICY instructor_student_notes_create ON public.instructor_student_notes FOR INSERT TO authenticated
    WITH CHECK (instructor_id = (SELECT rls.uid())
                AND EXISTS (SELECT 1 FROM public.course_enrollments e
                            WHERE e.user_id = instructor_student_notes.student_id
                              AND e.course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
                              AND (instructor_student_notes.course_id IS NULL
                                   OR e.course_id = instructor_student_notes.course_id)
                            OFFSET 0));
CREATE POLICY instructor_student_notes_update ON public.instructor_student_notes FOR UPDATE TO authenticated
    USING (instructor_id = (SELECT rls.uid())
                AND EXISTS (SELECT 1 FROM public.course_enrollments e
                            WHERE e.user_id = instructor_student_notes.student_id
                              AND e.course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
                              AND (instructor_student_notes.course_id IS NULL
                                   OR e.course_id = instructor_student_notes.course_id)
                            OFFSET 0))
    WITH CHECK (instructor_id = (SELECT rls.uid())
                AND EXISTS (SELECT 1 FROM public.course_enrollments e
                            WHERE e.user_id = instructor_student_notes.student_id
                              AND e.course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
                              AND (instructor_student_notes.course_id IS NULL
                                   OR e.course_id = instructor_student_notes.course_id)
                            OFFSET 0));
CREATE POLICY instructor_student_notes_delete ON public.instructor_student_notes FOR DELETE TO authenticated
    USING (instructor_id = (SELECT rls.uid())
                AND EXISTS (SELECT 1 FROM public.course_enrollments e
                            WHERE e.user_id = instructor_student_notes.student_id
                              AND e.course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
                              AND (instructor_student_notes.course_id IS NULL
                                   OR e.course_id = instructor_student_notes.course_id)
                            OFFSET 0));

REVOKE ALL ON public.instructor_student_notes FROM PUBLIC, anon, authenticated, service_role, portal_signin,
    portal_worker;
GRANT SELECT, INSERT (instructor_id, student_id, course_id, body), UPDATE (body), DELETE
    ON public.instructor_student_notes TO authenticated;
REVOKE ALL ON FUNCTION private.stamp_student_note(), private.forget_notes_of(uuid)
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;

-- 2. The activity timeline, read four ways: the instructor's whole timeline
--    (002's idx_student_activity_instructor_occurred), one course's (co-taught
--    courses, the course filter), one workshop's (facilitated workshops) and
--    one student's (the student filter, the student's page). The last three
--    were single-column indexes (002), which could not give rows in time
--    order: these lead with the same column (the foreign keys' lookups keep
--    theirs), so they replace them.
--    No index by activity type: student_activity is the biggest table, and a
--    type filter is a rare view of the timeline; a rare type reads down the
--    timeline's index until a page is found (or the end), bounded by the
--    caller's own rows, and the live refresh of an empty view starts from the
--    time the page was drawn (not from the start of time).
--    Built inside the migration's transaction, these block writes to
--    student_activity while they build (see the README's deployment notes).
CREATE INDEX idx_student_activity_course_occurred
    ON public.student_activity (course_id, occurred_at DESC, id DESC);
CREATE INDEX idx_student_activity_workshop_occurred
    ON public.student_activity (workshop_id, occurred_at DESC, id DESC);
CREATE INDEX idx_student_activity_student_occurred
    ON public.student_activity (student_id, occurred_at DESC, id DESC);
DROP INDEX public.idx_student_activity_course;
DROP INDEX public.idx_student_activity_workshop;
DROP INDEX public.idx_student_activity_student;

-- 3. instructor_activity_page: the caller's student activity, one page, by
--    position. 008's get_instructor_recent_activity(p_instructor_id, ...) reads
--    the rows whose instructor_id is the given instructor: the owner's timeline,
--    but nothing for a co-instructor (activity rows carry the course owner's
--    id). This one answers for the caller only (no instructor argument): the
--    rows of student_activity_read (007) that belong to their teaching: their
--    own timeline (instructor_id), the courses they co-teach with view_content
--    or manage_students, and the workshops they facilitate; with filters
--    (course, type, student). p_courses_only leaves workshops out (a student's
--    page shows their courses with the caller). SECURITY INVOKER: the policies
--    decide as well.
--
--    Paging: newest first, before (p_before, p_before_id) when given; with
--    p_after, the rows after that position, OLDEST first (the live refresh
--    takes the next rows in order, so none is skipped however many arrived).
--    Each source (the timeline, each co-taught course, each facilitated
--    workshop of someone else's, or the one student) is an ordered index
--    scan of at most p_limit rows; the union keeps the first p_limit. A
--    course handed over to the caller keeps its earlier rows under the former
--    owner's id: they appear with the course filter (and on the student's
--    page), not in the unfiltered timeline.
CREATE FUNCTION public.instructor_activity_page(p_course_id uuid DEFAULT NULL,
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
REVOKE ALL ON FUNCTION public.instructor_activity_page(uuid, public.activity_type, uuid, integer, timestamptz, uuid,
                                                       timestamptz, uuid, boolean)
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION public.instructor_activity_page(uuid, public.activity_type, uuid, integer, timestamptz,
                                                          uuid, timestamptz, uuid, boolean)
    TO authenticated;

-- 4. delete_account (011) again, its body unchanged but for one call: the
--    notes written by the account and about it are erased on both outcomes
--    (an instructor with students is "deactivated", nothing else erased, and
--    still their notes go: nobody else reads them, and nobody will). Same
--    signature, SECURITY DEFINER and search_path as 011; CREATE OR REPLACE
--    keeps its owner and grants (portal_signin only). 011's email rewrite was
--    this migration's first hook (a trigger on the deleted address): it fired
--    on "deleted" only, and no other path deletes an account (an admin
--    deactivates, which erases nothing), so the call replaces it.
CREATE OR REPLACE FUNCTION public.delete_account(p_user uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := p_user;
    outcome text;
BEGIN
    PERFORM private.lock_active_account(me);
    outcome := private.deletion_outcome_of(me);
    IF outcome = 'refused' THEN
        RAISE EXCEPTION 'an administrator is deactivated by another' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'admin_keeps_account';
    END IF;
    UPDATE public.courses SET status = 'archived' WHERE instructor_id = me AND status <> 'archived';
    UPDATE public.workshops w SET status = 'cancelled'
    WHERE w.instructor_id = me AND w.status IN ('draft', 'published')
      AND NOT EXISTS (SELECT 1 FROM public.workshop_registrations r WHERE r.workshop_id = w.id);
    PERFORM private.forget_notes_of(me);  -- 014: the notes by and about the account, on both outcomes
    IF outcome = 'deactivated' THEN
        UPDATE public.users SET is_active = false, updated_at = now() WHERE id = me;
        RETURN 'deactivated';
    END IF;
    DELETE FROM private.user_credentials WHERE user_id = me;
    DELETE FROM private.password_resets WHERE user_id = me;
    DELETE FROM public.user_sessions WHERE user_id = me;
    DELETE FROM public.email_changes WHERE user_id = me;
    DELETE FROM public.notifications WHERE user_id = me;
    DELETE FROM public.notification_read_marks WHERE user_id = me;
    DELETE FROM public.notification_settings WHERE user_id = me;
    DELETE FROM public.course_instructors WHERE instructor_id = me;
    DELETE FROM public.workshop_facilitators WHERE facilitator_id = me;
    UPDATE public.instructor_profiles
    SET headline = NULL, bio = NULL, expertise_tags = '{}', pillars = '{}', education = '[]',
        certifications = '[]', work_experience = '[]', social_links = '{}', website_url = NULL
    WHERE user_id = me;
    UPDATE public.instructor_settings SET payment_method = NULL, payment_details = NULL WHERE user_id = me;
    UPDATE public.certificates SET student_name = 'Former member' WHERE user_id = me;
    -- the name in the notices others got of this person's enrollments and reviews,
    -- whoever got them (a course may have changed hands since): by kind and key
    UPDATE public.notifications n SET payload = n.payload || '{"student_name": "Former member"}'
    FROM (SELECT 'new_enrollment' AS event_type, format('enrollment:%s:%s', e.id, k.kind) AS dedup_key
          FROM public.course_enrollments e CROSS JOIN (VALUES ('enrolled'), ('request')) AS k(kind)
          WHERE e.user_id = me
          UNION ALL
          SELECT 'new_review', format('review:%s:%s', r.course_id, me)
          FROM public.course_reviews r WHERE r.user_id = me) AS mine
    WHERE n.event_type = mine.event_type AND n.dedup_key = mine.dedup_key;
    UPDATE public.users
    SET email = format('deleted-%s@deleted.invalid', me), full_name = 'Former member', avatar_url = NULL,
        is_active = false, organization_id = NULL,
        role = CASE WHEN role = 'org_admin' THEN 'student'::public.user_role ELSE role END,
        updated_at = now()
    WHERE id = me;
    RETURN 'deleted';
END
$$;
