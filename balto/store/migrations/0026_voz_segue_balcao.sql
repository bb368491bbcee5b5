-- A session scores a segment against the voices of its balcão's store as it stands now
-- (balto/speaker/source.py), read with the voiceprints: a balcão moved to another store (or left
-- in none when its store is removed: ON DELETE SET NULL) bumps the cliente's epoch as an
-- attendant's move does, so its live sessions hear the new store's attendants from their next
-- segment, not from their next connection (a counter's browser can stay connected all day).
CREATE TRIGGER balcoes_loja_changed AFTER UPDATE OF loja_id ON balcoes
    FOR EACH ROW WHEN (OLD.loja_id IS DISTINCT FROM NEW.loja_id)
    EXECUTE FUNCTION atendentes_loja_bump();
