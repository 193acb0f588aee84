-- 002_instructor_schema.sql
--
-- The instructor dashboard schema described in
-- shared/spec/instructor-schema-overview.md, with the access decisions of
-- shared/spec/access-model.md. Sections follow the specification:
--   1. enum types             5. figures: compute, refresh, verify, rebuild
--   2. new tables             6. triggers (the specification's 1 to 10, and more)
--   3. enhanced tables        7. actions (enroll, register, pay, refund, payout)
--   4. RLS helper functions   8. row-level security and grants
--                             9. helper functions, views, maintenance
--
-- Locking rule (DESIGN.md, "Triggers and concurrency"): every figure is
-- recomputed from source rows after locking its parent row FOR NO KEY UPDATE
-- (which does not conflict with the KEY SHARE locks foreign-key checks take),
-- and parents are always locked in one order:
--     enrollment / registration  ->  course / workshop  ->  instructor profile.
-- Each plpgsql statement takes a fresh snapshot under READ COMMITTED, so the
-- recomputation after the lock sees every committed competitor.

-- 1. enum types ---------------------------------------------------------------
CREATE TYPE public.course_status AS ENUM ('draft', 'published', 'archived');
CREATE TYPE public.workshop_type AS ENUM ('online', 'in_person', 'hybrid');
CREATE TYPE public.activity_type AS ENUM (
    'enrolled', 'enrollment_cancelled', 'lesson_started', 'lesson_completed',
    'quiz_passed', 'quiz_failed', 'course_completed', 'review_posted',
    'workshop_registered', 'workshop_cancelled', 'workshop_attended',
    'feedback_submitted', 'refunded');
CREATE TYPE public.transaction_type AS ENUM
    ('course_enrollment', 'workshop_registration', 'refund');
CREATE TYPE public.payout_status AS ENUM ('pending', 'paid', 'on_hold');
CREATE TYPE public.course_instructor_role AS ENUM ('primary', 'co-instructor', 'assistant');
CREATE TYPE public.workshop_facilitator_role AS ENUM ('primary', 'co-facilitator', 'assistant');

-- 3. enhanced tables (first, because the new tables point at their columns) --
ALTER TABLE public.courses
    ADD COLUMN instructor_id uuid NOT NULL REFERENCES public.users (id) ON DELETE RESTRICT,
    -- A course outlives its organization as a standalone course.
    ADD COLUMN organization_id uuid REFERENCES public.organizations (id) ON DELETE SET NULL,
    ADD COLUMN status public.course_status NOT NULL DEFAULT 'draft',
    -- Derived, so it can never disagree with status.
    ADD COLUMN is_published boolean GENERATED ALWAYS AS (status = 'published') STORED,
    ADD COLUMN published_at timestamptz,
    ADD COLUMN category text CHECK (char_length(category) <= 100),
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN what_you_will_learn text[] NOT NULL DEFAULT '{}',
    ADD COLUMN target_audience text[] NOT NULL DEFAULT '{}',
    ADD COLUMN enrolled_count integer NOT NULL DEFAULT 0 CHECK (enrolled_count >= 0),
    ADD COLUMN completed_count integer NOT NULL DEFAULT 0 CHECK (completed_count >= 0),
    ADD COLUMN average_rating numeric(3,2) CHECK (average_rating BETWEEN 1 AND 5),
    ADD COLUMN review_count integer NOT NULL DEFAULT 0 CHECK (review_count >= 0),
    ADD COLUMN total_revenue numeric(12,2) NOT NULL DEFAULT 0,
    ADD COLUMN certificate_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN certificate_template_url text CHECK (certificate_template_url ~ '^https?://'),
    ADD COLUMN allow_comments boolean NOT NULL DEFAULT true,
    ADD COLUMN allow_qa boolean NOT NULL DEFAULT true,
    ADD COLUMN drip_content boolean NOT NULL DEFAULT false,
    -- {"<module id>": <days after enrollment>}; modules not named open at once.
    ADD COLUMN drip_schedule jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(drip_schedule) = 'object');

ALTER TABLE public.workshops
    ADD COLUMN organization_id uuid REFERENCES public.organizations (id) ON DELETE SET NULL,
    ADD COLUMN type public.workshop_type NOT NULL DEFAULT 'online',
    ADD COLUMN is_published boolean GENERATED ALWAYS AS (status = 'published') STORED,
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN prerequisites text[] NOT NULL DEFAULT '{}',
    ADD COLUMN what_you_will_learn text[] NOT NULL DEFAULT '{}',
    ADD COLUMN enrolled_count integer NOT NULL DEFAULT 0 CHECK (enrolled_count >= 0),
    ADD COLUMN attended_count integer NOT NULL DEFAULT 0 CHECK (attended_count >= 0),
    ADD COLUMN average_satisfaction numeric(3,2) CHECK (average_satisfaction BETWEEN 1 AND 5),
    ADD COLUMN feedback_count integer NOT NULL DEFAULT 0 CHECK (feedback_count >= 0),
    ADD COLUMN total_revenue numeric(12,2) NOT NULL DEFAULT 0,
    ADD COLUMN certificate_enabled boolean NOT NULL DEFAULT false,
    ADD COLUMN certificate_template_url text CHECK (certificate_template_url ~ '^https?://'),
    ADD CONSTRAINT in_person_workshops_have_a_location
        CHECK (type = 'online' OR location IS NOT NULL),
    ADD CONSTRAINT online_workshops_have_a_meeting_url
        CHECK (type = 'in_person' OR status = 'draft' OR meeting_url IS NOT NULL);

-- 2. new tables -------------------------------------------------------------
CREATE TABLE public.instructor_profiles (
    user_id          uuid PRIMARY KEY REFERENCES public.users (id) ON DELETE CASCADE,
    headline         text CHECK (char_length(headline) <= 200),
    -- NULL until written: the row is made at sign-up, before any biography.
    bio              text CHECK (char_length(bio) BETWEEN 50 AND 2000),
    expertise_tags   text[] NOT NULL DEFAULT '{}',
    pillars          text[] NOT NULL DEFAULT '{}'
                     CHECK (pillars <@ ARRAY['adaptability', 'coaching', 'marketplace']),
    education        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(education) = 'array'),
    certifications   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(certifications) = 'array'),
    work_experience  jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(work_experience) = 'array'),
    social_links     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(social_links) = 'object'),
    website_url      text CHECK (website_url ~ '^https?://'),
    is_verified      boolean NOT NULL DEFAULT false,
    is_featured      boolean NOT NULL DEFAULT false,
    total_students   integer NOT NULL DEFAULT 0 CHECK (total_students >= 0),
    total_courses    integer NOT NULL DEFAULT 0 CHECK (total_courses >= 0),
    total_workshops  integer NOT NULL DEFAULT 0 CHECK (total_workshops >= 0),
    average_rating   numeric(3,2) CHECK (average_rating BETWEEN 1 AND 5),
    total_reviews    integer NOT NULL DEFAULT 0 CHECK (total_reviews >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.instructor_settings (
    user_id                  uuid PRIMARY KEY REFERENCES public.users (id) ON DELETE CASCADE,
    email_notifications      jsonb NOT NULL DEFAULT '{"new_enrollment": true, "new_review": true,
        "review_response_needed": true, "workshop_reminder": true, "payout_sent": true,
        "weekly_summary": true, "marketing": false}'
        CHECK (jsonb_typeof(email_notifications) = 'object'),
    push_notifications       jsonb NOT NULL DEFAULT '{"new_enrollment": true, "new_review": true,
        "workshop_reminder": true}'
        CHECK (jsonb_typeof(push_notifications) = 'object'),
    auto_approve_enrollments boolean NOT NULL DEFAULT true,
    allow_student_questions  boolean NOT NULL DEFAULT true,
    allow_course_reviews     boolean NOT NULL DEFAULT true,
    profile_visibility       text NOT NULL DEFAULT 'public'
                             CHECK (profile_visibility IN ('public', 'students', 'private')),
    payment_method           text CHECK (payment_method IN ('bank_transfer', 'paypal', 'stripe')),
    -- Ciphertext: encrypted by the application before it is stored.
    payment_details          text,
    payout_schedule          text NOT NULL DEFAULT 'monthly'
                             CHECK (payout_schedule IN ('weekly', 'biweekly', 'monthly')),
    calendar_sync_enabled    boolean NOT NULL DEFAULT false,
    calendar_provider        text CHECK (calendar_provider IN ('google', 'outlook', 'apple')),
    timezone                 text NOT NULL DEFAULT 'UTC',
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT calendar_sync_needs_a_provider
        CHECK (NOT calendar_sync_enabled OR calendar_provider IS NOT NULL)
);

CREATE TABLE public.student_progress (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrollment_id            uuid NOT NULL UNIQUE,
    user_id                  uuid NOT NULL,
    course_id                uuid NOT NULL,
    total_lessons            integer NOT NULL DEFAULT 0 CHECK (total_lessons >= 0),
    completed_lessons        integer NOT NULL DEFAULT 0 CHECK (completed_lessons >= 0),
    progress_percentage      numeric(5,2) NOT NULL DEFAULT 0 CHECK (progress_percentage BETWEEN 0 AND 100),
    total_watch_time_seconds bigint NOT NULL DEFAULT 0 CHECK (total_watch_time_seconds >= 0),
    last_activity_at         timestamptz,
    total_quizzes            integer NOT NULL DEFAULT 0 CHECK (total_quizzes >= 0),
    passed_quizzes           integer NOT NULL DEFAULT 0 CHECK (passed_quizzes >= 0),
    average_quiz_score       numeric(5,2) CHECK (average_quiz_score BETWEEN 0 AND 100),
    engagement_score         numeric(5,2) NOT NULL DEFAULT 0 CHECK (engagement_score BETWEEN 0 AND 100),
    certificate_url          text,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    -- Goes with its enrollment.
    FOREIGN KEY (enrollment_id, user_id, course_id)
        REFERENCES public.course_enrollments (id, user_id, course_id) ON DELETE CASCADE,
    UNIQUE (user_id, course_id),
    CHECK (completed_lessons <= total_lessons),
    CHECK (passed_quizzes <= total_quizzes)
);

CREATE TABLE public.student_activity (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    activity_type public.activity_type NOT NULL,
    instructor_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    student_id    uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    -- The timeline outlives what it mentions.
    course_id     uuid REFERENCES public.courses (id) ON DELETE SET NULL,
    workshop_id   uuid REFERENCES public.workshops (id) ON DELETE SET NULL,
    lesson_id     uuid REFERENCES public.course_lessons (id) ON DELETE SET NULL,
    metadata      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    -- clock_timestamp(): the rows one statement logs keep their order in time.
    occurred_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE public.revenue_transactions (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Money records are never deleted with what they mention.
    instructor_id            uuid NOT NULL REFERENCES public.users (id) ON DELETE RESTRICT,
    student_id               uuid REFERENCES public.users (id) ON DELETE SET NULL,
    course_id                uuid REFERENCES public.courses (id) ON DELETE RESTRICT,
    workshop_id              uuid REFERENCES public.workshops (id) ON DELETE RESTRICT,
    enrollment_id            uuid REFERENCES public.course_enrollments (id) ON DELETE SET NULL,
    workshop_registration_id uuid REFERENCES public.workshop_registrations (id) ON DELETE SET NULL,
    refund_of                uuid REFERENCES public.revenue_transactions (id) ON DELETE RESTRICT,
    transaction_type         public.transaction_type NOT NULL,
    amount                   numeric(12,2) NOT NULL,
    currency                 char(3) NOT NULL DEFAULT 'USD',
    platform_fee_percentage  numeric(5,2) NOT NULL DEFAULT 20.00
                             CHECK (platform_fee_percentage BETWEEN 0 AND 100),
    platform_fee_amount      numeric(12,2) NOT NULL,
    instructor_earnings      numeric(12,2) NOT NULL,
    payment_status           public.payment_status NOT NULL DEFAULT 'completed',
    payout_status            public.payout_status NOT NULL DEFAULT 'pending',
    payout_date              timestamptz,
    transaction_date         timestamptz NOT NULL DEFAULT now(),
    metadata                 jsonb NOT NULL DEFAULT '{}',
    created_at               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT amount_is_fee_plus_earnings
        CHECK (amount = platform_fee_amount + instructor_earnings),
    CONSTRAINT sales_are_positive_refunds_negative
        CHECK ((transaction_type = 'refund') = (amount < 0)),
    CONSTRAINT refunds_point_at_their_sale
        CHECK ((transaction_type = 'refund') = (refund_of IS NOT NULL)),
    CONSTRAINT one_item_per_transaction
        CHECK (num_nonnulls(course_id, workshop_id) = 1),
    CONSTRAINT paid_out_rows_have_a_date
        CHECK (payout_status <> 'paid' OR payout_date IS NOT NULL)
);
-- Never charged twice: one sale per enrollment and per registration, one
-- refund per sale, whatever path or retry tries to write another.
CREATE UNIQUE INDEX uq_revenue_one_sale_per_enrollment
    ON public.revenue_transactions (enrollment_id) WHERE transaction_type = 'course_enrollment';
CREATE UNIQUE INDEX uq_revenue_one_sale_per_registration
    ON public.revenue_transactions (workshop_registration_id) WHERE transaction_type = 'workshop_registration';
CREATE UNIQUE INDEX uq_revenue_one_refund_per_sale
    ON public.revenue_transactions (refund_of) WHERE refund_of IS NOT NULL;

CREATE TABLE public.course_reviews (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id              uuid NOT NULL REFERENCES public.courses (id) ON DELETE CASCADE,
    user_id                uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    rating                 smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title                  text CHECK (char_length(title) <= 200),
    review_text            text CHECK (char_length(review_text) <= 5000),
    content_quality_rating smallint CHECK (content_quality_rating BETWEEN 1 AND 5),
    instructor_rating      smallint CHECK (instructor_rating BETWEEN 1 AND 5),
    value_rating           smallint CHECK (value_rating BETWEEN 1 AND 5),
    instructor_response    text CHECK (char_length(instructor_response) <= 5000),
    instructor_responded_at timestamptz,
    responded_by           uuid REFERENCES public.users (id) ON DELETE SET NULL,
    helpful_count          integer NOT NULL DEFAULT 0 CHECK (helpful_count >= 0),
    -- Always true: only a student with a completed enrollment may review.
    is_verified_purchase   boolean NOT NULL DEFAULT true CHECK (is_verified_purchase),
    is_visible             boolean NOT NULL DEFAULT true,
    moderation_reason      text CHECK (char_length(moderation_reason) <= 1000),
    moderated_at           timestamptz,
    moderated_by           uuid REFERENCES public.users (id) ON DELETE SET NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (course_id, user_id)
);

CREATE TABLE public.workshop_feedback (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workshop_id          uuid NOT NULL REFERENCES public.workshops (id) ON DELETE CASCADE,
    user_id              uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    overall_satisfaction smallint NOT NULL CHECK (overall_satisfaction BETWEEN 1 AND 5),
    content_rating       smallint CHECK (content_rating BETWEEN 1 AND 5),
    delivery_rating      smallint CHECK (delivery_rating BETWEEN 1 AND 5),
    interaction_rating   smallint CHECK (interaction_rating BETWEEN 1 AND 5),
    what_went_well       text CHECK (char_length(what_went_well) <= 5000),
    what_could_improve   text CHECK (char_length(what_could_improve) <= 5000),
    nps_score            smallint CHECK (nps_score BETWEEN 0 AND 10),
    would_recommend      boolean,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workshop_id, user_id)
);

