-- The Painel (balto.store.charts) sums sessions, suggestions, alerts and provider calls per
-- balcão and period. It read every row of the period, joined to its session to find the balcão:
-- on two years of 1,000,000 conversations a chain's 30 days took ~0.6 s and the operator's year
-- 6 s, growing with the traffic (docs/BENCHMARKS.md, History at scale). Two changes:

-- 1. Suggestions and alerts carry their session's balcão (a session never changes balcão),
--    derived by the database on insert and on any update of it or of their session, so every
--    writer (the recorder's spool replays included) gets it without knowing and none can set
--    another; indexed by (balcão, time), so the per-attendant and top-product reads of a chain
--    or a store read only its rows.
ALTER TABLE recommendations ADD COLUMN balcao_id uuid;
ALTER TABLE alerts ADD COLUMN balcao_id uuid;
UPDATE recommendations r SET balcao_id = s.balcao_id FROM sessions s WHERE s.id = r.session_id;
UPDATE alerts a SET balcao_id = s.balcao_id FROM sessions s WHERE s.id = a.session_id;

CREATE FUNCTION fato_balcao() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT s.balcao_id INTO NEW.balcao_id FROM sessions s WHERE s.id = NEW.session_id;
    RETURN NEW;
END $$;
CREATE TRIGGER recommendations_balcao
    BEFORE INSERT OR UPDATE OF session_id, balcao_id ON recommendations
    FOR EACH ROW EXECUTE FUNCTION fato_balcao();
CREATE TRIGGER alerts_balcao BEFORE INSERT OR UPDATE OF session_id, balcao_id ON alerts
    FOR EACH ROW EXECUTE FUNCTION fato_balcao();
-- What the copies and the sums below rest on, enforced: a session stays at its balcão.
CREATE FUNCTION sessao_no_balcao() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a session''s balcão never changes (session %)', OLD.id;
END $$;
CREATE TRIGGER sessions_balcao_fixo BEFORE UPDATE OF balcao_id ON sessions
    FOR EACH ROW WHEN (OLD.balcao_id IS DISTINCT FROM NEW.balcao_id)
    EXECUTE FUNCTION sessao_no_balcao();
CREATE INDEX recommendations_balcao ON recommendations (balcao_id, created_at);
CREATE INDEX alerts_balcao ON alerts (balcao_id, created_at);

-- 2. The Painel's sums per balcão and UTC hour, kept by the database in the same transaction as
--    the rows they count. AFTER triggers: a replayed insert that ON CONFLICT skips counts
--    nothing; an update takes the row's old contribution out and puts its new one in (feedback
--    given, changed or withdrawn moves its hour's acceptance; a corrected time moves the row to
--    its hour); a delete takes it out. A period is read from its whole hours here and from the
--    rows only at its edges (at most an hour each side), so the read no longer grows with the
--    traffic. (A TRUNCATE is not followed; Balto never truncates.)
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

-- One function for the four tables (PL/pgSQL compiles a trigger function per table, so `r`'s
-- fields resolve per table): the old row's contribution out, the new row's in.
CREATE FUNCTION painel_conta() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    sign integer;
    balcao uuid;
BEGIN
    FOR step IN 1..2 LOOP
        IF step = 1 THEN
            CONTINUE WHEN TG_OP = 'INSERT';
            r := OLD;
            sign := -1;
        ELSE
            CONTINUE WHEN TG_OP = 'DELETE';
            r := NEW;
            sign := 1;
        END IF;
        IF TG_TABLE_NAME = 'sessions' THEN
            PERFORM painel_soma(r.balcao_id, r.started_at, sign, 0, 0, 0, 0, 0);
        ELSIF TG_TABLE_NAME = 'recommendations' THEN
            PERFORM painel_soma(r.balcao_id, r.created_at, 0, sign,
                sign * (r.aceita IS TRUE)::int, sign * (r.aceita IS NOT NULL)::int, 0, 0);
        ELSIF TG_TABLE_NAME = 'alerts' THEN
            PERFORM painel_soma(r.balcao_id, r.created_at, 0, 0, 0, 0, sign, 0);
        ELSIF r.session_id IS NOT NULL AND r.cost_usd <> 0 THEN  -- provider_calls
            SELECT s.balcao_id INTO balcao FROM sessions s WHERE s.id = r.session_id;
            PERFORM painel_soma(balcao, r.created_at, 0, 0, 0, 0, 0, sign * r.cost_usd);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_painel AFTER INSERT OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION painel_conta();
CREATE TRIGGER sessions_painel_update AFTER UPDATE OF started_at ON sessions
    FOR EACH ROW WHEN (OLD.started_at IS DISTINCT FROM NEW.started_at)
    EXECUTE FUNCTION painel_conta();
CREATE TRIGGER recommendations_painel AFTER INSERT OR DELETE ON recommendations
    FOR EACH ROW EXECUTE FUNCTION painel_conta();
CREATE TRIGGER recommendations_painel_update
    AFTER UPDATE OF aceita, created_at, balcao_id ON recommendations
    FOR EACH ROW WHEN ((OLD.aceita, OLD.created_at, OLD.balcao_id) IS DISTINCT FROM
                       (NEW.aceita, NEW.created_at, NEW.balcao_id))
    EXECUTE FUNCTION painel_conta();
CREATE TRIGGER alerts_painel AFTER INSERT OR DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION painel_conta();
CREATE TRIGGER alerts_painel_update AFTER UPDATE OF created_at, balcao_id ON alerts
    FOR EACH ROW WHEN ((OLD.created_at, OLD.balcao_id) IS DISTINCT FROM
                       (NEW.created_at, NEW.balcao_id))
    EXECUTE FUNCTION painel_conta();
CREATE TRIGGER provider_calls_painel AFTER INSERT OR DELETE ON provider_calls
    FOR EACH ROW EXECUTE FUNCTION painel_conta();
CREATE TRIGGER provider_calls_painel_update
    AFTER UPDATE OF created_at, cost_usd, session_id ON provider_calls
    FOR EACH ROW WHEN ((OLD.created_at, OLD.cost_usd, OLD.session_id) IS DISTINCT FROM
                       (NEW.created_at, NEW.cost_usd, NEW.session_id))
    EXECUTE FUNCTION painel_conta();

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
