-- Webhooks hear the attendant's verdict on a suggestion too (evento 'retorno'), so a chain's CRM
-- learns which suggestions were taken up as the counters answer them. Queued by a trigger in the
-- same transaction as the verdict, like the other events (0032); a verdict given again unchanged
-- queues nothing, one changed queues another delivery.
ALTER TABLE webhooks DROP CONSTRAINT webhooks_eventos_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_eventos_check
    CHECK (cardinality(eventos) > 0 AND eventos <@ ARRAY['alerta', 'recomendacao', 'retorno']);
ALTER TABLE webhook_entregas DROP CONSTRAINT webhook_entregas_evento_check;
ALTER TABLE webhook_entregas ADD CONSTRAINT webhook_entregas_evento_check
    CHECK (evento IN ('alerta', 'recomendacao', 'retorno', 'teste'));

CREATE FUNCTION webhook_enfileira_retorno() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_entregas (id, webhook_id, evento, objeto_id)
    SELECT gen_random_uuid(), w.id, 'retorno', NEW.id
      FROM balcoes b JOIN webhooks w ON w.cliente_id = b.cliente_id
     WHERE b.id = NEW.balcao_id AND 'retorno' = ANY (w.eventos);
    RETURN NULL;
END $$;
CREATE TRIGGER recommendations_webhook_retorno AFTER UPDATE OF aceita ON recommendations
    FOR EACH ROW WHEN (NEW.aceita IS NOT NULL AND OLD.aceita IS DISTINCT FROM NEW.aceita)
    EXECUTE FUNCTION webhook_enfileira_retorno();
