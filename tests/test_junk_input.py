"""Whatever a client sends to any page or action of the app, the answer is never a 500.

Every route of the project's own apps is found by walking the URL resolver (so a new route
cannot escape), its parameters filled with the owner's real objects, and sent junk: query
strings and form fields of the wrong type, absurd numbers, unknown choices, huge and non-ASCII
values. The destructive actions (cancel, then delete) go last, so the others find their objects."""

import itertools
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from accounts.exports import services as export_services
from enhancement.jobs import ordering
from enhancement.models import (
    ApiKey,
    DeliveryStatus,
    ImageEnhancementJob,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.factories import (
    AlbumFactory,
    AlbumImageFactory,
    AppFactory,
    DataExportFactory,
    MonetizationModelFactory,
    RequirementFactory,
    SubscriptionPlanFactory,
    TokensPackageFactory,
    VoucherFactory,
    fund,
    stored_image,
)
from tokens import services as tokens

# The apps whose views are ours (the roof's `config` included): the admin, allauth and Django's
# static files are left to their own tests.
OUR_APPS = {
    "config",
    "accounts",
    "tokens",
    "enhancement",
    "billing",
    "albums",
    "vouchers",
    "platform_apps",
}
# Routes there today: a walker that finds fewer is broken (and the junk test would pass vacuously).
KNOWN_ROUTES = {
    "home",
    "healthz",
    "admin_numbers",
    "media_file",
    "tokens:page",
    "tokens:status",
    "images:library",
    "images:upload",
    "images:detail",
    "images:edit",
    "images:badge",
    "images:download_results",
    "images:publish",
    "images:delete",
    "images:download_original",
    "jobs:order",
    "jobs:batch",
    "jobs:detail",
    "jobs:cancel",
    "jobs:download",
    "billing:pricing",
    "billing:page",
    "billing:buy_pack",
    "billing:subscribe",
    "billing:success",
    "billing:success_status",
    "billing:portal",
    "apps:mine",
    "apps:create",
    "apps:directory",
    "apps:detail",
    "apps:edit",
    "apps:status",
    "apps:fork",
    "apps:delete",
    "apps:requirement_add",
    "apps:requirement_edit",
    "apps:requirement_triage",
    "apps:requirement_delete",
    "apps:monetization_add",
    "apps:monetization_edit",
    "apps:monetization_delete",
    "albums:list",
    "albums:create",
    "albums:add_images",
    "albums:detail",
    "albums:edit",
    "albums:sharing",
    "albums:rotate_link",
    "albums:stop_sharing",
    "albums:pick",
    "albums:reorder",
    "albums:cover",
    "albums:image",
    "albums:move_image",
    "albums:remove_image",
    "albums:download",
    "albums:slideshow",
    "albums:slides",
    "albums:og_image",
    "albums:delete",
    "albums:shared",
    "albums:shared_image",
    "albums:shared_download",
    "albums:shared_slideshow",
    "albums:shared_slides",
    "albums:shared_og_image",
    "albums:gallery",
    "albums:gallery_og_image",
    "vouchers:redeem",
    "vouchers:link",
    "api:reference",
    "api:keys",
    "api:key_revoke",
    "api:webhooks",
    "api:webhook_delete",
    "api:redeliver",
    "accounts:data_export_start",
    "accounts:data_export_status",
    "accounts:data_export_download",
    "accounts:profile",
    "accounts:delete",
    "accounts:deleted",
    "privacy",
    "terms",
    "contact",
}
# Words of the route names that destroy what the other routes need, in the order they run last.
DESTRUCTIVE = ("cancel", "delete")

JUNK_VALUES = [
    "",
    "0",
    "-1",
    "99999999999999999999",
    "abc",
    "TIER_8K",
    "ünï💥",
    "x" * 5000,
    "1e9",
    "\x00",  # PostgreSQL refuses NUL in text: it must never reach a query
    "abc\x00def",
    "evil\r\nX-Injected: yes",
]
# What may stand where an id or a token belongs in a path: each is a 404, before any query.
JUNK_PATH_PARTS = [
    "abc%00def",
    "%00",
    "a" + "0" * 23 + "%00",  # one short, then NUL
    "A" + "b" * 24,  # upper case: not an id
    "b" * 26,
    "x" * 300,
    "%27%20or%201=1--",
    "%C3%BC" * 12,
    "..%2F..%2Fetc%2Fpasswd",
]
FIELDS = [
    "tier",
    "request_key",
    "image_ids",
    "confirm",
    "skip_already_enhanced",
    "format",
    "quality",
    "page",
    "type",
    "name",
    "description",
    "session_id",
    "cancelled",
    "is_public",
    "q",
    "status",
    "priority",
    "domain",
    "price",
    "subscription_interval",
    "features",
    "privacy",
    "expiry",
    "expires_on",
    "password",
    "remove_password",
    "allow_download",
    "album",
    "new_album_name",
    "next",
    "ids",
    "direction",
    "image_id",
    "show",
    "sort",
    "after",
    "before",
    "start",
    "code",
]


def project_routes(resolver=None, namespaces=(), prefix="", parameters=frozenset()):
    """(qualified name, route as written, parameter names) of every route whose view is one of
    our apps', depth first in the resolver's order."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        taken = parameters | set(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the back office's own views (a ModelAdmin's extra page) have their tests
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from project_routes(entry, inner, route, taken)
        elif isinstance(entry, URLPattern):
            if entry.callback.__module__.split(".")[0] not in OUR_APPS:
                continue
            assert entry.name, f"the route {route!r} has no name: give it one"
            yield ":".join((*namespaces, entry.name)), route, taken


def destructive_rank(name: str) -> int:
    words = [i for i, word in enumerate(DESTRUCTIVE, start=1) if word in name]
    return words[0] if words else 0


def test_the_walk_finds_every_route_known_today():
    found = [name for name, _route, _parameters in project_routes()]
    assert KNOWN_ROUTES - set(found) == set(), "routes the walk of the URL resolver missed"
    assert len(found) == len(set(found)), "a route name is used twice"
    assert not [name for name in found if name.startswith("admin:")]


@pytest.fixture
def parameter_values(user):
    """A value for each parameter a route may take: the owner's real objects."""
    fund(user, 50)
    image = stored_image(user, name="Junk target")
    job = ordering.order_enhancement(user=user, image=image, tier="TIER_1K", request_key=None)
    app = AppFactory(user=user, status="ACTIVE", name="Junk target app")
    # two albums with the image: the owner's actions (rotate, stop sharing...) on the first
    # leave the second's link working for the share-link routes
    album = AlbumFactory(user=user, name="Junk target album")
    AlbumImageFactory(album=album, image=image)
    shared = AlbumFactory(user=user, name="Junk shared album", privacy="UNLISTED")
    AlbumImageFactory(album=shared, image=image)
    # the API's pages (the API's own routes are ninja's views: the schemathesis tests walk them)
    endpoint = WebhookEndpoint.objects.create(user=user, url="https://example.com/h", secret="s")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="job.completed",
        job_id=job.pk,
        payload={},
        give_up_at=timezone.now(),
        status=DeliveryStatus.FAILED,
    )
    return {
        "key_id": ApiKey.objects.create(user=user, name="Junk", prefix="lum_x", key_hash="0").pk,
        "endpoint_id": endpoint.pk,
        "delivery_id": delivery.pk,
        "image_id": image.pk,
        "job_id": job.pk,
        "package_id": TokensPackageFactory().pk,
        "plan_id": SubscriptionPlanFactory().pk,
        "app_id": app.pk,
        "requirement_id": RequirementFactory(app=app).pk,
        "monetization_id": MonetizationModelFactory(app=app).pk,
        "album_id": album.pk,
        "share_token": shared.share_token,
        # a real signed link to the image's original (the local storage's media route)
        "token": resolve(image.original_url).kwargs["token"],
        "code": VoucherFactory(code="JUNKTARGET").code,
        # a real signed link to a finished export of the owner's
        "export_token": export_services.make_token(DataExportFactory(user=user, ready=True)),
    }


