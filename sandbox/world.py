"""The ground truth the four systems are generated from: real customers, their contracts and invoices.

Vendor generators render this truth into each system's own shape and add the mess (name variants,
duplicates, missing tax ids, late or wrong ERP postings, stale entitlements). Because the truth is
kept here, tests can ask which records are one customer and how each invoice should reconcile.
Everything is derived from `random.Random(seed)` streams, so the same seed gives the same world.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from faker import Faker

# The simulated clock: generation history ends here; `simulate` moves it forward.
SIM_START = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp())
SIM_NOW = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())
DAY = 86_400

COUNTRIES = [
    # code, faker locale, currency, VAT prefix, tax rate, weight
    ("US", "en_US", "usd", "", 0.0, 40),
    ("GB", "en_GB", "gbp", "GB", 0.20, 14),
    ("DE", "de_DE", "eur", "DE", 0.19, 14),
    ("FR", "fr_FR", "eur", "FR", 0.20, 10),
    ("NL", "nl_NL", "eur", "NL", 0.21, 8),
    ("ES", "es_ES", "eur", "ES", 0.21, 6),
    ("CA", "en_CA", "cad", "", 0.05, 8),
]
LEGAL_SUFFIXES = {
    "US": ["Inc.", "LLC", "Corp."],
    "GB": ["Ltd", "PLC", "Limited"],
    "DE": ["GmbH", "AG"],
    "FR": ["SAS", "SARL", "SA"],
    "NL": ["B.V.", "N.V."],
    "ES": ["S.L.", "S.A."],
    "CA": ["Inc.", "Ltd."],
}
INDUSTRIES = [
    "Software",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Finance",
    "Logistics",
    "Education",
    "Media",
]
OWNERS = [f"owner{i:02d}" for i in range(1, 25)]

# Products and plans: tiered, monthly and annual.
PLANS = [
    # plan code, name, monthly unit price (minor units, USD-equivalent), support entitlement
    ("starter", "Starter", 4_900, "standard"),
    ("growth", "Growth", 19_900, "priority"),
    ("scale", "Scale", 79_900, "premium"),
    ("enterprise", "Enterprise", 249_900, "premium_24x7"),
]
PLAN_RANK = {p[0]: i for i, p in enumerate(PLANS)}
FX_TO_USD = {"usd": 1.0, "eur": 1.08, "gbp": 1.27, "cad": 0.73}


@dataclass(slots=True)
class Customer:
    key: str  # truth id, e.g. C0000123
    legal_name: str
    brand: str
    domain: str
    country: str
    currency: str
    tax_id: str | None
    address_line1: str
    city: str
    postal_code: str
    region: str | None
    phone: str
    industry: str
    owner: str
    employees: int
    created: int
    contacts: list[dict] = field(default_factory=list)


@dataclass(slots=True)
class Contract:
    key: str  # truth id, e.g. K0000123-1
    customer_key: str
    plan: str
    interval: str  # month | year
    seats: int
    start: int
    status: str  # trialing | active | past_due | canceled
    canceled_at: int | None
    trial_end: int | None
    discount_pct: int
    # (timestamp, plan) plan changes; upgrades and downgrades
    changes: list[tuple[int, str]] = field(default_factory=list)


@dataclass(slots=True)
class Invoice:
    key: str  # truth id, e.g. I0000123-1-4
    customer_key: str
    contract_key: str
    period_start: int
    period_end: int
    created: int
    currency: str
    plan: str
    seats: int
    unit_amount: int
    subtotal: int
    discount: int
    tax: int
    total: int
    paid: bool
    payment_failed: bool
    credit_note_amount: int = 0


@dataclass
class World:
    seed: int
    scale: int
    customers: list[Customer]
    contracts: list[Contract]
    invoices: list[Invoice]

    def customer(self, key: str) -> Customer:
        return self._by_key[key]

    def __post_init__(self) -> None:
        self._by_key = {c.key: c for c in self.customers}


def plan_price(plan: str, interval: str, currency: str) -> int:
    """Unit price per seat in the customer's currency (minor units); annual = 10 months."""
    usd = next(p[2] for p in PLANS if p[0] == plan)
    local = round(usd / FX_TO_USD[currency] / 100) * 100
    return local * (10 if interval == "year" else 1)


def entitlement_for(plan: str) -> str:
    return next(p[3] for p in PLANS if p[0] == plan)


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:24] or "company"


