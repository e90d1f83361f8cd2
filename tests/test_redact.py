"""Tests for secret and PII redaction (forge_cli.redact).

Fake secrets are never typed here: they come from the seeded generator in
tests/data/secrets/make_corpus.py (provider prefixes assembled at run time), so no scanner mistakes
this file for a leak. The corpus floors sit a little under the measured figures so a harmless
change does not trip them; benchmarks/redaction_quality.py reports the figures themselves.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from forge_cli.redact import PII_TYPES, SECRET_TYPES, Finding, Redacted, describe, redact
from secret_corpora import load_corpus

#: measured when the detectors were last changed: recall 1.000 on 180 positives, false-positive
#: rate 0.000 on 170 negatives (pii=True)
RECALL_FLOOR = 0.99
FALSE_POSITIVE_CEILING = 0.01
PER_TYPE_RECALL_FLOOR = 0.9


corpus = load_corpus()
POSITIVES = corpus.positives()
NEGATIVES = corpus.negatives()


@pytest.fixture
def fakes(request: pytest.FixtureRequest) -> Any:
    """Fake values seeded by the test's own name: the same whatever runs before it."""
    return corpus.Fakes(zlib.crc32(request.node.name.encode()))


def _is_pii(kind: str) -> bool:
    return kind in PII_TYPES


def _caught(text: str, value: str, kind: str) -> Redacted:
    """Redact and check that the value is gone and a marker of the right type stands in."""
    result = redact(text, pii=_is_pii(kind))
    assert value not in result.text, f"{kind} survived in {result.text!r}"
    assert f"[REDACTED:{kind}]" in result.text, result.text
    assert kind in {f.type for f in result.findings}
    return result


# ------------------------------------------------------------- every type in every context

#: (type, key name, value maker, text the value is carried in); the key is neutral for provider
#: tokens so that only the token detector can catch them
CARRIERS: dict[str, tuple[str, Callable[[Any], tuple[str, str]]]] = {
    "aws_access_key": ("setting", lambda f: (v := f.aws_access_key(), v)),
    "aws_secret_key": ("aws_secret_access_key", lambda f: (v := f.aws_secret_key(), v)),
    "github_token": ("setting", lambda f: (v := f.github("p"), v)),
    "gitlab_token": ("setting", lambda f: (v := f.gitlab(), v)),
    "slack_token": ("setting", lambda f: (v := f.slack(), v)),
    "stripe_key": ("setting", lambda f: (v := f.stripe("sk_live"), v)),
    "openai_key": ("setting", lambda f: (v := f.openai("proj"), v)),
    "anthropic_key": ("setting", lambda f: (v := f.anthropic(), v)),
    "google_api_key": ("setting", lambda f: (v := f.google(), v)),
    "jwt": ("setting", lambda f: (v := f.jwt(), v)),
    "url_credentials": (
        "endpoint",
        lambda f: (f"https://deploy:{(v := f.password())}@git.example.com/x.git", v),
    ),
    "connection_string": (
        "endpoint",
        lambda f: (f"postgres://app:{(v := f.password())}@db:5432/app", v),
    ),
    "password_assignment": ("db_password", lambda f: (v := f.password(), v)),
    "secret_assignment": ("api_token", lambda f: (v := f.mixed(32), v)),
}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.title() for p in rest)


CONTEXTS: dict[str, Callable[[str, str], str]] = {
    "env": lambda k, s: f"{k.upper()}={s}",
    "export": lambda k, s: f"export {k.upper()}={s}",
    "yaml": lambda k, s: f"service:\n  {k}: {s}\n  retries: 3",
    "json": lambda k, s: f'{{"{k}": "{s}", "debug": false}}',
    "python": lambda k, s: f'{k} = "{s}"',
    "js": lambda k, s: f"const {_camel(k)} = '{s}';",
    "go": lambda k, s: f'\t{_camel(k)} := "{s}"',
    "diff_added": lambda k, s: f"@@ -1,2 +1,3 @@\n name: api\n+  {k}: {s}\n debug: false",
    "diff_removed": lambda k, s: f"-{k.upper()}={s}\n+{k.upper()}=${{{k.upper()}}}",
    "diff_context": lambda k, s: f' {k} = "{s}"\n+timeout = 30',
    "log": lambda k, s: f"2026-11-23 12:00:00 WARN retrying with {k}={s} attempt=2",
}


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("kind", sorted(CARRIERS))
def test_every_type_is_caught_in_every_context(kind: str, context: str, fakes: Any) -> None:
    key, make = CARRIERS[kind]
    carried, value = make(fakes)
    _caught(CONTEXTS[context](key, carried), value, kind)


