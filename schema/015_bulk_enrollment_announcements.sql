-- 015: bulk enrollment with invitations, announcements (issue 15, part C).
--
-- 1. Bulk enrollment. An instructor (the owner, or a co-instructor with
--    manage_students) whose own address is confirmed sends a list of addresses
--    for one published course; bulk_enroll_preview() classifies them,
--    bulk_enroll() applies the list: an active account is enrolled at once (the
--    issue asks for it), an address without one is invited.
--    Privacy (the threat model: the API roles may be driven by an attacker):
--    neither function says whether an address has an account. An address that
--    is not enrolled is "added" whether that means an existing account enrolled,
--    an invitation sent, or (a deactivated account) an invitation recorded but
--    never sent (suppressed): it counts against the cap and reads "already
--    invited" afterwards, as a sent one does. The preview says only what the
--    caller can read anyway: already enrolled (their course's enrollments),
--    already invited (their course's invitations), a teacher of the course
--    (course_instructors), and what is wrong with the text itself (not an
--    address, a duplicate).
--    What is left (documented, accepted): an enrollment made this way is seen
--    afterwards, as every enrollment of the course is, so an instructor learns
--    afterwards which addresses had an active account, as they do for any
--    student they enroll. To keep that from becoming a probe: every address
--    added counts against a daily cap per instructor (invitations_per_day(), the
--    app may only lower it), the caller's own address must be confirmed, and
--    the student enrolled is told who enrolled them and that they may leave the
--    course from My learning (an enrollment_update notice of kind 'granted').
--    The owner gets no new_enrollment notice per student for an enrollment an
--    instructor granted (private.notify_enrollment, replaced below): the
--    instructor did it themself, and a list of 1,000 would be 1,000 notices.
-- 2. Money: a free course enrolls; a paid one only when the instructor grants
--    access explicitly, and the grant is recorded (course_enrollment_grants:
--    who, when). A granted enrollment has amount_paid 0 and payment_status
--    'completed' (nothing is owed, nothing was paid: the same as a free
--    course's), so no sale is recorded and no figure moves but the counts.
-- 3. Invitations (course_invitations) for addresses without an account: the
--    worker sends the email (send_invitation, not the notice outbox: there is
--    no user to notify) and makes the token as it writes it; the database keeps
--    only its SHA-256 (as 011's password resets). A link works once, for
--    14 days from the latest email, while its inviter is active and still
--    manages the course's students and the course is published; a teacher who
--    manages the students may revoke it (revoke_invitation). Accepting it
--    enrolls the signed-in account and confirms their address when it is the
--    invited one. A grant (a paid course's access without payment) is stored
--    only for a course with a price, with that price: it holds at acceptance
--    only while the price is the same; otherwise the ordinary path prices the
--    course (enroll_in_course). Without a grant, the owner's
--    auto_approve_enrollments decides as for any enrollment (off: the student
--    waits for approval); a valid grant enrolls at once (the instructor who
--    granted access approved it).
-- 4. Announcements (course_announcements): written through post_announcement()
--    by a teacher with manage_students, to all the course's students or a
--    status filter ('active', 'completed'; 'at_risk' is the hook for issue 15's
--    at-risk rule, refused until it lands); read by the teachers and by the
--    students the filter names. The fan-out runs in the worker, in batches
--    (fan_out_announcement), each student notified once ('announcement:<id>');
--    recipients counts the notices written (a student whose settings turn the
--    event off, or a deactivated one, is not counted).

-- 1, 2. grants and the daily cap ------------------------------------------------------------

CREATE TABLE public.course_enrollment_grants (
    -- deferred: grant_enrollment() writes the grant before the enrollment it
    -- makes, so notify_enrollment() sees it and does not tell the owner
    enrollment_id uuid PRIMARY KEY REFERENCES public.course_enrollments (id) ON DELETE CASCADE
                  DEFERRABLE INITIALLY DEFERRED,
    course_id     uuid NOT NULL REFERENCES public.courses (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    granted_by    uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    granted_at    timestamptz NOT NULL DEFAULT now(),
    -- true when the course had a price: access given without payment
    paid_course   boolean NOT NULL
);
CREATE INDEX idx_course_enrollment_grants_by ON public.course_enrollment_grants (granted_by, granted_at);
CREATE INDEX idx_course_enrollment_grants_course ON public.course_enrollment_grants (course_id);

-- The most addresses an instructor may add (enroll or invite) a day, and per list.
CREATE FUNCTION private.invitations_per_day() RETURNS integer
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$ SELECT 1000 $$;
CREATE FUNCTION private.bulk_rows_max() RETURNS integer
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$ SELECT 1000 $$;

-- 3. invitations ---------------------------------------------------------------------------

-- An address the portal writes to: an addr-spec of plain atoms (no quotes,
-- comments, groups or display names, so a header built from it names exactly
-- it), at most 254 characters. NULL is not valid.
CREATE FUNCTION private.email_valid(p_email text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(p_email ~ '^[A-Za-z0-9.!#$%&''*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$' AND char_length(p_email) <= 254, false)
$$;

CREATE TABLE public.course_invitations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id    uuid NOT NULL REFERENCES public.courses (id) ON DELETE CASCADE,
    -- an addr-spec without quotes, comments or groups (private.email_valid())
    email        citext NOT NULL CHECK (private.email_valid(email::text)),
    invited_by   uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    -- the instructor granted access to a paid course (recorded on acceptance),
    -- at this price: stored only for a course with a price
    grant_access boolean NOT NULL DEFAULT false,
    granted_price numeric(12, 2) CHECK (granted_price > 0),
    -- a deactivated account's address: recorded (it counts and reads as
    -- invited), never sent; no API role reads this column
    suppressed   boolean NOT NULL DEFAULT false,
    revoked_at   timestamptz,
    revoked_by   uuid REFERENCES public.users (id) ON DELETE SET NULL,
    -- SHA-256 of the latest email's token (hex), set by the worker as it sends it
    token_hash   text UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    expires_at   timestamptz,
    accepted_at  timestamptz,
    accepted_by  uuid REFERENCES public.users (id) ON DELETE SET NULL,
    CHECK (grant_access = (granted_price IS NOT NULL))
);
-- one open invitation per course and address
CREATE UNIQUE INDEX idx_course_invitations_open ON public.course_invitations (course_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX idx_course_invitations_by ON public.course_invitations (invited_by, created_at);
CREATE INDEX idx_course_invitations_course ON public.course_invitations (course_id, created_at DESC, id DESC);

CREATE FUNCTION private.invitation_lifetime() RETURNS interval
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$ SELECT interval '14 days' $$;

-- 1. classifying a list -------------------------------------------------------------------

-- Each address of the list, in order: its normalized form and what applying
-- the list does with it, and the account it names (internal: never returned to
-- an API role). Outcomes: 'invalid_email' (a NULL item too), 'duplicate',
-- 'teacher', 'already_enrolled', 'refunded', 'already_invited' (an open
-- invitation, sent or suppressed, of an address without an active account),
-- 'enroll' (an active account, not enrolled), 'invite' (no account), 'skip' (a
-- deactivated account: an invitation recorded, never sent).
CREATE FUNCTION private.classify_bulk(p_course uuid, p_emails text[])
RETURNS TABLE (line integer, email text, outcome text, user_id uuid, enrollment_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH given AS (
        SELECT g.line::integer AS line, coalesce(lower(btrim(g.raw)), '') AS email
        FROM unnest(p_emails) WITH ORDINALITY AS g(raw, line)
    ), checked AS (
        SELECT g.line, g.email,
               private.email_valid(g.email) AS valid,
               row_number() OVER (PARTITION BY g.email ORDER BY g.line) > 1 AS repeated
        FROM given g
    )
    SELECT c.line, c.email,
           CASE WHEN NOT c.valid THEN 'invalid_email'
                WHEN c.repeated THEN 'duplicate'
                WHEN u.id IS NOT NULL AND (u.id = co.instructor_id OR EXISTS (
                         SELECT 1 FROM public.course_instructors ci
                         WHERE ci.course_id = p_course AND ci.instructor_id = u.id)) THEN 'teacher'
                WHEN e.status IN ('enrolled', 'in_progress', 'completed') THEN 'already_enrolled'
                WHEN e.status = 'refunded' THEN 'refunded'
                WHEN u.id IS NOT NULL AND u.is_active THEN 'enroll'
                WHEN EXISTS (SELECT 1 FROM public.course_invitations i
                             WHERE i.course_id = p_course AND i.email = c.email::citext
                               AND i.accepted_at IS NULL AND i.revoked_at IS NULL
                               AND (i.expires_at IS NULL OR i.expires_at > now())) THEN 'already_invited'
                WHEN u.id IS NOT NULL THEN 'skip'
                ELSE 'invite' END,
           u.id, e.id
    FROM checked c
    CROSS JOIN (SELECT instructor_id FROM public.courses WHERE id = p_course) co
    LEFT JOIN public.users u ON c.valid AND u.email = c.email::citext
    LEFT JOIN public.course_enrollments e ON e.course_id = p_course AND e.user_id = u.id
    ORDER BY c.line
$$;

-- The caller may add students to p_course: a published course they own or
-- co-teach with manage_students, their address confirmed; the list is at most
-- bulk_rows_max() lines.
CREATE FUNCTION private.require_bulk_enroller(p_course uuid, p_emails text[]) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF (SELECT rls.uid()) IS NULL THEN
        RAISE EXCEPTION 'sign in first' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    IF NOT public.has_course_permission(p_course, 'manage_students') THEN
        RAISE EXCEPTION 'no such course' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
    END IF;
    -- enrolling others in one's name: one's own address must be confirmed (and
    -- the account active: rls.uid() is NULL for a deactivated one)
    IF NOT EXISTS (SELECT 1 FROM public.users WHERE id = (SELECT rls.uid()) AND is_active
                   AND email_confirmed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'confirm your address first' USING ERRCODE = 'insufficient_privilege',
            CONSTRAINT = 'email_unconfirmed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.courses WHERE id = p_course AND status = 'published') THEN
        RAISE EXCEPTION 'the course is not open' USING ERRCODE = 'check_violation', CONSTRAINT = 'course_not_open';
    END IF;
    IF coalesce(cardinality(p_emails), 0) > private.bulk_rows_max() THEN
        RAISE EXCEPTION 'too many addresses' USING ERRCODE = 'check_violation', CONSTRAINT = 'too_many_rows';
    END IF;
END
$$;

-- What applying the list would do, without saying which address has an
-- account: 'add' stands for enroll, invite and skip alike (see the header).
CREATE FUNCTION public.bulk_enroll_preview(p_course uuid, p_emails text[])
RETURNS TABLE (line integer, email text, outcome text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM private.require_bulk_enroller(p_course, p_emails);
    RETURN QUERY
        SELECT c.line, c.email, CASE WHEN c.outcome IN ('enroll', 'invite', 'skip') THEN 'add' ELSE c.outcome END
        FROM private.classify_bulk(p_course, p_emails) c;
END
$$;

-- How many more addresses the caller may add today (p_limit: the app's own
-- daily limit, which may only lower invitations_per_day()).
CREATE FUNCTION public.bulk_additions_left(p_limit integer) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT greatest(0, least(coalesce(p_limit, private.invitations_per_day()), private.invitations_per_day())
                       - (SELECT count(*) FROM public.course_invitations
                          WHERE invited_by = (SELECT rls.uid()) AND created_at > now() - interval '1 day')::integer
                       - (SELECT count(*) FROM public.course_enrollment_grants
                          WHERE granted_by = (SELECT rls.uid()) AND granted_at > now() - interval '1 day')::integer)
$$;

-- Enroll p_user in p_course, granted by p_by (free, or a paid course whose
-- access p_by grants): a new enrollment, a revived cancelled one, or a pending
-- one settled (a paid request approved as it is; an unpaid one granted, its
-- open checkout closed). The grant is recorded first (its foreign key is
-- deferred), so notify_enrollment() knows the enrollment as granted: the owner
-- gets no notice per student, and the student one 'granted' notice naming who
-- enrolled them. Returns the enrollment's id, or NULL when it was active already.
CREATE FUNCTION private.grant_enrollment(p_course uuid, p_user uuid, p_by uuid, p_grant boolean) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    c record;
    existing record;
    paid_already boolean;
    target uuid;
BEGIN
    SELECT id, title, slug, price_amount INTO c FROM public.courses WHERE id = p_course;
    IF c.price_amount > 0 AND NOT p_grant THEN
        RAISE EXCEPTION 'a paid course: grant access explicitly' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'paid_course_needs_grant';
    END IF;
    SELECT id, status, payment_status, amount_paid INTO existing
    FROM public.course_enrollments WHERE course_id = p_course AND user_id = p_user FOR NO KEY UPDATE;
    IF FOUND AND existing.status IN ('enrolled', 'in_progress', 'completed', 'refunded') THEN
        RETURN NULL;
    END IF;
    paid_already := FOUND AND existing.payment_status = 'completed' AND existing.amount_paid > 0;
    target := CASE WHEN FOUND THEN existing.id ELSE gen_random_uuid() END;
    -- a paid request approved as it is was paid for: no grant of access, but the
    -- row marks the enrollment as the instructor's act (paid_course false)
    INSERT INTO public.course_enrollment_grants (enrollment_id, course_id, user_id, granted_by, paid_course)
    VALUES (target, p_course, p_user, p_by, c.price_amount > 0 AND NOT paid_already)
    ON CONFLICT (enrollment_id) DO UPDATE
        SET granted_by = EXCLUDED.granted_by, granted_at = now(), paid_course = EXCLUDED.paid_course;
    IF existing.id IS NOT NULL THEN
        IF NOT paid_already THEN
            PERFORM public.close_open_checkouts(existing.id, 'Access was granted by the instructor: nothing to pay.');
        END IF;
        -- one statement: the status and the payment move together (a pending
        -- row settled first would read as a new request to approve)
        UPDATE public.course_enrollments
        SET status = 'enrolled', enrolled_at = now(), cancelled_at = NULL,
            amount_paid = CASE WHEN paid_already THEN amount_paid ELSE 0 END,
            payment_status = 'completed'
        WHERE id = existing.id;
    ELSE
        INSERT INTO public.course_enrollments (id, course_id, user_id, status, payment_status, amount_paid)
        VALUES (target, p_course, p_user, 'enrolled', 'completed', 0);
    END IF;
    PERFORM private.notify(p_user, 'enrollment_update', jsonb_build_object(
        'kind', 'granted', 'course_id', c.id, 'course_title', c.title, 'course_slug', c.slug, 'paid', false,
        'by_name', (SELECT full_name FROM public.users WHERE id = p_by)),
        format('enrollment:%s:granted', target));
    RETURN target;
END
$$;

-- The owner is told of each new enrollment and the student of each move of
-- theirs (010), except for an enrollment an instructor granted in this
-- transaction (a grant row written now: grant_enrollment()): the instructor
-- did it themself, and the student gets grant_enrollment()'s own notice.
-- Replaces 010's private.notify_enrollment() (the same body and that one test).
CREATE OR REPLACE FUNCTION private.notify_enrollment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    active constant public.enrollment_status[] := '{enrolled,in_progress,completed}';
    now_active boolean := NEW.status IN ('enrolled', 'in_progress');
    was_active boolean := TG_OP = 'UPDATE' AND OLD.status = ANY (active);
    now_request boolean := NEW.status = 'pending' AND NEW.payment_status = 'completed';
    was_request boolean := TG_OP = 'UPDATE' AND OLD.status = 'pending' AND OLD.payment_status = 'completed';
    granted_now boolean := EXISTS (SELECT 1 FROM public.course_enrollment_grants g
                                   WHERE g.enrollment_id = NEW.id AND g.granted_at = now());
    c record;
    kind text;
BEGIN
    IF granted_now THEN
        RETURN NULL;
    END IF;
    SELECT id, title, slug, instructor_id INTO c FROM public.courses WHERE id = NEW.course_id;
    IF (now_active AND NOT was_active) OR (now_request AND NOT was_request) THEN
        kind := CASE WHEN now_request THEN 'request' ELSE 'enrolled' END;
        PERFORM private.notify(c.instructor_id, 'new_enrollment', jsonb_build_object(
            'kind', kind, 'course_id', c.id, 'course_title', c.title,
            'student_name', (SELECT full_name FROM public.users WHERE id = NEW.user_id)),
            format('enrollment:%s:%s', NEW.id, kind));
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IS DISTINCT FROM NEW.status THEN
        kind := CASE
            WHEN OLD.status = 'pending' AND now_active THEN 'confirmed'
            WHEN OLD.status = 'pending' AND NEW.status = 'cancelled'
                 AND (SELECT auth.uid()) IS DISTINCT FROM NEW.user_id THEN 'declined'
            WHEN NEW.status = 'refunded' THEN 'refunded'
        END;
        IF kind IS NOT NULL THEN
            PERFORM private.notify(NEW.user_id, 'enrollment_update', jsonb_build_object(
                'kind', kind, 'course_id', c.id, 'course_title', c.title, 'course_slug', c.slug,
                'paid', NEW.payment_status = 'completed' AND NEW.amount_paid > 0),
                format('enrollment:%s:%s', NEW.id, kind));
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- Applies a list: enrolls the active accounts, invites the addresses without
-- one (an invitation email each, queued), records a deactivated account's
-- address as a suppressed invitation, leaves everything else as it is.
-- Returns the preview's lines ('add' for what was enrolled or invited). Applying the same list again adds nothing. p_grant_access: the
-- caller grants access to a paid course (required for one); p_limit: the
-- app's daily limit (may only lower invitations_per_day()).
CREATE FUNCTION public.bulk_enroll(p_course uuid, p_emails text[], p_grant_access boolean, p_limit integer)
RETURNS TABLE (line integer, email text, outcome text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
    me constant uuid := (SELECT rls.uid());
    item record;
    price numeric;
    granting boolean;
    invitation uuid;
BEGIN
    PERFORM private.require_bulk_enroller(p_course, p_emails);
    SELECT price_amount INTO price FROM public.courses WHERE id = p_course;
    IF price > 0 AND NOT coalesce(p_grant_access, false) THEN
        RAISE EXCEPTION 'a paid course: grant access explicitly' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'paid_course_needs_grant';
    END IF;
    -- a grant means something only for a course with a price (kept with it)
    granting := price > 0;
    -- one list at a time per instructor (the daily cap holds under a race) and per course
    PERFORM pg_advisory_xact_lock(hashtext('bulk_enroll:' || me));
    PERFORM pg_advisory_xact_lock(hashtext('bulk_enroll_course:' || p_course));
    IF (SELECT count(*) FROM private.classify_bulk(p_course, p_emails) c
        WHERE c.outcome IN ('enroll', 'invite', 'skip')) > public.bulk_additions_left(p_limit) THEN
        RAISE EXCEPTION 'too many addresses added today' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'bulk_daily_limit';
    END IF;
    FOR item IN SELECT * FROM private.classify_bulk(p_course, p_emails) LOOP
        IF item.outcome = 'enroll' THEN
            PERFORM private.grant_enrollment(p_course, item.user_id, me, coalesce(p_grant_access, false));
        ELSIF item.outcome IN ('invite', 'skip') THEN
            -- 'skip' (a deactivated account): recorded as a sent invitation is
            -- (sent_at, expires_at), never sent, so it counts and reads the same.
            -- An expired open invitation is made anew (new token, new lifetime).
            UPDATE public.course_invitations
            SET invited_by = me, grant_access = granting, granted_price = CASE WHEN granting THEN price END,
                created_at = now(), token_hash = NULL, suppressed = item.outcome = 'skip',
                sent_at = CASE WHEN item.outcome = 'skip' THEN now() END,
                expires_at = CASE WHEN item.outcome = 'skip' THEN now() + private.invitation_lifetime() END
            WHERE course_id = p_course AND course_invitations.email = item.email::citext
              AND accepted_at IS NULL AND revoked_at IS NULL
            RETURNING id INTO invitation;
            IF invitation IS NULL THEN
                INSERT INTO public.course_invitations (course_id, email, invited_by, grant_access, granted_price,
                                                       suppressed, sent_at, expires_at)
                VALUES (p_course, item.email, me, granting, CASE WHEN granting THEN price END,
                        item.outcome = 'skip', CASE WHEN item.outcome = 'skip' THEN now() END,
                        CASE WHEN item.outcome = 'skip' THEN now() + private.invitation_lifetime() END)
                RETURNING id INTO invitation;
            END IF;
            IF item.outcome = 'invite' THEN
                PERFORM private.defer_job('email', 'send_invitation', jsonb_build_object('invitation_id', invitation));
            END IF;
            invitation := NULL;
        END IF;
        line := item.line;
        email := item.email;
        outcome := CASE WHEN item.outcome IN ('enroll', 'invite', 'skip') THEN 'add' ELSE item.outcome END;
        RETURN NEXT;
    END LOOP;
END
$$;

-- 3. sending and accepting invitations ------------------------------------------------------

-- An invitation stands while the course is published and its inviter is
-- active and still manages the course's students (the owner, or a
-- co-instructor with manage_students).
CREATE FUNCTION private.invitation_stands(p_course uuid, p_by uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT EXISTS (
        SELECT 1 FROM public.courses c JOIN public.users u ON u.id = p_by
        WHERE c.id = p_course AND c.status = 'published' AND u.is_active
          AND (c.instructor_id = p_by OR EXISTS (
                   SELECT 1 FROM public.course_instructors ci
                   WHERE ci.course_id = c.id AND ci.instructor_id = p_by
                     AND coalesce((ci.permissions ->> 'manage_students')::boolean, false))))
$$;

-- The worker's view of one invitation to send: the address, the course and who
-- invites; nothing once it is accepted, revoked, suppressed, or no longer
-- stands (invitation_stands()).
CREATE FUNCTION private.invitation_to_send(p_id uuid)
RETURNS TABLE (id uuid, email text, course_title text, course_slug text, inviter_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT i.id, i.email::text, c.title, c.slug, u.full_name
    FROM public.course_invitations i
    JOIN public.courses c ON c.id = i.course_id
    JOIN public.users u ON u.id = i.invited_by
    WHERE i.id = p_id AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.sent_at IS NULL
      AND NOT i.suppressed AND private.invitation_stands(i.course_id, i.invited_by)
$$;

-- The worker, as it writes the email: the token's hash and, from now, its
-- lifetime. Sending again (a retry) replaces the hash: only the latest link works.
CREATE FUNCTION private.arm_invitation(p_id uuid, p_token_hash text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH armed AS (
        UPDATE public.course_invitations SET token_hash = p_token_hash,
               expires_at = now() + private.invitation_lifetime()
        WHERE id = p_id AND accepted_at IS NULL AND revoked_at IS NULL AND sent_at IS NULL AND NOT suppressed
          AND private.invitation_stands(course_id, invited_by)
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM armed)
$$;

-- The worker, once the email is sent: a job run again sends nothing more.
CREATE FUNCTION private.invitation_sent(p_id uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    UPDATE public.course_invitations SET sent_at = now() WHERE id = p_id AND sent_at IS NULL
$$;

-- What a link shows before it is accepted (anyone holding it: the token is the
-- credential): the course, who invites, the invited address; nothing for a
-- link that no longer works (used, revoked, expired, or no longer standing).
CREATE FUNCTION public.invitation_target(p_token_hash text)
RETURNS TABLE (course_title text, course_slug text, inviter_name text, email text, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT c.title, c.slug, u.full_name, i.email::text, i.expires_at
    FROM public.course_invitations i
    JOIN public.courses c ON c.id = i.course_id
    JOIN public.users u ON u.id = i.invited_by
    WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL AND i.revoked_at IS NULL
      AND i.expires_at > now() AND private.invitation_stands(i.course_id, i.invited_by)
$$;

-- The signed-in caller accepts an invitation: the invitation spent, their
-- address confirmed when it is the invited one (the link reached it), and
-- enrolled. A grant (a course with a price, granted at invitation time)
-- enrolls at once while the price is the one granted; a free course enrolls
-- as the owner's auto_approve_enrollments says (off: waiting for approval);
-- otherwise (the price changed since) the ordinary path prices it and waits
-- for payment, as enroll_in_course makes it. Returns the course's slug; NULL
-- for a token that is unknown, used, revoked, expired, or whose invitation no
-- longer stands (its inviter left the course's team or was deactivated, the
-- course closed).
CREATE FUNCTION public.accept_invitation(p_token_hash text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := (SELECT rls.uid());
    inv record;
    c record;
    auto_approve boolean;
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'sign in first' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    SELECT i.* INTO inv FROM public.course_invitations i
    WHERE i.token_hash = p_token_hash AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()
    FOR UPDATE;
    IF NOT FOUND OR NOT private.invitation_stands(inv.course_id, inv.invited_by) THEN
        RETURN NULL;
    END IF;
    SELECT id, slug, instructor_id, price_amount, status INTO c FROM public.courses WHERE id = inv.course_id;
    IF c.instructor_id = me OR EXISTS (SELECT 1 FROM public.course_instructors
                                        WHERE course_id = c.id AND instructor_id = me) THEN
        RAISE EXCEPTION 'instructors do not enroll in their own course' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'own_course';
    END IF;
    UPDATE public.course_invitations SET accepted_at = now(), accepted_by = me WHERE id = inv.id;
    UPDATE public.users SET email_confirmed_at = now()
    WHERE id = me AND email = inv.email AND email_confirmed_at IS NULL;
    auto_approve := coalesce((SELECT s.auto_approve_enrollments FROM public.instructor_settings s
                              WHERE s.user_id = c.instructor_id), true);
    IF (c.price_amount > 0 AND inv.grant_access AND inv.granted_price = c.price_amount)
       OR (c.price_amount = 0 AND auto_approve) THEN
        PERFORM private.grant_enrollment(c.id, me, inv.invited_by, c.price_amount > 0);
    ELSIF NOT EXISTS (SELECT 1 FROM public.course_enrollments
                      WHERE course_id = c.id AND user_id = me AND status <> 'cancelled') THEN
        -- no grant that holds: the ordinary path (waits for approval, or prices
        -- the course and waits for payment)
        PERFORM public.enroll_in_course(c.id);
    END IF;
    RETURN c.slug;
END
$$;

-- A teacher who manages the course's students withdraws an open invitation:
-- its link stops working. It still counts against the day's cap (a revoked
-- invitation is not an address given back). Returns false for one that is not
-- open (accepted, or revoked already).
CREATE FUNCTION public.revoke_invitation(p_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    inv record;
BEGIN
    IF (SELECT rls.uid()) IS NULL THEN
        RAISE EXCEPTION 'sign in first' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    SELECT id, course_id, accepted_at, revoked_at INTO inv FROM public.course_invitations WHERE id = p_id FOR UPDATE;
    IF NOT FOUND OR NOT public.has_course_permission(inv.course_id, 'manage_students') THEN
        RAISE EXCEPTION 'no such invitation' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
    END IF;
    IF inv.accepted_at IS NOT NULL OR inv.revoked_at IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE public.course_invitations SET revoked_at = now(), revoked_by = (SELECT rls.uid()), token_hash = NULL
    WHERE id = p_id;
    RETURN true;
END
$$;

-- 4. announcements ------------------------------------------------------------------------

CREATE TABLE public.course_announcements (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id     uuid NOT NULL REFERENCES public.courses (id) ON DELETE CASCADE,
    author_id     uuid REFERENCES public.users (id) ON DELETE SET NULL,
    title         text NOT NULL CHECK (char_length(btrim(title)) BETWEEN 1 AND 200),
    body          text NOT NULL CHECK (char_length(btrim(body)) BETWEEN 1 AND 20000),
    -- who it is for: all the course's students, or a status filter
    audience      text NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'active', 'completed', 'at_risk')),
    -- the fan-out's progress: the students notified so far, the last one (by id), when it ended
    recipients    integer NOT NULL DEFAULT 0 CHECK (recipients >= 0),
    fanned_out_through uuid,
    delivered_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_course_announcements_course ON public.course_announcements (course_id, created_at DESC, id DESC);

-- The enrollment statuses an audience names ('at_risk': none until the at-risk
-- rule lands; the hook is here and in post_announcement).
CREATE FUNCTION private.audience_statuses(p_audience text) RETURNS public.enrollment_status[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT CASE p_audience
        WHEN 'all' THEN '{enrolled,in_progress,completed}'
        WHEN 'active' THEN '{enrolled,in_progress}'
        WHEN 'completed' THEN '{completed}'
        ELSE '{}' END::public.enrollment_status[]
$$;

-- Courses where the caller's enrollment is in one of p_statuses (announcements' readers).
CREATE FUNCTION rls.course_ids_enrolled_as(p_statuses public.enrollment_status[]) RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(array_agg(e.course_id), '{}') FROM public.course_enrollments e
    WHERE e.user_id = (SELECT rls.uid()) AND e.status = ANY (p_statuses)
$$;

-- A teacher with manage_students writes to the course's students; the fan-out
-- is queued (the worker notifies in batches). Returns the announcement's id.
CREATE FUNCTION public.post_announcement(p_course uuid, p_title text, p_body text, p_audience text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    new_id uuid;
BEGIN
    IF (SELECT rls.uid()) IS NULL THEN
        RAISE EXCEPTION 'sign in first' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    IF NOT public.has_course_permission(p_course, 'manage_students') THEN
        RAISE EXCEPTION 'no such course' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
    END IF;
    IF p_audience = 'at_risk' THEN  -- the hook: the at-risk rule comes with its own migration
        RAISE EXCEPTION 'no at-risk rule yet' USING ERRCODE = 'check_violation', CONSTRAINT = 'audience_unknown';
    END IF;
    INSERT INTO public.course_announcements (course_id, author_id, title, body, audience)
    VALUES (p_course, (SELECT rls.uid()), btrim(p_title), p_body, p_audience)
    RETURNING id INTO new_id;
    PERFORM private.defer_job('email', 'announce', jsonb_build_object('announcement_id', new_id));
    RETURN new_id;
END
$$;

-- The worker: the next batch of an announcement's students (after the last
-- one notified, by id), each notified once; the progress is kept with the
-- batch, so a run that stops resumes where it was; recipients counts the
-- notices written. Returns how many students the batch held (0: done).
CREATE FUNCTION private.fan_out_announcement(p_id uuid, p_batch integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    a record;
    payload jsonb;
    last_user uuid;
    taken integer := 0;
    told integer := 0;
    student record;
BEGIN
    SELECT an.*, c.title AS course_title, c.slug AS course_slug INTO a
    FROM public.course_announcements an JOIN public.courses c ON c.id = an.course_id
    WHERE an.id = p_id FOR NO KEY UPDATE OF an;
    IF NOT FOUND OR a.delivered_at IS NOT NULL THEN
        RETURN 0;
    END IF;
    payload := jsonb_build_object('announcement_id', a.id, 'course_id', a.course_id,
                                  'course_title', a.course_title, 'course_slug', a.course_slug,
                                  'title', a.title, 'excerpt', left(a.body, 300));
    FOR student IN
        SELECT e.user_id FROM public.course_enrollments e
        WHERE e.course_id = a.course_id AND e.status = ANY (private.audience_statuses(a.audience))
          AND (a.fanned_out_through IS NULL OR e.user_id > a.fanned_out_through)
        ORDER BY e.user_id
        LIMIT greatest(p_batch, 1)
    LOOP
        -- counted only when a notice was written (not for a student whose
        -- settings turn the event off, a deactivated one, or one told already)
        IF private.notify(student.user_id, 'course_announcement', payload,
                          format('announcement:%s', a.id)) IS NOT NULL THEN
            told := told + 1;
        END IF;
        last_user := student.user_id;
        taken := taken + 1;
    END LOOP;
    UPDATE public.course_announcements
    SET recipients = recipients + told,
        fanned_out_through = coalesce(last_user, fanned_out_through),
        delivered_at = CASE WHEN taken < greatest(p_batch, 1) THEN now() END
    WHERE id = a.id;
    RETURN taken;
END
$$;

INSERT INTO public.notification_events (event_type, audience, label, email_default, in_portal_default, position)
VALUES ('course_announcement', 'student', 'An instructor of your course writes to its students', true, true, 300);

-- Row-level security and grants ------------------------------------------------------------

ALTER TABLE public.course_enrollment_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.course_enrollment_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY course_enrollment_grants_read ON public.course_enrollment_grants FOR SELECT TO authenticated
    USING (course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
           OR user_id = (SELECT rls.uid())
           OR (SELECT rls.is_admin()));

ALTER TABLE public.course_invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.course_invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY course_invitations_read ON public.course_invitations FOR SELECT TO authenticated
    USING (course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
           OR (SELECT rls.is_admin()));

ALTER TABLE public.course_announcements ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.course_announcements FORCE ROW LEVEL SECURITY;
CREATE POLICY course_announcements_read ON public.course_announcements FOR SELECT TO authenticated
    USING (course_id = ANY ((SELECT rls.course_ids('{manage_students}'))::uuid[])
           OR (audience = 'all'
               AND course_id = ANY ((SELECT rls.course_ids_enrolled_as('{enrolled,in_progress,completed}'))::uuid[]))
           OR (audience = 'active'
               AND course_id = ANY ((SELECT rls.course_ids_enrolled_as('{enrolled,in_progress}'))::uuid[]))
           OR (audience = 'completed'
               AND course_id = ANY ((SELECT rls.course_ids_enrolled_as('{completed}'))::uuid[]))
           OR (SELECT rls.is_admin()));

REVOKE ALL ON public.course_enrollment_grants, public.course_invitations, public.course_announcements
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT SELECT ON public.course_enrollment_grants, public.course_announcements TO authenticated, service_role;
GRANT SELECT (id, course_id, email, invited_by, grant_access, granted_price, created_at, sent_at, expires_at,
              accepted_at, accepted_by, revoked_at, revoked_by) ON public.course_invitations TO authenticated, service_role;

REVOKE ALL ON FUNCTION private.invitations_per_day(), private.bulk_rows_max(), private.invitation_lifetime(),
    private.email_valid(text), private.invitation_stands(uuid, uuid), public.revoke_invitation(uuid),
    private.classify_bulk(uuid, text[]), private.require_bulk_enroller(uuid, text[]),
    public.bulk_enroll_preview(uuid, text[]), public.bulk_additions_left(integer),
    private.grant_enrollment(uuid, uuid, uuid, boolean), public.bulk_enroll(uuid, text[], boolean, integer),
    private.invitation_to_send(uuid), private.arm_invitation(uuid, text), private.invitation_sent(uuid),
    public.invitation_target(text),
    public.accept_invitation(text), private.audience_statuses(text),
    rls.course_ids_enrolled_as(public.enrollment_status[]),
    public.post_announcement(uuid, text, text, text), private.fan_out_announcement(uuid, integer)
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION public.bulk_enroll_preview(uuid, text[]), public.bulk_additions_left(integer),
    public.bulk_enroll(uuid, text[], boolean, integer), public.accept_invitation(text),
    public.revoke_invitation(uuid), public.post_announcement(uuid, text, text, text), rls.course_ids_enrolled_as(public.enrollment_status[])
    TO authenticated;
GRANT EXECUTE ON FUNCTION public.invitation_target(text) TO anon, authenticated;
GRANT EXECUTE ON FUNCTION private.invitation_to_send(uuid), private.arm_invitation(uuid, text),
    private.invitation_sent(uuid),
    private.fan_out_announcement(uuid, integer) TO portal_worker;
