-- 009: stable refusal codes (issue "One kit": refusals).
--
-- Until now a page told one refusal from another by matching the words of a
-- RAISE ("was refunded", "their own course"), so rewording a message silently
-- changed a page, and the database's own words reached users. Every RAISE of
-- a function or guard trigger now names its refusal in the error's
-- constraint field (RAISE ... USING CONSTRAINT = 'already_enrolled'), the
-- same field a real constraint violation fills with its constraint name.
-- The SQLSTATE keeps its class (check_violation is a 422, insufficient_privilege
-- a 404, and so on); the code says which refusal it was. portal/refusals.py
-- maps every code, and the constraint names pages explain, to the one message
-- users see; tests/test_refusals.py checks that every RAISE in the database
-- carries a code and that every code has a message.
--
-- The bodies below are the live definitions (as pg_get_functiondef prints
-- them after 001-008) with only the CONSTRAINT added, except start_checkout,
-- whose one RAISE of two messages becomes two RAISEs with their own codes
-- (nothing_to_pay, already_paid). CREATE OR REPLACE keeps owners and grants.
-- Generic guards call refuse(message), whose code is not_permitted.

CREATE OR REPLACE FUNCTION public.add_course_instructor(p_course_id uuid, p_email text, p_role course_instructor_role, p_permissions jsonb)
 RETURNS uuid
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    teacher uuid;
    new_id uuid;
BEGIN
    IF NOT (public.is_course_owner(p_course_id) OR public.is_platform_admin()) THEN
        RAISE EXCEPTION 'no such course' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'course_not_found';
    END IF;
    IF p_role = 'primary' THEN
        RAISE EXCEPTION 'a course has one primary instructor, its owner' USING ERRCODE = 'check_violation', CONSTRAINT = 'team_primary_is_owner';
    END IF;
    SELECT id INTO teacher FROM public.users
    WHERE email = btrim(p_email)::citext AND role = 'instructor' AND is_active;
    IF teacher IS NULL THEN
        RAISE EXCEPTION 'no active instructor has that email' USING ERRCODE = 'check_violation', CONSTRAINT = 'team_no_such_instructor';
    END IF;
    INSERT INTO public.course_instructors (course_id, instructor_id, role, permissions)
    VALUES (p_course_id, teacher, p_role, p_permissions)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$function$
;

CREATE OR REPLACE FUNCTION public.admin_refund(p_enrollment_id uuid, p_registration_id uuid)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
BEGIN
    IF NOT public.is_platform_admin() THEN
        RAISE EXCEPTION 'only an administrator refunds' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    IF p_enrollment_id IS NOT NULL THEN
        PERFORM public.refund_course_enrollment(p_enrollment_id);
    END IF;
    IF p_registration_id IS NOT NULL THEN
        PERFORM public.refund_workshop_registration(p_registration_id);
    END IF;
END
$function$
;

CREATE OR REPLACE FUNCTION public.check_co_teacher()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    teacher uuid;
    owner uuid;
    studies boolean;
BEGIN
    IF TG_TABLE_NAME = 'course_instructors' THEN
        teacher := NEW.instructor_id;
        SELECT instructor_id INTO owner FROM public.courses WHERE id = NEW.course_id;
        studies := EXISTS (SELECT 1 FROM public.course_enrollments
                           WHERE course_id = NEW.course_id AND user_id = teacher
                             AND status NOT IN ('cancelled', 'refunded'));
    ELSE
        teacher := NEW.facilitator_id;
        SELECT instructor_id INTO owner FROM public.workshops WHERE id = NEW.workshop_id;
        studies := EXISTS (SELECT 1 FROM public.workshop_registrations
                           WHERE workshop_id = NEW.workshop_id AND user_id = teacher AND status <> 'cancelled');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.users WHERE id = teacher AND role = 'instructor' AND is_active) THEN
        RAISE EXCEPTION 'a co-teacher must be an active instructor' USING ERRCODE = 'check_violation', CONSTRAINT = 'team_inactive_instructor';
    END IF;
    IF teacher = owner THEN
        RAISE EXCEPTION 'the owner already teaches this' USING ERRCODE = 'check_violation', CONSTRAINT = 'team_owner_already_teaches';
    END IF;
    IF NEW.role::text = 'primary' THEN
        RAISE EXCEPTION 'the owner is the one primary teacher' USING ERRCODE = 'check_violation', CONSTRAINT = 'team_primary_is_owner';
    END IF;
    IF studies THEN
        RAISE EXCEPTION 'a student of this cannot also teach it' USING ERRCODE = 'check_violation', CONSTRAINT = 'team_student_cannot_teach';
    END IF;
    RETURN NEW;