def filled_urls(values: dict) -> list[tuple[str, str]]:
    """(route name, URL) of every route, its parameters filled from `values`, the destructive
    ones last. Fails on a parameter `values` has nothing for."""
    filled = []
    for name, route, parameters in project_routes():
        unknown = parameters - set(values)
        if unknown:
            pytest.fail(
                f"the route {name} ({route}) takes {sorted(unknown)}: a new route parameter "
                f"needs a value in the `parameter_values` fixture of {__name__}"
            )
        filled.append((name, reverse(name, kwargs={p: values[p] for p in parameters})))
    return sorted(filled, key=lambda named: destructive_rank(named[0]))


def test_no_junk_gets_a_500(owner_client, user, parameter_values):
    values = itertools.cycle(JUNK_VALUES)
    for _name, url in filled_urls(parameter_values):
        for method in ("get", "post"):
            for _ in range(3):
                data = {field: next(values) for field in FIELDS}
                if method == "post":
                    data["image_ids"] = [next(values), next(values)]
                response = getattr(owner_client, method)(url, data)
                assert response.status_code < 500, (method, url, data, response.status_code)
    # and the junk spent nothing it should not have: the one real order's 2 tokens only
    assert (
        tokens.get_balance(user)
        + sum(j.tokens_cost for j in ImageEnhancementJob.objects.filter(status="PENDING"))
        == 50
    )


@pytest.mark.parametrize("signed_in", [True, False], ids=["owner", "anonymous"])
def test_junk_in_a_path_id_is_a_404_before_any_query(
    signed_in, owner_client, anon_client, parameter_values
):
    """Every route with an id or a token in its path, each junk id in turn, GET and POST."""
    client = owner_client if signed_in else anon_client
    routes = [(n, r, p) for n, r, p in project_routes() if p]
    assert len(routes) >= 8, "the walk found too few routes with path parameters"
    for name, _route, parameters in routes:
        real = reverse(name, kwargs={p: parameter_values[p] for p in parameters})
        for parameter in parameters:
            for junk in JUNK_PATH_PARTS:
                url = real.replace(f"/{parameter_values[parameter]}/", f"/{junk}/", 1)
                assert url != real
                for method in ("get", "post"):
                    with CaptureQueriesContext(connection) as queries:
                        response = getattr(client, method)(url)
                    # (a POST to a GET-only view whose token merely looks like one: 405)
                    expected = {404, 405} if method == "post" else {404}
                    assert response.status_code in expected, (method, url, response.status_code)
                    # the 404 page may read the session and the balance, never the junk
                    sent = unquote(junk)
                    assert not [q for q in queries if sent in q["sql"]], (url, queries[:])
