"""A deterministic corpus of fake secrets and of look-alikes, for tests and the quality benchmark.

Why generated and not committed as JSONL: a file full of well-formed ``ghp_``/``AKIA``/``sk_live_``
values trips GitHub push protection and every other secret scanner that reads the repository, and
teaches people to click "allow". So no value here is hand-typed: provider prefixes are assembled
from pieces and bodies come from a seeded RNG, the tests and ``benchmarks/redaction_quality.py``
build the corpus in memory at run time, and only this script is committed. The seed makes every run
see the same corpus, so a change in the measured recall is a change in the redactor, not in the data.

Every positive is a realistic line or snippet (a diff line, .env, YAML, JSON, Python/JS/Go, shell, a
URL, a log line, a ticket) with one secret of one known type; ``value`` is the exact secret text that
must not survive. Negatives are look-alikes that must come back unchanged, even with ``pii=True``.

Write the corpus out for a look (not into the repository): ``python
tests/data/secrets/make_corpus.py --out /tmp/corpus`` writes positives.jsonl and negatives.jsonl.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import string
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

SEED = 20261123

UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
DIGITS = string.digits
ALNUM = UPPER + LOWER + DIGITS
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
#: characters for generated passwords: no quotes, '#', '$', '&' or '\\' (those change meaning in
#: shell, YAML or URLs, and a real password with them would be quoted anyway)
PASSWORD_CHARS = ALNUM + "!@%^-_+=.~"
#: substrings the redactor reads as placeholders: a random body containing one is regenerated
PLACEHOLDER_BITS = ("xxxx", "your", "example", "fake", "sample", "dummy", "here", "redacted", "...")

# provider prefixes, assembled so that no complete token pattern appears in this file
AWS_KEY_PREFIXES = ("AK" + "IA", "AS" + "IA")
GH = "gh"
GITHUB_PAT = "github" + "_pat_"
GLPAT = "gl" + "pat-"
XOX = "xo" + "x"
SLACK_HOOKS = "https://hooks." + "slack.com/services/"
SK = "s" + "k"
ANT = SK + "-" + "ant-api03-"
AIZA = "AI" + "za"
PEM_DASHES = "-" * 5


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    type: str  # the expected finding type; "" for a negative
    value: str  # the secret text that must disappear; "" for a negative
    context: str  # where such a line lives: env, yaml, json, python, diff, url, log, ticket ...


class Fakes:
    """Random but reproducible fake values of every shape the redactor knows."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)

    def chars(self, alphabet: str, n: int, *, need: tuple[str, ...] = ()) -> str:
        """n characters from alphabet, with at least one from each ``need`` set, no placeholder."""
        while True:
            out = "".join(self.rng.choice(alphabet) for _ in range(n))
            low = out.lower()
            if all(any(c in group for c in out) for group in need) and not any(
                bit in low for bit in PLACEHOLDER_BITS
            ):
                return out

    def mixed(self, n: int, alphabet: str = ALNUM) -> str:
        return self.chars(alphabet, n, need=(UPPER, LOWER, DIGITS))

    def digits(self, n: int) -> str:
        return self.chars(DIGITS, n)

    def hex(self, n: int) -> str:
        return self.chars(HEX, n, need=(DIGITS, "abcdef"))

    def b64(self, n_bytes: int) -> str:
        return base64.b64encode(self.rng.randbytes(n_bytes)).decode()

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def password(self, n: int | None = None) -> str:
        n = n or self.rng.randint(12, 20)
        return self.rng.choice(UPPER + LOWER) + self.chars(
            PASSWORD_CHARS, n - 1, need=(DIGITS, LOWER, "!@%^+=~")
        )

    # ---------------------------------------------------------------- provider-shaped values

    def aws_access_key(self, prefix: int = 0) -> str:
        return AWS_KEY_PREFIXES[prefix] + self.chars(UPPER + DIGITS, 16, need=(DIGITS, UPPER))

    def aws_secret_key(self) -> str:
        return self.chars(B64, 40, need=(UPPER, LOWER, DIGITS))

    def github(self, kind: str = "p") -> str:
        if kind == "pat":
            return GITHUB_PAT + self.mixed(22) + "_" + self.mixed(59)
        return GH + kind + "_" + self.mixed(36)

    def gitlab(self) -> str:
        return GLPAT + self.chars(ALNUM + "_-", 20, need=(DIGITS, UPPER))

    def slack(self, kind: str = "b") -> str:
        if kind == "p":
            return f"{XOX}p-{self.digits(12)}-{self.digits(12)}-{self.digits(13)}-{self.hex(32)}"
        return f"{XOX}{kind}-{self.digits(12)}-{self.digits(13)}-{self.mixed(24)}"

    def slack_hook_path(self) -> str:
        return (
            f"T{self.chars(UPPER + DIGITS, 8)}/B{self.chars(UPPER + DIGITS, 10)}/{self.mixed(24)}"
        )

    def stripe(self, prefix: str) -> str:
        if prefix == "whsec":
            return "wh" + "sec_" + self.mixed(32)
        return prefix + "_" + self.mixed(self.rng.choice((24, 34, 99)))

    def openai(self, kind: str = "") -> str:
        if kind == "proj":
            return SK + "-proj-" + self.mixed(156, B64URL)
        if kind == "svcacct":
            return SK + "-svcacct-" + self.mixed(120, B64URL)
        return SK + "-" + self.mixed(48)

    def anthropic(self) -> str:
        return ANT + self.mixed(93, B64URL) + "AA"

    def google(self) -> str:
        return AIZA + self.mixed(35, B64URL)

    def jwt(self) -> str:
        def enc(obj: dict[str, object]) -> str:
            raw = json.dumps(obj, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        header = enc({"alg": self.rng.choice(["HS256", "RS256"]), "typ": "JWT"})
        payload = enc(
            {
                "sub": self.digits(10),
                "name": self.rng.choice(["Ada", "Linus", "Grace", "Ken"]),
                "iat": 1_700_000_000 + self.rng.randint(0, 10**7),
            }
        )
        return f"{header}.{payload}.{self.mixed(43, B64URL)}"

    def pem(self, label: str, lines: int = 6) -> tuple[str, list[str]]:
        """(first body line, all lines of the block)."""
        body = [self.b64(48) for _ in range(lines)] + [self.b64(20)]
        kind = f"{label} PRIVATE KEY".strip()
        block = [
            f"{PEM_DASHES}BEGIN {kind}{PEM_DASHES}",
            *body,
            f"{PEM_DASHES}END {kind}{PEM_DASHES}",
        ]
        return body[0], block

    # -------------------------------------------------------------------------------- PII

    def email(self) -> str:
        first = self.rng.choice(["jane", "omar", "li", "sofia", "mateo", "aylin", "kofi"])
        last = self.rng.choice(["doe", "haddad", "wei", "rossi", "garcia", "yilmaz", "mensah"])
        sep = self.rng.choice([".", "_", ""])
        domain = self.rng.choice(["acme-corp.io", "mail.example.org", "contoso.co.uk", "gmx.de"])
        return f"{first}{sep}{last}@{domain}"

    def card(self, prefix: str, length: int) -> str:
        body = prefix + self.digits(length - len(prefix) - 1)
        total = 0
        for n, ch in enumerate(reversed(body + "0")):
            d = int(ch)
            if n % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        return body + str((10 - total % 10) % 10)

    def not_luhn(self, card: str) -> str:
        return card[:-1] + str((int(card[-1]) + 1) % 10)


def group(number: str, sizes: tuple[int, ...], sep: str) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(number[i : i + size])
        i += size
    return sep.join(out)


# ---------------------------------------------------------------------------------- positives


def positives(seed: int = SEED) -> list[Case]:
    """Realistic snippets with exactly one fake secret each, of a known type."""
    f = Fakes(seed)
    cases: list[Case] = []

    def add(kind: str, make: Callable[[], str], *templates: tuple[str, str]) -> None:
        for context, template in templates:
            value = make()
            cases.append(Case(template.replace("{v}", value), kind, value, context))

    add(
        "aws_access_key",
        f.aws_access_key,
        ("env", "AWS_ACCESS_KEY_ID={v}\nAWS_DEFAULT_REGION=eu-west-1"),
        ("diff", "+AWS_ACCESS_KEY_ID={v}"),
        ("ini", "[default]\naws_access_key_id = {v}\nregion = eu-west-1"),
        ("python", 's3 = boto3.client("s3", aws_access_key_id="{v}", region_name="us-east-1")'),
        ("yaml", "storage:\n  access_key: {v}\n  bucket: backups"),
        ("log", "2026-11-23 10:01:22 INFO signing with {v}/20261123/us-east-1/s3/aws4_request"),
        ("diff", '-  access_key = "{v}"'),
        ("shell", "export AWS_ACCESS_KEY_ID={v}"),
        ("js", "const creds = { accessKeyId: '{v}', region: 'us-east-1' };"),
        ("go", 'creds := credentials.NewStaticCredentials("{v}", secret, "")'),
        ("ticket", "Hi, our access key {v} is rejected since yesterday, can you check?"),
    )
    add(
        "aws_access_key",
        lambda: f.aws_access_key(1),
        ("json", '{"AccessKeyId": "{v}", "Expiration": "2026-11-23T12:00:00Z"}'),
        ("diff", ' AWS_SESSION_KEY_ID="{v}"'),
    )
    add(
        "aws_secret_key",
        f.aws_secret_key,
        ("ini", "[default]\naws_secret_access_key = {v}"),
        ("diff", "+AWS_SECRET_ACCESS_KEY={v}"),
        ("json", '{"SecretAccessKey": "{v}", "SessionToken": null}'),
        ("python", 's3 = boto3.client("s3", aws_secret_access_key="{v}")'),
        ("yaml", "aws:\n  aws_secret_access_key: {v}"),
        ("shell", "aws configure set aws_secret_access_key {v}"),
        ("shell", 'export AWS_SECRET_ACCESS_KEY="{v}"'),
        ("js", "const awsSecretKey = '{v}';"),
        ("go", '\tSecretAccessKey: "{v}",'),
        ("diff", "-AWS_SECRET_KEY: {v}"),
    )
    for kind, context, template in (
        ("p", "env", "GITHUB_TOKEN={v}"),
        ("p", "diff", "+  token: {v}"),
        (
            "s",
            "url",
            "git remote set-url origin https://x-access-token:{v}@github.com/acme/api.git",
        ),
        ("o", "shell", 'curl -H "Authorization: token {v}" https://api.github.com/user'),
        ("p", "python", 'g = Github("{v}")'),
        ("s", "json", '{"token": "{v}", "expires_at": "2026-12-01T00:00:00Z"}'),
        ("pat", "shell", "export GH_TOKEN={v}"),
        ("u", "log", "remote: token {v} was rejected: Bad credentials"),
        ("p", "npmrc", "//npm.pkg.github.com/:_authToken={v}"),
        ("r", "form", "grant_type=refresh_token&refresh_token={v}"),
        ("pat", "ticket", "I pasted my token {v} in the CI settings, is that safe?"),
    ):
        add("github_token", partial(f.github, kind), (context, template))
    add(
        "gitlab_token",
        f.gitlab,
        ("env", "GITLAB_TOKEN={v}"),
        ("shell", 'curl --header "PRIVATE-TOKEN: {v}" https://gitlab.example.com/api/v4/projects'),
        ("diff", "+    private_token: {v}"),
        ("url", "git clone https://oauth2:{v}@gitlab.com/group/project.git"),
        ("python", 'gl = gitlab.Gitlab("https://gitlab.com", private_token="{v}")'),
        ("json", '{"token": "{v}"}'),
        ("log", "WARN gitlab: 401 for {v}"),
    )
    add(
        "slack_token",
        f.slack,
        ("env", "SLACK_BOT_TOKEN={v}"),
        ("python", 'client = WebClient(token="{v}")'),
        ("js", "const app = new App({ token: '{v}', signingSecret });"),
    )
    add(
        "slack_token",
        lambda: f.slack("p"),
        ("diff", "+  slack_token: {v}"),
        ("log", "2026-11-23 ERROR slack: invalid_auth for token {v}"),
    )
    add(
        "slack_token",
        f.slack_hook_path,
        ("env", f"SLACK_WEBHOOK_URL={SLACK_HOOKS}{{v}}"),
        (
            "shell",
            f'curl -X POST --data \'{{"text":"deployed"}}\' {SLACK_HOOKS}{{v}}',
        ),
        ("json", f'{{"webhook": "{SLACK_HOOKS}{{v}}"}}'),
    )
    for prefix, context, template in (
        ("sk_live", "env", "STRIPE_SECRET_KEY={v}"),
        ("sk_live", "python", 'stripe.api_key = "{v}"'),
        ("sk_test", "diff", "+STRIPE_KEY={v}"),
        ("rk_live", "js", "const stripe = require('stripe')('{v}');"),
        ("pk_live", "yaml", "  publishable_key: {v}"),
        ("whsec", "env", "STRIPE_WEBHOOK_SECRET={v}"),
        ("sk_test", "shell", "curl https://api.stripe.com/v1/charges -u {v}:"),
        ("sk_live", "log", "Request req_8f2k used key {v} from 10.0.3.7"),
    ):
        add("stripe_key", partial(f.stripe, prefix), (context, template))
    for kind, context, template in (
        ("", "env", "OPENAI_API_KEY={v}"),
        ("proj", "python", 'client = OpenAI(api_key="{v}")'),
        ("proj", "shell", 'curl https://api.openai.com/v1/models -H "Authorization: Bearer {v}"'),
        ("", "diff", "+  openai_api_key: {v}"),
        ("svcacct", "json", '{"apiKey": "{v}"}'),
        ("", "shell", "export OPENAI_API_KEY='{v}'"),
        ("proj", "js", 'const openai = new OpenAI({ apiKey: "{v}" });'),
        ("", "python", 'os.environ["OPENAI_API_KEY"] = "{v}"'),
        ("proj", "ticket", "Your API rejects my key {v} with 401 since this morning"),
    ):
        add("openai_key", partial(f.openai, kind), (context, template))
    add(
        "anthropic_key",
        f.anthropic,
        ("env", "ANTHROPIC_API_KEY={v}"),
        ("python", 'client = anthropic.Anthropic(api_key="{v}")'),
        ("shell", 'curl https://api.anthropic.com/v1/messages -H "x-api-key: {v}"'),
        ("diff", "+  anthropic_key: {v}"),
        ("json", '{"anthropic": {"key": "{v}"}}'),
        ("shell", 'export ANTHROPIC_API_KEY="{v}"'),
    )
    add(
        "google_api_key",
        f.google,
        ("env", "GOOGLE_API_KEY={v}"),
        ("js", 'const firebaseConfig = { apiKey: "{v}", authDomain: "demo.firebaseapp.com" };'),
        ("url", "https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key={v}"),
        ("diff", "+  api_key: {v}"),
        ("python", 'genai.configure(api_key="{v}")'),
        ("xml", '<string name="google_api_key">{v}</string>'),
    )
    add(
        "jwt",
        f.jwt,
        ("http", "Authorization: Bearer {v}"),
        ("http", "Cookie: session={v}; Path=/; HttpOnly"),
        ("json", '{"id_token": "{v}", "token_type": "Bearer"}'),
        ("log", "2026-11-23T10:00:00Z DEBUG auth header=Bearer {v}"),
        ("diff", "+TEST_JWT={v}"),
        ("url", "https://app.example.com/callback#access_token={v}&expires_in=3600"),
        ("js", 'const token = "{v}";'),
        ("ticket", "The token {v} expires immediately after login"),
    )
    add(
        "url_credentials",
        f.password,
        ("url", "https://deploy:{v}@git.example.com/acme/infra.git"),
        ("shell", "pip install --index-url https://__token__:{v}@pypi.example.com/simple forge"),
        ("url", "ftp://backup:{v}@ftp.example.net/nightly/"),
        ("diff", "+  registry: https://ci:{v}@registry.example.com/v2/"),
        ("url", "http://admin:{v}@192.168.1.20:8080/manager/html"),
    )
    add(
        "url_credentials",
        lambda: f.mixed(32),
        ("url", "https://api.example.com/v1/export?format=csv&token={v}"),
        ("url", "https://graph.example.com/me?fields=id&access_token={v}"),
        ("shell", "curl 'https://api.example.com/data?api_key={v}&limit=10'"),
        ("env", "WEBHOOK=https://hooks.example.com/in?key={v}"),
        ("log", "GET https://cdn.example.com/f.zip?sv=2022-11-02&se=2026-12-01&sig={v} 200"),
    )
    add(
        "connection_string",
        f.password,
        ("env", "DATABASE_URL=postgres://app:{v}@db.internal:5432/app"),
        ("diff", "+  url: postgresql+asyncpg://svc:{v}@pg-primary:5432/orders"),
        ("env", 'MONGO_URI="mongodb+srv://reader:{v}@cluster0.ab1cd.mongodb.net/prod?w=majority"'),
        ("env", "REDIS_URL=redis://:{v}@cache.internal:6379/0"),
        ("yaml", "broker_url: amqp://worker:{v}@rabbitmq:5672/%2F"),
        (
            "csharp",
            'var conn = "Server=tcp:sql.example.net,1433;Database=app;User ID=app;Password={v};";',
        ),
        ("odbc", "Driver={ODBC Driver 18 for SQL Server};Server=db;Uid=sa;Pwd={v};"),
        ("java", 'String url = "jdbc:mysql://db:3306/shop?user=shop&password={v}&useSSL=true";'),
        ("shell", "mysql mysql://root:{v}@127.0.0.1:3306/test < schema.sql"),
    )
    add(
        "connection_string",
        lambda: f.b64(64),
        (
            "env",
            "AZURE_STORAGE=DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={v};"
            "EndpointSuffix=core.windows.net",
        ),
    )
    add(
        "password_assignment",
        f.password,
        ("env", "DB_PASSWORD={v}"),
        ("diff", "+    password: {v}"),
        ("json", '  "password": "{v}",'),
        ("python", 'password = "{v}"'),
        ("js", "  password: '{v}',"),
        ("go", '\tPassword: "{v}",'),
        ("shell", "export PGPASSWORD={v}"),
        ("shell", "mysqldump --password={v} shop > dump.sql"),
        ("sql", "CREATE USER 'app'@'%' IDENTIFIED BY '{v}';"),
        ("xml", "<password>{v}</password>"),
        ("compose", "    environment:\n      - POSTGRES_PASSWORD={v}"),
        ("properties", "spring.datasource.password={v}"),
        ("ini", "[client]\nuser = app\npassword = {v}"),
        ("python", 'db_password: str = "{v}"'),
        ("netrc", "machine api.example.com login deploy password {v}"),
        ("diff", "-  smtp_pass: {v}"),
        ("sql", "ALTER ROLE app WITH LOGIN PASSWORD '{v}';"),
        ("shell", "curl -u admin:{v} https://jenkins.example.com/api/json"),
        ("python", 'if password == "{v}":'),
        ("docker", "ENV MYSQL_ROOT_PASSWORD={v}"),
        ("ruby", "  config.password = '{v}'"),
        ("php", "$db_pass = '{v}';"),
    )
    for make, context, template in (
        (lambda: f.hex(32), "python", 'api_key = "{v}"'),
        (lambda: f.password(50), "env", "SECRET_KEY={v}"),
        (lambda: f.mixed(40), "diff", "+  client_secret: {v}"),
        (lambda: f.mixed(32), "json", '{"apiKey": "{v}"}'),
        (lambda: f.mixed(40), "env", "AUTH_TOKEN={v}"),
        (lambda: f.hex(40), "shell", 'curl -H "X-Api-Key: {v}" https://api.example.com/v2/items'),
        (lambda: f.mixed(40), "http", "Authorization: Bearer {v}"),
        (lambda: f.hex(128), "env", "SECRET_KEY_BASE={v}"),
        (lambda: f.mixed(32), "yaml", "webhook_secret: {v}"),
        (lambda: f.mixed(40), "js", 'const accessToken = "{v}";'),
        (lambda: f.mixed(32), "shell", "mytool sync --api-key {v} --verbose"),
        (lambda: f.b64(32), "env", 'ENCRYPTION_KEY="{v}"'),
        (lambda: f.mixed(24), "diff", "-    secret: {v}"),
        (lambda: f.mixed(40), "python", 'config["auth_token"] = "{v}"'),
        (
            lambda: f.mixed(40),
            "shell",
            "curl -d 'grant_type=client_credentials&client_secret={v}' https://login.example.com",
        ),
        (lambda: f.mixed(32), "xml", '<add key="ApiKey" value="{v}" />'),
        (lambda: f.mixed(40), "python", 'headers = {"X-Auth-Token": "{v}"}'),
        (lambda: f.hex(40), "terraform", '  access_key = "{v}"'),
        (lambda: f.mixed(36), "go", 'apiKey := "{v}"'),
        (
            lambda: f.mixed(32),
            "log",
            "2026-11-23 12:00:01 DEBUG config loaded: api_key={v} retries=3",
        ),
    ):
        add("secret_assignment", make, (context, template))
    for label, context, shape in (
        ("RSA", "file", "raw"),
        ("OPENSSH", "diff", "diff"),
        ("", "json", "json"),
        ("EC", "yaml", "yaml"),
        ("DSA", "python", "python"),
        ("ENCRYPTED", "file", "raw"),
        ("PGP", "file", "pgp"),
        ("RSA", "diff", "truncated"),
        ("RSA", "file", "headers"),
        ("OPENSSH", "diff", "removed"),
    ):
        first, block = f.pem(label)
        if shape == "pgp":
            kind = "PGP PRIVATE KEY BLOCK"
            block = [
                f"{PEM_DASHES}BEGIN {kind}{PEM_DASHES}",
                "Version: GnuPG v2",
                "",
                *block[1:-1],
                "=" + f.mixed(4),
                f"{PEM_DASHES}END {kind}{PEM_DASHES}",
            ]
        if shape == "headers":
            block = [
                block[0],
                "Proc-Type: 4,ENCRYPTED",
                "DEK-Info: AES-128-CBC,0A1B2C3D",
                "",
                *block[1:],
            ]
        if shape == "raw" or shape == "pgp" or shape == "headers":
            text = "\n".join(block) + "\n"
        elif shape == "diff":
            text = "diff --git a/deploy/id b/deploy/id\n" + "\n".join("+" + b for b in block)
        elif shape == "removed":
            text = "\n".join("-" + b for b in block) + "\n+# key moved to the vault"
        elif shape == "truncated":
            text = "@@ -0,0 +1,30 @@\n" + "\n".join("+" + b for b in block[:4])
        elif shape == "json":
            text = (
                '{"type": "service_account", "private_key_id": "' + f.hex(40) + '", '
                '"private_key": "' + "\\n".join(block) + '\\n", "client_email": "svc"}'
            )
        elif shape == "yaml":
            text = "tls:\n  key: |\n" + "\n".join("    " + b for b in block) + "\n  port: 443"
        else:
            text = 'KEY = """' + "\n".join(block) + '"""\n'
        cases.append(Case(text, "private_key", first, context))
    add(
        "email",
        f.email,
        ("ticket", "Contact me at {v} about invoice 4471"),
        ("git", "Signed-off-by: Jane Doe <{v}>"),
        ("json", '{"email": "{v}", "plan": "pro"}'),
        ("log", "2026-11-23 INFO password reset sent to {v}"),
        ("diff", "+  maintainer: {v}"),
        ("mail", "From: {v}\nSubject: refund for order 88"),
    )
    for make, context, template in (
        (lambda: f"+1 {f.digits(3)} 555 {f.digits(4)}", "ticket", "Call me back on {v} please"),
        (lambda: f"(415) 555-{f.digits(4)}", "ticket", "Tel: {v}"),
        (lambda: f"+44 7700 {f.digits(6)}", "yaml", "mobile: {v}"),
        (lambda: f"020 7946 {f.digits(4)}", "ticket", "Phone {v} (office hours)"),
        (lambda: "06 " + " ".join(f.digits(2) for _ in range(4)), "ticket", "mon numéro: {v}"),
        (lambda: f"+1415555{f.digits(4)}", "json", '{"phone": "{v}"}'),
        (lambda: f"415-555-{f.digits(4)}", "ticket", "Reach our office at {v}."),
        (lambda: f"+49 30 {f.digits(8)}", "mail", "Fax: {v}"),
        (
            lambda: f"+33 6 {f.digits(2)} {f.digits(2)} {f.digits(2)} {f.digits(2)}",
            "csv",
            "x,{v},y",
        ),
    ):
        add("phone", make, (context, template))
    for make, context, template in (
        (lambda: group(f.card("4", 16), (4, 4, 4, 4), " "), "ticket", "Please charge {v} instead"),
        (lambda: group(f.card("51", 16), (4, 4, 4, 4), "-"), "yaml", "card: {v}"),
        (lambda: f.card("4", 16), "env", "TEST_CC={v}"),
        (
            lambda: group(f.card("37", 15), (4, 6, 5), " "),
            "ticket",
            "my amex {v} was charged twice",
        ),
        (lambda: f.card("6011", 16), "json", '{"card": "{v}", "exp": "12/27"}'),
        (lambda: group(f.card("4", 16), (4, 4, 4, 4), " "), "diff", "+{v}"),
        (lambda: f.card("2221", 16), "log", "charge failed card={v} code=05"),
    ):
        add("card_number", make, (context, template))
    # vendor tokens by their documented shape, and password hashes (prefixes in pieces, bodies
    # random, as everywhere in this file)
    for make, context, template in (
        (
            lambda: "h" + "f_" + f.chars(UPPER + LOWER, 34, need=(UPPER, LOWER)),
            "shell",
            "HF_HUB_TOKEN={v} python train.py",
        ),
        (lambda: "gs" + "k_" + f.mixed(52), "env", "GROQ_API_KEY={v}"),
        (
            lambda: "S" + "G." + f.mixed(22) + "." + f.mixed(43),
            "python",
            "sg = SendGridAPIClient('{v}')",
        ),
        (lambda: "np" + "m_" + f.mixed(36), "npmrc", "//registry.npmjs.org/:_auth={v}"),
        (
            lambda: f.mixed(3) + "8Q" + "~" + f.mixed(34, ALNUM + "_~.-"),
            "yaml",
            "azure:\n  clientSecret: {v}",
        ),
        (
            lambda: f.digits(10) + ":AA" + f.mixed(33, ALNUM + "_-"),
            "ticket",
            "our bot token {v} stopped working",
        ),
        (lambda: f.hex(32) + "-us" + f.digits(2), "json", '{"mailchimp": "{v}"}'),
    ):
        add("api_token", make, (context, template))
    for make, context, template in (
        (
            lambda: "$" + "2b$12$" + f.chars(B64 + ".", 53, need=(UPPER, DIGITS)),
            "sql",
            "INSERT INTO users VALUES ('admin', '{v}');",
        ),
        (
            lambda: "$" + "6$" + f.chars(ALNUM, 8) + "$" + f.chars(B64[:-1] + "./", 86),
            "file",
            "root:{v}:19700:0:99999:7:::",
        ),
    ):
        add("password_hash", make, (context, template))
    return cases


# ---------------------------------------------------------------------------------- negatives


def negatives(seed: int = SEED) -> list[Case]:
    """Look-alikes that must survive redaction untouched, PII mode included."""
    f = Fakes(seed + 1)
    sha = f.hex(40)
    texts: list[tuple[str, str]] = [
        # hashes, digests, integrity strings
        ("diff", f"index {f.hex(7)}..{f.hex(7)} 100644"),
        (
            "git",
            f"commit {f.hex(40)}\nAuthor: CI Bot <ci-bot>\nDate:   Mon Nov 23 12:05:00 2026 +0100",
        ),
        ("git", f"Merge: {f.hex(7)} {f.hex(7)}"),
        ("docker", f"FROM python:3.11-slim@sha256:{f.hex(64)}"),
        ("shell", f"{f.hex(64)}  forge-0.1.0.tar.gz"),
        ("json", f'"etag": "{f.hex(32)}"'),
        ("cargo", f'checksum = "{f.hex(64)}"'),
        ("git", f'Revert "fix: parser"\n\nThis reverts commit {sha}.'),
        ("go.sum", f"golang.org/x/text v0.14.0 h1:{f.b64(32)}"),
        ("yaml", f"cache-key: deps-{f.hex(64)}"),
        ("yaml", f"sha1: {f.hex(40)}"),
        ("pip", f"requests==2.32.3 --hash=sha256:{f.hex(64)}"),
        ("html", f'<script src="/app.js" integrity="sha384-{f.b64(48)}"></script>'),
        ("npm", f'"integrity": "sha512-{f.b64(64)}",'),
        ("yarn", f"  integrity sha512-{f.b64(64)}"),
        ("poetry", f'{{file = "x.whl", hash = "sha256:{f.hex(64)}"}}'),
        ("yaml", f"git_sha: {f.hex(40)}"),
        ("diff", f"+  image: ghcr.io/acme/api@sha256:{f.hex(64)}"),
        ("yaml", f"digest: sha256:{f.hex(64)}"),
        ("ssh", f"fingerprint: SHA256:{f.b64(32).rstrip('=')}"),
        ("log", f"build {f.hex(12)} finished, artifact {f.hex(32)}.tar"),
        ("diff", f"-Subproject commit {f.hex(40)}"),
        # UUIDs and IDs
        ("python", f'request_id = "{f.uuid()}"'),
        ("json", f'{{"id": "{f.uuid()}", "status": "open"}}'),
        ("log", f"2026-11-23 INFO trace={f.uuid()} span={f.hex(16)}"),
        ("yaml", f"  tenant_id: {f.uuid()}"),
        ("http", f"X-Request-Id: {f.uuid()}"),
        ("terraform", f'subscription_id = "{f.uuid()}"'),
        ("yaml", f"correlation-id: {f.uuid()}"),
        ("python", f'session_id = "{f.hex(32)}"'),
        # data URIs
        ("css", f"background-image: url(data:image/png;base64,{f.b64(150)});"),
        ("html", f'<img src="data:image/gif;base64,{f.b64(90)}" alt="spinner">'),
        ("json", f'"icon": "data:image/svg+xml;base64,{f.b64(120)}"'),
        # placeholders and references behind secret-looking keys
        ("python", 'password = "changeme"'),
        ("env", "DB_PASSWORD=${DB_PASSWORD}"),
        ("ansible", "password: {{ vault_db_password }}"),
        ("python", 'token = os.environ["GITHUB_TOKEN"]'),
        ("yaml", "api_key: <your-key-here>"),
        ("env", "API_KEY=xxxxxxxxxxxxxxxx"),
        ("yaml", 'password: "****"'),
        ("python", "password = None"),
        ("python", 'token = ""'),
        ("js", "const token = process.env.TOKEN;"),
        ("python", 'secret = os.getenv("APP_SECRET")'),
        ("env", "AWS_ACCESS_KEY_ID=" + AWS_KEY_PREFIXES[0] + "IOSFODNN7" + "EXAMPLE"),
        ("ini", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"),
        ("env", "GITHUB_TOKEN=" + GH + "p_" + "x" * 36),
        ("env", "OPENAI_API_KEY=" + SK + "-your-key-here"),
        ("actions", "password: ${{ secrets.DB_PASSWORD }}"),
        ("shell", "export PGPASSWORD=$(cat /run/secrets/pg)"),
        ("shell", "export TOKEN=$GITHUB_TOKEN"),
        ("json", '"password": null,'),
        ("yaml", "password: ''"),
        ("ansible", "password: !vault |"),
        ("python", "password = getpass.getpass()"),
        ("python", "password = settings.DB_PASSWORD"),
        ("python", "    password: str"),
        ("python", "    token: Optional[str] = None"),
        ("ts", "  token: string;"),
        ("python", "        self.password = password"),
        ("python", "password_hash = bcrypt.hashpw(raw, bcrypt.gensalt())"),
        ("python", "if not password:"),
        ("python", "def check_password(password: str) -> bool:"),
        ("python", "PASSWORD_MIN_LENGTH = 12"),
        ("python", "max_tokens = 4096"),
        ("python", 'token_type = "bearer"'),
        ("json", '"token_type": "Bearer",'),
        ("python", 'eos_token = "</s>"'),
        ("python", 'password_field = "password"'),
        ("env", "SLACK_BOT_TOKEN=" + XOX + "b-your-bot-token"),
        ("env", "STRIPE_KEY=" + SK + "_test_" + "x" * 24),
        ("python", 'private_key_path = "~/.ssh/id_ed25519"'),
        ("yaml", "password_file: /run/secrets/db_password"),
        ("python", "    password=password,"),
        ("python", "    token=token,"),
        ("js", "  apiKey: apiKey,"),
        ("python", 'print(f"Password: {password}")'),
        ("python", 'url = "postgres://${DB_USER}:${DB_PASSWORD}@db:5432/app"'),
        ("env", "DATABASE_URL=postgresql://user:password@localhost:5432/test"),
        ("env", "REDIS_URL=redis://localhost:6379/0"),
        ("url", "https://github.com/acme/forge/pull/42"),
        ("url", "git clone https://user@bitbucket.org/acme/repo.git"),
        ("url", "http://localhost:8080/api/items?page=2&sort=name&key=created_at"),
        ("url", "https://www.google.com/search?q=reset+password"),
        ("env", "TEST_DATABASE_URL=postgres://localhost/app_test"),
        ("csharp", '"Server=db;Database=app;Trusted_Connection=True;"'),
        ("csharp", 'var conn = $"Server={host};Database=app;Password={password};";'),
        ("python", 'headers = {"Authorization": f"Bearer {token}"}'),
        ("shell", 'curl -H "Authorization: Bearer $TOKEN" https://api.example.com'),
        ("shell", "mysql -u root --password=$MYSQL_ROOT_PASSWORD shop"),
        # prose
        ("ticket", "Please reset your password and try again."),
        ("ticket", "Password: reset link never arrives"),
        ("ticket", "The API key is stored in Vault, not in the repo."),
        ("ticket", "Forgot password? Click the link in the e-mail we sent."),
        ("ticket", "We hit 40k tokens per minute on the new plan."),
        ("docs", "Set the token in your environment before running forge."),
        ("ticket", "Secret Santa sign-up closes Friday."),
        ("ticket", "The keyboard shortcut for the token picker is broken."),
        ("git", "docs: explain how password rotation works"),
        ("git", "fix(auth): token refresh no longer loops"),
        ("docs", "Rotate the secret key every 90 days (see SECURITY.md)."),
        ("yaml", "  # password must be at least 12 characters"),
        ("i18n", '  "password": "Mot de passe",'),
        ("i18n", '  "forgot_password": "Forgot your password?",'),
        ("i18n", '  "password_hint": "At least 12 characters",'),
        ("ticket", "my password manager autofills the wrong token field"),
        # versions, dates, numbers that look like PII
        ("python", 'version = "1.2.3"'),
        ("json", '"version": "10.4.12-beta.3",'),
        ("python", 'python_requires=">=3.11",'),
        ("git", "Released v2.14.0 on 2026-11-23"),
        ("yaml", "timestamp: 2026-11-23T10:30:00+01:00"),
        ("log", "server 192.168.100.200 port 8080"),
        ("nginx", "listen 10.0.0.1:8443 ssl;"),
        ("diff", "@@ -120,7 +120,9 @@ def main():"),
        ("ticket", "Order #123456789012 shipped"),
        (
            "ticket",
            "card " + group(f.not_luhn(f.card("4", 16)), (4, 4, 4, 4), " ") + " was declined",
        ),
        ("ticket", "ISBN 978-3-16-148410-0"),
        ("yaml", "elapsed_ms: 1700000000123"),
        ("log", "Build 20261123.4 took 12.5 s"),
        ("review", "+1 from me, looks good"),
        ("log", "1,234,567 rows in 3.2 s"),
        ("yaml", "cpu: 0.25, mem: 512Mi"),
        ("json", '"coords": [52.520008, 13.404954]'),
        ("ticket", "ticket 415-555 was merged"),
        ("yaml", "expires: 12/27"),
        ("log", "pid 48213 exited with status 137 after 3600 s"),
        ("csv", "2026-11-23,1042,17.50,EUR"),
        ("ticket", "version 1.2.3.4 on build 20261123"),
        # CSS, identifiers, code
        ("css", "color: #ff00aa;"),
        ("css", "  border: 1px solid #FFF;"),
        ("css", "background: rgb(12, 34, 56);"),
        ("python", "class AbstractSingletonProxyFactoryBeanTokenProvider:"),
        ("js", "const getAuthTokenFromHeaders = (req) => req.headers.authorization;"),
        ("java", "TokenizerConfigurationBuilderFactory.createDefaultInstance();"),
        ("html", '<li class="task-list-item-checkbox">'),
        ("js", "import { useAuthTokenRefreshInterval } from './hooks';"),
        ("python", "ASIAN_MARKETS_ENABLED = True"),
        ("shell", "npm install @types/node@20.10.0"),
        ("markdown", "![logo](assets/logo@2x.png)"),
        ("shell", "git clone git@github.com:acme/forge.git"),
        ("python", "@property\ndef token(self) -> str:"),
        ("ssh", f"ssh-rsa AAAAB3NzaC1yc2E{f.b64(150)} deploy@ci-runner"),
        (
            "pem",
            f"{PEM_DASHES}BEGIN PUBLIC KEY{PEM_DASHES}\n{f.b64(48)}\n{f.b64(20)}\n"
            f"{PEM_DASHES}END PUBLIC KEY{PEM_DASHES}",
        ),
        (
            "pem",
            f"{PEM_DASHES}BEGIN CERTIFICATE{PEM_DASHES}\n{f.b64(48)}\n{f.b64(48)}\n"
            f"{PEM_DASHES}END CERTIFICATE{PEM_DASHES}",
        ),
        ("python", 'jwt_header = "eyJhbGciOiJIUzI1NiJ9"'),
        ("yaml", "session_timeout: 3600"),
        ("yaml", "token_url: https://auth.example.com/oauth/token"),
        ("yaml", "api_key_header: X-Api-Key"),
        ("actions", "    secrets: inherit"),
        ("yaml", "  is_secret: false"),
        ("python", 'primary_key = "id"'),
        ("python", 'cache_key = f"user:{user_id}"'),
        ("yaml", "sort_key: created_at"),
        ("yaml", f"public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{f.b64(24)}"),
        ("yaml", "next_page_token: CiAKGjBpNDd2Nmp2Zml2cXRuYmo"),
        ("python", 'csrf_token = request.cookies.get("csrftoken")'),
        ("compose", '    ports:\n      - "5432:5432"'),
        ("python", "x = a + 1234 * 5678"),
        ("python", "key = lambda item: item.priority"),
        ("python", 'password_reset_url = "https://example.com/reset"'),
        ("env", "KEYCLOAK_URL=https://sso.example.com/auth"),
        ("env", "AUTHOR=Jane"),
        ("yaml", "passes: 3"),
        ("python", "bypass = True"),
        ("python", "tokens = tokenizer.encode(text)"),
        ("go", "func (c *Client) SetToken(token string) { c.token = token }"),
        ("rust", 'let api_key = std::env::var("API_KEY")?;'),
        ("js", "const { password } = req.body;"),
        ("python", 'parser.add_argument("--password", help="read from stdin if omitted")'),
        ("shell", "ssh-keygen -t ed25519 -N '' -f deploy_key"),
    ]
    return [Case(text, "", "", context) for context, text in texts]


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the redaction corpus as JSONL.")
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, cases in (("positives", positives()), ("negatives", negatives())):
        path = args.out / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for case in cases:
                fh.write(json.dumps(asdict(case), ensure_ascii=False) + "\n")
        print(f"{path}: {len(cases)} cases")


if __name__ == "__main__":
    main()
