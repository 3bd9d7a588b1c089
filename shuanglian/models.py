"""Imports every domain's tables so `Base.metadata` is complete (Alembic, tests)."""

from shuanglian.accounts.models import User
from shuanglian.audit import AuditEntry
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.inventory import models as inventory_models
from shuanglian.matching import models as matching_models
from shuanglian.notifications import Notification
from shuanglian.patents.models import Institution, Patent
from shuanglian.supermarket import models as supermarket_models

__all__ = [
    "AuditEntry",
    "Notification",
    "inventory_models",
    "matching_models",
    "supermarket_models",
    "Demand",
    "Enterprise",
    "Institution",
    "Patent",
    "User",
]
