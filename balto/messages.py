"""Messages that flow between actors: frozen values, audio carrying its rate and timestamps.

Audio time ("audio clock") counts seconds of decoded audio since the session started; wall time is
`trio.current_time()`. The difference between the two is the session's lag.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Message:
    """Marker base for everything sent over a link."""


@dataclass(frozen=True, slots=True)
class AudioChunk(Message):
    """One binary frame from the device, as received."""

    seq: int
    data: bytes
    received_at: float


@dataclass(frozen=True, slots=True)
class PcmFrame(Message):
    """Decoded audio: mono s16le at `sample_rate`, starting at `start` seconds of audio time."""

    pcm: bytes
    sample_rate: int
    start: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.pcm) / 2 / self.sample_rate


@dataclass(frozen=True, slots=True)
class OpusFrame(Message):
    """Opus packets for the VAD's front end to decode where it runs (one round trip per chunk).

    The decoder sends these instead of `PcmFrame`s when the front ends run in worker processes:
    decoding, denoise and VAD then happen in one request to the session's worker.

    Attributes:
        packets: Opus packets in stream order, with no gap between them.
        head: The stream's OpusHead (channel count, pre-skip), for the decoder the front end opens.
        start: Audio-clock time where their audio starts (seconds; gaps included).
        duration: Their audio's length by their TOC bytes (seconds).
        gap_s: Audio lost just before them (the clock moved over it).
        first: They begin with the stream's first packet (a decoder opened on anything else picks
            the stream up mid-way and drops no pre-skip).
    """

    packets: tuple[bytes, ...]
    head: bytes | None
    start: float
    duration: float
    gap_s: float = 0.0
    first: bool = False


AudioFrame = PcmFrame | OpusFrame
"""What the decoder hands the VAD."""


@dataclass(frozen=True, slots=True)
class Segment(Message):
    """One stretch of speech cut by the VAD, with its audio-clock interval."""

    id: str
    seq: int
    pcm: bytes
    sample_rate: int
    start: float
    end: float
    cut_at: float  # wall time (trio clock) when the VAD closed it
    # Its voice embedding (`balto.speaker`) when made before the segment left; the VAD makes it
    # after, delivered beside the segment (the session's VoiceNeed): None here then.
    voice: bytes | None = None

    @property
    def duration(self) -> float:
        """Length of the audio in seconds."""
        return len(self.pcm) / 2 / self.sample_rate


@dataclass(frozen=True, slots=True)
class Transcript(Message):
    """The text of one segment, from one STT provider."""

    segment_id: str
    text: str
    provider: str
    start: float
    end: float
    language: str | None = None
    # Who spoke it: "atendente", "cliente" or None (unknown; nobody enrolled).
    falante: str | None = None
    # The attendant identified by voice at the counter as of this segment (its speaker, or the
    # last attendant identified in the session), None when none is.
    atendente: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion(Message):
    """What an advisor proposes: a catalog product and a one-line reason."""

    produto: str
    explicacao: str
    source: str


@dataclass(frozen=True, slots=True)
class Recommendation(Message):
    """A suggestion bound to this session, ready for the device (`comando: recomendar`)."""

    id: str
    produto: str
    explicacao: str
    transcricao_base: str
    atendente: str | None
    source: str
    segment_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # What the customer said that ruled products out ("gravidez", "alergia a dipirona").
    cuidados: tuple[str, ...] = ()

    def to_frame(self) -> dict[str, object]:
        """The seed's JSON keys exactly, plus `id` for feedback and, when any, `cuidados`."""
        frame: dict[str, object] = {
            "comando": "recomendar",
            "produto": self.produto,
            "explicacao": self.explicacao,
            "transcricao_base": self.transcricao_base,
            "atendente": self.atendente,
            "id": self.id,
        }
        if self.cuidados:
            frame["cuidados"] = list(self.cuidados)
        return frame


@dataclass(frozen=True, slots=True)
class Alert(Recommendation):
    """A referral alert for the attendant instead of a product (`comando: alerta`).

    It travels the advisor → sender link, which carries recommendations, so it is one of them by
    type; it names no product (`produto` is empty) and `explicacao` holds the guidance.

    Attributes:
        sinal: The red flag's stable code (``dor_no_peito``, ``febre_alta_bebe``, …); the first
            one when the utterance showed several.
        motivo: What was recognized, in Portuguese, for the attendant (every sign, joined).
        sinais: Every sign this alert stands for, `sinal` first (stored; the frame keeps the
            seed-era keys).
    """

    sinal: str = ""
    motivo: str = ""
    sinais: tuple[str, ...] = ()

    def to_frame(self) -> dict[str, object]:
        """The ``alerta`` frame: what was heard and what to do; never a product."""
        return {
            "comando": "alerta",
            "id": self.id,
            "tipo": "encaminhamento",
            "sinal": self.sinal,
            "motivo": self.motivo,
            "orientacao": self.explicacao,
            "transcricao_base": self.transcricao_base,
            "atendente": self.atendente,
        }


@dataclass(frozen=True, slots=True)
class Withdrawal(Recommendation):
    """A suggestion already on the screen that the customer's words now rule out (`retirar`).

    It travels the advisor → sender link like an `Alert`. `id` is the withdrawn
    recommendation's, `produto` its product, `explicacao` why ("Neosaldina não é indicado:
    amamentação"); a replacement, when there is one, follows as its own recommendation.
    """

    def to_frame(self) -> dict[str, object]:
        """The ``retirar`` frame: which suggestion, and why."""
        return {
            "comando": "retirar",
            "id": self.id,
            "produto": self.produto,
            "motivo": self.explicacao,
            "atendente": self.atendente,
        }
