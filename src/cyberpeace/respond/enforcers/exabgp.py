"""The ExaBGP enforcer: announces and withdraws FlowSpec and RTBH routes through ExaBGP's API.

ExaBGP runs ``cyberpeace.respond.exabgp_bridge`` as its API process (``exabgp_config``
writes that into exabgp.conf); the enforcer writes one command per route to the bridge's Unix
socket and waits for ExaBGP's ``done``/``error`` answer. A route is one NLRI, so one command
either installs it completely or not at all; the enforcer records a route as announced only
after ExaBGP said ``done``.

Before announcing, the enforcer asks ExaBGP for its sessions (``show neighbor json``) and
refuses when no session carrying the route's family (``ipv4 flow``, ``ipv6 unicast`` ...) is
established: ExaBGP would otherwise keep the route until a peer appears, an action nobody
can see taking effect.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cyberpeace.respond.action import Action, Applied
from cyberpeace.respond.action_routes import routes_of
from cyberpeace.respond.bgp_routes import BgpRoute, PrefixLimits, RouteError
from cyberpeace.respond.registry import EnforcerConfig, register

ANSWER_ENDS = ("done", "error", "shutdown", "timeout")


class EnforcerUnavailable(RuntimeError):
    """The enforcer cannot reach its device (here: ExaBGP or every BGP peer is down)."""


class AnswerLost(EnforcerUnavailable):
    """The command reached the bridge but no answer came back: its effect is unknown."""


class CommandRefused(RuntimeError):
    """ExaBGP answered ``error``: it did not take the command, so nothing changed."""


@dataclass(frozen=True)
class BgpSession:
    """One of ExaBGP's BGP sessions as ExaBGP reports it."""

    peer: str
    peer_as: int | None
    state: str  # "up" or "down"
    fsm: str  # RFC 4271 section 8.2.2 state name, e.g. ESTABLISHED, ACTIVE, CONNECT
    families: tuple[str, ...]  # negotiated by both ends, e.g. ("ipv4 flow", "ipv4 unicast")

    @property
    def established(self) -> bool:
        return self.fsm.upper() == "ESTABLISHED"

    def describe(self) -> str:
        return f"{self.peer} (AS {self.peer_as}) {self.fsm.lower()}"


@dataclass(frozen=True)
class Announced:
    """A route the enforcer announced and ExaBGP accepted, with its deadline if any."""

    route: BgpRoute
    since: datetime
    until: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.until is not None and now >= self.until


def utc_now() -> datetime:
    return datetime.now(UTC)


def session_family(route: BgpRoute) -> str:
    """The ExaBGP family name a route travels in: FlowSpec in ``flow``, RTBH in ``unicast``."""
    return f"{route.family} {'flow' if route.kind == 'flowspec' else 'unicast'}"


