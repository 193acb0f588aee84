"""schema_manifest.txt: every landed migration with its SHA-256, so that editing a landed file
fails CI here (not only on a database that had applied it) and a new file is listed on purpose."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from portal import db
from portal.cli import main

ADD = "run `python -m portal db manifest` to add it"


def test_no_landed_migration_has_changed():
    """Every file the manifest lists exists with the checksum it landed with."""
    assert len(db.read_manifest(db.MANIFEST)) >= 6
    assert db.changed_since_landing(db.SCHEMA_DIR, db.MANIFEST) == [], (
        "a landed migration was edited (or removed): restore it from git and put the change in a new "
        "numbered file")


def test_every_migration_is_in_the_manifest():
    """A new schema file is added to the manifest deliberately, when it lands."""
    listed = db.read_manifest(db.MANIFEST)
    missing = [path.name for path in db.migration_files() if path.name not in listed]
    assert missing == [], f"{', '.join(missing)} not in {db.MANIFEST.name}: once the migration has landed, {ADD}"


def test_the_manifest_command_adds_only_what_is_missing(tmp_path, monkeypatch):
    """`db manifest` appends the unlisted files in order, keeps the listed lines, and refuses to go
    on while a landed file differs from its line."""
    schema = tmp_path / "schema"
    shutil.copytree(db.SCHEMA_DIR, schema)
    (schema / "999_later.sql").write_text("SELECT 1;\n")
    manifest = tmp_path / "schema_manifest.txt"
    landed = db.MANIFEST.read_text().splitlines()[:2]
    manifest.write_text("\n".join(landed) + "\n")
    monkeypatch.setattr(db, "SCHEMA_DIR", schema)
    monkeypatch.setattr(db, "MANIFEST", manifest)
    runner = CliRunner()

    added = runner.invoke(main, ["db", "manifest"])
    assert added.exit_code == 0 and added.output.startswith("added to schema_manifest.txt: ")
    names = [path.name for path in db.migration_files(schema)]
    assert manifest.read_text().splitlines() == landed + [f"{name} {db.checksum(schema / name)}"
                                                          for name in names[2:]]
    assert names[-1] == "999_later.sql"
    assert runner.invoke(main, ["db", "manifest"]).output == "schema_manifest.txt lists every migration\n"

    before = manifest.read_text()
    (schema / names[0]).write_text((schema / names[0]).read_text() + "\n-- an edit\n")
    (schema / "998_unlisted.sql").write_text("SELECT 2;\n")
    refused = runner.invoke(main, ["db", "manifest"])
    assert refused.exit_code == 1 and f"{names[0]} changed after landing" in refused.output
    assert manifest.read_text() == before
