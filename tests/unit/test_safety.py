"""Load goes to loopback only unless a host is allowed by name; passwords never leave."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollout_bench.errors import UserError
from rollout_bench.safety import check_load_target, redact, redact_obj


@pytest.mark.parametrize("target", ["redis://127.0.0.1:6379/0", "nats://localhost:4222", "postgresql://u@[::1]:5432/d",
                                    "127.0.0.5:8080", "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable"])
def test_loopback_targets_are_allowed(target: str) -> None:
    check_load_target(target, {})


@pytest.mark.parametrize("target", ["redis://10.0.0.5:6379/0", "postgresql://u@192.168.1.20/db", "nats://8.8.8.8:4222"])
def test_other_targets_are_refused_with_how_to_allow(target: str) -> None:
    with pytest.raises(UserError, match="LOADTEST_ALLOWED_HOSTS="):
        check_load_target(target, {})


def test_a_named_host_can_be_allowed() -> None:
    check_load_target("redis://10.0.0.5:6379/0", {"LOADTEST_ALLOWED_HOSTS": "staging-redis, 10.0.0.5"})


def test_redaction_of_urls_and_secret_keys() -> None:
    assert redact("postgresql://app:hunter2@db:5432/x") == "postgresql://app:***@db:5432/x"
    obj = redact_obj({"flags": {"API_TOKEN": "abc"}, "urls": ["redis://:pw@h:1/0"], "n": 3})
    assert obj == {"flags": {"API_TOKEN": "***"}, "urls": ["redis://:***@h:1/0"], "n": 3}


@given(st.text(alphabet=st.characters(blacklist_characters="@/: \n\t*"), min_size=1, max_size=30))  # "***" is the mask itself
def test_a_planted_password_never_survives(password: str) -> None:
    text = f"DATABASE_URL=postgresql://app:{password}@10.1.2.3:5432/x"
    assert f":{password}@" not in redact(text)
