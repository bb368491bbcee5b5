-- The store an attendant works in (NULL: the whole chain), so a store's manager registers the
-- attendants of its store and their voices itself (with their consent). A store removed leaves
-- its attendants to the chain as a whole.
ALTER TABLE atendentes ADD COLUMN loja_id uuid REFERENCES lojas (id) ON DELETE SET NULL;
