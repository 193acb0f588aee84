"""Peewee models of the public schema: one per table, view and materialized view.

The SQL under ``schema/`` is the truth; these classes only describe it, and
``tests/test_models.py`` compares them with the live catalog (columns, types,
nullability, keys, enum labels) so they cannot drift. Nothing here ever calls
``create_tables``.

Conventions:

* Every model binds to ``portal.db.database``, the proxy that
  ``open_database`` points at the pool (as ``authenticator``: requests write
  under row-level security and column-level grants).
* No field has a Python default: the database's defaults apply (ids come from
  ``gen_random_uuid()``, timestamps from ``now()``...). An insert sends only the
  fields given, and Peewee reads the new id back with ``RETURNING``, so
  ``Course.create(title=..., slug=..., instructor=...)`` gets its id from the
  database. ``bulk_create`` does not fit this (it sends every column, the id
  included): use ``insert_many`` with dicts of the columns to set.
* ``only_save_dirty``: ``save()`` writes only the fields changed since the row
  was loaded. The API roles may update only some columns (see the GRANTs in
  002), and a full-row UPDATE would also touch columns no one may write.
* Generated columns (``GeneratedBooleanField``) are read-only: the database
  computes them, and naming one in an insert or update raises ``ValueError``.
* Views and the materialized view are ``ReadOnlyModel``: every write raises
  ``TypeError``.
* Foreign keys are ``lazy_load=False``: ``enrollment.course`` is the id unless
  the query joined the course (no hidden query per row, under whatever role
  the request runs). Where the database has a composite key (a lesson's
  course is its module's course), each column is modelled as its own foreign
  key to the table it means.
* Enums: the labels of each PostgreSQL enum live once, in a tuple constant
  below (``ENUMS`` maps type name to labels); ``EnumField`` refuses any other
  label before a query is sent.
"""

from __future__ import annotations

from peewee import (SQL, BigIntegerField, BooleanField, CharField, CompositeKey, DateField, DeferredForeignKey,
                    DecimalField, Field, FixedCharField, ForeignKeyField, IntegerField, Model,
                    NodeList, SmallIntegerField, TextField, fn)
from playhouse.postgres_ext import ArrayField, BinaryJSONField, DateTimeTZField, UUIDField

from portal.db import database

# --- enum labels: one place per PostgreSQL enum, in the database's order --------------

USER_ROLES = ("student", "instructor", "org_admin", "admin")
PAYMENT_STATUSES = ("pending", "completed", "failed", "refunded")
LESSON_CONTENT_TYPES = ("text", "video", "quiz", "assignment")
ENROLLMENT_STATUSES = ("pending", "enrolled", "in_progress", "completed", "cancelled", "refunded")
LESSON_PROGRESS_STATUSES = ("not_started", "in_progress", "completed")
WORKSHOP_STATUSES = ("draft", "published", "cancelled", "completed")
REGISTRATION_STATUSES = ("registered", "waitlisted", "attended", "no_show", "cancelled")
COURSE_STATUSES = ("draft", "published", "archived")
WORKSHOP_TYPES = ("online", "in_person", "hybrid")
ACTIVITY_TYPES = (
    "enrolled", "enrollment_cancelled", "lesson_started", "lesson_completed",
    "quiz_passed", "quiz_failed", "course_completed", "review_posted",
    "workshop_registered", "workshop_cancelled", "workshop_attended",
    "feedback_submitted", "refunded",
    "assignment_submitted", "assignment_graded")   # 022
TRANSACTION_TYPES = ("course_enrollment", "workshop_registration", "refund")
PAYOUT_STATUSES = ("pending", "paid", "on_hold")
PAYOUT_BATCH_STATUSES = ("scheduled", "paid", "cancelled")  # 020: payouts.status
COURSE_INSTRUCTOR_ROLES = ("primary", "co-instructor", "assistant")
WORKSHOP_FACILITATOR_ROLES = ("primary", "co-facilitator", "assistant")
CHECKOUT_STATUSES = ("open", "succeeded", "failed")
REVIEW_REPORT_REASONS = ("spam", "offensive", "off_topic", "not_a_review", "other")
SUBMISSION_STATUSES = ("submitted", "graded")                                   # 022
DISCUSSION_REPORT_REASONS = ("spam", "offensive", "off_topic", "other")         # 022

ENUMS = {
    "user_role": USER_ROLES,
    "payment_status": PAYMENT_STATUSES,
    "lesson_content_type": LESSON_CONTENT_TYPES,
    "enrollment_status": ENROLLMENT_STATUSES,
    "lesson_progress_status": LESSON_PROGRESS_STATUSES,
    "workshop_status": WORKSHOP_STATUSES,
    "registration_status": REGISTRATION_STATUSES,
    "course_status": COURSE_STATUSES,
    "workshop_type": WORKSHOP_TYPES,
    "activity_type": ACTIVITY_TYPES,
    "transaction_type": TRANSACTION_TYPES,
    "payout_status": PAYOUT_STATUSES,
    "course_instructor_role": COURSE_INSTRUCTOR_ROLES,
    "workshop_facilitator_role": WORKSHOP_FACILITATOR_ROLES,
    "checkout_status": CHECKOUT_STATUSES,
    "review_report_reason": REVIEW_REPORT_REASONS,
    "payout_batch_status": PAYOUT_BATCH_STATUSES,
    "submission_status": SUBMISSION_STATUSES,
    "discussion_report_reason": DISCUSSION_REPORT_REASONS,
}


# --- field types ------------------------------------------------------------------

class CITextField(TextField):
    """``citext``: compared case-insensitively by the database."""
    field_type = "CITEXT"


class CharacterField(FixedCharField):
    """``char(n)`` without Peewee's silent truncation: a wrong length reaches
    the database's CHECK instead of being cut to fit."""

    def adapt(self, value):
        return CharField.adapt(self, value)


