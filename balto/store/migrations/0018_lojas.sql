-- A chain's stores (lojas): balcões grouped by the store they stand in, so a chain reads its
-- history, Painel and report store by store, and a store's manager (a gestor with a loja) sees
-- that store's balcões only. A balcão without a loja belongs to the chain as a whole.
CREATE TABLE lojas (
    id          uuid PRIMARY KEY,
    cliente_id  uuid NOT NULL REFERENCES clientes (id),
    nome        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX lojas_nome ON lojas (cliente_id, lower(nome));

-- a store removed leaves its balcões to the chain as a whole
ALTER TABLE balcoes ADD COLUMN loja_id uuid REFERENCES lojas (id) ON DELETE SET NULL;
CREATE INDEX balcoes_loja ON balcoes (loja_id) WHERE loja_id IS NOT NULL;

-- A store's gestor: never widened by a removal (RESTRICT: a store with active gestores stays;
-- balto.store.lojas.remove frees deactivated ones first)
ALTER TABLE gestores ADD COLUMN loja_id uuid REFERENCES lojas (id) ON DELETE RESTRICT;
