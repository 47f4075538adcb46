"""A loopback stand-in for the Stripe API, for the real `stripe` client and dj-stripe.

    fake = FakeStripe().start()              # serves http://127.0.0.1:<port>
    stripe.api_base = fake.url               # dj-stripe and billing.stripe_api call it
    session = fake.pay_checkout("cs_test_...")             # what Stripe does at Checkout
    event = fake.event("checkout.session.completed", session)  # the webhook's body
    fake.requests                            # (method, path, params) of every call

State lives in one dict of objects by id, in the shapes of the API version the client pins
(`2026-08-26.dahlia`: a subscription's period on its items, an invoice's subscription under
`parent.subscription_details`, its lines' price under `pricing.price_details`). It answers:

- `GET /v1/account`; `GET /v1/<collection>/<id>` for customers, products, prices, Checkout
  sessions, payment intents, charges, refunds, disputes, subscriptions, subscription items,
  invoices (with `expand[]` of a field holding an id, and a session's `line_items`);
- lists: prices by `lookup_keys[]` and `active`, subscriptions and invoices by `customer`
  (and `status=all`), charges by `customer`, a product's features (none), a session's and an
  invoice's lines;
- `POST` creating customers, products (a custom `id` is kept), prices (`transfer_lookup_key`
  moves the key from the price that had it), Checkout sessions and billing portal sessions;
  `POST /v1/<collection>/<id>` updating customers, products, prices and subscriptions;
  `DELETE /v1/subscriptions/<id>` cancelling a subscription at once;
- a Checkout page at `GET /checkout/<id>` whose "Pay" button (`POST /checkout/<id>/pay`)
  pays the session the way `pay_checkout` does and redirects to its `success_url`; the
  portal at `GET /portal/<id>`.

With `down` set, every API call answers 503 (an outage).

A POST with an `Idempotency-Key` already seen gets the first answer again, as on Stripe. An
unknown id is a 404 with Stripe's `resource_missing` error; a request without a secret key in
`Authorization` is a 401.

Helpers act as Stripe would (`pay_checkout`, `settle_delayed_payment`, `expire_checkout`,
`renew`, `fail_renewal`, `change_price`, `cancel_at_period_end`, `end_subscription`, `refund`,
`dispute`, `set_subscription_status`) and return the object; `event(type, obj)` snapshots it
into an event. `signature_header(body, secret)` signs a body exactly as Stripe does.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-08-26.dahlia"
DAY = 24 * 60 * 60
MONTH = 30 * DAY

# collection path -> the `object` of its members, and the id prefix of new ones
COLLECTIONS = {
    "customers": ("customer", "cus"),
    "products": ("product", "prod"),
    "prices": ("price", "price"),
    "checkout/sessions": ("checkout.session", "cs_test"),
    "payment_intents": ("payment_intent", "pi"),
    "charges": ("charge", "ch"),
    "refunds": ("refund", "re"),
    "disputes": ("dispute", "dp"),
    "subscriptions": ("subscription", "sub"),
    "subscription_items": ("subscription_item", "si"),
    "invoices": ("invoice", "in"),
    "billing_portal/sessions": ("billing_portal.session", "bps"),
    "events": ("event", "evt"),
}
_ITEM = re.compile(r"^/v1/(?P<collection>[a-z_]+(?:/[a-z_]+)?)/(?P<id>[A-Za-z0-9_]+)$")
_LIST = re.compile(r"^/v1/(?P<collection>[a-z_]+(?:/[a-z_]+)?)$")


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, code: str = "", param: str = ""):
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param

    def body(self) -> dict:
        error = {"type": "invalid_request_error", "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def signature_header(body: str, secret: str, timestamp: int | None = None) -> str:
    """`Stripe-Signature` for `body`: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={signed.hexdigest()}"


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding back into nested values: `a[b][0][c]=x` -> {"a": {"b": [{"c":
    "x"}]}}, `expand[]=x` -> {"expand": ["x"]}."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key.replace("][", "]["))
        head, *rest = [p.strip("[]") if p != "[]" else "" for p in parts]
        node, name = root, head
        for part in rest:
            child = node.setdefault(name, {})
            if part == "":
                part = str(len(child))
            node, name = child, part
        node[name] = value
    return _lists(root)


def public(value):
    """A deep copy without the fake's own bookkeeping (keys starting with "_")."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


def _lists(value):
    if isinstance(value, dict):
        value = {k: _lists(v) for k, v in value.items()}
        if value and all(k.isdigit() for k in value):
            return [value[k] for k in sorted(value, key=int)]
    return value


def _bool(value) -> bool:
    return str(value).lower() == "true"


class FakeStripe:
    def __init__(self):
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._counter = itertools.count(1)
        self.reset()

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeStripe:
        fake = self

        class Handler(_Handler):
            stripe = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self._lock:
            self.objects: dict[str, dict] = {}
            self.requests: list[tuple[str, str, dict]] = []
            self._idempotent: dict[tuple[str, str], tuple[int, dict]] = {}
            self.now = int(time.time())
            self.down = False  # True: every API call answers 503, as in an outage
            self.account = {
                "id": "acct_1FakeLumenTest",
                "object": "account",
                "business_profile": {"name": "Lumen (test)"},
                "business_type": "company",
                "charges_enabled": True,
                "country": "GB",
                "created": self.now - 365 * DAY,
                "default_currency": "gbp",
                "details_submitted": True,
                "email": "billing@example.com",
                "metadata": {},
                "payouts_enabled": True,
                "settings": {
                    "branding": {"icon": None, "logo": None},
                    "dashboard": {"display_name": "Lumen (test)", "timezone": "Etc/UTC"},
                },
                "type": "standard",
            }

    # --- objects ----------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._counter):04d}{secrets.token_hex(8)}"

    def add(self, obj: dict) -> dict:
        with self._lock:
            self.objects[obj["id"]] = obj
        return obj

    def get(self, object_id: str) -> dict:
        return self.objects[object_id]

    def of(self, kind: str) -> list[dict]:
        return [obj for obj in self.objects.values() if obj["object"] == kind]

    def event(self, type: str, obj: dict, *, previous: dict | None = None) -> dict:
        """An event of `type` about a snapshot of `obj`, as the webhook would carry it."""
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now,
            "data": {"object": public(obj), "previous_attributes": previous or {}},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        return self.add(event)

    # --- the API ----------------------------------------------------------------------------
    def handle(self, method: str, path: str, params: dict, headers) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path, params))
            auth = headers.get("Authorization", "")
            if not auth.startswith("Bearer sk_"):
                return 401, {"error": {"type": "invalid_request_error", "message": "No key."}}
            if self.down:
                return 503, {"error": {"type": "api_error", "message": "Stripe is down."}}
            key = headers.get("Idempotency-Key")
            if method == "POST" and key and (path, key) in self._idempotent:
                return self._idempotent[(path, key)]
            try:
                answer = 200, public(self._route(method, path, params))
            except StripeError as error:
                answer = error.status, error.body()
            if method == "POST" and key:
                self._idempotent[(path, key)] = answer
            return answer

    def _route(self, method: str, path: str, params: dict):
        if path == "/v1/account" and method == "GET":
            return self.account
        if m := re.fullmatch(r"/v1/products/([A-Za-z0-9_]+)/features", path):
            self._find("products", m.group(1))
            return self._list([], path)
        if m := re.fullmatch(
            r"/v1/(checkout/sessions|invoices)/([A-Za-z0-9_]+)/(line_items|lines)", path
        ):
            obj = self._find(m.group(1), m.group(2))
            return self._line_items(obj) if obj["object"] == "checkout.session" else obj["lines"]
        if method == "DELETE" and (m := re.fullmatch(r"/v1/subscriptions/([A-Za-z0-9_]+)", path)):
            return self._cancel_now(self._find("subscriptions", m.group(1)))
        if m := _ITEM.fullmatch(path):
            collection, object_id = m.group("collection"), m.group("id")
            if collection in COLLECTIONS:
                if method == "GET":
                    return self._expand(self._find(collection, object_id), params)
                if method == "POST":
                    return self._update(collection, self._find(collection, object_id), params)
        if m := _LIST.fullmatch(path):
            collection = m.group("collection")
            if collection in COLLECTIONS and method == "POST":
                return self._create(collection, params)
            if collection in COLLECTIONS and method == "GET":
                return self._search(collection, params, path)
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _find(self, collection: str, object_id: str) -> dict:
        kind = COLLECTIONS[collection][0]
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            noun = kind.split(".")[-1].replace("_", " ")
            raise StripeError(
                404, f"No such {noun}: '{object_id}'", code="resource_missing", param="id"
            )
        return obj

    def _expand(self, obj: dict, params: dict) -> dict:
        obj = copy.deepcopy(obj)
        for path in params.get("expand", []):
            if path == "line_items" and obj["object"] == "checkout.session":
                obj["line_items"] = self._line_items(obj)
                continue
            node, *rest = path.split(".")
            if isinstance(obj.get(node), str) and obj[node] in self.objects:
                obj[node] = copy.deepcopy(self.objects[obj[node]])
                if rest and isinstance(obj[node].get(rest[0]), str):
                    obj[node][rest[0]] = copy.deepcopy(self.objects.get(obj[node][rest[0]]))
        return obj

    def _list(self, data: list, url: str) -> dict:
        return {"object": "list", "data": data, "has_more": False, "url": url}

    def _search(self, collection: str, params: dict, path: str) -> dict:
        kind = COLLECTIONS[collection][0]
        found = [copy.deepcopy(obj) for obj in self.of(kind)]
        if "lookup_keys" in params:
            found = [p for p in found if p.get("lookup_key") in params["lookup_keys"]]
        if "active" in params:
            found = [p for p in found if p.get("active") == _bool(params["active"])]
        if "customer" in params:
            found = [o for o in found if o.get("customer") == params["customer"]]
        if "subscription" in params:
            found = [o for o in found if _subscription_of(o) == params["subscription"]]
        if kind == "subscription" and params.get("status", "active") != "all":
            wanted = params.get("status")
            found = [
                s for s in found if (s["status"] == wanted if wanted else s["status"] != "canceled")
            ]
        found.sort(key=lambda obj: obj.get("created", 0), reverse=True)
        return self._list(found, path)

    def _line_items(self, session: dict) -> dict:
        data = []
        for item in session["_line_items"]:
            price = copy.deepcopy(self.objects[item["price"]])
            amount = price["unit_amount"] * int(item.get("quantity", 1))
            data.append(
                {
                    "id": self.new_id("li"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": amount,
                    "amount_tax": 0,
                    "amount_total": amount,
                    "currency": price["currency"],
                    "description": self.objects[price["product"]]["name"],
                    "price": price,
                    "quantity": int(item.get("quantity", 1)),
                }
            )
        return self._list(data, f"/v1/checkout/sessions/{session['id']}/line_items")

    # --- creating and updating ----------------------------------------------------------------
    def _create(self, collection: str, params: dict) -> dict:
        create = {
            "customers": self._create_customer,
            "products": self._create_product,
            "prices": self._create_price,
            "checkout/sessions": self._create_checkout_session,
            "billing_portal/sessions": self._create_portal_session,
        }.get(collection)
        if create is None:
            raise StripeError(404, f"Unrecognized request URL (POST: /v1/{collection}).")
        return create(params)

    def _create_customer(self, params: dict) -> dict:
        return self.add(
            {
                "id": self.new_id("cus"),
                "object": "customer",
                "address": None,
                "balance": 0,
                "created": self.now,
                "currency": None,
                "default_source": None,
                "delinquent": False,
                "description": params.get("description"),
                "discount": None,
                "email": params.get("email"),
                "invoice_prefix": secrets.token_hex(4).upper(),
                "invoice_settings": {
                    "custom_fields": None,
                    "default_payment_method": None,
                    "footer": None,
                    "rendering_options": None,
                },
                "livemode": False,
                "metadata": params.get("metadata", {}),
                "name": params.get("name"),
                "phone": None,
                "preferred_locales": [],
                "shipping": None,
                "tax_exempt": "none",
                "test_clock": None,
            }
        )

    def _create_product(self, params: dict) -> dict:
        product_id = params.get("id") or self.new_id("prod")
        if product_id in self.objects:
            raise StripeError(
                400, f"Product already exists: '{product_id}'", code="resource_already_exists"
            )
        return self.add(
            {
                "id": product_id,
                "object": "product",
                "active": _bool(params.get("active", "true")),
                "created": self.now,
                "default_price": None,
                "description": params.get("description"),
                "images": [],
                "livemode": False,
                "marketing_features": [],
                "metadata": params.get("metadata", {}),
                "name": params["name"],
                "package_dimensions": None,
                "shippable": None,
                "statement_descriptor": None,
                "tax_code": None,
                "type": "service",
                "unit_label": None,
                "updated": self.now,
                "url": None,
            }
        )

    def _create_price(self, params: dict) -> dict:
        self._find("products", params["product"])
        lookup_key = params.get("lookup_key")
        holders = [p for p in self.of("price") if lookup_key and p.get("lookup_key") == lookup_key]
        if holders and not _bool(params.get("transfer_lookup_key", "false")):
            raise StripeError(
                400,
                f"A price (`{holders[0]['id']}`) already uses that lookup key.",
                code="lookup_key_already_exists",
            )
        for holder in holders:
            holder["lookup_key"] = None
        recurring = params.get("recurring")
        return self.add(
            {
                "id": self.new_id("price"),
                "object": "price",
                "active": True,
                "billing_scheme": "per_unit",
                "created": self.now,
                "currency": params["currency"],
                "custom_unit_amount": None,
                "livemode": False,
                "lookup_key": lookup_key,
                "metadata": params.get("metadata", {}),
                "nickname": params.get("nickname"),
                "product": params["product"],
                "recurring": None
                if not recurring
                else {
                    "interval": recurring["interval"],
                    "interval_count": int(recurring.get("interval_count", 1)),
                    "meter": None,
                    "usage_type": "licensed",
                },
                "tax_behavior": "unspecified",
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "recurring" if recurring else "one_time",
                "unit_amount": int(params["unit_amount"]),
                "unit_amount_decimal": params["unit_amount"],
            }
        )

    def _create_checkout_session(self, params: dict) -> dict:
        mode = params["mode"]
        items = params["line_items"]
        prices = [self._find("prices", item["price"]) for item in items]
        for price in prices:
            if not price["active"]:
                raise StripeError(
                    400, f"The price `{price['id']}` is not active.", param="line_items"
                )
            if (price["type"] == "recurring") != (mode == "subscription"):
                raise StripeError(400, f"The price `{price['id']}` does not fit mode {mode}.")
        if params.get("customer"):
            self._find("customers", params["customer"])
        total = sum(
            p["unit_amount"] * int(i.get("quantity", 1)) for p, i in zip(prices, items, strict=True)
        )
        session_id = self.new_id("cs_test")
        return self.add(
            {
                "id": session_id,
                "object": "checkout.session",
                "_line_items": items,
                "_subscription_data": params.get("subscription_data", {}),
                "_payment_intent_data": params.get("payment_intent_data", {}),
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": params.get("cancel_url"),
                "client_reference_id": params.get("client_reference_id"),
                "created": self.now,
                "currency": prices[0]["currency"],
                "customer": params.get("customer"),
                "customer_email": params.get("customer_email"),
                "expires_at": self.now + DAY,
                "invoice": None,
                "livemode": False,
                "locale": None,
                "metadata": params.get("metadata", {}),
                "mode": mode,
                "payment_intent": None,
                "payment_method_types": ["card"],
                "payment_status": "unpaid",
                "setup_intent": None,
                "status": "open",
                "subscription": None,
                "success_url": params.get("success_url"),
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "url": f"{self.url}/checkout/{session_id}",
            }
        )

    def _create_portal_session(self, params: dict) -> dict:
        self._find("customers", params["customer"])
        portal_id = self.new_id("bps")
        return self.add(
            {
                "id": portal_id,
                "object": "billing_portal.session",
                "created": self.now,
                "customer": params["customer"],
                "livemode": False,
                "return_url": params.get("return_url"),
                "url": f"{self.url}/portal/{portal_id}",
            }
        )

    def _update(self, collection: str, obj: dict, params: dict) -> dict:
        if collection not in ("customers", "products", "prices", "subscriptions"):
            raise StripeError(
                404, f"Unrecognized request URL (POST: /v1/{collection}/{obj['id']})."
            )
        for name, value in params.items():
            if name == "metadata":
                obj["metadata"] = {**obj.get("metadata", {}), **value}
            elif name in ("active", "cancel_at_period_end"):
                obj[name] = _bool(value)
            elif name in ("name", "email", "nickname", "description", "phone"):
                obj[name] = value or None
            elif name in ("address", "shipping") and collection == "customers":
                if value:
                    raise StripeError(400, f"{name} takes a hash", param=name)
                obj[name] = None
            elif name != "expand":
                raise StripeError(400, f"Received unknown parameter: {name}", param=name)
        obj["updated"] = self.now
        return self._expand(obj, params)

    # --- what Stripe does (the tests' side) ----------------------------------------------------
    def checkout_success_url(self, session_id: str) -> str:
        session = self.get(session_id)
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)

    def _payment_intent(self, *, customer, amount, currency, metadata, status) -> dict:
        intent = self.add(
            {
                "id": self.new_id("pi"),
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_received": amount if status == "succeeded" else 0,
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": "automatic",
                "client_secret": f"pi_secret_{secrets.token_hex(8)}",
                "confirmation_method": "automatic",
                "created": self.now,
                "currency": currency,
                "customer": customer,
                "description": None,
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": metadata,
                "next_action": None,
                "on_behalf_of": None,
                "payment_method": None,
                "payment_method_types": ["card", "bacs_debit"],
                "receipt_email": None,
                "setup_future_usage": None,
                "shipping": None,
                "statement_descriptor": None,
                "status": status,
                "transfer_data": None,
                "transfer_group": None,
            }
        )
        if status in ("succeeded", "processing"):
            self._charge(intent, paid=status == "succeeded")
        return intent

    def _charge(self, intent: dict, *, paid: bool) -> dict:
        charge = self.add(
            {
                "id": self.new_id("ch"),
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": intent["amount"] if paid else 0,
                "amount_refunded": 0,
                "balance_transaction": None,
                "billing_details": {"address": None, "email": None, "name": None, "phone": None},
                "captured": paid,
                "created": self.now,
                "currency": intent["currency"],
                "customer": intent["customer"],
                "description": None,
                "disputed": False,
                "failure_code": None,
                "failure_message": None,
                "fraud_details": {},
                "livemode": False,
                "metadata": intent["metadata"],
                "outcome": {"network_status": "approved_by_network", "type": "authorized"},
                "paid": paid,
                "payment_intent": intent["id"],
                "payment_method": None,
                "payment_method_details": {
                    "type": "card",
                    "card": {"brand": "visa", "last4": "4242"},
                },
                "receipt_url": f"https://pay.stripe.com/receipts/payment/{secrets.token_hex(12)}",
                "refunded": False,
                "status": "succeeded" if paid else "pending",
            }
        )
        intent["latest_charge"] = charge["id"]
        return charge

    def pay_checkout(self, session_id: str, *, delayed: bool = False, trial_days: int = 0) -> dict:
        """The customer pays at Checkout: the session completes, paid (or, with `delayed`, a
        bank debit still processing: `unpaid`). In subscription mode this makes the subscription
        (trialing for `trial_days`) and its first invoice."""
        with self._lock:
            session = self.get(session_id)
            session["status"] = "complete"
            if session["mode"] == "payment":
                intent = self._payment_intent(
                    customer=session["customer"],
                    amount=session["amount_total"],
                    currency=session["currency"],
                    metadata=session["_payment_intent_data"].get("metadata", {}),
                    status="processing" if delayed else "succeeded",
                )
                session["payment_intent"] = intent["id"]
                session["payment_status"] = "unpaid" if delayed else "paid"
            else:
                price_id = session["_line_items"][0]["price"]
                subscription = self._subscription(
                    customer=session["customer"],
                    price_id=price_id,
                    metadata=session["_subscription_data"].get("metadata", {}),
                    trial_days=trial_days,
                )
                session["subscription"] = subscription["id"]
                session["invoice"] = subscription["latest_invoice"]
                session["payment_status"] = "no_payment_required" if trial_days else "paid"
            return session

    def settle_delayed_payment(self, session_id: str, *, succeeded: bool) -> dict:
        with self._lock:
            session = self.get(session_id)
            intent = self.get(session["payment_intent"])
            charge = self.get(intent["latest_charge"])
            if succeeded:
                intent.update(status="succeeded", amount_received=intent["amount"])
                charge.update(
                    paid=True, captured=True, status="succeeded", amount_captured=charge["amount"]
                )
                session["payment_status"] = "paid"
            else:
                intent.update(
                    status="requires_payment_method",
                    last_payment_error={"code": "debit_not_authorized"},
                )
                charge.update(status="failed", failure_code="debit_not_authorized")
            return session

    def expire_checkout(self, session_id: str) -> dict:
        with self._lock:
            session = self.get(session_id)
            session["status"] = "expired"
            return session

    def _subscription(self, *, customer, price_id, metadata, trial_days) -> dict:
        price = self.get(price_id)
        start = self.now
        end = start + (trial_days * DAY if trial_days else MONTH)
        subscription_id = self.new_id("sub")
        item = {
            "id": self.new_id("si"),
            "object": "subscription_item",
            "created": start,
            "current_period_end": end,
            "current_period_start": start,
            "discounts": [],
            "metadata": {},
            "price": copy.deepcopy(price),
            "quantity": 1,
            "subscription": subscription_id,
            "tax_rates": [],
        }
        subscription = self.add(
            {
                "id": subscription_id,
                "object": "subscription",
                "billing_cycle_anchor": end if trial_days else start,
                "cancel_at": None,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "collection_method": "charge_automatically",
                "created": start,
                "currency": price["currency"],
                "customer": customer,
                "default_payment_method": None,
                "default_tax_rates": [],
                "description": None,
                "discounts": [],
                "ended_at": None,
                "items": self._list(
                    [item], f"/v1/subscription_items?subscription={subscription_id}"
                ),
                "latest_invoice": None,
                "livemode": False,
                "metadata": metadata,
                "pending_setup_intent": None,
                "pending_update": None,
                "schedule": None,
                "start_date": start,
                "status": "trialing" if trial_days else "active",
                "trial_end": end if trial_days else None,
                "trial_start": start if trial_days else None,
            }
        )
        self.add({**copy.deepcopy(item)})
        self._invoice(subscription, reason="subscription_create", paid=True, trial=bool(trial_days))
        return subscription

    def _item(self, subscription: dict) -> dict:
        return subscription["items"]["data"][0]

    def _invoice(self, subscription: dict, *, reason: str, paid: bool, trial: bool = False) -> dict:
        item = self._item(subscription)
        price = item["price"]
        amount = 0 if trial else price["unit_amount"]
        product_name = self.get(price["product"])["name"]
        invoice_id = self.new_id("in")
        line = {
            "id": self.new_id("il"),
            "object": "line_item",
            "amount": amount,
            "currency": price["currency"],
            "description": ("Trial period for " if trial else "1 × ") + product_name,
            "discount_amounts": [],
            "discountable": True,
            "discounts": [],
            "invoice": invoice_id,
            "livemode": False,
            "metadata": {},
            "parent": {
                "type": "subscription_item_details",
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription["id"],
                    "subscription_item": item["id"],
                },
            },
            "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
            "pricing": {
                "price_details": {"price": price["id"], "product": price["product"]},
                "type": "price_details",
                "unit_amount_decimal": str(price["unit_amount"]),
            },
            "quantity": 1,
        }
        invoice = self.add(
            {
                "id": invoice_id,
                "object": "invoice",
                "account_country": "GB",
                "account_name": "Lumen (test)",
                "amount_due": amount,
                "amount_paid": amount if paid else 0,
                "amount_remaining": 0 if paid else amount,
                "attempt_count": 1,
                "attempted": True,
                "auto_advance": not paid,
                "billing_reason": reason,
                "collection_method": "charge_automatically",
                "created": self.now,
                "currency": price["currency"],
                "customer": subscription["customer"],
                "default_payment_method": None,
                "description": None,
                "discounts": [],
                "due_date": None,
                "ending_balance": 0,
                "footer": None,
                "hosted_invoice_url": f"https://invoice.stripe.com/i/{secrets.token_hex(10)}",
                "invoice_pdf": f"https://pay.stripe.com/invoice/{secrets.token_hex(10)}/pdf",
                "lines": self._list([line], f"/v1/invoices/{invoice_id}/lines"),
                "livemode": False,
                "metadata": {},
                "number": f"LUMEN-{next(self._counter):04d}",
                "parent": {
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": {"metadata": {}, "subscription": subscription["id"]},
                },
                "period_end": item["current_period_start"],
                "period_start": item["current_period_start"],
                "receipt_number": None,
                "starting_balance": 0,
                "status": "paid" if paid else "open",
                "status_transitions": {
                    "paid_at": self.now if paid else None,
                    "finalized_at": self.now,
                },
                "subtotal": amount,
                "total": amount,
                "webhooks_delivered_at": None,
            }
        )
        subscription["latest_invoice"] = invoice_id
        return invoice

    def renew(self, subscription_id: str, *, paid: bool = True) -> dict:
        """The next period starts; its invoice is paid (or, with `paid=False`, its payment
        fails and the subscription is past due). Returns the invoice."""
        with self._lock:
            subscription = self.get(subscription_id)
            assert not subscription["cancel_at_period_end"], "it ends at the period's end"
            item = self._item(subscription)
            start = item["current_period_end"]
            item.update(current_period_start=start, current_period_end=start + MONTH)
            self.objects[item["id"]] = copy.deepcopy(item)
            if subscription["status"] == "trialing":
                subscription["status"] = "active"
            invoice = self._invoice(subscription, reason="subscription_cycle", paid=paid)
            subscription["status"] = "active" if paid else "past_due"
            return invoice

    def fail_renewal(self, subscription_id: str) -> dict:
        return self.renew(subscription_id, paid=False)

    def pay_invoice(self, invoice_id: str) -> dict:
        """A failed invoice paid on a later attempt (the subscription is active again)."""
        with self._lock:
            invoice = self.get(invoice_id)
            invoice.update(
                status="paid",
                amount_paid=invoice["amount_due"],
                amount_remaining=0,
                attempt_count=invoice["attempt_count"] + 1,
            )
            invoice["status_transitions"]["paid_at"] = self.now
            self.get(_subscription_of(invoice))["status"] = "active"
            return invoice

    def change_price(self, subscription_id: str, price_id: str) -> dict:
        """A plan change in the portal: the item's price changes now, the period stays."""
        with self._lock:
            subscription = self.get(subscription_id)
            item = self._item(subscription)
            item["price"] = copy.deepcopy(self.get(price_id))
            self.objects[item["id"]] = copy.deepcopy(item)
            return subscription

    def cancel_at_period_end(self, subscription_id: str, cancel: bool = True) -> dict:
        with self._lock:
            subscription = self.get(subscription_id)
            subscription["cancel_at_period_end"] = cancel
            subscription["cancel_at"] = (
                self._item(subscription)["current_period_end"] if cancel else None
            )
            subscription["canceled_at"] = self.now if cancel else None
            return subscription

    def set_subscription_status(self, subscription_id: str, status: str) -> dict:
        with self._lock:
            subscription = self.get(subscription_id)
            subscription["status"] = status
            return subscription

    def _cancel_now(self, subscription: dict) -> dict:
        """`DELETE /v1/subscriptions/<id>`: cancelled at once, as Stripe does; an ended one is
        refused."""
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                400, "A canceled subscription can only update its cancellation_details."
            )
        subscription.update(
            status="canceled",
            ended_at=self.now,
            canceled_at=self.now,
            cancel_at_period_end=False,
            cancel_at=None,
        )
        return subscription

    def end_subscription(self, subscription_id: str) -> dict:
        with self._lock:
            subscription = self.get(subscription_id)
            subscription.update(
                status="canceled",
                ended_at=self.now,
                canceled_at=subscription["canceled_at"] or self.now,
            )
            return subscription

    def refund(self, charge_id: str, amount: int | None = None) -> dict:
        """Refund `amount` (all that is left by default); returns the charge."""
        with self._lock:
            charge = self.get(charge_id)
            amount = (
                charge["amount_captured"] - charge["amount_refunded"] if amount is None else amount
            )
            self.add(
                {
                    "id": self.new_id("re"),
                    "object": "refund",
                    "amount": amount,
                    "balance_transaction": None,
                    "charge": charge_id,
                    "created": self.now,
                    "currency": charge["currency"],
                    "metadata": {},
                    "payment_intent": charge["payment_intent"],
                    "reason": "requested_by_customer",
                    "receipt_number": None,
                    "status": "succeeded",
                }
            )
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            return charge

    def dispute(
        self, charge_id: str, *, status: str = "needs_response", dispute_id: str | None = None
    ) -> dict:
        """A dispute of the charge, opened or moved to `status` (`lost`, `won`)."""
        with self._lock:
            charge = self.get(charge_id)
            if dispute_id:
                dispute = self.get(dispute_id)
                dispute["status"] = status
                return dispute
            charge["disputed"] = True
            return self.add(
                {
                    "id": self.new_id("dp"),
                    "object": "dispute",
                    "amount": charge["amount"],
                    "balance_transactions": [],
                    "charge": charge_id,
                    "created": self.now,
                    "currency": charge["currency"],
                    "evidence": {},
                    "evidence_details": {"due_by": self.now + 7 * DAY, "has_evidence": False},
                    "is_charge_refundable": False,
                    "livemode": False,
                    "metadata": {},
                    "payment_intent": charge["payment_intent"],
                    "reason": "fraudulent",
                    "status": status,
                }
            )


