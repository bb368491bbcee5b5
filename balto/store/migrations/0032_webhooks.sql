-- A chain's webhooks: its own system told at once, by an HTTP POST, of each referral alert (and,
-- if it asks, each suggestion) at its counters (balto/webhooks). The deliveries are an outbox in
-- this database: a trigger adds one row per subscribed webhook in the same transaction as the
-- alert or suggestion, so nothing written is missed (the recorder's spool replays included, and
-- a replay that ON CONFLICT skips adds nothing), and every instance delivers from it, each row
-- claimed by one (balto/store/webhooks.py).
CREATE TABLE webhooks (
    id          uuid PRIMARY KEY,
    cliente_id  uuid NOT NULL REFERENCES clientes (id),
    url         text NOT NULL,
    eventos     text[] NOT NULL
        CHECK (cardinality(eventos) > 0 AND eventos <@ ARRAY['alerta', 'recomendacao']),
    descricao   text,
    segredo     text NOT NULL,   -- the HMAC key the deliveries are signed with
    -- after a new secret is made, the old one still signs too until then (the chain's system
    -- is switched over without a delivery it would refuse)
    segredo_anterior     text,
    segredo_anterior_ate timestamptz,
    criado_por  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- the last attempt's outcome, of any of its deliveries (what its listing shows)
    ultima_em     timestamptz,
    ultimo_status integer,
    ultimo_erro   text,
    UNIQUE (cliente_id, url)
);

CREATE TABLE webhook_entregas (
    id            uuid PRIMARY KEY,
    webhook_id    uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    evento        text NOT NULL CHECK (evento IN ('alerta', 'recomendacao', 'teste')),
    objeto_id     uuid,          -- the alert or suggestion; NULL for a test
    created_at    timestamptz NOT NULL DEFAULT now(),
    tentativas    integer NOT NULL DEFAULT 0,
    -- when it is due: the next attempt, or while an instance is sending it, the end of its claim
    proxima_em    timestamptz NOT NULL DEFAULT now(),
    tentada_em    timestamptz,   -- the last claim (in flight while later than ultima_em)
    entregue_em   timestamptz,
    desistida_em  timestamptz,
    ultimo_status integer,       -- the receiver's last HTTP status (NULL: no answer)
    ultimo_erro   text,
    ultima_em     timestamptz
);
CREATE INDEX webhook_entregas_devidas ON webhook_entregas (proxima_em)
    WHERE entregue_em IS NULL AND desistida_em IS NULL;
CREATE INDEX webhook_entregas_webhook ON webhook_entregas (webhook_id, created_at DESC);
CREATE INDEX webhook_entregas_pendentes ON webhook_entregas (webhook_id)
    WHERE entregue_em IS NULL AND desistida_em IS NULL;
CREATE INDEX webhook_entregas_velhas ON webhook_entregas (created_at)
    WHERE entregue_em IS NOT NULL OR desistida_em IS NOT NULL;

-- AFTER INSERT: the row's balcão is already set (fato_balcao, BEFORE) and the row exists.
CREATE FUNCTION webhook_enfileira() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev text := CASE TG_TABLE_NAME WHEN 'alerts' THEN 'alerta' ELSE 'recomendacao' END;
BEGIN
    INSERT INTO webhook_entregas (id, webhook_id, evento, objeto_id)
    SELECT gen_random_uuid(), w.id, ev, NEW.id
      FROM balcoes b JOIN webhooks w ON w.cliente_id = b.cliente_id
     WHERE b.id = NEW.balcao_id AND ev = ANY (w.eventos);
    -- an alert wakes the deliverers at once instead of at their next poll; only alerts: a
    -- notifying commit takes a lock every other notifying commit waits for, and alerts are rare
    IF FOUND AND ev = 'alerta' THEN
        PERFORM pg_notify('balto_webhooks', '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER alerts_webhook AFTER INSERT ON alerts
    FOR EACH ROW EXECUTE FUNCTION webhook_enfileira();
CREATE TRIGGER recommendations_webhook AFTER INSERT ON recommendations
    FOR EACH ROW EXECUTE FUNCTION webhook_enfileira();