CREATE TABLE public.course_instructors (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id     uuid NOT NULL REFERENCES public.courses (id) ON DELETE CASCADE,
    instructor_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    role          public.course_instructor_role NOT NULL DEFAULT 'co-instructor',
    permissions   jsonb NOT NULL DEFAULT '{"view_content": true, "edit_content": false,
        "manage_students": false, "view_revenue": false, "respond_reviews": false}'
        CHECK (jsonb_typeof(permissions) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (course_id, instructor_id)
);

CREATE TABLE public.workshop_facilitators (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workshop_id    uuid NOT NULL REFERENCES public.workshops (id) ON DELETE CASCADE,
    facilitator_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    role           public.workshop_facilitator_role NOT NULL DEFAULT 'co-facilitator',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workshop_id, facilitator_id)
);

DO $touch$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['instructor_profiles', 'instructor_settings', 'student_progress',
                             'course_reviews', 'workshop_feedback', 'course_instructors',
                             'workshop_facilitators'] LOOP
        EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.%I
                        FOR EACH ROW EXECUTE FUNCTION public.set_updated_at()', t);
    END LOOP;
END
$touch$;

-- Indexes (the specification's "Indexing Strategy") ---------------------------
-- Single column: foreign keys, status fields, timestamps.
CREATE INDEX idx_courses_instructor ON public.courses (instructor_id);
CREATE INDEX idx_courses_organization ON public.courses (organization_id);
CREATE INDEX idx_courses_status ON public.courses (status);
CREATE INDEX idx_courses_created_at ON public.courses (created_at);
CREATE INDEX idx_workshops_organization ON public.workshops (organization_id);
CREATE INDEX idx_course_modules_course ON public.course_modules (course_id);
CREATE INDEX idx_course_enrollments_course ON public.course_enrollments (course_id);
CREATE INDEX idx_course_enrollments_enrolled_at ON public.course_enrollments (enrolled_at);
CREATE INDEX idx_workshop_registrations_workshop ON public.workshop_registrations (workshop_id);
CREATE INDEX idx_student_progress_user ON public.student_progress (user_id);
CREATE INDEX idx_student_progress_created_at ON public.student_progress (created_at);
CREATE INDEX idx_student_activity_student ON public.student_activity (student_id);
CREATE INDEX idx_student_activity_course ON public.student_activity (course_id);
CREATE INDEX idx_student_activity_workshop ON public.student_activity (workshop_id);
CREATE INDEX idx_student_activity_lesson ON public.student_activity (lesson_id);
CREATE INDEX idx_student_activity_occurred ON public.student_activity (occurred_at);
CREATE INDEX idx_revenue_course ON public.revenue_transactions (course_id);
CREATE INDEX idx_revenue_workshop ON public.revenue_transactions (workshop_id);
CREATE INDEX idx_revenue_student ON public.revenue_transactions (student_id);
CREATE INDEX idx_revenue_payment_status ON public.revenue_transactions (payment_status);
CREATE INDEX idx_revenue_transaction_date ON public.revenue_transactions (transaction_date);
CREATE INDEX idx_course_reviews_course ON public.course_reviews (course_id, created_at DESC);
CREATE INDEX idx_course_reviews_user ON public.course_reviews (user_id);
CREATE INDEX idx_course_reviews_unanswered ON public.course_reviews (course_id)
    WHERE instructor_response IS NULL;
CREATE INDEX idx_workshop_feedback_workshop ON public.workshop_feedback (workshop_id);
CREATE INDEX idx_workshop_feedback_user ON public.workshop_feedback (user_id);
CREATE INDEX idx_course_instructors_instructor ON public.course_instructors (instructor_id);
CREATE INDEX idx_workshop_facilitators_facilitator ON public.workshop_facilitators (facilitator_id);

-- Composite.
CREATE INDEX idx_student_progress_course_activity
    ON public.student_progress (course_id, last_activity_at DESC);
CREATE INDEX idx_revenue_instructor_date
    ON public.revenue_transactions (instructor_id, transaction_date DESC);
CREATE INDEX idx_student_activity_instructor_occurred
    ON public.student_activity (instructor_id, occurred_at DESC);

-- Partial.
CREATE INDEX idx_courses_instructor_published
    ON public.courses (instructor_id) WHERE status = 'published';
-- The specification writes `WHERE status = 'published' AND start_time > now()`,
-- which PostgreSQL rejects: an index predicate must be immutable, and now()
-- is not. The nearest valid index keeps the immutable half of the predicate
-- and leads with (instructor_id, start_time), so `start_time > now()` becomes
-- a range scan inside one instructor's published workshops.
CREATE INDEX idx_workshops_instructor_upcoming
    ON public.workshops (instructor_id, start_time) WHERE status = 'published';
CREATE INDEX idx_enrollments_active
    ON public.course_enrollments (course_id, user_id)
    WHERE status IN ('enrolled', 'in_progress');

-- GIN.
CREATE INDEX idx_instructor_profiles_expertise
    ON public.instructor_profiles USING GIN (expertise_tags);
CREATE INDEX idx_instructor_profiles_pillars
    ON public.instructor_profiles USING GIN (pillars);
CREATE INDEX idx_courses_tags ON public.courses USING GIN (tags);
CREATE INDEX idx_workshops_tags ON public.workshops USING GIN (tags);

-- 4. RLS helper functions ------------------------------------------------------
-- Policies that must look into another protected table call these SECURITY
-- DEFINER helpers instead (no recursive policies). Each answers only about
-- the caller, has a fixed search_path, and is granted to the API roles only.

CREATE FUNCTION public.current_user_role() RETURNS public.user_role
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT role FROM public.users WHERE id = (SELECT auth.uid()) AND is_active
$$;

CREATE FUNCTION public.is_platform_admin() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(public.current_user_role() = 'admin', false)
$$;

-- The organization the caller administers (role org_admin), else NULL.
CREATE FUNCTION public.admin_of_organization() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT organization_id FROM public.users
    WHERE id = (SELECT auth.uid()) AND is_active AND role = 'org_admin'
$$;

CREATE FUNCTION public.member_of_organization() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT organization_id FROM public.users WHERE id = (SELECT auth.uid()) AND is_active
$$;

-- Owner of the course, or a co-instructor whose permissions grant `perm`.
CREATE FUNCTION public.has_course_permission(p_course_id uuid, perm text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.courses c
                   WHERE c.id = p_course_id AND c.instructor_id = (SELECT auth.uid()))
        OR EXISTS (SELECT 1 FROM public.course_instructors ci
                   WHERE ci.course_id = p_course_id
                     AND ci.instructor_id = (SELECT auth.uid())
                     AND coalesce((ci.permissions ->> perm)::boolean, false))
$$;

CREATE FUNCTION public.is_course_owner(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.courses
                   WHERE id = p_course_id AND instructor_id = (SELECT auth.uid()))
$$;

CREATE FUNCTION public.course_organization(p_course_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT organization_id FROM public.courses WHERE id = p_course_id
$$;

CREATE FUNCTION public.is_course_published(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce((SELECT is_published FROM public.courses WHERE id = p_course_id), false)
$$;

-- The caller's enrollment in the course, when it gives access to content.
CREATE FUNCTION public.active_enrollment(p_course_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT id FROM public.course_enrollments
    WHERE course_id = p_course_id AND user_id = (SELECT auth.uid())
      AND status IN ('enrolled', 'in_progress', 'completed')
$$;

-- Drip release: a module named in drip_schedule opens that many days after
-- the enrollment; everything else is open at once.
CREATE FUNCTION public.lesson_released_for(p_enrollment_id uuid, p_lesson_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT NOT c.drip_content
        OR e.enrolled_at + make_interval(days => coalesce((c.drip_schedule ->> l.module_id::text)::int, 0)) <= now()
    FROM public.course_lessons l
    JOIN public.courses c ON c.id = l.course_id
    JOIN public.course_enrollments e ON e.course_id = c.id AND e.id = p_enrollment_id
    WHERE l.id = p_lesson_id
$$;

CREATE FUNCTION public.can_read_lesson(p_lesson_id uuid, p_course_id uuid, p_is_preview boolean)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT (p_is_preview AND public.is_course_published(p_course_id))
        OR coalesce(public.lesson_released_for(public.active_enrollment(p_course_id), p_lesson_id), false)
$$;

CREATE FUNCTION public.is_workshop_staff(p_workshop_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.workshops
                   WHERE id = p_workshop_id AND instructor_id = (SELECT auth.uid()))
        OR EXISTS (SELECT 1 FROM public.workshop_facilitators
                   WHERE workshop_id = p_workshop_id AND facilitator_id = (SELECT auth.uid()))
$$;

CREATE FUNCTION public.is_workshop_owner(p_workshop_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.workshops
                   WHERE id = p_workshop_id AND instructor_id = (SELECT auth.uid()))
$$;

CREATE FUNCTION public.workshop_organization(p_workshop_id uuid) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT organization_id FROM public.workshops WHERE id = p_workshop_id
$$;

-- A student of the caller: enrolled in a course the caller owns or co-teaches
-- (view_content or manage_students), or registered for the caller's workshop.
CREATE FUNCTION public.is_student_of_caller(p_user_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (
            SELECT 1 FROM public.course_enrollments e
            WHERE e.user_id = p_user_id
              AND (public.has_course_permission(e.course_id, 'view_content')
                   OR public.has_course_permission(e.course_id, 'manage_students')))
        OR EXISTS (
            SELECT 1 FROM public.workshop_registrations r
            WHERE r.user_id = p_user_id AND public.is_workshop_staff(r.workshop_id))
$$;

-- Whether the caller may see an instructor's figures: themself, a platform
-- admin, or the admin of the instructor's organization.
CREATE FUNCTION public.can_view_instructor(p_instructor_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT p_instructor_id = (SELECT auth.uid())
        OR public.is_platform_admin()
        OR EXISTS (SELECT 1 FROM public.users u
                   WHERE u.id = p_instructor_id
                     AND u.organization_id = public.admin_of_organization())
$$;

GRANT EXECUTE ON FUNCTION
    public.current_user_role(), public.is_platform_admin(), public.admin_of_organization(),
    public.member_of_organization(), public.has_course_permission(uuid, text),
    public.is_course_owner(uuid), public.course_organization(uuid), public.is_course_published(uuid),
    public.active_enrollment(uuid), public.lesson_released_for(uuid, uuid),
    public.can_read_lesson(uuid, uuid, boolean), public.is_workshop_staff(uuid),
    public.is_workshop_owner(uuid), public.workshop_organization(uuid),
    public.is_student_of_caller(uuid), public.can_view_instructor(uuid)
TO anon, authenticated, service_role;

-- 5. figures: one definition each, used by the triggers, the verifier and the
--    rebuild alike ----------------------------------------------------------
--
-- course:      enrolled_count   enrollments enrolled, in_progress or completed
--              completed_count  enrollments completed
--              average_rating   mean rating of visible reviews, 2 decimals
--              review_count     visible reviews
--              total_revenue    sum of the course's completed revenue rows
--                               (gross, refunds netted out)
-- workshop:    enrolled_count   registrations registered, attended or no_show
--              attended_count   registrations attended
--              average_satisfaction / feedback_count: all feedback
--              total_revenue    as for courses
-- instructor:  total_students   distinct users with an enrollment (any status)
--                               in a course they own (the specification's
--                               "Rebuild Instructor Stats" definition)
--              total_courses    their published courses
--              total_workshops  their published or completed workshops
--              average_rating / total_reviews: visible reviews of their courses
-- progress:    lessons, completed lessons, percentage (2 decimals), watch
--              time, last lesson activity, quizzes in the course, quizzes
--              passed (score >= passing score), mean quiz score, and
--              engagement_score (0-100, 2 decimals) =
--                  50 x completed lessons / lessons
--                + 30 x min(watch time / video minutes of the course, 1)
--                + 20 x mean quiz score / 100
--              where a course without video lessons (or without quizzes)
--              counts the completion ratio for that part instead. It uses no
--              clock, so a stored score can always be checked against its
--              recomputation.

CREATE FUNCTION public.course_figures(p_course_id uuid)
RETURNS TABLE (enrolled_count integer, completed_count integer, average_rating numeric(3,2),
               review_count integer, total_revenue numeric(12,2))
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT
        (SELECT count(*) FROM public.course_enrollments
         WHERE course_id = p_course_id AND status IN ('enrolled', 'in_progress', 'completed'))::integer,
        (SELECT count(*) FROM public.course_enrollments
         WHERE course_id = p_course_id AND status = 'completed')::integer,
        (SELECT round(avg(rating), 2) FROM public.course_reviews
         WHERE course_id = p_course_id AND is_visible)::numeric(3,2),
        (SELECT count(*) FROM public.course_reviews
         WHERE course_id = p_course_id AND is_visible)::integer,
        (SELECT coalesce(sum(amount), 0) FROM public.revenue_transactions
         WHERE course_id = p_course_id AND payment_status = 'completed')::numeric(12,2)
$$;

CREATE FUNCTION public.workshop_figures(p_workshop_id uuid)
RETURNS TABLE (enrolled_count integer, attended_count integer, average_satisfaction numeric(3,2),
               feedback_count integer, total_revenue numeric(12,2))
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT
        (SELECT count(*) FROM public.workshop_registrations
         WHERE workshop_id = p_workshop_id AND status IN ('registered', 'attended', 'no_show'))::integer,
        (SELECT count(*) FROM public.workshop_registrations
         WHERE workshop_id = p_workshop_id AND status = 'attended')::integer,
        (SELECT round(avg(overall_satisfaction), 2) FROM public.workshop_feedback
         WHERE workshop_id = p_workshop_id)::numeric(3,2),
        (SELECT count(*) FROM public.workshop_feedback WHERE workshop_id = p_workshop_id)::integer,
        (SELECT coalesce(sum(amount), 0) FROM public.revenue_transactions
         WHERE workshop_id = p_workshop_id AND payment_status = 'completed')::numeric(12,2)
$$;

CREATE FUNCTION public.instructor_figures(p_instructor_id uuid)
RETURNS TABLE (total_students integer, total_courses integer, total_workshops integer,
               average_rating numeric(3,2), total_reviews integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT
        (SELECT count(DISTINCT e.user_id) FROM public.course_enrollments e
         JOIN public.courses c ON c.id = e.course_id
         WHERE c.instructor_id = p_instructor_id)::integer,
        (SELECT count(*) FROM public.courses
         WHERE instructor_id = p_instructor_id AND status = 'published')::integer,
        (SELECT count(*) FROM public.workshops
         WHERE instructor_id = p_instructor_id AND status IN ('published', 'completed'))::integer,
        (SELECT round(avg(r.rating), 2) FROM public.course_reviews r
         JOIN public.courses c ON c.id = r.course_id
         WHERE c.instructor_id = p_instructor_id AND r.is_visible)::numeric(3,2),
        (SELECT count(*) FROM public.course_reviews r
         JOIN public.courses c ON c.id = r.course_id
         WHERE c.instructor_id = p_instructor_id AND r.is_visible)::integer
$$;

CREATE FUNCTION public.progress_figures(p_enrollment_id uuid)
RETURNS TABLE (total_lessons integer, completed_lessons integer, progress_percentage numeric(5,2),
               total_watch_time_seconds bigint, last_activity_at timestamptz,
               total_quizzes integer, passed_quizzes integer, average_quiz_score numeric(5,2),
               engagement_score numeric(5,2))
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    WITH course AS (
        SELECT count(*)::integer AS lessons,
               count(*) FILTER (WHERE l.content_type = 'quiz')::integer AS quizzes,
               coalesce(sum(l.duration_minutes) FILTER (WHERE l.content_type = 'video'), 0) * 60 AS video_seconds
        FROM public.course_enrollments e
        JOIN public.course_lessons l ON l.course_id = e.course_id
        WHERE e.id = p_enrollment_id
    ), done AS (
        SELECT count(*) FILTER (WHERE p.status = 'completed')::integer AS completed,
               coalesce(sum(p.watch_time_seconds), 0)::bigint AS watched,
               max(p.updated_at) AS last_at,
               count(*) FILTER (WHERE l.content_type = 'quiz' AND p.quiz_score >= l.passing_score)::integer AS passed,
               round(avg(p.quiz_score) FILTER (WHERE l.content_type = 'quiz'), 2) AS quiz_mean
        FROM public.lesson_progress p
        JOIN public.course_lessons l ON l.id = p.lesson_id
        WHERE p.enrollment_id = p_enrollment_id
    ), ratios AS (
        SELECT c.*, d.*,
               CASE WHEN c.lessons = 0 THEN 0 ELSE d.completed::numeric / c.lessons END AS completion
        FROM course c, done d
    )
    SELECT lessons, completed,
           round(100 * completion, 2)::numeric(5,2),
           watched, last_at, quizzes, passed, quiz_mean::numeric(5,2),
           round(100 * (0.5 * completion
                        + 0.3 * CASE WHEN video_seconds = 0 THEN completion
                                     ELSE least(watched::numeric / video_seconds, 1) END
                        + 0.2 * CASE WHEN quizzes = 0 THEN completion
                                     ELSE coalesce(quiz_mean, 0) / 100 END), 2)::numeric(5,2)
    FROM ratios
$$;

-- refresh_*: lock the parent row, then write its recomputed figures when they
-- changed. Return whether anything was written.
CREATE FUNCTION public.refresh_course_figures(p_course_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    f record;
BEGIN
    PERFORM 1 FROM public.courses WHERE id = p_course_id FOR NO KEY UPDATE;
    SELECT * INTO f FROM public.course_figures(p_course_id);
    UPDATE public.courses c
    SET enrolled_count = f.enrolled_count, completed_count = f.completed_count,
        average_rating = f.average_rating, review_count = f.review_count,
        total_revenue = f.total_revenue
    WHERE c.id = p_course_id
      AND (c.enrolled_count, c.completed_count, c.average_rating, c.review_count, c.total_revenue)
          IS DISTINCT FROM (f.enrolled_count, f.completed_count, f.average_rating, f.review_count, f.total_revenue);
    RETURN FOUND;
END
$$;

CREATE FUNCTION public.refresh_workshop_figures(p_workshop_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    f record;
BEGIN
    PERFORM 1 FROM public.workshops WHERE id = p_workshop_id FOR NO KEY UPDATE;
    SELECT * INTO f FROM public.workshop_figures(p_workshop_id);
    UPDATE public.workshops w
    SET enrolled_count = f.enrolled_count, attended_count = f.attended_count,
        average_satisfaction = f.average_satisfaction, feedback_count = f.feedback_count,
        total_revenue = f.total_revenue
    WHERE w.id = p_workshop_id
      AND (w.enrolled_count, w.attended_count, w.average_satisfaction, w.feedback_count, w.total_revenue)
          IS DISTINCT FROM (f.enrolled_count, f.attended_count, f.average_satisfaction, f.feedback_count, f.total_revenue);
    RETURN FOUND;
END
$$;

CREATE FUNCTION public.refresh_instructor_figures(p_instructor_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    f record;
BEGIN
    PERFORM 1 FROM public.instructor_profiles WHERE user_id = p_instructor_id FOR NO KEY UPDATE;
    SELECT * INTO f FROM public.instructor_figures(p_instructor_id);
    UPDATE public.instructor_profiles p
    SET total_students = f.total_students, total_courses = f.total_courses,
        total_workshops = f.total_workshops, average_rating = f.average_rating,
        total_reviews = f.total_reviews
    WHERE p.user_id = p_instructor_id
      AND (p.total_students, p.total_courses, p.total_workshops, p.average_rating, p.total_reviews)
          IS DISTINCT FROM (f.total_students, f.total_courses, f.total_workshops, f.average_rating, f.total_reviews);
    RETURN FOUND;
END
$$;

-- The caller holds (or takes here) the enrollment's row lock first.
CREATE FUNCTION public.refresh_progress_figures(p_enrollment_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    f record;
BEGIN
    PERFORM 1 FROM public.course_enrollments WHERE id = p_enrollment_id FOR NO KEY UPDATE;
    SELECT * INTO f FROM public.progress_figures(p_enrollment_id);
    UPDATE public.student_progress s
    SET total_lessons = f.total_lessons, completed_lessons = f.completed_lessons,
        progress_percentage = f.progress_percentage,
        total_watch_time_seconds = f.total_watch_time_seconds,
        last_activity_at = f.last_activity_at, total_quizzes = f.total_quizzes,
        passed_quizzes = f.passed_quizzes, average_quiz_score = f.average_quiz_score,
        engagement_score = f.engagement_score
    WHERE s.enrollment_id = p_enrollment_id
      AND (s.total_lessons, s.completed_lessons, s.progress_percentage, s.total_watch_time_seconds,
           s.last_activity_at, s.total_quizzes, s.passed_quizzes, s.average_quiz_score, s.engagement_score)
          IS DISTINCT FROM
          (f.total_lessons, f.completed_lessons, f.progress_percentage, f.total_watch_time_seconds,
           f.last_activity_at, f.total_quizzes, f.passed_quizzes, f.average_quiz_score, f.engagement_score);
    RETURN FOUND;
END
$$;

-- Moves an enrollment along as its progress changes: enrolled -> in_progress
-- on the first lesson activity, -> completed when every lesson is done (with
-- a certificate when the course offers one). A completed enrollment stays
-- completed when lessons are added later: completion is a fact at a date.
CREATE FUNCTION public.advance_enrollment(p_enrollment_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    e record;
BEGIN
    SELECT en.status, s.total_lessons, s.completed_lessons, s.last_activity_at,
           c.certificate_enabled
    INTO e
    FROM public.course_enrollments en
    JOIN public.student_progress s ON s.enrollment_id = en.id
    JOIN public.courses c ON c.id = en.course_id
    WHERE en.id = p_enrollment_id;
    IF e.status NOT IN ('enrolled', 'in_progress') THEN
        RETURN;
    END IF;
    IF e.total_lessons > 0 AND e.completed_lessons = e.total_lessons THEN
        UPDATE public.course_enrollments
        SET status = 'completed', completed_at = now()
        WHERE id = p_enrollment_id;
        IF e.certificate_enabled THEN
            UPDATE public.student_progress
            SET certificate_url = '/certificates/' || p_enrollment_id
            WHERE enrollment_id = p_enrollment_id;
        END IF;
    ELSIF e.status = 'enrolled' AND e.last_activity_at IS NOT NULL THEN
        UPDATE public.course_enrollments SET status = 'in_progress' WHERE id = p_enrollment_id;
    END IF;
END
$$;

-- Every row whose stored figures differ from their recomputation, and every
-- enrollment missing its progress row. Empty means all is well.
CREATE FUNCTION public.verify_denormalized_figures()
RETURNS TABLE (table_name text, row_id uuid, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT 'courses', c.id,
           jsonb_build_object('enrolled_count', c.enrolled_count, 'completed_count', c.completed_count,
                              'average_rating', c.average_rating, 'review_count', c.review_count,
                              'total_revenue', c.total_revenue),
           to_jsonb(f)
    FROM public.courses c CROSS JOIN LATERAL public.course_figures(c.id) f
    WHERE (c.enrolled_count, c.completed_count, c.average_rating, c.review_count, c.total_revenue)
          IS DISTINCT FROM (f.enrolled_count, f.completed_count, f.average_rating, f.review_count, f.total_revenue)
    UNION ALL
    SELECT 'workshops', w.id,
           jsonb_build_object('enrolled_count', w.enrolled_count, 'attended_count', w.attended_count,
                              'average_satisfaction', w.average_satisfaction,
                              'feedback_count', w.feedback_count, 'total_revenue', w.total_revenue),
           to_jsonb(f)
    FROM public.workshops w CROSS JOIN LATERAL public.workshop_figures(w.id) f
    WHERE (w.enrolled_count, w.attended_count, w.average_satisfaction, w.feedback_count, w.total_revenue)
          IS DISTINCT FROM (f.enrolled_count, f.attended_count, f.average_satisfaction, f.feedback_count, f.total_revenue)
    UNION ALL
    SELECT 'instructor_profiles', p.user_id,
           jsonb_build_object('total_students', p.total_students, 'total_courses', p.total_courses,
                              'total_workshops', p.total_workshops, 'average_rating', p.average_rating,
                              'total_reviews', p.total_reviews),
           to_jsonb(f)
    FROM public.instructor_profiles p CROSS JOIN LATERAL public.instructor_figures(p.user_id) f
    WHERE (p.total_students, p.total_courses, p.total_workshops, p.average_rating, p.total_reviews)
          IS DISTINCT FROM (f.total_students, f.total_courses, f.total_workshops, f.average_rating, f.total_reviews)
    UNION ALL
    SELECT 'student_progress', e.id,
           CASE WHEN s.id IS NULL THEN NULL ELSE
           jsonb_build_object('total_lessons', s.total_lessons, 'completed_lessons', s.completed_lessons,
                              'progress_percentage', s.progress_percentage,
                              'total_watch_time_seconds', s.total_watch_time_seconds,
                              'last_activity_at', s.last_activity_at, 'total_quizzes', s.total_quizzes,
                              'passed_quizzes', s.passed_quizzes, 'average_quiz_score', s.average_quiz_score,
                              'engagement_score', s.engagement_score) END,
           to_jsonb(f)
    FROM public.course_enrollments e
    LEFT JOIN public.student_progress s ON s.enrollment_id = e.id
    CROSS JOIN LATERAL public.progress_figures(e.id) f
    WHERE s.id IS NULL
       OR (s.total_lessons, s.completed_lessons, s.progress_percentage, s.total_watch_time_seconds,
           s.last_activity_at, s.total_quizzes, s.passed_quizzes, s.average_quiz_score, s.engagement_score)
          IS DISTINCT FROM
          (f.total_lessons, f.completed_lessons, f.progress_percentage, f.total_watch_time_seconds,
           f.last_activity_at, f.total_quizzes, f.passed_quizzes, f.average_quiz_score, f.engagement_score)
$$;

-- Rewrites every figure of one instructor (or of all), in the lock order of
-- the triggers: enrollments and registrations, then courses and workshops,
-- then the profile. Returns how many rows it corrected.
CREATE FUNCTION public.rebuild_denormalized_figures(p_instructor_id uuid DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    who uuid;
    item uuid;
    fixed integer := 0;
BEGIN
    FOR who IN
        SELECT id FROM public.users
        WHERE (p_instructor_id IS NULL OR id = p_instructor_id)
          AND (EXISTS (SELECT 1 FROM public.instructor_profiles WHERE user_id = users.id)
               OR EXISTS (SELECT 1 FROM public.courses WHERE instructor_id = users.id)
               OR EXISTS (SELECT 1 FROM public.workshops WHERE instructor_id = users.id))
        ORDER BY id
    LOOP
        PERFORM 1 FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
        WHERE c.instructor_id = who ORDER BY e.id FOR NO KEY UPDATE OF e;
        PERFORM 1 FROM public.courses WHERE instructor_id = who ORDER BY id FOR NO KEY UPDATE;
        PERFORM 1 FROM public.workshops WHERE instructor_id = who ORDER BY id FOR NO KEY UPDATE;

        -- A missing progress row is recreated before it is refreshed.
        INSERT INTO public.student_progress (enrollment_id, user_id, course_id)
        SELECT e.id, e.user_id, e.course_id
        FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
        WHERE c.instructor_id = who
          AND NOT EXISTS (SELECT 1 FROM public.student_progress s WHERE s.enrollment_id = e.id);

        FOR item IN SELECT e.id FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
                    WHERE c.instructor_id = who ORDER BY e.id LOOP
            fixed := fixed + public.refresh_progress_figures(item)::integer;
        END LOOP;
        FOR item IN SELECT id FROM public.courses WHERE instructor_id = who ORDER BY id LOOP
            fixed := fixed + public.refresh_course_figures(item)::integer;
        END LOOP;
        FOR item IN SELECT id FROM public.workshops WHERE instructor_id = who ORDER BY id LOOP
            fixed := fixed + public.refresh_workshop_figures(item)::integer;
        END LOOP;
        fixed := fixed + public.refresh_instructor_figures(who)::integer;
    END LOOP;
    RETURN fixed;
END
$$;

-- 6. triggers ---------------------------------------------------------------
-- Trigger functions that write other rows are SECURITY DEFINER (they must
-- update rows the caller cannot see) and run as the owner, whose BYPASSRLS
-- lets them past FORCE ROW LEVEL SECURITY. Guards and stamps run as the
-- caller. AFTER triggers on one table fire in name order; the names below
-- keep the lock order (course before instructor).

-- The activity timeline: one writer for every trigger that logs.
CREATE FUNCTION public.log_activity(p_type public.activity_type, p_student uuid,
                                    p_course uuid, p_workshop uuid, p_lesson uuid,
                                    p_metadata jsonb DEFAULT '{}')
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.student_activity
        (activity_type, instructor_id, student_id, course_id, workshop_id, lesson_id, metadata)
    SELECT p_type, coalesce(c.instructor_id, w.instructor_id), p_student,
           p_course, p_workshop, p_lesson, p_metadata
    FROM (SELECT 1) one
    LEFT JOIN public.courses c ON c.id = p_course
    LEFT JOIN public.workshops w ON w.id = p_workshop
$$;

-- The one rounding rule for money: the platform fee is the sale amount times
-- the fee percentage, rounded half away from zero to the cent (numeric
-- round); the instructor earns the rest, so amount = fee + earnings exactly.
-- A refund negates the three figures of its sale.
CREATE FUNCTION public.platform_fee(p_amount numeric, p_percentage numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT round(p_amount * p_percentage / 100, 2)
$$;

-- Writes the sale for a paid enrollment or registration, or the refund of
-- that sale. The partial unique indexes make a second sale or refund for the
-- same item impossible, and ON CONFLICT makes a retry harmless.
CREATE FUNCTION public.record_sale(p_type public.transaction_type, p_instructor uuid, p_student uuid,
                                   p_course uuid, p_workshop uuid, p_enrollment uuid,
                                   p_registration uuid, p_amount numeric, p_currency char(3))
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    pct constant numeric := 20.00;
BEGIN
    IF p_type = 'course_enrollment' THEN
        INSERT INTO public.revenue_transactions
            (instructor_id, student_id, course_id, enrollment_id, transaction_type, amount, currency,
             platform_fee_percentage, platform_fee_amount, instructor_earnings)
        VALUES (p_instructor, p_student, p_course, p_enrollment, p_type, p_amount, p_currency,
                pct, public.platform_fee(p_amount, pct), p_amount - public.platform_fee(p_amount, pct))
        ON CONFLICT (enrollment_id) WHERE transaction_type = 'course_enrollment' DO NOTHING;
    ELSE
        INSERT INTO public.revenue_transactions
            (instructor_id, student_id, workshop_id, workshop_registration_id, transaction_type, amount,
             currency, platform_fee_percentage, platform_fee_amount, instructor_earnings)
        VALUES (p_instructor, p_student, p_workshop, p_registration, p_type, p_amount, p_currency,
                pct, public.platform_fee(p_amount, pct), p_amount - public.platform_fee(p_amount, pct))
        ON CONFLICT (workshop_registration_id) WHERE transaction_type = 'workshop_registration' DO NOTHING;
    END IF;
END
$$;

CREATE FUNCTION public.record_refund(p_enrollment uuid, p_registration uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.revenue_transactions
        (instructor_id, student_id, course_id, workshop_id, enrollment_id, workshop_registration_id,
         refund_of, transaction_type, amount, currency, platform_fee_percentage,
         platform_fee_amount, instructor_earnings, payout_status)
    SELECT s.instructor_id, s.student_id, s.course_id, s.workshop_id, s.enrollment_id,
           s.workshop_registration_id, s.id, 'refund', -s.amount, s.currency,
           s.platform_fee_percentage, -s.platform_fee_amount, -s.instructor_earnings,
           -- A refund of a sale not yet paid out cancels it in the same payout.
           'pending'
    FROM public.revenue_transactions s
    WHERE s.transaction_type IN ('course_enrollment', 'workshop_registration')
      AND ((p_enrollment IS NOT NULL AND s.enrollment_id = p_enrollment)
           OR (p_registration IS NOT NULL AND s.workshop_registration_id = p_registration))
    ON CONFLICT (refund_of) WHERE refund_of IS NOT NULL DO NOTHING
$$;

-- 1. create_student_progress_trigger
CREATE FUNCTION public.create_student_progress() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO public.student_progress (enrollment_id, user_id, course_id)
    VALUES (NEW.id, NEW.user_id, NEW.course_id);
    PERFORM public.refresh_progress_figures(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER create_student_progress_trigger
    AFTER INSERT ON public.course_enrollments
    FOR EACH ROW EXECUTE FUNCTION public.create_student_progress();

-- 2. log_enrollment_activity_trigger
CREATE FUNCTION public.log_enrollment_activity() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    kind public.activity_type;
BEGIN
    IF TG_OP = 'INSERT' THEN
        kind := 'enrolled';
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        kind := CASE NEW.status
                    WHEN 'enrolled' THEN CASE WHEN OLD.status = 'pending' THEN NULL ELSE 'enrolled' END
                    WHEN 'cancelled' THEN 'enrollment_cancelled'
                    WHEN 'completed' THEN 'course_completed'
                    WHEN 'refunded' THEN 'refunded'
                END::public.activity_type;
    END IF;
    IF kind IS NOT NULL THEN
        PERFORM public.log_activity(kind, NEW.user_id, NEW.course_id, NULL, NULL,
                                    jsonb_build_object('status', NEW.status));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER log_enrollment_activity_trigger
    AFTER INSERT OR UPDATE OF status ON public.course_enrollments
    FOR EACH ROW EXECUTE FUNCTION public.log_enrollment_activity();

-- Completion time of a lesson follows its status (for every writer).
CREATE FUNCTION public.stamp_lesson_progress() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'completed' THEN
        NEW.completed_at := coalesce(NEW.completed_at, now());
    ELSE
        NEW.completed_at := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER stamp_lesson_progress
    BEFORE INSERT OR UPDATE ON public.lesson_progress
    FOR EACH ROW EXECUTE FUNCTION public.stamp_lesson_progress();

-- 3. update_student_progress_from_lesson_trigger
CREATE FUNCTION public.update_student_progress_from_lesson() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    lesson record;
BEGIN
    -- The lesson's own events first, then the completion they may cause.
    SELECT content_type, passing_score INTO lesson FROM public.course_lessons WHERE id = NEW.lesson_id;
    IF TG_OP = 'INSERT' THEN
        PERFORM public.log_activity('lesson_started', NEW.user_id, NEW.course_id, NULL, NEW.lesson_id);
    END IF;
    IF NEW.status = 'completed' AND (TG_OP = 'INSERT' OR OLD.status <> 'completed') THEN
        PERFORM public.log_activity('lesson_completed', NEW.user_id, NEW.course_id, NULL, NEW.lesson_id);
    END IF;
    IF lesson.content_type = 'quiz' AND NEW.quiz_score IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.quiz_score IS DISTINCT FROM OLD.quiz_score) THEN
        PERFORM public.log_activity(
            CASE WHEN NEW.quiz_score >= lesson.passing_score THEN 'quiz_passed' ELSE 'quiz_failed' END::public.activity_type,
            NEW.user_id, NEW.course_id, NULL, NEW.lesson_id,
            jsonb_build_object('quiz_score', NEW.quiz_score, 'passing_score', lesson.passing_score));
    END IF;
    PERFORM public.refresh_progress_figures(NEW.enrollment_id);
    PERFORM public.advance_enrollment(NEW.enrollment_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER update_student_progress_from_lesson_trigger
    AFTER INSERT OR UPDATE ON public.lesson_progress
    FOR EACH ROW EXECUTE FUNCTION public.update_student_progress_from_lesson();

-- The behaviour the specification leaves implicit: adding, removing or
-- retyping a lesson keeps every enrolled student's progress right. Locks the
-- course's enrollments in id order first (enrollments before course).
CREATE FUNCTION public.update_progress_on_lesson_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    changed_course uuid := coalesce(NEW.course_id, OLD.course_id);
    enrollment uuid;
BEGIN
    FOR enrollment IN
        SELECT id FROM public.course_enrollments WHERE course_id = changed_course
        ORDER BY id FOR NO KEY UPDATE
    LOOP
        PERFORM public.refresh_progress_figures(enrollment);
        PERFORM public.advance_enrollment(enrollment);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_progress_on_lesson_change_trigger
    AFTER INSERT OR DELETE OR UPDATE OF content_type, passing_score, duration_minutes
    ON public.course_lessons
    FOR EACH ROW EXECUTE FUNCTION public.update_progress_on_lesson_change();

-- 4. update_course_enrollment_stats_trigger
CREATE FUNCTION public.update_course_enrollment_stats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM public.refresh_course_figures(coalesce(NEW.course_id, OLD.course_id));
    RETURN NULL;
END
$$;
CREATE TRIGGER update_course_enrollment_stats_trigger
    AFTER INSERT OR UPDATE OR DELETE ON public.course_enrollments
    FOR EACH ROW EXECUTE FUNCTION public.update_course_enrollment_stats();

-- 5. update_workshop_registration_stats_trigger
CREATE FUNCTION public.update_workshop_registration_stats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    kind public.activity_type;
BEGIN
    PERFORM public.refresh_workshop_figures(coalesce(NEW.workshop_id, OLD.workshop_id));
    IF TG_OP = 'INSERT' THEN
        kind := 'workshop_registered';
    ELSIF TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status THEN
        kind := CASE NEW.status WHEN 'attended' THEN 'workshop_attended'
                                WHEN 'cancelled' THEN 'workshop_cancelled'
                                WHEN 'registered' THEN 'workshop_registered' END::public.activity_type;
    END IF;
    IF kind IS NOT NULL THEN
        PERFORM public.log_activity(kind, NEW.user_id, NULL, NEW.workshop_id, NULL,
                                    jsonb_build_object('status', NEW.status));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_workshop_registration_stats_trigger
    AFTER INSERT OR UPDATE OR DELETE ON public.workshop_registrations
    FOR EACH ROW EXECUTE FUNCTION public.update_workshop_registration_stats();

-- 6. update_course_rating_trigger (course, then its instructor: a review can
--    move the instructor's rounded average without moving the course's)
CREATE FUNCTION public.update_course_rating() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    changed_course uuid := coalesce(NEW.course_id, OLD.course_id);
BEGIN
    PERFORM public.refresh_course_figures(changed_course);
    PERFORM public.refresh_instructor_figures(
        (SELECT instructor_id FROM public.courses WHERE id = changed_course));
    IF TG_OP = 'INSERT' THEN
        PERFORM public.log_activity('review_posted', NEW.user_id, NEW.course_id, NULL, NULL,
                                    jsonb_build_object('rating', NEW.rating, 'review_id', NEW.id));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_course_rating_trigger
    AFTER INSERT OR UPDATE OR DELETE ON public.course_reviews
    FOR EACH ROW EXECUTE FUNCTION public.update_course_rating();

-- 7. update_workshop_satisfaction_trigger
CREATE FUNCTION public.update_workshop_satisfaction() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM public.refresh_workshop_figures(coalesce(NEW.workshop_id, OLD.workshop_id));
    IF TG_OP = 'INSERT' THEN
        PERFORM public.log_activity('feedback_submitted', NEW.user_id, NULL, NEW.workshop_id, NULL,
                                    jsonb_build_object('overall_satisfaction', NEW.overall_satisfaction,
                                                       'nps_score', NEW.nps_score));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_workshop_satisfaction_trigger
    AFTER INSERT OR UPDATE OR DELETE ON public.workshop_feedback
    FOR EACH ROW EXECUTE FUNCTION public.update_workshop_satisfaction();

-- 8. update_instructor_stats_trigger, on courses, workshops and enrollments.
--    On courses and workshops only what moves an instructor figure (status,
--    owner, existence) refreshes it; the ratings path is trigger 6's.
CREATE FUNCTION public.update_instructor_stats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_TABLE_NAME = 'course_enrollments' THEN
        IF TG_OP IN ('INSERT', 'DELETE') THEN
            PERFORM public.refresh_instructor_figures(
                (SELECT instructor_id FROM public.courses WHERE id = coalesce(NEW.course_id, OLD.course_id)));
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status
       AND NEW.instructor_id IS NOT DISTINCT FROM OLD.instructor_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM public.refresh_instructor_figures(OLD.instructor_id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.instructor_id <> OLD.instructor_id) THEN
        PERFORM public.refresh_instructor_figures(NEW.instructor_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_instructor_stats_trigger
    AFTER INSERT OR UPDATE OR DELETE ON public.courses
    FOR EACH ROW EXECUTE FUNCTION public.update_instructor_stats();
CREATE TRIGGER update_instructor_stats_trigger
    AFTER INSERT OR UPDATE OR DELETE ON public.workshops
    FOR EACH ROW EXECUTE FUNCTION public.update_instructor_stats();
CREATE TRIGGER update_instructor_stats_trigger
    AFTER INSERT OR UPDATE OR DELETE ON public.course_enrollments
    FOR EACH ROW EXECUTE FUNCTION public.update_instructor_stats();

-- 9. create_revenue_transaction_from_enrollment_trigger: a paid enrollment
--    becoming enrolled writes its sale (once, ever); a refund writes the
--    negative row. courses.total_revenue follows through trigger 4, which
--    fires after this one.
CREATE FUNCTION public.create_revenue_transaction_from_enrollment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    c record;
BEGIN
    SELECT instructor_id, currency INTO c FROM public.courses WHERE id = NEW.course_id;
    IF NEW.status = 'enrolled' AND NEW.payment_status = 'completed' AND NEW.amount_paid > 0
       AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'enrolled'
            OR OLD.payment_status IS DISTINCT FROM 'completed') THEN
        PERFORM public.record_sale('course_enrollment', c.instructor_id, NEW.user_id, NEW.course_id,
                                   NULL, NEW.id, NULL, NEW.amount_paid, c.currency);
    ELSIF TG_OP = 'UPDATE' AND NEW.payment_status = 'refunded' AND OLD.payment_status <> 'refunded' THEN
        PERFORM public.record_refund(NEW.id, NULL);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER create_revenue_transaction_from_enrollment_trigger
    AFTER INSERT OR UPDATE OF status, payment_status ON public.course_enrollments
    FOR EACH ROW EXECUTE FUNCTION public.create_revenue_transaction_from_enrollment();

-- 10. create_revenue_transaction_from_workshop_trigger
CREATE FUNCTION public.create_revenue_transaction_from_workshop() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    w record;
BEGIN
    SELECT instructor_id, currency INTO w FROM public.workshops WHERE id = NEW.workshop_id;
    IF NEW.payment_status = 'completed' AND NEW.amount_paid > 0
       AND (TG_OP = 'INSERT' OR OLD.payment_status IS DISTINCT FROM 'completed') THEN
        PERFORM public.record_sale('workshop_registration', w.instructor_id, NEW.user_id, NULL,
                                   NEW.workshop_id, NULL, NEW.id, NEW.amount_paid, w.currency);
    ELSIF TG_OP = 'UPDATE' AND NEW.payment_status = 'refunded' AND OLD.payment_status <> 'refunded' THEN
        PERFORM public.record_refund(NULL, NEW.id);
        PERFORM public.log_activity('refunded', NEW.user_id, NULL, NEW.workshop_id, NULL,
                                    jsonb_build_object('status', NEW.status));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER create_revenue_transaction_from_workshop_trigger
    AFTER INSERT OR UPDATE OF payment_status ON public.workshop_registrations
    FOR EACH ROW EXECUTE FUNCTION public.create_revenue_transaction_from_workshop();

-- An instructor gets a profile and settings at sign-up or on becoming one.
CREATE FUNCTION public.ensure_instructor_records() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NEW.role = 'instructor' THEN
        INSERT INTO public.instructor_profiles (user_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
        INSERT INTO public.instructor_settings (user_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
        PERFORM public.refresh_instructor_figures(NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER ensure_instructor_records
    AFTER INSERT OR UPDATE OF role ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.ensure_instructor_records();

-- Stamps that follow status, for every writer.
CREATE FUNCTION public.stamp_course() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'published' AND NEW.published_at IS NULL THEN
        NEW.published_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER stamp_course BEFORE INSERT OR UPDATE ON public.courses
    FOR EACH ROW EXECUTE FUNCTION public.stamp_course();

-- Dates that follow an enrollment's or a registration's status.
CREATE FUNCTION public.stamp_status_dates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'cancelled' AND OLD.status IS DISTINCT FROM 'cancelled' THEN
        NEW.cancelled_at := now();
    ELSIF NEW.status <> 'cancelled' THEN
        NEW.cancelled_at := NULL;
    END IF;
    IF TG_TABLE_NAME = 'workshop_registrations' THEN  -- only registrations have attended_at
        IF NEW.status = 'attended' THEN
            NEW.attended_at := coalesce(NEW.attended_at, now());
        ELSE
            NEW.attended_at := NULL;
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER stamp_status_dates BEFORE UPDATE ON public.course_enrollments
    FOR EACH ROW EXECUTE FUNCTION public.stamp_status_dates();
CREATE TRIGGER stamp_status_dates BEFORE UPDATE ON public.workshop_registrations
    FOR EACH ROW EXECUTE FUNCTION public.stamp_status_dates();

-- Guards: what a row-level policy cannot say (which columns a given actor may
-- change, which status moves are allowed). They bind the API roles only:
-- triggers and maintenance functions run as the owner and pass.
CREATE FUNCTION public.api_caller() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT current_user IN ('anon', 'authenticated')
$$;

CREATE FUNCTION public.refuse(message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Columns only a platform admin changes, named as the trigger's arguments:
-- an organization's address, a user's email, role, organization and active
-- flag, an instructor's verification, a course's or workshop's owner.
CREATE FUNCTION public.guard_admin_only_columns() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    col text;
BEGIN
    IF public.api_caller() AND NOT public.is_platform_admin() THEN
        FOREACH col IN ARRAY TG_ARGV LOOP
            IF to_jsonb(NEW) -> col IS DISTINCT FROM to_jsonb(OLD) -> col THEN
                PERFORM public.refuse(format('only an administrator changes %s.%s', TG_TABLE_NAME, col));
            END IF;
        END LOOP;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_admin_only_columns BEFORE UPDATE ON public.organizations
    FOR EACH ROW EXECUTE FUNCTION public.guard_admin_only_columns('slug');
CREATE TRIGGER guard_admin_only_columns BEFORE UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.guard_admin_only_columns('email', 'role', 'organization_id', 'is_active');
CREATE TRIGGER guard_admin_only_columns BEFORE UPDATE ON public.instructor_profiles
    FOR EACH ROW EXECUTE FUNCTION public.guard_admin_only_columns('is_verified', 'is_featured');
CREATE TRIGGER guard_admin_only_columns BEFORE UPDATE ON public.courses
    FOR EACH ROW EXECUTE FUNCTION public.guard_admin_only_columns('instructor_id');
CREATE TRIGGER guard_admin_only_columns BEFORE UPDATE ON public.workshops
    FOR EACH ROW EXECUTE FUNCTION public.guard_admin_only_columns('instructor_id');

-- Enrollment moves open to the API roles: the student cancels their own
-- (pending, enrolled or in progress); the owner or a co-instructor with
-- manage_students approves a pending one whose payment is settled, or
-- declines it. Everything else (completed, refunded, payments) is the
-- triggers' and the payment functions' business.
CREATE FUNCTION public.guard_enrollments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT public.api_caller() OR NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF NEW.user_id = (SELECT auth.uid()) AND NEW.status = 'cancelled'
       AND OLD.status IN ('pending', 'enrolled', 'in_progress') THEN
        RETURN NEW;
    END IF;
    IF public.has_course_permission(NEW.course_id, 'manage_students') AND OLD.status = 'pending'
       AND (NEW.status = 'cancelled' OR (NEW.status = 'enrolled' AND OLD.payment_status = 'completed')) THEN
        RETURN NEW;
    END IF;
    PERFORM public.refuse(format('an enrollment cannot move from %s to %s here', OLD.status, NEW.status));
    RETURN NULL;
END
$$;
CREATE TRIGGER guard_enrollments BEFORE UPDATE ON public.course_enrollments
    FOR EACH ROW EXECUTE FUNCTION public.guard_enrollments();

-- Registration moves: the student cancels their own; the owner or a
-- facilitator marks attendance (attended / no_show) of a registered seat.
CREATE FUNCTION public.guard_registrations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT public.api_caller() OR NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF NEW.user_id = (SELECT auth.uid()) AND NEW.status = 'cancelled'
       AND OLD.status IN ('registered', 'waitlisted') THEN
        RETURN NEW;
    END IF;
    IF public.is_workshop_staff(NEW.workshop_id) AND NEW.status IN ('attended', 'no_show')
       AND OLD.status IN ('registered', 'attended', 'no_show') THEN
        RETURN NEW;
    END IF;
    PERFORM public.refuse(format('a registration cannot move from %s to %s here', OLD.status, NEW.status));
    RETURN NULL;
END
$$;
CREATE TRIGGER guard_registrations BEFORE UPDATE ON public.workshop_registrations
    FOR EACH ROW EXECUTE FUNCTION public.guard_registrations();

-- Reviews: the author writes the rating and text; the owner or a
-- co-instructor with respond_reviews writes the response; a platform admin
-- moderates. Each stamp follows the field it dates.
CREATE FUNCTION public.guard_course_reviews() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    uid uuid := (SELECT auth.uid());
BEGIN
    IF public.api_caller() THEN
        IF (NEW.rating, NEW.title, NEW.review_text, NEW.content_quality_rating,
            NEW.instructor_rating, NEW.value_rating)
           IS DISTINCT FROM (OLD.rating, OLD.title, OLD.review_text, OLD.content_quality_rating,
                             OLD.instructor_rating, OLD.value_rating)
           AND NEW.user_id IS DISTINCT FROM uid THEN
            PERFORM public.refuse('only its author edits a review');
        END IF;
        IF NEW.instructor_response IS DISTINCT FROM OLD.instructor_response
           AND NOT public.has_course_permission(NEW.course_id, 'respond_reviews') THEN
            PERFORM public.refuse('only the course''s instructors respond to its reviews');
        END IF;
        IF (NEW.is_visible, NEW.moderation_reason) IS DISTINCT FROM (OLD.is_visible, OLD.moderation_reason)
           AND NOT public.is_platform_admin() THEN
            PERFORM public.refuse('only an administrator moderates reviews');
        END IF;
    END IF;
    IF NEW.instructor_response IS DISTINCT FROM OLD.instructor_response THEN
        NEW.instructor_responded_at := CASE WHEN NEW.instructor_response IS NULL THEN NULL ELSE now() END;
        NEW.responded_by := CASE WHEN NEW.instructor_response IS NULL THEN NULL ELSE uid END;
    END IF;
    IF (NEW.is_visible, NEW.moderation_reason) IS DISTINCT FROM (OLD.is_visible, OLD.moderation_reason) THEN
        NEW.moderated_at := now();
        NEW.moderated_by := uid;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_course_reviews BEFORE UPDATE ON public.course_reviews
    FOR EACH ROW EXECUTE FUNCTION public.guard_course_reviews();

-- A co-teacher is an instructor, and not the course's own owner.
CREATE FUNCTION public.check_co_teacher() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    teacher uuid;
    owner uuid;
BEGIN
    -- Two branches: plpgsql resolves NEW's fields when a statement runs, so
    -- each table's field is read only on that table.
    IF TG_TABLE_NAME = 'course_instructors' THEN
        teacher := NEW.instructor_id;
        SELECT instructor_id INTO owner FROM public.courses WHERE id = NEW.course_id;
    ELSE
        teacher := NEW.facilitator_id;
        SELECT instructor_id INTO owner FROM public.workshops WHERE id = NEW.workshop_id;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.users WHERE id = teacher AND role = 'instructor' AND is_active) THEN
        RAISE EXCEPTION 'a co-teacher must be an active instructor' USING ERRCODE = 'check_violation';
    END IF;
    IF teacher = owner THEN
        RAISE EXCEPTION 'the owner already teaches this' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER check_co_teacher BEFORE INSERT OR UPDATE ON public.course_instructors
    FOR EACH ROW EXECUTE FUNCTION public.check_co_teacher();
CREATE TRIGGER check_co_teacher BEFORE INSERT OR UPDATE ON public.workshop_facilitators
    FOR EACH ROW EXECUTE FUNCTION public.check_co_teacher();

-- 7. actions: the only ways in for enrollments, registrations and money ------

-- Enroll the caller. A free course enrolls at once (or waits for approval
-- when the instructor does not auto-approve); a paid course waits for its
-- payment. A cancelled enrollment is revived rather than duplicated, and a
-- payment it already made still counts, so nobody pays twice.
CREATE FUNCTION public.enroll_in_course(p_course_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid uuid := (SELECT auth.uid());
    c record;
    existing record;
    auto_approve boolean;
    settled boolean;
    new_id uuid;
BEGIN
    IF uid IS NULL OR public.current_user_role() IS NULL THEN
        RAISE EXCEPTION 'sign in to enroll' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT id, instructor_id, price_amount INTO c
    FROM public.courses WHERE id = p_course_id AND status = 'published';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such course' USING ERRCODE = 'no_data_found';
    END IF;
    IF c.instructor_id = uid OR EXISTS (SELECT 1 FROM public.course_instructors
                                         WHERE course_id = c.id AND instructor_id = uid) THEN
        RAISE EXCEPTION 'instructors do not enroll in their own course' USING ERRCODE = 'check_violation';
    END IF;
    auto_approve := coalesce((SELECT s.auto_approve_enrollments FROM public.instructor_settings s
                              WHERE s.user_id = c.instructor_id), true);

    SELECT id, status, payment_status INTO existing
    FROM public.course_enrollments WHERE course_id = c.id AND user_id = uid FOR NO KEY UPDATE;
    IF FOUND THEN
        IF existing.status = 'refunded' THEN
            -- A sale is refunded once and never charged again (the revenue
            -- constraints), so a refunded enrollment is not revived here.
            RAISE EXCEPTION 'this enrollment was refunded; ask support to restore it'
                USING ERRCODE = 'unique_violation';
        ELSIF existing.status <> 'cancelled' THEN
            RAISE EXCEPTION 'already enrolled' USING ERRCODE = 'unique_violation';
        END IF;
        settled := c.price_amount = 0 OR existing.payment_status = 'completed';
        UPDATE public.course_enrollments
        SET status = CASE WHEN settled AND auto_approve THEN 'enrolled' ELSE 'pending' END::public.enrollment_status,
            payment_status = CASE WHEN settled THEN 'completed' ELSE payment_status END,
            enrolled_at = now()
        WHERE id = existing.id;
        RETURN existing.id;
    END IF;

    INSERT INTO public.course_enrollments (course_id, user_id, status, payment_status)
    VALUES (c.id, uid,
            CASE WHEN c.price_amount = 0 AND auto_approve THEN 'enrolled' ELSE 'pending' END::public.enrollment_status,
            CASE WHEN c.price_amount = 0 THEN 'completed' ELSE 'pending' END::public.payment_status)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- The payment path (a provider's webhook, acting as service_role): settles
-- the price of a pending enrollment. Confirming twice changes nothing.
CREATE FUNCTION public.confirm_course_payment(p_enrollment_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    e record;
BEGIN
    SELECT en.id, en.status, en.payment_status, c.price_amount,
           coalesce(s.auto_approve_enrollments, true) AS auto_approve
    INTO e
    FROM public.course_enrollments en
    JOIN public.courses c ON c.id = en.course_id
    LEFT JOIN public.instructor_settings s ON s.user_id = c.instructor_id
    WHERE en.id = p_enrollment_id
    FOR NO KEY UPDATE OF en;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such enrollment' USING ERRCODE = 'no_data_found';
    END IF;
    IF e.payment_status IN ('completed', 'refunded') THEN
        RETURN;
    END IF;
    UPDATE public.course_enrollments
    SET payment_status = 'completed', amount_paid = e.price_amount,
        status = CASE WHEN status = 'pending' AND e.auto_approve THEN 'enrolled' ELSE status END
    WHERE id = p_enrollment_id;
END
$$;

CREATE FUNCTION public.refund_course_enrollment(p_enrollment_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.course_enrollments
    SET status = 'refunded', payment_status = 'refunded'
    WHERE id = p_enrollment_id AND payment_status = 'completed' AND amount_paid > 0;
    IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM public.course_enrollments
                                 WHERE id = p_enrollment_id AND payment_status = 'refunded') THEN
        RAISE EXCEPTION 'nothing paid to refund' USING ERRCODE = 'no_data_found';
    END IF;
END
$$;

-- Register the caller: a seat while there is one, else the waitlist. The
-- workshop row lock serialises the capacity check.
CREATE FUNCTION public.register_for_workshop(p_workshop_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid uuid := (SELECT auth.uid());
    w record;
    existing record;
    seat public.registration_status;
    new_id uuid;
BEGIN
    IF uid IS NULL OR public.current_user_role() IS NULL THEN
        RAISE EXCEPTION 'sign in to register' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT id, instructor_id, capacity, price_amount, start_time INTO w
    FROM public.workshops WHERE id = p_workshop_id AND status = 'published'
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such workshop' USING ERRCODE = 'no_data_found';
    END IF;
    IF w.start_time <= now() THEN
        RAISE EXCEPTION 'this workshop has already started' USING ERRCODE = 'check_violation';
    END IF;
    IF w.instructor_id = uid THEN
        RAISE EXCEPTION 'instructors do not register for their own workshop' USING ERRCODE = 'check_violation';
    END IF;
    seat := CASE WHEN (SELECT count(*) FROM public.workshop_registrations
                       WHERE workshop_id = w.id AND status IN ('registered', 'attended', 'no_show')) < w.capacity
                 THEN 'registered' ELSE 'waitlisted' END;

    SELECT id, status, payment_status INTO existing
    FROM public.workshop_registrations WHERE workshop_id = w.id AND user_id = uid;
    IF FOUND THEN
        IF existing.status <> 'cancelled' THEN
            RAISE EXCEPTION 'already registered' USING ERRCODE = 'unique_violation';
        END IF;
        UPDATE public.workshop_registrations
        SET status = seat, registered_at = now(),
            payment_status = CASE WHEN w.price_amount = 0 THEN 'completed' ELSE payment_status END
        WHERE id = existing.id;
        RETURN existing.id;
    END IF;

    INSERT INTO public.workshop_registrations (workshop_id, user_id, status, payment_status)
    VALUES (w.id, uid, seat,
            CASE WHEN w.price_amount = 0 THEN 'completed' ELSE 'pending' END::public.payment_status)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Only a seat is paid for: a waitlisted registration pays when it gets one.
CREATE FUNCTION public.confirm_workshop_payment(p_registration_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r record;
BEGIN
    SELECT reg.status, reg.payment_status, w.price_amount INTO r
    FROM public.workshop_registrations reg JOIN public.workshops w ON w.id = reg.workshop_id
    WHERE reg.id = p_registration_id
    FOR NO KEY UPDATE OF reg;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such registration' USING ERRCODE = 'no_data_found';
    END IF;
    IF r.payment_status IN ('completed', 'refunded') THEN
        RETURN;
    END IF;
    IF r.status <> 'registered' THEN
        RAISE EXCEPTION 'only a registered seat is paid for (this one is %)', r.status
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE public.workshop_registrations
    SET payment_status = 'completed', amount_paid = r.price_amount
    WHERE id = p_registration_id;
END
$$;

CREATE FUNCTION public.refund_workshop_registration(p_registration_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.workshop_registrations
    SET status = 'cancelled', payment_status = 'refunded'
    WHERE id = p_registration_id AND payment_status = 'completed' AND amount_paid > 0;
    IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM public.workshop_registrations
                                 WHERE id = p_registration_id AND payment_status = 'refunded') THEN
        RAISE EXCEPTION 'nothing paid to refund' USING ERRCODE = 'no_data_found';
    END IF;
END
$$;

-- A platform admin refunds from the back office (an enrollment or a
-- registration); the payment service calls the two functions above directly.
CREATE FUNCTION public.admin_refund(p_enrollment_id uuid, p_registration_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NOT public.is_platform_admin() THEN
        RAISE EXCEPTION 'only an administrator refunds' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_enrollment_id IS NOT NULL THEN
        PERFORM public.refund_course_enrollment(p_enrollment_id);
    END IF;
    IF p_registration_id IS NOT NULL THEN
        PERFORM public.refund_workshop_registration(p_registration_id);
    END IF;
END
$$;

-- Payouts (platform admin): marks the given settled rows paid out.
CREATE FUNCTION public.mark_payouts_paid(p_transaction_ids uuid[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    n integer;
BEGIN
    IF NOT public.is_platform_admin() THEN
        RAISE EXCEPTION 'only an administrator pays out' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE public.revenue_transactions
    SET payout_status = 'paid', payout_date = now()
    WHERE id = ANY (p_transaction_ids) AND payment_status = 'completed' AND payout_status = 'pending';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

GRANT EXECUTE ON FUNCTION public.enroll_in_course(uuid), public.register_for_workshop(uuid)
    TO authenticated;
GRANT EXECUTE ON FUNCTION public.confirm_course_payment(uuid), public.confirm_workshop_payment(uuid)
    TO service_role;
GRANT EXECUTE ON FUNCTION public.refund_course_enrollment(uuid), public.refund_workshop_registration(uuid)
    TO service_role;
GRANT EXECUTE ON FUNCTION public.admin_refund(uuid, uuid) TO authenticated;
GRANT EXECUTE ON FUNCTION public.mark_payouts_paid(uuid[]) TO authenticated;
-- Policies, guards and views call these as the caller.
GRANT EXECUTE ON FUNCTION public.api_caller(), public.refuse(text) TO anon, authenticated, service_role;

-- 8. row-level security and grants --------------------------------------------
-- Enabled and FORCED on every table; policies follow access-model.md. Where
-- it is silent, nothing is granted. Column lists in the grants keep the
-- figures, payment fields and stamps out of every API role's reach: a write
-- to them raises 42501 whoever tries it.

DO $rls$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
             WHERE schemaname IN ('public', 'private') LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('REVOKE ALL ON %s FROM PUBLIC, anon, authenticated, service_role', t);
    END LOOP;
END
$rls$;

-- service_role (the payment webhook and back-office jobs) reads everything;
-- it writes only through the functions granted to it above.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO service_role;

-- organizations: members and admins read; admins create and delete; the
-- organization's admin renames it and edits its settings.
GRANT SELECT, INSERT (name, slug, settings), UPDATE (name, slug, settings), DELETE
    ON public.organizations TO authenticated;
CREATE POLICY organizations_read ON public.organizations FOR SELECT TO authenticated
    USING (id = (SELECT public.member_of_organization()) OR (SELECT public.is_platform_admin()));
CREATE POLICY organizations_create ON public.organizations FOR INSERT TO authenticated
    WITH CHECK ((SELECT public.is_platform_admin()));
CREATE POLICY organizations_update ON public.organizations FOR UPDATE TO authenticated
    USING (id = (SELECT public.admin_of_organization()) OR (SELECT public.is_platform_admin()))
    WITH CHECK (id = (SELECT public.admin_of_organization()) OR (SELECT public.is_platform_admin()));
CREATE POLICY organizations_delete ON public.organizations FOR DELETE TO authenticated
    USING ((SELECT public.is_platform_admin()));

-- users: yourself; the instructors of a student (basic fields are all this
-- table holds: the password hash lives in private); your organization's
-- admin; platform admins. Sign-up is a function.
GRANT SELECT, UPDATE (full_name, avatar_url, email, role, organization_id, is_active), DELETE
    ON public.users TO authenticated;
CREATE POLICY users_read ON public.users FOR SELECT TO authenticated
    USING (id = (SELECT auth.uid())
           OR (SELECT public.is_platform_admin())
           OR organization_id = (SELECT public.admin_of_organization())
           OR public.is_student_of_caller(id));
CREATE POLICY users_update ON public.users FOR UPDATE TO authenticated
    USING (id = (SELECT auth.uid()) OR (SELECT public.is_platform_admin()))
    WITH CHECK (id = (SELECT auth.uid()) OR (SELECT public.is_platform_admin()));
CREATE POLICY users_delete ON public.users FOR DELETE TO authenticated
    USING ((SELECT public.is_platform_admin()));

-- instructor_profiles: public; the instructor edits their own (not the
-- figures, not verification); admins moderate.
GRANT SELECT ON public.instructor_profiles TO anon;
GRANT SELECT, UPDATE (headline, bio, expertise_tags, pillars, education, certifications,
                      work_experience, social_links, website_url, is_verified, is_featured), DELETE
    ON public.instructor_profiles TO authenticated;
CREATE POLICY instructor_profiles_read ON public.instructor_profiles FOR SELECT TO anon, authenticated
    USING (true);
CREATE POLICY instructor_profiles_update ON public.instructor_profiles FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid()) OR (SELECT public.is_platform_admin()))
    WITH CHECK (user_id = (SELECT auth.uid()) OR (SELECT public.is_platform_admin()));
CREATE POLICY instructor_profiles_delete ON public.instructor_profiles FOR DELETE TO authenticated
    USING ((SELECT public.is_platform_admin()));

-- instructor_settings: the instructor alone.
GRANT SELECT, UPDATE (email_notifications, push_notifications, auto_approve_enrollments,
                      allow_student_questions, allow_course_reviews, profile_visibility,
                      payment_method, payment_details, payout_schedule, calendar_sync_enabled,
                      calendar_provider, timezone)
    ON public.instructor_settings TO authenticated;
CREATE POLICY instructor_settings_read ON public.instructor_settings FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
CREATE POLICY instructor_settings_update ON public.instructor_settings FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

-- courses
GRANT SELECT ON public.courses TO anon;
GRANT SELECT,
      INSERT (id, instructor_id, organization_id, title, slug, subtitle, description, thumbnail_url,
              level, language, price_amount, currency, status, category, tags, what_you_will_learn,
              target_audience, certificate_enabled, certificate_template_url, allow_comments,
              allow_qa, drip_content, drip_schedule),
      UPDATE (instructor_id, organization_id, title, slug, subtitle, description, thumbnail_url,
              level, language, price_amount, currency, status, category, tags, what_you_will_learn,
              target_audience, certificate_enabled, certificate_template_url, allow_comments,
              allow_qa, drip_content, drip_schedule),
      DELETE
    ON public.courses TO authenticated;
CREATE POLICY courses_read_published ON public.courses FOR SELECT TO anon
    USING (is_published);
CREATE POLICY courses_read ON public.courses FOR SELECT TO authenticated
    USING (is_published
           OR instructor_id = (SELECT auth.uid())
           OR public.has_course_permission(id, 'view_content')
           OR public.has_course_permission(id, 'edit_content')
           OR organization_id = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin())
           OR public.active_enrollment(id) IS NOT NULL);
CREATE POLICY courses_create ON public.courses FOR INSERT TO authenticated
    WITH CHECK (instructor_id = (SELECT auth.uid())
                AND (SELECT public.current_user_role()) = 'instructor'
                AND (organization_id IS NULL OR organization_id = (SELECT public.member_of_organization())));
CREATE POLICY courses_update ON public.courses FOR UPDATE TO authenticated
    USING (instructor_id = (SELECT auth.uid())
           OR public.has_course_permission(id, 'edit_content')
           OR (SELECT public.is_platform_admin()))
    WITH CHECK ((SELECT public.is_platform_admin())
                OR ((instructor_id = (SELECT auth.uid()) OR public.has_course_permission(id, 'edit_content'))
                    AND (organization_id IS NULL
                         OR organization_id = (SELECT public.member_of_organization())
                         OR organization_id = public.course_organization(id))));
CREATE POLICY courses_delete ON public.courses FOR DELETE TO authenticated
    USING ((instructor_id = (SELECT auth.uid()) AND status = 'draft'
            AND NOT EXISTS (SELECT 1 FROM public.course_enrollments e WHERE e.course_id = courses.id))
           OR (SELECT public.is_platform_admin()));

-- course_modules: staff, org admin, admin and enrolled students; the public
-- outline of a published course is the course_outline view.
GRANT SELECT, INSERT (id, course_id, title, description, position),
      UPDATE (title, description, position), DELETE
    ON public.course_modules TO authenticated;
CREATE POLICY course_modules_read ON public.course_modules FOR SELECT TO authenticated
    USING (public.has_course_permission(course_id, 'view_content')
           OR public.course_organization(course_id) = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin())
           OR public.active_enrollment(course_id) IS NOT NULL);
CREATE POLICY course_modules_write ON public.course_modules FOR ALL TO authenticated
    USING (public.has_course_permission(course_id, 'edit_content'))
    WITH CHECK (public.has_course_permission(course_id, 'edit_content'));

-- course_lessons: as modules, with drip release for students and preview
-- lessons of published courses for everyone.
GRANT SELECT ON public.course_lessons TO anon;
GRANT SELECT,
      INSERT (id, module_id, course_id, title, position, content_type, body, video_url,
              duration_minutes, is_preview, quiz, passing_score),
      UPDATE (module_id, title, position, content_type, body, video_url, duration_minutes,
              is_preview, quiz, passing_score),
      DELETE
    ON public.course_lessons TO authenticated;
CREATE POLICY course_lessons_read_preview ON public.course_lessons FOR SELECT TO anon
    USING (is_preview AND public.is_course_published(course_id));
CREATE POLICY course_lessons_read ON public.course_lessons FOR SELECT TO authenticated
    USING (public.has_course_permission(course_id, 'view_content')
           OR public.course_organization(course_id) = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin())
           OR public.can_read_lesson(id, course_id, is_preview));
CREATE POLICY course_lessons_write ON public.course_lessons FOR ALL TO authenticated
    USING (public.has_course_permission(course_id, 'edit_content'))
    WITH CHECK (public.has_course_permission(course_id, 'edit_content'));

-- course_enrollments: created by enroll_in_course(); status moves per
-- guard_enrollments; payment fields only through the payment functions.
GRANT SELECT, UPDATE (status), DELETE ON public.course_enrollments TO authenticated;
CREATE POLICY course_enrollments_read ON public.course_enrollments FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid())
           OR public.has_course_permission(course_id, 'view_content')
           OR public.has_course_permission(course_id, 'manage_students')
           OR public.course_organization(course_id) = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()));
CREATE POLICY course_enrollments_update ON public.course_enrollments FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid()) OR public.has_course_permission(course_id, 'manage_students'))
    WITH CHECK (user_id = (SELECT auth.uid()) OR public.has_course_permission(course_id, 'manage_students'));
CREATE POLICY course_enrollments_delete ON public.course_enrollments FOR DELETE TO authenticated
    USING ((SELECT public.is_platform_admin()));

-- lesson_progress: the student records their own, on released lessons of a
-- course they are actively enrolled in.
GRANT SELECT,
      INSERT (enrollment_id, lesson_id, user_id, course_id, status, watch_time_seconds, quiz_score),
      UPDATE (status, watch_time_seconds, quiz_score)
    ON public.lesson_progress TO authenticated;
CREATE POLICY lesson_progress_read ON public.lesson_progress FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid())
           OR public.has_course_permission(course_id, 'view_content')
           OR public.has_course_permission(course_id, 'manage_students')
           OR (SELECT public.is_platform_admin()));
CREATE POLICY lesson_progress_create ON public.lesson_progress FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid())
                AND enrollment_id = public.active_enrollment(course_id)
                AND public.lesson_released_for(enrollment_id, lesson_id));
CREATE POLICY lesson_progress_update ON public.lesson_progress FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid()) AND enrollment_id = public.active_enrollment(course_id))
    WITH CHECK (user_id = (SELECT auth.uid()) AND enrollment_id = public.active_enrollment(course_id));

-- student_progress: read-only for everyone; the triggers write it.
GRANT SELECT ON public.student_progress TO authenticated;
CREATE POLICY student_progress_read ON public.student_progress FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid())
           OR public.has_course_permission(course_id, 'view_content')
           OR public.has_course_permission(course_id, 'manage_students')
           OR public.course_organization(course_id) = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()));

-- student_activity: read-only; written by triggers, archived by maintenance.
GRANT SELECT ON public.student_activity TO authenticated;
CREATE POLICY student_activity_read ON public.student_activity FOR SELECT TO authenticated
    USING (instructor_id = (SELECT auth.uid())
           OR student_id = (SELECT auth.uid())
           OR (course_id IS NOT NULL AND (public.has_course_permission(course_id, 'view_content')
                                          OR public.has_course_permission(course_id, 'manage_students')))
           OR (workshop_id IS NOT NULL AND public.is_workshop_staff(workshop_id))
           OR coalesce(public.course_organization(course_id), public.workshop_organization(workshop_id))
              = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()));

-- revenue_transactions: read-only; written by triggers and the refund and
-- payout functions.
GRANT SELECT ON public.revenue_transactions TO authenticated;
CREATE POLICY revenue_transactions_read ON public.revenue_transactions FOR SELECT TO authenticated
    USING (instructor_id = (SELECT auth.uid())
           OR (course_id IS NOT NULL AND public.has_course_permission(course_id, 'view_revenue'))
           OR coalesce(public.course_organization(course_id), public.workshop_organization(workshop_id))
              = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()));

-- course_reviews
CREATE FUNCTION public.can_review_course(p_course_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.course_enrollments
                   WHERE course_id = p_course_id AND user_id = (SELECT auth.uid()) AND status = 'completed')
       AND coalesce((SELECT s.allow_course_reviews FROM public.courses c
                     JOIN public.instructor_settings s ON s.user_id = c.instructor_id
                     WHERE c.id = p_course_id), true)
$$;
GRANT EXECUTE ON FUNCTION public.can_review_course(uuid) TO authenticated;

GRANT SELECT ON public.course_reviews TO anon;
GRANT SELECT,
      INSERT (course_id, user_id, rating, title, review_text, content_quality_rating,
              instructor_rating, value_rating),
      UPDATE (rating, title, review_text, content_quality_rating, instructor_rating, value_rating,
              instructor_response, is_visible, moderation_reason),
      DELETE
    ON public.course_reviews TO authenticated;
CREATE POLICY course_reviews_read_public ON public.course_reviews FOR SELECT TO anon
    USING (is_visible AND public.is_course_published(course_id));
CREATE POLICY course_reviews_read ON public.course_reviews FOR SELECT TO authenticated
    USING ((is_visible AND public.is_course_published(course_id))
           OR user_id = (SELECT auth.uid())
           OR public.has_course_permission(course_id, 'view_content')
           OR public.has_course_permission(course_id, 'respond_reviews')
           OR (SELECT public.is_platform_admin()));
CREATE POLICY course_reviews_create ON public.course_reviews FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()) AND public.can_review_course(course_id));
CREATE POLICY course_reviews_update ON public.course_reviews FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid())
           OR public.has_course_permission(course_id, 'respond_reviews')
           OR (SELECT public.is_platform_admin()))
    WITH CHECK (user_id = (SELECT auth.uid())
                OR public.has_course_permission(course_id, 'respond_reviews')
                OR (SELECT public.is_platform_admin()));
CREATE POLICY course_reviews_delete ON public.course_reviews FOR DELETE TO authenticated
    USING (user_id = (SELECT auth.uid()) OR (SELECT public.is_platform_admin()));

-- workshop_feedback: from attendees, once.
CREATE FUNCTION public.attended_workshop(p_workshop_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.workshop_registrations
                   WHERE workshop_id = p_workshop_id AND user_id = (SELECT auth.uid())
                     AND status = 'attended')
$$;
GRANT EXECUTE ON FUNCTION public.attended_workshop(uuid) TO authenticated;

GRANT SELECT,
      INSERT (workshop_id, user_id, overall_satisfaction, content_rating, delivery_rating,
              interaction_rating, what_went_well, what_could_improve, nps_score, would_recommend),
      UPDATE (overall_satisfaction, content_rating, delivery_rating, interaction_rating,
              what_went_well, what_could_improve, nps_score, would_recommend),
      DELETE
    ON public.workshop_feedback TO authenticated;
CREATE POLICY workshop_feedback_read ON public.workshop_feedback FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid())
           OR public.is_workshop_staff(workshop_id)
           OR public.workshop_organization(workshop_id) = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()));
CREATE POLICY workshop_feedback_create ON public.workshop_feedback FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()) AND public.attended_workshop(workshop_id));
CREATE POLICY workshop_feedback_update ON public.workshop_feedback FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY workshop_feedback_delete ON public.workshop_feedback FOR DELETE TO authenticated
    USING ((SELECT public.is_platform_admin()));

