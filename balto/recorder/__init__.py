"""The recorder: durable, ordered, exactly-once writes of everything a session records.

`Recorder` (the server's: spools to disk while the database is away, replays when it returns),
`DirectRecorder` (writes straight through, for tools and tests), `Spool`, and the `Event` values
both write. Actors see only the port, `actors.ports.Recorder`.
"""

from balto.recorder.direct import DirectRecorder
from balto.recorder.events import Event
from balto.recorder.spool import Spool
from balto.recorder.writer import Recorder, RecorderStats

__all__ = ["DirectRecorder", "Event", "Recorder", "RecorderStats", "Spool"]
