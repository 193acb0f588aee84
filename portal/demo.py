"""Demo data: a realistic, deterministic dataset loaded through the users' own paths.

``load_demo(urls)`` builds an organization with its admin, five instructors
(one standalone), twenty courses with modules and lessons, three hundred
students, enrollments at every stage, lesson progress and quiz scores,
reviews with and without responses, past and upcoming workshops with
registrations, attendance and feedback, paid enrollments and one refund.
``scale`` multiplies the students, the courses and (through the students) the
enrollments.

How it is loaded, in three parts:

1. **Users act.** Everything a user does runs on an ``authenticator``
   connection, one transaction per action that first sets role and claims,
   exactly as a web request does: students and instructors sign up as anon;
   the platform admin creates the organization, promotes its admin and places
   instructors in it; instructors write their profiles and settings, build and
   publish courses and workshops, add a co-teacher, approve enrollments, answer
   reviews and mark attendance; students enroll, record lessons and quiz
   scores, cancel, review, register and leave feedback; the payment service
   (``service_role``) confirms payments and issues the one refund through
   ``confirm_course_payment`` / the webhook's ``apply_payment_event`` (a workshop seat) /
   ``refund_course_enrollment``. The only owner write before part 2 is the
   platform admin's own account: nobody can sign up as an admin.
2. **Maintenance dates the rows.** Triggers stamp rows with ``now()``, so
   after part 1 everything happened "today". One owner transaction then
   spreads the timestamps over the past ~90 days as planned (enrollment,
   progress, completion, payment, review, registration, attendance, feedback
   times, and the activity timeline that mentions them). Figures are never
   written: the one figure that reads a timestamp (``last_activity_at``, the
   latest ``lesson_progress.updated_at``) is recomputed by its own trigger
   when the progress rows are re-dated.
3. **Check.** ``verify_denormalized_figures()`` must return no row, and the
   monthly stats view is refreshed.

Determinism: one ``random.Random`` seeded with a constant draws the whole plan
before anything is written, from fixed name lists and catalogs; the same scale
gives the same rows (ids and absolute times aside: times are relative to the
moment of loading).
"""

from __future__ import annotations

import json
import random
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

import psycopg2
import psycopg2.extras
from tqdm import tqdm

from portal import demo_lessons, models, seed
from portal.passwords import hash_password

if TYPE_CHECKING:  # pragma: no cover
    from portal.db import Urls


DEMO_PASSWORD = "teach-and-learn-2026"
DEMO_ORG_NAME = "Brightpath Learning"
DEMO_ORG_SLUG = "brightpath-learning"
DEMO_EMAIL_DOMAIN = "demo.test"
DEMO_ADMIN_EMAIL = "admin@demo.test"
DEMO_ORG_ADMIN_EMAIL = "priya.raman@demo.test"
DEMO_INSTRUCTOR_EMAIL = "maya.chen@demo.test"
DEMO_STUDENT_EMAIL = "student001@demo.test"

DEMO_LOGINS = [
    ("platform admin", DEMO_ADMIN_EMAIL),
    ("organization admin", DEMO_ORG_ADMIN_EMAIL),
    ("instructor", DEMO_INSTRUCTOR_EMAIL),
    ("student", DEMO_STUDENT_EMAIL),
]

SEED = 20260101
STUDENTS_PER_SCALE = 300

DAY = 86_400.0
HOUR = 3_600.0
MINUTE = 60.0
# Nothing is dated in the last few minutes before the load ends.
MIN_AGO = 10 * MINUTE


# --- the fixed cast -------------------------------------------------------------------

FIRST_NAMES = [
    "Aisha", "Ben", "Carla", "Daniel", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kavya",
    "Liam", "Mei", "Noah", "Olivia", "Pablo", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Valentina",
    "Wei", "Ximena", "Yusuf", "Zoe", "Anton", "Beatriz", "Chloe", "Dmitri", "Emeka", "Fatima",
    "Gabriel", "Hana", "Ivan", "Julia", "Kenji", "Leila", "Marco", "Nadia", "Oscar", "Rafael",
    "Sara", "Tomás", "Uma", "Victor", "Yara", "Zainab",
]
LAST_NAMES = [
    "Adeyemi", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hansen", "Ibrahim",
    "Jensen", "Kowalski", "Larsen", "Martins", "Nakamura", "Oliveira", "Petrov", "Quispe", "Rossi",
    "Schmidt", "Tanaka", "Usman", "Varga", "Wójcik", "Xu", "Yilmaz", "Zhang", "Andersson", "Brown",
    "Chowdhury", "Dimitrov", "Evans", "Ferreira", "Gupta", "Horvat", "Ivanova", "Jovanović", "Kim",
    "Lopez", "Mensah", "Nowak", "Okoro", "Park", "Ramos", "Singh", "Torres", "Van Dijk", "Walsh",
    "Yamamoto",
]

ADMIN = {"email": DEMO_ADMIN_EMAIL, "name": "Alex Morgan"}
ORG_ADMIN = {"email": DEMO_ORG_ADMIN_EMAIL, "name": "Priya Raman"}

INSTRUCTORS = [
    {
        "key": "maya", "email": DEMO_INSTRUCTOR_EMAIL, "name": "Maya Chen", "in_org": True,
        "verified": True, "featured": True,
        "profile": {
            "headline": "AI transformation coach for team leads",
            "bio": ("Maya spent a decade in people analytics before helping more than forty teams adopt AI "
                    "without losing what made them work. Her courses are practical: every module ends with "
                    "something you can try with your own team on Monday."),
            "expertise_tags": ["AI Transformation", "Leadership", "Change Management", "Coaching"],
            "pillars": ["adaptability", "coaching"],
            "education": [{"degree": "MSc Organisational Psychology", "institution": "University of Amsterdam",
                           "year": 2012}],
            "certifications": [{"name": "ICF Professional Certified Coach",
                                "issuer": "International Coaching Federation", "year": 2018}],
            "work_experience": [{"role": "Head of People Analytics", "company": "Northwind Logistics",
                                 "from": 2015, "to": 2021}],
            "social_links": {"linkedin": "https://www.linkedin.com/in/maya-chen-demo"},
            "website_url": "https://mayachen.demo.test",
        },
        "settings": {"timezone": "Europe/Amsterdam", "payment_method": "stripe", "payout_schedule": "monthly",
                     "calendar_sync_enabled": True, "calendar_provider": "google"},
    },
    {
        "key": "david", "email": "david.okafor@demo.test", "name": "David Okafor", "in_org": True,
        "verified": True, "featured": False,
        "profile": {
            "headline": "Data analyst turned teacher: SQL, Python and dashboards people use",
            "bio": ("David built reporting for retail and fintech companies in Lagos and London. He teaches "
                    "data skills the way he learned them: one real question at a time, with messy data."),
            "expertise_tags": ["Data Analysis", "SQL", "Python", "Dashboards"],
            "pillars": ["marketplace"],
            "education": [{"degree": "BSc Statistics", "institution": "University of Lagos", "year": 2011}],
            "certifications": [],
            "work_experience": [{"role": "Lead Data Analyst", "company": "Kestrel Retail", "from": 2016, "to": 2022}],
            "social_links": {"github": "https://github.com/david-okafor-demo"},
            "website_url": None,
        },
        "settings": {"timezone": "Africa/Lagos", "payment_method": "paypal", "payout_schedule": "biweekly"},
    },
    {
        "key": "sofia", "email": "sofia.alvarez@demo.test", "name": "Sofia Alvarez", "in_org": True,
        "verified": False, "featured": False,
        "profile": {
            "headline": "Facilitator and service designer",
            "bio": ("Sofia designs and runs workshops for product teams across Europe. Her courses cover the "
                    "craft behind a good session: preparation, energy, and decisions that stick."),
            "expertise_tags": ["Facilitation", "Design Thinking", "Remote Teams"],
            "pillars": ["adaptability", "coaching"],
            "education": [{"degree": "MA Service Design", "institution": "Elisava Barcelona", "year": 2014}],
            "certifications": [{"name": "Certified Professional Facilitator", "issuer": "IAF", "year": 2019}],
            "work_experience": [],
            "social_links": {"linkedin": "https://www.linkedin.com/in/sofia-alvarez-demo"},
            "website_url": "https://sofiaalvarez.demo.test",
        },
        "settings": {"timezone": "Europe/Madrid", "payment_method": "bank_transfer", "payout_schedule": "monthly"},
    },
    {
        "key": "james", "email": "james.whitaker@demo.test", "name": "James Whitaker", "in_org": True,
        "verified": False, "featured": False,
        "profile": {
            "headline": "Agile coach for teams that ship",
            "bio": ("James has coached agile teams in public services and start-ups for twelve years. He "
                    "favours small experiments, honest retrospectives and plain language over frameworks."),
            "expertise_tags": ["Agile", "Project Management", "Communication"],
            "pillars": ["adaptability"],
            "education": [],
            "certifications": [{"name": "Professional Scrum Master II", "issuer": "Scrum.org", "year": 2017}],
            "work_experience": [{"role": "Agile Coach", "company": "Civic Digital", "from": 2013, "to": 2020}],
            "social_links": {},
            "website_url": None,
        },
        "settings": {"timezone": "Europe/London", "payment_method": "stripe", "payout_schedule": "weekly"},
    },
    {
        # Standalone (no organization), and approves every enrollment by hand.
        "key": "lena", "email": "lena.novak@demo.test", "name": "Lena Novak", "in_org": False,
        "verified": False, "featured": False,
        "profile": {
            "headline": "Independent consultant: pricing, proposals and negotiation",
            "bio": ("Lena left a consulting firm to work for herself in 2016. She teaches the business side "
                    "of independent work: finding clients, pricing with confidence and negotiating calmly."),
            "expertise_tags": ["Consulting", "Negotiation", "Productivity"],
            "pillars": ["marketplace", "coaching"],
            "education": [{"degree": "Ing. Economics", "institution": "Charles University", "year": 2009}],
            "certifications": [],
            "work_experience": [],
            "social_links": {"linkedin": "https://www.linkedin.com/in/lena-novak-demo"},
            "website_url": "https://lenanovak.demo.test",
        },
        "settings": {"timezone": "Europe/Prague", "payment_method": "paypal", "payout_schedule": "monthly",
                     "auto_approve_enrollments": False},
    },
]
PRIMARY = "maya"
CO_INSTRUCTOR = "james"       # co-instructor on the primary's first course
CO_FACILITATOR = "sofia"      # co-facilitator on one of the primary's workshops

