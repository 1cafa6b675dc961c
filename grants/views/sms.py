"""The SMS provider's callbacks: delivery reports and replies (STOP). Not signed in:
each request must carry the HMAC signature of its body and a fresh timestamp
(grants.sms_provider.signature_valid, SECURITY.md "SMS callbacks"); anything else is
refused with 403 and changes nothing."""

import json
import logging

from django.conf import settings
from django.http import HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from applicants.normalise import InvalidPhone, normalise_phone
from applicants.services import is_stop

from .. import notify, sms_provider

log = logging.getLogger(__name__)


class Refused(Exception):
    def __init__(self, response):
        self.response = response


def _payload(request):
    if not sms_provider.signature_valid(
        body=request.body,
        timestamp=request.headers.get(sms_provider.TIMESTAMP_HEADER, ""),
        signature=request.headers.get(sms_provider.SIGNATURE_HEADER, ""),
        secret=settings.SMS_CALLBACK_SECRET,
        max_age=settings.SMS_CALLBACK_MAX_AGE,
    ):
        log.warning("SMS callback %s refused: bad or missing signature", request.path)
        raise Refused(HttpResponseForbidden("bad signature"))
    try:
        payload = json.loads(request.body)
    except ValueError:
        raise Refused(HttpResponseBadRequest("not JSON")) from None
    if not isinstance(payload, dict):
        raise Refused(HttpResponseBadRequest("not a JSON object"))
    return payload


@csrf_exempt
@require_POST
def delivery_report(request):
    try:
        payload = _payload(request)
    except Refused as refused:
        return refused.response
    changed = notify.record_delivery_reports(sms_provider.Infobip.parse_reports(payload))
    return JsonResponse({"updated": changed})


@csrf_exempt
@require_POST
def inbound(request):
    """Replies to our number. STOP (applicants.services.is_stop) is honoured at once;
    other texts are not stored (nobody reads this number)."""
    try:
        payload = _payload(request)
    except Refused as refused:
        return refused.response
    stopped = 0
    for message in sms_provider.Infobip.parse_inbound(payload):
        if not is_stop(message.text):
            continue
        try:
            phone = normalise_phone(message.sender)
        except InvalidPhone:
            continue
        stopped += notify.sms_stop(phone=phone)
    return JsonResponse({"opted_out": stopped})
