-- The customers a session served (0036's marks) are counted for every conversation listed in the
-- Histórico: a small index over the marked segments only, so the count costs one short probe.
CREATE INDEX segments_novo_atendimento ON segments (session_id) WHERE novo_atendimento IS NOT NULL;
