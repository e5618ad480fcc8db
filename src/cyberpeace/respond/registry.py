"""The enforcer registry: built-in enforcers register here exactly as a third party's would.

An enforcer is any object with ``name``, ``kinds`` (the action kinds it serves, from
``mission/data/vocabulary.yaml``), ``apply(action) -> Applied`` and ``remove(action) -> None``.
Both must be idempotent: applying twice leaves one rule in force, removing what is absent is
no error. Either raises (any exception) when it could not do its work; the lifecycle then marks
the action failed, undoes what part was done and retries with back-off. Decorating a class with
``@register`` makes ``build_enforcers(config)`` build one of it, with ``cls.from_config(config)``
when the class has that classmethod, else ``cls()``::

    @register
    class NftablesEnforcer:
        name = "nftables"
        kinds = frozenset({"edge-filter", "edge-rate-limit"})

        @classmethod
        def from_config(cls, config: EnforcerConfig) -> NftablesEnforcer: ...
        def apply(self, action: Action) -> Applied: ...
        def remove(self, action: Action) -> None: ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cyberpeace.respond.action import Action, Applied


@dataclass(frozen=True)
class EnforcerConfig:
    """What enforcers may need to know, from the settings (``CYBERPEACE_NFT_*`` ...)."""

    database_url: str = ""
    data_dir: Path = Path("./cyberpeace-data")
    nft_table: str = "cyberpeace"
    nft_chain: str = "mitigate"
    nft_hook: str = "forward"
    nft_netns: str | None = None
    nft_command: str = "nft"
    blocklist_dir: Path | None = None
    extra: Mapping[str, Any] | None = None


class Enforcer(Protocol):
    @property
    def name(self) -> str:
        """The registered name, stored with what it applied."""

    @property
    def kinds(self) -> frozenset[str]:
        """The action kinds it serves."""

    def apply(self, action: Action) -> Applied:
        """Put the action in force until ``action.expires_at``; idempotent."""

    def remove(self, action: Action) -> None:
        """Take the action out of force; idempotent."""


E = TypeVar("E")

_REGISTRY: dict[str, type[Any]] = {}


def register(enforcer_class: type[E]) -> type[E]:
    """Class decorator: ``build_enforcers`` builds one of the class, under its ``name``."""
    name = str(getattr(enforcer_class, "name"))  # noqa: B009 - a class attribute by contract
    existing = _REGISTRY.get(name)
    if existing is not None and _origin(existing) != _origin(enforcer_class):
        raise ValueError(f"an enforcer named {name!r} is already registered ({_origin(existing)})")
    _REGISTRY[name] = enforcer_class
    return enforcer_class


def unregister(name: str) -> None:
    del _REGISTRY[name]


def registered() -> Mapping[str, type[Any]]:
    """The registered enforcer classes by name (a copy)."""
    return dict(_REGISTRY)


def build_enforcers(config: EnforcerConfig) -> dict[str, Enforcer]:
    """One enforcer of each registered class, configured."""
    built: dict[str, Enforcer] = {}
    for name, cls in _REGISTRY.items():
        factory = getattr(cls, "from_config", None)
        built[name] = factory(config) if factory is not None else cls()
    return built


def serving(enforcers: Mapping[str, Enforcer], kind: str) -> list[Enforcer]:
    """The enforcers that serve ``kind``, by name."""
    return [e for _, e in sorted(enforcers.items()) if kind in e.kinds]


def _origin(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
