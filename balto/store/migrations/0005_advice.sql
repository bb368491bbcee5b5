-- Issue 12: the attendant declared by the device, every red flag of an alert, and the advisors'
-- refused answers (so admins can see how often each model misbehaves).

-- The attendant signed in at the balcão (the device's `atendente` frame); the last one declared.
ALTER TABLE sessions ADD COLUMN atendente text;

-- An alert names every sign heard in its utterance; `sinal` stays the first of them.
ALTER TABLE alerts ADD COLUMN atendente text;
ALTER TABLE alerts ADD COLUMN sinais text[] NOT NULL DEFAULT '{}';
UPDATE alerts SET sinais = ARRAY[sinal];
CREATE INDEX alerts_created ON alerts (created_at, id);

-- One advisor answer that was not shown, and why: an unknown, ambiguous or prescription-only
-- product, one that does not fit the need the dialogue shows, malformed JSON, a refusal, or JSON
-- that breaks the schema. `said` is what the advisor answered (truncated, redacted).
CREATE TABLE advice_refusals (
    id          bigserial PRIMARY KEY,
    session_id  uuid REFERENCES sessions (id),
    segment_id  uuid REFERENCES segments (id),
    provider    text NOT NULL,
    model       text NOT NULL,
    reason      text NOT NULL,
    said        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX advice_refusals_created ON advice_refusals (created_at, id);
CREATE INDEX advice_refusals_session ON advice_refusals (session_id);
