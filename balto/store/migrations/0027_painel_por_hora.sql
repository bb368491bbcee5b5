-- The Painel (balto.store.charts) sums sessions, suggestions, alerts and provider calls per
-- balcão and period. It read every row of the period, joined to its session to find the balcão:
-- on two years of 1,000,000 conversations a chain's 30 days took ~0.6 s and the operator's year
-- 6 s, growing with the traffic (docs/BENCHMARKS.md, History at scale). Two changes:

-- 1. Suggestions and alerts carry their session's balcão (a session never changes balcão),
--    filled by the database on insert, so every writer (the recorder's spool replays included)
--    gets it without knowing, and are indexed by (balcão, time): the per-attendant and
--    top-product reads of a chain or a store read only its rows.
ALTER TABLE recommendations ADD COLUMN balcao_id uuid;
ALTER TABLE alerts ADD COLUMN balcao_id uuid;
UPDATE recommendations r SET balcao_id = s.balcao_id FROM sessions s WHERE s.id = r.session_id;
UPDATE alerts a SET balcao_id = s.balcao_id FROM sessions s WHERE s.id = a.session_id;

CREATE FUNCTION fato_balcao() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.balcao_id IS NULL THEN
        SELECT s.balcao_id INTO NEW.balcao_id FROM sessions s WHERE s.id = NEW.session_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER recommendations_balcao BEFORE INSERT ON recommendations
    FOR EACH ROW EXECUTE FUNCTION fato_balcao();
CREATE TRIGGER alerts_balcao BEFORE INSERT ON alerts
    FOR EACH ROW EXECUTE FUNCTION fato_balcao();
CREATE INDEX recommendations_balcao ON recommendations (balcao_id, created_at);
CREATE INDEX alerts_balcao ON alerts (balcao_id, created_at);

-- 2. The Painel's sums per balcão and UTC hour, kept by the database in the same transaction as
--    the rows they count (AFTER triggers: a replayed insert that ON CONFLICT skips counts
--    nothing; feedback given later moves its hour's acceptance). A period is read from its whole
--    hours here and from the rows themselves only at its edges (at most an hour each side), so
--    the read no longer grows with the traffic. Rows are never deleted (erasure and retention
--    blank texts only), and a fact's time and balcão never change.
CREATE TABLE painel_horas (
    balcao_id     uuid NOT NULL,
    hora          timestamptz NOT NULL,
    sessoes       integer NOT NULL DEFAULT 0,
    recomendacoes integer NOT NULL DEFAULT 0,
    aceitas       integer NOT NULL DEFAULT 0,
    com_feedback  integer NOT NULL DEFAULT 0,
    alertas       integer NOT NULL DEFAULT 0,
    custo_usd     numeric(20, 8) NOT NULL DEFAULT 0,
    PRIMARY KEY (balcao_id, hora)
);
CREATE INDEX painel_horas_hora ON painel_horas (hora);

CREATE FUNCTION painel_soma(
    balcao uuid, at timestamptz, s integer, r integer, a integer, f integer, al integer,
    custo numeric
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO painel_horas AS h
        (balcao_id, hora, sessoes, recomendacoes, aceitas, com_feedback, alertas, custo_usd)
    VALUES (balcao, date_trunc('hour', at, 'UTC'), s, r, a, f, al, custo)
    ON CONFLICT (balcao_id, hora) DO UPDATE SET
        sessoes = h.sessoes + EXCLUDED.sessoes,
        recomendacoes = h.recomendacoes + EXCLUDED.recomendacoes,
        aceitas = h.aceitas + EXCLUDED.aceitas,
        com_feedback = h.com_feedback + EXCLUDED.com_feedback,
        alertas = h.alertas + EXCLUDED.alertas,
        custo_usd = h.custo_usd + EXCLUDED.custo_usd
$$;

CREATE FUNCTION painel_conta() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    balcao uuid;
BEGIN
    IF TG_TABLE_NAME = 'sessions' THEN
        PERFORM painel_soma(NEW.balcao_id, NEW.started_at, 1, 0, 0, 0, 0, 0);
    ELSIF TG_TABLE_NAME = 'recommendations' AND TG_OP = 'INSERT' THEN
        PERFORM painel_soma(NEW.balcao_id, NEW.created_at, 0, 1,
            (NEW.aceita IS TRUE)::int, (NEW.aceita IS NOT NULL)::int, 0, 0);
    ELSIF TG_TABLE_NAME = 'recommendations' THEN  -- feedback given or changed
        PERFORM painel_soma(NEW.balcao_id, NEW.created_at, 0, 0,
            (NEW.aceita IS TRUE)::int - (OLD.aceita IS TRUE)::int,
            (NEW.aceita IS NOT NULL)::int - (OLD.aceita IS NOT NULL)::int, 0, 0);
    ELSIF TG_TABLE_NAME = 'alerts' THEN
        PERFORM painel_soma(NEW.balcao_id, NEW.created_at, 0, 0, 0, 0, 1, 0);
    ELSIF NEW.session_id IS NOT NULL AND NEW.cost_usd <> 0 THEN  -- provider_calls
        SELECT s.balcao_id INTO balcao FROM sessions s WHERE s.id = NEW.session_id;
        PERFORM painel_soma(balcao, NEW.created_at, 0, 0, 0, 0, 0, NEW.cost_usd);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_painel AFTER INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION painel_conta();
CREATE TRIGGER recommendations_painel AFTER INSERT ON recommendations
    FOR EACH ROW EXECUTE FUNCTION painel_conta();
CREATE TRIGGER recommendations_painel_feedback AFTER UPDATE OF aceita ON recommendations
    FOR EACH ROW WHEN (OLD.aceita IS DISTINCT FROM NEW.aceita) EXECUTE FUNCTION painel_conta();
CREATE TRIGGER alerts_painel AFTER INSERT ON alerts
    FOR EACH ROW EXECUTE FUNCTION painel_conta();
CREATE TRIGGER provider_calls_painel AFTER INSERT ON provider_calls
    FOR EACH ROW EXECUTE FUNCTION painel_conta();

-- what was recorded before this migration
INSERT INTO painel_horas AS h
    (balcao_id, hora, sessoes, recomendacoes, aceitas, com_feedback, alertas, custo_usd)
SELECT balcao_id, hora, sum(s), sum(r), sum(a), sum(f), sum(al), sum(c) FROM (
    SELECT balcao_id, date_trunc('hour', started_at, 'UTC') AS hora, count(*) AS s, 0 AS r,
           0 AS a, 0 AS f, 0 AS al, 0::numeric AS c
      FROM sessions GROUP BY 1, 2
    UNION ALL
    SELECT balcao_id, date_trunc('hour', created_at, 'UTC'), 0, count(*),
           count(*) FILTER (WHERE aceita), count(aceita), 0, 0
      FROM recommendations GROUP BY 1, 2
    UNION ALL
    SELECT balcao_id, date_trunc('hour', created_at, 'UTC'), 0, 0, 0, 0, count(*), 0
      FROM alerts GROUP BY 1, 2
    UNION ALL
    SELECT s.balcao_id, date_trunc('hour', p.created_at, 'UTC'), 0, 0, 0, 0, 0, sum(p.cost_usd)
      FROM provider_calls p JOIN sessions s ON s.id = p.session_id
     WHERE p.cost_usd <> 0 GROUP BY 1, 2
) AS x GROUP BY 1, 2;
