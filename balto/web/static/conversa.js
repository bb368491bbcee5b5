// One past conversation: the session's facts and its timeline (what was said, suggested and
// why, alerted, refused, and the feedback), and the erasure of what was said (LGPD), asked twice.
"use strict";
(() => {
  const { el, api, hora, dataHora, SINAIS, RECUSAS, botao } = Balto;
  const ficha = document.getElementById("sessao");
  const lista = document.getElementById("linha-do-tempo");
  const apagar = document.getElementById("apagar");
  const resultado = document.getElementById("resultado");
  const APAGADA = "(fala apagada)";
  // words searched for in the Histórico: marked in what was said and suggested
  const procurado = (new URLSearchParams(location.search).get("q") || "").trim();
  const texto = (t, cls = "") => (procurado ? Balto.comPalavras(t, procurado, "span", cls) : el("span", t, cls));


  function campo(nome, valor) { ficha.append(el("dt", nome), el("dd", valor === null || valor === undefined || valor === "" ? "—" : valor)); }

  function item(i) {
    const li = el("li");
    li.dataset.tipo = i.tipo;
    li.append(el("span", hora(i.em), "hora"));
    if (i.tipo === "fala") {
      const quem = Balto.falante(i);
      if (quem) li.append(quem);
      if (i.status === "transcribed") { li.className = "ev-fala"; li.append(i.texto === null ? el("span", APAGADA, "apagada") : texto(i.texto)); }
      else {
        li.className = "ev-falha";
        const motivo = el("span", i.status === "pending" ? "aguardando transcrição" : "não transcrito: " + Balto.motivoFalha(i.erro));
        if (i.erro) motivo.title = i.erro;  // the reason as stored, for whoever reports it
        li.append(motivo);
      }
    } else if (i.tipo === "recomendacao") {
      li.className = "ev-recomendacao";
      const sugestao = el("strong", "Sugestão: ");
      sugestao.append(texto(i.produto));
      li.append(sugestao);
      const selo = i.aceita === true ? ["aceita", "aceita"] : i.aceita === false ? ["recusada pelo atendente", "recusada"] : ["sem retorno", "pendente"];
      li.append(el("span", selo[0], "selo " + selo[1]));
      if (i.em_falta_em) li.append(el("span", Balto.emFalta(i), "selo recusada"));
      if (i.retirada_em) li.append(el("span", Balto.retirada(i), "selo recusada"));
      li.append(el("div", "Por quê: " + i.explicacao));
      if (Balto.cuidados(i)) li.append(el("div", Balto.cuidados(i)));
      li.append(el("div", `Com base em: ${i.texto ? `“${i.texto}”` : APAGADA} · fonte: ${Balto.fonte(i.fonte)}`, "hora"));
    } else if (i.tipo === "alerta") {
      li.className = "ev-alerta";
      li.append(el("strong", "Alerta: " + (SINAIS[i.sinal] || i.sinal) + " — " + i.explicacao));
      if (i.orientado_em) li.append(el("span", Balto.orientado(i), "selo aceita"));
      if (i.ciente_em) li.append(el("span", Balto.ciente(i), "selo aceita"));
      else {  // no admin saw it while it was live: seen from here
        const marcar = Balto.botaoCiente(i.id, (feito) => marcar.replaceWith(el("span", Balto.ciente(feito), "selo aceita")));
        li.append(" ", marcar);
      }
      li.append(el("div", i.orientacao));
    } else if (i.tipo === "recusa") {
      li.className = "ev-recusa";
      li.append(el("strong", `Resposta recusada (${Balto.fonte(i.fonte)}): ${RECUSAS[i.erro] || i.erro}`));
      li.append(el("div", "Disse: " + (i.texto || "—")));
    }
    return li;
  }

  // A counter session serves customer after customer: a line where each new one began
  // (segments.novo_atendimento), numbered once there is more than one.
  const INICIO = { balcao: "o balcão passou ao próximo cliente", pausa: "depois de um minuto ou mais sem fala" };
  let atendimento = 1;
  function linha(texto) { const li = el("li", texto, "ev-atendimento"); li.dataset.tipo = "atendimento"; return li; }
  function comAtendimentos(itens) {
    const lis = [];
    for (const i of itens) {
      if (i.tipo === "fala" && i.novo_atendimento) {
        if (atendimento === 1) lista.prepend(linha("Atendimento 1"));
        atendimento += 1;
        lis.push(linha(`Atendimento ${atendimento}: ${INICIO[i.novo_atendimento] || i.novo_atendimento}`));
      }
      lis.push(item(i));
    }
    return lis;
  }

  // A session can last a shift: its timeline comes PAGINA items at a time, the rest on request
  // (or, opened from a search, until the words searched for show).
  const PAGINA = 500;
  const mais = document.getElementById("mais-conversa");
  let seguinte = null;
  async function pagina(cursor) {
    const params = new URLSearchParams({ limit: String(PAGINA) });
    if (cursor) params.set("cursor", cursor);
    return api(`/admin/history/conversas/${encodeURIComponent(ficha.dataset.session)}?${params}`);
  }
  function acrescentar(body) {
    lista.append(...comAtendimentos(body.itens));
    seguinte = body.next_cursor;
    mais.hidden = !seguinte;
    mais.replaceChildren(...(seguinte ? [botao("Mostrar mais da conversa", carregarMais)] : []));
  }
  async function carregarMais() {
    const pedir = mais.querySelector("button");
    if (pedir) pedir.disabled = true;  // one page at a time
    try {
      acrescentar(await pagina(seguinte));
      return true;
    } catch (err) {
      if (pedir) pedir.disabled = false;
      Balto.erro("Não foi possível carregar o resto da conversa: " + err.message);
      return false;
    }
  }

  // Erasing cannot be undone: the first click asks, the second erases.
  function oferecerApagar(s) {
    // erasing is the chain's decision: a store's gestor reads the conversation only (the route refuses it)
    apagar.hidden = !s.ended_at || Boolean(s.falas_apagadas_em) || Boolean(Balto.minhaLoja);
    const perguntar = botao("Apagar o que foi dito", () => {
      apagar.replaceChildren(
        el("span", "Apagar as falas desta conversa? Não tem volta; contagens e sugestões ficam. "),
        botao("Sim, apagar", executar, "perigo"),
        botao("Cancelar", () => oferecerApagar(s)),
      );
    }, "perigo");
    apagar.replaceChildren(perguntar);
  }

  async function executar() {
    try {
      const r = await api("/admin/history/conversas/" + encodeURIComponent(ficha.dataset.session), { method: "DELETE" });
      resultado.textContent = `Falas apagadas: ${r.falas} falas, ${r.recomendacoes + r.alertas + r.recusas + r.comparacoes} citações.`;
      resultado.hidden = false;
      await carregar();
    } catch (err) {
      Balto.erro(err.status === 409 ? "A conversa ainda está ao vivo: apague depois que ela terminar." : "Não foi possível apagar: " + err.message);
    }
  }

  async function carregar() {
    try {
      const body = await pagina(null);
      ficha.replaceChildren();
      const s = body.sessao;
      campo("Balcão", s.nome_balcao);
      campo("Cliente", s.razao_social);
      if (s.loja) campo("Loja", s.loja);
      campo("Atendente", s.atendente);
      campo("Início", dataHora(s.started_at));
      campo("Fim", s.ended_at ? dataHora(s.ended_at) : "ao vivo");
      const fim = s.ended_at ? Balto.encerramento(s.close_code, s.close_reason) : "—";
      campo("Encerramento", s.close_code ? `${fim} (${s.close_code})` : fim);
      campo("Falas", s.falas);
      if (s.atendimentos > 1) campo("Atendimentos", s.atendimentos);
      campo("Sugestões", `${s.recomendacoes} (${s.aceitas} ${s.aceitas === 1 ? "aceita" : "aceitas"})`);
      campo("Alertas", s.alertas);
      if (s.falas_apagadas_em) campo("Falas apagadas em", dataHora(s.falas_apagadas_em));
      oferecerApagar(s);
      lista.replaceChildren();
      atendimento = 1;
      acrescentar(body);
      // opened from a search: on to the page where the words are (a bounded walk)
      for (let n = 0; procurado && seguinte && !lista.querySelector("mark") && n < 20; n += 1) {
        if (!(await carregarMais())) break;
      }
      lista.querySelector("mark")?.scrollIntoView({ block: "center" });
      if (!body.itens.length) lista.append(el("li", "Nada foi dito nesta conversa.", "ev-falha"));
    } catch (err) {
      Balto.erro(err.status === 404 ? "Conversa não encontrada." : "Não foi possível carregar: " + err.message);
    }
  }
  carregar();
})();
