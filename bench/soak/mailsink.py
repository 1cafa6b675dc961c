"""The soak's mail server: a Django mail backend that writes each message it sends to a
JSONL file (SOAK_MAIL_LOG), a line when sending begins and one when it is done, with a
pause between (SOAK_MAIL_DELAY seconds, as an SMTP round trip takes) so that a task
worker can be killed in the middle of a send. Reconciliation counts the `sent` lines."""

import hashlib
import json
import os
import time

from django.core.mail.backends.base import BaseEmailBackend


def fingerprint(to, subject, body):
    return hashlib.sha256("\x1f".join([to, subject, body]).encode()).hexdigest()[:32]


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        path = os.environ.get("SOAK_MAIL_LOG")
        delay = float(os.environ.get("SOAK_MAIL_DELAY", "0"))
        sent = 0
        for message in email_messages:
            for to in message.to:
                record = {"pid": os.getpid(), "fingerprint": fingerprint(to, message.subject, message.body)}
                self._write(path, {**record, "phase": "begin", "t": time.time()})
                time.sleep(delay)
                self._write(path, {**record, "phase": "sent", "t": time.time()})
            sent += 1
        return sent

    @staticmethod
    def _write(path, record):
        if not path:
            return
        with open(path, "a") as out:
            out.write(json.dumps(record) + "\n")
