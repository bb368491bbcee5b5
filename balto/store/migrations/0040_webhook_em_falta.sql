-- The suggestion the attendant marked "Em falta" (the device's em_falta frame, 0039) keeps when
-- she did, and webhooks hear it (evento 'em_falta'): a chain's purchasing learns that a shelf is
-- empty at a store as the counter finds it, with the product, the store and the balcão. Queued
-- by a trigger in the same transaction, like the other events (0032-0035); only the first time
-- counts, as it is stored.
ALTER TABLE recommendations ADD COLUMN em_falta_em timestamptz;

ALTER TABLE webhooks DROP CONSTRAINT webhooks_eventos_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_eventos_check
    CHECK (cardinality(eventos) > 0
           AND eventos <@ ARRAY['alerta', 'recomendacao', 'retorno', 'orientacao', 'em_falta']);
ALTER TABLE webhook_entregas DROP CONSTRAINT webhook_entregas_evento_check;
ALTER TABLE webhook_entregas ADD CONSTRAINT webhook_entregas_evento_check
    CHECK (evento IN ('alerta', 'recomendacao', 'retorno', 'orientacao', 'em_falta', 'teste'));

CREATE FUNCTION webhook_enfileira_em_falta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_entregas (id, webhook_id, evento, objeto_id)
    SELECT gen_random_uuid(), w.id, 'em_falta', NEW.id
      FROM balcoes b JOIN webhooks w ON w.cliente_id = b.cliente_id
     WHERE b.id = NEW.balcao_id AND 'em_falta' = ANY (w.eventos);
    RETURN NULL;
END $$;
CREATE TRIGGER recommendations_webhook_em_falta AFTER UPDATE OF em_falta_em ON recommendations
    FOR EACH ROW WHEN (OLD.em_falta_em IS NULL AND NEW.em_falta_em IS NOT NULL)
    EXECUTE FUNCTION webhook_enfileira_em_falta();