END
$function$
;

CREATE OR REPLACE FUNCTION public.complete_lesson(p_lesson_id uuid)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    en record;
BEGIN
    SELECT * INTO en FROM public.enrollment_for_lesson(p_lesson_id);
    IF en.content_type = 'quiz' THEN
        RAISE EXCEPTION 'a quiz is completed by passing it' USING ERRCODE = 'check_violation', CONSTRAINT = 'quiz_completed_by_passing';
    END IF;
    INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status)
    VALUES (en.enrollment_id, p_lesson_id, en.user_id, en.course_id, 'completed')
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE SET status = 'completed'
    WHERE lesson_progress.status <> 'completed';
END
$function$
;

CREATE OR REPLACE FUNCTION public.confirm_course_payment(p_enrollment_id uuid)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
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
        RAISE EXCEPTION 'no such enrollment' USING ERRCODE = 'no_data_found', CONSTRAINT = 'enrollment_not_found';
    END IF;
    IF e.payment_status IN ('completed', 'refunded') THEN
        RETURN;
    END IF;
    UPDATE public.course_enrollments
    SET payment_status = 'completed', amount_paid = e.price_amount,
        status = CASE WHEN status = 'pending' AND e.auto_approve THEN 'enrolled' ELSE status END
    WHERE id = p_enrollment_id;
END
$function$
;

CREATE OR REPLACE FUNCTION public.confirm_workshop_payment(p_registration_id uuid)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    r record;
BEGIN
    SELECT reg.status, reg.payment_status, w.price_amount INTO r
    FROM public.workshop_registrations reg JOIN public.workshops w ON w.id = reg.workshop_id
    WHERE reg.id = p_registration_id
    FOR NO KEY UPDATE OF reg;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such registration' USING ERRCODE = 'no_data_found', CONSTRAINT = 'registration_not_found';
    END IF;
    IF r.payment_status IN ('completed', 'refunded') THEN
        RETURN;
    END IF;
    IF r.status <> 'registered' THEN
        RAISE EXCEPTION 'only a registered seat is paid for (this one is %)', r.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'registration_not_payable';
    END IF;
    UPDATE public.workshop_registrations
    SET payment_status = 'completed', amount_paid = r.price_amount
    WHERE id = p_registration_id;
END
$function$
;

CREATE OR REPLACE FUNCTION public.delete_lesson(p_lesson_id uuid)
 RETURNS boolean
 LANGUAGE plpgsql
