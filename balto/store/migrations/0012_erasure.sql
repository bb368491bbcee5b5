-- What was said at the counter is personal data, often health data (LGPD art. 11): it can be
-- erased on request, one conversation at a time, and after BALTO_RETENTION_DAYS it is erased by
-- the retention task (balto/store/erasure.py). Erased: segment transcripts, the utterances quoted
-- by suggestions and alerts, STT comparisons' texts and refused advisor answers. Kept: times,
-- roles, products suggested and why, alerts' signs and the feedback, so counts and reports stand.

-- When a conversation's texts were erased on request (NULL: never).
ALTER TABLE sessions ADD COLUMN said_erased_at timestamptz;

-- The retention task walks only rows that still hold text: erased rows leave these indexes.
CREATE INDEX segments_said ON segments (created_at) WHERE transcript IS NOT NULL;
CREATE INDEX recommendations_said ON recommendations (created_at) WHERE transcricao_base <> '';
CREATE INDEX alerts_said ON alerts (created_at) WHERE transcricao_base <> '';
CREATE INDEX stt_comparisons_said ON stt_comparisons (created_at)
    WHERE primary_text <> '' OR secondary_text IS NOT NULL;
CREATE INDEX advice_refusals_said ON advice_refusals (created_at) WHERE said <> '';

-- A write that reaches an erased conversation later (the recorder replaying its spool after an
-- outage, or a dead instance's) arrives blank: an erasure stays an erasure.
CREATE FUNCTION said_erased(session uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM sessions WHERE id = session AND said_erased_at IS NOT NULL)
$$;

CREATE FUNCTION segments_keep_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.transcript IS NOT NULL AND said_erased(NEW.session_id) THEN
        NEW.transcript := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER segments_keep_erased BEFORE INSERT OR UPDATE OF transcript ON segments
    FOR EACH ROW EXECUTE FUNCTION segments_keep_erased();

CREATE FUNCTION quoted_keep_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.transcricao_base <> '' AND said_erased(NEW.session_id) THEN
        NEW.transcricao_base := '';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER recommendations_keep_erased BEFORE INSERT OR UPDATE OF transcricao_base
    ON recommendations FOR EACH ROW EXECUTE FUNCTION quoted_keep_erased();
CREATE TRIGGER alerts_keep_erased BEFORE INSERT OR UPDATE OF transcricao_base
    ON alerts FOR EACH ROW EXECUTE FUNCTION quoted_keep_erased();

CREATE FUNCTION stt_comparisons_keep_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF said_erased(NEW.session_id) THEN
        NEW.primary_text := '';
        NEW.secondary_text := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER stt_comparisons_keep_erased BEFORE INSERT ON stt_comparisons
    FOR EACH ROW EXECUTE FUNCTION stt_comparisons_keep_erased();

CREATE FUNCTION advice_refusals_keep_erased() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.session_id IS NOT NULL AND said_erased(NEW.session_id) THEN
        NEW.said := '';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER advice_refusals_keep_erased BEFORE INSERT ON advice_refusals
    FOR EACH ROW EXECUTE FUNCTION advice_refusals_keep_erased();
