-- A suggestion withdrawn because the customer's words ruled its product out (0041, the device's
-- `retirar` frame) reaches the chain's system (evento 'retirada'): its pharmacist or SAC sees
-- that the counter was told not to offer it, and why. Queued by a trigger in the same
-- transaction, like the other events (0032-0040); only the first withdrawal counts, as stored.
ALTER TABLE webhooks DROP CONSTRAINT webhooks_eventos_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_eventos_check
    CHECK (cardinality(eventos) > 0
           AND eventos <@ ARRAY['alerta', 'recomendacao', 'retorno', 'orientacao', 'em_falta',
                                'retirada']);
ALTER TABLE webhook_entregas DROP CONSTRAINT webhook_entregas_evento_check;
ALTER TABLE webhook_entregas ADD CONSTRAINT webhook_entregas_evento_check
    CHECK (evento IN ('alerta', 'recomendacao', 'retorno', 'orientacao', 'em_falta', 'retirada',
                      'teste'));

CREATE FUNCTION webhook_enfileira_retirada() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_entregas (id, webhook_id, evento, objeto_id)
    SELECT gen_random_uuid(), w.id, 'retirada', NEW.id
      FROM balcoes b JOIN webhooks w ON w.cliente_id = b.cliente_id
     WHERE b.id = NEW.balcao_id AND 'retirada' = ANY (w.eventos);
    RETURN NULL;
END $$;
CREATE TRIGGER recommendations_webhook_retirada AFTER UPDATE OF retirada_em ON recommendations
    FOR EACH ROW WHEN (OLD.retirada_em IS NULL AND NEW.retirada_em IS NOT NULL)
    EXECUTE FUNCTION webhook_enfileira_retirada();
