"""Who is asking (the operator, a gestor, or a chain's API key) and what a chain may see.

The admin hooks (`balto.web.auth.require_admin`, `require_page`) resolve the request's
`Principal` once and keep it in ``g``. A gestor (one chain's account) reaches only the routes
marked `for_gestores` (everything else answers 403), a chain's API key the same routes for
reading only, and on those only its own cliente's rows: `scoped_cliente` fixes the
``cliente_id`` filter of lists, reports and charts to its cliente (another cliente's id is a
403), and `owns` checks a row named in the path (another cliente's row is a 404, as if unknown).

A store's gestor (an account with a loja) is narrower again: only the routes also marked
`for_lojas` (reading and acknowledging), and on them only its store's balcões (`scoped_loja`,
`may_touch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from quart import current_app, g, request

from balto.errors import BaltoError
from balto.services import Services
from balto.store import chaves_api, gestores, ownership
from balto.store.cadastro import API_KEY_PREFIX, BalcaoIdentity, authenticate
from balto.web import session_cookie

F = TypeVar("F", bound=Callable[..., Any])
_OPEN = "_balto_for_gestores"
_OPEN_TO_STORES = "_balto_for_lojas"
_KEYS_WRITE = "_balto_for_key_writes"


class OutsideScope(BaltoError):
    """A gestor asked for another cliente's (or store's) data through a filter (answered 403).

    Attributes:
        field: The filter that named it (``cliente_id`` or ``loja_id``).
    """

    def __init__(self, field: str, value: str) -> None:
        """Name the filter and the value asked for."""
        super().__init__(f"{field}={value}")
        self.field = field


@dataclass(frozen=True, slots=True)
class Principal:
    """The operator (sees every cliente), one chain's gestor, or one chain's API key (reads)."""

    nome: str
    gestor_id: str | None = None
    cliente_id: str | None = None
    email: str | None = None
    razao_social: str | None = None
    chave_id: str | None = None
    loja_id: str | None = None
    loja_nome: str | None = None
    dois_fatores: bool = False
    suspenso: bool = False  # its cliente's access is suspended: every admin hook refuses it

    @property
    def is_operator(self) -> bool:
        """True for the admin secret's holder."""
        return self.cliente_id is None

    @property
    def actor(self) -> str:
        """How the audit log names who acted."""
        if self.chave_id is not None:
            return f"chave:{self.nome}"
        return "operador" if self.gestor_id is None else f"gestor:{self.email}"


OPERATOR = Principal(nome="Operador")


def for_gestores(view: F) -> F:
    """Mark a route a gestor may use (it must then scope what it reads to `principal()`)."""
    setattr(view, _OPEN, True)
    return view


def for_lojas(view: F) -> F:
    """Mark a route a store's gestor may use too (it must scope to the store: `scoped_loja`)."""
    setattr(view, _OPEN_TO_STORES, True)
    return for_gestores(view)


def for_key_writes(view: F) -> F:
    """Mark a route a chain's API key may change through, not only read (its stock system)."""
    setattr(view, _KEYS_WRITE, True)
    return view


