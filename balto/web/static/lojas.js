// Cadastro, a chain's stores (lojas): list them with their balcões and gestores counted and their
// linking code, create, rename in the row, give a new code, remove (asked twice). The operator and
// a chain-wide gestor use the panel; a store's gestor gets only its own store's code (`minha`), so
// it links the counters of its store itself (the routes that change stores refuse it otherwise).
"use strict";
const BaltoLojas = (() => {
  const { el, api, linha, botao } = Balto;
  const $ = (id) => document.getElementById(id);
  const json = (body) => ({ headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  let avisar = () => {};
  let falhar = () => {};
  let mudou = async () => {};  // what else shows stores (balcões, gestores) redraws after a change
  let atuais = [];

  // the cliente's stores, drawn in the panel; answered so the callers build their selects
  async function listar(cliente) {
    $("lojas-bloco").hidden = false;
    const body = await api(`/admin/clientes/${cliente}/lojas`);
    atuais = body.items;
    const tbody = document.querySelector("#lojas tbody");
    tbody.replaceChildren();
    for (const l of atuais) {
      const acoes = el("span", "", "linha-acoes quebra");
      const { onde, girar } = vinculo(l);
      acoes.append(botao("Renomear", () => renomear(l, cliente, acoes)), " ", girar, " ", remover(l));
      const tr = linha(tbody, [l.nome, l.balcoes, l.gestores, onde, acoes]);
      tr.dataset.loja = l.id;
    }
    if (!atuais.length) linha(tbody, ["Nenhuma loja: todos os balcões são da rede como um todo."]);
    return atuais;
  }

  const nome = (id) => (atuais.find((l) => l.id === id) || {}).nome;

  // a form's store choice: the whole chain unless one is chosen (kept across a redraw); hidden
  // when there is nothing to choose (no stores, or a store's own page)
  function preencher(select, lojas) {
    const antes = select.value;
    const todas = el("option", "Toda a rede"); todas.value = "";
    select.replaceChildren(todas, ...lojas.map((l) => { const o = el("option", l.nome); o.value = l.id; return o; }));
    select.value = lojas.some((l) => l.id === antes) ? antes : "";
    select.closest("label").hidden = !lojas.length;
  }

  // the store's code with a link that opens the counter page with it filled in, and the button
  // that makes a new one (the first one, for a store made before stores had codes)
  function vinculo(l) {
    const onde = el("span", "", "vinculo");
    const girar = botao("", async () => {
      const antes = l.codigo;
      try {
        l.codigo = (await api(`/admin/lojas/${l.id}/codigo`, { method: "POST" })).codigo;
        desenhar();
        avisar(antes
          ? `Novo código da loja “${l.nome}”: ${l.codigo}. O anterior deixou de valer; balcões já vinculados continuam funcionando.`
          : `Código da loja “${l.nome}”: ${l.codigo}. Um balcão vinculado com ele fica nesta loja.`);
      } catch (err) { falhar(err); }
    });
    girar.dataset.action = "codigo-loja";
    function desenhar() {
      girar.textContent = l.codigo ? "Novo código" : "Gerar código";
      if (!l.codigo) { onde.replaceChildren(el("span", "sem código", "sem-codigo")); return; }
      const tela = el("a", "tela do balcão", "tela-balcao");
      tela.href = "/balcao?codigo=" + encodeURIComponent(l.codigo);
      tela.title = "Abra no navegador do balcão: o código já vem preenchido";
      onde.replaceChildren(el("code", l.codigo, "codigo"), " · ", tela);
    }
    desenhar();
    return { onde, girar };
  }

  // a store's gestor: the list holds its own store only; its code goes in the block of its page
  async function minha(cliente, aviso, falha) {
    avisar = aviso; falhar = falha;
    const [l] = (await api(`/admin/clientes/${cliente}/lojas`)).items;
    if (!l) return;
    const { onde, girar } = vinculo(l);
    $("minha-loja-vinculo").replaceChildren(onde, " ", girar);
    $("minha-loja-bloco").hidden = false;
  }

  function remover(l) {
    // asked once more: its balcões and attendants go back to the chain as a whole, its filter goes
    const b = Balto.botaoConfirmado("Remover", "Sim, remover", async () => {
      try {
        await api(`/admin/lojas/${l.id}`, { method: "DELETE" });
        avisar(`Loja “${l.nome}” removida: seus balcões e atendentes voltaram a ser da rede como um todo.`);
      } catch (err) {
        // 409: active gestores still belong to it; the server says what to do first
        falhar(err.status === 409 ? new Error(`Não foi possível remover a loja “${l.nome}”: ${err.message}.`) : err);
      }
      await mudou();
    }, "perigo");
    b.dataset.action = "remover-loja";
    return b;
  }

  // the new name typed into the row itself, so the admin sees which store it renames
  function renomear(l, cliente, acoes) {
    const campo = el("input"); campo.value = l.nome; campo.maxLength = 80; campo.required = true;
    campo.setAttribute("aria-label", `Novo nome para ${l.nome}`);
    const salvar = botao("Salvar", async () => {
      try {
        await api(`/admin/lojas/${l.id}`, { method: "PATCH", ...json({ nome: campo.value }) });
        avisar(`A loja “${l.nome}” agora se chama “${campo.value.trim()}”.`);
        await mudou();
      } catch (err) { falhar(err); }
    });
    salvar.dataset.action = "salvar-loja";
    campo.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); salvar.click(); } });
    acoes.replaceChildren(campo, " ", salvar, " ", botao("Cancelar", () => listar(cliente).catch(falhar)));
    campo.focus();
    campo.select();
  }

  // a <select> of the stores: `vazio` first (no store), the current one chosen
  function escolha(vazio, atual, rotulo) {
    const select = el("select");
    if (rotulo) select.setAttribute("aria-label", rotulo);
    const primeira = el("option", vazio); primeira.value = "";
    select.append(primeira);
    for (const l of atuais) {
      const opt = el("option", l.nome); opt.value = l.id;
      if (l.id === atual) opt.selected = true;
      select.append(opt);
    }
    return select;
  }

  function ligar(cliente, aviso, falha, depois) {
    avisar = aviso; falhar = falha; mudou = depois;
    $("nova-loja").addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = event.target;
      try {
        const body = await api(`/admin/clientes/${cliente()}/lojas`, { method: "POST", ...json({ nome: f.nome.value }) });
        avisar(`Loja “${body.nome}” criada: um balcão vinculado com o código dela fica nela; os já vinculados, escolha-a na coluna Loja dos balcões.`);
        f.reset();
        await mudou();
      } catch (err) { falhar(err); }
    });
  }

  return { listar, ligar, minha, escolha, nome, preencher, get atuais() { return atuais; } };
})();
