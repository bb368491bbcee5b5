"""The dashboard's HTML (one page, vanilla JS, no build step); served by `balto.web.dashboard`.

Data is rendered with ``textContent`` only (names come from devices and clientes), never as HTML.
"""

PAGE = """<!doctype html>
<html lang="pt-BR">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Balto — painel ao vivo</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 1rem; background: #f6f7f9; color: #222; }
 h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
 #totais { display: flex; gap: 1rem; flex-wrap: wrap; margin-bottom: 1rem; }
 .kpi { background: #fff; border-radius: 6px; padding: .5rem .9rem; box-shadow: 0 1px 2px #0002; }
 .kpi b { display: block; font-size: 1.2rem; }
 /* at phone width the actor table scrolls inside its card, never the page */
 .sessao { overflow-x: auto; }
 .sessao { background: #fff; border-radius: 6px; padding: .6rem; margin-bottom: 1rem;
           box-shadow: 0 1px 2px #0002; }
 .sessao header { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
 table { border-collapse: collapse; width: 100%; margin-top: .4rem; font-size: .9rem; }
 th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #eee; }
 .running { color: #17803d; } .degraded, .restarting, .starting { color: #b7791f; }
 .failed, .stopped { color: #c53030; }
 #erro { color: #c53030; } #login { margin: 2rem 0; }
 .demo { background: #7a3e00; color: #fff; padding: .4rem 1rem; font-weight: 600; }
 button { cursor: pointer; }
</style>
</head>
<body>
<!--DEMO-->
<nav class="nav" aria-label="Navegação">
 <a href="/admin/ao-vivo">Área administrativa</a> · Operação
</nav>
<main>
<h1>Balto — sessões ao vivo</h1>
<form id="login" hidden>
 <label>Segredo de administrador: <input id="segredo" type="password" autocomplete="off"></label>
 <button type="submit">Entrar</button>
</form>
<p id="erro" role="alert"></p>
<section id="totais" aria-label="Totais do dia"></section>
<p id="vazio" hidden>Nenhuma sessão ativa.</p>
<div id="sessoes"></div>
<p><small id="atualizado"></small></p>
</main>
<script>
"use strict";
const ACTOR_COLUMNS = ["ator", "estado", "fila", "descartes", "reinícios", "p50 (ms)",
  "p99 (ms)", "entradas", "saídas", "último erro"];
let secret = sessionStorage.getItem("balto-admin") || "";
if (location.hash.length > 1) {
  secret = decodeURIComponent(location.hash.slice(1));
  sessionStorage.setItem("balto-admin", secret);
  history.replaceState(null, "", location.pathname);
}
const $ = (id) => document.getElementById(id);
// a signed-in browser (session cookie) needs no secret here: requests go without the header
const authHeaders = () => (secret ? { Authorization: "Bearer " + secret } : {});
const ESTADOS = { starting: "iniciando", running: "em execução", degraded: "degradado",
  restarting: "reiniciando", stopped: "parado", failed: "falhou" };

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function ms(seconds) {
  return seconds === null || seconds === undefined ? "—" : (seconds * 1000).toFixed(1);
}

async function api(method, path) {
  const response = await fetch(path, { method, headers: authHeaders() });
  if (response.status === 401) { askSecret("Segredo inválido."); throw new Error("401"); }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.message || response.statusText);
  }
  return response.json();
}

function askSecret(message) {
  sessionStorage.removeItem("balto-admin");
  secret = "";
  $("login").hidden = false;
  $("erro").textContent = message || "";
}

function kpi(label, value) {
  const box = el("div", null, "kpi");
  box.append(el("span", label), el("b", value));
  return box;
}

function renderTotals(t) {
  const rate = t.taxa_aceitacao === null ? "—" : (t.taxa_aceitacao * 100).toFixed(0) + "%";
  $("totais").replaceChildren(
    kpi("Sessões hoje", t.sessoes), kpi("Recomendações", t.recomendacoes),
    kpi("Taxa de aceitação", rate), kpi("Custo (USD)", Number(t.custo_usd).toFixed(4)));
}

function actorRow(a) {
  const tr = el("tr");
  tr.dataset.actor = a.name;
  const queue = a.queue_capacity ? a.queue_depth + "/" + a.queue_capacity : a.queue_depth;
  const estado = ESTADOS[a.state] || a.state;
  for (const [value, cls] of [[a.name], [estado, a.state], [queue], [a.queue_dropped],
      [a.restarts, "restarts"], [ms(a.latency.p50_s)], [ms(a.latency.p99_s)], [a.messages_in],
      [a.messages_out], [a.last_error || ""]]) {
    tr.append(el("td", value, cls));
  }
  return tr;
}

function button(label, action, balcao) {
  const b = el("button", label);
  b.dataset.action = action;
  b.addEventListener("click", async () => {
    if (action === "disconnect" && !confirm("Desconectar este balcão?")) return;
    try { await api("POST", "/admin/sessions/" + balcao + "/" + action); refresh(); }
    catch (e) { $("erro").textContent = "Falha: " + e.message; }
  });
  return b;
}

function renderSession(s) {
  const card = el("section", null, "sessao");
  card.dataset.balcao = s.balcao_id;
  const head = el("header");
  head.append(el("strong", s.nome_balcao), el("span", "sessão " + s.session_id.slice(0, 8)),
    el("span", "áudio " + s.audio_seconds.toFixed(1) + " s"),
    el("span", "atraso " + s.lag_s + " s"),
    el("span", "segmentos " + s.segments), el("span", "recomendações " + s.recommendations),
    el("span", "reinícios " + s.restarts, "session-restarts"),
    button("Reiniciar", "restart", s.balcao_id), button("Desconectar", "disconnect", s.balcao_id));
  const table = el("table");
  const header = el("tr");
  for (const c of ACTOR_COLUMNS) header.append(el("th", c));
  table.append(header, ...s.actors.map(actorRow));
  card.append(head, table);
  return card;
}

function renderSessions(sessions) {
  $("sessoes").replaceChildren(...sessions.map(renderSession));
  $("vazio").hidden = sessions.length > 0;
  $("atualizado").textContent = "Atualizado às " + new Date().toLocaleTimeString("pt-BR");
}

async function refresh() {
  try {
    renderTotals(await api("GET", "/admin/totals"));
    $("login").hidden = true;
  } catch (e) {
    if (e.message !== "401") $("erro").textContent = "Sem conexão com o servidor: " + e.message;
  }
}

// Sessions arrive as server-sent events, one snapshot a second. EventSource cannot send the
// bearer header, so the stream is read with fetch; it reconnects a second after it drops.
let streaming = false;
async function stream() {
  if (streaming) return;
  streaming = true;
  try {
    const response = await fetch("/admin/sessions/stream", { headers: authHeaders() });
    if (response.status === 401) { askSecret("Segredo inválido."); return; }
    if (!response.ok || !response.body) throw new Error(response.statusText);
    $("login").hidden = true;
    $("erro").textContent = "";
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\\n\\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split("\\n").filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6)).join("\\n");
        if (data) renderSessions(JSON.parse(data).sessions);
      }
    }
  } catch (e) {
    $("erro").textContent = "Sem conexão com o servidor: " + e.message;
  } finally {
    streaming = false;
  }
  if ($("login").hidden) setTimeout(stream, 1000);  // not after a 401: wait for the form
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  secret = $("segredo").value;
  sessionStorage.setItem("balto-admin", secret);
  refresh();
  stream();
});
refresh();
stream();
setInterval(refresh, 5000);  // the day's totals come from the database: every 5 s is plenty
</script>
</body>
</html>
"""
