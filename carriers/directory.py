"""What a customer needs to know about each carrier: the name it goes by, its own tracking
page and its customer-service phone. One table, so every page and message names a carrier
the same way; an unknown carrier shows its code in capitals and no link."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class CarrierContact:
    name: str
    tracking_url: str = ""  # "{number}" is replaced by the tracking number
    phone: str = ""

    def tracking_link(self, tracking_number: str) -> str:
        if not self.tracking_url:
            return ""
        return self.tracking_url.replace("{number}", quote(tracking_number, safe=""))


CONTACTS = {
    "sandbox": CarrierContact(
        "Sandbox Post", "https://sandbox-post.example/track/{number}", "+1 555 0100"
    ),
    "ups": CarrierContact("UPS", "https://www.ups.com/track?tracknum={number}", "1-800-742-5877"),
    "fedex": CarrierContact(
        "FedEx", "https://www.fedex.com/fedextrack/?trknbr={number}", "1-800-463-3339"
    ),
    "usps": CarrierContact(
        "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}", "1-800-275-8777"
    ),
    "dhl": CarrierContact(
        "DHL", "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}"
    ),
    "easypost": CarrierContact("EasyPost"),
    "sf": CarrierContact(
        "SF Express", "https://www.sf-express.com/chn/en/waybill/waybill-detail/{number}", "95338"
    ),
    "kuaidi100": CarrierContact("Kuaidi100", "https://www.kuaidi100.com/chaxun?nu={number}"),
    "17track": CarrierContact("17TRACK", "https://t.17track.net/en#nums={number}"),
    "ecpay": CarrierContact("ECPay"),
    "delhivery": CarrierContact("Delhivery", "https://www.delhivery.com/track/package/{number}"),
    # Tapin is the shop's counter; the parcel travels with Iran Post.
    "tapin": CarrierContact("Iran Post", "https://tracking.post.ir/?id={number}"),
}


def contact(carrier: str) -> CarrierContact:
    return CONTACTS.get(carrier) or CarrierContact(carrier.upper())
