"""Product names as people write them, the needs a dialogue shows, and red flags heard right."""

from __future__ import annotations

import pytest

from balto.advice.needs import NeedDetector
from balto.catalog import Catalog, Product
from balto.catalog.names import MatchKind, NameIndex
from balto.providers.ports import Turn
from balto.providers.red_flags import detect_all

CATALOG = Catalog.load()


def turns(*texts: str) -> list[Turn]:
    return [Turn(text, None, 4.0 * i, 4.0 * i + 3.0) for i, text in enumerate(texts)]


@pytest.mark.parametrize(
    ("said", "nome"),
    [
        ("Loratadina 10mg", "Loratadina 10 mg"),
        ("LORATADINA 10 MG", "Loratadina 10 mg"),
        ("loratadina", "Loratadina 10 mg"),
        ("Sal de Fruta Eno", "Sal de Frutas Eno"),
        ("sal de frutas", "Sal de Frutas Eno"),
        ("Eno", "Sal de Frutas Eno"),
        ("Soro fisiologico nasal 0.9 %", "Soro Fisiológico Nasal 0,9%"),
        ("Pastilhas para garganta mel + limão", "Pastilhas para Garganta com Mel e Limão"),
        ("Antigripal (Paracetamol e Fenilefrina e Clorfeniramina)", None),
        ("Dramin", "Dimenidrinato (Dramin)"),
        ("dimenidrinato", "Dimenidrinato (Dramin)"),
        ("Dorflex comprimidos", "Dorflex"),
        ("Protetor solar FPS50", "Protetor Solar FPS 50"),
        ("Vitamina C 1g efervescente", "Vitamina C 1 g Efervescente"),
    ],
)
def test_names_match_whatever_the_spelling(said: str, nome: str | None) -> None:
    expected = nome or "Antigripal (Paracetamol + Fenilefrina + Clorfeniramina)"
    found = NameIndex(CATALOG).match(said)
    assert (found.kind, found.product and found.product.nome) == (MatchKind.FOUND, expected)


@pytest.mark.parametrize("said", ["Bicarbonato de sódio", "Tylenol", "mg", "10 mg", "", "Fralda"])
def test_names_of_no_product_are_unknown(said: str) -> None:
    assert NameIndex(CATALOG).match(said).kind is MatchKind.UNKNOWN


@pytest.mark.parametrize("said", ["Paracetamol", "Soro"])
def test_names_of_several_products_are_ambiguous(said: str) -> None:
    found = NameIndex(CATALOG).match(said)
    assert found.kind is MatchKind.AMBIGUOUS and len(found.candidates) == 2
    assert found.product is None


def test_a_stricter_rule_decides_before_a_looser_one() -> None:
    catalog = Catalog(
        [
            Product("Dipirona 500 mg", "analgésico", ("dor",), "x"),
            Product("Dipirona 1 g", "analgésico", ("dor",), "x"),
        ]
    )
    index = NameIndex(catalog)
    found = index.match("dipirona 500mg")
    assert found.product is not None and found.product.nome == "Dipirona 500 mg"
    assert index.match("dipirona").kind is MatchKind.AMBIGUOUS


def test_a_big_catalog_matches_as_the_small_one_does() -> None:
    # a stock system's list meets a chain's whole range: the looser rule still sees every
    # product sharing a word with the name, and an ambiguous name lists them in catalog order
    filler = [Product(f"Composto {i} {i % 9 + 1}0 mg", "x", (), "x") for i in range(3000)]
    index = NameIndex(Catalog([*filler, *CATALOG.products]))
    for said, nome in (
        ("Eno", "Sal de Frutas Eno"),
        ("Dramin", "Dimenidrinato (Dramin)"),
        ("loratadina", "Loratadina 10 mg"),
        ("Dorflex comprimidos", "Dorflex"),
        ("composto 17 90mg", "Composto 17 90 mg"),
        ("composto 17", "Composto 17 90 mg"),
    ):
        found = index.match(said)
        assert found.product is not None and found.product.nome == nome, said
    many = index.match("composto")
    assert many.kind is MatchKind.AMBIGUOUS and len(many.candidates) == 3000
    assert [p.nome for p in many.candidates[:2]] == ["Composto 0 10 mg", "Composto 1 20 mg"]
    assert index.match("Paracetamol").kind is MatchKind.AMBIGUOUS
    assert index.match("Tylenol").kind is MatchKind.UNKNOWN


