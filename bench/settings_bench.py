"""Bench only: the chosen settings module (BENCH_BASE_SETTINGS) with optional changes.

- BENCH_NO_CACHE=1 (`bench/pages.py --page-cache off`): a dummy cache, so every page is
  rendered from the database as it was before the page cache (apps/courses/page_cache.py).
"""

import importlib
import os

_base = importlib.import_module(os.environ.get("BENCH_BASE_SETTINGS", "config.settings.production"))
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

if os.environ.get("BENCH_NO_CACHE") == "1":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
