-- 006: what review found open in the course workbench (issue "Courses"), closed in
-- the database: 1 and 2 below; 3 (empty quizzes block publishing) and 4 (a
-- co-instructor managing students reads the course) are described where they stand.
--
--   1. A course's organization is its owner's decision. 002's courses_update
--      lets whoever edits the course pick their own organization, so a
--      co-instructor with edit_content could move the owner's course into the
--      co-instructor's organization (whose admins would then read its figures).
--      Now only the owner (or a platform admin) changes organization_id; the
--      owner may still pick only their own organization or none (002's check).
--   2. courses.total_revenue is the teachers' business, not the public's: 002
--      lets anyone who may read a course read it. Now no API role may select
--      that column; course_revenue(id) answers it to those the access model
--      lets see the course's money (owner, co-instructor with view_revenue,
--      the organization's admin, a platform admin) and NULL to everyone else.

-- 1. organization ------------------------------------------------------------------

CREATE FUNCTION public.guard_course_organization() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF public.api_caller() AND NEW.organization_id IS DISTINCT FROM OLD.organization_id
       AND NOT (OLD.instructor_id = (SELECT auth.uid()) OR public.is_platform_admin()) THEN
        PERFORM public.refuse('only the course''s owner changes its organization');
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_course_organization BEFORE UPDATE OF organization_id ON public.courses
    FOR EACH ROW EXECUTE FUNCTION public.guard_course_organization();

-- 2. revenue -------------------------------------------------------------------------

-- Every column but total_revenue, for the roles that read courses.
REVOKE SELECT ON public.courses FROM anon, authenticated;
DO $grant$
DECLARE
    columns text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns
    FROM pg_attribute
    WHERE attrelid = 'public.courses'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname <> 'total_revenue';
    EXECUTE format('GRANT SELECT (%s) ON public.courses TO anon, authenticated', columns);
END
$grant$;

CREATE FUNCTION public.course_revenue(p_course_id uuid) RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT c.total_revenue FROM public.courses c
    WHERE c.id = p_course_id
      AND (public.has_course_permission(c.id, 'view_revenue')
           OR c.organization_id = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()))
$$;
REVOKE EXECUTE ON FUNCTION public.course_revenue(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.course_revenue(uuid) TO authenticated, service_role;

-- 3. a quiz without questions cannot be taken ------------------------------------------
-- 004 lets a quiz lesson be saved before its questions are written (the
-- builder's flow), but a course goes public only when every quiz has a
-- question: a student could neither pass nor fail an empty one.
CREATE FUNCTION public.has_empty_quiz(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.course_lessons l
                   WHERE l.course_id = p_course_id AND l.content_type = 'quiz'
                     AND coalesce(jsonb_array_length(l.quiz -> 'questions'), 0) = 0)
$$;
REVOKE EXECUTE ON FUNCTION public.has_empty_quiz(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.has_empty_quiz(uuid) TO authenticated;

CREATE FUNCTION public.guard_publishing_quizzes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF public.api_caller() AND NEW.status = 'published' AND OLD.status IS DISTINCT FROM 'published'
       AND public.has_empty_quiz(NEW.id) THEN
        RAISE EXCEPTION 'publish a course once every quiz has a question' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_publishing_quizzes BEFORE UPDATE OF status ON public.courses
    FOR EACH ROW EXECUTE FUNCTION public.guard_publishing_quizzes();

-- 4. a co-instructor who manages the students reads the course ---------------------------
-- 002's courses_read names view_content and edit_content; a co-instructor
-- with only manage_students (who approves its enrollments and unlocks its
-- content early) could not read the title of a draft or archived course
-- they manage. The rest of the policy is 002's.
DROP POLICY courses_read ON public.courses;
CREATE POLICY courses_read ON public.courses FOR SELECT TO authenticated
    USING (is_published
           OR instructor_id = (SELECT auth.uid())
           OR public.has_course_permission(id, 'view_content')
           OR public.has_course_permission(id, 'edit_content')
           OR public.has_course_permission(id, 'manage_students')
           OR organization_id = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin())
           OR public.active_enrollment(id) IS NOT NULL);
