-- Histórico's conversations list reads sessions by their start alone (newest first over every
-- chain, keyset on (started_at, id)), and so do the Painel's periods; the only index on
-- started_at led with balcao_id, so the operator's first page sorted every session ever recorded.
CREATE INDEX sessions_started ON sessions (started_at, id);

-- Searching what was said and suggested (`q` on the conversations list): the words of each
-- utterance and product, folded as balto.store.text_search folds them, kept beside the text so a
-- search never refolds it, and indexed. Generated columns follow the text: an erased transcript
-- (NULL, also when the erasure trigger blanks it) has no words. The expressions must stay
-- text_search.words_of (tests/test_history_search.py checks). bench/history_scale.py:
-- docs/BENCHMARKS.md, History at scale.
ALTER TABLE segments ADD COLUMN palavras tsvector
  GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, translate(lower(transcript), 'áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ', 'aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn'))) STORED;
CREATE INDEX segments_words ON segments USING gin (palavras);
ALTER TABLE recommendations ADD COLUMN palavras tsvector
  GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, translate(lower(produto), 'áàâãäéèêëíìîïóòôõöúùûüçñÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑ', 'aaaaaeeeeiiiiooooouuuucnaaaaaeeeeiiiiooooouuuucn'))) STORED;
CREATE INDEX recommendations_words ON recommendations USING gin (palavras);
