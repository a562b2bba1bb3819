"""Redaction at the CLI's output boundary: text, nested data and serialized JSON, each in one pass."""

from __future__ import annotations

import json

import pytest

from vipctl.cli.credentials import MASK, Redactor
from vipctl.cli.output import json_text

SECRETS = ['pa"ss\\word', "Pässwörd-1", "tab\there", "Passw0rd!", "Passw0rd!-longer"]


@pytest.mark.parametrize("secret", SECRETS)
def test_json_text_masks_a_secret_however_json_escapes_it(secret: str) -> None:
    redactor = Redactor(SECRETS)
    document = {"hosts": [{"error": f"401 for user x with {secret} (retry)", secret: [secret]}]}
    text = redactor.json_text(json.dumps(document, indent=2))
    assert secret not in json.loads(text)["hosts"][0]["error"]
    assert json.dumps(secret)[1:-1] not in text
    # The same answer as redacting the data first: the boundary may use whichever is cheaper.
    assert json.loads(text) == redactor.data(document)


def test_the_longer_secret_is_masked_whole() -> None:
    redactor = Redactor(["Passw0rd!", "Passw0rd!-longer"])
    assert redactor.text("x Passw0rd!-longer y") == f"x {MASK} y"
    assert redactor.json_text('"Passw0rd!-longer"') == f'"{MASK}"'


def test_short_values_are_not_secrets() -> None:
    assert Redactor(["abc", None, ""]).text("abc") == "abc"


def test_json_document_is_one_host_per_line_and_parses_back() -> None:
    document = {
        "command": "status",
        "summary": {"hosts": 2},
        "hosts": [{"host": "a"}, {"host": "b"}],
        "x": [],
    }
    text = json_text(document)
    assert json.loads(text) == document
    lines = text.splitlines()
    assert '    {"host": "a"},' in lines and '    {"host": "b"}' in lines
