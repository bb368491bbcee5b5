// The admin audit log (GET /admin/audit), newest first, in pages: each action in words.
"use strict";
(() => {
  const { el, api, dataHora, linha } = Balto;
  const ACOES = {
    sign_in: "Entrada no painel", restart: "Reiniciar sessão", disconnect: "Desconectar sessão",
    revoke: "Revogar chave", revoke_self: "Balcão desvinculado por ele mesmo", rotate_codigo: "Novo código de vínculo", catalog_upload: "Enviar catálogo",
    create_atendente: "Cadastrar atendente", remove_atendente: "Remover atendente",
    ack_alert: "Alerta visto (Ciente)", enroll_voz: "Cadastrar voz", delete_voz: "Apagar voz", erase_conversation: "Apagar falas",
    export_xlsx: "Baixar relatório Excel", fault_add: "Injetar falha", fault_remove: "Remover falha",
    fault_clear: "Limpar falhas", create_gestor: "Criar acesso de gestor", reset_gestor_password: "Nova senha de gestor",
    deactivate_gestor: "Desativar gestor", change_own_password: "Trocar a própria senha",
    create_chave: "Criar chave de API", revoke_chave: "Revogar chave de API",
    create_loja: "Criar loja", rename_loja: "Renomear loja", remove_loja: "Remover loja",
    update_cliente: "Corrigir dados do cliente", rename_atendente: "Renomear atendente", rename_balcao: "Renomear balcão", place_balcao: "Mudar balcão de loja", place_atendente: "Mudar atendente de loja", rotate_loja_codigo: "Novo código de vínculo da loja",
    two_step: "Verificação em duas etapas", turn_off_two_step: "Desativar 2 etapas de um colega",
    require_two_step: "Exigir 2 etapas na rede", end_other_sessions: "Encerrar as outras sessões",
    suspend_cliente: "Suspender acesso da rede", resume_cliente: "Reativar acesso da rede",
    create_webhook: "Criar webhook", delete_webhook: "Remover webhook", test_webhook: "Testar webhook",
    resend_webhook: "Reenviar entrega de webhook", rotate_webhook_secret: "Novo segredo de webhook",
    replace_em_falta: "Atualizar produtos em falta", mark_em_falta: "Marcar produto em falta",
    clear_em_falta: "Produto de volta ao estoque",
  };
  const RESULTADOS = {
    signed_in: "entrou", wrong_secret: "segredo errado", rate_limited: "bloqueado: tentativas demais",
    cross_site: "recusado: veio de outro site", not_found: "não encontrado", rotated: "trocado",
    revoked: "revogada", invalid: "recusado: linhas com erro", saved: "salvo",
    changed: "trocada", wrong_password: "senha atual errada", timeout: "sem resposta a tempo",
    code_asked: "senha certa: código pedido", setup_asked: "senha certa: configurar 2 etapas",
    wrong_code: "código errado", wrong_setup_code: "código errado ao configurar",
    started: "configuração iniciada", on: "ativada", off: "desativada",
    suspended: "recusado: acesso da rede suspenso",
  };
  let cursor = null;
  const NOMES = ["acao", "ator", "desde", "ate"];
  const form = document.getElementById("filtros-auditoria");
  const filtros = Balto.filtrosDaUrl(NOMES);
  const acao = form.elements.acao;
  for (const [codigo, nome] of Object.entries(ACOES).sort((a, b) => a[1].localeCompare(b[1], "pt-BR"))) {
    const opt = el("option", nome); opt.value = codigo;
    acao.append(opt);
  }

  function resultado(a) {
    const d = a.detail || {};
    if (a.action === "erase_conversation" && d.erased) {
      const e = d.erased;
      return `${e.falas} falas, ${e.recomendacoes + e.alertas + e.recusas + e.comparacoes} citações`;
    }
    if (d.outcome) return RESULTADOS[d.outcome] || d.outcome;
    if (a.action === "restart") return d.accepted ? "aceito" : "recusado: ocupada";
    if (a.action === "catalog_upload" && d.produtos) return `${d.produtos} produtos`;
    if (a.action === "enroll_voz") return `${d.fala_s} s de fala, ${d.qualidade}`;
    if (a.action === "create_gestor") return d.email;
    if (a.action === "require_two_step") return d.exigido ? "exigida" : "não exigida";
    if (a.action === "suspend_cliente") return `${d.motivo}; ${d.sessoes_encerradas} sessões encerradas`;
    if ((a.action === "create_webhook" || a.action === "delete_webhook") && d.url) return d.url;
    return "—";
  }

  async function carregar(mais) {
    const q = Balto.consulta(filtros);  // the dates as instants in the configured zone
    q.set("limit", "50");
    if (mais && cursor) q.set("cursor", cursor);
    const body = await api("/admin/audit?" + q);
    const tbody = document.querySelector("#auditoria tbody");
    if (!mais) tbody.replaceChildren();
    for (const a of body.items) {
      let sessao = "—";
      if (a.session_id) { sessao = el("a", a.session_id.slice(0, 8)); sessao.href = "/admin/historico/" + a.session_id; }
      const quem = !a.ator ? "—" : a.ator === "operador" ? "Operador" : a.ator.replace(/^gestor:/, "Gestor ");
      const tr = linha(tbody, [dataHora(a.at), ACOES[a.action] || a.action, resultado(a), quem, a.remote_addr, sessao]);
      tr.dataset.action = a.action;
    }
    cursor = body.next_cursor;
    document.getElementById("mais-auditoria").hidden = !cursor;
    document.getElementById("auditoria-vazio").hidden = tbody.children.length > 0;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    Balto.aplicarFiltros(form, NOMES, filtros);
    carregar(false).then(() => Balto.erro(""), (e) => Balto.erro("Não foi possível carregar: " + e.message));
  });
  document.getElementById("mais-auditoria").addEventListener("click", () => carregar(true).catch((e) => Balto.erro(e.message)));
  Balto.preencherFormulario(form, filtros);
  carregar(false).catch((e) => Balto.erro("Não foi possível carregar: " + e.message));
})();