-- course_instructors: the owner manages co-teachers; a co-teacher sees their
-- own row. The public sees a published course's co-teachers by name and role
-- only (not their permissions) through the course_teachers view (section 9).
GRANT SELECT, INSERT (course_id, instructor_id, role, permissions), UPDATE (role, permissions), DELETE
    ON public.course_instructors TO authenticated;
CREATE POLICY course_instructors_read ON public.course_instructors FOR SELECT TO authenticated
    USING (instructor_id = (SELECT auth.uid())
           OR public.is_course_owner(course_id)
           OR (SELECT public.is_platform_admin()));
CREATE POLICY course_instructors_write ON public.course_instructors FOR ALL TO authenticated
    USING (public.is_course_owner(course_id) OR (SELECT public.is_platform_admin()))
    WITH CHECK (public.is_course_owner(course_id) OR (SELECT public.is_platform_admin()));

-- workshops
CREATE FUNCTION public.is_registered_for(p_workshop_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.workshop_registrations
                   WHERE workshop_id = p_workshop_id AND user_id = (SELECT auth.uid())
                     AND status <> 'cancelled')
$$;
CREATE FUNCTION public.workshop_has_registrations(p_workshop_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.workshop_registrations WHERE workshop_id = p_workshop_id)
$$;
GRANT EXECUTE ON FUNCTION public.is_registered_for(uuid), public.workshop_has_registrations(uuid)
    TO authenticated;

