-- 021: workshops (issue 14): capacity and waitlist, promotion, lifecycle,
-- attendance after the start, feedback after the end, facilitators, the
-- refund mark of paid seats, the calendar's SEQUENCE and feed.
--
--   1. A seat is a registration in status registered, attended or no_show;
--      the workshop row lock serialises the count (register_for_workshop,
--      replaced here: a newcomer never jumps a waitlist).
--   2. Promotion: private.promote_waitlist(workshop) moves the first waitlisted
--      registrations (registered_at, id) into the free seats. Lock order, the
--      core's (008): registration first, then the workshop. The candidate is
--      taken FOR NO KEY UPDATE SKIP LOCKED (never waits on a registration,
--      so it runs safely from a trigger that already holds the workshop), the
--      free seats counted under the workshop's lock. It runs when a seat frees
--      (a registered seat cancelled, by its student, the instructor, a lapse
--      or a refund) and when the capacity grows. A paid seat (promoted or
--      registered) that is not paid holds until payment_due_at; then
--      private.release_lapsed_seats() cancels it and the seat passes on.
--   3. Lifecycle: draft -> published -> completed (after the end) or
--      cancelled. A workshop with registrations is cancelled only through
--      cancel_workshop(), which locks its registrations (ordered by id) before
--      the workshop, cancels every live one and tells each registrant.
--   4. Refunds go through the revenue area's one path (020's refund_sale). A
--      paid seat cancelled with the workshop, or by its student before the
--      workshop's refund cutoff, gets refund_requested_at, and
--      private.refund_cancelled_seat() refunds what is left of its sale. A
--      refund that starts in revenue (an admin's, the provider's) cancels the
--      seat itself, as refunded: never marked, so never refunded twice.
--   5. Attendance only once the workshop has started; feedback only after it
--      ended (attendees, once: 007's policy and the unique key).
--   6. Facilitators: check_co_teacher now locks the workshop before it looks
--      for a registration, as register_for_workshop does before it looks for a
--      facilitator: a facilitator added while they register cannot be both.
--   7. Calendar: ical_sequence moves with every change an attendee's calendar
--      shows; a per-instructor feed token (its hash stored) read by
--      public.calendar_feed_workshops(token) when calendar sync is on.

-- 1. columns ------------------------------------------------------------------------------
ALTER TABLE public.workshops
    ADD COLUMN refund_cutoff_hours integer NOT NULL DEFAULT 24
        CONSTRAINT workshop_refund_cutoff_range CHECK (refund_cutoff_hours BETWEEN 0 AND 720),
    ADD COLUMN ical_sequence integer NOT NULL DEFAULT 0 CHECK (ical_sequence >= 0);

-- Times a calendar (and psycopg2) can read: years 2000 to 2200 (the form keeps a narrower window).
ALTER TABLE public.workshops
    ADD CONSTRAINT workshop_times_in_range
        CHECK (start_time >= '2000-01-01 00:00:00+00' AND start_time < '2201-01-01 00:00:00+00'
               AND end_time >= '2000-01-01 00:00:00+00' AND end_time < '2201-01-01 00:00:00+00');

ALTER TABLE public.workshop_registrations
    ADD COLUMN payment_due_at timestamptz,
    ADD COLUMN refund_requested_at timestamptz;

ALTER TABLE public.instructor_settings
    ADD COLUMN calendar_feed_hash text CHECK (calendar_feed_hash ~ '^[0-9a-f]{64}$');
CREATE UNIQUE INDEX uq_instructor_settings_calendar_feed ON public.instructor_settings (calendar_feed_hash)
    WHERE calendar_feed_hash IS NOT NULL;

-- The waitlist in its order; a workshop's live registrations (the registrations page);
-- lapsing seats; an instructor's list by start (tabs) and by title.
CREATE INDEX idx_workshop_registrations_waitlist ON public.workshop_registrations (workshop_id, registered_at, id)
    WHERE status = 'waitlisted';
-- The registrations page's keyset order (portal/workshops/queries.py RANK: the same expression).
CREATE INDEX idx_workshop_registrations_page ON public.workshop_registrations (workshop_id,
    (CASE status WHEN 'registered' THEN 0 WHEN 'attended' THEN 1 WHEN 'no_show' THEN 2
                 WHEN 'waitlisted' THEN 3 ELSE 4 END), registered_at, id);
CREATE INDEX idx_workshop_registrations_due ON public.workshop_registrations (payment_due_at)
    WHERE status = 'registered' AND payment_status = 'pending';
CREATE INDEX idx_workshop_registrations_user_start ON public.workshop_registrations (user_id, registered_at DESC, id);
CREATE INDEX idx_workshops_instructor_start ON public.workshops (instructor_id, start_time, id);
CREATE INDEX idx_workshops_published_start ON public.workshops (start_time, id) WHERE status = 'published';

-- A cancelled workshop stays readable to whoever registered for it (its cancellation notice links
-- to its page and its .ics); their registrations are cancelled with it, which 007's policy omits.
CREATE POLICY workshops_read_cancelled ON public.workshops FOR SELECT TO authenticated
    USING (status = 'cancelled'
           AND id = ANY ((SELECT rls.registered_workshop_ids('{cancelled}'))::uuid[]));

-- 2. small settings -------------------------------------------------------------------------
-- How long a paid seat is held for its payment: a fresh registration, a promotion.
CREATE FUNCTION private.seat_hold(p_promoted boolean) RETURNS interval
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN p_promoted THEN interval '24 hours' ELSE interval '1 hour' END
$$;

-- 3. the refund hook ------------------------------------------------------------------------
-- A paid seat marked for its refund (private.mark_seat_refund) is refunded here, once (called
-- by private.seat_freed when the mark is set), through 020's one path: what is left of the
-- registration's completed sale (private.refund_purchase finds it, private.refund_sale writes
-- the negative mirror row, sets the registration's payment refunded and tells the student).
-- The actor is the caller (the instructor cancelling the workshop, the student cancelling the
-- seat), NULL for the system. No recursion: refund_sale's own update of the registration finds
-- it cancelled already (the mark needs a move from registered or waitlisted, and a payment
-- still completed) and sets no mark, so this is not called again.
-- Lock order: the caller's update holds the registration (cancel_workshop: all of the
-- workshop's, by id, then the workshop); refund_sale then takes the registration again (held),
-- the workshop, then the sale: 020's order (registration, course or workshop, sale).
CREATE FUNCTION private.refund_cancelled_seat(p_registration_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    reg record;
BEGIN
    SELECT r.payment_status, w.status AS workshop_status INTO reg
    FROM public.workshop_registrations r JOIN public.workshops w ON w.id = r.workshop_id
    WHERE r.id = p_registration_id;
    IF NOT FOUND OR reg.payment_status <> 'completed' THEN
        RETURN;
    END IF;
    PERFORM private.refund_purchase(NULL, p_registration_id,
        CASE WHEN reg.workshop_status = 'cancelled' THEN 'The workshop was cancelled.'
             ELSE 'Cancelled before the refund cutoff.' END,
        (SELECT rls.uid()));
END
$$;

-- 4. promotion ------------------------------------------------------------------------------
CREATE FUNCTION private.promote_waitlist(p_workshop_id uuid) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    candidate record;
    w record;
    taken integer;
    promoted integer := 0;
BEGIN
    -- Nothing to promote into a workshop that is not open (read without a lock: the checks
    -- below repeat it under the workshop's lock).
    IF NOT EXISTS (SELECT 1 FROM public.workshops WHERE id = p_workshop_id AND status = 'published'
                   AND start_time > now()) THEN
        RETURN 0;
    END IF;
    LOOP
        SELECT id, user_id INTO candidate FROM public.workshop_registrations
        WHERE workshop_id = p_workshop_id AND status = 'waitlisted'
        ORDER BY registered_at, id LIMIT 1
        FOR NO KEY UPDATE SKIP LOCKED;
        EXIT WHEN NOT FOUND;
        SELECT id, title, slug, capacity, price_amount, currency, status, start_time INTO w
        FROM public.workshops WHERE id = p_workshop_id FOR NO KEY UPDATE;
        EXIT WHEN w.status <> 'published' OR w.start_time <= now();
        -- Counted, not the kept figure: promotion runs from seat_freed, an AFTER trigger that fires
        -- before the stats trigger has moved enrolled_count for the seat just freed. A seat freeing
        -- is rare and the count is bounded by the capacity.
        SELECT count(*) INTO taken FROM public.workshop_registrations
        WHERE workshop_id = p_workshop_id AND status IN ('registered', 'attended', 'no_show');
        EXIT WHEN taken >= w.capacity;
        UPDATE public.workshop_registrations
        SET status = 'registered',
            -- Priced at promotion, as a re-registration is: only a real payment still counts (a
            -- waitlister who joined while it was free pays the price it has now).
            payment_status = CASE WHEN w.price_amount = 0 OR (payment_status = 'completed' AND amount_paid > 0)
                                  THEN 'completed' ELSE 'pending' END::public.payment_status,
            payment_due_at = CASE WHEN w.price_amount > 0 AND NOT (payment_status = 'completed' AND amount_paid > 0)
                                  THEN now() + private.seat_hold(true) END
        WHERE id = candidate.id;
        PERFORM private.notify(candidate.user_id, 'workshop_seat', jsonb_build_object(
            'kind', 'promoted', 'workshop_id', w.id, 'title', w.title, 'slug', w.slug,
            'start_time', w.start_time, 'paid', w.price_amount > 0,
            'due', CASE WHEN w.price_amount > 0 THEN now() + private.seat_hold(true) END),
            format('workshop_seat:%s:promoted:%s', candidate.id, extract(epoch FROM now())::bigint));
        promoted := promoted + 1;
    END LOOP;
    RETURN promoted;
END
$$;

-- Paid seats not paid in time: cancelled (the seat passes on through the
-- trigger below), the student told. Registration rows first, as everywhere.
CREATE FUNCTION private.release_lapsed_seats(p_now timestamptz DEFAULT now()) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    r record;
    released integer := 0;
BEGIN
    FOR r IN SELECT reg.id, reg.user_id, reg.workshop_id FROM public.workshop_registrations reg
             WHERE reg.status = 'registered' AND reg.payment_status = 'pending' AND reg.payment_due_at < p_now
             ORDER BY reg.id FOR NO KEY UPDATE SKIP LOCKED LOOP
        -- The workshop became free meanwhile (free_pending_seats skipped a locked seat): confirmed.
        IF (SELECT price_amount FROM public.workshops WHERE id = r.workshop_id) = 0 THEN
            UPDATE public.workshop_registrations SET payment_status = 'completed' WHERE id = r.id;
            CONTINUE;
        END IF;
        UPDATE public.workshop_registrations SET status = 'cancelled', payment_due_at = NULL WHERE id = r.id;
        PERFORM private.notify(r.user_id, 'workshop_seat', jsonb_build_object(
            'kind', 'lapsed', 'workshop_id', w.id, 'title', w.title, 'slug', w.slug, 'start_time', w.start_time),
            format('workshop_seat:%s:lapsed', r.id))
        FROM public.workshops w WHERE w.id = r.workshop_id;
        released := released + 1;
    END LOOP;
    RETURN released;
END
$$;

-- 5. registration, replaced: nobody jumps the waitlist; a paid seat is held for its payment.
CREATE OR REPLACE FUNCTION public.register_for_workshop(p_workshop_id uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
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
    -- The core's lock order (008): the caller's own registration (a cancelled one comes back
    -- to life below) before the workshop, as cancel_workshop and a student's cancellation do.
    PERFORM 1 FROM public.workshop_registrations WHERE workshop_id = p_workshop_id AND user_id = uid
    FOR NO KEY UPDATE;
    SELECT id, instructor_id, capacity, price_amount, start_time, enrolled_count INTO w
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
    -- The seats taken: the kept figure, exact under the workshop's lock (the stats trigger's deltas).
    seat := CASE WHEN w.enrolled_count < w.capacity
                      AND NOT EXISTS (SELECT 1 FROM public.workshop_registrations
                                      WHERE workshop_id = w.id AND status = 'waitlisted')
                 THEN 'registered' ELSE 'waitlisted' END;

    SELECT id, status, payment_status, amount_paid INTO existing
    FROM public.workshop_registrations WHERE workshop_id = w.id AND user_id = uid;
    IF FOUND THEN
        IF existing.status <> 'cancelled' THEN
            RAISE EXCEPTION 'already registered' USING ERRCODE = 'unique_violation', CONSTRAINT = 'already_registered';
        END IF;
        -- Priced again, as enrollments are: a real payment still counts.
        UPDATE public.workshop_registrations
        SET status = seat, registered_at = now(), refund_requested_at = NULL,
            payment_status = CASE WHEN w.price_amount = 0
                                    OR (existing.payment_status = 'completed' AND existing.amount_paid > 0)
                                  THEN 'completed' ELSE 'pending' END::public.payment_status,
            payment_due_at = CASE WHEN seat = 'registered' AND w.price_amount > 0
                                       AND NOT (existing.payment_status = 'completed' AND existing.amount_paid > 0)
                                  THEN now() + private.seat_hold(false) END
        WHERE id = existing.id;
        RETURN existing.id;
    END IF;

    INSERT INTO public.workshop_registrations (workshop_id, user_id, status, payment_status, payment_due_at)
    VALUES (w.id, uid, seat,
            CASE WHEN w.price_amount = 0 THEN 'completed' ELSE 'pending' END::public.payment_status,
            CASE WHEN seat = 'registered' AND w.price_amount > 0 THEN now() + private.seat_hold(false) END)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- The caller's own place on a workshop's waitlist (1 = next), NULL when not waitlisted. A
-- student reads only their own registration (RLS), so the places before theirs are counted here.
CREATE FUNCTION public.my_waitlist_place(p_workshop_id uuid) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT (SELECT count(*) FROM public.workshop_registrations q
            WHERE q.workshop_id = me.workshop_id AND q.status = 'waitlisted'
              AND (q.registered_at, q.id) <= (me.registered_at, me.id))::integer
    FROM public.workshop_registrations me
    WHERE me.workshop_id = p_workshop_id AND me.user_id = (SELECT rls.uid()) AND me.status = 'waitlisted'
$$;
REVOKE ALL ON FUNCTION public.my_waitlist_place(uuid)
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION public.my_waitlist_place(uuid) TO authenticated;

-- A paid seat's payment clears its hold.
CREATE FUNCTION private.clear_paid_hold() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NEW.payment_status IN ('completed', 'refunded') THEN
        NEW.payment_due_at := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER clear_paid_hold BEFORE UPDATE OF payment_status ON public.workshop_registrations
    FOR EACH ROW EXECUTE FUNCTION private.clear_paid_hold();

-- 6. a seat frees: mark the refund, pass the seat on --------------------------------------------
CREATE FUNCTION private.mark_seat_refund() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    w record;
BEGIN
    IF NEW.status = 'cancelled' AND OLD.status IN ('registered', 'waitlisted')
       AND NEW.payment_status = 'completed' AND NEW.amount_paid > 0 THEN
        SELECT status, start_time, refund_cutoff_hours INTO w FROM public.workshops WHERE id = NEW.workshop_id;
        IF w.status = 'cancelled' OR now() <= w.start_time - make_interval(hours => w.refund_cutoff_hours) THEN
            NEW.refund_requested_at := now();
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER mark_seat_refund BEFORE UPDATE OF status ON public.workshop_registrations
    FOR EACH ROW EXECUTE FUNCTION private.mark_seat_refund();

CREATE FUNCTION private.seat_freed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NEW.refund_requested_at IS NOT NULL AND OLD.refund_requested_at IS NULL THEN
        PERFORM private.refund_cancelled_seat(NEW.id);
    END IF;
    IF OLD.status = 'registered' AND NEW.status = 'cancelled' THEN
        PERFORM private.promote_waitlist(NEW.workshop_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER seat_freed AFTER UPDATE OF status ON public.workshop_registrations
    FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status <> 'cancelled')
    EXECUTE FUNCTION private.seat_freed();

CREATE FUNCTION private.capacity_grew() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM private.promote_waitlist(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER capacity_grew AFTER UPDATE OF capacity ON public.workshops
    FOR EACH ROW WHEN (NEW.capacity > OLD.capacity)
    EXECUTE FUNCTION private.capacity_grew();

-- The workshop's seat figures as deltas (008's version recounted every registration of the
-- workshop for each changed row): +-1 on enrolled_count (registered, attended, no_show) and
-- attended_count, under the workshop row's lock that the UPDATE takes; nothing is written when a
-- change moves neither (a payment). The verifier (mismatches / workshop_figures) still recounts.
CREATE OR REPLACE FUNCTION public.update_workshop_registration_stats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    kind public.activity_type;
    old_seat integer := 0;
    old_attended integer := 0;
    new_seat integer := 0;
    new_attended integer := 0;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_seat := (OLD.status IN ('registered', 'attended', 'no_show'))::integer;
        old_attended := (OLD.status = 'attended')::integer;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_seat := (NEW.status IN ('registered', 'attended', 'no_show'))::integer;
        new_attended := (NEW.status = 'attended')::integer;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.workshop_id IS DISTINCT FROM OLD.workshop_id THEN
        UPDATE public.workshops SET enrolled_count = enrolled_count - old_seat,
                                    attended_count = attended_count - old_attended
        WHERE id = OLD.workshop_id AND (old_seat, old_attended) <> (0, 0);
        UPDATE public.workshops SET enrolled_count = enrolled_count + new_seat,
                                    attended_count = attended_count + new_attended
        WHERE id = NEW.workshop_id AND (new_seat, new_attended) <> (0, 0);
    ELSIF (new_seat - old_seat, new_attended - old_attended) <> (0, 0) THEN
        UPDATE public.workshops SET enrolled_count = enrolled_count + (new_seat - old_seat),
                                    attended_count = attended_count + (new_attended - old_attended)
        WHERE id = coalesce(NEW.workshop_id, OLD.workshop_id);
    END IF;
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

-- A paid workshop made free: its held seats are confirmed (nothing to pay, no hold to lapse) and
-- their open checkouts closed. Seats another transaction holds are skipped (the workshop is locked
-- here, and the core's order is registration first): release_lapsed_seats confirms those instead.
CREATE FUNCTION private.free_pending_seats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    WITH held AS (
        SELECT id FROM public.workshop_registrations
        WHERE workshop_id = NEW.id AND status = 'registered' AND payment_status = 'pending'
        ORDER BY id FOR NO KEY UPDATE SKIP LOCKED),
    confirmed AS (
        UPDATE public.workshop_registrations r SET payment_status = 'completed', payment_due_at = NULL
        FROM held WHERE r.id = held.id RETURNING r.id)
    UPDATE public.checkouts c SET status = 'failed', settled_at = now(),
           failure_reason = 'The workshop became free: nothing to pay.'
    FROM confirmed WHERE c.registration_id = confirmed.id AND c.status = 'open';
    RETURN NULL;
END
$$;
CREATE TRIGGER free_pending_seats AFTER UPDATE OF price_amount ON public.workshops
    FOR EACH ROW WHEN (NEW.price_amount = 0 AND OLD.price_amount > 0)
    EXECUTE FUNCTION private.free_pending_seats();
REVOKE ALL ON FUNCTION private.free_pending_seats()
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;

-- 7. the workshop's lifecycle and its calendar sequence ------------------------------------------
CREATE FUNCTION private.guard_workshop_lifecycle() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF (NEW.title, NEW.description, NEW.start_time, NEW.end_time, NEW.timezone, NEW.location,
        NEW.meeting_url, NEW.status, NEW.type)
       IS DISTINCT FROM (OLD.title, OLD.description, OLD.start_time, OLD.end_time, OLD.timezone, OLD.location,
                         OLD.meeting_url, OLD.status, OLD.type) THEN
        NEW.ical_sequence := OLD.ical_sequence + 1;
    END IF;
    IF NOT public.api_caller() THEN
        RETURN NEW;
    END IF;
    IF OLD.status IN ('cancelled', 'completed') AND (SELECT NOT rls.is_admin()) THEN
        RAISE EXCEPTION 'a % workshop is no longer edited', OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'workshop_closed';
    END IF;
    -- A published workshop with registrants is not moved to a start already past (attendance,
    -- completion and feedback would open at once).
    IF OLD.status = 'published' AND NEW.start_time IS DISTINCT FROM OLD.start_time AND NEW.start_time <= now()
       AND EXISTS (SELECT 1 FROM public.workshop_registrations r
                   WHERE r.workshop_id = NEW.id AND r.status <> 'cancelled') THEN
        RAISE EXCEPTION 'a published workshop with registrations does not move its start into the past'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'workshop_move_past';
    END IF;
    IF NEW.capacity < OLD.capacity AND NEW.capacity < OLD.enrolled_count THEN
        RAISE EXCEPTION 'the capacity cannot go below the % seats taken', OLD.enrolled_count
            USING ERRCODE = 'check_violation', CONSTRAINT = 'workshop_capacity_below_seats';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NEW.status = 'published' AND NEW.start_time <= now() THEN
            RAISE EXCEPTION 'a workshop is published before it starts'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'workshop_publish_past';
        ELSIF NEW.status = 'completed' AND (OLD.status <> 'published' OR NEW.end_time > now()) THEN
            RAISE EXCEPTION 'only a published workshop that has ended is completed'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'workshop_complete_early';
        ELSIF NEW.status IN ('draft', 'cancelled')
              AND EXISTS (SELECT 1 FROM public.workshop_registrations r
                          WHERE r.workshop_id = NEW.id AND r.status <> 'cancelled') THEN
            RAISE EXCEPTION 'a workshop with registrations is cancelled through cancel_workshop()'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'workshop_has_registrations';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER guard_workshop_lifecycle BEFORE UPDATE ON public.workshops
    FOR EACH ROW EXECUTE FUNCTION private.guard_workshop_lifecycle();

-- Cancel a workshop: the owner or an admin. Registrations first (by id), then
-- the workshop; every live registration cancelled (paid ones marked for their
-- refund by the trigger), every registrant told. Returns how many were told.
CREATE FUNCTION public.cancel_workshop(p_workshop_id uuid) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    w record;
    r record;
    told integer := 0;
BEGIN
    IF NOT (p_workshop_id = ANY (rls.owned_workshop_ids()) OR rls.is_admin()) THEN
        RAISE EXCEPTION 'no such workshop' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'workshop_not_found';
    END IF;
    PERFORM 1 FROM public.workshop_registrations WHERE workshop_id = p_workshop_id
    ORDER BY id FOR NO KEY UPDATE;
    SELECT id, title, slug, status, start_time INTO w FROM public.workshops WHERE id = p_workshop_id
    FOR NO KEY UPDATE;
    IF w.status NOT IN ('draft', 'published') THEN
        RAISE EXCEPTION 'a % workshop is no longer edited', w.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'workshop_closed';
    END IF;
    -- A workshop that has started was held (attendance may be taken): it is completed, not cancelled.
    IF w.status = 'published' AND w.start_time <= now() THEN
        RAISE EXCEPTION 'a workshop that has started is completed, not cancelled'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'workshop_cancel_started';
    END IF;
    UPDATE public.workshops SET status = 'cancelled' WHERE id = p_workshop_id;
    FOR r IN UPDATE public.workshop_registrations SET status = 'cancelled', payment_due_at = NULL
             WHERE workshop_id = p_workshop_id AND status IN ('registered', 'waitlisted')
             RETURNING id, user_id, refund_requested_at IS NOT NULL AS refunded LOOP
        PERFORM private.notify(r.user_id, 'workshop_cancelled', jsonb_build_object(
            'workshop_id', w.id, 'title', w.title, 'slug', w.slug, 'start_time', w.start_time,
            'refund', r.refunded), format('workshop_cancelled:%s', r.id));
        told := told + 1;
    END LOOP;
    RETURN told;
END
$$;

-- 8. attendance after the start (002's guard, with that rule) ---------------------------------
CREATE OR REPLACE FUNCTION public.guard_registrations() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT public.api_caller() OR NEW.status = OLD.status THEN
        RETURN NEW;
    END IF;
    IF NEW.user_id = (SELECT rls.uid()) AND NEW.status = 'cancelled'
       AND OLD.status IN ('registered', 'waitlisted') THEN
        RETURN NEW;
    END IF;
    IF public.is_workshop_staff(NEW.workshop_id) AND NEW.user_id IS DISTINCT FROM (SELECT rls.uid())
       AND NEW.status IN ('attended', 'no_show')
       AND OLD.status IN ('registered', 'attended', 'no_show')
       AND (NEW.status = 'no_show' OR OLD.payment_status = 'completed') THEN
        IF (SELECT start_time FROM public.workshops WHERE id = NEW.workshop_id) > now() THEN
            RAISE EXCEPTION 'attendance is taken once the workshop has started'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'attendance_before_start';
        END IF;
        RETURN NEW;
    END IF;
    PERFORM public.refuse(format('a registration cannot move from %s to %s here', OLD.status, NEW.status));
    RETURN NULL;
END
$$;

-- 9. feedback once the workshop has ended --------------------------------------------------------
CREATE FUNCTION private.feedback_after_end() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    -- Only what would otherwise be accepted is refused here (the caller's own row, an
    -- attendee's first): the policy and the unique key keep their own answers.
    IF (SELECT end_time FROM public.workshops WHERE id = NEW.workshop_id) > now()
       AND NEW.user_id = (SELECT rls.uid())
       AND EXISTS (SELECT 1 FROM public.workshop_registrations r WHERE r.workshop_id = NEW.workshop_id
                   AND r.user_id = NEW.user_id AND r.status = 'attended')
       AND NOT EXISTS (SELECT 1 FROM public.workshop_feedback f WHERE f.workshop_id = NEW.workshop_id
                       AND f.user_id = NEW.user_id) THEN
        RAISE EXCEPTION 'feedback opens when the workshop has ended'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'feedback_before_end';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER feedback_after_end BEFORE INSERT ON public.workshop_feedback
    FOR EACH ROW EXECUTE FUNCTION private.feedback_after_end();

-- 10. facilitators: the workshop locked before the registration check -------------------------
CREATE OR REPLACE FUNCTION public.check_co_teacher() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
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
        -- register_for_workshop locks the workshop before it looks for a facilitator: so here.
        SELECT instructor_id INTO owner FROM public.workshops WHERE id = NEW.workshop_id FOR NO KEY UPDATE;
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
$$;

-- The owner adds a facilitator by email (add_course_instructor's rule: the owner
-- cannot read other users' rows; the answer is the new row or "no such instructor").
CREATE FUNCTION public.add_workshop_facilitator(p_workshop_id uuid, p_email text,
                                                p_role public.workshop_facilitator_role) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    teacher uuid;
    new_id uuid;
BEGIN
    IF NOT (p_workshop_id = ANY (rls.owned_workshop_ids()) OR rls.is_admin()) THEN
        RAISE EXCEPTION 'no such workshop' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'workshop_not_found';
    END IF;
    IF p_role = 'primary' THEN
        RAISE EXCEPTION 'the owner is the one primary teacher' USING ERRCODE = 'check_violation', CONSTRAINT = 'team_primary_is_owner';
    END IF;
    SELECT id INTO teacher FROM public.users
    WHERE email = btrim(p_email)::citext AND role = 'instructor' AND is_active;
    IF teacher IS NULL THEN
        RAISE EXCEPTION 'no active instructor has that email' USING ERRCODE = 'check_violation', CONSTRAINT = 'team_no_such_instructor';
    END IF;
    INSERT INTO public.workshop_facilitators (workshop_id, facilitator_id, role)
    VALUES (p_workshop_id, teacher, p_role)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- 11. the calendar feed ----------------------------------------------------------------------
-- The instructor's secret feed address: the app makes a random token and stores
-- its SHA-256 (hex) in instructor_settings.calendar_feed_hash (the instructor's
-- own row, their update policy); a new one replaces the old, which stops working.

-- The workshops a feed token's instructor owns or facilitates (published,
-- completed and cancelled: a cancelled event is sent as cancelled), when their
-- calendar sync is on. No meeting link (the feed address is a bearer secret,
-- but a calendar may be shared): the event links to the workshop's page.
-- A valid token always answers at least one row (id NULL when there is no
-- workshop), so an unknown token or sync turned off (no row) is told apart.
CREATE FUNCTION public.calendar_feed_workshops(p_token text)
RETURNS TABLE (id uuid, title text, slug text, description text, start_time timestamptz, end_time timestamptz,
               timezone text, location text, status public.workshop_status, type public.workshop_type,
               ical_sequence integer, updated_at timestamptz, feed_owner text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH me AS (
        SELECT s.user_id, u.full_name FROM public.instructor_settings s JOIN public.users u ON u.id = s.user_id
        WHERE p_token ~ '^[A-Za-z0-9_-]{32,64}$'
          AND s.calendar_feed_hash = encode(sha256(convert_to(p_token, 'UTF8')), 'hex')
          AND s.calendar_sync_enabled AND u.is_active),
    mine AS (
        SELECT w.* FROM public.workshops w, me
        WHERE (w.instructor_id = me.user_id
               OR w.id IN (SELECT f.workshop_id FROM public.workshop_facilitators f WHERE f.facilitator_id = me.user_id))
          AND w.status <> 'draft' AND w.start_time > now() - interval '180 days'
        ORDER BY w.start_time, w.id
        LIMIT 500)
    SELECT w.id, w.title, w.slug::text, w.description, w.start_time, w.end_time, w.timezone, w.location,
           w.status, w.type, w.ical_sequence, w.updated_at, me.full_name
    FROM me LEFT JOIN mine w ON true
    ORDER BY w.start_time, w.id
$$;

-- 12. paying for a seat: the courses' checkout and webhook path -------------------------------------
-- A checkout pays for one thing: an enrollment (a course) or a registration (a workshop).
ALTER TABLE public.checkouts
    ALTER COLUMN enrollment_id DROP NOT NULL,
    ALTER COLUMN course_id DROP NOT NULL,
    ADD COLUMN registration_id uuid REFERENCES public.workshop_registrations (id) ON DELETE CASCADE,
    ADD COLUMN workshop_id uuid REFERENCES public.workshops (id) ON DELETE CASCADE,
    ADD CONSTRAINT checkout_pays_one_thing
        CHECK (num_nonnulls(enrollment_id, registration_id) = 1
               AND (enrollment_id IS NULL) = (course_id IS NULL)
               AND (registration_id IS NULL) = (workshop_id IS NULL));
CREATE UNIQUE INDEX uq_checkouts_one_open_per_registration ON public.checkouts (registration_id)
    WHERE status = 'open';
CREATE INDEX idx_checkouts_workshop ON public.checkouts (workshop_id) WHERE workshop_id IS NOT NULL;
-- The workshop's owner and its organization's admin read its checkouts, as they read its revenue.
CREATE POLICY checkouts_read_workshop ON public.checkouts FOR SELECT TO authenticated
    USING (workshop_id = ANY ((SELECT rls.owned_workshop_ids())::uuid[])
           OR workshop_id = ANY ((SELECT rls.org_workshop_ids())::uuid[]));
GRANT SELECT (registration_id, workshop_id) ON public.checkouts TO authenticated, service_role;

-- The sale a succeeded checkout paid, an enrollment's or a registration's (020's, now for
-- both): the provider's refund of a seat's checkout (apply_refund_event) refunds the seat's sale.
CREATE OR REPLACE FUNCTION private.checkout_sale(p_checkout_id uuid) RETURNS uuid
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT r.id FROM public.checkouts c
    JOIN public.revenue_transactions r
      ON (r.enrollment_id = c.enrollment_id AND r.transaction_type = 'course_enrollment')
      OR (r.workshop_registration_id = c.registration_id AND r.transaction_type = 'workshop_registration')
    WHERE c.id = p_checkout_id AND c.status = 'succeeded'
$$;

-- The student's checkout of their held seat (start_checkout's rules, for a registration):
-- one open checkout per registration, resumed by a second click; a new price closes it.
CREATE FUNCTION public.start_workshop_checkout(p_registration_id uuid, p_provider text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    uid uuid := (SELECT rls.uid());
    r record;
    open_checkout record;
    new_id uuid;
BEGIN
    SELECT reg.id, reg.user_id, reg.workshop_id, reg.status, reg.payment_status, w.price_amount, w.currency
    INTO r
    FROM public.workshop_registrations reg JOIN public.workshops w ON w.id = reg.workshop_id
    WHERE reg.id = p_registration_id AND reg.user_id = uid
    FOR NO KEY UPDATE OF reg;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such registration' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'registration_not_found';
    END IF;
    IF r.payment_status IN ('completed', 'refunded') THEN
        RAISE EXCEPTION 'this seat is already paid' USING ERRCODE = 'check_violation', CONSTRAINT = 'already_paid';
    END IF;
    IF r.status <> 'registered' OR r.price_amount = 0 THEN
        RAISE EXCEPTION 'only a held seat of a paid workshop is paid for'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'registration_not_payable';
    END IF;
    SELECT id, amount, currency INTO open_checkout
    FROM public.checkouts WHERE registration_id = r.id AND status = 'open' FOR NO KEY UPDATE;
    IF FOUND THEN
        IF (open_checkout.amount, open_checkout.currency) = (r.price_amount, r.currency) THEN
            RETURN open_checkout.id;
        END IF;
        UPDATE public.checkouts SET status = 'failed', settled_at = now(),
               failure_reason = 'The price changed: this checkout was closed.'
        WHERE id = open_checkout.id;
    END IF;
    INSERT INTO public.checkouts (registration_id, workshop_id, user_id, provider, amount, currency)
    VALUES (r.id, r.workshop_id, r.user_id, p_provider, r.price_amount, r.currency)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- A registration that ends (cancelled, lapsed, refunded) closes its open checkout.
CREATE FUNCTION private.close_checkouts_of_ended_registration() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE public.checkouts SET status = 'failed', settled_at = now(),
           failure_reason = 'The registration was cancelled: nothing to pay.'
    WHERE registration_id = NEW.id AND status = 'open';
    RETURN NULL;
END
$$;
CREATE TRIGGER close_checkouts_of_ended_registration AFTER UPDATE OF status ON public.workshop_registrations
    FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status <> 'cancelled')
    EXECUTE FUNCTION private.close_checkouts_of_ended_registration();

-- The payment webhook's one function (005), now also for a workshop seat's checkout
-- (the course branch below is 005's, unchanged).
CREATE OR REPLACE FUNCTION public.apply_payment_event(p_event_id text, p_checkout_id uuid, p_kind text, p_reason text DEFAULT NULL::text, p_payload jsonb DEFAULT '{}'::jsonb)
 RETURNS text
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
    -- 021: a workshop seat's checkout. Lock order: registration, then checkout (as
    -- start_workshop_checkout); the seat must still be held (registered, not paid).
    IF EXISTS (SELECT 1 FROM public.checkouts WHERE id = p_checkout_id AND registration_id IS NOT NULL) THEN
        SELECT reg.id, reg.status, reg.payment_status INTO en
        FROM public.workshop_registrations reg JOIN public.checkouts c ON c.registration_id = reg.id
        WHERE c.id = p_checkout_id
        FOR NO KEY UPDATE OF reg;
        SELECT * INTO ch FROM public.checkouts WHERE id = p_checkout_id FOR NO KEY UPDATE;
        IF ch.status <> 'open' OR en.status <> 'registered' OR en.payment_status IN ('completed', 'refunded') THEN
            result := 'ignored';
        ELSIF p_kind = 'payment.succeeded' THEN
            UPDATE public.checkouts SET status = 'succeeded', settled_at = now() WHERE id = ch.id;
            UPDATE public.workshop_registrations SET payment_status = 'completed', amount_paid = ch.amount
            WHERE id = en.id;
            result := 'succeeded';
        ELSE
            UPDATE public.checkouts
            SET status = 'failed', settled_at = now(),
                failure_reason = left(coalesce(nullif(btrim(p_reason), ''), 'The payment was declined.'), 500)
            WHERE id = ch.id;
            result := 'failed';   -- the seat stays held until its payment_due_at
        END IF;
        UPDATE public.payment_events SET checkout_id = ch.id, outcome = result WHERE event_id = p_event_id;
        RETURN result;
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
$function$;

-- 13. certificates of attendance -------------------------------------------------------------------
-- When the workshop gives one, marking a seat attended issues its certificate (once); it is verified
-- at the same address as a course's (verify_certificate, below), and revoked if the seat is no longer
-- attended or its payment was refunded.
CREATE TABLE public.workshop_certificates (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    registration_id uuid NOT NULL UNIQUE REFERENCES public.workshop_registrations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    workshop_id     uuid NOT NULL REFERENCES public.workshops (id) ON DELETE CASCADE,
    code            text NOT NULL UNIQUE DEFAULT replace(gen_random_uuid()::text, '-', ''),
    student_name    text NOT NULL,
    workshop_title  text NOT NULL,
    instructor_name text NOT NULL,
    issued_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_workshop_certificates_user ON public.workshop_certificates (user_id);
CREATE INDEX idx_workshop_certificates_workshop ON public.workshop_certificates (workshop_id);
ALTER TABLE public.workshop_certificates ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.workshop_certificates FORCE ROW LEVEL SECURITY;
CREATE POLICY workshop_certificates_read ON public.workshop_certificates FOR SELECT TO authenticated
    USING (user_id = (SELECT rls.uid())
           OR workshop_id = ANY ((SELECT rls.workshop_ids())::uuid[])
           OR workshop_id = ANY ((SELECT rls.org_workshop_ids())::uuid[])
           OR (SELECT rls.is_admin()));
REVOKE ALL ON public.workshop_certificates FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT SELECT ON public.workshop_certificates TO authenticated, service_role;

CREATE FUNCTION private.issue_workshop_certificate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    issued record;
BEGIN
    INSERT INTO public.workshop_certificates (registration_id, user_id, workshop_id, student_name, workshop_title,
                                              instructor_name)
    SELECT NEW.id, NEW.user_id, w.id, s.full_name, w.title, t.full_name
    FROM public.workshops w JOIN public.users s ON s.id = NEW.user_id JOIN public.users t ON t.id = w.instructor_id
    WHERE w.id = NEW.workshop_id AND w.certificate_enabled
    ON CONFLICT (registration_id) DO NOTHING
    RETURNING id, code, workshop_title INTO issued;
    IF issued.id IS NOT NULL THEN
        PERFORM private.notify(NEW.user_id, 'certificate_issued', jsonb_build_object(
            'workshop_id', NEW.workshop_id, 'course_title', issued.workshop_title, 'code', issued.code),
            format('certificate:%s', issued.id));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER issue_workshop_certificate AFTER UPDATE OF status ON public.workshop_registrations
    FOR EACH ROW WHEN (NEW.status = 'attended' AND OLD.status IS DISTINCT FROM 'attended')
    EXECUTE FUNCTION private.issue_workshop_certificate();

CREATE OR REPLACE FUNCTION public.verify_certificate(p_code text)
 RETURNS TABLE(code text, student_name text, course_title text, instructor_name text, issued_at timestamp with time zone, course_slug citext, revoked boolean)
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
    -- revoked: the enrollment behind it was refunded after the certificate was issued.
    SELECT ce.code, ce.student_name, ce.course_title, ce.instructor_name, ce.issued_at,
           CASE WHEN c.status = 'published' THEN c.slug END,
           e.status = 'refunded'
    FROM public.certificates ce
    JOIN public.course_enrollments e ON e.id = ce.enrollment_id
    JOIN public.courses c ON c.id = ce.course_id
    WHERE ce.code = lower(btrim(p_code))
    UNION ALL
    -- 021: a workshop's certificate of attendance (no course page to link to).
    SELECT wc.code, wc.student_name, wc.workshop_title, wc.instructor_name, wc.issued_at, NULL::citext,
           r.status <> 'attended' OR r.payment_status = 'refunded'
    FROM public.workshop_certificates wc
    JOIN public.workshop_registrations r ON r.id = wc.registration_id
    WHERE wc.code = lower(btrim(p_code))
$function$;

-- The teachers of a published (or held) workshop by name, as course_teachers does for courses:
-- the owner first (primary), then the facilitators with their roles.
CREATE VIEW public.workshop_teachers AS
SELECT w.id AS workshop_id, w.instructor_id AS teacher_id, 'primary'::public.workshop_facilitator_role AS role,
       u.full_name, coalesce(p.visibility = 'public', false) AS has_public_profile
FROM public.workshops w JOIN public.users u ON u.id = w.instructor_id
LEFT JOIN public.instructor_profiles p ON p.user_id = w.instructor_id
WHERE w.status IN ('published', 'completed')
UNION ALL
SELECT f.workshop_id, f.facilitator_id, f.role, u.full_name, coalesce(p.visibility = 'public', false)
FROM public.workshop_facilitators f
JOIN public.workshops w ON w.id = f.workshop_id
JOIN public.users u ON u.id = f.facilitator_id
LEFT JOIN public.instructor_profiles p ON p.user_id = f.facilitator_id
WHERE w.status IN ('published', 'completed');
REVOKE ALL ON public.workshop_teachers FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT SELECT ON public.workshop_teachers TO anon, authenticated, service_role;

-- 12. notification events (positions 550-599) ------------------------------------------------
INSERT INTO public.notification_events (event_type, audience, label, email_default, in_portal_default, position)
VALUES ('workshop_cancelled', 'student', 'A workshop you registered for is cancelled', true, true, 550),
       ('workshop_seat', 'student', 'A seat from a workshop waitlist is yours, or a held seat lapses', true, true, 560);

-- 13. grants -----------------------------------------------------------------------------------
GRANT SELECT (refund_cutoff_hours, ical_sequence) ON public.workshops TO anon, authenticated, service_role;
GRANT INSERT (refund_cutoff_hours), UPDATE (refund_cutoff_hours) ON public.workshops TO authenticated;
GRANT SELECT (payment_due_at, refund_requested_at) ON public.workshop_registrations TO authenticated, service_role;

REVOKE ALL ON FUNCTION private.seat_hold(boolean), private.refund_cancelled_seat(uuid),
    private.promote_waitlist(uuid), private.release_lapsed_seats(timestamptz), private.clear_paid_hold(),
    private.mark_seat_refund(), private.seat_freed(), private.capacity_grew(),
    private.guard_workshop_lifecycle(), private.feedback_after_end(),
    public.cancel_workshop(uuid), public.add_workshop_facilitator(uuid, text, public.workshop_facilitator_role),
    public.calendar_feed_workshops(text), public.start_workshop_checkout(uuid, text),
    private.close_checkouts_of_ended_registration(), private.issue_workshop_certificate()
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION public.cancel_workshop(uuid),
    public.add_workshop_facilitator(uuid, text, public.workshop_facilitator_role),
    public.start_workshop_checkout(uuid, text) TO authenticated;
GRANT UPDATE (calendar_feed_hash) ON public.instructor_settings TO authenticated;
GRANT EXECUTE ON FUNCTION public.calendar_feed_workshops(text) TO anon, authenticated;
GRANT EXECUTE ON FUNCTION private.release_lapsed_seats(timestamptz) TO portal_worker;
-- A seat is paid through its checkout and the webhook (apply_payment_event) alone: 002's direct
-- confirmation bypassed the checkout records, so no API role runs it any more.
REVOKE ALL ON FUNCTION public.confirm_workshop_payment(uuid)
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
