-- 005: what the student side (issue "Learning") needs from the database.
--
--   1. checkout: a paid enrollment is paid through a checkout (one open at a
--      time per enrollment); the provider's answer arrives as a payment event,
--      recorded once per event id (webhook retries and replays change nothing)
--      and applied by settle_checkout() as service_role.
--   2. the learner's outline: every lesson of a course the caller is enrolled
--      in, with whether it is released and when it will be (drip rules and
--      early unlocks), without exposing a locked lesson's content.
--   3. watch time never exceeds the lesson's length.
--   4. certificates: completing a course that offers one issues a certificate
--      with an unguessable verification code; anyone may verify a code.
--   5. reviews: helpful votes (the count is kept by a trigger) and reports
--      for moderation.
--
-- Rules bind the API roles (anon, authenticated); triggers and maintenance
-- run as the owner, as in 002.

-- 1. checkout -------------------------------------------------------------------

CREATE TYPE public.checkout_status AS ENUM ('open', 'succeeded', 'failed');

CREATE TABLE public.checkouts (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrollment_id  uuid NOT NULL,
    user_id        uuid NOT NULL,
    course_id      uuid NOT NULL,
    -- Which payment provider took it (portal/payments.py): 'test' or 'hosted'.
    provider       text NOT NULL CHECK (provider ~ '^[a-z_]{2,30}$'),
    amount         numeric(12,2) NOT NULL CHECK (amount > 0),
    currency       char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status         public.checkout_status NOT NULL DEFAULT 'open',
    failure_reason text CHECK (char_length(failure_reason) <= 500),
    settled_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (enrollment_id, user_id, course_id)
        REFERENCES public.course_enrollments (id, user_id, course_id) ON DELETE CASCADE,
    CONSTRAINT settled_checkouts_have_a_date CHECK ((status = 'open') = (settled_at IS NULL)),
    CONSTRAINT failed_checkouts_say_why CHECK ((status = 'failed') = (failure_reason IS NOT NULL))
);
CREATE UNIQUE INDEX uq_checkouts_one_open_per_enrollment ON public.checkouts (enrollment_id)
    WHERE status = 'open';
CREATE INDEX idx_checkouts_user ON public.checkouts (user_id, created_at DESC);
CREATE INDEX idx_checkouts_course ON public.checkouts (course_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.checkouts
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- The provider's events, once each: the event id is the idempotency key.
CREATE TABLE public.payment_events (
    event_id    text PRIMARY KEY CHECK (char_length(event_id) BETWEEN 1 AND 200),
    checkout_id uuid REFERENCES public.checkouts (id) ON DELETE SET NULL,
    kind        text NOT NULL CHECK (kind IN ('payment.succeeded', 'payment.failed')),
    -- What applying it did: 'succeeded', 'failed', or 'ignored' (the checkout
    -- had already settled, or is unknown).
    outcome     text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'ignored')),
    payload     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_payment_events_checkout ON public.payment_events (checkout_id);

