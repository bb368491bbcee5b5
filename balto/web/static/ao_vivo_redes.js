// Ao vivo for the operator with no chain chosen: the whole network at a glance. How many of the
// network's balcões are connected, and, folded, every chain with counters off (connected of its
// total, how many never connected), the chains with most off first; "Ver balcões" chooses the
// chain, whose own list then names each counter. Totals come from /admin/redes/conexoes every
// 30 s; which are connected, from the page's own 1.5 s poll.
"use strict";
const BaltoRedes = (() => {
  const { linha, api, botao } = Balto;
  const INTERVALO_MS = 30000;
  const $ = (id) => document.getElementById(id);
  const milhar = new Intl.NumberFormat("pt-BR");
  let redes = null;  // the server's per-chain totals, null until read
  let lidoEm = 0;
  let lendo = false;

  async function ler() {
    lendo = true;
    try {
      redes = (await api("/admin/redes/conexoes")).itens;
    } catch (err) {
      Balto.erro("Não foi possível ler os balcões da rede: " + err.message);
    } finally {
      lidoEm = Date.now();
      lendo = false;
    }
  }

  function escolher(cliente) {
    const select = document.getElementById("f-cliente-ao-vivo");
    select.value = cliente;
    select.form.dispatchEvent(new Event("change"));
  }

  function desenhar(sessoes) {
    const bloco = $("bloco-redes");
    if (redes === null) { bloco.hidden = true; return; }
    const vivos = new Map();  // chain → its balcões with a card
    for (const s of sessoes) {
      if (!vivos.has(s.cliente_id)) vivos.set(s.cliente_id, new Set());
      vivos.get(s.cliente_id).add(s.balcao_id);
    }
    const contas = redes.map((r) => {
      const conectados = Math.min(r.balcoes, vivos.get(r.cliente_id)?.size || 0);
      return { ...r, conectados, fora: r.balcoes - conectados };
    });
    const total = contas.reduce((n, r) => n + r.balcoes, 0);
    const dentro = contas.reduce((n, r) => n + r.conectados, 0);
    $("conectados").textContent = total === 0 ? "" :
      `${milhar.format(dentro)} de ${milhar.format(total)} ${total === 1 ? "balcão conectado" : "balcões conectados"} na rede.`;
    const fora = contas.filter((r) => r.fora > 0)
      .sort((a, b) => b.fora - a.fora || a.razao_social.localeCompare(b.razao_social));
    bloco.hidden = fora.length === 0;
    $("redes-fora-n").textContent = String(fora.length);
    const linhas = fora.map((r) => [
      r.razao_social + (r.suspenso ? " (acesso suspenso)" : ""),
      `${r.conectados} de ${r.balcoes}`,
      r.nunca_conectaram,
      r.cliente_id,
    ]);
    const tbody = document.querySelector("#redes-fora tbody");
    const chave = JSON.stringify(linhas);
    if (tbody.dataset.chave === chave) return;  // unchanged: leave the rows (and the focus) be
    tbody.dataset.chave = chave;
    tbody.replaceChildren();
    for (const [nome, conectados, nunca, cliente] of linhas) {
      const ver = botao("Ver balcões", () => escolher(cliente));
      ver.setAttribute("aria-label", `Ver os balcões de ${nome}`);
      linha(tbody, [nome, conectados, nunca, ver]).dataset.cliente = cliente;
    }
  }

  // each poll of the page: its live sessions, and the chain chosen ("" for the whole network)
  function atualizar(sessoes, cliente) {
    if (Balto.gestor || cliente) { $("bloco-redes").hidden = true; return; }
    if (!lendo && Date.now() - lidoEm >= INTERVALO_MS) ler().then(() => desenhar(sessoes));
    desenhar(sessoes);
  }
  return { atualizar };
})();
