"""Small factories and client helpers shared by the web, accounts and supermarket tests."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shuanglian.accounts import service as accounts
from shuanglian.accounts.models import User
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.inventory.models import PoolEntry
from shuanglian.patents.models import Institution, Patent
from shuanglian.supermarket import service as market
from shuanglian.supermarket.models import Listing
from shuanglian.text.normalize import normalize_for_search

PASSWORD = "correct-horse-42"
_seq = itertools.count(1)


def make_institution(session: Session, name: str | None = None) -> Institution:
    inst = Institution(name=name or f"测试大学{next(_seq)}", region="辽宁")
    session.add(inst)
    session.flush()
    return inst


def make_patent(
    session: Session, institution: Institution | None, title: str = "一种锂电池回收方法", **kw: Any
) -> Patent:
    n = next(_seq)
    patent = Patent(
        application_key=f"CN2024{n:08d}",
        application_number=f"CN2024{n:08d}.1",
        title=title,
        abstract=kw.pop("abstract", "本发明公开了一种从废旧锂电池中回收钴和锂的方法。"),
        search_text=normalize_for_search(title),
        institution_id=institution.id if institution else None,
        patent_type=kw.pop("patent_type", "invention"),
        main_ipc=kw.pop("main_ipc", "H01M10/54"),
        legal_status=kw.pop("legal_status", "有权"),
        **kw,
    )
    session.add(patent)
    session.flush()
    return patent


def make_enterprise(session: Session, name: str | None = None, **kw: Any) -> Enterprise:
    name = name or f"测试科技有限公司{next(_seq)}"
    scope = kw.pop("business_scope", "锂电池材料研发、生产与销售")
    ent = Enterprise(
        name=name,
        business_scope=scope,
        search_text=normalize_for_search(f"{name} {scope}"),
        province=kw.pop("province", "江苏"),
        industry_code=kw.pop("industry_code", "C38"),
        **kw,
    )
    session.add(ent)
    session.flush()
    return ent


def make_demand(
    session: Session, enterprise: Enterprise, title: str = "电池回收技术需求"
) -> Demand:
    demand = Demand(
        enterprise_id=enterprise.id, title=title, search_text=normalize_for_search(title)
    )
    session.add(demand)
    session.flush()
    return demand


def make_user(session: Session, role: str, **kw: Any) -> User:
    return accounts.create_user(
        session,
        username=kw.pop("username", f"{role}{next(_seq)}"),
        password=PASSWORD,
        role=role,
        **kw,
    )


def pool(session: Session, patent: Patent) -> PoolEntry:
    entry = PoolEntry(patent_id=patent.id, institution_id=patent.institution_id, active=True)
    session.add(entry)
    session.flush()
    return entry


def make_listing(
    session: Session,
    institution: Institution,
    *,
    title: str = "废旧锂电池高效回收技术",
    publish: bool = True,
    patents: list[Patent] | None = None,
    **kw: Any,
) -> Listing:
    staff = User(
        role="institution_staff",
        institution_id=institution.id,
        is_active=True,
        username="factory",
        password_hash="-",
    )
    patents = patents or [make_patent(session, institution, title=title)]
    for p in patents:
        pool(session, p)
    data = market.ListingInput(
        title=title,
        summary=kw.pop("summary", f"{title}：成熟可转化的技术成果，欢迎洽谈合作。"),
        modes=kw.pop("modes", ["licence", "transfer"]),
        price=kw.pop("price", Decimal("50")),
        trl=kw.pop("trl", 6),
        **kw,
    )
    return market.create_listing(
        session, actor=staff, patent_ids=[p.id for p in patents], data=data, publish=publish
    )


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a form page."""
    match = CSRF_RE.search(client.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def login(client: TestClient, user: User, password: str = PASSWORD) -> None:
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": user.username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]


def indexed_client(
    settings: Any, session: Session, user: User, *, indexed: bool = True
) -> TestClient:
    """A client logged in as `user` to an app reading `session`, the engine's indexes built
    from it first unless `indexed` is False (pages that match must then say they cannot)."""
    from shuanglian.matching.service import build_index
    from shuanglian.web.app import create_app
    from shuanglian.web.deps import get_session

    if indexed:
        build_index(session, settings=settings)
    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: session
    client = TestClient(app, raise_server_exceptions=False)
    login(client, user)
    return client