class _Names:
    """Distinct company brands from Faker plus a deterministic disambiguator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()
        self.slugs: set[str] = set()

    def slug(self, brand: str) -> str:
        """Distinct real companies never share a domain ("Brown & Richards" vs "Brown Richards")."""
        base = _slug(brand)
        slug, n = base, 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}{n}"
        self.slugs.add(slug)
        return slug

    def brand(self, fake: PooledFaker) -> str:
        for _ in range(20):
            base = fake.last_name()
            style = self.rng.random()
            if style < 0.35:
                name = f"{base} {self.rng.choice(['Systems', 'Labs', 'Group', 'Analytics', 'Logistics', 'Partners', 'Works', 'Digital', 'Foods', 'Industries'])}"
            elif style < 0.6:
                name = f"{base} & {fake.last_name()}"
            elif style < 0.8:
                name = f"{base}{self.rng.choice(['ly', 'io', 'ify', 'hub', 'stack', 'base'])}".capitalize()
            else:
                name = f"{fake.color_name()} {base}".replace("  ", " ")
            if name.lower() not in self.seen:
                self.seen.add(name.lower())
                return name
        name = f"{base} {len(self.seen)}"
        self.seen.add(name.lower())
        return name


def _tax_id(rng: random.Random, country: str, prefix: str) -> str | None:
    if country == "US":
        return f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}"  # EIN
    if country == "CA":
        return f"{rng.randint(100000000, 999999999)}RT0001"
    digits = "".join(str(rng.randint(0, 9)) for _ in range(9))
    return f"{prefix}{digits}"


def make_customer(
    index: int, rng: random.Random, fakers: dict[str, PooledFaker], names: _Names, created: int
) -> Customer:
    country, locale, currency, prefix, _tax, _w = rng.choices(COUNTRIES, weights=[c[5] for c in COUNTRIES])[0]
    fake = fakers[locale]
    brand = names.brand(fake)
    suffix = rng.choice(LEGAL_SUFFIXES[country])
    domain = f"{names.slug(brand)}.{rng.choice(['com', 'com', 'io', 'co', country.lower()])}"
    region = fake.state_abbr() if country == "US" else fake.province_abbr() if country == "CA" else None
    customer = Customer(
        key=f"C{index:07d}",
        legal_name=f"{brand} {suffix}",
        brand=brand,
        domain=domain,
        country=country,
        currency=currency,
        tax_id=_tax_id(rng, country, prefix),
        address_line1=fake.street_address().replace("\n", " "),
        city=fake.city(),
        postal_code=fake.postcode(),
        region=region,
        phone=fake.phone_number(),
        industry=rng.choice(INDUSTRIES),
        owner=rng.choice(OWNERS),
        employees=int(rng.lognormvariate(4, 1.2)) + 2,
        created=created,
    )
    for c in range(rng.choice([1, 1, 2, 2, 3, 4])):
        first, last = fake.first_name(), fake.last_name()
        customer.contacts.append(
            {
                "first_name": first,
                "last_name": last,
                "email": f"{_slug(first)}.{_slug(last)}@{domain}",
                "phone": fake.phone_number(),
                "title": rng.choice(["CFO", "Controller", "CTO", "Head of Ops", "Buyer", "CEO", "Engineer"]),
                "primary": c == 0,
            }
        )
    return customer


def make_contracts(customer: Customer, rng: random.Random, now: int) -> list[Contract]:
    contracts = []
    count = 1 if rng.random() < 0.9 else 2
    for n in range(1, count + 1):
        plan = rng.choices([p[0] for p in PLANS], weights=[45, 30, 18, 7])[0]
        interval = "year" if rng.random() < 0.35 else "month"
        start = (
            max(customer.created, now - rng.randint(5, 360) * DAY)
            if n == 1
            else now - rng.randint(5, 120) * DAY
        )
        start = min(start, now - DAY)
        seats = max(1, int(rng.lognormvariate(1.5, 0.9)))
        roll = rng.random()
        status, canceled_at, trial_end = "active", None, None
        if roll < 0.05:
            status, trial_end = "trialing", now + rng.randint(2, 14) * DAY
            start = now - rng.randint(1, 10) * DAY
        elif roll < 0.15:
            status = "canceled"
            canceled_at = min(now - DAY, start + rng.randint(30, 300) * DAY)
        elif roll < 0.19:
            status = "past_due"
        contract = Contract(
            key=f"K{customer.key[1:]}-{n}",
            customer_key=customer.key,
            plan=plan,
            interval=interval,
            seats=seats,
            start=start,
            status=status,
            canceled_at=canceled_at,
            trial_end=trial_end,
            discount_pct=rng.choice([0, 0, 0, 0, 10, 15, 20]),
        )
        if status in ("active", "past_due") and rng.random() < 0.15:
            when = start + (now - start) // 2
            new_plan = (
                PLANS[min(len(PLANS) - 1, PLAN_RANK[plan] + 1)][0]
                if rng.random() < 0.7
                else PLANS[max(0, PLAN_RANK[plan] - 1)][0]
            )
            if new_plan != plan:
                contract.changes.append((when, new_plan))
        contracts.append(contract)
    return contracts


def plan_at(contract: Contract, ts: int) -> str:
    plan = contract.plan
    for when, new_plan in contract.changes:
        if ts >= when:
            plan = new_plan
    return plan


def make_invoices(
    customer: Customer, contract: Contract, rng: random.Random, now: int, first_seq: int = 1
) -> list[Invoice]:
    """One invoice per billing period from the contract start until now (or cancellation)."""
    if contract.status == "trialing":
        return []
    tax_rate = next(c[4] for c in COUNTRIES if c[0] == customer.country)
    step = 365 * DAY if contract.interval == "year" else 30 * DAY
    end = contract.canceled_at or now
    invoices, period_start, seq = [], contract.start, first_seq
    while period_start <= end and period_start <= now:
        plan = plan_at(contract, period_start)
        unit = plan_price(plan, contract.interval, customer.currency)
        subtotal = unit * contract.seats
        discount = subtotal * contract.discount_pct // 100
        tax = round((subtotal - discount) * tax_rate)
        total = subtotal - discount + tax
        is_last = period_start + step > now
        failed = contract.status == "past_due" and is_last
        invoices.append(
            Invoice(
                key=f"I{contract.key[1:]}-{seq}",
                customer_key=customer.key,
                contract_key=contract.key,
                period_start=period_start,
                period_end=period_start + step,
                created=min(period_start + rng.randint(0, 3600), now),  # never after the clock
                currency=customer.currency,
                plan=plan,
                seats=contract.seats,
                unit_amount=unit,
                subtotal=subtotal,
                discount=discount,
                tax=tax,
                total=total,
                paid=not failed,
                payment_failed=failed or rng.random() < 0.03,
                credit_note_amount=(total // 2 if rng.random() < 0.03 else 0),
            )
        )
        period_start += step
        seq += 1
    return invoices


class PooledFaker:
    """Faker values drawn fresh until a pool of `cap` per kind is full, then reused at random.

    Faker's weighted sampling costs ~50 us a value; at scale 100k that dominated generation. A pool of
    thousands of real Faker values per locale keeps the data varied and the cost flat.
    """

    def __init__(self, fake: Faker, rng: random.Random, cap: int = 3000) -> None:
        self._fake, self._rng, self._cap = fake, rng, cap
        self._pools: dict[str, list[str]] = {}

    def __getattr__(self, kind: str):
        generate = getattr(self._fake, kind)
        pool = self._pools.setdefault(kind, [])

        def draw() -> str:
            if len(pool) < self._cap:
                pool.append(generate())
                return pool[-1]
            return self._rng.choice(pool)

        return draw


def fakers_for(seed: int) -> dict[str, PooledFaker]:
    fakers = {}
    for _code, locale, *_ in COUNTRIES:
        fake = Faker(locale)
        fake.seed_instance(seed * 31 + sum(map(ord, locale)))  # str hash() is salted per process
        fakers[locale] = PooledFaker(fake, random.Random(f"{seed}:{locale}"))
    return fakers


def generate_world(seed: int, scale: int) -> World:
    rng = random.Random(seed)
    fakers = fakers_for(seed)
    names = _Names(rng)
    customers, contracts, invoices = [], [], []
    for i in range(1, scale + 1):
        created = SIM_START - rng.randint(0, 720) * DAY + rng.randint(0, DAY - 1)
        customer = make_customer(i, rng, fakers, names, created)
        customers.append(customer)
        for contract in make_contracts(customer, rng, SIM_NOW):
            contracts.append(contract)
            invoices.extend(make_invoices(customer, contract, rng, SIM_NOW))
    return World(seed=seed, scale=scale, customers=customers, contracts=contracts, invoices=invoices)


def to_iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
