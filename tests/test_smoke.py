from tests.support import Actor, complete_course, gen_course, gen_user, mismatches


def test_a_student_completes_a_paid_course(database):
    """Enroll, pay, finish every lesson: figures follow and verify clean."""
    teacher = gen_user(database, "instructor")
    student = gen_user(database)
    course = gen_course(database, teacher, price="49.99", lessons=("text", "video", "quiz"))
    complete_course(database, student, course)
    c = database.rows("SELECT * FROM courses WHERE id = %s", (course.id,))[0]
    assert (c["enrolled_count"], c["completed_count"], str(c["total_revenue"])) == (1, 1, "49.99")
    assert mismatches(database) == []
    with database.act(Actor.user(teacher)) as cur:
        cur.execute("SELECT * FROM get_instructor_dashboard_stats(%s)", (teacher,))
        stats = cur.fetchone()
    assert stats["total_students"] == 1 and str(stats["total_revenue"]) == "39.99"
