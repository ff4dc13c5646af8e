"""Simulated shoppers of the Taiwan demo brand: Taiwanese names, mobile numbers and addresses;
some choose a 7-ELEVEN, FamilyMart or Hi-Life store on the store map at checkout (some of
those pay at the store on pickup, the only cash on delivery ECPay offers), the others have
T-cat deliver to their home.
Deterministic from a seed, like `shipflow.demo.shoppers`."""

from __future__ import annotations

import random
from collections.abc import Sequence

from carriers.ecpay.units import NETWORKS
from shipflow.config import ProductConfig
from shipflow.demo.ecpay_logistics import STORES
from shipflow.demo.shoppers import DemoOrder
from shipflow.domain import Address, PickupPoint
from shipflow.orders import LineInput

SURNAMES = ["陳", "林", "黃", "張", "李", "王", "吳", "劉", "蔡", "楊", "許", "鄭"]
GIVEN = ["怡君", "志明", "雅婷", "俊傑", "淑芬", "建宏", "佩珊", "家豪", "宜蓁", "宗翰", "美玲"]
# (postal code, city, district, street address): homes in Taipei, New Taipei and beyond.
HOMES = [
    ("106", "台北市", "大安區", "復興南路一段390號5樓"),
    ("110", "台北市", "信義區", "松仁路100號12樓"),
    ("104", "台北市", "中山區", "民生東路二段141號3樓"),
    ("114", "台北市", "內湖區", "成功路四段188號"),
    ("220", "新北市", "板橋區", "文化路一段188巷12號"),
    ("231", "新北市", "新店區", "北新路三段207號"),
    ("300", "新竹市", "東區", "光復路二段101號"),
    ("407", "台中市", "西屯區", "台灣大道三段99號"),
    ("701", "台南市", "東區", "大學路1號"),
    ("800", "高雄市", "新興區", "中正四路211號"),
]
STORE_SHARE = 0.6  # shoppers who pick up at a convenience store
COD_SHARE = 0.4  # of those, who pay at the store
STORE_HOURS = "24 小時"
CHAINS = ("UNIMART", "FAMI", "HILIFE")  # the demo brand's store services' (B2C) subtypes


def store_point(chain: str, index: int) -> PickupPoint:
    """A store of the simulated ECPay's map of `chain`, as its callback gives it to a
    checkout (with the chain, which allocation matches to the service)."""
    network = NETWORKS[chain]
    store = STORES[network][index % len(STORES[network])]
    address = Address("TW", "", line1=store.address, name=store.name, phone=store.phone)
    return PickupPoint(store.id, store.name, network, address, STORE_HOURS, chain)


class TaiwanShoppers:
    PREFIX = "TW"

    def __init__(self, products: Sequence[ProductConfig], seed: int) -> None:
        self.products = list(products)
        self.random = random.Random(f"{seed}:tw")
        self.count = 0

    def next_order(self) -> DemoOrder:
        pick = self.random
        self.count += 1
        name = pick.choice(SURNAMES) + pick.choice(GIVEN)
        postal, city, district, street = pick.choice(HOMES)
        chosen = pick.sample(self.products, k=min(len(self.products), pick.choice([1, 1, 2])))
        to_store = pick.random() < STORE_SHARE
        cod = to_store and pick.random() < COD_SHARE
        return DemoOrder(
            order_number=f"{self.PREFIX}{self.count:06d}{pick.randrange(1000, 9999)}",
            customer_name=name,
            customer_email=f"shopper{self.count}@formosa-tea.example",
            customer_phone=f"09{pick.randrange(10**7, 10**8)}",
            language="zh-Hant",
            ship_to={
                "name": name,
                "line1": street,
                "city": city,
                "state": district,
                "postal_code": postal,
                "country": "TW",
                "residential": True,
            },
            lines=tuple(
                LineInput(sku=p.sku, quantity=1, unit_price=p.price, name=p.name) for p in chosen
            ),
            cash_on_delivery=sum(p.price for p in chosen) if cod else 0,
            pickup_point=store_point(pick.choice(CHAINS), pick.randrange(99)) if to_store else None,
        )
