"""Product advice from an OpenAI-compatible chat model: OpenAI or xAI Grok (PROVIDERS.md §3-4).

In: the rolling dialogue and the catalog. Out: an `AdviceResult` naming at most one
non-prescription catalog product (by its canonical catalog name), with token usage and cost.
Raises `ProviderError` for every provider failure; Trio cancellation passes through untouched.

The model answers in a strict JSON schema whose ``produto`` is an enum of the offered catalog
names; the answer is still checked here, because not every model or gateway honours the enum: a
name is matched the way people write it (`balto.catalog.names`), and one that names no product,
several, or a prescription-only one comes back refused (`AdviceResult.refused`). An answer that is
not the schema's JSON, or a refusal, raises `UnusableAnswer`. Whether the product fits the need is
the advice chain's call (`balto.advice.chain`). One attempt per call: retries, backoff and failover
belong to the caller.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import openai
import pydantic
import trio
from openai import AsyncOpenAI
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)
from openai.types.shared_params import ResponseFormatJSONSchema

from balto.catalog import Catalog, Product
from balto.catalog.names import MatchKind, match_name
from balto.errors import Category, ProviderError, UnusableAnswer
from balto.pricing import Pricing
from balto.providers.http_errors import classify_status, describe_body, parse_retry_after
from balto.providers.ports import ASKED_MISSING, CAUTIONS, AdviceResult, Turn
from balto.providers.redaction import redact
from balto.storable_text import storable

logger = logging.getLogger(__name__)

TEMPERATURE = 0.2
# One product name and one short sentence fit in well under 200 tokens; the cap bounds cost and
# latency if the model rambles.
MAX_COMPLETION_TOKENS = 200

# The model is held to the catalog: `produto` is an enum of the offered names plus "" for "no
# recommendation". Both OpenAI and xAI enforce enums in strict structured outputs; OpenAI allows
# up to 1,000 enum values (15,000 characters of them past 250), far above what
# `balto.advice.chain.MAX_OFFERED` lets through.
SCHEMA_NAME = "Recomendacao"
# What the model quoted of its answer, kept for admins when the answer is refused.
_SAID_CHARS = 300


def response_format(names: Sequence[str]) -> ResponseFormatJSONSchema:
    """The strict ``json_schema`` response format whose ``produto`` must be one of `names` or "".

    Args:
        names: The catalog names the model may choose from.

    Returns:
        The ``response_format`` request field.
    """
    return {
        "type": "json_schema",
        "json_schema": {
            "name": SCHEMA_NAME,
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {
                    "recomendar": {"type": "boolean"},
                    "produto": {"type": "string", "enum": [*names, ""]},
                    "explicacao": {"type": "string"},
                },
                "required": ["recomendar", "produto", "explicacao"],
                "additionalProperties": False,
            },
        },
    }


_INSTRUCTIONS = """\
Você é o assistente do balcão de uma farmácia brasileira. Você acompanha a conversa entre o \
atendente e o cliente e sugere ao atendente no máximo UM produto que atenda ao que o cliente \
precisa.

Regras:
- Sugira somente produtos da lista abaixo, com o nome exatamente como está na lista.
- O produto deve atender à necessidade que o cliente mostrou (sintoma, pedido ou situação).
- A lista só tem produtos isentos de prescrição; nunca sugira outro medicamento.
- Se nada da lista se aplica, ou se a conversa não trata de uma necessidade do cliente, não \
recomende: "recomendar": false e "produto": "".
- "explicacao": uma frase curta, para o atendente, dizendo por que o produto ajuda.
- Responda somente com o objeto JSON pedido.
- Cada fala vem marcada com quem falou: [atendente], [cliente], ou [falante] quando não se sabe. \
A necessidade é a que o cliente mostra; uma pergunta do atendente não é uma queixa do cliente.

Produtos disponíveis (nome | categoria | indicações):
"""
_MISSING = """

Em falta nesta loja, e por isso fora da lista: {}. O cliente pediu por nome; se um produto da \
lista o substitui, sugira-o e diga na explicação que o pedido está em falta."""
_CAUTIONS = """

