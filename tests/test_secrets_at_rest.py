"""Gestores' TOTP secrets and webhooks' secrets sealed at rest, over the real server and PostgreSQL:
rows stored plain are sealed by the first start with a key and keep working (a delivery signed,
a second step passed, a new set-up and a new webhook secret sealed as they are made); a rotation
is finished by one start; a start without the key that sealed them is refused with words, not a
traceback, and, when the key is lost for good, can drop what it cannot open."""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx
import trio

from balto import totp
from balto.sealing import TOTP, WEBHOOK, Box, key_id, new_key_text, parse_key
from balto.webhooks.signing import HEADER, verify
from tests.admin_seed import seed
from tests.conftest import ADMIN, query, start_server
from tests.gestor_accounts import EMAIL, PASSWORD, create_gestor, sign_in_gestor
from tests.test_two_step import _code_step, _etapa, _turn_on
from tests.webhook_api import PRIVATE, make_hook
from tests.webhook_receiver import Receiver, receiver

K1_TEXT, K2_TEXT = new_key_text(), new_key_text()
K1, K2 = parse_key(K1_TEXT, "K1"), parse_key(K2_TEXT, "K2")
BIA = "bia@rede1.com.br"


def _stored(database_url: str) -> dict[str, Any]:
    """Every stored secret: the webhooks' and the gestores' (by e-mail)."""
    hooks = query(database_url, "SELECT segredo, segredo_anterior FROM webhooks")
    people = query(database_url, "SELECT email, totp_segredo, totp_pendente FROM gestores")
    return {"webhooks": hooks, "gestores": {e: (s, p) for e, s, p in people}}


async def _test_delivery(http: httpx.AsyncClient, hook: str, into: Receiver, count: int) -> Any:
    sent = await http.post(f"/admin/webhooks/{hook}/teste", headers=ADMIN)
    assert sent.status_code == 202, sent.text
    return (await into.wait_for(count))[-1]


