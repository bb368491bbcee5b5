"""The supervision tree: generic supervisor, per-balcão session supervisor, registry, root."""
