"""A small inventory system for a chain of warehouses.

This file is a sample for Attention Lens: it is long (several thousand tokens) and uses the
names defined near its top - StockLevel, REORDER_MARGIN, Warehouse, SkuCode - again far below.
Inspect it under Softmax and under SSMax and compare how sharply the late uses attend back.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import io
import json
import logging
import math
import statistics
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

LOG = logging.getLogger("inventory")

# How far below the reorder point a stock level may fall before an order is urgent.
REORDER_MARGIN = 0.25
# Days of demand that a reorder should cover.
COVER_DAYS = 21
# Largest quantity a single purchase order may carry.
MAX_ORDER_QUANTITY = 5000
# Names of the columns in the CSV exports, in order.
EXPORT_COLUMNS = ("warehouse", "sku", "on_hand", "reserved", "reorder_point", "status")


class StockStatus(enum.Enum):
    """Where a stock level stands relative to its reorder point."""

    HEALTHY = "healthy"
    LOW = "low"
    URGENT = "urgent"
    EMPTY = "empty"


class InventoryError(Exception):
    """Raised for every inconsistent request made to a warehouse."""


@dataclasses.dataclass(frozen=True)
class SkuCode:
    """A stock keeping unit: a family and a number, printed as FAMILY-0042."""

    family: str
    number: int

    def __post_init__(self) -> None:
        if not self.family.isalpha() or not self.family.isupper():
            raise InventoryError(f"SKU family must be upper-case letters: {self.family!r}")
        if not 0 < self.number < 10000:
            raise InventoryError(f"SKU number out of range: {self.number}")

    @classmethod
    def parse(cls, text: str) -> "SkuCode":
        family, _, number = text.strip().partition("-")
        if not number.isdigit():
            raise InventoryError(f"not a SKU code: {text!r}")
        return cls(family, int(number))

    def __str__(self) -> str:
        return f"{self.family}-{self.number:04d}"


@dataclasses.dataclass
class StockLevel:
    """Quantities of one SKU in one warehouse."""

    sku: SkuCode
    on_hand: int = 0
    reserved: int = 0
    reorder_point: int = 0
    daily_demand: List[int] = dataclasses.field(default_factory=list)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def status(self) -> StockStatus:
        if self.available <= 0:
            return StockStatus.EMPTY
        if self.available < self.reorder_point * (1 - REORDER_MARGIN):
            return StockStatus.URGENT
        if self.available < self.reorder_point:
            return StockStatus.LOW
        return StockStatus.HEALTHY

    def mean_demand(self) -> float:
        if not self.daily_demand:
            return 0.0
        return statistics.fmean(self.daily_demand)

    def demand_spread(self) -> float:
        if len(self.daily_demand) < 2:
            return 0.0
        return statistics.stdev(self.daily_demand)


@dataclasses.dataclass
class Movement:
    """One change to a stock level, kept for the audit trail."""

    when: dt.datetime
    sku: SkuCode
    delta: int
    reason: str


class Warehouse:
    """Stock levels of one site, with reservations and an audit trail of movements."""

    def __init__(self, name: str, capacity: int) -> None:
        if capacity <= 0:
            raise InventoryError("a warehouse needs a positive capacity")
        self.name = name
        self.capacity = capacity
        self.levels: Dict[SkuCode, StockLevel] = {}
        self.movements: List[Movement] = []

    def __repr__(self) -> str:
        return f"Warehouse({self.name!r}, capacity={self.capacity}, skus={len(self.levels)})"

    def level(self, sku: SkuCode) -> StockLevel:
        if sku not in self.levels:
            self.levels[sku] = StockLevel(sku)
        return self.levels[sku]

    def total_on_hand(self) -> int:
        return sum(level.on_hand for level in self.levels.values())

    def free_capacity(self) -> int:
        return self.capacity - self.total_on_hand()

    def receive(self, sku: SkuCode, quantity: int, when: Optional[dt.datetime] = None) -> None:
        if quantity <= 0:
            raise InventoryError(f"cannot receive {quantity} of {sku}")
        if quantity > self.free_capacity():
            raise InventoryError(f"{self.name} has room for {self.free_capacity()}, not {quantity}")
        self.level(sku).on_hand += quantity
        self._record(sku, quantity, "receive", when)

    def reserve(self, sku: SkuCode, quantity: int) -> None:
        level = self.level(sku)
        if quantity > level.available:
            raise InventoryError(f"only {level.available} of {sku} available in {self.name}")
        level.reserved += quantity

    def release(self, sku: SkuCode, quantity: int) -> None:
        level = self.level(sku)
        level.reserved = max(0, level.reserved - quantity)

    def ship(self, sku: SkuCode, quantity: int, when: Optional[dt.datetime] = None) -> None:
        level = self.level(sku)
        if quantity > level.reserved:
            raise InventoryError(f"ship {quantity} of {sku} but only {level.reserved} reserved")
        level.reserved -= quantity
        level.on_hand -= quantity
        level.daily_demand.append(quantity)
        self._record(sku, -quantity, "ship", when)

    def adjust(self, sku: SkuCode, counted: int, when: Optional[dt.datetime] = None) -> int:
        """Sets on_hand to a physical count and returns the difference it made."""
        level = self.level(sku)
        delta = counted - level.on_hand
        if delta:
            level.on_hand = counted
            self._record(sku, delta, "count", when)
        return delta

    def _record(self, sku: SkuCode, delta: int, reason: str, when: Optional[dt.datetime]) -> None:
        self.movements.append(Movement(when or dt.datetime.now(), sku, delta, reason))
        LOG.debug("%s %s %+d (%s)", self.name, sku, delta, reason)

    def statuses(self) -> Iterator[Tuple[SkuCode, StockStatus]]:
        for sku, level in sorted(self.levels.items(), key=lambda item: str(item[0])):
            yield sku, level.status()


@dataclasses.dataclass
class PurchaseOrder:
    """A request to a supplier for one SKU delivered to one warehouse."""

    warehouse: str
    sku: SkuCode
    quantity: int
    urgent: bool = False

    def to_dict(self) -> Dict[str, object]:
        return {
            "warehouse": self.warehouse,
            "sku": str(self.sku),
            "quantity": self.quantity,
            "urgent": self.urgent,
        }


class Network:
    """All warehouses of the chain, and the rules for moving stock between them."""

    def __init__(self, warehouses: Iterable[Warehouse] = ()) -> None:
        self.warehouses: Dict[str, Warehouse] = {}
        for warehouse in warehouses:
            self.add(warehouse)

    def add(self, warehouse: Warehouse) -> None:
        if warehouse.name in self.warehouses:
            raise InventoryError(f"duplicate warehouse {warehouse.name}")
        self.warehouses[warehouse.name] = warehouse

    def get(self, name: str) -> Warehouse:
        try:
            return self.warehouses[name]
        except KeyError:
            raise InventoryError(f"no warehouse named {name}") from None

    def total(self, sku: SkuCode) -> int:
        return sum(w.level(sku).on_hand for w in self.warehouses.values() if sku in w.levels)

    def transfer(self, sku: SkuCode, quantity: int, source: str, target: str) -> None:
        """Moves stock between two warehouses, reserving it first so that it cannot be sold twice."""
        origin = self.get(source)
        destination = self.get(target)
        if quantity > destination.free_capacity():
            raise InventoryError(f"{target} cannot take {quantity} more units")
        origin.reserve(sku, quantity)
        origin.ship(sku, quantity)
        destination.receive(sku, quantity)

def reorder_quantity(level: StockLevel) -> int:
    """Units to order so that a stock level covers COVER_DAYS of demand plus a safety stock.

    The safety stock grows with the spread of daily demand; an urgent level (more than
    REORDER_MARGIN below its reorder point) orders the whole gap at once.
    """
    demand = level.mean_demand()
    safety = 1.65 * level.demand_spread() * math.sqrt(COVER_DAYS)
    target = math.ceil(demand * COVER_DAYS + safety)
    gap = max(level.reorder_point, target) - level.available
    if gap <= 0:
        return 0
    return min(gap, MAX_ORDER_QUANTITY)


def plan_orders(network: Network) -> List[PurchaseOrder]:
    """One purchase order for every stock level that is low, urgent or empty."""
    orders: List[PurchaseOrder] = []
    for warehouse in network.warehouses.values():
        for sku, status in warehouse.statuses():
            if status is StockStatus.HEALTHY:
                continue
            level = warehouse.level(sku)
            quantity = min(reorder_quantity(level), warehouse.free_capacity())
            if quantity > 0:
                urgent = status in (StockStatus.URGENT, StockStatus.EMPTY)
                orders.append(PurchaseOrder(warehouse.name, sku, quantity, urgent))
    orders.sort(key=lambda order: (not order.urgent, order.warehouse, str(order.sku)))
    return orders


def parse_stock_csv(text: str) -> Network:
    """Reads warehouse,sku,on_hand,reserved,reorder_point,capacity rows into a Network."""
    network = Network()
    reader = csv.DictReader(io.StringIO(text))
    for line_number, row in enumerate(reader, start=2):
        try:
            name = row["warehouse"].strip()
            if name not in network.warehouses:
                network.add(Warehouse(name, int(row.get("capacity") or 100000)))
            warehouse = network.get(name)
            level = warehouse.level(SkuCode.parse(row["sku"]))
            level.on_hand = int(row["on_hand"])
            level.reserved = int(row.get("reserved") or 0)
            level.reorder_point = int(row.get("reorder_point") or 0)
        except (KeyError, ValueError) as err:
            raise InventoryError(f"line {line_number}: {err}") from err
    return network


def export_csv(network: Network) -> str:
    """The inverse of parse_stock_csv, with a status column: one row per stock level."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for warehouse in sorted(network.warehouses.values(), key=lambda w: w.name):
        for sku, status in warehouse.statuses():
            level = warehouse.level(sku)
            writer.writerow([warehouse.name, str(sku), level.on_hand, level.reserved, level.reorder_point, status.value])
    return out.getvalue()


