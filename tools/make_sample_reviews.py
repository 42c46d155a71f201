"""Write ``resources/sample_reviews.csv``: hand-written, made-up reviews for demos and tests.

``python tools/make_sample_reviews.py`` rebuilds the file from the phrase lists below with a
fixed seed (``--check`` also trains the demo model on it and prints what it gets right). The
four domains (hotel, product, film, app) get ``PER_CELL`` reviews per star rating. The set is
meant to be learnable but not trivial, like real reviews:

* the same nouns (room, staff, battery, plot, update...) appear at every rating, so a model
  has to read what is said about them, not which topic comes up;
* negation cuts both ways ("the room was not clean at all", "not bad at all", "I can't fault it");
* two-, three- and four-star reviews mix praise and complaints;
* a few reviews are sarcastic ("Oh great, it broke on day two. Just what I wanted.");
* some have typos, missing capitals or no closing verdict, and a few come without any
  sentiment word a bag-of-words could lean on.

Clauses are written as ``"topic|text"``; the topic keeps one review from praising and
criticising the same thing. No text is copied from any public data set.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

SEED = 20261130
PER_CELL = 60  # reviews per (domain, stars)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "resources" / "sample_reviews.csv"

# ---------------------------------------------------------------- domain phrase lists
# pos / neg: praise and complaints (4-5 and 1-2 stars, both in mixed 3 stars), negated
# forms included; strong_pos / strong_neg: for 5 and 1 stars; mild_pos / mild_neg: faint praise
# and small caveats; context: a neutral opening sentence that names the thing reviewed.
DOMAINS: dict[str, dict[str, list[str]]] = {
    "hotel": {
        "context": [
            "Stayed two nights at this hotel for a conference.",
            "We stayed here for a long weekend.",
            "Booked this hotel for a family trip with two kids.",
            "Stayed one night on the way to the coast.",
            "We came to this hotel for our anniversary.",
            "Spent a week here on business.",
            "Checked into the hotel after a late flight.",
            "Booked a double room last minute for a wedding nearby.",
            "Second time at this hotel.",
            "We picked this hotel for the location.",
        ],
        "pos": [
            "staff|the staff were friendly and genuinely helpful",
            "staff|the staff were lovely",
            "staff|nothing was too much trouble for the staff",
            "room|the room was spotless",
            "room|our room was clean, bright and quiet",
            "room|the hotel room was bigger than the photos suggested",
            "bed|the bed was really comfortable",
            "bed|I slept better than I do at home",
            "breakfast|breakfast was great, with fresh fruit and good coffee",
            "breakfast|the breakfast buffet had something for everyone",
            "location|the location is perfect, a short walk from the old town",
            "location|the hotel is right next to the station, which made everything easy",
            "checkin|check-in took two minutes and the receptionist was lovely",
            "checkin|they let us check in early at no extra cost",
            "bathroom|the bathroom was spotless and the shower was hot",
            "noise|it was quiet at night, so we slept really well",
            "noise|we didn't hear a thing from the street",
            "view|the view from our balcony was beautiful",
            "pool|the pool was clean and never crowded",
            "cleaning|housekeeping did a great job every day",
            "wifi|the wifi was fast and worked everywhere",
            "wifi|I had no problems with the wifi",
            "food|the restaurant downstairs served excellent food",
            "price|it is good value for this part of the city",
        ],
        "strong_pos": [
            "overall|honestly the best hotel we have stayed in for years",
            "overall|everything was perfect from arrival to checkout",
            "staff|the staff went above and beyond for my mother's birthday",
            "room|the room was immaculate and beautifully decorated",
            "overall|I can't fault this hotel at all",
        ],
        "neg": [
            "room|the room was dirty and the sheets had stains",
            "room|the room was not clean at all when we arrived",
            "room|the hotel room smelled of smoke",
            "staff|the staff at reception were rude and unhelpful",
            "staff|the staff didn't seem to care at all",
            "noise|the walls are thin and we could hear everything next door",
            "noise|street noise kept us awake until 3am",
            "breakfast|breakfast was cold and the coffee was awful",
            "breakfast|breakfast was not worth the extra twenty euros",
            "aircon|the air conditioning was broken and nobody came to fix it",
            "bathroom|the bathroom smelled of damp",
            "bathroom|the shower was lukewarm at best",
            "wifi|the wifi kept dropping and was useless for work",
            "checkin|we waited forty minutes to check in",
            "bed|the bed was hard and the pillows were flat",
            "bed|the mattress sagged in the middle",
            "cleaning|nobody cleaned the room in three days",
            "photos|the photos online are very misleading",
            "price|they charged us for a minibar we never touched",
            "price|it is overpriced for what you get",
            "location|the location is not as central as they claim",
            "view|our view was of a car park",
        ],
        "strong_neg": [
            "room|we found hair in the bed and a cockroach in the bathroom",
            "staff|the manager was rude and refused to give us a refund",
            "overall|it is the worst hotel I have ever stayed in",
            "room|the room was filthy, simply filthy",
            "overall|I have never been so glad to check out of a hotel",
        ],
        "mild_neg": [
            "breakfast|the breakfast was a bit repetitive",
            "parking|parking was expensive",
            "lift|the lift was slow",
            "room|the room was on the small side",
            "wifi|the wifi was a little patchy in our room",
            "decor|the decor is slightly dated",
            "bed|the pillows were a bit too soft for me",
            "noise|we could hear the lift at night",
        ],
        "mild_pos": [
            "location|the location was convenient",
            "staff|the staff were polite enough",
            "bed|the bed was comfortable",
            "breakfast|breakfast was fine",
            "price|the price was reasonable",
            "room|the room was clean enough",
        ],
        "sarcasm": [
            "Loved the free alarm clock of the bin lorry at 5am.",
            "Great to see the towels from the last guests were still there for us.",
            "Wonderful hotel if you enjoy cold showers and rude staff.",
            "Five stars for the cockroach, who was the friendliest one there.",
            "What a nice surprise to find our room had been given away.",
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
            "This is my second one of these.",
            "Used it every day for a month now.",
        ],
        "pos": [
            "works|it works exactly as described",
            "works|it does the job perfectly",
            "build|the build quality is excellent and it feels solid",
            "build|it feels much more expensive than it is",
            "battery|the battery lasts for days",
            "battery|I only charge it once a week",
            "delivery|delivery was fast and it arrived well packaged",
            "setup|setup took five minutes",
            "use|it is quiet, light and easy to clean",
            "service|customer service answered my question within an hour",
            "looks|it looks even better than in the photos",
            "manual|the instructions were clear and simple",
            "durable|it still works like new after months of daily use",
            "durable|I have dropped it twice and it hasn't got a scratch",
            "price|it is great value for the price",
            "noise|it is so quiet I forget it is on",
            "size|it fits in my bag easily",
        ],
        "strong_pos": [
            "overall|it is easily the best purchase I have made this year",
            "overall|I love it and use it every single day",
            "overall|it is brilliant, I already ordered a second one",
            "overall|I can't recommend it enough",
        ],
        "neg": [
            "works|it stopped working after two weeks",
            "works|half the time it does not work at all",
            "delivery|it arrived broken and the box was crushed",
            "build|the plastic feels cheap and flimsy",
            "build|one of the buttons broke on the first day",
            "battery|the battery barely lasts a day",
            "battery|the battery won't hold a charge any more",
            "manual|the instructions were useless",
            "noise|it is much louder than advertised",
            "noise|it started rattling after a week",
            "looks|it looks nothing like the photos",
            "service|customer service never replied to my emails",
            "heat|it overheats after ten minutes",
            "charger|the charger stopped working within a week",
            "size|it is too small and awkward to hold",
            "price|it is not worth the money",
            "setup|it took an hour to set up and still doesn't connect",
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
        "sarcasm": [
            "Oh great, it broke on day two. Exactly what I wanted for my money.",
            "Fantastic, a charger that charges nothing.",
            "Brilliant design: the lid falls off if you look at it.",
            "Love how the battery lasts a whole twenty minutes.",
            "Top quality, if you like things that fall apart in the box.",
        ],
        "verdict1": ["Returned it the next day.", "I have asked for a refund."],
        "verdict5": ["Would buy again without thinking.", "Worth every penny.", "Love it!"],
    },
    "film": {
        "context": [
            "Watched this film with friends last night.",
            "Saw this at the cinema on opening weekend.",
            "Streamed it on a rainy Sunday.",
            "Went in knowing nothing about it.",
            "My partner picked this one for movie night.",
            "I watched this movie because of the trailer.",
            "Caught this film on a long flight.",
            "Took my teenage kids to see it.",
            "I read the book first.",
            "Finally got round to watching this.",
        ],
        "pos": [
            "acting|the acting is superb, especially the lead",
            "acting|the lead gives the performance of her career",
            "plot|the plot kept me guessing until the very end",
            "plot|the story is clever without being confusing",
            "music|the soundtrack is beautiful",
            "visuals|the visuals are stunning",
            "visuals|the cinematography is gorgeous",
            "dialogue|the dialogue is sharp and genuinely funny",
            "pacing|the pacing is perfect and it never drags",
            "pacing|two and a half hours flew by",
            "ending|the ending was moving and well earned",
            "cast|the whole cast has great chemistry",
            "humour|I laughed out loud several times",
            "characters|the characters feel real",
            "characters|I cared about every one of the characters",
            "effects|the effects are seamless",
        ],
        "strong_pos": [
            "overall|it is a brilliant film and an instant favourite",
            "overall|it is one of the best movies I have seen in years",
            "ending|it is a masterpiece, I was in tears at the end",
            "overall|I can't stop thinking about it",
        ],
        "neg": [
            "plot|the plot makes no sense",
            "plot|the twist was obvious from the first scene",
            "acting|the acting is wooden and the dialogue is awful",
            "acting|none of the actors seem to want to be there",
            "pacing|it is boring and far too long",
            "pacing|nothing happens for the first hour",
            "ending|the ending was rushed and lazy",
            "ending|the ending doesn't make any sense",
            "humour|the jokes fall flat",
            "characters|the characters are flat and I did not care about them at all",
            "music|the music is loud and annoying",
            "effects|the special effects look cheap",
            "dialogue|the dialogue is painful to listen to",
            "visuals|half the scenes are too dark to see anything",
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
        "sarcasm": [
            "If you enjoy watching paint dry, this is the film for you.",
            "What a gripping story. I only checked my phone about forty times.",
            "A real achievement: three hours and not one interesting scene.",
            "Great film if you need help falling asleep.",
            "Loved the plot twist I saw coming from the poster.",
        ],
        "verdict1": ["Don't waste your evening on it.", "Skip this one."],
        "verdict5": ["Go and see it.", "I will be watching it again."],
    },
    "app": {
        "context": [
            "Been using this app for about three months.",
            "Downloaded the app after a friend recommended it.",
            "I use this app every day on my phone.",
            "Installed it on my tablet and my phone.",
            "I switched to this from another budgeting app.",
            "Tried the free version first, then paid.",
            "Using it to keep track of my workouts.",
            "Downloaded this to organise my shopping lists.",
            "Updated to the new version last week.",
            "Our whole team uses this app.",
        ],
        "pos": [
            "ui|the interface is clean and easy to use",
            "ui|the dark mode looks great",
            "sync|it syncs perfectly between my phone and laptop",
            "crash|it has never crashed once",
            "crash|I haven't had a single crash",
            "update|the latest update made it even faster",
            "ads|there are no annoying ads",
            "support|support replied within a day and fixed my problem",
            "notify|the notifications are useful without being spammy",
            "offline|it works offline, which is great when travelling",
            "battery|it is fast and barely uses any battery",
            "setup|setting it up took less than a minute",
            "price|the subscription is worth every penny",
            "features|it has every feature I need and nothing I don't",
        ],
        "strong_pos": [
            "overall|it is the best app I have on my phone",
            "overall|I love this app and recommend it to everyone",
            "overall|it has completely changed how I plan my week",
            "overall|I honestly can't imagine going back to my old app",
        ],
        "neg": [
            "crash|it crashes every time I open the settings",
            "crash|it is slow and freezes constantly",
            "ads|there are ads after every single tap",
            "update|the latest update broke the login",
            "update|I cannot log in since the last update",
            "battery|it drains my battery in a few hours",
            "sync|sync is broken and I lost a week of entries",
            "sync|it doesn't sync between my devices at all",
            "ui|the interface is confusing and cluttered",
            "support|support never answered my messages",
            "price|it keeps asking me to pay for basic features",
            "price|the subscription is overpriced for what it does",
            "notify|notifications arrive hours late",
            "offline|it is useless without a signal",
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
        "sarcasm": [
            "Great, another update that breaks everything.",
            "Love paying monthly for an app that logs me out every day.",
            "Amazing how it finds a new way to crash every week.",
            "Wonderful battery saver: it drains the battery so I stop using my phone.",
            "Really impressive how it lost a year of my notes in one tap.",
        ],
        "verdict1": ["Uninstalled.", "Deleted it the same day."],
        "verdict5": ["Five stars from me.", "Can't imagine my phone without it.", "Love it!"],
    },
}

# Terse reviews are common: "Spotless room, lovely staff." Adjective-noun pairs per domain.
SHORT: dict[str, dict[str, list[str]]] = {
    "hotel": {
        "pos": ["spotless room", "lovely staff", "friendly staff", "comfortable bed",
                "great breakfast", "perfect location", "clean rooms", "helpful reception",
                "quiet room", "lovely hotel", "beautiful view", "excellent value"],
        "neg": ["dirty room", "rude staff", "noisy street", "cold breakfast", "hard bed",
                "broken air conditioning", "filthy bathroom", "unhelpful reception",
                "awful hotel", "terrible value", "stained sheets", "slow check-in"],
    },
    "product": {
        "pos": ["solid build", "great battery", "fast delivery", "easy setup", "perfect fit",
                "excellent quality", "lovely design", "great value", "quiet motor",
                "clear instructions"],
        "neg": ["cheap plastic", "poor battery", "late delivery", "useless instructions",
                "terrible quality", "broken on arrival", "awful design", "flimsy lid",
                "noisy motor", "no support"],
    },
    "film": {
        "pos": ["superb acting", "beautiful soundtrack", "clever plot", "stunning visuals",
                "great cast", "wonderful film", "perfect ending", "funny dialogue",
                "lovely story"],
        "neg": ["wooden acting", "boring plot", "awful dialogue", "cheap effects",
                "terrible film", "lazy ending", "flat characters", "annoying music",
                "dull story"],
    },
    "app": {
        "pos": ["clean interface", "fast sync", "no ads", "great support", "easy to use",
                "excellent app", "lovely design", "reliable updates", "quick setup"],
        "neg": ["constant crashes", "endless ads", "broken sync", "slow support",
                "confusing interface", "awful app", "buggy updates", "battery drain"],
    },
}

# Sentences whose sentiment hangs on a negation, shared by every domain.
NEGATED: dict[str, list[str]] = {
    "pos": [
        "Not bad at all.",
        "No complaints whatsoever.",
        "I couldn't fault it.",
        "Nothing to complain about.",
        "I was not disappointed.",
        "It never let me down.",
        "I honestly can't think of anything wrong with it.",
        "No regrets at all.",
    ],
    "neg": [
        "I would not recommend it.",
        "Not worth it.",
        "I can't say I enjoyed it.",
        "It was not what I hoped for.",
        "Nothing about it was good.",
        "I wouldn't go back.",
        "Not impressed at all.",
        "Never again, not even if it were free.",
    ],
}

# Openings that carry the opposite sentiment word from the review (hard for word counts).
TURNS: dict[str, list[str]] = {
    "neg": [  # a negative review that starts hopeful
        "I really wanted to love this, but",
        "The reviews were great, so I had high hopes, but",
        "I expected the best after all the praise, but",
        "On paper it looked perfect, but",
        "I tried hard to like it, but",
    ],
    "pos": [  # a positive review that starts worried
        "I was worried after reading some bad reviews, but",
        "I expected the worst, but",
        "I was sceptical at first, but",
        "My friends said it was awful, but",
        "I nearly didn't bother, but",
    ],
}

# Closing lines that follow a complaint in a sarcastic review.
SARCASTIC_CLOSERS = [
    "Just what I needed.",
    "Thanks a lot.",
    "Brilliant.",
    "Exactly what I paid for, I suppose.",
    "Great job, everyone.",
    "Well done.",
]

# Common misspellings, applied to some reviews; others get a random slip of the keyboard.
MISSPELLINGS = {
    "definitely": "definately", "really": "realy", "recommend": "reccomend",
    "comfortable": "confortable", "restaurant": "restaraunt", "received": "recieved",
    "disappointed": "dissapointed", "disappointing": "dissapointing", "the": "teh",
    "because": "becuase", "quiet": "quite", "their": "there", "waste": "waist",
    "terrible": "terible", "beautiful": "beatiful", "friendly": "freindly",
    "awful": "aweful", "excellent": "excelent", "brilliant": "brillant",
    "nothing": "nothign", "money": "mony", "wasn't": "wasnt", "didn't": "didnt",
    "doesn't": "doesnt", "can't": "cant", "won't": "wont", "I": "i",
}

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
        "Not good at all.",
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


AND_JOINS = ("{a}, and {b}.", "{a}. {B}.", "{a}. Also, {b}.", "{a}. On top of that, {b}.",
             "{a}, and {b} as well.")
# The clause after the join sets the tone ("nice room, but rude staff" is a complaint)...
LAST_WINS = ("{a}, but {b}.", "{a}. That said, {b}.", "{a}. Still, {b}.", "{a}. Even so, {b}.")
# ...or the one before it ("nice room, although the lift was slow" is praise).
FIRST_WINS = ("{a}, although {b}.", "{a}, even if {b}.", "{a}, though {b}.")
CAVEAT_JOINS = (*FIRST_WINS, "{a}. The only downside is that {b}.",
                "{a}. My one complaint is that {b}.")
BUT_JOINS = (*LAST_WINS, *FIRST_WINS, "{a}. On the other hand, {b}.")  # mixed reviews


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
        for kind in ("pos", "neg"):
            self.decks[f"negated_{kind}"] = Deck(NEGATED[kind], rng)
            self.decks[f"turn_{kind}"] = Deck(TURNS[kind], rng)
        self.decks["closer"] = Deck(SARCASTIC_CLOSERS, rng)
        for kind, pairs in SHORT[domain].items():
            self.decks[f"short_{kind}"] = Deck(pairs, rng)

    def short(self, kind: str) -> str:
        """A terse review: two or three adjective-noun pairs."""
        pairs: list[str] = []
        while len(pairs) < self.rng.choice((2, 2, 3)):
            pair = self.line(f"short_{kind}")
            if pair not in pairs:
                pairs.append(pair)
        return _cap(", ".join(pairs)) + self.rng.choice((".", ".", "!"))

    def clause(self, kind: str, used: set[str]) -> str:
        topic, text = _split(self.decks[kind].draw(used))
        used.add(topic)
        return text

    def line(self, kind: str) -> str:
        return self.decks[kind].draw()

    def join(self, joins: tuple[str, ...], a: str, b: str) -> str:
        return self.rng.choice(joins).format(a=_cap(a), b=b, B=_cap(b))

    def body(self, stars: int) -> list[str]:
        """One to three sentences whose sentiment fits ``stars`` (some only on a close read)."""
        r = self.rng.random()
        used: set[str] = set()
        c = self.clause
        short = self.rng.random() < 0.12
        if stars in (1, 2) and short:
            return [self.short("neg")]
        if stars in (4, 5) and short:
            return [self.short("pos")]
        if stars == 1:
            if r < 0.15:
                return [self.line("sarcasm")]
            if r < 0.3:
                return [f"Oh great, {c('neg', used)}.", self.line("closer")]
            if r < 0.45:
                return [self.join(LAST_WINS, c("pos", used), c("strong_neg_any", used))]
            first = c("strong_neg_any", used)
            if r < 0.6:
                return [_cap(first) + "."]
            if r < 0.8:
                return [self.join(AND_JOINS, first, c("neg", used))]
            return [_cap(first) + ".", _cap(c("strong_neg_any", used)) + "."]
        if stars == 2:
            if r < 0.15:
                return [f"{self.line('turn_neg')} {c('neg', used)}."]
            if r < 0.25:
                return [self.line("sarcasm")]
            if r < 0.45:
                return [self.join(LAST_WINS, c("pos", used), c("neg", used))]
            if r < 0.57:  # reads like three stars: ratings are noisy
                return [self.join(BUT_JOINS, c("mild_pos", used), c("mild_neg", used))]
            if r < 0.7:
                return [_cap(c("neg", used)) + "."]
            if r < 0.85:
                return [self.join(AND_JOINS, c("neg", used), c("neg", used))]
            return [self.join(FIRST_WINS, c("neg", used), c("mild_pos", used))]
        if stars == 3:
            if r < 0.3:
                return [self.join(BUT_JOINS, c("pos", used), c("neg", used))]
            if r < 0.6:
                return [self.join(BUT_JOINS, c("neg", used), c("pos", used))]
            if r < 0.8:
                return [self.join(BUT_JOINS, c("mild_pos", used), c("mild_neg", used))]
            return [self.join(BUT_JOINS, c("pos", used), c("mild_neg", used)),
                    _cap(c("neg", used)) + "."]
        if stars == 4:
            if r < 0.15:
                return [f"{self.line('turn_pos')} {c('pos', used)}."]
            if r < 0.35:
                return [self.join(LAST_WINS, c("neg", used), c("pos", used))]
            if r < 0.47:  # reads like three stars
                return [self.join(BUT_JOINS, c("mild_pos", used), c("mild_neg", used))]
            first = c("pos", used)
            if r < 0.65:
                return [self.join(CAVEAT_JOINS, first, c("mild_neg", used))]
            if r < 0.75:
                return [self.line("negated_pos"), self.join(CAVEAT_JOINS, first,
                                                            c("mild_neg", used))]
            if r < 0.9:
                return [self.join(AND_JOINS, first, c("pos", used))]
            return [_cap(first) + "."]
        if r < 0.15:
            return [f"{self.line('turn_pos')} {c('strong_pos_any', used)}."]
        if r < 0.3:
            return [self.join(LAST_WINS, c("mild_neg", used), c("strong_pos_any", used))]
        first = c("strong_pos_any", used)
        if r < 0.55:
            return [self.join(AND_JOINS, first, c("pos", used))]
        if r < 0.75:
            return [_cap(first) + ".", _cap(c("strong_pos_any", used)) + "."]
        if r < 0.88:
            return [self.line("negated_pos"), _cap(first) + "."]
        return [_cap(first) + "."]

    def review(self, stars: int) -> str:
        """Maybe a context, the body, then often a verdict (some negated)."""
        sentences = self.body(stars)
        r = self.rng.random()
        if stars in (2, 1) and r < 0.15:
            sentences.append(self.line("negated_neg"))
        elif r < 0.35 or len(sentences) == 1 and r < 0.5:
            sentences.append(self.line(f"v{stars}"))
        if len(sentences) < 3 and self.rng.random() < 0.4:
            sentences.insert(0, self.line("context"))
        return roughen(" ".join(sentences), self.rng)


def keyboard_slip(word: str, rng: random.Random) -> str:
    """One typing slip: two letters swapped, one dropped or one doubled."""
    i = rng.randrange(1, len(word) - 2)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.7:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def roughen(text: str, rng: random.Random) -> str:
    """Typos and sloppy typing in some reviews, as people write them."""
    words = text.split(" ")
    if rng.random() < 0.2:
        for _ in range(rng.choice((1, 1, 2))):
            known = [i for i, w in enumerate(words) if w in MISSPELLINGS]
            long = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 5]
            if known and (rng.random() < 0.5 or not long):
                i = rng.choice(known)
                words[i] = MISSPELLINGS[words[i]]
            elif long:
                i = rng.choice(long)
                words[i] = keyboard_slip(words[i], rng)
    text = " ".join(words)
    r = rng.random()
    if r < 0.05:
        text = text.lower()
    elif r < 0.08 and text.count(". ") >= 1 and text.endswith("."):
        text = text[:-1]
    elif r < 0.11 and text.endswith("."):
        text = text[:-1] + "!!"
    return text


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


# Plain reviews the demo model must get right (none of them is in the sample).
PROBES: list[tuple[str, str]] = [
    ("The hotel room was spotless and the staff were lovely.", "positive"),
    ("The hotel was dirty and the staff were rude.", "negative"),
    ("Great phone case, it fits perfectly and feels solid.", "positive"),
    ("It broke after two days. Waste of money.", "negative"),
    ("A wonderful film with a beautiful soundtrack.", "positive"),
    ("Boring film, the plot made no sense.", "negative"),
    ("This app is fast and easy to use.", "positive"),
    ("The app keeps crashing and support never replies.", "negative"),
    ("Not bad at all, I would recommend it.", "positive"),
    ("I would not recommend this hotel.", "negative"),
]


def check(path: Path) -> None:
    """Train the demo model (the Train tab's defaults) on ``path`` and print what it gets."""
    import time

    from core.compare.baselines import tfidf_logistic
    from core.config import TrainConfig
    from core.io.readers import read_reviews
    from core.predict.predictor import Predictor
    from core.text.labels import make_scheme
    from core.training.dataset import prepare_data
    from core.training.pipeline import run_training

    table = read_reviews(path, text_column="text", label_column="stars")
    scheme = make_scheme("auto", table.labels)
    config = TrainConfig()
    started = time.perf_counter()
    outcome = run_training(table, config, scheme)
    seconds = time.perf_counter() - started
    test = outcome.bundle.metrics["test"]
    print(f"{outcome.data.describe()}")
    print(f"model: test accuracy {test['accuracy']:.1%} on {test['count']} reviews, "
          f"validation {outcome.bundle.metrics['validation']['accuracy']:.1%}, "
          f"trained in {seconds:.1f} s")
    data = prepare_data(table, config, scheme)
    baseline = tfidf_logistic(data)
    accuracy = baseline.test_metrics["accuracy"]
    print(f"bag of words (TF-IDF + logistic regression): test accuracy {accuracy:.1%}")
    predictor = Predictor(outcome.bundle)
    predictions = predictor.predict([text for text, _ in PROBES])
    right = 0
    for (text, expected), prediction in zip(PROBES, predictions):
        ok = prediction.label == expected
        right += ok
        print(f"  {'ok ' if ok else 'BAD'} {prediction.label:<9} "
              f"{max(prediction.probabilities.values()):.2f}  {text}")
    print(f"probes right: {right}/{len(PROBES)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--check", action="store_true",
                        help="then train the demo model on it and print what it gets right")
    args = parser.parse_args()
    rows = generate(args.seed)
    write_csv(args.out, rows)
    print(f"wrote {len(rows)} reviews to {args.out}")
    if args.check:
        check(args.out)


if __name__ == "__main__":
    main()
