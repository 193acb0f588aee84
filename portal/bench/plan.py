"""The shape of a benchmark dataset, decided in Python before anything is written.

A size names how many instructors, courses, enrollments and students there
are. ``make_plan`` turns it into one row per instructor and one per course
(a few thousand numbers at most); the SQL in ``generate`` then expands every
course into its enrollments, progress, money and activity with
``generate_series``, set-based, so the skew lives here and the volume there.

The skew is the review's: at 1m, instructor 1 teaches 40 courses, one of
them with 39,000 enrollments, and 110,000 distinct students (15% of all
enrollments over a pool of 11% of them); the other instructors share the
rest with a Zipf-like tail, each capped below instructor 1 so that
instructor 1 stays the largest at every size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TOP_SHARE = 0.15            # instructor 1's share of all enrollments
TOP_POOL_SHARE = 0.11       # instructor 1's distinct students, as a share of all enrollments
BIGGEST_COURSE_SHARE = 0.039
OTHERS_CAP = 0.8            # no other instructor gets more than this times instructor 1's enrollments
OTHERS_POOL_SHARE = 0.75    # another instructor's distinct students, as a share of their enrollments
ZIPF_EXPONENT = 0.9
COURSE_CAP = 0.9            # no other course gets more than this times course 1's enrollments
PRICES = (19, 29, 49, 99, 149)


@dataclass(frozen=True)
class Size:
    name: str
    instructors: int
    courses: int
    enrollments: int
    students: int
    top_courses: int = 40       # instructor 1's courses
    organizations: int = 4
    workshops_each: int = 3     # per instructor (instructor 1 has twice as many)


SIZES = {
    # A test's size: ~1k enrollments in a few seconds.
    "smoke": Size("smoke", instructors=10, courses=60, enrollments=1_000, students=400, top_courses=20),
    "10k": Size("10k", instructors=10, courses=200, enrollments=10_000, students=3_000),
    "100k": Size("100k", instructors=100, courses=2_000, enrollments=100_000, students=30_000),
    "1m": Size("1m", instructors=1_000, courses=20_000, enrollments=1_000_000, students=300_000),
}


@dataclass(frozen=True)
class InstructorPlan:
    number: int            # 1 is the largest
    pool_start: int        # first student number of the pool their courses draw from
    pool_size: int         # distinct students they can have
    organization: int      # 0: standalone
    auto_approve: bool
    workshops: int


@dataclass(frozen=True)
class CoursePlan:
    number: int
    instructor: int
    enrollments: int
    first_enrollment: int  # global number of its first enrollment
    pool_offset: int       # where in the instructor's pool its students start
    status: str
    price: int
    modules: int           # three lessons each: video, text, quiz
    certificate: bool
    drip: bool


@dataclass(frozen=True)
class Plan:
    size: Size
    instructors: list[InstructorPlan]
    courses: list[CoursePlan]

    @property
    def biggest_course(self) -> CoursePlan:
        return self.courses[0]

    @property
    def free_course(self) -> CoursePlan:
        """Instructor 1's biggest free course: where concurrent enrollments are counted."""
        return self.courses[1]

    def columns(self, rows: list, fields: tuple[str, ...]) -> list[list]:
        """``rows`` as one list per field, for ``unnest(%s::int[], ...)``."""
        return [[getattr(row, name) for row in rows] for name in fields]


def apportion(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to ``weights`` that sum to ``total`` (largest remainder)."""
    if not weights:
        return []
    scale = sum(weights)
    exact = [total * w / scale for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def water_fill(total: float, weights: list[float], cap: float) -> list[float]:
    """Shares of ``total`` proportional to ``weights`` where none exceeds ``cap``."""
    if cap * len(weights) < total:
        raise ValueError(f"cannot spread {total} over {len(weights)} instructors capped at {cap}")
    shares = [0.0] * len(weights)
    free, remaining = set(range(len(weights))), float(total)
    while True:
        scale = sum(weights[i] for i in free)
        over = [i for i in free if remaining * weights[i] / scale > cap]
        if not over:
            for i in free:
                shares[i] = remaining * weights[i] / scale
            return shares
        for i in over:
            shares[i] = cap
            remaining -= cap
            free.discard(i)


def _course_status(j: int, count: int, top: bool) -> str:
    """The j-th (1-based) of an instructor's ``count`` courses: a few drafts and archived ones."""
    if top:
        if j > count - 2:
            return "draft"
        return "archived" if j > count - 4 else "published"
    if j == count and count >= 3:
        return "draft"
    return "archived" if j % 9 == 0 else "published"


def _price(number: int) -> int:
    if number == 2 or number % 10 == 3:   # course 2: instructor 1's big free course
        return 0
    return PRICES[number % len(PRICES)]


def make_plan(size: Size) -> Plan:
    top_total = round(TOP_SHARE * size.enrollments)
    others = water_fill(size.enrollments - top_total,
                        [1 / (r ** ZIPF_EXPONENT) for r in range(2, size.instructors + 1)],
                        OTHERS_CAP * top_total)
    totals = [top_total] + apportion(size.enrollments - top_total, others)

    # Course numbers per instructor: 1..top_courses for instructor 1, the rest dealt round-robin.
    owned = {1: list(range(1, size.top_courses + 1))}
    for number in range(size.top_courses + 1, size.courses + 1):
        owned.setdefault(2 + (number - size.top_courses - 1) % (size.instructors - 1), []).append(number)

    courses, instructors = {}, []
    for i in range(1, size.instructors + 1):
        numbers = owned.get(i, [])
        statuses = [_course_status(j, len(numbers), i == 1) for j in range(1, len(numbers) + 1)]
        open_ = [j for j, status in enumerate(statuses) if status != "draft"]
        counts = [0] * len(numbers)
        if i == 1:
            counts[0] = round(BIGGEST_COURSE_SHARE * size.enrollments)
            rest = apportion(totals[0] - counts[0], [1 / (j + 1) for j in open_[1:]])
            for j, n in zip(open_[1:], rest):
                counts[j] = n
            pool = round(TOP_POOL_SHARE * size.enrollments)
            pool_start = 0
        else:
            weights = [1 / (j + 1) for j in open_]
            cap = COURSE_CAP * round(BIGGEST_COURSE_SHARE * size.enrollments)
            if cap * len(open_) >= totals[i - 1]:  # course 1 stays the biggest where the numbers allow
                weights = water_fill(totals[i - 1], weights, cap)
            for j, n in zip(open_, apportion(totals[i - 1], weights)):
                counts[j] = n
            pool = min(size.students, max(max(counts, default=0), math.ceil(OTHERS_POOL_SHARE * totals[i - 1]), 1))
            pool_start = int((i * 0.6180339887) % 1 * size.students)
        instructors.append(InstructorPlan(
            number=i, pool_start=pool_start, pool_size=pool,
            organization=1 + (i - 1) % size.organizations if i % 3 == 1 else 0,
            auto_approve=i % 10 != 5,
            workshops=size.workshops_each * (2 if i == 1 else 1)))
        offset = 0
        for j, number in enumerate(numbers):
            courses[number] = dict(number=number, instructor=i, enrollments=counts[j], pool_offset=offset % pool,
                                   status=statuses[j], price=_price(number), modules=2 + number % 3,
                                   certificate=number == 1 or number % 3 == 0,
                                   drip=number == 1 or number % 7 == 0)
            offset += counts[j]

    first, plans = 0, []
    for number in sorted(courses):
        plans.append(CoursePlan(first_enrollment=first, **courses[number]))
        first += courses[number]["enrollments"]
    return Plan(size=size, instructors=instructors, courses=plans)