@pytest.mark.parametrize("context", ["raw", "diff", "json", "yaml", "python", "removed"])
def test_private_key_blocks_in_every_context(context: str, fakes: Any) -> None:
    first, block = fakes.pem("OPENSSH")
    if context == "raw":
        text = "\n".join(block)
    elif context == "diff":
        text = "\n".join("+" + line for line in block)
    elif context == "removed":
        text = "\n".join("-" + line for line in block)
    elif context == "json":
        text = '{"private_key": "' + "\\n".join(block) + '\\n"}'
    elif context == "yaml":
        text = "key: |\n" + "\n".join("  " + line for line in block)
    else:
        text = 'KEY = """\n' + "\n".join(block) + '\n"""'
    result = _caught(text, first, "private_key")
    assert "PRIVATE KEY" not in result.text
    assert [f.type for f in result.findings] == ["private_key"]


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("slack_token", "url: https://hooks.slack.com/services/{v}", "T0ABC1234/B0DEF5678/x9Yz"),
        ("stripe_key", "STRIPE_WEBHOOK_SECRET={v}", "stripe:whsec"),
        ("github_token", "export GH_TOKEN={v}", "github:pat"),
        ("openai_key", "OPENAI_API_KEY={v}", "openai:legacy"),
        ("aws_access_key", '{"AccessKeyId": "{v}"}', "aws:asia"),
        ("connection_string", "Server=db;Uid=sa;Pwd={v};", "password"),
        ("connection_string", "REDIS_URL=redis://:{v}@cache:6379/0", "password"),
        ("connection_string", "mongodb+srv://u:{v}@c0.mongodb.net/prod", "password"),
        ("connection_string", "jdbc:mysql://db/shop?user=u&password={v}", "password"),
        ("url_credentials", "https://api.example.com/x?access_token={v}&page=2", "token"),
        ("password_assignment", "CREATE USER app IDENTIFIED BY '{v}';", "password"),
        ("password_assignment", "curl -u admin:{v} https://ci.example.com", "password"),
        ("password_assignment", "mysql --password={v} shop", "password"),
        ("password_assignment", "<password>{v}</password>", "password"),
        ("password_assignment", "machine h login u password {v}", "password"),
        ("secret_assignment", 'curl -H "X-Api-Key: {v}" https://api', "token"),
        ("secret_assignment", "Authorization: Basic {v}", "token"),
        ("secret_assignment", "token: >-\n  {v}\nnext: 1", "token"),
    ],
)
def test_special_forms(kind: str, text: str, value: str, fakes: Any) -> None:
    makers: dict[str, Callable[[], str]] = {
        "stripe:whsec": lambda: fakes.stripe("whsec"),
        "github:pat": lambda: fakes.github("pat"),
        "openai:legacy": lambda: fakes.openai(),
        "aws:asia": lambda: fakes.aws_access_key(1),
        "password": fakes.password,
        "token": lambda: fakes.mixed(32),
    }
    v = makers[value]() if value in makers else value
    _caught(text.replace("{v}", v), v, kind)


def test_the_strongest_detector_names_the_secret(fakes: Any) -> None:
    token = fakes.github("p")
    result = redact(f"GITHUB_TOKEN={token}\nurl = https://x-access-token:{token}@github.com/a/b")
    assert [f.type for f in result.findings] == ["github_token", "github_token"]
    key = fakes.anthropic()
    assert [f.type for f in redact(f'api_key = "{key}"').findings] == ["anthropic_key"]


