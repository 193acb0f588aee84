-- 016: the moderation queue and the audit log (issue 17).
--
-- 1. Moderation is plain SQL as a platform admin: 007 grants authenticated
--    UPDATE (is_visible, moderation_reason) on course_reviews and UPDATE
--    (resolved_at) on review_reports; the policies let only rls.is_admin()
--    touch another's row, and 002's guard_course_reviews refuses any API
--    caller but a platform admin who changes is_visible or moderation_reason
--    (and stamps moderated_at/by); 005's stamp_review_report stamps
--    resolved_by. No SECURITY DEFINER function is needed for the acts.
--    Every rating figure already follows visibility: 008's
--    update_course_rating() (on every INSERT, UPDATE and DELETE of a review)
--    moves the course's review_count / rating_sum / average_rating by the
--    delta of (is_visible, rating) and then the instructor's summary, so a
--    hidden review leaves every figure and comes back on restore
--    (tests/test_moderation_sql.py proves it against verify_denormalized_figures).
--    What was missing: telling the author, and finding hidden reviews
--    (the queue's "hidden" view pages by moderated_at).

INSERT INTO public.notification_events (event_type, audience, label, email_default, in_portal_default, position)
VALUES ('review_moderated', 'student', 'An administrator hides or restores your review', true, true, 400);

CREATE FUNCTION private.notify_review_moderated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    c record;
BEGIN
    SELECT id, title, slug INTO c FROM public.courses WHERE id = NEW.course_id;
    PERFORM private.notify(NEW.user_id, 'review_moderated', jsonb_build_object(
        'review_id', NEW.id, 'course_id', c.id, 'course_title', c.title, 'course_slug', c.slug,
        'hidden', NOT NEW.is_visible, 'reason', NEW.moderation_reason,
        -- the email says "after reports from other students" only when there were some
        'reported', NEW.open_report_count > 0),
        format('review:%s:moderated:%s', NEW.id, extract(epoch FROM coalesce(NEW.moderated_at, now()))));
    RETURN NULL;
END
$$;
CREATE TRIGGER notify_review_moderated
    AFTER UPDATE OF is_visible ON public.course_reviews
    FOR EACH ROW WHEN (OLD.is_visible IS DISTINCT FROM NEW.is_visible)
    EXECUTE FUNCTION private.notify_review_moderated();

-- The queue's hidden reviews, latest decision first.
CREATE INDEX idx_course_reviews_hidden ON public.course_reviews (moderated_at DESC, id DESC) WHERE NOT is_visible;
-- A review's reports (the queue shows each open review's reports; 005 indexed only open ones by date).
CREATE INDEX idx_review_reports_review ON public.review_reports (review_id);

