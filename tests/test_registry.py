"""Dataset registry: list_datasets, load_dataset argument checks, file lookup, checksums and downloads.

No test touches the real internet: downloads are served by a local http.server on 127.0.0.1, and an
autouse fixture makes any other URL fail the test.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import urllib.parse
import urllib.request
import zipfile

import pandas as pd
import pytest

import toolkit as tk
from toolkit import config
from toolkit.data import files, registry
from toolkit.data.registry import FileSpec, dataset_path

NAMES = ["uci_facebook_metrics", "uci_live_sellers_thailand", "nyc_agency_social_media_usage"]
CONTENT = b"a,b\n1,2\n3,4\n"
CONTENT_SHA = hashlib.sha256(CONTENT).hexdigest()


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    """Fail loudly if anything tries to open a URL that is not the local test server."""
    real = urllib.request.urlopen

    def guarded(request, *args, **kwargs):
        url = request.full_url if isinstance(request, urllib.request.Request) else str(request)
        host = urllib.parse.urlsplit(url).hostname
        if host != "127.0.0.1":
            raise AssertionError(f"test tried to reach the internet: {url}")
        return real(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)


@pytest.fixture
def raw_dir(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    monkeypatch.setattr(config, "RAW_DIR", raw)
    return raw


@pytest.fixture
def no_mirror(monkeypatch):
    monkeypatch.delenv(config.MIRROR_ENV, raising=False)


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving the folder ``tmp_path / "served"``."""
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _fake_spec(monkeypatch, *, sha=CONTENT_SHA, url=None, member=None, name="uci_facebook_metrics",
               filename="dataset_Facebook.csv"):
    """Point the registry entry of ``name`` at a small test file with a known checksum."""
    spec = FileSpec(name, filename, sha, url, member)
    monkeypatch.setattr(files, "_file_specs", lambda n: {filename: spec})  # dataset_path lives in data/files.py
    return spec


# ---------------------------------------------------------------------------------------------
# list_datasets
# ---------------------------------------------------------------------------------------------
def test_list_datasets_columns_and_rows():
    table = tk.list_datasets()
    assert list(table.columns) == list(registry.LIST_COLUMNS)
    assert table["name"].tolist() == NAMES
    assert table["level"].tolist() == ["post", "post", "account-date"]
    assert table["rows"].tolist() == [500, 7050, 5899]
    assert table["rows"].dtype == "int64"
    assert table.loc[0, "doi"] == "10.1016/j.jbusres.2016.02.010"
    assert table.loc[1, "doi"] == "10.1016/j.dib.2020.105661"
    assert pd.isna(table.loc[2, "doi"])  # NYC Open Data has no DOI: missing, not ""
    assert table[["title", "citation", "licence", "source_url", "caveats"]].ne("").all().all()


def test_list_datasets_does_not_need_the_data(no_mirror, raw_dir):
    assert len(tk.list_datasets()) == 3


def test_registry_pins_a_checksum_for_every_file():
    for name in NAMES:
        specs = registry._file_specs(name)
        assert specs, name
        for spec in specs.values():
            assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0
            if spec.url is not None:
                assert spec.url.startswith("https://")
    assert registry._file_specs("uci_live_sellers_thailand")["seller_codes.csv"].url is None


# ---------------------------------------------------------------------------------------------
# load_dataset argument checks
# ---------------------------------------------------------------------------------------------
def test_unknown_name_lists_names_and_suggests():
    with pytest.raises(ValueError, match=r"load_dataset: `name` must be the name of a registered dataset; "
                                         r"got 'uci_facebook_metric'\. Available datasets: "
                                         r"'uci_facebook_metrics', .*Did you mean 'uci_facebook_metrics'\?"):
        tk.load_dataset("uci_facebook_metric")


def test_unknown_name_without_close_match():
    with pytest.raises(ValueError, match="nyc_agency_social_media_usage") as info:
        tk.load_dataset("iris")
    assert "Did you mean" not in str(info.value)


