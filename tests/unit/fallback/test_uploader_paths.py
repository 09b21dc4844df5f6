"""Remote paths: only plain names inside the configured folder, checked before connecting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fallback.uploaders import UnsafeRemotePath, UploadRejected, resolve_remote, temp_name_for
from fallback.uploaders.paths import check_base_dir

NAME = "20261124101500_1_transactions.xml"


def test_a_plain_name_goes_to_the_folder_with_a_dot_part_temp_name() -> None:
    # Given an import file name and a sub-folder, When resolved under /integration
    location = resolve_remote("/integration", "transactionImport", NAME)
    # Then final and temp names sit side by side in the folder
    assert location.folder == "/integration/transactionImport"
    assert location.final == f"/integration/transactionImport/{NAME}"
    assert location.temp == f"/integration/transactionImport/.{NAME}.part"
    assert temp_name_for(NAME) == f".{NAME}.part"


def test_the_folders_an_upload_may_create_lie_below_the_configured_folder() -> None:
    assert resolve_remote("/integration", "a/b", NAME).folders_below_base() == [
        "/integration/a",
        "/integration/a/b",
    ]
    assert resolve_remote("/", "transactionImport", NAME).folders_below_base() == ["/transactionImport"]
    assert resolve_remote("/integration/", "", NAME).folders_below_base() == []
    assert resolve_remote("/integration/", "", NAME).base == "/integration"


def test_root_folder_and_no_subfolder() -> None:
    assert resolve_remote("/", "", NAME).final == f"/{NAME}"
    assert resolve_remote("/integration/", "", NAME).final == f"/integration/{NAME}"


@pytest.mark.parametrize(
    "name",
    [
        "../x.xml",
        "..",
        "/etc/passwd.xml",
        "a/b.xml",
        "a\\b.xml",
        "a\x00.xml",
        "a.xml\r\nDELE x",
        ".hidden.xml",
        "x.xml.part",
        "x.exe",
        "x",
        "",
        " x.xml",
        "x" * 300 + ".xml",
    ],
)
def test_unsafe_names_are_rejected(name: str) -> None:
    with pytest.raises(UnsafeRemotePath):
        resolve_remote("/integration", "", name)


@pytest.mark.parametrize(
    "subdir", ["..", "../x", "a/../../b", "/abs", "a//b", "a/", "a\\b", "a\x00", ".hidden", "a/./b", "a b"]
)
def test_unsafe_subfolders_are_rejected(subdir: str) -> None:
    with pytest.raises(UnsafeRemotePath):
        resolve_remote("/integration", subdir, NAME)


@pytest.mark.parametrize("base", ["relative", "/a/../b", "/a\\b", "/a\nb", ""])
def test_unsafe_configured_folders_are_refused(base: str) -> None:
    with pytest.raises(ValueError, match="remote_dir"):
        check_base_dir(base)
    with pytest.raises(UnsafeRemotePath):
        resolve_remote(base, "", NAME)


def test_unsafe_path_is_a_rejection_needing_an_operator() -> None:
    assert issubclass(UnsafeRemotePath, UploadRejected)


@given(st.text(max_size=40), st.text(max_size=40))
def test_any_accepted_path_stays_inside_the_folder(subdir: str, name: str) -> None:
    # Given arbitrary text for sub-folder and name, When it is accepted at all
    try:
        location = resolve_remote("/integration", subdir, name)
    except UnsafeRemotePath:
        return
    # Then both paths are normalised and strictly inside /integration
    for path in (location.final, location.temp):
        assert path.startswith("/integration/")
        assert ".." not in path.split("/")
        assert "\\" not in path and "\x00" not in path and "\n" not in path
