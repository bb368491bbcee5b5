-- Issue 14: failed balcão-linking attempts. The rate limit of POST /cadastro/balcao counts them
-- here (not in a process), so it holds across instances; admins read them at
-- GET /admin/cadastro/falhas. One row per refused attempt: an unknown code ('unknown_code'), or
-- any attempt while its address or code was limited ('rate_limited'; not counted by the limit,
-- so a client that waits out Retry-After is served).
CREATE TABLE cadastro_failures (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    remote_addr text NOT NULL,
    codigo      text NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('unknown_code', 'rate_limited'))
);
CREATE INDEX cadastro_failures_addr ON cadastro_failures (remote_addr, at) WHERE reason = 'unknown_code';
CREATE INDEX cadastro_failures_codigo ON cadastro_failures (codigo, at) WHERE reason = 'unknown_code';
CREATE INDEX cadastro_failures_at ON cadastro_failures (at);
