-- The outbox is a queue: every row is inserted, updated once (published) and deleted after
-- OUTBOX_RETENTION. With the default thresholds (20% of the table dead) autovacuum lets it
-- bloat far past its live size under a steady load; vacuum it once 1,000 rows or 1% are dead.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
