"""A synthetic cross-domain shop whose ground truth is known.

Users have latent tastes over topics (sport, music, outdoors, ...). Items live in several domains
(electronics, clothing, books, home) and carry a mix of topics; their English descriptions express
those topics with varied wording ("trail-running jacket", "jogging earbuds"), so a pretrained
sentence encoder can link items across domains although no word list is shared by construction.
Users buy on two platforms (mobile app, PC site) and their purchases are drawn from a known model:

    utility(u, i) = taste_strength * T * <taste(u, domain(i)), topics(i)> + popularity(i) + Gumbel noise

where ``taste(u, d)`` mixes the user's global taste with a domain-specific one (``domain_shift``),
and each user takes the top-n items of their sampled utilities (a Plackett-Luce draw without
replacement). The platform of each purchase depends on the user's device habit and the item's
topics (gaming and music lean to mobile, office to PC).

Taught in notebooks/04_cross_domain_recommendation.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from translearn_lib.config import DEFAULT_SEED, ITEM_COL, TIME_COL, USER_COL

TOPICS: tuple[str, ...] = ("sport", "music", "outdoors", "office", "gaming", "fashion", "cooking", "travel")
DOMAINS: tuple[str, ...] = ("electronics", "clothing", "books", "home")
PLATFORMS: tuple[str, ...] = ("mobile", "pc")

# Words that signal a topic in any domain: descriptors, use phrases and names for the activity.
_DESCRIPTORS = {
    "sport": ["sweat-proof", "lightweight performance", "training-ready", "high-intensity", "athletic"],
    "music": ["studio-grade", "rhythm-loving", "concert-ready", "melodic", "audiophile"],
    "outdoors": ["rugged", "weatherproof", "trail-tested", "all-terrain", "wilderness-ready"],
    "office": ["professional", "ergonomic", "meeting-ready", "minimalist business", "productivity-focused"],
    "gaming": ["RGB-lit", "esports-grade", "low-latency", "competitive", "console-ready"],
    "fashion": ["runway-inspired", "trendy", "elegant", "designer", "statement"],
    "cooking": ["chef-approved", "kitchen-friendly", "heat-resistant", "gourmet", "culinary"],
    "travel": ["carry-on friendly", "jet-set", "packable", "globetrotter", "compact travel"],
}
_USES = {
    "sport": ["for your next marathon", "built for gym sessions", "made for morning jogs",
              "for football practice", "for long bike rides"],
    "music": ["for late-night listening sessions", "for guitarists and singers", "made for festival season",
              "for anyone who lives for live gigs", "for building the perfect playlist"],
    "outdoors": ["for weekend hikes", "built for camping trips", "made for mountain trails",
                 "for nights under the stars", "for rainy treks through the forest"],
    "office": ["for long workdays at the desk", "made for video calls", "for the daily commute to work",
               "for spreadsheets and deadlines", "for a tidy home office"],
    "gaming": ["for marathon gaming nights", "built for online raids", "for competitive shooters",
               "made for streamers", "for couch co-op with friends"],
    "fashion": ["to turn heads on the street", "for the catwalk look", "for stylish evenings out",
                "to complete a chic outfit", "for trend-setters"],
    "cooking": ["for weekend baking projects", "made for home chefs", "for quick weeknight dinners",
                "for sourdough enthusiasts", "for slow-cooked family meals"],
    "travel": ["for city breaks abroad", "built for long-haul flights", "for backpacking across Asia",
               "for road trips", "made for hotel-hopping"],
}
_ACTIVITY = {
    "sport": ["fitness", "running", "athletics", "workouts"],
    "music": ["music", "live concerts", "songwriting", "vinyl records"],
    "outdoors": ["hiking", "camping", "the great outdoors", "trail adventures"],
    "office": ["remote work", "productivity", "business meetings", "office life"],
    "gaming": ["video games", "esports", "PC gaming", "console games"],
    "fashion": ["style", "fashion", "streetwear", "haute couture"],
    "cooking": ["cooking", "baking", "home cuisine", "recipes"],
    "travel": ["travel", "backpacking", "exploring new countries", "holidays abroad"],
}
# Product nouns per (domain, topic): the same topic appears as different things in each domain.
_NOUNS = {
    "electronics": {
        "sport": ["jogging earbuds", "GPS running watch", "fitness tracker", "heart-rate chest strap", "cycling computer"],
        "music": ["noise-cancelling headphones", "bluetooth speaker", "digital piano keyboard", "turntable", "guitar amplifier"],
        "outdoors": ["solar power bank", "handheld GPS navigator", "headlamp", "action camera", "two-way radio"],
        "office": ["wireless keyboard", "webcam", "laser printer", "docking station", "27-inch monitor"],
        "gaming": ["gaming mouse", "mechanical keyboard", "game controller", "gaming headset", "VR headset"],
        "fashion": ["smartwatch with designer straps", "rose-gold wireless earphones", "hair straightener", "ring light", "jewelled phone case"],
        "cooking": ["air fryer", "stand mixer", "smart kitchen scale", "sous-vide cooker", "espresso machine"],
        "travel": ["universal travel adapter", "compact mirrorless camera", "e-reader", "portable charger", "noise-cancelling travel earphones"],
    },
    "clothing": {
        "sport": ["running shoes", "gym leggings", "training shorts", "compression shirt", "track jacket"],
        "music": ["band T-shirt", "vintage concert hoodie", "leather jacket", "festival bucket hat", "rock-and-roll denim vest"],
        "outdoors": ["trail-running jacket", "hiking boots", "fleece pullover", "waterproof poncho", "thermal base layer"],
        "office": ["tailored blazer", "crisp button-down shirt", "pencil skirt", "wool trousers", "leather loafers"],
        "gaming": ["gamer hoodie", "pixel-art T-shirt", "esports team jersey", "cosy lounge joggers", "controller-print socks"],
        "fashion": ["silk evening dress", "designer handbag", "cashmere coat", "high-heeled boots", "statement sunglasses"],
        "cooking": ["chef's apron", "kitchen clogs", "baker's cap", "linen chef jacket", "heat-proof oven gloves"],
        "travel": ["packable down jacket", "quick-dry travel shirt", "convertible zip-off trousers", "compression travel socks", "sun hat"],
    },
    "books": {
        "sport": ["marathon training guide", "biography of a football legend", "strength-training handbook", "history of the Olympic Games", "cycling memoir"],
        "music": ["guide to music theory", "rock band biography", "songwriting workbook", "jazz history", "piano sheet-music collection"],
        "outdoors": ["field guide to wild birds", "hiking trail atlas", "survival skills manual", "mountaineering memoir", "guide to national parks"],
        "office": ["book on time management", "negotiation handbook", "leadership guide", "Excel tips and tricks", "business strategy classic"],
        "gaming": ["video-game art book", "history of game consoles", "fantasy RPG novel", "game-design textbook", "esports biography"],
        "fashion": ["coffee-table book on haute couture", "style guide", "biography of a fashion designer", "sewing patterns book", "street-style photo book"],
        "cooking": ["Italian cookbook", "baking bible", "vegetarian recipe collection", "knife-skills guide", "spice encyclopedia"],
        "travel": ["city guidebook", "travel memoir", "phrasebook for travellers", "road-trip atlas", "backpacker's guide to Asia"],
    },
    "home": {
        "sport": ["yoga mat", "adjustable dumbbells", "foam roller", "pull-up bar", "gym towel set"],
        "music": ["vinyl record shelf", "guitar wall hanger", "acoustic panels", "sheet-music stand", "record-player cabinet"],
        "outdoors": ["camping hammock", "garden fire pit", "picnic blanket", "bird feeder", "folding camp chair"],
        "office": ["standing desk", "ergonomic office chair", "desk organiser", "filing cabinet", "desk lamp"],
        "gaming": ["gaming chair", "LED strip lights", "controller charging dock", "bean bag for gamers", "headset stand"],
        "fashion": ["full-length mirror", "jewellery box", "velvet clothes hangers", "vanity table", "shoe rack"],
        "cooking": ["cast-iron skillet", "chef's knife set", "spice rack", "bamboo cutting board", "dutch oven"],
        "travel": ["world map wall poster", "packing cubes", "luggage scale", "scratch-off travel map", "globe night light"],
    },
}
_ATTRS = {
    "electronics": ["with a two-year warranty", "with USB-C charging", "in matte black", "with long battery life", "with bluetooth 5.3"],
    "clothing": ["in navy blue", "machine washable", "in organic cotton", "slim fit", "available in all sizes"],
    "books": ["paperback edition", "illustrated edition", "hardcover", "with a foreword by the author", "bestseller"],
    "home": ["easy to assemble", "in oak finish", "space-saving", "in charcoal grey", "durable steel frame"],
}
_TEMPLATES = (
    "{Desc} {noun} {use}. {Attr}.",
    "{Noun}, {attr}: {use}.",
    "{a_desc} {noun} for anyone into {activity}.",
    "Our {noun}: {desc}, {attr}, {use}.",
    "{Noun} for fans of {activity}, {attr}.",
    "The {desc} {noun}. Perfect {use}.",
)
_SECONDARY = ("Also loved by fans of {activity}.", "Doubles as a pick for {activity}.", "A good match for {activity} too.")
# How strongly each topic pulls a purchase to the mobile app (positive) or the PC site (negative).
_MOBILE_AFFINITY = {"sport": 0.4, "music": 0.8, "outdoors": 0.0, "office": -1.2, "gaming": 1.0,
                    "fashion": 0.6, "cooking": -0.2, "travel": 0.2}


@dataclass
class CrossDomainShop:
    """The generated shop: interactions, item catalogue and the true tastes behind them.

    Attributes:
        interactions: one row per purchase: ``user_id``, ``item_id``, ``domain``, ``platform``,
            ``rating`` (always 1, implicit feedback), ``timestamp``.
        items: ``item_id``, ``domain``, ``topic`` (main topic), ``secondary_topic`` (or ``None``),
            ``popularity`` (log-scale bias), ``text`` (English description).
        users: ``user_id``, ``domains`` (tuple of domains the user shops in), ``mobile_habit``.
        taste: (n_users, n_topics) true global taste, rows sum to 1.
        domain_taste: domain -> (n_users, n_topics) taste actually used in that domain.
        item_topics: (n_items, n_topics) topic mix of each item (rows sum to 1), aligned with ``items``.
        topics, domains, platforms: the names used.
        params: the knobs the shop was generated with.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """

    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    taste: np.ndarray
    domain_taste: dict
    item_topics: np.ndarray
    topics: tuple
    domains: tuple
    platforms: tuple = PLATFORMS
    params: dict = field(default_factory=dict)

    def domain(self, name: str) -> pd.DataFrame:
        """Interactions of one domain (e.g. ``"clothing"``)."""
        _check_domain(name, self.domains)
        return self.interactions[self.interactions["domain"] == name].reset_index(drop=True)

    def platform(self, name: str) -> pd.DataFrame:
        """Interactions made on one platform (``"mobile"`` or ``"pc"``)."""
        if name not in self.platforms:
            raise ValueError(f"unknown platform {name!r}; choose from {self.platforms}")
        return self.interactions[self.interactions["platform"] == name].reset_index(drop=True)

    def true_scores(self, domain: str) -> np.ndarray:
        """Noise-free preference of every user for every item of ``domain`` (taste x topic mix).

        Returns:
            np.ndarray: (n_users, n_items_in_domain), columns ordered like ``items`` rows of that domain.
        """
        _check_domain(name=domain, domains=self.domains)
        mask = (self.items["domain"] == domain).to_numpy()
        return self.domain_taste[domain] @ self.item_topics[mask].T

    def __repr__(self) -> str:
        counts = self.interactions.groupby("domain").size().to_dict()
        return (f"CrossDomainShop(users={len(self.users)}, items={len(self.items)}, "
                f"interactions={len(self.interactions)}, per_domain={counts})")


def _check_domain(name, domains):
    if name not in domains:
        raise ValueError(f"unknown domain {name!r}; choose from {tuple(domains)}")


def _describe(rng: np.random.Generator, domain: str, topic: str, secondary: str | None) -> str:
    """One product description: a random template filled with topic words for ``domain``."""
    noun = rng.choice(_NOUNS[domain][topic])
    desc = rng.choice(_DESCRIPTORS[topic])
    attr = rng.choice(_ATTRS[domain])
    text = rng.choice(_TEMPLATES).format(
        noun=noun, Noun=noun[0].upper() + noun[1:], desc=desc, Desc=desc[0].upper() + desc[1:],
        use=rng.choice(_USES[topic]), attr=attr, Attr=attr[0].upper() + attr[1:],
        activity=rng.choice(_ACTIVITY[topic]), a_desc=("An " if desc[0] in "aeiouAEIOU" else "A ") + desc)
    if secondary is not None:
        text += " " + rng.choice(_SECONDARY).format(use=rng.choice(_USES[secondary]),
                                                   activity=rng.choice(_ACTIVITY[secondary]))
    return text


def _dirichlet(rng, alpha, n, k):
    return rng.dirichlet(np.full(k, alpha), size=n)


def make_cross_domain_shop(
    n_users: int = 2000,
    items_per_domain: int | dict = 300,
    domains=("electronics", "clothing", "books"),
    overlap: float = 0.5,
    mean_interactions: float = 15.0,
    target_domain: str | None = "clothing",
    target_sparsity: float = 0.0,
    domain_shift: float = 0.3,
    taste_concentration: float = 0.3,
    taste_strength: float = 1.2,
    popularity: float = 0.8,
    noise: float = 1.0,
    seed: int = DEFAULT_SEED,
) -> CrossDomainShop:
    """Generate a cross-domain, multi-platform shop with known user tastes.

    Every user has a global taste (a Dirichlet draw over ``TOPICS``; small ``taste_concentration``
    means a few favourite topics). In each domain the user's taste is
    ``(1 - domain_shift) * global + domain_shift * domain_specific`` (renormalised), so
    ``domain_shift=0`` makes domains perfectly related and ``1`` unrelated. A share ``overlap`` of
    users shops in every domain; each other user shops in one domain only (uniformly chosen).

    Args:
        n_users: number of users (> 0).
        items_per_domain: items per domain, an int or a dict domain -> int (each >= 10).
        domains: domain names, a subset of ``DOMAINS`` (at least one; two or more for transfer).
        overlap: share of users active in all domains, in [0, 1].
        mean_interactions: average purchases per active user and domain (>= 1).
        target_domain: domain made sparser by ``target_sparsity`` (``None``: no domain is special).
        target_sparsity: in [0, 1): the target domain gets ``(1 - target_sparsity)`` of the usual
            purchases per user (at least one).
        domain_shift: in [0, 1], how much a user's taste differs between domains.
        taste_concentration: Dirichlet concentration of tastes (> 0).
        taste_strength: weight of taste in the utility, relative to popularity and noise (>= 0).
        popularity: standard deviation of the log-popularity of items (>= 0).
        noise: scale of the Gumbel noise on utilities (> 0): larger means more random purchases.
        seed: random seed; the same seed gives the same shop.

    Returns:
        CrossDomainShop: interactions, items with texts, users and the true taste matrices.

    Raises:
        ValueError: on out-of-range sizes or shares, or an unknown domain.

    Taught in notebooks/04_cross_domain_recommendation.ipynb.
    """
    domains = tuple(domains) if not isinstance(domains, str) else (domains,)
    if not isinstance(n_users, (int, np.integer)) or n_users <= 0:
        raise ValueError(f"n_users must be a positive integer, got {n_users!r}")
    if len(domains) == 0:
        raise ValueError("domains must name at least one domain")
    for d in domains:
        _check_domain(d, DOMAINS)
    if len(set(domains)) != len(domains):
        raise ValueError(f"domains must be distinct, got {domains}")
    if target_domain is not None:
        _check_domain(target_domain, domains)
    if isinstance(items_per_domain, dict):
        for d in items_per_domain:
            _check_domain(d, domains)
        sizes = {d: items_per_domain.get(d, 300) for d in domains}
    else:
        sizes = {d: items_per_domain for d in domains}
    for d, n in sizes.items():
        if not isinstance(n, (int, np.integer)) or n < 10:
            raise ValueError(f"items_per_domain must be an integer >= 10, got {n!r} for {d!r}")
    checks = [("overlap", overlap, 0.0, 1.0, True), ("domain_shift", domain_shift, 0.0, 1.0, True),
              ("target_sparsity", target_sparsity, 0.0, 1.0, False)]
    for name, value, lo, hi, closed in checks:
        if not np.isfinite(value) or value < lo or value > hi or (not closed and value >= hi):
            raise ValueError(f"{name} must be in [{lo}, {hi}{']' if closed else ')'}, got {value!r}")
    if mean_interactions < 1:
        raise ValueError(f"mean_interactions must be >= 1, got {mean_interactions!r}")
    if taste_concentration <= 0 or noise <= 0 or taste_strength < 0 or popularity < 0:
        raise ValueError("taste_concentration and noise must be > 0; taste_strength and popularity >= 0")

    rng = np.random.default_rng(seed)
    n_topics = len(TOPICS)

    # --- items: main topic, optional secondary topic, popularity, text
    rows, topic_rows = [], []
    for d in domains:
        for _ in range(sizes[d]):
            main = int(rng.integers(n_topics))
            mix = np.zeros(n_topics)
            secondary = None
            if rng.random() < 0.6:  # 60 % of items also serve a second topic
                sec = int((main + rng.integers(1, n_topics)) % n_topics)
                w = rng.uniform(0.15, 0.4)
                mix[main], mix[sec] = 1 - w, w
                secondary = TOPICS[sec]
            else:
                mix[main] = 1.0
            rows.append((d, TOPICS[main], secondary, float(rng.normal(0, popularity)),
                         _describe(rng, d, TOPICS[main], secondary)))
            topic_rows.append(mix)
    items = pd.DataFrame(rows, columns=["domain", "topic", "secondary_topic", "popularity", "text"])
    items.insert(0, ITEM_COL, np.arange(len(items)))
    item_topics = np.asarray(topic_rows)

    # --- users: global taste, domain tastes, which domains they shop in, device habit
    taste = _dirichlet(rng, taste_concentration, n_users, n_topics)
    domain_taste = {}
    for d in domains:
        mixed = (1 - domain_shift) * taste + domain_shift * _dirichlet(rng, taste_concentration, n_users, n_topics)
        domain_taste[d] = mixed / mixed.sum(axis=1, keepdims=True)
    in_all = rng.random(n_users) < overlap
    home = rng.integers(len(domains), size=n_users)
    active = np.zeros((n_users, len(domains)), dtype=bool)
    active[np.arange(n_users), home] = True
    active[in_all] = True
    habit = rng.normal(0, 1, n_users)
    users = pd.DataFrame({USER_COL: np.arange(n_users),
                          "domains": [tuple(d for d, a in zip(domains, row) if a) for row in active],
                          "mobile_habit": habit})

    # --- purchases: Plackett-Luce draw (Gumbel top-n) from the known utility
    affinity = item_topics @ np.array([_MOBILE_AFFINITY[t] for t in TOPICS])
    pop = items["popularity"].to_numpy()
    frames = []
    for j, d in enumerate(domains):
        idx = np.flatnonzero((items["domain"] == d).to_numpy())
        users_d = np.flatnonzero(active[:, j])
        mean = mean_interactions * ((1 - target_sparsity) if d == target_domain else 1.0)
        counts = np.minimum(1 + rng.poisson(max(mean - 1, 0), size=len(users_d)), len(idx) // 2)
        util = (taste_strength * n_topics * domain_taste[d][users_d] @ item_topics[idx].T + pop[idx]
                + noise * rng.gumbel(size=(len(users_d), len(idx))))
        order = np.argsort(-util, axis=1, kind="stable")
        take = np.arange(len(idx))[None, :] < counts[:, None]
        uu = np.repeat(users_d, counts)
        ii = idx[order[take]]
        p_mobile = 1 / (1 + np.exp(-(habit[uu] + 1.5 * affinity[ii])))
        platform = np.where(rng.random(len(uu)) < p_mobile, "mobile", "pc")
        frames.append(pd.DataFrame({USER_COL: uu, ITEM_COL: ii, "domain": d, "platform": platform}))
    inter = pd.concat(frames, ignore_index=True)
    inter["rating"] = 1.0
    inter[TIME_COL] = rng.permutation(len(inter)).astype(np.int64)  # random order: no time signal
    inter = inter.sort_values([USER_COL, TIME_COL], kind="stable").reset_index(drop=True)

    params = dict(n_users=n_users, items_per_domain=sizes, domains=domains, overlap=overlap,
                  mean_interactions=mean_interactions, target_domain=target_domain,
                  target_sparsity=target_sparsity, domain_shift=domain_shift,
                  taste_concentration=taste_concentration, taste_strength=taste_strength,
                  popularity=popularity, noise=noise, seed=seed)
    return CrossDomainShop(interactions=inter, items=items, users=users, taste=taste,
                           domain_taste=domain_taste, item_topics=item_topics, topics=TOPICS,
                           domains=domains, platforms=PLATFORMS, params=params)
