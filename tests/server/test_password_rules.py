"""The password rules: no common password, nothing close to the username."""

from __future__ import annotations

import pytest

from server.password_rules import common_passwords, password_problem


def test_the_shipped_list_holds_the_common_passwords_in_lower_case() -> None:
    listed = common_passwords()
    assert len(listed) > 19_000
    assert {"password", "12345678", "qwerty123", "iloveyou", "woaini1314", "5201314"} <= listed
    assert all(p == p.lower() for p in listed)


@pytest.mark.parametrize(
    ("password", "username", "why"),
    [
        ("password", None, "most common"),
        ("PassWord", "zhou", "most common"),
        ("  12345678 ", "zhou", "most common"),
        ("qwerty123", "zhou", "most common"),
        ("wang.wu", "wang.wu", "username"),
        ("Wang.Wu2026!", "wang.wu", "username"),
        ("2026uw.gnaw", "wang.wu", "username reversed"),
        ("my-zhou-secret", "Zhou", "username"),
    ],
)
def test_guessable_passwords_are_refused_with_the_reason(
    password: str, username: str | None, why: str
) -> None:
    problem = password_problem(password, username)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    ("password", "username"),
    [("correct horse battery", "member"), ("s3cret-pass", "wang.wu"), ("zhang1234x", None)],
)
def test_uncommon_passwords_without_the_username_pass(password: str, username: str | None) -> None:
    assert password_problem(password, username) is None
