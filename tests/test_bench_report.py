"""Unit tests of benchmarks/_report.write_section (the shared section writer of the bench scripts)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "_bench_report", Path(__file__).resolve().parents[1] / "benchmarks" / "_report.py")
_report = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_report)
write_section = _report.write_section


def test_creates_file_with_header_and_section(tmp_path):
    path = tmp_path / "sub" / "benchmarks.md"
    out = write_section("Alpha", "| a |\n|---|\n| 1 |", path=path)
    assert out == path
    assert path.read_text() == ("# Benchmarks\n\n<!-- Alpha: begin -->\n## Alpha\n\n| a |\n|---|\n| 1 |\n"
                                "<!-- Alpha: end -->\n")


def test_appends_a_new_section_and_keeps_the_others(tmp_path):
    path = tmp_path / "benchmarks.md"
    write_section("Alpha", "first table", path=path)
    write_section("Beta", "second table", path=path)
    text = path.read_text()
    assert text.count("<!-- Alpha: begin -->") == 1 and text.count("<!-- Beta: begin -->") == 1
    assert text.index("## Alpha") < text.index("## Beta")
    assert "first table" in text and "second table" in text


def test_replaces_only_its_own_section(tmp_path):
    path = tmp_path / "benchmarks.md"
    write_section("Alpha", "old alpha", path=path)
    write_section("Beta", "beta body", path=path)
    write_section("Gamma", "gamma body", path=path)
    before = path.read_text()
    write_section("Beta", "new beta\nwith two lines", path=path)
    after = path.read_text()
    assert "beta body" not in after and "new beta\nwith two lines" in after
    assert after.count("## Beta") == 1
    # everything outside Beta's markers is unchanged, and the order of sections is kept
    b0, b1 = "<!-- Beta: begin -->", "<!-- Beta: end -->"
    assert before.split(b0)[0] == after.split(b0)[0]
    assert before.split(b1)[1] == after.split(b1)[1]
    assert after.index("## Alpha") < after.index("## Beta") < after.index("## Gamma")
    # replacing twice with the same body is idempotent
    write_section("Beta", "new beta\nwith two lines", path=path)
    assert path.read_text() == after


def test_keeps_foreign_text_and_similar_titles(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\nHand-written note.\n\n<!-- Alpha extra: begin -->\n## Alpha extra\n\nx\n"
                    "<!-- Alpha extra: end -->\n")
    write_section("Alpha", "mine", path=path)
    text = path.read_text()
    assert "Hand-written note." in text
    assert "## Alpha extra\n\nx\n" in text and "## Alpha\n\nmine\n" in text
    write_section("Alpha", "mine again", path=path)
    text = path.read_text()
    assert "## Alpha extra\n\nx\n" in text and "mine again" in text and "\nmine\n" not in text


def test_compatible_with_bench_scan_sections(tmp_path):
    # the format bench_scan.py writes with its own helper: same markers, so either helper can replace it
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n<!-- Scan (bench_scan.py): begin -->\n## Scan (bench_scan.py)\n\nold\n"
                    "<!-- Scan (bench_scan.py): end -->\n")
    write_section("Scan (bench_scan.py)", "new", path=path)
    assert path.read_text() == ("# Benchmarks\n\n<!-- Scan (bench_scan.py): begin -->\n## Scan (bench_scan.py)\n"
                                "\nnew\n<!-- Scan (bench_scan.py): end -->\n")


@pytest.mark.parametrize("title", ["", "two\nlines", "bad --> title"])
def test_rejects_bad_titles(tmp_path, title):
    with pytest.raises(ValueError, match="write_section: `title` must be a non-empty one-line string"):
        write_section(title, "body", path=tmp_path / "b.md")
    assert not (tmp_path / "b.md").exists()


def test_rejects_non_string_title(tmp_path):
    with pytest.raises(TypeError, match="write_section: `title` must be a string; got 3"):
        write_section(3, "body", path=tmp_path / "b.md")


def test_tee_section_prints_and_writes(tmp_path, capsys):
    target = tmp_path / "bench.md"
    with _report.tee_section("Tee", path=target):
        print("| a | b |")
    assert "| a | b |" in capsys.readouterr().out
    assert "| a | b |" in target.read_text() and "<!-- Tee: begin -->" in target.read_text()
    try:
        with _report.tee_section("Failed", path=target):
            print("partial")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert "Failed" not in target.read_text()