def export_orders_json(orders: Sequence[PurchaseOrder]) -> str:
    return json.dumps([order.to_dict() for order in orders], indent=2)


def audit(warehouse: Warehouse) -> List[str]:
    """Replays the movements of a warehouse and lists every SKU whose stock does not add up."""
    replayed: Dict[SkuCode, int] = {}
    for movement in warehouse.movements:
        replayed[movement.sku] = replayed.get(movement.sku, 0) + movement.delta
    problems = []
    for sku, level in warehouse.levels.items():
        expected = replayed.get(sku, 0)
        if expected != level.on_hand:
            problems.append(f"{warehouse.name} {sku}: movements add up to {expected}, on hand {level.on_hand}")
        if level.reserved > level.on_hand:
            problems.append(f"{warehouse.name} {sku}: {level.reserved} reserved but {level.on_hand} on hand")
    return problems


SAMPLE_STOCK = """warehouse,sku,on_hand,reserved,reorder_point,capacity
north,BOLT-0001,1200,100,400,20000
north,NUT-0002,300,0,500,20000
north,WASHER-0003,90,10,200,20000
south,BOLT-0001,150,0,400,15000
south,NUT-0002,2200,200,500,15000
south,WASHER-0003,0,0,200,15000
east,BOLT-0001,640,40,400,8000
east,NUT-0002,510,0,500,8000
"""


