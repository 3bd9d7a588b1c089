from sqlalchemy import select

from shuanglian.patents.models import Institution


def test_rows_written_in_one_test_are_visible_in_that_test(db_session):
    db_session.add(Institution(name="测试大学"))
    db_session.commit()
    assert db_session.scalars(select(Institution.name)).all() == ["测试大学"]


def test_each_test_starts_from_an_empty_database(db_session):
    assert db_session.scalars(select(Institution)).all() == []
