"""Reading tag list pages (``clients/registry/taglist.py``): ``Link`` headers to the next
page, bodies of any shape; only :class:`DlcError` ever comes out (property-based)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlc_tasks.clients.registry.taglist import next_page, page_tags
from dlc_tasks.errors import DlcError, RegistryError

PAGE = "http://127.0.0.1:5000/v2/acme/app-build-cache/tags/list"
WHAT = "GET http://127.0.0.1:5000/v2/acme/app-build-cache/tags/list"


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (None, None),
        ("", None),
        (
            '</v2/acme/app-build-cache/tags/list?n=2&last=b>; rel="next"',
            "/v2/acme/app-build-cache/tags/list?n=2&last=b",
        ),
        (
            "<http://127.0.0.1:5000/v2/x/tags/list?last=b&n=2>; rel=next",
            "/v2/x/tags/list?last=b&n=2",
        ),
        ('<?n=2&last=c>; rel="next"', "/v2/acme/app-build-cache/tags/list?n=2&last=c"),
        (
            '</v2/x/tags/list?n=2>; rel="prev", </v2/x/tags/list?n=2&last=d>; rel="next"',
            "/v2/x/tags/list?n=2&last=d",
        ),
        ('</v2/x/tags/list?last=e>; title="page"; REL="Next Last"', "/v2/x/tags/list?last=e"),
        ('</v2/x/tags/list?n=2>; rel="prev"', None),
    ],
)
def test_the_next_page_is_the_link_with_rel_next(link: str | None, expected: str | None) -> None:
    assert next_page(link, PAGE, WHAT) == expected


@pytest.mark.parametrize(
    "link",
    [
        '<https://127.0.0.1:5000/v2/x/tags/list?last=b>; rel="next"',  # another scheme
        '<http://127.0.0.1:5001/v2/x/tags/list?last=b>; rel="next"',  # another port
        '<http://evil.example/v2/x/tags/list?last=b>; rel="next"',  # another host
        '<http://u:p@127.0.0.1:5000/v2/x/tags/list>; rel="next"',  # user information
        '<//evil.example/v2/x/tags/list>; rel="next"',  # scheme-relative
        '</other/path>; rel="next"',  # not the registry API
        '<http://[::1/v2/x>; rel="next"',  # malformed
        '<http://127.0.0.1:99999/v2/x>; rel="next"',  # a port out of range
    ],
)
def test_a_next_page_off_the_registry_is_refused(link: str) -> None:
    with pytest.raises(RegistryError, match="is not on the registry"):
        next_page(link, PAGE, WHAT)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"name": "x", "tags": ["b", "a"]}', ["b", "a"]),
        (b'{"name": "x", "tags": null}', []),
        (b'{"name": "x"}', []),
    ],
)
def test_a_page_holds_its_tags(body: bytes, expected: list[str]) -> None:
    assert page_tags(body, WHAT) == expected


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b"[1, 2]", b'{"tags": [1]}', b'{"tags": "a"}', b"\xff"],
)
def test_a_page_that_is_not_a_tag_list_is_one_line_naming_the_request(body: bytes) -> None:
    with pytest.raises(RegistryError) as raised:
        page_tags(body, WHAT)
    assert raised.value.one_line().startswith(WHAT)
    assert "\n" not in raised.value.one_line()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=6,
)
LINK_PART = st.sampled_from(
    [
        "<",
        ">",
        ";",
        ",",
        "=",
        '"',
        " ",
        "rel",
        "next",
        "/v2/",
        "http://",
        "?n=2&last=",
        "\\",
        "\x00",
        "é",
        "[",
        ":",
    ]
)
LINKS = st.lists(LINK_PART | st.text(max_size=8), max_size=24).map("".join)


@settings(max_examples=200, deadline=None)
@given(link=LINKS | st.text(), page=st.sampled_from([PAGE, "https://[::1]:5000/v2/x/tags/list"]))
def test_any_link_header_gives_a_registry_path_none_or_a_dlc_error(link: str, page: str) -> None:
    try:
        path = next_page(link, page, WHAT)
    except DlcError:
        return
    assert path is None or path.startswith("/v2/")


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=64)
    | JSON.map(lambda v: json.dumps(v).encode())
    | st.dictionaries(st.sampled_from(["tags", "name"]), JSON).map(lambda v: json.dumps(v).encode())
)
def test_any_body_gives_a_list_of_strings_or_a_dlc_error(body: bytes) -> None:
    try:
        tags = page_tags(body, WHAT)
    except DlcError:
        return
    assert isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)
