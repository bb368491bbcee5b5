// Cadastro: an attendant's voice (issue 16). The admin records the attendant reading a text in
// the browser (or sends a file), sees the verdict, and can erase the voiceprint (asked twice).
// The recording goes to PUT /admin/atendentes/{id}/voz and is dropped: only the server's
// voiceprint is kept. WebM/Opus from MediaRecorder where the browser has it, else a WAV made here
// from the microphone's samples (browsers whose MediaRecorder has no WebM).
"use strict";
const BaltoVoz = (() => {
  const { el, api, dataHora, botao } = Balto;
  const $ = (id) => document.getElementById(id);
  const MIN_S = 15;   // the server refuses shorter recordings (422)
  const MAX_S = 55;   // it refuses past 60 s (413): stop with room to spare
  const SILENCIO_S = 4;  // this long without sound: say so, the microphone may be muted
  const QUALIDADE = { boa: "boa", aceitavel: "aceitável" };
  let atual = null;      // { id, nome, voz } of the attendant whose panel is open
  let gravacao = null;   // the recording under way
  let mudou = () => {};  // the page reloads its table after a change

  function situacao(voz) {
    if (!voz) return "sem voz cadastrada";
    const texto = `cadastrada em ${dataHora(voz.cadastrada_em)}: ${voz.fala_s.toFixed(0)} s de fala, qualidade ${QUALIDADE[voz.qualidade] || voz.qualidade}`;
    return voz.atual ? texto : texto + " (modelo antigo: grave de novo)";
  }

  function aviso(texto, erro) {
    const p = $("voz-resultado");
    p.textContent = texto;
    p.className = erro ? "erro" : "aviso";
    p.hidden = !texto;
  }

  function podeGravar() {
    return window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  }

  function abrir(a, aoMudar) {
    if (gravacao) gravacao.cancelar();
    atual = a;
    mudou = aoMudar;
    $("voz-nome").textContent = a.nome;
    $("voz-situacao").textContent = situacao(a.voz);
    aviso("");
    $("voz-sem-microfone").hidden = Boolean(podeGravar());
    $("voz-iniciar").disabled = !podeGravar();
    oferecerApagar();
    $("voz").hidden = false;
    $("voz").scrollIntoView({ block: "nearest" });
  }

  function fechar() {
    if (gravacao) gravacao.cancelar();
    atual = null;
    $("voz").hidden = true;
  }

  // Erasing cannot be undone: the first click asks, the second erases.
  function oferecerApagar() {
    const box = $("voz-apagar");
    box.hidden = !atual.voz;
    box.replaceChildren(botao("Apagar voz", () => {
      box.replaceChildren(
        el("span", `Apagar a voz de ${atual.nome}? A identificação para na hora; para voltar, grave de novo. `),
        botao("Sim, apagar", apagar, "perigo"),
        botao("Cancelar", oferecerApagar),
      );
    }, "perigo"));
  }

  async function apagar() {
    try {
      await api(`/admin/atendentes/${atual.id}/voz`, { method: "DELETE" });
      atual.voz = null;
      $("voz-situacao").textContent = situacao(null);
      aviso(`Voz de ${atual.nome} apagada.`);
    } catch (err) {
      aviso(err.status === 404 ? "Este atendente já não tinha voz cadastrada." : "Não foi possível apagar: " + err.message, true);
    }
    oferecerApagar();
    await mudou();
  }

  async function enviar(corpo, tipo) {
    aviso("Enviando e analisando a gravação…");
    try {
      const r = await api(`/admin/atendentes/${atual.id}/voz`, { method: "PUT", headers: { "Content-Type": tipo }, body: corpo });
      atual.voz = { fala_s: r.fala_s, qualidade: r.qualidade, modelo: r.modelo, cadastrada_em: new Date().toISOString(), atual: true };
      $("voz-situacao").textContent = situacao(atual.voz);
      aviso(`${atual.nome}: ${r.mensagem} (qualidade ${QUALIDADE[r.qualidade] || r.qualidade}).`);
    } catch (err) {
      aviso("A voz não foi cadastrada: " + err.message + ".", true);
    }
    oferecerApagar();
    await mudou();
  }

  // A WAV (16-bit mono) of Float32 blocks at `rate`, for browsers without WebM recording.
  function wav(blocos, rate) {
    const n = blocos.reduce((s, b) => s + b.length, 0);
    const view = new DataView(new ArrayBuffer(44 + 2 * n));
    const texto = (at, s) => { for (let i = 0; i < s.length; i++) view.setUint8(at + i, s.charCodeAt(i)); };
    texto(0, "RIFF"); view.setUint32(4, 36 + 2 * n, true); texto(8, "WAVE");
    texto(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, rate, true); view.setUint32(28, 2 * rate, true); view.setUint16(32, 2, true); view.setUint16(34, 16, true);
    texto(36, "data"); view.setUint32(40, 2 * n, true);
    let at = 44;
    for (const b of blocos) for (const x of b) { view.setInt16(at, Math.max(-1, Math.min(1, x)) * 0x7fff, true); at += 2; }
    return new Blob([view], { type: "audio/wav" });
  }

  // The microphone, a level meter and a recorder; `parar()` resolves with { corpo, tipo }.
  async function gravar(aoNivel) {
    // the attendant's own voice, as the counter hears it: no echo cancelling or noise removal
    // by the browser (Balto denoises); gain control keeps a quiet laptop audible
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
    const webm = window.MediaRecorder && MediaRecorder.isTypeSupported("audio/webm;codecs=opus");
    let pronto;
    if (webm) {
      const partes = [];
      const recorder = new MediaRecorder(stream, { mimeType: "audio/webm;codecs=opus" });
      recorder.ondataavailable = (e) => { if (e.data.size) partes.push(e.data); };
      const parado = new Promise((resolve) => { recorder.onstop = resolve; });
      recorder.start(1000);
      pronto = async () => { recorder.stop(); await parado; return { corpo: new Blob(partes, { type: "audio/webm" }), tipo: "audio/webm" }; };
    } else {
      const blocos = [];
      const tap = contexto.createScriptProcessor(4096, 1, 1);
      tap.onaudioprocess = (e) => blocos.push(new Float32Array(e.inputBuffer.getChannelData(0)));
      fonte.connect(tap);
      tap.connect(contexto.destination);  // a processor runs only when connected; it outputs silence
      pronto = async () => ({ corpo: wav(blocos, contexto.sampleRate), tipo: "audio/wav" });
    }
    const soltar = () => {
      clearInterval(relogio);
      for (const t of stream.getTracks()) t.stop();
      contexto.close();
    };
    return {
      async parar() { try { return await pronto(); } finally { soltar(); } },
      cancelar: soltar,
    };
  }

  function mostrarGravando(sim) {
    $("voz-iniciar").hidden = sim;
    $("voz-parar").hidden = !sim;
    $("voz-cancelar").hidden = !sim;
    $("voz-painel").hidden = !sim;
    $("voz-arquivo-envio").hidden = sim;
  }

  async function iniciar() {
    aviso("");
    let sessao;
    let ouvido = 0;
    const inicio = performance.now();
    const segundos = () => (performance.now() - inicio) / 1000;
    try {
      sessao = await gravar((nivel) => {
        $("voz-nivel").value = Math.max(0, Math.min(1, 1 + Math.log10(nivel + 1e-6) / 3));  // -60..0 dBFS
        if (nivel > 0.003) ouvido = segundos();
        $("voz-silencio").hidden = segundos() - ouvido < SILENCIO_S;
      });
    } catch (err) {
      const motivo = err.name === "NotAllowedError" ? "o navegador não deu acesso ao microfone: permita o microfone para este site e tente de novo"
        : err.name === "NotFoundError" ? "nenhum microfone foi encontrado neste computador"
        : "não foi possível abrir o microfone (" + err.message + ")";
      aviso("Não foi possível gravar: " + motivo + ".", true);
      return;
    }
    const tempo = $("voz-tempo");
    const parar = $("voz-parar");
    const relogio = setInterval(() => {
      const s = segundos();
      tempo.textContent = `${Math.floor(s)} s de ${MAX_S} s`;
      parar.disabled = s < MIN_S;
      parar.textContent = s < MIN_S ? `Parar e enviar (mín. ${MIN_S} s)` : "Parar e enviar";
      if (s >= MAX_S) concluir();
    }, 200);
    let acabou = false;
    const encerrar = () => { acabou = true; clearInterval(relogio); mostrarGravando(false); gravacao = null; };
    async function concluir() {
      if (acabou) return;
      encerrar();
      const { corpo, tipo } = await sessao.parar();
      await enviar(corpo, tipo);
    }
    gravacao = {
      concluir,
      cancelar() { if (acabou) return; encerrar(); sessao.cancelar(); aviso("Gravação cancelada; nada foi enviado."); },
    };
    tempo.textContent = `0 s de ${MAX_S} s`;
    parar.disabled = true;
    mostrarGravando(true);
  }

  function ligar() {
    $("voz-iniciar").addEventListener("click", () => iniciar().catch((err) => aviso(err.message, true)));
    $("voz-parar").addEventListener("click", () => gravacao && gravacao.concluir());
    $("voz-cancelar").addEventListener("click", () => gravacao && gravacao.cancelar());
    $("voz-fechar").addEventListener("click", fechar);
    $("voz-arquivo-envio").addEventListener("submit", async (event) => {
      event.preventDefault();
      const arquivo = $("voz-arquivo").files[0];
      if (!arquivo) return;
      const nome = arquivo.name.toLowerCase();
      const tipo = nome.endsWith(".wav") || arquivo.type.includes("wav") ? "audio/wav"
        : nome.endsWith(".webm") || arquivo.type.includes("webm") ? "audio/webm" : null;
      if (!tipo) { aviso("Envie um arquivo WAV ou WebM (Opus).", true); return; }
      if (arquivo.size > 16 * 1024 * 1024) { aviso("Arquivo grande demais: no máximo 16 MiB (60 s de fala).", true); return; }
      await enviar(arquivo, tipo);
      event.target.reset();
    });
  }

  return { abrir, fechar, ligar, situacao };
})();
