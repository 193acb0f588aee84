"""Named queries of the instructor's profile editor and its preview.

Everything runs in the request's transaction as the signed-in instructor, under
row-level security: they read their own profile row whatever its visibility, and
write it with ``UPDATE instructor_profiles ... WHERE user_id = <caller>`` (the
columns granted to ``authenticated``: headline, bio, expertise_tags, pillars,
education, certifications, work_experience, social_links, website_url). The write
runs in a savepoint, so a value the database refuses (a CHECK) leaves the request
usable and comes back as a field error.
"""

from __future__ import annotations

from peewee import IntegrityError, fn

from portal.db import constraint_name, database, sqlstate
from portal.models import Course, InstructorProfile, InstructorSettings, PublicInstructor, User
from portal import refusals

EDITABLE = ("headline", "bio", "expertise_tags", "pillars", "education", "certifications", "work_experience",
            "social_links", "website_url")
SUGGESTIONS_MAX = 50


class ProfileRefused(Exception):
    """The database refused a value: ``field`` names the form field (None: the form as a whole)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field, self.message = field, message


# What the person reads when a CHECK of instructor_profiles refuses a column: the
# constraint's name holds the column's (002 lets PostgreSQL name them,
# instructor_profiles_bio_check...; 011 names its own after the column too).
REFUSED = {
    "headline": "Keep the headline to 200 characters.",
    "bio": "Write between 50 and 2000 characters, or leave the bio empty.",
    "expertise_tags": "Choose at most 15 tags, each up to 40 characters.",
    "pillars": "Choose among adaptability, coaching and marketplace.",
    "education": "Each education row needs a degree and an institution (up to 200 characters) and a year "
                 "between 1950 and 2100.",
    "certifications": "Each certification needs a name (up to 200 characters); the year is between 1950 and 2100.",
    "work_experience": "Each row of work experience needs a role and a company (up to 200 characters); years are "
                       "between 1950 and 2100, the end after the start.",
    "social_links": "Social links are https addresses of the networks listed.",
    "website_url": "Enter a web address that starts with http:// or https://.",
}


def refused_field(constraint: str | None) -> str | None:
    """The column a constraint's name is about, the longest that fits (expertise_tags before tags)."""
    if not constraint:
        return None
    names = sorted(EDITABLE, key=len, reverse=True)
    found = next((name for name in names if name in constraint), None)
    if found is None and "tag" in constraint:
        return "expertise_tags"
    if found is None and ("social" in constraint or "link" in constraint):
        return "social_links"
    if found is None and "website" in constraint:
        return "website_url"
    return found


def my_profile(user_id) -> dict | None:
    """The caller's profile row, with their name and photo (from their account), for the editor."""
    return (InstructorProfile
            .select(InstructorProfile.headline, InstructorProfile.bio, InstructorProfile.expertise_tags,
                    InstructorProfile.pillars, InstructorProfile.education, InstructorProfile.certifications,
                    InstructorProfile.work_experience, InstructorProfile.social_links,
                    InstructorProfile.website_url, User.full_name, User.avatar_url)
            .join(User, on=(User.id == InstructorProfile.user))
            .where(InstructorProfile.user == user_id)
            .dicts().first())


def save_profile(user_id, values: dict) -> None:
    """Store the editable columns of the caller's own profile (``values`` holds exactly those).

    Raises ProfileRefused when the database refuses a value (the field it names, and a message)."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    changes = {getattr(InstructorProfile, name): value for name, value in values.items()}
    try:
        with database.atomic():  # a savepoint: a refusal leaves the request's transaction usable
            (InstructorProfile.update(changes)
             .where(InstructorProfile.user == user_id)
             .execute())
    except IntegrityError as exc:
        field = refused_field(constraint_name(exc))
        if sqlstate(exc) == "23514" and field:
            raise ProfileRefused(field, REFUSED[field]) from exc
        raise ProfileRefused(None, refusals.message(exc)) from exc


def profile_visibility(user_id) -> str:
    """Who may see the caller's profile, as their settings say: public, students or private."""
    return (InstructorSettings.select(InstructorSettings.profile_visibility)
            .where(InstructorSettings.user == user_id).scalar()) or "public"


def tag_suggestions(limit: int = SUGGESTIONS_MAX) -> list[str]:
    """The tags public instructors and published courses use, the most used first (one spelling
    of each, case aside), at most ``limit``."""
    profile_tags = PublicInstructor.select(fn.unnest(PublicInstructor.expertise_tags).alias("tag"))
    course_tags = Course.select(fn.unnest(Course.tags).alias("tag")).where(Course.status == "published")
    used = profile_tags.union_all(course_tags).alias("used")
    query = (InstructorProfile.select(fn.min(used.c.tag).alias("tag"))
             .from_(used)
             .where(fn.length(fn.btrim(used.c.tag)) > 0)
             .group_by(fn.lower(used.c.tag))
             .order_by(fn.count(used.c.tag).desc(), fn.lower(used.c.tag))
             .limit(limit))
    return [row["tag"] for row in query.dicts()]


def preview_instructor(user_id) -> dict | None:
    """The caller as the public instructor page shows them (the columns of catalog.queries'
    public_instructor), read from their own row whatever its visibility."""
    return (InstructorProfile
            .select(User.id, User.full_name, User.avatar_url, InstructorProfile.headline, InstructorProfile.bio,
                    InstructorProfile.expertise_tags, InstructorProfile.pillars, InstructorProfile.website_url,
                    InstructorProfile.social_links, InstructorProfile.education, InstructorProfile.certifications,
                    InstructorProfile.work_experience, InstructorProfile.is_verified,
                    InstructorProfile.total_students, InstructorProfile.total_courses,
                    InstructorProfile.total_workshops, InstructorProfile.average_rating,
                    InstructorProfile.total_reviews)
            .join(User, on=(User.id == InstructorProfile.user))
            .where(InstructorProfile.user == user_id)
            .dicts().first())
