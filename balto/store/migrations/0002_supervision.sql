-- What supervision saw in a session: how many segments the VAD cut (so "none lost" can be checked
-- against the segments table), how many a full link dropped, and how often actors restarted.
ALTER TABLE sessions
    ADD COLUMN segments_emitted integer,
    ADD COLUMN segments_dropped integer,
    ADD COLUMN restarts integer;
