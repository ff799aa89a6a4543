"""What never changes about an order: lines, customer, address, totals (``Static``, cached per index)."""

from __future__ import annotations

from json.encoder import encode_basestring as js

from .. import catalog
from ..catalog import SKU_BY_CODE, Sku
from ..rng import h64
from ..rows import Row
from ..scenarios import (
    AWAITING_PAYMENT,
    BACKORDER,
    METHODS,
    MIXED_VENDOR,
    NORMAL,
    SPLIT,
    VENDOR_ONLY,
    order_id,
)
from ..timefmt import fmt_local
from ..world import World
from .common import (
    C_CUST1,
    C_CUST2,
    C_CUST3,
    CUM_IN,
    CUM_V,
    CUSTOMER_BASE,
    GATEWAYS,
    LINE_BASE,
    O_1,
    O_2,
    O_3,
    O_BILL,
    O_TOK1,
    O_TOK2,
    SHIP_PRICE,
    SHIPLINE_BASE,
    SKU_FRAG,
    TAX_RATES,
    jn,
    money,
    pick,
)


class Line:
    __slots__ = ("disc", "id", "is_vendor", "json", "price", "qty", "sku", "tax")

    def __init__(self, lid: int, sku: Sku, qty: int, disc: int, tax: int, state: str, rate: float) -> None:
        self.id = lid
        self.sku = sku
        self.qty = qty
        self.price = sku.price_cents
        self.disc = disc
        self.tax = tax
        self.is_vendor = sku.vendor == catalog.THIRD_PARTY_VENDOR
        da = f'[{{"amount":"{money(disc)}","discount_application_index":0}}]' if disc else "[]"
        tl = f'[{{"title":"{state} State Tax","price":"{money(tax)}","rate":{rate!r}}}]' if tax else "[]"
        self.json = (
            f'"id":{lid},"admin_graphql_api_id":"gid://shopify/LineItem/{lid}",{SKU_FRAG[sku.sku]},'
            f'"discount_allocations":{da},"tax_lines":{tl}'
        )


