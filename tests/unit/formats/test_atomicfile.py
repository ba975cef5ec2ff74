"""formats/atomicfile.py: replacing a file whole (replace_text) and removing a killed writer's leftovers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from postmock_nb.formats import atomicfile
from postmock_nb.formats.atomicfile import TEMP_SUFFIX, remove_leftovers, replace_text


def _names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_replace_text_creates_a_new_file_and_returns_its_path(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    assert replace_text(target, '{"a": 1}') == target
    assert target.read_text(encoding="utf-8") == '{"a": 1}'
    assert _names(tmp_path) == ["out.json"]


def test_replace_text_accepts_a_string_path_and_creates_missing_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c.txt"
    assert replace_text(str(target), "deep") == target
    assert target.read_text(encoding="utf-8") == "deep"


def test_replace_text_replaces_the_old_content_whole(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("a much longer old content than the new one\n" * 50, encoding="utf-8")
    replace_text(target, "short")
    assert target.read_text(encoding="utf-8") == "short"
    assert _names(tmp_path) == ["file.txt"]


def test_replace_text_writes_utf8(tmp_path: Path) -> None:
    target = tmp_path / "utf.txt"
    replace_text(target, "café ☕ 𝄞")
    assert target.read_bytes() == "café ☕ 𝄞".encode()


def test_replace_text_writes_an_empty_file(tmp_path: Path) -> None:
    target = tmp_path / "empty.txt"
    replace_text(target, "")
    assert target.exists() and target.read_bytes() == b""


def test_replace_text_writes_content_larger_than_one_write(tmp_path: Path) -> None:
    text = "0123456789abcdef" * 200_000  # 3.2 MB: more than one os.write may take
    target = tmp_path / "big.txt"
    replace_text(target, text)
    assert target.read_text(encoding="utf-8") == text


def test_replace_text_keeps_the_old_files_permissions(tmp_path: Path) -> None:
    target = tmp_path / "private.txt"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o600)
    replace_text(target, "new")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_text(encoding="utf-8") == "new"


def test_a_new_file_gets_the_default_mode_less_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        replace_text(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o666 & ~0o027


def test_the_named_fallback_writes_the_file_and_leaves_no_temporary(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atomicfile, "_nameless", lambda directory: None)  # a system without O_TMPFILE
    target = tmp_path / "plain.txt"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)
    replace_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert _names(tmp_path) == ["plain.txt"]


def test_the_named_fallback_removes_its_temporary_when_the_rename_fails(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atomicfile, "_nameless", lambda directory: None)
    target = tmp_path / "is-a-folder"
    target.mkdir()
    (target / "inside").write_text("keeps the folder non-empty", encoding="utf-8")
    with pytest.raises(OSError):
        replace_text(target, "cannot replace a folder")
    assert _names(tmp_path) == ["is-a-folder"]


def test_remove_leftovers_deletes_only_the_temporaries_of_that_file(tmp_path: Path) -> None:
    target = tmp_path / "rec.json"
    target.write_text("{}", encoding="utf-8")
    mine = [tmp_path / f".rec.json.0000abcd{TEMP_SUFFIX}", tmp_path / f".rec.json.ffff0000{TEMP_SUFFIX}"]
    others = [tmp_path / f".other.json.0000abcd{TEMP_SUFFIX}", tmp_path / ".rec.json.0000abcd.tmp"]
    for path in mine + others:
        path.write_text("half", encoding="utf-8")
    assert remove_leftovers(target) == sorted(mine)
    assert _names(tmp_path) == sorted(["rec.json", *(path.name for path in others)])


def test_remove_leftovers_treats_glob_characters_in_the_name_literally(tmp_path: Path) -> None:
    leftover = tmp_path / f".a[1].json.12345678{TEMP_SUFFIX}"
    unrelated = tmp_path / f".a1.json.12345678{TEMP_SUFFIX}"
    leftover.write_text("", encoding="utf-8")
    unrelated.write_text("", encoding="utf-8")
    assert remove_leftovers(tmp_path / "a[1].json") == [leftover]
    assert unrelated.exists()


def test_remove_leftovers_of_a_file_in_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert remove_leftovers(tmp_path / "nowhere" / "x.json") == []


def test_remove_leftovers_when_there_are_none(tmp_path: Path) -> None:
    replace_text(tmp_path / "x.json", "{}")
    assert remove_leftovers(tmp_path / "x.json") == []
    assert _names(tmp_path) == ["x.json"]


def test_replace_text_writes_through_a_symbolic_link_and_keeps_it(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "api.yaml"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "api.yaml"
    link.symlink_to(real)
    assert replace_text(link, "new") == real
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"


def test_replace_text_refuses_a_device_a_pipe_or_a_directory_and_leaves_it(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    stdout = tmp_path / "stdout"  # as /dev/stdout is: a link to what is no file (replaced, it was lost)
    stdout.symlink_to(pipe)
    for refused in (pipe, stdout):
        with pytest.raises(OSError, match="not a regular file: only a file is written, whole"):
            replace_text(refused, "text")
        assert stat.S_ISFIFO(os.stat(refused).st_mode)
    with pytest.raises(IsADirectoryError, match="a directory"):
        replace_text(tmp_path, "text")
    assert stdout.is_symlink() and _names(tmp_path) == ["pipe", "stdout"]