AS $function$
DECLARE
    course uuid := (SELECT course_id FROM public.course_lessons WHERE id = p_lesson_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such lesson' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'lesson_not_found';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    DELETE FROM public.course_lessons WHERE id = p_lesson_id;
    RETURN FOUND;
END
$function$
;

CREATE OR REPLACE FUNCTION public.delete_module(p_module_id uuid)
 RETURNS boolean
 LANGUAGE plpgsql
AS $function$
DECLARE
    course uuid := (SELECT course_id FROM public.course_modules WHERE id = p_module_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such module' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'module_not_found';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    DELETE FROM public.course_modules WHERE id = p_module_id;
    RETURN FOUND;
END
$function$
;

CREATE OR REPLACE FUNCTION public.enroll_in_course(p_course_id uuid)
 RETURNS uuid
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    uid uuid := (SELECT rls.uid());
    c record;
    existing record;
    auto_approve boolean;
    settled boolean;
    new_id uuid;
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'sign in to enroll' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    SELECT id, instructor_id, price_amount INTO c
    FROM public.courses WHERE id = p_course_id AND status = 'published';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such course' USING ERRCODE = 'no_data_found', CONSTRAINT = 'course_not_open';
    END IF;
    IF c.instructor_id = uid OR EXISTS (SELECT 1 FROM public.course_instructors
                                         WHERE course_id = c.id AND instructor_id = uid) THEN
        RAISE EXCEPTION 'instructors do not enroll in their own course' USING ERRCODE = 'check_violation', CONSTRAINT = 'own_course';
    END IF;
    auto_approve := coalesce((SELECT s.auto_approve_enrollments FROM public.instructor_settings s
                              WHERE s.user_id = c.instructor_id), true);

    SELECT id, status, payment_status, amount_paid INTO existing
    FROM public.course_enrollments WHERE course_id = c.id AND user_id = uid FOR NO KEY UPDATE;
    IF FOUND THEN
        IF existing.status = 'refunded' THEN
            RAISE EXCEPTION 'this enrollment was refunded; ask support to restore it'
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'enrollment_refunded';
        ELSIF existing.status <> 'cancelled' THEN
            RAISE EXCEPTION 'already enrolled' USING ERRCODE = 'unique_violation', CONSTRAINT = 'already_enrolled';
        END IF;
        settled := c.price_amount = 0
                   OR (existing.payment_status = 'completed' AND existing.amount_paid > 0);
        UPDATE public.course_enrollments
        SET status = CASE WHEN settled AND auto_approve THEN 'enrolled' ELSE 'pending' END::public.enrollment_status,
            payment_status = CASE WHEN settled THEN 'completed' ELSE 'pending' END::public.payment_status,
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
$function$
;

CREATE OR REPLACE FUNCTION public.enrollment_for_lesson(p_lesson_id uuid)
 RETURNS TABLE(enrollment_id uuid, user_id uuid, course_id uuid, content_type lesson_content_type, passing_score integer, quiz jsonb)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
BEGIN
    RETURN QUERY
    SELECT e.id, e.user_id, e.course_id, l.content_type, l.passing_score, l.quiz
    FROM public.course_lessons l
    JOIN public.course_enrollments e ON e.course_id = l.course_id
    WHERE l.id = p_lesson_id AND e.user_id = (SELECT rls.uid())
      AND e.status IN ('enrolled', 'in_progress', 'completed')
      AND public.lesson_released_for(e.id, l.id);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such lesson' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'lesson_not_found';
    END IF;
END
$function$
;

CREATE OR REPLACE FUNCTION public.guard_course_lifecycle()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF NOT public.api_caller() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'a new course starts as a draft' USING ERRCODE = 'check_violation', CONSTRAINT = 'course_starts_as_draft';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF (OLD.status, NEW.status) NOT IN (('draft', 'published'), ('published', 'archived'),
                                            ('archived', 'published')) THEN
            RAISE EXCEPTION 'a % course cannot become %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'course_status_move';
        END IF;
        -- NEW's description may change in the same statement, so check NEW.
        IF NEW.status = 'published' AND (coalesce(btrim(NEW.description), '') = ''
            OR NOT EXISTS (SELECT 1 FROM public.course_lessons l WHERE l.course_id = NEW.id)) THEN
            RAISE EXCEPTION 'publish a course once it has a description and a module with a lesson'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'course_not_ready';
        END IF;
    END IF;
    -- Links, bookmarks and the catalog point at a published course's slug.
    IF OLD.published_at IS NOT NULL AND NEW.slug IS DISTINCT FROM OLD.slug THEN
        RAISE EXCEPTION 'a published course keeps its address (slug)' USING ERRCODE = 'check_violation', CONSTRAINT = 'course_slug_locked';
    END IF;
    RETURN NEW;
END
$function$
;

CREATE OR REPLACE FUNCTION public.guard_publishing_quizzes()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    IF public.api_caller() AND NEW.status = 'published' AND OLD.status IS DISTINCT FROM 'published'
       AND public.has_empty_quiz(NEW.id) THEN
        RAISE EXCEPTION 'publish a course once every quiz has a question' USING ERRCODE = 'check_violation', CONSTRAINT = 'course_empty_quiz';
    END IF;
    RETURN NEW;
END
$function$
;

CREATE OR REPLACE FUNCTION public.mark_payouts_paid(p_transaction_ids uuid[])
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    n integer;
BEGIN
    IF NOT public.is_platform_admin() THEN
        RAISE EXCEPTION 'only an administrator pays out' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    UPDATE public.revenue_transactions
    SET payout_status = 'paid', payout_date = now()
    WHERE id = ANY (p_transaction_ids) AND payment_status = 'completed' AND payout_status = 'pending';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$function$
;

CREATE OR REPLACE FUNCTION public.move_lesson(p_lesson_id uuid, p_module_id uuid, p_to integer)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
DECLARE
    lesson record;
BEGIN
    SELECT course_id, module_id INTO lesson FROM public.course_lessons WHERE id = p_lesson_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such lesson' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'lesson_not_found';
    END IF;
    PERFORM public.require_content_editor(lesson.course_id);
    PERFORM public.lock_course_outline(lesson.course_id);
    IF NOT EXISTS (SELECT 1 FROM public.course_modules WHERE id = p_module_id AND course_id = lesson.course_id) THEN
        RAISE EXCEPTION 'that module is not in this course' USING ERRCODE = 'check_violation', CONSTRAINT = 'module_not_in_course';
    END IF;
    -- Park the lesson after every other lesson of the target, then place it.
    UPDATE public.course_lessons SET module_id = p_module_id,
           position = (SELECT coalesce(max(position) + 1, 0) FROM public.course_lessons WHERE module_id = p_module_id)
    WHERE id = p_lesson_id AND module_id <> p_module_id;
    UPDATE public.course_lessons l SET position = o.n
    FROM (SELECT id, CASE WHEN id = p_lesson_id THEN least(greatest(p_to, 0), count(*) OVER () - 1)
                          WHEN rn < greatest(p_to, 0) THEN rn ELSE rn + 1 END AS n
          FROM (SELECT id, row_number() OVER (ORDER BY id = p_lesson_id, position, id) - 1 AS rn
                FROM public.course_lessons WHERE module_id = p_module_id) ranked) o
    WHERE l.id = o.id AND l.position <> o.n;
    IF lesson.module_id <> p_module_id THEN
        PERFORM public.renumber_lessons(lesson.module_id);
    END IF;
END
$function$
;

CREATE OR REPLACE FUNCTION public.move_module(p_module_id uuid, p_to integer)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
DECLARE
    course uuid := (SELECT course_id FROM public.course_modules WHERE id = p_module_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such module' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'module_not_found';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    UPDATE public.course_modules m SET position = o.n
    FROM (SELECT id, CASE WHEN id = p_module_id THEN least(greatest(p_to, 0), count(*) OVER () - 1)
                          WHEN rn < greatest(p_to, 0) THEN rn ELSE rn + 1 END AS n
          FROM (SELECT id, position,
                       row_number() OVER (ORDER BY id = p_module_id, position, id) - 1 AS rn
                FROM public.course_modules WHERE course_id = course) ranked) o
    WHERE m.id = o.id AND m.position <> o.n;  -- ranks are dense, so the result is 0..n-1
END
$function$
;

CREATE OR REPLACE FUNCTION public.record_watch_time(p_lesson_id uuid, p_seconds integer)
 RETURNS integer
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    en record;
    result integer;
BEGIN
    IF p_seconds IS NULL OR p_seconds < 0 THEN
        RAISE EXCEPTION 'watch time is a number of seconds' USING ERRCODE = 'check_violation', CONSTRAINT = 'watch_time_invalid';
    END IF;
    SELECT * INTO en FROM public.enrollment_for_lesson(p_lesson_id);
    INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status, watch_time_seconds)
    VALUES (en.enrollment_id, p_lesson_id, en.user_id, en.course_id, 'in_progress', p_seconds)
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE SET watch_time_seconds = EXCLUDED.watch_time_seconds
    WHERE lesson_progress.watch_time_seconds < EXCLUDED.watch_time_seconds;
    SELECT watch_time_seconds INTO result FROM public.lesson_progress
    WHERE enrollment_id = en.enrollment_id AND lesson_id = p_lesson_id;
    RETURN result;
END
$function$
;

CREATE OR REPLACE FUNCTION public.refund_course_enrollment(p_enrollment_id uuid)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
BEGIN
    UPDATE public.course_enrollments
    SET status = 'refunded', payment_status = 'refunded'
    WHERE id = p_enrollment_id AND payment_status = 'completed' AND amount_paid > 0;
    IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM public.course_enrollments
                                 WHERE id = p_enrollment_id AND payment_status = 'refunded') THEN
        RAISE EXCEPTION 'nothing paid to refund' USING ERRCODE = 'no_data_found', CONSTRAINT = 'nothing_to_refund';
    END IF;
END
$function$
;

CREATE OR REPLACE FUNCTION public.refund_workshop_registration(p_registration_id uuid)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
BEGIN
    UPDATE public.workshop_registrations
    SET status = 'cancelled', payment_status = 'refunded'
    WHERE id = p_registration_id AND payment_status = 'completed' AND amount_paid > 0;
    IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM public.workshop_registrations
                                 WHERE id = p_registration_id AND payment_status = 'refunded') THEN
        RAISE EXCEPTION 'nothing paid to refund' USING ERRCODE = 'no_data_found', CONSTRAINT = 'nothing_to_refund';
    END IF;
