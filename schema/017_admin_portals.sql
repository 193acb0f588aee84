-- 017: the platform admin's portal (overview, users, organizations) and the organization
-- admin's home (issue 17).
--
-- The access model already lets a platform admin UPDATE users (role, organization_id,
-- is_active: column grants of 007, guarded by guard_admin_only_columns for everyone else) and
-- instructor_profiles (is_verified, is_featured), and INSERT / UPDATE organizations. What it
-- cannot say as a policy is the product's rules about those changes, so:
--
--   1. one notice, 'account_changed' (audience any): the person is told what an administrator
--      changed on their account and why (the reason is optional).
--   2. private.account_change_refusal: the rules, in one place, for both ways in: the admin
--      functions below call it, and a BEFORE UPDATE trigger on users calls it when a platform
--      admin updates users directly as an API role (the access model's threat model: raw SQL).
--        - nobody changes their own role, organization or active flag here (an admin cannot
--          demote, deactivate or move themself; so the last active admin always stays: the
--          caller is one, and they are not the one changed);
--        - the 'admin' role is neither given nor taken through the portal or the API roles:
--          the operators make and unmake platform admins (`python -m portal` / SQL as the
--          owner). A portal that can mint admins is one stolen admin session away from
--          minting many;
--        - likewise a platform admin is deactivated and reactivated by the operators only: two
--          admins deactivating each other at once would each pass require_admin (the caller's
--          row is read, not locked) and leave no active admin, and one stolen admin session
--          could lock every other admin out;
--        - an org admin does not move to another organization and stay an org admin (they
--          administered the one they leave; admin_set_organization makes them a student);
--        - an instructor who owns a course or a workshop, or is on a course's teaching team or
--          a workshop's facilitators, does not stop being an instructor: their courses would
--          keep an owner who is no instructor (rls.course_ids still answers by instructor_id,
--          add_course_instructor refuses non-instructors, the public profile disappears). The
--          refusal says so; the courses are handed over or archived first.
--        - an org admin belongs to an organization (001's CHECK org_admin_has_organization).
--   3. the admin functions (SECURITY DEFINER, pinned search_path with pg_temp last): each checks
--      that the caller is an active platform admin (rls.uid() and rls.is_admin() read the
--      users row: a deactivated admin's claims are anon's), never takes the caller as an
--      argument, locks the account it changes, applies the rules, updates, and tells the
--      person. The audit rows come from 016's triggers on the tables, whoever updates them.
--      Student -> instructor is one UPDATE of role: 002's ensure_instructor_records trigger
--      creates instructor_profiles and instructor_settings exactly as at sign-up, and 007's
--      sync_profile_visibility makes the profile visible.
--   4. reads the admin pages need that the column grants keep from every API role (users'
--      role, organization and active flag): a search of users, one user, the overview, the
--      platform's revenue by month; each refuses anyone but an active platform admin.
--   5. the organization admin's revenue by month, for their organization's rows only, and their
--      organization's instructors (rls.org_instructor_ids: role and active flag they cannot read).
--   6. two indexes: the users list in sign-up order (keyset), and the few deactivated accounts.
--   7. users by role kept by triggers (private.user_role_counts) for the overview.

-- 1. the notice --------------------------------------------------------------------------------
INSERT INTO public.notification_events (event_type, audience, label, email_default, in_portal_default, position)
VALUES ('account_changed', 'any',
        'An administrator changes your account: role, organization, verification or reactivation',
        true, true, 450);

-- 6. indexes -------------------------------------------------------------------------------------
-- The users list pages newest first by (created_at, id); the search's trigram index
-- (idx_users_search, 013) serves a text, this one the plain list and its filters.
CREATE INDEX idx_users_created ON public.users (created_at DESC, id DESC);
-- The overview counts deactivated accounts: few, and found without reading every user.
CREATE INDEX idx_users_inactive ON public.users (id) WHERE NOT is_active;

-- 7. users by role, kept -------------------------------------------------------------------------
-- The overview's users by role was a count of every user on each load (98 ms at 200k users).
-- Kept here instead, one row per role, by deltas: inserts and deletes per statement (transition
-- tables: a bulk import is one update per role, not one per row), a change of role per row (the
-- two rows in the enum's order, so two role changes at once lock them in one order). Only the
-- owner's functions read it (admin_overview); private.verify_user_role_counts recounts for a check.
-- A sign-up updates the 'student' row: one short row lock per sign-up transaction.
CREATE TABLE private.user_role_counts (
    role  public.user_role PRIMARY KEY,
    users bigint NOT NULL CHECK (users >= 0)
);
ALTER TABLE private.user_role_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.user_role_counts FORCE ROW LEVEL SECURITY;
REVOKE ALL ON private.user_role_counts FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
INSERT INTO private.user_role_counts (role, users)
SELECT r.role, (SELECT count(*) FROM public.users u WHERE u.role = r.role)
FROM unnest(enum_range(NULL::public.user_role)) AS r (role);

CREATE FUNCTION private.count_users_by_role() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE private.user_role_counts k SET users = k.users + d.n
        FROM (SELECT role, count(*) AS n FROM added GROUP BY role) d
        WHERE k.role = d.role;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE private.user_role_counts k SET users = k.users - d.n
        FROM (SELECT role, count(*) AS n FROM removed GROUP BY role) d
        WHERE k.role = d.role;
    ELSIF OLD.role IS DISTINCT FROM NEW.role THEN
        UPDATE private.user_role_counts SET users = users + CASE WHEN role = NEW.role THEN 1 ELSE -1 END
        WHERE role = least(OLD.role, NEW.role);
        UPDATE private.user_role_counts SET users = users + CASE WHEN role = NEW.role THEN 1 ELSE -1 END
        WHERE role = greatest(OLD.role, NEW.role);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER count_users_by_role_insert AFTER INSERT ON public.users
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION private.count_users_by_role();
CREATE TRIGGER count_users_by_role_delete AFTER DELETE ON public.users
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION private.count_users_by_role();
CREATE TRIGGER count_users_by_role_update AFTER UPDATE OF role ON public.users
    FOR EACH ROW EXECUTE FUNCTION private.count_users_by_role();

-- The check (maintenance, tests): each role whose kept count differs from a recount (none).
CREATE FUNCTION private.verify_user_role_counts()
RETURNS TABLE (role public.user_role, kept bigint, counted bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT r.role, coalesce(k.users, 0), (SELECT count(*) FROM public.users u WHERE u.role = r.role)
    FROM unnest(enum_range(NULL::public.user_role)) AS r (role)
    LEFT JOIN private.user_role_counts k ON k.role = r.role
    WHERE coalesce(k.users, 0) <> (SELECT count(*) FROM public.users u WHERE u.role = r.role)
$$;

-- 2. the rules -----------------------------------------------------------------------------------
-- The refusal (its code) of a change of p_user's account by p_caller, or NULL when allowed.
CREATE FUNCTION private.account_change_refusal(p_caller uuid, p_user uuid,
                                               p_old_role public.user_role, p_new_role public.user_role,
                                               p_old_active boolean, p_new_active boolean,
                                               p_old_org uuid, p_new_org uuid)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT CASE
        WHEN p_caller = p_user AND (p_old_role IS DISTINCT FROM p_new_role
                                    OR p_old_active IS DISTINCT FROM p_new_active
                                    OR p_old_org IS DISTINCT FROM p_new_org)
            THEN 'admin_changes_self'
        WHEN p_old_role IS DISTINCT FROM p_new_role AND 'admin' IN (p_old_role, p_new_role)
            THEN 'admin_role_by_operators'
        WHEN p_old_role = 'admin' AND p_old_active IS DISTINCT FROM p_new_active
            THEN 'admin_active_by_operators'
        WHEN p_old_role = 'org_admin' AND p_new_role = 'org_admin' AND p_old_org IS DISTINCT FROM p_new_org
            THEN 'org_admin_changes_organization'
        WHEN p_old_role = 'instructor' AND p_new_role <> 'instructor'
             AND (EXISTS (SELECT 1 FROM public.courses c WHERE c.instructor_id = p_user)
                  OR EXISTS (SELECT 1 FROM public.workshops w WHERE w.instructor_id = p_user)
                  OR EXISTS (SELECT 1 FROM public.course_instructors ci WHERE ci.instructor_id = p_user)
                  OR EXISTS (SELECT 1 FROM public.workshop_facilitators f WHERE f.facilitator_id = p_user))
            THEN 'instructor_still_teaches'
        WHEN p_new_role = 'org_admin' AND p_new_org IS NULL
            THEN 'org_admin_needs_organization'
    END
$$;

CREATE FUNCTION private.refuse_account_change(p_code text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    CASE p_code
    WHEN 'admin_changes_self' THEN
        RAISE EXCEPTION 'an administrator does not change their own role, organization or active flag'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_changes_self';
    WHEN 'admin_role_by_operators' THEN
        RAISE EXCEPTION 'the platform admin role is given and taken by the operators only'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_role_by_operators';
    WHEN 'admin_active_by_operators' THEN
        RAISE EXCEPTION 'a platform administrator is deactivated and reactivated by the operators only'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_active_by_operators';
    WHEN 'org_admin_changes_organization' THEN
        RAISE EXCEPTION 'an organization admin does not move to another organization and stay its admin'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'org_admin_changes_organization';
    WHEN 'instructor_still_teaches' THEN
        RAISE EXCEPTION 'this instructor still owns or teaches courses or workshops'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'instructor_still_teaches';
    WHEN 'org_admin_needs_organization' THEN
        RAISE EXCEPTION 'an organization admin belongs to an organization'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'org_admin_needs_organization';
    ELSE
        NULL;
    END CASE;
END
$$;

-- The same rules whenever the acting claims are an active platform admin's: their own UPDATE of
-- users as an API role (the portal goes through the functions below; an attacker holding an
-- admin's claims may not), and the functions themselves (which check first, so this is a second
-- look). Everyone else is refused these columns by guard_admin_only_columns (002) already, and
-- maintenance (the owner, no claims) is not bound. SECURITY DEFINER: it calls the private rules.
CREATE FUNCTION private.guard_admin_account_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF rls.is_admin() THEN
        PERFORM private.refuse_account_change(private.account_change_refusal(
            rls.uid(), OLD.id, OLD.role, NEW.role, OLD.is_active, NEW.is_active,
            OLD.organization_id, NEW.organization_id));
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_admin_account_changes BEFORE UPDATE OF role, is_active, organization_id ON public.users
    FOR EACH ROW EXECUTE FUNCTION private.guard_admin_account_changes();

-- Whoever is made a course's or a workshop's owner or co-teacher is an instructor at that moment,
-- read with the users row locked FOR SHARE: the insert policies (courses_create, ...) see the
-- role as last committed, so an instructor creating a course while an admin demotes them could
-- end a student owning a course. With the lock one of the two waits for the other: a demotion
-- committed first makes the insert refused here (the locked read sees the new role); an insert
-- first makes the demotion wait and then find the course (instructor_still_teaches). It binds
-- every writer (maintenance included): a course's owner is an instructor, always.
CREATE FUNCTION private.lock_teacher_role() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    teacher uuid;
    teacher_role public.user_role;
BEGIN
    -- Two branches: plpgsql resolves NEW's fields when a statement runs.
    IF TG_TABLE_NAME = 'workshop_facilitators' THEN
        teacher := NEW.facilitator_id;
    ELSE
        teacher := NEW.instructor_id;
    END IF;
    SELECT role INTO teacher_role FROM public.users WHERE id = teacher FOR SHARE;
    IF teacher_role IS DISTINCT FROM 'instructor' THEN
        RAISE EXCEPTION 'only an instructor owns or teaches a course or a workshop'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'teacher_not_instructor';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER lock_teacher_role BEFORE INSERT OR UPDATE OF instructor_id ON public.courses
    FOR EACH ROW EXECUTE FUNCTION private.lock_teacher_role();
CREATE TRIGGER lock_teacher_role BEFORE INSERT OR UPDATE OF instructor_id ON public.workshops
    FOR EACH ROW EXECUTE FUNCTION private.lock_teacher_role();
CREATE TRIGGER lock_teacher_role BEFORE INSERT OR UPDATE OF instructor_id ON public.course_instructors
    FOR EACH ROW EXECUTE FUNCTION private.lock_teacher_role();
CREATE TRIGGER lock_teacher_role BEFORE INSERT OR UPDATE OF facilitator_id ON public.workshop_facilitators
    FOR EACH ROW EXECUTE FUNCTION private.lock_teacher_role();

-- 3. the admin's acts ----------------------------------------------------------------------------
-- The caller's id when they are an active platform admin; refused otherwise.
CREATE FUNCTION private.require_admin() RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := (SELECT rls.uid());
BEGIN
    IF me IS NULL OR NOT rls.is_admin() THEN
        RAISE EXCEPTION 'only a platform administrator' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    RETURN me;
END
$$;

-- A reason is optional, one paragraph at most; blank is none.
CREATE FUNCTION private.admin_reason(p_reason text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF char_length(btrim(coalesce(p_reason, ''))) > 500 THEN
        RAISE EXCEPTION 'a reason has at most 500 characters' USING ERRCODE = 'check_violation', CONSTRAINT = 'admin_reason_length';
    END IF;
    RETURN nullif(btrim(coalesce(p_reason, '')), '');
END
$$;

-- The account an admin acts on, locked; refused when there is none.
CREATE FUNCTION private.lock_account(p_user uuid) RETURNS public.users
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    target public.users;
BEGIN
    SELECT * INTO target FROM public.users WHERE id = p_user FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such account' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'account_not_found';
    END IF;
    RETURN target;
END
$$;

-- Change a user's role (student, instructor, org_admin; never to or from admin). Returns
-- whether anything changed.
CREATE FUNCTION public.admin_set_role(p_user uuid, p_role public.user_role, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := private.require_admin();
    why constant text := private.admin_reason(p_reason);
    target public.users := private.lock_account(p_user);
BEGIN
    IF p_role IS NULL OR target.role = p_role THEN
        RETURN false;
    END IF;
    PERFORM private.refuse_account_change(private.account_change_refusal(
        me, target.id, target.role, p_role, target.is_active, target.is_active,
        target.organization_id, target.organization_id));
    UPDATE public.users SET role = p_role WHERE id = p_user;
    PERFORM private.notify(p_user, 'account_changed',
                           jsonb_build_object('kind', 'role', 'role', p_role, 'previous', target.role,
                                              'reason', why));
    RETURN true;
END
$$;

-- Deactivate (signed out everywhere: 011's end_sessions_of_deactivated; anonymous to the
-- database from the next statement: rls.uid()) or reactivate an account. A deactivated
-- account gets no notice (private.notify sends nothing to it); a reactivated one is told.
CREATE FUNCTION public.admin_set_active(p_user uuid, p_active boolean, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := private.require_admin();
    why constant text := private.admin_reason(p_reason);
    target public.users := private.lock_account(p_user);
BEGIN
    IF p_active IS NULL OR target.is_active = p_active THEN
        RETURN false;
    END IF;
    PERFORM private.refuse_account_change(private.account_change_refusal(
        me, target.id, target.role, target.role, target.is_active, p_active,
        target.organization_id, target.organization_id));
    UPDATE public.users SET is_active = p_active WHERE id = p_user;
    IF p_active THEN
        PERFORM private.notify(p_user, 'account_changed',
                               jsonb_build_object('kind', 'reactivated', 'reason', why));
    END IF;
    RETURN true;
END
$$;

-- Make a user a member of an organization (p_org), or of none (NULL). An org admin who
-- leaves their organization (to none or to another) stops being an org admin (role student):
-- they administered that organization, not the next one.
CREATE FUNCTION public.admin_set_organization(p_user uuid, p_org uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := private.require_admin();
    why constant text := private.admin_reason(p_reason);
    target public.users := private.lock_account(p_user);
    new_role public.user_role;
    org_name text;
BEGIN
    IF target.organization_id IS NOT DISTINCT FROM p_org THEN
        RETURN false;
    END IF;
    IF p_org IS NOT NULL THEN
        SELECT name INTO org_name FROM public.organizations WHERE id = p_org;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no such organization' USING ERRCODE = 'check_violation', CONSTRAINT = 'organization_not_found';
        END IF;
    END IF;
    new_role := CASE WHEN target.role = 'org_admin' THEN 'student' ELSE target.role END;
    PERFORM private.refuse_account_change(private.account_change_refusal(
        me, target.id, target.role, new_role, target.is_active, target.is_active,
        target.organization_id, p_org));
    UPDATE public.users SET organization_id = p_org, role = new_role WHERE id = p_user;
    PERFORM private.notify(p_user, 'account_changed',
                           jsonb_build_object('kind', CASE WHEN p_org IS NULL THEN 'left_organization'
                                                           ELSE 'organization' END,
                                              'organization_name', org_name,
                                              'role', new_role, 'previous', target.role, 'reason', why));
    RETURN true;
END
$$;

-- Verify or feature an instructor (their profile's admin-only flags); NULL leaves a flag.
CREATE FUNCTION public.admin_set_instructor_flags(p_user uuid, p_verified boolean, p_featured boolean,
                                                  p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := private.require_admin();
    why constant text := private.admin_reason(p_reason);
    target public.users;
    old record;
BEGIN
    target := private.lock_account(p_user);
    SELECT is_verified, is_featured INTO old FROM public.instructor_profiles WHERE user_id = p_user FOR UPDATE;
    -- a member demoted to student keeps their (hidden) profile: it is no instructor's to flag
    IF NOT FOUND OR target.role <> 'instructor' THEN
        RAISE EXCEPTION 'this account has no instructor profile' USING ERRCODE = 'check_violation', CONSTRAINT = 'not_an_instructor';
    END IF;
    IF (coalesce(p_verified, old.is_verified), coalesce(p_featured, old.is_featured))
       = (old.is_verified, old.is_featured) THEN
        RETURN false;
    END IF;
    UPDATE public.instructor_profiles
    SET is_verified = coalesce(p_verified, is_verified), is_featured = coalesce(p_featured, is_featured)
    WHERE user_id = p_user;
    PERFORM private.notify(p_user, 'account_changed',
                           jsonb_build_object('kind', 'profile',
                                              'verified', coalesce(p_verified, old.is_verified),
                                              'featured', coalesce(p_featured, old.is_featured),
                                              'was_verified', old.is_verified, 'was_featured', old.is_featured,
                                              'reason', why));
    RETURN true;
END
$$;

-- 4. the admin's reads ---------------------------------------------------------------------------
-- Users whose "name email" contains p_text (case-blind; % _ \ are plain characters), of a role,
-- active or not, of an organization (each NULL: any), newest first, from a position
-- (p_at_time, p_at_id) forwards (older) or backwards (newer, then read in reverse by the
-- caller). EXECUTE ... USING plans each call for its values: with a text of three characters
-- or more the search is a bitmap scan of idx_users_search (the expression is the index's,
-- lower(full_name || ' ' || email::text)); without one, a walk of idx_users_created. A text of
-- one or two characters matches no one: trigrams cannot serve it, so it would read every user
-- (270 ms at 200k); the page asks for three characters instead. Run as
-- the owner: under users_read the LIKE (not leakproof) could never use the index.
CREATE FUNCTION public.admin_users(p_text text, p_role public.user_role, p_active boolean, p_org uuid,
                                   p_at_time timestamptz, p_at_id uuid, p_backwards boolean, p_limit integer)
RETURNS TABLE (id uuid, email text, full_name text, role public.user_role, organization_id uuid,
               organization_name text, is_active boolean, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    needle constant text := lower(left(btrim(coalesce(p_text, '')), 100));
    back constant boolean := coalesce(p_backwards, false);
BEGIN
    PERFORM private.require_admin();
    RETURN QUERY EXECUTE format(
        'SELECT u.id, u.email::text, u.full_name, u.role, u.organization_id, o.name, u.is_active, u.created_at
         FROM public.users u LEFT JOIN public.organizations o ON o.id = u.organization_id
         WHERE %s AND ($3::public.user_role IS NULL OR u.role = $3)
           AND ($4::boolean IS NULL OR u.is_active = $4)
           AND ($5::uuid IS NULL OR u.organization_id = $5)
           AND ($6::timestamptz IS NULL OR (u.created_at, u.id) %s ($6::timestamptz, $7::uuid))
         ORDER BY u.created_at %s, u.id %s
         LIMIT $8',
        CASE WHEN needle = '' THEN 'true' WHEN char_length(needle) < 3 THEN 'false'
             ELSE 'lower(u.full_name || '' '' || u.email::text) LIKE $2' END,
        CASE WHEN back THEN '>' ELSE '<' END,
        CASE WHEN back THEN 'ASC' ELSE 'DESC' END, CASE WHEN back THEN 'ASC' ELSE 'DESC' END)
    USING needle, '%' || replace(replace(replace(needle, '\', '\\'), '%', '\%'), '_', '\_') || '%',
          p_role, p_active, p_org, p_at_time, p_at_id, least(greatest(coalesce(p_limit, 25), 1), 101);
END
$$;

-- One user as an admin sees them: the account, its organization, its profile's flags and
-- kept figures, and what it takes part in (each an index lookup by the user).
CREATE FUNCTION public.admin_user(p_user uuid)
RETURNS TABLE (id uuid, email text, full_name text, role public.user_role, organization_id uuid,
               organization_name text, is_active boolean, email_confirmed_at timestamptz,
               created_at timestamptz, has_profile boolean, is_verified boolean, is_featured boolean,
               total_students integer, owned_courses integer, owned_workshops integer,
               co_taught_courses integer, enrollments integer, open_sessions integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM private.require_admin();
    RETURN QUERY
    SELECT u.id, u.email::text, u.full_name, u.role, u.organization_id, o.name, u.is_active,
           u.email_confirmed_at, u.created_at, p.user_id IS NOT NULL, coalesce(p.is_verified, false),
           coalesce(p.is_featured, false), coalesce(p.total_students, 0),
           (SELECT count(*)::integer FROM public.courses c WHERE c.instructor_id = u.id),
           (SELECT count(*)::integer FROM public.workshops w WHERE w.instructor_id = u.id),
           (SELECT count(*)::integer FROM public.course_instructors ci WHERE ci.instructor_id = u.id),
           (SELECT count(*)::integer FROM public.course_enrollments e WHERE e.user_id = u.id),
           (SELECT count(*)::integer FROM public.user_sessions s
            WHERE s.user_id = u.id AND s.revoked_at IS NULL
              AND s.last_seen_at > now() - private.session_lifetime())
    FROM public.users u
    LEFT JOIN public.organizations o ON o.id = u.organization_id
    LEFT JOIN public.instructor_profiles p ON p.user_id = u.id
    WHERE u.id = p_user;
END
$$;

-- The platform at a glance, from kept figures and small sets, never the enrollments or the
-- revenue rows themselves (1M enrollments: a scan per page load is what this avoids):
--   users by role: private.user_role_counts (kept by triggers: 7 above), five rows;
--   deactivated: the partial index idx_users_inactive (few rows);
--   instructors verified / featured: instructor_profiles (one row per instructor, ever) of
--   the accounts that are instructors now (a demoted member keeps a hidden profile);
--   courses by status and enrollments: courses' kept counters (enrolled_count, completed_count,
--   active_enrollment_count: 008's triggers), summed over the courses (thousands of rows);
--   workshops, organizations: their own small tables;
--   open reports: idx_review_reports_open (005), unresolved reports only.
CREATE FUNCTION public.admin_overview() RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM private.require_admin();
    RETURN jsonb_build_object(
        'users', (SELECT coalesce(jsonb_object_agg(k.role, k.users) FILTER (WHERE k.users > 0), '{}')
                  FROM private.user_role_counts k),
        'deactivated', (SELECT count(*) FROM public.users WHERE NOT is_active),
        'instructors', (SELECT jsonb_build_object('profiles', count(*),
                                                  'verified', count(*) FILTER (WHERE p.is_verified),
                                                  'featured', count(*) FILTER (WHERE p.is_featured))
                        FROM public.instructor_profiles p JOIN public.users u ON u.id = p.user_id
                        WHERE u.role = 'instructor'),
        'courses', (SELECT coalesce(jsonb_object_agg(c.status, c.n), '{}')
                    FROM (SELECT status, count(*) AS n FROM public.courses GROUP BY status) c),
        'enrollments', (SELECT jsonb_build_object('enrolled', coalesce(sum(enrolled_count), 0),
                                                  'active', coalesce(sum(active_enrollment_count), 0),
                                                  'completed', coalesce(sum(completed_count), 0))
                        FROM public.courses),
        'workshops', (SELECT count(*) FROM public.workshops),
        'organizations', (SELECT count(*) FROM public.organizations),
        'open_reports', (SELECT count(*) FROM public.review_reports WHERE resolved_at IS NULL));
END
$$;

-- The platform's sales by month (the last p_months months, oldest first; months without a
-- sale are zeros), from instructor_monthly_stats (007; refreshed nightly by the worker):
-- one row per instructor, organization and month, never the revenue rows themselves.
CREATE FUNCTION public.admin_revenue_by_month(p_months integer DEFAULT 12)
RETURNS TABLE (month date, gross_revenue numeric(12,2), platform_fees numeric(12,2),
               net_revenue numeric(12,2), transaction_count integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    n constant integer := least(greatest(coalesce(p_months, 12), 1), 60);
BEGIN
    PERFORM private.require_admin();
    RETURN QUERY
    WITH months AS (
        SELECT generate_series(date_trunc('month', now()) - make_interval(months => n - 1),
                               date_trunc('month', now()), interval '1 month')::date AS month)
    SELECT m.month, coalesce(sum(s.gross_revenue), 0)::numeric(12,2),
           coalesce(sum(s.platform_fees), 0)::numeric(12,2), coalesce(sum(s.net_revenue), 0)::numeric(12,2),
           coalesce(sum(s.transaction_count), 0)::integer
    FROM months m LEFT JOIN public.instructor_monthly_stats s ON s.month = m.month
    GROUP BY m.month ORDER BY m.month;
END
$$;

-- 5. the organization admin's revenue by month ----------------------------------------------------
-- The caller's organization's rows of instructor_monthly_stats (its courses' and workshops'
-- sales, never an instructor's standalone work: the view keys by organization), summed a
-- month; nothing for anyone who administers no organization.
CREATE FUNCTION public.org_revenue_by_month(p_months integer DEFAULT 12)
RETURNS TABLE (month date, gross_revenue numeric(12,2), platform_fees numeric(12,2),
               net_revenue numeric(12,2), transaction_count integer, new_enrollments integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH org AS (SELECT rls.admin_org() AS id),
    months AS (
        SELECT generate_series(date_trunc('month', now())
                                   - make_interval(months => least(greatest(coalesce(p_months, 12), 1), 60) - 1),
                               date_trunc('month', now()), interval '1 month')::date AS month)
    SELECT m.month, coalesce(sum(s.gross_revenue), 0)::numeric(12,2),
           coalesce(sum(s.platform_fees), 0)::numeric(12,2), coalesce(sum(s.net_revenue), 0)::numeric(12,2),
           coalesce(sum(s.transaction_count), 0)::integer, coalesce(sum(s.new_enrollments), 0)::integer
    FROM org CROSS JOIN months m
    LEFT JOIN public.instructor_monthly_stats s ON s.month = m.month AND s.organization_id = org.id
    WHERE org.id IS NOT NULL
    GROUP BY m.month ORDER BY m.month
$$;

-- The caller's organization's instructors (role 'instructor': a member demoted to student keeps a
-- hidden profile, and is no instructor of theirs), all of them (p_active NULL) or only the active
-- (true) or deactivated (false) ones; nothing for anyone who administers no organization. The
-- column grants hide role and is_active from the org admin, so this answers for their own
-- organization only; a query computes it once (an initplan), never per row.
CREATE FUNCTION rls.org_instructor_ids(p_active boolean) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(array_agg(u.id), '{}') FROM public.users u
    WHERE u.organization_id = (SELECT rls.admin_org()) AND u.role = 'instructor'
      AND (p_active IS NULL OR u.is_active = p_active)
$$;

-- grants -----------------------------------------------------------------------------------------
REVOKE ALL ON FUNCTION
    private.account_change_refusal(uuid, uuid, public.user_role, public.user_role, boolean, boolean, uuid, uuid),
    private.refuse_account_change(text), private.guard_admin_account_changes(), private.require_admin(),
    private.lock_teacher_role(), private.count_users_by_role(), private.verify_user_role_counts(),
    private.admin_reason(text), private.lock_account(uuid),
    public.admin_set_role(uuid, public.user_role, text), public.admin_set_active(uuid, boolean, text),
    public.admin_set_organization(uuid, uuid, text),
    public.admin_set_instructor_flags(uuid, boolean, boolean, text),
    public.admin_users(text, public.user_role, boolean, uuid, timestamptz, uuid, boolean, integer),
    public.admin_user(uuid), public.admin_overview(), public.admin_revenue_by_month(integer),
    public.org_revenue_by_month(integer), rls.org_instructor_ids(boolean)
FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION
    public.admin_set_role(uuid, public.user_role, text), public.admin_set_active(uuid, boolean, text),
    public.admin_set_organization(uuid, uuid, text),
    public.admin_set_instructor_flags(uuid, boolean, boolean, text),
    public.admin_users(text, public.user_role, boolean, uuid, timestamptz, uuid, boolean, integer),
    public.admin_user(uuid), public.admin_overview(), public.admin_revenue_by_month(integer),
    public.org_revenue_by_month(integer), rls.org_instructor_ids(boolean)
TO authenticated;
