// Cadastro, a chain's API keys (for its BI or ERP, read-only): list, make one (the key is shown
// once, here; of the whole chain, or of one store: it then reads that store only), revoke one
// (asked twice). The operator and the chain's gestores both use it.
"use strict";
const BaltoChaves = (() => {
  const { api, dataHora, linha } = Balto;
  const $ = (id) => document.getElementById(id);
  let avisar = () => {};
  let falhar = () => {};

  // `lojas`: the chain's stores, to name each key's and to offer in the form
  async function listar(cliente, lojas) {
    BaltoLojas.preencher(document.querySelector("#nova-chave [name=loja_id]"), lojas);
    const loja = (id) => (id ? (lojas.find((l) => l.id === id) || {}).nome || "—" : "Toda a rede");
    const body = await api(`/admin/clientes/${cliente}/chaves`);
    const tbody = document.querySelector("#chaves tbody");
    tbody.replaceChildren();
    for (const k of body.items) {
      const situacao = k.revogada_em ? "revogada em " + dataHora(k.revogada_em) : "ativa";
      const acao = k.revogada_em ? "" : revogar(k, cliente);
      // the pace of the system using it, against its budget (past it, that system gets 429)
      const uso = k.usada_em ? dataHora(k.usada_em) : "nunca";
      const ritmo = body.orcamento_minuto && k.uso_minuto ? ` · ${k.uso_minuto} de ${body.orcamento_minuto} por minuto` : "";
      const tr = linha(tbody, [k.nome, loja(k.loja_id), k.dica + "…", dataHora(k.created_at), uso + ritmo, situacao, acao]);
      tr.dataset.chave = k.id;
    }
    if (!body.items.length) linha(tbody, ["Nenhuma chave."]);
  }


  function revogar(k, cliente) {
    // asked once more: the system using it stops at once
    const b = Balto.botaoConfirmado("Revogar", "Sim, revogar", async () => {
      try {
        await api(`/admin/chaves/${k.id}`, { method: "DELETE" });
        avisar(`Chave ${k.nome} revogada: quem a usa deixa de ter acesso agora.`);
        await listar(cliente, BaltoLojas.atuais);
      } catch (err) { falhar(err); }
    }, "perigo");
    b.dataset.action = "revogar-chave";
    return b;
  }

  function ligar(cliente, aviso, falha) {
    avisar = aviso; falhar = falha;
    $("nova-chave").addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = event.target;
      try {
        const body = await api(`/admin/clientes/${cliente()}/chaves`, {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ nome: f.nome.value, loja_id: f.loja_id.value || null }) });
        $("chave-nova-valor").textContent = body.chave;
        $("chave-nova").hidden = false;
        f.reset();
        await listar(cliente(), BaltoLojas.atuais);
      } catch (err) { falhar(err); }
    });
  }

  return { listar, ligar };
})();
