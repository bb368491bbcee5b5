-- Ao vivo lists the sessions closed in the last 15 minutes on every poll (every 1.5 s per open
-- page, balto.store.live_feed.recently_ended). Without an index on the close time that read every
-- session ever recorded: ~60 ms at 1,000,000 conversations, i.e. ~4% of a core of the database
-- per admin watching, growing with the history.
CREATE INDEX sessions_ended ON sessions (ended_at);
