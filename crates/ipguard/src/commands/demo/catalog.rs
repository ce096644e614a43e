//! The vocabulary the demo draws from: rights holders and their brands,
//! everyday goods, names and places. Kept as plain tables so the generated
//! marketplace reads like a real one without any file to ship.

/// One rights holder with the brand it protects and the goods sold under it.
pub struct BrandSpec {
    pub organisation: &'static str,
    pub slug: &'static str,
    pub name: &'static str,
    /// Protected terms besides the brand name (product lines, slogans).
    pub extra_terms: &'static [&'static str],
    pub category: &'static str,
    pub products: &'static [&'static str],
    /// The genuine product's usual retail price, in US dollars.
    pub msrp: u32,
    pub office: &'static str,
    /// Nice classes of the trademark registration.
    pub classes: &'static str,
}

macro_rules! brand {
    ($org:literal, $slug:literal, $name:literal, [$($term:literal),*], $cat:literal, [$($product:literal),+], $msrp:literal, $office:literal, $classes:literal) => {
        BrandSpec {
            organisation: $org,
            slug: $slug,
            name: $name,
            extra_terms: &[$($term),*],
            category: $cat,
            products: &[$($product),+],
            msrp: $msrp,
            office: $office,
            classes: $classes,
        }
    };
}

/// Thirty rights holders. The first is the demo's trusted submitter and the
/// second earns trust and then loses it, so their goods need plenty of
/// listings; the rest are ordinary submitters.
pub const BRANDS: &[BrandSpec] = &[
    brand!(
        "Nike, Inc.",
        "nike",
        "Nike",
        ["Air Max", "Air Jordan", "Air Force 1"],
        "shoes/sneakers",
        [
            "Air Max 90",
            "Air Force 1 Low",
            "Dunk Low Retro",
            "Air Jordan 1 Mid"
        ],
        120,
        "USPTO",
        "25"
    ),
    brand!(
        "adidas AG",
        "adidas",
        "adidas",
        ["Yeezy", "Ultraboost"],
        "shoes/sneakers",
        ["Ultraboost 22", "Samba OG", "Stan Smith", "Superstar"],
        110,
        "EUIPO",
        "25, 28"
    ),
    brand!(
        "LEGO A/S",
        "lego",
        "LEGO",
        ["Duplo", "Technic"],
        "toys/building-sets",
        [
            "Technic Porsche 911",
            "City Police Station",
            "Star Wars Millennium Falcon",
            "Duplo Farm"
        ],
        90,
        "EUIPO",
        "28"
    ),
    brand!(
        "Louis Vuitton Malletier",
        "louis-vuitton",
        "Louis Vuitton",
        ["LV Monogram", "Neverfull"],
        "bags/handbags",
        ["Neverfull MM", "Speedy 30", "Keepall 55", "Pochette Metis"],
        1900,
        "EUIPO",
        "18"
    ),
    brand!(
        "Gucci (Guccio Gucci S.p.A.)",
        "gucci",
        "Gucci",
        ["GG Marmont"],
        "bags/handbags",
        [
            "GG Marmont shoulder bag",
            "Dionysus mini bag",
            "Ophidia tote"
        ],
        2300,
        "EUIPO",
        "18, 25"
    ),
    brand!(
        "Chanel SAS",
        "chanel",
        "Chanel",
        ["Coco Chanel"],
        "beauty/fragrance",
        [
            "No 5 Eau de Parfum 100ml",
            "Coco Mademoiselle 50ml",
            "Bleu de Chanel 100ml"
        ],
        150,
        "EUIPO",
        "3"
    ),
    brand!(
        "Rolex SA",
        "rolex",
        "Rolex",
        ["Submariner", "Daytona", "Oyster Perpetual"],
        "watches",
        ["Submariner Date", "Cosmograph Daytona", "Datejust 41"],
        9800,
        "WIPO",
        "14"
    ),
    brand!(
        "Omega SA",
        "omega",
        "Omega",
        ["Speedmaster", "Seamaster"],
        "watches",
        [
            "Speedmaster Moonwatch",
            "Seamaster Diver 300M",
            "Constellation"
        ],
        6500,
        "WIPO",
        "14"
    ),
    brand!(
        "Apple Inc.",
        "apple",
        "Apple",
        ["AirPods", "iPhone"],
        "electronics/audio",
        ["AirPods Pro 2", "AirPods Max", "AirPods 3rd generation"],
        249,
        "USPTO",
        "9"
    ),
    brand!(
        "Samsung Electronics Co., Ltd.",
        "samsung",
        "Samsung",
        ["Galaxy"],
        "electronics/phones",
        ["Galaxy S24 Ultra", "Galaxy Buds2 Pro", "Galaxy Watch6"],
        899,
        "KIPO",
        "9"
    ),
    brand!(
        "Sony Group Corporation",
        "sony",
        "Sony",
        ["PlayStation", "WH-1000XM5"],
        "electronics/audio",
        [
            "WH-1000XM5 headphones",
            "PlayStation 5 controller",
            "WF-1000XM4 earbuds"
        ],
        349,
        "JPO",
        "9"
    ),
    brand!(
        "Bose Corporation",
        "bose",
        "Bose",
        ["QuietComfort"],
        "electronics/audio",
        [
            "QuietComfort Ultra headphones",
            "SoundLink Flex",
            "QuietComfort Earbuds II"
        ],
        299,
        "USPTO",
        "9"
    ),
    brand!(
        "Luxottica Group S.p.A. (Ray-Ban)",
        "ray-ban",
        "Ray-Ban",
        ["Wayfarer", "Aviator"],
        "accessories/eyewear",
        ["Original Wayfarer Classic", "Aviator Classic", "Clubmaster"],
        170,
        "EUIPO",
        "9"
    ),
    brand!(
        "Pandora A/S",
        "pandora",
        "Pandora",
        ["Pandora Moments"],
        "jewellery",
        [
            "Moments snake chain bracelet",
            "Sparkling heart charm",
            "Timeless pave ring"
        ],
        80,
        "EUIPO",
        "14"
    ),
    brand!(
        "Swarovski AG",
        "swarovski",
        "Swarovski",
        [],
        "jewellery",
        ["Millenia pendant", "Tennis bracelet", "Constella earrings"],
        190,
        "EUIPO",
        "14"
    ),
    brand!(
        "Canada Goose Inc.",
        "canada-goose",
        "Canada Goose",
        ["Expedition Parka"],
        "clothing/jackets",
        ["Expedition Parka", "Chilliwack Bomber", "Shelburne Parka"],
        1400,
        "CIPO",
        "25"
    ),
    brand!(
        "Moncler S.p.A.",
        "moncler",
        "Moncler",
        ["Maya"],
        "clothing/jackets",
        [
            "Maya short down jacket",
            "Montcla hooded jacket",
            "Grenoble ski jacket"
        ],
        1600,
        "EUIPO",
        "25"
    ),
    brand!(
        "The North Face Apparel Corp.",
        "the-north-face",
        "The North Face",
        ["Nuptse"],
        "clothing/jackets",
        [
            "1996 Retro Nuptse jacket",
            "Denali fleece",
            "Thermoball vest"
        ],
        320,
        "USPTO",
        "25"
    ),
    brand!(
        "Lacoste SA",
        "lacoste",
        "Lacoste",
        [],
        "clothing/polo-shirts",
        [
            "L.12.12 polo shirt",
            "Slim fit pique polo",
            "Crocodile logo sweatshirt"
        ],
        110,
        "EUIPO",
        "25"
    ),
    brand!(
        "Levi Strauss & Co.",
        "levis",
        "Levi's",
        ["501"],
        "clothing/jeans",
        ["501 Original Fit jeans", "511 Slim jeans", "Trucker jacket"],
        98,
        "USPTO",
        "25"
    ),
    brand!(
        "Dyson Technology Limited",
        "dyson",
        "Dyson",
        ["Airwrap", "Supersonic"],
        "home/appliances",
        [
            "Airwrap multi-styler",
            "Supersonic hair dryer",
            "V15 Detect vacuum"
        ],
        599,
        "UKIPO",
        "7, 8, 11"
    ),
    brand!(
        "Nintendo Co., Ltd.",
        "nintendo",
        "Nintendo",
        ["Nintendo Switch", "Pokemon", "Super Mario"],
        "games/consoles",
        ["Switch OLED console", "Joy-Con pair", "Pro Controller"],
        349,
        "JPO",
        "9, 28"
    ),
    brand!(
        "The Walt Disney Company",
        "disney",
        "Disney",
        ["Mickey Mouse", "Frozen"],
        "toys/plush",
        [
            "Mickey Mouse plush 40cm",
            "Frozen Elsa doll",
            "Stitch plush"
        ],
        35,
        "USPTO",
        "16, 25, 28"
    ),
    brand!(
        "Robert Bosch GmbH",
        "bosch",
        "Bosch",
        [],
        "auto/brake-pads",
        [
            "QuietCast brake pads front set",
            "Icon wiper blades",
            "Platinum spark plugs"
        ],
        65,
        "DPMA",
        "7, 12"
    ),
    brand!(
        "Compagnie Generale des Etablissements Michelin",
        "michelin",
        "Michelin",
        ["Pilot Sport"],
        "auto/tyres",
        [
            "Pilot Sport 4 225/45 R17",
            "CrossClimate 2 205/55 R16",
            "Primacy 4 195/65 R15"
        ],
        180,
        "EUIPO",
        "12"
    ),
    brand!(
        "Christian Dior Couture",
        "dior",
        "Dior",
        ["Lady Dior", "Sauvage"],
        "beauty/fragrance",
        [
            "Sauvage Eau de Toilette 100ml",
            "J'adore Eau de Parfum 50ml",
            "Lady Dior bag"
        ],
        160,
        "EUIPO",
        "3, 18"
    ),
    brand!(
        "Hermes International",
        "hermes",
        "Hermes",
        ["Birkin", "Kelly"],
        "bags/handbags",
        ["Birkin 30", "Kelly 28", "Evelyne PM"],
        11000,
        "EUIPO",
        "18"
    ),
    brand!(
        "Prada S.p.A.",
        "prada",
        "Prada",
        ["Re-Nylon"],
        "bags/handbags",
        [
            "Re-Nylon shoulder bag",
            "Galleria saffiano bag",
            "Cleo brushed leather bag"
        ],
        2100,
        "EUIPO",
        "18"
    ),
    brand!(
        "Oakley, Inc.",
        "oakley",
        "Oakley",
        ["Holbrook", "Frogskins"],
        "accessories/eyewear",
        ["Holbrook sunglasses", "Radar EV Path", "Frogskins"],
        160,
        "USPTO",
        "9"
    ),
    brand!(
        "Stanley (PMI Worldwide)",
        "stanley",
        "Stanley",
        ["Quencher"],
        "home/drinkware",
        [
            "Quencher H2.0 tumbler 40oz",
            "Classic legendary bottle 1.4L",
            "IceFlow flip straw tumbler"
        ],
        45,
        "USPTO",
        "21"
    ),
];

