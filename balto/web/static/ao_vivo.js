// Ao vivo: every live session of the cluster, polled every 1.5 s from /admin/ao-vivo/dados.
// Cards are built once per balcão and updated in place, so buttons stay under the pointer.
"use strict";
(() => {
  const { el, api, hora, dataHora, ESTADOS, POLITICAS } = Balto;
  const INTERVALO_MS = 1500;
  const ATORES = { receiver: "receptor", decoder: "decodificador", vad: "detector de fala",
    transcriber: "transcritor", advisor: "conselheiro", sender: "envio" };
  const cards = new Map();
  const $ = (id) => document.getElementById(id);

  // an actor's health detail (written in English for the logs and /ops) in the reader's words
  function observacao(texto) {
    if (!texto) return "—";
    let m = texto.match(/^cpu ms per audio s: denoise ([\d.]+), vad ([\d.]+) \(voice ([\d.]+)\)( \(worker process\))?$/);
    if (m) {
      return `CPU por segundo de áudio: ruído ${m[1]} ms, detector ${m[2]} ms, voz ${m[3]} ms` +
        (m[4] ? " (processo de trabalho)" : "");
    }
    m = texto.match(/^opus in process, decoder (\d+)$/);
    if (m) return `Opus decodificado no processo (decodificador nº ${m[1]})`;
    return Balto.motivoFalha(texto);
  }

  function evento(ev) {
    const li = el("li");
    li.dataset.tipo = ev.tipo;
    li.append(el("span", hora(ev.em), "hora"));
    if (ev.tipo === "fala") {
      const quem = Balto.falante(ev);
      if (quem) li.append(quem);
      if (ev.status === "transcribed") { li.className = "ev-fala"; li.append(el("span", ev.texto)); }
      else { li.className = "ev-falha"; li.append(el("span", "não transcrito: " + Balto.motivoFalha(ev.erro))); }
    } else if (ev.tipo === "recomendacao") {
      li.className = "ev-recomendacao";
      li.append(el("strong", "Sugestão: " + ev.produto));
      const selo = ev.aceita === true ? ["aceita", "aceita"] : ev.aceita === false ? ["recusada", "recusada"] : ["sem retorno", "pendente"];
      li.append(el("span", selo[0], "selo " + selo[1]));
      if (ev.em_falta_em) li.append(el("span", Balto.emFalta(ev), "selo recusada"));
      if (ev.retirada_em) li.append(el("span", Balto.retirada(ev), "selo recusada"));
      li.append(el("div", ev.explicacao));
      if (Balto.cuidados(ev)) li.append(el("div", Balto.cuidados(ev)));
    } else if (ev.tipo === "alerta") {
      li.className = "ev-alerta";
      li.append(el("strong", "Alerta: " + ev.explicacao));
      if (ev.orientado_em) li.append(el("span", Balto.orientado(ev), "selo aceita"));
      if (ev.ciente_em) li.append(el("span", Balto.ciente(ev), "selo aceita"));
      li.append(el("div", ev.orientacao));
    }
    return li;
  }

  function tabelaAtores(session) {
    const wrap = el("div", null, "tabela");
    wrap.tabIndex = 0;  // it scrolls sideways on a phone: reachable by keyboard too
    const table = el("table");
    const head = el("tr");
    for (const h of ["Ator", "Estado", "Fila", "Política", "Descartes", "Reinícios", "Entradas", "Saídas", "Último erro", "Observação"]) head.append(el("th", h));
    table.append(el("thead")); table.tHead.append(head);
    const body = el("tbody");
    for (const a of session.actors || []) {
      const tr = el("tr"); tr.dataset.actor = a.name;
      const estado = el("td", ESTADOS[a.state] || a.state, "st-" + a.state);
      estado.dataset.state = a.state;
      const fila = a.queue_capacity ? `${a.queue_depth}/${a.queue_capacity}` : String(a.queue_depth);
      let ultimo = "—";
      if (a.last_error) ultimo = `${a.last_error_type || "erro"}: ${a.last_error} (há ${Math.round(a.last_error_age_s || 0)} s)`;
      for (const td of [el("td", ATORES[a.name] || a.name), estado, el("td", fila),
        el("td", POLITICAS[a.queue_policy] || a.queue_policy || "—"), el("td", a.queue_dropped),
        el("td", a.restarts), el("td", a.messages_in), el("td", a.messages_out), el("td", ultimo),
        el("td", observacao(a.detail), "observacao")]) tr.append(td);
      body.append(tr);
    }
    table.append(body);
    wrap.append(table);
    return wrap;
  }

  async function acao(card, tipo) {
    const out = card.querySelector(".resultado");
    const balcao = card.dataset.balcao;
    const nome = card.querySelector("h2").textContent;
    out.textContent = tipo === "restart" ? "Reiniciando…" : "Desconectando…";
    try {
      const body = await api(`/admin/sessions/${encodeURIComponent(balcao)}/${tipo}`, { method: "POST" });
      const quando = hora(new Date().toISOString());
      if (tipo === "restart") {
        out.textContent = `Reinício pedido às ${quando}: os atores recomeçam, a conexão continua.`;
      } else {
        out.textContent = `Desconectada às ${quando}.`;
        const aviso = $("aviso");
        aviso.textContent = `${nome}: sessão ${String(body.session_id || "").slice(0, 8)} desconectada às ${quando} (o balcão deve reconectar).`;
        aviso.hidden = false;
      }
      card.dataset.resultado = tipo;
    } catch (err) {
      out.textContent = "Falhou: " + err.message;
    }
  }

  function novoCartao(session) {
    const card = el("section", null, "cartao sessao");
    card.dataset.balcao = session.balcao_id;
    const header = el("header");
    header.append(el("h2"), el("span", null, "meta cliente"), el("span", null, "meta atendente"),
      el("span", null, "meta desde"), el("span", null, "meta audio"));
    const acoes = el("div", null, "acoes");
    const detalhes = el("button", "Detalhes de operação"); detalhes.type = "button"; detalhes.dataset.action = "detalhes";
    const reiniciar = el("button", "Reiniciar"); reiniciar.type = "button"; reiniciar.dataset.action = "restart";
    const desconectar = el("button", "Desconectar", "perigo"); desconectar.type = "button"; desconectar.dataset.action = "disconnect";
    // restarting or cutting a session and the actors' figures are the operator's (the routes refuse a gestor)
    if (!Balto.gestor) acoes.append(detalhes, reiniciar, desconectar);
    acoes.append(el("span", null, "resultado"));
    const painel = el("div", null, "detalhes"); painel.hidden = true;
    detalhes.addEventListener("click", () => { painel.hidden = !painel.hidden; });
    reiniciar.addEventListener("click", () => acao(card, "restart"));
    desconectar.addEventListener("click", () => acao(card, "disconnect"));
    card.append(header, acoes, el("ul", null, "eventos"), painel);
    return card;
  }

  function atualizarCartao(card, s) {
    card.dataset.session = s.session_id;
    card.querySelector("h2").textContent = s.nome_balcao || s.balcao_id;
    card.querySelector(".cliente").textContent = (s.razao_social || "") + (s.loja ? " · " + s.loja : "");
    card.querySelector(".atendente").textContent = s.atendente ? "Atendente: " + s.atendente : "Atendente não identificado";
    card.querySelector(".desde").textContent = "desde " + hora(new Date(s.connected_since * 1000).toISOString());
    card.querySelector(".audio").textContent = `áudio ${Math.round(s.audio_seconds)} s · reinícios ${s.restarts}`;
    const chave = JSON.stringify(s.eventos);
    const lista = card.querySelector(".eventos");
    if (lista.dataset.chave !== chave) {
      lista.dataset.chave = chave;
      // a line where the counter turned to the next customer (segments.novo_atendimento)
      lista.replaceChildren(...s.eventos.flatMap((ev) => ev.tipo === "fala" && ev.novo_atendimento
        ? [el("li", ev.novo_atendimento === "balcao" ? "Próximo cliente" : "Próximo cliente (após uma pausa)", "ev-atendimento"), evento(ev)]
        : [evento(ev)]));
      if (!s.eventos.length) lista.append(el("li", "Aguardando a primeira fala…", "ev-falha"));
      lista.scrollTop = lista.scrollHeight;
    }
    const painel = card.querySelector(".detalhes");
    const info = el("p", `Instância ${s.instance || "—"} · atraso ${s.lag_s} s · segmentos ${s.segments} · transcrições ${s.transcripts}`);
    painel.replaceChildren(info, tabelaAtores(s));
  }

  function encerradas(lista) {
    const bloco = $("bloco-encerradas");
    const tbody = document.querySelector("#encerradas tbody");
    const chave = JSON.stringify(lista);
    if (tbody.dataset.chave === chave) return;  // unchanged: leave the rows (and a selection) be
    tbody.dataset.chave = chave;
    tbody.replaceChildren();
    bloco.hidden = lista.length === 0;
    for (const e of lista) {
      const motivo = Balto.encerramento(e.close_code, e.close_reason) + (e.close_code ? ` (${e.close_code})` : "");
      const link = el("a", "ver conversa"); link.href = "/admin/historico/" + e.session_id;
      const cliente = (e.razao_social || "") + (e.loja ? " · " + e.loja : "");
      const tr = Balto.linha(tbody, [e.nome_balcao, cliente, e.atendente, dataHora(e.started_at), dataHora(e.ended_at), motivo, link]);
      tr.dataset.session = e.session_id;
    }
  }

  // narrowed to a chain (the operator) or a store (a chain with stores), kept in the address
  const NOMES = ["cliente_id", "loja_id"];
  const form = $("filtros-ao-vivo");
  const filtros = Balto.filtrosDaUrl(NOMES);
  let proxima = null;
  let lendo = false;
  let deNovo = false;
  async function clientes() {
    if (Balto.gestor) return;  // a chain's account sees its own chain
    const { itens } = await Balto.todos("/admin/clientes");
    const select = form.elements.cliente_id;
    for (const c of itens) {
      const opt = el("option", c.razao_social); opt.value = c.id;
      if (c.id === filtros.cliente_id) opt.selected = true;
      select.append(opt);
    }
    $("f-cliente-ao-vivo-rotulo").hidden = false;
  }
  form.addEventListener("change", () => {
    Balto.aplicarFiltros(form, NOMES, filtros);
    if (lendo) { deNovo = true; return; }
    clearTimeout(proxima);
    atualizar();
  });
  form.addEventListener("submit", (event) => event.preventDefault());

  async function atualizar() {
    lendo = true;
    try {
      const q = Balto.consulta(filtros).toString();
      const body = await api("/admin/ao-vivo/dados" + (q ? "?" + q : ""));
      Balto.erro(body.banco_disponivel ? "" : "Banco de dados indisponível: as sessões continuam, mas as falas só aparecem quando ele voltar.");
      const vivos = new Set();
      const sessoes = body.sessions.slice().sort((a, b) => String(a.nome_balcao).localeCompare(String(b.nome_balcao)));
      for (const s of sessoes) {
        vivos.add(s.balcao_id);
        let card = cards.get(s.balcao_id);
        if (!card) { card = novoCartao(s); cards.set(s.balcao_id, card); $("sessoes").append(card); }
        atualizarCartao(card, s);
      }
      for (const [balcao, card] of cards) if (!vivos.has(balcao)) { card.remove(); cards.delete(balcao); }
      const n = sessoes.length;
      $("contagem").textContent = n === 0 ? "Nenhuma sessão ativa." : n === 1 ? "1 sessão ativa." : `${n} sessões ativas.`;
      $("atualizado").textContent = "atualizado às " + hora(body.agora);
      encerradas(body.encerradas);
      BaltoAlertas.atualizar(sessoes);
      BaltoSemConexao.atualizar(vivos, body.agora, Balto.meuCliente || filtros.cliente_id, filtros.loja_id);
      BaltoRedes.atualizar(sessoes, filtros.cliente_id);  // after: it writes the count with no chain
      BaltoSemCiente.atualizar(new Set(sessoes.map((s) => s.session_id)), { cliente_id: filtros.cliente_id, loja_id: filtros.loja_id });
    } catch (err) {
      Balto.erro("Não foi possível atualizar: " + err.message);
    } finally {
      lendo = false;
      proxima = setTimeout(atualizar, deNovo ? 0 : INTERVALO_MS);
      deNovo = false;
    }
  }
  clientes().catch((e) => Balto.erro(e.message));
  Balto.filtroLoja(form, filtros).catch((e) => Balto.erro(e.message));
  atualizar();
})();
