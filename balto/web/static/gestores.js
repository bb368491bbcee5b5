// Cadastro, a chain's own accounts: the operator and the chain's gestores list a cliente's gestores,
// create one (of the whole chain, or of one store: lojas.js), set a new password, deactivate one
// (asked twice; not one's own); a gestor changes its own password ("Sua conta").
"use strict";
const BaltoGestores = (() => {
  const { el, api, dataHora, linha, botao } = Balto;
  const $ = (id) => document.getElementById(id);
  const json = (body) => ({ headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  let avisar = () => {};
  let falhar = () => {};

  // `lojas`: the chain's stores, to name each account's and to offer in the form
  async function listar(cliente, lojas) {
    $("gestores-bloco").hidden = false;
    escolhas(lojas);
    const loja = (id) => (id ? (lojas.find((l) => l.id === id) || {}).nome || "—" : "Toda a rede");
    const body = await api(`/admin/clientes/${cliente}/gestores`);
    const tbody = document.querySelector("#gestores tbody");
    tbody.replaceChildren();
    for (const g of body.items) {
      const situacao = g.desativado_em ? "desativado em " + dataHora(g.desativado_em) : "ativo";
      const acoes = el("span", "", "linha-acoes");
      // one's own account changes under Sua conta, with the current password (the server: 409)
      if (!g.desativado_em && g.id !== document.body.dataset.gestor) acoes.append(botao("Nova senha", () => novaSenha(g, cliente, acoes)), " ", desativar(g, cliente));
      const tr = linha(tbody, [g.nome, g.email, loja(g.loja_id), dataHora(g.created_at), situacao, acoes]);
      tr.dataset.gestor = g.id;
    }
    if (!body.items.length) linha(tbody, ["Nenhum gestor: só o operador vê este cliente."]);
  }

  // the form's store: the whole chain unless one is chosen (kept across a redraw)
  function escolhas(lojas) {
    const select = document.querySelector("#novo-gestor [name=loja_id]");
    const antes = select.value;
    const todas = el("option", "Toda a rede"); todas.value = "";
    select.replaceChildren(todas);
    for (const l of lojas) {
      const opt = el("option", l.nome); opt.value = l.id;
      select.append(opt);
    }
    select.value = lojas.some((l) => l.id === antes) ? antes : "";
    select.closest("label").hidden = !lojas.length;  // a chain without stores has one choice
  }

  function desativar(g, cliente) {
    // asked once more: the person loses access at once
    const b = Balto.botaoConfirmado("Desativar", "Sim, desativar", async () => {
      try {
        await api(`/admin/gestores/${g.id}`, { method: "DELETE" });
        avisar(`Acesso de ${g.nome} desativado: as sessões abertas terminam.`);
        await BaltoLojas.listar(cliente);  // a store's active gestores count (and may now be removed)
        await listar(cliente, BaltoLojas.atuais);
      } catch (err) { falhar(err); }
    }, "perigo");
    b.dataset.action = "desativar";
    return b;
  }

  // a new password typed into the row itself (a password field: never shown in clear)
  function novaSenha(g, cliente, acoes) {
    const campo = el("input"); campo.type = "password"; campo.minLength = 10; campo.maxLength = 200;
    campo.autocomplete = "new-password"; campo.placeholder = "nova senha (10+ caracteres)";
    campo.setAttribute("aria-label", `Nova senha para ${g.nome}`);
    const salvar = botao("Salvar senha", async () => {
      try {
        await api(`/admin/gestores/${g.id}/senha`, { method: "PUT", ...json({ senha: campo.value }) });
        avisar(`Senha de ${g.nome} trocada: as sessões abertas com a senha antiga terminam.`);
        await listar(cliente, BaltoLojas.atuais);
      } catch (err) { falhar(err); }
    });
    salvar.dataset.action = "salvar-senha";
    acoes.replaceChildren(campo, " ", salvar, " ", botao("Cancelar", () => listar(cliente, BaltoLojas.atuais).catch(falhar)));
    campo.focus();
  }

  function ligar(cliente, aviso, falha) {
    avisar = aviso; falhar = falha;
    $("novo-gestor").addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = event.target;
      const lojaId = f.loja_id.value || null;
      try {
        await api(`/admin/clientes/${cliente()}/gestores`, {
          method: "POST", ...json({ nome: f.nome.value, email: f.email.value, senha: f.senha.value, loja_id: lojaId }) });
        const onde = lojaId ? `; vê só a loja “${BaltoLojas.nome(lojaId)}”` : "";
        avisar(`Acesso criado para ${f.nome.value}: entra em /entrar com ${f.email.value} e a senha inicial${onde}.`);
        f.reset();
        await BaltoLojas.listar(cliente());  // the store's gestores count
        await listar(cliente(), BaltoLojas.atuais);
      } catch (err) { falhar(err); }
    });
  }

  // a gestor's own password, on its Cadastro page
  const troca = $("trocar-senha");
  if (troca) {
    troca.addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = event.target;
      try {
        await api("/admin/conta/senha", { method: "POST", ...json({ atual: f.atual.value, nova: f.nova.value }) });
        f.reset();
        Balto.erro("");
        const r = $("resultado");
        r.textContent = "Senha trocada. As outras sessões desta conta terminaram.";
        r.hidden = false;
      } catch (err) { Balto.erro(err.message); }
    });
  }

  return { listar, ligar };
})();
