// Painel: charts over days or weeks (Chart.js, vendored) and tables per cliente, balcão, product.
"use strict";
(() => {
  const { api, linha, pct, usd, brl } = Balto;
  const NOMES = ["cliente_id", "loja_id", "balcao_id", "desde", "ate", "grao"];
  const form = document.getElementById("filtros");
  const filtros = Balto.filtrosDaUrl(NOMES);
  const graficos = {};

  function grafico(id, type, labels, datasets, opcoes) {
    if (graficos[id]) graficos[id].destroy();
    graficos[id] = new Chart(document.getElementById(id), {
      type, data: { labels, datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom" } } }, opcoes || {}),
    });
  }

  function rotulo(periodo) {
    const [a, m, d] = periodo.split("-");
    return filtros.grao === "semana" ? `sem. ${d}/${m}` : `${d}/${m}/${a.slice(2)}`;
  }

  function kpis(series) {
    const total = (k) => series.reduce((s, r) => s + (r[k] || 0), 0);
    const box = document.getElementById("kpis");
    box.replaceChildren();
    const add = (nome, valor) => { const d = Balto.el("div", null, "kpi"); d.append(Balto.el("b", valor), Balto.el("span", nome)); box.append(d); };
    add("sessões", total("sessoes"));
    add("sugestões", total("recomendacoes"));
    add(`aceitação (${total("aceitas")} de ${total("com_feedback")} com retorno)`, pct(total("aceitas"), total("com_feedback")));
    add("alertas", total("alertas"));
    add("custo", `${usd.format(total("custo_usd"))} · ${brl.format(total("custo_brl"))}`);
  }

  function tabela(id, rows, cols) {
    const tbody = document.querySelector(`#${id} tbody`);
    tbody.replaceChildren();
    for (const r of rows) linha(tbody, cols(r));
    if (!rows.length) linha(tbody, ["Sem dados no período."]);
  }
  const aceit = (r) => `${pct(r.aceitas, r.com_feedback)} (n=${r.com_feedback})`;

  async function carregar() {
    try {
      const q = Balto.consulta(filtros);
      const d = await api("/admin/painel/dados?" + q);
      const labels = d.series.map((r) => rotulo(r.periodo));
      grafico("g-volume", "bar", labels, [
        { label: "Sessões", data: d.series.map((r) => r.sessoes), backgroundColor: "#5b8def" },
        { label: "Sugestões", data: d.series.map((r) => r.recomendacoes), backgroundColor: "#1a7f37" },
      ]);
      grafico("g-aceitacao", "line", labels, [
        { label: "Aceitação (%)", data: d.series.map((r) => (r.com_feedback ? (100 * r.aceitas) / r.com_feedback : null)), borderColor: "#1a7f37", spanGaps: true },
        { label: "Sugestões com retorno (n)", data: d.series.map((r) => r.com_feedback), borderColor: "#8c959f", yAxisID: "n" },
      ], { scales: { y: { min: 0, max: 100 }, n: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } });
      grafico("g-alertas", "bar", labels, [
        { label: "Alertas", data: d.series.map((r) => r.alertas), backgroundColor: "#b42318" },
      ]);
      grafico("g-custo", "bar", labels, [
        { label: "R$", data: d.series.map((r) => r.custo_brl), backgroundColor: "#9a6700" },
        { label: "US$", data: d.series.map((r) => r.custo_usd), backgroundColor: "#d4a72c" },
      ]);
      kpis(d.series);
      tabela("por-cliente", d.por_cliente, (r) => [r.razao_social, r.sessoes, r.recomendacoes, aceit(r), r.alertas, usd.format(r.custo_usd), brl.format(r.custo_brl)]);
      // stores only where the chain has them: a chain without any reads the same as before
      document.getElementById("por-loja-bloco").hidden = !d.por_loja.some((r) => r.loja);
      tabela("por-loja", d.por_loja, (r) => [r.loja || "sem loja", r.razao_social, r.sessoes, r.recomendacoes, aceit(r), r.alertas, usd.format(r.custo_usd), brl.format(r.custo_brl)]);
      // shown once any suggestion or alert names someone: before that it would be one "—" row
      document.getElementById("por-atendente-bloco").hidden = !d.por_atendente.some((r) => r.atendente);
      tabela("por-atendente", d.por_atendente, (r) => [r.atendente || "não identificado", r.razao_social, r.recomendacoes, aceit(r), r.alertas]);
      tabela("por-balcao", d.por_balcao, (r) => [r.nome_balcao, r.razao_social, r.sessoes, r.recomendacoes, aceit(r), r.alertas, usd.format(r.custo_usd), brl.format(r.custo_brl)]);
      tabela("produtos", d.produtos, (r) => [r.produto, r.vezes, aceit(r)]);
      document.body.dataset.carregado = "1";
      Balto.erro("");
    } catch (err) {
      Balto.erro("Não foi possível carregar: " + err.message);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Balto.aplicarFiltros(form, NOMES, filtros);
    carregar();
  });
  Balto.preencherFormulario(form, filtros);
  // "pronto" once the filters' options and the first figures are in (as on Histórico)
  Promise.allSettled([
    Balto.clientesEBalcoes(form, filtros).catch((e) => Balto.erro(e.message)),
    Balto.filtroLoja(form, filtros).catch((e) => Balto.erro(e.message)),
    carregar(),
  ]).then(() => { document.body.dataset.pronto = "1"; });
})();