def test_only_the_value_goes(fakes: Any) -> None:
    pw = fakes.password()
    result = redact(f"DATABASE_URL=postgres://app:{pw}@db.internal:5432/orders")
    assert result.text == (
        "DATABASE_URL=postgres://app:[REDACTED:connection_string]@db.internal:5432/orders"
    )
    result = redact(f'+    "db_password": "{pw}",')
    assert result.text == '+    "db_password": "[REDACTED:password_assignment]",'


def test_markers_are_typed_and_known() -> None:
    known = set(SECRET_TYPES) | set(PII_TYPES)
    for case in POSITIVES:
        result = redact(case.text, pii=True)
        for kind in re.findall(r"\[REDACTED:([a-z_]+)\]", result.text):
            assert kind in known
        assert len(re.findall(r"\[REDACTED:", result.text)) == len(result.findings)


# ------------------------------------------------------------------------------ findings


def test_findings_give_line_column_and_length_in_the_original_text(fakes: Any) -> None:
    aws, pw, gh = fakes.aws_access_key(), fakes.password(), fakes.github("s")
    text = (
        "diff --git a/.env b/.env\n"
        f"+AWS_ACCESS_KEY_ID={aws}\n"
        " DEBUG=1\n"
        f'+\tdb_password: "{pw}"   # {gh}\n'
    )
    result = redact(text)
    lines = text.splitlines()
    expected = [
        Finding("aws_access_key", 2, lines[1].index(aws) + 1, len(aws)),
        Finding("password_assignment", 4, lines[3].index(pw) + 1, len(pw)),
        Finding("github_token", 4, lines[3].index(gh) + 1, len(gh)),
    ]
    assert list(result.findings) == expected
    for finding, secret in zip(result.findings, (aws, pw, gh), strict=True):
        assert lines[finding.line - 1][finding.column - 1 :][: finding.length] == secret


def test_line_numbers_after_a_multi_line_block(fakes: Any) -> None:
    _, block = fakes.pem("RSA")
    token = fakes.github("p")
    text = "x = 1\n" + "\n".join("+" + b for b in block) + f"\n+token: {token}\n"
    result = redact(text)
    pem, tok = result.findings
    assert (pem.type, pem.line, pem.column) == ("private_key", 2, 2)
    assert pem.length == len("\n+".join(block))
    assert (tok.type, tok.line, tok.column) == ("github_token", 2 + len(block), 9)
    assert result.text == "x = 1\n+[REDACTED:private_key]\n+token: [REDACTED:github_token]\n"


def test_findings_never_hold_the_value() -> None:
    assert [f.name for f in dataclasses.fields(Finding)] == ["type", "line", "column", "length"]
    for case in POSITIVES:
        result = redact(case.text, pii=True)
        for finding in result.findings:
            assert case.value not in repr(finding)
        assert case.value not in repr(result.findings)


def test_describe_never_shows_a_value() -> None:
    shown = 0
    for case in POSITIVES:
        result = redact(case.text, pii=True)
        lines = describe(result.findings)
        assert len(lines) == len(result.findings)
        for line in lines:
            assert case.value not in line
            assert re.fullmatch(r"line \d+, col \d+: [a-z_]+ \(\d+ chars?\)", line), line
        shown += len(lines)
    assert shown >= len(POSITIVES)
    finding = Finding("aws_secret_key", 12, 5, 40)
    assert describe([finding]) == ["line 12, col 5: aws_secret_key (40 chars)"]
    assert describe([]) == []


# ---------------------------------------------------------------------- look-alikes survive

SHA = "3f2a1b4c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a"


