"""A realistic demo federation: three Siem Reap groups and a year of their meetings.

Why it exists: a trainer showing Sansam to a commune, a developer trying a report, or a
benchmark wants a book that looks like the real thing (Khmer and Latin names, absences
and fines, odd share money, a member who leaves, a count that is short), not an empty
one. Everything is built through the same services a treasurer uses (groups, members,
cycles, meetings), never by writing rows or postings directly, so the demo obeys every
rule of the ledger and exercises the services end to end: if a service breaks a rule,
loading the demo fails.

It is deterministic: one seeded ``random.Random`` per group decides who comes and what
they pay, so two loads with the same ``today``, ``weeks`` and seed give the same balances.
The loader keeps its own simple model of each member's savings and of the cash box, so it
never asks for a withdrawal a member cannot make or a payout the box cannot cover, and so
that every closing count equals the expected cash except where a difference is meant.

Each group lends from its cash box on its own product (2 % a month on the declining
balance, above the central bank's cap, as many groups' constitutions set it, so the
product carries its override). Applications are recorded by the treasurer and approved
by the chair; most members repay what is due at each meeting, some pay part or nothing
now and then, and one member in each group stops paying after her first instalment, so
the portfolio report has arrears, late penalties and loans at risk to show. The member
who leaves never borrows, so her exit pays out everything she holds.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from moneyed import Money
from sqlalchemy.orm import Session

from ledger.cycles import open_cycle
from ledger.errors import InvalidEntry
from ledger.groups import GroupRecord, create_group
from ledger.loan_products import create_product
from ledger.loans import (
    apply_for_loan,
    approve_loan,
    lend_at_meeting,
    loan_statement,
    repay_at_meeting,
)
from ledger.locations import resolve_location
from ledger.meetings import add_item, close_meeting, open_meeting, set_line
from ledger.members import add_member, list_members
from ledger.money import money
from ledger.permissions import Actor, acting_as, current_actor
from ledger.queries import chain_head
from ledger.rice import count_stock, receive_rice
from ledger.rice_loans import create_rice_product, lend_rice, repay_rice
from ledger.rice_position import rice_position
from ledger.users import grant_role

DEMO_SEED = 1707  # Siem Reap province (17), Puok district (07)
PROVINCE = "Siem Reap"
MIN_WEEKS, MAX_WEEKS = 8, 52  # eight weeks always hold a monthly meeting
MAX_SHARES = 5  # a member buys at most five shares a meeting

_PURPOSES = (
    "Piglets to raise",
    "Seed and fertiliser for the rice field",
    "Stock for the family's grocery stall",
    "School fees and uniforms",
    "Chickens and a coop",
    "Repairing the roof before the rains",
    "Fishing nets",
    "A sewing machine for tailoring",
)

# Mobile prefixes in use in Cambodia (Cellcard, Smart, Metfone).
_PHONE_PREFIXES = ("012", "017", "077", "092", "010", "016", "070", "081", "097", "088", "071")


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What was loaded, so a caller can say so ("3 groups, 46 members, ...")."""

    groups: int
    members: int
    meetings: int
    entries: int


@dataclass(frozen=True, slots=True)
class _Person:
    """A member as the group's register has them: both scripts, household, ID-Poor."""

    code: str
    latin: str
    khmer: str
    sex: str
    village: str
    house: int
    id_poor: int = 0
    role: str = "member"
    has_phone: bool = True


@dataclass(frozen=True, slots=True)
class _Event:
    """Something that happens once, at a point of the cycle given as a fraction of it
    (so a shortened demo still has it)."""

    at: float
    memo: str
    amount: int = 0
    member: str | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    """One group: its rules, its people and the story of its year."""

    code: str
    name: str
    kind: str
    district: str
    commune: str
    village: str
    frequency: str
    weekday: int  # 0 = Monday
    share_price: int | None
    compulsory: int
    social_fund: int
    fine_absent: int
    fine_late: int
    people: tuple[_Person, ...]
    voluntary_amounts: tuple[int, ...]
    payout_amounts: tuple[int, ...]
    joiner: tuple[float, _Person] | None = None
    leaver: _Event | None = None
    grant: _Event | None = None
    counts: tuple[_Event, ...] = ()  # amount: counted minus expected, memo: the comment
    bank_above: int | None = None  # deposit at the bank when the box holds more than this
    rice_bank: bool = False  # keeps a rice bank: stock, a lean-season lending, a count


