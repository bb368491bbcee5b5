-- Clientes (pharmacy chains), their balcões (counter devices), sessions and everything they produce.
CREATE TABLE clientes (
    id            uuid PRIMARY KEY,
    codigo        char(6) NOT NULL UNIQUE,
    email         text NOT NULL,
    razao_social  text NOT NULL,
    telefone      text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE balcoes (
    id            uuid PRIMARY KEY,
    cliente_id    uuid NOT NULL REFERENCES clientes (id),
    nome_balcao   text NOT NULL,
    api_key_hash  bytea NOT NULL UNIQUE,   -- sha256 of the key; the key itself is shown once
    api_key_hint  text NOT NULL,           -- first characters, to tell keys apart in the admin
    revoked_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX balcoes_cliente ON balcoes (cliente_id);

CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    balcao_id     uuid NOT NULL REFERENCES balcoes (id),
    started_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    audio_format  text,
    audio_seconds double precision NOT NULL DEFAULT 0,
    close_code    integer,
    close_reason  text
);
CREATE INDEX sessions_balcao ON sessions (balcao_id, started_at);

CREATE TABLE segments (
    id             uuid PRIMARY KEY,
    session_id     uuid NOT NULL REFERENCES sessions (id),
    seq            integer NOT NULL,
    audio_start    double precision NOT NULL,
    audio_end      double precision NOT NULL,
    status         text NOT NULL CHECK (status IN ('pending', 'transcribed', 'failed')),
    transcript     text,
    stt_provider   text,
    language       text,
    error          text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    transcribed_at timestamptz,
    UNIQUE (session_id, seq)
);

CREATE TABLE recommendations (
    id               uuid PRIMARY KEY,
    session_id       uuid NOT NULL REFERENCES sessions (id),
    segment_id       uuid REFERENCES segments (id),
    produto          text NOT NULL,
    explicacao       text NOT NULL,
    transcricao_base text NOT NULL,
    atendente        text,
    source           text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    aceita           boolean,
    feedback_at      timestamptz
);
CREATE INDEX recommendations_session ON recommendations (session_id);

CREATE TABLE provider_calls (
    id             bigserial PRIMARY KEY,
    session_id     uuid REFERENCES sessions (id),
    segment_id     uuid REFERENCES segments (id),
    kind           text NOT NULL CHECK (kind IN ('stt', 'llm')),
    provider       text NOT NULL,
    model          text NOT NULL,
    ok             boolean NOT NULL,
    error_category text,
    error          text,
    latency_ms     double precision NOT NULL,
    audio_seconds  double precision,
    input_tokens   integer,
    output_tokens  integer,
    cost_usd       numeric(14, 8) NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_calls_session ON provider_calls (session_id);