# (owner, title, subtitle, category, level, price, final status, module topics, tags, certificate)
CATALOG = [
    ("maya", "AI Transformation for Team Leads",
     "Lead your team through its first AI projects, from pilot to everyday practice.",
     "Leadership", "intermediate", "149.00", "published",
     ["Where AI fits in your team", "Running a first pilot", "Measuring the impact", "Scaling what works"],
     ["AI Transformation", "Leadership", "Strategy"], True),
    ("maya", "Prompt Engineering Fundamentals",
     "Write prompts that get useful, repeatable answers from language models.",
     "AI", "beginner", "79.00", "published",
     ["How language models respond", "Writing clear prompts", "Iterating on outputs", "Prompt patterns for teams"],
     ["AI", "Prompting"], True),
    ("maya", "Data-Driven Decision Making",
     "Frame decisions, find the right numbers and decide with confidence.",
     "Leadership", "intermediate", "99.00", "published",
     ["Framing the decision", "Finding the right data", "Reading the numbers", "Deciding under uncertainty"],
     ["Decision Making", "Analytics"], False),
    ("maya", "Change Management Essentials",
     "Why change fails, and the habits that make it stick.",
     "Leadership", "beginner", "0", "published",
     ["Why change fails", "Building a coalition", "Communicating change", "Making it stick"],
     ["Change Management", "Leadership"], False),
    ("maya", "Coaching Conversations That Work",
     "Questions, feedback and follow-through for managers who coach.",
     "Coaching", "all_levels", "129.00", "published",
     ["The coaching mindset", "Asking powerful questions", "Giving useful feedback", "Following through"],
     ["Coaching", "Feedback"], True),
    ("maya", "Machine Learning for Managers",
     "What machine learning can and cannot do for your team, without the maths.",
     "AI", "beginner", "0", "published",
     ["What machine learning is", "Data and models", "Evaluating results", "Working with data teams"],
     ["AI", "Machine Learning"], False),
    ("david", "Python for Data Analysis",
     "From spreadsheets to notebooks: load, clean and explore real data.",
     "Data", "beginner", "89.00", "published",
     ["Setting up your notebook", "Loading and cleaning data", "Exploring with pandas", "Sharing results"],
     ["Python", "Data Analysis"], True),
    ("david", "SQL from Zero to Reports",
     "Query a real database and turn the answers into weekly reports.",
     "Data", "beginner", "0", "published",
     ["Your first SELECT", "Filtering and joining", "Grouping and totals", "From query to report"],
     ["SQL", "Reporting"], False),
    ("david", "Dashboards That Get Used",
     "Design dashboards around questions, not charts.",
     "Data", "intermediate", "59.00", "published",
     ["Start from the question", "Choosing the right chart", "Layout and flow", "Rolling it out"],
     ["Dashboards", "Data Visualization"], False),
    ("david", "Advanced Pandas Patterns",
     "Method chaining, reshaping and performance for large frames.",
     "Data", "advanced", "99.00", "draft",
     ["Method chaining", "Reshaping data", "Working with time series", "Performance"],
     ["Python", "pandas"], False),
    ("sofia", "Facilitation Skills for Workshops",
     "Plan and run sessions where every voice is heard and decisions get made.",
     "Facilitation", "intermediate", "69.00", "published",
     ["Designing the agenda", "Opening strong", "Handling difficult moments", "Closing with decisions"],
     ["Facilitation", "Workshops"], True),
    ("sofia", "Design Thinking Bootcamp",
     "Empathize, define, ideate, prototype and test in five compact modules.",
     "Design", "beginner", "119.00", "published",
     ["Empathy interviews", "Defining the problem", "Ideation techniques", "Prototyping and testing"],
     ["Design Thinking", "Innovation"], True),
    ("sofia", "Remote Team Rituals",
     "Stand-ups, demos and retros that work across time zones.",
     "Teamwork", "all_levels", "0", "published",
     ["Asynchronous first", "Meetings worth having", "Rituals for connection", "Keeping it alive"],
     ["Remote Work", "Teamwork"], False),
    ("sofia", "Storytelling with Data",
     "Turn analysis into a story your audience remembers.",
     "Communication", "intermediate", "49.00", "draft",
     ["Know your audience", "Finding the story", "Designing slides", "Presenting with confidence"],
     ["Storytelling", "Presentation"], False),
    ("james", "Agile Project Management",
     "Plan, deliver and adapt in short cycles with a real backlog.",
     "Project Management", "beginner", "99.00", "published",
     ["Agile in one afternoon", "Building a backlog", "Sprints and flow", "Measuring progress"],
     ["Agile", "Scrum", "Kanban"], True),
    ("james", "Stakeholder Communication",
     "Keep sponsors, users and teams aligned without drowning in meetings.",
     "Communication", "intermediate", "0", "published",
     ["Mapping stakeholders", "Writing updates people read", "Difficult conversations", "Saying no"],
     ["Communication", "Stakeholders"], False),
    ("james", "Scrum Foundations (2023 Edition)",
     "The previous edition of the agile course, kept for its enrolled students.",
     "Project Management", "beginner", "49.00", "archived",
     ["Scrum roles", "Scrum events", "Scrum artifacts", "Scaling Scrum"],
     ["Scrum"], False),
    ("lena", "Freelance Consulting Playbook",
     "Find clients, scope projects and build a consulting practice that lasts.",
     "Business", "intermediate", "199.00", "published",
     ["Choosing your niche", "Finding the first clients", "Scoping and proposals", "Running the practice"],
     ["Consulting", "Freelancing"], True),
    ("lena", "Personal Productivity Systems",
     "A calm, reliable system for tasks, notes and focus.",
     "Productivity", "all_levels", "0", "published",
     ["Capturing everything", "Planning the week", "Protecting focus", "Reviewing and adjusting"],
     ["Productivity"], False),
    ("lena", "Negotiation for Independents",
     "Negotiate rates, scope and terms without losing the client.",
     "Business", "intermediate", "89.00", "published",
     ["Preparing to negotiate", "Anchors and offers", "Handling pushback", "Closing the deal"],
     ["Negotiation", "Consulting"], False),
]

AUDIENCES = {
    "Leadership": ["Team leads", "New managers"], "AI": ["Managers", "Knowledge workers"],
    "Coaching": ["Managers who coach", "Team leads"], "Data": ["Analysts", "Spreadsheet power users"],
    "Facilitation": ["Workshop facilitators", "Product managers"], "Design": ["Product teams", "Designers"],
    "Teamwork": ["Remote teams", "Team leads"], "Communication": ["Project managers", "Team leads"],
    "Project Management": ["Project managers", "Team members new to agile"],
    "Business": ["Freelancers", "Independent consultants"], "Productivity": ["Anyone with too much to do"],
}

# (key, owner, title, type, price, capacity, when, days (ago if past, ahead if upcoming), hours,
#  registrants, facilitator)
WORKSHOPS = [
    ("ai-strategy-clinic", "maya", "AI Strategy Clinic", "online", "49.00", 40, "past", 40, 2, 22, None),
    ("leading-through-change-live", "maya", "Leading Through Change: Live Session", "hybrid", "0", 30,
     "past", 12, 2, 20, CO_FACILITATOR),
    ("prompt-lab-hands-on", "maya", "Prompt Lab: Hands-On", "online", "39.00", 30, "upcoming", 6, 3, 18, None),
    ("coaching-circle", "maya", "Coaching Circle", "online", "0", 12, "upcoming", 13, 2, 16, None),
    ("live-sql-office-hours", "david", "Live SQL Office Hours", "online", "0", 50, "past", 25, 1, 25, None),
    ("python-data-cleaning-sprint", "david", "Python Data Cleaning Sprint", "online", "29.00", 25,
     "upcoming", 20, 3, 14, None),
    ("design-sprint-in-a-day", "sofia", "Design Sprint in a Day", "in_person", "89.00", 20, "past", 60, 7, 15,
     None),
    ("facilitation-masterclass", "sofia", "Facilitation Masterclass", "hybrid", "120.00", 16, "draft", 45, 4, 0,
     None),
    ("retrospectives-that-matter", "james", "Retrospectives That Matter", "online", "0", 40, "upcoming", 9, 2,
     12, None),
    ("kanban-deep-dive", "james", "Kanban Deep Dive", "online", "0", 30, "cancelled", 30, 2, 0, None),
    ("pricing-your-expertise", "lena", "Pricing Your Expertise", "online", "59.00", 25, "past", 18, 2, 12, None),
]
LOCATION = "Brightpath Studio, Keizersgracht 120, Amsterdam"
START_HOUR = 8   # workshops start at 08:00 UTC (09:00 or 10:00 in Amsterdam)

LESSON_TITLES = {
    "video": ["Walkthrough: {t}", "{t} in ten minutes", "Watch: {t} in practice", "Interview: {t} at work"],
    "text": ["Reading: key ideas of {t}", "{t}: a short guide", "Notes on {t}", "Common pitfalls in {t}"],
    "assignment": ["Assignment: apply {t} to your work", "Exercise: {t} with your team",
                   "Project: a plan for {t}"],
    "quiz": ["Quiz: {t}", "Check your understanding: {t}"],
}

REVIEW_TITLES = {
    5: ["Excellent course", "Exactly what I needed", "Worth every minute", "Clear, practical and well paced"],
    4: ["Very good overall", "Solid and practical", "Great content, a few rough edges"],
    3: ["Good, but could go deeper", "A decent introduction", "Useful in parts"],
    2: ["Not what I expected", "Too basic for me"],
    1: ["Disappointing", "Did not work for me"],
}
REVIEW_TEXTS = {
    5: ["{first} explains {topic} with real examples. I used the ideas at work the week after.",
        "Well structured, and the quizzes made sure I really understood {topic}.",
        "The best course I have taken this year. The module on {topic} alone was worth it."],
    4: ["Practical and clear. I would have liked one more exercise on {topic}.",
        "Good pace and useful material; the videos on {topic} stood out."],
    3: ["Some good material, especially on {topic}, but parts felt rushed.",
        "Fine as an overview. I expected more depth on {topic}."],
    2: ["The section on {topic} was too shallow for my level.",
        "Hard to follow in places; more examples on {topic} would help."],
    1: ["I could not apply much of it. {topic} was covered only briefly."],
}
RESPONSES_HIGH = ["Thank you, {first}! Glad the part on {topic} was useful.",
                  "Thanks for taking the time to write this, {first}. Enjoy putting it into practice!",
                  "Really happy to hear that, {first}. Let me know how it goes with your team."]
