-- 013: the students roster, students at risk, and an approval count that counts only what can be
-- approved (issue 15, part A).
--
-- The roster is the student_progress rows (one per enrollment) of the courses the caller owns or
-- co-teaches with view_content or manage_students: rls.course_ids('{view_content,manage_students}'),
-- the set student_progress_read, course_enrollments_read and users_read already let them read
-- (007), computed once per statement. The portal's query (portal/students/roster.py) reads a page
-- per course and merges: each course's first rows in the order asked come from an index that leads
-- with course_id and ends with the enrollment id (the keyset's tie-break), so a page costs about
-- (courses x page size) index entries whatever the number of students.

-- 1. the roster's orders -----------------------------------------------------------------------
--   last activity: idx_student_progress_course_recent (008), read forwards or backwards;
--   enrolled date: idx_course_enrollments_course_enrolled (008), the id tie-break sorted
--                  incrementally within equal dates (rare);
--   progress and engagement: these two.
CREATE INDEX idx_student_progress_course_progress
    ON public.student_progress (course_id, progress_percentage, enrollment_id);
CREATE INDEX idx_student_progress_course_engagement
    ON public.student_progress (course_id, engagement_score, enrollment_id);

-- 2. search by name or email -------------------------------------------------------------------
-- A substring search ("ada", "@acme") cannot use a btree: a trigram index finds the users whose
-- "name email" contains the text (a bitmap of candidates, rechecked), and their enrollments in the
-- caller's courses are then looked up by (user_id, course_id) (idx_course_enrollments_user_course,
-- 008). The cost follows the number of matching users: a selective text ("noor", an email) reads
-- a handful, a common one ("son", "@gmail") may match most of the platform. So a search is at
-- least 3 characters (fewer have no trigram to look up: the scan would read every user), and the
-- roster page asks for at most 5,001 of the caller's matching students (p_limit): more, and the
-- page says "too many matches, type more" instead of sorting them. Only the export asks for
-- every match (p_limit NULL): it reads the whole filtered roster anyway. pg_trgm is a trusted
-- extension (the owner creates it like citext); its functions are extension members.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX idx_users_search ON public.users
    USING gin (lower(full_name || ' ' || email::text) gin_trgm_ops);

