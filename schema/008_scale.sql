-- 008: figures kept by deltas, and the totals the pages read (issue "Scale").
--
-- 002's triggers recompute a figure from all of its source rows after
-- locking the parent, which is exact but costs in proportion to history: a
-- distinct count over every enrollment of an instructor on each enrollment
-- (149x a bare insert on a 39k-student course), and every enrollment of an
-- instructor waiting on one profile row. Here the triggers add and subtract
-- deltas from the old and new row instead:
--
--   course       enrolled, completed, active (enrolled or in progress) and
--                pending counts: +-1 from the enrollment's old and new status;
--                review count and rating sum (average = sum / count): from
--                the review's old and new rating and visibility;
--                revenue, earnings and pending payout: from the revenue row's
--                old and new amounts and statuses.
--   workshop     revenue, earnings and pending payout, as for courses.
--   instructor   total_students: +1 when a student's first enrollment with the
--                instructor arrives, -1 when their last one goes, decided under
--                a transaction lock on (instructor, student) so two enrollments
--                of one student cannot both count; the profile row is written
--                only then, never for a returning student.
--                courses, workshops, rating and reviews: summed from the
--                instructor's course and workshop rows (a handful of rows).
--
-- The from-scratch definitions (course_figures, workshop_figures,
-- instructor_figures, progress_figures) stay the one truth: verify compares
-- every stored figure with them and rebuild writes them, now instructor by
-- instructor (portal db verify / rebuild run one short transaction each).

-- 1. the new kept figures -------------------------------------------------------------
ALTER TABLE public.courses
    ADD COLUMN active_enrollment_count integer NOT NULL DEFAULT 0 CHECK (active_enrollment_count >= 0),
    ADD COLUMN pending_enrollment_count integer NOT NULL DEFAULT 0 CHECK (pending_enrollment_count >= 0),
    ADD COLUMN rating_sum integer NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    ADD COLUMN total_earnings numeric(12,2) NOT NULL DEFAULT 0,
    ADD COLUMN pending_payout numeric(12,2) NOT NULL DEFAULT 0;
ALTER TABLE public.workshops
    ADD COLUMN total_earnings numeric(12,2) NOT NULL DEFAULT 0,
    ADD COLUMN pending_payout numeric(12,2) NOT NULL DEFAULT 0;

-- Pending enrollments of a course: the approvals queue reads them by course.
CREATE INDEX idx_enrollments_pending ON public.course_enrollments (course_id, enrolled_at)
    WHERE status = 'pending';
-- A course's enrollments by date: the dashboard's and the insight page's
-- trends read the last days of the instructor's courses, not every
-- enrollment of the platform since that date. It leads with course_id, so it
-- serves every lookup the single-column index did.
-- user_id is included so the policy's test (user_id, course_id) is answered from
-- the index too: an index-only scan of the last days, not a heap visit a row.
CREATE INDEX idx_course_enrollments_course_enrolled ON public.course_enrollments (course_id, enrolled_at)
    INCLUDE (user_id);
DROP INDEX public.idx_course_enrollments_course;
-- An instructor's settled revenue by date, with what the trend, the breakdown
-- and revenue_transactions' policy read: an index-only scan of the days asked.
CREATE INDEX idx_revenue_instructor_settled ON public.revenue_transactions (instructor_id, transaction_date)
    INCLUDE (transaction_type, amount, platform_fee_amount, instructor_earnings, course_id, workshop_id)
    WHERE payment_status = 'completed';
-- A student's enrollments: the distinct-student delta looks them up.
CREATE INDEX idx_course_enrollments_user_course ON public.course_enrollments (user_id, course_id);
DROP INDEX public.idx_course_enrollments_user;

-- 2. the definitions, extended ---------------------------------------------------------
DROP FUNCTION public.verify_denormalized_figures();
DROP FUNCTION public.verify_core_figures();
DROP FUNCTION public.rebuild_denormalized_figures(uuid);
DROP FUNCTION public.rebuild_core_figures(uuid);
DROP FUNCTION public.course_figures(uuid);
DROP FUNCTION public.workshop_figures(uuid);

CREATE FUNCTION public.course_figures(p_course_id uuid)
RETURNS TABLE (enrolled_count integer, completed_count integer, average_rating numeric(3,2),
               review_count integer, total_revenue numeric(12,2), active_enrollment_count integer,
               pending_enrollment_count integer, rating_sum integer, total_earnings numeric(12,2),
               pending_payout numeric(12,2))
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT e.enrolled, e.completed, r.average, r.reviews, m.revenue, e.active, e.pending, r.ratings,
           m.earnings, m.unpaid
    FROM (SELECT count(*) FILTER (WHERE status IN ('enrolled', 'in_progress', 'completed'))::integer AS enrolled,
                 count(*) FILTER (WHERE status = 'completed')::integer AS completed,
                 count(*) FILTER (WHERE status IN ('enrolled', 'in_progress'))::integer AS active,
                 count(*) FILTER (WHERE status = 'pending')::integer AS pending
          FROM public.course_enrollments WHERE course_id = p_course_id) e,
         (SELECT round(avg(rating), 2)::numeric(3,2) AS average, count(*)::integer AS reviews,
                 coalesce(sum(rating), 0)::integer AS ratings
          FROM public.course_reviews WHERE course_id = p_course_id AND is_visible) r,
         (SELECT coalesce(sum(amount), 0)::numeric(12,2) AS revenue,
                 coalesce(sum(instructor_earnings), 0)::numeric(12,2) AS earnings,
                 coalesce(sum(instructor_earnings) FILTER (WHERE payout_status = 'pending'), 0)::numeric(12,2) AS unpaid
          FROM public.revenue_transactions WHERE course_id = p_course_id AND payment_status = 'completed') m