class EnumField(CharField):
    """A column of a PostgreSQL enum type: ``EnumField("user_role", USER_ROLES)``."""

    def __init__(self, enum_name: str, labels: tuple[str, ...], *args, **kwargs):
        self.enum_name = enum_name
        self.labels = tuple(labels)
        self.field_type = enum_name
        super().__init__(*args, **kwargs)

    def get_modifiers(self):
        return None

    def db_value(self, value):
        if value is None:
            return None
        if value not in self.labels:
            raise ValueError(f"{value!r} is not a {self.enum_name} (one of {', '.join(self.labels)})")
        return super().db_value(value)


class GeneratedBooleanField(BooleanField):
    """A ``GENERATED ALWAYS ... STORED`` column: read it, never write it."""
    generated = True


def is_generated(field: Field) -> bool:
    return getattr(field, "generated", False)


def fk(model, column_name: str, backref: str = "+", **kwargs) -> ForeignKeyField:
    """A foreign key on ``column_name``, never lazily loaded."""
    return ForeignKeyField(model, column_name=column_name, backref=backref, lazy_load=False, **kwargs)


def text_array(**kwargs) -> ArrayField:
    """``text[]`` (no Peewee-made index: the SQL declares the GIN ones)."""
    return ArrayField(TextField, index=False, **kwargs)


def jsonb(**kwargs) -> BinaryJSONField:
    return BinaryJSONField(index=False, **kwargs)


def money(**kwargs) -> DecimalField:
    """``numeric(12,2)``."""
    return DecimalField(max_digits=12, decimal_places=2, **kwargs)


def numeric(precision: int, scale: int, **kwargs) -> DecimalField:
    return DecimalField(max_digits=precision, decimal_places=scale, **kwargs)


def uuid_pk() -> UUIDField:
    """``uuid PRIMARY KEY DEFAULT gen_random_uuid()``: omitted from inserts, read back."""
    return UUIDField(primary_key=True)


# --- bases ------------------------------------------------------------------------

class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False
        only_save_dirty = True

    # Columns no API role may select (007, 008): money, meeting links, quiz
    # answer keys, users' roles. Named functions answer them to those who may.
    UNREADABLE: tuple[str, ...] = ()

    @classmethod
    def readable(cls) -> list:
        """Every column the API roles may select."""
        return [f for f in cls._meta.sorted_fields if f.name not in cls.UNREADABLE]

    @classmethod
    def select_readable(cls, *extra):
        return cls.select(*cls.readable(), *extra)

    @classmethod
    def _refuse_generated(cls, fields) -> None:
        for field in fields:
            if isinstance(field, str):
                field = cls._meta.combined.get(field)
            if isinstance(field, Field) and is_generated(field):
                raise ValueError(f"{cls._meta.table_name}.{field.column_name} is generated by the "
                                 f"database and cannot be written")

    @classmethod
    def insert(cls, __data=None, **insert):
        data = cls._normalize_data(__data, insert)
        if isinstance(data, dict):
            cls._refuse_generated(data)
        return super().insert(data)

    @classmethod
    def update(cls, __data=None, **update):
        data = cls._normalize_data(__data, update)
        cls._refuse_generated(data)
        return super().update(data)

    @classmethod
    def insert_many(cls, rows, fields=None):
        cls._refuse_generated(fields or ())
        if isinstance(rows, (list, tuple)):
            for row in rows:
                if isinstance(row, dict):
                    cls._refuse_generated(row)
        return super().insert_many(rows, fields)

    @classmethod
    def insert_from(cls, query, fields):
        cls._refuse_generated(fields)
        return super().insert_from(query, fields)


class ReadOnlyModel(BaseModel):
    """A view or materialized view: rows are read, never written."""

    @classmethod
    def _refuse(cls, *args, **kwargs):
        raise TypeError(f"{cls._meta.table_name} is a view: it is read-only")

    insert = insert_many = insert_from = replace = replace_many = update = _refuse
    delete = bulk_create = bulk_update = _refuse

    def save(self, *args, **kwargs):
        self._refuse()

    def delete_instance(self, *args, **kwargs):
        self._refuse()


# --- 001: organizations, users, first shape of courses and workshops -------------

class SchemaMigration(BaseModel):
    """``schema_migrations``: written by ``portal.db.migrate`` only."""
    name = TextField(primary_key=True)
    checksum = TextField()
    applied_at = DateTimeTZField()

    class Meta:
        table_name = "schema_migrations"


class Organization(BaseModel):
    id = uuid_pk()
    name = TextField()
    slug = CITextField()
    settings = jsonb()
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "organizations"


class User(BaseModel):
    """``users``. Password hashes live in ``private.user_credentials``, out of
    the API roles' reach, and have no model."""
    id = uuid_pk()
    email = CITextField()
    full_name = TextField()
    avatar_url = TextField(null=True)
    role = EnumField("user_role", USER_ROLES)
    organization = fk(Organization, "organization_id", "members", null=True)
    is_active = BooleanField()
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    # Set by the link of the confirmation email (010); no email but that one goes out before.
    email_confirmed_at = DateTimeTZField(null=True)

    UNREADABLE = ("role", "organization", "is_active", "email_confirmed_at")   # one's own: my_account()

    class Meta:
        table_name = "users"


class Course(BaseModel):
    id = uuid_pk()
    title = TextField()
    slug = CITextField()
    subtitle = TextField(null=True)
    description = TextField(null=True)
    thumbnail_url = TextField(null=True)
    level = TextField()  # CHECK: beginner, intermediate, advanced, all_levels
    language = TextField()
    price_amount = money()
    currency = CharacterField(max_length=3)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    instructor = fk(User, "instructor_id", "courses")
    organization = fk(Organization, "organization_id", "courses", null=True)
    status = EnumField("course_status", COURSE_STATUSES)
    is_published = GeneratedBooleanField(null=True)  # GENERATED ALWAYS AS (status = 'published')
    published_at = DateTimeTZField(null=True)
    category = TextField(null=True)
    tags = text_array()
    what_you_will_learn = text_array()
    target_audience = text_array()
    enrolled_count = IntegerField()
    completed_count = IntegerField()
    average_rating = numeric(3, 2, null=True)
    review_count = IntegerField()
    total_revenue = money()
    certificate_enabled = BooleanField()
    certificate_template_url = TextField(null=True)
    allow_comments = BooleanField()
    allow_qa = BooleanField()
    drip_content = BooleanField()
    drip_schedule = jsonb()
    active_enrollment_count = IntegerField()
    pending_enrollment_count = IntegerField()
    rating_sum = IntegerField()
    total_earnings = money()
    pending_payout = money()
    unanswered_question_count = IntegerField()   # 022: unanswered_questions_count() sums the caller's

    # total_revenue: revenue() answers it to those allowed to see it (006).
    UNREADABLE = ("total_revenue", "pending_enrollment_count", "total_earnings", "pending_payout",
                  "unanswered_question_count")

    class Meta:
        table_name = "courses"

    @classmethod
    def revenue(cls):
        """``course_revenue(id)``: the course's revenue for its owner, a co-instructor with
        view_revenue, the organization's admin and admins; NULL for everyone else."""
        return fn.course_revenue(cls.id).coerce(False)  # numeric, not the id field's type


