// One past conversation: the session's facts and its timeline (what was said, suggested and
// why, alerted, refused, and the feedback).
"use strict";
(() => {
  const { el, api, hora, dataHora, SINAIS, RECUSAS } = Balto;
  const ficha = document.getElementById("sessao");
  const lista = document.getElementById("linha-do-tempo");

  function campo(nome, valor) { ficha.append(el("dt", nome), el("dd", valor === null || valor === undefined || valor === "" ? "—" : valor)); }

  function item(i) {
    const li = el("li");
    li.dataset.tipo = i.tipo;
    li.append(el("span", hora(i.em), "hora"));
    if (i.tipo === "fala") {
      if (i.status === "transcribed") { li.className = "ev-fala"; li.append(el("span", i.texto)); }
      else { li.className = "ev-falha"; li.append(el("span", i.status === "pending" ? "aguardando transcrição" : "não transcrito: " + (i.erro || ""))); }
    } else if (i.tipo === "recomendacao") {
      li.className = "ev-recomendacao";
      li.append(el("strong", "Sugestão: " + i.produto));
      const selo = i.aceita === true ? ["aceita", "aceita"] : i.aceita === false ? ["recusada pelo atendente", "recusada"] : ["sem retorno", "pendente"];
      li.append(el("span", selo[0], "selo " + selo[1]));
      li.append(el("div", "Por quê: " + i.explicacao));
      li.append(el("div", `Com base em: “${i.texto}” · fonte ${i.fonte}`, "hora"));
    } else if (i.tipo === "alerta") {
      li.className = "ev-alerta";
      li.append(el("strong", "Alerta: " + (SINAIS[i.sinal] || i.sinal) + " — " + i.explicacao));
      li.append(el("div", i.orientacao));
    } else if (i.tipo === "recusa") {
      li.className = "ev-recusa";
      li.append(el("strong", `Resposta recusada (${i.fonte}): ${RECUSAS[i.erro] || i.erro}`));
      li.append(el("div", "Disse: " + (i.texto || "—")));
    }
    return li;
  }

  async function carregar() {
    try {
      const body = await api("/admin/history/conversas/" + encodeURIComponent(ficha.dataset.session));
      const s = body.sessao;
      campo("Balcão", s.nome_balcao);
      campo("Cliente", s.razao_social);
      campo("Atendente", s.atendente);
      campo("Início", dataHora(s.started_at));
      campo("Fim", s.ended_at ? dataHora(s.ended_at) : "ao vivo");
      const fim = s.ended_at ? Balto.encerramento(s.close_code, s.close_reason) : "—";
      campo("Encerramento", s.close_code ? `${fim} (${s.close_code})` : fim);
      campo("Falas", s.falas);
      campo("Sugestões", `${s.recomendacoes} (${s.aceitas} aceitas)`);
      campo("Alertas", s.alertas);
      lista.replaceChildren(...body.itens.map(item));
      if (!body.itens.length) lista.append(el("li", "Nada foi dito nesta conversa.", "ev-falha"));
    } catch (err) {
      Balto.erro(err.status === 404 ? "Conversa não encontrada." : "Não foi possível carregar: " + err.message);
    }
  }
  carregar();
})();
