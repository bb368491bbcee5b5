-- The attendant's word that she gave a red-flag alert's guidance: the counter's
-- {"comando": "orientado", "id": "<alert id>"} (README, Device protocol). When, the first time;
-- who is the alert's own `atendente`. Beside an admin's "Ciente" (ciente_em), which says an
-- admin saw it, this says the customer was told to seek care.
ALTER TABLE alerts ADD COLUMN orientado_em timestamptz;
