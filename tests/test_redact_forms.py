"""Forms of secrets that the scanners' rule tests showed forge missing (the old held-out and tuning
parts of the external corpus, by category), each written here with fresh fake values, so what is
tested is the form and not a scanner's test string; and the look-alikes each new rule must leave.

Fake values are assembled at run time (prefixes in pieces, bodies from a seeded RNG), as in
tests/test_redact.py, so no scanner mistakes this file for a leak.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import pytest

from forge_cli.redact import redact
from secret_corpora import gone, load_corpus

Fakes = load_corpus().Fakes


@pytest.fixture
def fakes(request: pytest.FixtureRequest) -> Any:
    return Fakes(zlib.crc32(request.node.name.encode()))


def _b64url(data: str) -> str:
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def test_unsigned_jwt(fakes: Any) -> None:
    header = _b64url('{"alg":"none","typ":"JWT"}')
    payload = _b64url('{"sub":"' + fakes.hex(12) + '","name":"' + fakes.mixed(10) + '"}')
    token = f"{header}.{payload}"
    out = gone(f"Authorization = {token}", token)
    assert "[REDACTED:jwt]" in out


def test_discord_bot_token(fakes: Any) -> None:
    bot_id = base64.b64encode(("1" + fakes.chars("0123456789", 17)).encode()).decode()
    token = bot_id.rstrip("=") + "." + fakes.mixed(6) + "." + fakes.mixed(27)
    gone(token, token)
    gone(f'client.run("{token}")', token)


@pytest.mark.parametrize(
    "make",
    [
        lambda f: "da" + "pi" + f.hex(32),  # Databricks
        lambda f: "NR" + "IQ-" + f.mixed(32),  # New Relic insights query key
        lambda f: "p" + "k.eyJ" + f.mixed(40) + "." + f.mixed(22),  # Mapbox public token
        lambda f: f.mixed(76) + "AZ" + "DO" + f.mixed(4),  # Azure DevOps PAT
    ],
    ids=["databricks", "newrelic-query", "mapbox-public", "azure-devops"],
)
def test_more_vendor_shapes(make: Any, fakes: Any) -> None:
    token = make(fakes)
    gone(f"export SOME_SETTING={token}", token)


@pytest.mark.parametrize(
    "template",
    [
        "sonar.login={v}",
        'const SONAR_LOGIN = "{v}"',
        "mvn verify -Dsonar.login={v}",
        "java -Djavax.net.ssl.trustStorePassword={v} -jar app.jar",
        "# API_TOKEN={v}",  # commented out, still a key
        "// apiKey = '{v}'",
        'std::string secret("{v}");',  # C++ direct initialisation
    ],
)
def test_names_and_places_of_keys(template: str, fakes: Any) -> None:
    value = fakes.mixed(40)
    gone(template.replace("{v}", value), value)


def test_uuid_and_numeric_tokens_under_token_names(fakes: Any) -> None:
    uuid = f"{fakes.hex(8)}-{fakes.hex(4)}-{fakes.hex(4)}-{fakes.hex(4)}-{fakes.hex(12)}"
    gone(f"//registry.npmjs.org/:_authToken={uuid}", uuid)
    gone(f"postmark_token: {uuid}", uuid)
    number = "1" + fakes.chars("0123456789", 17)
    gone(f'discord_token = "{number}"', number)


@pytest.mark.parametrize(
    "template",
    [
        'curl -u ":{p}" https://localhost:9200',  # no user
        "curl --user kevin:'{p}' -X PATCH https://api.test",  # each half quoted
        "psexec \\\\host -u Administrator -p {p} cmd",
        "Connect-VIServer -Server vc.lab -User admin@vsphere.local -Password {p}",
    ],
)
def test_passwords_on_command_lines(template: str, fakes: Any) -> None:
    password = fakes.password()
    gone(template.replace("{p}", password), password)


def test_curl_token_given_as_the_user(fakes: Any) -> None:
    token = fakes.mixed(32)
    gone(f'curl -u "{token}:" https://api.test/v1/charges', token)


def test_psexec_word_password(fakes: Any) -> None:
    word = fakes.chars("abcdefghijklmnopqrstuvwxyz", 9)
    gone(f"psexec \\\\host -u Administrator -p {word} shutdown -r", word)


def test_kubernetes_secret_block_scalars_and_comments(fakes: Any) -> None:
    dockercfg = base64.b64encode(('{"auths":{"r":{"auth":"' + fakes.mixed(24) + '"}}}').encode())
    value = dockercfg.decode()
    doc = (
        "apiVersion: v1\ndata:\n  .dockercfg: |\n    "
        + value
        + "\nmetadata:\n  name: registry\ntype: kubernetes.io/dockercfg\n"
    )
    out = gone(doc, value)
    assert "  .dockercfg: |\n" in out and "type: kubernetes.io/dockercfg" in out
    key = base64.b64encode(fakes.mixed(20).encode()).decode()
    doc = (
        "kind: Secret\ndata:\n  # base64 of the password: echo -n ... | base64\n  key: "
        + key
        + "\n"
    )
    gone(doc, key)


@pytest.mark.parametrize(
    "text",
    [
        "kind: ConfigMap\ndata:\n  config: |\n    retries=3\n    timeout=30\n",
        'return token("abc123def456ghi789");',  # a call, not a declaration
        "x = a or token('abc123def456ghi789');",
        'user_login = "jdoe"',
        "last_login: 2024-01-02T10:11:12Z",
        "mvn -Dmaven.test.skip=true -Dtoken.count=5",
        "curl -u <user:password> https://test.com/endpoint",
        "curl -u $USER:$PASS https://test.com/endpoint",
        "# password: see the docs for how to set it",
        "information can be provided via the --username and --password options",
        'request_id = "550e8400-e29b-41d4-a716-446655440000"',
        'csrf_token = "' + "Mj2qykJO5rELyHgezQ69nzUX0i3OH67V7" + '"',
        '<input type="hidden" name="authenticity_token" value="7SWa-Fo1_hsC6oovfBsJFLGPUl2Ehk">',
        "da" + "pi" + "123456789012345678a9bc01234defg5",  # not hex
        "MTAyOTQ4MTN5OTU5MTDwMEcxNg0" + ".GSwJyi." + "sbaw8msOR3Wi6vPUzeIWy_P0vJbB0UuRVjH8l8",
    ],
)
def test_look_alikes_of_the_new_forms_survive(text: str) -> None:
    assert redact(text).text == text
