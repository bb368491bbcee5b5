// Cadastro, the chosen cliente's own registration data (razão social, e-mail, telefone), shown
// and corrected in place (PATCH /admin/clientes/{id}). The operator and the chain's gestores use
// it; a store's gestor never sees it (the route would refuse it).
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
  }

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
