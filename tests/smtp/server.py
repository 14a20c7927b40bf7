"""A real SMTP server for driftwall's email tests (aiosmtpd).

STARTTLS required (or implicit TLS with --implicit-tls), AUTH required (one
user and password), Maildir delivery, on 127.0.0.1 at the given port. The
test CA and server certificate are made here (with `cryptography`) into
--certs unless they are there already. Recipients whose address starts with
`rejected` are refused with 550. With --never-greet it accepts TCP
connections and says nothing, ever (a hung server). With --fail-data drop it
closes the connection when the message's data has come, before answering
it; with --fail-data hang it never answers the data (a server that hangs in
the middle of the session). Either way nothing is delivered.

Prints `ready` on stdout once it accepts connections.
"""

import argparse
import asyncio
import datetime
import ipaddress
import mailbox
import os
import socket
import ssl
import sys
import time
import warnings

# aiosmtpd warns about its own internals on every AUTH.
warnings.simplefilter("ignore")


def make_certs(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    os.makedirs(d, exist_ok=True)
    if os.path.exists(os.path.join(d, "server.pem")):
        return
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "driftwall test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(d, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(d, "server.key"), "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(os.path.join(d, "server.pem.tmp"), "wb") as f:
        f.write(cert.public_bytes(pem))
    os.rename(os.path.join(d, "server.pem.tmp"), os.path.join(d, "server.pem"))


def never_greet(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    print("ready", flush=True)
    held = []
    while True:
        conn, _ = s.accept()
        held.append(conn)  # never answered, never closed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--maildir")
    ap.add_argument("--certs")
    ap.add_argument("--user", default="driftwall")
    ap.add_argument("--password", default="correct horse")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--never-greet", action="store_true")
    ap.add_argument("--fail-data", choices=["drop", "hang"])
    a = ap.parse_args()
    if a.never_greet:
        never_greet(a.port)
        return

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    make_certs(a.certs)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(a.certs, "server.pem"), os.path.join(a.certs, "server.key"))
    box = mailbox.Maildir(a.maildir, create=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == a.user.encode() and auth_data.password == a.password.encode()
        return AuthResult(success=ok, handled=False)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("rejected"):
                return "550 5.1.1 <%s>: Recipient address rejected: no such mailbox" % address
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if a.fail_data == "drop":
                server.transport.abort()
                return "421 4.3.0 closing"
            if a.fail_data == "hang":
                await asyncio.sleep(3600)
            key = box.add(envelope.original_content or envelope.content)
            return "250 2.0.0 Ok: queued as %s" % key

    kw = dict(hostname="127.0.0.1", port=a.port, authenticator=authenticator, auth_required=True)
    if a.implicit_tls:
        kw.update(ssl_context=ctx, auth_require_tls=False)
    else:
        kw.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)

    class Ctl(Controller):
        def _trigger_server(self):
            # The stock trigger speaks plain SMTP; with implicit TLS it would
            # fail the handshake. A bare connect is enough to start serving.
            if a.implicit_tls:
                with socket.create_connection((self.hostname, self.port), 1.0):
                    pass
            else:
                super()._trigger_server()

    c = Ctl(Handler(), **kw)
    c.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    main()
