"""Shared vocabulary for the role × URL test: each app lists its URLs in tests/<app>/access.py."""

from dataclasses import dataclass, field

ROLES = ("cdc", "inspector", "bureau", "admin")
EVERYONE = frozenset(ROLES)
CDC_ONLY = frozenset({"cdc", "admin"})
READERS = EVERYONE
BUREAU_AND_CDC = frozenset({"cdc", "bureau", "admin"})


@dataclass(frozen=True)
class Rule:
    roles: frozenset
    # args(cast) -> list of URL arguments, built fresh for each role.
    args: object = None
    method: str = "get"
    data: dict = field(default_factory=dict)