GRANT SELECT ON public.workshops TO anon;
GRANT SELECT,
      INSERT (id, instructor_id, organization_id, title, slug, description, start_time, end_time,
              timezone, location, meeting_url, capacity, price_amount, currency, status, type, tags,
              prerequisites, what_you_will_learn, certificate_enabled, certificate_template_url),
      UPDATE (instructor_id, organization_id, title, slug, description, start_time, end_time,
              timezone, location, meeting_url, capacity, price_amount, currency, status, type, tags,
              prerequisites, what_you_will_learn, certificate_enabled, certificate_template_url),
      DELETE
    ON public.workshops TO authenticated;
CREATE POLICY workshops_read_published ON public.workshops FOR SELECT TO anon
    USING (is_published);
-- Beyond the access model's list, a registered student keeps seeing a
-- workshop after it ends (status completed), to leave feedback: the course
-- rule for archived courses, applied to workshops.
CREATE POLICY workshops_read ON public.workshops FOR SELECT TO authenticated
    USING (is_published
           OR instructor_id = (SELECT auth.uid())
           OR public.is_workshop_staff(id)
           OR organization_id = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin())
           OR public.is_registered_for(id));
CREATE POLICY workshops_create ON public.workshops FOR INSERT TO authenticated
    WITH CHECK (instructor_id = (SELECT auth.uid())
                AND (SELECT public.current_user_role()) = 'instructor'
                AND (organization_id IS NULL OR organization_id = (SELECT public.member_of_organization())));