-- Each review keeps its open reports' count and the oldest one's date (by
-- delta, from review_reports' own trigger below), so the queue pages on a
-- partial index instead of grouping every open report per page, and the
-- author's delete policy can see "under report" without reading the reports
-- (which only reporters and admins may read). Nobody writes them but the
-- trigger: 007's column grants name neither.
ALTER TABLE public.course_reviews
    ADD COLUMN open_report_count integer NOT NULL DEFAULT 0 CHECK (open_report_count >= 0),
    ADD COLUMN first_open_report_at timestamptz,
    ADD CONSTRAINT open_reports_dated CHECK ((open_report_count = 0) = (first_open_report_at IS NULL));
UPDATE public.course_reviews r
SET open_report_count = q.n, first_open_report_at = q.first
FROM (SELECT review_id, count(*)::integer AS n, min(created_at) AS first
      FROM public.review_reports WHERE resolved_at IS NULL GROUP BY review_id) q
WHERE q.review_id = r.id;
CREATE INDEX idx_course_reviews_reported ON public.course_reviews (first_open_report_at, id)
    WHERE open_report_count > 0;

CREATE FUNCTION private.track_open_reports() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    was_open boolean := TG_OP <> 'INSERT' AND OLD.resolved_at IS NULL;
    is_open boolean := TG_OP <> 'DELETE' AND NEW.resolved_at IS NULL;
    -- an open report re-dated or moved (maintenance only: no API role writes either) leaves
    -- its old place and takes its new one
    moved boolean := TG_OP = 'UPDATE' AND (OLD.created_at, OLD.review_id) IS DISTINCT FROM (NEW.created_at, NEW.review_id);
BEGIN
    IF was_open AND (NOT is_open OR moved) THEN
        -- the review's own reports only (idx_review_reports_review): a few rows
        UPDATE public.course_reviews
        SET open_report_count = open_report_count - 1,
            first_open_report_at = CASE
                WHEN open_report_count = 1 THEN NULL
                WHEN first_open_report_at < OLD.created_at THEN first_open_report_at
                -- (AFTER ROW triggers see the whole statement's result: when it closed
                -- them all, the last call's count of 1 clears the date)
                ELSE coalesce((SELECT min(x.created_at) FROM public.review_reports x
                               WHERE x.review_id = OLD.review_id AND x.resolved_at IS NULL
                                 AND x.id <> OLD.id), first_open_report_at) END
        WHERE id = OLD.review_id;  -- none when the review itself is being deleted (the cascade)
    END IF;
    IF is_open AND (NOT was_open OR moved) THEN
        UPDATE public.course_reviews
        SET open_report_count = open_report_count + 1,
            first_open_report_at = LEAST(first_open_report_at, NEW.created_at)
        WHERE id = NEW.review_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER track_open_reports
    AFTER INSERT OR DELETE OR UPDATE OF resolved_at, created_at, review_id ON public.review_reports
    FOR EACH ROW EXECUTE FUNCTION private.track_open_reports();

-- The checker of these two figures, for `db verify`: the reviews whose kept
-- figures disagree with their open reports, in verify_denormalized_figures'
-- shape (table_name, row_id, stored, expected); empty when all agree. It reads
-- only reviews with a kept count or an open report (both partial indexes).
CREATE FUNCTION private.verify_moderation_figures()
RETURNS TABLE (table_name text, row_id uuid, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT 'course_reviews', r.id,
           jsonb_build_object('open_report_count', r.open_report_count,
                              'first_open_report_at', r.first_open_report_at),
           jsonb_build_object('open_report_count', coalesce(q.n, 0), 'first_open_report_at', q.first)
    FROM (SELECT id FROM public.course_reviews WHERE open_report_count > 0
          UNION SELECT review_id FROM public.review_reports WHERE resolved_at IS NULL) ids
    JOIN public.course_reviews r ON r.id = ids.id
    LEFT JOIN (SELECT x.review_id, count(*)::integer AS n, min(x.created_at) AS first
               FROM public.review_reports x WHERE x.resolved_at IS NULL GROUP BY x.review_id) q
           ON q.review_id = r.id
    WHERE (r.open_report_count, r.first_open_report_at) IS DISTINCT FROM (coalesce(q.n, 0), q.first)
$$;

-- The one exception to "the author may delete their review": a review that is
-- hidden, or under open reports, stays until a moderator decides. Otherwise
-- the author could undo a hide (delete, then post again: a new, visible review)
-- or wipe the reports against it (they cascade with the review). Admins
-- delete any review; every deletion is audited (review.deleted below).
DROP POLICY course_reviews_delete ON public.course_reviews;
CREATE POLICY course_reviews_delete ON public.course_reviews FOR DELETE TO authenticated
    USING ((user_id = (SELECT rls.uid()) AND is_visible AND open_report_count = 0)
           OR (SELECT rls.is_admin()));

-- 2. The audit log ---------------------------------------------------------------------------
--
-- Written only by the database: AFTER triggers on the audited tables, each
-- fired only when an audited column changed (the WHEN clause: the function is
-- not even called otherwise), one row per changed row, holding only the changed
-- fields in before/after. actor_id is auth.uid() of the caller (NULL for the
-- system: maintenance, jobs, the payment webhook as service_role). The scope
-- columns (organization_id, course_id, workshop_id, instructor_id: the owner
-- of the course or workshop, or the instructor the row is about) are what the
-- read policy filters on, stamped as they were at the time of the act. No
-- foreign keys: the log outlives what it mentions and blocks no delete.
CREATE TABLE public.audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    actor_id        uuid,
    action          text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    entity_type     text NOT NULL CHECK (entity_type ~ '^[a-z_]+$'),
    entity_id       uuid NOT NULL,
    organization_id uuid,
    course_id       uuid,
    workshop_id     uuid,
    instructor_id   uuid,
    before          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(before) = 'object'),
    after           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(after) = 'object'),
    reason          text
);
CREATE INDEX idx_audit_log_occurred ON public.audit_log (occurred_at DESC, id DESC);
CREATE INDEX idx_audit_log_organization ON public.audit_log (organization_id, occurred_at DESC, id DESC)
    WHERE organization_id IS NOT NULL;