Cuidados: o cliente relatou {}. Os produtos contraindicados para isso foram tirados da lista. \
Se o cliente pediu um deles, sugira outro da lista que o substitua e diga na explicação por quê."""


def make_client(api_key: str, base_url: str) -> AsyncOpenAI:
    """An `AsyncOpenAI` for `base_url` that never retries by itself.

    Retries belong to Balto's failover layer, so the SDK's own (two by default) are turned off.
    Under Trio the caller must close the client: ``async with make_client(...) as client:``.

    Args:
        api_key: The bearer key.
        base_url: The API root including ``/v1`` (``https://api.x.ai/v1``).

    Returns:
        The unopened client.
    """
    return AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0)


class OpenAIChatAdvisor:
    """The `Advisor` port on an OpenAI-compatible ``/chat/completions`` endpoint.

    Attributes:
        name: The provider name (``"openai"`` or ``"xai"``), used for pricing and error reports.
        model: The chat model id.
    """

    def __init__(
        self, *, name: str, client: AsyncOpenAI, model: str, pricing: Pricing, timeout_s: float
    ) -> None:
        """Configure the advisor; no I/O happens here.

        Args:
            name: The provider name (``"openai"`` or ``"xai"``).
            client: A client owned (opened and closed) by the caller; see `make_client`.
            model: The chat model id.
            pricing: Prices used to account the cost of each call.
            timeout_s: Budget for one whole call.
        """
        self.name = name
        self.model = model
        self._client = client
        self._pricing = pricing
        self._timeout_s = timeout_s

    async def advise(self, dialogue: Sequence[Turn], catalog: Catalog) -> AdviceResult:
        """Ask the model for at most one product for this dialogue.

        With no spoken text or no non-prescription product there is nothing to ask, so no call is
        made and no suggestion is returned.

        Args:
            dialogue: The recent turns, oldest first.
            catalog: The products the answer must come from.

        Returns:
            The suggestion; `produto` is None when the model suggested nothing usable.

        Raises:
            ProviderError: The call failed or the answer was unusable; the category says how.
        """
        offered = [product for product in catalog.products if not product.prescription_only]
        if not offered or not any(turn.text.strip() for turn in dialogue):
            return AdviceResult(None, "", self.name, self.model, latency_s=0.0)
        started = trio.current_time()
        completion = await self._complete(
            build_messages(dialogue, offered, ASKED_MISSING.get(), CAUTIONS.get()),
            response_format([p.nome for p in offered]),
        )
        latency_s = trio.current_time() - started
        recomendar, produto, explicacao = self._read_answer(completion)
        chosen, refused = self._vet(produto, catalog) if recomendar else (None, None)
        if refused is not None:
            # The reason was written for a product we will not show.
            explicacao = ""
        usage = getattr(completion, "usage", None)
        input_tokens = _int_attr(usage, "prompt_tokens")
        output_tokens = _int_attr(usage, "completion_tokens")
        return AdviceResult(
            produto=chosen,
            explicacao=explicacao.strip(),
            provider=self.name,
            model=self.model,
            latency_s=latency_s,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=self._pricing.llm_cost(self.name, self.model, input_tokens, output_tokens),
            refused=refused,
            said=produto[:_SAID_CHARS] if refused is not None else "",
        )

    async def _complete(
        self, messages: list[ChatCompletionMessageParam], schema: ResponseFormatJSONSchema
    ) -> ChatCompletion:
        """One chat completion within the time budget, with SDK errors translated."""
        # max_retries=0 here too, so one call is one attempt even with a caller-made client.
        client = self._client.with_options(timeout=self._timeout_s, max_retries=0)
        try:
            # The SDK timeout bounds each phase; fail_after bounds the whole call.
            with trio.fail_after(self._timeout_s):
                return await client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    response_format=schema,
                    temperature=TEMPERATURE,
                    max_completion_tokens=MAX_COMPLETION_TOKENS,
                )
        except trio.TooSlowError as exc:
            raise self._error(Category.TIMEOUT, f"no answer within {self._timeout_s:g} s") from exc
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except openai.APITimeoutError as exc:
            raise self._error(Category.TIMEOUT, str(exc)) from exc
        except openai.APIConnectionError as exc:
            raise self._error(Category.CONNECTIVITY, str(exc)) from exc
        except (openai.APIResponseValidationError, pydantic.ValidationError, ValueError) as exc:
            # ValueError covers a 200 body that is not JSON (json.JSONDecodeError). The message
            # names the error, not the body (it may quote the customer: logs keep no speech).
            raise self._malformed(f"the body is unusable: {type(exc).__name__}", str(exc)) from exc

    def _status_error(self, exc: openai.APIStatusError) -> ProviderError:
        """Translate an HTTP error answer; `exc.body` is the inner error object or xAI's string."""
        return ProviderError(
            self.name,
            classify_status(exc.status_code, exc.body),
            f"HTTP {exc.status_code}: {describe_body(exc.body)}",
            status=exc.status_code,
            retry_after=parse_retry_after(exc.response.headers),
        )

    def _read_answer(self, completion: ChatCompletion) -> tuple[bool, str, str]:
        """The ``(recomendar, produto, explicacao)`` triple from the first choice."""
        # The SDK builds response models without validating them, so every field is checked here.
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise self._malformed("no choices in the completion", "")
        message = getattr(choices[0], "message", None)
        refusal = getattr(message, "refusal", None)
        if refusal:
            raise UnusableAnswer(
                self.name,
                "recusa",
                "the model refused (its words are kept with the refusal)",
                storable(str(refusal))[:_SAID_CHARS],
            )
        content = getattr(message, "content", None)
        if not isinstance(content, str):
            raise self._malformed("the message has no content", "")
        content = storable(content)  # what is kept of it (said) goes to the database
        try:
            answer: object = json.loads(content)
        except ValueError as exc:
            reason = getattr(choices[0], "finish_reason", None)
            raise self._malformed(f"content is not JSON (finish_reason={reason})", content) from exc
        if not isinstance(answer, Mapping):
            raise self._malformed("content is not a JSON object", content)
        recomendar = answer.get("recomendar")
        produto = answer.get("produto")
        explicacao = answer.get("explicacao")
        if not (
            isinstance(recomendar, bool)
            and isinstance(produto, str)
            and isinstance(explicacao, str)
            and (produto.strip() or not recomendar)
        ):
            raise UnusableAnswer(
                self.name,
                "fora_do_esquema",
                "answer does not match the schema (recomendar, produto, explicacao)",
                content[:_SAID_CHARS],
            )
        # a model can write "\u0000" or half a surrogate pair inside its JSON strings
        return recomendar, storable(produto), storable(explicacao)

    def _vet(self, produto: str, catalog: Catalog) -> tuple[str | None, str | None]:
        """``(canonical name, None)`` for a product that may be suggested, else ``(None, why)``."""
        found = match_name(catalog, produto)
        if found.kind is MatchKind.AMBIGUOUS:
            names = ", ".join(p.nome for p in found.candidates)
            logger.warning(
                "%s/%s suggested %r, which names several products (%s): not in the catalog"
                " as one product",
                self.name,
                self.model,
                produto,
                names,
            )
            return None, "produto_ambiguo"
        if found.product is None:
            logger.warning(
                "%s/%s suggested %r, which is not in the catalog", self.name, self.model, produto
            )
            return None, "produto_desconhecido"
        if found.product.prescription_only:
            logger.warning(
                "%s/%s suggested %r, which needs a prescription",
                self.name,
                self.model,
                found.product.nome,
            )
            return None, "exige_receita"
        return found.product.nome, None

    def _error(self, category: Category, message: str) -> ProviderError:
        """A `ProviderError` from this provider."""
        return ProviderError(self.name, category, message)

    def _malformed(self, message: str, answer: str) -> UnusableAnswer:
        """The error for a 200 answer that is not the JSON object asked for."""
        return UnusableAnswer(self.name, "resposta_malformada", message, answer[:_SAID_CHARS])


def build_messages(
    dialogue: Sequence[Turn],
    products: Sequence[Product],
    missing: Sequence[str] = (),
    cautions: Sequence[str] = (),
) -> list[ChatCompletionMessageParam]:
    """The system and user messages for one advice request.

    The catalog goes in the system message and the dialogue last, so consecutive requests share a
    long identical prefix that providers can cache.

    Args:
        dialogue: The recent turns, oldest first.
        products: The products the model may choose from (non-prescription only).
        missing: Products the customer asked for by name that are out of stock here (not in
            `products`): said after the list, so the list's prefix stays the same.
        cautions: What the customer said that rules products out ("gravidez"; the products it
            rules out are not in `products`), said after the list too.

    Returns:
        The chat messages.
    """
    catalog_lines = "\n".join(
        f"- {product.nome} | {product.categoria} | {', '.join(product.indicacoes)}"
        for product in products
    )
    dialogue_lines = "\n".join(
        # Redacted here too: whatever the caller passed, no CPF, phone or e-mail leaves for an LLM.
        f"[{turn.speaker or 'falante'}] {redact(turn.text.strip())}"
        for turn in dialogue
        if turn.text.strip()
    )
    if missing:
        catalog_lines += _MISSING.format(", ".join(missing))
    if cautions:
        catalog_lines += _CAUTIONS.format(", ".join(cautions))
    system: ChatCompletionSystemMessageParam = {
        "role": "system",
        "content": _INSTRUCTIONS + catalog_lines,
    }
    user: ChatCompletionUserMessageParam = {
        "role": "user",
        "content": f"Conversa no balcão até agora:\n{dialogue_lines}",
    }
    return [system, user]


def _int_attr(obj: Any, name: str) -> int:
    """`obj.name` when it is an int, else 0 (usage is optional in the wire format)."""
    value = getattr(obj, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