$$;

CREATE FUNCTION public.workshop_figures(p_workshop_id uuid)
RETURNS TABLE (enrolled_count integer, attended_count integer, average_satisfaction numeric(3,2),
               feedback_count integer, total_revenue numeric(12,2), total_earnings numeric(12,2),
               pending_payout numeric(12,2))
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT
        (SELECT count(*) FROM public.workshop_registrations
         WHERE workshop_id = p_workshop_id AND status IN ('registered', 'attended', 'no_show'))::integer,
        (SELECT count(*) FROM public.workshop_registrations
         WHERE workshop_id = p_workshop_id AND status = 'attended')::integer,
        (SELECT round(avg(overall_satisfaction), 2) FROM public.workshop_feedback
         WHERE workshop_id = p_workshop_id)::numeric(3,2),
        (SELECT count(*) FROM public.workshop_feedback WHERE workshop_id = p_workshop_id)::integer,
        m.revenue, m.earnings, m.unpaid
    FROM (SELECT coalesce(sum(amount), 0)::numeric(12,2) AS revenue,
                 coalesce(sum(instructor_earnings), 0)::numeric(12,2) AS earnings,
                 coalesce(sum(instructor_earnings) FILTER (WHERE payout_status = 'pending'), 0)::numeric(12,2) AS unpaid
          FROM public.revenue_transactions WHERE workshop_id = p_workshop_id AND payment_status = 'completed') m
$$;