async def _serve_cli(database_url: str, **env: str) -> tuple[int, str]:
    """``balto serve`` on the test database with `env`, as an operator would start it."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("BALTO_SECRETS")}
    done = await trio.run_process(
        [sys.executable, "-m", "balto", "serve"],
        env={**full, "BALTO_DATABASE_URL": database_url, "PORT": "0", **env},
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr).decode()


async def test_stored_secrets_are_sealed_rotated_and_a_lost_key_is_said(
    database_url: str,
) -> None:
    with receiver() as into:
        # before sealing: a webhook and Ana's second step, stored plain
        async with trio.open_nursery() as nursery:
            running = await start_server(nursery, database_url, **PRIVATE)
            ids = seed(database_url)
            async with (
                httpx.AsyncClient(base_url=running.base_url) as op,
                httpx.AsyncClient(base_url=running.base_url) as ana,
            ):
                hook = await make_hook(op, ids["c1"], into.url)
                await create_gestor(op, ids["c1"])
                await create_gestor(op, ids["c1"], nome="Bia", email=BIA)
                assert (await sign_in_gestor(ana, running, EMAIL, PASSWORD)).status_code == 303
                ana_secret, _, ana_step = await _turn_on(ana, running)
            running.stop()
        plain = _stored(database_url)
        assert plain["webhooks"] == [(hook["segredo"], None)]
        assert plain["gestores"][EMAIL] == (ana_secret, None)

        # the first start with a key seals them, and each still does its work
        async with trio.open_nursery() as nursery:
            running = await start_server(
                nursery, database_url, BALTO_SECRETS_KEY=K1_TEXT, **PRIVATE
            )
            sealed = _stored(database_url)
            [(segredo, _)] = sealed["webhooks"]
            ana_sealed = sealed["gestores"][EMAIL][0]
            for value in (segredo, ana_sealed):
                assert value.startswith(f"s1.{key_id(K1)}.")
            assert hook["segredo"] not in segredo and ana_secret not in ana_sealed
            assert Box(K1).open(WEBHOOK, segredo) == hook["segredo"]
            assert Box(K1).open(TOTP, ana_sealed) == ana_secret
            async with (
                httpx.AsyncClient(base_url=running.base_url) as op,
                httpx.AsyncClient(base_url=running.base_url) as ana,
                httpx.AsyncClient(base_url=running.base_url) as bia,
            ):
                got = await _test_delivery(op, hook["id"], into, 1)
                assert verify(hook["segredo"], got.body, got.headers[HEADER])
                # Ana's second step, from the sealed secret (a code newer than her last)
                page = await sign_in_gestor(ana, running, EMAIL, PASSWORD)
                code = totp.code_at(ana_secret, max(ana_step + 1, totp.current_step()))
                passed = await _code_step(ana, running, _etapa(page), code)
                assert passed.status_code == 303, passed.text
                # Bia sets hers up now: sealed from the start, confirmed through the seal
                assert (await sign_in_gestor(bia, running, BIA, PASSWORD)).status_code == 303
                bia_secret, _, _ = await _turn_on(bia, running)
                # a new secret is sealed too; both sign for a day
                rotated = await op.post(f"/admin/webhooks/{hook['id']}/segredo", headers=ADMIN)
                new_secret = rotated.json()["segredo"]
                got = await _test_delivery(op, hook["id"], into, 2)
                assert verify(new_secret, got.body, got.headers[HEADER])
                assert verify(hook["segredo"], got.body, got.headers[HEADER])
            running.stop()
        after = _stored(database_url)
        [(segredo, anterior)] = after["webhooks"]
        bia_sealed = after["gestores"][BIA][0]
        assert Box(K1).open(WEBHOOK, segredo) == new_secret and new_secret not in segredo
        assert Box(K1).open(WEBHOOK, anterior) == hook["segredo"]
        assert Box(K1).open(TOTP, bia_sealed) == bia_secret and bia_secret not in bia_sealed

        # a rotation: the new key, the old one kept to open with; one start reseals everything
        async with trio.open_nursery() as nursery:
            running = await start_server(
                nursery,
                database_url,
                BALTO_SECRETS_KEY=K2_TEXT,
                BALTO_SECRETS_KEYS_OLD=K1_TEXT,
                **PRIVATE,
            )
            rotated_rows = _stored(database_url)
            [(segredo, anterior)] = rotated_rows["webhooks"]
            values = [segredo, anterior, *(s for s, _ in rotated_rows["gestores"].values() if s)]
            assert len(values) == 4
            assert all(v.startswith(f"s1.{key_id(K2)}.") for v in values), values
            assert Box(K2).open(TOTP, rotated_rows["gestores"][BIA][0]) == bia_secret
            async with httpx.AsyncClient(base_url=running.base_url) as op:
                got = await _test_delivery(op, hook["id"], into, 3)
                assert verify(new_secret, got.body, got.headers[HEADER])
            running.stop()

    # the old key alone cannot open them: the start is refused, saying which key and what to do
    code, out = await _serve_cli(database_url, BALTO_SECRETS_KEY=K1_TEXT)
    assert code == 2, out
    assert key_id(K2) in out and "BALTO_SECRETS_DROP_UNREADABLE" in out, out
    assert "Traceback" not in out, out
    assert _stored(database_url) == rotated_rows  # nothing touched

    # the key lost for good: dropped on request; second steps off, the webhook a new secret
    async with trio.open_nursery() as nursery:
        running = await start_server(
            nursery, database_url, BALTO_SECRETS_KEY=K1_TEXT, BALTO_SECRETS_DROP_UNREADABLE="1"
        )
        dropped = _stored(database_url)
        assert dropped["gestores"] == {EMAIL: (None, None), BIA: (None, None)}
        [(segredo, anterior)] = dropped["webhooks"]
        assert anterior is None
        assert Box(K1).open(WEBHOOK, segredo) not in (new_secret, hook["segredo"])
        left = query(database_url, "SELECT count(*) FROM gestor_recuperacao")
        assert left == [(0,)]
        async with httpx.AsyncClient(base_url=running.base_url) as ana:
            assert (await sign_in_gestor(ana, running, EMAIL, PASSWORD)).status_code == 303
        running.stop()


async def test_a_second_step_sealed_under_a_key_this_server_lacks_is_said_in_the_form(
    nursery: trio.Nursery, database_url: str
) -> None:
    running = await start_server(nursery, database_url, BALTO_SECRETS_KEY=K1_TEXT)
    ids = seed(database_url)
    async with (
        httpx.AsyncClient(base_url=running.base_url) as op,
        httpx.AsyncClient(base_url=running.base_url) as ana,
        httpx.AsyncClient(base_url=running.base_url) as later,
    ):
        await create_gestor(op, ids["c1"])
        assert (await sign_in_gestor(ana, running, EMAIL, PASSWORD)).status_code == 303
        secret, _, step = await _turn_on(ana, running)
        # another instance, given the next key first, resealed it: a rotation half done
        query(
            database_url,
            "UPDATE gestores SET totp_segredo = %s WHERE email = %s",
            Box(K2).seal(TOTP, secret),
            EMAIL,
        )
        page = await sign_in_gestor(later, running, EMAIL, PASSWORD)
        code = totp.code_at(secret, max(step + 1, totp.current_step()))
        answer = await _code_step(later, running, _etapa(page), code)
    # the person reads why in the form (not a JSON body), and can try again from it
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "avise o operador do Balto" in answer.text
    assert _etapa(answer)
    assert "balto_admin" not in answer.cookies


async def _first_error(http: httpx.AsyncClient, log_url: str) -> dict[str, Any]:
    """The newest delivery of a webhook's log once an attempt has failed."""
    with trio.fail_after(10):
        while True:
            entry: dict[str, Any] = (await http.get(log_url, headers=ADMIN)).json()["items"][0]
            if entry["ultimo_erro"]:
                return entry
            await trio.sleep(0.1)


def _altered(value: str) -> str:
    """`value` with one character of its sealed body changed, as a bad restore or a hand edit."""
    # inside the ciphertext: the last character of base64 may carry only padding bits
    at = len(value) - 10
    return value[:at] + ("A" if value[at] != "A" else "B") + value[at + 1 :]