class ExaBgpEnforcer:
    """Announce, withdraw and expire BGP mitigation routes through one ExaBGP speaker."""

    name = "exabgp"
    kinds = ("flowspec", "rtbh")

    def __init__(
        self,
        socket_path: Path,
        *,
        limits: PrefixLimits | None = None,
        timeout: float = 5.0,
        require_session: bool = True,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.socket_path = Path(socket_path)
        self.limits = limits or PrefixLimits()
        self.timeout = timeout
        self.require_session = require_session
        self.clock = clock
        self._announced: dict[str, Announced] = {}
        self._lock = threading.Lock()

    # -- the operations ---------------------------------------------------------------------

    def announce(self, route: BgpRoute, *, until: datetime | None = None) -> Announced:
        """Announce ``route`` to every peer; with ``until``, ``sweep`` withdraws it then.

        Raises ``RouteError`` (too wide, deadline past), ``EnforcerUnavailable`` (ExaBGP down,
        or no established session for the route's family) or ``CommandRefused``.
        """
        self.limits.check(route)
        now = self.clock()
        if until is not None:
            if until.tzinfo is None:
                raise RouteError(f"deadline {until} has no time zone")
            if until <= now:
                raise RouteError(f"deadline {until.isoformat()} is not after now {now.isoformat()}")
        with self._lock:
            if self.require_session:
                self._need_session(session_family(route))
            self._send_route(route.announce_command(), route, undo=route.withdraw_command())
            record = Announced(route, now, until)
            self._announced[route.key()] = record
            return record

    def withdraw(self, route: BgpRoute) -> None:
        """Withdraw ``route`` from every peer; a route never announced is withdrawn all the same.

        The route stays in ``announced()`` if ExaBGP could not be told.
        """
        with self._lock:
            self._send_route(route.withdraw_command(), route, undo=None)
            self._announced.pop(route.key(), None)

    def announced(self) -> list[Announced]:
        """The routes announced through this enforcer and not yet withdrawn, oldest first."""
        with self._lock:
            return sorted(self._announced.values(), key=lambda a: a.since)

    def sweep(self, now: datetime | None = None) -> list[Announced]:
        """Withdraw every route whose deadline has passed; returns those withdrawn.

        A route ExaBGP cannot be told about stays recorded for the next sweep; the first
        such error is raised after the others were tried.
        """
        moment = now or self.clock()
        due = [a for a in self.announced() if a.expired(moment)]
        withdrawn: list[Announced] = []
        failure: EnforcerUnavailable | CommandRefused | None = None
        for record in due:
            try:
                self.withdraw(record.route)
            except (EnforcerUnavailable, CommandRefused) as exc:
                failure = failure or exc
                continue
            withdrawn.append(record)
        if failure is not None:
            raise failure
        return withdrawn

    def sessions(self) -> list[BgpSession]:
        """ExaBGP's BGP sessions and their state (``show neighbor json``)."""
        lines = self._command("show neighbor json")
        if lines[-1] != "done":
            raise EnforcerUnavailable(f"ExaBGP did not list its neighbours: {lines[-1]}")
        return parse_sessions("".join(lines[:-1]))

    # -- talking to the bridge --------------------------------------------------------------

    def _need_session(self, family: str) -> None:
        sessions = self.sessions()
        if any(s.established and family in s.families for s in sessions):
            return
        states = ", ".join(s.describe() for s in sessions) or "no neighbour configured"
        raise EnforcerUnavailable(f"no established BGP session carries {family}: {states}")

    def _send_route(self, command: str, route: BgpRoute, undo: str | None) -> None:
        try:
            lines = self._command(command)
        except AnswerLost:
            if undo is not None:
                self._undo(undo)
            raise
        answer = lines[-1]
        if answer == "done":
            return
        if answer == "timeout" and undo is not None:
            self._undo(undo)
        if answer in ("timeout", "shutdown"):
            raise EnforcerUnavailable(f"ExaBGP gave no answer to {route.key()} ({answer})")
        raise CommandRefused(f"ExaBGP refused {command!r}: {' / '.join(lines)}")

    def _undo(self, command: str) -> None:
        """After an unanswered announce, withdraw it so nothing stays half-applied."""
        with contextlib.suppress(EnforcerUnavailable):
            self._command(command)

    def _command(self, command: str) -> list[str]:
        """Send one API command, return ExaBGP's answer lines, the last being done/error."""
        if "\n" in command or "\r" in command:
            raise RouteError(f"command {command!r} spans lines")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(self.timeout)
            try:
                conn.connect(str(self.socket_path))
                conn.sendall(command.encode("ascii") + b"\n")
            except OSError as exc:
                raise EnforcerUnavailable(self._unreachable(exc)) from None
            try:
                return self._read_answer(conn)
            except OSError as exc:
                raise AnswerLost(f"ExaBGP gave no answer on {self.socket_path}: {exc}") from None

    def _unreachable(self, exc: OSError) -> str:
        if isinstance(exc, FileNotFoundError):
            return f"ExaBGP is not running: no API socket at {self.socket_path}"
        if isinstance(exc, ConnectionRefusedError):
            return f"ExaBGP is not running: its API socket {self.socket_path} refuses connections"
        if isinstance(exc, TimeoutError):
            return f"ExaBGP did not accept a command within {self.timeout:g} s"
        return f"cannot talk to ExaBGP at {self.socket_path}: {exc}"

    def _read_answer(self, conn: socket.socket) -> list[str]:
        buffered = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                raise AnswerLost("ExaBGP closed the API socket before its answer")
            buffered += chunk
            lines = buffered.decode("ascii", "replace").splitlines()
            if buffered.endswith(b"\n") and lines and lines[-1].strip() in ANSWER_ENDS:
                return [line.strip() for line in lines]


def parse_sessions(text: str) -> list[BgpSession]:
    """ExaBGP's ``show neighbor json`` output, one ``BgpSession`` per neighbour."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnforcerUnavailable(f"ExaBGP's neighbour list is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise EnforcerUnavailable("ExaBGP's neighbour list is not a JSON list")
    return [_session(item) for item in data if isinstance(item, dict)]


def _session(item: dict[str, Any]) -> BgpSession:
    peer = item.get("peer") if isinstance(item.get("peer"), dict) else {}
    assert isinstance(peer, dict)
    families = item.get("families") or []
    peer_as = peer.get("as")
    return BgpSession(
        peer=str(peer.get("address", "?")),
        peer_as=peer_as if isinstance(peer_as, int) else None,
        state=str(item.get("state", "unknown")),
        fsm=str(item.get("fsm", "unknown")),
        families=tuple(str(f) for f in families),
    )


@register
class ExaBgpActionEnforcer:
    """``flowspec`` and ``rtbh`` actions through one ExaBGP speaker (``ExaBgpEnforcer``).

    The speaker's API socket is ``exabgp_socket`` in the settings' extras, by default
    ``exabgp.sock`` in the data directory. Applying announces every route of the action (see
    ``action_routes.py``); if one is refused, those already announced are withdrawn again, so an
    action is never left half in force.
    """

    name = "exabgp"
    kinds = frozenset({"flowspec", "rtbh"})

    def __init__(self, speaker: ExaBgpEnforcer, next_hops: dict[int, str] | None = None) -> None:
        self.speaker = speaker
        self.next_hops = next_hops or {}

    @classmethod
    def from_config(cls, config: EnforcerConfig) -> ExaBgpActionEnforcer:
        extra = dict(config.extra or {})
        socket_path = Path(extra.get("exabgp_socket") or config.data_dir / "exabgp.sock")
        hops = {
            v: str(extra[f"rtbh_next_hop_v{v}"]) for v in (4, 6) if f"rtbh_next_hop_v{v}" in extra
        }
        return cls(ExaBgpEnforcer(socket_path), hops)

    def apply(self, action: Action) -> Applied:
        routes = routes_of(action, self.next_hops)
        held = {a.route.key() for a in self.speaker.announced()}
        done: list[BgpRoute] = []
        try:
            for route in routes:
                if route.key() not in held:
                    self.speaker.announce(route, until=action.expires_at)
                    done.append(route)
        except Exception:
            for route in done:
                with contextlib.suppress(Exception):  # best effort; the original error matters
                    self.speaker.withdraw(route)
            raise
        return Applied(self.name, {"routes": [route.key() for route in routes]})

    def remove(self, action: Action) -> None:
        # Every route of the action, not only those this process announced: the action may
        # have been applied by another process (the CLI, the API) or before a restart, and
        # ExaBGP answers ``done`` to withdrawing a route it does not hold.
        for route in routes_of(action, self.next_hops):
            self.speaker.withdraw(route)
