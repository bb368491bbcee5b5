-- Issues 15/16: a cliente's attendants. A voiceprint (issue 16, its own migration) hangs off this
-- row; consent is recorded because a voiceprint is sensitive personal data under the LGPD.
-- Deleting an attendant (removed_at) keeps the name readable in history, which stores names.
CREATE TABLE atendentes (
    id             uuid PRIMARY KEY,
    cliente_id     uuid NOT NULL REFERENCES clientes (id),
    nome           text NOT NULL,
    consentimento_at timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    removed_at     timestamptz
);
CREATE INDEX atendentes_cliente ON atendentes (cliente_id) WHERE removed_at IS NULL;
-- one live attendant per name and cliente: the device's `atendente` frame and the report name them
CREATE UNIQUE INDEX atendentes_nome ON atendentes (cliente_id, lower(nome)) WHERE removed_at IS NULL;
