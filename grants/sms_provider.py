"""Sending SMS through a provider's HTTP API, and reading its callbacks.

`Provider` is what the outbox needs: `send` one text with our own message id, `lookup`
a message by that id (a retry asks before sending again, so a message whose answer
was lost is not sent twice), and `parse_reports` / `parse_inbound` for the bodies the
provider posts back. `Infobip` implements it with Infobip's SMS API, which serves
Serbia and Kosovo (docs/deploy.md, "SMS"):

- send: POST {base}/sms/2/text/advanced, header `Authorization: App <key>`,
  `{"messages": [{"destinations": [{"to": "381641234567", "messageId": "..."}],
  "from": "...", "text": "...", "notifyUrl": "...", "notifyContentType":
  "application/json"}]}` → 200 `{"bulkId", "messages": [{"to", "messageId",
  "status": {"groupId", "groupName", "id", "name", "description"}}]}`; errors 4xx/5xx
  `{"requestError": {"serviceException": {"messageId", "text"}}}`;
- look up: GET {base}/sms/1/logs?messageId=... → `{"results": [report]}`;
- delivery report (to notifyUrl): `{"results": [{"messageId", "to", "sentAt",
  "doneAt", "smsCount", "price": {"pricePerMessage", "currency"}, "status": {...},
  "error": {...}}]}`;
- inbound SMS (the number's forwarding URL): `{"results": [{"messageId", "from", "to",
  "text", "cleanText", "keyword", "receivedAt", "smsCount"}], "messageCount",
  "pendingMessageCount"}`.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.dateparse import parse_datetime

# Infobip's status groups → our delivery states (grants.models.Notification.Delivery)
STATUS_GROUPS = {
    1: "pending",
    2: "undeliverable",
    3: "delivered",
    4: "expired",
    5: "rejected",
}

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"


class ProviderError(Exception):
    """A send that did not go through. `permanent`: retrying cannot help (a refused
    number, bad credentials); otherwise it is retried. `ambiguous`: the provider may
    have accepted the message although we have no answer (a timeout, a 5xx)."""

    def __init__(self, message, *, permanent=False, ambiguous=False):
        super().__init__(message)
        self.permanent = permanent
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class Report:
    message_id: str
    delivery: str
    detail: str = ""
    done_at: object = None
    cost: Decimal | None = None
    currency: str = ""


@dataclass(frozen=True)
class Inbound:
    sender: str
    text: str


def _digits(phone):
    """Infobip's numbers: international digits without "+"."""
    return phone.lstrip("+")


def _price(price):
    try:
        value = Decimal(str((price or {}).get("pricePerMessage")))
    except (InvalidOperation, TypeError, ValueError):
        return None, ""
    return value, str((price or {}).get("currency") or "")[:3]


def _report(result):
    status = result.get("status") or {}
    error = result.get("error") or {}
    # Infobip prices each part ("pricePerMessage" per SMS of "smsCount"): the cost of
    # the message is their product.
    cost, currency = _price(result.get("price"))
    parts = result.get("smsCount")
    if cost is not None and isinstance(parts, int) and parts > 1:
        cost *= parts
    detail = status.get("description") or status.get("name") or ""
    if error.get("id"):
        detail = f"{detail}: {error.get('description') or error.get('name') or ''}".strip(": ")
    return Report(
        message_id=str(result.get("messageId") or ""),
        delivery=STATUS_GROUPS.get(status.get("groupId"), "pending"),
        detail=str(detail)[:255],
        done_at=parse_datetime(_iso(result.get("doneAt") or "")),
        cost=cost,
        currency=currency,
    )


def _iso(value):
    # Infobip writes "2019-11-09T16:00:00.000+0000"; Python wants "+00:00".
    value = str(value)
    if len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        value = f"{value[:-2]}:{value[-2:]}"
    return value


class Infobip:
    name = "infobip"

    def __init__(self, *, base_url, api_key, sender, timeout=10, callback_base_url=""):
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("SMS_BASE_URL must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.sender = sender
        self.timeout = timeout
        self.callback_base_url = callback_base_url.rstrip("/")

    def _request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - an http(s) URL, checked in __init__
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"App {self.api_key}",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if data is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - as above
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            text = _error_text(exc)
            if exc.code in (408, 429) or exc.code >= 500:
                raise ProviderError(f"{exc.code} {text}", ambiguous=exc.code >= 500) from None
            raise ProviderError(f"{exc.code} {text}", permanent=True) from None
        except TimeoutError as exc:
            raise ProviderError(f"no answer within {self.timeout} s", ambiguous=True) from exc
        except (urllib.error.URLError, ConnectionError) as exc:
            # Refused before anything was sent vs. cut off after: we cannot tell them
            # apart reliably, so a retry looks the message up first.
            raise ProviderError(f"connection failed: {exc}", ambiguous=True) from exc
        except ValueError as exc:
            raise ProviderError("the provider's answer is not JSON", ambiguous=True) from exc

    def send(self, *, to, text, message_id):
        message = {
            "destinations": [{"to": _digits(to), "messageId": message_id}],
            "from": self.sender,
            "text": text,
        }
        if self.callback_base_url:
            message["notifyUrl"] = f"{self.callback_base_url}/sms/callbacks/delivery-report/"
            message["notifyContentType"] = "application/json"
        answer = self._request("POST", "/sms/2/text/advanced", {"messages": [message]})
        messages = answer.get("messages") or []
        if not messages:
            raise ProviderError("the provider accepted no message", ambiguous=True)
        status = messages[0].get("status") or {}
        group = STATUS_GROUPS.get(status.get("groupId"), "pending")
        if group in ("rejected", "undeliverable"):
            raise ProviderError(status.get("description") or status.get("name") or group, permanent=True)
        return str(messages[0].get("messageId") or message_id)

    def lookup(self, message_id):
        """The provider's record of `message_id`, or None if it never got it."""
        answer = self._request("GET", f"/sms/1/logs?{urllib.parse.urlencode({'messageId': message_id})}")
        results = answer.get("results") or []
        return _report(results[0]) if results else None

    @staticmethod
    def parse_reports(payload):
        return [_report(result) for result in (payload.get("results") or []) if isinstance(result, dict)]

    @staticmethod
    def parse_inbound(payload):
        return [
            Inbound(
                sender=f"+{str(result.get('from') or '').lstrip('+')}",
                text=str(result.get("cleanText") or result.get("text") or ""),
            )
            for result in (payload.get("results") or [])
            if isinstance(result, dict) and result.get("from")
        ]


def _error_text(exc):
    try:
        body = json.loads(exc.read() or b"{}")
        return body["requestError"]["serviceException"]["text"]
    except (ValueError, KeyError, TypeError):
        return exc.reason or ""


def configured():
    return bool(settings.SMS_BASE_URL and settings.SMS_API_KEY)


def provider():
    return Infobip(
        base_url=settings.SMS_BASE_URL,
        api_key=settings.SMS_API_KEY,
        sender=settings.SMS_SENDER,
        timeout=settings.SMS_TIMEOUT,
        callback_base_url=settings.SMS_CALLBACK_BASE_URL,
    )


def sign(body, timestamp, secret):
    """The callback signature: hex HMAC-SHA256 of "<timestamp>.<body>" with the secret."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(*, body, timestamp, signature, secret, max_age, now=None):
    """True for a body signed with the secret within `max_age` seconds (either way,
    for clock skew). An unset secret refuses everything."""
    if not secret or not timestamp or not signature:
        return False
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    if age > max_age:
        return False
    return hmac.compare_digest(sign(body, timestamp, secret), signature.removeprefix("sha256="))
