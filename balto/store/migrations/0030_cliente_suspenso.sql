-- A cliente's access suspended by the operator (a contract ended, a bill unpaid), and resumed: the
-- chain's counters, gestores, API keys and linking codes are refused while suspenso_em is set,
-- and everything it had (balcões and their keys, accounts, catalog, history) is kept as it was,
-- so resuming is clearing the column (balto/store/suspension.py).
ALTER TABLE clientes ADD COLUMN suspenso_em timestamptz, ADD COLUMN suspenso_motivo text;

-- a linking attempt with a suspended chain's code is recorded like the other refusals
ALTER TABLE cadastro_failures DROP CONSTRAINT cadastro_failures_reason_check;
ALTER TABLE cadastro_failures ADD CONSTRAINT cadastro_failures_reason_check
    CHECK (reason IN ('unknown_code', 'rate_limited', 'suspended'));