def test_name_must_be_a_string():
    with pytest.raises(TypeError, match=r"load_dataset: `name` must be a dataset name \(str\); got 'int'"):
        tk.load_dataset(3)


@pytest.mark.parametrize("name, option", [("uci_facebook_metrics", "drop_duplicates"),
                                          ("nyc_agency_social_media_usage", "drop_duplicates"),
                                          ("uci_live_sellers_thailand", "normalize_agencies")])
def test_options_for_other_datasets_are_refused(name, option):
    with pytest.raises(ValueError, match=rf"load_dataset: `{option}` must be False for dataset '{name}'"):
        tk.load_dataset(name, **{option: True})


def test_options_must_be_bool():
    with pytest.raises(TypeError, match=r"`drop_duplicates` must be True or False; got 'yes'"):
        tk.load_dataset("uci_live_sellers_thailand", drop_duplicates="yes")


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        tk.load_dataset("uci_live_sellers_thailand", True)


# ---------------------------------------------------------------------------------------------
# dataset_path: local lookup and checksums
# ---------------------------------------------------------------------------------------------
def test_unknown_filename(no_mirror, raw_dir):
    with pytest.raises(ValueError, match=r"`filename` must be a file of dataset 'uci_live_sellers_thailand'; "
                                         r"got 'seller_code.csv'.*Did you mean 'seller_codes.csv'\?"):
        dataset_path("uci_live_sellers_thailand", "seller_code.csv")


def test_raw_dir_comes_first(monkeypatch, raw_dir, tmp_path):
    _fake_spec(monkeypatch)
    mirror = tmp_path / "mirror"
    (mirror / "uci_facebook_metrics").mkdir(parents=True)
    (mirror / "uci_facebook_metrics" / "dataset_Facebook.csv").write_bytes(b"corrupted")
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    (raw_dir / "uci_facebook_metrics").mkdir()
    local = raw_dir / "uci_facebook_metrics" / "dataset_Facebook.csv"
    local.write_bytes(CONTENT)
    assert dataset_path("uci_facebook_metrics") == local


def test_mirror_is_used_when_raw_is_empty(monkeypatch, raw_dir, tmp_path):
    _fake_spec(monkeypatch)
    mirror = tmp_path / "mirror"
    (mirror / "uci_facebook_metrics").mkdir(parents=True)
    target = mirror / "uci_facebook_metrics" / "dataset_Facebook.csv"
    target.write_bytes(CONTENT)
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    assert dataset_path("uci_facebook_metrics", "dataset_Facebook.csv") == target


def test_corrupted_mirror_fails_loudly(monkeypatch, raw_dir, tmp_path):
    _fake_spec(monkeypatch)
    mirror = tmp_path / "mirror"
    (mirror / "uci_facebook_metrics").mkdir(parents=True)
    (mirror / "uci_facebook_metrics" / "dataset_Facebook.csv").write_bytes(CONTENT + b"5,6\n")
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    got = hashlib.sha256(CONTENT + b"5,6\n").hexdigest()
    with pytest.raises(ValueError, match=rf"the mirror copy of 'dataset_Facebook.csv'.*expected sha256 "
                                         rf"{CONTENT_SHA}, got {got}\. The file is corrupted"):
        dataset_path("uci_facebook_metrics")


def test_corrupted_raw_file_fails_loudly(monkeypatch, raw_dir, no_mirror):
    _fake_spec(monkeypatch)
    (raw_dir / "uci_facebook_metrics").mkdir()
    (raw_dir / "uci_facebook_metrics" / "dataset_Facebook.csv").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"the data/raw copy of 'dataset_Facebook.csv'.*expected sha256"):
        dataset_path("uci_facebook_metrics")


