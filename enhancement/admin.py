from importlib.util import find_spec

from enhancement import admin_images  # noqa: F401

# The jobs admin is written by the jobs work; until it exists the images admin stands alone.
# (find_spec, not try/except ImportError: an error inside admin_jobs must not be swallowed.)
if find_spec("enhancement.admin_jobs") is not None:
    from enhancement import admin_jobs  # noqa: F401