def keys_write_here() -> bool:
    """Whether the route being served takes a chain's API key's writes (`for_key_writes`)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _KEYS_WRITE, False))


def open_to(who: Principal) -> bool:
    """Whether the route being served is open to `who` (a gestor, a key, a store's gestor)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if who.loja_id is not None:
        return bool(getattr(view, _OPEN_TO_STORES, False))
    return bool(getattr(view, _OPEN, False))


def remember(principal: Principal) -> None:
    """Keep the request's principal (the admin hooks call this once they have decided)."""
    g.balto_principal = principal


def principal() -> Principal:
    """The request's principal; a route reached without an admin hook is a bug, not the operator."""
    found: Principal | None = g.get("balto_principal")
    if found is None:
        raise RuntimeError("no principal: the route has no admin hook")
    return found


def current_or_none() -> Principal | None:
    """The request's principal when an admin hook resolved one (the audit log's reader)."""
    found: Principal | None = g.get("balto_principal")
    return found


async def gestor_from_cookie(services: Services) -> Principal | None:
    """The gestor whose valid session cookie the request carries, if its account still allows it.

    The account must be active and its password unchanged since the sign-in (one indexed read).
    A suspended cliente's gestor is still answered (``suspenso``): the hooks say why they refuse.
    """
    found = session_cookie.gestor_cookie(services.admin_secret)
    if found is None:
        return None
    gestor_id, stamp = found
    member = await services.db.run(gestores.member, gestor_id)
    if member is None or password_stamp(member.senha_em) != stamp:
        return None
    return Principal(
        nome=member.nome,
        gestor_id=gestor_id,
        cliente_id=member.cliente_id,
        email=member.email,
        razao_social=member.razao_social,
        loja_id=member.loja_id,
        loja_nome=member.loja_nome,
        dois_fatores=member.dois_fatores,
        suspenso=member.suspenso,
    )


async def key_from_bearer(services: Services) -> Principal | None:
    """The chain whose live API key (``Authorization: Bearer ck_…``) the request carries.

    Looked up once per request (the first admin hook keeps the answer in ``g``).
    """
    if "balto_chave" in g:
        found: Principal | None = g.balto_chave
        return found
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    key = None
    if scheme.lower() == "bearer" and token.startswith(chaves_api.PREFIX) and len(token) < 100:
        held = await services.db.run(chaves_api.holder, token)
        if held is not None:
            key = Principal(
                nome=held.nome,
                cliente_id=held.cliente_id,
                razao_social=held.razao_social,
                chave_id=held.id,
                loja_id=held.loja_id,
                loja_nome=held.loja_nome,
                suspenso=held.suspenso,
            )
    g.balto_chave = key
    return key


async def balcao_from_bearer(services: Services) -> BalcaoIdentity | None:
    """The balcão whose API key (``Authorization: Bearer bk_…``) the request carries.

    Revoked or not (the caller decides what a revoked key may do); looked up once per request.
    """
    if "balto_balcao" in g:
        found: BalcaoIdentity | None = g.balto_balcao
        return found
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    identity = None
    if scheme.lower() == "bearer" and token.startswith(API_KEY_PREFIX) and len(token) < 100:
        identity = await services.db.run(authenticate, token)
    g.balto_balcao = identity
    return identity


def password_stamp(senha_em: Any) -> int:
    """A password time as the integer a session token carries (microseconds since the epoch)."""
    return int(senha_em.timestamp() * 1_000_000)


def scoped_cliente(requested: str | None) -> str | None:
    """The ``cliente_id`` filter to apply: as asked for the operator, the gestor's own for a gestor.

    Raises `OutsideScope` when a gestor names another cliente.
    """
    who = principal()
    if who.is_operator:
        return requested
    if requested is not None and requested != who.cliente_id:
        raise OutsideScope("cliente_id", requested)
    return who.cliente_id


def scoped_loja(requested: str | None) -> str | None:
    """The ``loja_id`` filter to apply: as asked, except a store's gestor's, fixed to its store.

    Raises `OutsideScope` when a store's gestor names another store. (A chain's gestor naming
    another chain's store reads nothing: its ``cliente_id`` filter is fixed too.)
    """
    who = principal()
    if who.loja_id is None:
        return requested
    if requested is not None and requested != who.loja_id:
        raise OutsideScope("loja_id", requested)
    return who.loja_id


def owns(cliente_id: str | None) -> bool:
    """Whether the principal may touch a row of `cliente_id` (None: the row does not exist).

    For a chain-wide row (a cliente's catalog, keys, stores): a store's gestor reaches the
    routes that use this only where they are `for_lojas` (reading the catalog its store uses,
    listing its own store).
    """
    if cliente_id is None:
        return False
    who = principal()
    return who.is_operator or who.cliente_id == cliente_id


async def may_touch(services: Services, kind: str, row_id: str) -> bool:
    """Whether the principal may act on the `kind` row `row_id` (`balto.store.ownership`).

    The operator: always (the route answers its own 404). A gestor: only a row of its own
    cliente, and a store's gestor only a row of its store; another's row and an unknown one
    both read False (the route's 404).
    """
    who = principal()
    if who.is_operator:
        return True
    owner = await services.db.run(ownership.owner_of, kind, row_id)
    if owner is None or not owns(owner.cliente_id):
        return False
    return who.loja_id is None or owner.loja_id == who.loja_id
