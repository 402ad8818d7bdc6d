"""pg_stat_statements entries attributed to statement files by normalised text, as
PostgreSQL 15 and 18 store them."""

from __future__ import annotations

from rollout_bench.collect.statements import attribute, groups_of, normalise, pipeline_statement_files, queries_check

FILE = """-- the identities of a tenant
SELECT id, external_id FROM entities
WHERE tenant_id = %(tenant_id)s AND entity_type = 'identities' AND status IN ('active', 'warn')
  AND deleted_at IS NULL
LIMIT 500
"""
PG15 = ("/* unified/x */ SELECT id, external_id FROM entities\nWHERE tenant_id = $1 AND entity_type = $2 "
        "AND status IN ($3, $4)\n  AND deleted_at IS NULL\nLIMIT $5")
PG18 = ("SELECT id, external_id FROM entities\nWHERE tenant_id = $1 AND entity_type = $2 AND status IN ($3 /*, ... */)"
        "\n  AND deleted_at IS NULL\nLIMIT $4")


def test_the_same_statement_normalises_alike_on_15_and_18() -> None:
    assert normalise(FILE) == normalise(PG15) == normalise(PG18)


def test_different_statements_stay_apart() -> None:
    assert normalise(FILE) != normalise(FILE.replace("external_id", "name"))
    assert normalise("SELECT a FROM t WHERE x = %s") != normalise("SELECT a FROM t WHERE x > %s")


def test_files_with_one_parse_tree_form_a_named_group() -> None:
    groups = groups_of({"a/one": FILE, "a/two": FILE.replace("LIMIT 500", "LIMIT 10"), "a/three": "SELECT 1"})
    assert sorted(groups.values()) == [("a/one", "a/two"), ("a/three",)]
    result = attribute([(PG18, 7), ("SELECT now()", 3)], {"a/one": FILE, "a/two": FILE})
    assert result.calls == {"a/one+a/two": 7} and result.unmatched_entries == 1


def test_every_pipeline_statement_file_is_readable_and_most_are_distinct() -> None:
    files = pipeline_statement_files()
    assert len(files) > 40
    shared = [names for names in groups_of(files).values() if len(names) > 1]
    assert all(len(names) <= 3 for names in shared)


def test_no_match_or_no_extension_leaves_the_deviation_null_with_why() -> None:
    counted = {"unified": 60, "legacy": 0}
    absent = queries_check(counted, None, "pg_stat_statements is not loaded in this server")
    assert absent["unified"]["deviation"] is None and "not loaded" in str(absent["reason"])
    nothing = queries_check(counted, attribute([("SELECT 1", 5)], {"unified/a": FILE}))
    assert nothing["unified"]["deviation"] is None and nothing["unified"]["matched_files"] == 0
    matched = queries_check(counted, attribute([(PG15, 57)], {"unified/a": FILE}))
    assert matched["unified"]["deviation"] == 0.05 and matched["unified"]["matched_files"] == 1
