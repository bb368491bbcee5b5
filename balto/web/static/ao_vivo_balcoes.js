// Ao vivo: the chosen chain's (or store's) balcões that are not connected now, each with when it
// was last connected, so a gestor sees at opening time which counter is off. The roster (every
// balcão not revoked, with `ultima_conexao_em`) is read from /admin/balcoes every 30 s; which
// ones are live comes from the page's own 1.5 s poll, so a counter leaves this list with its card
// appearing, and comes back the moment its card goes.
"use strict";
const BaltoSemConexao = (() => {
  const { linha, ultimaConexao, todos } = Balto;
  const ms = (iso) => (iso ? Date.parse(iso) : 0);
  const INTERVALO_MS = 30000;
  const $ = (id) => document.getElementById(id);
  let escopo = "";  // the roster's query; "" while no chain is chosen (the operator's whole network)
  let lista = null;  // the roster's balcões, null until read
  let lidoEm = 0;
  let lendo = false;
  let vivosAntes = new Set();
  const saiuEm = new Map();  // balcão → when a poll first missed it, newer than the roster's reading

  async function ler(q) {
    lendo = true;
    try {
      const { itens } = await todos("/admin/balcoes?" + q);
      if (q !== escopo) return;  // another chain chosen meanwhile
      lista = itens.filter((b) => !b.revoked_at);
      lidoEm = Date.now();
      for (const b of lista) {
        const saiu = saiuEm.get(b.id);
        if (saiu && ms(b.ultima_conexao_em) >= ms(saiu)) saiuEm.delete(b.id);
      }
    } catch (err) {
      Balto.erro("Não foi possível ler os balcões: " + err.message);
      lidoEm = Date.now();  // tried: the next try waits its turn rather than every poll
    } finally {
      lendo = false;
    }
  }

  // the last connection as this page knows it: the roster's, or the poll that saw the card go
  function quando(b) {
    const saiu = saiuEm.get(b.id);
    const em = saiu && ms(saiu) > ms(b.ultima_conexao_em) ? saiu : b.ultima_conexao_em;
    return em || null;
  }

  function desenhar(vivos, agora) {
    const bloco = $("bloco-sem-conexao");
    const resumo = $("conectados");
    if (!escopo || lista === null) { bloco.hidden = true; resumo.textContent = ""; return; }
    const fora = lista.filter((b) => !vivos.has(b.id))
      .map((b) => ({ ...b, live_session_id: null, ultima_conexao_em: quando(b) }))
      // the most recently lost first; never connected last
      .sort((a, b) => ms(b.ultima_conexao_em) - ms(a.ultima_conexao_em));
    const dentro = lista.length - fora.length;
    resumo.textContent = lista.length === 1 ? `${dentro} de 1 balcão conectado.` : `${dentro} de ${lista.length} balcões conectados.`;
    bloco.hidden = fora.length === 0;
    $("sem-conexao-n").textContent = String(fora.length);
    const comLoja = lista.some((b) => b.loja);
    $("sem-conexao-loja").hidden = !comLoja;
    const linhas = fora.map((b) => {
      const cells = [b.nome_balcao, ultimaConexao(b, agora) + (b.cliente_suspenso ? " · acesso da rede suspenso" : "")];
      if (comLoja) cells.splice(1, 0, b.loja || "— sem loja —");
      return { id: b.id, cells };
    });
    const tbody = document.querySelector("#sem-conexao tbody");
    const chave = JSON.stringify(linhas);
    if (tbody.dataset.chave === chave) return;  // unchanged: leave the rows (and a selection) be
    tbody.dataset.chave = chave;
    tbody.replaceChildren();
    for (const l of linhas) linha(tbody, l.cells).dataset.balcao = l.id;
  }

  // each poll of the page: `vivos` the balcões with a card, `agora` the server's clock
  function atualizar(vivos, agora, cliente, loja) {
    const q = cliente ? new URLSearchParams(loja ? { cliente_id: cliente, loja_id: loja } : { cliente_id: cliente }).toString() : "";
    if (q !== escopo) { escopo = q; lista = null; lidoEm = 0; saiuEm.clear(); }
    for (const b of vivosAntes) if (!vivos.has(b)) saiuEm.set(b, agora);
    vivosAntes = new Set(vivos);
    if (escopo && !lendo && Date.now() - lidoEm >= INTERVALO_MS) ler(escopo).then(() => desenhar(vivosAntes, agora));
    desenhar(vivos, agora);
  }
  return { atualizar };
})();