RESPONSES_LOW = ["Thanks for the honest feedback, {first}. I am reworking the {topic} module with more "
                 "examples; you will get the update for free.",
                 "Sorry it missed the mark, {first}. I have added a reading list on {topic} to the course page."]
FEEDBACK_WELL = ["Very interactive, lots of practical exercises.", "Clear structure and good examples.",
                 "Great energy and useful breakout sessions.", "I left with a plan I can use tomorrow."]
FEEDBACK_IMPROVE = ["A bit more time for questions.", "Share the slides before the session.",
                    "The second half felt rushed.", "More examples from smaller companies."]


# --- the plan --------------------------------------------------------------------------

@dataclass
class LessonSpec:
    title: str
    kind: str
    minutes: int
    passing: int | None = None
    id: str | None = None


@dataclass
class CourseSpec:
    key: str
    owner: str
    title: str
    slug: str
    subtitle: str
    category: str
    level: str
    price: Decimal
    status: str
    topics: list
    tags: list
    certificate: bool
    modules: list = field(default_factory=list)     # [(title, [LessonSpec])]
    popularity: float = 1.0
    quality: float = 4.2
    id: str | None = None

    @property
    def lessons(self) -> list:
        return [lesson for _, lessons in self.modules for lesson in lessons]

    @property
    def paid(self) -> bool:
        return self.price > 0


@dataclass
class Step:
    """One lesson of an enrollment: what the student records, and when (seconds ago)."""
    lesson: LessonSpec
    status: str
    watch: int
    score: int | None             # a quiz: how many answers are right
    first_score: int | None       # a failed first attempt at a quiz, retried later
    started: float
    updated: float


@dataclass
class Review:
    rating: int
    breakdown: tuple
    title: str
    text: str
    ago: float
    response: str | None
    response_ago: float | None
    responder: str | None
    id: str | None = None


@dataclass
class EnrollmentPlan:
    student: int
    course: CourseSpec
    status: str               # final status
    ago: float                # enrolled, seconds before the end of the load
    pay: bool = False
    approve: bool = False     # by an instructor who approves by hand
    steps: list = field(default_factory=list)
    cancel_ago: float | None = None
    declined: bool = False    # cancelled by the instructor (a pending enrollment declined)
    refund_ago: float | None = None
    review: Review | None = None
    id: str | None = None

    @property
    def completed_ago(self) -> float | None:
        return self.steps[-1].updated - 1 if self.status == "completed" else None


@dataclass
class Registration:
    student: int
    when: float               # past: seconds before the start; else seconds before now
    seat: str                 # registered or waitlisted, as the function will decide
    pay: bool = False
    cancel_after: float | None = None
    attended: bool | None = None
    feedback: dict | None = None
    feedback_after: float = 0.0
    id: str | None = None


@dataclass
class WorkshopPlan:
    key: str
    owner: str
    title: str
    type: str
    price: Decimal
    capacity: int
    when: str                 # past, upcoming, draft, cancelled
    days: int
    hours: int
    facilitator: str | None
    created_ago: float
    registrations: list = field(default_factory=list)
    id: str | None = None

    @property
    def start_ago(self) -> float:  # past workshops only
        return self.days * DAY


@dataclass
class Plan:
    scale: int
    students: list                # [(email, name)]
    courses: list
    enrollments: list
    workshops: list
    student_created_ago: list


def login_lines() -> list[str]:
    """The demo sign-ins, one line per role, as the CLI prints them."""
    return [f"Demo sign-ins (password for every account: {DEMO_PASSWORD}):"] + [
        f"  {role:<20} {email}" for role, email in DEMO_LOGINS]


def _email(i: int) -> str:
    return f"student{i + 1:03d}@{DEMO_EMAIL_DOMAIN}"


def _later(rng: random.Random, t: float, lo: float, hi: float) -> float:
    """A moment ``lo``..``hi`` seconds after ``t`` (all in seconds ago), kept in the past."""
    v = t - rng.uniform(lo, hi)
    if v < MIN_AGO:
        v = MIN_AGO + (t - MIN_AGO) * rng.uniform(0.2, 0.6) if t > MIN_AGO else t * 0.5
    return v


# Every demo quiz has three questions; the right choice of question q is q % 3.
QUIZ_QUESTIONS = 3


def _right_answers(draw: float, passing: int, passed: bool) -> int:
    """How many of the quiz's questions a student who drew ``draw`` gets right:
    the nearest whole number, moved to the planned side of the pass mark."""
    right = max(0, min(QUIZ_QUESTIONS, round(draw / 100 * QUIZ_QUESTIONS)))
    while passed and 100 * right / QUIZ_QUESTIONS < passing:
        right += 1
    while not passed and right > 0 and 100 * right / QUIZ_QUESTIONS >= passing:
        right -= 1
    return right


def _answers(right: int) -> list[int]:
    """Choices that get the first ``right`` questions right and the rest wrong."""
    return [q % QUIZ_QUESTIONS if q < right else (q + 1) % QUIZ_QUESTIONS for q in range(QUIZ_QUESTIONS)]


def _lesson_body(course: CourseSpec, topic: str, module: int, n: int, lesson: LessonSpec) -> str | None:
    """What a lesson says (portal/demo_lessons.py); a video lesson's is its address alone."""
    if lesson.kind == "text":
        return demo_lessons.text_lesson(course.title, course.category, course.slug, topic, module, n)
    if lesson.kind == "assignment":
        return demo_lessons.assignment(course.title, topic, lesson.minutes)
    if lesson.kind == "quiz":
        return demo_lessons.quiz_intro(topic, QUIZ_QUESTIONS)
    return None


def _plan_course(rng: random.Random, block: int, index: int, entry) -> CourseSpec:
    owner, title, subtitle, category, level, price, status, topics, tags, certificate = entry
    slug = "-".join("".join(ch if ch.isalnum() else " " for ch in title.lower()).split())
    if block:
        title, slug = f"{title} · Part {block + 1}", f"{slug}-part-{block + 1}"
    course = CourseSpec(key=f"{index}-{block}", owner=owner, title=title, slug=slug, subtitle=subtitle,
                        category=category, level=level, price=Decimal(price), status=status, topics=topics,
                        tags=tags, certificate=certificate)
    for m in range(rng.randint(2, 4)):
        topic = topics[m]
        count = rng.randint(2, 5)
        lessons = []
        for j in range(count):
            if j == 0:
                kind = rng.choice(["video", "video", "text"])
            elif j == count - 1 and rng.random() < 0.6:
                kind = "quiz"
            else:
                kind = rng.choice(["video", "text", "text", "assignment"])
            minutes = {"video": rng.randint(6, 25), "text": rng.randint(5, 15), "quiz": 10,
                       "assignment": rng.randint(30, 60)}[kind]
            lesson_title = rng.choice(LESSON_TITLES[kind]).format(t=topic)
            lessons.append(LessonSpec(title=lesson_title, kind=kind, minutes=minutes,
                                      passing=rng.choice([60, 70, 70, 80]) if kind == "quiz" else None))
        course.modules.append((topic, lessons))
    if not any(lesson.kind == "quiz" for lesson in course.lessons):
        last = course.modules[-1][1][-1]
        last.kind, last.minutes, last.passing = "quiz", 10, 70
        last.title = LESSON_TITLES["quiz"][0].format(t=course.modules[-1][0])
    course.popularity = {"maya": 2.5, "david": 1.3, "sofia": 1.2, "james": 1.0, "lena": 1.0}[owner]
    course.quality = rng.uniform(3.7, 4.8)
    return course


STATUS_WEIGHTS = [("completed", 28), ("in_progress", 34), ("enrolled", 14), ("pending", 12), ("cancelled", 8)]


def _study(rng: random.Random, e: EnrollmentPlan, last: float, count: int, finish: bool) -> None:
    """Plan ``count`` lessons in course order between enrolling and ``last`` (seconds ago)."""
    lessons = e.course.lessons[:count]
    begin = e.ago - 10 * MINUTE          # after enrolling (and paying)
    gap = (begin - last) / count
    for j, lesson in enumerate(lessons):
        done = begin - gap * (j + 1)
        final = j == count - 1
        status = "completed" if finish or not final or rng.random() < 0.4 else "in_progress"
        score = first = None
        took = min(lesson.minutes * MINUTE * rng.uniform(0.9, 1.4), gap / 2)
        if lesson.kind == "quiz":   # how many answers are right; the database scores them
            draw = rng.gauss(80, 13)
            if draw >= lesson.passing:
                status, score = "completed", _right_answers(draw, lesson.passing, True)
            elif status == "completed":   # failed first, passed on a retry some time later
                first = _right_answers(draw, lesson.passing, False)
                score = _right_answers(rng.uniform(lesson.passing, 100), lesson.passing, True)
                took = min(rng.uniform(0.3, 1.5) * DAY, gap / 2)
            else:
                score = _right_answers(draw, lesson.passing, False)
        if lesson.kind == "video":
            full = lesson.minutes * 60
            watch = int(full * (rng.uniform(0.85, 1.05) if status == "completed" else rng.uniform(0.1, 0.6)))
        else:
            watch = 0
        e.steps.append(Step(lesson, status, watch, score, first, started=done + took, updated=done))