def need_codes(*texts: str) -> list[str]:
    return [need.code for need in NeedDetector(CATALOG).detect(turns(*texts)).needs]


def best(*texts: str) -> str | None:
    candidates = NeedDetector(CATALOG).detect(turns(*texts)).candidates()
    return candidates[0].categoria if candidates else None


@pytest.mark.parametrize(
    ("texts", "categoria"),
    [
        (["tô com uma queimação na boca do estômago"], "antiácido"),
        (["É pra azia?", "isso, desde o almoço"], "antiácido"),
        (["malhei ontem e tô todo dolorido"], "relaxante muscular"),
        (["meu nariz tá trancado, não consigo dormir"], "descongestionante nasal"),
        (["vou pra praia sábado com as crianças"], "dermocosmético"),
        (["tô todo gripado, nariz escorrendo, corpo dolorido"], "antigripal"),
    ],
)
def test_needs_said_in_everyday_words(texts: list[str], categoria: str) -> None:
    assert best(*texts) == categoria


@pytest.mark.parametrize(
    "texts",
    [
        ["Bom dia, tudo bem?"],
        ["que dor de cotovelo do meu time, perdeu de novo"],
        ["o sol tá de rachar hoje, né"],
        ["tem sacolinha? e onde fica o banheiro?"],
    ],
)
def test_small_talk_shows_no_need(texts: list[str]) -> None:
    assert need_codes(*texts) == []


def test_a_denied_or_unanswered_screening_question_shows_nothing() -> None:
    assert "febre" not in need_codes("Tá com febre?")  # not answered yet
    assert "febre" not in need_codes("Tá com febre?", "não, só o nariz entupido")
    assert "febre" not in need_codes(
        "Quantos meses ela tem? Tá com febre?", "sete meses, febre não"
    )
    assert "febre" in need_codes("Tá com febre?", "um pouquinho, trinta e sete e meio")


def test_an_asked_product_is_a_need_of_its_category() -> None:
    view = NeedDetector(CATALOG).detect(turns("me vê um dorflex"))
    assert [n.code for n in view.needs] == ["pedido:Dorflex"]
    dorflex, loratadina = CATALOG.find("Dorflex"), CATALOG.find("Loratadina 10 mg")
    assert dorflex is not None and loratadina is not None
    assert view.fits(dorflex) and not view.fits(loratadina)


def test_a_product_of_another_category_does_not_fit() -> None:
    view = NeedDetector(CATALOG).detect(turns("dor muscular depois do treino de ontem"))
    diaper_cream = CATALOG.find("Pomada para Assaduras com Óxido de Zinco")
    assert diaper_cream is not None and not view.fits(diaper_cream)
    assert all(not p.prescription_only for p in view.candidates())


def flags(*texts: str) -> list[str]:
    return [flag.code for flag in detect_all(turns(*texts))]


def test_every_red_flag_in_the_window_is_found() -> None:
    assert flags("meu pai tá com um aperto no meio do peito", "e agora tá meio sem ar") == [
        "dor_no_peito",
        "falta_de_ar",
    ]


def test_denied_red_flags_are_not_alerted() -> None:
    assert flags("O senhor tá com falta de ar, a boca inchando?", "não, nada disso") == []
    assert flags("tô com coceira, sem falta de ar nenhuma") == []
    assert flags("Quantos meses? Tá com febre?", "sete meses, febre não") == []


def test_a_question_written_without_its_mark_and_answered_no_shows_nothing() -> None:
    # Speech to text rarely writes "?": the answer tells it was a question.
    asked = "tem sangue nas fezes febre alta"
    assert flags(asked) == ["sangramento"]  # unanswered, it may be the customer telling
    assert flags(asked, "não nada disso foi o pastel da rodoviária") == []
    assert flags("inchou a boca o olho", "não inchou nada disso só coça") == []
    # The customer's own words are told whatever the answer.
    assert flags("minha boca inchou e tá fechando a garganta", "não espera, chama o samu") == [
        "reacao_alergica_grave"
    ]


def test_a_complaint_that_is_over_is_no_need() -> None:
    assert need_codes("a dor de cabeça já passou, hoje vim só pagar a fatura") == []
    assert "dor_de_cabeca" in need_codes("a dor de cabeça não passou, tá latejando desde ontem")


