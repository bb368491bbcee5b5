// Cadastro → Produtos em falta (README, Products out of stock): what the advisor must not suggest,
// at one store or at every balcão of the chain. Marked here, by the attendant's "Em falta" on a
// suggestion, or by the chain's stock system; "Voltou ao estoque" lets it be suggested again.
// A store's gestor sees its store's and the chain's marks, and changes its store's only.
"use strict";
const BaltoEmFalta = (() => {
  const { el, api, dataHora, linha, botao } = Balto;
  const $ = (id) => document.getElementById(id);
  const daLoja = Boolean(Balto.minhaLoja);
  let cliente = () => "";
  let avisar = () => {};
  let falhar = () => {};

  // a store's gestor has no store list: its own store's name is on the page
  const nomeLoja = (id) => BaltoLojas.nome(id) || (id === Balto.minhaLoja ? document.body.dataset.lojaNome : "") || "—";
  const onde = (lojaId) => (lojaId ? `na loja “${nomeLoja(lojaId)}”` : "em toda a rede");
  function quem(f) {
    const por = f.por || "";
    if (por === "operador") return "Operador";
    if (por.startsWith("gestor:")) return por.slice(7);
    if (por.startsWith("chave:")) return `sistema da rede (chave “${por.slice(6)}”)`;
    return f.origem === "balcao" ? `atendente, ${por || "no balcão"}` : por;
  }

  // an attendant's mark runs out by itself (shelves are restocked and nobody tells the counter)
  const quando = (f) => dataHora(f.desde) + (f.ate ? ` (vale até ${dataHora(f.ate)})` : "");

  async function listar() {
    const body = await api(`/admin/clientes/${cliente()}/em-falta`);
    const tbody = document.querySelector("#em-falta tbody");
    tbody.replaceChildren();
    for (const f of body.items) {
      const produto = f.no_catalogo ? f.produto : `${f.produto} (não está mais no catálogo)`;
      // a store's gestor cannot put back what is missing in the whole chain
      const voltou = daLoja && !f.loja_id ? "" : botao("Voltou ao estoque", () => repor(f).catch(falhar));
      const tr = linha(tbody, [produto, f.loja_id ? nomeLoja(f.loja_id) : "Toda a rede", quando(f), quem(f), voltou]);
      tr.dataset.produto = f.produto;
    }
    if (!body.items.length) linha(tbody, ["Nenhum produto em falta: o Balto pode sugerir todo o catálogo."]);
    lojas();
  }

  async function repor(f) {
    const params = new URLSearchParams({ produto: f.produto });
    if (f.loja_id) params.set("loja_id", f.loja_id);
    await api(`/admin/clientes/${cliente()}/em-falta?${params}`, { method: "DELETE" });
    avisar(`“${f.produto}” voltou ao estoque ${onde(f.loja_id)}: o Balto pode sugeri-lo de novo lá.`);
    await listar();
  }

  // the stores to choose from (the chain's gestor); a store's gestor marks its own store
  function lojas() {
    const select = $("em-falta-form").loja_id;
    const atual = select.value;
    select.replaceChildren(Object.assign(el("option", "Toda a rede"), { value: "" }));
    for (const l of BaltoLojas.atuais) select.append(Object.assign(el("option", l.nome), { value: l.id, selected: l.id === atual }));
    $("em-falta-onde").hidden = daLoja || !BaltoLojas.atuais.length;
  }

  // the catalog's names, offered as the product is typed (any spelling is matched by the server)
  function nomes(lista) {
    const datalist = $("em-falta-produtos");
    datalist.replaceChildren(...lista.map((nome) => Object.assign(el("option"), { value: nome })));
  }

  function ligar(qual, aviso, falha) {
    cliente = qual; avisar = aviso; falhar = falha;
    $("em-falta-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = event.target;
      const corpo = { produto: f.produto.value };
      if (!daLoja) corpo.loja_id = f.loja_id.value || null;
      try {
        const body = await api(`/admin/clientes/${cliente()}/em-falta`, { method: "POST",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify(corpo) });
        avisar(`“${body.produto}” marcado em falta ${onde(body.loja_id)}: o Balto não o sugere lá a partir da próxima fala.`);
        f.produto.value = "";
        await listar();
      } catch (err) { falhar(err); }
    });
  }

  return { listar, ligar, nomes };
})();
