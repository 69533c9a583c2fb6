"""The incremental-vs-rebuild comparison counts rows as multisets: a duplicated row is a difference."""

from __future__ import annotations

import duckdb

from tests.transform.compare import multiset_difference


def test_a_duplicated_row_is_a_difference_both_ways() -> None:
    with duckdb.connect() as con:
        con.execute("create table once as select * from (values (1, 'a'), (2, 'b')) t(id, name)")
        con.execute("create table twice as select * from once union all select 1, 'a'")
        [(set_difference,)] = con.execute(
            "select count(*) from (select * from twice except select * from once)"
        ).fetchall()
        assert set_difference == 0  # what `except` (set semantics) missed
        assert multiset_difference(con, "once", "twice") == multiset_difference(con, "twice", "once") == 1
        assert multiset_difference(con, "once", "once") == 0
        assert multiset_difference(con, "once", "twice", '"name"') == 1