def _review(rng: random.Random, e: EnrollmentPlan, students: list, owner_first: str) -> Review:
    course = e.course
    rating = max(1, min(5, round(rng.gauss(course.quality, 0.9))))
    breakdown = tuple(max(1, min(5, rating + rng.choice([-1, 0, 0, 0, 1]))) for _ in range(3))
    topic = rng.choice(course.topics)
    first = students[e.student][1].split()[0]
    ago = _later(rng, e.completed_ago, 0.2 * DAY, 6 * DAY)
    response = response_ago = responder = None
    if rng.random() < (0.8 if rating <= 3 else 0.45):
        template = rng.choice(RESPONSES_LOW if rating <= 3 else RESPONSES_HIGH)
        response = template.format(first=first, topic=topic.lower())
        response_ago = _later(rng, ago, 0.1 * DAY, 4 * DAY)
        responder = course.owner
        if course.key == "0-0" and rng.random() < 0.5:
            responder = CO_INSTRUCTOR
    return Review(rating=rating, breakdown=breakdown, title=rng.choice(REVIEW_TITLES[rating]),
                  text=rng.choice(REVIEW_TEXTS[rating]).format(first=owner_first, topic=topic.lower()),
                  ago=ago, response=response, response_ago=response_ago, responder=responder)


def _plan_enrollment(rng, student, course, status, students, approves_by_hand) -> EnrollmentPlan:
    recent = 2.0 if course.owner == PRIMARY else 1.6
    if course.status == "archived":
        ago = rng.uniform(50, 88) * DAY
    else:
        ago = 0.5 * HOUR + 89.0 * DAY * rng.random() ** recent
    if status == "completed" and ago < 3 * DAY and student != 0 and rng.random() < 0.5:
        status = "in_progress"    # few finish a course within days
    if status == "pending" and not course.paid and not approves_by_hand:
        status = "enrolled"       # a free course with auto-approval enrolls at once
    pre = status                  # where it stood before a cancellation
    if status == "cancelled":
        pre = rng.choice(["pending", "enrolled", "in_progress"])
        if pre == "pending" and not course.paid and not approves_by_hand:
            pre = "enrolled"
    if pre in ("completed", "in_progress"):
        ago = max(ago, 3 * HOUR + rng.uniform(0, HOUR))
    e = EnrollmentPlan(student=student, course=course, status=status, ago=ago)
    lessons = len(course.lessons)
    if pre == "completed":
        span = min(0.85 * ago, rng.uniform(2, 35) * DAY)
        _study(rng, e, ago - span, lessons, finish=True)
    elif pre == "in_progress":
        last = max(MIN_AGO, min(0.9 * ago, 25 * DAY * rng.random() ** 2))
        _study(rng, e, last, rng.randint(1, lessons - 1), finish=False)
    if status == "cancelled":
        since = e.steps[-1].updated if e.steps else ago
        e.cancel_ago = _later(rng, since, 0.3 * DAY, 10 * DAY)
        e.declined = pre == "pending" and approves_by_hand and rng.random() < 0.5
    settled = pre != "pending"
    if course.paid:
        # Paid unless abandoned at checkout; an instructor who approves by
        # hand may have been paid while the enrollment still waits.
        e.pay = settled or (approves_by_hand and status == "pending" and student != 0 and rng.random() < 0.5)
    e.approve = approves_by_hand and settled
    if status == "completed":
        owner_first = next(i["name"] for i in INSTRUCTORS if i["key"] == course.owner).split()[0]
        if rng.random() < 0.65:
            e.review = _review(rng, e, students, owner_first)
    return e


def _plan_workshops(rng: random.Random, n_students: int) -> list:
    plans = []
    for key, owner, title, kind, price, capacity, when, days, hours, registrants, facilitator in WORKSHOPS:
        created = (days + 35) * DAY if when == "past" else rng.uniform(10, 25) * DAY
        w = WorkshopPlan(key=key, owner=owner, title=title, type=kind, price=Decimal(price), capacity=capacity,
                         when=when, days=days, hours=hours, facilitator=facilitator, created_ago=created)
        if registrants:
            chosen = rng.sample(range(1, n_students), registrants - 1)
            if key in ("leading-through-change-live", "prompt-lab-hands-on"):
                chosen.append(0)      # the demo student
            else:
                chosen.append(rng.randrange(1, n_students))
                chosen = list(dict.fromkeys(chosen))
            regs = []
            for s in chosen:
                if when == "past":    # before the start, after the announcement
                    t = rng.uniform(HOUR, (days + 34) * DAY - days * DAY)
                else:
                    t = rng.uniform(HOUR, created - HOUR)
                regs.append(Registration(student=s, when=t, seat="registered"))
            regs.sort(key=lambda r: -r.when)   # in the order they happen
            for n, r in enumerate(regs):
                r.seat = "registered" if n < capacity else "waitlisted"
                demo_student = r.student == 0
                if r.seat == "registered" and w.price > 0:
                    r.pay = when == "past" or demo_student or rng.random() < 0.8
                if not r.pay and not demo_student and rng.random() < 0.1:
                    r.cancel_after = rng.uniform(0.2, 0.9) * r.when
                if when == "past" and r.seat == "registered" and r.cancel_after is None:
                    r.attended = demo_student or rng.random() < 0.82
                    if r.attended and (demo_student or rng.random() < 0.7):
                        overall = max(1, min(5, round(rng.gauss(4.3, 0.7))))
                        r.feedback = {
                            "overall_satisfaction": overall,
                            "content_rating": max(1, min(5, overall + rng.choice([-1, 0, 0, 1]))),
                            "delivery_rating": max(1, min(5, overall + rng.choice([-1, 0, 0, 1]))),
                            "interaction_rating": max(1, min(5, overall + rng.choice([-1, 0, 1]))),
                            "what_went_well": rng.choice(FEEDBACK_WELL),
                            "what_could_improve": rng.choice(FEEDBACK_IMPROVE) if rng.random() < 0.7 else None,
                            "nps_score": max(0, min(10, round(rng.gauss(8.2, 1.6)))),
                            "would_recommend": overall >= 4,
                        }
                        r.feedback_after = rng.uniform(HOUR, 2 * DAY)
            w.registrations = regs
        plans.append(w)
    return plans