CREATE POLICY workshops_update ON public.workshops FOR UPDATE TO authenticated
    USING (public.is_workshop_staff(id) OR (SELECT public.is_platform_admin()))
    WITH CHECK ((SELECT public.is_platform_admin())
                OR (public.is_workshop_staff(id)
                    AND (organization_id IS NULL
                         OR organization_id = (SELECT public.member_of_organization())
                         OR organization_id = public.workshop_organization(id))));
CREATE POLICY workshops_delete ON public.workshops FOR DELETE TO authenticated
    USING ((instructor_id = (SELECT auth.uid()) AND status = 'draft'
            AND NOT public.workshop_has_registrations(id))
           OR (SELECT public.is_platform_admin()));

-- workshop_registrations: created by register_for_workshop().
GRANT SELECT, UPDATE (status), DELETE ON public.workshop_registrations TO authenticated;
CREATE POLICY workshop_registrations_read ON public.workshop_registrations FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid())
           OR public.is_workshop_staff(workshop_id)
           OR public.workshop_organization(workshop_id) = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()));
CREATE POLICY workshop_registrations_update ON public.workshop_registrations FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid()) OR public.is_workshop_staff(workshop_id))
    WITH CHECK (user_id = (SELECT auth.uid()) OR public.is_workshop_staff(workshop_id));
