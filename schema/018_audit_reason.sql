-- 018: the reason an admin types is kept with the audit rows of their act (issue 17).
--
-- 017's admin functions (admin_set_role, admin_set_active, admin_set_organization,
-- admin_set_instructor_flags) take an optional reason and told the account holder, but the
-- audit rows of the act come from 016's triggers on the tables, which never saw it: the audit
-- log showed what changed and who changed it, never why.
--
-- Every one of those functions normalizes its reason through private.admin_reason first (after
-- private.require_admin). It now also leaves the reason in the transaction-local setting
-- portal.audit_reason, and private.audit (which every audit trigger calls) files that reason
-- with a row that names none of its own, when the actor is a platform admin. Anyone can set a
-- custom setting, so the setting is believed only of an admin: another caller who sets it
-- annotates nothing (an admin could only annotate their own acts, which is what the reason is).
-- The setting lasts until the transaction ends; a web request is one admin act per transaction,
-- and each admin function sets it again (blank clears it), so one act never inherits another's
-- reason.

CREATE OR REPLACE FUNCTION private.admin_reason(p_reason text) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    why text;
BEGIN
    IF char_length(btrim(coalesce(p_reason, ''))) > 500 THEN
        RAISE EXCEPTION 'a reason has at most 500 characters' USING ERRCODE = 'check_violation', CONSTRAINT = 'admin_reason_length';
    END IF;
    why := nullif(btrim(coalesce(p_reason, '')), '');
    PERFORM set_config('portal.audit_reason', coalesce(why, ''), true);
    RETURN why;
END
$$;

CREATE OR REPLACE FUNCTION private.audit(p_action text, p_entity_type text, p_entity_id uuid, p_old jsonb,
                                         p_new jsonb, p_organization uuid, p_course uuid, p_workshop uuid,
                                         p_instructor uuid, p_reason text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    d record;
    why text := p_reason;
BEGIN
    IF why IS NULL AND nullif(current_setting('portal.audit_reason', true), '') IS NOT NULL
       AND rls.is_admin() THEN
        why := left(current_setting('portal.audit_reason', true), 500);
    END IF;
    SELECT * INTO d FROM private.audit_changes(p_old, p_new);
    INSERT INTO public.audit_log (actor_id, action, entity_type, entity_id, organization_id, course_id,
                                  workshop_id, instructor_id, before, after, reason)
    VALUES ((SELECT auth.uid()), p_action, p_entity_type, p_entity_id, p_organization, p_course,
            p_workshop, p_instructor, d.before, d.after, why);
END
$$;

-- CREATE OR REPLACE keeps both functions' privileges (017 and 016 revoked them from every API
-- role); stated again so this file reads whole.
REVOKE ALL ON FUNCTION private.admin_reason(text),
    private.audit(text, text, uuid, jsonb, jsonb, uuid, uuid, uuid, uuid, text)
FROM PUBLIC, anon, authenticated, service_role, portal_signin, portal_worker;
