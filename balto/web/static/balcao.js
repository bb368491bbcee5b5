// The counter page: this browser as a Balto device (README, Device protocol). It links itself
// with the cliente's code, keeps the balcão's key in localStorage, and while the attendance is on
// streams the microphone (microfone.js, 250 ms pieces) over /ws, shows suggestions and referral
// alerts as they arrive, and sends the attendant's name and feedback. A dropped connection is
// retried (1, 2, 4 … 15 s) with a new stream; closes that retrying cannot mend stop and say why.
"use strict";
(() => {
  const { el, hora, botao } = Balto;
  const $ = (id) => document.getElementById(id);
  const CHAVE = "balto.balcao";        // { api_key, balcao_id, nome }
  const ATENDENTE = "balto.atendente";
  const MAX_CARTOES = 20;
  const SILENCIO_S = 6;
  // closes after which trying again cannot help: what the attendant is told (README, Close codes)
  const FINAIS = {
    4001: "A chave deste balcão não é reconhecida: vincule-o de novo.",
    4003: "A chave deste balcão foi revogada pelo administrador: vincule-o de novo.",
    4004: "Este balcão foi aberto em outra janela ou aparelho; aqui o atendimento parou.",
    4005: "O operador encerrou este atendimento. Inicie de novo quando quiser.",
    4007: "O servidor não conseguiu ler o áudio deste navegador.",
    4009: "O acesso desta rede ao Balto está suspenso. Fale com o gestor da rede.",
    1009: "O servidor recusou um pedaço de áudio grande demais.",
  };
  let config = ler(CHAVE);
  let querAtender = false;  // the attendant pressed Iniciar and not Pausar
  let mic = null;
  let rec = null;
  let ws = null;
  let tentativas = 0;
  let espera = null;
  let ouvido = 0;
  let travaTela = null;
  const pendentes = [];  // feedback and guidance given while disconnected: sent on the next connection

  function ler(nome) { try { return JSON.parse(localStorage.getItem(nome) || "null"); } catch { return null; } }
  function estado(texto, tipo) { const e = $("estado"); e.textContent = texto; e.dataset.estado = tipo; }
  function aviso(texto) { const a = $("aviso"); a.textContent = texto || ""; a.hidden = !texto; }

  function mostrar() {
    $("vincular").hidden = Boolean(config);
    $("atender").hidden = !config;
    $("balcao-nome").textContent = config ? config.nome : "";
    if (config) $("balcao-vinculo").textContent = config.nome;
    const nome = ler(ATENDENTE);
    $("atendente-form").hidden = Boolean(nome);
    $("atendente-atual").hidden = !nome;
    $("atendente-atual").firstChild.textContent = nome ? `Atendente: ${nome}` : "";
    $("iniciar").hidden = querAtender;
    $("pausar").hidden = !querAtender;
    $("proximo").hidden = !querAtender;
    $("nivel").hidden = !querAtender;
    if (!querAtender) $("silencio").hidden = true;
  }

  function enviarTexto(obj) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  // --- linking -------------------------------------------------------------------------------
  $("vincular-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target;
    Balto.erro("");
    let resposta;
    try {
      resposta = await fetch("/cadastro/balcao", {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ nome_balcao: f.nome.value.trim(), user_codigo: f.codigo.value.trim() }),
      });
    } catch {
      Balto.erro("Sem conexão com o servidor do Balto: confira a rede e tente de novo.");
      return;
    }
    const corpo = await resposta.json().catch(() => ({}));
    if (resposta.status === 201) {
      config = { api_key: corpo.api_key, balcao_id: corpo.balcao_id, nome: f.nome.value.trim() };
      localStorage.setItem(CHAVE, JSON.stringify(config));
      f.reset();
      aviso(`Balcão vinculado como ${config.nome}.`);
      mostrar();
      nomesDaLoja();
    } else if (resposta.status === 404) {
      Balto.erro("Código de vínculo não encontrado: confira o código com o administrador.");
    } else if (resposta.status === 429) {
      Balto.erro(`Muitas tentativas erradas: aguarde ${resposta.headers.get("Retry-After") || "alguns"} segundos.`);
    } else if (resposta.status === 503) {
      Balto.erro("O servidor está sem banco de dados agora: tente de novo em instantes.");
    } else {
      Balto.erro(corpo.message || `Não foi possível vincular (erro ${resposta.status}).`);
    }
  });

  function desvincular(motivo) {
    parar();
    quadro.length = 0;  // another balcão's cards and answers have no place here
    pendentes.length = 0;
    salvar();
    localStorage.removeItem(CHAVE);
    config = null;
    Balto.erro(motivo || "");
    mostrar();
  }

  // --- the attendant ---------------------------------------------------------------------------
  // the names registered for this counter's store, offered as she types (any other name still
  // goes: a new colleague not registered yet); nothing offered when they cannot be read. The
  // same answer carries the balcão's name as Cadastro has it now.
  async function nomesDaLoja() {
    if (!config) return;
    try {
      const resposta = await fetch("/balcao/atendentes", { headers: { Authorization: "Bearer " + config.api_key } });
      if (!resposta.ok) return;
      const { nomes, nome_balcao: nomeBalcao } = await resposta.json();
      $("atendentes-nomes").replaceChildren(...nomes.map((nome) => { const o = el("option"); o.value = nome; return o; }));
      if (nomeBalcao && nomeBalcao !== config.nome) { // renamed in Cadastro since it linked
        config = Object.assign({}, config, { nome: nomeBalcao });
        localStorage.setItem(CHAVE, JSON.stringify(config));
        mostrar();
      }
    } catch {
      // offline: the name is typed in full
    }
  }
  $("atendente-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const nome = event.target.nome.value.trim().replace(/\s+/g, " ");
    if (!nome) return;
    localStorage.setItem(ATENDENTE, JSON.stringify(nome));
    enviarTexto({ comando: "atendente", nome });
    event.target.reset();
    mostrar();
  });
  $("atendente-sair").addEventListener("click", () => {
    localStorage.removeItem(ATENDENTE);
    enviarTexto({ comando: "atendente", nome: null });
    mostrar();
  });

  // --- what the server says --------------------------------------------------------------------
  // The cards and the attendant's answers are kept for this tab (sessionStorage), so a reload in
  // the middle of an attendance still shows them and an alert can still be marked; so are the
  // answers waiting for a connection. Closing the tab forgets them.
  const QUADRO = "balto.quadro";  // [{ comando, m, em, resposta }], oldest first
  const ESPERA = "balto.pendentes";
  const quadro = lerSessao(QUADRO).filter((q) => q && q.m && typeof q.m === "object");
  pendentes.push(...lerSessao(ESPERA).filter((msg) => msg && typeof msg.comando === "string"));
  // a list as this page wrote it; anything else (another version's, or edited by hand) is none
  function lerSessao(nome) {
    try {
      const valor = JSON.parse(sessionStorage.getItem(nome) || "[]");
      return Array.isArray(valor) ? valor : [];
    } catch { return []; }
  }
  function salvar() {
    while (quadro.length > 2 * MAX_CARTOES) quadro.shift();
    try {
      sessionStorage.setItem(QUADRO, JSON.stringify(quadro));
      sessionStorage.setItem(ESPERA, JSON.stringify(pendentes));
    } catch { /* storage full or refused: the cards still show, only a reload loses them */ }
  }
  function responder(id, resposta, msg) {
    const item = quadro.find((q) => q.m.id === id);
    if (item) item.resposta = resposta;
    if (!enviarTexto(msg)) pendentes.push(msg);
    salvar();
  }

  function guardar(lista, cartao) {
    lista.prepend(cartao);
    while (lista.children.length > MAX_CARTOES) lista.lastChild.remove();
    $("vazio").hidden = true;
  }

  const USADA = { true: ["Marcada como usada.", "selo aceita"], false: ["Marcada como não usada.", "selo recusada"] };
  function feedback(id, aceita, cartao) {
    responder(id, aceita, { comando: "feedback", id, aceita });
    cartao.querySelector(".acoes").replaceChildren(el("span", ...USADA[aceita]));
  }

  // not on the shelf: the server stops suggesting it at this store until it is back in stock
  // (README, Device protocol: em_falta); the verdict on the suggestion stays unsaid
  const EM_FALTA = ["Marcado em falta: não será sugerido aqui até voltar ao estoque.", "selo recusada"];
  function emFalta(id, cartao) {
    responder(id, "em_falta", { comando: "em_falta", id });
    cartao.querySelector(".acoes").replaceChildren(el("span", ...EM_FALTA));
  }

  function sugestao(m, em, resposta) {
    const li = el("li", null, "cartao sugestao");
    li.dataset.id = m.id;
    li.append(el("span", hora(em), "hora"), el("strong", m.produto, "produto"));
    li.append(el("p", m.explicacao, "motivo"));
    // what the customer said that ruled products out (README, Device protocol: cuidados)
    if (Array.isArray(m.cuidados) && m.cuidados.length) li.append(el("p", `Considerado: ${m.cuidados.join(", ")}`, "cuidados"));
    if (m.transcricao_base) li.append(el("p", `Ouvido: “${m.transcricao_base}”`, "ouvido"));
    const acoes = el("div", null, "acoes");
    if (resposta === true || resposta === false) acoes.append(el("span", ...USADA[resposta]));
    else if (resposta === "em_falta") acoes.append(el("span", ...EM_FALTA));
    else {
      acoes.append(botao("Usei", () => feedback(m.id, true, li)), botao("Não usei", () => feedback(m.id, false, li)));
      acoes.append(botao("Em falta", () => emFalta(m.id, li)));
    }
    li.append(acoes);
    guardar($("sugestoes"), li);
  }

  // the attendant says she gave the guidance: stored with the alert (README, Device protocol)
  const ORIENTADA = ["Orientação registrada.", "selo aceita"];
  function orientei(id, cartao) {
    responder(id, "orientado", { comando: "orientado", id });
    cartao.querySelector(".acoes").replaceChildren(el("span", ...ORIENTADA));
  }

  function alerta(m, em, resposta) {
    const li = el("li", null, "cartao alerta");
    li.dataset.sinal = m.sinal;
    li.dataset.id = m.id;
    li.append(el("span", hora(em), "hora"), el("strong", `Atenção: ${m.motivo}`, "produto"));
    li.append(el("p", m.orientacao, "motivo"));
    if (m.transcricao_base) li.append(el("p", `Ouvido: “${m.transcricao_base}”`, "ouvido"));
    const acoes = el("div", null, "acoes");
    if (resposta === "orientado") acoes.append(el("span", ...ORIENTADA));
    else if (m.id) acoes.append(botao("Orientei o cliente", () => orientei(m.id, li)));
    li.append(acoes);
    guardar($("alertas"), li);
  }

  function mostrarCartao({ comando, m, em, resposta, anterior, retirada }) {
    if (comando === "recomendar") sugestao(m, em, resposta);
    else if (comando === "alerta") alerta(m, em, resposta);
    else return;
    if (retirada) marcarRetirada($("sugestoes").firstChild, retirada);
    if (anterior) marcarAnterior(comando === "alerta" ? $("alertas").firstChild : $("sugestoes").firstChild);
  }

  // What the customer said since rules the suggestion out (README, Device protocol: retirar):
  // the card says so, whether or not another suggestion replaces it.
  function marcarRetirada(cartao, motivo) {
    if (!cartao || cartao.classList.contains("retirada")) return;
    cartao.classList.add("retirada");
    cartao.querySelector(".acoes").replaceChildren(el("p", `Retirada: ${motivo}. Não ofereça.`, "retirada-motivo"));
  }
  function retirar(m) {
    if (typeof m.id !== "string" || typeof m.motivo !== "string") return;
    const item = quadro.find((q) => q.comando === "recomendar" && q.m.id === m.id);
    if (!item) return;
    item.retirada = m.motivo;
    salvar();
    marcarRetirada([...$("sugestoes").children].find((li) => li.dataset.id === m.id), m.motivo);
  }

  // The next customer (README, Device protocol: novo_atendimento): the server's advice starts
  // afresh, and the cards on screen are the last customer's (faded; an alert can still be marked).
  function marcarAnterior(cartao) {
    if (!cartao || cartao.classList.contains("anterior")) return;
    cartao.classList.add("anterior");
    cartao.querySelector(".hora").append(" · cliente anterior");
  }
  function proximoCliente() {
    // offline there is nothing to tell: the next connection is a new session, started afresh
    enviarTexto({ comando: "novo_atendimento" });
    for (const item of quadro) item.anterior = true;
    salvar();
    document.querySelectorAll("#alertas > li, #sugestoes > li").forEach(marcarAnterior);
    const texto = "Próximo cliente: as sugestões consideram só o que for dito agora.";
    aviso(texto);
    setTimeout(() => { if ($("aviso").textContent === texto) aviso(""); }, 8000);
  }

  function receber(texto) {
    let m;
    try { m = JSON.parse(texto); } catch { return; }
    if (m && m.comando === "retirar") return retirar(m);
    if (m.comando !== "recomendar" && m.comando !== "alerta") return;
    const item = { comando: m.comando, m, em: new Date().toISOString() };
    quadro.push(item);
    salvar();
    mostrarCartao(item);
  }

  // --- the connection --------------------------------------------------------------------------
  function conectar() {
    espera = null;
    estado(tentativas ? "Reconectando…" : "Conectando…", "conectando");
    const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ api_key: config.api_key }));
      const nome = ler(ATENDENTE);
      if (nome) socket.send(JSON.stringify({ comando: "atendente", nome }));
      while (pendentes.length) socket.send(JSON.stringify(pendentes.shift()));
      salvar();
      // a new connection is a new stream: a new recorder, whose first piece carries the header
      rec = mic.gravar({ intervaloMs: 250, aoPedaco: (pedaco) => { if (socket.readyState === WebSocket.OPEN) socket.send(pedaco); } });
      tentativas = 0;
      estado("Ouvindo", "ouvindo");
      nomesDaLoja();  // each new stream: the store's names and the balcão's own, as they are now
    };
    socket.onmessage = (e) => { if (typeof e.data === "string") receber(e.data); };
    socket.onclose = (e) => fechou(socket, e.code);
  }

  function fechou(socket, code) {
    if (socket !== ws) return;  // an old connection, already replaced
    if (rec) { rec.cancelar(); rec = null; }
    ws = null;
    if (!querAtender) return;
    if (code === 4001 || code === 4003) { desvincular(FINAIS[code]); return; }
    if (FINAIS[code]) { parar(); Balto.erro(FINAIS[code]); return; }
    const s = Math.min(15, 2 ** tentativas);
    tentativas += 1;
    estado(`Sem conexão: tentando de novo em ${s} s`, "conectando");
    espera = setTimeout(conectar, s * 1000);
  }

  async function iniciar() {
    Balto.erro("");
    aviso("");
    const inicio = performance.now();
    ouvido = 0;
    try {
      mic = await BaltoMicrofone.abrir((rms) => {
        $("nivel").value = BaltoMicrofone.nivel(rms);
        const s = (performance.now() - inicio) / 1000;
        if (rms > 0.003) ouvido = s;
        $("silencio").hidden = s - ouvido < SILENCIO_S;
      }, async () => {
        await parar();
        Balto.erro("O microfone foi desconectado: confira o microfone e inicie o atendimento de novo.");
      });
    } catch (err) {
      Balto.erro("Não foi possível iniciar: " + BaltoMicrofone.motivo(err) + ".");
      return;
    }
    querAtender = true;
    tentativas = 0;
    mostrar();
    conectar();
    // a counter screen should not go dark mid-attendance (where the browser allows it)
    if (navigator.wakeLock) navigator.wakeLock.request("screen").then((t) => { travaTela = t; }, () => {});
  }

  async function parar() {
    querAtender = false;
    clearTimeout(espera);
    espera = null;
    const socket = ws;
    ws = null;
    const gravando = rec;
    rec = null;
    if (gravando) await gravando.parar().catch(() => {});  // the last piece goes before the close
    if (socket) socket.close(1000, "Atendimento pausado");
    if (mic) { mic.fechar(); mic = null; }
    if (travaTela) { travaTela.release().catch(() => {}); travaTela = null; }
    estado("Parado", "parado");
    mostrar();
  }

  $("iniciar").addEventListener("click", async () => {
    const botaoIniciar = $("iniciar");
    botaoIniciar.disabled = true;  // the permission prompt can take a while: one start at a time
    try { await iniciar(); } finally { botaoIniciar.disabled = false; }
  });
  $("pausar").addEventListener("click", () => { parar(); });
  $("proximo").addEventListener("click", proximoCliente);
  const sair = $("desvincular");
  let confirmando = null;
  sair.addEventListener("click", () => {
    if (!confirmando) {  // asked once more: the key is gone from this browser for good
      sair.textContent = "Clique de novo para desvincular";
      confirmando = setTimeout(() => { sair.textContent = "Desvincular este navegador"; confirmando = null; }, 5000);
      return;
    }
    clearTimeout(confirmando);
    confirmando = null;
    sair.textContent = "Desvincular este navegador";
    desvincularDeVez();
  });

  // Unlinking revokes the key on the server too, so no copy of it can be used again.
  async function desvincularDeVez() {
    const chave = config.api_key;
    await parar();
    let revogada = false;
    try {
      const r = await fetch("/cadastro/balcao/revogar", {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ api_key: chave }),
      });
      revogada = r.ok || r.status === 404;  // 404: nobody owns that key any more
    } catch { /* the server is away: said below */ }
    desvincular("");
    aviso(revogada
      ? "Este navegador foi desvinculado e a chave do balcão revogada. Para voltar, vincule-o de novo com o código."
      : "Este navegador esqueceu a chave, mas o servidor não respondeu: peça ao administrador para revogar a chave deste balcão (Cadastro).");
  }
  // a link from the Cadastro page carries the code: fill it in, and take it out of the address bar
  const pedido = new URLSearchParams(location.search).get("codigo");
  if (pedido) {
    $("vincular-form").elements.codigo.value = pedido;
    history.replaceState(null, "", location.pathname);
  }
  if (!BaltoMicrofone.disponivel()) {
    Balto.erro("Este navegador só abre o microfone em páginas HTTPS (ou em localhost): abra o Balto pelo endereço seguro.");
  }
  mostrar();
  if (config) quadro.forEach(mostrarCartao);  // this tab's cards before a reload
  nomesDaLoja();
})();
