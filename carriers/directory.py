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


# Each entry names where it was checked (December 2026, through public pages and code): a
# carrier's own page where one was found, else the link format as shops and plugins use it.
CONTACTS = {
    # A made-up carrier: an example.com domain and a 555-01xx number reserved for fiction.
    "sandbox": CarrierContact(
        "Sandbox Post", "https://sandbox-post.example/track/{number}", "+1 555 0100"
    ),
    # Phone: 1-800-PICK-UPS, as UPS customer service is listed (complainthub.org/ups-us-help);
    # link: www.ups.com/track?tracknum=, the format Tryton's UPS module and shop plugins use.
    "ups": CarrierContact("UPS", "https://www.ups.com/track?tracknum={number}", "1-800-742-5877"),
    # Phone: "1-800-GO FEDEX" in FedEx's own newsroom (newsroom.fedex.com, holiday FAQ);
    # link: fedex.com/fedextrack/?trknbr=, as shop plugins use it.
    "fedex": CarrierContact(
        "FedEx", "https://www.fedex.com/fedextrack/?trknbr={number}", "1-800-463-3339"
    ),
    # Phone: USPS's toll-free customer service as the U.S. Senate's casework page gives it
    # (crapo.senate.gov/services/casework/us-postal-service); link: tools.usps.com
    # TrackConfirmAction?tLabels=, as shop plugins use it.
    "usps": CarrierContact(
        "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}", "1-800-275-8777"
    ),
    # No phone: DHL has one per country and division. Link: the global tracking page with
    # tracking-id=, as shop plugins use it.
    "dhl": CarrierContact(
        "DHL", "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}"
    ),
    "easypost": CarrierContact("EasyPost"),  # an aggregator: the parcel's carrier has the page
    # Link: the waybill page of sf-express.com, as tracking tools use it. Its phone (written
    # from memory as 95338) was not found in any source, so none is shown.
    "sf": CarrierContact(
        "SF Express", "https://www.sf-express.com/chn/en/waybill/waybill-detail/{number}"
    ),
    # Link: kuaidi100.com/chaxun, its public query page (nu= the number; it detects the company).
    "kuaidi100": CarrierContact("Kuaidi100", "https://www.kuaidi100.com/chaxun?nu={number}"),
    # Link: t.17track.net/en#nums=, the result page shop plugins open.
    "17track": CarrierContact("17TRACK", "https://t.17track.net/en#nums={number}"),
    "ecpay": CarrierContact("ECPay"),  # the store's or T-cat's page, by the logistics sub-type
    # Link: delhivery.com/track/package/, as Indian shop plugins use it.
    "delhivery": CarrierContact("Delhivery", "https://www.delhivery.com/track/package/{number}"),
    # Tapin is the shop's counter; the parcel travels with Iran Post, whose tracking site is
    # tracking.post.ir (named on Iran Post pages and by Iranian shops, ?id= the code).
    "tapin": CarrierContact("Iran Post", "https://tracking.post.ir/?id={number}"),
}


def contact(carrier: str) -> CarrierContact:
    return CONTACTS.get(carrier) or CarrierContact(carrier.upper())
