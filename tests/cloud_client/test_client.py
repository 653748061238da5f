"""The client's rules: TLS always verified, plain http only to loopback and only when asked, timeouts."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import threading

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloud_client.client import CloudClient, CloudUnreachable, InsecureServerAddress, Timeouts, UntrustedServer
from tests.support.cloud import settings_for
from tests.support.waiting import wait_until
from training.service.main import create_app


@pytest.mark.parametrize("url", ["http://192.168.1.20:8765", "http://cloud.example.org", "ftp://127.0.0.1",
                                 "127.0.0.1:8765"])
def test_plain_http_to_another_machine_is_refused_even_when_asked(url):
    with pytest.raises(InsecureServerAddress):
        CloudClient(url, allow_http=True)


def test_plain_http_to_loopback_must_be_asked_for():
    with pytest.raises(InsecureServerAddress, match="explicitly"):
        CloudClient("http://127.0.0.1:8765")
    assert CloudClient("http://127.0.0.1:8765", allow_http=True).base_url == "http://127.0.0.1:8765"
    assert CloudClient("http://[::1]:8765/", allow_http=True).base_url == "http://[::1]:8765"


def _self_signed(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the team's cloud")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_service(tmp_path):
    cert_file, key_file = _self_signed(tmp_path)
    config = uvicorn.Config(create_app(settings_for(tmp_path / "cloud")), host="127.0.0.1", port=0, log_level="error",
                            ssl_certfile=str(cert_file), ssl_keyfile=str(key_file))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tls-service")
    thread.start()
    wait_until(lambda: server.started, 30.0, "the TLS service to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}", cert_file
    server.should_exit = True
    thread.join(15.0)


def test_a_server_with_an_unknown_certificate_is_refused(tls_service):
    url, _ = tls_service
    with CloudClient(url) as client, pytest.raises(UntrustedServer, match="not trusted"):
        client.health()


def test_the_same_server_is_accepted_once_its_certificate_is_the_trusted_one(tls_service):
    url, cert_file = tls_service
    with CloudClient(url, ca_file=cert_file) as client:
        assert client.health() == {"status": "ok"}


def test_a_server_that_never_answers_times_out_instead_of_hanging():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        with CloudClient(f"http://127.0.0.1:{port}", allow_http=True,
                         timeouts=Timeouts(connect_s=1.0, read_s=0.3)) as client:
            with pytest.raises(CloudUnreachable, match="did not answer"):
                client.health()


def test_tls_verification_cannot_be_switched_off():
    with pytest.raises(TypeError):
        CloudClient("https://127.0.0.1", verify=False)  # there is no such option
