"""What the demo's lessons say: a few paragraphs of Markdown per text lesson, a brief per assignment.

Each course's category picks a family of templates (leading people, AI tools, data,
workshops, agile delivery, independent work); a lesson draws its intro, key ideas,
example and exercise from that family, and the technical courses add a code block
(Python, SQL or a prompt). The draw is seeded by the course slug and the lesson's
place in it, never by the plan's random generator: the lessons' text can change
without moving any other row of the demo, and the same course always reads the same.
"""

from __future__ import annotations

import random

FAMILY_OF_CATEGORY = {
    "Leadership": "people", "Coaching": "people", "Communication": "people", "Teamwork": "people",
    "AI": "ai", "Data": "data", "Facilitation": "workshops", "Design": "workshops",
    "Project Management": "delivery", "Business": "independent", "Productivity": "independent",
}

# Which courses show code, and which kind.
CODE_OF_COURSE = {
    "Prompt Engineering Fundamentals": "prompt",
    "Python for Data Analysis": "python",
    "Advanced Pandas Patterns": "python",
    "SQL from Zero to Reports": "sql",
    "Dashboards That Get Used": "sql",
}

HEADINGS = {
    "intro": ["{topic}: the essentials", "The big picture", "Why it matters"],
    "points": ["Key ideas", "What to keep in mind", "Principles that hold up"],
    "example": ["An example", "In practice", "A story from the field"],
    "practice": ["Try it this week", "Put it into practice", "Before the next lesson"],
}