-- 3. refresh (recount one parent: maintenance and the rare paths) -------------------------
CREATE OR REPLACE FUNCTION public.refresh_course_figures(p_course_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    f record;
BEGIN
    PERFORM 1 FROM public.courses WHERE id = p_course_id FOR NO KEY UPDATE;
    SELECT * INTO f FROM public.course_figures(p_course_id);
    UPDATE public.courses c
    SET enrolled_count = f.enrolled_count, completed_count = f.completed_count,
        average_rating = f.average_rating, review_count = f.review_count,
        total_revenue = f.total_revenue, active_enrollment_count = f.active_enrollment_count,
        pending_enrollment_count = f.pending_enrollment_count, rating_sum = f.rating_sum,
        total_earnings = f.total_earnings, pending_payout = f.pending_payout
    WHERE c.id = p_course_id
      AND (c.enrolled_count, c.completed_count, c.average_rating, c.review_count, c.total_revenue,
           c.active_enrollment_count, c.pending_enrollment_count, c.rating_sum, c.total_earnings,
           c.pending_payout)
          IS DISTINCT FROM (f.enrolled_count, f.completed_count, f.average_rating, f.review_count,
                            f.total_revenue, f.active_enrollment_count, f.pending_enrollment_count,
                            f.rating_sum, f.total_earnings, f.pending_payout);
    RETURN FOUND;
END
$$;

CREATE OR REPLACE FUNCTION public.refresh_workshop_figures(p_workshop_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    f record;
BEGIN
    PERFORM 1 FROM public.workshops WHERE id = p_workshop_id FOR NO KEY UPDATE;
    SELECT * INTO f FROM public.workshop_figures(p_workshop_id);
    UPDATE public.workshops w
    SET enrolled_count = f.enrolled_count, attended_count = f.attended_count,
        average_satisfaction = f.average_satisfaction, feedback_count = f.feedback_count,
        total_revenue = f.total_revenue, total_earnings = f.total_earnings, pending_payout = f.pending_payout
    WHERE w.id = p_workshop_id
      AND (w.enrolled_count, w.attended_count, w.average_satisfaction, w.feedback_count, w.total_revenue,
           w.total_earnings, w.pending_payout)
          IS DISTINCT FROM (f.enrolled_count, f.attended_count, f.average_satisfaction, f.feedback_count,
                            f.total_revenue, f.total_earnings, f.pending_payout);
    RETURN FOUND;
END
$$;

-- The instructor's figures but total_students, from their course and
-- workshop rows (kept figures: a few rows, whatever the history).
CREATE FUNCTION public.refresh_instructor_summary(p_instructor_id uuid) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.instructor_profiles p
    SET total_courses = f.courses, total_workshops = f.workshops, average_rating = f.rating,
        total_reviews = f.reviews
    FROM (SELECT
            (SELECT count(*) FROM public.courses
             WHERE instructor_id = p_instructor_id AND status = 'published')::integer AS courses,
            (SELECT count(*) FROM public.workshops
             WHERE instructor_id = p_instructor_id AND status IN ('published', 'completed'))::integer AS workshops,
            r.rating, r.reviews
          FROM (SELECT round(sum(rating_sum)::numeric / nullif(sum(review_count), 0), 2)::numeric(3,2) AS rating,
                       coalesce(sum(review_count), 0)::integer AS reviews
                FROM public.courses WHERE instructor_id = p_instructor_id) r) f
    WHERE p.user_id = p_instructor_id
      AND (p.total_courses, p.total_workshops, p.average_rating, p.total_reviews)
          IS DISTINCT FROM (f.courses, f.workshops, f.rating, f.reviews);
    RETURN FOUND;
END
$$;

-- 4. the triggers, by delta -------------------------------------------------------------

-- Counts an enrollment status moves: (enrolled, completed, active, pending).
CREATE FUNCTION public.enrollment_weights(p_status public.enrollment_status)
RETURNS integer[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY[(p_status IN ('enrolled', 'in_progress', 'completed'))::integer,
                 (p_status = 'completed')::integer,
                 (p_status IN ('enrolled', 'in_progress'))::integer,
                 (p_status = 'pending')::integer]
$$;

-- Trigger 4: the course's enrollment counts by delta.
CREATE OR REPLACE FUNCTION public.update_course_enrollment_stats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    plus integer[] := CASE WHEN TG_OP = 'DELETE' THEN '{0,0,0,0}' ELSE public.enrollment_weights(NEW.status) END;
    minus integer[] := CASE WHEN TG_OP = 'INSERT' THEN '{0,0,0,0}' ELSE public.enrollment_weights(OLD.status) END;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.course_id IS DISTINCT FROM OLD.course_id THEN
        PERFORM public.refresh_course_figures(OLD.course_id);
        PERFORM public.refresh_course_figures(NEW.course_id);
        RETURN NULL;
    END IF;
    IF plus = minus THEN
        RETURN NULL;
    END IF;
    UPDATE public.courses
    SET enrolled_count = enrolled_count + plus[1] - minus[1],
        completed_count = completed_count + plus[2] - minus[2],
        active_enrollment_count = active_enrollment_count + plus[3] - minus[3],
        pending_enrollment_count = pending_enrollment_count + plus[4] - minus[4]
    WHERE id = coalesce(NEW.course_id, OLD.course_id);
    RETURN NULL;
END
$$;

-- A student's first enrollment with an instructor counts them once; their
-- last one leaving uncounts them. The lock on (instructor, student) makes a
-- concurrent second enrollment of the same student wait for the first, then
-- see it (each plpgsql statement takes a fresh snapshot).
CREATE FUNCTION public.count_student(p_instructor_id uuid, p_student_id uuid, p_delta integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    -- After an insert the new enrollment is one of them; after a delete, gone.
    alone constant integer := CASE WHEN p_delta > 0 THEN 1 ELSE 0 END;
BEGIN
    PERFORM pg_advisory_xact_lock(4008, hashtext(p_instructor_id::text || p_student_id::text));
    IF (SELECT count(*) FROM public.course_enrollments e JOIN public.courses c ON c.id = e.course_id
        WHERE e.user_id = p_student_id AND c.instructor_id = p_instructor_id) = alone THEN
        UPDATE public.instructor_profiles SET total_students = total_students + p_delta
        WHERE user_id = p_instructor_id;
    END IF;
END
$$;

-- Trigger 8: on enrollments, the distinct-student delta; on courses and
-- workshops, the instructor's summary when status or owner moves (and the
-- full recount of students when a course changes owner, which is rare).
CREATE OR REPLACE FUNCTION public.update_instructor_stats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_TABLE_NAME = 'course_enrollments' THEN
        IF TG_OP = 'INSERT' THEN
            PERFORM public.count_student((SELECT instructor_id FROM public.courses WHERE id = NEW.course_id),
                                         NEW.user_id, 1);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM public.count_student((SELECT instructor_id FROM public.courses WHERE id = OLD.course_id),
                                         OLD.user_id, -1);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status
       AND NEW.instructor_id IS NOT DISTINCT FROM OLD.instructor_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.instructor_id IS DISTINCT FROM OLD.instructor_id THEN
        PERFORM public.refresh_instructor_figures(OLD.instructor_id);
        PERFORM public.refresh_instructor_figures(NEW.instructor_id);
    ELSE
        PERFORM public.refresh_instructor_summary(coalesce(NEW.instructor_id, OLD.instructor_id));
    END IF;
    RETURN NULL;
END
$$;

-- Trigger 6: a review moves its course's count and rating sum, then the
-- instructor's summary (course before instructor, the lock order).
CREATE OR REPLACE FUNCTION public.update_course_rating() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    changed_course uuid := coalesce(NEW.course_id, OLD.course_id);
    plus_n integer := CASE WHEN TG_OP <> 'DELETE' AND NEW.is_visible THEN 1 ELSE 0 END;
    minus_n integer := CASE WHEN TG_OP <> 'INSERT' AND OLD.is_visible THEN 1 ELSE 0 END;
    plus_sum integer := CASE WHEN TG_OP <> 'DELETE' AND NEW.is_visible THEN NEW.rating ELSE 0 END;
    minus_sum integer := CASE WHEN TG_OP <> 'INSERT' AND OLD.is_visible THEN OLD.rating ELSE 0 END;
    owner uuid;
BEGIN
    IF (plus_n, plus_sum) IS DISTINCT FROM (minus_n, minus_sum) THEN
        UPDATE public.courses
        SET review_count = review_count + plus_n - minus_n,
            rating_sum = rating_sum + plus_sum - minus_sum,
            average_rating = round((rating_sum + plus_sum - minus_sum)::numeric
                                   / nullif(review_count + plus_n - minus_n, 0), 2)
        WHERE id = changed_course
        RETURNING instructor_id INTO owner;
        PERFORM public.refresh_instructor_summary(owner);
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM public.log_activity('review_posted', NEW.user_id, NEW.course_id, NULL, NULL,
                                    jsonb_build_object('rating', NEW.rating, 'review_id', NEW.id));
    END IF;
    RETURN NULL;
END
$$;

-- Money: a revenue row moves its course's or workshop's revenue (gross of
-- settled rows), earnings and pending payout (earnings not yet paid out).
CREATE FUNCTION public.update_revenue_figures() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    settled_new boolean := TG_OP <> 'DELETE' AND NEW.payment_status = 'completed';
    settled_old boolean := TG_OP <> 'INSERT' AND OLD.payment_status = 'completed';
    d_amount numeric(12,2) := 0;
    d_earnings numeric(12,2) := 0;
    d_unpaid numeric(12,2) := 0;
BEGIN
    IF settled_new THEN
        d_amount := NEW.amount;
        d_earnings := NEW.instructor_earnings;
        d_unpaid := CASE WHEN NEW.payout_status = 'pending' THEN NEW.instructor_earnings ELSE 0 END;
    END IF;
    IF settled_old THEN
        d_amount := d_amount - OLD.amount;
        d_earnings := d_earnings - OLD.instructor_earnings;
        d_unpaid := d_unpaid - CASE WHEN OLD.payout_status = 'pending' THEN OLD.instructor_earnings ELSE 0 END;
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.course_id, NEW.workshop_id) IS DISTINCT FROM (OLD.course_id, OLD.workshop_id) THEN
        PERFORM public.refresh_course_figures(c) FROM unnest(ARRAY[OLD.course_id, NEW.course_id]) c WHERE c IS NOT NULL;
        PERFORM public.refresh_workshop_figures(w) FROM unnest(ARRAY[OLD.workshop_id, NEW.workshop_id]) w WHERE w IS NOT NULL;
        RETURN NULL;
    END IF;
    IF (d_amount, d_earnings, d_unpaid) = (0, 0, 0) THEN
        RETURN NULL;
    END IF;
    IF coalesce(NEW.course_id, OLD.course_id) IS NOT NULL THEN
        UPDATE public.courses
        SET total_revenue = total_revenue + d_amount, total_earnings = total_earnings + d_earnings,
            pending_payout = pending_payout + d_unpaid
        WHERE id = coalesce(NEW.course_id, OLD.course_id);
    ELSIF coalesce(NEW.workshop_id, OLD.workshop_id) IS NOT NULL THEN
        UPDATE public.workshops
        SET total_revenue = total_revenue + d_amount, total_earnings = total_earnings + d_earnings,
            pending_payout = pending_payout + d_unpaid
        WHERE id = coalesce(NEW.workshop_id, OLD.workshop_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_revenue_figures AFTER INSERT OR UPDATE OR DELETE ON public.revenue_transactions
    FOR EACH ROW EXECUTE FUNCTION public.update_revenue_figures();

-- Trigger 5 and 7 recount one workshop's registrations and feedback (a
-- workshop is bounded by its capacity), but no longer its money, which the
-- revenue rows move.
CREATE OR REPLACE FUNCTION public.update_workshop_registration_stats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    kind public.activity_type;
    changed_workshop uuid := coalesce(NEW.workshop_id, OLD.workshop_id);
BEGIN
    PERFORM 1 FROM public.workshops WHERE id = changed_workshop FOR NO KEY UPDATE;
    UPDATE public.workshops w
    SET enrolled_count = f.enrolled_count, attended_count = f.attended_count
    FROM public.workshop_figures(changed_workshop) f
    WHERE w.id = changed_workshop
      AND (w.enrolled_count, w.attended_count) IS DISTINCT FROM (f.enrolled_count, f.attended_count);
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

-- 4b. the insight page's figures, kept on the lesson and module rows: how many
--     enrollments completed the lesson, and how many completed every lesson of
--     the module, whatever the enrollment's status now. The page subtracts the
--     few enrollments that are no longer active (cancelled or refunded), so an
--     enrollment's status change writes nothing here, and a completion locks
--     lesson, then module, then enrollment: the order the instructor's edits
--     of a lesson take too (lesson row, then the course's enrollments).
ALTER TABLE public.course_lessons
    ADD COLUMN completed_count integer NOT NULL DEFAULT 0 CHECK (completed_count >= 0);
ALTER TABLE public.course_modules
    ADD COLUMN completed_count integer NOT NULL DEFAULT 0 CHECK (completed_count >= 0);
-- The enrollments of a course that are not active: what the page subtracts.
CREATE INDEX idx_enrollments_inactive ON public.course_enrollments (course_id)
    WHERE status NOT IN ('enrolled', 'in_progress', 'completed');

CREATE FUNCTION public.lesson_completed_count(p_lesson_id uuid) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT count(*)::integer FROM public.lesson_progress
    WHERE lesson_id = p_lesson_id AND status = 'completed'
$$;

-- Enrollments that completed every lesson of the module (none without lessons).
CREATE FUNCTION public.module_completed_count(p_module_id uuid) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT count(*)::integer FROM (
        SELECT p.enrollment_id
        FROM public.lesson_progress p JOIN public.course_lessons l ON l.id = p.lesson_id
        WHERE l.module_id = p_module_id AND p.status = 'completed'
        GROUP BY p.enrollment_id
        HAVING count(*) = (SELECT count(*) FROM public.course_lessons WHERE module_id = p_module_id)
    ) done
$$;

CREATE FUNCTION public.recount_module(p_module_id uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE public.course_modules SET completed_count = public.module_completed_count(id)
    WHERE id = p_module_id AND completed_count <> public.module_completed_count(id)
$$;

-- A lesson completed (or no longer) by an enrollment: the lesson's count,
-- and the module's when every other lesson of it is done by that enrollment.
-- Progress deleted with its enrollment is left to take_back_completions.
CREATE FUNCTION public.update_completion_figures() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    was boolean := TG_OP <> 'INSERT' AND OLD.status = 'completed';
    done boolean := TG_OP <> 'DELETE' AND NEW.status = 'completed';
    lesson uuid := coalesce(NEW.lesson_id, OLD.lesson_id);
    enrollment uuid := coalesce(NEW.enrollment_id, OLD.enrollment_id);
    step integer := CASE WHEN done THEN 1 ELSE -1 END;
    module uuid;
BEGIN
    IF was = done OR (TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM public.course_enrollments
                                                        WHERE id = enrollment)) THEN
        RETURN NULL;
    END IF;
    UPDATE public.course_lessons SET completed_count = completed_count + step
    WHERE id = lesson RETURNING module_id INTO module;
    IF NOT FOUND THEN
        RETURN NULL;   -- the lesson itself is going; its module is recounted then
    END IF;
    -- bool_and of no other lesson is NULL: a one-lesson module follows its lesson.
    IF (SELECT bool_and(p.status IS NOT DISTINCT FROM 'completed')
        FROM public.course_lessons l
        LEFT JOIN public.lesson_progress p ON p.lesson_id = l.id AND p.enrollment_id = enrollment
        WHERE l.module_id = module AND l.id <> lesson) IS NOT FALSE THEN
        UPDATE public.course_modules SET completed_count = completed_count + step WHERE id = module;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_completion_figures AFTER INSERT OR DELETE OR UPDATE OF status ON public.lesson_progress
    FOR EACH ROW EXECUTE FUNCTION public.update_completion_figures();

-- An enrollment deleted (a platform admin's act) takes its completions back
-- while its progress rows are still there (the cascade runs after).
CREATE FUNCTION public.take_back_completions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.course_modules m SET completed_count = m.completed_count - 1
    WHERE m.course_id = OLD.course_id
      AND EXISTS (SELECT 1 FROM public.course_lessons l WHERE l.module_id = m.id)
      AND NOT EXISTS (SELECT 1 FROM public.course_lessons l
                      LEFT JOIN public.lesson_progress p ON p.lesson_id = l.id AND p.enrollment_id = OLD.id
                      WHERE l.module_id = m.id AND p.status IS DISTINCT FROM 'completed');
    UPDATE public.course_lessons l SET completed_count = l.completed_count - 1
    FROM public.lesson_progress p
    WHERE p.lesson_id = l.id AND p.enrollment_id = OLD.id AND p.status = 'completed';
    RETURN OLD;
END
$$;
CREATE TRIGGER take_back_completions BEFORE DELETE ON public.course_enrollments
    FOR EACH ROW EXECUTE FUNCTION public.take_back_completions();

-- A lesson added to a module: no one has completed the module any more.
-- Removed or moved: its modules are recounted (an instructor's rare edit).
CREATE FUNCTION public.update_module_completion() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE public.course_modules SET completed_count = 0 WHERE id = NEW.module_id AND completed_count <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.recount_module(OLD.module_id);
    ELSIF NEW.module_id IS DISTINCT FROM OLD.module_id THEN
        PERFORM public.recount_module(m) FROM unnest(ARRAY[OLD.module_id, NEW.module_id]) m ORDER BY m;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_module_completion AFTER INSERT OR DELETE OR UPDATE OF module_id ON public.course_lessons
    FOR EACH ROW EXECUTE FUNCTION public.update_module_completion();

-- What a course's inactive enrollments (cancelled, refunded) completed, per
-- lesson and per module: the insight page subtracts it from the kept counts.
-- For those who may view the course's content (its teachers with
-- view_content, its organization's admin, admins), computed as the owner:
-- the rows are few, but under the policies of three tables the planner read
-- the whole course (16x the owner's time at 100k).
CREATE FUNCTION public.inactive_completions(p_course_id uuid)
RETURNS TABLE (kind text, item uuid, n integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH allowed AS (
        SELECT p_course_id = ANY (rls.course_ids('{view_content}')) OR rls.is_admin()
            OR EXISTS (SELECT 1 FROM public.courses c
                       WHERE c.id = p_course_id AND c.organization_id = rls.admin_org()) AS ok
    ), inactive AS (
        SELECT p.enrollment_id, l.id AS lesson_id, l.module_id
        FROM public.course_enrollments e
        JOIN public.lesson_progress p ON p.enrollment_id = e.id AND p.status = 'completed'
        JOIN public.course_lessons l ON l.id = p.lesson_id
        WHERE e.course_id = p_course_id AND e.status NOT IN ('enrolled', 'in_progress', 'completed')
          AND (SELECT ok FROM allowed)
    ), modules AS (
        SELECT i.module_id, i.enrollment_id FROM inactive i
        GROUP BY i.module_id, i.enrollment_id
        HAVING count(*) = (SELECT count(*) FROM public.course_lessons WHERE module_id = i.module_id)
    )
    SELECT 'lesson', lesson_id, count(*)::integer FROM inactive GROUP BY lesson_id
    UNION ALL
    SELECT 'module', module_id, count(*)::integer FROM modules GROUP BY module_id
$$;

REVOKE ALL ON FUNCTION public.lesson_completed_count(uuid), public.module_completed_count(uuid),
    public.recount_module(uuid), public.update_completion_figures(), public.take_back_completions(),
    public.update_module_completion()
FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.inactive_completions(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.inactive_completions(uuid) TO authenticated;
-- Read like the rest of a lesson (course_modules' SELECT is table-wide already).
GRANT SELECT (completed_count) ON public.course_lessons TO anon, authenticated;

-- 5. verify and rebuild, per instructor ----------------------------------------------------

-- Every row whose stored figures differ from their recomputation, for one
-- instructor (their courses, workshops, profile, students' progress and
-- reviews) or, with NULL, for all.
CREATE FUNCTION public.verify_denormalized_figures(p_instructor_id uuid DEFAULT NULL)
RETURNS TABLE (table_name text, row_id uuid, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT 'courses', c.id,
           jsonb_build_object('enrolled_count', c.enrolled_count, 'completed_count', c.completed_count,
                              'average_rating', c.average_rating, 'review_count', c.review_count,
                              'total_revenue', c.total_revenue,
                              'active_enrollment_count', c.active_enrollment_count,
                              'pending_enrollment_count', c.pending_enrollment_count,
                              'rating_sum', c.rating_sum, 'total_earnings', c.total_earnings,
                              'pending_payout', c.pending_payout),
           to_jsonb(f)
    FROM public.courses c CROSS JOIN LATERAL public.course_figures(c.id) f
    WHERE (p_instructor_id IS NULL OR c.instructor_id = p_instructor_id)
      AND (c.enrolled_count, c.completed_count, c.average_rating, c.review_count, c.total_revenue,
           c.active_enrollment_count, c.pending_enrollment_count, c.rating_sum, c.total_earnings,
           c.pending_payout)
          IS DISTINCT FROM (f.enrolled_count, f.completed_count, f.average_rating, f.review_count,
                            f.total_revenue, f.active_enrollment_count, f.pending_enrollment_count,
                            f.rating_sum, f.total_earnings, f.pending_payout)
    UNION ALL
    SELECT 'workshops', w.id,
           jsonb_build_object('enrolled_count', w.enrolled_count, 'attended_count', w.attended_count,
                              'average_satisfaction', w.average_satisfaction,
                              'feedback_count', w.feedback_count, 'total_revenue', w.total_revenue,
                              'total_earnings', w.total_earnings, 'pending_payout', w.pending_payout),
           to_jsonb(f)
    FROM public.workshops w CROSS JOIN LATERAL public.workshop_figures(w.id) f
    WHERE (p_instructor_id IS NULL OR w.instructor_id = p_instructor_id)
      AND (w.enrolled_count, w.attended_count, w.average_satisfaction, w.feedback_count, w.total_revenue,
           w.total_earnings, w.pending_payout)
          IS DISTINCT FROM (f.enrolled_count, f.attended_count, f.average_satisfaction, f.feedback_count,
                            f.total_revenue, f.total_earnings, f.pending_payout)
    UNION ALL
    SELECT 'instructor_profiles', p.user_id,
           jsonb_build_object('total_students', p.total_students, 'total_courses', p.total_courses,
                              'total_workshops', p.total_workshops, 'average_rating', p.average_rating,
                              'total_reviews', p.total_reviews),
           to_jsonb(f)
    FROM public.instructor_profiles p CROSS JOIN LATERAL public.instructor_figures(p.user_id) f
    WHERE (p_instructor_id IS NULL OR p.user_id = p_instructor_id)
      AND (p.total_students, p.total_courses, p.total_workshops, p.average_rating, p.total_reviews)
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
    JOIN public.courses c ON c.id = e.course_id
    LEFT JOIN public.student_progress s ON s.enrollment_id = e.id
    CROSS JOIN LATERAL public.progress_figures(e.id) f
    WHERE (p_instructor_id IS NULL OR c.instructor_id = p_instructor_id)
      AND (s.id IS NULL
       OR (s.total_lessons, s.completed_lessons, s.progress_percentage, s.total_watch_time_seconds,
           s.last_activity_at, s.total_quizzes, s.passed_quizzes, s.average_quiz_score, s.engagement_score)
          IS DISTINCT FROM
          (f.total_lessons, f.completed_lessons, f.progress_percentage, f.total_watch_time_seconds,
           f.last_activity_at, f.total_quizzes, f.passed_quizzes, f.average_quiz_score, f.engagement_score))
    UNION ALL
    SELECT 'course_lessons', l.id, jsonb_build_object('completed_count', l.completed_count),
           jsonb_build_object('completed_count', coalesce(d.n, 0))
    FROM public.course_lessons l JOIN public.courses c ON c.id = l.course_id
    LEFT JOIN (SELECT p.lesson_id, count(*)::integer AS n
               FROM public.courses c2
               JOIN public.course_lessons l2 ON l2.course_id = c2.id
               JOIN public.lesson_progress p ON p.lesson_id = l2.id AND p.status = 'completed'
               WHERE p_instructor_id IS NULL OR c2.instructor_id = p_instructor_id
               GROUP BY p.lesson_id) d ON d.lesson_id = l.id
    WHERE (p_instructor_id IS NULL OR c.instructor_id = p_instructor_id)
      AND l.completed_count <> coalesce(d.n, 0)
    UNION ALL
    -- (as module_completed_count(), for all the modules at once)
    SELECT 'course_modules', m.id, jsonb_build_object('completed_count', m.completed_count),
           jsonb_build_object('completed_count', coalesce(d.n, 0))
    FROM public.course_modules m JOIN public.courses c ON c.id = m.course_id
    LEFT JOIN (SELECT done.module_id, count(*)::integer AS n
               FROM (SELECT l2.module_id, p.enrollment_id, count(*) AS lessons_done
                     FROM public.courses c2
                     JOIN public.course_lessons l2 ON l2.course_id = c2.id
                     JOIN public.lesson_progress p ON p.lesson_id = l2.id AND p.status = 'completed'
                     WHERE p_instructor_id IS NULL OR c2.instructor_id = p_instructor_id
                     GROUP BY l2.module_id, p.enrollment_id) done
               JOIN (SELECT l3.module_id, count(*) AS lessons
                     FROM public.courses c3 JOIN public.course_lessons l3 ON l3.course_id = c3.id
                     WHERE p_instructor_id IS NULL OR c3.instructor_id = p_instructor_id
                     GROUP BY l3.module_id) size
                 ON size.module_id = done.module_id AND size.lessons = done.lessons_done
               GROUP BY done.module_id) d ON d.module_id = m.id
    WHERE (p_instructor_id IS NULL OR c.instructor_id = p_instructor_id)
      AND m.completed_count <> coalesce(d.n, 0)
    UNION ALL
    SELECT 'course_reviews', r.id, jsonb_build_object('helpful_count', r.helpful_count),
           jsonb_build_object('helpful_count', v.votes)
    FROM public.course_reviews r
    JOIN public.courses c ON c.id = r.course_id
    CROSS JOIN LATERAL (SELECT count(*)::integer AS votes FROM public.review_helpful_votes h
                        WHERE h.review_id = r.id) v
    WHERE (p_instructor_id IS NULL OR c.instructor_id = p_instructor_id)
      AND r.helpful_count <> v.votes
$$;

-- Rewrites every figure of one instructor (or of all), in the triggers'
-- lock order: enrollments, then courses and workshops, then the profile.
-- Returns how many rows it corrected.
CREATE FUNCTION public.rebuild_denormalized_figures(p_instructor_id uuid DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    who uuid;
    item uuid;
    fixed integer := 0;
    counts integer;
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

        UPDATE public.course_lessons l SET completed_count = public.lesson_completed_count(l.id)
        FROM public.courses c
        WHERE c.id = l.course_id AND c.instructor_id = who
          AND l.completed_count <> public.lesson_completed_count(l.id);
        GET DIAGNOSTICS counts = ROW_COUNT;
        fixed := fixed + counts;
        UPDATE public.course_modules m SET completed_count = public.module_completed_count(m.id)
        FROM public.courses c
        WHERE c.id = m.course_id AND c.instructor_id = who
          AND m.completed_count <> public.module_completed_count(m.id);
        GET DIAGNOSTICS counts = ROW_COUNT;
        fixed := fixed + counts;

        UPDATE public.course_reviews r SET helpful_count = v.votes
        FROM (SELECT r2.id, (SELECT count(*)::integer FROM public.review_helpful_votes h
                             WHERE h.review_id = r2.id) AS votes
              FROM public.course_reviews r2 JOIN public.courses c ON c.id = r2.course_id
              WHERE c.instructor_id = who) v
        WHERE r.id = v.id AND r.helpful_count <> v.votes;
        GET DIAGNOSTICS counts = ROW_COUNT;
        fixed := fixed + counts;
    END LOOP;
    RETURN fixed;
END
$$;

-- 6. what the pages read --------------------------------------------------------------

-- Dashboard cards from kept figures only: the profile row, and a sum over
-- the instructor's course and workshop rows for money and active
-- enrollments. An organization's admin gets the money of that
-- organization's courses and workshops only.
CREATE OR REPLACE FUNCTION public.get_instructor_dashboard_stats(p_instructor_id uuid)
RETURNS TABLE (total_students integer, total_courses integer, total_workshops integer,
               total_revenue numeric(12,2), pending_revenue numeric(12,2),
               average_rating numeric(3,2), total_reviews integer,
               active_enrollments integer, upcoming_workshops integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH viewer AS (
        SELECT p_instructor_id = rls.uid() OR rls.is_admin() AS everything, rls.admin_org() AS org
    ), mine AS (
        SELECT c.total_earnings AS earnings, c.pending_payout AS unpaid, c.active_enrollment_count AS active
        FROM public.courses c, viewer v
        WHERE c.instructor_id = p_instructor_id AND (v.everything OR c.organization_id = v.org)
        UNION ALL
        SELECT w.total_earnings, w.pending_payout, 0
        FROM public.workshops w, viewer v
        WHERE w.instructor_id = p_instructor_id AND (v.everything OR w.organization_id = v.org)
    )
    SELECT p.total_students, p.total_courses, p.total_workshops,
           (SELECT coalesce(sum(earnings), 0) FROM mine)::numeric(12,2),
           (SELECT coalesce(sum(unpaid), 0) FROM mine)::numeric(12,2),
           p.average_rating, p.total_reviews,
           (SELECT coalesce(sum(active), 0) FROM mine)::integer,
           (SELECT count(*) FROM public.workshops w
            WHERE w.instructor_id = p_instructor_id AND w.status = 'published'
              AND w.start_time > now())::integer
    FROM public.instructor_profiles p
    WHERE p.user_id = p_instructor_id AND public.can_view_instructor(p_instructor_id)
$$;

-- Enrollments waiting for the caller's approval: the kept pending counts of
-- the courses they may manage.
CREATE FUNCTION public.pending_approvals_count() RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(sum(c.pending_enrollment_count), 0)::integer FROM public.courses c
    WHERE c.id = ANY (rls.course_ids('{manage_students}'))
$$;

-- Students of one course (or all the instructor's courses), one page at a
-- time: most recently active first, keyed on (last activity, enrollment id)
-- so a page never rereads what came before.
CREATE FUNCTION public.get_instructor_student_progress_page(
        p_instructor_id uuid, p_course_id uuid DEFAULT NULL, p_limit integer DEFAULT 50,
        p_before_activity timestamptz DEFAULT NULL, p_before_id uuid DEFAULT NULL)
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
    FROM public.student_progress s
    JOIN public.course_enrollments e ON e.id = s.enrollment_id
    JOIN public.courses c ON c.id = s.course_id
    LEFT JOIN public.users u ON u.id = e.user_id
    WHERE s.course_id = ANY (CASE WHEN p_course_id IS NULL
                                  THEN (SELECT array_agg(x.id) FROM public.courses x
                                        WHERE x.instructor_id = p_instructor_id)
                                  ELSE ARRAY[p_course_id] END)
      AND (SELECT public.can_view_instructor(p_instructor_id))
      AND (p_before_id IS NULL
           OR (coalesce(s.last_activity_at, '-infinity'), s.enrollment_id)
              < (coalesce(p_before_activity, '-infinity'), p_before_id))
    ORDER BY coalesce(s.last_activity_at, '-infinity') DESC, s.enrollment_id DESC
    LIMIT least(greatest(coalesce(p_limit, 50), 1), 200)
$$;
CREATE INDEX idx_student_progress_course_recent
    ON public.student_progress (course_id, (coalesce(last_activity_at, '-infinity')) DESC, enrollment_id DESC);

-- The helpers of 002, with the permission test evaluated once per statement
-- (an initplan) instead of once per row, and the courses of an instructor
-- taken as a set (an OR across a join to co-instructors scanned them all).
-- Bodies otherwise 002's.
CREATE OR REPLACE FUNCTION public.get_instructor_student_progress(p_instructor_id uuid, p_course_id uuid DEFAULT NULL)
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
    WHERE c.id = ANY (ARRAY(SELECT x.id FROM public.courses x
                            WHERE x.instructor_id = p_instructor_id
                            UNION
                            SELECT ci.course_id FROM public.course_instructors ci
                            WHERE ci.instructor_id = p_instructor_id))
      AND (p_course_id IS NULL OR c.id = p_course_id)
      AND (SELECT public.can_view_instructor(p_instructor_id))
    ORDER BY s.last_activity_at DESC NULLS LAST, e.enrolled_at DESC
$$;

CREATE OR REPLACE FUNCTION public.get_instructor_revenue_breakdown(p_instructor_id uuid,
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
      AND (SELECT public.can_view_instructor(p_instructor_id))
    GROUP BY r.transaction_type
    ORDER BY r.transaction_type
$$;

CREATE OR REPLACE FUNCTION public.get_instructor_recent_activity(p_instructor_id uuid, p_limit integer DEFAULT 50,
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
      AND (SELECT public.can_view_instructor(p_instructor_id))
    ORDER BY a.occurred_at DESC, a.id DESC
    LIMIT least(greatest(coalesce(p_limit, 50), 1), 200)
$$;

REVOKE ALL ON FUNCTION public.course_figures(uuid), public.workshop_figures(uuid),
    public.refresh_instructor_summary(uuid), public.enrollment_weights(public.enrollment_status),
    public.count_student(uuid, uuid, integer), public.update_revenue_figures(),
    public.verify_denormalized_figures(uuid), public.rebuild_denormalized_figures(uuid),
    public.pending_approvals_count(), public.get_instructor_student_progress_page(uuid, uuid, integer, timestamptz, uuid)
FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.pending_approvals_count(),
    public.get_instructor_student_progress_page(uuid, uuid, integer, timestamptz, uuid)
TO authenticated;

-- The new figures start right: one recount of everything, once.
SELECT public.rebuild_denormalized_figures();

-- Of the new course figures, the public ones are read like enrolled_count;
-- money and the approval queue's size are not (functions answer them).
GRANT SELECT (active_enrollment_count, rating_sum) ON public.courses TO anon, authenticated;