-- The index cannot serve the caller's own query: LIKE is not leakproof, so under users_read's
-- row-level security PostgreSQL applies the policy to every row before the LIKE and never
-- uses the LIKE as an index condition. This function runs the search as the owner and answers
-- only with students of the caller's roster courses (rls.course_ids of the caller, the rows
-- users_read and course_enrollments_read already let them read): the ids of those whose name or
-- email contains p_text (case-blind; % _ and \ are plain characters), nothing about anyone else;
-- nothing for a text under 3 characters; at most p_limit ids (NULL: all). RETURN QUERY keeps
-- every row it returns, so the limit is in the statement, which then stops at p_limit matches.
-- EXECUTE ... USING plans each call for its text (a bitmap scan of the trigram index).
CREATE FUNCTION public.roster_search(p_text text, p_limit integer DEFAULT NULL) RETURNS TABLE (user_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    needle text := left(btrim(coalesce(p_text, '')), 100);
BEGIN
    IF char_length(needle) < 3 OR p_limit < 1 OR rls.uid() IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE
        'SELECT u.id FROM public.users u
         WHERE lower(u.full_name || '' '' || u.email::text) LIKE $1
           AND EXISTS (SELECT 1 FROM public.course_enrollments e
                       WHERE e.user_id = u.id AND e.course_id = ANY ($2))
         LIMIT $3'
    USING '%' || replace(replace(replace(lower(needle), '\', '\\'), '%', '\%'), '_', '\_') || '%',
          rls.course_ids('{view_content,manage_students}'), p_limit;
END
$$;

-- 3. at risk -----------------------------------------------------------------------------------
-- The specification's rule and issue 15's second half, per instructor (instructor_settings, 011):
--   lagging:  progress under at_risk_progress_percent once at_risk_after_days have passed since
--             the enrollment (at exactly that many days the rule applies; exactly the percent is
--             not under it);
--   inactive: no activity for inactive_after_days (the last activity, or the enrollment when there
--             has been none; at exactly that many days the student is inactive).
-- Only active enrollments (enrolled, in_progress) are ever at risk: completed, pending, cancelled
-- and refunded ones are not. ``p_at`` is the moment judged (now() in the pages), so the boundaries
-- are testable to the microsecond. A day is 24 hours (make_interval(hours => 24 * n)), not a
-- calendar day: timestamptz - interval '1 day' keeps the local time of day across a daylight
-- saving change, so its answer would depend on the session's TimeZone (a raw-SQL caller could move
-- a boundary by an hour); hours are the same instant in every zone, and they count days as the
-- reasons do (whole 24-hour spans). The operator is still declared STABLE (timestamptz - interval
-- in general reads TimeZone), so the two functions are STABLE: a SQL function declared IMMUTABLE
-- whose body is only STABLE is never inlined, and would run once per row (8,000 enrollments:
-- 44 ms instead of 7 ms); declared STABLE they are inlined into the statements that use them
-- (tests/test_students_sql.py checks the plans name no call).
CREATE FUNCTION public.student_lagging(p_status public.enrollment_status, p_enrolled_at timestamptz,
                                       p_progress numeric, p_percent integer, p_after_days integer,
                                       p_at timestamptz)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p_status IN ('enrolled', 'in_progress') AND p_progress < p_percent
           AND p_enrolled_at <= p_at - make_interval(hours => 24 * p_after_days)
$$;
CREATE FUNCTION public.student_inactive(p_status public.enrollment_status, p_enrolled_at timestamptz,
                                        p_last_activity_at timestamptz, p_inactive_days integer,
                                        p_at timestamptz)
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT p_status IN ('enrolled', 'in_progress')
           AND coalesce(p_last_activity_at, p_enrolled_at) <= p_at - make_interval(hours => 24 * p_inactive_days)
$$;
-- No SET clause on these two: it would keep a SQL function from being inlined. They are not
-- SECURITY DEFINER and name only an enum of public and pg_catalog's operators (pg_temp is never
-- searched for operators).

-- The caller's thresholds (their own settings row, which RLS lets only them read), or the
-- specification's defaults when they have none.
CREATE FUNCTION public.at_risk_thresholds()
RETURNS TABLE (progress_percent integer, after_days integer, inactive_days integer)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(max(s.at_risk_progress_percent), 30)::integer,
           coalesce(max(s.at_risk_after_days), 7)::integer,
           coalesce(max(s.inactive_after_days), 14)::integer
    FROM public.instructor_settings s
    WHERE s.user_id = (SELECT rls.uid())
$$;

-- How many of the caller's roster students are at risk (the dashboard's figure), by the caller's
-- thresholds. At risk depends on the clock, so no trigger can keep it; counting the rule over
-- every active enrollment reads the instructor's whole history (100k+ rows at 1M). Instead:
--
--   at risk = active - (active and NOT at risk)
--   active and NOT at risk = active, not inactive (so active in the last inactive_after_days)
--                            and not lagging.
--
-- "active" is the kept figure courses.active_enrollment_count (008) summed over the caller's
-- courses; "not inactive" is a time range: a last activity after the cut-off (a range scan of
-- idx_student_progress_course_activity per course), or no activity at all and an enrollment after
-- the cut-off (a range scan of idx_course_enrollments_course_enrolled). So the count reads the
-- students active in the last inactive_after_days (14 by default; at most 365), not the history.
-- The roster's "at risk" filter applies student_lagging / student_inactive row by row; the tests
-- check that the two agree. Each row of the window costs one key lookup of the other table (a
-- correlated subquery: a join was planned as a hash of every active enrollment of the platform).
-- At 100k (15,000 enrollments of the largest instructor, 1,449 active in the window): 7 + 13 ms.
-- The cost follows the window's activity, so the dashboard loads the figure after the page
-- (students.at_risk_banner), never delaying it. SECURITY DEFINER (no policy test per row); it
-- checks the caller itself: the course set is rls.course_ids of the caller (the courses whose
-- students they read anyway), the thresholds their own, and the answer one number about those.
CREATE FUNCTION public.at_risk_count() RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    t record;
    mine uuid[] := rls.course_ids('{view_content,manage_students}');
    cutoff timestamptz;
    active bigint;
    recent bigint;
    idle_new bigint;
BEGIN
    SELECT * INTO t FROM public.at_risk_thresholds();
    cutoff := now() - make_interval(hours => 24 * t.inactive_days);  -- the rule's 24-hour days
    SELECT coalesce(sum(c.active_enrollment_count), 0) INTO active
    FROM public.courses c WHERE c.id = ANY (mine);
    -- The other table's row is looked up by its key for each row of the window (a correlated
    -- subquery, so never a join that reads every active enrollment of the platform to hash it).
    SELECT count(*) INTO recent
    FROM public.student_progress s
    WHERE s.course_id = ANY (mine) AND s.last_activity_at > cutoff
      AND (SELECT e.status IN ('enrolled', 'in_progress')
                  AND NOT public.student_lagging(e.status, e.enrolled_at, s.progress_percentage,
                                                 t.progress_percent, t.after_days, now())
           FROM public.course_enrollments e WHERE e.id = s.enrollment_id);
    SELECT count(*) INTO idle_new
    FROM public.course_enrollments e
    WHERE e.course_id = ANY (mine) AND e.enrolled_at > cutoff AND e.status IN ('enrolled', 'in_progress')
      AND (SELECT s.last_activity_at IS NULL
                  AND NOT public.student_lagging(e.status, e.enrolled_at, s.progress_percentage,
                                                 t.progress_percent, t.after_days, now())
           FROM public.student_progress s WHERE s.enrollment_id = e.id);
    RETURN (active - recent - idle_new)::integer;