/// Everyday unbranded goods: category, item nouns, and a price range in dollars.
pub const GENERIC_GOODS: &[(&str, &[&str], u32, u32)] = &[
    (
        "shoes/sneakers",
        &[
            "running shoes",
            "canvas sneakers",
            "trail runners",
            "slip-on trainers",
        ],
        18,
        85,
    ),
    (
        "shoes/boots",
        &["leather ankle boots", "hiking boots", "rain boots"],
        25,
        140,
    ),
    (
        "clothing/jackets",
        &[
            "puffer jacket",
            "denim jacket",
            "rain jacket",
            "fleece jacket",
        ],
        20,
        160,
    ),
    (
        "clothing/t-shirts",
        &["cotton t-shirt", "graphic tee", "oversized t-shirt"],
        5,
        30,
    ),
    (
        "clothing/jeans",
        &["slim jeans", "straight leg jeans", "mom jeans"],
        15,
        70,
    ),
    (
        "bags/handbags",
        &[
            "leather tote",
            "crossbody bag",
            "canvas shopper",
            "evening clutch",
        ],
        12,
        180,
    ),
    (
        "accessories/eyewear",
        &[
            "polarised sunglasses",
            "blue light glasses",
            "sports sunglasses",
        ],
        8,
        60,
    ),
    (
        "watches",
        &[
            "quartz wristwatch",
            "digital sports watch",
            "mechanical watch",
        ],
        15,
        250,
    ),
    (
        "jewellery",
        &[
            "silver pendant",
            "beaded bracelet",
            "hoop earrings",
            "charm necklace",
        ],
        6,
        90,
    ),
    (
        "electronics/audio",
        &[
            "bluetooth earbuds",
            "over-ear headphones",
            "portable speaker",
        ],
        12,
        120,
    ),
    (
        "electronics/accessories",
        &[
            "USB-C charger 65W",
            "phone case",
            "power bank 20000mAh",
            "HDMI cable 2m",
        ],
        4,
        45,
    ),
    (
        "home/kitchen",
        &[
            "cast iron skillet",
            "chef knife",
            "glass storage jars",
            "pour-over coffee set",
        ],
        8,
        90,
    ),
    (
        "home/appliances",
        &["hair dryer", "handheld vacuum", "electric kettle"],
        18,
        150,
    ),
    (
        "home/drinkware",
        &["insulated tumbler", "water bottle 1L", "travel mug"],
        6,
        35,
    ),
    (
        "toys/building-sets",
        &[
            "building blocks 500 pcs",
            "marble run set",
            "magnetic tiles",
        ],
        10,
        60,
    ),
    (
        "toys/plush",
        &["teddy bear", "plush dinosaur", "bunny soft toy"],
        5,
        30,
    ),
    (
        "games/consoles",
        &[
            "retro handheld console",
            "wireless gamepad",
            "charging dock",
        ],
        10,
        120,
    ),
    (
        "beauty/fragrance",
        &["eau de parfum 50ml", "body mist", "scented candle"],
        6,
        70,
    ),
    (
        "auto/brake-pads",
        &["ceramic brake pads", "brake disc set"],
        20,
        120,
    ),
    (
        "auto/tyres",
        &["all-season tyre 205/55 R16", "winter tyre 195/65 R15"],
        55,
        160,
    ),
    (
        "sports/cycling",
        &["bike helmet", "LED bike light set", "cycling gloves"],
        8,
        80,
    ),
    (
        "books",
        &["paperback novel", "cookbook", "children's picture book"],
        3,
        30,
    ),
];