async def test_a_secret_altered_in_the_database_does_not_stop_the_start(
    database_url: str,
) -> None:
    # one gestor's second step sealed under an old key and altered, one webhook's secret sealed
    # under the current key and altered: the server starts all the same, resealing the rest;
    # those two say why when used; BALTO_SECRETS_DROP_UNREADABLE=1 drops them
    with receiver() as into:
        async with trio.open_nursery() as nursery:
            running = await start_server(
                nursery, database_url, BALTO_SECRETS_KEY=K1_TEXT, **PRIVATE
            )
            ids = seed(database_url)
            async with (
                httpx.AsyncClient(base_url=running.base_url) as op,
                httpx.AsyncClient(base_url=running.base_url) as ana,
            ):
                broken = await make_hook(op, ids["c1"], into.url)
                kept = await make_hook(op, ids["c1"], into.url + "/outro")
                await create_gestor(op, ids["c1"])
                await create_gestor(op, ids["c1"], nome="Bia", email=BIA)
                assert (await sign_in_gestor(ana, running, EMAIL, PASSWORD)).status_code == 303
                ana_secret, _, _ = await _turn_on(ana, running)
            running.stop()
        bia_secret = totp.new_secret()
        for email, secret in ((EMAIL, ana_secret), (BIA, bia_secret)):
            sealed = Box(K2).seal(TOTP, secret)
            query(
                database_url,
                "UPDATE gestores SET totp_segredo = %s WHERE email = %s",
                _altered(sealed) if email == EMAIL else sealed,
                email,
            )
        # Bia's set-up of a new phone, never confirmed, altered too: only it goes when dropped
        query(
            database_url,
            "UPDATE gestores SET totp_pendente = %s WHERE email = %s",
            _altered(Box(K1).seal(TOTP, totp.new_secret())),
            BIA,
        )
        [(hook_value,)] = query(
            database_url, "SELECT segredo FROM webhooks WHERE id = %s", broken["id"]
        )
        query(
            database_url,
            "UPDATE webhooks SET segredo = %s WHERE id = %s",
            _altered(hook_value),
            broken["id"],
        )
        before = _stored(database_url)

        # the next start (K1 current, K2 old) goes on: the altered two stay, Bia's is resealed
        async with trio.open_nursery() as nursery:
            running = await start_server(
                nursery, database_url, BALTO_SECRETS_KEY=K1_TEXT,
                BALTO_SECRETS_KEYS_OLD=K2_TEXT, **PRIVATE,
            )  # fmt: skip
            after = _stored(database_url)
            assert after["gestores"][EMAIL] == before["gestores"][EMAIL]
            assert after["gestores"][BIA][1] == before["gestores"][BIA][1]  # left as it is
            assert Box(K1).open(TOTP, after["gestores"][BIA][0]) == bia_secret
            assert after["gestores"][BIA][0].startswith(f"s1.{key_id(K1)}.")
            assert sorted(after["webhooks"]) == sorted(before["webhooks"])
            async with (
                httpx.AsyncClient(base_url=running.base_url) as op,
                httpx.AsyncClient(base_url=running.base_url) as ana,
            ):
                # the other webhook still delivers, signed
                got = await _test_delivery(op, kept["id"], into, 1)
                assert verify(kept["segredo"], got.body, got.headers[HEADER])
                # the altered one fails each attempt, saying why in its delivery log
                sent = await op.post(f"/admin/webhooks/{broken['id']}/teste", headers=ADMIN)
                assert sent.status_code == 202
                log_url = f"/admin/webhooks/{broken['id']}/entregas"
                entry = await _first_error(op, log_url)
                assert "não pode ser aberto" in entry["ultimo_erro"], entry
                # Ana's second step cannot be read: the form says so, 503
                page = await sign_in_gestor(ana, running, EMAIL, PASSWORD)
                answer = await _code_step(ana, running, _etapa(page), "123456")
                assert answer.status_code == 503, answer.text
            running.stop()

        # asked to, a start drops what it cannot open: Ana signs in with her password alone
        async with trio.open_nursery() as nursery:
            running = await start_server(
                nursery, database_url, BALTO_SECRETS_KEY=K1_TEXT,
                BALTO_SECRETS_DROP_UNREADABLE="1", **PRIVATE,
            )  # fmt: skip
            dropped = _stored(database_url)
            assert dropped["gestores"][EMAIL] == (None, None)
            assert Box(K1).open(TOTP, dropped["gestores"][BIA][0]) == bia_secret
            assert dropped["gestores"][BIA][1] is None  # the set-up only: her second step stays
            [(new_value,)] = query(
                database_url, "SELECT segredo FROM webhooks WHERE id = %s", broken["id"]
            )
            assert Box(K1).open(WEBHOOK, new_value) != broken["segredo"]
            async with httpx.AsyncClient(base_url=running.base_url) as ana:
                assert (await sign_in_gestor(ana, running, EMAIL, PASSWORD)).status_code == 303
            running.stop()
