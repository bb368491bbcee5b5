-- Products out of stock (em falta): the advisor never suggests a product the counter cannot
-- sell. A row holds one catalog product missing at one store (loja_id) or, with loja_id NULL, at
-- every balcão of the chain (a supply shortage, or a chain without stores). `produto` is the
-- catalog's own spelling; `chave` its normalized form (balto.catalog.normalize), what the
-- advisor compares. `origem`: 'api' (the chain's system or an admin, through the API) or
-- 'balcao' (the attendant's "Em falta" on a suggestion, {"comando": "em_falta"}).
CREATE TABLE produtos_em_falta (
    cliente_id  uuid NOT NULL REFERENCES clientes (id),
    loja_id     uuid REFERENCES lojas (id) ON DELETE CASCADE,
    produto     text NOT NULL,
    chave       text NOT NULL,
    origem      text NOT NULL CHECK (origem IN ('api', 'balcao')),
    por         text,
    desde       timestamptz NOT NULL DEFAULT now()
);
-- one row per product and place; NULL (the whole chain) is a place of its own
CREATE UNIQUE INDEX produtos_em_falta_chave ON produtos_em_falta
    (cliente_id, coalesce(loja_id, '00000000-0000-0000-0000-000000000000'::uuid), chave);

-- When the chain's list last changed: live sessions read it with the catalog's version before
-- each utterance (one primary-key read) and re-read their balcão's list only when it moved.
ALTER TABLE clientes ADD COLUMN em_falta_em timestamptz;