@pytest.mark.parametrize(
    "text",
    [
        f"commit {SHA}",
        f"index {SHA[:7]}..{SHA[8:15]} 100644",
        f'"etag": "{SHA[:32]}"',
        f"sha256: {SHA}{SHA[:24]}",
        'request_id = "550e8400-e29b-41d4-a716-446655440000"',
        "background: url(data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAA=);",
        '"integrity": "sha512-Vf3sQgPjfEbv2ePBSVQ3sz9Ex+sQzIhtBR47BwfmZBvHC3Hz7Hk9Q5sfGv2mQnz0oPq=="',
        'password = "changeme"',
        "DB_PASSWORD=${DB_PASSWORD}",
        "password: {{ secret }}",
        'token = os.environ["X"]',
        "api_key: <your-key-here>",
        "API_KEY=xxxx",
        'password: "****"',
        "password = None",
        'token = ""',
        "const token = process.env.TOKEN;",
        "Please reset your password, the link expires in 24 hours.",
        "Password: the reset mail never arrives",
        "password_hash = hash_password(raw)",
        "    self.password = password",
        'version = "2.14.0-rc.1"',
        "color: #ff00aa;",
        "class AbstractSingletonProxyFactoryBeanTokenProvider:",
        'eos_token = "</s>"',
        "max_tokens = 4096",
        "Released 2026-11-23, build 20261123.4, server 10.0.0.12:8443",
    ],
)
def test_look_alikes_survive(text: str) -> None:
    result = redact(text, pii=True)
    assert result.text == text
    assert result.findings == ()


@pytest.mark.parametrize(
    "text",
    [
        # each of these was redacted by an earlier version, in real packages or real diffs
        '"AWS::IAM::AccessKey": "72c2d9dd90025459",',
        '"IAMUserChangePassword": "arn:aws:iam::aws:policy/IAMUserChangePassword",',
        'elif token == "keyword":',
        'token = r"[-!#$%&*+.^_|~0-9a-zA-Z]+"',
        'FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"',
        'NOPASSWORD = "no-password-required"',
        "private_key: PKCS7PrivateKeyTypes,",
        "information can be provided via the --username and --password options",
        '"""Load and return a dynamic library identified by \'name\'."""',
        'print(f"password={password!r}")',
        "_NOT_PASSWORD_PREV = frozenset(",
        '("env", "GITHUB_TOKEN=" + prefix + "x" * 36),',
        "def load_cert_chain(self, certfile, keyfile=None, password=None):",
        "your file has '-----BEGIN RSA PRIVATE KEY-----' and '-----END RSA PRIVATE KEY-----'",
        '_SK_START = b"-----BEGIN OPENSSH PRIVATE KEY-----"',
        "'opaquelocktoken': 'RFC 2518',",
        "Token: '#d0d0d0',",
        'publicKeyToken="6595b64144ccf1df"',
        '"clientRequestToken": "1d2129a1-3d38-460a-9756-e5b91fddb951",',
        "eyJ" * 5000,
    ],
)
def test_code_look_alikes_survive(text: str) -> None:
    assert redact(text).findings == ()


def test_a_value_inside_a_string_is_found(fakes: Any) -> None:
    pw, token = fakes.password(), fakes.mixed(32)
    result = redact(
        f"docker run -e \"DB_PASSWORD={pw}\" -e DEBUG=1 img\nenv: ['API_TOKEN={token}']"
    )
    assert pw not in result.text and token not in result.text
    assert [f.type for f in result.findings] == ["password_assignment", "secret_assignment"]


def test_neighbours_of_a_marker_are_judged_again(fakes: Any) -> None:
    """A token glued to a key block only ends once the block is a marker; the result must
    still be final (redacting it again changes nothing)."""
    token, email = fakes.gitlab(), fakes.email()
    _, block = fakes.pem("RSA")
    text = token + "\n".join(block) + email
    result = redact(text, pii=True)
    assert token not in result.text and email not in result.text
    assert [f.type for f in result.findings] == ["gitlab_token", "private_key", "email"]
    assert redact(result.text, pii=True).text == result.text
    first = result.findings[0]
    assert (first.line, first.column, first.length) == (1, 1, len(token))


def test_offsets_survive_characters_whose_lower_case_is_longer(fakes: Any) -> None:
    pw = fakes.password()
    text = f'İİ note\nİ password = "{pw}"'
    result = redact(text)
    assert result.text == 'İİ note\nİ password = "[REDACTED:password_assignment]"'
    assert result.findings == (Finding("password_assignment", 2, 15, len(pw)),)


