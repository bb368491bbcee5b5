// Cadastro: clientes (create, rotate the linking code), and for the chosen cliente its data
// (dados_cliente.js), stores (lojas.js), balcões (rename, revoke, place in a store, search),
// attendants (add with consent, rename, remove, their voice: voz.js), catalog (upload with row
// errors, list, search, CSV), products out of stock (em_falta.js), webhooks (webhooks.js) and the
// cliente's own accounts (gestores.js).
// An attendant works in one store or for the whole chain. A store's gestor gets its store's
// linking code (lojas.js), balcões and attendants only: every other panel here changes the whole
// chain, and its routes would refuse it.
"use strict";
(() => {
  const { el, api, dataHora, linha, botao } = Balto;
  const $ = (id) => document.getElementById(id);
  const daLoja = Boolean(Balto.minhaLoja);
  // a gestor's page is its own cliente's, whatever the address says
  let cliente = Balto.meuCliente || new URLSearchParams(location.search).get("cliente_id") || "";

  function resultado(texto) {
    const r = $("resultado");
    r.textContent = texto;
    r.hidden = !texto;
    if (texto) Balto.erro("");  // a success replaces whatever failed before
  }
  const falha = (err) => {
    resultado("");  // an older success beside the new failure would read as this one's outcome
    Balto.erro(err.message);
    document.getElementById("erro").scrollIntoView({ block: "nearest" });  // it is at the top
  };

  async function clientes() {
    const { itens } = await Balto.todos("/admin/clientes");
    const tbody = document.querySelector("#clientes tbody");
    tbody.replaceChildren();
    for (const c of itens) {
      const abrir = el("a", c.razao_social + (c.suspenso_em ? " (suspenso)" : "")); abrir.href = "?cliente_id=" + c.id;
      abrir.addEventListener("click", (e) => { e.preventDefault(); escolher(c.id, c.razao_social); });
      const codigo = el("code", c.codigo, "codigo");
      const tela = el("a", "tela do balcão", "tela-balcao");
      tela.href = "/balcao?codigo=" + encodeURIComponent(c.codigo);
      tela.title = "Abra no navegador do balcão: o código já vem preenchido";
      const girar = botao("Novo código", () => girarCodigo(c, codigo).catch(falha));
      girar.dataset.action = "rotate";
      const vinculo = el("span");
      vinculo.append(codigo, " · ", tela);
      const tr = linha(tbody, [abrir, c.email, vinculo, c.balcoes, girar]);
      tr.dataset.cliente = c.id;
      if (c.id === cliente) $("cliente-nome").textContent = c.razao_social;
    }
  }

  async function girarCodigo(c, codigo) {
    const body = await api(`/admin/clientes/${c.id}/codigo`, { method: "POST" });
    codigo.textContent = body.codigo;
    codigo.parentNode.querySelector(".tela-balcao").href = "/balcao?codigo=" + encodeURIComponent(body.codigo);
    resultado(`Novo código de ${c.razao_social}: ${body.codigo}. O anterior deixou de valer; balcões já vinculados continuam funcionando.`);
  }

  function escolher(id, nome) {
    cliente = id;
    BaltoVoz.fechar();
    history.replaceState(null, "", "?cliente_id=" + id);
    $("cliente-nome").textContent = nome;
    doCliente().catch(falha);
  }

  // `lojas`: the chain's stores; with any, each row gets a select that places the balcão in one
  async function balcoes(lojas) {
    const { itens } = await Balto.todos("/admin/balcoes?cliente_id=" + cliente);
    const tbody = document.querySelector("#balcoes tbody");
    tbody.replaceChildren();
    const comLoja = lojas.length > 0;
    $("balcoes-loja").hidden = !comLoja;
    for (const b of itens) {
      const situacao = b.revoked_at ? "revogada em " + dataHora(b.revoked_at)
        : b.cliente_suspenso ? "suspensa (acesso da rede)" : b.live_session_id ? "ao vivo" : "ativa";
      // asked once more: the counter stops at once and must be linked anew
      const revogar = b.revoked_at ? "" : Balto.botaoConfirmado("Revogar chave", "Sim, revogar", async () => {
        try {
          await api(`/admin/balcoes/${b.id}/revoke`, { method: "POST" });
          resultado(`Chave de ${b.nome_balcao} revogada: o balcão precisa de um novo cadastro.`);
          await balcoes(BaltoLojas.atuais);
        } catch (err) { falha(err); }
      }, "perigo");
      const nome = el("span", b.nome_balcao);
      const renomear = botao("Renomear", () => renomearBalcao(b, nome));
      renomear.dataset.action = "renomear-balcao";
      const acoes = el("span");
      acoes.append(renomear, " ", revogar);
      const conexao = Balto.ultimaConexao(b);
      const celulas = [nome, b.api_key_hint + "…", dataHora(b.created_at), situacao, conexao, acoes];
      if (comLoja) celulas.splice(1, 0, lugar(b));
      const tr = linha(tbody, celulas);
      tr.dataset.balcao = b.id;
      tr.dataset.texto = Balto.dobrar([b.nome_balcao, b.loja || "", situacao, conexao].join(" ").normalize("NFC"));
    }
    if (!itens.length) linha(tbody, [daLoja ? "Nenhum balcão nesta loja." : "Nenhum balcão vinculado."]);
    $("balcoes-busca-bloco").hidden = itens.length <= BUSCA_A_PARTIR;
    filtrarBalcoes();
  }

  // a chain of many balcões finds one by pieces of its name, store, state ("ao vivo") or last
  // connection ("nunca conectou", "há 3 dias")
  const BUSCA_A_PARTIR = 10;
  function filtrarBalcoes() {
    const palavras = Balto.dobrar($("balcoes-busca").value.normalize("NFC")).split(/\s+/).filter(Boolean);
    const linhas = [...document.querySelectorAll("#balcoes tbody tr[data-balcao]")];
    let vistas = 0;
    for (const tr of linhas) {
      tr.hidden = !palavras.every((w) => tr.dataset.texto.includes(w));
      if (!tr.hidden) vistas += 1;
    }
    const n = (x) => x.toLocaleString("pt-BR");
    $("balcoes-contagem").textContent = palavras.length ? `${n(vistas)} de ${n(linhas.length)} balcões` : "";
  }
  $("balcoes-busca").addEventListener("input", filtrarBalcoes);

  // a new name typed where the old one stood (`celula`); `salvar(nome)` saves it and redraws,
  // `redesenhar` puts the row back as it was (Cancelar, Escape)
  function renomearNaLinha(celula, atual, max, salvar, redesenhar, acao) {
    const campo = el("input"); campo.value = atual; campo.maxLength = max; campo.required = true;
    campo.setAttribute("aria-label", `Novo nome para ${atual}`);
    const ok = botao("Salvar", async () => { try { await salvar(campo.value); } catch (err) { falha(err); } });
    ok.dataset.action = acao;
    campo.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); ok.click(); }
      if (e.key === "Escape") redesenhar().catch(falha);
    });
    celula.replaceChildren(campo, " ", ok, " ", botao("Cancelar", () => redesenhar().catch(falha)));
    campo.focus();
    campo.select();
  }

  // a counter names itself ("Balcão 1") when it links; the chain gives it the name its people
  // use, shown from then on in every page and report
  function renomearBalcao(b, celula) {
    const redesenhar = () => balcoes(BaltoLojas.atuais);
    renomearNaLinha(celula, b.nome_balcao, 120, async (nome) => {
      const body = await api(`/admin/balcoes/${b.id}`, { method: "PATCH", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ nome_balcao: nome }) });
      resultado(`O balcão “${b.nome_balcao}” agora se chama “${body.nome_balcao}”.`);
      await redesenhar();
    }, redesenhar, "salvar-balcao");
  }

  // a typo in an attendant's name, corrected: her voice and consent stay
  function renomearAtendente(a, celula) {
    renomearNaLinha(celula, a.nome, 80, async (nome) => {
      const body = await api(`/admin/atendentes/${a.id}`, { method: "PATCH", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ nome }) });
      resultado(`“${a.nome}” agora se chama “${body.nome}”; a voz cadastrada continua valendo.`);
      await atendentes();
    }, atendentes, "salvar-atendente");
  }

  // which store the balcão stands in, changed on the spot (its past conversations move with it)
  function lugar(b) {
    const select = BaltoLojas.escolha("— sem loja —", b.loja_id || "", `Loja de ${b.nome_balcao}`);
    select.dataset.action = "loja";
    select.addEventListener("change", async () => {
      const lojaId = select.value || null;
      try {
        await api(`/admin/balcoes/${b.id}/loja`, { method: "PUT", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ loja_id: lojaId }) });
        b.loja_id = lojaId;
        await BaltoLojas.listar(cliente);  // the stores' balcão counts, before the message says done
        resultado(lojaId ? `${b.nome_balcao} passou para a loja “${BaltoLojas.nome(lojaId)}”; suas conversas passadas vão junto.`
          : `${b.nome_balcao} agora é da rede como um todo, sem loja.`);
      } catch (err) {
        select.value = b.loja_id || "";  // the row shows what is really saved
        falha(err);
      }
    });
    return select;
  }

  // which store the attendant works in, changed on the spot (her voice goes with her: from then
  // on she is named at that store's balcões, and at the chain's balcões of no store)
  function ondeTrabalha(a) {
    const select = BaltoLojas.escolha("Toda a rede", a.loja_id || "", `Loja de ${a.nome}`);
    select.dataset.action = "loja-atendente";
    select.addEventListener("change", async () => {
      const lojaId = select.value || null;
      try {
        await api(`/admin/atendentes/${a.id}/loja`, { method: "PUT", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ loja_id: lojaId }) });
        a.loja_id = lojaId;
        resultado(lojaId ? `${a.nome} passou para a loja “${BaltoLojas.nome(lojaId)}”; sua voz vai junto.`
          : `${a.nome} agora atende em toda a rede.`);
      } catch (err) {
        select.value = a.loja_id || "";  // the row shows what is really saved
        falha(err);
      }
    });
    return select;
  }

  // the stores are known by now (lojasEBalcoes); a store's gestor has one, so none is named
  async function atendentes() {
    const lojas = daLoja ? [] : BaltoLojas.atuais;
    const comLoja = lojas.length > 0;
    const body = await api("/admin/atendentes?cliente_id=" + cliente);
    BaltoLojas.preencher($("novo-atendente").elements.loja_id, lojas);
    $("atendentes-loja").hidden = !comLoja;  // the header changes with its rows
    const tbody = document.querySelector("#atendentes tbody");
    tbody.replaceChildren();
    for (const a of body.items) {
      // asked once more: the attendant's voiceprint is erased with her
      const remover = Balto.botaoConfirmado("Remover", "Sim, remover", async () => {
        try {
          await api(`/admin/atendentes/${a.id}`, { method: "DELETE" });
          resultado(`${a.nome} removido(a), e sua voz apagada.`);
          BaltoVoz.fechar();
          await atendentes();
        } catch (err) { falha(err); }
      }, "perigo");
      remover.dataset.action = "remover-atendente";
      const voz = botao(a.voz ? "Voz…" : "Cadastrar voz", () => BaltoVoz.abrir(a, atendentes));
      voz.dataset.action = "voz";
      const nome = el("span", a.nome);
      const renomear = botao("Renomear", () => renomearAtendente(a, nome));
      renomear.dataset.action = "renomear-atendente";
      const celulas = [nome, dataHora(a.consentimento_at), BaltoVoz.situacao(a.voz), el("span", "", "linha-acoes")];
      if (comLoja) celulas.splice(1, 0, ondeTrabalha(a));
      const tr = linha(tbody, celulas);
      tr.lastChild.firstChild.append(renomear, " ", voz, " ", remover);
      tr.dataset.atendente = a.id;
    }
    if (!body.items.length) linha(tbody, [daLoja ? "Nenhum atendente nesta loja." : "Nenhum atendente cadastrado."]);
  }


  async function catalogo() {
    const body = await api(`/admin/clientes/${cliente}/catalogo`);
    $("catalogo-info").textContent = body.padrao
      ? `Este cliente usa o catálogo padrão (${body.produtos.length} produtos).`
      : `Catálogo próprio: ${body.produtos.length} produtos, enviado em ${dataHora(body.versao)} (${body.origem || "sem nome"}).`;
    $("catalogo-baixar").href = `/admin/clientes/${cliente}/catalogo?formato=csv`;
    BaltoEmFalta.nomes(body.produtos.filter((p) => p.tarja === "isento").map((p) => p.nome));
    // what rules each product out (README, Advice: Contraindications); findable like the rest
    produtos = body.produtos.map((p) => ({ p, texto: Balto.dobrar([p.nome, p.categoria, ...p.indicacoes, p.tarja, ...(p.contraindicacoes || [])].join(" ").normalize("NFC")) }));
    mostrarCatalogo();
  }

  // a catalog holds up to 5,000 products: the first MOSTRADOS of those matching what is typed
  // (every word, anywhere, any case and accents: "dipi" finds Dipirona)
  const MOSTRADOS = 200;
  let produtos = [];
  function mostrarCatalogo() {
    const palavras = Balto.dobrar($("catalogo-busca").value.normalize("NFC")).split(/\s+/).filter(Boolean);
    const achados = produtos.filter(({ texto }) => palavras.every((w) => texto.includes(w)));
    const tbody = document.querySelector("#catalogo tbody");
    tbody.replaceChildren();
    for (const { p } of achados.slice(0, MOSTRADOS)) linha(tbody, [p.nome, p.categoria, p.indicacoes.join("; "), p.tarja, (p.contraindicacoes || []).join("; ")]);
    if (!achados.length && produtos.length) linha(tbody, ["Nenhum produto com essas palavras."]);
    const n = (x) => x.toLocaleString("pt-BR");
    const contagem = palavras.length ? `${n(achados.length)} de ${n(produtos.length)} produtos` : "";
    const cortados = achados.length > MOSTRADOS ? `mostrando os primeiros ${MOSTRADOS}; busque para achar outros` : "";
    $("catalogo-contagem").textContent = [contagem, cortados].filter(Boolean).join(" · ");
  }
  $("catalogo-busca").addEventListener("input", mostrarCatalogo);

  // the stores first: the balcões', attendants', gestores' and keys' rows name them
  async function lojasEBalcoes() {
    const lojas = await BaltoLojas.listar(cliente);
    await Promise.all([balcoes(lojas), atendentes(), BaltoGestores.listar(cliente, lojas), BaltoChaves.listar(cliente, lojas),
      BaltoEmFalta.listar()]);
  }

  async function doCliente() {
    const bloco = $("do-cliente");
    bloco.hidden = true;
    if (!cliente) return;
    if (daLoja) {
      const nomes = api(`/admin/clientes/${cliente}/catalogo`)
        .then((c) => BaltoEmFalta.nomes(c.produtos.filter((p) => p.tarja === "isento").map((p) => p.nome)));
      await Promise.all([BaltoLojas.minha(cliente, resultado, falha), balcoes([]), atendentes(),
        BaltoEmFalta.listar(), nomes])
        .finally(() => { bloco.hidden = false; });
      return;
    }
    // shown once every section is drawn: a table filling in above another would move its
    // buttons under the pointer (a click meant for one attendant's row landing on another's)
    // a correction renames the chain; a suspension or its end changes every balcão's state too
    const corrigido = async (c) => {
      $("cliente-nome").textContent = c.razao_social;
      await Promise.all([clientes(), balcoes(BaltoLojas.atuais)]);
    };
    await Promise.all([lojasEBalcoes(), catalogo(), BaltoWebhooks.listar(cliente),
      BaltoDadosCliente.carregar(cliente, resultado, falha, corrigido)])
      .finally(() => { bloco.hidden = false; });
  }

  $("novo-cliente").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target;
    try {
      const body = await api("/cadastro/cliente", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ razao_social: f.razao_social.value, email: f.email.value, telefone: f.telefone.value }) });
      resultado(`Cliente cadastrado. Código de vínculo: ${body.codigo}`);
      f.reset();
      await clientes();
    } catch (err) { falha(err); }
  });

  $("novo-atendente").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target;
    const corpo = { cliente_id: cliente, nome: f.nome.value, consentimento: f.consentimento.checked };
    // a store's gestor's attendants are its store's (the server's default for it)
    if (!daLoja) corpo.loja_id = f.loja_id.value || null;
    try {
      await api("/admin/atendentes", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(corpo) });
      const onde = corpo.loja_id ? `, na loja “${BaltoLojas.nome(corpo.loja_id)}”` : "";
      resultado(`${f.nome.value} adicionado(a)${onde}.`);
      f.reset();
      await atendentes();
    } catch (err) { falha(err); }
  });

  $("catalogo-envio").addEventListener("submit", async (event) => {
    event.preventDefault();
    const arquivo = $("catalogo-arquivo").files[0];
    const erros = $("catalogo-erros");
    erros.replaceChildren(); erros.hidden = true;
    if (!arquivo) return;
    if (arquivo.size > 2 * 1024 * 1024) {  // the server's cap (413): say so before sending
      Balto.erro("Arquivo grande demais: o catálogo pode ter no máximo 2 MiB.");
      return;
    }
    const json = arquivo.name.toLowerCase().endsWith(".json") || arquivo.type === "application/json";
    try {
      const body = await api(`/admin/clientes/${cliente}/catalogo?nome=${encodeURIComponent(arquivo.name)}`, {
        method: "PUT", headers: { "Content-Type": json ? "application/json" : "text/csv" }, body: await arquivo.text() });
      resultado(`Catálogo salvo: ${body.produtos} produtos. As sessões deste cliente passam a usá-lo na próxima fala.`);
      await catalogo();
    } catch (err) {
      resultado("");
      // next to the form, where the admin is looking: the message, then every row at fault
      erros.append(el("li", err.message, "titulo"));
      for (const e of (err.body && err.body.erros) || []) {
        erros.append(el("li", `${e.linha ? "linha " + e.linha : "arquivo"}${e.campo ? " (" + e.campo + ")" : ""}: ${e.mensagem}`));
      }
      erros.hidden = !erros.children.length;
    }
  });

  BaltoVoz.ligar();
  BaltoEmFalta.ligar(() => cliente, resultado, falha);
  if (daLoja) {
    // its own store's code, balcões, attendants and account: nothing of the chain's to list or change
    $("clientes-bloco").hidden = true;
    $("rede-vinculo").hidden = true;
    $("rede-bloco").hidden = true;
    $("cliente-rotulo").textContent = "Sua loja";
    $("cliente-nome").textContent = document.body.dataset.lojaNome || "";
    doCliente().catch(falha);
    return;
  }
  BaltoChaves.ligar(() => cliente, resultado, falha);
  BaltoWebhooks.ligar(() => cliente, resultado, falha);
  BaltoLojas.ligar(() => cliente, resultado, falha, () => lojasEBalcoes().catch(falha));
  if (Balto.gestor) $("novo-cliente-bloco").hidden = true;  // new clientes are the operator's
  BaltoGestores.ligar(() => cliente, resultado, falha);  // a chain's gestores manage colleagues
  clientes().then(() => doCliente()).catch(falha);
})();
