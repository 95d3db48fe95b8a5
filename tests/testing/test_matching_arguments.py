"""`Matching` refuses arguments that would silently compare the wrong thing, naming the argument and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit import UserError
from agentkit_testing import Matching, normalize_uuids
from agentkit_testing._matching import Comparator


def test_ignore_given_one_field_name_as_text_is_refused() -> None:
    # A str is iterable: ignore="system_prompt" became the characters {'s', 'y', ...}, so nothing
    # was left out of matching and the divergence kept coming with no hint why.
    with pytest.raises(UserError, match=r"ignore='system_prompt'\) is one text.*ignore=\{'system_prompt'\}"):
        Matching(ignore="system_prompt")


def test_one_normalizer_not_in_a_sequence_is_refused_with_the_fix() -> None:
    bare: Any = normalize_uuids
    refused = r"normalizers=replace_pattern.* is one function.*normalizers=\[replace_pattern"
    with pytest.raises(UserError, match=refused):
        Matching(normalizers=bare)


def test_a_normalizer_that_is_not_callable_is_refused() -> None:
    with pytest.raises(UserError, match=r"normalizers\[0\] is a str \('<uuid>'\), not a function"):
        Matching(normalizers=["<uuid>"])  # type: ignore[list-item]


def test_a_normalizer_that_returns_something_else_than_text_is_named() -> None:
    def forgets_to_return(text: str) -> str:
        text.upper()
        return None  # type: ignore[return-value]

    comparator = Comparator(Matching(normalizers=[forgets_to_return]))
    with pytest.raises(UserError, match=r"normalizer forgets_to_return returned NoneType .* for 'abc'; a normalizer"):
        comparator.text("abc")


def test_well_formed_arguments_still_work() -> None:
    matching = Matching(ignore=("settings", "tool_return"), normalizers=(normalize_uuids,))
    assert matching.ignore == {"settings", "tool_return"}
    assert Comparator(matching).text("id 123e4567-e89b-12d3-a456-426614174000") == "id <uuid>"
