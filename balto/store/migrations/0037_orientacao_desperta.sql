-- A counter's word that an alert's guidance was given (evento 'orientacao', 0035) wakes the
-- deliverers at once, as an alert does (0032), instead of waiting for their one-second poll: a
-- chain's SAC following a referral hears both ends of it within milliseconds. Guidance given is
-- as rare as the alerts it follows, so the notifying commit's lock costs nothing worth saying.
CREATE OR REPLACE FUNCTION webhook_enfileira_orientacao() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_entregas (id, webhook_id, evento, objeto_id)
    SELECT gen_random_uuid(), w.id, 'orientacao', NEW.id
      FROM balcoes b JOIN webhooks w ON w.cliente_id = b.cliente_id
     WHERE b.id = NEW.balcao_id AND 'orientacao' = ANY (w.eventos);
    IF FOUND THEN
        PERFORM pg_notify('balto_webhooks', '');
    END IF;
    RETURN NULL;
END $$;
