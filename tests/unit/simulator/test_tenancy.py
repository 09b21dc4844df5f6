"""Which folder's files belong to which API key, and that the simulator watches where the relay uploads."""

from __future__ import annotations

from pathlib import Path

from fallback.outbox import REMOTE_SUBDIR_BY_KIND
from simulator.tenancy import IMPORT_SUBDIRS, import_folders, key_id, tenant_folder


def test_the_simulator_watches_every_sub_folder_the_relay_uploads_into() -> None:
    assert set(IMPORT_SUBDIRS) == set(REMOTE_SUBDIR_BY_KIND.values())


def test_a_key_is_named_by_a_stable_id_that_does_not_show_it() -> None:
    assert key_id("secret-key") == key_id("secret-key") != key_id("other-key")
    assert "secret" not in str(tenant_folder("secret-key"))


def test_the_root_is_the_default_keys_and_each_key_has_its_own_folder(tmp_path: Path) -> None:
    # Given the root's and both keys' folders, each with an upload sub-folder
    for base in (tmp_path, tmp_path / tenant_folder("k1"), tmp_path / tenant_folder("k2")):
        (base / "transactionImport").mkdir(parents=True)
    # When the folders to scan are listed
    found = list(import_folders(tmp_path, ["k1", "k2"]))
    # Then the root and its sub-folders are k1's (the default), each key's own folder is its own
    assert found == [
        ("k1", tmp_path),
        ("k1", tmp_path / "transactionImport"),
        ("k1", tmp_path / tenant_folder("k1")),
        ("k1", tmp_path / tenant_folder("k1") / "transactionImport"),
        ("k2", tmp_path / tenant_folder("k2")),
        ("k2", tmp_path / tenant_folder("k2") / "transactionImport"),
    ]
