-- portal:install procrastinate 3.10.0
--
-- 010: notifications and background jobs (issue "Notifications and background jobs").
--
-- The line above asks the migration runner (portal/db.py) to install, in this
-- file's transaction and before its SQL, the job queue's own schema as the
-- pinned procrastinate release ships it, into schema `procrastinate` (its
-- SQL is the library's, read from the installed package, never copied here).
--
--   1. the worker's role: portal_worker, NOLOGIN, only authenticator is a
--      member (as portal_signin). The worker connects as authenticator and
--      becomes it for the whole session; it may use the queue and run the
--      named back-office functions below, nothing else.
--   2. the queue's tables get row-level security like every other table:
--      enabled, forced, and one policy, for portal_worker. No API role has
--      any privilege in schema procrastinate.
--   3. the outbox: a notice is a row of public.notifications written by a
--      trigger in the same transaction as the act that causes it (so nothing
--      is announced that did not happen, and nothing that happened goes
--      unannounced), and when its recipient wants it by email, a job that
--      delivers it is queued in that same transaction. Nobody inserts a notice
--      through the API: only the triggers and scheduled functions here do.
--   4. preferences: per event type and channel; instructors' in
--      instructor_settings (email_notifications, push_notifications: "push"
--      is the in-portal bell), everyone else's in notification_settings with
--      the same two columns. A key that is absent (or not a boolean) means the
--      event's default.
--   5. scheduled work the worker runs: workshop reminders, checkout expiry,
--      alerts to admins, and the admin's view of the queue.
--   6. email goes only to a confirmed address: sign-up (and an address changed
--      by an admin) sends one confirmation email, whose signed link confirms it;
--      until then no other email is sent there (anyone may sign up with anyone's
--      address, and the portal must not mail strangers what an account makes:
--      its own workshops' titles, names, reviews). Accounts that exist before
--      this migration count as confirmed.
--   7. every function that pins its search path ends it with pg_temp, those of
--      001-009 included: PostgreSQL searches the caller's temporary schema
--      first unless pg_temp is named, and any API role may create temporary
--      tables, types and functions, so a caller could otherwise put a table,
--      type or operator of their own under a name a SECURITY DEFINER function
--      uses and run code as the owner.

-- begin roles ---------------------------------------------------------------
-- portal_worker: NOLOGIN, and only authenticator is a member. Created where
-- missing by portal.db.bootstrap_roles() as a superuser (every file's roles
-- block), so that here, as the owner, the block changes nothing.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal_worker') THEN
        CREATE ROLE portal_worker NOLOGIN NOINHERIT;
    END IF;
    IF NOT pg_has_role('authenticator', 'portal_worker', 'MEMBER') THEN
        GRANT portal_worker TO authenticator;
    END IF;
END
$roles$;
-- end roles -----------------------------------------------------------------

-- 2. the queue ------------------------------------------------------------------
REVOKE ALL ON SCHEMA procrastinate FROM PUBLIC;
GRANT USAGE ON SCHEMA procrastinate TO portal_worker;
DO $queue$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'procrastinate' AND c.relkind = 'r'
    LOOP
        EXECUTE format('ALTER TABLE procrastinate.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE procrastinate.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY worker_queue ON procrastinate.%I FOR ALL TO portal_worker USING (true) WITH CHECK (true)', t);
        EXECUTE format('REVOKE ALL ON procrastinate.%I FROM PUBLIC, anon, authenticated, service_role, portal_signin', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON procrastinate.%I TO portal_worker', t);
    END LOOP;
END
$queue$;
-- The queue's functions and triggers name their tables without a schema and
-- set no search path: each gets its own, so that they work (and cannot be
-- misled) whatever the caller's path is, the owner's maintenance included.
-- pg_temp last, as everywhere (see the end of this file).
DO $paths$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = 'procrastinate'::regnamespace
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = procrastinate, pg_catalog, pg_temp', f);
    END LOOP;
END
$paths$;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA procrastinate FROM PUBLIC, anon, authenticated, service_role, portal_signin;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA procrastinate FROM PUBLIC, anon, authenticated, service_role, portal_signin;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA procrastinate TO portal_worker;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA procrastinate TO portal_worker;
-- No NOTIFY: PostgreSQL lets any role LISTEN and NOTIFY on any channel, so the
-- queue's announcements of new jobs would tell anon of every email queued, and a
-- NOTIFY of anon's on the queue's channel (a payload that is not the expected
-- JSON) stops procrastinate's listener and with it the worker. Workers poll
-- instead (portal/jobs/worker.py: listen_notify off, WORKER_POLL_SECONDS).
ALTER TABLE procrastinate.procrastinate_jobs DISABLE TRIGGER procrastinate_jobs_notify_queue_job_inserted_v1;
ALTER TABLE procrastinate.procrastinate_jobs DISABLE TRIGGER procrastinate_jobs_notify_queue_job_aborted_v1;

-- The admin page counts and lists dead jobs without reading the whole history.
CREATE INDEX idx_procrastinate_jobs_dead ON procrastinate.procrastinate_jobs (id DESC)
    WHERE status = 'failed';

-- Why a job last failed (procrastinate keeps no error): written by the worker's
-- task wrapper, shown on the admin page. Gone with its job.
CREATE TABLE private.job_errors (
    job_id    bigint PRIMARY KEY REFERENCES procrastinate.procrastinate_jobs (id) ON DELETE CASCADE,
    attempt   integer NOT NULL CHECK (attempt >= 1),
    error     text NOT NULL CHECK (char_length(error) <= 2000),
    failed_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE private.job_errors ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.job_errors FORCE ROW LEVEL SECURITY;

-- Queue a job from SQL, in the caller's transaction (the outbox's delivery).
-- The queue's functions resolve their tables through the search path.
CREATE FUNCTION private.defer_job(p_queue text, p_task text, p_args jsonb) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, procrastinate, pg_temp AS $$
    SELECT (procrastinate.procrastinate_defer_jobs_v1(ARRAY[
        ROW(p_queue, p_task, 0, NULL, NULL, p_args, NULL)::procrastinate.procrastinate_job_to_defer_v1]))[1]
$$;

-- 3. the outbox ------------------------------------------------------------------

-- The event types that exist, who they are for, and their defaults. Senders of
-- later issues add their rows here (a new migration).
CREATE TABLE public.notification_events (
    event_type        text PRIMARY KEY CHECK (event_type ~ '^[a-z_]{3,40}$'),
    -- 'account': about the account itself (its address): always by email, never a preference.
    audience          text NOT NULL CHECK (audience IN ('instructor', 'student', 'admin', 'any', 'account')),
    label             text NOT NULL CHECK (char_length(label) BETWEEN 3 AND 200),
    email_default     boolean NOT NULL,
    in_portal_default boolean NOT NULL,
    position          smallint NOT NULL UNIQUE
);
INSERT INTO public.notification_events (event_type, audience, label, email_default, in_portal_default, position)
VALUES ('new_enrollment', 'instructor', 'A student enrolls in your course or asks to', true, true, 10),
       ('new_review', 'instructor', 'A student reviews your course', true, true, 20),
       ('workshop_reminder', 'any', 'A workshop you teach or attend starts in 24 hours and in 1 hour', true, true, 30),
       ('enrollment_update', 'student', 'Your enrollment is confirmed, declined or refunded', true, true, 40),
       ('review_response', 'student', 'An instructor answers your review', true, true, 50),
       ('certificate_issued', 'student', 'You earn a certificate', true, true, 60),
       ('figures_mismatch', 'admin', 'The nightly check finds a stored figure that differs from its recomputation', true, true, 70),
       ('email_confirmation', 'account', 'Confirm your email address', true, false, 80);

ALTER TABLE public.users ADD COLUMN email_confirmed_at timestamptz;
UPDATE public.users SET email_confirmed_at = created_at;

-- Preferences of everyone without instructor_settings (students, admins),
-- and the time zone their emails give times in (instructors': instructor_settings).
CREATE TABLE public.notification_settings (
    user_id            uuid PRIMARY KEY REFERENCES public.users (id) ON DELETE CASCADE,
    email_notifications jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(email_notifications) = 'object'),
    push_notifications  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(push_notifications) = 'object'),
    timezone           text NOT NULL DEFAULT 'UTC' CHECK (timezone ~ '^[A-Za-z0-9_+/-]{1,64}$'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.notification_settings
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- One notice to one person. in_portal: it shows under their bell; email_state:
-- 'off' (not wanted by email), 'pending' (a job will send it), 'sent', or
-- 'failed' (every attempt failed; the job is dead and an admin may retry it).
-- payload holds what the templates need as it was at the time (titles, names,
-- ids); links are made by the app from the ids. dedup_key makes a scheduled
-- sender idempotent: one notice per (user, event, key).
CREATE TABLE public.notifications (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    event_type     text NOT NULL REFERENCES public.notification_events (event_type),
    payload        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
    dedup_key      text CHECK (char_length(dedup_key) <= 200),
    in_portal      boolean NOT NULL,
    email_state    text NOT NULL CHECK (email_state IN ('off', 'pending', 'sent', 'failed')),
    email_attempts integer NOT NULL DEFAULT 0 CHECK (email_attempts >= 0),
    email_sent_at  timestamptz,
    email_error    text CHECK (char_length(email_error) <= 1000),
    read_at        timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notifications_have_a_channel CHECK (in_portal OR email_state <> 'off'),
    CONSTRAINT sent_emails_have_a_date CHECK ((email_state = 'sent') = (email_sent_at IS NOT NULL)),
    UNIQUE (user_id, event_type, dedup_key)
);
-- The bell's list (keyset, newest first) and its unread count (bounded by the app).
CREATE INDEX idx_notifications_inbox ON public.notifications (user_id, created_at DESC, id DESC)
    WHERE in_portal;
CREATE INDEX idx_notifications_unread ON public.notifications (user_id, created_at DESC)
    WHERE in_portal AND read_at IS NULL;

-- "Mark all as read" is one row per person, not an update of every unread notice
-- (an instructor with 100,000 students may have as many): a notice is read when
-- read_at is set or it is no newer than the person's read_through.
CREATE TABLE public.notification_read_marks (
    user_id      uuid PRIMARY KEY REFERENCES public.users (id) ON DELETE CASCADE,
    read_through timestamptz NOT NULL
);

CREATE FUNCTION public.mark_all_notifications_read() RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    uid uuid := (SELECT rls.uid());
    mark timestamptz;
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'sign in to read notifications'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    INSERT INTO public.notification_read_marks AS m (user_id, read_through) VALUES (uid, now())
    ON CONFLICT (user_id) DO UPDATE SET read_through = greatest(m.read_through, EXCLUDED.read_through)
    RETURNING read_through INTO mark;
    RETURN mark;
END
$$;

-- 4. preferences -------------------------------------------------------------------

-- The channels p_user wants for p_event: their own choice where they made one,
-- else the event's default. No row when the event does not exist. An
-- instructor's choices are in instructor_settings, anyone else's (a former
-- instructor's too) in notification_settings: the settings page writes the
-- same store by the same rule.
CREATE FUNCTION private.preferences(p_user uuid, OUT push jsonb, OUT mail jsonb, OUT timezone text)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT CASE WHEN u.role = 'instructor' THEN i.push_notifications ELSE n.push_notifications END,
           CASE WHEN u.role = 'instructor' THEN i.email_notifications ELSE n.email_notifications END,
           coalesce(CASE WHEN u.role = 'instructor' THEN i.timezone ELSE n.timezone END, 'UTC')
    FROM public.users u
    LEFT JOIN public.instructor_settings i ON i.user_id = u.id
    LEFT JOIN public.notification_settings n ON n.user_id = u.id
    WHERE u.id = p_user
$$;

CREATE FUNCTION private.notification_channels(p_user uuid, p_event text,
                                              OUT in_portal boolean, OUT email boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(CASE WHEN jsonb_typeof(p.push -> e.event_type) = 'boolean'
                         THEN (p.push ->> e.event_type)::boolean END, e.in_portal_default),
           coalesce(CASE WHEN jsonb_typeof(p.mail -> e.event_type) = 'boolean'
                         THEN (p.mail ->> e.event_type)::boolean END, e.email_default)
    FROM public.notification_events e
    LEFT JOIN private.preferences(p_user) AS p ON true
    WHERE e.event_type = p_event
$$;

-- The caller's own account (007), its time zone now from the store of their
-- preferences (instructor_settings for instructors, notification_settings for
-- everyone else).
CREATE OR REPLACE FUNCTION public.my_account()
RETURNS TABLE (id uuid, email citext, full_name text, avatar_url text, role public.user_role,
               organization_id uuid, timezone text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT u.id, u.email, u.full_name, u.avatar_url, u.role, u.organization_id,
           (SELECT p.timezone FROM private.preferences(u.id) AS p)
    FROM public.users u
    WHERE u.id = (SELECT rls.uid())
$$;

-- Write one notice (and queue its email) as p_user's preferences say, by email
-- only to a confirmed address (except the confirmation itself); nothing when
-- no channel is left or their account is deactivated, or when a notice with
-- the same dedup key exists. Returns its id, or NULL.
CREATE FUNCTION private.notify(p_user uuid, p_event text, p_payload jsonb, p_dedup text DEFAULT NULL)
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
    IF p_event = 'email_confirmation' THEN   -- the one email to an address not yet confirmed
        ch.in_portal := false;
        by_email := NOT person.confirmed;
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

-- The senders: triggers on the acts ---------------------------------------------------

-- Enrollments. To the course's owner: a student is enrolled (from nothing,
-- pending or cancelled) or is waiting for approval with nothing left to pay.
-- To the student: their pending enrollment is confirmed (approved or paid),
-- declined by someone else, or refunded. Each kind once per enrollment (the
-- dedup key): a student who cancels and enrolls again and again cannot flood
-- the instructor's inbox.
CREATE FUNCTION private.notify_enrollment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    active constant public.enrollment_status[] := '{enrolled,in_progress,completed}';
    now_active boolean := NEW.status IN ('enrolled', 'in_progress');
    was_active boolean := TG_OP = 'UPDATE' AND OLD.status = ANY (active);
    now_request boolean := NEW.status = 'pending' AND NEW.payment_status = 'completed';
    was_request boolean := TG_OP = 'UPDATE' AND OLD.status = 'pending' AND OLD.payment_status = 'completed';
    c record;
    kind text;
BEGIN
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
CREATE TRIGGER notify_enrollment
    AFTER INSERT OR UPDATE OF status, payment_status ON public.course_enrollments
    FOR EACH ROW EXECUTE FUNCTION private.notify_enrollment();

-- Reviews: a new review to the course's owner (once per student and course:
-- deleting and posting again announces nothing new); an instructor's first
-- answer to the student who wrote it (once per review).
CREATE FUNCTION private.notify_review() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    c record;
BEGIN
    SELECT id, title, slug, instructor_id INTO c FROM public.courses WHERE id = NEW.course_id;
    IF TG_OP = 'INSERT' THEN
        PERFORM private.notify(c.instructor_id, 'new_review', jsonb_build_object(
            'review_id', NEW.id, 'rating', NEW.rating, 'course_id', c.id, 'course_title', c.title,
            'course_slug', c.slug,
            'student_name', (SELECT full_name FROM public.users WHERE id = NEW.user_id)),
            format('review:%s:%s', NEW.course_id, NEW.user_id));
    ELSIF OLD.instructor_response IS NULL AND NEW.instructor_response IS NOT NULL THEN
        PERFORM private.notify(NEW.user_id, 'review_response', jsonb_build_object(
            'review_id', NEW.id, 'course_id', c.id, 'course_title', c.title, 'course_slug', c.slug,
            'instructor_name', (SELECT full_name FROM public.users
                                WHERE id = coalesce(NEW.responded_by, c.instructor_id))),
            format('review:%s:answered', NEW.id));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER notify_review
    AFTER INSERT OR UPDATE OF instructor_response ON public.course_reviews
    FOR EACH ROW EXECUTE FUNCTION private.notify_review();

-- An address: sign-up's, or a new one an admin gave the account, is confirmed
-- by the link of one email (portal/auth: the link signs the user and the
-- address; confirm_email() below). A changed address is unconfirmed again.
CREATE FUNCTION private.unconfirm_changed_email() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    NEW.email_confirmed_at := NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER unconfirm_changed_email BEFORE UPDATE OF email ON public.users
    FOR EACH ROW WHEN (NEW.email IS DISTINCT FROM OLD.email) EXECUTE FUNCTION private.unconfirm_changed_email();

CREATE FUNCTION private.ask_to_confirm_email() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM private.notify(NEW.id, 'email_confirmation', jsonb_build_object('email', NEW.email),
                           format('confirm:%s', NEW.email));
    RETURN NULL;
END
$$;
CREATE TRIGGER ask_to_confirm_email AFTER INSERT OR UPDATE OF email ON public.users
    FOR EACH ROW WHEN (NEW.email_confirmed_at IS NULL) EXECUTE FUNCTION private.ask_to_confirm_email();

-- The caller confirms their address (the link's user and address, which the
-- app has checked the signature of, acting as that user): true when it was
-- theirs and unconfirmed.
CREATE FUNCTION public.confirm_email(p_email text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH confirmed AS (
        UPDATE public.users SET email_confirmed_at = now()
        WHERE id = (SELECT rls.uid()) AND email = p_email::citext AND email_confirmed_at IS NULL
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM confirmed)
$$;

CREATE FUNCTION private.notify_certificate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM private.notify(NEW.user_id, 'certificate_issued', jsonb_build_object(
        'course_id', NEW.course_id, 'course_title', NEW.course_title, 'code', NEW.code),
        format('certificate:%s', NEW.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER notify_certificate AFTER INSERT ON public.certificates
    FOR EACH ROW EXECUTE FUNCTION private.notify_certificate();

-- 5. scheduled work (run by the worker as portal_worker) ----------------------------

-- Reminders for published workshops starting within 24 hours: the "24h" notice
-- while the start is more than an hour away, the "1h" notice within the last
-- hour, each once per workshop, hour of its start (as epoch seconds: the same
-- whatever the session's time zone; moving it by minutes reminds no one again,
-- moving it to another hour does) and person (the dedup key), to
-- everyone registered and to the instructor. Returns how many were written.
CREATE FUNCTION private.send_workshop_reminders(p_now timestamptz DEFAULT now()) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    w record;
    person uuid;
    written integer := 0;
BEGIN
    FOR w IN SELECT id, title, start_time, timezone, instructor_id,
                    CASE WHEN start_time <= p_now + interval '1 hour' THEN '1h' ELSE '24h' END AS lead
             FROM public.workshops
             WHERE status = 'published' AND start_time > p_now
               AND start_time <= p_now + interval '24 hours'
    LOOP
        FOR person IN SELECT r.user_id FROM public.workshop_registrations r
                      WHERE r.workshop_id = w.id AND r.status = 'registered'
                      UNION SELECT w.instructor_id
                      UNION SELECT f.facilitator_id FROM public.workshop_facilitators f
                      WHERE f.workshop_id = w.id
        LOOP
            IF private.notify(person, 'workshop_reminder', jsonb_build_object(
                   'workshop_id', w.id, 'title', w.title, 'start_time', w.start_time,
                   'workshop_timezone', w.timezone, 'lead', w.lead,
                   'teaching', person = w.instructor_id
                               OR EXISTS (SELECT 1 FROM public.workshop_facilitators f
                                          WHERE f.workshop_id = w.id AND f.facilitator_id = person)),
                   format('workshop:%s:%s:%s', w.id, w.lead,
                          extract(epoch FROM date_trunc('hour', w.start_time, 'UTC'))::bigint)) IS NOT NULL THEN
                written := written + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN written;
END
$$;

-- Close checkouts left open longer than p_older_than (the student can start a
-- new one from the course page). Returns how many.
CREATE INDEX idx_checkouts_open_age ON public.checkouts (created_at) WHERE status = 'open';
CREATE FUNCTION private.expire_checkouts(p_older_than interval) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH expired AS (
        UPDATE public.checkouts
        SET status = 'failed', settled_at = now(),
            failure_reason = 'The checkout expired: it was not paid within ' || p_older_than::text || '.'
        WHERE status = 'open' AND created_at < now() - p_older_than
        RETURNING 1)
    SELECT count(*)::integer FROM expired
$$;

-- Forget notices older than p_older_than that are done with: read (or under the
-- person's read_through mark) and not waiting for their email. Returns how many.
CREATE INDEX idx_notifications_age ON public.notifications (created_at);
CREATE FUNCTION private.prune_notifications(p_older_than interval) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH gone AS (
        DELETE FROM public.notifications n
        WHERE n.created_at < now() - p_older_than AND n.email_state <> 'pending'
          AND (n.read_at IS NOT NULL OR NOT n.in_portal
               OR n.created_at <= (SELECT m.read_through FROM public.notification_read_marks m
                                   WHERE m.user_id = n.user_id))
        RETURNING 1)
    SELECT count(*)::integer FROM gone
$$;

-- Tell every active platform admin (once per dedup key). Returns how many.
CREATE FUNCTION private.alert_admins(p_event text, p_payload jsonb, p_dedup text) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT count(private.notify(u.id, p_event, p_payload, p_dedup))::integer
    FROM public.users u WHERE u.role = 'admin' AND u.is_active
$$;

-- Everyone whose figures the verifier checks (as `python -m portal db verify`).
CREATE FUNCTION private.instructors_to_verify() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT u.id FROM public.users u
    WHERE EXISTS (SELECT 1 FROM public.instructor_profiles p WHERE p.user_id = u.id)
       OR EXISTS (SELECT 1 FROM public.courses c WHERE c.instructor_id = u.id)
       OR EXISTS (SELECT 1 FROM public.workshops w WHERE w.instructor_id = u.id)
    ORDER BY u.id
$$;

-- One instructor's mismatches (verify_denormalized_figures runs with its
-- caller's rights; the worker has none on the tables).
CREATE FUNCTION private.verify_figures(p_instructor_id uuid)
RETURNS TABLE (table_name text, row_id uuid, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT * FROM public.verify_denormalized_figures(p_instructor_id)
$$;

-- The email job's view of one notice: what to send, to whom, in which time zone,
-- and whether it is still wanted (the account active, its address confirmed,
-- the email still on: one may have unsubscribed since the notice was written;
-- a confirmation only while the address is unconfirmed).
CREATE FUNCTION private.email_to_send(p_id uuid)
RETURNS TABLE (id uuid, event_type text, payload jsonb, created_at timestamptz, email_state text,
               email_attempts integer, user_id uuid, email text, full_name text, timezone text,
               wanted boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT n.id, n.event_type, n.payload, n.created_at, n.email_state, n.email_attempts,
           u.id, u.email::text, u.full_name, (SELECT p.timezone FROM private.preferences(u.id) AS p),
           u.is_active AND CASE WHEN n.event_type = 'email_confirmation' THEN u.email_confirmed_at IS NULL
                                ELSE u.email_confirmed_at IS NOT NULL
                                     AND coalesce((SELECT ch.email FROM private.notification_channels(u.id, n.event_type) ch),
                                                  false) END
    FROM public.notifications n JOIN public.users u ON u.id = n.user_id
    WHERE n.id = p_id
$$;

-- What became of one delivery attempt: sent, or failed with why (and, on the
-- last attempt, failed for good).
CREATE FUNCTION private.record_email(p_id uuid, p_sent boolean, p_error text, p_final boolean)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    UPDATE public.notifications
    SET email_attempts = email_attempts + 1,
        email_state = CASE WHEN p_sent THEN 'sent' WHEN p_final THEN 'failed' ELSE 'pending' END,
        email_sent_at = CASE WHEN p_sent THEN now() END,
        email_error = CASE WHEN p_sent THEN NULL ELSE left(p_error, 1000) END
    WHERE id = p_id AND email_state <> 'off'
$$;

-- An email no longer wanted: the notice stays under the bell without it, or
-- goes when the bell was not its channel either.
CREATE FUNCTION private.drop_email(p_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE public.notifications SET email_state = 'off' WHERE id = p_id AND in_portal AND email_state <> 'sent';
    DELETE FROM public.notifications WHERE id = p_id AND NOT in_portal AND email_state <> 'sent';
END
$$;

CREATE FUNCTION private.record_job_error(p_job_id bigint, p_attempt integer, p_error text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO private.job_errors (job_id, attempt, error) VALUES (p_job_id, p_attempt, left(p_error, 2000))
    ON CONFLICT (job_id) DO UPDATE SET attempt = EXCLUDED.attempt, error = EXCLUDED.error, failed_at = now()
$$;

-- The admin's view of the queue (platform admins only) ------------------------------

-- How many jobs are in each state: waiting (due, never tried), scheduled (not
-- yet due), retrying (failed at least once, will run again), running, dead
-- (every attempt failed). Each state is read through a partial index of its status.
CREATE FUNCTION public.job_queue_counts()
RETURNS TABLE (state text, jobs bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, procrastinate, pg_temp AS $$
BEGIN
    IF NOT (SELECT rls.is_admin()) THEN
        RAISE EXCEPTION 'only platform admins see the job queue'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
    END IF;
    RETURN QUERY
    SELECT unnest(ARRAY['waiting', 'scheduled', 'retrying', 'running', 'dead']),
           unnest(ARRAY[t.waiting, t.scheduled, t.retrying,
                        (SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE status = 'doing'),
                        (SELECT count(*) FROM procrastinate.procrastinate_jobs WHERE status = 'failed')])
    FROM (SELECT count(*) FILTER (WHERE attempts = 0 AND (scheduled_at IS NULL OR scheduled_at <= now())) AS waiting,
                 count(*) FILTER (WHERE attempts = 0 AND scheduled_at > now()) AS scheduled,
                 count(*) FILTER (WHERE attempts > 0) AS retrying
          FROM procrastinate.procrastinate_jobs WHERE status = 'todo') AS t;
END
$$;

-- Jobs in one state, newest first, keyset-paged by id (p_before: the last id seen).
CREATE FUNCTION public.job_queue_jobs(p_state text, p_before bigint DEFAULT NULL, p_limit integer DEFAULT 25)
RETURNS TABLE (id bigint, queue_name text, task_name text, args jsonb, attempts integer,
               scheduled_at timestamptz, error text, failed_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, procrastinate, pg_temp AS $$
BEGIN
    IF NOT (SELECT rls.is_admin()) THEN
        RAISE EXCEPTION 'only platform admins see the job queue'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
    END IF;
    IF p_state NOT IN ('waiting', 'scheduled', 'retrying', 'running', 'dead') THEN
        RAISE EXCEPTION 'no such job state: %', p_state
            USING ERRCODE = 'invalid_parameter_value', CONSTRAINT = 'unknown_job_state';
    END IF;
    RETURN QUERY
    SELECT j.id, j.queue_name::text, j.task_name::text, j.args, j.attempts, j.scheduled_at,
           e.error, e.failed_at
    FROM procrastinate.procrastinate_jobs j
    LEFT JOIN private.job_errors e ON e.job_id = j.id
    WHERE j.status = CASE p_state WHEN 'running' THEN 'doing'
                                  WHEN 'dead' THEN 'failed'
                                  ELSE 'todo' END::procrastinate.procrastinate_job_status
      AND CASE p_state
            WHEN 'waiting' THEN j.attempts = 0 AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
            WHEN 'scheduled' THEN j.attempts = 0 AND j.scheduled_at > now()
            WHEN 'retrying' THEN j.attempts > 0
            ELSE true END
      AND (p_before IS NULL OR j.id < p_before)
    ORDER BY j.id DESC
    LIMIT least(greatest(p_limit, 1), 100);
END
$$;

-- Run a dead job again now (its notice, if it is an email, becomes pending again).
CREATE FUNCTION public.retry_dead_job(p_job_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, procrastinate, pg_temp AS $$
DECLARE
    j record;
BEGIN
    IF NOT (SELECT rls.is_admin()) THEN
        RAISE EXCEPTION 'only platform admins retry jobs'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
    END IF;
    SELECT id, task_name, args INTO j FROM procrastinate.procrastinate_jobs
    WHERE id = p_job_id AND status = 'failed' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no dead job %', p_job_id
            USING ERRCODE = 'no_data_found', CONSTRAINT = 'job_not_dead';
    END IF;
    PERFORM procrastinate.procrastinate_retry_job_v2(j.id, now(), NULL, NULL, NULL);
    IF j.task_name = 'deliver_email' THEN
        UPDATE public.notifications SET email_state = 'pending'
        WHERE id = (j.args ->> 'notification_id')::uuid AND email_state = 'failed';
    END IF;
END
$$;

-- Whether a worker is alive (a heartbeat within the last minute), for the
-- health endpoints: counts only, nothing about any job.
CREATE FUNCTION public.job_queue_health(OUT workers integer, OUT oldest_waiting_seconds integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, procrastinate, pg_temp AS $$
    SELECT (SELECT count(*)::integer FROM procrastinate.procrastinate_workers
            WHERE last_heartbeat > now() - interval '1 minute'),
           (SELECT extract(epoch FROM now() - min(e.at))::integer
            FROM procrastinate.procrastinate_jobs j
            JOIN procrastinate.procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
            WHERE j.status = 'todo' AND j.attempts = 0
              AND (j.scheduled_at IS NULL OR j.scheduled_at <= now()))
$$;

-- Row-level security ---------------------------------------------------------------------

ALTER TABLE public.notification_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notification_events FORCE ROW LEVEL SECURITY;
CREATE POLICY notification_events_read ON public.notification_events FOR SELECT
    TO anon, authenticated USING (true);

ALTER TABLE public.notification_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notification_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY notification_settings_own ON public.notification_settings FOR SELECT
    TO authenticated USING (user_id = (SELECT rls.uid()));
CREATE POLICY notification_settings_insert ON public.notification_settings FOR INSERT
    TO authenticated WITH CHECK (user_id = (SELECT rls.uid()));
CREATE POLICY notification_settings_update ON public.notification_settings FOR UPDATE
    TO authenticated USING (user_id = (SELECT rls.uid())) WITH CHECK (user_id = (SELECT rls.uid()));

-- A notice is its recipient's: they read it and mark it read (read_at is the
-- only column anyone may write); nobody inserts or deletes one through the API.
ALTER TABLE public.notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY notifications_own ON public.notifications FOR SELECT
    TO authenticated USING (user_id = (SELECT rls.uid()));
CREATE POLICY notifications_mark_read ON public.notifications FOR UPDATE
    TO authenticated USING (user_id = (SELECT rls.uid())) WITH CHECK (user_id = (SELECT rls.uid()));

ALTER TABLE public.notification_read_marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notification_read_marks FORCE ROW LEVEL SECURITY;
CREATE POLICY notification_read_marks_own ON public.notification_read_marks FOR SELECT
    TO authenticated USING (user_id = (SELECT rls.uid()));

-- Grants (explicit, from nothing: see 007) ------------------------------------------------

REVOKE ALL ON public.notification_events, public.notification_settings, public.notifications,
    public.notification_read_marks, private.job_errors
    FROM PUBLIC, anon, authenticated, service_role, portal_signin;
GRANT SELECT ON public.notification_read_marks TO authenticated, service_role;
GRANT SELECT ON public.notification_events TO anon, authenticated;
GRANT SELECT, INSERT (user_id, email_notifications, push_notifications, timezone),
      UPDATE (email_notifications, push_notifications, timezone) ON public.notification_settings TO authenticated;
GRANT SELECT (id, user_id, event_type, payload, in_portal, email_state, read_at, created_at),
      UPDATE (read_at) ON public.notifications TO authenticated;
GRANT SELECT ON public.notification_events, public.notification_settings, public.notifications
    TO service_role;

REVOKE ALL ON FUNCTION private.defer_job(text, text, jsonb),
    private.preferences(uuid), private.notification_channels(uuid, text),
    private.notify(uuid, text, jsonb, text),
    private.notify_enrollment(), private.notify_review(), private.notify_certificate(),
    private.unconfirm_changed_email(), private.ask_to_confirm_email(), public.confirm_email(text),
    private.send_workshop_reminders(timestamptz), private.expire_checkouts(interval),
    private.prune_notifications(interval),
    private.alert_admins(text, jsonb, text), private.instructors_to_verify(),
    private.verify_figures(uuid), private.email_to_send(uuid),
    private.record_email(uuid, boolean, text, boolean), private.record_job_error(bigint, integer, text),
    private.drop_email(uuid), public.job_queue_counts(), public.job_queue_jobs(text, bigint, integer),
    public.retry_dead_job(bigint), public.job_queue_health(), public.mark_all_notifications_read()
    FROM PUBLIC, anon, authenticated, service_role, portal_signin;
GRANT EXECUTE ON FUNCTION public.mark_all_notifications_read(), public.confirm_email(text) TO authenticated;

GRANT EXECUTE ON FUNCTION public.job_queue_counts(), public.job_queue_jobs(text, bigint, integer),
    public.retry_dead_job(bigint) TO authenticated;
GRANT EXECUTE ON FUNCTION public.job_queue_health() TO anon, authenticated;

-- The worker: the queue (above) and these, nothing else.
GRANT USAGE ON SCHEMA private TO portal_worker;
GRANT USAGE ON SCHEMA public TO portal_worker;
GRANT EXECUTE ON FUNCTION private.send_workshop_reminders(timestamptz),
    private.expire_checkouts(interval), private.prune_notifications(interval),
    private.alert_admins(text, jsonb, text),
    private.instructors_to_verify(), private.verify_figures(uuid), private.email_to_send(uuid),
    private.record_email(uuid, boolean, text, boolean), private.record_job_error(bigint, integer, text),
    private.drop_email(uuid),
    public.refresh_instructor_monthly_stats(), public.archive_student_activity(interval),
    public.job_queue_health()
    TO portal_worker;

-- 7. pg_temp last in every pinned search path (see the header), the functions
-- of 001-009 included. A later migration's functions say so themselves
-- (tests/test_migrations.py checks every function).
DO $temp_last$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS name, substr(c.setting, length('search_path=') + 1) AS path
             FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             CROSS JOIN LATERAL unnest(p.proconfig) AS c(setting)
             WHERE n.nspname IN ('public', 'private', 'rls', 'auth', 'procrastinate')
               AND p.proowner = current_user::regrole
               AND c.setting LIKE 'search\_path=%'
               AND c.setting NOT LIKE '%pg\_temp%'
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %s, pg_temp', f.name, f.path);
    END LOOP;
END
$temp_last$;