class CourseModule(BaseModel):
    id = uuid_pk()
    course = fk(Course, "course_id", "modules")
    title = TextField()
    description = TextField(null=True)
    position = IntegerField()
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    completed_count = IntegerField()   # enrollments that completed every lesson (008)

    class Meta:
        table_name = "course_modules"


class CourseLesson(BaseModel):
    """``course_lessons``: (module_id, course_id) is one composite key to the
    module, so ``course`` is always the module's course."""
    id = uuid_pk()
    module = fk(CourseModule, "module_id", "lessons")
    course = fk(Course, "course_id", "lessons")
    title = TextField()
    position = IntegerField()
    content_type = EnumField("lesson_content_type", LESSON_CONTENT_TYPES)
    body = TextField(null=True)
    video_url = TextField(null=True)
    duration_minutes = IntegerField()
    is_preview = BooleanField()
    quiz = jsonb(null=True)
    passing_score = IntegerField(null=True)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    completed_count = IntegerField()   # enrollments that completed it (008)

    UNREADABLE = ("quiz",)

    class Meta:
        table_name = "course_lessons"

    @classmethod
    def quiz_for_caller(cls):
        """``lesson_quiz(id)``: the whole quiz for its editors, the questions
        without their answers for a student, NULL for anyone else (007)."""
        return fn.lesson_quiz(cls.id).coerce(False).alias("quiz")   # jsonb, not the id field's type

    @classmethod
    def select_readable(cls, *extra):
        return cls.select(*cls.readable(), cls.quiz_for_caller(), *extra)


class CourseEnrollment(BaseModel):
    """``course_enrollments``: made by ``enroll_in_course()``, not inserted directly."""
    id = uuid_pk()
    course = fk(Course, "course_id", "enrollments")
    user = fk(User, "user_id", "enrollments")
    status = EnumField("enrollment_status", ENROLLMENT_STATUSES)
    amount_paid = money()
    payment_status = EnumField("payment_status", PAYMENT_STATUSES)
    enrolled_at = DateTimeTZField()
    completed_at = DateTimeTZField(null=True)
    cancelled_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    UNREADABLE = ("amount_paid",)
    # An enrollment that opens the course's content (active_enrollment() in SQL).
    ACTIVE = ("enrolled", "in_progress", "completed")

    class Meta:
        table_name = "course_enrollments"

    @classmethod
    def active(cls):
        """The condition "this enrollment is active" (see ``ACTIVE``)."""
        return cls.status.in_(cls.ACTIVE)

    @classmethod
    def paid(cls):
        """``enrollment_amount_paid(id)``: for the student and those who may
        read the course's revenue; NULL for everyone else (007)."""
        return fn.enrollment_amount_paid(cls.id).coerce(False).alias("amount_paid")


class LessonProgress(BaseModel):
    """``lesson_progress``: user and course are the enrollment's (composite
    keys), and the lesson is that course's."""
    id = uuid_pk()
    enrollment = fk(CourseEnrollment, "enrollment_id", "lesson_progress")
    lesson = fk(CourseLesson, "lesson_id", "progress")
    user = fk(User, "user_id", "lesson_progress")
    course = fk(Course, "course_id", "lesson_progress")
    status = EnumField("lesson_progress_status", LESSON_PROGRESS_STATUSES)
    watch_time_seconds = IntegerField()
    quiz_score = numeric(5, 2, null=True)
    started_at = DateTimeTZField()
    completed_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "lesson_progress"


class Workshop(BaseModel):
    id = uuid_pk()
    instructor = fk(User, "instructor_id", "workshops")
    title = TextField()
    slug = CITextField()
    description = TextField(null=True)
    start_time = DateTimeTZField()
    end_time = DateTimeTZField()
    timezone = TextField()
    location = TextField(null=True)
    meeting_url = TextField(null=True)
    capacity = IntegerField()
    price_amount = money()
    currency = CharacterField(max_length=3)
    status = EnumField("workshop_status", WORKSHOP_STATUSES)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    organization = fk(Organization, "organization_id", "workshops", null=True)
    type = EnumField("workshop_type", WORKSHOP_TYPES)
    is_published = GeneratedBooleanField(null=True)  # GENERATED ALWAYS AS (status = 'published')
    tags = text_array()
    prerequisites = text_array()
    what_you_will_learn = text_array()
    enrolled_count = IntegerField()
    attended_count = IntegerField()
    average_satisfaction = numeric(3, 2, null=True)
    feedback_count = IntegerField()
    total_revenue = money()
    certificate_enabled = BooleanField()
    certificate_template_url = TextField(null=True)
    total_earnings = money()
    pending_payout = money()
    refund_cutoff_hours = IntegerField()   # 021: a paid seat cancelled this long before the start is refunded
    ical_sequence = IntegerField()         # 021: the calendar's SEQUENCE, moved by every change it shows

    # workshop_revenue(id) and workshop_meeting_url(id) answer the first two (007).
    UNREADABLE = ("total_revenue", "meeting_url", "total_earnings", "pending_payout")

    class Meta:
        table_name = "workshops"


