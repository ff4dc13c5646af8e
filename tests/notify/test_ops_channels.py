"""Ops channels show text a shopper typed as text. Slack is mocked with `responses`, shaped as
Slack's incoming webhooks take and answer it (https://api.slack.com/messaging/webhooks: a JSON
POST of `text` and Block Kit `blocks`, answered 200 `ok`); escaping per
https://api.slack.com/reference/surfaces/formatting#escaping."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import responses

from shipflow.delays import routing
from shipflow.delays.detectors import LaneIncident
from shipflow.notify import transports
from shipflow.store.models import Alert
from tests.conftest import PUBLIC

SLACK_URL = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
SLACK_HOST = "hooks.slack.com"
SHOPPER_STATE = "<!channel> <https://evil.example/sso|Ops: re-login here>"


def _lane_alert(region: str) -> Alert:
    incident = LaneIncident("fedex", region, 12, 20, 0.6, 0.05)
    return Alert(
        id="alr_1",
        kind="lane_incident",
        severity="critical",
        status="open",
        title=incident.title,
        carrier="fedex",
        region=region,
        created_at=datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
    )


@responses.activate
def test_slack_gets_shopper_text_escaped(dns):
    dns[SLACK_HOST] = PUBLIC
    responses.post(SLACK_URL, body="ok")
    notice = routing.notice_for(
        [_lane_alert(SHOPPER_STATE)],
        routing.NEW,
        "ops.alert:new:slack:alr_1",
        "https://ops.example",
    )
    transports.SlackTransport(SLACK_URL).send(notice)
    state = "&lt;!channel&gt; &lt;https://evil.example/sso|Ops: re-login here&gt;"
    title = f"fedex lane incident to {state}: 12 of 20 shipments late (60%, usually 5%)"
    subject = f"shipflow critical: {title}"
    assert json.loads(responses.calls[0].request.body) == {
        "text": subject,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"[critical] {title} (fedex · {state})",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "<https://ops.example/ops/alerts?id=alr_1|Open the ops page>",
                    }
                ],
            },
        ],
    }


def test_slack_text_is_cut_to_its_limit_between_entities(dns):
    dns[SLACK_HOST] = PUBLIC
    notice = transports.Message("k", "x" * 148 + "<b>", "", link="https://ops.example")
    header = transports.slack_payload(notice)["blocks"][0]["text"]["text"]
    assert header == "x" * 148  # not "x...&l": half an entity
