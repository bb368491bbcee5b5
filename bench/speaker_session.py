"""Round 7: a session's own voices. Each segment's label read against the session's earlier ones.

Why: rounds 1-6 labelled every segment alone, against the enrollment voiceprints, and two failures
stayed: recorded (MBROLA) customers taken for an attendant, because the thresholds learnt on
espeak-ng voices are too loose for recorded ones, and attendants missed in noise. Within one
session the channel, the room and the noise are the same from segment to segment, so a speaker's
segments sit closer to each other than to her enrollment; and two people at a counter are two
clusters. This measures `SessionVoices` (below: an attendant's *anchors*, the session's segments
identified as hers and near her voiceprint, say how she sounds today; a segment the voiceprint
calls hers but far from her anchors becomes `cliente`, an unsure or `cliente` one close to them
becomes hers) against the segment-alone rule on the same cuts. Measured on the tuning splits and
not adopted (docs/BENCHMARKS.md, Speaker, seventh round): nothing of it is in `balto/`.

The rows (each clip's cuts in order, with truth and embedding, and each split's enrolled
voiceprints) are computed once into ``var/speaker_corpus/session_rows.pkl`` (~10 min on 2 cores):

    python bench/speaker_session.py rows              # cut and embed every split's clips (cached)
    python bench/speaker_session.py [--split S,...]    # the tables, segment-alone vs session
    python bench/speaker_session.py sweep             # the session rule's grid, tuning splits only

Tuning splits: ``tune`` (espeak-ng) and ``mbrola_tune`` (recorded). Everything else is held out.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from balto.speaker import identify as ident  # noqa: E402
from balto.speaker.identify import Enrolled, Identification, identify, score_of  # noqa: E402
from balto.speaker.voiceprint import Scorer, Voiceprint, within  # noqa: E402
from bench.speaker_corpus import CACHE, SNRS  # noqa: E402

ROWS = CACHE / "session_rows.pkl"
INDEXES = ("corpus.json", "mbrola.json", "mbrola3.json")
TUNING = ("tune", "mbrola_tune")
_MAX_KEPT = 64  # segments a session remembers (a long session's oldest are dropped)


@dataclass(frozen=True, slots=True)
class SessionParams:
    """The session rule's thresholds (distances as `Scorer.distance` and segment-to-anchors).

    The defaults: the sweep's best 10 dB role summed over tune and mbrola_tune."""

    anchor_max: float = 0.8
    """Voiceprint distance at or under which an identified segment becomes an anchor."""
    split_min: float = 1.2
    """Distance to her anchors' mean at or over which a segment is not hers (→ cliente)."""
    join_max: float = 0.9
    """Distance to her anchors' mean at or under which an unsure segment is hers."""
    loose_max: float = 1.5
    """Voiceprint distance under which `join_max` may still make a segment hers."""

    def short(self) -> str:
        """The thresholds in one line (for the benchmark's sweep)."""
        return (
            f"anchor<={self.anchor_max:.2f} split>={self.split_min:.2f}"
            f" join<={self.join_max:.2f} loose<{self.loose_max:.2f}"
        )

    @staticmethod
    def grid() -> Iterator[SessionParams]:
        """The sweep's candidates."""
        for a, s, j, lo in itertools.product(
            (0.7, 0.8, 0.9), (1.1, 1.2, 1.3, 1.4), (0.9, 1.0, 1.1), (1.3, 1.5)
        ):
            if j < s:
                yield SessionParams(a, s, j, lo)


@dataclass(slots=True)
class SessionVoices:
    """One session's memory of its segments, and the rule that reads it (module docstring)."""

    params: SessionParams = field(default_factory=SessionParams)
    _anchors: dict[str, list[npt.NDArray[np.float64]]] = field(default_factory=dict)

    def identify(
        self, embedding: npt.NDArray[np.float32] | None, enrolled: Sequence[Enrolled]
    ) -> Identification:
        """Label one segment, then remember it if it anchors an attendant."""
        alone = identify(embedding, enrolled)
        if embedding is None or not enrolled:
            return alone
        p = self.params
        distance, best = min(
            ((e.scorer.distance(embedding), e) for e in enrolled), key=lambda x: x[0]
        )
        z = within().projection @ embedding.astype(np.float64)
        anchors = self._anchors.get(best.atendente_id)
        who = alone
        if anchors:
            near = float(np.linalg.norm(z - np.mean(anchors, axis=0)) / np.sqrt(len(z)))
            if alone.falante == "atendente" and near >= p.split_min:
                who = Identification("cliente", score=alone.score)
            elif alone.falante != "atendente" and near <= p.join_max and distance < p.loose_max:
                who = Identification("atendente", best.atendente_id, best.nome, score_of(distance))
        if who.falante == "atendente" and distance <= p.anchor_max:
            kept = self._anchors.setdefault(best.atendente_id, [])
            kept.append(z)
            del kept[:-_MAX_KEPT]
        return who


def _clip_rows(args: tuple[str, dict]) -> list[dict]:
    from balto.speaker import embedding_of
    from bench.speaker_eval import _cuts, _pcm, overlapped

    folder, clip = args
    out = []
    for cut in _cuts(_pcm(Path(folder) / clip["file"])):
        best = overlapped(clip["turns"], cut.start, cut.end)
        out.append(
            {
                "clip": clip["file"],
                "split": clip["split"],
                "snr": clip["snr"],
                "noise": clip["noise"],
                "voice": best["voice"] if best else None,
                "role": best["role"] if best else None,
                "embedding": embedding_of(cut.voice),
            }
        )
    return out


