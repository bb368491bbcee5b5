"""The per-session pipeline: receiver → decoder → vad → transcriber → advisor → sender.

Each actor is one plain async function ``run_<role>(inbox, outbox, ctx, ...)`` over Trio channels.
"""
