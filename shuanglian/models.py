"""Imports every domain's tables so `Base.metadata` is complete (Alembic, tests)."""

from shuanglian.accounts.models import User
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.patents.models import Institution, Patent

__all__ = ["Demand", "Enterprise", "Institution", "Patent", "User"]
