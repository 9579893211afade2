"""Loan products: the terms on which a group lends, checked against the rate cap.

The National Bank of Cambodia caps regulated microfinance at 18 % a year and forbids the
flat interest method, which charges interest on money already repaid. Informal groups
may still choose flat interest, a VSLA "rate per 30 days" or a higher rate. Sansam
allows those only with a recorded reason, and every product that has one shows its
warning wherever it is offered. The cap can be set per product for other rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from moneyed import Money
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import LedgerError
from ledger.groups import get_group
from ledger.loan_schedule import METHODS, Frequency, Method
from ledger.loan_state import DEFAULT_ORDER, check_order
from ledger.models import LoanProduct
from ledger.money import format_minor, to_minor
from ledger.permissions import allow

NBC_CAP_PER_YEAR = Decimal("0.18")
PPM = 1_000_000
FREQUENCIES: tuple[Frequency, ...] = ("weekly", "fortnightly", "monthly", "bullet")
METHOD_LABELS = {
    "declining_equal_instalments": "Declining balance, equal instalments",
    "declining_equal_principal": "Declining balance, equal principal",
    "flat": "Flat interest",
    "vsla_30_days": "VSLA rate per 30 days",
}


class LoanProductError(LedgerError):
    """Loan product terms that cannot be accepted."""


@dataclass(frozen=True, slots=True)
class ProductRecord:
    id: int
    group_id: int
    code: str
    name: str
    method: Method
    rate_per_month: Decimal
    term_periods: int
    frequency: Frequency
    rounding_unit: int
    grace_periods: int
    late_penalty: int
    max_amount: int | None
    cap_per_year: Decimal
    override_reason: str | None
    allocation_order: str = DEFAULT_ORDER  # how a repayment is split, first part first

    @property
    def rate_per_year(self) -> Decimal:
        """The nominal yearly rate (a VSLA's 30-day rate over 365 days)."""
        if self.method == "vsla_30_days":
            return self.rate_per_month * 365 / 30
        return self.rate_per_month * 12

    @property
    def warnings(self) -> tuple[str, ...]:
        """What a chair must see before approving a loan on this product."""
        found = []
        if self.method == "flat":
            found.append(
                "Flat interest: members pay interest on money they have already repaid. The "
                "central bank (NBC) forbids it for regulated lenders."
            )
        if self.rate_per_year > self.cap_per_year:
            found.append(
                f"{_percent(self.rate_per_year)} a year is above the cap of "
                f"{_percent(self.cap_per_year)}."
            )
        return tuple(found)


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01')).normalize():f} %"


def _record(p: LoanProduct) -> ProductRecord:
    return ProductRecord(
        p.id,
        p.group_id,
        p.code,
        p.name,
        p.method,  # type: ignore[arg-type]
        Decimal(p.rate_ppm_per_month) / PPM,
        p.term_periods,
        p.frequency,  # type: ignore[arg-type]
        p.rounding_unit,
        p.grace_periods,
        p.late_penalty,
        p.max_amount,
        Decimal(p.cap_ppm_per_year) / PPM,
        p.override_reason,
        p.allocation_order or DEFAULT_ORDER,
    )


def create_product(
    session: Session,
    group_id: int,
    code: str,
    name: str,
    *,
    method: Method = "declining_equal_instalments",
    rate_per_month: Decimal,
    term_periods: int,
    frequency: Frequency,
    rounding_unit: Money | None = None,
    grace_periods: int = 0,
    late_penalty: Money | None = None,
    max_amount: Money | None = None,
    cap_per_year: Decimal = NBC_CAP_PER_YEAR,
    override_reason: str | None = None,
    allocation_order: str = DEFAULT_ORDER,
) -> ProductRecord:
    """Add a product (the chair decides the group's terms). Flat interest or a rate above
    the cap needs ``override_reason``."""
    actor = allow(session, "decide", group_id, audit=f"created loan product {code.strip()}")
    currency = get_group(session, group_id).currency
    code = code.strip()
    if not code or len(code) > 32:
        raise LoanProductError("A product code is 1 to 32 characters.")
    if not name.strip() or len(name) > 200:
        raise LoanProductError("A product name is 1 to 200 characters.")
    if method not in METHODS:
        raise LoanProductError(f"Unknown method {method!r}; use one of {', '.join(METHODS)}.")
    if frequency not in FREQUENCIES:
        raise LoanProductError(f"Repayments are {', '.join(FREQUENCIES)}; not {frequency!r}.")
    rate_ppm = _ppm(rate_per_month, "monthly rate")
    cap_ppm = _ppm(cap_per_year, "yearly cap")
    if rate_ppm >= PPM:
        raise LoanProductError("A monthly rate of 100 % or more is not a loan product.")
    if not 1 <= term_periods <= 520:
        raise LoanProductError("The term is 1 to 520 repayment periods.")
    if frequency == "bullet" and term_periods != 1:
        raise LoanProductError("A bullet loan is repaid in one payment: its term is 1.")
    if not 0 <= grace_periods < term_periods:
        raise LoanProductError("Grace periods must leave at least one repayment.")
    unit = to_minor(rounding_unit, expected=currency) if rounding_unit is not None else 1
    penalty = to_minor(late_penalty, expected=currency) if late_penalty is not None else 0
    ceiling = to_minor(max_amount, expected=currency) if max_amount is not None else None
    if unit < 1 or penalty < 0 or (ceiling is not None and ceiling <= 0):
        raise LoanProductError("Rounding unit, penalty and maximum amount must be positive.")
    reason = (override_reason or "").strip() or None
    try:
        order = check_order(allocation_order)
    except ValueError as exc:
        raise LoanProductError(str(exc)) from None
    product = LoanProduct(
        group_id=group_id,
        code=code,
        name=name.strip(),
        method=method,
        rate_ppm_per_month=rate_ppm,
        term_periods=term_periods,
        frequency=frequency,
        rounding_unit=unit,
        grace_periods=grace_periods,
        late_penalty=penalty,
        max_amount=ceiling,
        cap_ppm_per_year=cap_ppm,
        override_reason=reason,
        allocation_order=order,
        created_by=actor.username,
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    record = _record(product)
    if record.warnings and reason is None:
        raise LoanProductError(
            " ".join(record.warnings)
            + " The group may still choose it: record the reason (the override)."
        )
    if session.execute(
        select(LoanProduct.id).where(LoanProduct.group_id == group_id, LoanProduct.code == code)
    ).first():
        raise LoanProductError(f"The group already has a loan product {code}.")
    session.add(product)
    session.flush()
    return _record(product)


def get_product(session: Session, product_id: int) -> ProductRecord:
    product = session.get(LoanProduct, product_id)
    if product is None:
        raise LoanProductError(f"There is no loan product #{product_id}.")
    return _record(product)


def products_by_id(session: Session, ids: set[int]) -> dict[int, ProductRecord]:
    """Many products in one query (a portfolio over hundreds of groups needs them all)."""
    rows = session.execute(select(LoanProduct).where(LoanProduct.id.in_(sorted(ids)))).scalars()
    return {p.id: _record(p) for p in rows}


def list_products(session: Session, group_id: int) -> list[ProductRecord]:
    allow(session, "read", group_id)
    rows = session.execute(
        select(LoanProduct).where(LoanProduct.group_id == group_id).order_by(LoanProduct.code)
    ).scalars()
    return [_record(p) for p in rows]


def describe(product: ProductRecord, currency: str) -> str:
    """One line a treasurer can read: method, rate, term, rounding, warnings."""
    unit = format_minor(product.rounding_unit, currency)
    text = (
        f"{product.code}: {METHOD_LABELS[product.method]}, {_percent(product.rate_per_month)} a "
        f"month ({_percent(product.rate_per_year)} a year), {product.term_periods} "
        f"{product.frequency} repayment(s), rounded to {unit}"
    )
    if product.late_penalty:
        text += f", late penalty {format_minor(product.late_penalty, currency)} an instalment"
    if product.allocation_order != DEFAULT_ORDER:
        text += f", repayments pay {product.allocation_order.replace(',', ' then ')}"
    return text + "".join(f"\n  WARNING: {w}" for w in product.warnings)


def _ppm(rate: Decimal, label: str) -> int:
    if not isinstance(rate, Decimal):
        raise LoanProductError(
            f"The {label} must be exact (a Decimal such as 0.015), not {rate!r}."
        )
    scaled = rate * PPM
    if scaled != scaled.to_integral_value() or scaled < 0:
        raise LoanProductError(
            f"The {label} {rate} has more than four decimals of a percent, or is negative."
        )
    return int(scaled)
