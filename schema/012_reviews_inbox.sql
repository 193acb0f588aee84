-- 012: the instructor's reviews inbox (issue 17, first part).
--
-- 1. The inbox opens on the unanswered reviews of the caller's courses, newest
--    first, and the dashboard counts them. 002's idx_course_reviews_unanswered
--    (course_id) WHERE instructor_response IS NULL knows neither visibility nor
--    age: this one serves both the count (an index scan per course, hidden
--    reviews left out by the predicate) and the inbox's first page in order.
CREATE INDEX idx_course_reviews_inbox_unanswered ON public.course_reviews (course_id, created_at DESC)
    WHERE instructor_response IS NULL AND is_visible;

-- 2. The inbox filters on "reported", but review_reports is readable only by
--    the reporter and platform admins (007), so a teacher's own query sees no
--    report at all. This function tells the caller which reviews of the courses
--    whose reviews they may read (owner; co-teacher with view_content or
--    respond_reviews, as course_reviews_read) have open reports: the review's id
--    only, never who reported it or why (that stays with moderation). Computed
--    once per statement (`id = ANY ((SELECT reported_review_ids()))`); open
--    reports are few and found by idx_review_reports_open.
CREATE FUNCTION public.reported_review_ids() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT rr.review_id), '{}')
    FROM public.review_reports rr
    JOIN public.course_reviews r ON r.id = rr.review_id
    WHERE rr.resolved_at IS NULL
      AND r.course_id = ANY ((SELECT rls.course_ids('{view_content,respond_reviews}'))::uuid[])
$$;
REVOKE ALL ON FUNCTION public.reported_review_ids() FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION public.reported_review_ids() TO authenticated;
