// Painel: charts over days or weeks (Chart.js, vendored) and tables per cliente, balcão, product.
"use strict";
(() => {
  const { api, linha, pct, usd, brl } = Balto;
  const NOMES = ["cliente_id", "loja_id", "balcao_id", "desde", "ate", "grao"];
  const form = document.getElementById("filtros");
  const filtros = Balto.filtrosDaUrl(NOMES);
  const graficos = {};
  const CONTAGEM = { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }; // counts: no 0,5 ticks

  function grafico(id, type, labels, datasets, opcoes) {
    if (graficos[id]) graficos[id].destroy();
    graficos[id] = new Chart(document.getElementById(id), {
      type, data: { labels, datasets },
      // locale: axis ticks and tooltips read 0,5 and 1.000 as the tables do
      options: Object.assign({ locale: "pt-BR", responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom" } } }, opcoes || {}),
    });
  }

  function rotulo(periodo) {
    const [a, m, d] = periodo.split("-");
    return filtros.grao === "semana" ? `sem. ${d}/${m}` : `${d}/${m}/${a.slice(2)}`;
  }

  // `orientadas`: the alerts whose guidance the counter said was given (per attendant, summed)
  function kpis(series, orientadas) {
    const total = (k) => series.reduce((s, r) => s + (r[k] || 0), 0);
    const box = document.getElementById("kpis");
    box.replaceChildren();
    const add = (nome, valor) => { const d = Balto.el("div", null, "kpi"); d.append(Balto.el("b", valor), Balto.el("span", nome)); box.append(d); };
    add("sessões", total("sessoes"));
    add("sugestões", total("recomendacoes"));
    add(`aceitação (${total("aceitas")} de ${total("com_feedback")} com retorno)`, pct(total("aceitas"), total("com_feedback")));
    add(total("alertas") ? `alertas (orientação dada em ${orientadas})` : "alertas", total("alertas"));
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
      ], CONTAGEM);
      grafico("g-aceitacao", "line", labels, [
        // pointRadius: a period with a single day still shows its point
        // clip: false: a point at the top of its axis (100%, the largest n) drawn whole, not cut in half
        { label: "Aceitação (%)", data: d.series.map((r) => (r.com_feedback ? (100 * r.aceitas) / r.com_feedback : null)), borderColor: "#1a7f37", backgroundColor: "#1a7f37", pointRadius: 4, spanGaps: true, clip: false },
        { label: "Sugestões com retorno (n)", data: d.series.map((r) => r.com_feedback), borderColor: "#8c959f", backgroundColor: "#8c959f", pointRadius: 4, yAxisID: "n", clip: false },
      ], { scales: {
        x: { offset: true }, // a single period's point in the middle, not on the axis
        y: { min: 0, max: 100 },
        n: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 } },
      } });
      grafico("g-alertas", "bar", labels, [
        { label: "Alertas", data: d.series.map((r) => r.alertas), backgroundColor: "#b42318" },
      ], CONTAGEM);
      // one bar in reais, each currency on its own axis (the dollar axis is the same bar at the
      // configured rate), so the bars do not read as two costs
      grafico("g-custo", "bar", labels, [
        { label: "Custo", data: d.series.map((r) => r.custo_brl), backgroundColor: "#9a6700" },
      ], {
        plugins: { legend: { display: false }, tooltip: { callbacks: {
          label: (c) => `${brl.format(d.series[c.dataIndex].custo_brl)} · ${usd.format(d.series[c.dataIndex].custo_usd)}`,
        } } },
        scales: {
          y: { beginAtZero: true, ticks: { callback: (v) => brl.format(v) } },
          usd: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
            // the same scale as reais, in dollars: min and max follow the left axis after each layout
            afterDataLimits: (eixo) => {
              const y = eixo.chart.scales.y;
              if (y && d.brl_por_usd > 0) { eixo.min = y.min / d.brl_por_usd; eixo.max = y.max / d.brl_por_usd; }
            },
            ticks: { callback: (v) => usd.format(v) } },
        },
      });
      kpis(d.series, d.por_atendente.reduce((s, r) => s + r.orientadas, 0));
      tabela("por-cliente", d.por_cliente, (r) => [r.razao_social, r.sessoes, r.recomendacoes, aceit(r), r.alertas, usd.format(r.custo_usd), brl.format(r.custo_brl)]);
      // stores only where the chain has them: a chain without any reads the same as before
      document.getElementById("por-loja-bloco").hidden = !d.por_loja.some((r) => r.loja);
      tabela("por-loja", d.por_loja, (r) => [r.loja || "sem loja", r.razao_social, r.sessoes, r.recomendacoes, aceit(r), r.alertas, usd.format(r.custo_usd), brl.format(r.custo_brl)]);
      // shown once any suggestion or alert names someone: before that it would be one "—" row
      document.getElementById("por-atendente-bloco").hidden = !d.por_atendente.some((r) => r.atendente);
      tabela("por-atendente", d.por_atendente, (r) => [r.atendente || "não identificado", r.razao_social, r.recomendacoes, aceit(r), r.alertas,
        r.alertas ? `${r.orientadas} de ${r.alertas}` : "—"]);
      tabela("por-balcao", d.por_balcao, (r) => [r.nome_balcao, r.razao_social, r.sessoes, r.recomendacoes, aceit(r), r.alertas, usd.format(r.custo_usd), brl.format(r.custo_brl)]);
      tabela("produtos", d.produtos, (r) => [r.produto, r.vezes, aceit(r), r.em_falta]);
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
