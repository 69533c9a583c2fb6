"""One dlt source per vendor. `load_source(system, **config)` builds it without importing the others."""

from __future__ import annotations

import importlib
from typing import Any

SOURCE_FUNCTIONS = {
    "billing": "ingestion.sources.billing:billing_source",
    "support": "ingestion.sources.support:support_source",
    "crm": "ingestion.sources.crm:crm_source",
    "erp": "ingestion.sources.erp:erp_source",
}


def load_source(system: str, **config: Any) -> Any:
    module_name, function = SOURCE_FUNCTIONS[system].split(":")
    return getattr(importlib.import_module(module_name), function)(**config)
