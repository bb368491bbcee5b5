// Cadastro, a chain's own accounts: the operator lists a cliente's gestores, creates one, sets a
// new password, deactivates one (asked twice); a gestor changes its own password ("Sua conta").
"use strict";
const BaltoGestores = (() => {
  const { el, api, dataHora, linha, botao } = Balto;
  const $ = (id) => document.getElementById(id);
  const json = (body) => ({ headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  let avisar = () => {};
  let falhar = () => {};

  async function listar(cliente) {
    $("gestores-bloco").hidden = false;
    const body = await api(`/admin/clientes/${cliente}/gestores`);
    const tbody = document.querySelector("#gestores tbody");
    tbody.replaceChildren();
    for (const g of body.items) {
      const situacao = g.desativado_em ? "desativado em " + dataHora(g.desativado_em) : "ativo";
      const acoes = el("span", "", "linha-acoes");
      if (!g.desativado_em) acoes.append(botao("Nova senha", () => novaSenha(g, cliente, acoes)), " ", desativar(g, cliente));
      const tr = linha(tbody, [g.nome, g.email, dataHora(g.created_at), situacao, acoes]);
      tr.dataset.gestor = g.id;
    }
    if (!body.items.length) linha(tbody, ["Nenhum gestor: só o operador vê este cliente."]);
  }

  function desativar(g, cliente) {
    // asked once more: the person loses access at once
    const b = Balto.botaoConfirmado("Desativar", "Sim, desativar", async () => {
      try {
        await api(`/admin/gestores/${g.id}`, { method: "DELETE" });
        avisar(`Acesso de ${g.nome} desativado: as sessões abertas terminam.`);
        await listar(cliente);
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
        await listar(cliente);
      } catch (err) { falhar(err); }
    });
    salvar.dataset.action = "salvar-senha";
    acoes.replaceChildren(campo, " ", salvar, " ", botao("Cancelar", () => listar(cliente).catch(falhar)));
    campo.focus();
  }

  function ligar(cliente, aviso, falha) {
    avisar = aviso; falhar = falha;
    $("novo-gestor").addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = event.target;
      try {
        await api(`/admin/clientes/${cliente()}/gestores`, {
          method: "POST", ...json({ nome: f.nome.value, email: f.email.value, senha: f.senha.value }) });
        avisar(`Acesso criado para ${f.nome.value}: entra em /entrar com ${f.email.value} e a senha inicial.`);
        f.reset();
        await listar(cliente());
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
