// Ao vivo: red-flag alerts of live sessions that no admin has acknowledged yet, in a banner above
// the cards (and in the tab's title, so a pharmacist with the page in another tab sees it), each
// with "Ciente": POST /admin/alertas/{id}/ciente, shared by every admin and instance. Once the
// person allows it, each new alert is also a desktop notification (the browser's Notification,
// which needs HTTPS or localhost), for whoever is looking at another window.
"use strict";
const BaltoAlertas = (() => {
  const { el, api, hora, botao } = Balto;
  const titulo = document.title;
  const enviados = new Set();  // acknowledged here, until a poll brings their ciente_em
  let ultimo = [];  // the sessions of the last poll, to redraw at once after an acknowledgement
  const avisados = new Set();  // alerts notified, or already there at the first poll
  let primeira = true;
  const botaoAvisar = document.getElementById("avisar-computador");

  function estadoAvisos() {
    const pode = "Notification" in window;
    botaoAvisar.hidden = !pode || Notification.permission === "granted";
    if (pode && Notification.permission === "denied") {
      botaoAvisar.textContent = "Avisos bloqueados neste navegador";
      botaoAvisar.disabled = true;
    }
  }
  botaoAvisar.addEventListener("click", async () => {
    await Notification.requestPermission();
    estadoAvisos();
  });
  estadoAvisos();

  function avisar(s, ev) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const aviso = new Notification(`Alerta no ${s.nome_balcao || "balcão"}: ${ev.explicacao}`, {
      body: `${s.atendente ? "Atendente " + s.atendente + ". " : ""}${ev.orientacao}`, tag: ev.id, requireInteraction: true,
    });
    aviso.onclick = () => { window.focus(); aviso.close(); };
  }

  async function ciente(id) {
    enviados.add(id);
    atualizar(ultimo);
    try {
      await api(`/admin/alertas/${encodeURIComponent(id)}/ciente`, { method: "POST" });
    } catch (err) {
      enviados.delete(id);
      atualizar(ultimo);
      Balto.erro("Não foi possível marcar o alerta como visto: " + err.message);
    }
  }

  // `sessoes`: the live sessions as /admin/ao-vivo/dados lists them (their recent `eventos`).
  function atualizar(sessoes) {
    ultimo = sessoes;
    const novos = [];
    for (const s of sessoes) {
      const pendentes = s.eventos.filter((ev) => ev.tipo === "alerta" && !ev.ciente_em && !enviados.has(ev.id));
      for (const ev of pendentes) {
        novos.push({ s, ev });
        if (!avisados.has(ev.id)) {
          avisados.add(ev.id);
          if (!primeira) avisar(s, ev);  // those already there were seen with the page
        }
      }
      const card = document.querySelector(`.cartao[data-session="${s.session_id}"]`);
      if (card) card.classList.toggle("com-alerta", pendentes.length > 0);
    }
    const lista = document.getElementById("alertas-novos");
    const chave = novos.map((n) => n.ev.id + (n.ev.orientado_em ? "+" : "")).join(",");
    if (lista.dataset.chave !== chave) {
      lista.dataset.chave = chave;
      lista.replaceChildren(...novos.map(({ s, ev }) => {
        const li = el("li");
        li.dataset.alerta = ev.id;
        li.append(el("strong", `${s.nome_balcao || s.balcao_id}: ${ev.explicacao}`), " ",
          el("span", `às ${hora(ev.em)}${s.atendente ? ", atendente " + s.atendente : ""}. ${ev.orientacao}`), " ",
          ev.orientado_em ? el("span", Balto.orientado(ev) + ".", "selo aceita") : "", " ",
          botao("Ciente", () => ciente(ev.id)));
        return li;
      }));
    }
    primeira = false;
    lista.hidden = novos.length === 0;
    document.title = novos.length ? `(${novos.length}) Alerta — ${titulo}` : titulo;
  }

  return { atualizar };
})();
