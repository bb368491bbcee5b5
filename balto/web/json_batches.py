"""JSON documents that carry every live session, encoded a few sessions at a time.

A live session's snapshot encodes in ~50 µs (~70 under load); 200 of them in one
``json.dumps`` held the Trio thread 10–14 ms, every second for each open dashboard stream and
every 1.5 s for each admin on the Ao vivo page: a stall for every counter's audio. Encoding the
sessions one by one, with a checkpoint every few, gives the same text in holds of about half a
millisecond.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from supervisors.batches import in_batches


async def dumps_batched(document: Mapping[str, Any], key: str) -> str:
    """``json.dumps(document)`` (its defaults), the list under `key` a few items at a time.

    `key` must be the document's first key; its items are encoded `supervisors.batches.BATCH` at
    a time with a checkpoint between batches.
    """
    if next(iter(document), None) != key:
        raise ValueError(f"{key!r} must be the document's first key")
    parts = await in_batches(document[key], json.dumps)
    head = "{" + json.dumps(key) + ": [" + ", ".join(parts) + "]"
    rest = {name: value for name, value in document.items() if name != key}
    return head + (", " + json.dumps(rest)[1:] if rest else "}")