pub const ADJECTIVES: &[&str] = &[
    "Lightweight",
    "Breathable",
    "Vintage",
    "Unisex",
    "Classic",
    "Premium",
    "Waterproof",
    "Handmade",
    "Compact",
    "Soft",
    "Durable",
    "Minimalist",
    "Retro",
    "Eco-friendly",
    "Slim",
];

pub const COLOURS: &[&str] = &[
    "black",
    "white",
    "navy",
    "grey",
    "olive",
    "beige",
    "red",
    "forest green",
    "sand",
    "burgundy",
];

pub const CONDITIONS: &[&str] = &[
    "new with tags",
    "like new",
    "used, good condition",
    "used, light wear",
    "new in box",
];

/// Phrases counterfeiters use to signal fakes while dodging filters.
pub const REPLICA_TEMPLATES: &[&str] = &[
    "{brand} {product} replica AAA",
    "1:1 {brand} {product} mirror quality",
    "{brand} {product} high copy best price",
    "{brand} {product} factory outlet unboxed",
    "Top grade {brand} {product} - super fake",
    "{brand} {product} OEM version no box",
];

pub const FIRST_NAMES: &[&str] = &[
    "Ana", "Ben", "Chloe", "Daniel", "Elif", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kai",
    "Lena", "Marco", "Nora", "Omar", "Paula", "Quentin", "Rosa", "Samir", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carmen", "Dmitri", "Emma", "Farah",
    "Giulia", "Hannah", "Ivan", "Julia", "Kenji", "Lucia", "Mateo", "Nadia",
];

