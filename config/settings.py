"""The one settings module. Everything comes from the environment (django-environ), with safe
defaults for a laptop: SQLite file, local media folder, console email, ORM job broker, the local
Pillow engine. The README lists every variable.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.env import decimal_table, env_bool, env_choice, non_negative_int, positive_int
from config.security import storage_origins

BASE_DIR = Path(__file__).resolve().parent.parent

# Strings, URLs and lists through django-environ; every number and boolean through the strict
# helpers of `config.env`, which refuse a bad value at start-up.
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env(
    "SECRET_KEY",
    default="dev-only-insecure-key-change-me-7f3c1a9e0b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://localhost:8000")
SITE_NAME = env("SITE_NAME", default="Lumen")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.github",
    "django_htmx",
    "django_q",
    "csp",
    "djstripe",  # before billing: its handlers sync an event's object before billing's read it
    "accounts",
    "tokens",
    "enhancement",
    "enhancement.api",  # the public API: no models of its own (they are enhancement's)
    "billing",
    "albums",
    "vouchers",
    "platform_apps",
    "config",  # the roof: no models, only the commands that call every app (seed, demo_user)
]

MIDDLEWARE = [
    # Outermost: every response gets the policies, also the ones that SecurityMiddleware
    # (a bad Host, the HTTPS redirect) and WhiteNoise (static files) answer by themselves.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Compresses text responses (config/compression.py: which ones, and how BREACH is kept
    # out); before every middleware that reads or writes the body, inside the two above that
    # only add headers.
    "config.compression.TextGZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
                "tokens.context_processors.token_balance",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server and the worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", non_negative_int("CONN_MAX_AGE", 60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and sign-in (django-allauth) -----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/images/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "ACCOUNT_EMAIL_VERIFICATION", "mandatory", ("mandatory", "optional", "none")
)
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
# A note to the account's address when its password or addresses change (or a provider account
# is connected): the owner learns of a change they did not make.
ACCOUNT_EMAIL_NOTIFICATIONS = True
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True  # a verified email of an existing user logs into it
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_PROVIDERS = {}
for _provider, _scope in (("google", ["profile", "email"]), ("github", ["user:email"])):
    _client_id = env(f"{_provider.upper()}_CLIENT_ID", default="")
    _secret = env(f"{_provider.upper()}_CLIENT_SECRET", default="")
    if _client_id and _secret:
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [{"client_id": _client_id, "secret": _secret, "key": ""}],
            "SCOPE": _scope,
            "VERIFIED_EMAIL": _provider == "google",
        }

# EMAIL_URL (smtp+tls://user:password@host:587) configures SMTP; without it mail goes to the
# console (or to EMAIL_BACKEND).
_email = env.email_url("EMAIL_URL") if env("EMAIL_URL", default="") else {}
EMAIL_BACKEND = _email.get("EMAIL_BACKEND") or env(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Lumen <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people write to us: the contact, privacy and terms pages, and every "contact us".
CONTACT_EMAIL = env(
    "CONTACT_EMAIL", default=f"support@{SITE_URL.split('//')[-1].split('/')[0].split(':')[0]}"
)

# --- Cache (rate limits, allauth's counters) --------------------------------------------------
# One process: memory is enough. Several web processes must share it: CACHE_URL=rediscache://...
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", default="UTC")  # django-q2 CRON runs in local time: keep explicit
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Media is private: it is never served from MEDIA_URL directly (see enhancement.storage).
MEDIA_URL = "/media/"

STORAGE_BUCKET = env("STORAGE_BUCKET", default="")
STORAGE_URL_EXPIRES = positive_int("STORAGE_URL_EXPIRES", 3600)  # seconds a private URL works
if STORAGE_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_BUCKET,
            "endpoint_url": env("STORAGE_ENDPOINT_URL", default=None),
            "access_key": env("STORAGE_ACCESS_KEY_ID", default=None),
            "secret_key": env("STORAGE_SECRET_ACCESS_KEY", default=None),
            "region_name": env("STORAGE_REGION", default="auto"),
            "custom_domain": None,  # private objects need signed URLs
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": STORAGE_URL_EXPIRES,
            "file_overwrite": False,
            "addressing_style": env("STORAGE_ADDRESSING_STYLE", default="path"),
            "signature_version": "s3v4",
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
    }
# A domain that serves public objects (the public gallery) without signing, if there is one.
STORAGE_PUBLIC_DOMAIN = env("STORAGE_PUBLIC_DOMAIN", default="")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 100

# --- Uploads ----------------------------------------------------------------------------------
UPLOAD_MAX_BYTES = positive_int("UPLOAD_MAX_MB", 50) * 1024 * 1024
UPLOAD_MAX_FILES = positive_int("UPLOAD_MAX_FILES", 20)
UPLOAD_MAX_PIXELS = positive_int("UPLOAD_MAX_MEGAPIXELS", 50) * 1_000_000
UPLOAD_RATE_PER_MINUTE = positive_int("UPLOAD_RATE_PER_MINUTE", 30)
DERIVATIVE_THUMB_MAX = 400
DERIVATIVE_PREVIEW_MAX = 1600

# --- Tokens -----------------------------------------------------------------------------------
TOKEN_REGEN_INTERVAL_MINUTES = positive_int("TOKEN_REGEN_INTERVAL_MINUTES", 15)
TOKEN_REGEN_CAP = positive_int("TOKEN_REGEN_CAP", 100)
TOKEN_SIGNUP_BALANCE = non_negative_int("TOKEN_SIGNUP_BALANCE", 0)
# Tokens a verified e-mail address earns once, ever (five 1K enhancements): "free to start".
TOKEN_WELCOME_GRANT = non_negative_int("TOKEN_WELCOME_GRANT", 10)

# The packs a fresh install sells (`manage.py seed`; the admin edits them after that). Prices
# in SHOP_CURRENCY; `stripe_price_id` is a stable placeholder until the real Stripe price is set.
DEFAULT_TOKEN_PACKAGES = [
    {"name": "Starter", "tokens": 10, "price": "2.99", "stripe_price_id": "price_pack_starter"},
    {"name": "Basic", "tokens": 50, "price": "9.99", "stripe_price_id": "price_pack_basic"},
    {"name": "Pro", "tokens": 150, "price": "24.99", "stripe_price_id": "price_pack_pro"},
    {"name": "Power", "tokens": 500, "price": "69.99", "stripe_price_id": "price_pack_power"},
]

# --- Enhancement ------------------------------------------------------------------------------
# The product's tiers: cost and the result's longer side (names and labels are the schema's
# enum, `EnhancementTier`). Costs are also a database constraint on ImageEnhancementJob, so
# changing them is a migration, not an environment variable.
ENHANCEMENT_TIERS = {
    "TIER_1K": {"max_dimension": 1024, "tokens_cost": 2},
    "TIER_2K": {"max_dimension": 2048, "tokens_cost": 5},
    "TIER_4K": {"max_dimension": 4096, "tokens_cost": 10},
}
ENHANCEMENT_MAX_RETRIES = non_negative_int("ENHANCEMENT_MAX_RETRIES", 3)
# Back-off after a transient failure: base * 2**tries seconds, at most max.
ENHANCEMENT_RETRY_BASE_SECONDS = positive_int("ENHANCEMENT_RETRY_BASE_SECONDS", 15)
ENHANCEMENT_RETRY_MAX_SECONDS = positive_int("ENHANCEMENT_RETRY_MAX_SECONDS", 900)
# A running job's lease: its worker renews it every HEARTBEAT seconds while the engine works
# (however long that legitimately takes); a PROCESSING job whose lease is older than LEASE
# seconds lost its worker, and the sweeper (every 30 s) takes it back.
ENHANCEMENT_HEARTBEAT_SECONDS = positive_int("ENHANCEMENT_HEARTBEAT_SECONDS", 5)
ENHANCEMENT_LEASE_SECONDS = positive_int("ENHANCEMENT_LEASE_SECONDS", 20)
if ENHANCEMENT_LEASE_SECONDS < 2 * ENHANCEMENT_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "ENHANCEMENT_LEASE_SECONDS must be at least twice ENHANCEMENT_HEARTBEAT_SECONDS, or a "
        "single late heartbeat would hand a running job to a second worker."
    )
# A job PROCESSING without any heartbeat (claimed before leases existed) for longer than
# Q_TASK_TIMEOUT + this margin: the worker died.
ENHANCEMENT_STUCK_MARGIN_SECONDS = positive_int("ENHANCEMENT_STUCK_MARGIN_SECONDS", 60)
# Enqueued this long ago and still waiting: the message was lost, send it again.
ENHANCEMENT_REQUEUE_AFTER_SECONDS = positive_int("ENHANCEMENT_REQUEUE_AFTER_SECONDS", 300)
ENHANCEMENT_ORDER_RATE_PER_MINUTE = positive_int("ENHANCEMENT_ORDER_RATE_PER_MINUTE", 10)
ENHANCEMENT_BATCH_MAX = positive_int("ENHANCEMENT_BATCH_MAX", 20)

# The public API (enhancement/api/, for plans with API access): calls per key's user a minute;
# webhooks: the receiver's timeout, the first retry's delay (doubling, capped at an hour), and
# how long a delivery is retried. Private, loopback and link-local hosts are refused (after
# DNS resolution, at send time) unless this is true: tests, and a closed network on purpose.
API_RATE_PER_MINUTE = positive_int("API_RATE_PER_MINUTE", 120)
API_PAGE_SIZE = positive_int("API_PAGE_SIZE", 50)
WEBHOOK_TIMEOUT_SECONDS = positive_int("WEBHOOK_TIMEOUT_SECONDS", 5)
WEBHOOK_RETRY_BASE_SECONDS = positive_int("WEBHOOK_RETRY_BASE_SECONDS", 60)
WEBHOOK_RETRY_MAX_SECONDS = positive_int("WEBHOOK_RETRY_MAX_SECONDS", 3600)
WEBHOOK_RETRY_FOR_SECONDS = positive_int("WEBHOOK_RETRY_FOR_SECONDS", 24 * 3600)
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False)
WEBHOOK_ENDPOINTS_MAX = positive_int("WEBHOOK_ENDPOINTS_MAX", 10)
API_KEYS_MAX = positive_int("API_KEYS_MAX", 20)
# The local engine's learned upscaler (waifu2x on ncnn). Threads per job: 1 suits one worker per
# core (with the cores busy, two threads ran 4x slower than one here). The model's folder: empty
# for the models shipped in enhancement/engines/waifu2x/. The model costs about 5 s of CPU per
# megapixel of the original: originals above MAX_PIXELS are enlarged with LANCZOS alone, which
# keeps a 4K job under 6 s on one thread (bench/quality.py).
ENHANCEMENT_NCNN_THREADS = positive_int("ENHANCEMENT_NCNN_THREADS", 1)
ENHANCEMENT_MODEL_DIR = env("ENHANCEMENT_MODEL_DIR", default="")
ENHANCEMENT_MODEL_MAX_PIXELS = positive_int("ENHANCEMENT_MODEL_MAX_PIXELS", 1_100_000)
GEMINI_API_KEY = env("GEMINI_API_KEY", default="")
GEMINI_MODEL = env("GEMINI_MODEL", default="gemini-3-pro-image-preview")
GEMINI_BASE_URL = env("GEMINI_BASE_URL", default="")
GEMINI_TIMEOUT_MS = positive_int("GEMINI_TIMEOUT_MS", 120_000)
GEMINI_PROMPT = env(
    "GEMINI_PROMPT",
    default=(
        "Enhance this photograph: restore fine detail and sharpness, reduce noise and compression "
        "artefacts, correct exposure, contrast and white balance, keep colours natural. Keep the "
        "composition, framing, people and every object exactly as they are; do not add, remove "
        "or restyle anything."
    ),
)
# What an engine's work is estimated to cost (USD), for each job's `engine_cost_usd` and the back
# office's margin (enhancement/engines/usage.py): by model, else by engine name; a job whose
# model has no price has no cost. Gemini: Google's paid-tier prices per million tokens (input;
# text and thinking output; image output) as its pricing page gave them in 2026 for
# gemini-3-pro-image-preview (an image at 1K or 2K is 1,120 output tokens, $0.134; at 4K 2,000,
# $0.24). The local engine: per CPU second, from a small VM's on-demand price (2 vCPUs at
# $0.0416 an hour, AWS t3.medium: $0.0000058 a CPU second). ENGINE_PRICES (a JSON object)
# replaces or adds entries, e.g. '{"gemini-x-image": {"input_per_million": "0.5"}}'.
ENGINE_PRICES = decimal_table(
    "ENGINE_PRICES",
    {
        "gemini-3-pro-image-preview": {
            "input_per_million": "2.00",
            "output_per_million": "12.00",
            "image_output_per_million": "120.00",
        },
        "local": {"cpu_second": "0.0000058"},
    },
)
# The back office's margin (/admin/numbers/) sets engine costs (USD) against revenue taken in
# other currencies: USD for one unit of each, fixed here (approximate, late 2026; edit as rates
# move). A currency without a rate shows its revenue but no margin. BACKOFFICE_USD_RATES (a JSON
# object) replaces or adds entries, e.g. '{"chf": {"usd": "1.25"}}'.
BACKOFFICE_USD_RATES = decimal_table(
    "BACKOFFICE_USD_RATES",
    {"usd": {"usd": "1"}, "gbp": {"usd": "1.32"}, "eur": {"usd": "1.16"}},
)

# --- Billing ----------------------------------------------------------------------------------
SHOP_CURRENCY = env("SHOP_CURRENCY", default="gbp")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
# dj-stripe: a live key means live mode; the webhook's signing secret lives in its
# WebhookEndpoint row (README, "Billing"), not in a setting.
STRIPE_LIVE_MODE = STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
if env("STRIPE_API_HOST", default=""):
    # Another Stripe API server (stripe-mock, a local fake). Never in production (djstripe.W002).
    STRIPE_API_HOST = env("STRIPE_API_HOST")
# Our calls to Stripe are retried on network errors and 409/5xx, with Stripe's back-off.
STRIPE_MAX_NETWORK_RETRIES = non_negative_int("STRIPE_MAX_NETWORK_RETRIES", 2)
# The success page polls for the grant every few seconds and says the webhook is late after
# this long.
BILLING_SUCCESS_POLL_SECONDS = positive_int("BILLING_SUCCESS_POLL_SECONDS", 2)
BILLING_WEBHOOK_LATE_SECONDS = positive_int("BILLING_WEBHOOK_LATE_SECONDS", 30)
# Housekeeping (`manage.py sync_subscriptions`, and its hourly schedule): a live subscription
# whose period ended this long ago without its renewal arriving is read from Stripe again.
SUBSCRIPTION_SYNC_GRACE_MINUTES = positive_int("SUBSCRIPTION_SYNC_GRACE_MINUTES", 120)
# The plans a fresh install sells (`manage.py seed`). max_rollover 0 = unlimited. Paid tiers
# above Hobby get the priority queue; Studio also gets the API.
DEFAULT_SUBSCRIPTION_PLANS = [
    {
        "name": "Hobby",
        "tokens_per_month": 30,
        "price_gbp": "4.99",
        "max_rollover": 30,
        "priority": False,
        "api_access": False,
        "stripe_price_id": "price_plan_hobby",
    },
    {
        "name": "Creator",
        "tokens_per_month": 100,
        "price_gbp": "12.99",
        "max_rollover": 100,
        "priority": True,
        "api_access": False,
        "stripe_price_id": "price_plan_creator",
    },
    {
        "name": "Studio",
        "tokens_per_month": 300,
        "price_gbp": "29.99",
        "max_rollover": 0,
        "priority": True,
        "api_access": True,
        "stripe_price_id": "price_plan_studio",
    },
]

# --- Albums, share links and the gallery -------------------------------------------------------
GALLERY_PAGE_SIZE = positive_int("GALLERY_PAGE_SIZE", 24)
# Seconds the gallery's pages and a shared album's grid are kept rendered (0: never). Signed
# media URLs inside live STORAGE_URL_EXPIRES, far longer; counts and new photos show this late.
ALBUMS_PAGE_CACHE_SECONDS = non_negative_int("ALBUMS_PAGE_CACHE_SECONDS", 30)
ALBUM_MAX_IMAGES = positive_int("ALBUM_MAX_IMAGES", 1000)  # bounds a reorder and a slideshow
ALBUM_SHARE_EXPIRY_DAYS = [1, 7, 30]  # the expiry choices of a link, besides never and a date
# Tries at a link's password, per visitor and per link (the link's count stops a spread guess).
ALBUM_PASSWORD_TRIES_PER_MINUTE = positive_int("ALBUM_PASSWORD_TRIES_PER_MINUTE", 5)
ALBUM_PASSWORD_TRIES_PER_LINK_PER_MINUTE = positive_int(
    "ALBUM_PASSWORD_TRIES_PER_LINK_PER_MINUTE", 30
)
# Visitors' downloads (each is re-encoded without metadata), per visitor.
ALBUM_DOWNLOADS_PER_MINUTE = positive_int("ALBUM_DOWNLOADS_PER_MINUTE", 20)

# --- Your data: export ------------------------------------------------------------------------
# Days a finished export (its zip and its signed link) is kept; then the sweep deletes it.
DATA_EXPORT_LINK_DAYS = positive_int("DATA_EXPORT_LINK_DAYS", 7)
DATA_EXPORTS_PER_DAY = positive_int("DATA_EXPORTS_PER_DAY", 3)  # exports a user may start a day
# Seconds one export's build may run in the worker (a large library takes a while to copy).
DATA_EXPORT_TIMEOUT = positive_int("DATA_EXPORT_TIMEOUT", 3600)

# --- Vouchers ---------------------------------------------------------------------------------
# Tries at redeeming a code (right or wrong), per user and per IP address, per hour.
VOUCHER_REDEEM_PER_HOUR_USER = positive_int("VOUCHER_REDEEM_PER_HOUR_USER", 5)
VOUCHER_REDEEM_PER_HOUR_IP = positive_int("VOUCHER_REDEEM_PER_HOUR_IP", 20)

# --- Job queue (django-q2) --------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
Q_TASK_TIMEOUT = positive_int("Q_TASK_TIMEOUT", 300)
Q_CLUSTER = {
    "name": "lumen",
    "workers": positive_int("Q_WORKERS", 2),
    "timeout": Q_TASK_TIMEOUT,
    "retry": Q_TASK_TIMEOUT + 60,  # must exceed timeout, or running tasks are handed out again
    "max_attempts": 1,  # our own services retry enhancement jobs with back-off
    "catch_up": False,
    "save_limit": 1000,
    "sync": env_bool("Q_SYNC", default=False),
    "label": "Job queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# Users whose plan has `priority` are served by a second cluster that works its own queue.
Q_PRIORITY_CLUSTER = "priority"
Q_CLUSTER["ALT_CLUSTERS"] = {Q_PRIORITY_CLUSTER: {"workers": positive_int("Q_PRIORITY_WORKERS", 1)}}

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = non_negative_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Load balancers probe /healthz over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Content-Security-Policy (django-csp) on every response, error pages and media included:
# scripts and styles come only from our static files (no <script> or <style> blocks, no style=""
# or on...="" attributes in any template; htmx is told not to inject its own style), images from
# our origin or the media bucket's, nothing may frame a page.
_media_options = STORAGES["default"]["OPTIONS"]
MEDIA_ORIGINS = storage_origins(
    bucket=STORAGE_BUCKET,
    endpoint_url=_media_options.get("endpoint_url"),
    addressing_style=_media_options.get("addressing_style"),
    region=_media_options.get("region_name"),
    public_domain=STORAGE_PUBLIC_DOMAIN,
)
# Forms post only to us, but Chrome also checks form-action against where a form's answer
# redirects: the sign-in providers (allauth) and Stripe's Checkout and customer portal.
FORM_REDIRECT_ORIGINS = [
    "https://accounts.google.com",
    "https://github.com",
    "https://checkout.stripe.com",
    "https://billing.stripe.com",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", *MEDIA_ORIGINS],
        "media-src": ["'self'", *MEDIA_ORIGINS],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'", *FORM_REDIRECT_ORIGINS],
        "frame-ancestors": ["'none'"],
    },
}
# Permissions-Policy (django-permissions-policy): no page of ours uses these browser features, so
# neither our pages nor anything they might embed may ask for them.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# One line per event (job transitions, payments, webhooks, voucher redemptions: core/logging.py):
# `plain` prints time, level, logger, event and its fields as key=value; `json` one JSON object
# a line, for a log collector. Either way a filter on the handler redacts e-mail addresses,
# signed URLs and tokens, codes, keys and secrets from every line, ours and third parties'.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "core.logging.KeyValueFormatter"},
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "filters": {"redact": {"()": "core.logging.RedactingFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's and gunicorn's lines name request paths (signed media, share links, voucher
        # codes): through our handler too, instead of their own (Django's console and
        # mail_admins handlers; runserver's and gunicorn's access lines).
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "propagate": False},
        "gunicorn.error": {"handlers": ["console"], "propagate": False},
        # stripe-python says INFO twice for every API call (a webhook makes several): our own
        # lines say what happened; its warnings and errors still show.
        "stripe": {"level": "WARNING"},
        # django-q2 says INFO for every task it enqueues and runs (the sweeper's every 30 s):
        # quiet by default, so a console shows what matters (the demo login, errors).
        "django-q": {"level": env("Q_LOG_LEVEL", default="WARNING")},
    },
}
