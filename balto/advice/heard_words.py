"""The words `balto.advice.heard` reads a counter conversation by: denials, asks, openers.

Data, not logic: which words deny, which make a question personal, how a screening question or a
customer's ask opens. Kept apart so the reading rules in `heard` stay short.
"""

# Words that deny what follows them within a few words ("não tô com febre", "sem falta de ar").
NEGATIONS = frozenset({"nao", "sem", "nenhum", "nenhuma", "nunca", "nada", "nem"})
NEGATION_REACH = 3
# First words of an answer that deny the question before it ("não, nada disso").
DENIALS = frozenset({"nao", "nada", "nenhum", "nenhuma", "nunca", "negativo"})
# A question with one of these in it is the speaker telling about themselves or their family
# ("tô com dor no peito, o que eu faço?"); without them it is a screening question ("tá com
# febre?"), which shows nothing until it is answered.
PERSONAL = frozenset(
    [
        "eu",
        "to",
        "tou",
        "estou",
        "tava",
        "estava",
        "meu",
        "minha",
        "meus",
        "minhas",
        "me",
        "mim",
        "comigo",
        "filho",
        "filha",
        "pai",
        "mae",
        "marido",
        "esposa",
        "mulher",
        "avo",
        "bebe",
        "nene",
        "irmao",
        "irma",
        "neto",
        "neta",
    ]
)
# How an attendant's screening question opens: what follows is asked, not told.
OPENERS = (
    "o senhor",
    "a senhora",
    "senhor",
    "senhora",
    "voce",
    "vc",
    "ce",
    "tu",
    "ta com",
    "esta com",
    "ta sentindo",
    "teve",
    "tem tido",
    "sente",
    "sentiu",
    "ja teve",
    "tem algum",
    "tem alguma",
    "algum",
    "alguma",
    "sentindo",
    "ta sentindo",
    "esta sentindo",
)
# Words a follow-up question opens with before its opener ("e tem algum aperto no peito").
LINKS = frozenset(["e", "mas", "ai", "entao"])
# How a customer's ask for a product opens: the clauses before it are told, not asked.
ASKS = (
    "tem aquele",
    "tem aquela",
    "tem um",
    "tem uma",
    "tem alguma coisa",
    "tem algum remedio",
    "tem alguma pastilha",
    "tem remedio",
    "voces tem",
    "vcs tem",
    "me da",
    "me ve",
    "quero",
    "queria",
    "o que eu",
    "qual eu",
    "qual que eu",
    "o que a senhora tem",
    "o que o senhor tem",
    "o que voces tem",
    "quanto",
)
# After "não", these words make an inability or a persistence, not a denial.
NOT_DENIALS = ("consig", "consegu", "aguent")
PERSISTING = frozenset(
    [
        "para",
        "paro",
        "parou",
        "passa",
        "passou",
        "melhora",
        "melhorou",
        "sara",
        "baixa",
        "baixou",
        "sai",
        "larga",
    ]
)
# After the symptom or product, "não" and one of these refuses it ("dipirona ele não pode").
REFUSALS = frozenset(
    [
        "pode",
        "posso",
        "quer",
        "quero",
        "gosta",
        "gosto",
        "toma",
        "tomo",
        "tomar",
        "serve",
        "usa",
        "uso",
        "tenho",
        "tem",
        "sinto",
        "sente",
    ]
)
# A clause that ends in "não" with only these around it denies what it names ("febre também não").
CLOSING_DENIAL = frozenset(
    {"nao", "tambem", "mesmo", "ainda", "nada", "nunca", "nenhum", "nenhuma"}
)
