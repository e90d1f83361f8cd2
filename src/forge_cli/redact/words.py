"""The word tables the detectors consult: dummy values, key-name vocabulary, database URL schemes,
credential query keys, file extensions that are not top-level domains.

Data only, apart from the detectors so that adding a word is a change to data alone. Each table is
written as prose, one string of words, so it stays readable and diffs well."""

from __future__ import annotations


def _words(table: str) -> list[str]:
    return table.split()


#: whole values that are placeholders, not credentials (compared lower-cased)
DUMMIES = frozenset(
    _words(
        """none null nil undefined true false yes no on off empty blank default required optional
        string str int bool bytes secretstr any object secret secrets password passwd pass token key
        apikey api_key test testing tests foo bar baz foobar qux changeme change_me change-me example
        sample dummy fake mock placeholder redacted hidden masked todo tbd fixme unset notset n/a na
        value your_password your_token your_secret mypassword mysecret mytoken secret_key"""
    )
)
#: words of UI strings and messages about a secret ("Enter your password", "Mot de passe",
#: "Password must be 8 characters"): a quoted value holding one is a label, not a passphrase
UI_WORDS = frozenset(
    _words(
        """password passwords passwd passphrase passe passwort contrasena contraseña senha
        wachtwoord parola hasło haslo пароль secret token key enter confirm forgot reset change new
        old current repeat retype show hide please must should invalid incorrect wrong required
        your characters chars least field label login sign username user email"""
    )
)
#: trailing name parts that do not change what the value is (SECRET_KEY_BASE, DB_PASSWORD_PROD)
TAIL = frozenset(
    _words(
        """base value val b64 base64 hex str string raw plain plaintext clear cleartext confirm
        confirmation repeat again literal override encoded prod production dev development staging
        stage test testing local qa uat live sandbox old new current prev previous primary secondary
        backup default secure"""
    )
)
#: "<word> key" names that hold a secret (api_key, SECRET_KEY); primary_key, sort_key do not
KEY_QUALIFIERS = frozenset(
    _words(
        """api access secret private auth authn encryption encrypt enc signing sign signature master
        client app application consumer service account storage subscription webhook hmac jwt session
        crypt crypto shared ssh deploy admin license licence secure cipher aes fernet bot integration
        instance partner merchant developer dev write read root mgmt management server sdk rest live
        prod production ingest ingestion push x"""
    )
)
#: "<word> key" names that are a database, cache or UI key, never a credential, even when the value
#: looks random (gitleaks' own look-alikes: primaryKey=..., foreignKey=...)
NOT_SECRET_KEY = frozenset(
    _words(
        """primary foreign sort partition cache hash row column map dict lookup object unique
        composite natural surrogate idempotency routing shard index group field attr attribute
        property config setting i18n translation message label locale lang item list entry record
        node child parent react component query search filter order group event down up press
        hot short cut keyboard button tab legend registry foreign dedup dedupe bucket kv redis
        memcache storage_name name id type kind"""
    )
)
#: words after a leading secret word that make the name about the secret, not the secret itself
#: (password_policy, secret_name, password_reset_url)
ABOUT_SECRET = frozenset(
    _words(
        """hash hashed digest policy policies hint hints length len min max rule rules regex pattern
        file path dir url uri endpoint name names id ids type kind prompt label field fields input
        form reset forgot changed change expires expiry expiration updated strength strong weak
        required enabled disabled valid invalid validator validation manager store storage provider
        mode format encoding algorithm algo salt rounds iterations count size version ref arn key
        keys header param params arg args env var variable column table attr attribute error message
        msg text title description desc help"""
    )
)
#: first words of a name that say its value is not a live credential (test code's
#: ``invalid_token = "..."``, ``wrongPassword``, ``nonMatchingToken``)
NOT_LIVE = frozenset(
    _words("""fake dummy mock invalid wrong bad non not incorrect bogus unused example sample""")
)
#: "<word> token" names that are counts, cursors or model vocabulary, not credentials
NOT_SECRET_TOKEN = frozenset(
    _words(
        """next page continuation cursor max min num n input output total sync pagination prompt
        completion eos bos pad unk sep cls mask start end stop special cancellation cancel lexer parse
        split word sub last first count estimated used reasoning cached context request
        idempotency retry csrf xsrf authenticity"""
    )
)
#: URL schemes of databases and brokers: credentials in them are a connection_string
DB_SCHEMES = frozenset(
    _words(
        """postgres postgresql pgsql mysql mariadb mongodb redis rediss amqp amqps mssql sqlserver
        oracle clickhouse cockroachdb couchdb cassandra neo4j bolt memcached kafka rabbitmq db2 jdbc
        timescaledb postgis"""
    )
)
#: query keys that hold a credential; "key" needs a random-looking value ("?key=sort" is not one)
URL_SECRET_PARAMS = frozenset(
    _words(
        """token access_token refresh_token id_token api_key apikey api-key secret client_secret
        password pass pwd passwd auth auth_token sig signature x-amz-signature x-amz-security-token
        x-amz-credential x-goog-signature x-goog-credential private_token session_token"""
    )
)
#: what follows the last dot of an image or source file name, not of an e-mail's domain
NOT_TLDS = frozenset(
    _words(
        """png jpg jpeg gif svg webp ico bmp js mjs ts tsx jsx css scss py rb go rs java kt json yaml
        yml toml xml html md txt lock sh exe dll so map vue"""
    )
)
