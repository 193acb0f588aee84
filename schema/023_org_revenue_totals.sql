-- 023: the organization home's revenue total from the kept figures in one call (issue 17).
--
-- The home summed course_revenue(id) and workshop_revenue(id) over every course and workshop of
-- the organization: a SECURITY DEFINER call per row (each checking the caller again), 1,700
-- calls and 50 ms for the 1M benchmark's largest organization. This answers the same two sums
-- of the kept totals (courses.total_revenue, workshops.total_revenue, 008) once, for the
-- organization the caller administers (rls.admin_org(): an active org admin's own), and 0 and 0
-- for anyone else: the same figures course_revenue and workshop_revenue let an org admin read
-- row by row, and nothing more.
CREATE FUNCTION public.org_revenue_totals(OUT course_revenue numeric, OUT workshop_revenue numeric)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH org AS (SELECT rls.admin_org() AS id)
    SELECT (SELECT coalesce(sum(c.total_revenue), 0) FROM public.courses c, org WHERE c.organization_id = org.id),
           (SELECT coalesce(sum(w.total_revenue), 0) FROM public.workshops w, org WHERE w.organization_id = org.id)
$$;
REVOKE ALL ON FUNCTION public.org_revenue_totals()
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION public.org_revenue_totals() TO authenticated;
