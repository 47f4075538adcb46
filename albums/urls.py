from django.urls import path

import albums.converters  # noqa: F401 (registers <share:...>)
import core.converters  # noqa: F401 (registers <id:...>)
from albums import views

app_name = "albums"
urlpatterns = [
    # the owner's albums
    path("albums/", views.album_list, name="list"),
    path("albums/new/", views.create, name="create"),
    path("albums/add-images/", views.add_images, name="add_images"),
    path("albums/<id:album_id>/", views.detail, name="detail"),
    path("albums/<id:album_id>/edit/", views.edit, name="edit"),
    path("albums/<id:album_id>/sharing/", views.sharing, name="sharing"),
    path("albums/<id:album_id>/link/rotate/", views.rotate_link, name="rotate_link"),
    path("albums/<id:album_id>/link/stop/", views.stop_sharing, name="stop_sharing"),
    path("albums/<id:album_id>/add/", views.pick, name="pick"),
    path("albums/<id:album_id>/order/", views.reorder, name="reorder"),
    path("albums/<id:album_id>/cover/", views.cover, name="cover"),
    path("albums/<id:album_id>/images/<id:image_id>/", views.album_image, name="image"),
    path("albums/<id:album_id>/images/<id:image_id>/move/", views.move_image, name="move_image"),
    path(
        "albums/<id:album_id>/images/<id:image_id>/remove/",
        views.remove_image,
        name="remove_image",
    ),
    path("albums/<id:album_id>/images/<id:image_id>/download/", views.download, name="download"),
    path("albums/<id:album_id>/slideshow/", views.slideshow, name="slideshow"),
    path("albums/<id:album_id>/slideshow/slides/", views.slides, name="slides"),
    path("albums/<id:album_id>/og.webp", views.og_image, name="og_image"),
    path("albums/<id:album_id>/delete/", views.delete, name="delete"),
    # share links
    path("s/<share:share_token>/", views.shared, name="shared"),
    path("s/<share:share_token>/images/<id:image_id>/", views.shared_image, name="shared_image"),
    path(
        "s/<share:share_token>/images/<id:image_id>/download/",
        views.shared_download,
        name="shared_download",
    ),
    path("s/<share:share_token>/slideshow/", views.shared_slideshow, name="shared_slideshow"),
    path("s/<share:share_token>/slideshow/slides/", views.shared_slides, name="shared_slides"),
    path("s/<share:share_token>/og.webp", views.shared_og_image, name="shared_og_image"),
    # the public gallery
    path("gallery/", views.gallery, name="gallery"),
    path("gallery/images/<id:image_id>/og.webp", views.gallery_og_image, name="gallery_og_image"),
]