# Per family: intros, key ideas (four are drawn), examples and exercises. "{topic}" is the
# module's title, "{course}" the course's.
FAMILIES = {
    "people": {
        "intros": [
            "This reading is part of “{topic}”. It gives you a shared language for the module, so that the "
            "rest of {course} builds on something your team can discuss openly.",
            "Leaders rarely struggle here for lack of ideas. They struggle because deadlines push the work to "
            "the bottom of the list. In “{topic}” we look at what changes when it becomes a habit rather than "
            "a project.",
            "The ideas in “{topic}” sound simple on paper. In a real team, with real deadlines and real "
            "personalities, they take deliberate practice. This reading collects what experienced team leads "
            "wish they had known earlier.",
        ],
        "points": [
            "Start with the people affected, not with the plan: ask before you announce.",
            "Make one person accountable for each next step, and write their name down.",
            "Say what will not change; it lowers anxiety more than any slide deck.",
            "Use the team's own words in updates, not the language of the strategy document.",
            "Check understanding by asking people to explain it back, not by asking for questions.",
            "Follow up in writing within a day: the memory of a conversation fades fast.",
            "Celebrate small, visible progress; it keeps momentum while the big goal is far away.",
        ],
        "examples": [
            "A team lead at a logistics company introduced a weekly fifteen-minute check-in on exactly this. "
            "The first weeks felt awkward and short. By the second month people brought their own topics, and "
            "two issues that would have become escalations were settled in the room.",
            "One manager kept a simple log: the date, what she tried, how the team responded. After six weeks "
            "the pattern was plain. Conversations that opened with a question went far better than the ones "
            "that opened with a conclusion.",
            "A product team of eight tried two approaches side by side: a polished announcement and an open "
            "working session. The announcement was faster. The working session took an hour longer, but it "
            "produced a plan the team defended on its own when it was challenged later.",
        ],
        "practices": [
            "Pick one conversation you will have this week and plan it with the ideas above. Afterwards, write "
            "three sentences: what you said, how it landed, and what you would change.",
            "Choose one of the ideas in the list and try it with your team this week. Keep it small enough for a "
            "single meeting, and note what happened so you can bring it to the next lesson.",
            "Share this reading with a colleague and ask which idea they disagree with. The disagreement is "
            "usually where the most useful conversation starts.",
        ],
    },
    "ai": {
        "intros": [
            "The module “{topic}” is where many teams find out whether AI tools earn their place. This "
            "reading explains the ideas in plain language, so that you can judge results yourself instead of "
            "trusting a vendor's demo.",
            "AI tools are neither magic nor useless: they are tools with a particular shape. The ideas in "
            "“{topic}” help you predict when that shape fits your work and when it does not.",
            "People who get good results from AI tools are rarely machine learning experts. They have a few "
            "habits and apply them consistently; this reading in “{topic}” introduces them.",
        ],
        "points": [
            "Be specific about the task, the audience and the format you want back.",
            "Give the tool the context it cannot know: your data, your constraints, your definitions.",
            "Ask for reasons or sources when the answer matters, and check them.",
            "Keep a small set of test cases and run them again whenever a prompt or a model changes.",
            "Never paste personal or confidential data into a tool your organisation has not approved.",
            "Compare results with the old way of working, not with perfection.",
            "Treat the first answer as a draft: improve it with short, concrete feedback.",
        ],
        "examples": [
            "A support team used a language model to draft replies. The first version wrote long, generic "
            "answers. Adding three replies written by their best agent as examples, and a limit of 120 words, "
            "halved the time spent editing.",
            "An operations analyst asked a model to sort 500 supplier emails into categories. Before trusting "
            "it, she labelled 50 of them by hand and compared. The model agreed on 46; the four disagreements "
            "showed exactly where her instructions were ambiguous.",
            "A team lead ran the same request through two prompts for a week and counted how often each result "
            "needed rework. The numbers settled a debate that opinions had not.",
        ],
        "practices": [
            "Pick one recurring task from your week and write down how you would hand it to an AI tool. Try it "
            "on three real examples and note where the output needed fixing.",
            "Collect five inputs from your own work that a tool should handle well, and one it should refuse or "
            "flag. Keep them: they become your test set for the rest of {course}.",
            "Explain to a colleague, in two minutes, what “{topic}” means for your team. If that is hard, read "
            "the key ideas again and try tomorrow.",
        ],
    },
    "data": {
        "intros": [
            "Every analysis starts with a question and ends with a decision. This reading, part of “{topic}”, "
            "works through the steps in between on a small table of online orders.",
            "Spreadsheets take you a long way, but they hide the steps you took. In “{topic}” we write each "
            "step down, so that it can be run again and reviewed by a colleague.",
            "Analysts spend more time preparing and checking data than on anything that looks like "
            "statistics. This part of “{topic}” shows why that time is well spent.",
        ],
        "points": [
            "Write the question down before you open the data.",
            "Look at the raw rows first: how many there are, the columns, a handful of examples.",
            "Check for duplicates, missing values and impossible ones (negative quantities, future dates).",
            "Leave the original data untouched; every change happens in a step you can run again.",
            "Name things for the reader: `revenue_eur` beats `col7`.",
            "Compare every total with a number you already trust, such as last month's report.",
            "Round and format only at the very end, when you present.",
        ],
        "examples": [
            "In the orders data, a count by day showed a spike on 1 March. It was not a sale: an import had run "
            "twice. Without that check, the month's revenue would have been overstated by 4%.",
            "An analyst was asked why sales dropped in one region. Grouping by store before grouping by region "
            "showed that one store had closed for renovation; every other store in the region had grown.",
            "Two teams reported different customer counts for the same month. The difference was a definition: "
            "one counted accounts, the other counted people who placed an order. Agreeing on it took ten "
            "minutes and ended a month of confusion.",
        ],
        "practices": [
            "Take a dataset from your own work (an export is fine) and repeat the steps above on it. Write down "
            "one thing that surprised you.",
            "Run the example again with a different grouping or period, and check that the totals still add up "
            "to the same number.",
            "Before the next lesson, write down the question your team asks its data most often, and which "
            "columns would answer it.",
        ],
    },
    "workshops": {
        "intros": [
            "Good sessions look effortless because the work happened beforehand. The ideas in “{topic}” are a "
            "large part of that work, and the part most people skip when time is short.",
            "Whether you run a two-hour workshop or a five-day sprint, what you learn in “{topic}” shapes "
            "what the group produces. This reading gives you a structure to adapt rather than a script to "
            "follow.",
            "Participants remember how a session felt long after they forget the agenda. This reading in "
            "“{topic}” looks at the choices that decide that feeling.",
        ],
        "points": [
            "Write the outcome of the session as one sentence, and put it in the invitation.",
            "Plan for energy as well as content: alternate thinking alone, in pairs and together.",
            "Give every activity a clear question, a time box and a visible output.",
            "Let quieter voices go first, in writing or in pairs, before the open discussion.",
            "Capture decisions and owners on the wall, in the participants' own words.",
            "Leave buffer time: activities always take longer with real people.",
            "Close by asking what people will do next, not only what they thought.",
        ],
        "examples": [
            "A product team's prioritisation workshop kept ending in a debate between two senior people. Five "
            "minutes of silent writing before any discussion changed that: ideas from the whole team reached "
            "the wall, and the debate became a choice between options.",
            "In a design sprint with twelve participants, the facilitator split the group into three teams for "
            "sketching, then brought everyone back for a gallery walk with dot voting. The session ended on time "
            "with two concepts to prototype.",
            "A remote workshop lost half its energy after the first hour. Next time the facilitator planned a "
            "break every 45 minutes and moved the hardest discussion to the start. Participation stayed high "
            "until the end.",
        ],
        "practices": [
            "Take a session you will run in the next month and rewrite its agenda with the ideas above. Mark "
            "where the group thinks alone, in pairs and together.",
            "After your next meeting, spend five minutes noting what worked and what did not. Keep these notes: "
            "by the end of {course} they will be your own playbook.",
            "Pick one activity from this lesson and try it in a regular team meeting, where the stakes are low.",
        ],
    },
    "delivery": {
        "intros": [
            "Agile teams deliver in small steps so that they can learn from each one. This reading in "
            "“{topic}” is about turning that learning into a better plan without slipping back into old "
            "habits.",
            "Frameworks give names to what good teams already do. This reading explains the ideas of "
            "“{topic}” without the jargon, so that you can apply them whatever your team calls its process.",
            "Short cycles only help if each one ends with something finished and something learned. The ideas "
            "in “{topic}” make both visible.",
        ],
        "points": [
            "Keep the backlog in order: the top items are small, clear and ready to start.",
            "Write items as outcomes for a user, not as tasks for a developer.",
            "Limit work in progress; finishing one thing beats starting three.",
            "Make the work visible on a board everyone can see, remote or not.",
            "Review with real users or stakeholders, not only inside the team.",
            "Use the retrospective to change one thing, and check next time whether it helped.",
            "Track how long items take from start to done, not only how many you finish.",
        ],
        "examples": [
            "A public-sector team had forty items in progress on its board. A limit of five per column felt "
            "slow for a week; a month later, the time from start to done had dropped from 19 days to 8.",
            "A start-up replaced its two-hour planning meeting with a thirty-minute refinement session twice a "
            "week. Planning became a short confirmation of work everyone already understood.",
            "One team kept a chart of items finished per week next to its list of blockers. In the "
            "retrospective the two together showed that most delays came from waiting for one external "
            "approval.",
        ],
        "practices": [
            "Look at your team's board today and count the items in progress. If there are more than people, "
            "pick one to finish before anything new starts.",
            "Rewrite three items of your backlog as outcomes for a user. Notice which become clearer and which "
            "turn out to be unnecessary.",
            "At your next retrospective, propose one experiment from this lesson and agree how you will know "
            "whether it worked.",
        ],
    },
    "independent": {
        "intros": [
            "Working for yourself means every hour is billable, building the business, or recovering. The "
            "habits in “{topic}” decide how many of those hours go where you want them.",
            "Independent professionals rarely lack skill; they lack a system that holds up in a busy week. "
            "This reading turns the ideas of “{topic}” into steps you can repeat without relying on "
            "motivation.",
            "Advice in this area is everywhere and often contradictory. For “{topic}” we kept only what "
            "independents told us still works after the first enthusiastic month.",
        ],
        "points": [
            "Write things down in one trusted place, not in five apps and your memory.",
            "Decide the next concrete action for every open commitment.",
            "Put a price or a date on everything you offer; vague offers invite vague answers.",
            "Review the week every Friday: what is done, what is waiting, what is next.",
            "Say no early and politely; a late no costs everyone more.",
            "Keep a list of past clients and check in with them every quarter.",
            "Protect at least one block of focused work every day.",
        ],
        "examples": [
            "A consultant who quoted by the hour switched to a fixed price for a clearly scoped first phase. "
            "Clients decided faster, and she stopped tracking her time in fifteen-minute slices.",
            "A designer kept her tasks in email, notes and a paper notebook. Moving everything into one list "
            "with a weekly review took an afternoon; she found three forgotten follow-ups, and one became her "
            "largest project that year.",
            "When a client asked for a 20% discount, an independent trainer offered a shorter programme at the "
            "lower price instead. The client chose the full programme at the original price.",
        ],
        "practices": [
            "This week, try the ideas above on one real client or project. Note how long it took and what you "
            "would keep.",
            "Block thirty minutes on Friday for a weekly review, and do it at least twice before the next module "
            "of {course}.",
            "Write down one commitment you have been putting off and its next concrete action. Do that action "
            "before the end of the day.",
        ],
    },
}