@dataclass(slots=True)
class _Holdings:
    """The loader's own idea of what one member holds, in riel."""

    compulsory: int = 0
    voluntary: int = 0
    shares: int = 0
    held: int = 0

    @property
    def total(self) -> int:
        return self.compulsory + self.voluntary + self.shares + self.held


@dataclass(slots=True)
class _Box:
    """The loader's own cash box and social fund, to keep every payout affordable."""

    cash: int = 0
    social_fund: int = 0
    holdings: dict[str, _Holdings] = field(default_factory=dict)


P = _Person
PUOK = _Plan(
    code="SR-PUOK-01",
    name="Samaki Women's Savings Group, Kouk Thmei",
    kind="vsla",
    district="Puok",
    commune="Puok",
    village="Kouk Thmei",
    frequency="weekly",
    weekday=0,  # Monday
    share_price=5_000,
    compulsory=1_000,
    social_fund=500,
    fine_absent=1_000,
    fine_late=500,
    people=(
        P("PK01", "Sok Sreyneang", "សុខ ស្រីនាង", "F", "Kouk Thmei", 12, role="chair"),
        P("PK02", "Chan Sophea", "ចាន់ សុភា", "F", "Kouk Thmei", 4, role="treasurer"),
        P("PK03", "Keo Dara", "កែវ ដារ៉ា", "F", "Kouk Thmei", 27, role="secretary"),
        P("PK04", "Sun Chantha", "ស៊ុន ចន្ថា", "F", "Kouk Thmei", 31, id_poor=1),
        P("PK05", "Heng Sokha", "ហេង សុខា", "F", "Puok Chas", 8),
        P("PK06", "Ly Ratana", "លី រតនា", "F", "Puok Chas", 15, id_poor=2, has_phone=False),
        P("PK07", "Mao Vanna", "ម៉ៅ វណ្ណា", "F", "Kouk Thmei", 40),
        P("PK08", "Chhim Pisey", "ឈឹម ពិសី", "F", "Kouk Doung", 3),
        P("PK09", "Prak Bopha", "ប្រាក់ បុប្ផា", "F", "Kouk Doung", 19, id_poor=1),
        P("PK10", "Touch Sreymom", "ទូច ស្រីមុំ", "F", "Kouk Thmei", 22),
        P("PK11", "Meas Kunthea", "មាស គន្ធា", "F", "Puok Chas", 6),
        P("PK12", "Chea Vuthy", "ជា វុទ្ធី", "M", "Kouk Thmei", 9),
        P("PK13", "Sok Leakhena", "សុខ លក្ខិណា", "F", "Kouk Thmei", 12),  # PK01's daughter
        P("PK14", "Nhem Sophal", "ញឹម សុផល", "F", "Kouk Doung", 11, id_poor=2, has_phone=False),
        P("PK15", "Kim Samnang", "គីម សំណាង", "M", "Puok Chas", 33),
    ),
    voluntary_amounts=(2_000, 5_000, 10_000, 20_000),
    payout_amounts=(20_000, 30_000, 50_000),
    leaver=_Event(0.6, "Moving to Thailand for work with her husband", member="PK11"),
    counts=(_Event(0.3, "A torn 500-riel note was given back to the member; box 500 short", -500),),
)
ANGKOR_CHUM = _Plan(
    code="SR-ACHM-01",
    name="Prey Lvey Savings for Change Group",
    kind="vsla",
    district="Angkor Chum",
    commune="Char Chhuk",
    village="Prey Lvey",
    frequency="weekly",
    weekday=3,  # Thursday
    share_price=10_000,
    compulsory=2_000,
    social_fund=1_000,
    fine_absent=2_000,
    fine_late=1_000,
    people=(
        P("AC01", "Seng Malis", "សេង ម្លិះ", "F", "Prey Lvey", 5, role="chair"),
        P("AC02", "Yim Thida", "យិម ធីតា", "F", "Prey Lvey", 18, role="treasurer"),
        P("AC03", "Ouk Chenda", "អ៊ុក ចិន្តា", "F", "Prey Lvey", 2, role="secretary"),
        P("AC04", "Long Sokunthea", "ឡុង សុគន្ធា", "F", "Prey Lvey", 23, id_poor=1),
        P("AC05", "Mom Phally", "មុំ ផល្លី", "F", "Thnal", 7),
        P("AC06", "Pen Sothea", "ប៉ែន សុធា", "F", "Thnal", 14, id_poor=2, has_phone=False),
        P("AC07", "Chum Kolab", "ជុំ កុលាប", "F", "Prey Lvey", 30),
        P("AC08", "Tep Navy", "ទេព ណាវី", "F", "Prey Cheng", 9),
        P("AC09", "Chan Rithy", "ចាន់ រិទ្ធី", "M", "Prey Lvey", 11),
        P("AC10", "Keo Sreypov", "កែវ ស្រីពៅ", "F", "Prey Cheng", 16, id_poor=1),
        P("AC11", "Lim Nary", "លឹម ណារី", "F", "Thnal", 21),
        P("AC12", "Say Sopheak", "សាយ សុភ័ក្រ", "M", "Prey Lvey", 26),
    ),
    voluntary_amounts=(5_000, 10_000, 20_000, 40_000),
    payout_amounts=(40_000, 50_000, 100_000),
    joiner=(0.4, P("AC13", "Heng Davy", "ហេង ដាវី", "F", "Prey Cheng", 3)),
    counts=(
        _Event(0.7, "1,000 riel over: a late fine was paid but not written on the sheet", 1_000),
    ),
)
BAKONG = _Plan(
    code="SR-BKNG-01",
    name="Kanhchor Self-Help Group",
    kind="shg",
    district="Prasat Bakong",
    commune="Roluos",
    village="Kanhchor",
    frequency="monthly",
    weekday=6,  # the first Sunday of the month
    share_price=None,
    compulsory=5_000,
    social_fund=1_000,
    fine_absent=2_000,
    fine_late=1_000,
    people=(
        P("BK01", "Oum Sopheap", "អ៊ុំ សុភាព", "F", "Kanhchor", 10, role="chair"),
        P("BK02", "Men Theary", "ម៉ែន ធារី", "F", "Kanhchor", 3, role="treasurer"),
        P("BK03", "Vong Mealea", "វង្ស មាលា", "F", "Kanhchor", 21, role="secretary"),
        P("BK04", "Sok Somaly", "សុខ សុម៉ាលី", "F", "Kanhchor", 7),
        P("BK05", "Chan Rotha", "ចាន់ រដ្ឋា", "F", "Momeanh", 12, id_poor=1),
        P("BK06", "Ly Sokhom", "លី សុខុម", "F", "Momeanh", 5),
        P("BK07", "Mao Chantha", "ម៉ៅ ចន្ថា", "F", "Kanhchor", 33, id_poor=2, has_phone=False),
        P("BK08", "Pich Sreyleak", "ពេជ្រ ស្រីល័ក្ខ", "F", "Chambak", 8),
        P("BK09", "Nget Sokha", "ង៉ែត សុខា", "F", "Chambak", 19, id_poor=1),
        P("BK10", "Chhim Bopha", "ឈឹម បុប្ផា", "F", "Kanhchor", 14),
        P("BK11", "Prak Sophea", "ប្រាក់ សុភា", "F", "Momeanh", 2),
        P("BK12", "Sun Vanna", "ស៊ុន វណ្ណា", "F", "Kanhchor", 25),
        P("BK13", "Meas Ratana", "មាស រតនា", "F", "Chambak", 4, id_poor=2),
        P("BK14", "Touch Pisey", "ទូច ពិសី", "F", "Kanhchor", 29),
        P("BK15", "Kim Sreyneang", "គីម ស្រីនាង", "F", "Momeanh", 16),
        P("BK16", "Heng Veasna", "ហេង វាសនា", "M", "Kanhchor", 7),  # BK04's husband
        P("BK17", "Keo Kosal", "កែវ កុសល", "M", "Chambak", 22),
        P("BK18", "Yim Sreymom", "យិម ស្រីមុំ", "F", "Kanhchor", 38, id_poor=1),
    ),
    voluntary_amounts=(5_000, 10_000, 20_000, 50_000),
    payout_amounts=(50_000, 80_000, 100_000),
    grant=_Event(0.35, "Matching grant from the partner NGO", 400_000),
    bank_above=600_000,
    rice_bank=True,
)
GROUPS: tuple[_Plan, ...] = (PUOK, ANGKOR_CHUM, BAKONG)

