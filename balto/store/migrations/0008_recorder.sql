-- Recorder events (balto/recorder) carry a UUID. Rows with no key of their own take it, so an
-- event applied twice (a batch that committed just as its connection died, then was spooled and
-- replayed) inserts once: inserts say ON CONFLICT (event_id) DO NOTHING. Rows written before, or
-- outside the recorder, have NULL here (NULLs never conflict).
ALTER TABLE provider_calls ADD COLUMN event_id uuid;
ALTER TABLE advice_refusals ADD COLUMN event_id uuid;
ALTER TABLE stt_comparisons ADD COLUMN event_id uuid;
CREATE UNIQUE INDEX provider_calls_event_id ON provider_calls (event_id);
CREATE UNIQUE INDEX advice_refusals_event_id ON advice_refusals (event_id);
CREATE UNIQUE INDEX stt_comparisons_event_id ON stt_comparisons (event_id);