def make_plan(scale: int = 1) -> Plan:
    """Everything the load will do, drawn from one seeded generator: no database involved."""
    if scale < 1:
        raise ValueError("scale is a whole number of at least 1")
    rng = random.Random(SEED)
    n_students = STUDENTS_PER_SCALE * scale
    students = [(_email(i), f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}") for i in range(n_students)]
    courses = [_plan_course(rng, block, i, entry) for block in range(scale) for i, entry in enumerate(CATALOG)]
    open_courses = [c for c in courses if c.status != "draft"]
    by_hand = {i["key"] for i in INSTRUCTORS if i["settings"].get("auto_approve_enrollments") is False}

    enrollments = []
    statuses, weights = zip(*STATUS_WEIGHTS)
    for s in range(n_students):
        if s == 0:
            # The demo student: a completed (and reviewed) course, one in
            # progress, one just started, one waiting for payment.
            picks = [(courses[0], "completed"), (courses[1], "in_progress"), (courses[7], "enrolled"),
                     (courses[17], "pending")]
        else:
            k = rng.choices([0, 1, 2, 3, 4], weights=[4, 34, 32, 20, 10])[0]
            chosen = []
            pool = list(open_courses)
            for _ in range(k):
                c = rng.choices(pool, weights=[x.popularity for x in pool])[0]
                pool.remove(c)
                chosen.append(c)
            picks = [(c, rng.choices(statuses, weights=weights)[0]) for c in chosen]
        for course, status in picks:
            e = _plan_enrollment(rng, s, course, status, students, course.owner in by_hand)
            if s == 0 and e.status == "completed" and e.review is None:
                e.review = _review(rng, e, students, "Maya")
            enrollments.append(e)

    # The one refund: a recent paid enrollment of the primary instructor.
    refund = next(e for e in enrollments
                  if e.student and e.course.owner == PRIMARY and e.course.paid and e.status == "enrolled"
                  and 5 * DAY < e.ago < 25 * DAY)
    refund.status, refund.refund_ago = "refunded", _later(rng, refund.ago, DAY, 4 * DAY)

    workshops = _plan_workshops(rng, n_students)

    # Accounts open before their first action.
    first_seen = [0.0] * n_students
    for e in enrollments:
        first_seen[e.student] = max(first_seen[e.student], e.ago)
    for w in workshops:
        for r in w.registrations:
            seen = w.start_ago + r.when if w.when == "past" else r.when
            first_seen[r.student] = max(first_seen[r.student], seen)
    created = [seen + rng.uniform(DAY, 12 * DAY) if seen else rng.uniform(DAY, 90 * DAY) for seen in first_seen]

    plan = Plan(scale=scale, students=students, courses=courses, enrollments=enrollments, workshops=workshops,
                student_created_ago=created)
    missing = {"pending", "enrolled", "in_progress", "completed", "cancelled", "refunded"} - {
        e.status for e in enrollments}
    if missing:  # pragma: no cover - the seed makes every stage
        raise RuntimeError(f"the plan has no enrollment in {sorted(missing)}")
    return plan


# --- acting as users -----------------------------------------------------------------------

SET_CONTEXT = "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)"


class _Requests:
    """One authenticator connection; each ``with`` block is one request: one
    transaction that first sets role and claims, as the web app does."""

    def __init__(self, app_url: str):
        self.conn = psycopg2.connect(app_url)

    @contextmanager
    def _as(self, role: str, user_id=None):
        claims = {"role": role, **({"sub": str(user_id)} if user_id else {})}
        with self.conn:
            with self.conn.cursor() as cur:
                cur.execute(SET_CONTEXT, (role, json.dumps(claims)))
                yield cur

    def anon(self):
        return self._as("anon")

    def user(self, user_id):
        return self._as("authenticated", user_id)

    def service(self):
        return self._as("service_role")

    def close(self):
        self.conn.close()


def _value(cur, query, params=()):
    cur.execute(query, params)
    return cur.fetchone()[0]


def _ago_array(values):
    return [float(v) if v is not None else None for v in values]


# --- the load ----------------------------------------------------------------------------

def demo_present(owner_url: str) -> bool:
    """Whether the demo organization exists (the demo data is loaded)."""
    conn = psycopg2.connect(owner_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT EXISTS (SELECT 1 FROM organizations WHERE slug = %s), "
                        "EXISTS (SELECT 1 FROM users WHERE email = %s)", (DEMO_ORG_SLUG, DEMO_ADMIN_EMAIL))
            organization, admin = cur.fetchone()
    finally:
        conn.close()
    if admin and not organization:
        raise RuntimeError("a previous demo load stopped part-way (its admin exists, its organization does "
                           "not): load the demo into an empty database")
    return organization


def load_demo(urls: "Urls", scale: int = 1, progress: bool = True) -> bool:
    """Load the demo dataset; False (and nothing done) when it is already there."""
    if demo_present(urls.owner):
        return False
    plan = make_plan(scale)
    loader = _Loader(urls, plan, progress)
    try:
        loader.run()
    finally:
        loader.close()
    return True


class _Loader:
    def __init__(self, urls: "Urls", plan: Plan, progress: bool):
        self.plan = plan
        self.requests = _Requests(urls.app)
        self.owner = psycopg2.connect(urls.owner)
        self.ids: dict[str, str] = {}        # instructor key / "admin" / "org_admin" -> user id
        self.student_ids: list[str] = []
        self.org_id: str | None = None
        p = plan
        total = (1 + 1 + len(INSTRUCTORS) + len(p.students)      # accounts
                 + 1 + len(INSTRUCTORS)                            # organization, profiles
                 + len(p.courses) + len(p.workshops)
                 + len(p.enrollments)                              # enroll (and pay, approve)
                 + sum(1 for e in p.enrollments if e.steps)        # study sessions
                 + sum(1 for e in p.enrollments if e.review)
                 + sum(len(w.registrations) for w in p.workshops)
                 + 5)                                              # discussions, dating, notices, payouts, checks
        self.bar = tqdm(total=total, desc="demo data", unit="step", disable=not progress, leave=False)

    def close(self):
        self.bar.close()
        self.requests.close()
        self.owner.close()

    def phase(self, name: str):
        self.bar.set_description(f"demo: {name}")

    def tick(self, n: int = 1):
        self.bar.update(n)

    def run(self):
        # Hashed once and shared by every demo account: argon2id costs ~25 ms a
        # hash, which would be seconds for the students alone.
        password_hash = hash_password(DEMO_PASSWORD)
        self.accounts(password_hash)
        self.confirm_addresses()
        self.organization()
        self.profiles()
        self.courses()
        self.workshops()
        self.enrollments()
        self.study()
        self.leave_and_refund()
        self.reviews()
        self.helpful_votes()
        self.discussions()
        self.registrations()
        self.payouts()
        self.date_everything()
        self.settle_notices()
        self.check()

    # 1. accounts --------------------------------------------------------------------

    def accounts(self, password_hash: str):
        self.phase("accounts")
        # Nobody can sign up as a platform admin: the first one is made by
        # maintenance, as a real deployment would bootstrap it.
        with self.owner, self.owner.cursor() as cur:
            self.ids["admin"] = seed.insert(cur, models.User, email=ADMIN["email"], full_name=ADMIN["name"],
                                            role="admin")
            cur.execute("INSERT INTO private.user_credentials (user_id, password_hash) VALUES (%s, %s)",
                        (self.ids["admin"], password_hash))
        self.tick()
        sign_up = "SELECT sign_up(%s, %s, %s, %s::user_role)"
        for person in INSTRUCTORS:
            with self.requests.anon() as cur:
                self.ids[person["key"]] = _value(cur, sign_up, (person["email"], password_hash, person["name"],
                                                                "instructor"))
            self.tick()
        # The organization's admin signs up like anyone; the platform admin
        # makes them the organization's admin below.
        with self.requests.anon() as cur:
            self.ids["org_admin"] = _value(cur, sign_up, (ORG_ADMIN["email"], password_hash, ORG_ADMIN["name"],
                                                          "student"))
        self.tick()
        for email, name in self.plan.students:
            with self.requests.anon() as cur:
                self.student_ids.append(_value(cur, sign_up, (email, password_hash, name, "student")))
            self.tick()

    def organization(self):
        self.phase("organization")
        admin = self.ids["admin"]
        with self.requests.user(admin) as cur:
            self.org_id = seed.insert(cur, models.Organization, name=DEMO_ORG_NAME, slug=DEMO_ORG_SLUG)
        with self.requests.user(admin) as cur:
            cur.execute("UPDATE users SET role = 'org_admin', organization_id = %s WHERE id = %s",
                        (self.org_id, self.ids["org_admin"]))
        with self.requests.user(admin) as cur:
            members = [self.ids[i["key"]] for i in INSTRUCTORS if i["in_org"]]
            cur.execute("UPDATE users SET organization_id = %s WHERE id = ANY(%s::uuid[])", (self.org_id, members))
        with self.requests.user(self.ids["org_admin"]) as cur:
            cur.execute("UPDATE organizations SET settings = %s WHERE id = %s",
                        (json.dumps({"brand_color": "#2f6fde", "timezone": "Europe/Amsterdam",
                                     "support_email": "help@brightpath.demo.test"}), self.org_id))
        with self.requests.user(admin) as cur:
            for person in INSTRUCTORS:
                if person["verified"] or person["featured"]:
                    cur.execute("UPDATE instructor_profiles SET is_verified = %s, is_featured = %s WHERE user_id = %s",
                                (person["verified"], person["featured"], self.ids[person["key"]]))
        self.tick()

    def profiles(self):
        self.phase("profiles")
        for person in INSTRUCTORS:
            me = self.ids[person["key"]]
            p = person["profile"]
            with self.requests.user(me) as cur:
                cur.execute(
                    """UPDATE instructor_profiles
                       SET headline = %s, bio = %s, expertise_tags = %s, pillars = %s, education = %s,
                           certifications = %s, work_experience = %s, social_links = %s, website_url = %s
                       WHERE user_id = %s""",
                    (p["headline"], p["bio"], p["expertise_tags"], p["pillars"], json.dumps(p["education"]),
                     json.dumps(p["certifications"]), json.dumps(p["work_experience"]),
                     json.dumps(p["social_links"]), p["website_url"], me))
            settings = person["settings"]
            with self.requests.user(me) as cur:
                sets = ", ".join(f"{column} = %s" for column in settings)
                cur.execute(f"UPDATE instructor_settings SET {sets} WHERE user_id = %s", (*settings.values(), me))
            self.tick()

    # 2. what instructors build -----------------------------------------------------------

    def courses(self):
        self.phase("courses")
        org_of = {i["key"]: self.org_id if i["in_org"] else None for i in INSTRUCTORS}
        for course in self.plan.courses:
            me = self.ids[course.owner]
            with self.requests.user(me) as cur:
                description = (f"{course.subtitle} Over {len(course.modules)} modules you will work through "
                               + ", ".join(t.lower() for t, _ in course.modules) + ".")
                course.id = seed.insert(
                    cur, models.Course, instructor=me, organization=org_of[course.owner], title=course.title,
                    slug=course.slug, subtitle=course.subtitle, description=description,
                    thumbnail_url=f"https://images.demo.test/courses/{course.slug}.jpg", level=course.level,
                    price_amount=course.price, status="draft", category=course.category, tags=course.tags,
                    what_you_will_learn=[t for t, _ in course.modules],
                    target_audience=AUDIENCES.get(course.category, []), certificate_enabled=course.certificate)
                for position, (topic, lessons) in enumerate(course.modules):
                    module_id = seed.insert(cur, models.CourseModule, course=course.id, title=topic,
                                            description=f"Module {position + 1} of {course.title}.", position=position)
                    rows = []
                    for n, lesson in enumerate(lessons):
                        quiz = None
                        if lesson.kind == "quiz":
                            quiz = {"questions": [
                                {"prompt": f"Which statement about {topic.lower()} is right? ({q + 1})",
                                 "choices": ["The first one", "The second one", "The third one"],
                                 "answer": q % QUIZ_QUESTIONS}
                                for q in range(QUIZ_QUESTIONS)]}
                        rows.append({"module": module_id, "course": course.id, "title": lesson.title, "position": n,
                                     "content_type": lesson.kind,
                                     "body": _lesson_body(course, topic, position, n, lesson),
                                     "video_url": f"https://video.demo.test/{course.slug}/{position + 1}-{n + 1}"
                                     if lesson.kind == "video" else None,
                                     "duration_minutes": lesson.minutes, "is_preview": position == 0 and n == 0,
                                     "quiz": quiz, "passing_score": lesson.passing})
                    by_position = dict(seed.insert_many(cur, models.CourseLesson, rows,
                                                        models.CourseLesson.position, models.CourseLesson.id))
                    for n, lesson in enumerate(lessons):
                        lesson.id = by_position[n]
            if course.status != "draft":
                with self.requests.user(me) as cur:
                    cur.execute("UPDATE courses SET status = 'published' WHERE id = %s", (course.id,))
            if course.key == "0-0":
                # A co-instructor who may see the students and answer reviews.
                with self.requests.user(me) as cur:
                    seed.insert(cur, models.CourseInstructor, course=course.id, instructor=self.ids[CO_INSTRUCTOR],
                                role="co-instructor",
                                permissions={"view_content": True, "edit_content": False, "manage_students": True,
                                             "view_revenue": False, "respond_reviews": True})
            self.tick()

    def workshops(self):
        self.phase("workshops")
        org_of = {i["key"]: self.org_id if i["in_org"] else None for i in INSTRUCTORS}
        today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        for w in self.plan.workshops:
            me = self.ids[w.owner]
            # Every workshop is announced ahead of its date: the ones that are
            # past by the end of the load are moved back when rows are dated.
            start = today + timedelta(days=w.days if w.when != "past" else 30, hours=START_HOUR)
            status = {"past": "published", "upcoming": "published", "draft": "draft",
                      "cancelled": "published"}[w.when]
            with self.requests.user(me) as cur:
                w.id = seed.insert(
                    cur, models.Workshop, instructor=me, organization=org_of[w.owner], title=w.title, slug=w.key,
                    description=f"A live session: {w.title.lower()}.", start_time=start,
                    end_time=start + timedelta(hours=w.hours), timezone="Europe/Amsterdam",
                    location=LOCATION if w.type != "online" else None,
                    meeting_url=f"https://meet.demo.test/{w.key}" if w.type != "in_person" else None,
                    capacity=w.capacity, price_amount=w.price, status=status, type=w.type,
                    tags=[w.title.split(":")[0]], what_you_will_learn=[])
            if w.facilitator:
                with self.requests.user(me) as cur:
                    seed.insert(cur, models.WorkshopFacilitator, workshop=w.id, facilitator=self.ids[w.facilitator],
                                role="co-facilitator")
            if w.when == "cancelled":
                with self.requests.user(me) as cur:
                    cur.execute("UPDATE workshops SET status = 'cancelled' WHERE id = %s", (w.id,))
            self.tick()

    # 3. what students do ------------------------------------------------------------------

    def enrollments(self):
        self.phase("enrollments")
        for e in sorted(self.plan.enrollments, key=lambda e: -e.ago):   # in the order they happen
            student = self.student_ids[e.student]
            with self.requests.user(student) as cur:
                e.id = _value(cur, "SELECT enroll_in_course(%s)", (e.course.id,))
            if e.pay:   # checkout, then the provider's event (the path the portal takes)
                with self.requests.user(student) as cur:
                    checkout = _value(cur, "SELECT start_checkout(%s, 'test')", (e.id,))
                with self.requests.service() as cur:
                    cur.execute("SELECT apply_payment_event(%s, %s, 'payment.succeeded')",
                                (f"demo-{checkout}", checkout))
            if e.approve:
                with self.requests.user(self.ids[e.course.owner]) as cur:
                    cur.execute("UPDATE course_enrollments SET status = 'enrolled' WHERE id = %s", (e.id,))
            self.tick()

    def study(self):
        self.phase("lessons")
        handed = []
        for e in self.plan.enrollments:
            if not e.steps:
                continue
            student = self.student_ids[e.student]
            with self.requests.user(student) as cur:   # the player's own calls (007)
                for s in e.steps:
                    cur.execute("SELECT start_lesson(%s)", (s.lesson.id,))
                    if s.watch:
                        cur.execute("SELECT record_watch_time(%s, %s)", (s.lesson.id, s.watch))
                    for right in (s.first_score, s.score):
                        if right is not None:
                            cur.execute("SELECT submit_quiz(%s, %s::integer[])", (s.lesson.id, _answers(right)))
                    if s.status == "completed" and s.lesson.kind == "assignment":
                        # a passing grade completes an assignment (022): hand it in, the owner grades
                        handed.append((e.course.owner, _value(cur, "SELECT submit_assignment(%s, %s, NULL)", (
                            s.lesson.id, "My work for this assignment, step by step."))))
                    elif s.status == "completed" and s.lesson.kind != "quiz":
                        cur.execute("SELECT complete_lesson(%s)", (s.lesson.id,))
            for owner, submission in handed:
                with self.requests.user(self.ids[owner]) as cur:
                    cur.execute("SELECT grade_assignment(%s, 90, 'Clear and complete: well done.')", (submission,))
            handed.clear()
            self.tick()

    def leave_and_refund(self):
        self.phase("cancellations")
        for e in self.plan.enrollments:
            if e.status == "cancelled":
                actor = self.ids[e.course.owner] if e.declined else self.student_ids[e.student]
                with self.requests.user(actor) as cur:
                    cur.execute("UPDATE course_enrollments SET status = 'cancelled' WHERE id = %s", (e.id,))
                    if cur.rowcount != 1:
                        raise RuntimeError(f"could not cancel enrollment {e.id}")
            elif e.status == "refunded":
                with self.requests.service() as cur:
                    cur.execute("SELECT refund_course_enrollment(%s)", (e.id,))
        # The old edition is archived once its students are in.
        for course in self.plan.courses:
            if course.status == "archived":
                with self.requests.user(self.ids[course.owner]) as cur:
                    cur.execute("UPDATE courses SET status = 'archived' WHERE id = %s", (course.id,))

    def reviews(self):
        self.phase("reviews")
        reviewed = [e for e in self.plan.enrollments if e.review]
        for e in sorted(reviewed, key=lambda e: -e.review.ago):
            r = e.review
            with self.requests.user(self.student_ids[e.student]) as cur:
                quality, teaching, value = r.breakdown
                r.id = seed.insert(cur, models.CourseReview, course=e.course.id, user=self.student_ids[e.student],
                                   rating=r.rating, title=r.title, review_text=r.text, content_quality_rating=quality,
                                   instructor_rating=teaching, value_rating=value)
            self.tick()
        for e in sorted(reviewed, key=lambda e: -(e.review.response_ago or 0)):
            r = e.review
            if r.response:
                with self.requests.user(self.ids[r.responder]) as cur:
                    cur.execute("UPDATE course_reviews SET instructor_response = %s WHERE id = %s",
                                (r.response, r.id))
                    if cur.rowcount != 1:
                        raise RuntimeError(f"could not answer review {r.id}")

    def helpful_votes(self):
        """Classmates mark reviews of published courses helpful: the first few (0 to 3, in turn)."""
        self.phase("helpful votes")
        classmates = {}
        for e in self.plan.enrollments:
            classmates.setdefault(e.course.key, []).append(e.student)
        reviewed = [e for e in self.plan.enrollments if e.review and e.course.status == "published"]
        for n, e in enumerate(reviewed):
            for student in [s for s in classmates[e.course.key] if s != e.student][:n % 4]:
                with self.requests.user(self.student_ids[student]) as cur:
                    seed.insert(cur, models.ReviewHelpfulVote, review=e.review.id)

    def discussions(self):
        """022, on the primary instructor's first published course's first lesson: two comments (the
        instructor replies to the first), a question the instructor and a classmate answer and its
        asker accepts the instructor's answer, and one question nobody has answered yet (the inbox and
        the dashboard's count). The authors are the course's active students who started the lesson
        more than a week ago, the demo student first; each writes as themself. Then, as maintenance,
        the posts are dated over the last days (they would otherwise all be "just now")."""
        self.phase("discussions")
        course = next(c for c in self.plan.courses if c.owner == PRIMARY and c.status == "published")
        lesson = course.lessons[0]
        authors = [self.student_ids[e.student] for e in sorted(
            (e for e in self.plan.enrollments
             if e.course is course and e.status in ("enrolled", "in_progress", "completed")
             and e.steps and e.steps[0].lesson is lesson and e.steps[0].started > 8 * DAY),
            key=lambda e: (e.student != 0, e.student))][:3]
        asker, first, second = authors
        teacher = self.ids[course.owner]
        dated = []   # (table, id, days ago)

        def post(user, model, days, **values):
            with self.requests.user(user) as cur:   # each writes as themself (the author is the caller)
                row_id = seed.insert(cur, model, **values)
            dated.append((model._meta.table_name, row_id, days))
            return row_id

        Comment, Question, Answer = models.LessonComment, models.CourseQuestion, models.QuestionAnswer
        thread = post(first, Comment, 6, course=course.id, lesson=lesson.id,
                      body="The example at the end made it click for me. Is there a checklist version?")
        post(teacher, Comment, 5, course=course.id, lesson=lesson.id, parent=thread,
             body="Glad it helped! The checklist is in the notes of the next lesson.")
        post(second, Comment, 2, course=course.id, lesson=lesson.id,
             body="I tried this with my team this week: the first step alone saved us a meeting.")
        question = post(asker, Question, 4, course=course.id, lesson=lesson.id,
                        title="How do I pick the first process to try this on?",
                        body="Our team has several candidates and I am not sure which one to start with.")
        accepted = post(teacher, Answer, 3.5, question=question, course=course.id,
                        body="Start with the one that repeats most often and has a clear owner: "
                             "you will see results within two weeks.")
        post(first, Answer, 3, question=question, course=course.id,
             body="We started with our weekly report: small, frequent, easy to measure.")
        with self.requests.user(asker) as cur:
            cur.execute("UPDATE course_questions SET accepted_answer_id = %s WHERE id = %s", (accepted, question))
            if cur.rowcount != 1:
                raise RuntimeError(f"could not accept answer {accepted}")
        post(second, Question, 0.25, course=course.id, lesson=lesson.id,
             title="Does this work for a team that is fully remote?", body="Half of us are in another time zone.")
        with self.owner, self.owner.cursor() as cur:
            for table, row_id, days in dated:   # (the table names are this method's own)
                cur.execute(f"UPDATE {table} SET created_at = now() - make_interval(secs => %s) WHERE id = %s",
                            (days * DAY, row_id))
        self.tick()

    def registrations(self):
        self.phase("workshops: registrations")
        for w in self.plan.workshops:
            for r in w.registrations:
                student = self.student_ids[r.student]
                with self.requests.user(student) as cur:
                    r.id = _value(cur, "SELECT register_for_workshop(%s)", (w.id,))
                    cur.execute("SELECT status::text FROM workshop_registrations WHERE id = %s", (r.id,))
                    seat = cur.fetchone()[0]
                if seat != r.seat:
                    raise RuntimeError(f"registration {r.id} got a {seat} seat, the plan said {r.seat}")
                if r.pay:   # checkout, then the provider's event (the one path a seat's payment takes)
                    with self.requests.user(student) as cur:
                        checkout = _value(cur, "SELECT start_workshop_checkout(%s, 'test')", (r.id,))
                    with self.requests.service() as cur:
                        cur.execute("SELECT apply_payment_event(%s, %s, 'payment.succeeded')",
                                    (f"demo-{checkout}", checkout))
                self.tick()
            for r in w.registrations:
                if r.cancel_after is not None:
                    with self.requests.user(self.student_ids[r.student]) as cur:
                        cur.execute("UPDATE workshop_registrations SET status = 'cancelled' WHERE id = %s", (r.id,))
        self.phase("workshops: attendance")
        for w in self.plan.workshops:
            if w.when != "past":
                continue
            # 021: attendance once it has started, feedback once it has ended: the workshop is held
            # now (maintenance moves it; dating the rows moves it back to its planned day).
            with self.owner, self.owner.cursor() as cur:
                cur.execute("UPDATE workshops SET start_time = now() - make_interval(hours => %s, mins => 1), "
                            "end_time = now() - interval '1 minute' WHERE id = %s", (w.hours, w.id))
            # Attendance is taken by the co-facilitator where there is one.
            marker = self.ids[w.facilitator or w.owner]
            attended = [r.id for r in w.registrations if r.attended]
            absent = [r.id for r in w.registrations if r.attended is False]
            with self.requests.user(marker) as cur:
                cur.execute("UPDATE workshop_registrations SET status = 'attended' WHERE id = ANY(%s::uuid[])",
                            (attended,))
                cur.execute("UPDATE workshop_registrations SET status = 'no_show' WHERE id = ANY(%s::uuid[])",
                            (absent,))
            with self.requests.user(self.ids[w.owner]) as cur:
                cur.execute("UPDATE workshops SET status = 'completed' WHERE id = %s", (w.id,))
            for r in w.registrations:
                if r.feedback:
                    student = self.student_ids[r.student]
                    with self.requests.user(student) as cur:
                        seed.insert(cur, models.WorkshopFeedback, workshop=w.id, user=student, **r.feedback)

    def payouts(self):
        """The platform admin pays out the sales that will be over a month old."""
        self.phase("payouts")
        month = 31 * DAY
        enrollments = [e.id for e in self.plan.enrollments if e.pay and e.status != "refunded" and e.ago > month]
        registrations = [r.id for w in self.plan.workshops if w.when == "past" and w.start_ago > month
                          for r in w.registrations if r.pay]
        with self.requests.user(self.ids["admin"]) as cur:
            cur.execute("""SELECT id FROM revenue_transactions
                           WHERE transaction_type <> 'refund'
                             AND (enrollment_id = ANY(%s::uuid[]) OR workshop_registration_id = ANY(%s::uuid[]))
                           ORDER BY id""", (enrollments, registrations))
            ids = [row[0] for row in cur.fetchall()]
            cur.execute("SELECT mark_payouts_paid(%s::uuid[])", (ids,))
        self.tick()

    # 4. maintenance: the dates -----------------------------------------------------------

    def confirm_addresses(self):
        """The demo's addresses (demo.test) are nobody's: they count as confirmed (maintenance, as
        the owner), so the notices of what follows reach their email as a real user's would; the
        confirmation emails sign-up queued are taken back with their jobs."""
        with self.owner, self.owner.cursor() as cur:
            cur.execute("UPDATE users SET email_confirmed_at = created_at WHERE email_confirmed_at IS NULL")
            cur.execute("""DELETE FROM procrastinate.procrastinate_jobs j
                           WHERE j.task_name = 'deliver_email' AND (j.args ->> 'notification_id')::uuid IN
                                 (SELECT id FROM notifications WHERE event_type = 'email_confirmation')""")
            cur.execute("DELETE FROM notifications WHERE event_type = 'email_confirmation'")

    def settle_notices(self):
        """The demo's acts wrote their notices as they happened, all today. Its history is old
        news: every notice is read and was not emailed, dated over the past ~90 days, except the
        latest few of each demo sign-in, dated over the last hours, which stay unread and are
        emailed by the worker when the portal starts (so the bell and the development mailbox
        show something). Maintenance as the owner: the settled notices' email jobs are taken off
        the queue in the same transaction."""
        self.phase("settling the notices")
        keep = [email for _, email in DEMO_LOGINS]
        with self.owner, self.owner.cursor() as cur:
            cur.execute(
                """CREATE TEMP TABLE demo_recent ON COMMIT DROP AS
                   SELECT id, latest FROM (
                       SELECT n.id, row_number() OVER (PARTITION BY n.user_id
                                                       ORDER BY n.created_at DESC, n.id) AS latest
                       FROM notifications n JOIN users u ON u.id = n.user_id
                       WHERE u.email = ANY (%s::citext[])) AS mine
                   WHERE latest <= 6""", (keep,))
            cur.execute("""UPDATE notifications n SET created_at = now() - r.latest * interval '97 minutes'
                           FROM demo_recent r WHERE r.id = n.id""")
            cur.execute(
                """UPDATE notifications n SET email_state = 'off', created_at = d.at,
                                              read_at = d.at + interval '2 hours'
                   FROM (SELECT id, now() - interval '1 day'
                                    - (abs(hashtext(id::text)) % (89 * 24 * 60)) * interval '1 minute' AS at
                         FROM notifications) AS d
                   WHERE d.id = n.id AND n.id NOT IN (SELECT id FROM demo_recent)""")
            cur.execute("""DELETE FROM procrastinate.procrastinate_jobs j
                           WHERE j.task_name = 'deliver_email'
                             AND (j.args ->> 'notification_id')::uuid NOT IN (SELECT id FROM demo_recent)""")
        self.tick()

    def date_everything(self):
        """Spread the rows over the past ~90 days, as planned (one owner transaction).

        Maintenance, not a user path: guards bind only the API roles, so the
        owner may set these dates. No figure reads them except
        ``student_progress.last_activity_at`` (the latest
        ``lesson_progress.updated_at``), and that one is recomputed by the
        progress trigger as each progress row is re-dated. ``set_updated_at``
        would stamp the re-dated progress rows with now(), so it is switched
        off for this transaction only (the owner owns the table; the switch
        is transactional and nobody else sees it).
        """
        self.phase("dating the rows")
        p = self.plan
        ago = "now() - make_interval(secs => {})"
        instructors = [self.ids[i["key"]] for i in INSTRUCTORS]
        with self.owner, self.owner.cursor() as cur:
            # Accounts and the organization.
            everyone = [(self.ids["admin"], 420 * DAY), (self.ids["org_admin"], 380 * DAY)]
            everyone += [(self.ids[i["key"]], (400 - 30 * n) * DAY) for n, i in enumerate(INSTRUCTORS)]
            everyone += list(zip(self.student_ids, p.student_created_ago))
            ids, agos = zip(*everyone)
            cur.execute(f"""UPDATE users u SET created_at = {ago.format('v.ago')}
                            FROM unnest(%s::uuid[], %s::float8[]) AS v(id, ago) WHERE u.id = v.id""",
                        (list(ids), _ago_array(agos)))
            cur.execute("""UPDATE instructor_profiles x SET created_at = u.created_at FROM users u
                           WHERE u.id = x.user_id AND u.id = ANY(%s::uuid[])""", (instructors,))
            cur.execute("""UPDATE instructor_settings x SET created_at = u.created_at FROM users u
                           WHERE u.id = x.user_id AND u.id = ANY(%s::uuid[])""", (instructors,))
            cur.execute(f"UPDATE organizations SET created_at = {ago.format('%s')} WHERE id = %s",
                        (390 * DAY, self.org_id))

            # Courses: created, then published a little before their first student.
            rng = random.Random(SEED + 1)
            first = {}
            for e in p.enrollments:
                first[e.course.key] = max(first.get(e.course.key, 0.0), e.ago)
            rows = []
            for c in p.courses:
                published = first.get(c.key, rng.uniform(3, 20) * DAY) + rng.uniform(1, 5) * DAY
                rows.append((c.id, published + rng.uniform(3, 30) * DAY, published))
            ids, created, published = zip(*rows)
            cur.execute(f"""UPDATE courses c SET created_at = {ago.format('v.created')},
                                   published_at = CASE WHEN c.published_at IS NULL THEN NULL
                                                       ELSE {ago.format('v.published')} END
                            FROM unnest(%s::uuid[], %s::float8[], %s::float8[]) AS v(id, created, published)
                            WHERE c.id = v.id""", (list(ids), _ago_array(created), _ago_array(published)))
            cur.execute("""UPDATE course_modules m SET created_at = c.created_at + make_interval(mins => m.position)
                           FROM courses c WHERE c.id = m.course_id AND c.id = ANY(%s::uuid[])""", (list(ids),))
            cur.execute("""UPDATE course_lessons l SET created_at = m.created_at + make_interval(secs => l.position)
                           FROM course_modules m WHERE m.id = l.module_id AND m.course_id = ANY(%s::uuid[])""",
                        (list(ids),))

            # Enrollments, their progress rows, payments and the refund.
            es = p.enrollments
            cur.execute(f"""UPDATE course_enrollments e
                            SET enrolled_at = {ago.format('v.enrolled')},
                                completed_at = CASE WHEN v.completed IS NULL THEN e.completed_at
                                                    ELSE {ago.format('v.completed')} END,
                                cancelled_at = CASE WHEN v.cancelled IS NULL THEN e.cancelled_at
                                                    ELSE {ago.format('v.cancelled')} END
                            FROM unnest(%s::uuid[], %s::float8[], %s::float8[], %s::float8[])
                                 AS v(id, enrolled, completed, cancelled)
                            WHERE e.id = v.id""",
                        ([e.id for e in es], _ago_array(e.ago for e in es),
                         _ago_array(e.completed_ago for e in es), _ago_array(e.cancel_ago for e in es)))
            cur.execute("""UPDATE student_progress s SET created_at = e.enrolled_at FROM course_enrollments e
                           WHERE e.id = s.enrollment_id AND e.id = ANY(%s::uuid[])""", ([e.id for e in es],))
            steps = [(e.id, s.lesson.id, s.started, s.updated) for e in es for s in e.steps]
            cur.execute("ALTER TABLE public.lesson_progress DISABLE TRIGGER set_updated_at")
            cur.execute(f"""UPDATE lesson_progress p
                            SET created_at = {ago.format('v.started')}, started_at = {ago.format('v.started')},
                                updated_at = {ago.format('v.updated')},
                                completed_at = CASE WHEN p.status = 'completed'
                                                    THEN {ago.format('v.updated')} END
                            FROM unnest(%s::uuid[], %s::uuid[], %s::float8[], %s::float8[])
                                 AS v(enrollment_id, lesson_id, started, updated)
                            WHERE p.enrollment_id = v.enrollment_id AND p.lesson_id = v.lesson_id""",
                        ([s[0] for s in steps], [s[1] for s in steps], _ago_array(s[2] for s in steps),
                         _ago_array(s[3] for s in steps)))
            cur.execute("ALTER TABLE public.lesson_progress ENABLE TRIGGER set_updated_at")
            cur.execute("""UPDATE revenue_transactions t
                           SET transaction_date = e.enrolled_at + interval '5 minutes',
                               created_at = e.enrolled_at + interval '5 minutes'
                           FROM course_enrollments e
                           WHERE t.enrollment_id = e.id AND t.transaction_type = 'course_enrollment'
                             AND e.id = ANY(%s::uuid[])""", ([e.id for e in es],))
            refunds = [(e.id, e.refund_ago) for e in es if e.refund_ago is not None]
            cur.execute(f"""UPDATE revenue_transactions t
                            SET transaction_date = {ago.format('v.ago')}, created_at = {ago.format('v.ago')}
                            FROM unnest(%s::uuid[], %s::float8[]) AS v(id, ago)
                            WHERE t.enrollment_id = v.id AND t.transaction_type = 'refund'""",
                        ([r[0] for r in refunds], _ago_array(r[1] for r in refunds)))

            # Checkouts and their events at payment time, certificates at completion.
            cur.execute("""UPDATE checkouts c SET created_at = e.enrolled_at + interval '1 minute',
                                  settled_at = e.enrolled_at + interval '5 minutes',
                                  updated_at = e.enrolled_at + interval '5 minutes'
                           FROM course_enrollments e WHERE e.id = c.enrollment_id AND e.id = ANY(%s::uuid[])""",
                        ([e.id for e in es],))
            cur.execute("""UPDATE payment_events v SET received_at = c.settled_at FROM checkouts c
                           WHERE c.id = v.checkout_id""")
            cur.execute("""UPDATE certificates c SET issued_at = e.completed_at FROM course_enrollments e
                           WHERE e.id = c.enrollment_id AND e.id = ANY(%s::uuid[])""", ([e.id for e in es],))

            # Reviews and their responses.
            rs = [e.review for e in es if e.review]
            cur.execute(f"""UPDATE course_reviews r
                            SET created_at = {ago.format('v.created')},
                                instructor_responded_at = CASE WHEN r.instructor_response IS NULL THEN NULL
                                                               ELSE {ago.format('v.responded')} END
                            FROM unnest(%s::uuid[], %s::float8[], %s::float8[]) AS v(id, created, responded)
                            WHERE r.id = v.id""",
                        ([r.id for r in rs], _ago_array(r.ago for r in rs), _ago_array(r.response_ago for r in rs)))

            # Workshops: past ones move back to their dates; registrations,
            # attendance and feedback follow their workshop.
            ws = p.workshops
            cur.execute(f"""UPDATE workshops w
                            SET start_time = CASE WHEN v.past
                                    THEN date_trunc('day', {ago.format('v.start')}) + make_interval(hours => %s)
                                    ELSE w.start_time END,
                                end_time = CASE WHEN v.past
                                    THEN date_trunc('day', {ago.format('v.start')})
                                         + make_interval(hours => %s + v.hours)
                                    ELSE w.end_time END,
                                created_at = {ago.format('v.created')}
                            FROM unnest(%s::uuid[], %s::boolean[], %s::float8[], %s::int[], %s::float8[])
                                 AS v(id, past, start, hours, created)
                            WHERE w.id = v.id""",
                        (START_HOUR, START_HOUR, [w.id for w in ws], [w.when == "past" for w in ws],
                         _ago_array(w.days * DAY for w in ws),
                         [w.hours for w in ws], _ago_array(w.created_ago for w in ws)))
            regs = [(r.id, w.when == "past", r.when, r.cancel_after, r.feedback_after)
                    for w in ws for r in w.registrations]
            registered = "CASE WHEN v.past THEN w.start_time - make_interval(secs => v.lead) " \
                         f"ELSE {ago.format('v.lead')} END"
            cur.execute(f"""UPDATE workshop_registrations r
                            SET registered_at = {registered},
                                cancelled_at = CASE WHEN r.status = 'cancelled'
                                                    THEN {registered} + make_interval(secs => v.cancel_after) END,
                                attended_at = CASE WHEN r.status = 'attended'
                                                   THEN w.start_time + interval '5 minutes' END
                            FROM unnest(%s::uuid[], %s::boolean[], %s::float8[], %s::float8[])
                                 AS v(id, past, lead, cancel_after), workshops w
                            WHERE r.id = v.id AND w.id = r.workshop_id""",
                        ([g[0] for g in regs], [g[1] for g in regs], _ago_array(g[2] for g in regs),
                         _ago_array(g[3] for g in regs)))
            cur.execute("""UPDATE workshop_feedback f
                           SET created_at = w.end_time + make_interval(secs => v.after)
                           FROM unnest(%s::uuid[], %s::float8[]) AS v(id, after), workshop_registrations r,
                                workshops w
                           WHERE r.id = v.id AND f.workshop_id = r.workshop_id AND f.user_id = r.user_id
                             AND w.id = r.workshop_id""",
                        ([g[0] for g in regs], _ago_array(g[4] for g in regs)))
            cur.execute("""UPDATE revenue_transactions t
                           SET transaction_date = r.registered_at + interval '5 minutes',
                               created_at = r.registered_at + interval '5 minutes'
                           FROM workshop_registrations r
                           WHERE t.workshop_registration_id = r.id AND t.transaction_type = 'workshop_registration'
                             AND r.id = ANY(%s::uuid[])""", ([g[0] for g in regs],))
            cur.execute("""UPDATE revenue_transactions SET payout_date = transaction_date + interval '21 days'
                           WHERE payout_status = 'paid' AND instructor_id = ANY(%s::uuid[])""", (instructors,))
            # 020: each payout dated as its rows' last payment (the statement and the payouts page)
            cur.execute("""UPDATE payouts p
                           SET paid_at = q.last, created_at = q.last, cutoff = q.last, scheduled_for = q.last::date
                           FROM (SELECT payout_id, max(payout_date) AS last FROM revenue_transactions
                                 WHERE payout_id IS NOT NULL GROUP BY payout_id) q
                           WHERE p.id = q.payout_id AND p.instructor_id = ANY(%s::uuid[])""", (instructors,))

            # 022: a graded hand-in between the lesson's start and its completion (the grade completes it).
            cur.execute("""UPDATE assignment_submissions s
                           SET submitted_at = p.started_at + (p.completed_at - p.started_at) / 2,
                               created_at = p.started_at + (p.completed_at - p.started_at) / 2,
                               graded_at = p.completed_at
                           FROM lesson_progress p, courses c
                           WHERE p.enrollment_id = s.enrollment_id AND p.lesson_id = s.lesson_id
                             AND p.completed_at IS NOT NULL AND c.id = s.course_id
                             AND c.instructor_id = ANY(%s::uuid[])""", (instructors,))

            # The timeline: each activity at the time of what it records.
            dated = 0
            cur.execute("""UPDATE student_activity a
                           SET occurred_at = CASE a.activity_type::text
                               WHEN 'assignment_submitted' THEN s.submitted_at ELSE s.graded_at END
                           FROM assignment_submissions s
                           WHERE s.id = (a.metadata ->> 'submission_id')::uuid
                             AND a.activity_type::text IN ('assignment_submitted', 'assignment_graded')
                             AND a.instructor_id = ANY(%s::uuid[])""", (instructors,))
            dated += cur.rowcount
            cur.execute("""UPDATE student_activity a
                           SET occurred_at = CASE a.activity_type
                               WHEN 'enrolled' THEN e.enrolled_at
                               WHEN 'enrollment_cancelled' THEN e.cancelled_at
                               WHEN 'course_completed' THEN e.completed_at
                               WHEN 'refunded' THEN (SELECT t.transaction_date FROM revenue_transactions t
                                                     WHERE t.enrollment_id = e.id AND t.transaction_type = 'refund')
                           END
                           FROM course_enrollments e
                           WHERE a.course_id = e.course_id AND a.student_id = e.user_id AND a.lesson_id IS NULL
                             AND a.activity_type IN ('enrolled', 'enrollment_cancelled', 'course_completed',
                                                     'refunded')
                             AND a.instructor_id = ANY(%s::uuid[])""", (instructors,))
            dated += cur.rowcount
            cur.execute("""UPDATE student_activity a
                           SET occurred_at = CASE a.activity_type
                               WHEN 'lesson_started' THEN p.started_at
                               WHEN 'lesson_completed' THEN p.completed_at
                               WHEN 'quiz_passed' THEN coalesce(p.completed_at, p.updated_at) - interval '1 second'
                               WHEN 'quiz_failed' THEN CASE WHEN p.completed_at IS NULL THEN p.updated_at
                                   ELSE p.started_at + least(interval '20 minutes',
                                                             (p.completed_at - p.started_at) / 2) END
                           END
                           FROM lesson_progress p
                           WHERE a.lesson_id = p.lesson_id AND a.student_id = p.user_id
                             AND a.activity_type IN ('lesson_started', 'lesson_completed', 'quiz_passed',
                                                     'quiz_failed')
                             AND a.instructor_id = ANY(%s::uuid[])""", (instructors,))
            dated += cur.rowcount
            cur.execute("""UPDATE student_activity a SET occurred_at = r.created_at
                           FROM course_reviews r
                           WHERE a.activity_type = 'review_posted' AND r.course_id = a.course_id
                             AND r.user_id = a.student_id AND a.instructor_id = ANY(%s::uuid[])""", (instructors,))
            dated += cur.rowcount
            cur.execute("""UPDATE student_activity a
                           SET occurred_at = CASE a.activity_type
                               WHEN 'workshop_registered' THEN r.registered_at
                               WHEN 'workshop_cancelled' THEN r.cancelled_at
                               WHEN 'workshop_attended' THEN r.attended_at
                           END
                           FROM workshop_registrations r
                           WHERE r.workshop_id = a.workshop_id AND r.user_id = a.student_id
                             AND a.activity_type IN ('workshop_registered', 'workshop_cancelled', 'workshop_attended')
                             AND a.instructor_id = ANY(%s::uuid[])""", (instructors,))
            dated += cur.rowcount
            cur.execute("""UPDATE student_activity a SET occurred_at = f.created_at
                           FROM workshop_feedback f
                           WHERE a.activity_type = 'feedback_submitted' AND f.workshop_id = a.workshop_id
                             AND f.user_id = a.student_id AND a.instructor_id = ANY(%s::uuid[])""", (instructors,))
            dated += cur.rowcount
            cur.execute("SELECT count(*) FROM student_activity WHERE instructor_id = ANY(%s::uuid[])", (instructors,))
            logged = cur.fetchone()[0]
            if dated != logged:
                raise RuntimeError(f"dated {dated} of {logged} activity rows: an activity type is not mapped")
        self.tick()

    # 5. checks --------------------------------------------------------------------------------

    def check(self):
        self.phase("checks")
        with self.owner, self.owner.cursor() as cur:
            cur.execute("SELECT refresh_instructor_monthly_stats()")
        with self.owner, self.owner.cursor() as cur:
            cur.execute("SELECT table_name, row_id, stored, expected FROM verify_denormalized_figures()")
            wrong = cur.fetchall()
        if wrong:
            raise RuntimeError(f"{len(wrong)} figure(s) differ from their recomputation, e.g. {wrong[:3]}")
        self.tick()