END
$function$
;

CREATE OR REPLACE FUNCTION public.refuse(message text)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
END
$function$
;

CREATE OR REPLACE FUNCTION public.register_for_workshop(p_workshop_id uuid)
 RETURNS uuid
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    uid uuid := (SELECT rls.uid());
    w record;
    existing record;
    seat public.registration_status;
    new_id uuid;
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'sign in to register' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    SELECT id, instructor_id, capacity, price_amount, start_time INTO w
    FROM public.workshops WHERE id = p_workshop_id AND status = 'published'
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such workshop' USING ERRCODE = 'no_data_found', CONSTRAINT = 'workshop_not_open';
    END IF;
    IF w.start_time <= now() THEN
        RAISE EXCEPTION 'this workshop has already started' USING ERRCODE = 'check_violation', CONSTRAINT = 'workshop_started';
    END IF;
    IF w.instructor_id = uid OR EXISTS (SELECT 1 FROM public.workshop_facilitators
                                         WHERE workshop_id = w.id AND facilitator_id = uid) THEN
        RAISE EXCEPTION 'instructors do not register for their own workshop' USING ERRCODE = 'check_violation', CONSTRAINT = 'own_workshop';
    END IF;
    seat := CASE WHEN (SELECT count(*) FROM public.workshop_registrations
                       WHERE workshop_id = w.id AND status IN ('registered', 'attended', 'no_show')) < w.capacity
                 THEN 'registered' ELSE 'waitlisted' END;

    SELECT id, status, payment_status, amount_paid INTO existing
    FROM public.workshop_registrations WHERE workshop_id = w.id AND user_id = uid;
    IF FOUND THEN
        IF existing.status <> 'cancelled' THEN
            RAISE EXCEPTION 'already registered' USING ERRCODE = 'unique_violation', CONSTRAINT = 'already_registered';
        END IF;
        -- Priced again, as enrollments are: a real payment still counts.
        UPDATE public.workshop_registrations
        SET status = seat, registered_at = now(),
            payment_status = CASE WHEN w.price_amount = 0
                                    OR (existing.payment_status = 'completed' AND existing.amount_paid > 0)
                                  THEN 'completed' ELSE 'pending' END::public.payment_status
        WHERE id = existing.id;
        RETURN existing.id;
    END IF;

    INSERT INTO public.workshop_registrations (workshop_id, user_id, status, payment_status)
    VALUES (w.id, uid, seat,
            CASE WHEN w.price_amount = 0 THEN 'completed' ELSE 'pending' END::public.payment_status)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$function$
