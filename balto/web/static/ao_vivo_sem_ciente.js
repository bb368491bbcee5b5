// Ao vivo: today's alerts of conversations that already ended with no admin's "Ciente" (they left
// the banner with their session): how many, read every 30 s from /admin/history/alertas
// (sem_ciente=true), with a link to them in the Histórico, where each can be acknowledged.
"use strict";
const BaltoSemCiente = (() => {
  const { el, api } = Balto;
  const INTERVALO_MS = 30000;
  const LIMITE = 100;
  const $ = (id) => document.getElementById(id);
  let escopo = null;  // the filters the list was read for, as text
  let pendentes = [];  // [{id, sessao}]: today's alerts without a Ciente, live ones included
  let mais = false;  // more than LIMITE of them
  let lidoEm = 0;
  let lendo = false;

  // today in the chain's zone, as the Histórico's date filter has it ("2026-12-07")
  const hoje = () => new Intl.DateTimeFormat("en-CA", { timeZone: Balto.fuso }).format(new Date());

  async function ler(filtros, esta) {
    lendo = true;
    try {
      const q = Balto.consulta({ ...filtros, desde: hoje() });
      q.set("sem_ciente", "true");
      q.set("limit", String(LIMITE));
      const body = await api("/admin/history/alertas?" + q);
      if (esta !== escopo) return;  // another chain or store chosen meanwhile
      pendentes = body.items.map((a) => ({ id: a.id, sessao: a.session_id }));
      mais = Boolean(body.next_cursor);
    } catch {
      // the next turn tries again; the page's own line says when the server is away
    } finally {
      lendo = false;
      lidoEm = Date.now();
    }
  }

  function desenhar(vivas, filtros) {
    const aviso = $("alertas-encerradas");
    const fora = pendentes.filter((a) => !vivas.has(a.sessao));  // the banner shows the live ones
    const chave = `${escopo}|${fora.map((a) => a.id).join(",")}|${mais}`;
    if (aviso.dataset.chave === chave) return;
    aviso.dataset.chave = chave;
    aviso.hidden = fora.length === 0;
    if (!fora.length) { aviso.replaceChildren(); return; }
    const n = fora.length + (mais ? " ou mais" : "");
    const texto = fora.length === 1 && !mais
      ? "1 alerta de hoje, de uma conversa já encerrada, está sem ciente: "
      : `${n} alertas de hoje, de conversas já encerradas, estão sem ciente: `;
    const link = el("a", "ver no Histórico");
    const q = new URLSearchParams({ desde: hoje(), ciente: "sem" });
    for (const [k, v] of Object.entries(filtros)) if (v) q.set(k, v);
    link.href = "/admin/historico?" + q;
    aviso.replaceChildren(texto, link);
  }

  // each poll of the page: `vivas` the live sessions' ids, `filtros` its cliente and store
  function atualizar(vivas, filtros) {
    const esta = JSON.stringify(filtros);
    if (esta !== escopo) { escopo = esta; pendentes = []; mais = false; lidoEm = 0; }
    if (!lendo && Date.now() - lidoEm >= INTERVALO_MS) ler(filtros, esta).then(() => desenhar(vivas, filtros));
    desenhar(vivas, filtros);
  }
  return { atualizar };
})();
