"""OpenAIChatAdvisor against the loopback OpenAI/xAI fake: request shape, vetting, errors."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import trio
from openai import AsyncOpenAI

from balto.catalog import Catalog, Product
from balto.errors import Category, ProviderError, UnusableAnswer
from balto.pricing import DEFAULT_PRICING
from balto.providers.openai_chat import OpenAIChatAdvisor, make_client, response_format
from balto.providers.ports import Turn
from tests.fakes.openai_compat import INSUFFICIENT_QUOTA, FakeOpenAICompat
from tests.fakes.server import serve_app

KEY = "llm-test-key"
MODEL = "gpt-4o-mini"

CATALOG = Catalog(
    [
        Product(
            nome="Dipirona Monoidratada 500 mg",
            categoria="analgésico",
            indicacoes=("dor de cabeça", "febre"),
            explicacao="Analgésico e antitérmico.",
        ),
        Product(
            nome="Loratadina 10 mg",
            categoria="antialérgico",
            indicacoes=("rinite", "coceira"),
            explicacao="Antialérgico que não dá sono.",
        ),
        Product(
            nome="Amoxicilina 500 mg",
            categoria="antibiótico",
            indicacoes=("infecção bacteriana",),
            explicacao="Antibiótico.",
            tarja="vermelha",
        ),
    ]
)

DIALOGUE = [
    Turn("Boa tarde, em que posso ajudar?", "atendente", 0.0, 1.5),
    Turn("Estou com muita dor de cabeça desde ontem.", "cliente", 1.6, 3.8),
]


def answer(recomendar: bool, produto: str, explicacao: str = "Alivia a dor.") -> Any:
    return lambda _: {"recomendar": recomendar, "produto": produto, "explicacao": explicacao}


@pytest.fixture(params=["openai"])
def fake(request: pytest.FixtureRequest) -> FakeOpenAICompat:
    return FakeOpenAICompat(request.param, api_key=KEY)


@pytest.fixture
async def base_url(nursery: trio.Nursery, fake: FakeOpenAICompat) -> str:
    return await serve_app(nursery, fake.app)


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[AsyncOpenAI]:
    async with make_client(KEY, base_url + "/v1") as client:
        yield client


def make_advisor(
    client: AsyncOpenAI, *, name: str = "openai", model: str = MODEL, timeout_s: float = 5.0
) -> OpenAIChatAdvisor:
    return OpenAIChatAdvisor(
        name=name, client=client, model=model, pricing=DEFAULT_PRICING, timeout_s=timeout_s
    )


async def failure(advisor: OpenAIChatAdvisor) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await advisor.advise(DIALOGUE, CATALOG)
    assert info.value.provider == advisor.name
    return info.value


both_flavors = pytest.mark.parametrize("fake", ["openai", "xai"], indirect=True)


async def test_suggestion_comes_back_with_the_canonical_name_and_cost(
    fake: FakeOpenAICompat, client: AsyncOpenAI
) -> None:
    fake.respond = answer(True, "dipirona monoidratada 500 MG", " Alivia a dor de cabeça. ")
    fake.usage = (1_000, 40)

    result = await make_advisor(client).advise(DIALOGUE, CATALOG)

    assert result.produto == "Dipirona Monoidratada 500 mg"
    assert result.explicacao == "Alivia a dor de cabeça."
    assert (result.provider, result.model) == ("openai", MODEL)
    assert (result.input_tokens, result.output_tokens) == (1_000, 40)
    assert result.cost_usd == pytest.approx((1_000 * 0.15 + 40 * 0.60) / 1e6)
    assert result.latency_s > 0


async def test_text_no_database_takes_is_cleaned_out_of_the_answer(
    fake: FakeOpenAICompat, client: AsyncOpenAI
) -> None:
    # JSON escapes a model can write inside its strings: NUL, and half of a surrogate pair
    said = r'{"recomendar": true, "produto": "Dipirona Monoidratada 500 mg",'
    said += r' "explicacao": "Alivia\u0000 a dor \ud83d."}'
    message = {"role": "assistant", "content": said, "refusal": None}
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    completion = {"id": "c1", "object": "chat.completion", "created": 1, "model": MODEL}
    fake.malformed_next(json.dumps({**completion, "choices": [choice]}))

    result = await make_advisor(client).advise(DIALOGUE, CATALOG)

    assert result.explicacao == "Alivia a dor \ufffd."
    result.explicacao.encode()  # UTF-8 at last


async def test_request_carries_model_schema_and_only_non_prescription_products(
    fake: FakeOpenAICompat, client: AsyncOpenAI
) -> None:
    await make_advisor(client).advise(DIALOGUE, CATALOG)

    [sent] = fake.requests
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    body = sent.body
    assert body["model"] == MODEL
    # The schema holds the model to the offered (non-prescription) catalog names, or "".
    offered = ["Dipirona Monoidratada 500 mg", "Loratadina 10 mg"]
    assert body["response_format"] == json.loads(json.dumps(response_format(offered)))
    enum = body["response_format"]["json_schema"]["schema"]["properties"]["produto"]["enum"]
    assert enum == [*offered, ""]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["temperature"] == 0.2
    assert body["max_completion_tokens"] == 200
    system, user = body["messages"]
    assert (system["role"], user["role"]) == ("system", "user")
    assert "Dipirona Monoidratada 500 mg" in system["content"]
    assert "Loratadina 10 mg" in system["content"]
    assert "Amoxicilina" not in system["content"]
    assert "[cliente] Estou com muita dor de cabeça desde ontem." in user["content"]
    assert "[atendente] Boa tarde" in user["content"]


async def test_no_recommendation_keeps_the_reason(
    fake: FakeOpenAICompat, client: AsyncOpenAI
) -> None:
    fake.respond = answer(False, "", "O cliente só pediu informação.")

    result = await make_advisor(client).advise(DIALOGUE, CATALOG)

    assert (result.produto, result.explicacao) == (None, "O cliente só pediu informação.")


@pytest.mark.parametrize(
    ("produto", "logged"),
    [("Paracetamol 750 mg", "not in the catalog"), ("Amoxicilina 500 mg", "prescription")],
)
async def test_unusable_product_is_dropped_with_a_warning(
    fake: FakeOpenAICompat,
    client: AsyncOpenAI,
    caplog: pytest.LogCaptureFixture,
    produto: str,
    logged: str,
) -> None:
    fake.respond = answer(True, produto)

    with caplog.at_level(logging.WARNING, logger="balto.providers.openai_chat"):
        result = await make_advisor(client).advise(DIALOGUE, CATALOG)

    assert (result.produto, result.explicacao) == (None, "")
    assert logged in caplog.text


async def test_nothing_to_ask_makes_no_call(fake: FakeOpenAICompat, client: AsyncOpenAI) -> None:
    advisor = make_advisor(client)
    only_prescription = Catalog([p for p in CATALOG.products if p.prescription_only])

    silent = await advisor.advise([Turn("  ", None, 0.0, 1.0)], CATALOG)
    no_products = await advisor.advise(DIALOGUE, only_prescription)

    assert silent.produto is None and no_products.produto is None
    assert fake.requests == []


@pytest.mark.parametrize("fake", ["xai"], indirect=True)
async def test_xai_flavor_succeeds_and_prices_as_xai(
    fake: FakeOpenAICompat, client: AsyncOpenAI
) -> None:
    fake.respond = answer(True, "Loratadina 10 mg")
    fake.usage = (2_000, 20)
    model = "grok-4-1-fast-non-reasoning"

    result = await make_advisor(client, name="xai", model=model).advise(DIALOGUE, CATALOG)

    assert (result.produto, result.provider) == ("Loratadina 10 mg", "xai")
    assert result.cost_usd == pytest.approx((2_000 * 0.20 + 20 * 0.50) / 1e6)


@both_flavors
async def test_bad_key_is_auth(fake: FakeOpenAICompat, base_url: str) -> None:
    async with make_client("wrong-key", base_url + "/v1") as client:
        error = await failure(make_advisor(client, name=fake.flavor))

    assert error.category is Category.AUTH
    assert error.status == (400 if fake.flavor == "xai" else 401)
    assert "Incorrect API key" in error.message


@both_flavors
async def test_plain_bad_request_is_invalid_request(
    fake: FakeOpenAICompat, client: AsyncOpenAI
) -> None:
    fake.fail_next(400)

    error = await failure(make_advisor(client))

    assert (error.category, error.status) == (Category.INVALID_REQUEST, 400)


async def test_rate_limit_is_rate_limited_with_retry_after(
    fake: FakeOpenAICompat, client: AsyncOpenAI
) -> None:
    fake.fail_next(429, headers={"retry-after": "1.5"})

    error = await failure(make_advisor(client))

    assert (error.category, error.status, error.retry_after) == (
        Category.RATE_LIMITED,
        429,
        1.5,
    )
    assert len(fake.requests) == 1  # the SDK did not retry on its own


async def test_insufficient_quota_is_quota(fake: FakeOpenAICompat, client: AsyncOpenAI) -> None:
    fake.fail_next(429, INSUFFICIENT_QUOTA)

    error = await failure(make_advisor(client))

    assert error.category is Category.QUOTA


@both_flavors
@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_server(
    fake: FakeOpenAICompat, client: AsyncOpenAI, status: int
) -> None:
    fake.fail_next(status)

    error = await failure(make_advisor(client))

    assert (error.category, error.status) == (Category.SERVER, status)


async def test_hung_server_times_out_within_budget(
    fake: FakeOpenAICompat, client: AsyncOpenAI
) -> None:
    fake.hang_next(10.0)
    started = trio.current_time()

    error = await failure(make_advisor(client, timeout_s=0.5))

    assert error.category is Category.TIMEOUT
    assert 0.4 <= trio.current_time() - started < 1.5


def _prose(fake: FakeOpenAICompat) -> None:
    fake.malformed_next()


def _refusal(fake: FakeOpenAICompat) -> None:
    fake.refuse_next()


def _raw(body: str) -> Callable[[FakeOpenAICompat], None]:
    return lambda fake: fake.malformed_next(body)


def _wrong_schema(fake: FakeOpenAICompat) -> None:
    fake.respond = lambda _: {"recomendar": "sim", "produto": 3, "explicacao": None}


@pytest.mark.parametrize(
    "setup",
    [
        _prose,
        _refusal,
        _wrong_schema,
        _raw("<html>Bad gateway</html>"),
        _raw('{"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []}'),
        _raw('{"id": "x"}'),
        _raw("[1, 2]"),
    ],
    ids=["prose", "refusal", "wrong-schema", "not-json", "no-choices", "no-fields", "array"],
)
async def test_unusable_answer_is_malformed(
    fake: FakeOpenAICompat, client: AsyncOpenAI, setup: Callable[[FakeOpenAICompat], None]
) -> None:
    setup(fake)

    error = await failure(make_advisor(client))

    assert error.category is Category.MALFORMED_RESPONSE


QUOTE = "meu CPF é 123.456.789-00"  # what a customer said, echoed by the model


@pytest.mark.parametrize(
    "setup",
    [
        lambda fake: fake.refuse_next(f"Não posso: a cliente disse {QUOTE}"),
        lambda fake: setattr(
            fake, "respond", lambda _: {"recomendar": "sim", "produto": QUOTE, "explicacao": 1}
        ),
    ],
    ids=["refusal", "wrong-schema"],
)
async def test_what_the_model_said_stays_out_of_the_error_message(
    fake: FakeOpenAICompat, client: AsyncOpenAI, setup: Callable[[FakeOpenAICompat], None]
) -> None:
    """The message is logged and stored with the provider call, neither of which is erased with
    the conversation; the words go with the refusal only (`answer`), which is."""
    setup(fake)

    error = await failure(make_advisor(client))

    assert isinstance(error, UnusableAnswer)
    assert "123.456" not in str(error) and "123.456" not in error.message
    assert QUOTE in error.answer


async def test_refused_connection_is_connectivity() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async with make_client(KEY, f"http://127.0.0.1:{port}/v1") as client:
        error = await failure(make_advisor(client))

    assert error.category is Category.CONNECTIVITY