def _enroll(args: tuple[str, str, str]) -> tuple[str, str, bytes]:
    from balto.speaker.enroll import enroll

    name, split, path = args
    return name, split, enroll(Path(path).read_bytes(), "audio/wav").voiceprint.to_bytes()


def rows() -> None:
    """Cut, embed and enroll every split of `INDEXES` that exists; write `ROWS`."""
    jobs, enrolls = [], []
    for file in INDEXES:
        index = CACHE / file
        if not index.exists():
            print(f"{file}: missing, skipped", file=sys.stderr)
            continue
        meta = json.loads(index.read_text())
        jobs += [(str(CACHE), c) for c in meta["clips"]]
        enrolls += [(n, i["split"], str(CACHE / i["file"])) for n, i in meta["enroll"].items()]
    with Pool(2) as pool:
        prints = pool.map(_enroll, enrolls)
        cut = pool.map(_clip_rows, jobs, chunksize=4)
    doc = {"rows": [r for c in cut for r in c], "prints": prints}
    ROWS.write_bytes(pickle.dumps(doc))
    print(f"wrote {ROWS}: {len(doc['rows'])} cuts, {len(prints)} voiceprints")


def load() -> tuple[list[dict], dict[str, list[ident.Enrolled]]]:
    """The cached rows and each split's enrolled voices."""
    doc = pickle.loads(ROWS.read_bytes())
    voices: dict[str, list[ident.Enrolled]] = defaultdict(list)
    for name, split, data in doc["prints"]:
        voices[split].append(ident.Enrolled(name, name, Scorer.of(Voiceprint.from_bytes(data))))
    return doc["rows"], voices


def labels(
    rows: list[dict], voices: dict[str, list[ident.Enrolled]], params: SessionParams | None
) -> list[ident.Identification]:
    """Each row's label: segment alone (`params` None) or by a `SessionVoices` per clip."""
    out, sessions = [], {}
    for r in rows:
        if params is None:
            out.append(ident.identify(r["embedding"], voices[r["split"]]))
            continue
        s = sessions.setdefault(r["clip"], SessionVoices(params))
        out.append(s.identify(r["embedding"], voices[r["split"]]))
    return out


def table(rows: list[dict], got: list[ident.Identification]) -> dict:
    """Counts per (split, snr)."""
    t: dict = defaultdict(lambda: defaultdict(int))
    for r, g in zip(rows, got, strict=True):
        n = t[(r["split"], r["snr"])]
        if r["role"] is None:
            n["noise"] += 1
            n["noise_att"] += g.falante == "atendente"
            continue
        n["all"] += 1
        n["right_role"] += g.falante == r["role"]
        n["unknown"] += g.falante is None
        if r["role"] == "cliente":
            n["cus"] += 1
            n["cus_att"] += g.falante == "atendente"
        else:
            n["att"] += 1
            n["att_named"] += g.atendente_id == r["voice"]
            n["att_wrong"] += g.falante == "atendente" and g.atendente_id != r["voice"]
    return t


def _pct(a: int, b: int) -> str:
    return f"{100 * a / max(b, 1):.1f}"


def report(rows: list[dict], voices: dict, params: SessionParams, splits: list[str]) -> None:
    """Segment-alone vs session, per split and SNR (role / customers taken / named, %)."""
    alone = table(rows, labels(rows, voices, None))
    session = table(rows, labels(rows, voices, params))
    print(
        "| split | SNR | segments (att/cus) | alone: role / unknown / customers taken / named /"
        " another named | session: role / unknown / customers taken / named / another named |"
    )
    print("|---|---|---|---|---|")
    for split in splits:
        for snr in SNRS:
            a, s = alone[(split, snr)], session[(split, snr)]
            if not a["all"]:
                continue
            cells = [
                f"{_pct(n['right_role'], n['all'])} / {_pct(n['unknown'], n['all'])} /"
                f" {_pct(n['cus_att'], n['cus'])} ({n['cus_att']}) /"
                f" {_pct(n['att_named'], n['att'])} / {n['att_wrong']}"
                for n in (a, s)
            ]
            print(
                f"| {split} | {snr} dB | {a['all']} ({a['att']}/{a['cus']}) | {cells[0]} |"
                f" {cells[1]} |"
            )


def sweep(rows: list[dict], voices: dict) -> None:
    """The session rule's grid on the tuning splits (10 dB role, customers taken ≤ 2%)."""
    rows = [r for r in rows if r["split"] in TUNING]
    base = table(rows, labels(rows, voices, None))
    for split in TUNING:
        n = base[(split, 10)]
        print(
            f"alone {split} 10 dB: role {_pct(n['right_role'], n['all'])}"
            f" cus->att {_pct(n['cus_att'], n['cus'])} named {_pct(n['att_named'], n['att'])}"
        )
    for params in SessionParams.grid():
        t = table(rows, labels(rows, voices, params))
        cells = []
        for split in TUNING:
            for snr in (20, 10, 5):
                n = t[(split, snr)]
                cells.append(
                    f"{split}@{snr} {_pct(n['right_role'], n['all'])}/"
                    f"{_pct(n['cus_att'], n['cus'])}/{_pct(n['att_named'], n['att'])}"
                )
        print(params.short(), " ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", default="table", choices=("rows", "table", "sweep"))
    parser.add_argument("--split", default="")
    args = parser.parse_args()
    if args.what == "rows":
        rows()
        return
    data, voices = load()
    if args.what == "sweep":
        sweep(data, voices)
        return
    splits = args.split.split(",") if args.split else list(dict.fromkeys(r["split"] for r in data))
    report(data, voices, SessionParams(), splits)


if __name__ == "__main__":
    main()
