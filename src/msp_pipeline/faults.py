"""TEST-ONLY loader faults, read once at start-up from PIPELINE_TEST_FAULT, so tests (and a
drill run) can prove that comparison mode catches a divergence in how either path loads
data. Never set it in production: it makes a loader drop data on purpose.

Allowed values:
- `unified-drop-group-members:<group external id>` or `unified-drop-group-members:first`:
  the unified context loader drops every membership of that group ('first': the group
  with members whose external id sorts first);
- `legacy-skip-page` or `legacy-skip-page:<n>`: the legacy MFA analyzer's identity loader
  skips page n (1-based, default 1) of `LEGACY_FAULT_PAGE_SIZE` identities (ordered by id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from msp_pipeline.contract.settings import ConfigError

TEST_FAULT_ENV = "PIPELINE_TEST_FAULT"
UNIFIED_DROP_GROUP_MEMBERS = "unified-drop-group-members"
LEGACY_SKIP_PAGE = "legacy-skip-page"
FIRST_GROUP = "first"
LEGACY_FAULT_PAGE_SIZE = 10
_ALLOWED = (f"{UNIFIED_DROP_GROUP_MEMBERS}:<group external id or 'first'>, "
            f"{LEGACY_SKIP_PAGE}[:<page number from 1>], or empty")


@dataclass(frozen=True)
class TestFault:
    """One test-only fault; `kind` is one of the two names above."""

    __test__ = False  # not a pytest test class
    kind: str
    group: str = ""  # unified-drop-group-members: the group's external id or 'first'
    page: int = 1  # legacy-skip-page: the skipped page, 1-based

    @property
    def unified_group(self) -> str | None:
        return self.group if self.kind == UNIFIED_DROP_GROUP_MEMBERS else None

    @property
    def legacy_skipped_page(self) -> int | None:
        return self.page if self.kind == LEGACY_SKIP_PAGE else None


def parse_test_fault(env: Mapping[str, str]) -> TestFault | None:
    """PIPELINE_TEST_FAULT, or None when unset; a malformed value is a one-line ConfigError."""
    raw = env.get(TEST_FAULT_ENV, "").strip()
    if not raw:
        return None
    kind, _, argument = raw.partition(":")
    if kind == UNIFIED_DROP_GROUP_MEMBERS and argument.strip():
        return TestFault(kind, group=argument.strip())
    if kind == LEGACY_SKIP_PAGE:
        if not argument:
            return TestFault(kind)
        if argument.isdigit() and int(argument) >= 1:
            return TestFault(kind, page=int(argument))
    raise ConfigError(f"{TEST_FAULT_ENV}={raw!r} is not allowed (test-only switch); use {_ALLOWED}")
