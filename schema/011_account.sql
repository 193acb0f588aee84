-- 011: profile rules, instructor settings' at-risk thresholds, and the account:
-- sessions the server can revoke, password resets, email changes, the export
-- of one's data and the deletion of one's account (issue 18).
--
-- 1. The instructor profile's repeatable rows and links are checked here, as the
--    final word over the editor's own validation (portal/settings/profile*).
-- 2. At-risk thresholds per instructor (the Students area reads them).
-- 3. Sessions: each sign-in is a row; the cookie carries its id and every request
--    asks session_is_active(), so a session ended here (sign-out, sign out
--    everywhere, a password change or reset, deactivation) stops working even
--    in a copied cookie.
-- 4. Password resets: requested through portal_signin (throttled per address and
--    per email, the same answer whether an account exists or not); the worker
--    makes the token when it sends the email and stores only its SHA-256 (the
--    token itself is never in the database, the job queue included); a token is
--    good once, for PASSWORD_RESET_TTL, and only while the account's address is
--    still the one it was sent to.
-- 5. Email changes: a confirmation link to the new address; the address changes
--    when it is followed; the old address is told.
-- 6. export_my_data() and delete_account(): the rules are in the README.
--
-- What could hand an account to someone else (a new password, a new address,
-- confirming an address, closing the account) is not callable by the API roles
-- at all: an attacker holding a user's token (the threat model) could otherwise
-- do it without the password or the mailbox. Those functions take the person
-- explicitly and are granted to portal_signin, which only authenticator (the
-- app) may become, after the app checked the current password or the signed
-- link. 010's confirm_email(text) and 007's set_own_password_hash(text) are
-- revoked from authenticated for the same reason.

-- 1. the profile's rules ----------------------------------------------------------------------

