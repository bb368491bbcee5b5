-- Provider error messages stored before 0012's release could quote what a model or the STT
-- answered (a schema-breaking answer, a refusal's text, a body that was not JSON), and with it
-- what the customer said; they are stored apart from what erasure and retention reach
-- (provider_calls.error, segments.error). The code now describes the fault without the words;
-- this rewrites the old messages the same way.
UPDATE provider_calls SET error = regexp_replace(error,
        'answer does not match the schema: .*$',
        'answer does not match the schema (recomendar, produto, explicacao)')
    WHERE error LIKE '%answer does not match the schema: %';
UPDATE provider_calls SET error = regexp_replace(error,
        'the model refused: .*$', 'the model refused (its words are kept with the refusal)')
    WHERE error LIKE '%the model refused: %';
UPDATE provider_calls SET error = regexp_replace(error,
        '(APIResponseValidationError|ValidationError|JSONDecodeError|ValueError): .*$',
        'the body is unusable: \1')
    WHERE error ~ '(APIResponseValidationError|ValidationError|JSONDecodeError|ValueError): ';
UPDATE provider_calls SET error = regexp_replace(error, 'body is not JSON: .*$', 'body is not JSON')
    WHERE error LIKE '%body is not JSON: %';
UPDATE segments SET error = regexp_replace(error, 'body is not JSON: .*$', 'body is not JSON')
    WHERE error LIKE '%body is not JSON: %';
