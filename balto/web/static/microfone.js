// The microphone for the pages that record: the Cadastro's voice panel (one recording, sent whole)
// and the counter page (a stream of chunks to the WebSocket). WebM/Opus from MediaRecorder where
// the browser has it, else 16-bit WAV made here from the microphone's samples (browsers whose
// MediaRecorder has no WebM): the formats Balto decodes. A level meter either way.
"use strict";
const BaltoMicrofone = (() => {
  const WEBM = "audio/webm;codecs=opus";

  const disponivel = () => Boolean(window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

  // Why the microphone did not open, in the words the pages show.
  function motivo(err) {
    if (err.name === "NotAllowedError") return "o navegador não deu acesso ao microfone: permita o microfone para este site e tente de novo";
    if (err.name === "NotFoundError") return "nenhum microfone foi encontrado neste aparelho";
    return "não foi possível abrir o microfone (" + err.message + ")";
  }

  // A WAV header for `bytes` of 16-bit mono PCM at `rate` (0xFFFFFFFF: a stream of unknown length).
  function cabecalho(rate, bytes) {
    const view = new DataView(new ArrayBuffer(44));
    const texto = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
    texto(0, "RIFF"); view.setUint32(4, bytes === 0xffffffff ? bytes : 36 + bytes, true); texto(8, "WAVE");
    texto(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, rate, true); view.setUint32(28, 2 * rate, true); view.setUint16(32, 2, true); view.setUint16(34, 16, true);
    texto(36, "data"); view.setUint32(40, bytes, true);
    return view.buffer;
  }

  function pcm16(blocos) {
    const n = blocos.reduce((s, b) => s + b.length, 0);
    const out = new Int16Array(n);
    let at = 0;
    for (const b of blocos) for (const x of b) out[at++] = Math.max(-1, Math.min(1, x)) * 0x7fff;
    return out.buffer;
  }

  // A recorder on an open microphone: WebM/Opus or WAV; with `aoPedaco(blob)` the audio comes in
  // pieces every `intervaloMs` (the first carries the stream's header), else whole from `parar()`.
  function recorder(stream, contexto, fonte, { aoPedaco = null, intervaloMs = 250 }) {
    let cancelado = false;
    if (window.MediaRecorder && MediaRecorder.isTypeSupported(WEBM)) {
      const tipo = "audio/webm";
      const partes = [];
      const rec = new MediaRecorder(stream, { mimeType: WEBM });
      rec.ondataavailable = (e) => {
        if (!e.data.size || cancelado) return;
        if (aoPedaco) aoPedaco(e.data); else partes.push(e.data);
      };
      const parado = new Promise((resolve) => { rec.onstop = resolve; });
      rec.start(aoPedaco ? intervaloMs : 1000);
      const parar = async () => {
        if (rec.state !== "inactive") rec.stop();
        await parado;
        return aoPedaco ? null : new Blob(partes, { type: tipo });
      };
      return { tipo, parar, cancelar() { cancelado = true; parar().catch(() => {}); } };
    }
    const tipo = "audio/wav";
    const rate = contexto.sampleRate;
    let blocos = [];
    let primeiro = true;
    const tap = contexto.createScriptProcessor(4096, 1, 1);
    tap.onaudioprocess = (e) => { if (!cancelado) blocos.push(new Float32Array(e.inputBuffer.getChannelData(0))); };
    fonte.connect(tap);
    tap.connect(contexto.destination);  // a processor runs only when connected; it outputs silence
    const enviar = () => {
      if (!blocos.length || cancelado) return;
      const corpo = pcm16(blocos);
      blocos = [];
      aoPedaco(new Blob(primeiro ? [cabecalho(rate, 0xffffffff), corpo] : [corpo]));
      primeiro = false;
    };
    const envios = aoPedaco ? setInterval(enviar, intervaloMs) : null;
    const desligar = () => { clearInterval(envios); tap.disconnect(); fonte.disconnect(tap); };
    return {
      tipo,
      async parar() {
        if (aoPedaco) { enviar(); desligar(); return null; }
        desligar();
        const corpo = pcm16(blocos);
        return new Blob([cabecalho(rate, corpo.byteLength), corpo], { type: tipo });
      },
      cancelar() { cancelado = true; desligar(); },
    };
  }

  // Open the microphone (call it from a click: browsers start audio only on a gesture);
  // `aoNivel(rms)` ten times a second; `aoPerder()` once if the microphone goes away (unplugged,
  // taken by the system) before `fechar()`. Resolves to { gravar(opcoes) → recorder, fechar() }.
  async function abrir(aoNivel, aoPerder = () => {}) {
    // the voice as the counter hears it: no echo cancelling or noise removal by the browser
    // (Balto denoises); gain control keeps a quiet laptop audible
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: true },
    });
    const contexto = new AudioContext();
    const fonte = contexto.createMediaStreamSource(stream);
    const medidor = contexto.createAnalyser();
    medidor.fftSize = 2048;
    fonte.connect(medidor);
    const amostras = new Float32Array(medidor.fftSize);
    const relogio = setInterval(() => {
      medidor.getFloatTimeDomainData(amostras);
      let soma = 0;
      for (const x of amostras) soma += x * x;
      aoNivel(Math.sqrt(soma / amostras.length));
    }, 100);
    let fechado = false;
    for (const t of stream.getAudioTracks()) t.addEventListener("ended", () => { if (!fechado) aoPerder(); });
    return {
      gravar: (opcoes = {}) => recorder(stream, contexto, fonte, opcoes),
      fechar() {
        if (fechado) return;
        fechado = true;
        clearInterval(relogio);
        for (const t of stream.getTracks()) t.stop();
        contexto.close();
      },
    };
  }

  // A meter's 0..1 value for an RMS level: -60 dBFS and below → 0, full scale → 1.
  const nivel = (rms) => Math.max(0, Math.min(1, 1 + Math.log10(rms + 1e-6) / 3));

  return { disponivel, motivo, abrir, nivel };
})();
