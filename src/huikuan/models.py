"""Every capability's tables, imported in one place so that metadata is complete."""

from huikuan.core import models as core_models
from huikuan.core.db import Base
from huikuan.customers import models as customer_models
from huikuan.ledger import models as ledger_models

metadata = Base.metadata

__all__ = ["core_models", "customer_models", "ledger_models", "metadata"]
