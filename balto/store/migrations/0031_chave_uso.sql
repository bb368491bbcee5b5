-- What each chain's API key spent of its budget, per minute (balto/store/key_budget.py): counted
-- here so that every instance behind the proxy draws on one budget. Disposable figures, so the
-- table is UNLOGGED (no WAL per request; emptied after a crash, which only forgives a minute).
CREATE UNLOGGED TABLE chave_uso (
    chave_id uuid NOT NULL REFERENCES chaves_api (id) ON DELETE CASCADE,
    minuto   timestamptz NOT NULL,
    custo    integer NOT NULL,
    PRIMARY KEY (chave_id, minuto)
);
