"""The typed configuration of message channels: an ops alert channel (used by a brand's
`alerts.channels`) and the customer channels a brand offers (`customer_channels`). It lives
here, beside the transports that read it, so that `notify` depends on nothing outside itself."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shipflow.notify.transports import CUSTOMER_CHANNELS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelConfig(_Strict):
    """Where an ops alert goes."""

    type: Literal["slack", "email", "webhook"]
    url: str = ""  # slack incoming webhook / generic webhook endpoint
    secret: str = ""  # webhook: HMAC-SHA256 signing key
    to: list[str] = []  # email recipients
    sender: str = "shipflow@localhost"

    @model_validator(mode="after")
    def _complete(self) -> ChannelConfig:
        if self.type in ("slack", "webhook") and not self.url:
            raise ValueError(f"a {self.type} channel needs a url")
        if self.type == "webhook" and not self.secret:
            raise ValueError("a webhook channel needs a secret to sign its requests")
        if self.type == "email" and not self.to:
            raise ValueError("an email channel needs at least one address in `to`")
        return self


class ProviderConfig(_Strict):
    """An SMS/WhatsApp provider (or the brand's relay) taking a signed JSON POST."""

    url: str = Field(min_length=1)
    secret: str = Field(min_length=1)  # HMAC-SHA256 signing key


class CustomerChannelsConfig(_Strict):
    """How the brand reaches its customers: the first channel in `prefer` for which the
    order has a contact (an e-mail address, a phone number) carries the message. E-mail goes
    through the instance's SMTP server; every other channel needs its provider."""

    prefer: list[str] = Field(default=["email"], min_length=1)
    providers: dict[str, ProviderConfig] = {}  # channel (sms, whatsapp) -> its provider

    @model_validator(mode="after")
    def _known(self) -> CustomerChannelsConfig:
        known = ", ".join(CUSTOMER_CHANNELS)
        for name in [*self.prefer, *self.providers]:
            if name not in CUSTOMER_CHANNELS:
                raise ValueError(f"unknown customer channel {name!r} (known: {known})")
        for name in self.prefer:
            if name != "email" and name not in self.providers:
                raise ValueError(f"customer channel {name!r} needs providers.{name} (url, secret)")
        return self