CREATE INDEX idx_audit_log_course ON public.audit_log (course_id, occurred_at DESC, id DESC)
    WHERE course_id IS NOT NULL;
CREATE INDEX idx_audit_log_instructor ON public.audit_log (instructor_id, occurred_at DESC, id DESC)
    WHERE instructor_id IS NOT NULL;
-- The admin's filters: by actor, by action.
CREATE INDEX idx_audit_log_actor ON public.audit_log (actor_id, occurred_at DESC, id DESC)
    WHERE actor_id IS NOT NULL;
CREATE INDEX idx_audit_log_action ON public.audit_log (action, occurred_at DESC, id DESC);

-- Append-only, even for the owner: every UPDATE and DELETE raises; TRUNCATE
-- raises unless the transaction set portal.audit_log_reset = 'on', which only
-- the benchmark generator does (it replaces the whole database's data with its
-- own, as the owner; no API role holds TRUNCATE on any table).
CREATE FUNCTION private.refuse_audit_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('portal.audit_log_reset', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'audit_log_append_only';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON public.audit_log
    FOR EACH ROW EXECUTE FUNCTION private.refuse_audit_log_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON public.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION private.refuse_audit_log_change();

-- The changed keys of two objects: (before, after), each holding only them.
CREATE FUNCTION private.audit_changes(p_old jsonb, p_new jsonb, OUT before jsonb, OUT after jsonb)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_object_agg(k, p_old -> k) FILTER (WHERE p_old ? k), '{}'),
           coalesce(jsonb_object_agg(k, p_new -> k) FILTER (WHERE p_new ? k), '{}')
    FROM (SELECT jsonb_object_keys(coalesce(p_old, '{}') || coalesce(p_new, '{}')) AS k) keys
    WHERE (p_old -> k) IS DISTINCT FROM (p_new -> k)
$$;