class WorkshopRegistration(BaseModel):
    """``workshop_registrations``: made by ``register_for_workshop()``."""
    id = uuid_pk()
    workshop = fk(Workshop, "workshop_id", "registrations")
    user = fk(User, "user_id", "workshop_registrations")
    status = EnumField("registration_status", REGISTRATION_STATUSES)
    payment_status = EnumField("payment_status", PAYMENT_STATUSES)
    amount_paid = money()
    registered_at = DateTimeTZField()
    attended_at = DateTimeTZField(null=True)
    cancelled_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    payment_due_at = DateTimeTZField(null=True)       # 021: an unpaid seat's hold
    refund_requested_at = DateTimeTZField(null=True)  # 021: when the cancelled paid seat's refund was asked for

    UNREADABLE = ("amount_paid",)

    class Meta:
        table_name = "workshop_registrations"


# --- 002: the instructor dashboard -----------------------------------------------

class InstructorProfile(BaseModel):
    """``instructor_profiles``: keyed by the user; the figures are maintained
    by triggers."""
    user = fk(User, "user_id", "instructor_profile", primary_key=True)
    headline = TextField(null=True)
    bio = TextField(null=True)
    expertise_tags = text_array()
    pillars = text_array()
    education = jsonb()
    certifications = jsonb()
    work_experience = jsonb()
    social_links = jsonb()
    website_url = TextField(null=True)
    is_verified = BooleanField()
    is_featured = BooleanField()
    total_students = IntegerField()
    total_courses = IntegerField()
    total_workshops = IntegerField()
    average_rating = numeric(3, 2, null=True)
    total_reviews = IntegerField()
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    # 'public', 'students', 'private' or 'hidden' (deactivated): kept by triggers (007).
    visibility = TextField()

    class Meta:
        table_name = "instructor_profiles"


class NotificationEvent(BaseModel):
    """``notification_events``: the kinds of notice, who they are for, their defaults (010)."""
    event_type = TextField(primary_key=True)
    audience = TextField()  # CHECK: instructor, student, admin, any
    label = TextField()
    email_default = BooleanField()
    in_portal_default = BooleanField()
    position = SmallIntegerField()

    class Meta:
        table_name = "notification_events"


class NotificationSettings(BaseModel):
    """``notification_settings``: the preferences (and time zone) of everyone without
    instructor_settings, whose two JSON columns have the same shape (010)."""
    user = fk(User, "user_id", "notification_settings", primary_key=True)
    email_notifications = jsonb()
    push_notifications = jsonb()
    timezone = TextField()
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "notification_settings"


class Notification(BaseModel):
    """``notifications``: the outbox. Written only by the database (triggers and scheduled
    functions, 010); its recipient reads it and sets ``read_at``."""
    UNREADABLE = ("dedup_key", "email_attempts", "email_sent_at", "email_error")
    id = uuid_pk()
    user = fk(User, "user_id")
    event_type = fk(NotificationEvent, "event_type")
    payload = jsonb()
    dedup_key = TextField(null=True)
    in_portal = BooleanField()
    email_state = TextField()  # CHECK: off, pending, sent, failed
    email_attempts = IntegerField()
    email_sent_at = DateTimeTZField(null=True)
    email_error = TextField(null=True)
    read_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()

    class Meta:
        table_name = "notifications"


class NotificationReadMark(BaseModel):
    """``notification_read_marks``: every notice up to ``read_through`` is read ("mark all as
    read" moves it, through mark_all_notifications_read(); 010)."""
    user = fk(User, "user_id", primary_key=True)
    read_through = DateTimeTZField()

    class Meta:
        table_name = "notification_read_marks"


class InstructorSettings(BaseModel):
    """``instructor_settings``: readable by the instructor alone.
    ``payment_details`` holds ciphertext the application encrypts."""
    user = fk(User, "user_id", "instructor_settings", primary_key=True)
    email_notifications = jsonb()
    push_notifications = jsonb()
    auto_approve_enrollments = BooleanField()
    allow_student_questions = BooleanField()
    allow_course_reviews = BooleanField()
    profile_visibility = TextField()  # CHECK: public, students, private
    payment_method = TextField(null=True)  # CHECK: bank_transfer, paypal, stripe
    payment_details = TextField(null=True)
    payout_schedule = TextField()  # CHECK: weekly, biweekly, monthly
    calendar_sync_enabled = BooleanField()
    calendar_provider = TextField(null=True)  # CHECK: google, outlook, apple
    timezone = TextField()
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    # 011: when a student counts as at risk (below this progress after so many days enrolled)
    # or inactive (no activity for so many days).
    at_risk_progress_percent = SmallIntegerField()  # CHECK: 1..100
    at_risk_after_days = SmallIntegerField()  # CHECK: 1..365
    inactive_after_days = SmallIntegerField()  # CHECK: 1..365
    calendar_feed_hash = TextField(null=True)  # 021: SHA-256 (hex) of the calendar feed's secret token

    class Meta:
        table_name = "instructor_settings"


class StudentProgress(BaseModel):
    """``student_progress``: one row per enrollment, maintained by triggers."""
    id = uuid_pk()
    enrollment = fk(CourseEnrollment, "enrollment_id", "student_progress")
    user = fk(User, "user_id", "student_progress")
    course = fk(Course, "course_id", "student_progress")
    total_lessons = IntegerField()
    completed_lessons = IntegerField()
    progress_percentage = numeric(5, 2)
    total_watch_time_seconds = BigIntegerField()
    last_activity_at = DateTimeTZField(null=True)
    total_quizzes = IntegerField()
    passed_quizzes = IntegerField()
    average_quiz_score = numeric(5, 2, null=True)
    engagement_score = numeric(5, 2)
    certificate_url = TextField(null=True)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    # 022: the student's own posts in the course, kept by delta (the engagement score's other part)
    comment_count = IntegerField()
    question_count = IntegerField()
    answer_count = IntegerField()
    submission_count = IntegerField()

    class Meta:
        table_name = "student_progress"