def test_a_babys_fever_told_with_a_refusal_to_feed_is_a_sign() -> None:
    # "e não quer mamar" starts another clause; it does not deny the fever.
    assert flags("minha bebê de seis meses tá com febre e não quer mamar de jeito nenhum") == [
        "febre_alta_bebe"
    ]


def test_signs_told_in_spanish_are_found() -> None:
    assert flags("me duele el pecho y baja por el brazo izquierdo") == ["dor_no_peito"]
    assert flags("mi hijo tomó muchas pastillas de su abuela") == ["intoxicacao"]
    assert flags("casi me da un ataque al corazón con ese penal") == []


def test_a_customer_question_about_a_sign_is_a_sign() -> None:
    assert flags("tô com dor no peito, o que eu faço?") == ["dor_no_peito"]


@pytest.mark.parametrize(
    ("texts", "categoria"),
    [
        (["as costas travaram aqui embaixo"], "relaxante muscular"),
        (["o olho fica ressecado no fim do dia"], "oftálmico"),
        (["o narizinho dele faz um barulhinho quando mama"], "descongestionante nasal"),
    ],
)
def test_a_body_part_and_a_complaint_said_together_show_a_need(
    texts: list[str], categoria: str
) -> None:
    assert best(*texts) == categoria


def test_a_body_part_and_a_complaint_far_apart_show_nothing() -> None:
    codes = need_codes("terminei o remédio da dor de ouvido semana passada e o intestino ficou bom")
    assert "colica" not in codes


def test_short_brazilian_denials_answer_no() -> None:
    assert "alergia" not in need_codes("O senhor tem alergia a algum remédio?", "tenho não.")
    assert flags("tem sangue nas fezes?", "sangue nenhum, febre também não") == []


def test_hyperbole_is_not_a_red_flag() -> None:
    assert flags("esse time ainda vai me dar um infarto") == []
    assert flags("a conta de luz me deu até falta de ar, kkk") == []


def test_a_product_the_customer_cannot_take_is_not_asked_for() -> None:
    assert "pedido:Dipirona Monoidratada 500 mg" not in need_codes(
        "não, dipirona ele não pode, o médico falou pra evitar"
    )


def test_a_chest_complaint_said_over_three_turns_is_a_sign() -> None:
    assert flags(
        "me dá um sal de fruta, tô com um negócio no peito desde o almoço",
        "que negócio? queimação ou aperto?",
        "um aperto, parece que tem um elefante sentado aqui",
    ) == ["dor_no_peito"]


def test_a_clause_closed_by_nao_denies_what_it_names() -> None:
    assert flags("tá com falta de ar?", "falta de ar não, respirar tá normal") == []


def test_a_customers_ask_ending_in_tem_is_told_not_asked() -> None:
    codes = need_codes("E um calmante forte, um rivotril, a senhora tem?")
    assert "indicacao:Clonazepam 2 mg" in codes


def test_two_different_clues_show_a_sign_told_without_its_name() -> None:
    told = ("ela teve um treco no sofá", "tremeu toda e ficou um tempão sem responder")
    assert flags(*told) == ["convulsao"]
    # one clue alone, or two words for the same clue, is not enough
    assert flags("tô tremendo de frio desde ontem") == []
    assert flags("bati a canela, ficou roxo", "roxinho e dói quando encosto") == []


def test_a_very_high_fever_in_a_small_child_is_a_sign_whatever_the_age() -> None:
    assert flags("meu filho de um ano e meio tá com quarenta e um de febre") == ["febre_alta_bebe"]
    # the same number without a child is a grown-up's fever: a need, not a referral
    assert flags("tô com febre, deu trinta e oito e meio") == []


def test_a_sign_with_two_rules_is_alerted_once() -> None:
    said = flags("minha bebê de dois meses tá pelando", "deu quarenta e um graus, a filha tá mole")
    assert said == ["febre_alta_bebe"]


def test_a_complaint_comes_before_a_circumstance_said_with_it() -> None:
    view = NeedDetector(CATALOG).detect(
        turns("fiquei o dia inteiro no sol no festival e hoje a cabeça tá pesada, doendo")
    )
    assert view.candidates()[0].categoria != "dermocosmético"


def test_a_products_own_name_beats_another_products_alias() -> None:
    assert "pedido:Paracetamol 750 mg" in need_codes("queria um paracetamol")
