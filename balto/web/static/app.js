// Balto admin app: helpers shared by every page (no framework, no build step).
// Everything from the server is shown with textContent, never as HTML.
"use strict";

const Balto = (() => {
  const fuso = document.body.dataset.fuso || "America/Sao_Paulo";
  const ESTADOS = {
    starting: "iniciando", running: "em execução", degraded: "degradado",
    restarting: "reiniciando", stopped: "parado", failed: "falhou",
  };
  const POLITICAS = { block: "bloqueia", drop_oldest: "descarta a mais antiga" };
  const FECHAMENTOS = {
    1000: "encerrada pelo balcão", 1001: "servidor reiniciando", 1006: "servidor perdido",
    4001: "chave inválida", 4002: "tempo de autenticação esgotado", 4003: "chave revogada",
    4004: "substituída por nova conexão", 4005: "desconectada pelo operador",
    4006: "falha na sessão", 4007: "áudio não decodificável", 4008: "serviço indisponível",
    4009: "acesso do cliente suspenso",
  };
  // close reasons stored without a code of Balto's (README, Close codes)
  const MOTIVOS = { "device disconnected": "encerrada pelo balcão", "server lost": "servidor perdido" };
  const encerramento = (code, reason) =>
    FECHAMENTOS[code] || MOTIVOS[reason] || reason || "encerrada";
  const SINAIS = {
    dor_no_peito: "Dor no peito", falta_de_ar: "Falta de ar", sinais_de_avc: "Sinais de AVC",
    febre_alta_bebe: "Febre alta em bebê", convulsao: "Convulsão", sangramento: "Sangramento",
    reacao_alergica_grave: "Reação alérgica grave", intoxicacao: "Intoxicação",
    risco_de_suicidio: "Risco de suicídio",
  };
  const RECUSAS = {
    produto_desconhecido: "produto fora do catálogo", produto_ambiguo: "nome ambíguo",
    exige_receita: "exige receita", nao_atende_necessidade: "não atende à necessidade",
    resposta_malformada: "resposta malformada", recusa: "o modelo se recusou",
    fora_do_esquema: "fora do esquema", sem_estoque: "em falta no balcão",
    contraindicado: "contraindicado pelo que o cliente disse",
  };

  // who answered a suggestion (the advice chain's source names)
  const FONTES = {
    xai: "xAI", openai: "OpenAI", catalog: "catálogo (sem LLM)", red_flags: "sinais de alerta",
  };
  const fonte = (nome) => FONTES[nome] || nome || "—";
  // why a segment was not transcribed, in words (the stored reason is written for the logs);
  // what is not known reads as stored
  const CATEGORIAS = {
    auth: "credencial recusada", invalid_request: "pedido recusado", rate_limited: "limite de uso",
    quota: "cota esgotada", server: "erro do provedor", connectivity: "sem conexão",
    timeout: "sem resposta a tempo", malformed_response: "resposta malformada",
  };
  function motivoFalha(texto) {
    if (!texto) return "";
    if (/^(no STT provider configured|stt_not_configured)/.test(texto)) return "nenhum provedor de transcrição (STT) configurado";
    if (texto.startsWith("session ended before transcription")) return "a conversa terminou antes da transcrição";
    if (/^crashed \w+ consumer \d+x$/.test(texto)) return "a transcrição falhou repetidamente com esta fala";
    if (/ full \(\d+\): oldest dropped$/.test(texto)) return "fila cheia: descartada para não atrasar as falas seguintes";
    const provedores = texto.split("; ").map((f) => f.match(/^([\w-]+): (\w+): /));
    if (provedores.every((m) => m && CATEGORIAS[m[2]])) {
      return "os provedores de transcrição falharam: " + provedores.map((m) => `${m[1]} (${CATEGORIAS[m[2]]})`).join(", ");
    }
    return texto;
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  // one letter folded as the server's search folds it (lower case, no accent): positions stay put
  const dobrar = (texto) => Array.from(texto, (c) => Array.from(Array.from(c.normalize("NFD"))[0].toLowerCase())[0]).join("");
  // `texto` in a `tag` element with each word of `procurado` marked (<mark>), words as the
  // server's search splits them: runs of letters and digits, any case and accents
  function comPalavras(texto, procurado, tag = "span", cls = "") {
    const chars = Array.from(texto);
    const dobrado = Array.from(dobrar(texto));
    const palavras = dobrar(procurado.normalize("NFC")).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    const marcas = new Array(chars.length).fill(false);
    const letra = /[\p{L}\p{N}]/u;
    for (const w of palavras.map((p) => Array.from(p))) {
      for (let i = 0; i + w.length <= dobrado.length; i++) {
        if ((i > 0 && letra.test(dobrado[i - 1])) || (i + w.length < dobrado.length && letra.test(dobrado[i + w.length]))) continue;
        if (w.every((c, k) => dobrado[i + k] === c)) for (let k = 0; k < w.length; k++) marcas[i + k] = true;
      }
    }
    const node = el(tag, "", cls);
    let i = 0;
    while (i < chars.length) {
      let j = i;
      while (j < chars.length && marcas[j] === marcas[i]) j++;
      const pedaco = chars.slice(i, j).join("");
      node.append(marcas[i] ? el("mark", pedaco) : pedaco);
      i = j;
    }
    return node;
  }
  function erro(message) {
    const box = document.getElementById("erro");
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
  }
  async function api(path, options = {}) {
    const init = Object.assign({ credentials: "same-origin" }, options);
    init.headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    const response = await fetch(path, init);
    if (response.status === 401) {
      const aqui = location.pathname + location.search;
      location.assign("/entrar?proximo=" + encodeURIComponent(aqui));
      throw new Error("sessão expirada: entre de novo");
    }
    const type = response.headers.get("content-type") || "";
    const body = type.includes("json") ? await response.json() : await response.text();
    if (response.status === 403 && body && body.error === "suspended") {
      location.reload();  // the chain was suspended meanwhile: the page itself says so, with Sair
    }
    if (!response.ok) {
      const err = new Error((body && body.message) || ("erro " + response.status));
      err.status = response.status;
      err.body = body;
      throw err;
    }
    return body;
  }
  const fmt = (options) => new Intl.DateTimeFormat("pt-BR", Object.assign({ timeZone: fuso }, options));
  const fmtHora = fmt({ hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const fmtDataHora = fmt({ day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit" });
  const hora = (iso) => (iso ? fmtHora.format(new Date(iso)) : "—");
  const dataHora = (iso) => (iso ? fmtDataHora.format(new Date(iso)) : "—");
  // how long ago, as people say it ("há 5 minutos", "há 3 dias"), from `agora` (the server's clock)
  const fmtRelativo = new Intl.RelativeTimeFormat("pt-BR", { numeric: "always" });  // "há 1 dia", never a calendar "ontem"
  const UNIDADES = [["day", 86400], ["hour", 3600], ["minute", 60]];
  function haQuanto(iso, agora = new Date().toISOString()) {
    const s = (new Date(agora) - new Date(iso)) / 1000;
    if (s < 60) return "há menos de um minuto";
    const [unidade, segundos] = UNIDADES.find(([, n]) => s >= n);
    return fmtRelativo.format(-Math.floor(s / segundos), unidade);
  }
  // a balcão's last connection (`ultima_conexao_em` of /admin/balcoes), for Cadastro and Ao vivo
  function ultimaConexao(b, agora) {
    if (b.live_session_id) return "agora (ao vivo)";
    if (!b.ultima_conexao_em) return "nunca conectou";
    return `${dataHora(b.ultima_conexao_em)} (${haQuanto(b.ultima_conexao_em, agora)})`;
  }
  // the offset of the configured zone on a day, e.g. "-03:00" (for ISO instants the API reads)
  function offset(dia) {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: fuso, timeZoneName: "longOffset" })
      .formatToParts(new Date(dia + "T12:00:00Z"));
    const name = (parts.find((p) => p.type === "timeZoneName") || {}).value || "GMT";
    const match = name.match(/GMT([+-]\d{2}:\d{2})?/);
    return match && match[1] ? match[1] : "+00:00";
  }
  function proximoDia(dia) {
    const d = new Date(dia + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }
  // page filters (bare dates, as the form has them) → API query (instants in the chain's zone)
  function consulta(filtros) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filtros)) {
      if (!v) continue;
      if (k === "desde") q.set(k, `${v}T00:00:00${offset(v)}`);
      else if (k === "ate") { const n = proximoDia(v); q.set(k, `${n}T00:00:00${offset(n)}`); }
      else q.set(k, v);
    }
    return q;
  }
  function filtrosDaUrl(nomes) {
    const q = new URLSearchParams(location.search);
    const out = {};
    for (const n of nomes) out[n] = q.get(n) || "";
    return out;
  }
  function lerFormulario(form, nomes) {
    const out = {};
    for (const n of nomes) { const f = form.elements[n]; out[n] = f ? f.value.trim() : ""; }
    return out;
  }
  // a filter form submitted: its fields into `filtros` and into the address, so a reload or a
  // shared link shows the same (`extra`: other values the page keeps there)
  function aplicarFiltros(form, nomes, filtros, extra = {}) {
    Object.assign(filtros, lerFormulario(form, nomes));
    guardarNoEndereco(filtros, extra);
  }
  // the filters as applied (and `extra`) into the address, without reading the form again
  function guardarNoEndereco(filtros, extra = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filtros, ...extra })) if (v) q.set(k, v);
    history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : ""));
  }
  function preencherFormulario(form, filtros) {
    for (const [k, v] of Object.entries(filtros)) { const f = form.elements[k]; if (f && v) f.value = v; }
  }
  // a list's items, following its pages (the API gives at most 500 at a time), so a network of
  // more clientes or a chain of more balcões than one page sees every one; `paginas` bounds it
  async function todos(path, paginas = 1000) {
    const itens = [];
    let cursor = null;
    for (let i = 0; i < paginas; i++) {
      const q = new URLSearchParams({ limit: "500" });
      if (cursor) q.set("cursor", cursor);
      const body = await api(path + (path.includes("?") ? "&" : "?") + q);
      itens.push(...body.items);
      cursor = body.next_cursor;
      if (!cursor) return { itens, mais: false };
    }
    return { itens, mais: true };
  }
  // <option>s after the select's first ("Todos"), the chosen one kept when it is still there
  function opcoes(select, itens, rotulo, valor, selecionado) {
    select.replaceChildren(select.options[0]);
    for (const item of itens) {
      const opt = el("option", rotulo(item));
      opt.value = valor(item);
      select.append(opt);
    }
    select.value = itens.some((i) => valor(i) === selecionado) ? selecionado : "";
  }
  // the Cliente and Balcão filters: every cliente; the chosen cliente's balcões (all of them, or
  // its chosen store's), or, with none chosen, the first 500 of the network's and a word on how
  // to reach the rest
  async function clientesEBalcoes(form, filtros) {
    const clientes = await todos("/admin/clientes");
    opcoes(form.elements.cliente_id, clientes.itens, (c) => c.razao_social, (c) => c.id, filtros.cliente_id);
    const select = form.elements.balcao_id;
    let vez = 0;  // a quicker answer for a cliente chosen later must not be overwritten
    // `loja`: a store chosen, its balcões only (a store's gestor: the server narrows to its own)
    async function carregar(cliente, escolhido, doEndereco, loja = "") {
      const esta = ++vez;
      const q = new URLSearchParams({ cliente_id: cliente });
      if (loja) q.set("loja_id", loja);
      const lista = cliente ? await todos(`/admin/balcoes?${q}`) : await todos("/admin/balcoes", 1);
      if (esta !== vez) return;
      opcoes(select, lista.itens, (b) => `${b.nome_balcao} (${b.razao_social}${b.loja ? " · " + b.loja : ""})`,
        (b) => b.id, escolhido);
      if (lista.mais) {
        const resto = el("option", "… escolha um cliente para ver todos os balcões dele");
        resto.disabled = true;
        select.append(resto);
      }
      if (doEndereco && escolhido && !select.value) {
        // a balcão the address names but the list does not show (beyond the first page): kept
        const opt = el("option", "o balcão escolhido"); opt.value = escolhido;
        select.append(opt);
        select.value = escolhido;
      }
    }
    const clienteAtual = () => meuCliente || form.elements.cliente_id.value;
    // another cliente: its stores are not chosen yet (filtroLoja empties that select)
    form.elements.cliente_id.addEventListener("change", () =>
      carregar(clienteAtual(), select.value).catch((e) => erro(e.message)));
    if (form.elements.loja_id) {
      form.elements.loja_id.addEventListener("change", () =>
        carregar(clienteAtual(), select.value, false, form.elements.loja_id.value).catch((e) => erro(e.message)));
    }
    await carregar(clienteAtual(), filtros.balcao_id, true, filtros.loja_id);
  }
  // the Loja filter (Histórico, Painel): offered when the chosen cliente (a gestor: its own) has
  // stores; a store's gestor never sees it, the server fixes its store whatever is asked
  function filtroLoja(form, filtros) {
    const select = form.elements.loja_id;
    const rotulo = select.closest("label");
    let vez = 0;  // a quicker answer for a cliente chosen later must not be overwritten
    async function carregar(cliente, escolhida) {
      const esta = ++vez;
      const todas = el("option", "Todas"); todas.value = "";
      select.replaceChildren(todas);
      rotulo.hidden = true;
      if (!cliente || minhaLoja) return;
      const body = await api(`/admin/clientes/${cliente}/lojas`);
      if (esta !== vez) return;
      for (const l of body.items) {
        const opt = el("option", l.nome); opt.value = l.id;
        select.append(opt);
      }
      select.value = body.items.some((l) => l.id === escolhida) ? escolhida : "";
      rotulo.hidden = !body.items.length;
    }
    const clienteDe = () => meuCliente || form.elements.cliente_id.value;
    form.elements.cliente_id.addEventListener("change", () => carregar(clienteDe(), "").catch((e) => erro(e.message)));
    return carregar(meuCliente || filtros.cliente_id, filtros.loja_id);
  }
  const pct = (part, total) => (total ? `${Math.round((100 * part) / total)}%` : "—");
  const usd = new Intl.NumberFormat("pt-BR", { style: "currency", currency: "USD", maximumFractionDigits: 4 });
  // two decimals as money is read; small sums (a day of tests, a quiet counter) keep four
  const brl2 = new Intl.NumberFormat("pt-BR", { style: "currency", currency: "BRL" });
  const brl4 = new Intl.NumberFormat("pt-BR", { style: "currency", currency: "BRL", maximumFractionDigits: 4 });
  const brl = { format: (v) => (Math.abs(v) >= 1 || v === 0 ? brl2 : brl4).format(v) };
  // who spoke an utterance, as identified by voice (issue 16): nothing when unknown
  function falante(item) {
    if (item.falante === "atendente") return el("span", item.atendente ? `Atendente ${item.atendente}:` : "Atendente:", "falante atendente");
    if (item.falante === "cliente") return el("span", "Cliente:", "falante cliente");
    return null;
  }
  // an acknowledged alert's stamp: when, and by whom where it was recorded
  function ciente(item) {
    return "ciente às " + hora(item.ciente_em) + (item.ciente_por ? " por " + item.ciente_por : "");
  }
  // the counter's word that the customer was given the alert's guidance (`orientado_em`)
  function orientado(item) {
    return "orientação dada no balcão às " + hora(item.orientado_em);
  }
  // the attendant said the suggested product was not on the shelf (the em_falta frame)
  function emFalta(item) {
    return "em falta no balcão (marcado às " + hora(item.em_falta_em) + ")";
  }
  // later words ruled the suggestion out (the retirar frame): when, and why
  function retirada(item) {
    return "retirada às " + hora(item.retirada_em) + " — " + item.retirada_motivo;
  }
  // what the customer had said that ruled products out when it was made
  function cuidados(item) {
    return Array.isArray(item.cuidados) && item.cuidados.length ? "Considerou: " + item.cuidados.join(", ") : null;
  }
  // a button that asks once more before it acts ("Sim, …"): for what cannot be undone
  function botaoConfirmado(texto, confirmacao, acao, cls) {
    const b = botao(texto, async () => {
      if (b.dataset.confirmar !== "1") {
        armar(b);
        return;
      }
      await acao();
    }, cls);
    b.dataset.confirmacao = confirmacao;
    return b;
  }
  // a button of botaoConfirmado waiting for its second click (also after a redraw put it back)
  function armar(b) { b.dataset.confirmar = "1"; b.textContent = b.dataset.confirmacao; }
  function botao(texto, acao, cls) { const b = el("button", texto, cls); b.type = "button"; b.addEventListener("click", acao); return b; }
  // "Ciente" on an alert (POST /admin/alertas/{id}/ciente: once for every admin, audited) where
  // nobody saw it live; `feito` gets the answer ({ciente_em, ciente_por}), `rotulo` names it
  function botaoCiente(alertaId, feito, rotulo) {
    const marcar = botao("Ciente", async () => {
      marcar.disabled = true;
      try {
        feito(await api(`/admin/alertas/${encodeURIComponent(alertaId)}/ciente`, { method: "POST" }));
      } catch (err) {
        marcar.disabled = false;
        erro("Não foi possível marcar o alerta como visto: " + err.message);
      }
    });
    if (rotulo) marcar.setAttribute("aria-label", rotulo);
    return marcar;
  }
  function linha(tbody, cells) {
    const tr = el("tr");
    for (const c of cells) {
      const td = el("td");
      if (c instanceof Node) td.append(c); else td.textContent = c === null || c === undefined ? "—" : String(c);
      tr.append(td);
    }
    tbody.append(tr);
    return tr;
  }
  // who the page shows data to: "operador" (every cliente) or "gestor" (one chain's account)
  const gestor = document.body.dataset.papel === "gestor";
  const meuCliente = document.body.dataset.cliente || "";
  // a store's gestor: one store of that chain (its balcões only, whatever a filter asks)
  const minhaLoja = document.body.dataset.loja || "";
  return {
    gestor, meuCliente, minhaLoja, fuso, ESTADOS, POLITICAS, FECHAMENTOS, encerramento, SINAIS, RECUSAS, el, erro, api, hora, dataHora,
    haQuanto, ultimaConexao,
    consulta, filtrosDaUrl, lerFormulario, aplicarFiltros, guardarNoEndereco, preencherFormulario, clientesEBalcoes, filtroLoja, todos, dobrar, pct, usd, brl, linha, botao,
    falante, ciente, orientado, emFalta, retirada, cuidados, botaoCiente, botaoConfirmado, armar, fonte, motivoFalha, comPalavras,
  };
})();
