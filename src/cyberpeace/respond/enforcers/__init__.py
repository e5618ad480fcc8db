"""The enforcers, registered on import like any other (see ``respond/registry.py``)."""

from cyberpeace.respond.enforcers import blocklist, exabgp, nftables, notify
from cyberpeace.respond.registry import (
    Enforcer,
    EnforcerConfig,
    build_enforcers,
    register,
    registered,
    unregister,
)

__all__ = [
    "Enforcer",
    "EnforcerConfig",
    "blocklist",
    "build_enforcers",
    "exabgp",
    "nftables",
    "notify",
    "register",
    "registered",
    "unregister",
]
