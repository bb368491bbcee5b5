-- Webhooks hear that a counter gave an alert's guidance (evento 'orientacao', alerts.orientado_em
-- from 0034), so a chain's system can follow each referral to the end: the alert ('alerta'), then
-- the attendant's word that the customer was told to seek care. Queued by a trigger in the same
-- transaction, like the other events (0032, 0033); only the first time counts, as it is stored.
ALTER TABLE webhooks DROP CONSTRAINT webhooks_eventos_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_eventos_check
    CHECK (cardinality(eventos) > 0
           AND eventos <@ ARRAY['alerta', 'recomendacao', 'retorno', 'orientacao']);
ALTER TABLE webhook_entregas DROP CONSTRAINT webhook_entregas_evento_check;
ALTER TABLE webhook_entregas ADD CONSTRAINT webhook_entregas_evento_check
    CHECK (evento IN ('alerta', 'recomendacao', 'retorno', 'orientacao', 'teste'));

CREATE FUNCTION webhook_enfileira_orientacao() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_entregas (id, webhook_id, evento, objeto_id)
    SELECT gen_random_uuid(), w.id, 'orientacao', NEW.id
      FROM balcoes b JOIN webhooks w ON w.cliente_id = b.cliente_id
     WHERE b.id = NEW.balcao_id AND 'orientacao' = ANY (w.eventos);
    RETURN NULL;
END $$;
CREATE TRIGGER alerts_webhook_orientacao AFTER UPDATE OF orientado_em ON alerts
    FOR EACH ROW WHEN (OLD.orientado_em IS NULL AND NEW.orientado_em IS NOT NULL)
    EXECUTE FUNCTION webhook_enfileira_orientacao();
