-- Issue 6: an audit log of admin actions, and indexes for history, export and metrics queries.

-- One row per admin action (restart, disconnect, revoke, fault changes, exports): who asked (the
-- client address; there is one shared admin secret), what, on which balcão, and the outcome.
CREATE TABLE admin_audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,
    balcao_id   uuid,
    session_id  uuid,
    remote_addr text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX admin_audit_at ON admin_audit (at);

-- History pages are keyset-paginated on (created_at, id), newest first.
CREATE INDEX segments_created ON segments (created_at, id);
CREATE INDEX recommendations_created ON recommendations (created_at, id);
CREATE INDEX recommendations_segment ON recommendations (segment_id);
