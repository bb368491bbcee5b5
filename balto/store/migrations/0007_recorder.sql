-- The recorder's exactly-once ledger: the id of every event it applied (balto/recorder).
-- An event applied twice (a batch committed just before the connection died, then spooled and
-- replayed) finds its id here and is skipped. Rows older than a week are pruned at start: no
-- spool outlives that.
CREATE TABLE recorder_applied (
    event_id    uuid PRIMARY KEY,
    kind        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recorder_applied_at ON recorder_applied (applied_at);
