-- Issue 16: attendants' voiceprints and who spoke each segment.
-- A voiceprint is a few hundred bytes of voice statistics (balto/speaker/voiceprint.py); the
-- enrollment audio is never stored. One per attendant; removing the attendant erases it.
CREATE TABLE voiceprints (
    atendente_id uuid PRIMARY KEY REFERENCES atendentes (id) ON DELETE CASCADE,
    cliente_id   uuid NOT NULL REFERENCES clientes (id),
    model        text NOT NULL,
    print        bytea NOT NULL,
    speech_s     real NOT NULL,
    verdict      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voiceprints_cliente ON voiceprints (cliente_id);

-- Bumped on every change of a cliente's voiceprints, so sessions on every instance see an erased
-- voiceprint at their next segment by reading one integer (balto/speaker/source.py).
CREATE TABLE voiceprint_epochs (
    cliente_id uuid PRIMARY KEY REFERENCES clientes (id),
    epoch      bigint NOT NULL
);

CREATE FUNCTION voiceprints_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cid uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN cid := OLD.cliente_id; ELSE cid := NEW.cliente_id; END IF;
    INSERT INTO voiceprint_epochs (cliente_id, epoch) VALUES (cid, 1)
        ON CONFLICT (cliente_id) DO UPDATE SET epoch = voiceprint_epochs.epoch + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER voiceprints_changed AFTER INSERT OR UPDATE OR DELETE ON voiceprints
    FOR EACH ROW EXECUTE FUNCTION voiceprints_bump();

-- A removed attendant's voice must not be used or kept (LGPD): the voiceprint goes with it.
CREATE FUNCTION atendentes_drop_voiceprint() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM voiceprints WHERE atendente_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER atendentes_removed AFTER UPDATE OF removed_at ON atendentes
    FOR EACH ROW WHEN (NEW.removed_at IS NOT NULL) EXECUTE FUNCTION atendentes_drop_voiceprint();

-- Who spoke each segment: 'atendente' or 'cliente' (NULL: unknown, or nobody enrolled), the
-- attendant identified (id and the name at the time), and the identification's score (0-1).
ALTER TABLE segments
    ADD COLUMN falante        text CHECK (falante IN ('atendente', 'cliente')),
    ADD COLUMN atendente_id   uuid,
    ADD COLUMN atendente      text,
    ADD COLUMN falante_score  real;
