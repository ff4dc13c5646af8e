"""Customer message templates: shipflow's defaults in five languages, overridable per brand.

Brand templates are rendered in Jinja's sandbox: a brand can word its messages, not run code.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import SandboxedEnvironment


class Milestone(enum.StrEnum):
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    ATTEMPT_FAILED = "attempt_failed"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKUP_REMINDER = "pickup_reminder"
    RETURN_APPROVED = "return_approved"
    RETURN_RECEIVED = "return_received"
    REFUND_ISSUED = "refund_issued"
    ARRIVES_TOMORROW = "arrives_tomorrow"


@dataclass(frozen=True, slots=True)
class Template:
    subject: str
    body: str


def _t(subject: str, body: str) -> Template:
    return Template(subject, body)


M = Milestone
DEFAULTS: dict[str, dict[Milestone, Template]] = {
    "en": {
        M.SHIPPED: _t(
            "Your {{ brand }} order {{ order_number }} is on its way",
            "Good news: your order has shipped. It should arrive by {{ delivery_date }}.\n"
            "Track it: {{ link }}",
        ),
        M.OUT_FOR_DELIVERY: _t(
            "Your {{ brand }} order arrives today",
            "Your parcel is out for delivery today.\nTrack it: {{ link }}",
        ),
        M.ARRIVES_TOMORROW: _t(
            "Your {{ brand }} order arrives tomorrow",
            "Your parcel should arrive tomorrow, {{ delivery_date }}.\nTrack it: {{ link }}",
        ),
        M.DELIVERED: _t(
            "Your {{ brand }} order was delivered",
            "Your parcel was delivered. How did we do? Tell us in one tap: {{ feedback_link }}",
        ),
        M.DELAYED: _t(
            "Your {{ brand }} order is running late",
            "We are sorry: your parcel is delayed. The new expected date is {{ delivery_date }}.\n"
            "Track it: {{ link }}",
        ),
        M.ATTEMPT_FAILED: _t(
            "We missed you: choose a new delivery for order {{ order_number }}",
            "The carrier could not deliver your parcel. Pick a new date, fix the address or "
            "collect it nearby: {{ action_link }}",
        ),
        M.READY_FOR_PICKUP: _t(
            "Your {{ brand }} order is ready for pickup",
            "Your parcel is waiting for you at {{ pickup_name }}, {{ pickup_address }}.\n"
            "{% if pickup_hours %}Opening hours: {{ pickup_hours }}\n{% endif %}"
            "{% if pickup_deadline %}Please collect it by {{ pickup_deadline }}.\n{% endif %}"
            "Track it: {{ link }}",
        ),
        M.PICKUP_REMINDER: _t(
            "Reminder: collect your {{ brand }} order by {{ pickup_deadline }}",
            "Your parcel is still waiting at {{ pickup_name }}, {{ pickup_address }}. "
            "Please collect it by {{ pickup_deadline }}, or it will be sent back to us.\n"
            "Track it: {{ link }}",
        ),
        M.RETURN_APPROVED: _t(
            "Your return for order {{ order_number }} is approved",
            "Your prepaid return label is ready: {{ label_link }}",
        ),
        M.RETURN_RECEIVED: _t(
            "We received your return",
            "Your return for order {{ order_number }} has arrived at our warehouse.",
        ),
        M.REFUND_ISSUED: _t(
            "Your refund is on its way",
            "We have refunded {{ amount }} for order {{ order_number }}.",
        ),
    },
    "zh-Hant": {
        M.SHIPPED: _t(
            "您的 {{ brand }} 訂單 {{ order_number }} 已出貨",
            "好消息：您的訂單已出貨，預計於 {{ delivery_date }} 前送達。\n追蹤包裹：{{ link }}",
        ),
        M.OUT_FOR_DELIVERY: _t(
            "您的 {{ brand }} 訂單今天送達",
            "您的包裹今天正在配送中。\n追蹤包裹：{{ link }}",
        ),
        M.ARRIVES_TOMORROW: _t(
            "您的 {{ brand }} 訂單明天送達",
            "您的包裹預計明天（{{ delivery_date }}）送達。\n追蹤包裹：{{ link }}",
        ),
        M.DELIVERED: _t(
            "您的 {{ brand }} 訂單已送達",
            "您的包裹已送達。請花一秒告訴我們您的體驗：{{ feedback_link }}",
        ),
        M.DELAYED: _t(
            "您的 {{ brand }} 訂單延誤了",
            "很抱歉，您的包裹延誤了。新的預計送達日期為 {{ delivery_date }}。\n追蹤包裹：{{ link }}",
        ),
        M.ATTEMPT_FAILED: _t(
            "投遞未成功：請為訂單 {{ order_number }} 選擇新的投遞方式",
            "物流商未能投遞您的包裹。請選擇新的日期、修正地址或改至附近取件：{{ action_link }}",
        ),
        M.READY_FOR_PICKUP: _t(
            "您的 {{ brand }} 訂單已可取件",
            "您的包裹已送達 {{ pickup_name }}（{{ pickup_address }}），等候您取件。\n"
            "{% if pickup_hours %}營業時間：{{ pickup_hours }}\n{% endif %}"
            "{% if pickup_deadline %}請於 {{ pickup_deadline }} 前取件。\n{% endif %}"
            "追蹤包裹：{{ link }}",
        ),
        M.PICKUP_REMINDER: _t(
            "提醒：請於 {{ pickup_deadline }} 前領取您的 {{ brand }} 訂單",
            "您的包裹仍在 {{ pickup_name }}（{{ pickup_address }}）等候取件。"
            "請於 {{ pickup_deadline }} 前取件，逾期將退回。\n追蹤包裹：{{ link }}",
        ),
        M.RETURN_APPROVED: _t(
            "您訂單 {{ order_number }} 的退貨已核准",
            "您的預付退貨標籤已準備好：{{ label_link }}",
        ),
        M.RETURN_RECEIVED: _t(
            "我們已收到您的退貨", "您訂單 {{ order_number }} 的退貨已抵達我們的倉庫。"
        ),
        M.REFUND_ISSUED: _t(
            "您的退款已發出", "我們已為訂單 {{ order_number }} 退款 {{ amount }}。"
        ),
    },
    "zh-Hans": {
        M.SHIPPED: _t(
            "您的 {{ brand }} 订单 {{ order_number }} 已发货",
            "好消息：您的订单已发货，预计于 {{ delivery_date }} 前送达。\n追踪包裹：{{ link }}",
        ),
        M.OUT_FOR_DELIVERY: _t(
            "您的 {{ brand }} 订单今天送达",
            "您的包裹今天正在派送中。\n追踪包裹：{{ link }}",
        ),
        M.ARRIVES_TOMORROW: _t(
            "您的 {{ brand }} 订单明天送达",
            "您的包裹预计明天（{{ delivery_date }}）送达。\n追踪包裹：{{ link }}",
        ),
        M.DELIVERED: _t(
            "您的 {{ brand }} 订单已送达",
            "您的包裹已送达。请花一秒告诉我们您的体验：{{ feedback_link }}",
        ),
        M.DELAYED: _t(
            "您的 {{ brand }} 订单延误了",
            "很抱歉，您的包裹延误了。新的预计送达日期为 {{ delivery_date }}。\n追踪包裹：{{ link }}",
        ),
        M.ATTEMPT_FAILED: _t(
            "派送未成功：请为订单 {{ order_number }} 选择新的派送方式",
            "快递公司未能派送您的包裹。请选择新的日期、修改地址或改为附近自提：{{ action_link }}",
        ),
        M.READY_FOR_PICKUP: _t(
            "您的 {{ brand }} 订单可以取件了",
            "您的包裹已到达 {{ pickup_name }}（{{ pickup_address }}），等您取件。\n"
            "{% if pickup_hours %}营业时间：{{ pickup_hours }}\n{% endif %}"
            "{% if pickup_deadline %}请于 {{ pickup_deadline }} 前取件。\n{% endif %}"
            "追踪包裹：{{ link }}",
        ),
        M.PICKUP_REMINDER: _t(
            "提醒：请于 {{ pickup_deadline }} 前领取您的 {{ brand }} 订单",
            "您的包裹仍在 {{ pickup_name }}（{{ pickup_address }}）等您取件。"
            "请于 {{ pickup_deadline }} 前取件，逾期将退回。\n追踪包裹：{{ link }}",
        ),
        M.RETURN_APPROVED: _t(
            "您订单 {{ order_number }} 的退货已批准",
            "您的预付退货面单已准备好：{{ label_link }}",
        ),
        M.RETURN_RECEIVED: _t(
            "我们已收到您的退货", "您订单 {{ order_number }} 的退货已到达我们的仓库。"
        ),
        M.REFUND_ISSUED: _t(
            "您的退款已发出", "我们已为订单 {{ order_number }} 退款 {{ amount }}。"
        ),
    },
    "ja": {
        M.SHIPPED: _t(
            "{{ brand }} のご注文 {{ order_number }} を発送しました",
            "ご注文の商品を発送しました。{{ delivery_date }} までにお届けの予定です。\n"
            "配送状況：{{ link }}",
        ),
        M.OUT_FOR_DELIVERY: _t(
            "{{ brand }} のご注文は本日お届け予定です",
            "お荷物は本日配達中です。\n配送状況：{{ link }}",
        ),
        M.ARRIVES_TOMORROW: _t(
            "{{ brand }} のご注文は明日お届け予定です",
            "お荷物は明日（{{ delivery_date }}）お届けの予定です。\n配送状況：{{ link }}",
        ),
        M.DELIVERED: _t(
            "{{ brand }} のご注文をお届けしました",
            "お荷物をお届けしました。ご感想をワンタップでお聞かせください：{{ feedback_link }}",
        ),
        M.DELAYED: _t(
            "{{ brand }} のご注文のお届けが遅れています",
            "申し訳ございません。お荷物のお届けが遅れています。新しいお届け予定日は "
            "{{ delivery_date }} です。\n配送状況：{{ link }}",
        ),
        M.ATTEMPT_FAILED: _t(
            "ご不在のため持ち帰りました：ご注文 {{ order_number }} の再配達をお選びください",
            "配送業者がお荷物をお届けできませんでした。再配達日の指定、住所の修正、"
            "近くでの受け取りはこちら：{{ action_link }}",
        ),
        M.READY_FOR_PICKUP: _t(
            "{{ brand }} のご注文の受け取り準備ができました",
            "お荷物は {{ pickup_name }}（{{ pickup_address }}）でお受け取りいただけます。\n"
            "{% if pickup_hours %}営業時間：{{ pickup_hours }}\n{% endif %}"
            "{% if pickup_deadline %}{{ pickup_deadline }} までにお受け取りください。\n{% endif %}"
            "配送状況：{{ link }}",
        ),
        M.PICKUP_REMINDER: _t(
            "{{ pickup_deadline }} までに {{ brand }} のご注文をお受け取りください",
            "お荷物は {{ pickup_name }}（{{ pickup_address }}）でお待ちしています。"
            "{{ pickup_deadline }} を過ぎると返送されます。\n配送状況：{{ link }}",
        ),
        M.RETURN_APPROVED: _t(
            "ご注文 {{ order_number }} の返品を承認しました",
            "送料無料の返品ラベルをご用意しました：{{ label_link }}",
        ),
        M.RETURN_RECEIVED: _t(
            "返品を受け取りました", "ご注文 {{ order_number }} の返品が倉庫に到着しました。"
        ),
        M.REFUND_ISSUED: _t(
            "返金手続きが完了しました",
            "ご注文 {{ order_number }} について {{ amount }} を返金しました。",
        ),
    },
    "fa": {
        M.SHIPPED: _t(
            "سفارش {{ order_number }} شما از {{ brand }} ارسال شد",
            "خبر خوب: سفارش شما ارسال شد و تا {{ delivery_date }} می‌رسد.\nپیگیری مرسوله: {{ link }}",
        ),
        M.OUT_FOR_DELIVERY: _t(
            "سفارش {{ brand }} شما امروز می‌رسد",
            "مرسولهٔ شما امروز در مسیر تحویل است.\nپیگیری مرسوله: {{ link }}",
        ),
        M.ARRIVES_TOMORROW: _t(
            "سفارش {{ brand }} شما فردا می‌رسد",
            "مرسولهٔ شما فردا، {{ delivery_date }}، به دستتان می‌رسد.\nپیگیری مرسوله: {{ link }}",
        ),
        M.DELIVERED: _t(
            "سفارش {{ brand }} شما تحویل داده شد",
            "مرسولهٔ شما تحویل داده شد. تجربه‌تان را با یک لمس به ما بگویید: {{ feedback_link }}",
        ),
        M.DELAYED: _t(
            "سفارش {{ brand }} شما با تأخیر همراه است",
            "پوزش می‌خواهیم: مرسولهٔ شما تأخیر دارد. تاریخ جدید تحویل {{ delivery_date }} است.\n"
            "پیگیری مرسوله: {{ link }}",
        ),
        M.ATTEMPT_FAILED: _t(
            "تحویل انجام نشد: برای سفارش {{ order_number }} روش تحویل جدیدی انتخاب کنید",
            "شرکت حمل‌ونقل نتوانست مرسولهٔ شما را تحویل دهد. تاریخ جدید انتخاب کنید، نشانی را اصلاح کنید "
            "یا آن را از نزدیک‌ترین نقطهٔ تحویل بگیرید: {{ action_link }}",
        ),
        M.READY_FOR_PICKUP: _t(
            "سفارش {{ brand }} شما آمادهٔ تحویل گرفتن است",
            "مرسولهٔ شما در {{ pickup_name }}، {{ pickup_address }} منتظر شماست.\n"
            "{% if pickup_hours %}ساعت کاری: {{ pickup_hours }}\n{% endif %}"
            "{% if pickup_deadline %}لطفاً تا {{ pickup_deadline }} آن را تحویل بگیرید.\n{% endif %}"
            "پیگیری مرسوله: {{ link }}",
        ),
        M.PICKUP_REMINDER: _t(
            "یادآوری: سفارش {{ brand }} خود را تا {{ pickup_deadline }} تحویل بگیرید",
            "مرسولهٔ شما هنوز در {{ pickup_name }}، {{ pickup_address }} منتظر شماست. "
            "اگر تا {{ pickup_deadline }} تحویل گرفته نشود، به فرستنده بازمی‌گردد.\n"
            "پیگیری مرسوله: {{ link }}",
        ),
        M.RETURN_APPROVED: _t(
            "مرجوعی سفارش {{ order_number }} تأیید شد",
            "برچسب مرجوعی پیش‌پرداخت شما آماده است: {{ label_link }}",
        ),
        M.RETURN_RECEIVED: _t(
            "مرجوعی شما را دریافت کردیم", "مرجوعی سفارش {{ order_number }} به انبار ما رسید."
        ),
        M.REFUND_ISSUED: _t(
            "وجه شما بازگردانده شد",
            "مبلغ {{ amount }} برای سفارش {{ order_number }} بازگردانده شد.",
        ),
    },
}

# "Parcel 2 of 3" before the body of a message about one of an order's several parcels.
PARCEL_OF = {
    "en": "Parcel {n} of {total}: ",
    "zh-Hant": "第 {n} 件包裹（共 {total} 件）：",
    "zh-Hans": "第 {n} 件包裹（共 {total} 件）：",
    "ja": "{total} 個口のうち {n} 個目：",
    "fa": "مرسولهٔ {n} از {total}: ",
}


def parcel_of(language: str, n: int, total: int) -> str:
    return PARCEL_OF.get(language, PARCEL_OF["en"]).format(n=n, total=total)


_sandbox = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def pick_language(wanted: str, offered: list[str]) -> str:
    """The customer's language if the brand offers it (or its base language), else the first."""
    for candidate in (wanted, wanted.split("-")[0]):
        if candidate in offered:
            return candidate
    return offered[0] if offered else "en"