def demo() -> None:
    """Loads SAMPLE_STOCK, plans purchase orders and prints them with the stock table."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    network = parse_stock_csv(SAMPLE_STOCK)
    orders = plan_orders(network)
    LOG.info("%d purchase orders", len(orders))
    LOG.info(export_orders_json(orders))
    for warehouse in network.warehouses.values():
        for problem in audit(warehouse):
            LOG.warning(problem)
    LOG.info(export_csv(network))


# The checks below run with `python3 inventory.py --check`. They use the names defined at the
# top of the file once more: StockLevel, StockStatus, REORDER_MARGIN, Warehouse, SkuCode.


def check_status_thresholds() -> None:
    level = StockLevel(SkuCode("BOLT", 1), on_hand=100, reorder_point=100)
    assert level.status() is StockStatus.HEALTHY
    level.reserved = 1
    assert level.status() is StockStatus.LOW
    level.reserved = math.ceil(100 * REORDER_MARGIN) + 1
    assert level.status() is StockStatus.URGENT
    level.reserved = 100
    assert level.status() is StockStatus.EMPTY


def check_warehouse_round_trip() -> None:
    warehouse = Warehouse("test", capacity=1000)
    sku = SkuCode.parse("NUT-0042")
    warehouse.receive(sku, 300)
    warehouse.reserve(sku, 120)
    warehouse.ship(sku, 100)
    warehouse.release(sku, 20)
    assert warehouse.level(sku).on_hand == 200
    assert warehouse.level(sku).reserved == 0
    assert warehouse.adjust(sku, 195) == -5
    assert audit(warehouse) == []
    assert str(sku) == "NUT-0042"


def check_reorder_quantity() -> None:
    level = StockLevel(SkuCode("WASHER", 3), on_hand=10, reorder_point=200, daily_demand=[10, 12, 8, 10])
    quantity = reorder_quantity(level)
    assert 0 < quantity <= MAX_ORDER_QUANTITY
    assert level.available + quantity >= level.reorder_point


def check_csv_round_trip() -> None:
    network = parse_stock_csv(SAMPLE_STOCK)
    exported = export_csv(network)
    assert exported.splitlines()[0] == ",".join(EXPORT_COLUMNS)
    assert len(exported.splitlines()) == 1 + sum(len(w.levels) for w in network.warehouses.values())


def run_checks() -> int:
    checks = [check_status_thresholds, check_warehouse_round_trip, check_reorder_quantity, check_csv_round_trip]
    failed = 0
    for check in checks:
        try:
            check()
        except AssertionError as err:
            failed += 1
            print(f"FAIL {check.__name__}: {err}")
        else:
            print(f"ok   {check.__name__}")
    return failed


if __name__ == "__main__":
    import sys

    if "--check" in sys.argv:
        sys.exit(1 if run_checks() else 0)
    demo()
