-- A chain's own accounts (gestores): people of one cliente who sign in to the admin app with an
-- e-mail and a password and see that cliente's data only. The operator keeps ADMIN_SECRET.
-- Only an Argon2id hash of the password is stored. `senha_em` changes with the password, and a
-- browser session carries the value it was signed with: a new password (or a deactivation) ends
-- every open session of that account on every instance.
CREATE TABLE gestores (
    id             uuid PRIMARY KEY,
    cliente_id     uuid NOT NULL REFERENCES clientes (id),
    nome           text NOT NULL,
    email          text NOT NULL,
    senha_hash     text NOT NULL,
    senha_em       timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    desativado_em  timestamptz
);
-- an e-mail signs in to one account; a deactivated one frees its address
CREATE UNIQUE INDEX gestores_email ON gestores (lower(email)) WHERE desativado_em IS NULL;
CREATE INDEX gestores_cliente ON gestores (cliente_id);

-- The audit log now says who acted: 'operador' (the admin secret) or 'gestor:<e-mail>'.
ALTER TABLE admin_audit ADD COLUMN ator text;
