# The back office of this app, one module per model group.
from enhancement import admin_images, admin_jobs  # noqa: F401
