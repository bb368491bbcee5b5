"""Every threshold of the segmenter, each with its reason. Pure data.

In: nothing (a frozen dataclass of defaults, overridable per field).
Out: `SegmenterParams` (public, re-exported by `balto.audio.segmenter`), and `frame_count`, the
rounding every module uses to turn a duration into whole frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def frame_count(seconds: float, frame_s: float) -> int:
    """Whole frames covering `seconds` (at least one), so a duration is never rounded down."""
    return max(1, math.ceil(seconds / frame_s - 1e-9))


@dataclass(frozen=True, slots=True)
class SegmenterParams:
    """Every threshold of the segmenter, each with its reason.

    Attributes:
        frame_ms: Frame length; webrtcvad takes 10, 20 or 30 ms, and 30 ms costs the fewest calls.
        vad_mode: webrtcvad aggressiveness. 3 (the most aggressive) was the measured baseline
            (F1 0.90 alone, 0.94 with the gate, DESIGN §4c), and still marks 96% of the fixture's
            utterance frames as speech.
        floor_window_s: History the noise floor is taken from; 5 s follows a shop's noise changing
            (a fan, a queue forming) yet outlasts any single utterance's loud stretch.
        floor_percentile: The floor is this percentile of the history (its 10th percentile
            until the history spans `floor_warmup_s`: a short history may be all speech). 40
            stays inside the room noise while up to 60% of the history is speech (the
            denoiser's `quiet_share` reason) and, unlike the 10th percentile of DESIGN §4c,
            lands on the middle of far babble rather than in its dips, so babble peaks no
            longer open the gate between turns. Corpus (tests/audio/test_corpus_quality.py):
            10 -> 40 took the end-error p90 from 0.84 s to 0.13 s and 10 dB F1 from 0.93 to
            0.96; 35-40 score the same, 45 is worse at 5 dB (the floor reaches the speech).
        floor_warmup_s: History needed before the floor moves from the 10th percentile to
            `floor_percentile`. A stream may open on a word, so the first seconds may be all
            speech, but an opening utterance (1-3 s at a counter) leaves room for a pause within
            3 s, and past that `floor_spread_db` caps the harm of a longer one. Waiting for the
            whole `floor_window_s` (5 s, as before) left far babble that opens a stream 20 dB over
            a floor sitting in the babble's dips: its peaks stayed voiced for 5 s and merged the
            corpus's first two babble turns into one segment (end error 4 s, the p90 of every SNR
            group). Measured: 1.5-3 s score the same on the corpus (4 s: 5 dB p90 145 ms, 5 s:
            272 ms); below 2 s a synthetic 2-4 s utterance opening a stream gets split (1 s: 11 of
            180, 2 s: 1, 3 s: 0).
        floor_spread_db: The floor is at most this far over the history's 10th percentile, so
            a long monologue (more than 60% of the window voiced) cannot lift it into the speech
            and close the gate mid-phrase. Stationary noise spreads ~2 dB between these
            percentiles, far babble ~7 dB (measured on the corpus); 5-12 dB score the same on
            the corpus.
        digital_silence_dbfs: Frames quieter than this are digital silence (a muted microphone,
            codec priming), not room noise, and stay out of the floor history; a real microphone's
            self-noise is well above it, 16-bit quantisation noise (-101 dBFS) below. Measured: with
            200 ms of zeros before stationary noise, letting them in gave a false segment for 13
            of 30 noise clips (the floor sat at -100 dBFS for the first seconds), keeping them out
            gave none.
        gate_margin_db: The gate opens this far above the floor. 9 dB was best over the 10th
            percentile (DESIGN §4c); over the 40th (a floor ~2 dB higher on stationary noise,
            more on babble) 7 dB is: 6 lets a slam's noisy tail through at 5 dB, 8 loses the
            quiet ends of words at 5 dB (F1 0.90).
        gate_hold_s: The gate stays open this long after the last frame above it, so the quiet
            ends of words are not chopped (300 ms, DESIGN §4c).
        start_window_s: Window in which voiced frames are counted to start a segment.
        start_voiced_s: Voiced audio needed within `start_window_s` to start: 150 ms (5 frames) in
            300 ms, longer than a click, a knock or a 100 ms beep.
        pre_roll_s: Audio kept before the speech onset (see `onset_margin_db`), for what 30 ms
            energies cannot see: a plosive's or a fricative's first milliseconds. Measured with
            bench/segment_eval.py on its tuning set (never on the held-out set): 60, 90 and 120 ms
            clip no word onset at 20 and 10 dB (start lead p90 83 / 113 / 143 ms at 20 dB); 90 ms
            keeps a frame of margin. The 300 ms kept before sent ~290 ms of room per segment.
        onset_search_s: How far before the first voiced frame the onset (and so the segment's
            start) may reach: the untrimmed pre-roll of before, so a segment never starts earlier
            than it used to.
        onset_margin_db: The onset is the first voiced frame, taken back over the frames just
            before it that stand this far over the noise floor (stepping over dips of up to two
            frames, `balto.audio.trim.ONSET_DIP_FRAMES`): an unvoiced onset ("s", "f", "ch")
            carries energy before webrtcvad calls it speech. Tuning set, clipped words at 5 dB /
            start lead p90 at 10 dB: None (first voiced frame) 23 / 97 ms, 0 dB 16 / 283 ms (room
            noise extends the onset), 2 dB 17 / 132 ms, 3 dB 20 / 102 ms, 5 dB 22 / 100 ms; 20 and
            10 dB clip no onset with any. None: the first voiced frame.
        hangover_s: Most audio kept after the last voiced frame (the cut rule's own silence);
            with `offset_margin_db` set, the segment usually ends earlier (`end_pad_s`).
        offset_margin_db: The speech ends at its last voiced frame still this far over the noise
            floor (or up to two frames later, while the energy stays there, when webrtcvad gave
            up on a fading syllable: `balto.audio.trim.FADE_FRAMES`). webrtcvad's overhang and
            the gate's hold keep ~80 ms (in babble up to 300 ms) of room after a word "voiced";
            those frames sit at the floor. Tuning set, with `end_pad_s` 120 ms, end lag p90 at
            20 / 10 dB and clipped words at 10 / 5 dB: 2 dB 139 / 162 ms, 3 / 12; 3 dB 136 / 126
            ms, 3 / 17; 4 dB 135 / 118 ms, 5 / 29; 5 dB 135 / 116 ms, 11 / 37. None: end at the
            last voiced frame plus `hangover_s`, as before (end lag p90 260 / 296 ms).
        end_pad_s: Audio kept after that edge, for a final consonant ringing down under the
            noise (the corpus's true end is 40 dB under the utterance's peak, and espeak-ng's
            ring-downs reach it 100-150 ms after the last loud frame). Tuning set, end lag p90 at
            20 / 10 dB and clipped words at 20 / 10 dB: 90 ms 140 / 157 ms, 7 / 5; 120 ms 136 /
            126 ms, 0 / 3 (none audible, i.e. at most 10 dB under the noise); 150 ms 166 / 156
            ms, 0 / 0.
        faint_headroom_db: Speech whose headroom (the 90th percentile of a segment's speech
            frames' energy over the floor), as the median of the stream's last `faint_history`
            segments, is under this is faint: its weak words sink under the noise and the energy
            edges land early, so its segments keep the untrimmed pre-roll (`faint_pre_roll_s`)
            and a long pad (`faint_end_pad_s`). Headroom on the tuning sets (tune + tune2), per
            segment p5-p90: 20 dB 18-25 dB, 10 dB 10.4-15.8, 5 dB 7.2-11.9, overlapping; the
            median of 5 segments separates the SNRs better (10 dB p5 11.7, 5 dB p90 10.8), and
            judged per segment (history 1) 11 dB lengthens the 10 dB start lead p90 from 129 to
            249 ms and still clips a 5 dB word the untrimmed margins kept. Median of 5: 10.5 dB
            clips one such 5 dB word, 11 dB none, 11.5 dB none (10 dB start lead p90 140 ms),
            12 dB none (219 ms). None: no speech is faint.
        faint_history: Segments the faintness is judged over (the current one included); the
            first segments of a stream are judged over those there are. 3: 10 dB start lead p90
            172 ms; 5 and 7: 129 ms.
        faint_pre_roll_s: Pre-roll of faint speech: 300 ms, the untrimmed one (tuning sets,
            5 dB: 210 ms clipped 2 words audibly that the untrimmed margins kept, 300 ms none).
        faint_end_pad_s: Pad of faint speech after its offset edge: 300 ms, and like every
            pad never past `hangover_s` after the last voiced frame (so faint speech mostly ends
            where it used to; tuning sets at 5 dB: 300 ms clips no word the untrimmed margins
            kept, and an unbounded pad, i.e. the untrimmed end, only lengthens the end lag).
        band_margin_db: After the offset edge (`offset_margin_db`), the speech goes on through
            the frames whose speech band (`band_lo_hz`-`band_hi_hz`, of the original audio, 30 ms
            Hann-windowed FFT) stands this far over that band's own floor (learnt as the frames'
            floor is), stepping over one quiet frame, up to two frames past the last voiced one.
            The room's hum and rumble sit below 300 Hz and hiss above 3 kHz, so a fading vowel or
            a soft final syllable still shows there when the frame's energy is down at the
            floor. Tuning sets, without it: 3 words at 10 dB clipped that the untrimmed margins
            kept (end lag p90 129 ms); 3 dB: none (162 ms); 4 dB: one (155 ms). Taken as an
            alternative to the frame energy at any voiced frame (not walked on from the edge),
            4 dB clipped none but put the 10 dB end lag p90 at 177 ms and the 20 dB start lead
            p90 at 130 ms when used for the onset too. Measured on the noise-reduced signal
            instead (for both edges), the band's floor sits in the denoiser's gaps and its
            residue passes: 3 dB put the 20 dB start lead p90 at 301 ms; 20 dB, 126 ms but 4
            words clipped at 5 dB that the untrimmed margins kept. None: the frame energy alone.
        band_lo_hz: Low edge of the speech band.
        band_hi_hz: High edge of the speech band.
        split_gap_s: A segment whose first voiced frame comes at most this long after the
            previous segment's last one keeps the untrimmed start (`onset_search_s` before its
            first voiced frame): the VAD cut one utterance in two at an inner pause (`pause_s`
            plus a frame or three), and the words on both sides of it are where its onsets are
            least sure (on the tuning sets, at 5 dB, 3 of the 7 words clipped that the untrimmed
            margins kept). 0.6 s leaves the start of the next turn alone (0.7 s and more catch
            turns after a slow end: 10 dB start lead p90 147 -> 173 ms). None: never.
        min_voiced_s: A segment with less voiced audio than this is an impulse, not an utterance
            (and would cost an STT call for nothing).
        split_search_s: A segment at its maximum length is cut at its quietest frame within this
            many seconds of its end (the likeliest breath between phrases).
        tonal_ratio: A frame with more than this share of its energy within ±2 FFT bins of its
            peak is a pure tone (a sine beep: > 0.99), not speech, whose harmonics spread energy
            over several bins (the fixture's vowels: median 0.52, 99th percentile 0.76; a few
            synthetic vowels with F1 on a harmonic reach 0.93-0.99 in 1% of frames, hence the
            margin). webrtcvad takes many pure tones for speech. None disables the test.
        impulse_decay_db: A burst of voiced frames (see `burst_gap_s`) that peaks in its first two
            frames, never rises more than `impulse_rise_db` over its lowest level since the peak,
            and falls this far below its peak is the ring-down of an impulse (a door slam, a
            dropped box: webrtcvad marks it as speech for up to ~1 s), not speech, whose
            syllables rise again after each consonant. Frames of a beep (a pure tone over the
            gate level) and the two frames either side of one are the beep's, and never count as
            such a rise: that takes a beep down to the room for an event too. Such bursts are
            dropped before a segment is emitted, so a slam near an utterance does not stretch
            it either, and they do not keep a segment open: a burst after the last word counts
            for the pause only while it is not such an event so far (`balto.audio.impulse`).
            None disables the test (every burst counts, as webrtcvad and the gate say).
        impulse_rise_db: Rise allowed in a decay: a slam's thud is low-passed noise, whose 30 ms
            energies wobble by up to ~4 dB (measured on the corpus's slams); a new syllable
            rises 10 dB or more over the consonant before it. 4-6 dB give the same result.
        impulse_quiet_db: Only a frame over the gate level, or no further than this under the
            burst's peak, can show that a burst is speech (its rise or late peak). After a slam
            the gate's hold keeps the room "voiced" for 300 ms, and in babble the room itself
            rises 5-7 dB from one 30 ms frame to the next, 20 dB under the slam: that made a
            slam in babble a segment of its own (tuning sets: 2 such at 20 and 10 dB, none with
            12 dB). At 5 dB the gate level is near the speech's own peaks, so a quieter syllable
            must still count: 12 dB kept every word the rule without it kept (tune + tune2);
            15 and 18 dB kept the 10 dB slam. None: any frame may.
        burst_gap_s: Non-voiced time that separates two bursts inside a segment, so an impulse
            after the last word (but within `pause_s`) is judged apart from the speech: 150 ms
            is longer than the gap inside a word's stop consonant (~100 ms). webrtcvad's own
            overhang (~90 ms of "speech" after a word ends) comes on top, so an event starting
            less than ~250 ms after the last word is judged with it, as before.
        burst_wait_s: Longest a pause cut waits past `pause_s` for the verdict on a burst that
            goes on, is not an event yet is shaped as one so far. In heavy noise the gate opens
            only on a syllable's loudest frames, so a phrase resumed after a short pause looks
            like a ring-down until its next syllable rises. Measured with no limit: such bursts
            proved to be speech within 0.06 s past the pause on the corpus and 0.18 s on
            synthetic phrases with 0.2-0.4 s pauses, while slams held the cut until their
            ring-down ended (0.4-0.7 s past it). Waiting one frame split 24 of those 120
            phrases in two and took 5 dB F1 to 0.921; 0.1 s split 11, 0.2 s 7 (6 of them on a
            synthetic vowel the tone test takes for a beep), against 1 with the old rule, where
            every burst kept the segment open. So a slam at the end of the pause delays the cut
            by 0.2 s at most, against its whole ring-down plus `pause_s` before (1.6 s on the
            corpus).
    """

    frame_ms: int = 30
    vad_mode: int = 3
    floor_window_s: float = 5.0
    floor_percentile: float = 40.0
    floor_warmup_s: float = 3.0
    digital_silence_dbfs: float = -90.0
    floor_spread_db: float = 6.0
    gate_margin_db: float = 7.0
    gate_hold_s: float = 0.3
    start_window_s: float = 0.3
    start_voiced_s: float = 0.15
    pre_roll_s: float = 0.09
    onset_search_s: float = 0.3
    onset_margin_db: float | None = 2.0
    hangover_s: float = 0.15
    offset_margin_db: float | None = 3.0
    end_pad_s: float = 0.12
    faint_headroom_db: float | None = 11.0
    faint_pre_roll_s: float = 0.3
    faint_end_pad_s: float = 0.3
    faint_history: int = 5
    band_margin_db: float | None = 3.0
    band_lo_hz: float = 300.0
    band_hi_hz: float = 3000.0
    split_gap_s: float | None = 0.6
    min_voiced_s: float = 0.25
    split_search_s: float = 3.0
    tonal_ratio: float | None = 0.95
    impulse_decay_db: float | None = 6.0
    impulse_rise_db: float = 5.0
    impulse_quiet_db: float | None = 12.0
    burst_gap_s: float = 0.15
    burst_wait_s: float = 0.2
