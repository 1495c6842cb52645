"""Fixed limits of the credentials app (tunable ones are settings: CREDENTIAL_*, JWKS_*)."""

# Algorithms a trust provider may allow for subject tokens: asymmetric signatures only. `none`
# and the HMAC family (HS*) are never accepted: an HMAC "signed" with a provider's public key
# is the classic key-confusion forgery.
ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
DEFAULT_ALGORITHMS = ["RS256", "ES256", "EdDSA"]
SIGNING_ALGORITHMS = ("ES256", "EdDSA")

# Subject tokens older than this are refused unless the provider allows more (seconds).
DEFAULT_MAX_TOKEN_AGE_SECONDS = 3600
MIN_TOKEN_AGE_SECONDS = 60  # a provider's allowance: no shorter (clocks, a token's trip)
MAX_TOKEN_AGE_SECONDS = 24 * 3600
TOKEN_AGE_RANGE = (
    f"Give a number of seconds between {MIN_TOKEN_AGE_SECONDS} and {MAX_TOKEN_AGE_SECONDS}."
)
# Clock skew tolerated between the portal and a provider (seconds).
LEEWAY_SECONDS = 30

SUBJECT_MAX_LENGTH = 500
# A trust provider's issuer, audience and JWKS address.
PROVIDER_TEXT_MAX_LENGTH = 500
# Security's dashboard counts the token exchanges refused over this many days.
REFUSED_EXCHANGES_SHOWN_DAYS = 7
CLAIMS_MAX = 20  # constraints per binding
CLAIM_VALUE_MAX_LENGTH = 500
CLAIM_NAME_MAX_LENGTH = 100  # the longest platform claim names are about 30 characters
# Comparing two glob constraints walks pairs of positions in them; past this many, they are
# taken to overlap (the binding is refused: the safe side) rather than hold the provider's row
# lock for seconds. Real constraints (refs/heads/*, repo names) take a few hundred.
OVERLAP_STATES_MAX = 20_000
CAPABILITIES_PER_TOKEN_MAX = 20
RESOURCE_MAX_LENGTH = 500  # the decision log's scope column
SUBJECT_TOKEN_MAX_LENGTH = 16_384