CREATE POLICY workshop_registrations_delete ON public.workshop_registrations FOR DELETE TO authenticated
    USING ((SELECT public.is_platform_admin()));

-- workshop_facilitators: like course_instructors.
GRANT SELECT ON public.workshop_facilitators TO anon;
GRANT SELECT, INSERT (workshop_id, facilitator_id, role), UPDATE (role), DELETE
    ON public.workshop_facilitators TO authenticated;
CREATE POLICY workshop_facilitators_read_public ON public.workshop_facilitators FOR SELECT TO anon
    USING (EXISTS (SELECT 1 FROM public.workshops w WHERE w.id = workshop_id AND w.is_published));
CREATE POLICY workshop_facilitators_read ON public.workshop_facilitators FOR SELECT TO authenticated
    USING (EXISTS (SELECT 1 FROM public.workshops w WHERE w.id = workshop_id AND w.is_published)
           OR facilitator_id = (SELECT auth.uid())
           OR public.is_workshop_owner(workshop_id)
           OR (SELECT public.is_platform_admin()));
CREATE POLICY workshop_facilitators_write ON public.workshop_facilitators FOR ALL TO authenticated
    USING (public.is_workshop_owner(workshop_id) OR (SELECT public.is_platform_admin()))
    WITH CHECK (public.is_workshop_owner(workshop_id) OR (SELECT public.is_platform_admin()));

