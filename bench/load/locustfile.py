"""The MarketRed traffic mix for Locust (run by bench/load/run.py, which starts the stack
and writes the fixture this file reads from MARKETRED_LOAD_FIXTURE).

Task weights: 70 browse/search/product pages, 15 carts, 8 quote creation, 5 vendor
accept/ship, 2 payment through the Khipu sandbox. Quotes flow between the tasks through
shared queues: created → accepted by its vendor → paid by its buyer → shipped.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import random
import threading
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

FIXTURE: dict[str, Any] = json.loads(Path(os.environ["MARKETRED_LOAD_FIXTURE"]).read_text())
BUYERS = itertools.cycle(FIXTURE["buyers"])
_lock = threading.Lock()
# (quote id, vendor slug, buyer headers, workflow id) waiting for the next step.
requested: collections.deque[tuple[str, str, dict[str, str], str]] = collections.deque()
accepted: collections.deque[tuple[str, str, dict[str, str], str]] = collections.deque()
paying: collections.deque[tuple[str, str, dict[str, str], str]] = collections.deque()


class Shopper(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        with _lock:
            self.buyer: dict[str, str] = next(BUYERS)

    # 70: browse, search, product pages (API and storefront HTML).
    @task(25)
    def search_api(self) -> None:
        q = random.choice(FIXTURE["queries"])
        self.client.get(
            "/api/v1/products/search", params={"q": q}, name="GET /api/v1/products/search"
        )

    @task(15)
    def search_page(self) -> None:
        q = random.choice(FIXTURE["queries"])
        self.client.get("/buscar", params={"q": q}, name="GET /buscar (web)")

    @task(15)
    def product(self) -> None:
        pid = random.choice(FIXTURE["product_ids"])
        if random.random() < 0.5:
            self.client.get(f"/api/v1/products/{pid}", name="GET /api/v1/products/{id}")
        else:
            self.client.get(f"/productos/{pid}", name="GET /productos/{id} (web)")

    @task(10)
    def vendor_catalog(self) -> None:
        slug = random.choice(FIXTURE["browse_vendors"])
        self.client.get(
            f"/api/v1/vendors/{slug}/products", name="GET /api/v1/vendors/{slug}/products"
        )

    @task(5)
    def home(self) -> None:
        self.client.get("/", name="GET / (web)")

    # 15: carts.
    @task(10)
    def fill_cart(self) -> None:
        vendor = random.choice(FIXTURE["quote_vendors"])
        variant = random.choice(vendor["variants"])
        self.client.put(
            f"/api/v1/carts/{vendor['slug']}/items/{variant}",
            json={"quantity": random.randint(1, 3)},
            headers=self.buyer,
            name="PUT /api/v1/carts/{vendor}/items/{variant}",
        )

    @task(5)
    def view_carts(self) -> None:
        self.client.get("/api/v1/carts", headers=self.buyer, name="GET /api/v1/carts")

    # 8: quote creation (the cart is filled first; only the POST is the quote figure).
    @task(8)
    def create_quote(self) -> None:
        vendor = random.choice(FIXTURE["quote_vendors"])
        self.client.put(
            f"/api/v1/carts/{vendor['slug']}/items/{random.choice(vendor['variants'])}",
            json={"quantity": 1},
            headers=self.buyer,
            name="PUT /api/v1/carts/{vendor}/items/{variant}",
        )
        with self.client.post(
            "/api/v1/quotes",
            json={"vendor": vendor["slug"], "note": "carga", "contact": {}},
            headers=self.buyer,
            name="POST /api/v1/quotes",
            catch_response=True,
        ) as r:
            if r.status_code == 201:
                body = r.json()
                requested.append((body["id"], vendor["slug"], self.buyer, body["workflow_id"]))
                r.success()
            elif r.status_code == 422:  # the cart emptied by a quote a moment ago
                r.success()

    # 5: vendors accept requested quotes and ship paid ones.
    @task(5)
    def vendor_step(self) -> None:
        if paying and random.random() < 0.5:
            qid, slug, buyer, wf = paying.popleft()
            staff = FIXTURE["staff"][slug]
            status = (
                self.client.get(
                    f"/api/v1/quotes/{qid}", headers=staff, name="GET /api/v1/quotes/{id}"
                )
                .json()
                .get("status")
            )
            if status != "PAID":
                paying.append((qid, slug, buyer, wf))
                return
            self.client.post(
                f"/api/v1/quotes/{qid}/ship",
                json={"carrier": "Starken", "tracking": qid[:8]},
                headers=staff,
                name="POST /api/v1/quotes/{id}/ship",
            )
        elif requested:
            qid, slug, buyer, wf = requested.popleft()
            r = self.client.post(
                f"/api/v1/quotes/{qid}/accept",
                json={"shipping_cost": 3990},
                headers=FIXTURE["staff"][slug],
                name="POST /api/v1/quotes/{id}/accept",
            )
            if r.status_code == 200:
                accepted.append((qid, slug, buyer, wf))

    # 2: the buyer pays an accepted quote through the Khipu sandbox.
    @task(2)
    def pay(self) -> None:
        if not accepted:
            return
        qid, slug, buyer, wf = accepted.popleft()
        r = self.client.post(
            f"/api/v1/quotes/{qid}/pay", headers=buyer, name="POST /api/v1/quotes/{id}/pay"
        )
        if r.status_code != 200:
            return
        khipu = FIXTURE["khipu_url"]
        listed = self.client.get(f"{khipu}/_sandbox/payments", name="khipu sandbox: list").json()
        payment_id = next(
            (str(p["payment_id"]) for p in listed if p.get("transaction_id") == wf),
            r.json()["payment_url"].rstrip("/").rsplit("/", 1)[-1],
        )
        self.client.post(
            f"{khipu}/_sandbox/payments/{payment_id}/pay", json={}, name="khipu sandbox: pay"
        )
        paying.append((qid, slug, buyer, wf))
