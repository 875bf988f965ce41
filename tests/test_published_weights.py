"""Pretrained weights by name: the table, the cached download (resume, verification, atomic
writes, errors that say what to do by hand) and ``edgedet train --weights tf_efficientdet_d0``.

No internet: a loopback HTTP server serves the effdet-format fixture under the published file
name, and the table's row is pointed at it (with the fixture's own sha256 prefix).
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from edgedet import configs
from edgedet.errors import DownloadError, InvalidInputError
from edgedet.metadata import ModelMetadata
from edgedet.pretrained import download, published, resolve
from effdet_fixtures import require_effdet_dir

NAME = "tf_efficientdet_d0"
REAL = published.get_published(NAME)


class _Handler(BaseHTTPRequestHandler):
    """GET of the served files; ``server.cuts`` says how many bytes each response sends before
    closing (None: all), ``server.honour_range`` whether Range requests get a 206."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        srv = self.server
        asked = self.headers.get("Range")
        srv.requests.append((self.path, asked))
        body = srv.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        if asked and srv.honour_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", asked).group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        part = body[start:]
        cut = srv.cuts.pop(0) if srv.cuts else None
        if srv.always_cut:
            cut = len(part) // 2
        self.wfile.write(part if cut is None else part[:cut])
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def fixture_file() -> Path:
    return require_effdet_dir() / "tf_efficientdet_d0.state_dict.pt"


@pytest.fixture
def server(fixture_file):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files = {f"/v0.1/{REAL.filename}": fixture_file.read_bytes()}
    srv.requests, srv.cuts, srv.honour_range, srv.always_cut = [], [], True, False
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(download.CACHE_ENV, str(folder))
    monkeypatch.setattr(download, "RETRY_DELAY_S", 0.0)
    return folder


def _point_row_at(monkeypatch, server, fixture_file, path: str = None, prefix: str = None):
    """Make the table's tf_efficientdet_d0 row download from the loopback server."""
    host, port = server.server_address
    url = f"http://{host}:{port}{path or '/v0.1/' + REAL.filename}"
    digest = hashlib.sha256(fixture_file.read_bytes()).hexdigest()
    row = dataclasses.replace(REAL, url=url, sha256_prefix=prefix or digest[:8])
    monkeypatch.setattr(published, "PUBLISHED",
                        tuple(row if r.name == NAME else r for r in published.PUBLISHED))
    return row


def _all_files(folder: Path) -> list[str]:
    """Every file under ``folder``, hidden temporaries included."""
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# -- the table ----------------------------------------------------------------------------
@pytest.mark.fast
def test_table_rows_are_consistent():
    assert len(set(published.NAMES)) == len(published.NAMES) >= 5
    for row in published.PUBLISHED:
        stem = row.filename[:-len(".pth")]
        assert row.url.startswith("https://github.com/rwightman/efficientdet-pytorch/releases/download/")
        assert row.filename.endswith(".pth") and stem.endswith("-" + row.sha256_prefix), row
        assert re.fullmatch(r"[0-9a-f]{8}", row.sha256_prefix)
        assert row.model in configs.SUPPORTED_FOR_TRAINING and row.variant in ("tf", "pytorch")
        assert row.name.startswith("tf_") == (row.variant == "tf")
        assert row.num_classes == 90
    assert published.get_published("efficientdet_d1").filename == "efficientdet_d1-bb7e98fe.pth"
    with pytest.raises(InvalidInputError, match="tf_efficientdet_d0, tf_efficientdet_d1"):
        published.get_published("yolo11n")


@pytest.mark.fast
@pytest.mark.parametrize("command", ["train", "import"])
def test_help_lists_every_name(command, capsys):
    from edgedet.cli import main

    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")
    for name in published.NAMES:
        assert name in text, name


@pytest.mark.fast
def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(download.CACHE_ENV, raising=False)
    assert download.cache_dir() == Path.home() / ".cache" / "edgedet"
    monkeypatch.setenv(download.CACHE_ENV, str(tmp_path / "elsewhere"))
    assert download.cache_dir() == tmp_path / "elsewhere"
    assert resolve.download_path(REAL) == tmp_path / "elsewhere" / "tf_efficientdet_d0_34-f153e0cf.pth"


