"""Generate the demo's counter dialogue: ``dialogue.webm`` and ``dialogue.json`` next to this file.

Run ``python -m balto.demo.make_dialogue`` with the Debian ``espeak-ng`` binary installed
(``apt-get install espeak-ng``); ``balto demo`` only reads the committed files. Each turn is
synthesised by espeak-ng (attendant and customer in two pt-BR voice variants), the turns are
joined with `GAP_S` of quiet room noise between them, and the whole is encoded like a browser
would send it: Opus in WebM at 48 kHz mono with ~250 ms clusters, bit-exact. ``dialogue.json``
lists every turn's speaker, text and interval, which the demo's speech-to-text fake answers with.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float64]

HERE = Path(__file__).parent
RATE = 16_000
GAP_S = 1.6  # well over the VAD's 500 ms pause: every turn is its own segment
LEAD_S = 1.0  # quiet before the first turn, as when a device starts recording
VOICES = {"atendente": "pt-br+m3", "cliente": "pt-br+f2"}

# The lengths differ by a second or more: the fake STT tells the turns apart by duration.
TURNS = (
    ("atendente", "Olá, bom dia!"),
    ("cliente", "Bom dia, eu estou com uma dor de cabeça muito forte desde ontem."),
    ("atendente", "A senhora tem alergia a algum remédio?"),
    (
        "cliente",
        "Não tenho, e o meu pai ficou em casa com uma dor forte no peito e falta de ar,"
        " desde cedo, ele está suando frio.",
    ),
    ("atendente", "Então ele precisa de atendimento médico agora, ligue para o SAMU, 192."),
)


def speak(text: str, voice: str) -> Samples:
    """`text` spoken by espeak-ng as float samples at `RATE`, trimmed to the audible part."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        cmd = ["espeak-ng", "-v", voice, "-s", "165", "-w", tmp.name, text]
        subprocess.run(cmd, check=True, capture_output=True)
        with wave.open(tmp.name) as w:
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    x = np.interp(np.arange(0, len(x), rate / RATE), np.arange(len(x)), x) / 32768.0
    frames = len(x) // 160
    level = 10 * np.log10(np.mean(x[: frames * 160].reshape(frames, 160) ** 2, axis=1) + 1e-20)
    audible = np.nonzero(level > level.max() - 40)[0]
    return np.asarray(x[audible[0] * 160 : (audible[-1] + 1) * 160], dtype=np.float64)


def encode_webm(pcm: bytes, to: Path) -> None:
    """Mono s16le at `RATE` to Opus in WebM, 48 kHz, ~250 ms clusters, bit-exact."""
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0",
        "-ar", "48000", "-ac", "1", "-c:a", "libopus", "-b:a", "24k",
        "-cluster_time_limit", "250", "-map_metadata", "-1",
        "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "webm", str(to),
    ]  # fmt: skip
    subprocess.run(cmd, input=pcm, capture_output=True, check=True)


def main() -> None:
    """Write ``dialogue.webm`` and ``dialogue.json``."""
    rng = np.random.default_rng(15)
    pieces: list[Samples] = [np.zeros(int(LEAD_S * RATE))]
    turns: list[dict[str, str | float]] = []
    at = LEAD_S
    for speaker, text in TURNS:
        voice = speak(text, VOICES[speaker]) * 0.5
        turns.append({"falante": speaker, "texto": text, "inicio": round(at, 3),
                      "fim": round(at + len(voice) / RATE, 3)})  # fmt: skip
        pieces += [voice, np.zeros(int(GAP_S * RATE))]
        at += len(voice) / RATE + GAP_S
    signal = np.concatenate(pieces)
    signal += rng.standard_normal(len(signal)) * 10 ** (-60 / 20)  # a quiet room, not silence
    pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()
    encode_webm(pcm, HERE / "dialogue.webm")
    meta = {"duracao": round(len(signal) / RATE, 3), "turnos": turns}
    (HERE / "dialogue.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    for turn in turns:
        print(f"{float(turn['fim']) - float(turn['inicio']):5.2f} s  {turn['texto']}")


if __name__ == "__main__":
    main()
