"""A check the workflow tests share: every notification a story stored can be read in English."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuanglian.notifications import Notification

CJK = re.compile(r"[\u3400-\u9fff\u3001\u3002\uff08\uff09\uff0c\uff1a\uff1b]")


def english_notices(session: Session, *, data: Iterable[str] = ()) -> dict[str, Notification]:
    """The stored notifications by kind, after checking each: an English title with no Chinese
    except `data` (names and titles people typed stay as typed), and an English body wherever
    there is a Chinese one."""
    typed = sorted(data, key=len, reverse=True)
    kinds: dict[str, Notification] = {}
    for n in session.scalars(select(Notification).order_by(Notification.id)):
        words = n.title_en or ""
        for value in typed:
            words = words.replace(value, "")
        assert n.title_en and not CJK.search(words), (n.kind, n.title, n.title_en)
        assert (n.body is None) == (n.body_en is None), (n.kind, n.body, n.body_en)
        kinds[n.kind] = n
    return kinds