# Code shown by the technical courses: (lead-in, language, code). Lines stay short enough
# for a phone.
CODE = {
    "python": [
        ("Load the orders and take a first look:", "python",
         'import pandas as pd\n\norders = pd.read_csv(\n    "orders.csv", parse_dates=["ordered_at"]\n)\n'
         "orders.info()\norders.head()"),
        ("The cleaning steps as one chain you can run again:", "python",
         'clean = (\n    orders.drop_duplicates()\n    .dropna(subset=["customer_id"])\n'
         '    .query("quantity > 0")\n)\nlen(orders) - len(clean)  # rows dropped'),
        ("Revenue per week, ready for a chart:", "python",
         'weekly = (\n    clean.set_index("ordered_at")\n    .resample("W")["amount"]\n    .sum()\n)\n'
         "weekly.tail(8)"),
        ("Totals per region, largest first:", "python",
         'by_region = (\n    clean.groupby("region")["amount"]\n    .agg(["count", "sum", "mean"])\n'
         '    .sort_values("sum", ascending=False)\n)'),
    ],
    "sql": [
        ("Orders and revenue per region this year:", "sql",
         "SELECT region,\n       count(*)    AS orders,\n       sum(amount) AS revenue\nFROM orders\n"
         "WHERE ordered_at >= date '2025-01-01'\nGROUP BY region\nORDER BY revenue DESC;"),
        ("The latest paid orders with the customer's name:", "sql",
         "SELECT c.name, o.ordered_at, o.amount\nFROM orders o\nJOIN customers c\n  ON c.id = o.customer_id\n"
         "WHERE o.status = 'paid'\nORDER BY o.ordered_at DESC\nLIMIT 20;"),
        ("Customers who ordered, week by week:", "sql",
         "SELECT date_trunc('week', ordered_at)\n         AS week,\n       count(DISTINCT customer_id)\n"
         "         AS customers\nFROM orders\nGROUP BY 1\nORDER BY 1;"),
    ],
    "prompt": [
        ("A prompt structure you can copy; each part answers a question the model would otherwise guess:",
         "text",
         "Role: you help a support team.\nTask: summarise the ticket below\nin three bullet points.\n"
         "Audience: a busy manager.\nRules: no jargon; if something\nis missing, say so.\n\n"
         "Ticket:\n<paste the ticket>"),
        ("Examples teach format faster than instructions do:", "text",
         "Classify each email as BILLING,\nDELIVERY or OTHER.\n\nEmail: \"My parcel never came.\"\n"
         "Label: DELIVERY\n\nEmail: \"I was charged twice.\"\nLabel: BILLING\n\nEmail: <new email>\nLabel:"),
        ("Ask for a check as part of the answer:", "text",
         "Draft a reply to the customer below.\nThen list any claim in your draft\nthat the ticket does not "
         "support.\n\nTicket:\n<paste the ticket>"),
    ],
}

