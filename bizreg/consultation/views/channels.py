"""Channel endpoints under /hooks/ (no login: each request is authenticated by its signature).

WeChat: GET = the server check (echo `echostr`), POST = a message (passive reply XML or `success`).
Signed webhook (QQ and other bridges): POST JSON, answered with JSON. A bad signature is 403 and opens
nothing; an unknown or unconfigured authority/channel is 404. The work is in services.wechat/webhook.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from bizreg.consultation.services import webhook, wechat
from bizreg.core.models import Authority

logger = logging.getLogger(__name__)


def _authority(code: str) -> Authority:
    authority = Authority.objects.filter(code=code, is_active=True).first()
    if authority is None:
        raise Http404("未知的登记机关。")
    return authority


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def wechat_endpoint(request, authority_code: str):
    config = wechat.wechat_config(authority_code)
    if config is None:
        raise Http404("该登记机关未开通微信公众号接入。")
    authority = _authority(authority_code)
    valid = wechat.check_signature(
        token=config.token,
        signature=request.GET.get("signature", ""),
        timestamp=request.GET.get("timestamp", ""),
        nonce=request.GET.get("nonce", ""),
    )
    if request.method == "GET":
        if not valid:
            return HttpResponseForbidden("签名校验失败", content_type="text/plain; charset=utf-8")
        return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain; charset=utf-8")
    try:
        payload = request.body
    except RequestDataTooBig:
        return HttpResponse("消息过大", status=413, content_type="text/plain; charset=utf-8")
    if not valid:
        wechat.record_event(
            authority=authority, payload=payload, signature_valid=False, outcome="签名校验失败"
        )
        return HttpResponseForbidden("签名校验失败", content_type="text/plain; charset=utf-8")
    if request.GET.get("encrypt_type", "raw") not in ("", "raw"):
        # Safe mode (AES) is not supported: the account must use plaintext mode (docs).
        wechat.record_event(
            authority=authority, payload=payload, signature_valid=True, outcome="不支持加密模式"
        )
        return HttpResponse("success", content_type="text/plain; charset=utf-8")
    try:
        body = wechat.handle_message(authority=authority, payload=payload)
    except wechat.BadWeChatMessage as exc:
        return HttpResponse(f"消息格式错误：{exc}", status=400, content_type="text/plain; charset=utf-8")
    content_type = "text/plain; charset=utf-8" if body == "success" else "application/xml; charset=utf-8"
    return HttpResponse(body, content_type=content_type)


@csrf_exempt
@never_cache
@require_POST
def webhook_endpoint(request, channel: str, authority_code: str):
    config = webhook.webhook_config(authority_code, channel)
    if config is None:
        return JsonResponse({"error": "未配置该渠道或登记机关"}, status=404)
    authority = Authority.objects.filter(code=authority_code, is_active=True).first()
    if authority is None:
        return JsonResponse({"error": "未知的登记机关"}, status=404)
    try:
        body = request.body
    except RequestDataTooBig:
        return JsonResponse({"error": "请求体过大"}, status=413)
    try:
        result = webhook.handle(
            authority=authority,
            config=config,
            body=body,
            timestamp=request.headers.get(webhook.TIMESTAMP_HEADER, ""),
            signature=request.headers.get(webhook.SIGNATURE_HEADER, ""),
        )
    except webhook.WebhookRejected as exc:
        return JsonResponse({"error": str(exc)}, status=exc.status)
    return JsonResponse(result, json_dumps_params={"ensure_ascii": False})


urlpatterns: list = [
    path("wechat/<str:authority_code>/", wechat_endpoint, name="wechat"),
    path("webhook/<str:channel>/<str:authority_code>/", webhook_endpoint, name="webhook"),
]
