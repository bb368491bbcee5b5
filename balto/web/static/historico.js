// Histórico: conversations and alerts with the filters kept in the URL (a store among them, when
// the chain has stores); the Excel report link carries the same filters.
"use strict";
(() => {
  const { el, api, dataHora, linha, SINAIS } = Balto;
  const NOMES = ["cliente_id", "loja_id", "balcao_id", "atendente", "desde", "ate"];
  const form = document.getElementById("filtros");
  const filtros = Balto.filtrosDaUrl(NOMES);
  const sinal = document.getElementById("f-sinal");
  sinal.value = new URLSearchParams(location.search).get("sinal") || "";
  // "sem": only the alerts no admin has acknowledged (those of a conversation that ended before
  // anyone saw them never reach Ao vivo's banner again)
  const situacao = document.getElementById("f-ciente");
  situacao.value = new URLSearchParams(location.search).get("ciente") === "sem" ? "sem" : "";
  const busca = document.getElementById("f-busca");
  busca.value = new URLSearchParams(location.search).get("q") || "";
  let buscado = busca.value.trim();
  let cursorConversas = null;
  let cursorAlertas = null;

  function consulta(extra) {
    const q = Balto.consulta(filtros);
    for (const [k, v] of Object.entries(extra || {})) if (v) q.set(k, v);
    return q;
  }

  async function conversas(mais) {
    const q = consulta({ cursor: mais ? cursorConversas : null, q: buscado });
    const body = await api("/admin/history/conversas?" + q);
    const tbody = document.querySelector("#conversas tbody");
    if (!mais) tbody.replaceChildren();
    for (const c of body.items) {
      const link = el("a", dataHora(c.started_at));
      // the conversation opens with the words searched for marked
      link.href = "/admin/historico/" + c.id + (buscado ? "?q=" + encodeURIComponent(buscado) : "");
      const fim = c.ended_at ? Balto.encerramento(c.close_code, c.close_reason) : "ao vivo";
      const clientes = c.atendimentos > 1 ? ` · ${c.atendimentos} atendimentos` : "";
      const falas = (c.falas_apagadas_em ? `${c.falas} (apagadas)` : String(c.falas)) + clientes;
      const tr = linha(tbody, [link, c.nome_balcao, c.loja ? `${c.razao_social} · ${c.loja}` : c.razao_social, c.atendente || "—", falas,
        c.recomendacoes, c.aceitas, c.alertas, fim]);
      tr.dataset.session = c.id;
      if (buscado) {
        const td = el("td", "");
        td.colSpan = 9;
        td.append(c.trecho ? Balto.comPalavras(c.trecho, buscado, "p", "trecho") : el("p", "Encontrado nos produtos sugeridos."));
        const sob = el("tr", "");
        sob.className = "achado";
        sob.append(td);
        tbody.append(sob);
      }
    }
    cursorConversas = body.next_cursor;
    document.getElementById("mais-conversas").hidden = !cursorConversas;
    const vazio = tbody.children.length === 0;
    document.getElementById("conversas-vazio").hidden = !vazio || Boolean(buscado);
    document.getElementById("busca-vazio").hidden = !vazio || !buscado;
  }

  const cienteTexto = (a) => dataHora(a.ciente_em) + (a.ciente_por ? " · " + a.ciente_por : "");

  async function alertas(mais) {
    const q = consulta({ sinal: sinal.value, sem_ciente: situacao.value === "sem" ? "true" : "", cursor: mais ? cursorAlertas : null });
    const body = await api("/admin/history/alertas?" + q);
    const tbody = document.querySelector("#alertas tbody");
    if (!mais) tbody.replaceChildren();
    for (const a of body.items) {
      const link = el("a", dataHora(a.created_at)); link.href = "/admin/historico/" + a.session_id;
      const sinais = (a.sinais || [a.sinal]).map((s) => SINAIS[s] || s).join(", ");
      const ciente = el("span", a.ciente_em ? cienteTexto(a) : null);
      // seen from here, as on Ao vivo; the row stays (in "Sem ciente" too) with when and who
      if (!a.ciente_em) {
        ciente.append(Balto.botaoCiente(a.id, (feito) => ciente.replaceChildren(cienteTexto(feito)),
          `Ciente do alerta de ${dataHora(a.created_at)} no ${a.nome_balcao}`));
      }
      const tr = linha(tbody, [link, a.nome_balcao, a.loja ? `${a.razao_social} · ${a.loja}` : a.razao_social, a.atendente || "—", sinais, a.transcricao_base,
        a.orientado_em ? dataHora(a.orientado_em) : "—", ciente]);
      tr.dataset.alerta = a.id;
      tr.dataset.sinal = a.sinal;
    }
    cursorAlertas = body.next_cursor;
    document.getElementById("mais-alertas").hidden = !cursorAlertas;
    document.getElementById("alertas-vazio").hidden = tbody.children.length > 0;
  }

  function excel() {
    const q = Balto.consulta(filtros);
    document.getElementById("excel").href = "/api/export/xlsx" + (q.toString() ? "?" + q : "");
  }

  async function tudo() {
    try {
      excel();
      await Promise.all([conversas(false), alertas(false)]);
      Balto.erro("");
    } catch (err) {
      Balto.erro("Não foi possível carregar: " + err.message);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Balto.aplicarFiltros(form, NOMES, filtros, extras());
    tudo();
  });
  document.getElementById("busca").addEventListener("submit", (event) => {
    event.preventDefault();
    buscado = busca.value.trim();
    // the filters as the form shows them, so the lists, the report and the address agree
    Balto.aplicarFiltros(form, NOMES, filtros, extras());
    tudo();
  });
  // what the address keeps besides the form: the alerts' choices and the search
  const extras = () => ({ sinal: sinal.value, ciente: situacao.value, q: buscado });
  // the alerts' own selects: that list again, and the address as it now reads (the form's
  // fields as last applied)
  for (const select of [sinal, situacao]) {
    select.addEventListener("change", () => {
      Balto.guardarNoEndereco(filtros, extras());
      alertas(false).catch((e) => Balto.erro(e.message));
    });
  }
  document.getElementById("mais-conversas").addEventListener("click", () => conversas(true).catch((e) => Balto.erro(e.message)));
  document.getElementById("mais-alertas").addEventListener("click", () => alertas(true).catch((e) => Balto.erro(e.message)));

  Balto.preencherFormulario(form, filtros);
  // "pronto" once the filters' options and the first lists are in: the selects widen as their
  // options arrive, and the form's button moves under a pointer aimed a moment before
  Promise.allSettled([
    Balto.clientesEBalcoes(form, filtros).catch((e) => Balto.erro(e.message)),
    Balto.filtroLoja(form, filtros).catch((e) => Balto.erro(e.message)),
    tudo(),
  ]).then(() => { document.body.dataset.pronto = "1"; });
})();
