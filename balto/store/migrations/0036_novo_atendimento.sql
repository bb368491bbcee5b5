-- A counter session lasts a shift and serves customer after customer. The first segment of each
-- customer's service after the first (README, Advice: atendimentos) is marked with what began it:
-- 'balcao', the device's {"comando": "novo_atendimento"} (the counter page's "Próximo cliente"),
-- or 'pausa', nothing said for BALTO_ADVICE_PAUSE_S. The history draws a line there.
ALTER TABLE segments ADD COLUMN novo_atendimento text
    CHECK (novo_atendimento IN ('balcao', 'pausa'));
