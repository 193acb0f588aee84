"""The Peewee models against the live catalog: they describe the SQL exactly.

Every table, view and materialized view of the public schema has a model;
each model has the relation's columns, no more and no fewer, with the same
types, the same nullability (tables), the same primary key and foreign keys
(tables), and every enum field carries its type's labels in order.
"""

from __future__ import annotations

import secrets

import pytest
from peewee import ForeignKeyField
from playhouse.postgres_ext import ArrayField, PostgresqlExtDatabase
from psycopg2.extensions import parse_dsn

from portal import models
from portal.models import (ALL_MODELS, ENUMS, MATERIALIZED_VIEW_MODELS, TABLE_MODELS, VIEW_MODELS,
                           Course, EnumField, Organization, PublicInstructor, User, is_generated)

# Peewee field_type -> (information_schema data_type, udt_name).
TYPES = {
    "UUID": ("uuid", "uuid"),
    "TEXT": ("text", "text"),
    "CITEXT": ("USER-DEFINED", "citext"),
    "CHAR": ("character", "bpchar"),
    "SMALLINT": ("smallint", "int2"),
    "INT": ("integer", "int4"),
    "BIGINT": ("bigint", "int8"),
    "DECIMAL": ("numeric", "numeric"),
    "BOOL": ("boolean", "bool"),
    "DATE": ("date", "date"),
    "TIMESTAMPTZ": ("timestamp with time zone", "timestamptz"),
    "JSONB": ("jsonb", "jsonb"),
}

INFORMATION_SCHEMA_COLUMNS = """
    SELECT column_name, data_type, udt_name, numeric_precision, numeric_scale,
           character_maximum_length, is_nullable, is_generated
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = %s
"""

# information_schema leaves materialized views out: the same columns from
# pg_catalog, computed as information_schema computes them.
CATALOG_COLUMNS = """
    SELECT a.attname AS column_name,
           CASE WHEN t.typelem <> 0 AND t.typlen = -1 THEN 'ARRAY'
                WHEN tn.nspname = 'pg_catalog' THEN format_type(a.atttypid, NULL)
                ELSE 'USER-DEFINED' END AS data_type,
           t.typname AS udt_name,
           CASE WHEN a.atttypid = 'numeric'::regtype AND a.atttypmod <> -1
                THEN ((a.atttypmod - 4) >> 16) & 65535 END AS numeric_precision,
           CASE WHEN a.atttypid = 'numeric'::regtype AND a.atttypmod <> -1
                THEN (a.atttypmod - 4) & 65535 END AS numeric_scale,
           CASE WHEN a.atttypid = 'bpchar'::regtype AND a.atttypmod <> -1
                THEN a.atttypmod - 4 END AS character_maximum_length,
           CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
           'NEVER' AS is_generated
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    JOIN pg_namespace tn ON tn.oid = t.typnamespace
    WHERE n.nspname = 'public' AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""

RELATIONS = """
    SELECT c.relname AS name, c.relkind AS kind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
"""

PRIMARY_KEY = """
    SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM pg_constraint con
    CROSS JOIN unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
    WHERE con.contype = 'p' AND con.conrelid = ('public.' || quote_ident(%s))::regclass
"""

# Every foreign-key column pair of the schema: (table, column) -> (table, column).
FOREIGN_KEY_PAIRS = """
    SELECT src.relname AS src_table, sa.attname AS src_column,
           dst.relname AS dst_table, da.attname AS dst_column
    FROM pg_constraint con
    JOIN pg_class src ON src.oid = con.conrelid
    JOIN pg_class dst ON dst.oid = con.confrelid
    JOIN pg_namespace n ON n.oid = src.relnamespace
    CROSS JOIN unnest(con.conkey, con.confkey) AS k(src_attnum, dst_attnum)
    JOIN pg_attribute sa ON sa.attrelid = con.conrelid AND sa.attnum = k.src_attnum
    JOIN pg_attribute da ON da.attrelid = con.confrelid AND da.attnum = k.dst_attnum
    WHERE con.contype = 'f' AND n.nspname = 'public'
