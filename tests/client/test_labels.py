"""Client-side label selectors: the query-string form and the structured form."""

from __future__ import annotations

import pytest

from kubeviz.client import labels

WEB = {"app": "web", "tier": "front", "n": "3"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("app in (db, web)", True),
        ("app notin (db,web)", False),
        ("missing notin (x)", True),
        ("tier", True),
        ("!tier", False),
        ("!missing", True),
        ("n>2", True),
        ("n<3", False),
        ("app=web,tier=back", False),
        ("app=web, tier in (front)", True),
    ],
)
def test_query_string_selectors_match_like_kubernetes(text: str, expected: bool) -> None:
    sel = labels.parse(text)
    assert sel.matches(WEB) is expected
    assert labels.parse(str(sel)).matches(WEB) is expected, str(sel)


@pytest.mark.parametrize("text", ["app=", "app in (a", "app in a", "=x", "app=web,", "n>x", "a b"])
def test_bad_query_strings_are_refused(text: str) -> None:
    if text == "app=":  # the empty value is a value
        assert labels.parse(text).matches({"app": ""})
        return
    with pytest.raises(ValueError):
        labels.parse(text)


def test_structured_selectors_none_selects_nothing_and_empty_everything() -> None:
    assert not labels.from_label_selector(None).matches(WEB)
    assert labels.from_label_selector({}).matches(WEB) and labels.from_label_selector({}).empty()
    sel = labels.from_label_selector(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert sel.matches(WEB)
    assert not sel.matches({**WEB, "legacy": "1"})
    assert not sel.matches({"app": "web", "tier": "back"})
    assert str(sel) == "app=web,!legacy,tier in (edge,front)"
    assert labels.parse(str(sel)) == sel
    with pytest.raises(ValueError):
        labels.from_label_selector({"matchExpressions": [{"key": "a", "operator": "Maybe"}]})
    with pytest.raises(ValueError):
        labels.from_label_selector({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})


def test_as_selector_accepts_every_form() -> None:
    assert labels.as_selector(None).empty()
    assert labels.as_selector("app=web") == labels.from_labels({"app": "web"})
    assert labels.as_selector({"matchLabels": {"app": "db"}}).matches_object(
        {"metadata": {"labels": {"app": "db"}}}
    )
    assert not labels.as_selector("app").matches_object({"metadata": {}})
