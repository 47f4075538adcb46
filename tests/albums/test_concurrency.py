"""At the same moment, on PostgreSQL with real threads and their own connections: one visitor's
many views of an image count once; many visitors' views all count; adds from several tabs to
one album neither fail nor share a position."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from albums import services
from albums.models import AlbumImage
from enhancement.models import EnhancedImage
from tests.factories import AlbumFactory, EnhancedImageFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(functions):
    start = threading.Barrier(len(functions))
    errors, results = [], []

    def run(function):
        try:
            start.wait()
            results.append(function())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_one_visitors_views_at_once_count_once_and_many_visitors_all_count():
    owner = UserFactory(email="owner@example.com")
    viewer = UserFactory(email="viewer@example.com")
    image = EnhancedImageFactory(user=owner, is_public=True)

    same = run_together(
        [
            lambda: services.count_image_view(image=image, viewer=viewer, visitor_key="u:v")
            for _ in range(8)
        ]
    )
    assert sorted(same) == [False] * 7 + [True]
    assert EnhancedImage.objects.get(pk=image.pk).view_count == 1

    many = run_together(
        [
            (
                lambda n=n: services.count_image_view(
                    image=image, viewer=viewer, visitor_key=f"a:{n}"
                )
            )
            for n in range(8)
        ]
    )
    assert many == [True] * 8
    assert EnhancedImage.objects.get(pk=image.pk).view_count == 9


def test_adds_from_several_tabs_at_once():
    owner = UserFactory(email="owner@example.com")
    album = AlbumFactory(user=owner)
    images = [EnhancedImageFactory(user=owner) for _ in range(12)]
    batches = [images[i : i + 3] for i in range(0, 12, 3)]
    # every tab also adds the first image again: it goes in once
    run_together(
        [
            (
                lambda b=b: services.add_images(
                    album=album, image_ids=[images[0].pk, *[i.pk for i in b]]
                )
            )
            for b in batches
        ]
    )
    rows = list(AlbumImage.objects.filter(album=album))
    assert sorted(r.image_id for r in rows) == sorted(i.pk for i in images)
    assert len({r.sort_order for r in rows}) == 12  # no two share a place
