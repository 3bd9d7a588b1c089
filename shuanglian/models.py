"""Imports every domain's tables so `Base.metadata` is complete (Alembic, tests)."""

from shuanglian.accounts.models import User
from shuanglian.attachments import Attachment
from shuanglian.audit import AuditEntry
from shuanglian.challenges import models as challenges_models
from shuanglian.dashboard import models as dashboard_models
from shuanglian.deals import models as deal_models
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.inventory import models as inventory_models
from shuanglian.matching import models as matching_models
from shuanglian.notifications import Notification
from shuanglian.patents.models import Institution, Patent
from shuanglian.pilots import models as pilots_models
from shuanglian.supermarket import models as supermarket_models

__all__ = [
    "Attachment",
    "challenges_models",
    "dashboard_models",
    "pilots_models",
    "AuditEntry",
    "deal_models",
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