class StudentActivity(BaseModel):
    """``student_activity``: the instructor's timeline, written by triggers."""
    id = uuid_pk()
    activity_type = EnumField("activity_type", ACTIVITY_TYPES)
    instructor = fk(User, "instructor_id", "timeline")
    student = fk(User, "student_id", "activity")
    course = fk(Course, "course_id", "activity", null=True)
    workshop = fk(Workshop, "workshop_id", "activity", null=True)
    lesson = fk(CourseLesson, "lesson_id", "activity", null=True)
    metadata = jsonb()
    occurred_at = DateTimeTZField()

    class Meta:
        table_name = "student_activity"


class Payout(BaseModel):
    """``payouts`` (020): one payout of an instructor's earnings in a currency, made by an admin
    from the rows past the refund window, then marked paid. Written by its functions only."""
    id = uuid_pk()
    instructor = fk(User, "instructor_id", "payouts")
    currency = CharacterField(max_length=3)
    status = EnumField("payout_batch_status", PAYOUT_BATCH_STATUSES)
    line_count = IntegerField()
    gross_amount = money()
    fee_amount = money()
    total_amount = money()
    cutoff = DateTimeTZField()
    scheduled_for = DateField()
    created_by = fk(User, "created_by", "payouts_created", null=True)
    created_at = DateTimeTZField()
    paid_at = DateTimeTZField(null=True)
    paid_by = fk(User, "paid_by", "payouts_paid", null=True)
    reference = TextField(null=True)

    class Meta:
        table_name = "payouts"


class RevenueTransaction(BaseModel):
    """``revenue_transactions``: sales and refunds, written by the payment functions."""
    id = uuid_pk()
    instructor = fk(User, "instructor_id", "revenue_transactions")
    student = fk(User, "student_id", "purchases", null=True)
    course = fk(Course, "course_id", "revenue_transactions", null=True)
    workshop = fk(Workshop, "workshop_id", "revenue_transactions", null=True)
    enrollment = fk(CourseEnrollment, "enrollment_id", "revenue_transactions", null=True)
    workshop_registration = fk(WorkshopRegistration, "workshop_registration_id",
                               "revenue_transactions", null=True)
    refund_of = fk("self", "refund_of", "refunds", null=True)
    transaction_type = EnumField("transaction_type", TRANSACTION_TYPES)
    amount = money()
    currency = CharacterField(max_length=3)
    platform_fee_percentage = numeric(5, 2)
    platform_fee_amount = money()
    instructor_earnings = money()
    payment_status = EnumField("payment_status", PAYMENT_STATUSES)
    payout_status = EnumField("payout_status", PAYOUT_STATUSES)
    payout_date = DateTimeTZField(null=True)
    transaction_date = DateTimeTZField()
    metadata = jsonb()
    created_at = DateTimeTZField()
    payout = fk(Payout, "payout_id", "rows", null=True)  # 020

    class Meta:
        table_name = "revenue_transactions"


class RevenueTotal(BaseModel):
    """``revenue_totals`` (020): an instructor's completed revenue rows summed by UTC day and by UTC
    month, per course or workshop, currency and kind; kept by a trigger on revenue_transactions,
    read by revenue_period_sums() and the payouts page. Never written by the app."""
    id = BigIntegerField(primary_key=True)
    instructor_id = UUIDField()
    grain = TextField()
    day = DateField()
    course_id = UUIDField(null=True)
    workshop_id = UUIDField(null=True)
    currency = CharacterField(max_length=3)
    transaction_type = EnumField("transaction_type", TRANSACTION_TYPES)
    line_count = IntegerField()
    amount = numeric(14, 2)
    fees = numeric(14, 2)
    earnings = numeric(14, 2)
    pending_earnings = numeric(14, 2)
    paid_earnings = numeric(14, 2)
    unbatched_lines = IntegerField()
    unbatched_earnings = numeric(14, 2)

    class Meta:
        table_name = "revenue_totals"


class CourseReview(BaseModel):
    id = uuid_pk()
    course = fk(Course, "course_id", "reviews")
    user = fk(User, "user_id", "course_reviews")
    rating = SmallIntegerField()
    title = TextField(null=True)
    review_text = TextField(null=True)
    content_quality_rating = SmallIntegerField(null=True)
    instructor_rating = SmallIntegerField(null=True)
    value_rating = SmallIntegerField(null=True)
    instructor_response = TextField(null=True)
    instructor_responded_at = DateTimeTZField(null=True)
    responded_by = fk(User, "responded_by", null=True)
    helpful_count = IntegerField()
    is_verified_purchase = BooleanField()
    is_visible = BooleanField()
    moderation_reason = TextField(null=True)
    moderated_at = DateTimeTZField(null=True)
    moderated_by = fk(User, "moderated_by", null=True)
    open_report_count = IntegerField()
    first_open_report_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "course_reviews"


class WorkshopFeedback(BaseModel):
    id = uuid_pk()
    workshop = fk(Workshop, "workshop_id", "feedback")
    user = fk(User, "user_id", "workshop_feedback")
    overall_satisfaction = SmallIntegerField()
    content_rating = SmallIntegerField(null=True)
    delivery_rating = SmallIntegerField(null=True)
    interaction_rating = SmallIntegerField(null=True)
    what_went_well = TextField(null=True)
    what_could_improve = TextField(null=True)
    nps_score = SmallIntegerField(null=True)
    would_recommend = BooleanField(null=True)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "workshop_feedback"


class CourseInstructor(BaseModel):
    """``course_instructors``: co-instructors, with permissions in jsonb."""
    id = uuid_pk()
    course = fk(Course, "course_id", "co_instructors")
    instructor = fk(User, "instructor_id", "co_taught_courses")
    role = EnumField("course_instructor_role", COURSE_INSTRUCTOR_ROLES)
    permissions = jsonb()
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "course_instructors"


class WorkshopFacilitator(BaseModel):
    id = uuid_pk()
    workshop = fk(Workshop, "workshop_id", "facilitators")
    facilitator = fk(User, "facilitator_id", "facilitated_workshops")
    role = EnumField("workshop_facilitator_role", WORKSHOP_FACILITATOR_ROLES)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "workshop_facilitators"