"""


def _name(model) -> str:
    return model._meta.table_name


def expected_type(field) -> dict:
    """What information_schema.columns says about a column of this field."""
    if isinstance(field, ForeignKeyField):
        return expected_type(field.rel_field)
    if isinstance(field, EnumField):
        return {"data_type": "USER-DEFINED", "udt_name": field.enum_name}
    assert field.field_type in TYPES, f"{field}: add {field.field_type} to TYPES in this test"
    data_type, udt_name = TYPES[field.field_type]
    if isinstance(field, ArrayField):
        return {"data_type": "ARRAY", "udt_name": "_" + udt_name}
    expected = {"data_type": data_type, "udt_name": udt_name}
    if field.field_type == "DECIMAL":
        expected.update(numeric_precision=field.max_digits, numeric_scale=field.decimal_places)
    if field.field_type == "CHAR":
        expected.update(character_maximum_length=field.max_length)
    return expected


def relation_columns(db, model) -> dict:
    query = CATALOG_COLUMNS if model in MATERIALIZED_VIEW_MODELS else INFORMATION_SCHEMA_COLUMNS
    return {row["column_name"]: row for row in db.rows(query, (_name(model),))}


def reachable(pairs: dict, start: tuple) -> set:
    """The (table, column) pairs a column's foreign keys lead to, transitively."""
    seen, stack = set(), [start]
    while stack:
        for target in pairs.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


@pytest.mark.parametrize("model", ALL_MODELS, ids=_name)
def test_model_matches_table(module_database, model):
    """The model's columns, types, nullability and keys are the relation's."""
    kind = {row["name"]: row["kind"] for row in module_database.rows(RELATIONS)}.get(_name(model))
    expected_kind = "m" if model in MATERIALIZED_VIEW_MODELS else "v" if model in VIEW_MODELS else "r"
    assert kind == expected_kind, f"{_name(model)} is missing or not a {expected_kind} relation"

    columns = relation_columns(module_database, model)
    fields = {field.column_name: field for field in model._meta.sorted_fields}
    assert sorted(fields) == sorted(columns), "missing: %s, extra: %s" % (
        sorted(set(columns) - set(fields)), sorted(set(fields) - set(columns)))

    for name, field in fields.items():
        column = columns[name]
        actual = {key: column[key] for key in expected_type(field)}
        assert actual == expected_type(field), f"{_name(model)}.{name}"
        assert field.default is None, f"{_name(model)}.{name}: the database's default applies"
        if model in TABLE_MODELS:
            assert field.null == (column["is_nullable"] == "YES"), f"{_name(model)}.{name}: null"
            assert is_generated(field) == (column["is_generated"] == "ALWAYS"), \
                f"{_name(model)}.{name}: generated"

    if model not in TABLE_MODELS:
        return
    primary_key = module_database.value(PRIMARY_KEY, (_name(model),))
    assert [f.column_name for f in model._meta.get_primary_keys()] == primary_key

    pairs = {}
    for row in module_database.rows(FOREIGN_KEY_PAIRS):
        pairs.setdefault((row["src_table"], row["src_column"]), set()).add(
            (row["dst_table"], row["dst_column"]))
    for name, field in fields.items():
        targets = reachable(pairs, (_name(model), name))
        if isinstance(field, ForeignKeyField):
            target = (_name(field.rel_model), field.rel_field.column_name)
            assert target in targets, f"{_name(model)}.{name} has no foreign key to {target}"
        else:
            assert not targets, f"{_name(model)}.{name} is a foreign key: model it as one"


def test_every_relation_has_a_model(module_database):
    """Each public table, view and materialized view is modelled, and only those."""
    relations = {row["name"] for row in module_database.rows(RELATIONS)}
    modelled = [_name(model) for model in ALL_MODELS]
    assert len(modelled) == len(set(modelled))
    assert set(modelled) == relations


