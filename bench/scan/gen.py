#!/usr/bin/env python3
"""Generates the scan benchmark's inputs: a 20,000-brand catalog (about
60,000 terms) and 1,000,000 listings, deterministically (fixed seed).

Brand names are invented pronounceable words, so the catalog behaves like a
real one (names of 4-12 letters, multi-word product lines, some CJK names)
without shipping anyone's trademarks. About one listing in eight mentions a
brand, half of those disguised; titles average ~60 bytes and descriptions
~150 bytes, in English with some Chinese.

usage: gen.py OUT_DIR [--brands N] [--listings N]
"""
import argparse
import json
import random
from pathlib import Path

SYLLABLES = ["ka", "lo", "ve", "tri", "zon", "mar", "qui", "dex", "ra", "no", "sel", "vio",
             "bra", "ton", "fi", "gel", "mo", "rix", "sa", "lun", "ter", "xa", "pol", "dri",
             "ne", "ko", "vas", "ul", "cor", "ba", "hel", "zy", "ma", "ri", "sto", "wen"]
LINES = ["Pro", "Max", "Air", "Ultra", "Classic", "Sport", "Lite", "Flex", "One", "Prime"]
HANZI = "耐阿迪达斯古驰普拉达香奈儿路易威登华为小米索尼三星佳能卡西欧欧米茄劳力士"
CATEGORIES = ["shoes/sneakers", "bags/handbags", "electronics/phones", "watches/wrist",
              "apparel/tops", "beauty/skincare", "toys/building", "home/kitchen",
              "sports/outdoor", "auto/parts"]
WORDS = ("new original genuine men women kids running casual leather black white red blue "
         "size large small cotton premium quality fast shipping gift box limited edition "
         "vintage classic sport outdoor waterproof wireless portable charger cable case "
         "cover bag wallet watch shoes sneakers jacket hoodie dress shirt pants socks hat "
         "lamp kitchen knife set stainless steel bottle mug toy car kit model phone stand "
         "holder mount light bulb garden hose tool drill battery pack pro max mini").split()
ZH_WORDS = ["正品", "新款", "男款", "女款", "运动鞋", "包邮", "手机壳", "耳机", "手表", "背包"]
DESCRIPTION = ("Brand new item in original packaging. Ships within 24 hours from our "
               "warehouse. Please check the size chart before ordering. Returns accepted.")


def brand_name(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def disguise(rng, term):
    kind = rng.randrange(4)
    if kind == 0 and len(term) > 4:
        i = rng.randrange(1, len(term) - 1)
        return term[:i] + term[i + 1:]
    if kind == 1:
        return term.replace("o", "0").replace("i", "1")
    if kind == 2:
        return ".".join(term)
    return term.upper()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--brands", type=int, default=20_000)
    parser.add_argument("--listings", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(20261123)
    args.out.mkdir(parents=True, exist_ok=True)

    names, brands, seen = [], [], set()
    while len(brands) < args.brands:
        name = brand_name(rng)
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        terms = [name, f"{name} {rng.choice(LINES)}"]
        if rng.random() < 0.3:
            terms.append("".join(rng.choice(HANZI) for _ in range(rng.randint(2, 4))))
        else:
            terms.append(f"{name}{rng.choice(['tech', 'wear', 'home', 'labs'])}")
        category = rng.choice(CATEGORIES)
        brands.append({
            "id": f"b{len(brands)}", "name": name, "terms": terms,
            "msrp": {category: {"amount": str(rng.randint(20, 900)), "currency": "USD"}},
            "authorized_sellers": [f"S{rng.randrange(100000)}"], "reference_images": [],
        })
        names.append((name, category))
    catalog = {"brands": brands, "category_rules": [
        {"platform": "bazaar", "category": "auto/airbags", "rule": "prohibited"},
        {"platform": "bazaar", "category": "auto/brake-pads", "rule": "prohibited"},
        {"platform": "mall", "category": "health/supplements", "rule": "restricted"}]}
    (args.out / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False))
    terms = sum(len(b["terms"]) for b in brands)

    with (args.out / "listings.jsonl").open("w", encoding="utf-8") as out:
        for i in range(args.listings):
            words = rng.sample(WORDS, rng.randint(6, 10))
            category = rng.choice(CATEGORIES)
            if rng.random() < 0.125:
                name, category = rng.choice(names)
                words.insert(rng.randrange(3), disguise(rng, name) if rng.random() < 0.5 else name)
            if rng.random() < 0.15:
                words.insert(rng.randrange(len(words)), rng.choice(ZH_WORDS))
            title = " ".join(words).capitalize()
            listing = {
                "id": f"L{i}", "platform": rng.choice(["bazaar", "mall", "resale"]),
                "seller_id": f"S{rng.randrange(100000)}", "title": title,
                "description": DESCRIPTION[: rng.randint(80, len(DESCRIPTION))],
                "category": category,
                "price": {"amount": f"{rng.uniform(2, 500):.2f}",
                          "currency": rng.choice(["USD", "EUR", "CNY"])},
                "images": [f"img/{i}.jpg"], "created_at": "2026-11-20T10:00:00Z",
            }
            out.write(json.dumps(listing, ensure_ascii=False) + "\n")
    print(f"wrote {len(brands)} brands ({terms} terms) and {args.listings} listings to {args.out}")


if __name__ == "__main__":
    main()