class Static:
    """Everything about an order that never changes (computed once, cached per index)."""

    __slots__ = (
        "_r",
        "_seed",
        "a1",
        "addr_json",
        "apt",
        "bill_json",
        "bill_name",
        "city",
        "company",
        "cust_addr_json",
        "cust_created",
        "cust_id",
        "cust_phone",
        "cust_street",
        "email",
        "first",
        "group_a",
        "group_b",
        "h3",
        "i",
        "last",
        "lines",
        "note",
        "number",
        "oid",
        "own",
        "phone",
        "recipient_json",
        "sb_products_json",
        "ship_price",
        "ship_title",
        "shop_json",
        "subtotal",
        "tax",
        "total",
        "total_disc",
        "total_lines",
        "vendor",
        "weight_g",
    )

    def __init__(self, world: World, r: Row) -> None:
        seed, i = world.seed, r.i
        self._seed = seed
        self._r = r
        self.i = i
        self.oid = order_id(i)
        self.number = 1001 + i
        c1 = h64(seed, C_CUST1, r.cust)
        c2 = h64(seed, C_CUST2, r.cust)
        self.first = catalog.FIRST_NAMES[(c1 & 0xFFFF) % len(catalog.FIRST_NAMES)]
        self.last = catalog.LAST_NAMES[((c1 >> 16) & 0xFFFF) % len(catalog.LAST_NAMES)]
        self.city = catalog.CITIES[r.city]
        dom = catalog.EMAIL_DOMAINS[((c1 >> 32) & 0xFF) % len(catalog.EMAIL_DOMAINS)]
        base = (self.first + "." + self.last).lower().replace("'", "").replace("á", "a")
        style = (c1 >> 40) & 3
        local = (
            base,
            f"{base}{1 + ((c1 >> 42) & 0x7F) % 99}",
            self.first[0].lower() + self.last.lower().replace("'", ""),
            base.replace(".", "_"),
        )[style]
        self.email = f"{local}@{dom}"
        self.phone = f"+1{self.city[4]}555{100 + ((c1 >> 49) & 0xFF) % 100:04d}"
        self.cust_id = CUSTOMER_BASE + r.cust * 13
        self.cust_created = world.anchor - 200 * 86400 + int(((c2 >> 52) & 0xFFF) / 4096 * 190 * 86400)
        num = 2 + (c2 & 0xFFFF) % 9898
        self.a1 = f"{num} {catalog.STREETS[((c2 >> 16) & 0xFF) % len(catalog.STREETS)]}"
        self.apt = (
            f"Apt {1 + ((c2 >> 32) & 0x3F) % 40}{'ABCD'[(c2 >> 38) & 3]}"
            if ((c2 >> 24) & 0xFF) < 46
            else None
        )
        self.company = (
            catalog.COMPANIES[((c2 >> 48) & 0xF) % len(catalog.COMPANIES)]
            if ((c2 >> 40) & 0xFF) < 13
            else None
        )
        city = self.city
        self.addr_json = (
            f'"first_name":{js(self.first)},"last_name":{js(self.last)},"address1":{js(self.a1)},'
            f'"address2":{jn(self.apt)},"city":{js(city[0])},"province":{js(city[1])},"province_code":"{city[2]}",'
            f'"country":"United States","country_code":"US","zip":"{city[3]}","phone":"{self.phone}",'
            f'"company":{jn(self.company)},"name":{js(self.first + " " + self.last)},"latitude":null,"longitude":null'
        )
        # ---- who pays, and the customer record (personal data the summaries must redact)
        self._people(seed, r)
        # ---- line items
        h1 = h64(seed, O_1, i)
        h2 = h64(seed, O_2, i)
        self.h3 = h64(seed, O_3, i)
        n = r.n_lines
        kinds = [False] * n
        if r.scen == VENDOR_ONLY:
            kinds = [True] * n
        elif r.scen == MIXED_VENDOR:
            kinds[-1] = True
            if n >= 3 and ((h1 >> 56) & 0xFF) < 77:
                kinds[-2] = True
        chosen: list[Sku] = []
        for j in range(n):
            pool, cum = (catalog.VENDOR_SKUS, CUM_V) if kinds[j] else (catalog.IN_STOCK_OWN, CUM_IN)
            k = pick(cum, ((h1 >> (12 * j)) & 0xFFF) / 4096)
            for _ in range(len(pool)):
                if pool[k] not in chosen:
                    break
                k = (k + 1) % len(pool)
            chosen.append(pool[k])
        if r.scen == BACKORDER and r.variant == 0:
            chosen[0] = catalog.OOS_OWN[((h2 >> 42) & 0x3F) % len(catalog.OOS_OWN)]
        elif r.scen == NORMAL and ((h2 >> 32) & 0xFF) < 8:
            chosen[0] = SKU_BY_CODE[catalog.UNKNOWN_TO_3PL[(h2 >> 40) & 1]]
        rate = TAX_RATES.get(city[2], 0.06)
        has_disc = ((h1 >> 48) & 0xFF) < 31
        lines = []
        for j, s in enumerate(chosen):
            uq = (h2 >> (8 * j)) & 0xFF
            qty = 1 if uq < 210 else (2 if uq < 246 else 3)
            gross = s.price_cents * qty
            disc = round(gross * 0.10) if has_disc else 0
            lines.append(
                Line(LINE_BASE + i * 8 + j, s, qty, disc, round((gross - disc) * rate), city[2], rate)
            )
        self.lines = lines
        self.own = [j for j, ln in enumerate(lines) if not ln.is_vendor]
        self.vendor = [j for j, ln in enumerate(lines) if ln.is_vendor]
        if r.scen == SPLIT and len(self.own) >= 2:
            half = (len(self.own) + 1) // 2
            self.group_a, self.group_b = self.own[:half], self.own[half:]
        else:
            self.group_a, self.group_b = self.own, []
        self.total_lines = sum(ln.price * ln.qty for ln in lines)
        self.total_disc = sum(ln.disc for ln in lines)
        self.subtotal = self.total_lines - self.total_disc
        self.tax = sum(ln.tax for ln in lines)
        self.ship_title = METHODS[r.method]
        sp = SHIP_PRICE[self.ship_title]
        if self.ship_title == "Standard" and self.subtotal >= 7500:
            sp = 0
        self.ship_price = sp
        self.total = self.subtotal + self.tax + sp
        self.weight_g = sum(ln.sku.grams * ln.qty for ln in lines)
        self.note: str | None
        if r.note == 2:
            self.note = catalog.INJECTION_NOTES[(i // 997) % 2]
        elif r.note == 1 and (other_payer := self.bill_name != f"{self.first} {self.last}") | (
            moved := self.cust_street != self.a1
        ):
            # People write their own details into notes: who paid, the old address, a number to call.
            template = catalog.PERSONAL_NOTES[(other_payer, moved)]
            self.note = template.format(
                bill=self.bill_name, old_street=self.cust_street, phone=self.sb_phone(), first=self.first
            )
        elif r.note == 1:
            self.note = catalog.CUSTOMER_NOTES[((h2 >> 48) & 0xFF) % len(catalog.CUSTOMER_NOTES)]
        else:
            self.note = None
        self.shop_json: str | None = None
        self.recipient_json: str | None = None
        self.sb_products_json: str | None = None

    def _people(self, seed: int, r: Row) -> None:
        """The billing address (a different payer for about one order in eight, half of those with a note:
        gifts, a parent paying)
        and the customer record's default address and phone (an older address for about one customer in
        four, a phone on the record for about half)."""
        b = h64(seed, O_BILL, r.i)
        city = self.city
        # Orders with a note are gifts more often (half of them): the note is where people say so.
        if (b & 0xFF) < 32 or (r.note == 1 and (b >> 63) & 1):
            first = catalog.FIRST_NAMES[((b >> 8) & 0xFFFF) % len(catalog.FIRST_NAMES)]
            last = (
                self.last
                if ((b >> 24) & 3) == 0
                else catalog.LAST_NAMES[((b >> 26) & 0xFFFF) % len(catalog.LAST_NAMES)]
            )
            bcity = catalog.CITIES[((b >> 42) & 0xFF) % len(catalog.CITIES)]
            street = f"{2 + ((b >> 50) & 0x1FFF) % 4998} {catalog.STREETS[((b >> 56) & 0xFF) % len(catalog.STREETS)]}"
            bphone = f"+1{bcity[4]}555{100 + ((b >> 34) & 0xFF) % 100:04d}"
            self.bill_name = f"{first} {last}"
            self.bill_json = (
                f'"first_name":{js(first)},"last_name":{js(last)},"address1":{js(street)},"address2":null,'
                f'"city":{js(bcity[0])},"province":{js(bcity[1])},"province_code":"{bcity[2]}",'
                f'"country":"United States","country_code":"US","zip":"{bcity[3]}","phone":"{bphone}",'
                f'"company":null,"name":{js(self.bill_name)},"latitude":null,"longitude":null'
            )
        else:
            self.bill_name = f"{self.first} {self.last}"
            self.bill_json = self.addr_json
        c3 = h64(seed, C_CUST3, r.cust)
        self.cust_phone = self.phone if (c3 & 1) else None
        if ((c3 >> 8) & 0xFF) < 64:
            self.cust_street = f"{2 + ((c3 >> 16) & 0x1FFF) % 4998} {catalog.STREETS[((c3 >> 32) & 0xFF) % len(catalog.STREETS)]}"
            self.cust_addr_json = (
                f'"first_name":{js(self.first)},"last_name":{js(self.last)},"address1":{js(self.cust_street)},'
                f'"address2":null,"city":{js(city[0])},"province":{js(city[1])},"province_code":"{city[2]}",'
                f'"country":"United States","country_code":"US","zip":"{city[3]}","phone":{jn(self.cust_phone)},'
                f'"company":null,"name":{js(self.first + " " + self.last)}'
            )
        else:
            self.cust_street = self.a1
            self.cust_addr_json = self.addr_json

    def sb_phone(self) -> str:
        """The recipient's phone as the 3PL keeps it: national format, `(207) 555-0142`."""
        digits = self.phone[2:]
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"

    # -------------------------------------------------------------- Shopify static part
    def shop_static(self) -> str:
        if self.shop_json is not None:
            return self.shop_json
        r, seed, h3, oid = self._r, self._seed, self.h3, self.oid
        src_b = (h64(seed, O_2, r.i) >> 56) & 0xFF
        src = "web" if src_b < 225 else ("shopify_draft_order" if src_b < 240 else "iphone")
        gateway = GATEWAYS[(h3 & 0xFF) % 3] if r.scen == AWAITING_PAYMENT else "shopify_payments"
        t1, t2 = h64(seed, O_TOK1, r.i), h64(seed, O_TOK2, r.i)
        tok = f"{t1:016x}{t2:016x}"
        conf = f"{t2 % 36**9:X}"[-9:].rjust(9, "Q")
        created = fmt_local(r.t0)
        onum = self.number + 1000
        ip = f"73.{1 + ((h3 >> 32) & 0xFF) % 254}.{1 + ((h3 >> 40) & 0xFF) % 254}.{1 + ((h3 >> 48) & 0xFF) % 254}"
        bam = "true" if ((h3 >> 56) & 0xFF) < 100 else "false"
        dc = (
            f'[{{"code":"WELCOME10","amount":"{money(self.total_disc)}","type":"percentage"}}]'
            if self.total_disc
            else "[]"
        )
        tags = "VIP" if r.note == 2 else ("repeat-customer" if ((t1 >> 60) & 0xF) == 0 else "")
        na = '[{"name":"gift_message","value":"Happy birthday!"}]' if r.note == 1 and (t2 >> 60) < 3 else "[]"
        email = js(self.email)
        ship = money(self.ship_price)
        addr = "{" + self.addr_json + "}"
        cid = self.cust_id
        cc = fmt_local(self.cust_created)
        gw = js(gateway)
        self.shop_json = (
            f'"id":{oid},"admin_graphql_api_id":"gid://shopify/Order/{oid}","app_id":580111,'
            f'"browser_ip":"{ip}","buyer_accepts_marketing":{bam},"cart_token":null,'
            f'"checkout_id":{3_590_000_000_000 + r.i * 3},"checkout_token":"{tok}","confirmation_number":"{conf}",'
            f'"confirmed":true,"contact_email":{email},"created_at":"{created}","currency":"USD",'
            f'"customer_locale":"en-US","discount_codes":{dc},"email":{email},"estimated_taxes":false,'
            f'"gateway":{gw},"landing_site":"/","location_id":null,"name":"#{onum}","note":{jn(self.note)},'
            f'"note_attributes":{na},"number":{self.number},"order_number":{onum},'
            f'"order_status_url":"https://{catalog.SHOP_DOMAIN}/{catalog.SHOP_ID}/orders/{tok}/authenticate?key={tok[:16]}",'
            f'"payment_gateway_names":[{gw}],"phone":null,"presentment_currency":"USD","processed_at":"{created}",'
            f'"reference":null,"referring_site":null,"source_identifier":null,"source_name":"{src}",'
            f'"subtotal_price":"{money(self.subtotal)}","tags":"{tags}","taxes_included":false,"test":false,'
            f'"token":"{tok}","total_discounts":"{money(self.total_disc)}",'
            f'"total_line_items_price":"{money(self.total_lines)}","total_price":"{money(self.total)}",'
            f'"total_tax":"{money(self.tax)}","total_weight":{self.weight_g},'
            f'"total_shipping_price_set":{{"shop_money":{{"amount":"{ship}","currency_code":"USD"}},'
            f'"presentment_money":{{"amount":"{ship}","currency_code":"USD"}}}},"user_id":null,'
            f'"billing_address":{{{self.bill_json}}},"shipping_address":{addr},'
            f'"customer":{{"id":{cid},"email":{email},"created_at":"{cc}","updated_at":"{cc}",'
            f'"first_name":{js(self.first)},"last_name":{js(self.last)},"state":"enabled","note":null,'
            f'"verified_email":true,"multipass_identifier":null,"tax_exempt":false,'
            f'"phone":{jn(self.cust_phone)},"tags":"",'
            f'"currency":"USD","admin_graphql_api_id":"gid://shopify/Customer/{cid}",'
            f'"default_address":{{"id":{cid + 5},"customer_id":{cid},{self.cust_addr_json},"default":true}}}},'
            f'"shipping_lines":[{{"id":{SHIPLINE_BASE + r.i},"title":"{self.ship_title}","code":"{self.ship_title}",'
            f'"price":"{ship}","discounted_price":"{ship}","source":"shopify","carrier_identifier":null,'
            f'"requested_fulfillment_service_id":null,"phone":null,"tax_lines":[],"discount_allocations":[]}}]'
        )
        return self.shop_json

    # -------------------------------------------------------------- ShipBob static parts
    def recipient(self) -> str:
        if self.recipient_json is None:
            c = self.city
            self.recipient_json = (
                f'{{"name":{js(self.first + " " + self.last)},"address":{{"address1":{js(self.a1)},'
                f'"address2":{jn(self.apt)},"company_name":{jn(self.company)},"city":{js(c[0])},"state":"{c[2]}",'
                f'"country":"US","zip_code":"{c[3]}"}},"email":{js(self.email)},"phone_number":"{self.sb_phone()}"}}'
            )
        return self.recipient_json

    def sb_products(self) -> str:
        if self.sb_products_json is None:
            self.sb_products_json = (
                "["
                + ",".join(
                    f'{{"id":{catalog.SB_PRODUCT_ID[ln.sku.sku]},"reference_id":{js(ln.sku.sku)},"sku":{js(ln.sku.sku)},'
                    f'"quantity":{ln.qty},"external_line_id":{ln.id},"unit_price":{ln.price / 100!r},"gtin":null,'
                    f'"upc":null,"quantity_unit_of_measure_code":null}}'
                    for ln in (self.lines[j] for j in self.own)
                )
                + "]"
            )
        return self.sb_products_json


def static_for(world: World, r: Row) -> Static:
    st = world.statics.get(r.i)
    if st is None:
        st = Static(world, r)
        world.statics.put(r.i, st)
    return st