-- 9. helper functions, views, maintenance -------------------------------------
-- The four helpers run as the caller (SECURITY INVOKER), so row-level
-- security decides what they count, and they answer only when
-- can_view_instructor() allows: for yourself, any instructor as a platform
-- admin, an instructor of your organization as its admin. Otherwise they
-- return no row.

-- Dashboard cards. Students, courses, workshops, rating and reviews are the
-- trigger-maintained profile figures; revenue is the instructor's earnings
-- (after the platform fee) of settled rows, and pending revenue the part not
-- yet paid out; active enrollments are enrolled or in progress in courses the
-- instructor owns; upcoming workshops are published and not yet started.
CREATE FUNCTION public.get_instructor_dashboard_stats(p_instructor_id uuid)
RETURNS TABLE (total_students integer, total_courses integer, total_workshops integer,
               total_revenue numeric(12,2), pending_revenue numeric(12,2),
               average_rating numeric(3,2), total_reviews integer,
               active_enrollments integer, upcoming_workshops integer)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, public AS $$
    SELECT p.total_students, p.total_courses, p.total_workshops,
           (SELECT coalesce(sum(r.instructor_earnings), 0) FROM public.revenue_transactions r
            WHERE r.instructor_id = p_instructor_id AND r.payment_status = 'completed')::numeric(12,2),
           (SELECT coalesce(sum(r.instructor_earnings), 0) FROM public.revenue_transactions r
            WHERE r.instructor_id = p_instructor_id AND r.payment_status = 'completed'
              AND r.payout_status = 'pending')::numeric(12,2),
           p.average_rating, p.total_reviews,
           (SELECT count(*) FROM public.course_enrollments e
            JOIN public.courses c ON c.id = e.course_id
            WHERE c.instructor_id = p_instructor_id AND e.status IN ('enrolled', 'in_progress'))::integer,
           (SELECT count(*) FROM public.workshops w
            WHERE w.instructor_id = p_instructor_id AND w.status = 'published'
              AND w.start_time > now())::integer
    FROM public.instructor_profiles p
    WHERE p.user_id = p_instructor_id AND public.can_view_instructor(p_instructor_id)
