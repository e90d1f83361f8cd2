"""The keyword-then-token detector (``forge_cli.redact.nearby``): a machine-made value right after a
credential word, whatever the syntax between them, as scanners' "keyword then token" rules find
them; and the look-alikes it must leave (names, cursors, digests, object keys, ARNs, lists).

Fake values are assembled at run time from a seeded RNG (tests/data/secrets/make_corpus.py's
Fakes), so what is tested is the form, and no scanner mistakes this file for a leak.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from forge_cli.redact import redact
from secret_corpora import gone, load_corpus

Fakes = load_corpus().Fakes


@pytest.fixture
def fakes(request: pytest.FixtureRequest) -> Any:
    return Fakes(zlib.crc32(request.node.name.encode()))


@pytest.mark.parametrize(
    "form",
    [
        "acmecloud SECRET {v}",  # a vendor's name, a secret word, a space
        "acmecloudAPIKEY {v}",  # glued into one identifier
        "acme private access key\n{v}",  # the value on the next line
        "Here is my Acme token: {v}",  # prose
        "acme-secrettoken-{v}",  # glued by a hyphen
        "acme_secret key={v}",  # two words, then an operator
        "Acme PRIVATE TOKEN {v}",
        "acme_token -> {v}",
        '"{{\\"acmeSecretKey\\":\\"{v}\\"}}"',  # JSON inside a string, quotes escaped
    ],
)
def test_value_after_a_credential_word_in_any_syntax(form: str, fakes: Any) -> None:
    value = fakes.mixed(32)
    out = gone(form.format(v=value), value)
    assert "[REDACTED:" in out


@pytest.mark.parametrize(
    "make",
    [
        lambda f: f.hex(40),  # hex keys of 32+ characters
        lambda f: f.uuid(),  # a token issued as a UUID, after a secret word
        lambda f: f.mixed(24) + "==",  # base64 with its padding
    ],
    ids=["hex40", "uuid", "base64"],
)
def test_value_shapes_after_secret_word(make: Any, fakes: Any) -> None:
    value = make(fakes)
    gone(f"acme secret {value}", value)


def test_npmrc_token_after_a_registry_path(fakes: Any) -> None:
    """``//registry/:_authToken= <uuid>``: the ``:`` before the name ends a path, it does not make
    the name a segment of an ARN."""
    value = fakes.uuid()
    gone(f"//registry.example.org/:_authToken= {value}", value)


def test_the_key_name_stays(fakes: Any) -> None:
    value = fakes.mixed(30)
    out = redact(f"acmecloud SECRET {value}").text
    assert out == "acmecloud SECRET [REDACTED:secret_assignment]"


@pytest.mark.parametrize(
    "text",
    [
        "cache key {h16}{h16}",  # a digest under a cache key
        "commit token {h40}",
        "public key {m}",
        "next page token {m}",
        "csrf-token={m}",
        '"key": "{uuid}"',  # an object's or a stream's key
        "--key dir/my_images.tar.bz2",
        '"KeyUsage": "TR31_P1_PIN_GENERATION_KEY"',
        "arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTestSecret-Ca8JGt",
        "signing key {h16}",  # a GPG key id: hex shorter than 32
        "token abcdefghijklmnopqrstuvwx12",  # typed as an example (an alphabet run)
        "pub const X509_pubkey_st = struct_X509_pubkey_st;",
        "BlindKeySignatures = Ed25519.BlindKeySignatures",
        "keyVaultToStoreSecrets: cmp2-qat-1208358310",
        "export OP_SERVICE_ACCOUNT_TOKEN={m}...",  # cut short for show
        "'AWS_S3_DISABLE_EXPRESS_SESSION_AUTH',\n    'S3_OBJECT_ACCESS_DENIED2024',",
        "token = generate_token(32)",
        "private static final String KEY_ALIAS = keystore2024",
        "secret rotation-policy-2024-v2",
        # found on 164 MB of installed packages and docs while tuning
        "nid_key = self._lib.NID_aes_256_cbc",
        "self, private_key: ed25519.Ed25519PrivateKey, f_priv: _FragList",
        "const pubkey256 = 'SIXvRyDmBJSgatgTQRGbInBaAK+hZOQ18UmrSwnDlK8=';",
        'oauth_signature="wOJIO9A2W5mFwDgiDvZbTSMK%2FPY%3D",',
        '"openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", "openai/gpt-4o-mini"',
        '"value": "sk_us-west-2_abcdABCDefgh_567890abcdef",',
        '"AlarmARN": "arn:aws:cloudwatch:us-west-2:123456789012:alarm:Low-61a39305-ed0c-47af"',
    ],
)
def test_look_alikes_stay(text: str, fakes: Any) -> None:
    filled = text.format(h16=fakes.hex(16), h40=fakes.hex(40), m=fakes.mixed(32), uuid=fakes.uuid())
    assert redact(filled).text == filled


def test_stronger_detector_names_the_finding(fakes: Any) -> None:
    """A value another detector knows (an assignment to a token name) is not claimed twice."""
    value = fakes.mixed(32)
    result = redact(f"ACME_TOKEN={value} acme secret {fakes.mixed(30)}")
    assert value not in result.text
    assert len(result.findings) == 2
    assert redact(result.text).text == result.text  # idempotent
