// Cadastro, a chain's own accounts: the operator and the chain's gestores list a cliente's gestores,
// create one (of the whole chain, or of one store: lojas.js), set a new password, deactivate one
// or turn its two-step verification off (both asked twice; not one's own), require it of the whole
// chain; a gestor changes its own password ("Sua conta"; its own second step: dois_fatores.js).
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
    BaltoLojas.preencher(document.querySelector("#novo-gestor [name=loja_id]"), lojas);
    const loja = (id) => (id ? (lojas.find((l) => l.id === id) || {}).nome || "—" : "Toda a rede");
    const [body, rede] = await Promise.all([
      api(`/admin/clientes/${cliente}/gestores`),
      api(`/admin/clientes?cliente_id=${encodeURIComponent(cliente)}&limit=1`),
    ]);
    $("exigir-2-etapas").checked = Boolean(rede.items.length && rede.items[0].exige_dois_fatores);
    const tbody = document.querySelector("#gestores tbody");
    tbody.replaceChildren();
    for (const g of body.items) {
      const situacao = g.desativado_em ? "desativado em " + dataHora(g.desativado_em) : "ativo";
      const acoes = el("span", "", "linha-acoes");
      // one's own account changes under Sua conta, with the current password (the server: 409)
      if (!g.desativado_em && g.id !== document.body.dataset.gestor) {
        acoes.append(botao("Nova senha", () => novaSenha(g, cliente, acoes)), " ", desativar(g, cliente));
        if (g.dois_fatores) acoes.append(" ", semDoisFatores(g, cliente));
      }
      const etapas = g.dois_fatores ? "ativada" : "desativada";
      const tr = linha(tbody, [g.nome, g.email, loja(g.loja_id), dataHora(g.created_at), situacao, etapas, acoes]);
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
        await BaltoLojas.listar(cliente);  // a store's active gestores count (and may now be removed)
        await listar(cliente, BaltoLojas.atuais);
      } catch (err) { falhar(err); }
    }, "perigo");
    b.dataset.action = "desativar";
    return b;
  }

  // someone who lost the phone: asked once more, the account then signs in with the password alone
  function semDoisFatores(g, cliente) {
    const b = Balto.botaoConfirmado("Desativar 2 etapas", "Sim, desativar 2 etapas", async () => {
      try {
        await api(`/admin/gestores/${g.id}/dois-fatores`, { method: "DELETE" });
        avisar(`Verificação em duas etapas de ${g.nome} desativada: entra só com a senha, e as sessões abertas terminaram. Peça que a ative de novo, com o celular novo.`);
        await listar(cliente, BaltoLojas.atuais);
      } catch (err) {
        falhar(err);
        if (err.status === 409) await listar(cliente, BaltoLojas.atuais).catch(() => {});  // off already: the row says so
      }
    }, "perigo");
    b.dataset.action = "desativar-2-etapas";
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
    // the chain's rule: every gestor with a second step (set up at its next sign-in)
    $("exigir-2-etapas").addEventListener("change", async (event) => {
      const caixa = event.target;
      try {
        await api(`/admin/clientes/${cliente()}/dois-fatores`, { method: "PUT", ...json({ exigido: caixa.checked }) });
        avisar(caixa.checked
          ? "Verificação em duas etapas exigida: quem ainda não a tem configura ao entrar da próxima vez."
          : "Verificação em duas etapas deixou de ser exigida (quem a ativou continua com ela).");
      } catch (err) {
        caixa.checked = !caixa.checked;
        falhar(err);
      }
    });
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

  // a browser left signed in somewhere else: all of them out, this one stays
  const encerrar = $("encerrar-sessoes");
  if (encerrar) {
    encerrar.addEventListener("click", async () => {
      try {
        await api("/admin/conta/sessoes/encerrar", { method: "POST" });
        Balto.erro("");
        const r = $("resultado");
        r.textContent = "As outras sessões desta conta terminaram; esta continua aberta.";
        r.hidden = false;
      } catch (err) { Balto.erro(err.message); }
    });
  }

  return { listar, ligar };
})();