# -- downloading --------------------------------------------------------------------------
@pytest.mark.fast
def test_download_once_then_cached(server, cache, fixture_file, monkeypatch):
    row = _point_row_at(monkeypatch, server, fixture_file)
    got = resolve.import_source(NAME)
    assert got == cache / REAL.filename
    assert got.read_bytes() == fixture_file.read_bytes()
    assert server.requests == [(f"/v0.1/{REAL.filename}", None)]
    assert resolve.import_source(NAME) == got  # second resolve: no request
    assert len(server.requests) == 1
    assert _all_files(cache) == [REAL.filename]
    assert row.url.startswith("http://127.0.0.1:")


@pytest.mark.fast
def test_interrupted_transfer_resumes_with_range(server, cache, fixture_file, monkeypatch):
    _point_row_at(monkeypatch, server, fixture_file)
    size = fixture_file.stat().st_size
    server.cuts = [size // 2, size // 4]  # two drops, then the rest
    got = resolve.import_source(NAME)
    assert got.read_bytes() == fixture_file.read_bytes()
    ranges = [r for _, r in server.requests]
    assert ranges == [None, f"bytes={size // 2}-", f"bytes={size // 2 + size // 4}-"]
    assert _all_files(cache) == [REAL.filename]


@pytest.mark.fast
def test_server_ignoring_range_starts_over(server, cache, fixture_file, monkeypatch):
    _point_row_at(monkeypatch, server, fixture_file)
    server.honour_range, server.cuts = False, [1000]
    got = resolve.import_source(NAME)
    assert got.read_bytes() == fixture_file.read_bytes()  # not 1000 bytes + the whole file
    assert [r for _, r in server.requests] == [None, "bytes=1000-"]


@pytest.mark.fast
def test_server_that_always_cuts_leaves_nothing(server, cache, fixture_file, monkeypatch):
    row = _point_row_at(monkeypatch, server, fixture_file)
    server.always_cut = True
    with pytest.raises(DownloadError) as info:
        resolve.import_source(NAME)
    message = str(info.value)
    assert f"after {download.ATTEMPTS} attempts" in message and "connection closed" in message
    assert row.url in message and str(cache / REAL.filename) in message
    assert len(server.requests) == download.ATTEMPTS
    assert _all_files(cache) == []


@pytest.mark.fast
def test_wrong_hash_leaves_nothing(server, cache, fixture_file, monkeypatch):
    _point_row_at(monkeypatch, server, fixture_file, prefix="00000000")
    with pytest.raises(DownloadError, match="nothing was kept: its sha256 starts [0-9a-f]{8}, expected 00000000"):
        resolve.import_source(NAME)
    assert _all_files(cache) == []


@pytest.mark.fast
def test_404_names_url_and_cache_path(server, cache, fixture_file, monkeypatch):
    row = _point_row_at(monkeypatch, server, fixture_file, path="/missing/" + REAL.filename)
    with pytest.raises(DownloadError) as info:
        resolve.weights_checkpoint(NAME)
    message = str(info.value)
    assert "HTTP 404" in message and row.url in message
    assert f"put it at {cache / REAL.filename}" in message
    assert info.value.url == row.url and info.value.path == str(cache / REAL.filename)
    assert len(server.requests) == 1  # a 404 is not retried
    assert _all_files(cache) == []


@pytest.mark.fast
def test_offline_is_a_download_error(cache, fixture_file, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    row = dataclasses.replace(REAL, url=f"http://127.0.0.1:{port}/v0.1/{REAL.filename}")
    monkeypatch.setattr(published, "PUBLISHED", (row,))
    with pytest.raises(DownloadError, match=f"cannot reach {re.escape(row.url)}.*put it at"):
        resolve.import_source(NAME)
    assert _all_files(cache) == []


@pytest.mark.fast
def test_hand_placed_file_is_used(server, cache, fixture_file, monkeypatch):
    _point_row_at(monkeypatch, server, fixture_file)
    cache.mkdir()
    shutil.copy(fixture_file, cache / REAL.filename)
    assert resolve.import_source(NAME) == cache / REAL.filename
    assert server.requests == []


@pytest.mark.fast
def test_hand_placed_wrong_file_is_refused(server, cache, fixture_file, monkeypatch):
    _point_row_at(monkeypatch, server, fixture_file)
    cache.mkdir()
    (cache / REAL.filename).write_bytes(b"not the checkpoint")
    with pytest.raises(DownloadError, match="is not the published file.*expected [0-9a-f]{8}.*put it at"):
        resolve.import_source(NAME)
    assert server.requests == []


@pytest.mark.fast
def test_unknown_value_lists_the_names(cache):
    with pytest.raises(InvalidInputError) as info:
        resolve.weights_checkpoint("tf_efficientdet_d9")
    assert "no such file, and not a published checkpoint name" in str(info.value)
    assert all(name in str(info.value) for name in published.NAMES)


# -- importing and training ---------------------------------------------------------------
def test_weights_by_name_imports_once(server, cache, fixture_file, monkeypatch):
    import torch

    from edgedet.checkpoint import read_checkpoint

    _point_row_at(monkeypatch, server, fixture_file)
    got = resolve.weights_checkpoint(NAME, progress=False)
    assert got == cache / "tf_efficientdet_d0_34-f153e0cf.edgedet.pt"
    assert _all_files(cache) == sorted([REAL.filename, got.name])
    state = read_checkpoint(got)
    meta = ModelMetadata.from_dict(state["metadata"])
    assert meta.model == "d0" and meta.num_classes == 90 and meta.variant.padding == "tf_same"
    source = torch.load(fixture_file, map_location="cpu", weights_only=True)
    for theirs, ours in (("backbone.conv_stem.weight", "backbone.stem.0.weight"),
                         ("class_net.predict.conv_pw.weight", "class_net.predict.pointwise.weight"),
                         ("box_net.predict.conv_pw.bias", "box_net.predict.pointwise.bias")):
        assert torch.equal(state["model"][ours], source[theirs]), ours

    def no_import(*args, **kwargs):
        raise AssertionError("imported again")

    monkeypatch.setattr("edgedet.pretrained.importer.import_weights", no_import)
    assert resolve.weights_checkpoint(NAME) == got  # no request, no import
    assert len(server.requests) == 1


def test_legacy_torch_format_imports(fixture_file, tmp_path):
    """effdet's 2020 releases may be in torch's pre-zip format; the importer reads it."""
    import torch

    from edgedet.pretrained.importer import read_state_dict

    legacy = tmp_path / "legacy.pth"
    state = torch.load(fixture_file, map_location="cpu", weights_only=True)
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    back = read_state_dict(legacy)
    assert back.keys() == state.keys() and all(torch.equal(back[k], state[k]) for k in state)


def test_import_command_takes_a_name(server, cache, fixture_file, monkeypatch, tmp_path, capsys):
    from edgedet.cli import main

    _point_row_at(monkeypatch, server, fixture_file)
    out = tmp_path / "d0_coco.pt"
    assert main(["import", NAME, "--out", str(out)]) == 0
    assert out.is_file() and (cache / REAL.filename).is_file()
    assert "wrote" in capsys.readouterr().out
    assert main(["import", NAME, "--out", str(out)]) == 2  # exists: refused before any download
    assert len(server.requests) == 1


def test_train_with_weights_by_name(server, cache, fixture_file, monkeypatch, tmp_path, capsys):
    from edgedet.checkpoint import read_checkpoint
    from edgedet.cli import main
    from edgedet.data.synth import generate_dataset

    _point_row_at(monkeypatch, server, fixture_file)
    data = generate_dataset(tmp_path / "shapes", 4, "coco", seed=1, image_size=(160, 128))
    run = tmp_path / "run"
    rc = main(["train", "--weights", NAME, "--data", str(data), "--epochs", "1", "--batch", "2",
               "--imgsz", "128", "--workers", "0", "--threads", "1", "--val-split", "none",
               "--scale", "1", "1", "--out", str(run)])
    assert rc == 0, capsys.readouterr().err
    assert "backbone, BiFPN and box head kept" in capsys.readouterr().out
    assert len(server.requests) == 1
    assert (cache / "tf_efficientdet_d0_34-f153e0cf.edgedet.pt").is_file()
    trained = read_checkpoint(run / "last.pt")
    meta = ModelMetadata.from_dict(trained["metadata"])
    assert meta.model == "d0" and meta.variant.padding == "tf_same" and meta.num_classes == 4
    assert meta.anchors.aspect_multipliers == ((1.0, 1.0), (1.4, 0.7), (0.7, 1.4))  # effdet's
    assert trained["epoch"] == 1
    assert trained["train_config"]["weights"] == str(cache / "tf_efficientdet_d0_34-f153e0cf.edgedet.pt")


@pytest.mark.fast
def test_byte_progress_without_tqdm(monkeypatch, capsys):
    import sys

    from edgedet.progress import byte_progress

    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    bar = byte_progress(4 << 20, "file.pth", initial=1 << 20)
    bar.last -= 3.0  # as if the last line were 3 s old
    bar.update(1 << 20)
    bar.close()
    assert "file.pth 2.0/4.0 MiB" in capsys.readouterr().err
