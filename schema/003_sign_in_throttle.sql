-- 003: sign-in throttling that holds across every web worker.
--
-- Failed sign-ins are counted in the database, so every gunicorn worker (and
-- every host behind a load balancer) sees the same counts. ASVS 2.2.1 asks
-- that at most 100 failed attempts an hour be possible on one account; the
-- web app passes its limits (config SIGN_IN_*), which are far below that.
--
-- The table lives in `private`, which the API roles cannot reach; anon gets
-- two narrow SECURITY DEFINER functions and nothing else. Emails are stored
-- as typed (citext compares them case-insensitively) whether or not an
-- account exists, so the counts reveal nothing about which accounts exist.

CREATE TABLE private.sign_in_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email     citext NOT NULL CHECK (char_length(email) <= 254),
    address   text NOT NULL CHECK (char_length(address) <= 64),
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_sign_in_failures_email ON private.sign_in_failures (email, failed_at);
CREATE INDEX idx_sign_in_failures_address ON private.sign_in_failures (address, failed_at);
CREATE INDEX idx_sign_in_failures_time ON private.sign_in_failures (failed_at);
ALTER TABLE private.sign_in_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE private.sign_in_failures FORCE ROW LEVEL SECURITY;
-- No policy: only the owner's SECURITY DEFINER functions below (the owner
-- has BYPASSRLS) read or write it.

-- True when this email or this address has reached its limit of failures
-- within the window: the caller must refuse the attempt without checking the
-- password.
CREATE FUNCTION public.sign_in_throttled(p_email text, p_address text,
                                         p_account_limit integer, p_address_limit integer,
                                         p_window interval)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT (SELECT count(*) FROM private.sign_in_failures
            WHERE email = p_email::citext AND failed_at > now() - p_window) >= p_account_limit
        OR (SELECT count(*) FROM private.sign_in_failures
            WHERE address = p_address AND failed_at > now() - p_window) >= p_address_limit
$$;

-- One failed attempt. Rows older than a day are pruned as new ones arrive,
-- so the table stays small without a separate job.
CREATE FUNCTION public.record_sign_in_failure(p_email text, p_address text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO private.sign_in_failures (email, address)
    VALUES (left(p_email, 254), left(p_address, 64));
    DELETE FROM private.sign_in_failures WHERE failed_at < now() - interval '1 day';
END
$$;

GRANT EXECUTE ON FUNCTION public.sign_in_throttled(text, text, integer, integer, interval),
                          public.record_sign_in_failure(text, text)
TO anon;