def test_checksum_is_cached_until_the_file_changes(monkeypatch, raw_dir, no_mirror):
    _fake_spec(monkeypatch)
    (raw_dir / "uci_facebook_metrics").mkdir()
    path = raw_dir / "uci_facebook_metrics" / "dataset_Facebook.csv"
    path.write_bytes(CONTENT)
    calls = []
    real = hashlib.sha256

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(files.hashlib, "sha256", counting)
    dataset_path("uci_facebook_metrics")
    dataset_path("uci_facebook_metrics")
    dataset_path("uci_facebook_metrics")
    assert len(calls) == 1
    path.write_bytes(CONTENT.replace(b"1", b"9"))  # same size, new content and mtime
    import os
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ValueError, match="expected sha256"):
        dataset_path("uci_facebook_metrics")
    assert len(calls) == 2


# ---------------------------------------------------------------------------------------------
# dataset_path: downloads (local server only)
# ---------------------------------------------------------------------------------------------
def test_download_with_good_checksum(monkeypatch, raw_dir, no_mirror, server):
    served, base = server
    (served / "file.csv").write_bytes(CONTENT)
    _fake_spec(monkeypatch, url=f"{base}/file.csv")
    path = dataset_path("uci_facebook_metrics")
    assert path == raw_dir / "uci_facebook_metrics" / "dataset_Facebook.csv"
    assert path.read_bytes() == CONTENT
    assert sorted(p.name for p in path.parent.iterdir()) == ["dataset_Facebook.csv"]  # no temp files left
    assert dataset_path("uci_facebook_metrics") == path  # now found locally, no second download


def test_download_from_zip_keeps_only_the_member(monkeypatch, raw_dir, no_mirror, server):
    served, base = server
    with zipfile.ZipFile(served / "bundle.zip", "w") as archive:
        archive.writestr("README.txt", "not this")
        archive.writestr("folder/dataset_Facebook.csv", CONTENT)
    _fake_spec(monkeypatch, url=f"{base}/bundle.zip", member="dataset_Facebook.csv")
    path = dataset_path("uci_facebook_metrics")
    assert path.read_bytes() == CONTENT
    assert sorted(p.name for p in path.parent.iterdir()) == ["dataset_Facebook.csv"]


def test_download_with_bad_checksum_is_deleted(monkeypatch, raw_dir, no_mirror, server):
    served, base = server
    (served / "file.csv").write_bytes(CONTENT + b"tampered\n")
    _fake_spec(monkeypatch, url=f"{base}/file.csv")
    got = hashlib.sha256(CONTENT + b"tampered\n").hexdigest()
    with pytest.raises(ValueError, match=rf"the downloaded 'dataset_Facebook.csv'.*expected sha256 "
                                         rf"{CONTENT_SHA}, got {got}\. The download was deleted"):
        dataset_path("uci_facebook_metrics")
    assert not (raw_dir / "uci_facebook_metrics").exists()  # data/raw left as it was


def test_zip_without_the_member(monkeypatch, raw_dir, no_mirror, server):
    served, base = server
    with zipfile.ZipFile(served / "bundle.zip", "w") as archive:
        archive.writestr("other.csv", CONTENT)
    _fake_spec(monkeypatch, url=f"{base}/bundle.zip", member="dataset_Facebook.csv")
    with pytest.raises(FileNotFoundError, match=r"has no member 'dataset_Facebook.csv'"):
        dataset_path("uci_facebook_metrics")
    assert not (raw_dir / "uci_facebook_metrics").exists()


def test_nothing_found_names_all_three_places(monkeypatch, raw_dir, tmp_path, server):
    served, base = server  # serves an empty folder: the download gets HTTP 404
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    _fake_spec(monkeypatch, url=f"{base}/missing.csv")
    with pytest.raises(FileNotFoundError) as info:
        dataset_path("uci_facebook_metrics")
    text = str(info.value)
    assert text.startswith("dataset_path: a local copy or a download of 'dataset_Facebook.csv'")
    assert f"1) {raw_dir / 'uci_facebook_metrics' / 'dataset_Facebook.csv'} (not found)" in text
    assert f"2) {mirror / 'uci_facebook_metrics' / 'dataset_Facebook.csv'} (not found" in text
    assert f"3) download from {base}/missing.csv failed: HTTP 404" in text


