"""Vendor token formats: a fixed prefix and the shape of what follows, as each vendor documents
or issues them. Data only, read by ``vendors``; adding a vendor is a line here.

Each row is ``(prefix, body)``: the token is the prefix (matched case-sensitively) then text the
body pattern matches in full, ending where a token character could not continue it. Bodies give
the alphabet and the length the vendor issues, so a word that happens to share a prefix
(``hf_requiredCharacteristic...``) does not match. Rows whose prefix is a prefix of another are
tried longest first."""

from __future__ import annotations

_HEX = "[a-fA-F0-9]"
_UUID = "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"

VENDOR_TOKENS: tuple[tuple[str, str], ...] = (
    # AI providers
    ("hf_", "[A-Za-z]{34}"),  # Hugging Face
    ("api_org_", "[A-Za-z]{34}"),  # Hugging Face organisation (old)
    ("gsk_", "[A-Za-z0-9]{48,56}"),  # Groq
    ("xai-", "[A-Za-z0-9]{70,90}"),  # xAI
    ("pplx-", "[A-Za-z0-9]{40,56}"),  # Perplexity
    ("r8_", "[A-Za-z0-9]{37}"),  # Replicate
    # developer platforms and registries
    ("npm_", "[A-Za-z0-9]{36}"),
    ("pypi-AgEIcHlwaS5vcmc", r"[\w-]{50,}"),  # PyPI upload token (a macaroon for pypi.org)
    ("pypi-AgENdGVzdC5weXBpLm9yZw", r"[\w-]{50,}"),  # the same for test.pypi.org
    ("rubygems_", f"{_HEX}{{48}}"),
    ("oy2", "[a-z0-9]{43}"),  # NuGet
    ("cio", "[a-zA-Z0-9]{32}"),  # crates.io
    ("dckr_pat_", r"[\w-]{27}"),  # Docker Hub
    ("CLOJARS_", "[a-z0-9]{60}"),
    ("AKCp", "[A-Za-z0-9]{69}"),  # JFrog API key
    ("cmVmdGtuOjAxOj", "[A-Za-z0-9]{50,}"),  # JFrog reference token ("reftkn:01:")
    ("GR1348941", r"[\w-]{20,50}"),  # GitLab runner registration token
    ("_gitlab_session=", "[0-9a-z]{32}"),
    ("sgp_", f"(?:{_HEX}{{16}}_|local_)?{_HEX}{{40}}"),  # Sourcegraph
    ("figd_", r"[\w-]{40}"),  # Figma
    ("lin_api_", "[A-Za-z0-9]{40}"),  # Linear
    ("ntn_", "[0-9]{11}[A-Za-z0-9]{32,35}"),  # Notion
    ("pnu_", "[A-Za-z0-9]{36}"),  # Prefect
    ("pul-", f"{_HEX}{{40}}"),  # Pulumi
    ("rdme_", "[a-z0-9]{70}"),  # ReadMe
    ("tfp_", r"[\w=.\-]{59}"),  # Typeform
    ("PMAK-", f"{_HEX}{{24}}-{_HEX}{{34}}"),  # Postman
    ("odt_", "[A-Za-z0-9]{32,40}"),  # Dependency-Track
    ("atlasv1.", r"[\w=\-]{60,70}"),  # Terraform Cloud (after the id)
    ("ATATT3", r"[\w=\-]{100,}"),  # Atlassian API token
    ("ATCTT3", r"[\w=\-]{100,}"),  # Atlassian
    ("ATBB", "[A-Za-z0-9]{32}"),  # Bitbucket app password
    ("ico-", "[A-Za-z0-9]{32}"),  # Infracost
    ("dnkey-", r"[a-z0-9=_\-]{26}-[a-z0-9=_\-]{52}"),  # Defined Networking
    ("sbp_", f"{_HEX}{{40}}"),  # Supabase
    ("sb_secret_", r"[\w-]{31,}"),  # Supabase
    ("phx_", "[A-Za-z0-9]{40,}"),  # PostHog personal key
    # cloud and infrastructure
    ("ABSK", "[A-Za-z0-9+/]{100,}={0,2}"),  # Amazon Bedrock API key
    ("amzn.mws.", _UUID),
    (
        "bedrock-api-key-",
        "[A-Za-z0-9+/]{200,}={0,2}",
    ),  # Amazon Bedrock short-lived key  # Amazon Marketplace Web Service auth token
    ("ya29.", r"[\w\-]{50,}"),  # Google OAuth access token
    ("GOCSPX-", r"[\w\-]{28}"),  # Google OAuth client secret
    ("LTAI", "[A-Za-z0-9]{20}"),  # Alibaba Cloud access key
    ("dapi", f"{_HEX}{{32}}(?:-\\d)?"),  # Databricks personal access token
    ("dop_v1_", f"{_HEX}{{64}}"),  # DigitalOcean
    ("doo_v1_", f"{_HEX}{{64}}"),
    ("dor_v1_", f"{_HEX}{{64}}"),
    ("dt0c01.", "[A-Z0-9]{24}\\.[A-Z0-9]{64}"),  # Dynatrace
    ("dp.", r"(?:pt|st|ct|sa|scim|audit)\.(?:[\w-]{2,35}\.)?[A-Za-z0-9]{40,44}"),  # Doppler
    ("fo1_", r"[\w-]{43}"),  # Fly.io
    ("fm1r_", "[A-Za-z0-9+/]{100,}={0,3}"),
    ("fm1a_", "[A-Za-z0-9+/]{100,}={0,3}"),
    ("fm2_", "[A-Za-z0-9+/]{100,}={0,3}"),
    ("hvs.", r"[\w-]{24,}"),  # HashiCorp Vault service token
    ("hvb.", r"[\w-]{100,}"),  # Vault batch token
    ("hvr.", r"[\w-]{24,}"),  # Vault recovery token
    ("s.CAES", r"[\w-]{60,}"),  # Vault service token before 1.10 (a protobuf, base64)
    ("HRKU-", r"[\w-]{40,}"),  # Heroku
    ("NRAK-", "[A-Z0-9]{27}"),  # New Relic user key
    ("NRAA-", "[a-f0-9]{27}"),
    ("NRJS-", "[a-f0-9]{19}"),
    ("NRII-", r"[\w-]{32}"),
    ("NRIQ-", r"[\w-]{32}"),  # New Relic insights query key
    ("v1.0-", "[a-f0-9]{24}-[a-f0-9]{146}"),  # Cloudflare origin CA key
    ("tk-us-", r"[\w-]{48}"),  # Scalingo
    ("sha256~", r"[\w-]{43}"),  # OpenShift user token
    ("pscale_tkn_", r"[\w=.\-]{32,64}"),  # PlanetScale
    ("pscale_pw_", r"[\w=.\-]{32,64}"),
    ("pscale_oauth_", r"[\w=.\-]{32,64}"),
    ("s-s4t2ud-", f"{_HEX}{{64}}"),  # 42 intra
    ("s-s4t2af-", f"{_HEX}{{64}}"),
    # payments, commerce, messaging
    ("SG.", r"[\w-]{22}\.[\w-]{43}"),  # SendGrid
    ("SK", f"{_HEX}{{32}}"),  # Twilio API key
    ("xkeysib-", f"{_HEX}{{64}}-[A-Za-z0-9]{{16}}"),  # Brevo (Sendinblue)
    ("xsmtpsib-", f"{_HEX}{{64}}-[A-Za-z0-9]{{16}}"),
    ("key-", f"{_HEX}{{32}}"),  # Mailgun
    ("pubkey-", f"{_HEX}{{32}}"),
    ("shpat_", f"{_HEX}{{32}}"),  # Shopify
    ("shpca_", f"{_HEX}{{32}}"),
    ("shppa_", f"{_HEX}{{32}}"),
    ("shpss_", f"{_HEX}{{32}}"),
    ("shippo_live_", f"{_HEX}{{40}}"),
    ("shippo_test_", f"{_HEX}{{40}}"),
    ("sq0atp-", r"[\w-]{22}"),  # Square
    ("sq0csp-", r"[\w-]{43}"),
    ("EAAA", r"[\w+=\-]{60}"),  # Square access token
    ("EAA", "[A-Za-z0-9]{90,}"),  # Facebook / Meta access token
    ("EZAK", "[A-Za-z0-9]{54}"),  # EasyPost
    ("EZTK", "[A-Za-z0-9]{54}"),
    ("FLWSECK_TEST-", f"{_HEX}{{12,32}}(?:-X)?"),  # Flutterwave
    ("FLWSECK-", f"{_HEX}{{12,32}}(?:-X)?"),
    ("duffel_test_", r"[\w=\-]{43}"),
    ("duffel_live_", r"[\w=\-]{43}"),
    ("access-sandbox-", _UUID),  # Plaid
    ("access-development-", _UUID),
    ("access-production-", _UUID),
    ("sm_pat_", "[a-zA-Z0-9]{16}"),  # SettleMint
    ("sm_aat_", "[a-zA-Z0-9]{16}"),
    ("sm_sat_", "[a-zA-Z0-9]{16}"),
    ("aio_", "[A-Za-z0-9]{28}"),  # Adafruit IO
    ("CFPAT-", r"[\w-]{43}"),  # Contentful
    ("sk.eyJ", r"[\w-]{20,}\.[\w-]{20,}"),  # Mapbox secret token
    ("pk.eyJ", r"[\w-]{20,}\.[\w-]{20,}"),  # Mapbox public token (scanners report it too)
    ("sntryu_", f"{_HEX}{{64}}"),  # Sentry user token
    ("sntrys_", "eyJ[A-Za-z0-9+/]{20,}={0,2}_[A-Za-z0-9+/]{43}"),  # Sentry org token
    ("glc_", "[A-Za-z0-9+/]{32,400}={0,2}"),  # Grafana Cloud
    ("glsa_", f"[A-Za-z0-9]{{32}}_{_HEX}{{8}}"),  # Grafana service account
    ("eyJrIjoi", "[A-Za-z0-9]{70,400}={0,2}"),  # Grafana API key ({"k":...)
    ("ops_eyJ", "[A-Za-z0-9+/]{250,}={0,3}"),  # 1Password service account
    ("AGE-SECRET-KEY-1", "[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),  # age
    ("xoxe.", r"xox[bp]-\d-[A-Za-z0-9]{100,}"),  # Slack configuration token
    ("LS0tLS1CRUdJTi", "[A-Za-z0-9+/]{40,}={0,2}"),  # base64 of "-----BEGIN ..." (checked)
    # more vendors, from their documentation
    ("p8e-", "[A-Za-z0-9]{32}"),  # Adobe client secret
    ("pat", "[A-Za-z0-9]{14}\\.[a-f0-9]{64}"),  # Airtable personal access token
    (
        "sc_",
        r"[a-z0-9]{5,30}\.[a-z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[\w+/=-]{30,120}",
    ),  # Authress
    ("ext_", r"[a-z0-9]{5,30}\.[a-z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[\w+/=-]{30,120}"),
    ("scauth_", r"[a-z0-9]{5,30}\.[a-z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[\w+/=-]{30,120}"),
    ("authress_", r"[a-z0-9]{5,30}\.[a-z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[\w+/=-]{30,120}"),
    ("4b1d", "[A-Za-z0-9]{38}"),  # ClickHouse Cloud secret
    ("sl.", r"[\w=\-]{130,}"),  # Dropbox short-lived token
    ("glffct-", r"[\w\-]{20}"),  # GitLab feature flags client token
    ("live_", r"[a-f0-9]{35}|[A-Za-z0-9\-_=]{40}"),  # Lob, GoCardless
    ("test_", r"[a-f0-9]{35}"),  # Lob
    ("pat.", r"[\w-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"),  # Harness
    ("sat.", r"[\w-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"),
    ("lin_oauth_", "[a-f0-9]{64}"),  # Linear
    ("NRRA-", "[a-f0-9]{42}"),  # New Relic
    ("API-", "[A-Z0-9]{26}"),  # Octopus Deploy
    ("squ_", "[a-f0-9]{40}"),  # SonarQube user token
    ("sqp_", "[a-f0-9]{40}"),
    ("sqa_", "[a-f0-9]{40}"),
    ("AQVN", r"[A-Za-z0-9_\-]{35,38}"),  # Yandex
    ("YC", r"[A-Za-z0-9_\-]{38}"),
    ("t1.", r"[A-Za-z0-9_\-]+={0,2}\.[A-Za-z0-9_\-]{86}={0,2}"),
    ("AAAAAAAAAAAAAAAAAAAA", "[A-Za-z0-9%]{30,}"),  # Twitter bearer token
    ("api-", _UUID),  # LaunchDarkly
    ("sdk-", _UUID),
    ("mob-", _UUID),
)
