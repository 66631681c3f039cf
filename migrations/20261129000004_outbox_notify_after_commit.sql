-- The outbox trigger raised `NOTIFY collector_outbox` inside every collect's transaction.
-- Postgres serialises the commits of transactions that notify (a server-wide lock held from
-- before the commit record is written until it is flushed), so concurrent collects could not
-- share a disk flush: the collect rate was bounded by one flush per collect. The writers now
-- notify after their commit, in a statement of their own (`workers::outbox::Signal`), or in
-- their own rare transactions (re-sends); the relays still poll as a fallback.
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS outbox_notify();
