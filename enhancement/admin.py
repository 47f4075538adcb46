# The back office of this app: each part registers its own model.
from enhancement.images import admin as images_admin  # noqa: F401
from enhancement.jobs import admin as jobs_admin  # noqa: F401
