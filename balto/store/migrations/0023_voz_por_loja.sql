-- Sessions identify a speaker among the attendants of the balcão's store and the chain-wide ones
-- (balto/speaker/source.py), so an attendant's store is part of what a session caches with the
-- voiceprints: a change of it (her store removed: ON DELETE SET NULL) bumps the cliente's epoch
-- as a voiceprint change does, and every session re-reads at its next segment.
CREATE FUNCTION atendentes_loja_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO voiceprint_epochs (cliente_id, epoch) VALUES (NEW.cliente_id, 1)
        ON CONFLICT (cliente_id) DO UPDATE SET epoch = voiceprint_epochs.epoch + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER atendentes_loja_changed AFTER UPDATE OF loja_id ON atendentes
    FOR EACH ROW WHEN (OLD.loja_id IS DISTINCT FROM NEW.loja_id)
    EXECUTE FUNCTION atendentes_loja_bump();
