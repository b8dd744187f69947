"""Invented news prose for the replay site: word lists, sentence templates, one writer per story."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# Every slot of a sentence is drawn afresh from lists like these, and the fixed words between
# slots are kept short, so two stories share few five-word runs and never look like
# near-duplicates of each other. All people and organisations are invented.
FIRST_NAMES = (
    "Kamran", "Leila", "Hossein", "Maryam", "Reza", "Nasrin", "Farid", "Shirin", "Omid",
    "Parisa", "Bijan", "Soraya", "Karim", "Yasmin", "Tariq", "Rania", "Samir", "Hala", "Walid",
    "Nour", "Ibrahim", "Amal", "Yousef", "Dina", "Khaled", "Salma", "Adnan", "Lina", "Marwan",
    "Huda", "James", "Eleanor", "Thomas", "Harriet", "Oliver", "Fiona", "Gareth", "Imogen",
    "Daniel", "Rosalind", "Marcus", "Denise", "Howard", "Carla", "Victor", "Elena", "Tomas",
    "Anika", "Rafael", "Ingrid", "Kwame", "Amara", "Rohan", "Priya", "Mateo", "Lucia", "Anton",
    "Mirela", "Jalal", "Sepideh",
)  # fmt: skip
LAST_NAMES = (
    "Delavari", "Moradi", "Tabatabai", "Kashani", "Rostami", "Farahani", "Navabi", "Sadeghi",
    "Zanjani", "Bahrami", "Haddad", "Khoury", "Mansour", "Saleh", "Darwish", "Awad", "Barakat",
    "Hamdan", "Qasim", "Shalabi", "Aziz", "Najjar", "Hallaq", "Whitcombe", "Ashworth",
    "Pemberton", "Caldwell", "Hartley", "Fenwick", "Greaves", "Holloway", "Marsh", "Thornton",
    "Brennan", "Okafor", "Lindqvist", "Moreno", "Petrov", "Novak", "Castillo", "Mensah", "Iyer",
    "Varga", "Kowalski", "Duarte", "Reinholt", "Abernathy", "Sotoudeh", "Kazemi", "Yazdani",
    "Ebrahimi", "Ghorbani", "Javanmard", "Touma", "Sarraf", "Quinlan", "Blackwood", "Ferreira",
)  # fmt: skip
ROLES = (
    "Foreign Minister", "Deputy Foreign Minister", "government spokesperson", "Economy Minister",
    "senior lawmaker", "Interior Minister", "Health Minister", "military spokesperson",
    "Trade Minister", "Energy Minister", "regional governor", "Defense Minister",
    "opposition leader", "union leader", "senior analyst", "rights campaigner",
    "parliament speaker", "police chief", "Transport Minister", "Culture Minister",
    "university professor", "senior diplomat", "city council member", "central bank governor",
    "Agriculture Minister", "presidential adviser", "deputy mayor", "lead negotiator",
)  # fmt: skip
ROLE_SHORT = ("minister", "official", "spokesperson", "lawmaker", "envoy", "governor", "report")
COUNTRIES = (
    "Iran", "Iraq", "Syria", "Lebanon", "Yemen", "Jordan", "Qatar", "Oman", "Turkey", "Egypt",
    "Algeria", "Pakistan", "India", "China", "Russia", "Brazil", "South Africa", "Venezuela",
    "Cuba", "Malaysia", "Indonesia", "Kenya", "Nigeria", "Armenia", "Azerbaijan", "Tajikistan",
    "Britain", "France", "Germany", "the United States", "Canada", "Spain", "Ireland", "Norway",
)  # fmt: skip
ORG_PREFIXES = (
    "Regional", "National", "Independent", "Caspian", "Gulf", "Eastern", "Joint", "Levant",
    "Atlantic", "Northern", "Southern", "Coastal", "Federal", "Provincial", "Pan-Asian",
)  # fmt: skip
ORG_KINDS = (
    "Trade Council", "Development Fund", "Rights Observatory", "Workers’ Federation",
    "Energy Agency", "Water Authority", "Press Association", "Policy Institute",
    "Relief Committee", "Farmers’ Union", "Chamber of Commerce", "Housing Board",
    "Medical Association", "Transport Commission", "Research Centre", "Teachers’ Syndicate",
)  # fmt: skip
OUTLETS = (
    "Press TV", "the state news agency", "a local radio station", "a weekly newspaper",
    "reporters", "a news conference", "a television interview", "an online briefing",
)  # fmt: skip
# (text, plural): the modal that follows must agree with its subject.
SUBJECTS = (
    ("the government", False), ("the foreign ministry", False), ("lawmakers", True),
    ("the delegation", False), ("local officials", True), ("the coalition", False),
    ("the opposition", False), ("the central bank", False), ("regional governors", True),
    ("the security council", False), ("the health ministry", False), ("aid agencies", True),
    ("the trade union", False), ("the army", False), ("the judiciary", False),
    ("the cabinet", False), ("the municipality", False), ("the transport authority", False),
    ("the energy ministry", False), ("the port authority", False),
    ("the election commission", False), ("the navy", False), ("both chambers", True),
)  # fmt: skip
# (singular, plural)
MODALS = (
    ("would", "would"), ("will", "will"), ("could soon", "could soon"), ("must", "must"),
    ("may", "may"), ("refused to", "refused to"), ("cannot afford to", "cannot afford to"),
    ("had been asked to", "had been asked to"), ("is ready to", "are ready to"),
    ("has no plans to", "have no plans to"), ("intends to", "intend to"),
    ("was prepared to", "were prepared to"), ("has agreed to", "have agreed to"),
    ("is expected to", "are expected to"), ("plans to", "plan to"),
    ("is determined to", "are determined to"),
)  # fmt: skip
VERBS = (
    "expand", "review", "suspend", "resume", "reject", "accelerate", "finance", "monitor",
    "challenge", "revive", "scrap", "extend", "restructure", "defend", "investigate", "approve",
    "block", "fund", "double", "cut back", "renegotiate", "postpone", "audit", "overhaul",
    "endorse", "shelve", "complete", "relaunch",
)  # fmt: skip
VERBS_PAST = (
    "criticised", "welcomed", "questioned", "backed", "opposed", "praised", "condemned",
    "dismissed", "defended", "endorsed", "rejected", "challenged", "supported", "denounced",
)  # fmt: skip
ADJECTIVES = (
    "new", "proposed", "controversial", "long-delayed", "joint", "emergency", "regional",
    "five-year", "bilateral", "multi-billion-dollar", "interim", "draft", "landmark", "disputed",
    "revised", "temporary", "costly", "ambitious", "overdue", "cross-border", "stalled",
    "second-phase", "nationwide", "experimental",
)  # fmt: skip
NOUNS = (
    "trade agreement", "rail corridor", "export quota", "fuel subsidy", "water-sharing plan",
    "ceasefire arrangement", "sanctions package", "housing programme", "security pact",
    "reconstruction fund", "vaccination drive", "border crossing", "grain deal",
    "pipeline project", "energy tariff", "pension reform", "media law", "aid convoy",
    "prisoner exchange", "port expansion", "budget bill", "anti-corruption drive",
    "school meals scheme", "desalination plant", "fishing rights accord", "import levy",
    "power grid link", "refinery upgrade", "rent freeze", "wheat reserve", "metro extension",
    "free trade zone", "hospital network", "customs union", "satellite launch",
    "naval exercise", "drought relief plan", "copper mine concession", "visa waiver",
    "minimum wage rise",
)  # fmt: skip
GROUPS = (
    "residents", "farmers", "students", "truck drivers", "doctors", "shop owners",
    "fishermen", "teachers", "pensioners", "factory workers", "nurses", "taxi drivers",
    "refugees", "bakers", "dock workers", "market traders", "railway staff", "miners",
)  # fmt: skip
ISSUES = (
    "fuel shortages", "power cuts", "rising rents", "flooding", "water scarcity",
    "unemployment", "price hikes", "road closures", "medicine shortages",
    "delays at the border", "currency swings", "crop failures", "heavy snowfall",
    "overcrowded clinics", "unpaid wages", "air pollution", "bread prices", "internet outages",
)  # fmt: skip
EVENTS = (
    "talks", "summit", "meeting", "conference", "hearing", "visit", "negotiations",
    "forum", "session", "round of consultations",
)  # fmt: skip
TAILS = (
    "before the end of {month}", "within {small} weeks", "despite pressure from {country2}",
    "in cooperation with {org}", "as early as next {weekday}", "if talks in {city2} fail",
    "under the terms agreed in {month}", "without waiting for {org}",
    "for the first time since {year}", "at a cost of {money}", "to ease {issue} in {city}",
    "once {group} in {city} are consulted", "after a review by {org}",
    "regardless of objections from {country2}", "over the coming {small} months",
)  # fmt: skip
ABSTRACTS = (
    "sovereignty", "austerity", "deterrence", "dependence", "resilience", "accountability",
    "memory", "neutrality", "solidarity", "credibility",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
SMALL = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve")
UNITS = ("kilometres", "households", "villages", "schools", "tonnes", "hectares", "clinics")
PHOTO_CREDITS = ("(Photo by Press TV)", "(File photo)", "(Photo via social media)", "(Handout)")

SENTENCES = (
    "{Actor} said on {weekday} that {claim}.",
    "Speaking to reporters in {city}, {actor} said {claim}.",
    "According to {source}, {claim}.",
    "“{Quote},” {actor} said.",
    "“{Quote},” {actor} told {outlet}, adding that {claim}.",
    "{Actor} {vpast} the {noun}, saying {claim}.",
    "The {event} in {city} came {small} days after {group} in {city2} protested over {issue}.",
    "{Number} {group} have been affected by {issue} since {month}, {source} said.",
    "Officials in {city} put the cost of the {noun} at about {money}.",
    "The {noun} was first proposed in {year} but stalled amid {issue} and a row with {country2}.",
    "{Org} {vpast} the move, warning that {claim}.",
    "Critics say {claim}.",
    "{Country2} has not publicly commented on the {anynoun}.",
    "Figures from {org} show a rise of {pct} in {issue} compared with {month} last year.",
    "Analysts in {city} said {claim}, pointing to {issue} as a factor.",
    "{Actor} is due to meet {actor2} in {city2} next {weekday} to discuss the {noun}.",
    "In a statement, {org} said {claim}.",
    "{Group} in {city} told {outlet} that {issue} had worsened over {small} months.",
    "The {noun} covers {number} {units} and could cost {money} over {small} years.",
    "Earlier this month, {actor} {vpast} a similar proposal by {org}.",
    "{Actor2} rejected the criticism, saying {claim}.",
    "It was unclear whether {claim}.",
    "The {event} ended late on {weekday} with no joint statement on the {anynoun}.",
    "{Actor} also urged {country2} to {verb} the {adj} {anynoun}.",
    "Some {number} {group} marched through {city} on {weekday}, blaming {issue} on {subject}.",
    "{Subject} {vpast} the {adj} {anynoun} in {month}, {source} reported.",
)  # fmt: skip
QUOTES = (
    "We {wemodal} {verb} the {noun} {tail}",
    "Nobody in {city} believes {submodal} {verb} the {anynoun}",
    "The {noun} is not a favour to {country2}, it is our right",
    "Our position on the {anynoun} has not changed since {month}",
    "{Group} in {city} deserve answers about {issue}",
    "Every delay to the {anynoun} hurts {group} in {city}",
)  # fmt: skip
TITLES = (
    "{Country} to {verb} {adj} {noun}, {role_short} says",
    "{Org_short} warns {issue} could spread beyond {city}",
    "Thousands rally in {city} over {adj} {noun}",
    "{Surname}: {Country} will not {verb} {noun} under pressure",
    "{Country} and {country2} agree to {verb} {noun}",
    "Report: {number} {group} hit by {issue} in {city}",
    "No deal on {noun} at {city} {event}",
    "{Role} {surname} visits {city} amid row over {noun}",
    "{Group} in {city} protest {issue} as {noun} stalls",
    "{Country} unveils {adj} {noun} worth {money}",
)  # fmt: skip
OPINION_TITLES = (
    "Why the {adj} {noun} will not fix {issue}",
    "The {noun} and the politics of {abstract}",
    "What the {event} in {city} tells us about {abstract}",
    "{Country}’s {noun} is a test of {abstract}",
)  # fmt: skip
CAPTIONS = (
    "{Actor} speaks to reporters in {city} on {weekday}. {credit}",
    "A view of {city} on {weekday}, {month} {day}. {credit}",
    "{Group} gather in central {city}. {credit}",
    "Officials inspect the site of the {noun} near {city}. {credit}",
)  # fmt: skip
UPDATES = (
    "Update: {org} said late on {weekday} that {claim}.",
    "This story has been updated to include a statement from {org}, which said {claim}.",
    "Update: {actor2} later said {claim}.",
)  # fmt: skip
_SLOT_RE = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    role: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def slugify(title: str) -> str:
    """Press TV style: words joined by '-', case kept, apostrophes and punctuation dropped."""
    text = re.sub(r"[’'‘]", "", title)
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def distinct(rng: random.Random, items: Sequence[T], count: int) -> list[T]:
    """`count` different items in drawn order (Random.sample is slow on short lists)."""
    pool = list(items)
    return [pool.pop(int(rng.random() * len(pool))) for _ in range(min(count, len(pool)))]


@functools.cache
def _compile(template: str) -> tuple[tuple[str, str, bool], ...]:
    """(text before, slot name, capitalise?) triples; the last has no slot."""
    parts = []
    position = 0
    for match in _SLOT_RE.finditer(template):
        name = match.group(1)
        parts.append((template[position : match.start()], name.lower(), name[0].isupper()))
        position = match.end()
    parts.append((template[position:], "", False))
    return tuple(parts)


class StoryWriter:
    """Writes one story about one main subject (`noun`) in one region, from its own random stream."""

    def __init__(self, rng: random.Random, countries: Sequence[str], cities: Sequence[str]) -> None:
        self.rng = rng
        self.country = self.pick(countries)
        self.cities = tuple(distinct(rng, cities, 3))
        self.noun = self.pick(NOUNS)
        self.adj = self.pick(ADJECTIVES)
        self.event = self.pick(EVENTS)
        self.people = self._cast(3)
        self.org_name = self.org()
        self._mentioned: set[str] = set()

    def pick(self, items: Sequence[T]) -> T:
        # Twice as fast as Random.choice, which matters for thousands of stories.
        return items[int(self.rng.random() * len(items))]

    # --- public ------------------------------------------------------------------------

    def title(self, opinion: bool = False) -> str:
        return capitalise(self.fill(self.pick(OPINION_TITLES if opinion else TITLES)))

    def paragraphs(self, count: int) -> list[str]:
        """A lead naming the main subject, then paragraphs of one to three sentences."""
        lead = (
            f"{capitalise(self.mention(self.people[0]))} has said {self.country} "
            f"{self.pick(MODALS)[0]} {self.pick(VERBS)} the {self.adj} {self.noun} "
            f"{self.fill(self.pick(TAILS))}, as {self.pick(GROUPS)} in "
            f"{self.cities[0]} {self.pick(('voiced', 'raised', 'aired'))} concerns "
            f"about {self.pick(ISSUES)}."
        )
        return [lead] + [self.paragraph() for _ in range(count - 1)]

    def paragraph(self) -> str:
        count = self.pick((1, 2, 2, 3))
        return " ".join(capitalise(self.fill(self.pick(SENTENCES))) for _ in range(count))

    def update(self) -> str:
        return self.fill(self.pick(UPDATES))

    def caption(self) -> str:
        return self.fill(self.pick(CAPTIONS))

    def author(self) -> str:
        return f"{self.pick(FIRST_NAMES)} {self.pick(LAST_NAMES)}"

    def tags(self) -> list[str]:
        return [self.country, capitalise(self.noun)]

    # --- parts of sentences (used by SLOTS) ------------------------------------------------

    def _cast(self, count: int) -> list[Person]:
        people: list[Person] = []
        while len(people) < count:
            person = Person(self.pick(FIRST_NAMES), self.pick(LAST_NAMES), self.pick(ROLES))
            if all(p.last != person.last for p in people):
                people.append(person)
        return people

    def org(self) -> str:
        return f"the {self.pick(ORG_PREFIXES)} {self.pick(ORG_KINDS)}"

    def mention(self, person: Person) -> str:
        # Full role and name the first time, the surname after that, as news copy does.
        if person.last in self._mentioned:
            return person.last
        self._mentioned.add(person.last)
        return f"{person.role} {person.full}"

    def subject_modal(self) -> str:
        subject, plural = self.pick(SUBJECTS)
        return f"{subject} {self.pick(MODALS)[plural]}"

    def claim(self) -> str:
        noun = self.noun if self.rng.random() < 0.4 else self.pick(NOUNS)
        tail = self.fill(self.pick(TAILS))
        return (
            f"{self.subject_modal()} {self.pick(VERBS)} the {self.pick(ADJECTIVES)} {noun} {tail}"
        )

    def source(self) -> str:
        kind = self.rng.randrange(4)
        if kind == 0:
            return f"a statement from {self.org()}"
        if kind == 1:
            return f"figures released by {self.org()}"
        if kind == 2:
            return "a senior official who spoke on condition of anonymity"
        return f"local media in {self.pick(self.cities)}"

    def money(self) -> str:
        amount = f"{self.rng.randint(1, 19)}.{self.rng.randint(1, 9)}"
        return f"{self.pick(('$', '€', '£'))}{amount} {self.pick(('million', 'billion'))}"

    def fill(self, template: str) -> str:
        out = []
        for text, name, upper in _compile(template):
            out.append(text)
            if name:
                value = SLOTS[name](self)
                out.append(capitalise(value) if upper else value)
        return "".join(out)


def _chance(w: StoryWriter, p: float, mine: str, other: Sequence[str]) -> str:
    return mine if w.rng.random() < p else w.pick(other)


# What each {slot} of a template becomes; "main" values keep a story about one subject.
SLOTS: dict[str, Callable[[StoryWriter], str]] = {
    "actor": lambda w: w.mention(w.people[0]),
    "actor2": lambda w: w.mention(w.pick(w.people[1:])),
    "surname": lambda w: w.people[0].last,
    "role": lambda w: w.people[0].role,
    "role_short": lambda w: w.pick(ROLE_SHORT),
    "claim": lambda w: w.claim(),
    "quote": lambda w: w.fill(w.pick(QUOTES)),
    "city": lambda w: w.pick(w.cities),
    "city2": lambda w: w.pick(w.cities),
    "country": lambda w: w.country,
    "country2": lambda w: w.pick(COUNTRIES),
    "org": lambda w: w.org_name if w.rng.random() < 0.6 else w.org(),
    "org_short": lambda w: w.org_name,
    "source": lambda w: w.source(),
    "outlet": lambda w: w.pick(OUTLETS),
    "subject": lambda w: w.pick(SUBJECTS)[0],
    "submodal": lambda w: w.subject_modal(),
    "wemodal": lambda w: w.pick(MODALS)[1],
    "verb": lambda w: w.pick(VERBS),
    "vpast": lambda w: w.pick(VERBS_PAST),
    "adj": lambda w: _chance(w, 0.5, w.adj, ADJECTIVES),
    "noun": lambda w: w.noun,
    "anynoun": lambda w: _chance(w, 0.3, w.noun, NOUNS),
    "group": lambda w: w.pick(GROUPS),
    "issue": lambda w: w.pick(ISSUES),
    "event": lambda w: w.event,
    "tail": lambda w: w.fill(w.pick(TAILS)),
    "weekday": lambda w: w.pick(WEEKDAYS),
    "month": lambda w: w.pick(MONTHS),
    "day": lambda w: str(w.rng.randint(1, 28)),
    "year": lambda w: str(w.rng.randint(2004, 2024)),
    "small": lambda w: w.pick(SMALL),
    "number": lambda w: f"{w.rng.randint(120, 98000):,}",
    "pct": lambda w: f"{w.rng.randint(3, 64)}.{w.rng.randint(0, 9)} percent",
    "money": lambda w: w.money(),
    "units": lambda w: w.pick(UNITS),
    "abstract": lambda w: w.pick(ABSTRACTS),
    "credit": lambda w: w.pick(PHOTO_CREDITS),
}
