"""``balto demo``: Balto with loopback provider fakes and one simulated counter, for a first run.

Nothing here runs unless ``balto demo`` is asked for: ``balto serve`` never starts a fake.
"""