def test_every_enum_is_declared(module_database):
    """ENUMS names exactly the public enum types, and fields use its tuples."""
    types = module_database.rows(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = 'public' AND t.typtype = 'e'")
    assert set(ENUMS) == {row["typname"] for row in types}
    for model in ALL_MODELS:
        for field in model._meta.sorted_fields:
            if isinstance(field, EnumField):
                assert field.labels == ENUMS[field.enum_name], f"{_name(model)}.{field.name}"


@pytest.mark.parametrize("enum_name", sorted(ENUMS))
def test_enum_labels_match(module_database, enum_name):
    """The Python labels are the enum's labels, in the enum's order."""
    labels = module_database.value(
        "SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e "
        "WHERE e.enumtypid = ('public.' || quote_ident(%s))::regtype", (enum_name,))
    assert tuple(labels) == ENUMS[enum_name]


def test_generated_columns_and_views_refuse_writes():
    """Writing a generated column or a view raises before any SQL is sent."""
    with pytest.raises(ValueError, match="courses.is_published is generated"):
        Course.update(is_published=True)
    with pytest.raises(ValueError, match="generated"):
        Course.insert({Course.is_published: True})
    with pytest.raises(ValueError, match="generated"):
        Course.insert_many([{"title": "x", "is_published": True}])
    with pytest.raises(TypeError, match="read-only"):
        PublicInstructor.insert(full_name="x")
    with pytest.raises(TypeError, match="read-only"):
        PublicInstructor().save()


@pytest.fixture()
def bound_models(database):
    """The models' proxy bound to this test's database as the owner; restored after."""
    previous = models.database.obj
    parts = parse_dsn(database.owner_dsn)
    name = parts.pop("dbname")
    connection = PostgresqlExtDatabase(name, register_hstore=False, **parts)
    models.database.initialize(connection)
    try:
        yield connection
    finally:
        connection.close()
        models.database.initialize(previous)


def test_models_round_trip(bound_models):
    """An organization and a user go in and come back through the models."""
    slug = f"org-{secrets.token_hex(4)}"
    org = Organization.create(name="Acme Learning", slug=slug, settings={"theme": "dark"})
    assert org.id is not None  # the database's gen_random_uuid()
    user = User.create(email=f"Ada.{slug}@Example.test", full_name="Ada Lovelace", role="org_admin",
                       organization=org)

    found = (User.select(User, Organization).join(Organization)
             .where(User.email == f"ada.{slug}@example.test").get())  # citext
    assert (found.id, found.role, found.is_active) == (user.id, "org_admin", True)
    assert (found.organization.slug, found.organization.settings) == (slug, {"theme": "dark"})
    assert found.created_at.tzinfo is not None

    found.full_name = "Ada King"
    assert found.save() == 1  # only the changed column is written
    assert User.get_by_id(user.id).full_name == "Ada King"

    with pytest.raises(ValueError, match="not a user_role"):
        User.create(email=f"b.{slug}@example.test", full_name="B", role="teacher")
    assert User.select().where(User.organization == org).count() == 1


def test_saving_a_loaded_course_leaves_the_generated_column_alone(bound_models):
    """A course read back and saved writes only what changed, never is_published."""
    teacher = User.create(email=f"t-{secrets.token_hex(4)}@example.test", full_name="Teacher",
                          role="instructor")
    course = Course.create(title="Peewee basics", slug=f"course-{secrets.token_hex(4)}",
                           instructor=teacher, tags=["python", "orm"])
    loaded = Course.get_by_id(course.id)
    assert (loaded.status, loaded.is_published, loaded.tags) == ("draft", False, ["python", "orm"])
    assert loaded.instructor == teacher.id  # lazy_load=False: the id, no hidden query

    loaded.status = "published"
    loaded.save()
    assert Course.get_by_id(course.id).is_published is True
