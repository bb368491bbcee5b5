"""Redaction, red flags, word error rate and CSV catalogs: pure functions, table-driven."""

from __future__ import annotations

import pytest

from balto.catalog import Catalog
from balto.catalog.csv_import import CatalogError, catalog_from_csv, catalog_to_json
from balto.providers.catalog_advisor import CatalogAdvisor
from balto.providers.ports import Turn
from balto.providers.red_flags import detect
from balto.providers.redaction import redact
from balto.providers.wer import word_error_rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("meu cpf é 123.456.789-09 ok", "meu cpf é [CPF] ok"),
        ("cpf 12345678909", "cpf [CPF]"),
        ("cpf 123 456 789 09", "cpf [CPF]"),
        ("liga no (11) 98765-4321", "liga no [TELEFONE]"),
        ("liga no +55 11 98765 4321", "liga no [TELEFONE]"),
        ("fixo 3456-7890", "fixo [TELEFONE]"),
        ("manda pra joao.silva@gmail.com", "manda pra [EMAIL]"),
        ("é joao ponto silva arroba gmail ponto com", "é [EMAIL]"),
        ("dipirona 500 mg, 20 comprimidos", "dipirona 500 mg, 20 comprimidos"),
        # what no database takes, from an STT's JSON escapes: NUL dropped, a lone surrogate marked
        ("dor\u0000 de cabeça\udc00", "dor de cabeça\ufffd"),
    ],
)
def test_redaction(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent


def turns(*texts: str) -> list[Turn]:
    return [Turn(text, None, float(i), float(i) + 1) for i, text in enumerate(texts)]


@pytest.mark.parametrize(
    ("texts", "code"),
    [
        (["Estou com um aperto no peito desde cedo"], "dor_no_peito"),
        (["Ele está com falta de ar"], "falta_de_ar"),
        (["Minha mãe acordou com a boca torta e a fala enrolada"], "sinais_de_avc"),
        (["Minha filha tem 3 meses", "Ela está com febre de 39"], "febre_alta_bebe"),
        (["O bebê está com febre"], "febre_alta_bebe"),
        (["Meu filho tomou a cartela toda"], "intoxicacao"),
        (["Não aguento mais, quero morrer"], "risco_de_suicidio"),
    ],
)
def test_red_flags(texts: list[str], code: str) -> None:
    flag = detect(turns(*texts))
    assert flag is not None and flag.code == code


@pytest.mark.parametrize(
    "text",
    [
        "Estou com dor de cabeça",
        "Eu estou com febre e dor no corpo",  # fever in an adult: not a referral by itself
        "Quero um protetor solar para o peito",
    ],
)
def test_no_red_flag(text: str) -> None:
    assert detect(turns(text)) is None


def test_word_error_rate_by_hand() -> None:
    assert word_error_rate("Quero um remédio.", "quero um remedio") == 0.0
    # one substitution (dor→flor) and one deletion (forte) over 5 words
    assert word_error_rate("dor de cabeça muito forte", "flor de cabeça muito") == 2 / 5
    assert word_error_rate("", "") == 0.0 and word_error_rate("", "x") == 1.0


CSV = """nome;categoria;indicacoes;explicacao;tarja;complementos
Dipirona 1 g;analgésico;dor de cabeça|febre;Para dor e febre.;;Soro Caseiro
Soro Caseiro;reidratação;desidratado;Repõe sais.;isento;
Azitromicina 500 mg;antibiótico;infecção;Só com receita.;vermelha;
"""


def test_csv_import_round_trip() -> None:
    catalog = catalog_from_csv("\ufeff" + CSV)
    assert [p.nome for p in catalog.products] == [
        "Dipirona 1 g",
        "Soro Caseiro",
        "Azitromicina 500 mg",
    ]
    dipirona = catalog.find("dipirona 1 G")
    assert dipirona is not None and dipirona.indicacoes == ("dor de cabeça", "febre")
    assert dipirona.complementos == ("Soro Caseiro",)
    azitro = catalog.find("Azitromicina 500 mg")
    assert azitro is not None and azitro.prescription_only
    again = Catalog.from_json(catalog_to_json(catalog))
    assert again.products == catalog.products


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nome,categoria\nX,Y\n", "missing column"),
        ("nome,categoria,indicacoes,explicacao,tarja\nX,Y,Z,W,amarela\n", "tarja"),
        ("nome,categoria,indicacoes,explicacao\nX,Y,,W\n", "empty indicacoes"),
        ("nome,categoria,indicacoes,explicacao\nX,Y,Z,W\nx,Y,Z,W\n", "appears twice"),
    ],
)
def test_csv_import_rejects(text: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        catalog_from_csv(text)


async def test_catalog_advisor_never_suggests_an_antibiotic() -> None:
    advice = await CatalogAdvisor().advise(
        turns("Quero um antibiótico, amoxicilina, para infecção"), Catalog.load()
    )
    assert advice.produto is None
