"""Rows written before the rules of issue 14 (in the admin of the foundation) are made to fit
its constraints by migration 0002, so the constraints of 0003 can be added to a live database."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("platform_apps", "0001_initial")]
AFTER = [("platform_apps", "0003_rules_history_and_soft_delete")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_rows_are_made_to_fit_the_new_constraints(user):
    old = migrate(BEFORE)
    try:
        App = old.get_model("platform_apps", "App")
        Model = old.get_model("platform_apps", "MonetizationModel")
        first = App.objects.create(user_id=user.pk, name="First", domain="Shop.Example.com")
        second = App.objects.create(user_id=user.pk, name="Second", domain="shop.example.COM")
        blank = App.objects.create(user_id=user.pk, name="Blank", domain="")
        deleted = App.objects.create(user_id=user.pk, name="Gone", status="DELETED")
        free_priced = Model.objects.create(app=first, type="FREE", price=Decimal("3"))
        one_time_monthly = Model.objects.create(
            app=first, type="ONE_TIME", price=Decimal("3"), subscription_interval="MONTHLY"
        )
        unpriced = Model.objects.create(app=first, type="USAGE_BASED", price=None)
        fine = Model.objects.create(
            app=first, type="SUBSCRIPTION", price=Decimal("5"), subscription_interval="YEARLY"
        )
    finally:
        new = migrate(AFTER)

    App = new.get_model("platform_apps", "App")
    Model = new.get_model("platform_apps", "MonetizationModel")
    domains = dict(App.objects.values_list("pk", "domain"))
    assert domains[first.pk] == "shop.example.com"  # the older keeps it, lower case
    assert domains[second.pk] is None  # the same domain in another case: released
    assert domains[blank.pk] is None
    assert App.objects.get(pk=deleted.pk).deleted_at is not None
    terms = {m.pk: (m.type, m.price, m.subscription_interval) for m in Model.objects.all()}
    assert terms[free_priced.pk] == ("FREE", None, None)
    assert terms[one_time_monthly.pk] == ("ONE_TIME", Decimal("3.00"), None)
    assert terms[unpriced.pk] == ("FREE", None, None)
    assert terms[fine.pk] == ("SUBSCRIPTION", Decimal("5.00"), "YEARLY")
