"""Write ``resources/sample_reviews.csv``: a small, hand-written review set for demos and tests.

The texts come from phrase lists written for this project, combined with a fixed seed so the
file is reproducible: ``python tools/make_sample_reviews.py``. Each of the four domains (hotel,
product, film, app) gets 24 reviews per star rating, 480 in all. One and two stars read
negative, three mixed or neutral, four and five positive, with a shared sentiment vocabulary
so that a tiny model can learn the binary split quickly.

Clauses are written as ``"topic|text"``; the topic keeps one review from praising and
criticising the same thing ("the room was spotless, but the room was dirty").
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

SEED = 20261126
PER_CELL = 24  # reviews per (domain, stars)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "resources" / "sample_reviews.csv"

# ---------------------------------------------------------------- domain phrase lists
# pos: praise for 4-5 stars; strong_pos: 5 stars only; neg: complaints for 1-2 stars;
# strong_neg: 1 star only; mild_neg: small caveats (4 stars, mixed 3 stars);
# mild_pos: faint praise (2 stars, mixed 3 stars); context: a neutral opening sentence.
DOMAINS: dict[str, dict[str, list[str]]] = {
    "hotel": {
        "context": [
            "Stayed two nights for a conference.",
            "We stayed here for a long weekend.",
            "Booked this for a family trip with two kids.",
            "Stayed one night on the way to the coast.",
            "We came here for our anniversary.",
            "Spent a week here on business.",
            "Stayed here after a late flight.",
            "Booked last minute for a wedding nearby.",
        ],
        "pos": [
            "staff|the staff were friendly and genuinely helpful",
            "room|the room was spotless and the bed was really comfortable",
            "breakfast|breakfast was great, with fresh fruit and good coffee",
            "location|the location is perfect, a short walk from the old town",
            "checkin|check-in took two minutes and the receptionist was lovely",
            "bathroom|the bathroom was clean and the shower was great",
            "noise|it was quiet at night, so we slept really well",
            "view|the view from our balcony was beautiful",
            "pool|the pool was clean and never crowded",
            "cleaning|housekeeping did a great job every day",
            "wifi|the wifi was fast and worked everywhere",
            "food|the restaurant downstairs served excellent food",
            "staff|the staff remembered our names by the second day",
            "checkin|they let us check in early at no extra cost",
            "room|the room was bigger than the photos suggested",
            "price|it is good value for this part of the city",
        ],
        "strong_pos": [
            "overall|honestly the best hotel we have stayed in for years",
            "overall|everything was perfect from arrival to checkout",
            "staff|the staff went above and beyond for my mother's birthday",
            "room|the room was beautiful and spotlessly clean",
        ],
        "neg": [
            "room|the room was dirty and the sheets had stains",
            "staff|the staff at reception were rude and unhelpful",
            "noise|the walls are thin and we could hear everything next door",
            "breakfast|breakfast was cold and the coffee was awful",
            "aircon|the air conditioning was broken and nobody came to fix it",
            "bathroom|the bathroom smelled of damp",
            "wifi|the wifi kept dropping and was useless for work",
            "checkin|we waited forty minutes to check in",
            "bed|the bed was hard and the pillows were flat",
            "cleaning|housekeeping paid no attention to cleaning, there was dust everywhere",
            "photos|the photos online are very misleading",
            "room|the carpet was stained and the room felt tired",
            "noise|street noise kept us awake until 3am",
            "bathroom|the shower was lukewarm at best",
            "price|they charged us for a minibar we never touched",
            "price|it is overpriced for what you get",
        ],
        "strong_neg": [
            "room|we found hair in the bed and a cockroach in the bathroom",
            "staff|the manager was rude and refused to give us a refund",
            "overall|it is the worst hotel I have ever stayed in",
            "room|the room was filthy, simply filthy",
        ],
        "mild_neg": [
            "breakfast|the breakfast was a bit repetitive",
            "parking|parking was expensive",
            "lift|the lift was slow",
            "room|the room was on the small side",
            "wifi|the wifi was a little patchy in our room",
            "decor|the decor is slightly dated",
            "bed|the pillows were a bit too soft for me",
        ],
        "mild_pos": [
            "location|the location was convenient",
            "staff|the staff were polite enough",
            "bed|the bed was comfortable",
            "breakfast|breakfast was fine",
            "price|the price was reasonable",
        ],
        "verdict1": ["Avoid this hotel.", "We will never stay here again."],
        "verdict5": ["We will definitely be back.", "Can't wait to stay here again."],
    },
    "product": {
        "context": [
            "Bought this as a present for my dad.",
            "Needed one for a trip.",
            "Ordered this to replace my old one.",
            "Picked it up in a sale.",
            "Bought two of these for the office.",
            "Got this after reading a lot of reviews.",
            "Ordered it for my new flat.",
            "Bought this on a whim.",
        ],
        "pos": [
            "works|it works exactly as described",
            "build|the build quality is excellent and it feels solid",
            "battery|the battery lasts for days",
            "delivery|delivery was fast and it arrived well packaged",
            "setup|setup took five minutes",
            "use|it is quiet, light and easy to clean",
            "service|customer service answered my question within an hour",
            "looks|it looks even better than in the photos",
            "manual|the instructions were clear and simple",
            "works|it does the job perfectly",
            "durable|it still works like new after months of daily use",
            "price|it is great value for the price",
            "build|it feels much more expensive than it is",
        ],
        "strong_pos": [
            "overall|it is easily the best purchase I have made this year",
            "overall|I love it and use it every single day",
            "overall|it is brilliant, I already ordered a second one",
        ],
        "neg": [
            "works|it stopped working after two weeks",
            "delivery|it arrived broken and the box was crushed",
            "build|the plastic feels cheap and flimsy",
            "battery|the battery barely lasts a day",
            "manual|the instructions were useless",
            "noise|it is much louder than advertised",
            "looks|it looks nothing like the photos",
            "service|customer service never replied to my emails",
            "build|one of the buttons broke on the first day",
            "heat|it overheats after ten minutes",
            "works|the charger stopped working within a week",
            "size|it is too small and awkward to hold",
            "noise|it started rattling after a week",
        ],
        "strong_neg": [
            "overall|it is a complete waste of money",
            "works|it broke the first time I used it and the refund took a month",
            "overall|it is the worst thing I have ever bought online",
            "build|it is cheap junk that fell apart in days",
        ],
        "mild_neg": [
            "cable|the cable is a bit short",
            "weight|it is slightly heavier than I expected",
            "looks|the colour is a little different from the photo",
            "packaging|the packaging was excessive",
            "noise|it is a bit noisy on the highest setting",
            "delivery|delivery took a few days longer than promised",
        ],
        "mild_pos": [
            "works|it does work",
            "looks|the design is nice",
            "delivery|delivery was quick",
            "price|the price was low",
            "use|it is easy enough to use",
        ],
        "verdict1": ["Returned it the next day.", "I have asked for a refund."],
        "verdict5": ["Would buy again without thinking.", "Worth every penny.", "Love it!"],
    },
    "film": {
        "context": [
            "Watched it with friends last night.",
            "Saw this at the cinema on opening weekend.",
            "Streamed it on a rainy Sunday.",
            "Went in knowing nothing about it.",
            "My partner picked this one for movie night.",
            "I watched this movie because of the trailer.",
            "Caught this film on a long flight.",
            "Took my teenage kids to see it.",
        ],
        "pos": [
            "acting|the acting is superb, especially the lead",
            "plot|the plot kept me guessing until the very end",
            "music|the soundtrack is beautiful",
            "visuals|the visuals are stunning",
            "dialogue|the dialogue is sharp and genuinely funny",
            "pacing|the pacing is perfect and it never drags",
            "ending|the ending was moving and well earned",
            "cast|the whole cast has great chemistry",
            "plot|the story is clever without being confusing",
            "humour|I laughed out loud several times",
            "characters|the characters feel real",
            "visuals|the cinematography is gorgeous",
        ],
        "strong_pos": [
            "overall|it is a brilliant film and an instant favourite",
            "overall|it is one of the best movies I have seen in years",
            "ending|it is a masterpiece, I was in tears at the end",
        ],
        "neg": [
            "plot|the plot makes no sense",
            "acting|the acting is wooden and the dialogue is awful",
            "pacing|it is boring and far too long",
            "ending|the ending was rushed and lazy",
            "humour|the jokes fall flat",
            "pacing|nothing happens for the first hour",
            "characters|the characters are flat and I did not care about any of them",
            "plot|the twist was obvious from the first scene",
            "music|the music is loud and annoying",
            "visuals|the special effects look cheap",
        ],
        "strong_neg": [
            "overall|it is a dull, predictable mess",
            "overall|it is the worst film I have seen this year",
            "overall|it is a total waste of two hours",
            "overall|I walked out halfway through",
            "pacing|it is painfully boring from start to finish",
        ],
        "mild_neg": [
            "pacing|the middle section drags a little",
            "pacing|it runs about twenty minutes too long",
            "plot|a couple of scenes felt unnecessary",
            "characters|the villain is a bit underwritten",
            "ending|the ending is slightly predictable",
        ],
        "mild_pos": [
            "visuals|the visuals are nice",
            "acting|the lead actor does his best",
            "music|the soundtrack is decent",
            "plot|the first half is promising",
            "humour|there are a few funny moments",
        ],
        "verdict1": ["Don't waste your evening on it.", "Skip this one."],
        "verdict5": ["Go and see it.", "I will be watching it again."],
    },
    "app": {
        "context": [
            "Been using this app for about three months.",
            "Downloaded it after a friend recommended it.",
            "I use this app every day on my phone.",
            "Installed it on my tablet and my phone.",
            "I switched to this from another budgeting app.",
            "Tried the free version first, then paid.",
            "Using it to keep track of my workouts.",
            "Downloaded this to organise my shopping lists.",
        ],
        "pos": [
            "ui|the interface is clean and easy to use",
            "sync|it syncs perfectly between my phone and laptop",
            "crash|it has never crashed once",
            "update|the latest update made it even faster",
            "ads|there are no annoying ads",
            "support|support replied within a day and fixed my problem",
            "notify|the notifications are useful without being spammy",
            "offline|it works offline, which is great when travelling",
            "battery|it is fast and barely uses any battery",
            "setup|setting it up took less than a minute",
            "ui|the dark mode looks great",
            "price|the subscription is worth every penny",
        ],
        "strong_pos": [
            "overall|it is the best app I have on my phone",
            "overall|I love this app and recommend it to everyone",
            "overall|it is brilliant and has completely changed how I plan my week",
        ],
        "neg": [
            "crash|it crashes every time I open the settings",
            "ads|there are ads after every single tap",
            "update|the latest update broke the login",
            "battery|it drains my battery in a few hours",
            "sync|sync is broken and I lost a week of entries",
            "ui|the interface is confusing and cluttered",
            "support|support never answered my messages",
            "price|it keeps asking me to pay for basic features",
            "crash|it is slow and freezes constantly",
            "notify|notifications arrive hours late",
            "update|I cannot log in since the last update",
            "price|the subscription is overpriced for what it does",
        ],
        "strong_neg": [
            "sync|it is a total waste of money, it lost all my data",
            "overall|it is the worst app I have ever downloaded",
            "update|it is completely broken after the update and the developers do not care",
        ],
        "mild_neg": [
            "ui|the settings menu is a bit hard to find",
            "speed|it takes a second or two to load",
            "widget|the widget is quite basic",
            "crash|there are occasional small bugs",
            "price|a few features are hidden behind the subscription",
        ],
        "mild_pos": [
            "ui|the design looks nice",
            "idea|the idea is good",
            "price|the free version is usable",
            "setup|it installs quickly",
            "works|it works some of the time",
        ],
        "verdict1": ["Uninstalled.", "Deleted it the same day."],
        "verdict5": ["Five stars from me.", "Can't imagine my phone without it.", "Love it!"],
    },
}

# Closing sentences shared by every domain, by star rating.
VERDICTS: dict[int, list[str]] = {
    1: [
        "Avoid.",
        "Terrible experience.",
        "I wouldn't recommend it to anyone.",
        "Never again.",
        "Absolutely awful.",
        "Save your money.",
        "Don't bother.",
        "Zero stars if I could.",
        "Really disappointed.",
    ],
    2: [
        "Disappointing.",
        "Not great.",
        "I expected a lot more.",
        "I wouldn't recommend it.",
        "Not worth the price.",
        "Pretty poor overall.",
        "I would not choose it again.",
        "A bit of a letdown.",
    ],
    3: [
        "It was okay.",
        "Average overall.",
        "Nothing special, but nothing terrible either.",
        "Fine, but not memorable.",
        "Decent, with some issues.",
        "Mixed feelings.",
        "It does the job, just about.",
        "Not bad, not great.",
        "Three stars feels fair.",
    ],
    4: [
        "Would recommend.",
        "Very good overall.",
        "Pretty happy with it.",
        "Good, with a couple of small issues.",
        "Not bad at all.",
        "Really good.",
        "I'd happily recommend it.",
        "No real complaints.",
    ],
    5: [
        "Absolutely loved it.",
        "Highly recommend!",
        "Perfect.",
        "Brilliant, no complaints at all.",
        "Five stars, well deserved.",
        "Could not be happier.",
        "Excellent in every way.",
        "Wonderful.",
    ],
}

# Hand-written whole reviews (negation, sarcasm, mixed), always included.
SPECIALS: dict[tuple[str, int], list[str]] = {
    ("hotel", 1): [
        (
            "Loved waiting forty minutes to check in while the receptionist chatted on her phone. "
            "Truly five-star service. Never again."
        ),
        (
            "Housekeeping paid no attention to cleaning the whole week. The bathroom was filthy "
            "and the staff were rude when we complained."
        ),
        (
            "I wouldn't recommend this place to my worst enemy. Dirty room, broken lift, awful "
            "breakfast."
        ),
    ],
    ("hotel", 2): [
        (
            "Not the worst hotel, but not good either. The room was tired and the wifi kept "
            "dropping."
        ),
        "The photos must have been taken years ago. Dated, noisy and overpriced.",
    ],
    ("hotel", 3): [
        (
            "Clean room and a great location, but the staff seemed bored and breakfast was poor. "
            "Fine for one night."
        ),
        "It was okay. Nothing to complain about, nothing to rave about.",
    ],
    ("hotel", 4): [
        (
            "Not bad at all for the price. Clean, quiet and friendly staff, though the breakfast "
            "was a bit basic."
        ),
        ("No complaints about the room or the staff. Parking was expensive, otherwise very good."),
    ],
    ("hotel", 5): [
        (
            "No complaints whatsoever. Spotless room, friendly staff and the best breakfast we've "
            "had in a hotel."
        ),
        (
            "We could not have asked for more. The staff were wonderful with our kids. We will "
            "definitely be back!"
        ),
    ],
    ("product", 1): [
        "Oh great, it broke on day two. Exactly what I wanted for my money. Avoid.",
        "Don't waste your money. It arrived broken and customer service never replied.",
        (
            "I wouldn't recommend this to anyone. Cheap plastic, and the charger stopped working "
            "within a week."
        ),
    ],
    ("product", 2): [
        "It works, sort of, but not well enough to justify the price. Disappointing.",
        "Not as described. Smaller than expected and the lid doesn't close properly.",
    ],
    ("product", 3): [
        (
            "Does what it says, nothing more. The build feels a bit cheap, but for the price "
            "it's fine."
        ),
        "Works well most of the time, but the battery life is not great. Average.",
    ],
    ("product", 4): [
        "Not bad at all. Solid, easy to use and good value, though the cable is a bit short.",
        (
            "Really happy with it so far. It does the job and there have been no problems after "
            "a month."
        ),
    ],
    ("product", 5): [
        "Brilliant little gadget. I love it and have no complaints at all after six months.",
        ("Works perfectly, looks great and arrived a day early. Would buy again without thinking."),
    ],
    ("film", 1): [
        (
            "If you enjoy watching paint dry, this is the film for you. Two hours I will never "
            "get back."
        ),
        ("I wouldn't recommend this to anyone. Boring, badly acted, and the ending made no sense."),
        "Wow, what a gripping story. I only checked my phone about forty times. Awful.",
    ],
    ("film", 2): [
        (
            "Not terrible, but I was bored for most of it. The jokes fall flat and it's far too "
            "long."
        ),
        ("Great trailer, disappointing film. The plot is thin and the characters are forgettable."),
    ],
    ("film", 3): [
        "The acting is good, but the story never really goes anywhere. Watchable once.",
        "Some brilliant scenes, some boring ones. It was fine for a Sunday afternoon.",
    ],
    ("film", 4): [
        (
            "Not bad at all. Funny, warm and well acted, even if the ending was a little "
            "predictable."
        ),
        "I didn't expect much, but I really enjoyed it. Great cast.",
    ],
    ("film", 5): [
        "I couldn't take my eyes off the screen. A brilliant film, I loved every minute.",
        (
            "Not a single boring moment. The acting, the music and the story are all wonderful. "
            "Go and see it."
        ),
    ],
    ("app", 1): [
        (
            "Great, another update that breaks everything. Can't log in, can't sync, can't reach "
            "support. Uninstalled."
        ),
        "I wouldn't recommend this app. Ads everywhere and it crashes constantly.",
        "It does nothing it promises except drain my battery. Total waste of money.",
    ],
    ("app", 2): [
        "Used to be good, but the last update ruined it. Slow and full of ads now.",
        "Not worth the subscription. Too many bugs and support is slow to reply.",
    ],
    ("app", 3): [
        ("Useful features, but the interface is cluttered and it crashes now and then. It's okay."),
        "It does the job. Nothing special, and the free version has a lot of ads.",
    ],
    ("app", 4): [
        "Not bad at all. Clean design and reliable sync, I just wish the widget were better.",
        "Very useful app with no ads. A few minor bugs, but support is quick to respond.",
    ],
    ("app", 5): [
        "Never crashed once in a year. Clean, fast and no ads. I love it.",
        "No complaints at all. The best habit tracker I have tried, and worth every penny.",
    ],
}


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _split(clause: str) -> tuple[str, str]:
    topic, _, text = clause.partition("|")
    return topic, text


class Deck:
    """Draws phrases evenly: every phrase is used once before any is used again."""

    def __init__(self, items: list[str], rng: random.Random) -> None:
        self.items = list(items)
        self.rng = rng
        self.pile: list[str] = []

    def draw(self, avoid_topics: set[str] = frozenset()) -> str:
        for _ in range(2 * len(self.items) + 2):
            if not self.pile:
                self.pile = self.items[:]
                self.rng.shuffle(self.pile)
            item = self.pile.pop()
            if _split(item)[0] not in avoid_topics:
                return item
        raise ValueError("no phrase left outside the avoided topics")


class Writer:
    """Builds reviews for one domain from its phrase decks."""

    def __init__(self, domain: str, rng: random.Random) -> None:
        self.rng = rng
        lists = DOMAINS[domain]
        self.decks = {key: Deck(value, rng) for key, value in lists.items()}
        self.decks["strong_pos_any"] = Deck(lists["pos"] + lists["strong_pos"], rng)
        self.decks["strong_neg_any"] = Deck(lists["neg"] + lists["strong_neg"], rng)
        for stars, shared in VERDICTS.items():
            extra = lists.get(f"verdict{stars}", [])
            self.decks[f"v{stars}"] = Deck(shared + extra, rng)

    def clause(self, kind: str, used: set[str]) -> str:
        topic, text = _split(self.decks[kind].draw(used))
        used.add(topic)
        return text

    def body(self, stars: int) -> list[str]:
        """One or two sentences whose sentiment fits ``stars``."""
        r = self.rng.random()
        used: set[str] = set()
        c = self.clause
        if stars == 1:
            first = c("strong_neg_any", used)
            if r < 0.4:
                return [_cap(first) + "."]
            if r < 0.7:
                return [f"{_cap(first)}, and {c('neg', used)}."]
            return [_cap(first) + ".", _cap(c("strong_neg_any", used)) + "."]
        if stars == 2:
            if r < 0.35:
                return [f"{_cap(c('mild_pos', used))}, but {c('neg', used)}."]
            if r < 0.6:
                return [_cap(c("neg", used)) + "."]
            if r < 0.8:
                return [f"{_cap(c('neg', used))}, and {c('neg', used)}."]
            return [f"{_cap(c('neg', used))}, although {c('mild_pos', used)}."]
        if stars == 3:
            if r < 0.25:
                return [f"{_cap(c('pos', used))}, but {c('neg', used)}."]
            if r < 0.5:
                return [f"{_cap(c('neg', used))}, but {c('pos', used)}."]
            if r < 0.7:
                return [_cap(c("pos", used)) + ".", f"On the other hand, {c('neg', used)}."]
            if r < 0.85:
                return [f"{_cap(c('mild_pos', used))}, although {c('mild_neg', used)}."]
            return [f"{_cap(c('pos', used))}, but {c('mild_neg', used)}."]
        if stars == 4:
            first = c("pos", used)
            if r < 0.3:
                return [f"{_cap(first)}, although {c('mild_neg', used)}."]
            if r < 0.55:
                return [_cap(first) + ".", f"The only downside is that {c('mild_neg', used)}."]
            if r < 0.8:
                return [f"{_cap(first)}, and {c('pos', used)}."]
            return [_cap(first) + "."]
        first = c("strong_pos_any", used)
        if r < 0.35:
            return [f"{_cap(first)}, and {c('pos', used)}."]
        if r < 0.65:
            return [_cap(first) + ".", _cap(c("strong_pos_any", used)) + "."]
        return [_cap(first) + "."]

    def review(self, stars: int) -> str:
        """Body, then a closing verdict (always for 1, 3 and 5 stars), then maybe a context."""
        sentences = self.body(stars)
        if stars in (1, 3, 5) or len(sentences) == 1 or self.rng.random() < 0.5:
            sentences.append(self.decks[f"v{stars}"].draw())
        if len(sentences) < 3 and self.rng.random() < 0.4:
            sentences.insert(0, self.decks["context"].draw())
        return " ".join(sentences)


def generate(seed: int = SEED, per_cell: int = PER_CELL) -> list[tuple[str, int, str]]:
    """All reviews as ``(domain, stars, text)``, shuffled, with no repeated text."""
    rng = random.Random(seed)
    rows: list[tuple[str, int, str]] = []
    seen: set[str] = set()
    for domain in DOMAINS:
        writer = Writer(domain, rng)
        for stars in range(1, 6):
            texts = list(SPECIALS.get((domain, stars), []))[:per_cell]
            seen.update(texts)
            tries = 0
            while len(texts) < per_cell:
                tries += 1
                if tries > 10_000:
                    raise RuntimeError(f"cannot write {per_cell} distinct {domain} reviews")
                text = writer.review(stars)
                if text not in seen:
                    seen.add(text)
                    texts.append(text)
            rows.extend((domain, stars, text) for text in texts)
    rng.shuffle(rows)
    return rows


def write_csv(path: Path, rows: list[tuple[str, int, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "domain", "stars", "text"])
        for number, (domain, stars, text) in enumerate(rows, start=1):
            writer.writerow([number, domain, stars, text])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    rows = generate(args.seed)
    write_csv(args.out, rows)
    print(f"wrote {len(rows)} reviews to {args.out}")


if __name__ == "__main__":
    main()