class DripUnlock(BaseModel):
    """``drip_unlocks`` (004): content opened early for one enrollment: the
    whole course (no module, no lesson), one module or one lesson."""
    id = uuid_pk()
    enrollment = fk(CourseEnrollment, "enrollment_id", "drip_unlocks")
    user = fk(User, "user_id", "drip_unlocks")
    course = fk(Course, "course_id", "drip_unlocks")
    module = fk(CourseModule, "module_id", "drip_unlocks", null=True)
    lesson = fk(CourseLesson, "lesson_id", "drip_unlocks", null=True)
    unlocked_by = fk(User, "unlocked_by", "drip_unlocks_given", null=True)
    created_at = DateTimeTZField()

    class Meta:
        table_name = "drip_unlocks"


# --- 005: checkout, certificates, review votes and reports ------------------------------

class Checkout(BaseModel):
    """``checkouts``: paying for one pending enrollment, or (021) one held workshop seat; written only
    by ``start_checkout()``, ``start_workshop_checkout()`` and ``apply_payment_event()``."""
    id = uuid_pk()
    enrollment = fk(CourseEnrollment, "enrollment_id", "checkouts", null=True)
    user = fk(User, "user_id", "checkouts")
    course = fk(Course, "course_id", "checkouts", null=True)
    provider = TextField()
    amount = money()
    currency = CharacterField(max_length=3)
    status = EnumField("checkout_status", CHECKOUT_STATUSES)
    failure_reason = TextField(null=True)
    settled_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()
    registration = fk(WorkshopRegistration, "registration_id", "checkouts", null=True)  # 021
    workshop = fk(Workshop, "workshop_id", "checkouts", null=True)                     # 021

    class Meta:
        table_name = "checkouts"


class PaymentEvent(BaseModel):
    """``payment_events``: each provider event once (the webhook's idempotency key)."""
    event_id = TextField(primary_key=True)
    checkout = fk(Checkout, "checkout_id", "events", null=True)
    kind = TextField()
    outcome = TextField()
    payload = jsonb()
    received_at = DateTimeTZField()

    class Meta:
        table_name = "payment_events"


class Certificate(BaseModel):
    """``certificates``: issued on completion; ``code`` is the public verification secret."""
    id = uuid_pk()
    enrollment = fk(CourseEnrollment, "enrollment_id", "certificates")
    user = fk(User, "user_id", "certificates")
    course = fk(Course, "course_id", "certificates")
    code = TextField()
    student_name = TextField()
    course_title = TextField()
    instructor_name = TextField()
    issued_at = DateTimeTZField()

    class Meta:
        table_name = "certificates"


class ReviewHelpfulVote(BaseModel):
    review = fk(CourseReview, "review_id", "helpful_votes")
    user = fk(User, "user_id", "helpful_votes")
    created_at = DateTimeTZField()

    class Meta:
        table_name = "review_helpful_votes"
        primary_key = CompositeKey("review", "user")


class ReviewReport(BaseModel):
    id = uuid_pk()
    review = fk(CourseReview, "review_id", "reports")
    reporter = fk(User, "reporter_id", "review_reports")
    reason = EnumField("review_report_reason", REVIEW_REPORT_REASONS)
    details = TextField(null=True)
    resolved_at = DateTimeTZField(null=True)
    resolved_by = fk(User, "resolved_by", "review_reports_resolved", null=True)
    created_at = DateTimeTZField()

    class Meta:
        table_name = "review_reports"


# --- views (read-only) --------------------------------------------------------------

class PublicInstructor(ReadOnlyModel):
    """View ``public_instructors`` (read-only): the public face of active
    instructors, readable by anon."""
    id = UUIDField(primary_key=True)
    full_name = TextField()
    avatar_url = TextField(null=True)
    headline = TextField(null=True)
    bio = TextField(null=True)
    expertise_tags = text_array()
    pillars = text_array()
    website_url = TextField(null=True)
    social_links = jsonb()
    is_verified = BooleanField()
    is_featured = BooleanField()
    total_students = IntegerField()
    total_courses = IntegerField()
    total_workshops = IntegerField()
    average_rating = numeric(3, 2, null=True)
    total_reviews = IntegerField()

    class Meta:
        table_name = "public_instructors"


class CourseOutline(ReadOnlyModel):
    """View ``course_outline`` (read-only): modules and lessons of published
    courses, titles and durations only. A module without lessons has one row
    with the lesson columns NULL, so there is no primary key."""
    course = fk(Course, "course_id")
    module = fk(CourseModule, "module_id")
    module_title = TextField()
    module_position = IntegerField()
    lesson = fk(CourseLesson, "lesson_id", null=True)
    lesson_title = TextField(null=True)
    lesson_position = IntegerField(null=True)
    content_type = EnumField("lesson_content_type", LESSON_CONTENT_TYPES, null=True)
    duration_minutes = IntegerField(null=True)
    is_preview = BooleanField(null=True)

    class Meta:
        table_name = "course_outline"
        primary_key = False


class CourseTeacher(ReadOnlyModel):
    """View ``course_teachers`` (read-only): the owner (role 'primary') and the
    co-instructors of published courses."""
    course = fk(Course, "course_id")
    instructor = fk(User, "instructor_id")
    role = EnumField("course_instructor_role", COURSE_INSTRUCTOR_ROLES)
    full_name = TextField()
    avatar_url = TextField(null=True)
    has_public_profile = BooleanField(null=True)

    class Meta:
        table_name = "course_teachers"
        primary_key = CompositeKey("course", "instructor")


class WorkshopCertificate(BaseModel):
    """``workshop_certificates`` (021): a certificate of attendance, issued by a trigger when a seat is
    marked attended and the workshop gives one; verified by ``verify_certificate()`` like a course's."""
    id = uuid_pk()
    registration = fk(WorkshopRegistration, "registration_id", "certificate")
    user = fk(User, "user_id", "workshop_certificates")
    workshop = fk(Workshop, "workshop_id", "certificates")
    code = TextField()
    student_name = TextField()
    workshop_title = TextField()
    instructor_name = TextField()
    issued_at = DateTimeTZField()

    class Meta:
        table_name = "workshop_certificates"