def test_unset_mirror_and_refused_connection(monkeypatch, raw_dir, no_mirror):
    import socket

    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _fake_spec(monkeypatch, url=f"http://127.0.0.1:{port}/x.csv")
    with pytest.raises(FileNotFoundError, match=r"2\) the mirror folder: TOOLKIT_DATA_MIRROR is not set; "
                                                r"3\) download from http://127.0.0.1:\d+/x.csv failed"):
        dataset_path("uci_facebook_metrics")


def test_download_can_be_switched_off(monkeypatch, raw_dir, no_mirror, server):
    served, base = server
    (served / "file.csv").write_bytes(CONTENT)
    _fake_spec(monkeypatch, url=f"{base}/file.csv")
    with pytest.raises(FileNotFoundError, match=r"was not attempted \(download=False\)"):
        dataset_path("uci_facebook_metrics", download=False)
    assert not (raw_dir / "uci_facebook_metrics" / "dataset_Facebook.csv").exists()


def test_derived_file_without_download_explains_how_to_rebuild(raw_dir, no_mirror):
    with pytest.raises(FileNotFoundError, match=r"3\) no public download: 'seller_codes.csv' is derived by this "
                                                r"project, not published; rebuild it as described in the "
                                                r"dataset's SOURCE.md"):
        dataset_path("uci_live_sellers_thailand", "seller_codes.csv")


# ---------------------------------------------------------------------------------------------
# dataset_files (used by tk.reporting.session_info)
# ---------------------------------------------------------------------------------------------
def test_dataset_files_lists_every_file_without_downloading(raw_dir, no_mirror):
    files = registry.dataset_files()
    expected = [(name, filename) for name in NAMES for filename in registry._file_specs(name)]
    assert [(n, f) for n, f, _, _ in files] == expected
    assert all(path is None and sha is None for _, _, path, sha in files)


def test_dataset_files_reports_the_actual_digest(monkeypatch, raw_dir, no_mirror):
    _fake_spec(monkeypatch)
    (raw_dir / "uci_facebook_metrics").mkdir()
    path = raw_dir / "uci_facebook_metrics" / "dataset_Facebook.csv"
    path.write_bytes(b"not the registered bytes")
    rows = {n: (p, s) for n, _, p, s in registry.dataset_files()}
    assert rows["uci_facebook_metrics"] == (path, hashlib.sha256(b"not the registered bytes").hexdigest())


# ---------------------------------------------------------------------------------------------
# end to end: a bad copy never reaches the analysis (no real data needed)
# ---------------------------------------------------------------------------------------------
def test_load_dataset_refuses_a_corrupted_mirror(monkeypatch, raw_dir, tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "uci_facebook_metrics").mkdir(parents=True)
    (mirror / "uci_facebook_metrics" / "dataset_Facebook.csv").write_bytes(b"Type;like\nPhoto;1\n")
    monkeypatch.setenv(config.MIRROR_ENV, str(mirror))
    expected = registry._file_specs("uci_facebook_metrics")["dataset_Facebook.csv"].sha256
    with pytest.raises(ValueError, match=rf"mirror copy of 'dataset_Facebook.csv'.*expected sha256 {expected}"):
        tk.load_dataset("uci_facebook_metrics")


def test_nyc_adapter_checks_the_header(monkeypatch, tmp_path):
    from toolkit.data import datasets

    path = tmp_path / "NYC_Social_Media_Usage.csv"
    path.write_text("Agency,Platform,Url,Date,Value\nDOT,Facebook,x,12/12/2012 12:00:00 AM,5\n")
    monkeypatch.setattr(datasets, "dataset_path", lambda name, filename=None: path)
    with pytest.raises(ValueError, match=r"load_nyc_agency_social_media_usage: a file with columns "
                                         r"\['Agency', 'Platform', 'Url', 'Date Sampled'.*not the registered"):
        tk.load_dataset("nyc_agency_social_media_usage")
