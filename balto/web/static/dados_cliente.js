// Cadastro, the chosen cliente's own registration data (razão social, e-mail, telefone), shown
// and corrected in place (PATCH /admin/clientes/{id}). The operator and the chain's gestores use
// it; a store's gestor never sees it (the route would refuse it). The operator also suspends and
// resumes the chain's access here (PUT/DELETE /admin/clientes/{id}/suspensao).
"use strict";
const BaltoDadosCliente = (() => {
  const { api } = Balto;
  const $ = (id) => document.getElementById(id);
  const form = $("dados-cliente");
  let cliente = "";
  let avisar = () => {};
  let falhar = () => {};
  let mudou = async () => {};

  // the form filled with what is saved now; `aoMudar` runs once a correction is saved
  async function carregar(id, ok, erro, aoMudar) {
    cliente = id;
    avisar = ok;
    falhar = erro;
    mudou = aoMudar;
    const body = await api(`/admin/clientes?cliente_id=${encodeURIComponent(id)}&limit=1`);
    const c = body.items[0];
    $("dados-cliente-bloco").hidden = !c;
    if (!c) return;
    form.razao_social.value = c.razao_social;
    form.email.value = c.email;
    form.telefone.value = c.telefone;
    acesso(c);
  }

  // the operator's own: a chain's access suspended (with why) or resumed, nothing deleted
  function acesso(c) {
    $("acesso-bloco").hidden = Balto.gestor;
    const suspenso = Boolean(c.suspenso_em);
    $("acesso-situacao").textContent = suspenso
      ? `Acesso suspenso desde ${Balto.dataHora(c.suspenso_em)}. Motivo: ${c.suspenso_motivo}.`
      : "Acesso ativo.";
    $("acesso-situacao").className = suspenso ? "erro" : "";
    $("suspender").hidden = suspenso;
    $("reativar").hidden = !suspenso;
  }

  async function mudarAcesso(pedido, aviso) {
    try {
      await api(`/admin/clientes/${cliente}/suspensao`, pedido);
      await carregar(cliente, avisar, falhar, mudou);
      avisar(aviso);
      await mudou({ razao_social: form.razao_social.value });
    } catch (err) { falhar(err); }
  }

  $("suspender").addEventListener("submit", async (event) => {
    event.preventDefault();
    const motivo = event.target.motivo.value;
    const botao = event.target.querySelector("button");
    if (botao.dataset.confirmar !== "1") {  // once more before a whole chain stops
      botao.dataset.confirmar = "1";
      botao.textContent = `Sim, suspender ${form.razao_social.value}`;
      return;
    }
    botao.dataset.confirmar = "";
    botao.textContent = "Suspender acesso";
    await mudarAcesso({
      method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ motivo }),
    }, `Acesso de ${form.razao_social.value} suspenso: os balcões foram desconectados.`);
    event.target.reset();
  });

  $("reativar").addEventListener("click", () => mudarAcesso(
    { method: "DELETE" }, `Acesso de ${form.razao_social.value} reativado.`,
  ));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const body = await api(`/admin/clientes/${cliente}`, {
        method: "PATCH", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ razao_social: form.razao_social.value, email: form.email.value, telefone: form.telefone.value }),
      });
      form.razao_social.value = body.razao_social;
      form.email.value = body.email;
      form.telefone.value = body.telefone;
      avisar(`Dados de ${body.razao_social} salvos.`);
      await mudou(body);
    } catch (err) { falhar(err); }
  });

  return { carregar };
})();