-- The caller starts (or resumes) paying for their own pending enrollment.
-- Returns the open checkout's id; one open checkout per enrollment, so a
-- double click or a second tab resumes the same one. A checkout is for the
-- price of the day it opened: when the course's price has changed since,
-- the open one is closed and a new one opened at today's price. When the
-- course has become free, nothing is owed: the enrollment is settled as a
-- free one (enrolled, or awaiting approval) and NULL is returned.
CREATE FUNCTION public.start_checkout(p_enrollment_id uuid, p_provider text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    uid uuid := (SELECT auth.uid());
    e record;
    open_checkout record;
    new_id uuid;
BEGIN
    SELECT en.id, en.user_id, en.course_id, en.status, en.payment_status, c.price_amount, c.currency,
           coalesce(s.auto_approve_enrollments, true) AS auto_approve
    INTO e
    FROM public.course_enrollments en
    JOIN public.courses c ON c.id = en.course_id
    LEFT JOIN public.instructor_settings s ON s.user_id = c.instructor_id
    WHERE en.id = p_enrollment_id AND en.user_id = uid
    FOR NO KEY UPDATE OF en;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such enrollment' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF e.payment_status IN ('completed', 'refunded') THEN
        RAISE EXCEPTION '%', CASE WHEN e.price_amount = 0 THEN 'this enrollment has nothing to pay'
                                  ELSE 'this enrollment is already paid' END
            USING ERRCODE = 'check_violation';
    END IF;
    IF e.status <> 'pending' THEN
        RAISE EXCEPTION 'this enrollment has nothing to pay' USING ERRCODE = 'check_violation';
    END IF;
    IF e.price_amount = 0 THEN
        PERFORM public.close_open_checkouts(e.id, 'The course became free: there is nothing to pay.');
        UPDATE public.course_enrollments
        SET payment_status = 'completed',
            status = CASE WHEN e.auto_approve THEN 'enrolled' ELSE 'pending' END::public.enrollment_status
        WHERE id = e.id;
        RETURN NULL;
    END IF;
    SELECT id, amount, currency INTO open_checkout
    FROM public.checkouts WHERE enrollment_id = e.id AND status = 'open' FOR NO KEY UPDATE;
    IF FOUND THEN
        IF (open_checkout.amount, open_checkout.currency) = (e.price_amount, e.currency) THEN
            RETURN open_checkout.id;
        END IF;
        PERFORM public.close_open_checkouts(e.id, 'The price changed: this checkout was closed.');
    END IF;
    INSERT INTO public.checkouts (enrollment_id, user_id, course_id, provider, amount, currency)
    VALUES (e.id, e.user_id, e.course_id, p_provider, e.price_amount, e.currency)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Closes an enrollment's open checkout (a price change, a cancelled
-- enrollment): marked failed with the reason, so a late payment for it is
-- only recorded (apply_payment_event: 'ignored'), never applied.
CREATE FUNCTION public.close_open_checkouts(p_enrollment_id uuid, p_reason text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.checkouts SET status = 'failed', settled_at = now(), failure_reason = p_reason
    WHERE enrollment_id = p_enrollment_id AND status = 'open'
$$;

-- An enrollment that leaves pending otherwise than by being paid (declined,
-- cancelled, refunded) closes its open checkout.
CREATE FUNCTION public.close_checkouts_of_ended_enrollment() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM public.close_open_checkouts(NEW.id, 'The enrollment was ' || NEW.status || ': nothing to pay.');
    RETURN NULL;
END
$$;
CREATE TRIGGER close_checkouts_of_ended_enrollment
    AFTER UPDATE OF status ON public.course_enrollments
    FOR EACH ROW WHEN (NEW.status IN ('cancelled', 'refunded') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION public.close_checkouts_of_ended_enrollment();

-- The payment path (service_role): apply one provider event. A new event id
-- settles its open checkout: success records the payment of the checkout's
-- amount (what the student agreed to pay), moves a pending enrollment on as
-- confirm_course_payment does (enrolled, or awaiting approval), and trigger 9
-- writes the sale; failure marks the payment failed and leaves the enrollment
-- pending for a retry. An event id seen before changes nothing and returns
-- 'duplicate'; an event for a checkout already settled or closed, or for an
-- enrollment that is no longer pending, returns 'ignored' (it stays in
-- payment_events for the back office).
CREATE FUNCTION public.apply_payment_event(p_event_id text, p_checkout_id uuid, p_kind text,
                                           p_reason text DEFAULT NULL,
                                           p_payload jsonb DEFAULT '{}') RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    ch record;
    en record;
    result text;
BEGIN
    -- The event id first: of two deliveries of one event, the second waits
    -- here for the first and then finds it.
    INSERT INTO public.payment_events (event_id, checkout_id, kind, outcome, payload)
    VALUES (p_event_id, NULL, p_kind, 'ignored', coalesce(p_payload, '{}'))
    ON CONFLICT (event_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 'duplicate';
    END IF;
    -- Lock order: enrollment, then checkout (as start_checkout).
    SELECT e.id, e.status, e.payment_status, coalesce(s.auto_approve_enrollments, true) AS auto_approve
    INTO en
    FROM public.course_enrollments e
    JOIN public.checkouts c ON c.enrollment_id = e.id
    JOIN public.courses co ON co.id = e.course_id
    LEFT JOIN public.instructor_settings s ON s.user_id = co.instructor_id
    WHERE c.id = p_checkout_id
    FOR NO KEY UPDATE OF e;
    SELECT * INTO ch FROM public.checkouts WHERE id = p_checkout_id FOR NO KEY UPDATE;
    IF NOT FOUND OR ch.status <> 'open' OR en.status <> 'pending'
       OR en.payment_status IN ('completed', 'refunded') THEN
        result := 'ignored';
    ELSIF p_kind = 'payment.succeeded' THEN
        UPDATE public.checkouts SET status = 'succeeded', settled_at = now() WHERE id = ch.id;
        UPDATE public.course_enrollments
        SET payment_status = 'completed', amount_paid = ch.amount,
            status = CASE WHEN en.auto_approve THEN 'enrolled' ELSE 'pending' END::public.enrollment_status
        WHERE id = en.id;
        result := 'succeeded';
    ELSE
        UPDATE public.checkouts
        SET status = 'failed', settled_at = now(),
            failure_reason = left(coalesce(nullif(btrim(p_reason), ''), 'The payment was declined.'), 500)
        WHERE id = ch.id;
        UPDATE public.course_enrollments SET payment_status = 'failed'
        WHERE id = en.id AND payment_status = 'pending';
        result := 'failed';
    END IF;
    UPDATE public.payment_events
    SET checkout_id = CASE WHEN ch.id IS NULL THEN NULL ELSE ch.id END, outcome = result
    WHERE event_id = p_event_id;
    RETURN result;
END
$$;

ALTER TABLE public.checkouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.checkouts FORCE ROW LEVEL SECURITY;
ALTER TABLE public.payment_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.payment_events FORCE ROW LEVEL SECURITY;
-- Checkouts: the student's own; the course's staff who may see its money or
-- its students; the organization's admin; admins. Written only through the
-- two functions above. Payment events: the back office (service_role) only.
GRANT SELECT ON public.checkouts TO authenticated;
GRANT SELECT ON public.checkouts, public.payment_events TO service_role;
CREATE POLICY checkouts_read ON public.checkouts FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid())
           OR public.has_course_permission(course_id, 'view_revenue')
           OR public.has_course_permission(course_id, 'manage_students')
           OR public.course_organization(course_id) = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()));
