-- A chain's API key may read one store only (a store's own system): the same scope as a store's
-- gestor. A store with a live key of its own is not removed (balto.store.lojas.remove), so a
-- removal never widens what a key reads; revoked keys are let go of.
ALTER TABLE chaves_api ADD COLUMN loja_id uuid REFERENCES lojas (id) ON DELETE RESTRICT;