pub const LAST_NAMES: &[&str] = &[
    "Novak", "Schmidt", "Garcia", "Rossi", "Dubois", "Kowalski", "Jensen", "Silva", "Yilmaz",
    "Chen", "Tanaka", "Okafor", "Larsen", "Moreau", "Costa", "Fischer", "Horvat", "Ivanova", "Kim",
    "Lopez", "Meyer", "Nowak", "Petrov", "Quinn", "Rahman", "Santos", "Torres", "Usman", "Varga",
    "Weber",
];

pub const CITIES: &[(&str, &str)] = &[
    ("Berlin", "DE"),
    ("Lyon", "FR"),
    ("Milan", "IT"),
    ("Madrid", "ES"),
    ("Warsaw", "PL"),
    ("Rotterdam", "NL"),
    ("Porto", "PT"),
    ("Vienna", "AT"),
    ("Prague", "CZ"),
    ("Shenzhen", "CN"),
    ("Guangzhou", "CN"),
    ("Istanbul", "TR"),
    ("Dublin", "IE"),
    ("Gothenburg", "SE"),
    ("Athens", "GR"),
];

pub const STREETS: &[&str] = &[
    "Market Street",
    "Harbour Road",
    "Linden Allee",
    "Via Roma",
    "Rue du Port",
    "Station Square",
    "Mill Lane",
    "Calle Mayor",
    "Ul. Dluga",
    "Industrial Park Road",
];

pub const SHOP_WORDS: &[&str] = &[
    "Sunny", "Urban", "Prime", "Lucky", "Golden", "Nordic", "Happy", "Star", "Blue", "Smart",
    "Bright", "Daily", "Trend", "Cosy", "Swift",
];

pub const SHOP_NOUNS: &[&str] = &[
    "Deals", "Closet", "Outlet", "Corner", "Finds", "Goods", "Bazaar", "Attic", "Boutique",
    "Store", "Market", "Wardrobe",
];
