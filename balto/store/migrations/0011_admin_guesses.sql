-- Wrong admin-secret guesses (the sign-in form and Authorization: Bearer headers), per client
-- address, counted here so every instance behind the proxy sees the same budget: with the count
-- in each process, N instances gave an address N times the guesses, and a restart gave them back
-- (balto/store/admin_guesses.py). Rows older than the window are pruned as new ones come.
CREATE TABLE admin_guesses (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    remote_addr text NOT NULL
);
CREATE INDEX admin_guesses_addr ON admin_guesses (remote_addr, at);
CREATE INDEX admin_guesses_at ON admin_guesses (at);
