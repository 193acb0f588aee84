-- 001_multi_tenant_schema.sql
--
-- The base that 002_instructor_schema.sql (the specification) builds on:
-- roles in the PostgREST / Supabase model, the `auth` schema, organizations,
-- users and their private credentials, and the first shape of courses,
-- lessons, enrollments, workshops and registrations.
--
-- Applied by portal.db.migrate() as the owner role (never a superuser in the
-- app's own setups), in one transaction. An applied migration is never
-- edited: a change is a new numbered file.

-- begin roles ---------------------------------------------------------------
-- Cluster-wide roles, created only where missing (on Supabase they exist).
-- portal.db.bootstrap_roles() runs exactly this block as a superuser before
-- the first migration, because PostgreSQL 15 lets only a superuser create a
-- BYPASSRLS role; when every role exists already the block changes nothing.
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
        -- LOGIN with no privileges of its own: every request switches to
        -- anon or authenticated with a transaction-local set_config('role').
        CREATE ROLE authenticator LOGIN NOINHERIT;
    END IF;
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT pg_has_role('authenticator', r, 'MEMBER') THEN
            EXECUTE format('GRANT %I TO authenticator', r);
        END IF;
    END LOOP;
END
$roles$;
-- end roles -----------------------------------------------------------------

CREATE EXTENSION IF NOT EXISTS citext;

-- Functions are private until granted: nothing below is callable by PUBLIC
-- unless a GRANT says so (the access model's rule for SECURITY DEFINER).
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

-- auth ----------------------------------------------------------------------
-- auth.uid(), auth.role() and auth.jwt() read request.jwt.claims exactly as
-- Supabase defines them, and are created only where missing so that
-- Supabase's own stay untouched.
CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

DO $auth$
BEGIN
    IF to_regprocedure('auth.uid()') IS NULL THEN
        CREATE FUNCTION auth.uid() RETURNS uuid
        LANGUAGE sql STABLE
        AS $f$
          SELECT coalesce(
            nullif(current_setting('request.jwt.claim.sub', true), ''),
            (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
          )::uuid
        $f$;
    END IF;
    IF to_regprocedure('auth.role()') IS NULL THEN
        CREATE FUNCTION auth.role() RETURNS text
        LANGUAGE sql STABLE
        AS $f$
          SELECT coalesce(
            nullif(current_setting('request.jwt.claim.role', true), ''),
            (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
          )::text
        $f$;
    END IF;
    IF to_regprocedure('auth.jwt()') IS NULL THEN
        CREATE FUNCTION auth.jwt() RETURNS jsonb
        LANGUAGE sql STABLE
        AS $f$
          SELECT coalesce(
            nullif(current_setting('request.jwt.claim', true), ''),
            nullif(current_setting('request.jwt.claims', true), '')
          )::jsonb
        $f$;
    END IF;
END
$auth$;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.jwt()
    TO anon, authenticated, service_role;

-- shared --------------------------------------------------------------------
CREATE FUNCTION public.set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TYPE public.user_role AS ENUM ('student', 'instructor', 'org_admin', 'admin');
CREATE TYPE public.payment_status AS ENUM ('pending', 'completed', 'failed', 'refunded');

-- organizations -------------------------------------------------------------
CREATE TABLE public.organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (char_length(btrim(name)) BETWEEN 2 AND 200),
    slug        citext NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    settings    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- users ---------------------------------------------------------------------
CREATE TABLE public.users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           citext NOT NULL UNIQUE
                    CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND char_length(email) <= 254),
    full_name       text NOT NULL CHECK (char_length(btrim(full_name)) BETWEEN 1 AND 200),
    avatar_url      text CHECK (avatar_url ~ '^https?://'),
    role            public.user_role NOT NULL DEFAULT 'student',
    -- A user may leave an organization without being deleted with it.
    organization_id uuid REFERENCES public.organizations (id) ON DELETE SET NULL,
    is_active       boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- An organization admin belongs to the organization they administer.
    CONSTRAINT org_admin_has_organization
        CHECK (role <> 'org_admin' OR organization_id IS NOT NULL)
);
CREATE INDEX idx_users_organization ON public.users (organization_id);
CREATE INDEX idx_users_role ON public.users (role);

-- Password hashes live in a schema that anon and authenticated cannot even
-- reach; only the SECURITY DEFINER functions below touch them.
CREATE SCHEMA private;
REVOKE ALL ON SCHEMA private FROM PUBLIC;

CREATE TABLE private.user_credentials (
    user_id       uuid PRIMARY KEY REFERENCES public.users (id) ON DELETE CASCADE,
    -- argon2id, hashed in Python (the embedded server has no pgcrypto).
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- courses (first shape; 002 adds the instructor dashboard columns) -----------
CREATE TABLE public.courses (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title         text NOT NULL CHECK (char_length(btrim(title)) BETWEEN 3 AND 200),
    slug          citext NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    subtitle      text CHECK (char_length(subtitle) <= 300),
    description   text CHECK (char_length(description) <= 20000),
    thumbnail_url text CHECK (thumbnail_url ~ '^https?://'),
    level         text NOT NULL DEFAULT 'beginner'
                  CHECK (level IN ('beginner', 'intermediate', 'advanced', 'all_levels')),
    language      text NOT NULL DEFAULT 'en',
    price_amount  numeric(12,2) NOT NULL DEFAULT 0 CHECK (price_amount >= 0),
    currency      char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.course_modules (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id   uuid NOT NULL REFERENCES public.courses (id) ON DELETE CASCADE,
    title       text NOT NULL CHECK (char_length(btrim(title)) BETWEEN 1 AND 200),
    description text CHECK (char_length(description) <= 5000),
    position    integer NOT NULL CHECK (position >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (course_id, position) DEFERRABLE INITIALLY IMMEDIATE,
    UNIQUE (id, course_id)          -- target of course_lessons' composite key
);

CREATE TYPE public.lesson_content_type AS ENUM ('text', 'video', 'quiz', 'assignment');

CREATE TABLE public.course_lessons (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    module_id        uuid NOT NULL,
    course_id        uuid NOT NULL,
    title            text NOT NULL CHECK (char_length(btrim(title)) BETWEEN 1 AND 200),
    position         integer NOT NULL CHECK (position >= 0),
    content_type     public.lesson_content_type NOT NULL DEFAULT 'text',
    body             text CHECK (char_length(body) <= 100000),
    video_url        text CHECK (video_url ~ '^https?://'),
    duration_minutes integer NOT NULL DEFAULT 0 CHECK (duration_minutes BETWEEN 0 AND 1440),
    is_preview       boolean NOT NULL DEFAULT false,
    -- {"questions": [{"prompt": ..., "choices": [...], "answer": n}, ...]}
    quiz             jsonb CHECK (quiz IS NULL OR jsonb_typeof(quiz) = 'object'),
    passing_score    integer CHECK (passing_score BETWEEN 0 AND 100),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- The lesson's course is its module's course: one key, no drift.
    FOREIGN KEY (module_id, course_id)
        REFERENCES public.course_modules (id, course_id) ON DELETE CASCADE,
    UNIQUE (module_id, position) DEFERRABLE INITIALLY IMMEDIATE,
    UNIQUE (id, course_id),
    CONSTRAINT quiz_lessons_have_a_passing_score
        CHECK (content_type <> 'quiz' OR passing_score IS NOT NULL),
    CONSTRAINT video_lessons_have_a_url
        CHECK (content_type <> 'video' OR video_url IS NOT NULL)
);
CREATE INDEX idx_course_lessons_course ON public.course_lessons (course_id);

CREATE TYPE public.enrollment_status AS ENUM
    ('pending', 'enrolled', 'in_progress', 'completed', 'cancelled', 'refunded');

CREATE TABLE public.course_enrollments (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- An enrollment with money behind it is never deleted with its course:
    -- owners may delete only courses without enrollments (see 002's policy).
    course_id      uuid NOT NULL REFERENCES public.courses (id) ON DELETE RESTRICT,
    user_id        uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    status         public.enrollment_status NOT NULL DEFAULT 'pending',
    amount_paid    numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    payment_status public.payment_status NOT NULL DEFAULT 'pending',
    enrolled_at    timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    cancelled_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (course_id, user_id),
    UNIQUE (id, user_id, course_id),   -- target of lesson_progress' composite key
    CONSTRAINT completed_enrollments_have_a_date
        CHECK (status <> 'completed' OR completed_at IS NOT NULL)
);
CREATE INDEX idx_course_enrollments_user ON public.course_enrollments (user_id);
CREATE INDEX idx_course_enrollments_status ON public.course_enrollments (status);

CREATE TYPE public.lesson_progress_status AS ENUM ('not_started', 'in_progress', 'completed');

CREATE TABLE public.lesson_progress (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrollment_id      uuid NOT NULL,
    lesson_id          uuid NOT NULL,
    user_id            uuid NOT NULL,
    course_id          uuid NOT NULL,
    status             public.lesson_progress_status NOT NULL DEFAULT 'in_progress',
    watch_time_seconds integer NOT NULL DEFAULT 0 CHECK (watch_time_seconds >= 0),
    quiz_score         numeric(5,2) CHECK (quiz_score BETWEEN 0 AND 100),
    started_at         timestamptz NOT NULL DEFAULT now(),
    completed_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- user and course are the enrollment's, and the lesson is that course's.
    FOREIGN KEY (enrollment_id, user_id, course_id)
        REFERENCES public.course_enrollments (id, user_id, course_id) ON DELETE CASCADE,
    FOREIGN KEY (lesson_id, course_id)
        REFERENCES public.course_lessons (id, course_id) ON DELETE CASCADE,
    UNIQUE (enrollment_id, lesson_id)
);
CREATE INDEX idx_lesson_progress_lesson ON public.lesson_progress (lesson_id);
CREATE INDEX idx_lesson_progress_user ON public.lesson_progress (user_id);

-- workshops -----------------------------------------------------------------
CREATE TYPE public.workshop_status AS ENUM ('draft', 'published', 'cancelled', 'completed');

CREATE TABLE public.workshops (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instructor_id uuid NOT NULL REFERENCES public.users (id) ON DELETE RESTRICT,
    title         text NOT NULL CHECK (char_length(btrim(title)) BETWEEN 3 AND 200),
    slug          citext NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    description   text CHECK (char_length(description) <= 20000),
    start_time    timestamptz NOT NULL,
    end_time      timestamptz NOT NULL,
    timezone      text NOT NULL DEFAULT 'UTC',
    location      text CHECK (char_length(location) <= 500),
    meeting_url   text CHECK (meeting_url ~ '^https?://'),
    capacity      integer NOT NULL CHECK (capacity > 0),
    price_amount  numeric(12,2) NOT NULL DEFAULT 0 CHECK (price_amount >= 0),
    currency      char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    status        public.workshop_status NOT NULL DEFAULT 'draft',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workshop_ends_after_it_starts CHECK (end_time > start_time)
);
CREATE INDEX idx_workshops_instructor ON public.workshops (instructor_id);
CREATE INDEX idx_workshops_status ON public.workshops (status);
CREATE INDEX idx_workshops_start_time ON public.workshops (start_time);

CREATE TYPE public.registration_status AS ENUM
    ('registered', 'waitlisted', 'attended', 'no_show', 'cancelled');

CREATE TABLE public.workshop_registrations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workshop_id    uuid NOT NULL REFERENCES public.workshops (id) ON DELETE RESTRICT,
    user_id        uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    status         public.registration_status NOT NULL DEFAULT 'registered',
    payment_status public.payment_status NOT NULL DEFAULT 'pending',
    amount_paid    numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
    registered_at  timestamptz NOT NULL DEFAULT now(),
    attended_at    timestamptz,
    cancelled_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workshop_id, user_id)
);
CREATE INDEX idx_workshop_registrations_user ON public.workshop_registrations (user_id);
CREATE INDEX idx_workshop_registrations_status ON public.workshop_registrations (status);

-- updated_at everywhere ------------------------------------------------------
DO $touch$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['organizations', 'users', 'courses', 'course_modules',
                             'course_lessons', 'course_enrollments', 'lesson_progress',
                             'workshops', 'workshop_registrations'] LOOP
        EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.%I
                        FOR EACH ROW EXECUTE FUNCTION public.set_updated_at()', t);
    END LOOP;
END
$touch$;

-- sign-up and sign-in ---------------------------------------------------------
-- Hashing happens in Python (argon2id); these functions only store and fetch.
CREATE FUNCTION public.sign_up(p_email text, p_password_hash text, p_full_name text,
                               p_role public.user_role DEFAULT 'student')
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
    new_id uuid;
BEGIN
    IF p_role NOT IN ('student', 'instructor') THEN
        RAISE EXCEPTION 'one signs up as a student or an instructor'
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO public.users (email, full_name, role)
    VALUES (btrim(p_email), btrim(p_full_name), p_role)
    RETURNING id INTO new_id;
    INSERT INTO private.user_credentials (user_id, password_hash)
    VALUES (new_id, p_password_hash);
    RETURN new_id;
END
$$;
GRANT EXECUTE ON FUNCTION public.sign_up(text, text, text, public.user_role) TO anon;

-- The one read of a hash: by exact email, for the sign-in check done in
-- Python. It returns nothing for unknown or inactive accounts.
CREATE FUNCTION public.credentials_for_sign_in(p_email text)
RETURNS TABLE (user_id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT u.id, c.password_hash
    FROM public.users u JOIN private.user_credentials c ON c.user_id = u.id
    WHERE u.email = p_email::citext AND u.is_active
$$;
GRANT EXECUTE ON FUNCTION public.credentials_for_sign_in(text) TO anon;

-- Rehash on sign-in (parameters raised) or a change of password: only for
-- oneself.
CREATE FUNCTION public.set_own_password_hash(p_password_hash text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
    IF (SELECT auth.uid()) IS NULL THEN
        RAISE EXCEPTION 'not signed in' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE private.user_credentials
    SET password_hash = p_password_hash, updated_at = now()
    WHERE user_id = (SELECT auth.uid());
END
$$;
GRANT EXECUTE ON FUNCTION public.set_own_password_hash(text) TO authenticated;
