"""The fuzzer's cases for chains' accounts (gestores): their routes' bodies, the sign-in form with
odd e-mails and passwords, and every admin query filter and id route asked by a signed-in gestor.

A bad outcome, as for the rest of `bench.fuzz_device`: a status >= 500, no answer within 10 s, or
a traceback or ERROR line in the server's log.
"""

from __future__ import annotations

import json
import random
import uuid

import httpx

from bench._fuzz_bodies import ID_ROUTES, METHODS, ODD_VALUES, filled
from bench.fuzz_device import HTTP_PARAMS, HTTP_ROUTES, Probe

# form values as sent on the wire (percent-encoded): a lone surrogate, bad UTF-8, NULs, sizes
ODD_FORM = [
    "", "+", "a" * 5000, "%00", "ana%00%40x.com", "%ED%A0%80", "%C3", "%FF%FE", "%C3%A9" * 300,
    "a%40b", "%3Cscript%3E",
]  # fmt: skip
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PASSWORD = "fuzz-senha-boa-1"


def _via(address: str) -> httpx.HTTPTransport:
    return httpx.HTTPTransport(local_address=address)


def _ask(http: httpx.Client, method: str, path: str, **kwargs: object) -> httpx.Response | None:
    try:
        return http.request(method, path, **kwargs)  # type: ignore[arg-type]
    except httpx.TransportError:  # a timeout, or a connection dropped without an answer
        return None


def gestor_cases(probe: Probe) -> None:
    """Make a gestor, then fuzz its routes, the sign-in form and every filter as that gestor."""
    offset = probe.log_size()
    admin = {"Authorization": f"Bearer {probe.secret}"}
    origin = {"Origin": probe.base}
    email = f"fuzz-{uuid.uuid4().hex[:8]}@rede.com.br"
    # the form's wrong passwords exhaust their address's budget of guesses (then 429 for 5 min,
    # a fine answer): the form is fuzzed from one loopback address, everything else from another
    own, forms = (f"127.0.{random.randrange(1, 250)}.{n}" for n in (7, 8))
    with httpx.Client(base_url=probe.base, timeout=10, transport=_via(own)) as op:
        cliente = op.get("/admin/clientes", headers=admin).json()["items"][0]["id"]
        valid = {"nome": "Fuzz", "email": email, "senha": PASSWORD}
        made = op.post(f"/admin/clientes/{cliente}/gestores", headers=admin, json=valid)
        gestor = made.json()["id"]
        bodies: list[tuple[str, str, object]] = []
        for key in [*valid, "extra"]:
            bodies += [
                ("POST", f"/admin/clientes/{cliente}/gestores", {**valid, key: odd})
                for odd in ODD_VALUES
            ]
        bodies += [("PUT", f"/admin/gestores/{gestor}/senha", {"senha": o}) for o in ODD_VALUES]
        bodies += [("POST", f"/admin/clientes/{cliente}/chaves", {"nome": o}) for o in ODD_VALUES]
        loja = op.post(
            f"/admin/clientes/{cliente}/lojas", headers=admin, json={"nome": f"Fuzz {email}"}
        ).json()["id"]
        balcao = op.get("/admin/balcoes", headers=admin).json()["items"][0]["id"]
        atendente = op.post(
            "/admin/atendentes",
            headers=admin,
            json={"cliente_id": cliente, "nome": f"Fuzz {email}", "consentimento": True},
        ).json()["id"]
        for odd in ODD_VALUES:
            bodies += [
                ("POST", f"/admin/clientes/{cliente}/lojas", {"nome": odd}),
                ("PATCH", f"/admin/lojas/{loja}", {"nome": odd}),
                ("PUT", f"/admin/balcoes/{balcao}/loja", {"loja_id": odd}),
                ("PATCH", f"/admin/balcoes/{balcao}", {"nome_balcao": odd}),
                ("PATCH", f"/admin/clientes/{cliente}", {"razao_social": odd}),
                ("PATCH", f"/admin/clientes/{cliente}", {"email": odd}),
                ("PATCH", f"/admin/clientes/{cliente}", {"telefone": odd}),
                ("PUT", f"/admin/atendentes/{atendente}/loja", {"loja_id": odd}),
                ("PATCH", f"/admin/atendentes/{atendente}", {"nome": odd}),
                ("POST", f"/admin/clientes/{cliente}/gestores", {**valid, "loja_id": odd}),
                ("POST", f"/admin/clientes/{cliente}/chaves", {"nome": "Fuzz", "loja_id": odd}),
                ("PUT", f"/admin/clientes/{cliente}/dois-fatores", {"exigido": odd}),
            ]
        for method, path, body in bodies:
            what = f"{method} {path} {json.dumps(body)[:80]}"
            probe.judge(what, _ask(op, method, path, json=body, headers=admin))
        op.put(f"/admin/gestores/{gestor}/senha", headers=admin, json={"senha": PASSWORD})
        # `true` among the odd values required a second step of the chain: the password alone again
        op.put(f"/admin/clientes/{cliente}/dois-fatores", headers=admin, json={"exigido": False})

    with httpx.Client(base_url=probe.base, timeout=10, transport=_via(forms)) as http:
        quoted = email.replace("@", "%40")
        for odd in ODD_FORM:
            for form in (
                f"email={odd}&segredo={PASSWORD}",
                f"email={quoted}&segredo={odd}",
                f"etapa={odd}&codigo=123456",  # the second step's form, forged
                f"etapa=s1.{odd}&codigo={odd}",
            ):
                response = _ask(
                    http, "POST", "/entrar", content=form.encode(), headers={**origin, **FORM}
                )
                probe.judge(f"POST /entrar {form[:80]}", response)
    with httpx.Client(base_url=probe.base, timeout=10, transport=_via(own)) as http:
        signed = _ask(
            http, "POST", "/entrar", data={"email": email, "segredo": PASSWORD}, headers=origin
        )
        if signed is None or signed.status_code != 303:
            probe.bad.append(f"gestor sign-in: {signed and signed.status_code}")
            return
        for route in HTTP_ROUTES:
            for param in HTTP_PARAMS:
                for value in ("%00", "%ED%A0%80", "%FF%FE", "00000000-0000-0000-0000-000000000000"):
                    response = _ask(http, "GET", f"{route}?{param}={value}")
                    probe.judge(f"gestor GET {route}?{param}={value}", response)
        for route in ID_ROUTES:
            for spelling in ("x", str(uuid.uuid4()), "%00", "a" * 3000):
                for method in METHODS:
                    path = filled(route, spelling)
                    response = _ask(http, method, path, json={}, headers=origin)
                    probe.judge(f"gestor {method} {path[:60]}", response)
        two_step = "/admin/conta/dois-fatores"
        for odd in ODD_VALUES:
            for method, path, body in (
                ("POST", "/admin/conta/senha", {"atual": odd, "nova": PASSWORD}),
                ("POST", "/admin/conta/senha", {"atual": PASSWORD, "nova": odd}),
                ("POST", two_step, {"senha": odd}),
                ("POST", two_step + "/confirmar", {"codigo": odd}),
                ("DELETE", two_step, {"senha": PASSWORD, "codigo": odd}),
            ):
                response = _ask(http, method, path, json=body, headers=origin)
                probe.judge(f"{method} {path} {json.dumps(body)[:80]}", response)
    if lines := probe.log_since(offset):
        probe.bad.append(f"gestor cases logged {lines[:3]}")
