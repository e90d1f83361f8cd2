"""Redaction measured on a corpus nobody here wrote, and the forms issue 10 found missing.

The corpus is other secret scanners' own rule tests (gitleaks, detect-secrets, Nosey Parker),
rebuilt from fetched snapshots of their repositories by tests/data/secrets/external (see its
``corpus`` module for why it is not committed). Where the snapshots are not on this machine (CI
has no network) those tests skip and say why; the focused tests below always run.

Fake values are assembled at run time (prefixes in pieces, bodies from a seeded RNG), as in
tests/test_redact.py, so no scanner mistakes this file for a leak.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

import pytest

from forge_cli.redact import redact
from secret_corpora import gone, load_corpus, load_external

#: the issue's targets, on the external corpus
RECALL_TARGET = 0.95
FALSE_POSITIVE_TARGET = 0.05


Fakes = load_corpus().Fakes


@pytest.fixture
def fakes(request: pytest.FixtureRequest) -> Any:
    return Fakes(zlib.crc32(request.node.name.encode()))


# -------------------------------------------------------------------- the forms of issue 10


@pytest.mark.parametrize(
    "template",
    [
        'SMTP_PASSWORD="{v}"',
        "password: '{v}'",
        'password = "{v}"',
        'db_password => "{v}"',
    ],
)
@pytest.mark.parametrize("phrase", ["my mail pass", "two words", "value with quotes and spaces"])
def test_quoted_passphrases_with_spaces(template: str, phrase: str) -> None:
    out = gone(template.replace("{v}", phrase), phrase)
    assert out.startswith(template.split("{v}")[0])  # the name stays


@pytest.mark.parametrize(
    "text",
    [
        'password = "Enter your password"',
        'label = "Mot de passe"',
        'password_prompt = "Forgot password?"',
        'PASSWORD_HELP = "Password must be at least 8 characters."',
        "'opaquelocktoken': 'RFC 2518',",
        'creds = " --username=" + user',
    ],
)
def test_ui_strings_are_not_passphrases(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    "template",
    [
        'apikey := "{v}"',  # Go
        "api_key := `{v}`",
        'var apiToken string = "{v}"',
        'static const char *api_key = "{v}";',  # C
        'char secret[] = "{v}";',
        'password = @"{v}";',  # Objective-C
        'if (password == "{v}") {{',
        'if ("{v}" == password) {{',
        'System.setProperty("SERVICE_TOKEN", "{v}")',
        '$serviceToken .= "{v}"',  # PHP
        'SERVICE_TOKEN ?= "{v}"',  # Make
        'SERVICE_TOKEN ::= "{v}"',
        "<serviceToken>\n    {v}\n</serviceToken>",
    ],
)
def test_assignments_in_more_languages(template: str, fakes: Any) -> None:
    value = fakes.mixed(32)
    gone(template.replace("{v}", value), value)


def test_azure_ad_client_secrets(fakes: Any) -> None:
    secret = fakes.mixed(3) + "8Q" + "~" + fakes.mixed(34, "abcdefghijkLMNOP0123456789_~.-")
    gone(f"client_secret={secret}", secret)
    gone(f"(use the client secret: {secret})", secret)
    gone(f'<value xsi:type="xsd:string">{secret}</value>', secret)


def test_kubernetes_secret_data(fakes: Any) -> None:
    import base64

    password = base64.b64encode(fakes.password().encode()).decode()
    token = fakes.mixed(40)
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\n"
        f"data:\n  db-password: {password}\nstringData:\n  api-token: {token}\n"
    )
    out = redact(text).text
    assert password not in out and token not in out
    assert "name: app" in out and "kind: Secret" in out
    template = "kind: Secret\ndata:\n  password: {{ .Values.password | b64enc }}\n"
    assert redact(template).text == template
    # a value that decodes to a placeholder is one
    placeholder = "kind: Secret\ndata:\n  seed: " + base64.b64encode(b"changeme").decode()
    assert redact(placeholder).text == placeholder
    config_map = f"kind: ConfigMap\ndata:\n  log-level: debug\n  color: {fakes.hex(6)}\n"
    assert redact(config_map).text == config_map


@pytest.mark.parametrize(
    "header",
    [
        "Authorization: {v}",
        "Authorization: Bearer {v}",
        "Authorization: Api-Token {v}",
        "Authorization: SSWS {v}",
        "X-Api-Key: {v}",
        "apikey: {v}",
        "Token: {v}",
    ],
)
def test_curl_headers(header: str, fakes: Any) -> None:
    value = fakes.mixed(32)
    text = f"curl -s -H '{header.replace('{v}', value)}' https://api.example.com/v1/me"
    gone(text, value)


def test_curl_user_and_password(fakes: Any) -> None:
    password = fakes.password()
    out = gone(f"curl -u deploy:{password} https://ci.example.com", password)
    assert "deploy:" in out
    gone(f"curl --user 'deploy:{password}' https://ci.example.com", password)
    for text in ("curl -u $USER:$PASS https://x", "curl -u user:password https://x"):
        assert redact(text).text == text


def _vendor_tokens(f: Any) -> dict[str, str]:
    """One fake token of each vendor the issue names, in the shape the vendor issues."""
    return {
        "hugging face": "h" + "f_" + f.chars("abcdefghijKLMNOPQRSTuvwxyz", 34),
        "groq": "gs" + "k_" + f.mixed(52),
        "sendgrid": "S" + "G." + f.mixed(22) + "." + f.mixed(43),
        "sentry org": "sntr" + "ys_eyJ" + f.mixed(60) + "_" + f.mixed(43),
        "sentry user": "sntr" + "yu_" + f.hex(64),
        "jfrog api key": "AK" + "Cp" + f.mixed(69),
        "jfrog reference": "cmVmdGtu" + "OjAxOj" + f.mixed(60),
        "atlassian": "ATA" + "TT3" + f.mixed(180, "abcdefghijKLMNOP0123456789_-") + "=" + f.hex(8),
        "npm": "np" + "m_" + f.mixed(36),
        "doppler": "dp" + ".pt." + f.mixed(43),
        "pypi": "pypi-AgEIcHlw" + "aS5vcmc" + f.mixed(120, "abcdefghijKLMNOP0123456789_-"),
    }


@pytest.mark.parametrize("vendor", sorted(_vendor_tokens(Fakes(1))))
@pytest.mark.parametrize(
    "template",
    ["{v}", "export SOME_SETTING={v}", "client = Client('{v}')", "- run: tool login --with {v}"],
)
def test_vendor_tokens_by_shape(vendor: str, template: str, fakes: Any) -> None:
    token = _vendor_tokens(fakes)[vendor]
    out = gone(template.replace("{v}", token), token)
    assert "[REDACTED:api_token]" in out


def test_snyk_tokens_and_sidekiq_credentials(fakes: Any) -> None:
    uuid = f"{fakes.hex(8)}-{fakes.hex(4)}-4{fakes.hex(3)}-a{fakes.hex(3)}-{fakes.hex(12)}"
    gone(f"SNYK_TOKEN={uuid}", uuid)
    gone(f"snyk auth {uuid}".replace("snyk auth", "snyk_token:"), uuid)
    password = fakes.hex(8)
    user = fakes.hex(8)
    for text in (
        f"export BUNDLE_ENTERPRISE__CONTRIBSYS__COM={user}:{password}",
        f'BUNDLE_GEMS__CONTRIBSYS__COM: "{user}:{password}"',
    ):
        gone(text, password)


# ----------------------------------------------------------------- look-alikes that survive


@pytest.mark.parametrize(
    "text",
    [
        # GCP-key-like: a mask, too short, or glued into a longer word
        'apiKey: "AI' + "za" + "a" * 35 + '"',
        "AI" + "zaSyNotAKeyJustAnIdentifierName",
        "x" + "AI" + "zaSyA5iVawFQ8ABuTZNUdcwERLJv0a0p4wtMabcd123",
        # Telegram-like: glued to "bot" in a URL path is claimed by nothing but the URL, and
        # "foo:" is not a bot id
        "foo:AA" + "H1bjqpKKW3maRSPAxzIU-0v6xNuq2-NjM",
        # GitLab-like: the wrong separator, the wrong length for the prefix, a mask
        "gl" + "pat_hellOworld380_testin",
        "gl" + "ptt-hellOworld380_testin",
        "gl" + "oas-checking_Length-Is-checking_Length-Is-",
        "gl" + "pat-xxxxxxxxxxxxxxxxxxxx",
        # hashes, ids, integrity strings, identifiers
        "commit 3f2a1b4c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a",
        'request_id = "550e8400-e29b-41d4-a716-446655440000"',
        "token_type = 'bearer'",
        "primaryKey=" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3f",
        "ZONE_ID_PAT = '(?:%25|%)(?:[' + UNRESERVED_PAT + ']|%[a-fA-F0-9]{2})+'",
        "words(('def', 'event', 'pass', 'return', 'for', 'while'))",
        "pip install -U pip -p 3.11",
        "information can be provided via the --username and --password options",
        "-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----",
    ],
)
def test_look_alikes_survive(text: str) -> None:
    assert redact(text).text == text


def test_aws_documentation_keys_are_kept_on_purpose() -> None:
    """Decided and documented (forge_cli.redact): AWS's published example keys authenticate
    nothing, and a model that sees one should know a config holds the documentation value. Any
    other key of the same shape is redacted."""
    example_id = "AK" + "IAIOSFODNN7" + "EXAMPLE"
    example_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"
    for text in (f"aws_access_key_id = {example_id}", f"aws_secret_access_key = {example_secret}"):
        assert redact(text).text == text
    rng = random.Random(4)
    other = "AK" + "IA" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ234567") for _ in range(16))
    gone(f"aws_access_key_id = {other}", other)


# --------------------------------------------------------------- the corpus nobody here wrote


@pytest.fixture(scope="module")
def external() -> Any:
    # the scanners' rules are YAML (Nosey Parker) and RE2/Rust regexes that only the third-party
    # regex module reads as written; neither is a dependency of forge
    pytest.importorskip("yaml", reason="reading Nosey Parker's rules needs PyYAML")
    pytest.importorskip("regex", reason="reading the scanners' regexes needs the regex module")
    corpus_module = load_external()
    where = corpus_module.snapshot_dir()
    corpus = corpus_module.build(where)
    if not corpus.cases:
        pytest.skip(
            f"no scanner snapshots in {where} (fetch gitleaks/gitleaks, Yelp/detect-secrets, mongodb/kingfisher,"
            " praetorian-inc/noseyparker and semgrep/semgrep-rules there, or set FORGE_SCANNER_SNAPSHOTS)"
        )
    return corpus


def _scores(cases: list[Any]) -> tuple[float, float, int, int]:
    positives = [c for c in cases if c.positive]
    negatives = [c for c in cases if not c.positive]
    caught = 0
    for case in positives:
        out = redact(case.text).text
        caught += "[REDACTED:" in out and not any(s in out for s in case.secrets)
    changed = sum(redact(c.text).text != c.text for c in negatives)
    return caught / len(positives), changed / len(negatives), len(positives), len(negatives)


def test_external_corpus_is_split_by_rule_and_large(external: Any) -> None:
    parts = {c.part for c in external.cases}
    assert {"tune", "holdout"} <= parts <= {"tune", "holdout", "kingfisher", "unseen"}
    assert all(c.source == "kingfisher" for c in external.part("kingfisher"))
    assert all(c.source == "semgrep" for c in external.part("unseen"))
    rules = {(c.source, c.rule): c.part for c in external.cases}
    for case in external.cases:
        assert rules[(case.source, case.rule)] == case.part  # a rule lives in one part only
    assert sum(c.positive for c in external.cases) >= 1000
    assert sum(not c.positive for c in external.cases) >= 300


def test_external_tune_part_meets_the_targets(external: Any) -> None:
    recall, fp_rate, n_pos, n_neg = _scores(external.part("tune"))
    assert recall >= RECALL_TARGET, f"recall {recall:.3f} on {n_pos} positives"
    assert fp_rate <= FALSE_POSITIVE_TARGET, f"false positives {fp_rate:.3f} on {n_neg}"


#: the old held-out part: measured only in the first round (recall 0.871), its misses then looked
#: at in the second (0.952, false positives 0.027), so it now meets the targets as a tuned part
def test_external_holdout_part(external: Any) -> None:
    recall, fp_rate, n_pos, n_neg = _scores(external.part("holdout"))
    assert fp_rate <= FALSE_POSITIVE_TARGET, f"false positives {fp_rate:.3f} on {n_neg}"
    assert recall >= RECALL_TARGET, f"recall {recall:.3f} on {n_pos} positives"


#: Kingfisher's rule examples were added after the first round of tuning on the three other
#: sources and were only measured for two rounds: recall 0.452 on 1159 positives before the
#: second round, 0.455 after it. In the third round its helper rules (``visible: false``: hosts,
#: ids) stopped counting as secrets (1,123 positives left; 0.467 before any detector change) and
#: it was tuned on: 0.703. Well below the 0.95 target: most misses left are values typed as
#: examples (alphabet runs, ``1234567890abcdef`` repeated), which forge keeps on purpose, and a
#: vendor's name with no credential word before a value. The floor only stops a slide back.
KINGFISHER_RECALL_FLOOR = 0.69


def test_external_kingfisher_part(external: Any) -> None:
    if not external.part("kingfisher"):
        pytest.skip("no snapshot of mongodb/kingfisher here")
    recall, fp_rate, n_pos, n_neg = _scores(external.part("kingfisher"))
    assert fp_rate <= FALSE_POSITIVE_TARGET, f"false positives {fp_rate:.3f} on {n_neg}"
    assert recall >= KINGFISHER_RECALL_FLOOR, f"recall {recall:.3f} on {n_pos} positives"


#: the held-out part now: Semgrep's secret rules' tests (semgrep/semgrep-rules, generic/secrets/),
#: loaded and measured before the third round changed any detector (recall 0.855 on 297
#: positives, false positives 2 of 61), never listed, measured once more at the end (see
#: benchmarks/README.md). The floor is the figure before the round: it stops a slide back.
UNSEEN_RECALL_FLOOR = 0.85


def test_external_unseen_part(external: Any) -> None:
    if not external.part("unseen"):
        pytest.skip("no snapshot of semgrep/semgrep-rules here")
    recall, fp_rate, n_pos, n_neg = _scores(external.part("unseen"))
    assert fp_rate <= FALSE_POSITIVE_TARGET, f"false positives {fp_rate:.3f} on {n_neg}"
    assert recall >= UNSEEN_RECALL_FLOOR, f"recall {recall:.3f} on {n_pos} positives"


def test_placeholders_and_contested_cases_are_scored_apart(external: Any) -> None:
    """Masks the scanners call secrets stay (forge keeps masks on purpose), and the split keeps
    every case somewhere: nothing is dropped silently."""
    masked = [c for c in external.placeholders if c.positive and c.part != "unseen"]
    kept = sum(any(s in redact(c.text).text for s in c.secrets) for c in masked)
    assert masked and kept / len(masked) >= 0.75
    assert external.contested and all(not c.positive for c in external.contested)
