"""Reading what rules products out: conditions as customers say them (and not when they are
denied, asked and answered no, figures of speech or someone else's), allergies to a medicine or a
class, and which products of a catalog they rule out."""

from __future__ import annotations

import pytest

from balto.advice import cautions, cautions_blank, cautions_table
from balto.advice.cautions import Cautions
from balto.catalog import Catalog, Product
from balto.providers.ports import Turn


def _read(*texts: str, roles: tuple[str | None, ...] = ()) -> Cautions:
    speakers = roles or (None,) * len(texts)
    pairs = enumerate(zip(texts, speakers, strict=True))
    turns = [Turn(text, who, 4.0 * i, 4.0 * i + 3.0) for i, (text, who) in pairs]
    return cautions.read(turns)


@pytest.mark.parametrize(
    ("texts", "conditions"),
    [
        (("tô grávida de cinco meses e com uma dor de cabeça",), ("gravidez",)),
        (("oxe tô amamentando, ele mama direto",), ("amamentacao",)),
        (("eu tenho pressão alta, tomo losartana",), ("hipertensao",)),
        (("o médico acha que é dengue",), ("dengue",)),
        (("tenho gastrite, sabe",), ("estomago",)),
        (("minha mãe toma marevan",), ("anticoagulante",)),
        (("é pro meu neto de 3 anos",), ("crianca",)),
        (("meu moleque de dez anos tá enjoado",), ("crianca",)),
        (("a senhora tá grávida?", "tô sim"), ("gravidez",)),
        (("a senhora tem pressão alta", "tenho sim, tomo remédio"), ("hipertensao",)),
        # a possible pregnancy rules out what a pregnancy does
        (("será que estou grávida? a menstruação atrasou",), ("gravidez",)),
    ],
)
def test_a_condition_told_is_read(texts: tuple[str, ...], conditions: tuple[str, ...]) -> None:
    assert _read(*texts).conditions == conditions


@pytest.mark.parametrize(
    "texts",
    [
        ("não estou grávida, graças a deus",),
        ("tá grávida?", "não"),
        # unpunctuated, as STT may give it: asked of "você" and answered no
        ("o ibuprofeno serve você tem problema de estômago", "tenho não pode mandar"),
        ("homem gripado é pior que criança",),
        ("tem dose pra adulto e tem a de criança também",),
        ("meu filho de trinta anos tá gripado",),
        ("ele bebe muito refrigerante",),
    ],
)
def test_condition_words_that_do_not_apply_are_not_read(texts: tuple[str, ...]) -> None:
    assert _read(*texts).conditions == ()


def test_a_question_asked_of_the_customer_waits_for_the_answer() -> None:
    asked = "então o ibuprofeno a senhora tem gastrite"
    assert _read(asked).conditions == ()  # no answer yet: not told
    assert _read(asked, "tenho sim").conditions == ("estomago",)


def test_an_attendants_question_counts_once_confirmed_when_roles_are_known() -> None:
    roles = ("atendente", "cliente")
    assert _read("tá grávida?", "não, não").conditions == ()
    assert _read("tá grávida?", "tô sim", roles=roles).conditions == ("gravidez",)


def test_a_pregnancy_told_settles_the_pregnancy_test_need_unless_in_doubt() -> None:
    assert _read("tô grávida de cinco meses").settled == ("gravidez",)
    assert _read("acho que tô grávida, quero um teste").settled == ()


@pytest.mark.parametrize(
    ("text", "allergies"),
    [
        ("sou alérgica a dipirona", ("dipirona",)),
        ("tenho alergia à novalgina", ("dipirona",)),
        ("alérgico a anti-inflamatório", ("anti inflamatorio",)),
        ("não posso tomar AAS", ("acido acetilsalicilico",)),
        ("a aspirina me dá alergia", ("acido acetilsalicilico",)),
        ("tenho alergia a camarão protetor solar", ("camarao",)),
        ("não sou alérgico a nada", ()),
        ("tenho alergia, quero um antialérgico", ()),
    ],
)
def test_an_allergy_names_its_substance(text: str, allergies: tuple[str, ...]) -> None:
    assert _read(text).allergies == allergies


CATALOG = Catalog(
    [
        Product("Dipirona 500 mg", "analgésico", ("dor",), "x", contraindicacoes=("gravidez",)),
        Product("Paracetamol 750 mg", "analgésico", ("dor",), "x", contraindicacoes=("crianca",)),
        Product("Ibuprofeno 400 mg", "anti-inflamatório", ("dor",), "x"),
        Product("Gel de Diclofenaco", "anti-inflamatório tópico", ("pancada",), "x"),
        Product("Aspirina (Ácido Acetilsalicílico)", "analgésico", ("dor",), "x"),
        Product("Antiácido Sabor Menta", "antiácido", ("azia",), "x"),
    ]
)


def test_cautions_rule_out_products_with_the_reason_the_attendant_reads() -> None:
    said = _read("tô grávida e sou alérgica a anti-inflamatório")

    assert said.avoid(CATALOG) == {
        "dipirona 500 mg": "gravidez",
        "ibuprofeno 400 mg": "alergia a anti-inflamatório",
        "gel de diclofenaco": "alergia a anti-inflamatório",
    }
    assert said.labels() == ("gravidez", "alergia a anti-inflamatório")
    assert _read("não posso tomar aspirina").avoid(CATALOG) == {
        "aspirina (acido acetilsalicilico)": "alergia a ácido acetilsalicílico (AAS)"
    }
    assert _read("tô com dor de cabeça").avoid(CATALOG) == {}


def test_a_catalog_names_conditions_by_code_or_by_their_words() -> None:
    assert cautions_table.condition_code("Gestantes") == "gravidez"
    assert cautions_table.condition_code("pressão alta") == "hipertensao"
    assert cautions_table.condition_code("lactantes") == "amamentacao"
    assert cautions_table.condition_code("gripe") is None


def test_telling_a_condition_or_an_allergy_is_blanked_for_the_reader() -> None:
    blanked = cautions_blank.unsaid("Tô com azia, tenho pressão alta.")
    assert blanked == "Tô com azia, tenho             ."
    assert cautions_blank.unsaid("nada a ver") == "nada a ver"
    allergies = cautions_blank.medicine_allergies(CATALOG)
    assert cautions_blank.blank("sou alérgica a dipirona, tô com dor", allergies).split() == [
        "sou",
        ",",
        "tô",
        "com",
        "dor",
    ]
    assert cautions_blank.blank("tenho alergia a poeira", allergies) == "tenho alergia a poeira"


def test_a_compound_lists_the_allergies_its_name_does_not_show() -> None:
    compound = Product(
        "Dorzinha Composto",
        "relaxante muscular",
        ("dor",),
        "x",
        contraindicacoes=(cautions_table.condition_code("Alergia à Novalgina") or "",),
    )
    catalog = Catalog([compound, *CATALOG.products])

    assert compound.contraindicacoes == ("alergia a dipirona",)
    assert _read("sou alérgica a dipirona").avoid(catalog) == {
        "dorzinha composto": "alergia a dipirona",
        "dipirona 500 mg": "alergia a dipirona",
    }
    assert _read("sou alérgica a paracetamol").avoid(catalog) == {
        "paracetamol 750 mg": "alergia a paracetamol"
    }