def test_dummies_are_a_documented_decision() -> None:
    # exactly a placeholder word, or made only of them (plus a few digits): nothing to protect
    for value in ("changeme", "password", "secret", "test", "testpass123", "password1", "dummy"):
        assert redact(f'password = "{value}"').findings == ()
    # anything else after a secret key is redacted, weak passwords included
    for value in ("hunter2", "password123!", "Winter2026", "postgres"):
        assert redact(f'password = "{value}"').text == 'password = "[REDACTED:password_assignment]"'


def test_text_without_secrets_comes_back_unchanged() -> None:
    assert redact("") == Redacted("", ())
    text = "fix(parser): handle empty hunks\n\nNo behaviour change otherwise.\n"
    assert redact(text, pii=True) == Redacted(text, ())


# ----------------------------------------------------------------------------------- PII


def test_pii_only_when_asked() -> None:
    text = "Contact jane.doe@example.com or +1 415 555 0134, card 4111 1111 1111 1111"
    assert redact(text).text == text
    result = redact(text, pii=True)
    assert result.text == (
        "Contact [REDACTED:email] or [REDACTED:phone], card [REDACTED:card_number]"
    )
    assert [f.type for f in result.findings] == ["email", "phone", "card_number"]


@pytest.mark.parametrize(
    "phone",
    [
        "+1 415 555 0134",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "(415) 555-0134",
        "415-555-0134",
        "020 7946 0958",
        "06 12 34 56 78",
        "+14155550134",
    ],
)
def test_phone_formats(phone: str) -> None:
    _caught(f"call me on {phone} today", phone, "phone")


@pytest.mark.parametrize(
    "text",
    [
        "released on 2026-11-23 at 10:30",
        "version 1.2.3.4",
        "ping 192.168.100.200",
        "Date: Mon Nov 23 12:05:00 2026 +0100",
        "@@ -120,7 +120,9 @@",
        "order 4411 0838 6249 5480 total 12.50",
        "npm i @types/node@20.10.0 and logo@2x.png",
        "git clone git@github.com:acme/forge.git",
    ],
)
def test_pii_look_alikes_survive(text: str) -> None:
    assert redact(text, pii=True).findings == ()


def test_luhn(fakes: Any) -> None:
    valid = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011111111111117"]
    for number in valid:
        _caught(f"card {number} please", number, "card_number")
    for number in valid:
        wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
        assert redact(f"card {wrong} please", pii=True).findings == (), wrong
    generated = fakes.card("4", 16)
    assert redact(generated, pii=True).text == "[REDACTED:card_number]"
    assert redact(fakes.not_luhn(generated), pii=True).findings == ()


# ------------------------------------------------------------------------------ idempotence


def test_idempotent_over_the_whole_corpus() -> None:
    for case in [*POSITIVES, *NEGATIVES]:
        for pii in (False, True):
            once = redact(case.text, pii=pii)
            twice = redact(once.text, pii=pii)
            assert twice.text == once.text, case.text
            assert twice.findings == ()


# ---------------------------------------------------------------------------------- corpus


def test_corpus_is_large_deterministic_and_well_formed() -> None:
    assert len(POSITIVES) >= 120 and len(NEGATIVES) >= 120
    assert corpus.positives() == POSITIVES and corpus.negatives() == NEGATIVES
    assert {c.type for c in POSITIVES} == set(SECRET_TYPES) | set(PII_TYPES)
    for case in POSITIVES:
        assert case.value and case.value in case.text


def test_corpus_recall_and_false_positive_rate() -> None:
    hits: dict[str, list[bool]] = {}
    for case in POSITIVES:
        result = redact(case.text, pii=_is_pii(case.type))
        ok = case.value not in result.text and f"[REDACTED:{case.type}]" in result.text
        hits.setdefault(case.type, []).append(ok)
    everything = [ok for oks in hits.values() for ok in oks]
    recall = sum(everything) / len(everything)
    false_positives = sum(bool(redact(c.text, pii=True).findings) for c in NEGATIVES)
    fp_rate = false_positives / len(NEGATIVES)
    assert recall >= RECALL_FLOOR, recall
    assert fp_rate <= FALSE_POSITIVE_CEILING, fp_rate
    for kind, oks in hits.items():
        assert sum(oks) / len(oks) >= PER_TYPE_RECALL_FLOOR, kind