;

CREATE OR REPLACE FUNCTION public.require_content_editor(p_course_id uuid)
 RETURNS void
 LANGUAGE plpgsql
 STABLE
AS $function$
BEGIN
    IF public.api_caller() AND NOT (public.has_course_permission(p_course_id, 'edit_content')
                                    OR public.is_platform_admin()) THEN
        RAISE EXCEPTION 'no such course' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'course_not_found';
    END IF;
END
$function$
;

CREATE OR REPLACE FUNCTION public.set_own_password_hash(p_password_hash text)
 RETURNS void
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
BEGIN
    IF (SELECT rls.uid()) IS NULL THEN
        RAISE EXCEPTION 'not signed in' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'sign_in_required';
    END IF;
    UPDATE private.user_credentials
    SET password_hash = p_password_hash, updated_at = now()
    WHERE user_id = (SELECT rls.uid());
END
$function$
;

CREATE OR REPLACE FUNCTION public.shift_lesson(p_lesson_id uuid, p_by integer)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
DECLARE
    course uuid := (SELECT course_id FROM public.course_lessons WHERE id = p_lesson_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such lesson' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'lesson_not_found';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    PERFORM public.move_lesson(p_lesson_id, l.module_id, l.position + p_by)
    FROM public.course_lessons l WHERE l.id = p_lesson_id;
END
$function$
;

CREATE OR REPLACE FUNCTION public.shift_module(p_module_id uuid, p_by integer)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
DECLARE
    course uuid := (SELECT course_id FROM public.course_modules WHERE id = p_module_id);
BEGIN
    IF course IS NULL THEN
        RAISE EXCEPTION 'no such module' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'module_not_found';
    END IF;
    PERFORM public.require_content_editor(course);
    PERFORM public.lock_course_outline(course);
    PERFORM public.move_module(p_module_id,
        (SELECT position FROM public.course_modules WHERE id = p_module_id) + p_by);
END
$function$
;

CREATE OR REPLACE FUNCTION public.sign_up(p_email text, p_password_hash text, p_full_name text, p_role user_role DEFAULT 'student'::user_role)
 RETURNS uuid
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    new_id uuid;
BEGIN
    IF p_role NOT IN ('student', 'instructor') THEN
        RAISE EXCEPTION 'one signs up as a student or an instructor'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sign_up_role';
    END IF;
    INSERT INTO public.users (email, full_name, role)
    VALUES (btrim(p_email), btrim(p_full_name), p_role)
    RETURNING id INTO new_id;
    INSERT INTO private.user_credentials (user_id, password_hash)
    VALUES (new_id, p_password_hash);
    RETURN new_id;
END
$function$
;

CREATE OR REPLACE FUNCTION public.start_checkout(p_enrollment_id uuid, p_provider text)
 RETURNS uuid
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    uid uuid := (SELECT rls.uid());
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
        RAISE EXCEPTION 'no such enrollment' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'enrollment_not_found';
    END IF;
    IF e.payment_status IN ('completed', 'refunded') THEN
        IF e.price_amount = 0 THEN
            RAISE EXCEPTION 'this enrollment has nothing to pay'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'nothing_to_pay';
        END IF;
        RAISE EXCEPTION 'this enrollment is already paid'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'already_paid';
    END IF;
    IF e.status <> 'pending' THEN
        RAISE EXCEPTION 'this enrollment has nothing to pay' USING ERRCODE = 'check_violation', CONSTRAINT = 'nothing_to_pay';
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
$function$
;

CREATE OR REPLACE FUNCTION public.submit_quiz(p_lesson_id uuid, p_answers integer[])
 RETURNS TABLE(score numeric, passed boolean, best_score numeric, wrong integer[], questions integer)
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public'
AS $function$
DECLARE
    en record;
    total integer;
    wrong_ones integer[];
    got numeric(5,2);
    best numeric(5,2);
BEGIN
    SELECT * INTO en FROM public.enrollment_for_lesson(p_lesson_id);
    IF en.content_type <> 'quiz' THEN
        RAISE EXCEPTION 'this lesson is not a quiz' USING ERRCODE = 'check_violation', CONSTRAINT = 'not_a_quiz';
    END IF;
    -- A quiz emptied after publishing cannot be failed: it scores 100.
    total := coalesce(jsonb_array_length(en.quiz -> 'questions'), 0);
    IF coalesce(array_length(p_answers, 1), 0) <> total THEN
        RAISE EXCEPTION 'answer every question' USING ERRCODE = 'check_violation', CONSTRAINT = 'quiz_unanswered';
    END IF;
    -- Which questions (0-based) were answered wrongly: the student sees
    -- which to think over again, never the right choice.
    SELECT coalesce(array_agg(n - 1 ORDER BY n), '{}') INTO wrong_ones
    FROM jsonb_array_elements(en.quiz -> 'questions') WITH ORDINALITY AS qs (q, n)
    WHERE (q ->> 'answer')::int IS DISTINCT FROM p_answers[n::int];
    got := CASE WHEN total = 0 THEN 100 ELSE round(100.0 * (total - cardinality(wrong_ones)) / total, 2) END;
    INSERT INTO public.lesson_progress (enrollment_id, lesson_id, user_id, course_id, status, quiz_score)
    VALUES (en.enrollment_id, p_lesson_id, en.user_id, en.course_id,
            CASE WHEN got >= en.passing_score THEN 'completed' ELSE 'in_progress' END::public.lesson_progress_status,
            got)
    ON CONFLICT (enrollment_id, lesson_id) DO UPDATE
    SET quiz_score = greatest(coalesce(lesson_progress.quiz_score, 0), EXCLUDED.quiz_score),
        status = CASE WHEN lesson_progress.status = 'completed'
                        OR greatest(coalesce(lesson_progress.quiz_score, 0), EXCLUDED.quiz_score) >= en.passing_score
                      THEN 'completed' ELSE lesson_progress.status END::public.lesson_progress_status
    WHERE lesson_progress.quiz_score IS NULL OR EXCLUDED.quiz_score > lesson_progress.quiz_score
       OR (lesson_progress.status <> 'completed'
           AND greatest(coalesce(lesson_progress.quiz_score, 0), EXCLUDED.quiz_score) >= en.passing_score);
    SELECT p.quiz_score INTO best FROM public.lesson_progress p
    WHERE p.enrollment_id = en.enrollment_id AND p.lesson_id = p_lesson_id;
    RETURN QUERY SELECT got::numeric, got >= en.passing_score, best::numeric, wrong_ones, total;
END
$function$
;
