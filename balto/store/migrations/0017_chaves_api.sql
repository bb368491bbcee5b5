-- A chain's API keys: read-only access to its own cliente's data for its systems (a BI pulling
-- the Excel report or the history), without a person's password. Only a SHA-256 of the key is
-- kept; the key itself is shown once, when made.
CREATE TABLE chaves_api (
    id           uuid PRIMARY KEY,
    cliente_id   uuid NOT NULL REFERENCES clientes (id),
    nome         text NOT NULL,
    chave_hash   bytea NOT NULL UNIQUE,
    dica         text NOT NULL,
    criada_por   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    usada_em     timestamptz,
    revogada_em  timestamptz
);
CREATE INDEX chaves_api_cliente ON chaves_api (cliente_id);
