-- The outbox trigger as it was before 2026-11-29 (NOTIFY inside every collect's transaction),
-- put back in the scratch bench database for the attribution runs of scripts/bench only.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('collector_outbox', '');
    RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