class WorkshopTeacher(ReadOnlyModel):
    """View ``workshop_teachers`` (021, read-only): the owner (role 'primary') and the facilitators
    of published or held workshops, by name."""
    workshop = fk(Workshop, "workshop_id")
    teacher = fk(User, "teacher_id")
    role = EnumField("workshop_facilitator_role", ("primary", "co-facilitator", "assistant"))
    full_name = TextField()
    has_public_profile = BooleanField(null=True)

    class Meta:
        table_name = "workshop_teachers"
        primary_key = CompositeKey("workshop", "teacher")


class ReviewAuthor(ReadOnlyModel):
    """View ``review_authors`` (005, read-only): a visible review's author as readers see
    them, first name and last initial."""
    review = fk(CourseReview, "review_id")
    display_name = TextField()

    class Meta:
        table_name = "review_authors"
        primary_key = CompositeKey("review")


class StudentEngagementSummary(ReadOnlyModel):
    """View ``student_engagement_summary`` (read-only, security_invoker): per
    course the reader may see, how engaged its students are."""
    course = fk(Course, "course_id", primary_key=True)
    instructor = fk(User, "instructor_id")
    course_title = TextField()
    student_count = IntegerField()
    completed_students = IntegerField()
    average_progress = numeric(5, 2)
    average_engagement = numeric(5, 2)
    average_quiz_score = numeric(5, 2)
    active_last_7_days = IntegerField()
    at_risk_students = IntegerField()
    completion_rate = numeric(5, 2)

    class Meta:
        table_name = "student_engagement_summary"


class InstructorMonthlyStats(ReadOnlyModel):
    """Materialized view ``instructor_monthly_stats`` (read-only). No API role
    may select it: requests read it through ``get_instructor_monthly_stats(id)``,
    e.g. ``InstructorMonthlyStats.raw("SELECT * FROM get_instructor_monthly_stats(%s)",
    uid)``; maintenance refreshes it."""
    instructor = fk(User, "instructor_id")
    organization = fk(Organization, "organization_id", null=True)
    month = DateField()
    new_enrollments = IntegerField()
    completions = IntegerField()
    gross_revenue = money()
    platform_fees = money()
    net_revenue = money()
    transaction_count = IntegerField()
    new_reviews = IntegerField()
    rating_sum = IntegerField()

    class Meta:
        table_name = "instructor_monthly_stats"
        primary_key = CompositeKey("instructor", "organization", "month")


def caller_courses(field, *perms):
    """``field = ANY (the courses the caller owns, or co-teaches with any of
    perms)``: the caller's set, computed once per statement (rls.course_ids, 007),
    so a list of a 100k-student instructor is an index scan, not a policy per row."""
    return NodeList((field, SQL("= ANY ((SELECT rls.course_ids(%s))::uuid[])", [list(perms)])))


class UserSession(BaseModel):
    """``user_sessions``: one row per sign-in; the cookie carries its id, and a session ended here
    stops working (011). Written only by the account functions; its person reads their own."""
    UNREADABLE = ("user",)
    id = uuid_pk()
    user = fk(User, "user_id", "sessions")
    created_at = DateTimeTZField()
    last_seen_at = DateTimeTZField()
    revoked_at = DateTimeTZField(null=True)
    user_agent = TextField(null=True)
    address = TextField(null=True)

    class Meta:
        table_name = "user_sessions"


class EmailChange(BaseModel):
    """``email_changes``: a request to move an account to a new address, until its link is
    followed, it is cancelled or it expires (011)."""
    UNREADABLE = ("user",)
    id = uuid_pk()
    user = fk(User, "user_id", "email_changes")
    new_email = CITextField()
    created_at = DateTimeTZField()
    expires_at = DateTimeTZField()
    confirmed_at = DateTimeTZField(null=True)
    cancelled_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "email_changes"


class InstructorStudentNote(BaseModel):
    """``instructor_student_notes``: an instructor's private notes on a student (014): read and
    written by their author only, about a student of the author's courses (manage_students)."""
    id = uuid_pk()
    instructor = fk(User, "instructor_id", "notes_written")
    student = fk(User, "student_id", "notes_about")
    course = fk(Course, "course_id", "student_notes", null=True)
    body = TextField()
    created_at = DateTimeTZField()
    updated_at = DateTimeTZField()

    class Meta:
        table_name = "instructor_student_notes"


class CourseEnrollmentGrant(BaseModel):
    """``course_enrollment_grants``: an enrollment an instructor made (bulk enrollment, an accepted
    invitation), free or with access to a paid course granted without payment: who and when (015)."""
    enrollment = fk(CourseEnrollment, "enrollment_id", "grants", primary_key=True)
    course = fk(Course, "course_id", "enrollment_grants")
    user = fk(User, "user_id", "enrollment_grants")
    granted_by = fk(User, "granted_by", "grants_given")
    granted_at = DateTimeTZField()
    paid_course = BooleanField()

    class Meta:
        table_name = "course_enrollment_grants"


class CourseInvitation(BaseModel):
    """``course_invitations``: an address without an account invited to a course; the link's
    token is stored only as its SHA-256 (015)."""
    UNREADABLE = ("token_hash", "suppressed")
    id = uuid_pk()
    course = fk(Course, "course_id", "invitations")
    email = CITextField()
    invited_by = fk(User, "invited_by", "invitations_sent")
    grant_access = BooleanField()
    granted_price = money(null=True)
    suppressed = BooleanField()
    revoked_at = DateTimeTZField(null=True)
    revoked_by = fk(User, "revoked_by", "invitations_revoked", null=True)
    token_hash = TextField(null=True)
    created_at = DateTimeTZField()
    sent_at = DateTimeTZField(null=True)
    expires_at = DateTimeTZField(null=True)
    accepted_at = DateTimeTZField(null=True)
    accepted_by = fk(User, "accepted_by", "invitations_accepted", null=True)

    class Meta:
        table_name = "course_invitations"