-- One row of the log (called by the trigger functions below, as the owner).
CREATE FUNCTION private.audit(p_action text, p_entity_type text, p_entity_id uuid, p_old jsonb, p_new jsonb,
                              p_organization uuid, p_course uuid, p_workshop uuid, p_instructor uuid,
                              p_reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    d record;
BEGIN
    SELECT * INTO d FROM private.audit_changes(p_old, p_new);
    INSERT INTO public.audit_log (actor_id, action, entity_type, entity_id, organization_id, course_id,
                                  workshop_id, instructor_id, before, after, reason)
    VALUES ((SELECT auth.uid()), p_action, p_entity_type, p_entity_id, p_organization, p_course,
            p_workshop, p_instructor, d.before, d.after, p_reason);
END
$$;

-- Moderation: a review hidden, restored, or its reason rewritten; and any
-- review deleted (by its author, an admin, or with its author's account). A
-- review deleted with its course is the course's deletion (course.deleted):
-- by then the course row is gone, so nothing is written here.
CREATE FUNCTION private.audit_course_review() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    c record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT organization_id, instructor_id INTO c FROM public.courses WHERE id = OLD.course_id;
        IF FOUND THEN
            PERFORM private.audit('review.deleted', 'course_review', OLD.id,
                jsonb_build_object('rating', OLD.rating, 'is_visible', OLD.is_visible,
                                   'open_report_count', OLD.open_report_count),
                NULL, c.organization_id, OLD.course_id, NULL, c.instructor_id);
        END IF;
        RETURN NULL;
    END IF;
    SELECT organization_id, instructor_id INTO c FROM public.courses WHERE id = NEW.course_id;
    PERFORM private.audit(
        CASE WHEN NEW.is_visible = OLD.is_visible THEN 'review.reason_changed'
             WHEN NEW.is_visible THEN 'review.restored' ELSE 'review.hidden' END,
        'course_review', NEW.id,
        jsonb_build_object('is_visible', OLD.is_visible, 'moderation_reason', OLD.moderation_reason),
        jsonb_build_object('is_visible', NEW.is_visible, 'moderation_reason', NEW.moderation_reason),
        c.organization_id, NEW.course_id, NULL, c.instructor_id, NEW.moderation_reason);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_course_review AFTER UPDATE OF is_visible, moderation_reason ON public.course_reviews
    FOR EACH ROW
    WHEN ((OLD.is_visible, OLD.moderation_reason) IS DISTINCT FROM (NEW.is_visible, NEW.moderation_reason))
    EXECUTE FUNCTION private.audit_course_review();
CREATE TRIGGER audit_course_review_deleted AFTER DELETE ON public.course_reviews
    FOR EACH ROW EXECUTE FUNCTION private.audit_course_review();

-- Moderation: a report dismissed (resolved while its review stays visible),
-- resolved by the review's hiding (the queue hides the review first, then
-- resolves its reports), re-dated (resolved again), reopened, or deleted (not
-- when its review is being deleted: review.deleted says it). Who reported and
-- why stays with moderation (012): these rows carry no scope, so only platform
-- admins (and service_role) read them.
CREATE FUNCTION private.audit_review_report() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    visible boolean;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM public.course_reviews WHERE id = OLD.review_id) THEN
            PERFORM private.audit('review_report.deleted', 'review_report', OLD.id,
                jsonb_build_object('review_id', OLD.review_id, 'reason', OLD.reason,
                                   'resolved_at', OLD.resolved_at),
                NULL, NULL, NULL, NULL, NULL);
        END IF;
        RETURN NULL;
    END IF;
    SELECT is_visible INTO visible FROM public.course_reviews WHERE id = NEW.review_id;
    PERFORM private.audit(
        CASE WHEN NEW.resolved_at IS NULL THEN 'review_report.reopened'
             WHEN OLD.resolved_at IS NOT NULL THEN 'review_report.redated'
             WHEN visible THEN 'review_report.dismissed'
             ELSE 'review_report.resolved' END,
        'review_report', NEW.id,
        jsonb_build_object('resolved_at', OLD.resolved_at, 'resolved_by', OLD.resolved_by),
        jsonb_build_object('resolved_at', NEW.resolved_at, 'resolved_by', NEW.resolved_by,
                           'review_id', NEW.review_id, 'reason', NEW.reason),
        NULL, NULL, NULL, NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_review_report AFTER UPDATE OF resolved_at ON public.review_reports
    FOR EACH ROW WHEN (OLD.resolved_at IS DISTINCT FROM NEW.resolved_at)
    EXECUTE FUNCTION private.audit_review_report();
CREATE TRIGGER audit_review_report_deleted AFTER DELETE ON public.review_reports
    FOR EACH ROW EXECUTE FUNCTION private.audit_review_report();

-- Accounts: role, organization, deactivation, deletion. One row per change
-- and organization involved; its action names the weightiest part
-- (deactivation, then role, then organization) and before/after hold every
-- audited field that changed. A move from one organization to another writes
-- one row for each, scoped to it: the old organization's copy leaves the new
-- organization's id out (after), the new one's the old id (before).
CREATE FUNCTION private.audit_user() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    what text;
    was jsonb;
    now_is jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM private.audit('user.deleted', 'user', OLD.id,
            jsonb_build_object('role', OLD.role, 'organization_id', OLD.organization_id,
                               'is_active', OLD.is_active),
            NULL, OLD.organization_id, NULL, NULL, NULL);
        RETURN NULL;
    END IF;
    what := CASE WHEN NEW.is_active IS DISTINCT FROM OLD.is_active
                      THEN CASE WHEN NEW.is_active THEN 'user.reactivated' ELSE 'user.deactivated' END
                 WHEN NEW.role IS DISTINCT FROM OLD.role THEN 'user.role_changed'
                 ELSE 'user.organization_changed' END;
    was := jsonb_build_object('role', OLD.role, 'organization_id', OLD.organization_id, 'is_active', OLD.is_active);
    now_is := jsonb_build_object('role', NEW.role, 'organization_id', NEW.organization_id, 'is_active', NEW.is_active);
    IF OLD.organization_id IS NOT NULL AND NEW.organization_id IS NOT NULL
       AND OLD.organization_id <> NEW.organization_id THEN
        PERFORM private.audit(what, 'user', NEW.id, was, now_is - 'organization_id',
                              OLD.organization_id, NULL, NULL, NULL);
        PERFORM private.audit(what, 'user', NEW.id, was - 'organization_id', now_is,
                              NEW.organization_id, NULL, NULL, NULL);
    ELSE
        PERFORM private.audit(what, 'user', NEW.id, was, now_is,
                              coalesce(NEW.organization_id, OLD.organization_id), NULL, NULL, NULL);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_user AFTER UPDATE OF role, organization_id, is_active ON public.users
    FOR EACH ROW
    WHEN ((OLD.role, OLD.organization_id, OLD.is_active) IS DISTINCT FROM (NEW.role, NEW.organization_id, NEW.is_active))
    EXECUTE FUNCTION private.audit_user();
CREATE TRIGGER audit_user_deleted AFTER DELETE ON public.users
    FOR EACH ROW EXECUTE FUNCTION private.audit_user();

-- An instructor verified or featured (or no longer).
CREATE FUNCTION private.audit_instructor_profile() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM private.audit(
        CASE WHEN NEW.is_verified IS DISTINCT FROM OLD.is_verified
                  THEN CASE WHEN NEW.is_verified THEN 'instructor.verified' ELSE 'instructor.unverified' END
             ELSE CASE WHEN NEW.is_featured THEN 'instructor.featured' ELSE 'instructor.unfeatured' END END,
        'instructor_profile', NEW.user_id,
        jsonb_build_object('is_verified', OLD.is_verified, 'is_featured', OLD.is_featured),
        jsonb_build_object('is_verified', NEW.is_verified, 'is_featured', NEW.is_featured),
        (SELECT organization_id FROM public.users WHERE id = NEW.user_id), NULL, NULL, NEW.user_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_instructor_profile AFTER UPDATE OF is_verified, is_featured ON public.instructor_profiles
    FOR EACH ROW
    WHEN ((OLD.is_verified, OLD.is_featured) IS DISTINCT FROM (NEW.is_verified, NEW.is_featured))
    EXECUTE FUNCTION private.audit_instructor_profile();

-- Money: a refund written, a payout's status or date moved.
CREATE FUNCTION private.audit_revenue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    org uuid := coalesce((SELECT organization_id FROM public.courses WHERE id = NEW.course_id),
                         (SELECT organization_id FROM public.workshops WHERE id = NEW.workshop_id));
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM private.audit('revenue.refund', 'revenue_transaction', NEW.id, NULL,
            jsonb_build_object('refund_of', NEW.refund_of, 'amount', NEW.amount, 'currency', NEW.currency,
                               'instructor_earnings', NEW.instructor_earnings),
            org, NEW.course_id, NEW.workshop_id, NEW.instructor_id);
    ELSE
        PERFORM private.audit('revenue.payout', 'revenue_transaction', NEW.id,
            jsonb_build_object('payout_status', OLD.payout_status, 'payout_date', OLD.payout_date),
            jsonb_build_object('payout_status', NEW.payout_status, 'payout_date', NEW.payout_date),
            org, NEW.course_id, NEW.workshop_id, NEW.instructor_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_refund AFTER INSERT ON public.revenue_transactions
    FOR EACH ROW WHEN (NEW.transaction_type = 'refund') EXECUTE FUNCTION private.audit_revenue();
CREATE TRIGGER audit_payout AFTER UPDATE OF payout_status, payout_date ON public.revenue_transactions
    FOR EACH ROW
    WHEN ((OLD.payout_status, OLD.payout_date) IS DISTINCT FROM (NEW.payout_status, NEW.payout_date))
    EXECUTE FUNCTION private.audit_revenue();

-- Prices of courses and workshops.
CREATE FUNCTION private.audit_price() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    is_course boolean := TG_TABLE_NAME = 'courses';
BEGIN
    PERFORM private.audit(
        CASE WHEN is_course THEN 'course.price_changed' ELSE 'workshop.price_changed' END,
        CASE WHEN is_course THEN 'course' ELSE 'workshop' END, NEW.id,
        jsonb_build_object('price_amount', OLD.price_amount, 'currency', OLD.currency),
        jsonb_build_object('price_amount', NEW.price_amount, 'currency', NEW.currency),
        NEW.organization_id, CASE WHEN is_course THEN NEW.id END, CASE WHEN NOT is_course THEN NEW.id END,
        NEW.instructor_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_course_price AFTER UPDATE OF price_amount, currency ON public.courses
    FOR EACH ROW
    WHEN ((OLD.price_amount, OLD.currency) IS DISTINCT FROM (NEW.price_amount, NEW.currency))
    EXECUTE FUNCTION private.audit_price();
CREATE TRIGGER audit_workshop_price AFTER UPDATE OF price_amount, currency ON public.workshops
    FOR EACH ROW
    WHEN ((OLD.price_amount, OLD.currency) IS DISTINCT FROM (NEW.price_amount, NEW.currency))
    EXECUTE FUNCTION private.audit_price();

-- A course or workshop deleted: one row, scoped as it was (what cascades with
-- it, its team and reviews, writes nothing of its own: see audit_co_teacher
-- and audit_course_review).
CREATE FUNCTION private.audit_offering_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    is_course boolean := TG_TABLE_NAME = 'courses';
BEGIN
    PERFORM private.audit(
        CASE WHEN is_course THEN 'course.deleted' ELSE 'workshop.deleted' END,
        CASE WHEN is_course THEN 'course' ELSE 'workshop' END, OLD.id,
        jsonb_build_object('title', OLD.title, 'price_amount', OLD.price_amount, 'currency', OLD.currency),
        NULL, OLD.organization_id, CASE WHEN is_course THEN OLD.id END, CASE WHEN NOT is_course THEN OLD.id END,
        OLD.instructor_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_course_deleted AFTER DELETE ON public.courses
    FOR EACH ROW EXECUTE FUNCTION private.audit_offering_deleted();
CREATE TRIGGER audit_workshop_deleted AFTER DELETE ON public.workshops
    FOR EACH ROW EXECUTE FUNCTION private.audit_offering_deleted();

-- Co-instructors (role and permissions) and facilitators (role): added, changed, removed.
CREATE FUNCTION private.audit_co_teacher() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    is_course boolean := TG_TABLE_NAME = 'course_instructors';
    row_old jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    row_new jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    subject jsonb := coalesce(row_new, row_old);
    item uuid := (subject ->> CASE WHEN is_course THEN 'course_id' ELSE 'workshop_id' END)::uuid;
    kept text[] := CASE WHEN is_course THEN '{instructor_id,role,permissions}' ELSE '{facilitator_id,role}' END;
    o record;
BEGIN
    IF is_course THEN
        SELECT organization_id, instructor_id INTO o FROM public.courses WHERE id = item;
    ELSE
        SELECT organization_id, instructor_id INTO o FROM public.workshops WHERE id = item;
    END IF;
    IF NOT FOUND THEN
        RETURN NULL;  -- removed with its course or workshop: course.deleted / workshop.deleted says it
    END IF;
    PERFORM private.audit(
        (CASE WHEN is_course THEN 'co_instructor.' ELSE 'facilitator.' END)
            || CASE TG_OP WHEN 'INSERT' THEN 'added' WHEN 'DELETE' THEN 'removed' ELSE 'changed' END,
        CASE WHEN is_course THEN 'course_instructor' ELSE 'workshop_facilitator' END,
        (subject ->> 'id')::uuid,
        (SELECT jsonb_object_agg(k, row_old -> k) FROM unnest(kept) k WHERE row_old IS NOT NULL),
        (SELECT jsonb_object_agg(k, row_new -> k) FROM unnest(kept) k WHERE row_new IS NOT NULL),
        o.organization_id, CASE WHEN is_course THEN item END, CASE WHEN NOT is_course THEN item END,
        o.instructor_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_course_instructor_added AFTER INSERT OR DELETE ON public.course_instructors
    FOR EACH ROW EXECUTE FUNCTION private.audit_co_teacher();
CREATE TRIGGER audit_course_instructor_changed AFTER UPDATE OF role, permissions ON public.course_instructors
    FOR EACH ROW WHEN ((OLD.role, OLD.permissions) IS DISTINCT FROM (NEW.role, NEW.permissions))
    EXECUTE FUNCTION private.audit_co_teacher();
CREATE TRIGGER audit_workshop_facilitator_added AFTER INSERT OR DELETE ON public.workshop_facilitators
    FOR EACH ROW EXECUTE FUNCTION private.audit_co_teacher();
CREATE TRIGGER audit_workshop_facilitator_changed AFTER UPDATE OF role ON public.workshop_facilitators
    FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION private.audit_co_teacher();

-- Organizations: created, renamed (name or slug), deleted.
CREATE FUNCTION private.audit_organization() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM private.audit('organization.deleted', 'organization', OLD.id,
            jsonb_build_object('name', OLD.name, 'slug', OLD.slug), NULL, OLD.id, NULL, NULL, NULL);
        RETURN NULL;
    END IF;
    PERFORM private.audit(
        CASE WHEN TG_OP = 'INSERT' THEN 'organization.created' ELSE 'organization.renamed' END,
        'organization', NEW.id,
        CASE WHEN TG_OP = 'UPDATE' THEN jsonb_build_object('name', OLD.name, 'slug', OLD.slug) END,
        jsonb_build_object('name', NEW.name, 'slug', NEW.slug),
        NEW.id, NULL, NULL, NULL);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_organization_created AFTER INSERT ON public.organizations
    FOR EACH ROW EXECUTE FUNCTION private.audit_organization();
CREATE TRIGGER audit_organization_renamed AFTER UPDATE OF name, slug ON public.organizations
    FOR EACH ROW WHEN ((OLD.name, OLD.slug) IS DISTINCT FROM (NEW.name, NEW.slug))
    EXECUTE FUNCTION private.audit_organization();
CREATE TRIGGER audit_organization_deleted AFTER DELETE ON public.organizations
    FOR EACH ROW EXECUTE FUNCTION private.audit_organization();

-- Reads: platform admins all; an organization admin the rows of their
-- organization; an instructor the rows about what they own (their courses and
-- workshops, their sales and payouts, their profile's verification), by the
-- instructor_id stamped at the act. Co-instructors and facilitators read none
-- (the model gives the log to owners); students none. Each set is computed once
-- per statement (initplans). service_role (the back office) reads it all.
ALTER TABLE public.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON public.audit_log FOR SELECT TO authenticated
    USING ((SELECT rls.is_admin())
           OR organization_id = (SELECT rls.admin_org())
           OR instructor_id = (SELECT rls.uid()));

REVOKE ALL ON public.audit_log FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
GRANT SELECT ON public.audit_log TO authenticated, service_role;

REVOKE ALL ON FUNCTION private.notify_review_moderated(), private.refuse_audit_log_change(),
    private.audit_changes(jsonb, jsonb),
    private.audit(text, text, uuid, jsonb, jsonb, uuid, uuid, uuid, uuid, text),
    private.audit_course_review(), private.audit_review_report(), private.audit_user(),
    private.audit_instructor_profile(), private.audit_revenue(), private.audit_price(),
    private.audit_co_teacher(), private.audit_organization(), private.audit_offering_deleted(),
    private.track_open_reports(), private.verify_moderation_figures()
    FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
