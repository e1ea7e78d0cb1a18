"""An aiosmtpd handler for Baton's end-to-end tests: every message it
receives is appended to a JSON-lines file (arrival time, envelope, the raw
message, whether the session was under TLS). Run as

    python3 -m aiosmtpd -n -l HOST:PORT -c smtp_sink.JsonLines OUT.jsonl
        [--tlscert CERT --tlskey KEY]

with this directory on PYTHONPATH.
"""

import json
import time


class JsonLines:
    def __init__(self, path):
        self.path = path

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("JsonLines takes the output file")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        record = {
            "at_ms": int(time.time() * 1000),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": envelope.content.decode("utf-8", "replace"),
            "tls": session.ssl is not None,
        }
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 OK"
