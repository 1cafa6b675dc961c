"""A fake Infobip on 127.0.0.1 for the SMS tests: an HTTP server in a thread that answers
the requests grants.sms_provider makes as Infobip's SMS API does (send, logs), fails as
told (4xx, 5xx, a timeout, an answer lost after the message was taken), and posts
delivery reports and replies to the app's callbacks, signed with the shared secret.

    fake.fail_next(500)            # the next send answers 500 and takes nothing
    fake.fail_next("lost")         # takes the message, then answers 503
    fake.fail_next("timeout")      # takes the message, answers after the client gave up
    fake.report(message_id, ...)   # the signed delivery report, posted to its notifyUrl
"""

import json
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from grants.sms_provider import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

API_KEY = "test-api-key-0123456789"
SECRET = "test-callback-secret-0123456789abcdef"
GROUPS = {
    1: ("PENDING", "PENDING_ENROUTE", "Message sent to next instance"),
    2: ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED", "Message sent not delivered"),
    3: ("DELIVERED", "DELIVERED_TO_HANDSET", "Message delivered to handset"),
    4: ("EXPIRED", "EXPIRED_EXPIRED", "Message expired"),
    5: ("REJECTED", "REJECTED_DESTINATION", "Message rejected"),
}


def _status(group, status_id=26):
    name, detail, description = GROUPS[group]
    return {"groupId": group, "groupName": name, "id": status_id, "name": detail, "description": description}


def _error(status, message_id, text):
    return status, {"requestError": {"serviceException": {"messageId": message_id, "text": text}}}


class FakeInfobip:
    def __init__(self, *, api_key=API_KEY, secret=SECRET, client_timeout=1):
        self.api_key = api_key
        self.secret = secret
        self.client_timeout = client_timeout
        self.accepted = []  # every message taken, in order: {"to", "text", "from", "messageId", ...}
        self.requests = 0  # send requests received, whatever the answer
        self.plan = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, *behaviours):
        with self.lock:
            self.plan.extend(behaviours)

    def texts_to(self, phone):
        return [m["text"] for m in self.accepted if m["to"] == phone.lstrip("+")]

    # -- answering ------------------------------------------------------------------

    def _send(self, headers, body):
        with self.lock:
            self.requests += 1
            behaviour = self.plan.pop(0) if self.plan else "ok"
        if headers.get("Authorization") != f"App {self.api_key}":
            return _error(401, "UNAUTHORIZED", "Invalid login details")
        if isinstance(behaviour, int):
            return _error(
                behaviour, "BAD_REQUEST" if behaviour < 500 else "GENERAL_ERROR", "Something failed"
            )
        try:
            messages = json.loads(body)["messages"]
        except (ValueError, KeyError):
            return _error(400, "BAD_REQUEST", "Bad request")
        answered = []
        bulk = f"bulk-{uuid.uuid4().hex[:12]}"
        for message in messages:
            for destination in message["destinations"]:
                message_id = destination.get("messageId") or uuid.uuid4().hex
                with self.lock:
                    self.accepted.append(
                        {
                            "to": destination["to"],
                            "messageId": message_id,
                            "bulkId": bulk,
                            "text": message["text"],
                            "from": message.get("from"),
                            "notifyUrl": message.get("notifyUrl"),
                        }
                    )
                answered.append({"to": destination["to"], "messageId": message_id, "status": _status(1)})
        if behaviour == "lost":
            return _error(503, "GENERAL_ERROR", "Service unavailable")
        if behaviour == "timeout":
            time.sleep(self.client_timeout + 0.5)
        return 200, {"bulkId": bulk, "messages": answered}

    def _logs(self, query):
        wanted = urllib.parse.parse_qs(query).get("messageId", [])
        with self.lock:
            found = [m for m in self.accepted if m["messageId"] in wanted]
        return 200, {
            "results": [
                {
                    "bulkId": m["bulkId"],
                    "messageId": m["messageId"],
                    "to": m["to"],
                    "smsCount": 1,
                    "price": {"pricePerMessage": 0.0, "currency": "EUR"},
                    "status": _status(1),
                    "error": {
                        "groupId": 0,
                        "groupName": "OK",
                        "id": 0,
                        "name": "NO_ERROR",
                        "permanent": False,
                    },
                }
                for m in found
            ]
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout case)

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/sms/2/text/advanced":
                    self._answer(*fake._send(self.headers, body))
                else:
                    self._answer(404, {"requestError": {"serviceException": {"text": "Not found"}}})

            def do_GET(self):  # noqa: N802
                path, _sep, query = self.path.partition("?")
                if self.headers.get("Authorization") != f"App {fake.api_key}":
                    self._answer(*_error(401, "UNAUTHORIZED", "Invalid login details"))
                elif path == "/sms/1/logs":
                    self._answer(*fake._logs(query))
                else:
                    self._answer(404, {})

        return Handler

    # -- calling back ---------------------------------------------------------------

    def signed(self, payload, *, secret=None, timestamp=None):
        """(body, headers) of a callback, signed as the app expects."""
        body = json.dumps(payload).encode()
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        return body, {
            SIGNATURE_HEADER: "sha256=" + sign(body, timestamp, secret or self.secret),
            TIMESTAMP_HEADER: timestamp,
        }

    def report_payload(self, message_id, *, group=3, price="0.0390", currency="EUR", parts=1):
        with self.lock:
            message = next(m for m in self.accepted if m["messageId"] == message_id)
        return {
            "results": [
                {
                    "bulkId": message["bulkId"],
                    "messageId": message_id,
                    "to": message["to"],
                    "sentAt": "2026-12-06T08:00:00.000+0000",
                    "doneAt": "2026-12-06T08:00:05.000+0000",
                    "smsCount": parts,
                    "price": {"pricePerMessage": float(price), "currency": currency},
                    "status": _status(group, 5 if group == 3 else 9),
                    "error": {
                        "groupId": 0,
                        "groupName": "OK",
                        "id": 0,
                        "name": "NO_ERROR",
                        "permanent": False,
                    },
                    "callbackData": None,
                }
            ]
        }

    def inbound_payload(self, sender, text, *, to="38163000000"):
        return {
            "results": [
                {
                    "messageId": uuid.uuid4().hex,
                    "from": sender.lstrip("+"),
                    "to": to,
                    "text": text,
                    "cleanText": text,
                    "keyword": text.split()[0].upper() if text.split() else "",
                    "receivedAt": "2026-12-06T08:10:00.000+0000",
                    "smsCount": 1,
                    "price": {"pricePerMessage": 0, "currency": "EUR"},
                    "callbackData": None,
                }
            ],
            "messageCount": 1,
            "pendingMessageCount": 0,
        }

    def post(self, url, payload):
        """Post a signed callback to the app over HTTP, as the provider does; the status."""
        body, headers = self.signed(payload)
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback test server
            return response.status

    def report(self, message_id, **kwargs):
        with self.lock:
            url = next(m["notifyUrl"] for m in self.accepted if m["messageId"] == message_id)
        return self.post(url, self.report_payload(message_id, **kwargs))
