"""The fixed vocabulary of the dataset: places, programmes, equipment, names, the state mix."""

from decimal import Decimal

from grants.workflow import State

CENT = Decimal("0.01")
UNUSABLE_PASSWORD = "!bench-no-login"  # noqa: S105 - marks an account without a password
# Users the measurements log in as (bench.measure).
OFFICER = "bench_officer"
MANAGER = "bench_manager"
APPLICANT = "bench_applicant"
ADMIN = "bench_admin"
WORKER_MANAGER = "bench_approver{}"
WORKER_MANAGERS = 8

COUNTRIES = [("RS", "Serbia", 10), ("XK", "Kosovo", 5), ("AL", "Albania", 5)]
TOWNS = {
    "RS": ["Niš", "Beograd", "Novi Sad", "Kragujevac", "Leskovac", "Vranje", "Subotica", "Čačak"],
    "XK": ["Prizren", "Prishtina", "Peja", "Gjakova", "Ferizaj"],
    "AL": ["Tirana", "Shkodra", "Elbasan", "Durrës", "Korça"],
}
PRISONS = ["Sremska Mitrovica", "Požarevac-Zabela"]
# name, donor, country, currency, target groups
PROGRAMMES = [
    ("Start-up grants for returnees — Serbia", "German Development Cooperation", "RS", "RSD",
     ["returnee", "socially_disadvantaged"]),
    ("Work after prison — Serbia", "EU IPA", "RS", "EUR", ["former_inmate", "socially_disadvantaged"]),
    ("Micro enterprises — Kosovo", "Swiss Agency for Development", "XK", "EUR",
     ["returnee", "former_inmate", "socially_disadvantaged"]),
    ("New start — Albania", "Austrian Development Agency", "AL", "ALL",
     ["returnee", "socially_disadvantaged"]),
]  # fmt: skip
RATES = {"EUR": Decimal("1"), "RSD": Decimal("117.20"), "ALL": Decimal("100.50")}
CEILING_EUR = Decimal("3000")
RUBRIC = [
    ("viability", "Viability", Decimal("0.30")),
    ("skills", "Skills and experience", Decimal("0.20")),
    ("market", "Market", Decimal("0.20")),
    ("need", "Need", Decimal("0.15")),
    ("commitment", "Commitment", Decimal("0.15")),
]
CATALOGUE = {
    "agriculture": [("Greenhouse frame and foil", 1200), ("Drip irrigation kit", 350), ("Motor hoe", 650),
                    ("Seedling trays", 80)],
    "livestock": [("Dairy cow", 1400), ("Beehive with colony", 150), ("Milking machine", 700),
                  ("Horse-care equipment", 400)],
    "food": [("Bakery oven", 1450), ("Dough mixer", 900), ("Refrigerated display", 1100),
             ("Coffee machine", 800)],
    "crafts": [("Industrial sewing machine", 620), ("Overlock machine", 480), ("Embroidery machine", 1300),
               ("Leather tools set", 250)],
    "construction": [("Concrete mixer", 700), ("Scaffolding set", 900), ("Power tools set", 450),
                     ("Tile cutter", 300)],
    "services": [("Hairdressing chair", 400), ("Pressure washer", 550), ("Laptop and printer", 800),
                 ("Beauty salon set", 900)],
    "trade": [("Market stall", 350), ("Shop scales", 120), ("Refrigerator", 600), ("Shelving", 250)],
    "transport": [("Cargo tricycle", 900), ("Trailer", 1100), ("Roof rack and straps", 150)],
    "other": [("Laptop", 700), ("Camera kit", 900), ("Tool chest", 300)],
}  # fmt: skip
BUSINESS = {
    "agriculture": "Greenhouse", "livestock": "Farm", "food": "Bakery", "crafts": "Tailoring workshop",
    "construction": "Builders", "services": "Salon", "trade": "Shop", "transport": "Transport",
    "other": "Studio",
}  # fmt: skip
FIRST_NAMES = ["Marko", "Jovana", "Dragan", "Milica", "Arta", "Besnik", "Elira", "Driton", "Sabina",
               "Ramiz", "Fatima", "Senad", "Ana", "Nikola", "Gëzim", "Ardita", "Zoran", "Jelena",
               "Bekim", "Sanije", "Dejan", "Ljiljana", "Ilir", "Vjosa"]  # fmt: skip
LAST_NAMES = ["Petrović", "Jovanović", "Demaj", "Krasniqi", "Berisha", "Nikolić", "Hoxha", "Gashi",
              "Marković", "Đorđević", "Bajrami", "Kelmendi", "Ristić", "Shala", "Stojanović", "Rama",
              "Mustafa", "Ilić", "Osmani", "Pavlović", "Ahmeti", "Stanković", "Durmishi", "Tahiri"]  # fmt: skip
# Share of applications per state (sums to 100).
STATE_MIX = [
    (State.DRAFT, 9), (State.SUBMITTED, 14), (State.BUSINESS_TRAINING, 14), (State.APPROVED, 7),
    (State.EQUIPMENT_DELIVERED, 4), (State.FOLLOW_UP, 17), (State.COMPLETED, 12),
    (State.DISCONTINUED, 4), (State.REJECTED, 10), (State.WITHDRAWN, 6), (State.CANCELLED, 3),
]  # fmt: skip
COMMITTED_STATES = {State.APPROVED, *State.DELIVERED_OR_LATER}