END
$$;

-- 4. the approval queue: what can be approved, and what waits for payment ----------------------
-- 008's pending_approvals_count() summed courses.pending_enrollment_count: every pending
-- enrollment, also those whose payment has not gone through, which the instructor cannot approve
-- (the queue refuses, the guard too). The dashboard's banner now counts only the pending
-- enrollments that are paid (or free: a free enrollment's payment is 'completed'); those still
-- waiting for their payment are counted apart (awaiting_payment_count) and shown apart.
-- The waiting are few (what has not been decided yet, not history): this partial index holds
-- exactly the approvable ones, and the count is an index-only scan of the caller's courses.
CREATE INDEX idx_enrollments_pending_paid ON public.course_enrollments (course_id, enrolled_at, id)
    WHERE status = 'pending' AND payment_status = 'completed';

CREATE OR REPLACE FUNCTION public.pending_approvals_count() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT count(*)::integer FROM public.course_enrollments e
    WHERE e.course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
      AND e.status = 'pending' AND e.payment_status = 'completed'
$$;

-- Pending enrollments of the caller's courses (manage_students) still waiting for their payment,
-- counted directly from 008's partial index of the pending (idx_enrollments_pending): what waits is
-- few, and a difference of two figures (the kept pending count less the approvable ones) would
-- show a negative number the day the kept figure drifted.
CREATE FUNCTION public.awaiting_payment_count() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT count(*)::integer FROM public.course_enrollments e
    WHERE e.course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
      AND e.status = 'pending' AND e.payment_status <> 'completed'
$$;

REVOKE ALL ON FUNCTION
    public.student_lagging(public.enrollment_status, timestamptz, numeric, integer, integer, timestamptz),
    public.student_inactive(public.enrollment_status, timestamptz, timestamptz, integer, timestamptz),
    public.at_risk_thresholds(), public.at_risk_count(), public.pending_approvals_count(),
    public.awaiting_payment_count(), public.roster_search(text, integer)
FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION
    public.student_lagging(public.enrollment_status, timestamptz, numeric, integer, integer, timestamptz),
    public.student_inactive(public.enrollment_status, timestamptz, timestamptz, integer, timestamptz),
    public.at_risk_thresholds(), public.at_risk_count(), public.pending_approvals_count(),
    public.awaiting_payment_count(), public.roster_search(text, integer)
TO authenticated;