-- A list of rows of one kind: at most 20 objects, only the named keys, the
-- required ones non-blank text, every text at most 200 characters, years
-- ('year', 'from', 'to') whole numbers from 1950 to 2100.
CREATE FUNCTION public.valid_profile_rows(p_rows jsonb, p_required text[], p_optional text[])
RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT jsonb_typeof(p_rows) = 'array' AND jsonb_array_length(p_rows) <= 20
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_array_elements(p_rows) AS r(item)
           WHERE jsonb_typeof(r.item) <> 'object'
              OR EXISTS (SELECT 1 FROM unnest(p_required) AS k(name)
                         WHERE jsonb_typeof(r.item -> k.name) IS DISTINCT FROM 'string'
                            OR btrim(r.item ->> k.name) = '')
              OR EXISTS (SELECT 1 FROM jsonb_each(r.item) AS f(key, value)
                         WHERE NOT (f.key = ANY (p_required || p_optional))
                            OR CASE WHEN f.key IN ('year', 'from', 'to')
                                    THEN jsonb_typeof(f.value) IS DISTINCT FROM 'number'
                                         OR (f.value)::text !~ '^\d{4}$'
                                         OR (f.value)::text::integer NOT BETWEEN 1950 AND 2100
                                    ELSE jsonb_typeof(f.value) IS DISTINCT FROM 'string'
                                         OR char_length(f.value #>> '{}') > 200 END))
$$;

-- Links to known networks only, each an https address of at most 500 characters
-- whose host a browser reads as Python does (no user part, no backslash:
-- "https://evil.example\@github.com" opens evil.example).
CREATE FUNCTION public.valid_social_links(p_links jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT jsonb_typeof(p_links) = 'object'
       AND NOT EXISTS (
           SELECT 1 FROM jsonb_each(p_links) AS l(network, url)
           WHERE l.network NOT IN ('linkedin', 'github', 'x', 'youtube', 'instagram', 'facebook', 'mastodon')
              OR jsonb_typeof(l.url) IS DISTINCT FROM 'string'
              OR (l.url #>> '{}') !~ '^https://[^\s/@\\?#]+\.[^\s/@\\?#]+(/[^\s\\]*)?$'
              OR char_length(l.url #>> '{}') > 500)
$$;

CREATE FUNCTION public.valid_expertise_tags(p_tags text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(cardinality(p_tags), 0) <= 15
       AND NOT EXISTS (SELECT 1 FROM unnest(p_tags) AS t(tag)
                       WHERE t.tag IS NULL OR char_length(btrim(t.tag)) NOT BETWEEN 1 AND 40)
$$;

-- Added NOT VALID, then validated when every stored row passes: a database
-- holding older rows that break a rule still migrates (its new writes are
-- checked), and says which rule it could not validate.
ALTER TABLE public.instructor_profiles
    ADD CONSTRAINT profile_education_rows
        CHECK (public.valid_profile_rows(education, '{degree,institution}', '{year}')) NOT VALID,
    ADD CONSTRAINT profile_certification_rows
        CHECK (public.valid_profile_rows(certifications, '{name}', '{issuer,year}')) NOT VALID,
    ADD CONSTRAINT profile_work_experience_rows
        CHECK (public.valid_profile_rows(work_experience, '{role,company}', '{from,to}')) NOT VALID,
    ADD CONSTRAINT profile_social_links
        CHECK (public.valid_social_links(social_links)) NOT VALID,
    ADD CONSTRAINT profile_expertise_tags
        CHECK (public.valid_expertise_tags(expertise_tags)) NOT VALID;



-- A profile for "students" only: the public page shows it to the instructor's
-- own students (enrolled, in progress or completed, in a course they own or
-- co-teach), and to no one else; the view public_instructors stays the public
-- ones' (anon reads it).
CREATE FUNCTION public.instructor_for_their_students(p_instructor_id uuid)
RETURNS SETOF public.public_instructors
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT u.id, u.full_name, u.avatar_url, p.headline, p.bio, p.expertise_tags, p.pillars,
           p.website_url, p.social_links, p.is_verified, p.is_featured, p.total_students,
           p.total_courses, p.total_workshops, p.average_rating, p.total_reviews
    FROM public.users u JOIN public.instructor_profiles p ON p.user_id = u.id
    WHERE u.id = p_instructor_id AND p.visibility = 'students'
      AND (p_instructor_id = ANY ((SELECT rls.teacher_ids())::uuid[])
           OR EXISTS (SELECT 1 FROM public.course_instructors ci
                      JOIN public.course_enrollments e ON e.course_id = ci.course_id
                      WHERE ci.instructor_id = p_instructor_id AND e.user_id = (SELECT rls.uid())
                        AND e.status IN ('enrolled', 'in_progress', 'completed')))
$$;

-- 2. at-risk thresholds ----------------------------------------------------------------------
-- A student is at risk under at_risk_progress_percent after at_risk_after_days
-- enrolled (the specification's 30 % after 7 days), or after inactive_after_days
-- without activity.
ALTER TABLE public.instructor_settings
    ADD COLUMN at_risk_progress_percent smallint NOT NULL DEFAULT 30
        CHECK (at_risk_progress_percent BETWEEN 1 AND 100),
    ADD COLUMN at_risk_after_days smallint NOT NULL DEFAULT 7 CHECK (at_risk_after_days BETWEEN 1 AND 365),
    ADD COLUMN inactive_after_days smallint NOT NULL DEFAULT 14 CHECK (inactive_after_days BETWEEN 1 AND 365),
    ADD CONSTRAINT instructor_timezone_name CHECK (timezone ~ '^[A-Za-z0-9_+/-]{1,64}$') NOT VALID,
    -- 007's envelope CHECK, tightened: a body base64url can decode (no length of 4n + 1)
    ADD CONSTRAINT payment_details_decode
        CHECK (payment_details IS NULL OR char_length(split_part(payment_details, '.', 3)) % 4 <> 1) NOT VALID;
GRANT UPDATE (at_risk_progress_percent, at_risk_after_days, inactive_after_days)
    ON public.instructor_settings TO authenticated;
GRANT SELECT (at_risk_progress_percent, at_risk_after_days, inactive_after_days)
    ON public.instructor_settings TO service_role;

DO $validate$
DECLARE
    item text[];
BEGIN
    FOREACH item SLICE 1 IN ARRAY ARRAY[
            ['instructor_profiles', 'profile_education_rows'],
            ['instructor_profiles', 'profile_certification_rows'],
            ['instructor_profiles', 'profile_work_experience_rows'],
            ['instructor_profiles', 'profile_social_links'],
            ['instructor_profiles', 'profile_expertise_tags'],
            ['instructor_settings', 'instructor_timezone_name'],
            ['instructor_settings', 'payment_details_decode']] LOOP
        BEGIN
            EXECUTE format('ALTER TABLE public.%I VALIDATE CONSTRAINT %I', item[1], item[2]);
        EXCEPTION WHEN check_violation THEN
            RAISE NOTICE '%: % holds for new writes only; older rows break it', item[1], item[2];
        END;
    END LOOP;
END
$validate$;

-- 3. sessions ---------------------------------------------------------------------------------
CREATE TABLE public.user_sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    user_agent    text CHECK (char_length(user_agent) <= 300),
    address       text CHECK (char_length(address) <= 64)
);
CREATE INDEX idx_user_sessions_user ON public.user_sessions (user_id, created_at DESC);

-- How long a session lives unused (and how long an ended one is kept to show).
CREATE FUNCTION private.session_lifetime() RETURNS interval
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT interval '30 days'
$$;

-- A new session for the caller (just signed in); the caller's sessions that
-- ended or went unused for the lifetime are forgotten now, so the table holds
-- what people may still use.
CREATE FUNCTION public.start_session(p_user_agent text, p_address text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := (SELECT rls.uid());
    new_id uuid;
BEGIN
    IF me IS NULL THEN
        RAISE EXCEPTION 'sign in first' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    DELETE FROM public.user_sessions
    WHERE user_id = me
      AND (revoked_at < now() - private.session_lifetime()
           OR last_seen_at < now() - private.session_lifetime());
    -- at most 50 open sessions a person: the least recently used beyond them end
    UPDATE public.user_sessions SET revoked_at = now()
    WHERE id IN (SELECT id FROM public.user_sessions
                 WHERE user_id = me AND revoked_at IS NULL
                 ORDER BY last_seen_at DESC, created_at DESC OFFSET 49);
    INSERT INTO public.user_sessions (user_id, user_agent, address)
    VALUES (me, left(p_user_agent, 300), left(p_address, 64))
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Whether the caller's session is still good; it is marked seen at most every
-- five minutes (one small write, not one per request).
CREATE FUNCTION public.session_is_active(p_session uuid) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH mine AS (
        SELECT s.id, s.last_seen_at FROM public.user_sessions s
        WHERE s.id = p_session AND s.user_id = (SELECT rls.uid()) AND s.revoked_at IS NULL
          AND s.last_seen_at > now() - private.session_lifetime()),
    seen AS (
        UPDATE public.user_sessions s SET last_seen_at = now()
        FROM mine WHERE s.id = mine.id AND mine.last_seen_at < now() - interval '5 minutes'
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM mine)
$$;

-- Ends the caller's sessions: one (p_only), or all but one (p_keep; NULL ends them all).
CREATE FUNCTION public.end_sessions(p_only uuid, p_keep uuid) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH ended AS (
        UPDATE public.user_sessions SET revoked_at = now()
        WHERE user_id = (SELECT rls.uid()) AND revoked_at IS NULL
          AND (p_only IS NULL OR id = p_only)
          AND (p_keep IS NULL OR id <> p_keep)
        RETURNING 1)
    SELECT count(*)::integer FROM ended
$$;

-- The account's row, locked for the rest of the transaction (what changes it
-- goes one at a time); refused when there is no such active account.
CREATE FUNCTION private.lock_active_account(p_user uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM public.users WHERE id = p_user AND is_active FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such active account' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
END
$$;

-- A password hash for an active account (portal_signin: a rehash after signing in).
CREATE FUNCTION public.set_password_hash(p_user uuid, p_password_hash text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM private.lock_active_account(p_user);
    INSERT INTO private.user_credentials (user_id, password_hash) VALUES (p_user, p_password_hash)
    ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = now();
END
$$;

-- A new password (portal_signin, once the app checked the current one), and
-- every other session of the account ended; returns how many.
CREATE FUNCTION public.change_password(p_user uuid, p_password_hash text, p_keep_session uuid) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    ended integer;
BEGIN
    PERFORM private.lock_active_account(p_user);
    PERFORM public.set_password_hash(p_user, p_password_hash);
    UPDATE public.user_sessions SET revoked_at = now()
    WHERE user_id = p_user AND revoked_at IS NULL AND id IS DISTINCT FROM p_keep_session;
    GET DIAGNOSTICS ended = ROW_COUNT;
    RETURN ended;
END
$$;

-- A deactivated account is signed out everywhere.
CREATE FUNCTION private.end_sessions_of_deactivated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE public.user_sessions SET revoked_at = now() WHERE user_id = NEW.id AND revoked_at IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER end_sessions_of_deactivated AFTER UPDATE OF is_active ON public.users
    FOR EACH ROW WHEN (OLD.is_active AND NOT NEW.is_active)
    EXECUTE FUNCTION private.end_sessions_of_deactivated();

-- 4. password resets --------------------------------------------------------------------------
CREATE TABLE private.password_reset_requests (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email        citext NOT NULL CHECK (char_length(email) <= 254),
    address      text NOT NULL CHECK (char_length(address) <= 64),
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_password_reset_requests_email ON private.password_reset_requests (email, requested_at);
CREATE INDEX idx_password_reset_requests_address ON private.password_reset_requests (address, requested_at);
CREATE INDEX idx_password_reset_requests_time ON private.password_reset_requests (requested_at);

CREATE TABLE private.password_resets (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    -- the address the link goes to: the link is good only while it is still the account's
    email       citext NOT NULL,
    -- SHA-256 of the token, set by the worker as it sends the email
    token_hash  bytea UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    used_at     timestamptz
);
CREATE INDEX idx_password_resets_user ON private.password_resets (user_id);
CREATE INDEX idx_password_resets_created ON private.password_resets (created_at);

-- True when the request may go on (not throttled); then, for an active account
-- with that address, a reset is made and its email queued. The caller learns
-- nothing about whether an account exists from the answer: it depends only on
-- the counts of requests for this address and from this network address, kept
-- whether or not an account exists. (The time taken differs by a millisecond
-- for an existing account; sign-up says outright that an address is taken, so
-- evening it out would hide nothing.)
CREATE FUNCTION public.request_password_reset(p_email text, p_address text, p_account_limit integer,
                                              p_address_limit integer, p_window interval)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    person record;
    reset_id uuid;
BEGIN
    -- one request at a time per address and per network address, so that
    -- concurrent requests count each other (the limits hold under a race)
    PERFORM pg_advisory_xact_lock(hashtext('password_reset:' || lower(left(p_email, 254))));
    PERFORM pg_advisory_xact_lock(hashtext('password_reset_from:' || left(p_address, 64)));
    IF (SELECT count(*) FROM private.password_reset_requests
        WHERE email = left(p_email, 254)::citext AND requested_at > now() - p_window) >= p_account_limit
       OR (SELECT count(*) FROM private.password_reset_requests
           WHERE address = left(p_address, 64) AND requested_at > now() - p_window) >= p_address_limit THEN
        RETURN false;
    END IF;
    INSERT INTO private.password_reset_requests (email, address) VALUES (left(p_email, 254), left(p_address, 64));
    DELETE FROM private.password_reset_requests WHERE requested_at < now() - interval '1 day';
    DELETE FROM private.password_resets WHERE created_at < now() - interval '1 day';
    SELECT u.id, u.email INTO person FROM public.users u
    WHERE u.email = left(p_email, 254)::citext AND u.is_active;
    IF FOUND THEN
        INSERT INTO private.password_resets (user_id, email) VALUES (person.id, person.email)
        RETURNING id INTO reset_id;
        PERFORM private.notify(person.id, 'password_reset', jsonb_build_object('reset_id', reset_id),
                               format('reset:%s', reset_id));
    END IF;
    RETURN true;
END
$$;

-- The worker, as it writes the email: the token's hash, and from now its time
-- limit. False when the reset is used, or the address changed since (no email).
-- Sending again (a retry) replaces the hash: only the latest email's link works.
CREATE FUNCTION private.arm_password_reset(p_reset uuid, p_token_hash bytea, p_ttl interval)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH armed AS (
        UPDATE private.password_resets r SET token_hash = p_token_hash, expires_at = now() + p_ttl
        FROM public.users u
        WHERE r.id = p_reset AND r.used_at IS NULL AND u.id = r.user_id AND u.is_active
          AND u.email = r.email
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM armed)
$$;

-- The reset a token opens, while it may still be used: the account's id and address.
CREATE FUNCTION public.password_reset_target(p_token_hash bytea)
RETURNS TABLE (user_id uuid, email text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT u.id, u.email::text
    FROM private.password_resets r JOIN public.users u ON u.id = r.user_id
    WHERE r.token_hash = p_token_hash AND r.used_at IS NULL AND r.expires_at > now()
      AND u.is_active AND u.email = r.email
$$;

-- Uses a token: the new password, every reset of the account spent, every
-- session ended, and the address confirmed (the link reached it). Returns the
-- account's id, or NULL when the token is unknown, used, expired or stale.
CREATE FUNCTION public.complete_password_reset(p_token_hash bytea, p_password_hash text)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    target uuid;
BEGIN
    UPDATE private.password_resets r SET used_at = now()
    FROM public.users u
    WHERE r.token_hash = p_token_hash AND r.used_at IS NULL AND r.expires_at > now()
      AND u.id = r.user_id AND u.is_active AND u.email = r.email
    RETURNING r.user_id INTO target;
    IF target IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE private.password_resets SET used_at = now() WHERE user_id = target AND used_at IS NULL;
    UPDATE private.user_credentials SET password_hash = p_password_hash, updated_at = now()
    WHERE user_id = target;
    IF NOT FOUND THEN
        INSERT INTO private.user_credentials (user_id, password_hash) VALUES (target, p_password_hash);
    END IF;
    UPDATE public.user_sessions SET revoked_at = now() WHERE user_id = target AND revoked_at IS NULL;
    UPDATE public.users SET email_confirmed_at = now() WHERE id = target AND email_confirmed_at IS NULL;
    RETURN target;
END
$$;

-- 5. email changes ----------------------------------------------------------------------------
CREATE TABLE public.email_changes (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    new_email     citext NOT NULL
                  CHECK (new_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND char_length(new_email) <= 254),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    confirmed_at  timestamptz,
    cancelled_at  timestamptz
);
CREATE INDEX idx_email_changes_user ON public.email_changes (user_id, created_at DESC);
-- one pending change per account
CREATE UNIQUE INDEX idx_email_changes_pending ON public.email_changes (user_id)
    WHERE confirmed_at IS NULL AND cancelled_at IS NULL;

-- A person asks to move their account to a new address (portal_signin, once
-- the app checked their password): earlier pending requests are cancelled, and
-- the new address gets a confirmation link. At most five requests an hour (the
-- portal is no relay for mail to strangers; the account's row is locked, so
-- concurrent requests count each other). Whether another account uses the
-- address is not said here (that would tell who has an account); confirming
-- says it, to the one who holds that mailbox.
CREATE FUNCTION public.request_email_change(p_user uuid, p_new_email text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := p_user;
    change_id uuid;
BEGIN
    PERFORM private.lock_active_account(me);
    IF EXISTS (SELECT 1 FROM public.users WHERE id = me AND email = p_new_email::citext) THEN
        RAISE EXCEPTION 'that is the current address' USING ERRCODE = 'check_violation', CONSTRAINT = 'same_email';
    END IF;
    IF (SELECT count(*) FROM public.email_changes
        WHERE user_id = me AND created_at > now() - interval '1 hour') >= 5 THEN
        RAISE EXCEPTION 'too many email changes' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'too_many_email_changes';
    END IF;
    UPDATE public.email_changes SET cancelled_at = now()
    WHERE user_id = me AND confirmed_at IS NULL AND cancelled_at IS NULL;
    INSERT INTO public.email_changes (user_id, new_email) VALUES (me, p_new_email) RETURNING id INTO change_id;
    PERFORM private.notify(me, 'email_change', jsonb_build_object('to', p_new_email, 'change_id', change_id),
                           format('email_change:%s', change_id));
    RETURN change_id;
END
$$;

CREATE FUNCTION public.cancel_email_change() RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH cancelled AS (
        UPDATE public.email_changes SET cancelled_at = now()
        WHERE user_id = (SELECT rls.uid()) AND confirmed_at IS NULL AND cancelled_at IS NULL
        RETURNING 1)
    SELECT count(*)::integer FROM cancelled
$$;

-- The link's person (portal_signin: the app checked the link's signature)
-- confirms a pending change: the account's address becomes the new one,
-- confirmed, and the old address is told. Another account holding the address
-- is the unique violation users_email_key.
CREATE FUNCTION public.confirm_email_change(p_user uuid, p_change uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    me constant uuid := p_user;
    change record;
    old_email text;
BEGIN
    SELECT c.id, c.new_email INTO change FROM public.email_changes c
    WHERE c.id = p_change AND c.user_id = me AND c.confirmed_at IS NULL AND c.cancelled_at IS NULL
      AND c.expires_at > now()
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such pending change' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'email_change_not_pending';
    END IF;
    SELECT email::text INTO old_email FROM public.users WHERE id = me AND is_active FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such active account' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'email_change_not_pending';
    END IF;
    UPDATE public.users SET email = change.new_email, email_confirmed_at = now(), updated_at = now()
    WHERE id = me;
    UPDATE public.email_changes SET confirmed_at = now() WHERE id = change.id;
    -- a reset sent to the old address must not work any more
    UPDATE private.password_resets SET used_at = now() WHERE user_id = me AND used_at IS NULL;
    PERFORM private.notify(me, 'email_changed',
                           jsonb_build_object('to', old_email, 'new_email', change.new_email::text),
                           format('email_changed:%s', change.id));
    RETURN change.new_email::text;
END
$$;

-- 010's confirmation link, now through portal_signin (the app checked the
-- link's signature): confirms the person's address when it is still theirs
-- and unconfirmed.
CREATE FUNCTION public.confirm_email_of(p_user uuid, p_email text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH confirmed AS (
        UPDATE public.users SET email_confirmed_at = now()
        WHERE id = p_user AND is_active AND email = p_email::citext AND email_confirmed_at IS NULL
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM confirmed)
$$;

-- An address set together with its confirmation (confirm_email_change, as the
-- owner: the API roles have no grant on email_confirmed_at) stays confirmed;
-- any other change of address is unconfirmed again, as before.
CREATE OR REPLACE FUNCTION private.unconfirm_changed_email() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NEW.email_confirmed_at IS NOT DISTINCT FROM OLD.email_confirmed_at THEN
        NEW.email_confirmed_at := NULL;
    END IF;
    RETURN NEW;
END
$$;

-- 4, 5. the account's emails ------------------------------------------------------------------
INSERT INTO public.notification_events (event_type, audience, label, email_default, in_portal_default, position)
VALUES ('password_reset', 'account', 'Reset your password', true, false, 90),
       ('email_change', 'account', 'Confirm your new email address', true, false, 100),
       ('email_changed', 'account', 'Your email address was changed', true, false, 110);

-- The account's emails (audience 'account') go by email only, whatever the
-- preferences: the confirmation of an address while it is unconfirmed, and the
-- others to unconfirmed addresses too (a reset link is how one proves an
-- address). Everything else as in 010.
CREATE OR REPLACE FUNCTION private.notify(p_user uuid, p_event text, p_payload jsonb, p_dedup text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    ch record;
    person record;
    by_email boolean;
    new_id uuid;
BEGIN
    SELECT * INTO ch FROM private.notification_channels(p_user, p_event);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown notification event %', p_event
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'unknown_notification_event';
    END IF;
    SELECT u.is_active, u.email_confirmed_at IS NOT NULL AS confirmed INTO person
    FROM public.users u WHERE u.id = p_user;
    IF NOT coalesce(person.is_active, false) THEN
        RETURN NULL;
    END IF;
    IF (SELECT audience FROM public.notification_events WHERE event_type = p_event) = 'account' THEN
        ch.in_portal := false;
        by_email := p_event <> 'email_confirmation' OR NOT person.confirmed;
    ELSE
        by_email := ch.email AND person.confirmed;
    END IF;
    IF NOT (ch.in_portal OR by_email) THEN
        RETURN NULL;
    END IF;
    INSERT INTO public.notifications (user_id, event_type, payload, dedup_key, in_portal, email_state)
    VALUES (p_user, p_event, p_payload, p_dedup, ch.in_portal,
            CASE WHEN by_email THEN 'pending' ELSE 'off' END)
    ON CONFLICT (user_id, event_type, dedup_key) DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NOT NULL AND by_email THEN
        PERFORM private.defer_job('email', 'deliver_email', jsonb_build_object('notification_id', new_id));
    END IF;
    RETURN new_id;
END
$$;

-- The email job's view of one notice (010), with the account's emails: an
-- email change's confirmation goes to the new address and its notice to the old
-- one (the payload's 'to'); a confirmation link only while the change is pending;
-- a reset while unused (arm_password_reset decides the rest).
CREATE OR REPLACE FUNCTION private.email_to_send(p_id uuid)
RETURNS TABLE (id uuid, event_type text, payload jsonb, created_at timestamptz, email_state text,
               email_attempts integer, user_id uuid, email text, full_name text, timezone text,
               wanted boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT n.id, n.event_type, n.payload, n.created_at, n.email_state, n.email_attempts,
           u.id,
           CASE WHEN n.event_type IN ('email_change', 'email_changed') THEN n.payload ->> 'to'
                ELSE u.email::text END,
           u.full_name, (SELECT p.timezone FROM private.preferences(u.id) AS p),
           u.is_active AND CASE n.event_type
               WHEN 'email_confirmation' THEN u.email_confirmed_at IS NULL
               WHEN 'password_reset' THEN EXISTS (
                   SELECT 1 FROM private.password_resets r
                   WHERE r.id = (n.payload ->> 'reset_id')::uuid AND r.used_at IS NULL)
               WHEN 'email_change' THEN EXISTS (
                   SELECT 1 FROM public.email_changes c
                   WHERE c.id = (n.payload ->> 'change_id')::uuid AND c.confirmed_at IS NULL
                     AND c.cancelled_at IS NULL AND c.expires_at > now())
               WHEN 'email_changed' THEN true
               ELSE u.email_confirmed_at IS NOT NULL
                    AND coalesce((SELECT ch.email FROM private.notification_channels(u.id, n.event_type) ch),
                                 false) END
    FROM public.notifications n JOIN public.users u ON u.id = n.user_id
    WHERE n.id = p_id
$$;

-- The notices about a student (their name in the payload), by key: closing the
-- student's account renames them there.
CREATE INDEX idx_notifications_about_students ON public.notifications (dedup_key)
    WHERE event_type IN ('new_enrollment', 'new_review');

-- 6. one's own data ---------------------------------------------------------------------------

-- Everything the portal holds about the caller as a person, as one JSON
-- document: the account, profile and settings (payment details as their last
-- four characters' absence: the ciphertext is no one's data to read), sessions,
-- enrollments with lesson progress, reviews, certificates, workshop
-- registrations, notices, and as an instructor the courses and workshops they
-- own (by title; their students' data is the students').
CREATE FUNCTION public.export_my_data() RETURNS jsonb
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
                                     FROM public.workshops w WHERE w.instructor_id = me), '[]'));
END
$$;

-- What deleting the caller's account would do: 'refused' (a platform admin:
-- another admin deactivates them), 'deactivated' (an instructor with sales,
-- students or workshop registrations: the records others rely on stay), or
-- 'deleted' (everyone else: anonymised).
CREATE FUNCTION private.deletion_outcome_of(p_user uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT CASE
        WHEN u.role = 'admin' THEN 'refused'
        WHEN EXISTS (SELECT 1 FROM public.revenue_transactions t WHERE t.instructor_id = u.id)
          OR EXISTS (SELECT 1 FROM public.courses c JOIN public.course_enrollments e ON e.course_id = c.id
                     WHERE c.instructor_id = u.id)
          OR EXISTS (SELECT 1 FROM public.workshops w JOIN public.workshop_registrations r ON r.workshop_id = w.id
                     WHERE w.instructor_id = u.id) THEN 'deactivated'
        ELSE 'deleted' END
    FROM public.users u WHERE u.id = p_user
$$;

CREATE FUNCTION public.account_deletion_outcome() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT private.deletion_outcome_of((SELECT rls.uid()))
$$;

-- Closing an account (portal_signin, once the app checked the password). A
-- platform admin cannot (another admin deactivates them). An instructor with
-- sales, students or workshop registrations keeps the records others rely on
-- (money, learners' access): the account is deactivated, signed out everywhere
-- and hidden, and nothing is erased; their courses are archived (no new
-- students; enrolled ones keep learning) and their published workshops without
-- registrations cancelled. Everyone else is anonymised, and their courses and
-- workshops with them (none has a student) archived and cancelled, their
-- co-teaching and facilitating ended: name, address, photo, password, sessions, notices, settings and
-- profile text are erased; enrollments, progress, certificates and reviews stay
-- (every figure with them) under "Former member" (the certificates' printed
-- name and the name in the notices their teachers got too) with an address
-- that reaches no one. Returns 'deactivated' or 'deleted'.
CREATE FUNCTION public.delete_account(p_user uuid) RETURNS text
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

-- Row-level security and grants ---------------------------------------------------------------
ALTER TABLE public.user_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY user_sessions_own ON public.user_sessions FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid()));
ALTER TABLE public.email_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.email_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY email_changes_own ON public.email_changes FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid()));
-- No policy: only the owner's SECURITY DEFINER functions read or write these.
ALTER TABLE private.password_reset_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.password_reset_requests FORCE ROW LEVEL SECURITY;
ALTER TABLE private.password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.password_resets FORCE ROW LEVEL SECURITY;

REVOKE ALL ON public.user_sessions, public.email_changes, private.password_reset_requests,
    private.password_resets FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT SELECT (id, created_at, last_seen_at, revoked_at, user_agent, address) ON public.user_sessions TO authenticated;
GRANT SELECT (id, new_email, created_at, expires_at, confirmed_at, cancelled_at) ON public.email_changes
    TO authenticated;

REVOKE ALL ON FUNCTION public.valid_profile_rows(jsonb, text[], text[]), public.valid_social_links(jsonb),
    public.valid_expertise_tags(text[]), public.instructor_for_their_students(uuid), private.session_lifetime(),
    public.start_session(text, text), public.session_is_active(uuid), public.end_sessions(uuid, uuid),
    private.lock_active_account(uuid), public.set_password_hash(uuid, text), public.change_password(uuid, text, uuid),
    private.end_sessions_of_deactivated(), public.confirm_email_of(uuid, text),
    public.request_password_reset(text, text, integer, integer, interval),
    private.arm_password_reset(uuid, bytea, interval), public.password_reset_target(bytea),
    public.complete_password_reset(bytea, text),
    public.request_email_change(uuid, text), public.cancel_email_change(), public.confirm_email_change(uuid, uuid),
    public.export_my_data(), private.deletion_outcome_of(uuid), public.account_deletion_outcome(),
    public.delete_account(uuid)
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
-- The profile's CHECKs call these as whoever writes the row.
GRANT EXECUTE ON FUNCTION public.valid_profile_rows(jsonb, text[], text[]), public.valid_social_links(jsonb),
    public.valid_expertise_tags(text[]) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.instructor_for_their_students(uuid),
    public.start_session(text, text), public.session_is_active(uuid),
    public.end_sessions(uuid, uuid), public.cancel_email_change(),
    public.export_my_data(), public.account_deletion_outcome()
    TO authenticated;
-- What hands an account on (see the header): the app, after the password or the signed link.
REVOKE ALL ON FUNCTION public.set_own_password_hash(text), public.confirm_email(text)
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION public.set_password_hash(uuid, text), public.change_password(uuid, text, uuid),
    public.request_email_change(uuid, text), public.confirm_email_change(uuid, uuid),
    public.confirm_email_of(uuid, text), public.delete_account(uuid)
    TO portal_signin;
-- Resetting a forgotten password: only portal_signin, which only authenticator can become.
GRANT EXECUTE ON FUNCTION public.request_password_reset(text, text, integer, integer, interval),
    public.password_reset_target(bytea), public.complete_password_reset(bytea, text)
    TO portal_signin;
GRANT EXECUTE ON FUNCTION private.arm_password_reset(uuid, bytea, interval) TO portal_worker;
