-- Two-step verification for gestores (balto.totp): the authenticator's shared secret once the
-- person confirmed a code from it, the one being set up meanwhile, and the last time step
-- accepted (a code is good once). NULL totp_segredo: the password alone signs in.
ALTER TABLE gestores
    ADD COLUMN totp_segredo  text,
    ADD COLUMN totp_pendente text,
    ADD COLUMN totp_passo    bigint NOT NULL DEFAULT 0;

-- Recovery codes: shown once, kept as SHA-256 only, each good once.
CREATE TABLE gestor_recuperacao (
    gestor_id   uuid NOT NULL REFERENCES gestores (id) ON DELETE CASCADE,
    codigo_hash text NOT NULL,
    usado_em    timestamptz,
    PRIMARY KEY (gestor_id, codigo_hash)
);

-- A chain may require it of all its gestores: one without it sets it up at its next sign-in,
-- before any page opens.
ALTER TABLE clientes ADD COLUMN exige_dois_fatores boolean NOT NULL DEFAULT false;
