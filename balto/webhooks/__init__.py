"""A chain's webhooks: alerts and suggestions pushed to the chain's own system as they happen.

`address` says which URLs may be called, `signing` how a receiver checks a delivery came from
Balto, `deliverer` sends what the database queued (`balto.store.webhooks`).
"""
