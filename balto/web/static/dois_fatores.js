// Cadastro, Sua conta: a gestor's own two-step verification (TOTP). Off: the current password
// starts it (the server answers a secret, its otpauth URI and a QR code of it), a code from the
// authenticator app confirms it, and the ten recovery codes are shown once, here. On: the
// password and a code (from the app, or a recovery code) turn it off. The operator's page has no
// Sua conta (its secret is the server's configuration), so no panel either.
"use strict";
(() => {
  const { el, api } = Balto;
  const $ = (id) => document.getElementById(id);
  const json = (body) => ({ headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const PARTES = ["df-ativar", "df-configurar", "df-recuperacao", "df-desativar"];
  if (!$("dois-fatores")) return;

  // the state line, and the one step of the panel that goes with it
  function mostrar(ativada, parte) {
    $("df-situacao").textContent = ativada ? "Ativada" : "Desativada";
    $("df-situacao").className = ativada ? "situacao ativada" : "situacao";
    for (const p of PARTES) $(p).hidden = p !== parte;
  }

  // one's own row in the chain's gestores list, drawn before the change, says it too
  function minhaLinha(ativada) {
    const tr = document.querySelector(`#gestores tr[data-gestor="${document.body.dataset.gestor}"]`);
    if (tr && tr.cells.length > 5) tr.cells[5].textContent = ativada ? "ativada" : "desativada";
  }

  function aviso(texto) {
    $("df-resultado").textContent = texto;
    $("df-resultado").hidden = !texto;
    $("df-erro").hidden = true;
  }

  // the server's message, next to the form; the field it names gets the cursor
  function falha(err, form) {
    aviso("");
    $("df-erro").textContent = err.message;
    $("df-erro").hidden = false;
    const campo = err.body && err.body.field && form && form.elements[err.body.field];
    if (campo) { campo.focus(); campo.select(); }
  }

  // what the server says now (another tab may have changed it): a 409 redraws from here
  async function carregar() {
    const conta = await api("/admin/conta");
    if (conta.papel !== "gestor") return;
    $("dois-fatores").hidden = false;
    mostrar(Boolean(conta.dois_fatores), conta.dois_fatores ? "df-desativar" : "df-ativar");
  }

  const semEspacos = (texto) => texto.replace(/\s+/g, "");
  // the secret in groups of four, as it is typed into an app by hand
  const emGrupos = (segredo) => segredo.replace(/(.{4})(?=.)/g, "$1 ");

  $("df-ativar").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target;
    try {
      const body = await api("/admin/conta/dois-fatores", { method: "POST", ...json({ senha: f.senha.value }) });
      f.reset();
      aviso("");
      $("df-qr").src = body.qr;
      $("df-segredo").textContent = emGrupos(body.segredo);
      $("df-uri").href = body.uri;
      mostrar(false, "df-configurar");
      $("df-confirmar").codigo.focus();
    } catch (err) {
      falha(err, f);
      if (err.status === 409) await carregar().catch(() => {});
    }
  });

  $("df-confirmar").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target;
    try {
      const body = await api("/admin/conta/dois-fatores/confirmar", {
        method: "POST", ...json({ codigo: semEspacos(f.codigo.value) }) });
      f.reset();
      aviso("");
      $("df-qr").removeAttribute("src");
      $("df-segredo").textContent = "";
      const lista = $("df-codigos");
      lista.replaceChildren(...body.codigos_recuperacao.map((c) => el("li", c)));
      mostrar(true, "df-recuperacao");
      minhaLinha(true);
    } catch (err) {
      falha(err, f);
      if (err.status === 409) await carregar().catch(() => {});  // nothing pending any more
    }
  });

  $("df-cancelar").addEventListener("click", () => {
    $("df-confirmar").reset();
    $("df-qr").removeAttribute("src");
    aviso("");
    mostrar(false, "df-ativar");
  });

  // the codes leave the page once the person says they are kept: they are never shown again
  $("df-guardei").addEventListener("click", () => {
    $("df-codigos").replaceChildren();
    mostrar(true, "df-desativar");
    aviso("Verificação em duas etapas ativada: ao entrar, o Balto pede a senha e um código do aplicativo. As outras sessões desta conta terminaram.");
  });

  $("df-desativar").addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target;
    try {
      await api("/admin/conta/dois-fatores", {
        method: "DELETE", ...json({ senha: f.senha.value, codigo: semEspacos(f.codigo.value) }) });
      f.reset();
      mostrar(false, "df-ativar");
      minhaLinha(false);
      aviso("Verificação em duas etapas desativada: ao entrar, o Balto pede só a senha.");
    } catch (err) {
      falha(err, f);
      if (err.status === 409) await carregar().catch(() => {});
    }
  });

  carregar().catch((err) => falha(err));
})();
