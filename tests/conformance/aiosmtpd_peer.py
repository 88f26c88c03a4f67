"""A real SMTP server for the conformance tests: aiosmtpd's SMTP class on
127.0.0.1, on a port the kernel picks, with a handler that rejects some
recipients and limits others.

Usage: aiosmtpd_peer.py PORT_FILE LOG_FILE [CERT KEY]

The port is written to PORT_FILE once the server listens.  Every accepted
message appends one line to LOG_FILE before its 250 reply:

    message from=<SENDER> rcpt=A,B size=N tls=0|1 options=SIZE=1 BODY=8BITMIME

With CERT and KEY the server offers STARTTLS (RFC 3207) but does not
require it.  The handler's rules:
  - a recipient whose local part starts with "unknown" gets 550 5.1.1;
  - when the sender's local part starts with "limit2", a transaction takes
    at most 2 recipients and the rest get 452 4.5.3 (RFC 5321 4.5.3.1.10).
aiosmtpd 1.4 reads commands one line at a time from a stream, so pipelined
commands work.  The handler adds the PIPELINING keyword, which aiosmtpd does
not announce by itself.  Messages are limited to 100000 bytes (SIZE).
"""

import asyncio
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP

MAX_MESSAGE_SIZE = 100000


class Handler:
    def __init__(self, log_path):
        self.log_path = log_path

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        # responses ends with "250 HELP"; PIPELINING goes before it.
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        local_part = address.split("@", 1)[0]
        sender = envelope.mail_from or ""
        if local_part.startswith("unknown"):
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        if sender.startswith("limit2") and len(envelope.rcpt_tos) >= 2:
            return "452 4.5.3 Error: too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        # aiosmtpd keeps the null reverse-path as "<>".
        sender = "" if envelope.mail_from == "<>" else envelope.mail_from
        line = "message from=<{}> rcpt={} size={} tls={} options={}\n".format(
            sender, ",".join(envelope.rcpt_tos),
            len(envelope.original_content or b""),
            0 if session.ssl is None else 1,
            " ".join(envelope.mail_options))
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(line)
        return "250 2.0.0 Ok: queued"


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit("usage: aiosmtpd_peer.py PORT_FILE LOG_FILE [CERT KEY]")
    port_file, log_path = sys.argv[1], sys.argv[2]
    tls_context = None
    if len(sys.argv) == 5:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(sys.argv[3], sys.argv[4])

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Handler(log_path)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="peer.test",
                     data_size_limit=MAX_MESSAGE_SIZE,
                     tls_context=tls_context, require_starttls=False,
                     timeout=30, loop=loop),
        host="127.0.0.1", port=0))
    port = server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w", encoding="ascii") as out:
        out.write(f"{port}\n")
    # Renamed into place so that a reader never sees a partial number.
    os.rename(port_file + ".tmp", port_file)

    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()