_EXPENSES = (
    ("Stationery: pens and a new ledger book", 6_000),
    ("Photocopies of the collection sheet", 2_000),
    ("Padlock for the cash box", 8_000),
    ("Stationery: passbook covers", 4_000),
)
_EMERGENCIES = (
    "Hospital in Siem Reap: dengue fever in the family",
    "Funeral of a parent",
    "House roof damaged in a storm",
    "Motorbike accident in the family",
)


# What the administrator who loads the demo becomes in each demo group, to try it all.
DEMO_ROLES = ("treasurer", "coordinator")


def load_demo(
    session: Session, *, today: dt.date, weeks: int = MAX_WEEKS, seed: int = DEMO_SEED
) -> DemoSummary:
    """Build the demo federation in ``session`` (the caller commits, e.g. with
    ``book.write(lambda s: load_demo(s, today=...))``).

    Each group's cycle starts on its first meeting day on or after ``today`` minus
    ``weeks`` weeks, and it meets up to and including ``today``. ``weeks`` below a year
    makes a smaller book (for quick tests) that still tells the whole story: the events
    of the year happen at the same fractions of the shorter cycle.
    """
    if not MIN_WEEKS <= weeks <= MAX_WEEKS:
        raise InvalidEntry(f"The demo covers {MIN_WEEKS} to {MAX_WEEKS} weeks, not {weeks}.")
    loader = current_actor(session)
    members = meetings = entries = 0
    for plan in GROUPS:
        rng = random.Random(f"{seed}:{plan.code}")
        group, added, held = _GroupYear(session, plan, today, weeks, rng).run()
        members += added
        meetings += held
        entries += chain_head(session, group.id)[0]
        if loader.user_id:  # an administrator stored in the book, not a test's stand-in
            for role in DEMO_ROLES:
                grant_role(session, loader, loader.username, group.code, role)
    return DemoSummary(len(GROUPS), members, meetings, entries)


