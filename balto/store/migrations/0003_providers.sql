-- Issue 5: STT comparison, red-flag alerts, per-cliente catalogs.

-- A segment sent to a second STT provider for comparison: both transcripts (redacted), with
-- latency, cost and the word error rate of the secondary against the primary.
CREATE TABLE stt_comparisons (
    id                  bigserial PRIMARY KEY,
    session_id          uuid NOT NULL REFERENCES sessions (id),
    segment_id          uuid NOT NULL REFERENCES segments (id),
    primary_provider    text NOT NULL,
    primary_model       text NOT NULL,
    primary_text        text NOT NULL,
    primary_latency_ms  double precision NOT NULL,
    primary_cost_usd    numeric(14, 8) NOT NULL,
    secondary_provider  text NOT NULL,
    secondary_model     text NOT NULL,
    secondary_ok        boolean NOT NULL,
    secondary_text      text,
    secondary_error     text,
    secondary_latency_ms double precision NOT NULL,
    secondary_cost_usd  numeric(14, 8) NOT NULL DEFAULT 0,
    wer                 double precision,   -- NULL when the secondary failed
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stt_comparisons_session ON stt_comparisons (session_id);

-- A referral alert sent to the attendant instead of a product (red-flag symptoms).
CREATE TABLE alerts (
    id               uuid PRIMARY KEY,
    session_id       uuid NOT NULL REFERENCES sessions (id),
    segment_id       uuid REFERENCES segments (id),
    sinal            text NOT NULL,
    motivo           text NOT NULL,
    orientacao       text NOT NULL,
    transcricao_base text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX alerts_session ON alerts (session_id);

-- A cliente's own catalog (imported from CSV); without a row the default catalog applies.
CREATE TABLE cliente_catalogs (
    cliente_id   uuid PRIMARY KEY REFERENCES clientes (id),
    products     jsonb NOT NULL,
    source       text,
    imported_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX provider_calls_created ON provider_calls (created_at);
