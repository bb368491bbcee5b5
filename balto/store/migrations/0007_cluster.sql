-- Several Balto instances on one database: who is alive (heartbeats) and who holds which balcão.
CREATE TABLE instances (
    id            text PRIMARY KEY,             -- BALTO_INSTANCE_ID (default hostname-pid)
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()  -- the database's clock, never an instance's
);

-- One row per balcão: the primary key is the cluster-wide "one balcão, one live session" rule.
CREATE TABLE live_sessions (
    balcao_id     uuid PRIMARY KEY REFERENCES balcoes (id),
    session_id    uuid NOT NULL,
    instance_id   text NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    connected_at  timestamptz NOT NULL DEFAULT now(),
    snapshot      jsonb NOT NULL DEFAULT '{}',   -- the holder's per-actor health, refreshed
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX live_sessions_instance ON live_sessions (instance_id);

-- Which instance served a session: crash reconciliation closes only the dead instances' sessions.
ALTER TABLE sessions ADD COLUMN instance_id text;
CREATE INDEX sessions_open ON sessions (instance_id) WHERE ended_at IS NULL;
