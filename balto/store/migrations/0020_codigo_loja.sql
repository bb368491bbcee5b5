-- A store's own linking code: a balcão linked with it belongs to that store, so a store's
-- manager sets up the counters of its store itself. The same 6-digit space as the clientes'
-- codes (balto.store.link_codes hands out codes free in both, under one advisory lock). Stores
-- made before this have none until someone asks for one.
ALTER TABLE lojas ADD COLUMN codigo char(6) UNIQUE;
