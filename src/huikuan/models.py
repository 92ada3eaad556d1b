"""Every capability's tables, imported in one place so that metadata is complete."""

from huikuan.collections import models as collection_models
from huikuan.core import audit as core_audit
from huikuan.core import calendar as core_calendar
from huikuan.core import models as core_models
from huikuan.core.db import Base
from huikuan.credit import models as credit_models
from huikuan.customers import models as customer_models
from huikuan.ledger import models as ledger_models
from huikuan.reconciliation import models as reconciliation_models
from huikuan.users import models as user_models

metadata = Base.metadata

__all__ = [
    "collection_models",
    "core_audit",
    "core_calendar",
    "core_models",
    "credit_models",
    "customer_models",
    "ledger_models",
    "metadata",
    "reconciliation_models",
    "user_models",
]