$$;

-- Students of the instructor's courses (owned or co-taught; row-level
-- security narrows co-taught ones to what the permissions allow), optionally
-- for one course. Names are missing where the caller may not read the user
-- (an organization admin and a student from outside the organization).
CREATE FUNCTION public.get_instructor_student_progress(p_instructor_id uuid, p_course_id uuid DEFAULT NULL)
RETURNS TABLE (student_id uuid, student_name text, student_email text, student_avatar_url text,
               course_id uuid, course_title text, enrollment_id uuid,
               enrollment_status public.enrollment_status, enrolled_at timestamptz,
               progress_percentage numeric(5,2), completed_lessons integer, total_lessons integer,
               engagement_score numeric(5,2), last_activity_at timestamptz)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, public AS $$
    SELECT e.user_id, u.full_name, u.email::text, u.avatar_url,
           c.id, c.title, e.id, e.status, e.enrolled_at,
           s.progress_percentage, s.completed_lessons, s.total_lessons,
           s.engagement_score, s.last_activity_at
    FROM public.courses c
    JOIN public.course_enrollments e ON e.course_id = c.id
    JOIN public.student_progress s ON s.enrollment_id = e.id
    LEFT JOIN public.users u ON u.id = e.user_id
    WHERE (c.instructor_id = p_instructor_id
           OR EXISTS (SELECT 1 FROM public.course_instructors ci
                      WHERE ci.course_id = c.id AND ci.instructor_id = p_instructor_id))
      AND (p_course_id IS NULL OR c.id = p_course_id)
      AND public.can_view_instructor(p_instructor_id)
    ORDER BY s.last_activity_at DESC NULLS LAST, e.enrolled_at DESC
$$;

-- Settled revenue in [p_start_date, p_end_date) by transaction type; refunds
-- are their own (negative) line.
CREATE FUNCTION public.get_instructor_revenue_breakdown(p_instructor_id uuid,
                                                        p_start_date timestamptz,
                                                        p_end_date timestamptz)
RETURNS TABLE (transaction_type public.transaction_type, transaction_count integer,
               total_amount numeric(12,2), total_fees numeric(12,2), total_earnings numeric(12,2))
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, public AS $$
    SELECT r.transaction_type, count(*)::integer,
           sum(r.amount)::numeric(12,2), sum(r.platform_fee_amount)::numeric(12,2),
           sum(r.instructor_earnings)::numeric(12,2)
    FROM public.revenue_transactions r
    WHERE r.instructor_id = p_instructor_id
      AND r.payment_status = 'completed'
      AND r.transaction_date >= p_start_date AND r.transaction_date < p_end_date
      AND public.can_view_instructor(p_instructor_id)
    GROUP BY r.transaction_type
    ORDER BY r.transaction_type
$$;

-- The timeline, newest first. To page on, pass the last row's occurred_at
-- and activity_id as p_before and p_before_id (a keyset: rows that share a
-- time are neither lost nor repeated).
CREATE FUNCTION public.get_instructor_recent_activity(p_instructor_id uuid, p_limit integer DEFAULT 50,
                                                      p_before timestamptz DEFAULT NULL,
                                                      p_before_id uuid DEFAULT NULL)
RETURNS TABLE (activity_id uuid, activity_type public.activity_type, description text,
               student_id uuid, student_name text, student_avatar_url text,
               course_id uuid, course_title text, workshop_id uuid, workshop_title text,
               lesson_id uuid, lesson_title text, metadata jsonb, occurred_at timestamptz)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, public AS $$
    SELECT a.id, a.activity_type,
           coalesce(u.full_name, 'A student') || ' ' ||
           CASE a.activity_type
               WHEN 'enrolled' THEN 'enrolled in ' || coalesce(c.title, 'a course')
               WHEN 'enrollment_cancelled' THEN 'cancelled their enrollment in ' || coalesce(c.title, 'a course')
               WHEN 'lesson_started' THEN 'started "' || coalesce(l.title, 'a lesson') || '"'
               WHEN 'lesson_completed' THEN 'completed "' || coalesce(l.title, 'a lesson') || '"'
               WHEN 'quiz_passed' THEN 'passed "' || coalesce(l.title, 'a quiz') || '" with ' || (a.metadata ->> 'quiz_score') || '%'
               WHEN 'quiz_failed' THEN 'scored ' || (a.metadata ->> 'quiz_score') || '% on "' || coalesce(l.title, 'a quiz') || '"'
               WHEN 'course_completed' THEN 'completed ' || coalesce(c.title, 'a course')
               WHEN 'review_posted' THEN 'reviewed ' || coalesce(c.title, 'a course') || ' (' || (a.metadata ->> 'rating') || '/5)'
               WHEN 'workshop_registered' THEN 'registered for ' || coalesce(w.title, 'a workshop')
               WHEN 'workshop_cancelled' THEN 'cancelled their registration for ' || coalesce(w.title, 'a workshop')
               WHEN 'workshop_attended' THEN 'attended ' || coalesce(w.title, 'a workshop')
               WHEN 'feedback_submitted' THEN 'left feedback on ' || coalesce(w.title, 'a workshop')
               WHEN 'refunded' THEN 'was refunded for ' || coalesce(c.title, w.title, 'a purchase')
           END,
           a.student_id, u.full_name, u.avatar_url,
           a.course_id, c.title, a.workshop_id, w.title, a.lesson_id, l.title,
           a.metadata, a.occurred_at
    FROM public.student_activity a
    LEFT JOIN public.users u ON u.id = a.student_id
    LEFT JOIN public.courses c ON c.id = a.course_id
    LEFT JOIN public.workshops w ON w.id = a.workshop_id
    LEFT JOIN public.course_lessons l ON l.id = a.lesson_id
    WHERE a.instructor_id = p_instructor_id
      AND (p_before IS NULL
           OR (a.occurred_at, a.id) < (p_before, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff')))
      AND public.can_view_instructor(p_instructor_id)
    ORDER BY a.occurred_at DESC, a.id DESC
    LIMIT least(greatest(coalesce(p_limit, 50), 1), 200)
$$;

GRANT EXECUTE ON FUNCTION
    public.get_instructor_dashboard_stats(uuid),
    public.get_instructor_student_progress(uuid, uuid),
    public.get_instructor_revenue_breakdown(uuid, timestamptz, timestamptz),
    public.get_instructor_recent_activity(uuid, integer, timestamptz, uuid)
TO authenticated;
-- The figure definitions are safe to call: invoker rights, RLS applies.
GRANT EXECUTE ON FUNCTION public.course_figures(uuid), public.workshop_figures(uuid),
    public.instructor_figures(uuid), public.progress_figures(uuid), public.platform_fee(numeric, numeric)
TO authenticated;

-- Per course: how engaged its students are. security_invoker, so each reader
-- sees the courses and progress rows RLS lets them see.
CREATE VIEW public.student_engagement_summary WITH (security_invoker = true) AS
SELECT c.id AS course_id,
       c.instructor_id,
       c.title AS course_title,
       count(s.id)::integer AS student_count,
       count(s.id) FILTER (WHERE e.status = 'completed')::integer AS completed_students,
       coalesce(round(avg(s.progress_percentage), 2), 0)::numeric(5,2) AS average_progress,
       coalesce(round(avg(s.engagement_score), 2), 0)::numeric(5,2) AS average_engagement,
       coalesce(round(avg(s.average_quiz_score), 2), 0)::numeric(5,2) AS average_quiz_score,
       count(s.id) FILTER (WHERE s.last_activity_at > now() - interval '7 days')::integer AS active_last_7_days,
       count(s.id) FILTER (WHERE s.progress_percentage < 30 AND s.created_at < now() - interval '7 days'
                           AND e.status IN ('enrolled', 'in_progress'))::integer AS at_risk_students,
       CASE WHEN count(s.id) = 0 THEN 0
            ELSE round(100.0 * count(s.id) FILTER (WHERE e.status = 'completed') / count(s.id), 2)
       END::numeric(5,2) AS completion_rate
FROM public.courses c
LEFT JOIN public.course_enrollments e
       ON e.course_id = c.id AND e.status IN ('enrolled', 'in_progress', 'completed')
LEFT JOIN public.student_progress s ON s.enrollment_id = e.id
-- Only courses whose students the reader may see: a published course of
-- someone else would otherwise show as empty, a wrong figure.
WHERE NOT public.api_caller()
   OR public.has_course_permission(c.id, 'view_content')
   OR public.has_course_permission(c.id, 'manage_students')
   OR c.organization_id = (SELECT public.admin_of_organization())
   OR (SELECT public.is_platform_admin())
GROUP BY c.id, c.instructor_id, c.title;
GRANT SELECT ON public.student_engagement_summary TO authenticated;

-- Monthly figures per instructor, refreshed by maintenance (daily, or after
-- the demo load). A materialized view cannot carry row-level security, so
-- no API role reads it directly: get_instructor_monthly_stats() applies the
-- helper functions' rule.
CREATE MATERIALIZED VIEW public.instructor_monthly_stats AS
WITH months AS (
    SELECT c.instructor_id, date_trunc('month', e.enrolled_at)::date AS month,
           count(*) AS new_enrollments, 0::bigint AS completions, 0::numeric AS gross, 0::numeric AS fees,
           0::numeric AS earnings, 0::bigint AS transactions, 0::bigint AS reviews, NULL::numeric AS rating_sum
    FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
    GROUP BY 1, 2
    UNION ALL
    SELECT c.instructor_id, date_trunc('month', e.completed_at)::date, 0, count(*), 0, 0, 0, 0, 0, NULL
    FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
    WHERE e.completed_at IS NOT NULL
    GROUP BY 1, 2
    UNION ALL
    SELECT r.instructor_id, date_trunc('month', r.transaction_date)::date, 0, 0,
           sum(r.amount), sum(r.platform_fee_amount), sum(r.instructor_earnings), count(*), 0, NULL
    FROM public.revenue_transactions r WHERE r.payment_status = 'completed'
    GROUP BY 1, 2
    UNION ALL
    SELECT c.instructor_id, date_trunc('month', v.created_at)::date, 0, 0, 0, 0, 0, 0, count(*), sum(v.rating)
    FROM public.course_reviews v JOIN public.courses c ON c.id = v.course_id
    WHERE v.is_visible
    GROUP BY 1, 2
)
SELECT instructor_id, month,
       sum(new_enrollments)::integer AS new_enrollments,
       sum(completions)::integer AS completions,
       sum(gross)::numeric(12,2) AS gross_revenue,
       sum(fees)::numeric(12,2) AS platform_fees,
       sum(earnings)::numeric(12,2) AS net_revenue,
       sum(transactions)::integer AS transaction_count,
       sum(reviews)::integer AS new_reviews,
       round(sum(rating_sum) / nullif(sum(reviews), 0), 2)::numeric(3,2) AS average_rating
FROM months
GROUP BY instructor_id, month;
CREATE UNIQUE INDEX uq_instructor_monthly_stats ON public.instructor_monthly_stats (instructor_id, month);
REVOKE ALL ON public.instructor_monthly_stats FROM PUBLIC, anon, authenticated;

CREATE FUNCTION public.get_instructor_monthly_stats(p_instructor_id uuid)
RETURNS SETOF public.instructor_monthly_stats
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT * FROM public.instructor_monthly_stats
    WHERE instructor_id = p_instructor_id AND public.can_view_instructor(p_instructor_id)
    ORDER BY month DESC
$$;
GRANT EXECUTE ON FUNCTION public.get_instructor_monthly_stats(uuid) TO authenticated;

CREATE FUNCTION public.refresh_instructor_monthly_stats() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    REFRESH MATERIALIZED VIEW CONCURRENTLY public.instructor_monthly_stats
$$;

-- Public faces that RLS on the base tables does not give: an instructor's
-- name and profile (users is private), and the outline of a published
-- course (titles and durations, not content). Owner-rights views that
-- select only public columns of public rows.
CREATE VIEW public.public_instructors AS
SELECT u.id, u.full_name, u.avatar_url, p.headline, p.bio, p.expertise_tags, p.pillars,
       p.website_url, p.social_links, p.is_verified, p.is_featured, p.total_students,
       p.total_courses, p.total_workshops, p.average_rating, p.total_reviews
FROM public.users u JOIN public.instructor_profiles p ON p.user_id = u.id
WHERE u.is_active AND u.role = 'instructor';

CREATE VIEW public.course_outline AS
SELECT c.id AS course_id, m.id AS module_id, m.title AS module_title, m.position AS module_position,
       l.id AS lesson_id, l.title AS lesson_title, l.position AS lesson_position,
       l.content_type, l.duration_minutes, l.is_preview
FROM public.courses c
JOIN public.course_modules m ON m.course_id = c.id
LEFT JOIN public.course_lessons l ON l.module_id = m.id
WHERE c.status = 'published';
CREATE VIEW public.course_teachers AS
SELECT c.id AS course_id, c.instructor_id, 'primary'::public.course_instructor_role AS role,
       u.full_name, u.avatar_url
FROM public.courses c JOIN public.users u ON u.id = c.instructor_id
WHERE c.status = 'published'
UNION ALL
SELECT ci.course_id, ci.instructor_id, ci.role, u.full_name, u.avatar_url
FROM public.course_instructors ci
JOIN public.courses c ON c.id = ci.course_id
JOIN public.users u ON u.id = ci.instructor_id
WHERE c.status = 'published';
GRANT SELECT ON public.public_instructors, public.course_outline, public.course_teachers
    TO anon, authenticated;

-- Archive: activity older than the given age moves to private storage (kept
-- for audits, gone from the timeline). Returns the number of rows moved.
CREATE TABLE private.student_activity_archive (LIKE public.student_activity INCLUDING ALL);
ALTER TABLE private.student_activity_archive ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.student_activity_archive FORCE ROW LEVEL SECURITY;

CREATE FUNCTION public.archive_student_activity(p_older_than interval DEFAULT interval '1 year')
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH moved AS (
        DELETE FROM public.student_activity WHERE occurred_at < now() - p_older_than RETURNING *
    ), kept AS (
        INSERT INTO private.student_activity_archive SELECT * FROM moved RETURNING 1
    )
    SELECT count(*) FROM kept
$$;
-- Maintenance functions (rebuild, verify, archive, refresh) are the owner's:
-- no API role is granted EXECUTE on them.
