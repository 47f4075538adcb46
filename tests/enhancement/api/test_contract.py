"""schemathesis against the OpenAPI document, in-process (WSGI): for every operation, bounded
generated requests with a valid key (also with the real ids in the path) and with bad keys.
No 500, and every response conforms to the document (status, content type, body schema)."""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from enhancement.jobs import ordering
from tests.factories import stored_image

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 8
# A well-formed order may still meet an empty balance (402): money is not the document's to
# promise. Everything else a schema-valid request gets is the usual success, 404 or 409.
CONFIG = {
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "402", "403", "404", "409", "429"]
        }
    }
}
BAD_KEYS = ["", "Bearer lum_nothing", "Bearer lum_\u00e9\u00e9", "Basic Zm9vOmJhcg=="]


@pytest.fixture
def schema(settings):
    settings.API_RATE_PER_MINUTE = 100_000
    settings.UPLOAD_RATE_PER_MINUTE = 100_000
    settings.ENHANCEMENT_ORDER_RATE_PER_MINUTE = 100_000
    # Django's handler closes the connection after each request; the test's transaction lives
    # on it, so (as Django's own test client does) that is switched off while the app runs here.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi(
            "/api/v1/openapi.json", WSGIHandler(), config=SchemathesisConfig.from_dict(CONFIG)
        )
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def operations(schema):
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 10, "the walk found too few operations"
    return found


def run(operation, *, headers, path_parameters=None):
    # Any bytes are a schema-valid file, but only an image is accepted (422 with the upload
    # page's message): the positive-data check cannot hold for an upload.
    excluded = [positive_data_acceptance] if operation.path == "/api/v1/images" else []

    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        if path_parameters and case.path_parameters:
            case.path_parameters = {
                name: path_parameters.get(name, value)
                for name, value in case.path_parameters.items()
            }
        # (the WSGI test client does not inflate gzip, which the site sends when asked)
        case.call_and_validate(
            headers={"Accept-Encoding": "identity", **headers}, excluded_checks=excluded
        )

    check()


def test_every_operation_with_a_valid_key(schema, api_key, api_user, image):
    job = ordering.order_enhancement(user=api_user, image=image, tier="TIER_1K", request_key=None)
    real = {"image_id": image.pk, "job_id": job.pk}
    for operation in operations(schema):
        run(operation, headers={"Authorization": f"Bearer {api_key}"})
        if "{" in operation.path:
            # the real objects, so the successful answers are checked too (a fresh image each
            # time: a delete may have taken the last one)
            real["image_id"] = stored_image(api_user).pk
            run(operation, headers={"Authorization": f"Bearer {api_key}"}, path_parameters=real)
    call_command("check_ledger")


@pytest.mark.parametrize("header", BAD_KEYS, ids=["none", "unknown", "non-ascii", "basic"])
def test_every_operation_with_a_bad_key(schema, api_user, header):
    headers = {"Authorization": header} if header else {}
    for operation in operations(schema):
        if operation.path.endswith("openapi.json"):
            continue
        run(operation, headers=headers)
