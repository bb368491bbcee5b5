-- Contraindications (balto/advice/cautions.py). A recommendation keeps what the customer had said
-- that ruled products out when it was made ("gravidez", "alergia a dipirona"), so an admin reading
-- the history sees why the suggestion was this one and not the usual. A suggestion already on the
-- screen that later words ruled out is withdrawn (the device's `retirar` frame): it keeps when
-- (the first time) and why.
ALTER TABLE recommendations ADD COLUMN cuidados text[];
ALTER TABLE recommendations ADD COLUMN retirada_em timestamptz;
ALTER TABLE recommendations ADD COLUMN retirada_motivo text;