def meeting_days(plan_code: str, today: dt.date, weeks: int = MAX_WEEKS) -> list[dt.date]:
    """The demo group's meeting days, oldest first (exposed for tests and screens)."""
    plan = next(p for p in GROUPS if p.code == plan_code)
    return _meeting_days(plan, today, weeks)


def _meeting_days(plan: _Plan, today: dt.date, weeks: int) -> list[dt.date]:
    """Weekly groups meet on their weekday; monthly ones on its first occurrence in the
    month (a monthly group never meets twice in a week at the start of its cycle)."""
    since = today - dt.timedelta(weeks=weeks)
    if plan.frequency == "weekly":
        first = since + dt.timedelta(days=(plan.weekday - since.weekday()) % 7)
        count = (today - first).days // 7 + 1
        return [first + dt.timedelta(weeks=i) for i in range(count)]
    days = []
    year, month = since.year, since.month
    while True:
        first_weekday = calendar.monthrange(year, month)[0]
        day = dt.date(year, month, 1 + (plan.weekday - first_weekday) % 7)
        if day > today:
            return days
        if day >= since:
            days.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


_TREASURER, _CHAIR = frozenset({"treasurer"}), frozenset({"chair"})


def _username(latin_name: str) -> str:
    """The user name a demo officer would have: "Sok Chanthy" → "sok.chanthy"."""
    return ".".join(latin_name.lower().split())


