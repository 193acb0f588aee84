-- 020: revenue (issue 16): refunds of any sale, payout batches, the money
-- invariants, and the reads the revenue pages need.
--
--   1. The refund window (a platform setting, default 14 days).
--   2. Payouts: one batch per instructor and currency, created by an admin
--      from every completed, unpaid, past-the-refund-window sale (and every
--      unpaid refund whose sale is batched or paid: a refund after payout is
--      carried to the next batch as a negative line), reviewed, then marked
--      paid. revenue_transactions.payout_id names the batch a row is in: a row
--      is paid out at most once by construction. Rows already paid before 020
--      get one paid batch per instructor, currency and payout date.
--   3. Refunds: private.refund_sale() does the work for every kind of sale (a
--      course enrollment or a workshop registration): a negative mirror row
--      (in full, or in part: the fee refunded in proportion, rounded at the
--      cent by public.platform_fee), the enrollment or registration ended (a
--      refunded enrollment's certificate verifies as revoked, 005), the
--      student told. A sale may be refunded several times (the provider's partial
--      refunds, an admin's), never past what was paid: the sum is capped under the sale's
--      lock (002's one-refund-per-sale index is dropped). Callers: public.refund_my_sale() (the sale's instructor,
--      in full, within the window), public.admin_refund_sale() (an admin, in
--      full or in part), public.apply_refund_event() (the payment webhook,
--      service_role, once per event id), and 002's older paths, redefined here to go
--      through it: refund_course_enrollment / refund_workshop_registration (the payment
--      service), admin_refund (the back office), record_refund (any other writer that
--      marks a purchase refunded).
--   4. The money invariants: private.verify_money(), in the verifier's shape,
--      included in private.verify_figures() (the nightly job) and `db verify`.
--   5. Reads: the revenue overview's figures for a period, the payouts an
--      instructor sees, a student's own payments and refunds (receipts).
--
-- Lock order: the enrollment or registration, then its revenue rows (as the
-- 002 triggers: an enrollment's update writes its revenue row), then payouts.

-- 1. The refund window -------------------------------------------------------------------

CREATE TABLE private.money_settings (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    refund_window interval NOT NULL DEFAULT '14 days'
                  CHECK (refund_window >= interval '0' AND refund_window <= interval '365 days')
);
ALTER TABLE private.money_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.money_settings FORCE ROW LEVEL SECURITY;
REVOKE ALL ON private.money_settings FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
INSERT INTO private.money_settings DEFAULT VALUES;

-- How long after a sale its instructor may refund it, and before which it is not paid out.
CREATE FUNCTION public.refund_window() RETURNS interval
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce((SELECT refund_window FROM private.money_settings), interval '14 days')
$$;

-- 2. Payouts ---------------------------------------------------------------------------------

CREATE TYPE public.payout_batch_status AS ENUM ('scheduled', 'paid', 'cancelled');

CREATE TABLE public.payouts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    instructor_id uuid NOT NULL REFERENCES public.users (id) ON DELETE RESTRICT,
    currency      char(3) NOT NULL DEFAULT 'USD',
    status        public.payout_batch_status NOT NULL DEFAULT 'scheduled',
    -- The sums of its rows (kept when it is made; private.verify_money checks them).
    line_count    integer NOT NULL DEFAULT 0 CHECK (line_count >= 0),
    gross_amount  numeric(12,2) NOT NULL DEFAULT 0,
    fee_amount    numeric(12,2) NOT NULL DEFAULT 0,
    total_amount  numeric(12,2) NOT NULL DEFAULT 0,
    -- Sales before it were eligible (now() less the refund window when made).
    cutoff        timestamptz NOT NULL,
    scheduled_for date NOT NULL,
    created_by    uuid REFERENCES public.users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    paid_at       timestamptz,
    paid_by       uuid REFERENCES public.users (id) ON DELETE SET NULL,
    reference     text CHECK (char_length(reference) <= 200),
    CONSTRAINT payout_amount_is_gross_less_fees CHECK (total_amount = gross_amount - fee_amount),
    CONSTRAINT paid_payouts_have_a_date CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
CREATE UNIQUE INDEX uq_payouts_one_scheduled ON public.payouts (instructor_id, currency)
    WHERE status = 'scheduled';
CREATE INDEX idx_payouts_instructor ON public.payouts (instructor_id, created_at DESC, id DESC);
CREATE INDEX idx_payouts_status ON public.payouts (status, created_at DESC, id DESC);

ALTER TABLE public.revenue_transactions
    ADD COLUMN payout_id uuid REFERENCES public.payouts (id) ON DELETE RESTRICT;
-- A payout's rows (its page and statement), and the rows not yet in a batch (what a batch takes).
CREATE INDEX idx_revenue_payout ON public.revenue_transactions (payout_id, transaction_date, id)
    WHERE payout_id IS NOT NULL;
CREATE INDEX idx_revenue_unbatched ON public.revenue_transactions (instructor_id, currency, transaction_date)
    WHERE payout_id IS NULL AND payout_status = 'pending' AND payment_status = 'completed';
-- The transactions page: an instructor's rows newest first (keyset), with what its filters
-- and sums read, index-only.
CREATE INDEX idx_revenue_instructor_page ON public.revenue_transactions
    (instructor_id, transaction_date DESC, id DESC)
    INCLUDE (transaction_type, amount, platform_fee_amount, instructor_earnings, payout_status,
             payment_status, course_id, workshop_id);
CREATE INDEX idx_revenue_course_page ON public.revenue_transactions (course_id, transaction_date DESC, id DESC)
    WHERE course_id IS NOT NULL;
CREATE INDEX idx_revenue_student_page ON public.revenue_transactions (student_id, transaction_date DESC, id DESC);
CREATE INDEX idx_revenue_refund_of ON public.revenue_transactions (refund_of) WHERE refund_of IS NOT NULL;
-- The transactions page filtered to refunds (of a course, or all of an instructor's), newest first.
CREATE INDEX idx_revenue_course_refunds ON public.revenue_transactions (course_id, transaction_date DESC, id DESC)
    WHERE transaction_type = 'refund';
CREATE INDEX idx_revenue_instructor_refunds ON public.revenue_transactions
    (instructor_id, transaction_date DESC, id DESC) WHERE transaction_type = 'refund';

-- Rows paid before 020: one paid batch per instructor, currency and payout date.
WITH batches AS (
    INSERT INTO public.payouts (instructor_id, currency, status, line_count, gross_amount, fee_amount,
                                total_amount, cutoff, scheduled_for, paid_at)
    SELECT instructor_id, currency, 'paid', count(*), sum(amount), sum(platform_fee_amount),
           sum(instructor_earnings), payout_date, payout_date::date, payout_date
    FROM public.revenue_transactions
    WHERE payout_status = 'paid' AND payout_id IS NULL
    GROUP BY instructor_id, currency, payout_date
    RETURNING id, instructor_id, currency, paid_at)
UPDATE public.revenue_transactions r SET payout_id = b.id
FROM batches b
WHERE r.payout_status = 'paid' AND r.payout_id IS NULL
  AND (r.instructor_id, r.currency, r.payout_date) = (b.instructor_id, b.currency, b.paid_at);

-- The next payout day after p_after on a schedule: weekly, the next Monday; biweekly, every
-- other Monday counted from a fixed Monday (2000-01-10; the even ISO weeks of 2026), so a
-- 53-week ISO year never makes two payout weeks in a row or a three-week gap; monthly, the
-- first of the next month.
CREATE FUNCTION public.next_payout_date(p_schedule text, p_after date) RETURNS date
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT CASE p_schedule
        WHEN 'weekly' THEN p_after + (8 - extract(isodow FROM p_after)::integer)
        WHEN 'biweekly' THEN
            p_after + (8 - extract(isodow FROM p_after)::integer)
            + CASE WHEN ((p_after + (8 - extract(isodow FROM p_after)::integer) - date '2000-01-10') / 7) % 2 <> 0
                   THEN 7 ELSE 0 END
        ELSE (date_trunc('month', p_after) + interval '1 month')::date
    END
$$;

CREATE FUNCTION private.refuse_money(p_code text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    CASE p_code
    WHEN 'sale_not_found' THEN
        RAISE EXCEPTION 'no such sale' USING ERRCODE = 'no_data_found', CONSTRAINT = 'sale_not_found';
    WHEN 'sale_already_refunded' THEN
        RAISE EXCEPTION 'this sale was refunded already'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'sale_already_refunded';
    WHEN 'refund_amount_range' THEN
        RAISE EXCEPTION 'a refund is more than 0 and at most the sale, in cents'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_amount_range';
    WHEN 'refund_reason_required' THEN
        RAISE EXCEPTION 'a refund says why (1 to 500 characters)'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_reason_required';
    WHEN 'refund_window_closed' THEN
        RAISE EXCEPTION 'the refund window of this sale has closed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_window_closed';
    WHEN 'payout_already_scheduled' THEN
        RAISE EXCEPTION 'this instructor has a scheduled payout in this currency'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'payout_already_scheduled';
    WHEN 'nothing_to_pay_out' THEN
        RAISE EXCEPTION 'nothing to pay out'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'nothing_to_pay_out';
    WHEN 'payout_not_scheduled' THEN
        RAISE EXCEPTION 'this payout is not scheduled (paid or cancelled already)'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_not_scheduled';
    WHEN 'payout_not_found' THEN
        RAISE EXCEPTION 'no such payout' USING ERRCODE = 'no_data_found', CONSTRAINT = 'payout_not_found';
    WHEN 'payout_rows_changed' THEN
        RAISE EXCEPTION 'this payout''s rows no longer add up to its totals'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payout_rows_changed';
    ELSE
        RAISE EXCEPTION 'refused' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'not_permitted';
    END CASE;
END
$$;

-- An admin makes the next payout of an instructor in a currency: every completed sale not
-- in a batch, unpaid, older than the refund window; and every unpaid refund not in a batch
-- whose sale is in a batch (this one or an earlier one). Refused when a scheduled one exists
-- or when the total would not be positive (refunds then wait for later earnings).
CREATE FUNCTION public.create_payout(p_instructor_id uuid, p_currency char(3) DEFAULT 'USD') RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    uid uuid := (SELECT rls.uid());
    new_id uuid;
    sums record;
    schedule text;
BEGIN
    IF NOT (SELECT rls.is_admin()) THEN
        RAISE EXCEPTION 'only an administrator pays out' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    IF EXISTS (SELECT 1 FROM public.payouts
               WHERE instructor_id = p_instructor_id AND currency = p_currency AND status = 'scheduled') THEN
        PERFORM private.refuse_money('payout_already_scheduled');
    END IF;
    SELECT coalesce(s.payout_schedule, 'monthly') INTO schedule
    FROM (SELECT 1) one LEFT JOIN public.instructor_settings s ON s.user_id = p_instructor_id;
    INSERT INTO public.payouts (instructor_id, currency, cutoff, scheduled_for, created_by)
    VALUES (p_instructor_id, p_currency, now() - public.refund_window(),
            public.next_payout_date(schedule, current_date), uid)
    RETURNING id INTO new_id;
    -- The courses and workshops of the rows first (in id order), then the rows: the lock order
    -- of refunds and of paying out (private.lock_payout_items), whatever follows in this transaction.
    PERFORM 1 FROM public.courses c
    WHERE c.id IN (SELECT r.course_id FROM public.revenue_transactions r
                   WHERE r.instructor_id = p_instructor_id AND r.currency = p_currency AND r.payout_id IS NULL
                     AND r.payout_status = 'pending' AND r.payment_status = 'completed')
    ORDER BY c.id FOR NO KEY UPDATE;
    PERFORM 1 FROM public.workshops w
    WHERE w.id IN (SELECT r.workshop_id FROM public.revenue_transactions r
                   WHERE r.instructor_id = p_instructor_id AND r.currency = p_currency AND r.payout_id IS NULL
                     AND r.payout_status = 'pending' AND r.payment_status = 'completed')
    ORDER BY w.id FOR NO KEY UPDATE;
    UPDATE public.revenue_transactions
    SET payout_id = new_id
    WHERE instructor_id = p_instructor_id AND currency = p_currency
      AND payout_id IS NULL AND payout_status = 'pending' AND payment_status = 'completed'
      AND transaction_type <> 'refund' AND transaction_date < now() - public.refund_window();
    UPDATE public.revenue_transactions r
    SET payout_id = new_id
    WHERE r.instructor_id = p_instructor_id AND r.currency = p_currency
      AND r.payout_id IS NULL AND r.payout_status = 'pending' AND r.payment_status = 'completed'
      AND r.transaction_type = 'refund'
      AND EXISTS (SELECT 1 FROM public.revenue_transactions s WHERE s.id = r.refund_of AND s.payout_id IS NOT NULL);
    SELECT count(*)::integer AS n, coalesce(sum(amount), 0) AS gross, coalesce(sum(platform_fee_amount), 0) AS fees,
           coalesce(sum(instructor_earnings), 0) AS total
    INTO sums FROM public.revenue_transactions WHERE payout_id = new_id;
    IF sums.n = 0 OR sums.total <= 0 THEN
        PERFORM private.refuse_money('nothing_to_pay_out');
    END IF;
    UPDATE public.payouts
    SET line_count = sums.n, gross_amount = sums.gross, fee_amount = sums.fees, total_amount = sums.total
    WHERE id = new_id;
    RETURN new_id;
END
$$;

-- Paying rows out moves their courses' and workshops' pending payout (008's trigger), row by
-- row. The courses and workshops are locked first, in id order, before any row: a refund
-- (private.refund_sale) locks its course before its sale, so the two wait for each other in one
-- order instead of each holding what the other needs.
CREATE FUNCTION private.lock_payout_items(p_payout_id uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT count(*) FROM (SELECT c.id FROM public.courses c
                          WHERE c.id IN (SELECT r.course_id FROM public.revenue_transactions r
                                         WHERE r.payout_id = p_payout_id)
                          ORDER BY c.id FOR NO KEY UPDATE) locked_courses;
    SELECT count(*) FROM (SELECT w.id FROM public.workshops w
                          WHERE w.id IN (SELECT r.workshop_id FROM public.revenue_transactions r
                                         WHERE r.payout_id = p_payout_id)
                          ORDER BY w.id FOR NO KEY UPDATE) locked_workshops;
$$;

-- An admin marks a reviewed payout paid: its rows are paid out, the instructor is told. The
-- rows are locked and summed again first: should they no longer be exactly what the payout
-- was made of (a row paid another way, or moved), it is refused rather than pay its stored total.
CREATE FUNCTION public.mark_payout_paid(p_payout_id uuid, p_reference text DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    p record;
    n integer;
    sums record;
BEGIN
    IF NOT (SELECT rls.is_admin()) THEN
        RAISE EXCEPTION 'only an administrator pays out' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    SELECT * INTO p FROM public.payouts WHERE id = p_payout_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM private.refuse_money('payout_not_found');
    END IF;
    IF p.status <> 'scheduled' THEN
        PERFORM private.refuse_money('payout_not_scheduled');
    END IF;
    PERFORM private.lock_payout_items(p.id);
    PERFORM 1 FROM public.revenue_transactions WHERE payout_id = p.id ORDER BY id FOR UPDATE;
    SELECT count(*)::integer AS n, coalesce(sum(amount), 0) AS gross, coalesce(sum(platform_fee_amount), 0) AS fees,
           coalesce(sum(instructor_earnings), 0) AS total,
           count(*) FILTER (WHERE payout_status <> 'pending' OR payment_status <> 'completed'
                                  OR instructor_id <> p.instructor_id OR currency <> p.currency) AS odd
    INTO sums FROM public.revenue_transactions WHERE payout_id = p.id;
    IF sums.odd > 0 OR (sums.n, sums.gross, sums.fees, sums.total)
                       IS DISTINCT FROM (p.line_count, p.gross_amount, p.fee_amount, p.total_amount) THEN
        PERFORM private.refuse_money('payout_rows_changed');
    END IF;
    UPDATE public.revenue_transactions SET payout_status = 'paid', payout_date = now()
    WHERE payout_id = p.id AND payout_status = 'pending';
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE public.payouts
    SET status = 'paid', paid_at = now(), paid_by = (SELECT rls.uid()),
        reference = nullif(left(btrim(coalesce(p_reference, '')), 200), '')
    WHERE id = p.id;
    PERFORM private.notify(p.instructor_id, 'payout_paid',
        jsonb_build_object('payout_id', p.id, 'amount', p.total_amount, 'currency', p.currency,
                           'line_count', p.line_count),
        'payout:' || p.id || ':paid');
    RETURN n;
END
$$;

-- An admin cancels a scheduled payout: its rows go back to wait for the next one.
CREATE FUNCTION public.cancel_payout(p_payout_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    p record;
BEGIN
    IF NOT (SELECT rls.is_admin()) THEN
        RAISE EXCEPTION 'only an administrator pays out' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    SELECT * INTO p FROM public.payouts WHERE id = p_payout_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM private.refuse_money('payout_not_found');
    END IF;
    IF p.status <> 'scheduled' THEN
        PERFORM private.refuse_money('payout_not_scheduled');
    END IF;
    UPDATE public.revenue_transactions SET payout_id = NULL WHERE payout_id = p.id;
    UPDATE public.payouts
    SET status = 'cancelled', line_count = 0, gross_amount = 0, fee_amount = 0, total_amount = 0
    WHERE id = p.id;
END
$$;

-- 002's mark_payouts_paid(ids) keeps working (the back office, the demo), through batches:
-- the given pending rows not in a payout yet become one paid payout per instructor and
-- currency. A row in a scheduled payout is that payout's to pay (never paid twice).
CREATE OR REPLACE FUNCTION public.mark_payouts_paid(p_transaction_ids uuid[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    g record;
    new_id uuid;
    n integer := 0;
    m integer;
BEGIN
    IF NOT public.is_platform_admin() THEN
        RAISE EXCEPTION 'only an administrator pays out' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    FOR g IN SELECT instructor_id, currency FROM public.revenue_transactions
             WHERE id = ANY (p_transaction_ids) AND payment_status = 'completed' AND payout_status = 'pending'
               AND payout_id IS NULL
             GROUP BY instructor_id, currency
    LOOP
        INSERT INTO public.payouts (instructor_id, currency, status, cutoff, scheduled_for, created_by,
                                    paid_at, paid_by)
        VALUES (g.instructor_id, g.currency, 'paid', now(), current_date, (SELECT rls.uid()), now(),
                (SELECT rls.uid()))
        RETURNING id INTO new_id;
        PERFORM 1 FROM public.courses c
        WHERE c.id IN (SELECT course_id FROM public.revenue_transactions WHERE id = ANY (p_transaction_ids))
        ORDER BY c.id FOR NO KEY UPDATE;
        PERFORM 1 FROM public.workshops w
        WHERE w.id IN (SELECT workshop_id FROM public.revenue_transactions WHERE id = ANY (p_transaction_ids))
        ORDER BY w.id FOR NO KEY UPDATE;
        UPDATE public.revenue_transactions
        SET payout_status = 'paid', payout_date = now(), payout_id = new_id
        WHERE id = ANY (p_transaction_ids) AND payment_status = 'completed' AND payout_status = 'pending'
          AND payout_id IS NULL AND instructor_id = g.instructor_id AND currency = g.currency;
        GET DIAGNOSTICS m = ROW_COUNT;
        IF m = 0 THEN  -- taken by a payout meanwhile: no empty paid batch
            DELETE FROM public.payouts WHERE id = new_id;
            CONTINUE;
        END IF;
        n := n + m;
        UPDATE public.payouts p
        SET line_count = s.n, gross_amount = s.gross, fee_amount = s.fees, total_amount = s.total
        FROM (SELECT count(*)::integer AS n, sum(amount) AS gross, sum(platform_fee_amount) AS fees,
                     sum(instructor_earnings) AS total
              FROM public.revenue_transactions WHERE payout_id = new_id) s
        WHERE p.id = new_id;
    END LOOP;
    RETURN n;
END
$$;

-- 3. Refunds -----------------------------------------------------------------------------

INSERT INTO public.notification_events (event_type, audience, label, email_default, in_portal_default, position)
VALUES ('refund_issued', 'student', 'A payment of yours is refunded', true, true, 500),
       ('payout_paid', 'instructor', 'A payout of your earnings is sent', true, true, 510);

-- A sale may be refunded more than once (the provider's partial refunds, an admin's), up to
-- what was paid: private.refund_sale caps the sum under the sale's lock, and so does this
-- trigger for any other writer (the owner included), in place of 002's one-refund index.
DROP INDEX public.uq_revenue_one_refund_per_sale;

CREATE FUNCTION private.check_refund_within_sale() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    paid numeric(12,2);
    done numeric(12,2);
BEGIN
    SELECT amount INTO paid FROM public.revenue_transactions WHERE id = NEW.refund_of FOR UPDATE;
    SELECT coalesce(-sum(amount), 0) INTO done FROM public.revenue_transactions WHERE refund_of = NEW.refund_of;
    IF done - NEW.amount > paid THEN
        RAISE EXCEPTION 'a sale''s refunds never sum past what was paid'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_exceeds_sale';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER check_refund_within_sale
    BEFORE INSERT ON public.revenue_transactions
    FOR EACH ROW WHEN (NEW.transaction_type = 'refund') EXECUTE FUNCTION private.check_refund_within_sale();

-- The refund of one sale (a course enrollment or a workshop registration), by anyone the
-- caller has checked: p_amount NULL refunds what is left of it (all of it when nothing was
-- refunded yet); p_whole refuses unless nothing was (the instructor's refund: in full, once).
-- Writes the negative mirror row (what is left of the sale's three figures negated, or for a
-- part, the fee at the sale's percentage rounded at the cent, kept within what is left of the
-- fee and of the earnings, and the earnings the rest), ends the enrollment (refunded: its
-- certificate verifies as revoked) or the registration (cancelled, refunded), and tells the
-- student. Refunds of a sale never sum past it (checked under the sale's lock). Returns the
-- refund row's id. The workshops area calls this for the paid seats of a cancelled workshop.
CREATE FUNCTION private.refund_sale(p_transaction_id uuid, p_amount numeric, p_reason text, p_actor uuid,
                                    p_whole boolean DEFAULT false)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    s record;
    refund numeric(12,2);
    fee numeric(12,2);
    done record;
    left_amount numeric(12,2);
    left_fee numeric(12,2);
    left_earnings numeric(12,2);
    why text := btrim(coalesce(p_reason, ''));
    refund_id uuid;
    item text;
BEGIN
    IF char_length(why) NOT BETWEEN 1 AND 500 THEN
        PERFORM private.refuse_money('refund_reason_required');
    END IF;
    SELECT id, enrollment_id, workshop_registration_id INTO s
    FROM public.revenue_transactions WHERE id = p_transaction_id AND transaction_type <> 'refund';
    IF NOT FOUND THEN
        PERFORM private.refuse_money('sale_not_found');
    END IF;
    -- Lock order (008's): what was bought, then its course or workshop (whose figures the refund
    -- moves), then its sale; paying out locks the courses and workshops before the rows too.
    PERFORM 1 FROM public.course_enrollments WHERE id = s.enrollment_id FOR NO KEY UPDATE;
    PERFORM 1 FROM public.workshop_registrations WHERE id = s.workshop_registration_id FOR NO KEY UPDATE;
    PERFORM 1 FROM public.revenue_transactions r JOIN public.courses c ON c.id = r.course_id
    WHERE r.id = p_transaction_id FOR NO KEY UPDATE OF c;
    PERFORM 1 FROM public.revenue_transactions r JOIN public.workshops w ON w.id = r.workshop_id
    WHERE r.id = p_transaction_id FOR NO KEY UPDATE OF w;
    SELECT * INTO s FROM public.revenue_transactions WHERE id = p_transaction_id FOR UPDATE;
    IF s.payment_status <> 'completed' THEN
        PERFORM private.refuse_money('sale_not_found');
    END IF;
    -- What is left of the sale, under its lock: every refund of it writes under this lock.
    SELECT count(*) AS n, coalesce(-sum(amount), 0) AS amount, coalesce(-sum(platform_fee_amount), 0) AS fees,
           coalesce(-sum(instructor_earnings), 0) AS earnings
    INTO done FROM public.revenue_transactions WHERE refund_of = s.id;
    left_amount := s.amount - done.amount;
    left_fee := s.platform_fee_amount - done.fees;
    left_earnings := s.instructor_earnings - done.earnings;
    IF left_amount <= 0 OR (p_whole AND done.n > 0) THEN
        PERFORM private.refuse_money('sale_already_refunded');
    END IF;
    IF p_amount IS NOT NULL AND (p_amount <= 0 OR p_amount > left_amount OR p_amount <> round(p_amount, 2)) THEN
        PERFORM private.refuse_money('refund_amount_range');
    END IF;
    refund := coalesce(p_amount, left_amount);
    IF refund <= 0 THEN
        PERFORM private.refuse_money('refund_amount_range');
    END IF;
    fee := CASE WHEN refund = left_amount THEN left_fee
                ELSE greatest(least(public.platform_fee(refund, s.platform_fee_percentage), left_fee),
                              refund - left_earnings) END;
    INSERT INTO public.revenue_transactions
        (instructor_id, student_id, course_id, workshop_id, enrollment_id, workshop_registration_id,
         refund_of, transaction_type, amount, currency, platform_fee_percentage, platform_fee_amount,
         instructor_earnings, payout_status, metadata)
    VALUES (s.instructor_id, s.student_id, s.course_id, s.workshop_id, s.enrollment_id,
            s.workshop_registration_id, s.id, 'refund', -refund, s.currency, s.platform_fee_percentage,
            -fee, -(refund - fee), 'pending',
            jsonb_build_object('reason', why, 'refunded_by', p_actor, 'partial', refund < s.amount))
    RETURNING id INTO refund_id;
    -- End what was bought (unless its writer marked it refunded already: 002's trigger path);
    -- 002's triggers then find the refund written and write no other.
    IF s.enrollment_id IS NOT NULL THEN
        UPDATE public.course_enrollments SET status = 'refunded', payment_status = 'refunded'
        WHERE id = s.enrollment_id AND payment_status IS DISTINCT FROM 'refunded';
    END IF;
    IF s.workshop_registration_id IS NOT NULL THEN
        UPDATE public.workshop_registrations SET status = 'cancelled', payment_status = 'refunded'
        WHERE id = s.workshop_registration_id AND payment_status IS DISTINCT FROM 'refunded';
    END IF;
    IF s.student_id IS NOT NULL THEN
        SELECT coalesce((SELECT title FROM public.courses WHERE id = s.course_id),
                        (SELECT title FROM public.workshops WHERE id = s.workshop_id)) INTO item;
        PERFORM private.notify(s.student_id, 'refund_issued',
            jsonb_build_object('refund_id', refund_id, 'sale_id', s.id, 'amount', refund,
                               'currency', s.currency, 'item_title', item, 'partial', refund < s.amount,
                               'course_id', s.course_id, 'workshop_id', s.workshop_id),
            'refund:' || refund_id);
    END IF;
    RETURN refund_id;
END
$$;

-- The sale's instructor refunds it in full within the refund window, with a reason: once, and
-- only a sale nothing of which was refunded yet.
CREATE FUNCTION public.refund_my_sale(p_transaction_id uuid, p_reason text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    uid uuid := (SELECT rls.uid());
    s record;
BEGIN
    SELECT instructor_id, transaction_date INTO s FROM public.revenue_transactions
    WHERE id = p_transaction_id AND transaction_type <> 'refund';
    IF NOT FOUND OR uid IS NULL OR s.instructor_id IS DISTINCT FROM uid THEN
        PERFORM private.refuse_money('sale_not_found');
    END IF;
    IF s.transaction_date < now() - public.refund_window() THEN
        PERFORM private.refuse_money('refund_window_closed');
    END IF;
    RETURN private.refund_sale(p_transaction_id, NULL, p_reason, uid, true);
END
$$;

-- An admin refunds any sale, in full (p_amount NULL: what is left of it) or in part, with a
-- reason; parts may follow each other up to what was paid.
CREATE FUNCTION public.admin_refund_sale(p_transaction_id uuid, p_amount numeric, p_reason text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT (SELECT rls.is_admin()) THEN
        RAISE EXCEPTION 'only an administrator refunds' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    RETURN private.refund_sale(p_transaction_id, p_amount, p_reason, (SELECT rls.uid()));
END
$$;

-- 002's older refund paths go through private.refund_sale too: its reason, its refund_issued
-- notice, its lock order (what was bought, its course or workshop, the sale) and its cap. A
-- purchase's refund there is in full (what is left of the sale); again, it is a no-op as in
-- 002. A purchase paid but with no sale written (an enrollment still awaiting approval) is
-- ended as 002 did: there is no money row to mirror.
CREATE FUNCTION private.refund_purchase(p_enrollment_id uuid, p_registration_id uuid, p_reason text,
                                        p_actor uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    sale record;
BEGIN
    SELECT r.id, r.amount + coalesce((SELECT sum(x.amount) FROM public.revenue_transactions x
                                      WHERE x.refund_of = r.id), 0) AS left_amount
    INTO sale
    FROM public.revenue_transactions r
    WHERE r.transaction_type <> 'refund' AND r.payment_status = 'completed'
      AND ((p_enrollment_id IS NOT NULL AND r.enrollment_id = p_enrollment_id)
           OR (p_registration_id IS NOT NULL AND r.workshop_registration_id = p_registration_id));
    IF FOUND THEN
        IF sale.left_amount > 0 THEN
            PERFORM private.refund_sale(sale.id, NULL, p_reason, p_actor);
        END IF;
        RETURN;
    END IF;
    IF p_enrollment_id IS NOT NULL THEN
        UPDATE public.course_enrollments SET status = 'refunded', payment_status = 'refunded'
        WHERE id = p_enrollment_id AND payment_status = 'completed' AND amount_paid > 0;
        IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM public.course_enrollments
                                     WHERE id = p_enrollment_id AND payment_status = 'refunded') THEN
            RAISE EXCEPTION 'nothing paid to refund' USING ERRCODE = 'no_data_found', CONSTRAINT = 'nothing_to_refund';
        END IF;
    ELSE
        UPDATE public.workshop_registrations SET status = 'cancelled', payment_status = 'refunded'
        WHERE id = p_registration_id AND payment_status = 'completed' AND amount_paid > 0;
        IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM public.workshop_registrations
                                     WHERE id = p_registration_id AND payment_status = 'refunded') THEN
            RAISE EXCEPTION 'nothing paid to refund' USING ERRCODE = 'no_data_found', CONSTRAINT = 'nothing_to_refund';
        END IF;
    END IF;
END
$$;

-- The payment service's refunds (service_role, as 002 granted).
CREATE OR REPLACE FUNCTION public.refund_course_enrollment(p_enrollment_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM private.refund_purchase(p_enrollment_id, NULL, 'Refunded at the payment provider.', NULL);
END
$$;

CREATE OR REPLACE FUNCTION public.refund_workshop_registration(p_registration_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF p_registration_id IS NULL THEN
        RAISE EXCEPTION 'nothing paid to refund' USING ERRCODE = 'no_data_found', CONSTRAINT = 'nothing_to_refund';
    END IF;
    PERFORM private.refund_purchase(NULL, p_registration_id, 'Refunded at the payment provider.', NULL);
END
$$;

-- The back office's refund of an enrollment or a registration (a platform admin, as 009).
CREATE OR REPLACE FUNCTION public.admin_refund(p_enrollment_id uuid, p_registration_id uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT public.is_platform_admin() THEN
        RAISE EXCEPTION 'only an administrator refunds' USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    IF p_enrollment_id IS NOT NULL THEN
        PERFORM private.refund_purchase(p_enrollment_id, NULL, 'Refunded by an administrator.', (SELECT rls.uid()));
    END IF;
    IF p_registration_id IS NOT NULL THEN
        PERFORM private.refund_purchase(NULL, p_registration_id, 'Refunded by an administrator.', (SELECT rls.uid()));
    END IF;
END
$$;

-- 002's triggers call record_refund when any other writer marks a purchase refunded: its
-- sale is refunded through private.refund_sale, unless a refund of it is written already
-- (private.refund_sale's own update of the purchase, or an earlier partial refund).
CREATE OR REPLACE FUNCTION public.record_refund(p_enrollment uuid, p_registration uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    sale uuid;
BEGIN
    SELECT r.id INTO sale
    FROM public.revenue_transactions r
    WHERE r.transaction_type <> 'refund' AND r.payment_status = 'completed'
      AND ((p_enrollment IS NOT NULL AND r.enrollment_id = p_enrollment)
           OR (p_registration IS NOT NULL AND r.workshop_registration_id = p_registration))
      AND NOT EXISTS (SELECT 1 FROM public.revenue_transactions x WHERE x.refund_of = r.id);
    IF sale IS NOT NULL THEN
        PERFORM private.refund_sale(sale, NULL, 'Refunded.', (SELECT rls.uid()));
    END IF;
END
$$;

-- The payment webhook's refund (service_role, as apply_payment_event): the provider reports
-- a refund of a checkout's payment (in full, of what is left, when p_amount is NULL; a sale
-- may get several). Recorded once per event id ('duplicate' after); 'refunded' when applied;
-- 'unapplied' when it cannot be (the checkout or its sale is unknown, nothing is left to
-- refund, the amount is more than what is left): recorded with why, for an admin to settle
-- (public.unapplied_refund_events). The provider's reason is cut at 500 characters.
ALTER TABLE public.payment_events DROP CONSTRAINT payment_events_kind_check,
    ADD CONSTRAINT payment_events_kind_check
        CHECK (kind IN ('payment.succeeded', 'payment.failed', 'refund.succeeded')),
    DROP CONSTRAINT payment_events_outcome_check,
    ADD CONSTRAINT payment_events_outcome_check
        CHECK (outcome IN ('succeeded', 'failed', 'ignored', 'refunded', 'unapplied'));
CREATE INDEX idx_payment_events_unapplied ON public.payment_events (received_at DESC, event_id DESC)
    WHERE outcome = 'unapplied';

-- The sale a succeeded checkout paid (NULL when none): here an enrollment's; 021, where a
-- checkout may pay a workshop registration instead, redefines it for both.
CREATE FUNCTION private.checkout_sale(p_checkout_id uuid) RETURNS uuid
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT r.id FROM public.checkouts c
    JOIN public.revenue_transactions r
      ON r.enrollment_id = c.enrollment_id AND r.transaction_type = 'course_enrollment'
    WHERE c.id = p_checkout_id AND c.status = 'succeeded'
$$;

CREATE FUNCTION public.apply_refund_event(p_event_id text, p_checkout_id uuid, p_amount numeric,
                                          p_reason text DEFAULT NULL, p_payload jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    sale uuid;
    found_checkout uuid;
    result text := 'unapplied';
    because text := 'sale_not_found';
BEGIN
    INSERT INTO public.payment_events (event_id, checkout_id, kind, outcome, payload)
    VALUES (p_event_id, NULL, 'refund.succeeded', 'unapplied', coalesce(p_payload, '{}'))
    ON CONFLICT (event_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN 'duplicate';
    END IF;
    SELECT c.id, private.checkout_sale(c.id) INTO found_checkout, sale
    FROM public.checkouts c
    WHERE c.id = p_checkout_id AND c.status = 'succeeded';
    IF sale IS NOT NULL THEN
        BEGIN
            PERFORM private.refund_sale(sale, p_amount,
                                        left(coalesce(nullif(btrim(p_reason), ''), 'Refunded at the payment provider.'), 500),
                                        NULL);
            result := 'refunded';
            because := NULL;
        EXCEPTION WHEN check_violation OR unique_violation OR no_data_found THEN
            GET STACKED DIAGNOSTICS because = CONSTRAINT_NAME;
            result := 'unapplied';
        END;
    END IF;
    UPDATE public.payment_events
    SET checkout_id = found_checkout, outcome = result,
        payload = CASE WHEN because IS NULL THEN payload
                       ELSE payload || jsonb_build_object('unapplied_because', coalesce(nullif(because, ''), 'refused'),
                                                          'unapplied_amount', p_amount) END
    WHERE event_id = p_event_id;
    RETURN result;
END
$$;

-- The provider's refunds the portal could not apply, newest first (an admin settles each by hand).
CREATE FUNCTION public.unapplied_refund_events(p_limit integer DEFAULT 20)
RETURNS TABLE (event_id text, checkout_id uuid, received_at timestamptz, amount numeric, because text,
               sale_id uuid, item_title text, student_name text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT (SELECT rls.is_admin()) THEN
        RAISE EXCEPTION 'only an administrator reads the payment events'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    RETURN QUERY
    SELECT e.event_id, e.checkout_id, e.received_at, (e.payload ->> 'unapplied_amount')::numeric,
           e.payload ->> 'unapplied_because', r.id, coalesce(c.title, w.title), u.full_name
    FROM public.payment_events e
    LEFT JOIN public.checkouts k ON k.id = e.checkout_id
    LEFT JOIN public.revenue_transactions r ON r.id = private.checkout_sale(k.id)
    LEFT JOIN public.courses c ON c.id = k.course_id
    LEFT JOIN public.workshops w ON w.id = r.workshop_id
    LEFT JOIN public.users u ON u.id = k.user_id
    WHERE e.outcome = 'unapplied'
    ORDER BY e.received_at DESC, e.event_id DESC
    LIMIT least(greatest(coalesce(p_limit, 20), 1), 100);
END
$$;

-- 3b. Revenue by day and by month (kept) ------------------------------------------------------
--
-- The revenue pages read kept figures, not an instructor's whole history: revenue_totals holds,
-- per instructor, course or workshop, currency and kind (sale or refund), the sums of the
-- completed rows of each UTC day (grain 'day') and of each UTC month (grain 'month', day = the
-- month's first day), kept as deltas by the trigger below on every insert, update and delete
-- of revenue_transactions (a row counts while payment_status = 'completed'). Columns:
--   line_count, amount, fees, earnings   the rows' count and sums (refunds negative);
--   pending_earnings, paid_earnings      earnings by payout_status 'pending' / 'paid';
--   unbatched_lines, unbatched_earnings  rows not yet in a payout (payout_id NULL, pending).
-- A row whose count falls to 0 is deleted. private.verify_money() recomputes it (rule
-- revenue_totals); private.rebuild_revenue_totals() rewrites it from the rows (the backfill
-- below; the benchmark's loader).
-- Periods are in the viewer's zone, days and months here are UTC ones:
-- public.revenue_period_sums() sums the whole UTC months inside a period from the month rows,
-- the whole UTC days around them from the day rows, and the partial days at the period's edges
-- (less than a day each) from the rows themselves, by the (instructor_id, transaction_date)
-- and (course_id, transaction_date) indexes: a page reads about (months + 62 days) x items kept
-- rows plus two days of rows, whatever the history's length.
CREATE TABLE public.revenue_totals (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    instructor_id      uuid NOT NULL,
    grain              text NOT NULL CHECK (grain IN ('day', 'month')),
    day                date NOT NULL,
    course_id          uuid,
    workshop_id        uuid,
    currency           char(3) NOT NULL,
    transaction_type   public.transaction_type NOT NULL,
    line_count         integer NOT NULL DEFAULT 0,
    amount             numeric(14,2) NOT NULL DEFAULT 0,
    fees               numeric(14,2) NOT NULL DEFAULT 0,
    earnings           numeric(14,2) NOT NULL DEFAULT 0,
    pending_earnings   numeric(14,2) NOT NULL DEFAULT 0,
    paid_earnings      numeric(14,2) NOT NULL DEFAULT 0,
    unbatched_lines    integer NOT NULL DEFAULT 0,
    unbatched_earnings numeric(14,2) NOT NULL DEFAULT 0,
    CONSTRAINT revenue_totals_month_starts CHECK (grain = 'day' OR extract(day FROM day) = 1)
);
CREATE UNIQUE INDEX uq_revenue_totals ON public.revenue_totals
    (instructor_id, grain, day, course_id, workshop_id, currency, transaction_type) NULLS NOT DISTINCT;
CREATE INDEX idx_revenue_totals_course ON public.revenue_totals (course_id, grain, day) WHERE course_id IS NOT NULL;
-- What waits for a payout (the payouts page): the months and days with rows not yet in a batch.
CREATE INDEX idx_revenue_totals_unbatched ON public.revenue_totals (instructor_id, grain, day)
    WHERE unbatched_lines <> 0;

ALTER TABLE public.revenue_totals ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.revenue_totals FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.revenue_totals FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT SELECT ON public.revenue_totals TO authenticated;
-- Who reads the rows reads their sums (007's revenue_transactions_read). Written only by the trigger.
CREATE POLICY revenue_totals_read ON public.revenue_totals FOR SELECT TO authenticated
    USING (instructor_id = (SELECT rls.uid())
           OR course_id = ANY ((SELECT rls.course_ids('{view_revenue}'))::uuid[])
           OR course_id = ANY ((SELECT rls.org_course_ids())::uuid[])
           OR workshop_id = ANY ((SELECT rls.org_workshop_ids())::uuid[])
           OR (SELECT rls.is_admin()));

-- Add one row's contribution (p_sign 1) to its day and its month, or take it away (-1).
CREATE FUNCTION private.add_revenue_totals(r public.revenue_transactions, p_sign integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    k date := (r.transaction_date AT TIME ZONE 'UTC')::date;
    unbatched boolean := r.payout_id IS NULL AND r.payout_status = 'pending';
BEGIN
    INSERT INTO public.revenue_totals AS d
        (instructor_id, grain, day, course_id, workshop_id, currency, transaction_type, line_count, amount, fees,
         earnings, pending_earnings, paid_earnings, unbatched_lines, unbatched_earnings)
    SELECT r.instructor_id, g.grain, g.day, r.course_id, r.workshop_id, r.currency, r.transaction_type, p_sign,
           p_sign * r.amount, p_sign * r.platform_fee_amount, p_sign * r.instructor_earnings,
           CASE WHEN r.payout_status = 'pending' THEN p_sign * r.instructor_earnings ELSE 0 END,
           CASE WHEN r.payout_status = 'paid' THEN p_sign * r.instructor_earnings ELSE 0 END,
           CASE WHEN unbatched THEN p_sign ELSE 0 END,
           CASE WHEN unbatched THEN p_sign * r.instructor_earnings ELSE 0 END
    FROM (VALUES ('day', k), ('month', date_trunc('month', k)::date)) AS g (grain, day)
    ON CONFLICT (instructor_id, grain, day, course_id, workshop_id, currency, transaction_type) DO UPDATE
    SET line_count = d.line_count + excluded.line_count, amount = d.amount + excluded.amount,
        fees = d.fees + excluded.fees, earnings = d.earnings + excluded.earnings,
        pending_earnings = d.pending_earnings + excluded.pending_earnings,
        paid_earnings = d.paid_earnings + excluded.paid_earnings,
        unbatched_lines = d.unbatched_lines + excluded.unbatched_lines,
        unbatched_earnings = d.unbatched_earnings + excluded.unbatched_earnings;
    IF p_sign < 0 THEN
        DELETE FROM public.revenue_totals
        WHERE line_count = 0 AND instructor_id = r.instructor_id
          AND (grain, day) IN (('day', k), ('month', date_trunc('month', k)::date))
          AND course_id IS NOT DISTINCT FROM r.course_id AND workshop_id IS NOT DISTINCT FROM r.workshop_id
          AND currency = r.currency AND transaction_type = r.transaction_type;
    END IF;
END
$$;

-- The trigger: the old row's contribution out, the new one's in (only when what is kept
-- changed). Named to fire after 008's update_revenue_figures (triggers fire in name order),
-- which updates the course or workshop first: the lock order of 020 (the course or workshop,
-- then the revenue rows, then what they keep).
CREATE FUNCTION private.update_revenue_totals_by_day() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.payment_status = 'completed') = (OLD.payment_status = 'completed')
       AND (NEW.instructor_id, NEW.transaction_date, NEW.course_id, NEW.workshop_id, NEW.currency,
            NEW.transaction_type, NEW.amount, NEW.platform_fee_amount, NEW.instructor_earnings,
            NEW.payout_status, NEW.payout_id IS NULL)
           IS NOT DISTINCT FROM
           (OLD.instructor_id, OLD.transaction_date, OLD.course_id, OLD.workshop_id, OLD.currency,
            OLD.transaction_type, OLD.amount, OLD.platform_fee_amount, OLD.instructor_earnings,
            OLD.payout_status, OLD.payout_id IS NULL) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.payment_status = 'completed' THEN
        PERFORM private.add_revenue_totals(OLD, -1);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.payment_status = 'completed' THEN
        PERFORM private.add_revenue_totals(NEW, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER update_revenue_totals_by_day AFTER INSERT OR UPDATE OR DELETE ON public.revenue_transactions
    FOR EACH ROW EXECUTE FUNCTION private.update_revenue_totals_by_day();

-- What revenue_totals should hold, from the rows (p_instructor_id NULL: everyone).
CREATE FUNCTION private.revenue_totals_expected(p_instructor_id uuid DEFAULT NULL)
RETURNS SETOF public.revenue_totals
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT NULL::bigint, r.instructor_id, g.grain, g.day, r.course_id, r.workshop_id, r.currency,
           r.transaction_type, count(*)::integer, sum(r.amount), sum(r.platform_fee_amount),
           sum(r.instructor_earnings),
           coalesce(sum(r.instructor_earnings) FILTER (WHERE r.payout_status = 'pending'), 0),
           coalesce(sum(r.instructor_earnings) FILTER (WHERE r.payout_status = 'paid'), 0),
           count(*) FILTER (WHERE r.payout_id IS NULL AND r.payout_status = 'pending')::integer,
           coalesce(sum(r.instructor_earnings) FILTER (WHERE r.payout_id IS NULL AND r.payout_status = 'pending'), 0)
    FROM public.revenue_transactions r
    CROSS JOIN LATERAL (VALUES ('day', (r.transaction_date AT TIME ZONE 'UTC')::date),
                               ('month', date_trunc('month', (r.transaction_date AT TIME ZONE 'UTC')::date)::date))
                       AS g (grain, day)
    WHERE r.payment_status = 'completed' AND (p_instructor_id IS NULL OR r.instructor_id = p_instructor_id)
    GROUP BY r.instructor_id, g.grain, g.day, r.course_id, r.workshop_id, r.currency, r.transaction_type
$$;

-- Rewrite revenue_totals from the rows (the backfill; a loader that wrote rows with the
-- triggers off), in (instructor, grain, day) order. Returns the rows written.
CREATE FUNCTION private.rebuild_revenue_totals() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM public.revenue_totals;
    INSERT INTO public.revenue_totals
        (instructor_id, grain, day, course_id, workshop_id, currency, transaction_type, line_count, amount, fees,
         earnings, pending_earnings, paid_earnings, unbatched_lines, unbatched_earnings)
    SELECT e.instructor_id, e.grain, e.day, e.course_id, e.workshop_id, e.currency, e.transaction_type,
           e.line_count, e.amount, e.fees, e.earnings, e.pending_earnings, e.paid_earnings, e.unbatched_lines,
           e.unbatched_earnings
    FROM private.revenue_totals_expected(NULL) e ORDER BY e.instructor_id, e.grain, e.day;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
SELECT private.rebuild_revenue_totals();

-- 4. The money invariants ----------------------------------------------------------------
--
-- In verify_denormalized_figures' shape (table_name, row_id, stored, expected), empty when
-- every rule holds; p_instructor_id NULL checks everyone. stored/expected name the rule:
--   fee_plus_earnings   amount = platform fee + instructor earnings, on every row;
--   refund_signs        a refund takes money back: its amount below 0, its fee and earnings
--                       at most 0;
--   refund_exceeds_sale a sale's refunds (amount, fee, earnings) never exceed it, and are
--                       of its instructor, item and currency;
--   paid_once           a paid row is in exactly one payout, a paid one, and every row of a
--                       paid payout is paid; no row is in a cancelled payout; only completed
--                       rows are in a payout;
--   payout_totals       a scheduled or paid payout's count, gross, fees and total are its rows'.
--   revenue_totals      the kept sums by day and month (3b) are the completed rows' (row_id: the
--                       instructor).
CREATE FUNCTION private.verify_money(p_instructor_id uuid DEFAULT NULL)
RETURNS TABLE (table_name text, row_id uuid, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT 'revenue_transactions', r.id,
           jsonb_build_object('rule', 'fee_plus_earnings', 'amount', r.amount),
           jsonb_build_object('rule', 'fee_plus_earnings', 'amount', r.platform_fee_amount + r.instructor_earnings)
    FROM public.revenue_transactions r
    WHERE (p_instructor_id IS NULL OR r.instructor_id = p_instructor_id)
      AND r.amount <> r.platform_fee_amount + r.instructor_earnings
    UNION ALL
    SELECT 'revenue_transactions', r.id,
           jsonb_build_object('rule', 'refund_signs', 'amount', r.amount, 'fee', r.platform_fee_amount,
                              'earnings', r.instructor_earnings),
           jsonb_build_object('rule', 'refund_signs', 'amount', 'below 0', 'fee', 'at most 0',
                              'earnings', 'at most 0')
    FROM public.revenue_transactions r
    WHERE (p_instructor_id IS NULL OR r.instructor_id = p_instructor_id)
      AND r.transaction_type = 'refund'
      AND (r.amount >= 0 OR r.platform_fee_amount > 0 OR r.instructor_earnings > 0)
    UNION ALL
    SELECT 'revenue_transactions', s.id,
           jsonb_build_object('rule', 'refund_exceeds_sale', 'refunded', -q.amount, 'fees', -q.fees,
                              'earnings', -q.earnings, 'mismatched', q.mismatched),
           jsonb_build_object('rule', 'refund_exceeds_sale', 'at_most', s.amount, 'fees', s.platform_fee_amount,
                              'earnings', s.instructor_earnings, 'mismatched', 0)
    FROM public.revenue_transactions s
    JOIN (SELECT x.refund_of, sum(x.amount) AS amount, sum(x.platform_fee_amount) AS fees,
                 sum(x.instructor_earnings) AS earnings,
                 count(*) FILTER (WHERE (x.instructor_id, x.course_id, x.workshop_id, x.currency)
                                        IS DISTINCT FROM (o.instructor_id, o.course_id, o.workshop_id, o.currency)
                                     OR o.transaction_type = 'refund') AS mismatched
          FROM public.revenue_transactions x JOIN public.revenue_transactions o ON o.id = x.refund_of
          WHERE x.transaction_type = 'refund'
            AND (p_instructor_id IS NULL OR x.instructor_id = p_instructor_id)
          GROUP BY x.refund_of) q ON q.refund_of = s.id
    WHERE -q.amount > s.amount OR -q.fees > greatest(s.platform_fee_amount, 0)
       OR -q.earnings > s.instructor_earnings OR q.mismatched > 0
    UNION ALL
    SELECT 'revenue_transactions', r.id,
           jsonb_build_object('rule', 'paid_once', 'payout_status', r.payout_status, 'payout_id', r.payout_id,
                              'payout', p.status, 'payment_status', r.payment_status),
           jsonb_build_object('rule', 'paid_once', 'payout_status',
                              CASE WHEN p.status = 'paid' THEN 'paid' ELSE 'pending' END,
                              'payout', CASE WHEN r.payout_status = 'paid' THEN 'paid' ELSE 'scheduled or none' END,
                              'payment_status', 'completed')
    FROM public.revenue_transactions r
    LEFT JOIN public.payouts p ON p.id = r.payout_id
    WHERE (p_instructor_id IS NULL OR r.instructor_id = p_instructor_id)
      AND (r.payout_status = 'paid' OR r.payout_id IS NOT NULL)
      AND ((r.payout_status = 'paid') IS DISTINCT FROM (p.status = 'paid')
           OR p.status = 'cancelled' OR p.instructor_id <> r.instructor_id OR p.currency <> r.currency
           OR r.payment_status <> 'completed')
    UNION ALL
    SELECT 'payouts', p.id,
           jsonb_build_object('rule', 'payout_totals', 'line_count', p.line_count, 'gross', p.gross_amount,
                              'fees', p.fee_amount, 'total', p.total_amount),
           jsonb_build_object('rule', 'payout_totals', 'line_count', coalesce(q.n, 0),
                              'gross', coalesce(q.gross, 0), 'fees', coalesce(q.fees, 0),
                              'total', coalesce(q.total, 0))
    FROM public.payouts p
    LEFT JOIN (SELECT r.payout_id, count(*)::integer AS n, sum(r.amount) AS gross,
                      sum(r.platform_fee_amount) AS fees, sum(r.instructor_earnings) AS total
               FROM public.revenue_transactions r
               WHERE r.payout_id IS NOT NULL AND (p_instructor_id IS NULL OR r.instructor_id = p_instructor_id)
               GROUP BY r.payout_id) q ON q.payout_id = p.id
    WHERE (p_instructor_id IS NULL OR p.instructor_id = p_instructor_id)
      AND p.status <> 'cancelled'
      AND (p.line_count, p.gross_amount, p.fee_amount, p.total_amount)
          IS DISTINCT FROM (coalesce(q.n, 0), coalesce(q.gross, 0), coalesce(q.fees, 0), coalesce(q.total, 0))
    UNION ALL
    SELECT 'revenue_totals', coalesce(k.instructor_id, e.instructor_id),
           jsonb_build_object('rule', 'revenue_totals', 'grain', coalesce(k.grain, e.grain),
                              'day', coalesce(k.day, e.day), 'course_id', coalesce(k.course_id, e.course_id),
                              'workshop_id', coalesce(k.workshop_id, e.workshop_id),
                              'currency', coalesce(k.currency, e.currency),
                              'kind', coalesce(k.transaction_type, e.transaction_type), 'kept', to_jsonb(k)),
           jsonb_build_object('rule', 'revenue_totals', 'expected', to_jsonb(e))
    FROM (SELECT * FROM public.revenue_totals d
          WHERE p_instructor_id IS NULL OR d.instructor_id = p_instructor_id) k
    FULL JOIN private.revenue_totals_expected(p_instructor_id) e
      ON (k.instructor_id, k.grain, k.day, coalesce(k.course_id, '00000000-0000-0000-0000-000000000000'),
          coalesce(k.workshop_id, '00000000-0000-0000-0000-000000000000'), k.currency, k.transaction_type)
       = (e.instructor_id, e.grain, e.day, coalesce(e.course_id, '00000000-0000-0000-0000-000000000000'),
          coalesce(e.workshop_id, '00000000-0000-0000-0000-000000000000'), e.currency, e.transaction_type)
    WHERE (k.line_count, k.amount, k.fees, k.earnings, k.pending_earnings, k.paid_earnings, k.unbatched_lines,
           k.unbatched_earnings)
          IS DISTINCT FROM
          (e.line_count, e.amount, e.fees, e.earnings, e.pending_earnings, e.paid_earnings, e.unbatched_lines,
           e.unbatched_earnings)
$$;

-- The nightly verifier (010) and `db verify` include the money rules.
CREATE OR REPLACE FUNCTION private.verify_figures(p_instructor_id uuid)
RETURNS TABLE (table_name text, row_id uuid, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT * FROM public.verify_denormalized_figures(p_instructor_id)
    UNION ALL
    SELECT * FROM private.verify_money(p_instructor_id)
$$;

-- 5. Reads ---------------------------------------------------------------------------------

-- The caller's revenue scope: their own sales, and the courses they co-teach with
-- view_revenue (those courses' rows only). p_course / p_workshop narrow it (NULL: all).
-- The caller's revenue of [p_from, p_to) by course or workshop and kind (sale or refund), in
-- the caller's scope (their own sales; their view_revenue courses' rows): the whole UTC months
-- inside the period from revenue_totals' month rows, the whole UTC days around them from its day
-- rows, the edges (less than a day each: [p_from, the first whole day) and [the end of the last
-- whole day, p_to)) from the rows. Each range is read on its own, the caller's own rows and the
-- co-taught courses' apart, so that each is one range of an index.
CREATE FUNCTION public.revenue_period_sums(p_from timestamptz, p_to timestamptz,
                                           p_course_id uuid DEFAULT NULL, p_workshop_id uuid DEFAULT NULL)
RETURNS TABLE (course_id uuid, workshop_id uuid, transaction_type public.transaction_type, line_count bigint,
               amount numeric, fees numeric, earnings numeric, pending_earnings numeric, paid_earnings numeric)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp AS $$
    WITH days AS (  -- d0: the first whole UTC day; d1: the day after the last one
        SELECT CASE WHEN (p_from AT TIME ZONE 'UTC')::time = time '00:00' THEN (p_from AT TIME ZONE 'UTC')::date
                    ELSE (p_from AT TIME ZONE 'UTC')::date + 1 END AS d0,
               (p_to AT TIME ZONE 'UTC')::date AS d1),
    months AS (  -- m0, m1: the whole UTC months in [d0, d1) (m0 = m1 = d1 when there is none)
        SELECT d0, d1, CASE WHEN m0 < m1 THEN m0 ELSE d1 END AS m0, CASE WHEN m0 < m1 THEN m1 ELSE d1 END AS m1
        FROM (SELECT d0, d1, CASE WHEN extract(day FROM d0) = 1 THEN d0
                                  ELSE (date_trunc('month', d0) + interval '1 month')::date END AS m0,
                     date_trunc('month', d1)::date AS m1
              FROM days) x),
    kept (grain, lo, hi) AS (
        SELECT 'month', m0, m1 FROM months
        UNION ALL SELECT 'day', d0, least(m0, greatest(d0, d1)) FROM months
        UNION ALL SELECT 'day', greatest(m1, d0), d1 FROM months),
    edges (lo, hi) AS (
        SELECT p_from, least(p_to, d0::timestamp AT TIME ZONE 'UTC') FROM days
        UNION ALL
        SELECT greatest(p_from, d0::timestamp AT TIME ZONE 'UTC', d1::timestamp AT TIME ZONE 'UTC'), p_to FROM days),
    parts AS (
        SELECT d.course_id, d.workshop_id, d.transaction_type, d.line_count::bigint AS n, d.amount, d.fees,
               d.earnings, d.pending_earnings, d.paid_earnings
        FROM kept k
        CROSS JOIN LATERAL (
            SELECT t.course_id, t.workshop_id, t.transaction_type, t.line_count, t.amount, t.fees, t.earnings,
                   t.pending_earnings, t.paid_earnings
            FROM public.revenue_totals t
            WHERE t.instructor_id = (SELECT rls.uid()) AND t.grain = k.grain AND t.day >= k.lo AND t.day < k.hi
            UNION ALL
            SELECT t.course_id, t.workshop_id, t.transaction_type, t.line_count, t.amount, t.fees, t.earnings,
                   t.pending_earnings, t.paid_earnings
            FROM public.revenue_totals t
            WHERE t.course_id = ANY ((SELECT rls.course_ids('{view_revenue}'))::uuid[])
              AND t.instructor_id <> (SELECT rls.uid())
              AND t.grain = k.grain AND t.day >= k.lo AND t.day < k.hi) d
        WHERE k.lo < k.hi
          AND (p_course_id IS NULL OR d.course_id = p_course_id)
          AND (p_workshop_id IS NULL OR d.workshop_id = p_workshop_id)
        UNION ALL
        SELECT r.course_id, r.workshop_id, r.transaction_type, 1, r.amount, r.platform_fee_amount,
               r.instructor_earnings,
               CASE WHEN r.payout_status = 'pending' THEN r.instructor_earnings ELSE 0 END,
               CASE WHEN r.payout_status = 'paid' THEN r.instructor_earnings ELSE 0 END
        FROM edges e
        CROSS JOIN LATERAL (
            SELECT x.* FROM public.revenue_transactions x
            WHERE x.instructor_id = (SELECT rls.uid()) AND x.transaction_date >= e.lo AND x.transaction_date < e.hi
            UNION ALL
            SELECT x.* FROM public.revenue_transactions x
            WHERE x.course_id = ANY ((SELECT rls.course_ids('{view_revenue}'))::uuid[])
              AND x.instructor_id <> (SELECT rls.uid())
              AND x.transaction_date >= e.lo AND x.transaction_date < e.hi) r
        WHERE e.lo < e.hi AND r.payment_status = 'completed'
          AND (p_course_id IS NULL OR r.course_id = p_course_id)
          AND (p_workshop_id IS NULL OR r.workshop_id = p_workshop_id))
    SELECT p.course_id, p.workshop_id, p.transaction_type, sum(p.n)::bigint, sum(p.amount), sum(p.fees),
           sum(p.earnings), sum(p.pending_earnings), sum(p.paid_earnings)
    FROM parts p
    GROUP BY p.course_id, p.workshop_id, p.transaction_type
$$;

-- Figures of [p_from, p_to): gross (sales), refunds (positive), platform fees and earnings
-- (net of refunds), pending payout (earnings not yet paid, scheduled or not) and paid out;
-- from revenue_period_sums (kept months and days, and the edges' rows).
CREATE FUNCTION public.revenue_period_figures(p_from timestamptz, p_to timestamptz,
                                              p_course_id uuid DEFAULT NULL, p_workshop_id uuid DEFAULT NULL)
RETURNS TABLE (sales integer, gross numeric(12,2), refunds numeric(12,2), platform_fees numeric(12,2),
               earnings numeric(12,2), pending_payout numeric(12,2), paid_out numeric(12,2))
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT coalesce(sum(s.line_count) FILTER (WHERE s.transaction_type <> 'refund'), 0)::integer,
           coalesce(sum(s.amount) FILTER (WHERE s.transaction_type <> 'refund'), 0)::numeric(12,2),
           coalesce(-sum(s.amount) FILTER (WHERE s.transaction_type = 'refund'), 0)::numeric(12,2),
           coalesce(sum(s.fees), 0)::numeric(12,2),
           coalesce(sum(s.earnings), 0)::numeric(12,2),
           coalesce(sum(s.pending_earnings), 0)::numeric(12,2),
           coalesce(sum(s.paid_earnings), 0)::numeric(12,2)
    FROM public.revenue_period_sums(p_from, p_to, p_course_id, p_workshop_id) s
$$;

-- A student's own payments and refunds (receipts): what they paid, for what, when; never
-- the fee or the instructor's earnings.
CREATE FUNCTION public.my_payments(p_limit integer DEFAULT 50, p_before timestamptz DEFAULT NULL,
                                   p_before_id uuid DEFAULT NULL, p_id uuid DEFAULT NULL)
RETURNS TABLE (id uuid, transaction_type public.transaction_type, amount numeric(12,2), currency char(3),
               transaction_date timestamptz, refund_of uuid, course_id uuid, course_title text,
               workshop_id uuid, workshop_title text, instructor_name text, reason text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT r.id, r.transaction_type, r.amount, r.currency, r.transaction_date, r.refund_of,
           r.course_id, c.title, r.workshop_id, w.title, u.full_name, r.metadata ->> 'reason'
    FROM public.revenue_transactions r
    LEFT JOIN public.courses c ON c.id = r.course_id
    LEFT JOIN public.workshops w ON w.id = r.workshop_id
    LEFT JOIN public.users u ON u.id = r.instructor_id
    WHERE r.student_id = (SELECT rls.uid()) AND r.payment_status = 'completed'
      AND (p_id IS NULL OR r.id = p_id)
      AND (p_before IS NULL
           OR (r.transaction_date, r.id) < (p_before, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff')))
    ORDER BY r.transaction_date DESC, r.id DESC
    LIMIT least(greatest(coalesce(p_limit, 50), 1), 200)
$$;

-- An admin asks for the monthly statistics now (the nightly job's refresh, queued for the
-- worker: REFRESH ... CONCURRENTLY runs there, not in the admin's request). Returns the job's id.
CREATE FUNCTION public.request_monthly_stats_refresh() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NOT (SELECT rls.is_admin()) THEN
        RAISE EXCEPTION 'only an administrator refreshes the statistics'
            USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'admin_only';
    END IF;
    RETURN private.defer_job('maintenance', 'refresh_monthly_stats',
                             jsonb_build_object('timestamp', extract(epoch FROM now())::bigint));
END
$$;

-- Row-level security and grants ------------------------------------------------------------

ALTER TABLE public.payouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.payouts FORCE ROW LEVEL SECURITY;
REVOKE ALL ON public.payouts FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT SELECT ON public.payouts TO authenticated, service_role;
-- A payout is the instructor's (their whole earnings, so co-instructors do not see it) and
-- the admins'. Written only by the functions above.
CREATE POLICY payouts_read ON public.payouts FOR SELECT TO authenticated
    USING (instructor_id = (SELECT rls.uid()) OR (SELECT rls.is_admin()));

REVOKE ALL ON FUNCTION public.refund_window(), public.next_payout_date(text, date),
    private.refuse_money(text), private.lock_payout_items(uuid), public.create_payout(uuid, char), public.mark_payout_paid(uuid, text),
    public.cancel_payout(uuid), private.refund_sale(uuid, numeric, text, uuid, boolean),
    private.refund_purchase(uuid, uuid, text, uuid), public.record_refund(uuid, uuid),
    private.check_refund_within_sale(), private.checkout_sale(uuid),
    public.unapplied_refund_events(integer),
    public.refund_my_sale(uuid, text), public.admin_refund_sale(uuid, numeric, text),
    public.apply_refund_event(text, uuid, numeric, text, jsonb), private.verify_money(uuid),
    public.revenue_period_figures(timestamptz, timestamptz, uuid, uuid),
    public.revenue_period_sums(timestamptz, timestamptz, uuid, uuid),
    private.add_revenue_totals(public.revenue_transactions, integer), private.update_revenue_totals_by_day(),
    private.revenue_totals_expected(uuid), private.rebuild_revenue_totals(),
    public.my_payments(integer, timestamptz, uuid, uuid), public.request_monthly_stats_refresh()
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT EXECUTE ON FUNCTION public.refund_window(), public.next_payout_date(text, date),
    public.create_payout(uuid, char), public.mark_payout_paid(uuid, text), public.cancel_payout(uuid),
    public.refund_my_sale(uuid, text), public.admin_refund_sale(uuid, numeric, text),
    public.revenue_period_figures(timestamptz, timestamptz, uuid, uuid),
    public.revenue_period_sums(timestamptz, timestamptz, uuid, uuid),
    public.my_payments(integer, timestamptz, uuid, uuid), public.request_monthly_stats_refresh(),
    public.unapplied_refund_events(integer)
    TO authenticated;
GRANT EXECUTE ON FUNCTION public.apply_refund_event(text, uuid, numeric, text, jsonb) TO service_role;