REVOKE EXECUTE ON FUNCTION public.start_checkout(uuid, text),
    public.apply_payment_event(text, uuid, text, text, jsonb),
    public.close_open_checkouts(uuid, text), public.close_checkouts_of_ended_enrollment() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.start_checkout(uuid, text) TO authenticated;
GRANT EXECUTE ON FUNCTION public.apply_payment_event(text, uuid, text, text, jsonb) TO service_role;

-- 2. the learner's outline -----------------------------------------------------------

-- When one drip rule opens for an enrollment made at p_enrolled_at (NULL:
-- no rule, open at once). A date opens at midnight in the owner's zone.
CREATE FUNCTION public.drip_rule_opens_at(p_rule jsonb, p_enrolled_at timestamptz, p_timezone text)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE jsonb_typeof(p_rule)
           WHEN 'number' THEN p_enrolled_at + make_interval(days => (p_rule #>> '{}')::int)
           WHEN 'string' THEN ((p_rule #>> '{}')::date)::timestamp AT TIME ZONE p_timezone
           END
$$;

-- Every lesson of the course, in order, for the caller's enrollment in it
-- (any status but refunded: a cancelled student still sees what they did).
-- Titles and kinds only, never a lesson's content: a locked lesson's body
-- stays behind course_lessons' policy. `released` is lesson_released_for()
-- itself; `opens_at` says when a locked lesson opens (NULL when released or
-- when no rule dates it). Empty for anyone not enrolled.
CREATE FUNCTION public.learning_outline(p_course_id uuid)
RETURNS TABLE (module_id uuid, module_title text, module_position integer,
               lesson_id uuid, lesson_title text, lesson_position integer,
               content_type public.lesson_content_type, duration_minutes integer, is_preview boolean,
               released boolean, opens_at timestamptz,
               progress_status public.lesson_progress_status, quiz_score numeric,
               watch_time_seconds integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH en AS (
        SELECT e.id, e.enrolled_at, c.drip_schedule, c.drip_content,
               coalesce((SELECT s.timezone FROM public.instructor_settings s
                         WHERE s.user_id = c.instructor_id), 'UTC') AS tz
        FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
        WHERE e.course_id = p_course_id AND e.user_id = (SELECT auth.uid())
          AND e.status <> 'refunded'
    )
    SELECT m.id, m.title, m.position, l.id, l.title, l.position, l.content_type, l.duration_minutes,
           l.is_preview, r.released,
           CASE WHEN r.released THEN NULL
                ELSE greatest(public.drip_rule_opens_at(en.drip_schedule -> m.id::text, en.enrolled_at, en.tz),
                              public.drip_rule_opens_at(en.drip_schedule -> l.id::text, en.enrolled_at, en.tz))
           END,
           p.status, p.quiz_score, p.watch_time_seconds
    FROM en
    JOIN public.course_modules m ON m.course_id = p_course_id
    JOIN public.course_lessons l ON l.module_id = m.id
    CROSS JOIN LATERAL (SELECT coalesce(public.lesson_released_for(en.id, l.id), false) AS released) r
    LEFT JOIN public.lesson_progress p ON p.enrollment_id = en.id AND p.lesson_id = l.id
    ORDER BY m.position, l.position
$$;
REVOKE EXECUTE ON FUNCTION public.learning_outline(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.learning_outline(uuid) TO authenticated;
GRANT EXECUTE ON FUNCTION public.drip_rule_opens_at(jsonb, timestamptz, text) TO authenticated, service_role;

-- 3. watch time is bounded by the lesson's length --------------------------------------

CREATE FUNCTION public.bound_watch_time() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    NEW.watch_time_seconds := least(NEW.watch_time_seconds,
        (SELECT l.duration_minutes * 60 FROM public.course_lessons l WHERE l.id = NEW.lesson_id));
    RETURN NEW;
END
$$;
CREATE TRIGGER bound_watch_time BEFORE INSERT OR UPDATE OF watch_time_seconds ON public.lesson_progress
    FOR EACH ROW EXECUTE FUNCTION public.bound_watch_time();

-- 4. certificates -------------------------------------------------------------------

CREATE TABLE public.certificates (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    enrollment_id   uuid NOT NULL UNIQUE,
    user_id         uuid NOT NULL,
    course_id       uuid NOT NULL,
    -- 128 random bits as 32 hex digits (gen_random_uuid's; the embedded
    -- server has no pgcrypto): the public verification URL's secret part.
    code            text NOT NULL UNIQUE DEFAULT replace(gen_random_uuid()::text, '-', '')
                    CHECK (code ~ '^[0-9a-f]{32}$'),
    -- What it certifies, as it was on the day: a later rename changes no certificate.
    student_name    text NOT NULL,
    course_title    text NOT NULL,
    instructor_name text NOT NULL,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (enrollment_id, user_id, course_id)
        REFERENCES public.course_enrollments (id, user_id, course_id) ON DELETE CASCADE
);
CREATE INDEX idx_certificates_user ON public.certificates (user_id);
CREATE INDEX idx_certificates_course ON public.certificates (course_id);

-- Issue the enrollment's certificate (once) and store its URL on the progress row.
CREATE FUNCTION public.issue_certificate(p_enrollment_id uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    issued text;
BEGIN
    INSERT INTO public.certificates (enrollment_id, user_id, course_id, student_name, course_title,
                                     instructor_name)
    SELECT e.id, e.user_id, e.course_id, s.full_name, c.title, t.full_name
    FROM public.course_enrollments e
    JOIN public.courses c ON c.id = e.course_id
    JOIN public.users s ON s.id = e.user_id
    JOIN public.users t ON t.id = c.instructor_id
    WHERE e.id = p_enrollment_id
    ON CONFLICT (enrollment_id) DO NOTHING;
    SELECT code INTO issued FROM public.certificates WHERE enrollment_id = p_enrollment_id;
    UPDATE public.student_progress SET certificate_url = '/certificates/' || issued
    WHERE enrollment_id = p_enrollment_id AND certificate_url IS DISTINCT FROM '/certificates/' || issued;
    RETURN issued;
END
$$;

-- Replaces 002's version: completion issues a real certificate.
CREATE OR REPLACE FUNCTION public.advance_enrollment(p_enrollment_id uuid) RETURNS void
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
            PERFORM public.issue_certificate(p_enrollment_id);
        END IF;
    ELSIF e.status = 'enrolled' AND e.last_activity_at IS NOT NULL THEN
        UPDATE public.course_enrollments SET status = 'in_progress' WHERE id = p_enrollment_id;
    END IF;
END
$$;

-- Completions from before this migration get their certificate now.
SELECT public.issue_certificate(e.id)
FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
WHERE e.status = 'completed' AND c.certificate_enabled;

-- Anyone may check a code: the certificate's public facts, or no row.
CREATE FUNCTION public.verify_certificate(p_code text)
RETURNS TABLE (code text, student_name text, course_title text, instructor_name text,
               issued_at timestamptz, course_slug citext, revoked boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    -- revoked: the enrollment behind it was refunded after the certificate was issued.
    SELECT ce.code, ce.student_name, ce.course_title, ce.instructor_name, ce.issued_at,
           CASE WHEN c.status = 'published' THEN c.slug END,
           e.status = 'refunded'
    FROM public.certificates ce
    JOIN public.course_enrollments e ON e.id = ce.enrollment_id
    JOIN public.courses c ON c.id = ce.course_id
    WHERE ce.code = lower(btrim(p_code))
$$;
REVOKE EXECUTE ON FUNCTION public.issue_certificate(uuid), public.verify_certificate(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.verify_certificate(text) TO anon, authenticated, service_role;

ALTER TABLE public.certificates ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.certificates FORCE ROW LEVEL SECURITY;
-- The holder, the course's staff, the organization's admin and admins read
-- the rows; everyone else verifies a code through verify_certificate().
GRANT SELECT ON public.certificates TO authenticated, service_role;
CREATE POLICY certificates_read ON public.certificates FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid())
           OR public.has_course_permission(course_id, 'view_content')
           OR public.has_course_permission(course_id, 'manage_students')
           OR public.course_organization(course_id) = (SELECT public.admin_of_organization())
           OR (SELECT public.is_platform_admin()));

-- 5. reviews: helpful votes and reports ---------------------------------------------------

-- A review the caller may see (SECURITY DEFINER, so policies of other tables can ask).
CREATE FUNCTION public.can_see_review(p_review_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (
        SELECT 1 FROM public.course_reviews r
        WHERE r.id = p_review_id
          AND ((r.is_visible AND public.is_course_published(r.course_id))
               OR r.user_id = (SELECT auth.uid())
               OR public.has_course_permission(r.course_id, 'view_content')
               OR public.has_course_permission(r.course_id, 'respond_reviews')
               OR (SELECT public.is_platform_admin())))
$$;

CREATE FUNCTION public.is_review_author(p_review_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.course_reviews
                   WHERE id = p_review_id AND user_id = (SELECT auth.uid()))
$$;

-- One vote per signed-in user per review, never on one's own.
CREATE TABLE public.review_helpful_votes (
    review_id  uuid NOT NULL REFERENCES public.course_reviews (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL DEFAULT (auth.uid()) REFERENCES public.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, user_id)
);
CREATE INDEX idx_review_helpful_votes_user ON public.review_helpful_votes (user_id);

-- course_reviews.helpful_count follows the votes (+1 / -1 is exact under
-- READ COMMITTED: the row lock orders concurrent voters).
CREATE FUNCTION public.update_review_helpful_count() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE public.course_reviews SET helpful_count = helpful_count + 1 WHERE id = NEW.review_id;
    ELSE
        UPDATE public.course_reviews SET helpful_count = helpful_count - 1
        WHERE id = OLD.review_id AND helpful_count > 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_review_helpful_count AFTER INSERT OR DELETE ON public.review_helpful_votes
    FOR EACH ROW EXECUTE FUNCTION public.update_review_helpful_count();

CREATE TYPE public.review_report_reason AS ENUM ('spam', 'offensive', 'off_topic', 'not_a_review', 'other');

CREATE TABLE public.review_reports (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    review_id   uuid NOT NULL REFERENCES public.course_reviews (id) ON DELETE CASCADE,
    reporter_id uuid NOT NULL DEFAULT (auth.uid()) REFERENCES public.users (id) ON DELETE CASCADE,
    reason      public.review_report_reason NOT NULL,
    details     text CHECK (char_length(details) <= 1000),
    resolved_at timestamptz,
    resolved_by uuid REFERENCES public.users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (review_id, reporter_id),
    CONSTRAINT other_reports_say_why CHECK (reason <> 'other' OR btrim(coalesce(details, '')) <> '')
);
CREATE INDEX idx_review_reports_open ON public.review_reports (created_at) WHERE resolved_at IS NULL;

-- Resolving stamps who and when (the moderation screens come later).
CREATE FUNCTION public.stamp_review_report() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.resolved_at IS DISTINCT FROM OLD.resolved_at THEN
        NEW.resolved_by := CASE WHEN NEW.resolved_at IS NULL THEN NULL ELSE (SELECT auth.uid()) END;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER stamp_review_report BEFORE UPDATE ON public.review_reports
    FOR EACH ROW EXECUTE FUNCTION public.stamp_review_report();

ALTER TABLE public.review_helpful_votes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.review_helpful_votes FORCE ROW LEVEL SECURITY;
ALTER TABLE public.review_reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.review_reports FORCE ROW LEVEL SECURITY;

-- Votes: each voter sees and withdraws their own; admins see all. The
-- count on the review is what everyone else sees.
GRANT SELECT, INSERT (review_id), DELETE ON public.review_helpful_votes TO authenticated;
GRANT SELECT ON public.review_helpful_votes, public.review_reports TO service_role;
CREATE POLICY review_helpful_votes_read ON public.review_helpful_votes FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()) OR (SELECT public.is_platform_admin()));
CREATE POLICY review_helpful_votes_create ON public.review_helpful_votes FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid())
                AND public.can_see_review(review_id)
                AND NOT public.is_review_author(review_id));
CREATE POLICY review_helpful_votes_delete ON public.review_helpful_votes FOR DELETE TO authenticated
    USING (user_id = (SELECT auth.uid()));

-- Reports: the reporter sees their own; admins see, resolve and delete.
GRANT SELECT, INSERT (review_id, reason, details), UPDATE (resolved_at), DELETE
    ON public.review_reports TO authenticated;
CREATE POLICY review_reports_read ON public.review_reports FOR SELECT TO authenticated
    USING (reporter_id = (SELECT auth.uid()) OR (SELECT public.is_platform_admin()));
CREATE POLICY review_reports_create ON public.review_reports FOR INSERT TO authenticated
    WITH CHECK (reporter_id = (SELECT auth.uid())
                AND public.can_see_review(review_id)
                AND NOT public.is_review_author(review_id));
CREATE POLICY review_reports_update ON public.review_reports FOR UPDATE TO authenticated
    USING ((SELECT public.is_platform_admin())) WITH CHECK ((SELECT public.is_platform_admin()));
CREATE POLICY review_reports_delete ON public.review_reports FOR DELETE TO authenticated
    USING ((SELECT public.is_platform_admin()));

REVOKE EXECUTE ON FUNCTION public.can_see_review(uuid), public.is_review_author(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.can_see_review(uuid), public.is_review_author(uuid) TO authenticated;

-- Reviewers as the readers of reviews see them: the first name and the last
-- name's initial ("Sam K."), for visible reviews of published courses only.
-- users rows are private to their owner, so this view (with the owner's
-- rights, like course_teachers) says no more than that.
CREATE VIEW public.review_authors AS
SELECT r.id AS review_id,
       split_part(n.name, ' ', 1)
       || CASE WHEN n.name LIKE '% %' THEN ' ' || upper(left(regexp_replace(n.name, '^.* ', ''), 1)) || '.'
               ELSE '' END AS display_name
FROM public.course_reviews r
JOIN public.courses c ON c.id = r.course_id
JOIN public.users u ON u.id = r.user_id
CROSS JOIN LATERAL (SELECT btrim(regexp_replace(u.full_name, '\s+', ' ', 'g')) AS name) n
WHERE r.is_visible AND c.status = 'published';
GRANT SELECT ON public.review_authors TO anon, authenticated, service_role;

-- helpful_count is a kept figure: verify and rebuild know it. 002's two
-- maintenance functions keep their names and gain this figure; the
-- originals stay as the core they call.
ALTER FUNCTION public.verify_denormalized_figures() RENAME TO verify_core_figures;
ALTER FUNCTION public.rebuild_denormalized_figures(uuid) RENAME TO rebuild_core_figures;

CREATE FUNCTION public.verify_denormalized_figures()
RETURNS TABLE (table_name text, row_id uuid, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT * FROM public.verify_core_figures()
    UNION ALL
    SELECT 'course_reviews', r.id, jsonb_build_object('helpful_count', r.helpful_count),
           jsonb_build_object('helpful_count', v.votes)
    FROM public.course_reviews r
    CROSS JOIN LATERAL (SELECT count(*)::integer AS votes FROM public.review_helpful_votes h
                        WHERE h.review_id = r.id) v
    WHERE r.helpful_count <> v.votes
$$;

CREATE FUNCTION public.rebuild_denormalized_figures(p_instructor_id uuid DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    fixed integer;
    counts integer;
BEGIN
    fixed := public.rebuild_core_figures(p_instructor_id);
    UPDATE public.course_reviews r SET helpful_count = v.votes
    FROM (SELECT r2.id, (SELECT count(*)::integer FROM public.review_helpful_votes h
                         WHERE h.review_id = r2.id) AS votes
          FROM public.course_reviews r2
          JOIN public.courses c ON c.id = r2.course_id
          WHERE p_instructor_id IS NULL OR c.instructor_id = p_instructor_id) v
    WHERE r.id = v.id AND r.helpful_count <> v.votes;
    GET DIAGNOSTICS counts = ROW_COUNT;
    RETURN fixed + counts;
END
$$;
REVOKE EXECUTE ON FUNCTION public.verify_denormalized_figures(),
    public.rebuild_denormalized_figures(uuid) FROM PUBLIC;
