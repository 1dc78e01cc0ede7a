"""`trustbubble serve --certfile --keyfile`: HTTPS with TLS 1.2 or newer, as TAXII 2.1 requires,
with a certificate the test makes; clear errors for a bad pair."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.live_node import CLI, free_port, node_env, run_cli, stop_node

TAXII = "application/taxii+json;version=2.1"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "node.crt", directory / "node.key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def https_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = make_certificate(directory)
    env = node_env(f"sqlite:///{directory / 'node.sqlite3'}")
    run_cli(env, "db", "upgrade")
    port = free_port()
    with (directory / "out.log").open("wb") as out, (directory / "err.log").open("wb") as err:
        process = subprocess.Popen(
            [
                str(CLI),
                "serve",
                "--port",
                str(port),
                "--certfile",
                str(cert),
                "--keyfile",
                str(key),
            ],
            env=env,
            cwd=directory,
            stdout=out,
            stderr=err,
        )
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(
                    base + "/taxii2/",
                    verify=ssl.create_default_context(cafile=str(cert)),
                    timeout=2,
                )
                break
            except httpx2.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((directory / "err.log").read_text()) from None
                time.sleep(0.1)
        yield base, cert
    finally:
        stop_node(process)


def test_the_node_serves_taxii_over_https(https_node: tuple[str, Path]) -> None:
    base, cert = https_node
    response = httpx2.get(
        base + "/taxii2/",
        headers={"Accept": TAXII},
        verify=ssl.create_default_context(cafile=str(cert)),
    )
    assert response.status_code == 200
    assert response.json()["api_roots"] == ["/taxii2/bubbles/"]


def _handshake(base: str, cert: Path, newest: ssl.TLSVersion) -> str:
    context = ssl.create_default_context(cafile=str(cert))
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.maximum_version = newest
    port = int(base.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        return str(tls.version())


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_2_and_1_3_are_served_and_older_versions_refused(
    https_node: tuple[str, Path],
) -> None:
    base, cert = https_node
    assert _handshake(base, cert, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert _handshake(base, cert, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    with pytest.raises(ssl.SSLError):
        _handshake(base, cert, ssl.TLSVersion.TLSv1_1)


def test_a_bad_certificate_pair_is_refused_before_serving(tmp_path: Path) -> None:
    cert, _key = make_certificate(tmp_path)
    (tmp_path / "other").mkdir()
    _other_cert, other_key = make_certificate(tmp_path / "other")
    env = node_env(f"sqlite:///{tmp_path / 'node.sqlite3'}")
    for args, says in (
        (["--certfile", str(cert)], "needs both --certfile and --keyfile"),
        (["--certfile", str(cert), "--keyfile", str(tmp_path / "absent.pem")], "no such file"),
        (["--certfile", str(cert), "--keyfile", str(other_key)], "do not load together"),
    ):
        result = subprocess.run(
            [str(CLI), "serve", "--port", str(free_port()), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1, result.stderr
        assert says in result.stderr