ASSIGNMENT_STEPS = [
    "Choose one real situation from your own work where this module applies.",
    "Describe it in a few sentences: who is involved, what happens now, what you would like to change.",
    "Plan what you will do differently, using at least two ideas from the lessons.",
    "Try it, or talk it through with a colleague if trying is not possible yet.",
    "Write down what happened and what you would change next time.",
]


def _rng(slug: str, module: int, lesson: int) -> random.Random:
    return random.Random(f"{slug}/{module}/{lesson}")  # a str seed is hashed with SHA-512: stable


def text_lesson(course_title: str, category: str, slug: str, topic: str, module: int, lesson: int) -> str:
    """A reading of a few paragraphs: intro, key ideas, an example, code where the course is technical,
    and an exercise."""
    rng = _rng(slug, module, lesson)
    family = FAMILIES[FAMILY_OF_CATEGORY.get(category, "people")]

    def say(template: str) -> str:
        return template.format(topic=topic, course=course_title)

    parts = [f"## {say(rng.choice(HEADINGS['intro']))}", say(rng.choice(family["intros"])),
             f"## {rng.choice(HEADINGS['points'])}",
             "\n".join(f"- {point}" for point in rng.sample(family["points"], 4)),
             f"## {rng.choice(HEADINGS['example'])}", say(rng.choice(family["examples"]))]
    code = CODE_OF_COURSE.get(course_title.split(" · ")[0])
    if code:
        lead, language, snippet = rng.choice(CODE[code])
        parts += [lead, f"```{language}\n{snippet}\n```"]
    parts += [f"## {rng.choice(HEADINGS['practice'])}", say(rng.choice(family["practices"]))]
    return "\n\n".join(parts) + "\n"


def assignment(course_title: str, topic: str, minutes: int) -> str:
    """The brief of an assignment: what to do, in steps, and what to write down."""
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(ASSIGNMENT_STEPS, 1))
    return (f"This assignment puts “{topic}” to work. Plan about {minutes} minutes for it.\n\n"
            f"## What to do\n\n{steps}\n\n"
            f"## When you are done\n\nWrite a short note (about 300 words): your situation, what you tried and "
            f"what you learned. Keep it with your notes on {course_title}, then mark this lesson complete.\n")


def quiz_intro(topic: str, questions: int) -> str:
    """The line above a quiz's questions."""
    return (f"{questions} questions on “{topic}”. Take your time: you can try again as often as you like, "
            "and your best score counts.")
