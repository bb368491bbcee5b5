"""The fuzzer's JSON bodies: each route's valid body with one field made odd or left out, every id
route with its id spelled oddly under every method, and a chain suspended with odd reasons.

A bad outcome, as for the rest of `bench.fuzz_device`: a status >= 500, no answer within 10 s, or
a traceback or ERROR line in the server's log.
"""

from __future__ import annotations

import json

import httpx

from bench.fuzz_device import Probe

ODD_VALUES: list[object] = [
    None, True, 0, -1, 1e308, 10**30, "", " ", "x" * 5000, [], {}, ["a"], "é" * 300, "0" * 6,
    "abcdef", "../../etc", "00000000-0000-0000-0000-000000000000", "<script>", "a@b", "١٢٣",
]  # fmt: skip
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ID_ROUTES = [
    "/admin/atendentes/{}", "/admin/atendentes/{}/voz", "/admin/balcoes/{}/revoke",
    "/admin/clientes/{}/codigo", "/admin/sessions/{}", "/admin/sessions/{}/restart",
    "/admin/sessions/{}/disconnect", "/admin/clientes/{}/catalogo", "/admin/history/conversas/{}",
    "/admin/gestores/{}", "/admin/gestores/{}/senha", "/admin/chaves/{}",
    "/admin/clientes/{}/gestores", "/admin/clientes/{}/chaves", "/admin/alertas/{}/ciente",
    "/admin/clientes/{}/lojas", "/admin/lojas/{}", "/admin/balcoes/{}/loja",
    "/admin/gestores/{}/dois-fatores", "/admin/lojas/{}/codigo", "/admin/atendentes/{}/loja",
    "/admin/balcoes/{}", "/admin/clientes/{}", "/admin/clientes/{}/suspensao",
    "/admin/clientes/{}/webhooks", "/admin/webhooks/{}", "/admin/webhooks/{}/teste",
    "/admin/webhooks/{}/entregas", "/admin/webhooks/{}/entregas/{}/reenviar",
    "/admin/webhooks/{}/segredo",
]  # fmt: skip


def filled(route: str, spelling: str) -> str:
    """`route` with every id in it spelled `spelling`."""
    return route.format(*[spelling] * route.count("{}"))


def body_cases(probe: Probe) -> None:
    """Valid JSON bodies with one field changed or missing; ids in paths spelled oddly."""
    admin = {"Authorization": f"Bearer {probe.secret}"}
    offset = probe.log_size()
    with httpx.Client(base_url=probe.base, timeout=10, headers=admin) as http:
        clientes = http.get("/admin/clientes").json()["items"]
        cliente = {"email": "f@x.com", "razao_social": "Fuzz", "telefone": "11999998888"}
        codigo = http.post("/cadastro/cliente", json=cliente).json()["codigo"]
        valid = {
            "/cadastro/cliente": cliente,
            "/cadastro/balcao": {"nome_balcao": "B1", "user_codigo": codigo},
            # a key nobody owns: every odd spelling of it must get a 4xx, never a 5xx
            "/cadastro/balcao/revogar": {"api_key": "bk_" + "z" * 43},
            "/admin/atendentes": {
                "cliente_id": clientes[0]["id"],
                "nome": "Ana",
                "consentimento": True,
            },
        }
        requests: list[tuple[str, str, object]] = []
        for path, body in valid.items():
            for key in [*body, "extra"]:
                requests += [("POST", path, {**body, key: odd}) for odd in ODD_VALUES]
                requests.append(("POST", path, {k: v for k, v in body.items() if k != key}))
        some = "5f0c1d9e-0000-4000-8000-00000000abcd"
        spellings = ["x", some.upper(), f"{{{some}}}", "urn:uuid:" + some, "a" * 3000, "%00"]
        for route in ID_ROUTES:
            for spelling in spellings:
                requests += [(m, filled(route, spelling), {}) for m in METHODS]
        # the fuzzer's own cliente suspended with odd reasons (after its linking cases), resumed
        fuzz = next(
            c["id"] for c in http.get("/admin/clientes").json()["items"] if c["codigo"] == codigo
        )
        suspensao = f"/admin/clientes/{fuzz}/suspensao"
        requests += [("PUT", suspensao, {"motivo": odd}) for odd in ODD_VALUES]
        requests += [("PUT", suspensao, odd) for odd in ODD_VALUES]
        requests.append(("DELETE", suspensao, {}))
        # webhooks: each field odd or left out (the internal addresses refused: demo settings)
        hooks = f"/admin/clientes/{fuzz}/webhooks"
        hook = {"url": "https://example.com/h", "eventos": ["alerta"], "descricao": "x"}
        for key in [*hook, "extra"]:
            requests += [("POST", hooks, {**hook, key: odd}) for odd in ODD_VALUES]
            requests.append(("POST", hooks, {k: v for k, v in hook.items() if k != key}))
        for url in (
            "https://[::1",
            "https://exa mple.com",
            "https://%zz",
            "https://a:b@c",
            "https://example.com:0",
            "http://[fe80::1%25eth0]/",
            "https://127.1/",
        ):
            requests.append(("POST", hooks, {"url": url}))
        for method, path, body in requests:
            try:
                response: httpx.Response | None = http.request(method, path, json=body)
            except httpx.TimeoutException:
                response = None
            probe.judge(f"{method} {path[:60]} {json.dumps(body)[:80]}", response)
    if lines := probe.log_since(offset):
        probe.bad.append(f"body cases logged {lines[:3]}")
