"""Reading, validating and registering post-level data (``tk.data``)."""
from __future__ import annotations

import importlib

_EXPORTS = {
    "read_posts": "toolkit.data.posts",
    "QualityReport": "toolkit.data.quality",
    "DataQualityError": "toolkit.data.quality",
    "load_dataset": "toolkit.data.registry",
    "list_datasets": "toolkit.data.registry",
    "dataset_path": "toolkit.data.registry",
    "to_long": "toolkit.data.reshape",
    "to_wide": "toolkit.data.reshape",
    "list_profiles": "toolkit.data.profiles",
    "assign_departments": "toolkit.data.org_chart",
    "check_engagement": "toolkit.data.checks",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'toolkit.data' has no attribute {name!r}")