def _subscription_of(obj: dict) -> str | None:
    parent = obj.get("parent") or {}
    return (parent.get("subscription_details") or {}).get("subscription")


class _Handler(BaseHTTPRequestHandler):
    stripe: FakeStripe
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _params(self) -> dict:
        query = urlsplit(self.path).query
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        return decode_form(
            parse_qsl(query, keep_blank_values=True) + parse_qsl(body, keep_blank_values=True)
        )

    def _send(self, status: int, payload, *, content_type="application/json", location=None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, path: str, method: str) -> bool:
        """The Checkout and portal pages a browser is sent to."""
        if m := re.fullmatch(r"/checkout/([A-Za-z0-9_]+)(/pay)?", path):
            session = self.stripe.objects.get(m.group(1))
            if session is None:
                self._send(404, b"No such checkout", content_type="text/plain")
            elif method == "POST" and m.group(2):
                self.stripe.pay_checkout(session["id"])
                self._send(
                    303,
                    b"",
                    content_type="text/plain",
                    location=self.stripe.checkout_success_url(session["id"]),
                )
            else:
                html = (
                    '<!doctype html><title>Fake Checkout</title><link rel="icon" href="data:,">'
                    "<h1>Fake Checkout</h1>"
                    f"<p>Amount: {session['amount_total']} {session['currency']}</p>"
                    f'<form method="post" action="/checkout/{session["id"]}/pay">'
                    "<button>Pay</button></form>"
                    f'<a href="{session["cancel_url"]}">Back</a>'
                )
                self._send(200, html.encode(), content_type="text/html")
            return True
        if re.fullmatch(r"/portal/[A-Za-z0-9_]+", path):
            self._send(
                200,
                b'<!doctype html><title>Fake portal</title><link rel="icon" href="data:,">'
                b"<h1>Fake portal</h1>",
                content_type="text/html",
            )
            return True
        return False

    def _serve(self, method: str):
        path = urlsplit(self.path).path
        params = self._params()
        if self._page(path, method):
            return
        status, payload = self.stripe.handle(method, path, params, self.headers)
        self._send(status, payload)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")
