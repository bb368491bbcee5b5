// Cadastro: an attendant's voice (issue 16). The admin records the attendant reading a text in
// the browser (or sends a file), sees the verdict, and can erase the voiceprint (asked twice).
// The recording (microfone.js) goes to PUT /admin/atendentes/{id}/voz and is dropped: only the
// server's voiceprint is kept.
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

  function abrir(a, aoMudar) {
    if (gravacao) gravacao.cancelar();
    atual = a;
    mudou = aoMudar;
    $("voz-nome").textContent = a.nome;
    $("voz-situacao").textContent = situacao(a.voz);
    aviso("");
    $("voz-sem-microfone").hidden = Boolean(BaltoMicrofone.disponivel());
    $("voz-iniciar").disabled = !BaltoMicrofone.disponivel();
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

  // The panel may be closed or opened on someone else while a request is out: answers are for
  // the attendant they were asked about, and shown only while that one's panel is open.
  function mostrarResultado(quem, texto, erro) {
    if (atual !== quem) return;
    $("voz-situacao").textContent = situacao(quem.voz);
    aviso(texto, erro);
    oferecerApagar();
  }

  async function apagar() {
    const quem = atual;
    try {
      await api(`/admin/atendentes/${quem.id}/voz`, { method: "DELETE" });
      quem.voz = null;
      mostrarResultado(quem, `Voz de ${quem.nome} apagada.`);
    } catch (err) {
      mostrarResultado(quem, err.status === 404 ? "Este atendente já não tinha voz cadastrada." : "Não foi possível apagar: " + err.message, true);
    }
    await mudou();
  }

  async function enviar(corpo, tipo) {
    const quem = atual;
    aviso("Enviando e analisando a gravação…");
    try {
      const r = await api(`/admin/atendentes/${quem.id}/voz`, { method: "PUT", headers: { "Content-Type": tipo }, body: corpo });
      quem.voz = { fala_s: r.fala_s, qualidade: r.qualidade, modelo: r.modelo, cadastrada_em: new Date().toISOString(), atual: true };
      mostrarResultado(quem, `${quem.nome}: ${r.mensagem} (qualidade ${QUALIDADE[r.qualidade] || r.qualidade}).`);
    } catch (err) {
      mostrarResultado(quem, "A voz não foi cadastrada: " + err.message + ".", true);
    }
    await mudou();
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
    let mic;
    let rec;
    let ouvido = 0;
    let inicio = performance.now();
    const segundos = () => (performance.now() - inicio) / 1000;
    try {
      mic = await BaltoMicrofone.abrir((rms) => {
        $("voz-nivel").value = BaltoMicrofone.nivel(rms);
        if (rms > 0.003) ouvido = segundos();
        $("voz-silencio").hidden = segundos() - ouvido < SILENCIO_S;
      }, () => {
        if (gravacao) gravacao.cancelar();
        aviso("O microfone foi desconectado: nada foi enviado. Confira o microfone e grave de novo.", true);
      });
      rec = mic.gravar();
    } catch (err) {
      if (mic) mic.fechar();
      aviso("Não foi possível gravar: " + BaltoMicrofone.motivo(err) + ".", true);
      return;
    }
    inicio = performance.now();  // the clock starts when the microphone does, not at the prompt
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
      let corpo;
      try { corpo = await rec.parar(); } finally { mic.fechar(); }
      await enviar(corpo, rec.tipo);
    }
    gravacao = {
      concluir,
      cancelar() { if (acabou) return; encerrar(); rec.cancelar(); mic.fechar(); aviso("Gravação cancelada; nada foi enviado."); },
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