class CourseAnnouncement(BaseModel):
    """``course_announcements``: a teacher's message to a course's students (all, or a status
    filter), fanned out by the worker in batches (015)."""
    id = uuid_pk()
    course = fk(Course, "course_id", "announcements")
    author = fk(User, "author_id", "announcements", null=True)
    title = TextField()
    body = TextField()
    audience = TextField()
    recipients = IntegerField()
    fanned_out_through = UUIDField(null=True)
    delivered_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()

    class Meta:
        table_name = "course_announcements"


class AuditLog(BaseModel):
    """``audit_log`` (016): append-only, written by the database's triggers only (moderation, roles
    and organizations, deactivation, verification, refunds, payouts, prices, co-teachers). No
    foreign keys: the log outlives what it mentions."""
    id = BigIntegerField(primary_key=True)
    occurred_at = DateTimeTZField()
    actor_id = UUIDField(null=True)
    action = TextField()
    entity_type = TextField()
    entity_id = UUIDField()
    organization_id = UUIDField(null=True)
    course_id = UUIDField(null=True)
    workshop_id = UUIDField(null=True)
    instructor_id = UUIDField(null=True)
    before = jsonb()
    after = jsonb()
    reason = TextField(null=True)

    class Meta:
        table_name = "audit_log"


# --- 022: lesson discussions, questions and answers, assignments ------------------------------

class LessonComment(BaseModel):
    """``lesson_comments``: a lesson's comments, replies one level deep (parent)."""
    id = uuid_pk()
    course = fk(Course, "course_id", "lesson_comments")
    lesson = fk(CourseLesson, "lesson_id", "comments")
    author = fk(User, "author_id", "lesson_comments")
    parent = ForeignKeyField("self", column_name="parent_id", backref="replies", null=True, lazy_load=False)
    body = TextField()
    is_visible = BooleanField()
    open_report_count = IntegerField()
    first_open_report_at = DateTimeTZField(null=True)
    reply_count = IntegerField()
    created_at = DateTimeTZField()
    edited_at = DateTimeTZField(null=True)
    deleted_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "lesson_comments"


class CourseQuestion(BaseModel):
    """``course_questions``: a student's question on a course (or one of its lessons)."""
    id = uuid_pk()
    course = fk(Course, "course_id", "questions")
    lesson = fk(CourseLesson, "lesson_id", "questions", null=True)
    author = fk(User, "author_id", "questions_asked")
    title = TextField()
    body = TextField()
    accepted_answer = DeferredForeignKey("QuestionAnswer", column_name="accepted_answer_id", null=True,
                                         backref="+", lazy_load=False)
    answer_count = IntegerField()
    is_visible = BooleanField()
    open_report_count = IntegerField()
    first_open_report_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()
    edited_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "course_questions"


class QuestionAnswer(BaseModel):
    id = uuid_pk()
    question = fk(CourseQuestion, "question_id", "answers")
    course = fk(Course, "course_id", "answers")
    author = fk(User, "author_id", "answers_given")
    body = TextField()
    is_visible = BooleanField()
    open_report_count = IntegerField()
    first_open_report_at = DateTimeTZField(null=True)
    created_at = DateTimeTZField()
    edited_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "question_answers"


class AssignmentSubmission(BaseModel):
    """``assignment_submissions``: written by submit_assignment() and grade_assignment() only."""
    id = uuid_pk()
    enrollment = fk(CourseEnrollment, "enrollment_id", "submissions")
    user = fk(User, "user_id", "submissions")
    course = fk(Course, "course_id", "submissions")
    lesson = fk(CourseLesson, "lesson_id", "submissions")
    body = TextField()
    link_url = TextField(null=True)
    status = EnumField("submission_status", SUBMISSION_STATUSES)
    score = numeric(5, 2, null=True)
    passing_score = IntegerField(null=True)
    feedback = TextField(null=True)
    graded_by = fk(User, "graded_by", "grades_given", null=True)
    graded_at = DateTimeTZField(null=True)
    submitted_at = DateTimeTZField()
    created_at = DateTimeTZField()

    class Meta:
        table_name = "assignment_submissions"


class DiscussionReport(BaseModel):
    id = uuid_pk()
    comment = fk(LessonComment, "comment_id", "reports", null=True)
    question = fk(CourseQuestion, "question_id", "reports", null=True)
    answer = fk(QuestionAnswer, "answer_id", "reports", null=True)
    reporter = fk(User, "reporter_id", "discussion_reports")
    reason = EnumField("discussion_report_reason", DISCUSSION_REPORT_REASONS)
    details = TextField(null=True)
    resolved_at = DateTimeTZField(null=True)
    resolved_by = fk(User, "resolved_by", "discussion_reports_resolved", null=True)
    created_at = DateTimeTZField()

    class Meta:
        table_name = "discussion_reports"


TABLE_MODELS = (
    SchemaMigration, Organization, User, Course, CourseModule, CourseLesson, CourseEnrollment,
    LessonProgress, Workshop, WorkshopRegistration, InstructorProfile, InstructorSettings,
    StudentProgress, StudentActivity, RevenueTransaction, CourseReview, WorkshopFeedback,
    CourseInstructor, WorkshopFacilitator, DripUnlock, Checkout, PaymentEvent, Certificate,
    ReviewHelpfulVote, ReviewReport, NotificationEvent, NotificationSettings, Notification,
    NotificationReadMark, UserSession, EmailChange,
    InstructorStudentNote,
    CourseEnrollmentGrant, CourseInvitation, CourseAnnouncement, AuditLog,
    Payout, RevenueTotal,
    LessonComment, CourseQuestion, QuestionAnswer, AssignmentSubmission, DiscussionReport,
    WorkshopCertificate,  # 021
)
VIEW_MODELS = (PublicInstructor, CourseOutline, CourseTeacher, StudentEngagementSummary, ReviewAuthor,
               WorkshopTeacher)  # 021
MATERIALIZED_VIEW_MODELS = (InstructorMonthlyStats,)
ALL_MODELS = TABLE_MODELS + VIEW_MODELS + MATERIALIZED_VIEW_MODELS
