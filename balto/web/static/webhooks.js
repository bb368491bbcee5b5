// Cadastro, a chain's webhooks (balto/web/admin_webhooks.py): list them with how their deliveries
// fare, add one (its signing secret is shown once, here), send a test event, read the last
// deliveries and send a finished one again, remove one (asked twice). The operator and the
// chain's gestores use it; a store's gestor never sees it (the routes would refuse it).
"use strict";
const BaltoWebhooks = (() => {
  const { el, api, dataHora, linha, botao } = Balto;
  const $ = (id) => document.getElementById(id);
  const json = (body) => ({ headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const EVENTOS = { alerta: "Alertas de encaminhamento", recomendacao: "Sugestões de produto", retorno: "Retornos do atendente", orientacao: "Orientações dadas", em_falta: "Produtos em falta", retirada: "Sugestões retiradas", teste: "Teste" };
  const EVENTO = { alerta: "Alerta de encaminhamento", recomendacao: "Sugestão de produto", retorno: "Retorno do atendente", orientacao: "Orientação dada", em_falta: "Produto em falta", retirada: "Sugestão retirada", teste: "Teste" };
  const CAMPOS = ["url", "descricao", "eventos"];
  // a due delivery goes out within about a second: the page looks again this often, this many
  // times, while any is pending (a receiver that keeps failing is retried for hours: not watched)
  const ESPERA_MS = 1000;
  const VOLTAS = 20;
  const form = $("novo-webhook");
  let cliente = () => "";
  let avisar = () => {};
  let falhar = () => {};
  let mostrado = "";  // the cliente whose webhooks are drawn
  let desenhado = "";  // the list as last drawn: the same list is not drawn again, so a poll
  // does not put back a "Remover" armed to "Sim, remover" under the pointer
  let aberto = null;  // {id, url} of the webhook whose deliveries are shown
  let entregasDesenhadas = "";
  let seguindo = 0;  // a newer poll ends the older one

  async function listar(id) {
    if (id !== mostrado) {  // another chain: nothing of the previous one stays on screen
      mostrado = id;
      desenhado = "";
      $("webhook-segredo").hidden = true;
      fecharEntregas();
      limparErros();
    }
    const body = await api(`/admin/clientes/${id}/webhooks`);
    if (id !== mostrado) return body.items;  // another cliente was chosen meanwhile
    const marca = JSON.stringify(body.items);
    if (marca === desenhado) return body.items;
    desenhado = marca;
    const tbody = document.querySelector("#webhooks tbody");
    // a poll redraws the rows when a delivery moves on: a "Remover" armed to "Sim, remover" stays
    // armed, and the button that had the focus keeps it (else the second click only arms again)
    const chave = (b) => `${b.closest("tr").dataset.webhook}|${b.dataset.action}`;
    const armados = new Set([...tbody.querySelectorAll('button[data-confirmar="1"]')].map(chave));
    const focado = tbody.contains(document.activeElement) && document.activeElement.dataset.action
      ? chave(document.activeElement) : null;
    tbody.replaceChildren();
    for (const w of body.items) {
      const onde = el("span");
      onde.append(el("span", w.url));
      if (w.descricao) onde.append(el("br"), el("small", w.descricao));
      const eventos = w.eventos.map((e) => EVENTOS[e] || e).join("; ");
      const acoes = el("span", "", "linha-acoes quebra");
      acoes.append(testar(w), " ", verEntregas(w), " ", novoSegredo(w), " ", remover(w));
      const tr = linha(tbody, [onde, eventos, situacao(w), acoes]);
      tr.dataset.webhook = w.id;
    }
    if (!body.items.length) linha(tbody, ["Nenhum webhook: o sistema da rede não recebe nada na hora."]);
    for (const b of tbody.querySelectorAll("button[data-action]")) {
      if (armados.has(chave(b))) Balto.armar(b);
      if (focado === chave(b)) b.focus();
    }
    return body.items;
  }

  // what is waiting, what went out and what was given up in the last day, and the last answer
  function situacao(w) {
    const celula = el("span", "", "situacao-webhook");
    celula.append(`Pendentes: ${w.pendentes} · entregues (24 h): ${w.entregues_24h} · desistidas (24 h): ${w.desistidas_24h}`, el("br"));
    if (!w.ultima_em) {
      celula.append(el("small", "Nenhum envio ainda."));
    } else {
      const resposta = w.ultimo_erro || `HTTP ${w.ultimo_status}`;
      celula.append(el("small", `Última resposta: ${dataHora(w.ultima_em)}, ${resposta}`, w.ultimo_erro ? "erro" : ""));
    }
    if (w.segredo_anterior_ate) {
      celula.append(el("br"), el("small", `Segredo anterior ainda assina até ${dataHora(w.segredo_anterior_ate)}.`));
    }
    return celula;
  }

  // a secret shown once: just made, or a new one (the old one then signs too until `ate`)
  function mostrarSegredo(id, url, segredo, ate) {
    $("webhook-segredo-url").textContent = url;
    $("webhook-segredo-valor").textContent = segredo;
    const anterior = $("webhook-segredo-anterior");
    anterior.textContent = ate ? `O segredo anterior continua assinando os envios até ${dataHora(ate)}.` : "";
    anterior.hidden = !ate;
    $("webhook-segredo").dataset.webhook = id;
    $("webhook-segredo").hidden = false;
  }

  function novoSegredo(w) {
    const b = Balto.botaoConfirmado("Novo segredo", "Sim, trocar o segredo", async () => {
      try {
        const body = await api(`/admin/webhooks/${w.id}/segredo`, { method: "POST" });
        mostrarSegredo(w.id, w.url, body.segredo, body.segredo_anterior_ate);
        avisar(`Novo segredo para ${w.url}. Copie-o abaixo: ele não será mostrado de novo.`);
        await listar(cliente());
      } catch (err) { falhar(err); }
    });
    b.dataset.action = "novo-segredo";
    return b;
  }

  function testar(w) {
    const b = botao("Testar", async () => {
      try {
        await api(`/admin/webhooks/${w.id}/teste`, { method: "POST" });
        avisar(`Evento de teste a caminho de ${w.url}: a entrega aparece em Situação em instantes.`);
        await acompanhar();
      } catch (err) { falhar(err); }
    });
    b.dataset.action = "testar-webhook";
    return b;
  }

  function verEntregas(w) {
    const b = botao("Entregas", async () => {
      if (aberto && aberto.id === w.id) { fecharEntregas(); return; }
      aberto = { id: w.id, url: w.url };
      entregasDesenhadas = "";
      try {
        await entregas();
        $("webhook-entregas").hidden = false;
        marcarAberto();
        $("webhook-entregas").scrollIntoView({ block: "nearest" });
      } catch (err) { fecharEntregas(); falhar(err); }
    });
    b.dataset.action = "entregas-webhook";
    b.setAttribute("aria-controls", "webhook-entregas");
    b.setAttribute("aria-expanded", String(Boolean(aberto && aberto.id === w.id)));
    return b;
  }

  function marcarAberto() {
    for (const b of document.querySelectorAll('#webhooks [data-action="entregas-webhook"]')) {
      b.setAttribute("aria-expanded", String(Boolean(aberto) && b.closest("tr").dataset.webhook === aberto.id));
    }
  }

  function fecharEntregas() {
    aberto = null;
    entregasDesenhadas = "";
    $("webhook-entregas").hidden = true;
    document.querySelector("#entregas tbody").replaceChildren();
    marcarAberto();
  }

  // the open webhook's last 20 deliveries, newest first
  async function entregas() {
    if (!aberto) return;
    const hook = aberto;
    const body = await api(`/admin/webhooks/${hook.id}/entregas?limit=20`);
    if (aberto !== hook) return;  // closed, or another opened, meanwhile
    const marca = JSON.stringify(body.items);
    if (marca === entregasDesenhadas) return;
    entregasDesenhadas = marca;
    $("webhook-entregas-url").textContent = hook.url;
    const tbody = document.querySelector("#entregas tbody");
    tbody.replaceChildren();
    for (const e of body.items) {
      const acabou = e.entregue_em || e.desistida_em;
      const tr = linha(tbody, [EVENTO[e.evento] || e.evento, dataHora(e.created_at), e.tentativas,
        estado(e), acabou ? reenviar(hook, e) : ""]);
      tr.dataset.entrega = e.id;
    }
    if (!body.items.length) linha(tbody, ["Nenhuma entrega ainda."]);
  }

  function estado(e) {
    if (e.entregue_em) return `entregue em ${dataHora(e.entregue_em)} (HTTP ${e.ultimo_status})`;
    if (e.desistida_em) return el("span", `desistida em ${dataHora(e.desistida_em)}: ${e.ultimo_erro || "sem resposta"}`, "erro");
    if (e.em_envio) return "enviando agora" + (e.ultimo_erro ? ` (a anterior: ${e.ultimo_erro})` : "");
    const quando = !e.proxima_em || new Date(e.proxima_em) <= new Date() ? "em instantes" : dataHora(e.proxima_em);
    return `pendente, próxima tentativa ${quando}` + (e.ultimo_erro ? ` (a anterior: ${e.ultimo_erro})` : "");
  }

  function reenviar(hook, e) {
    const b = botao("Reenviar", async () => {
      try {
        await api(`/admin/webhooks/${hook.id}/entregas/${e.id}/reenviar`, { method: "POST" });
        avisar(`Entrega reenviada para ${hook.url}: sai em instantes, com as tentativas contadas de novo.`);
        await acompanhar();
      } catch (err) {
        falhar(err);
        await entregas().catch(() => {});  // pending again by now: the row says so
      }
    });
    b.dataset.action = "reenviar-entrega";
    return b;
  }

  function remover(w) {
    // asked once more: nothing more is sent to it, pending deliveries included
    const b = Balto.botaoConfirmado("Remover", "Sim, remover", async () => {
      try {
        await api(`/admin/webhooks/${w.id}`, { method: "DELETE" });
        if (aberto && aberto.id === w.id) fecharEntregas();
        if ($("webhook-segredo").dataset.webhook === w.id) $("webhook-segredo").hidden = true;
        avisar(`Webhook ${w.url} removido: nada mais é enviado para ele.`);
        await listar(cliente());
      } catch (err) { falhar(err); }
    }, "perigo");
    b.dataset.action = "remover-webhook";
    return b;
  }

  // the list (and the open deliveries) drawn now, then again while something is on its way
  async function acompanhar() {
    const vez = ++seguindo;
    const id = cliente();
    for (let i = 0; i <= VOLTAS; i++) {
      if (i) await new Promise((done) => setTimeout(done, ESPERA_MS));
      if (vez !== seguindo || id !== mostrado) return;
      const itens = await listar(id);
      await entregas();
      if (!itens.some((w) => w.pendentes)) return;
    }
  }

  function limparErros() {
    for (const campo of CAMPOS) {
      $(`webhook-erro-${campo}`).hidden = true;
      $(`webhook-erro-${campo}`).textContent = "";
    }
    for (const f of form.querySelectorAll("[aria-invalid]")) f.removeAttribute("aria-invalid");
  }

  // a field the server names gets its message beside it, and the cursor; false for other errors
  function erroNoCampo(err) {
    const campo = err.body && err.body.field;
    if (!CAMPOS.includes(campo)) return false;
    const caixa = $(`webhook-erro-${campo}`);
    caixa.textContent = err.message;
    caixa.hidden = false;
    const onde = campo === "eventos" ? [...form.querySelectorAll("[name=eventos]")] : [form.elements[campo]];
    for (const f of onde) f.setAttribute("aria-invalid", "true");
    onde[0].focus();
    return true;
  }

  function ligar(escolhido, aviso, falha) {
    cliente = escolhido; avisar = aviso; falhar = falha;
    $("webhook-entregas-fechar").addEventListener("click", fecharEntregas);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      limparErros();
      const eventos = [...form.querySelectorAll("[name=eventos]:checked")].map((c) => c.value);
      if (!eventos.length) {  // said in the page's words (the server's are the API's)
        erroNoCampo({ message: "Escolha ao menos um evento para enviar.", body: { field: "eventos" } });
        avisar(""); Balto.erro("");
        return;
      }
      const corpo = { url: form.elements.url.value.trim(), eventos, descricao: form.elements.descricao.value.trim() || null };
      try {
        const body = await api(`/admin/clientes/${cliente()}/webhooks`, { method: "POST", ...json(corpo) });
        mostrarSegredo(body.id, body.url, body.segredo, null);
        form.reset();
        avisar(`Webhook ${body.url} adicionado. Copie o segredo abaixo: ele não será mostrado de novo.`);
        await listar(cliente());
      } catch (err) {
        if (!erroNoCampo(err)) { falhar(err); return; }
        avisar("");
        Balto.erro("");  // the message is beside the field: nothing older stays at the top
      }
    });
  }

  return { listar, ligar };
})();
