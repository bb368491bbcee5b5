-- The chain an audited action belongs to (NULL: the operator's, or nobody's), so a chain's gestor
-- reads its own accounts' actions on Auditoria and nothing else. Rows written before this
-- migration by a gestor get the chain of the account whose e-mail they name, where only one
-- chain ever had an account with it.
ALTER TABLE admin_audit ADD COLUMN cliente_id uuid;
UPDATE admin_audit a SET cliente_id = g.cliente_id
  FROM (SELECT lower(email) AS email, min(cliente_id::text)::uuid AS cliente_id FROM gestores
         GROUP BY lower(email) HAVING count(DISTINCT cliente_id) = 1) g
 WHERE lower(a.ator) = 'gestor:' || g.email;
CREATE INDEX admin_audit_cliente ON admin_audit (cliente_id, at) WHERE cliente_id IS NOT NULL;