class _GroupYear:
    """One group's year, meeting by meeting, with the loader's own model beside it."""

    group: GroupRecord  # created by run()

    def __init__(
        self, session: Session, plan: _Plan, today: dt.date, weeks: int, rng: random.Random
    ) -> None:
        self.session = session
        self.plan = plan
        self.today = today
        self.rng = rng
        self.days = _meeting_days(plan, today, weeks)
        self.box = _Box()
        self.treasurer = _username(next(p.latin for p in plan.people if p.role == "treasurer"))
        self.chair = _username(next(p.latin for p in plan.people if p.role == "chair"))
        self.loans: dict[str, int] = {}  # member code -> loan being repaid
        self.stops_paying: int | None = None  # a loan whose member stops after one payment
        self.currency = "KHR"
        self.added = 0

    def _khr(self, minor: int) -> Money:
        return money(minor, self.currency)

    def _at(self, fraction: float) -> int:
        """The meeting index at ``fraction`` of the cycle."""
        return round(fraction * (len(self.days) - 1))

    def run(self) -> tuple[GroupRecord, int, int]:
        plan = self.plan
        location = resolve_location(PROVINCE, plan.district, plan.commune, plan.village)
        self.group = create_group(
            self.session,
            plan.code,
            plan.name,
            kind=plan.kind,
            meeting_frequency=plan.frequency,
            meeting_day=plan.weekday,
            location=location,
        )
        # The group's own officers do its work: the treasurer records, the chair decides.
        gid = self.group.id
        self.as_treasurer = Actor(0, self.treasurer, self.treasurer, False, {gid: _TREASURER})
        self.as_chair = Actor(0, self.chair, self.chair, False, {gid: _CHAIR})
        with acting_as(self.session, self.as_chair):
            self._terms()
        with acting_as(self.session, self.as_treasurer):
            for person in plan.people:
                self._add(person, self.days[0])
            for index, day in enumerate(self.days):
                self._meeting(index, day)
            if plan.rice_bank:
                self._rice_season()
        return self.group, self.added, len(self.days)

    def _terms(self) -> None:
        """The cycle's terms and the loan product, as the chair sets them."""
        plan = self.plan
        start = self.days[0]
        open_cycle(
            self.session,
            self.group.id,
            start,
            ends_on=start + dt.timedelta(days=364),
            share_price=self._khr(plan.share_price) if plan.share_price else None,
            max_shares_per_meeting=MAX_SHARES,
            compulsory_savings=self._khr(plan.compulsory),
            social_fund_contribution=self._khr(plan.social_fund),
            fine_late=self._khr(plan.fine_late),
            fine_absent=self._khr(plan.fine_absent),
        )
        weekly = plan.frequency != "monthly"
        create_product(
            self.session,
            self.group.id,
            "LOAN",
            "Members' loan",
            rate_per_month=Decimal("0.02"),
            term_periods=12 if weekly else 6,
            frequency="weekly" if weekly else "monthly",
            rounding_unit=self._khr(100),
            late_penalty=self._khr(1_000),
            override_reason="2 % a month, as the group's constitution sets it",
        )

    def _rice_season(self) -> None:
        """The rice bank's year: 2 t of paddy from the NGO, lent in the lean season at
        20 % (seed at 30 %), repaid in kind after the harvest (one member only in part,
        one not at all, so both show as overdue), and a count that finds rats' damage."""
        gid, day = self.group.id, self.days
        after = [d + dt.timedelta(days=1) for d in day]  # rice moves the day after meeting
        kwargs = {"today": self.today}
        receive_rice(
            self.session,
            gid,
            money(2000, "RICE"),
            on=after[0],
            note="From the partner NGO",
            **kwargs,
        )
        for code, name, rate, days in (
            ("CONS", "Consumption paddy", "0.20", 180),
            ("SEED", "Seed paddy", "0.30", 150),
        ):
            with acting_as(self.session, self.as_chair):
                create_rice_product(
                    self.session,
                    gid,
                    code,
                    name,
                    interest=Decimal(rate),
                    term_days=days,
                    cash_repayment=code == "CONS",
                )
        lend_on = after[self._at(0.3)]
        borrowers = [m for m in list_members(self.session, gid, on=lend_on)][:8]
        loans = []
        for k, member in enumerate(borrowers):
            product = "SEED" if k % 3 == 2 else "CONS"
            kg = self.rng.choice((60, 80, 100, 120, 150))
            purpose = "Seed for the wet season" if product == "SEED" else "Food before the harvest"
            loans.append(
                lend_rice(
                    self.session,
                    gid,
                    member.code,
                    product,
                    money(kg, "RICE"),
                    on=lend_on,
                    approver=self.as_chair,
                    purpose=purpose,
                    **kwargs,
                )
            )
        repay_on = after[self._at(0.85)]
        for k, loan in enumerate(loans):
            if k == len(loans) - 1:
                continue  # this one has not repaid anything yet
            owed = loan.standing.quantity + loan.standing.interest
            grams = owed // 2 if k == len(loans) - 2 else owed
            repay_rice(
                self.session, gid, loan.number, money(grams, "RICE") / 1000, on=repay_on, **kwargs
            )
        count_on = after[self._at(0.9)]
        stock = rice_position(self.session, gid, on=count_on).stock
        count_stock(
            self.session,
            gid,
            money(stock - 25_500, "RICE") / 1000,
            on=count_on,
            reason="pests",
            note="Rats got into two sacks",
            **kwargs,
        )

    def _add(self, person: _Person, joined_on: dt.date) -> None:
        village = resolve_location(PROVINCE, self.plan.district, self.plan.commune, person.village)
        phone = None
        if person.has_phone:
            digits = f"{self.rng.randrange(1_000_000):06d}"
            phone = f"{self.rng.choice(_PHONE_PREFIXES)} {digits[:3]} {digits[3:]}"
        add_member(
            self.session,
            self.group.id,
            person.code,
            name_latin=person.latin,
            name_khmer=person.khmer,
            sex=person.sex,
            phone=phone,
            household=f"{person.village} village, house {person.house}",
            id_poor=person.id_poor,
            id_poor_number=(
                f"{village.village_code}-{person.house:03d}" if person.id_poor else None
            ),
            role=person.role,
            joined_on=joined_on,
        )
        self.box.holdings[person.code] = _Holdings()
        self.added += 1

    # --- one meeting --------------------------------------------------------------------

    def _meeting(self, index: int, day: dt.date) -> None:
        plan, rng, box = self.plan, self.rng, self.box
        if plan.joiner and index == self._at(plan.joiner[0]):
            self._add(plan.joiner[1], day)
        leaving = plan.leaver.member if plan.leaver and index == self._at(plan.leaver.at) else None
        meeting = open_meeting(self.session, self.group.id, day, today=self.today)
        mid = meeting.id
        fund_at_open = box.social_fund
        for code in sorted(box.holdings):
            if code == leaving:
                # She comes to collect what she holds; the exit item pays it all out (an
                # empty row posts nothing).
                set_line(self.session, mid, code, attended=True)
                continue
            self._line(mid, code)

        self._repayments(mid, day)
        self._lend(mid, index, day, leaving)

        # Group items, each checked against the loader's cash box first.
        if index == 0 or rng.random() < 0.06:
            memo, amount = _EXPENSES[0] if index == 0 else rng.choice(_EXPENSES)
            if amount <= box.cash:
                add_item(self.session, mid, "expense", self._khr(amount), memo=memo)
                box.cash -= amount
        if index == self._at(0.5) or rng.random() < (0.1 if plan.frequency == "monthly" else 0.04):
            self._social_fund_payout(mid, fund_at_open, exclude=leaving)
        if plan.grant and index == self._at(plan.grant.at):
            add_item(self.session, mid, "grant", self._khr(plan.grant.amount), memo=plan.grant.memo)
            box.cash += plan.grant.amount
        if leaving is not None:
            assert plan.leaver is not None
            add_item(self.session, mid, "member_exit", member_code=leaving, memo=plan.leaver.memo)
            box.cash -= box.holdings.pop(leaving).total
        if plan.bank_above is not None and box.cash > plan.bank_above:
            deposit = (box.cash - plan.bank_above // 3) // 100_000 * 100_000
            memo = "Deposited at the microfinance branch in Roluos"
            add_item(self.session, mid, "bank_deposit", self._khr(deposit), memo=memo)
            box.cash -= deposit

        expected = box.cash
        difference, comment = 0, None
        for event in plan.counts:
            if index == self._at(event.at):
                difference, comment = event.amount, event.memo
        close_meeting(self.session, mid, self._khr(expected + difference), comment=comment)
        box.cash = expected + difference

    def _line(self, meeting_id: int, code: str) -> None:
        """One member's row: attendance, fines, savings, shares, social fund."""
        plan, rng, box = self.plan, self.rng, self.box
        mine = box.holdings[code]
        attended = rng.random() >= 0.1
        amounts: dict[str, int] = {}
        if not attended:
            amounts["fine_absent"] = plan.fine_absent
            if rng.random() < 0.5:  # a neighbour brings her savings with the fine
                amounts["savings"] = plan.compulsory
        else:
            amounts["savings"] = plan.compulsory
            amounts["social_fund"] = plan.social_fund
            if rng.random() < 0.05:
                amounts["fine_late"] = plan.fine_late
            if plan.share_price:
                amounts["share_money"] = self._share_money(mine, plan.share_price)
            if rng.random() < (0.25 if plan.frequency == "monthly" else 0.1):
                amounts["voluntary_savings"] = rng.choice(plan.voluntary_amounts)
            elif mine.voluntary and rng.random() < 0.08:
                wanted = rng.choice(plan.voluntary_amounts)
                amounts["withdrawal"] = mine.voluntary if rng.random() < 0.3 else wanted
                amounts["withdrawal"] = min(amounts["withdrawal"], mine.voluntary)
        set_line(
            self.session,
            meeting_id,
            code,
            attended=attended,
            **{name: self._khr(amount) for name, amount in amounts.items()},
        )
        mine.compulsory += amounts.get("savings", 0)
        mine.voluntary += amounts.get("voluntary_savings", 0) - amounts.get("withdrawal", 0)
        box.social_fund += amounts.get("social_fund", 0)
        box.cash += sum(amounts.values()) - 2 * amounts.get("withdrawal", 0)

    def _repayments(self, meeting_id: int, day: dt.date) -> None:
        """Most pay what is due; now and then a member pays part of it, or nothing."""
        for code, loan_id in sorted(self.loans.items()):
            st = loan_statement(self.session, loan_id, on=day)
            if st.state != "active":
                del self.loans[code]
                continue
            luck = self.rng.random()
            if loan_id == self.stops_paying and st.principal_paid:
                amount = 0  # she went to work in Thailand and has not sent money home
            elif luck < 0.85:
                amount = st.due_now
            elif luck < 0.95:
                amount = st.due_now // 2 // 100 * 100
            else:
                amount = 0
            if amount:
                repay_at_meeting(self.session, meeting_id, loan_id, self._khr(amount))
                self.box.cash += amount

    def _lend(self, meeting_id: int, index: int, day: dt.date, leaving: str | None) -> None:
        """Now and then a member without a loan borrows what the cash box can spare."""
        weekly = self.plan.frequency != "monthly"
        if index < 2 or index > len(self.days) - (8 if weekly else 3):
            return
        if self.rng.random() >= (0.35 if weekly else 0.6):
            return
        leaver = self.plan.leaver.member if self.plan.leaver else None
        free = sorted(c for c in self.box.holdings if c not in self.loans and c != leaver)
        spare = (self.box.cash - 50_000) // 50_000 * 50_000
        amount = min(self.rng.choice((100_000, 150_000, 200_000, 300_000)), spare)
        if not free or amount < 50_000 or leaving is not None:
            return
        code = self.rng.choice(free)
        loan = apply_for_loan(
            self.session,
            self.group.id,
            code,
            "LOAN",
            self._khr(amount),
            purpose=self.rng.choice(_PURPOSES),
            applied_on=day,
            votes_for=len(self.box.holdings) - 1,
            votes_against=0,
        )
        with acting_as(self.session, self.as_chair):
            approve_loan(self.session, loan.id, on=day)
        lend_at_meeting(self.session, meeting_id, loan.id)
        if self.stops_paying is None and index >= self._at(0.55):
            self.stops_paying = loan.id
        self.loans[code] = loan.id
        self.box.cash -= amount

    def _share_money(self, mine: _Holdings, price: int) -> int:
        """1 to 5 shares; now and then an amount that is not a whole number of shares
        (the rest is held for the member and counts toward her next share)."""
        shares = self.rng.choices((1, 2, 3, 4, 5), weights=(30, 30, 20, 10, 10))[0]
        paid = shares * price
        if shares < MAX_SHARES and self.rng.random() < 0.1:
            paid += self.rng.choice((price // 2, price // 5, price * 3 // 10))
        pool = mine.held + paid
        bought = pool // price
        if bought > MAX_SHARES:  # what was held would tip her over the limit: pay a share less
            paid -= price
            pool -= price
            bought -= 1
        mine.shares += bought * price
        mine.held = pool % price
        return paid

    def _social_fund_payout(
        self, meeting_id: int, fund_at_open: int, *, exclude: str | None
    ) -> None:
        """An emergency: the committee pays what the fund can spare, in thousands.

        Only what the fund held when the meeting opened is spent: closing orders a sheet's
        entries to keep the cash box from dipping, not the fund, so it may post the payout
        before a contribution made at this meeting and refuse the sheet (see the xfail test
        in tests/test_meeting_properties.py).
        """
        box = self.box
        affordable = min(fund_at_open, box.cash) // 1_000 * 1_000
        amount = min(self.rng.choice(self.plan.payout_amounts), affordable)
        if amount < 10_000:
            return
        member = self.rng.choice(sorted(code for code in box.holdings if code != exclude))
        memo = self.rng.choice(_EMERGENCIES)
        add_item(
            self.session,
            meeting_id,
            "social_fund_payout",
            self._khr(amount),
            member_code=member,
            memo=memo,
        )
        box.social_fund -= amount
        box.cash -= amount
