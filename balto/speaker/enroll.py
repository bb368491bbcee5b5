"""Enrollment: an uploaded recording of an attendant → a voiceprint and a quality verdict.

In: the request body and its content type (WAV, or WebM/Opus as browsers record). Out: an
`Enrollment` (voiceprint, usable speech seconds, verdict and a Portuguese message), or an
`EnrollmentError` with the HTTP status, code and Portuguese message to answer. Synchronous and
CPU-bound (~0.5 s for 30 s of speech): run it off the Trio thread (`trio.to_thread`).

Decoding is ffmpeg's (imageio-ffmpeg's binary, the one the decoders use) with the input format
forced, to 16 kHz mono, at most `MAX_SECONDS` + 1 s (longer is refused, and never decoded whole).
Speech is found by the sessions' own front end (`balto.audio.frontend.FrontEnd`: noise reduction,
webrtcvad, energy gate), so enrollment and identification see speech the same way. The audio is
dropped once the voiceprint is made; nothing of it is stored.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import imageio_ffmpeg
import numpy as np

from balto.audio.frontend import FrontEnd
from balto.errors import BaltoError
from balto.speaker import voiceprint
from balto.speaker.features import RATE, embed
from balto.speaker.voiceprint import Voiceprint

MIN_SECONDS = 15.0
"""Shortest recording taken."""
MAX_SECONDS = 60.0
"""Longest recording taken."""
MIN_USABLE_S = 8.0  # less voiced speech gives a voiceprint too loose to tell voices apart
GOOD_USABLE_S = 12.0
GOOD_SNR_DB = 20.0
_FORMATS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/webm": "matroska",
}
_DECODE_TIMEOUT_S = 30.0


class EnrollmentError(BaltoError):
    """A recording that cannot make a voiceprint: the HTTP status, a code, a Portuguese message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A voiceprint made from a recording, and what the admin is told about it."""

    voiceprint: Voiceprint
    duracao_s: float
    fala_s: float
    qualidade: str
    mensagem: str


def _segundos(seconds: float) -> str:
    """Seconds as a Portuguese reader writes them: ``22,5 s``."""
    return f"{seconds:.1f} s".replace(".", ",")


def input_format(content_type: str | None) -> str:
    """Ffmpeg's demuxer for a request's content type; `EnrollmentError` 415 for others."""
    main = (content_type or "").split(";")[0].strip().lower()
    if main not in _FORMATS:
        raise EnrollmentError(
            415,
            "tipo_nao_suportado",
            "envie o áudio como audio/wav ou audio/webm (Opus)",
        )
    return _FORMATS[main]


def decode(body: bytes, fmt: str) -> bytes:
    """16 kHz mono s16le of the first `MAX_SECONDS` + 1 s of `body`; `EnrollmentError` 400."""
    if not body:
        raise EnrollmentError(400, "corpo_vazio", "o corpo da requisição está vazio")
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        fmt,
        "-i",
        "pipe:0",
        "-t",
        str(MAX_SECONDS + 1.0),
        "-ac",
        "1",
        "-ar",
        str(RATE),
        "-f",
        "s16le",
        "pipe:1",
    ]
    try:
        done = subprocess.run(cmd, input=body, capture_output=True, timeout=_DECODE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise EnrollmentError(
            400, "audio_invalido", "não foi possível decodificar o áudio"
        ) from exc
    pcm = done.stdout[: len(done.stdout) // 2 * 2]
    if done.returncode != 0 and len(pcm) < 2 * RATE:
        raise EnrollmentError(400, "audio_invalido", "não foi possível decodificar o áudio")
    return pcm


def speech_of(pcm: bytes) -> tuple[list[bytes], float, float | None]:
    """The cut segments' audio, their voiced seconds, and the speech's SNR estimate in dB."""
    front = FrontEnd(RATE, 0.5, 15.0)
    cuts = []
    step = RATE // 2 * 2  # 0.5 s blocks, as a device sends
    for at in range(0, len(pcm), step):
        cuts += front.feed(pcm[at : at + step])
    cuts += front.flush()
    floor = front.segmenter.noise_floor_dbfs
    snr = None
    if cuts and floor is not None:
        x = np.frombuffer(b"".join(c.pcm for c in cuts), dtype="<i2").astype(np.float64)
        level = 10 * np.log10(np.mean((x / 32768.0) ** 2) + 1e-12)
        snr = float(level - floor)
    return [c.pcm for c in cuts], float(sum(c.voiced_s for c in cuts)), snr


def enroll(body: bytes, content_type: str | None) -> Enrollment:
    """The whole enrollment (module docstring); raises `EnrollmentError`."""
    pcm = decode(body, input_format(content_type))
    seconds = len(pcm) / 2 / RATE
    if seconds > MAX_SECONDS + 0.5:
        raise EnrollmentError(
            413, "audio_longo", f"a gravação passa de {MAX_SECONDS:.0f} s; envie de 15 a 60 s"
        )
    if seconds < MIN_SECONDS:
        raise EnrollmentError(
            422,
            "audio_curto",
            f"a gravação tem {_segundos(seconds)}; envie de 15 a 60 s de fala do atendente",
        )
    cuts, voiced, snr = speech_of(pcm)
    if voiced < 1.0:
        raise EnrollmentError(422, "sem_fala", "nenhuma fala foi encontrada na gravação")
    usable = [c for c in cuts if embed(c) is not None]
    usable_s = sum(len(c) / 2 / RATE for c in usable)
    built = voiceprint.build(usable)
    if built is None or usable_s < MIN_USABLE_S:
        raise EnrollmentError(
            422,
            "fala_insuficiente",
            f"só {_segundos(usable_s)} de fala utilizável (mínimo {MIN_USABLE_S:.0f} s):"
            " grave de novo num lugar silencioso, falando frases completas",
        )
    print_, _ = built
    if usable_s >= GOOD_USABLE_S and (snr is None or snr >= GOOD_SNR_DB):
        qualidade, mensagem = "boa", f"voz cadastrada com {_segundos(usable_s)} de fala utilizável"
    elif usable_s < GOOD_USABLE_S:
        qualidade = "aceitavel"
        mensagem = (
            f"voz cadastrada, mas com pouca fala ({_segundos(usable_s)}): uma gravação mais longa"
            " identifica melhor"
        )
    else:
        qualidade = "aceitavel"
        mensagem = (
            "voz cadastrada, mas com ruído de fundo alto: uma gravação num lugar mais silencioso"
            " identifica melhor"
        )
    return Enrollment(print_, round(seconds, 2), round(usable_s, 2), qualidade, mensagem)
