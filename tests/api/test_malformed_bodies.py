"""Whatever a submitter sends, parsing ends in a disclosure or a named error, never a crash."""

import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from laboursight_api.validation import InvalidBody, InvalidJson, parse_disclosure
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def _problems(body: bytes) -> list[dict[str, str]]:
    try:
        parse_disclosure(body)
    except InvalidJson as error:
        return [{"field": "$", "message": str(error)}]
    except InvalidBody as error:
        return error.errors
    return []


def _parses_or_names_the_problem(body: bytes) -> None:
    for problem in _problems(body):
        assert problem["field"].startswith("$")
        assert problem["message"]


@given(st.binary(max_size=200))
def test_any_bytes(body: bytes) -> None:
    _parses_or_names_the_problem(body)


@given(json_values)
def test_any_json(value: Any) -> None:
    _parses_or_names_the_problem(json.dumps(value).encode())


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for name, child in value.items():
            found += _paths(child, (*prefix, name))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@given(st.data())
def test_a_valid_disclosure_with_one_part_replaced(data: st.DataObject) -> None:
    body: Any = copy.deepcopy(data.draw(st.sampled_from([CLEAN_SUPPLIER, BONDED_SUPPLIER])))
    path = data.draw(st.sampled_from(_paths(body)[1:]))
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = data.draw(json_values)
    _parses_or_names_the_problem(json.dumps(body).encode())