def template_for(
    milestone: Milestone,
    language: str,
    overrides: Mapping[Milestone, Mapping[str, Template]] | None,
) -> Template:
    """The brand's own wording if it has one for this milestone and language, else ours."""
    custom = (overrides or {}).get(milestone, {}).get(language)
    return custom or DEFAULTS.get(language, DEFAULTS["en"])[milestone]


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Callable[[Mapping[str, object]], str]:
    """Each wording compiled once per process: compiling costs far more than rendering. A
    wording of text and `{{ name }}`s alone (most of them) is rendered by joining its parts,
    each name as `str` of its value, which is what Jinja's generated code yields, without the
    context Jinja builds for every render (most of a render's cost); any other wording, and
    one naming what the context lacks (a global, or undefined: Jinja's error), by Jinja."""
    template = _sandbox.from_string(source)
    parts = _text_and_names(_sandbox.parse(source))
    if parts is None:
        return template.render
    names = {part for part, is_name in parts if is_name}

    def joined(context: Mapping[str, object]) -> str:
        if not names <= context.keys():
            return template.render(context)
        return "".join(str(context[part]) if is_name else part for part, is_name in parts)

    return joined


def _text_and_names(parsed: nodes.Template) -> tuple[tuple[str, bool], ...] | None:
    """(text or name, whether a name) for each piece of a wording made of text and plain
    `{{ name }}`s only; None for any other (a tag, a filter, an attribute, a literal)."""
    parts: list[tuple[str, bool]] = []
    for output in parsed.body:
        if not isinstance(output, nodes.Output):
            return None
        for node in output.nodes:
            if isinstance(node, nodes.TemplateData):
                parts.append((node.data, False))
            elif isinstance(node, nodes.Name) and node.ctx == "load":
                parts.append((node.name, True))
            else:
                return None
    return tuple(parts)


def render(template: Template, context: Mapping[str, object]) -> Template:
    return Template(
        _compiled(template.subject)(context).strip(), _compiled(template.body)(context).strip()
    )
