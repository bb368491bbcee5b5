-- An attendant's name corrected (PATCH /admin/atendentes/{id}): sessions cache the names with the
-- voiceprints they identify (balto/speaker/source.py), so a rename bumps the cliente's epoch as a
-- voiceprint or store change does, and every session names her anew from its next segment.
CREATE TRIGGER atendentes_nome_changed AFTER UPDATE OF nome ON atendentes
    FOR EACH ROW WHEN (OLD.nome IS DISTINCT FROM NEW.nome)
    EXECUTE FUNCTION atendentes_loja_bump();
