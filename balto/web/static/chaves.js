// Cadastro, a chain's API keys (for its BI or ERP, read-only): list, make one (the key is shown
// once, here), revoke one (asked twice). The operator and the chain's gestores both use it.
"use strict";
const BaltoChaves = (() => {
  const { api, dataHora, linha } = Balto;
  const $ = (id) => document.getElementById(id);
  let avisar = () => {};
  let falhar = () => {};

  async function listar(cliente) {
    const body = await api(`/admin/clientes/${cliente}/chaves`);
    const tbody = document.querySelector("#chaves tbody");
    tbody.replaceChildren();
    for (const k of body.items) {
      const situacao = k.revogada_em ? "revogada em " + dataHora(k.revogada_em) : "ativa";
      const acao = k.revogada_em ? "" : revogar(k, cliente);
      const tr = linha(tbody, [k.nome, k.dica + "…", dataHora(k.created_at), k.usada_em ? dataHora(k.usada_em) : "nunca", situacao, acao]);
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
        await listar(cliente);
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
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ nome: f.nome.value }) });
        $("chave-nova-valor").textContent = body.chave;
        $("chave-nova").hidden = false;
        f.reset();
        await listar(cliente());
      } catch (err) { falhar(err); }
    });
  }

  return { listar, ligar };
})();
