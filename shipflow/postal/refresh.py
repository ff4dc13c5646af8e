"""Rebuild the bundled postal tables from GeoNames postal-code dumps (see docs/geography.md).

    python -m shipflow.postal.refresh DIR CC [CC ...]
    python -m shipflow.postal.refresh --japan KEN_ALL.CSV jp_geocode.json

DIR holds the GeoNames per-country files (`CC.txt`, tab-separated, CC BY 4.0). One row per
postal code is kept: the mean of its places' coordinates (3 decimals, about 100 m) and its two
administrative levels, coarsest first, so a country table stays a few hundred kB gzipped.
Japan comes from Japan Post's KEN_ALL (code -> prefecture, municipality) joined with the
municipality centroids of the JpGeocode package (MIT).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from shipflow.postal.formats import normalize

DATA = Path(__file__).parent / "data"
# GeoNames columns: country, code, place, admin1 name, admin1 code, admin2 name, admin2 code,
# admin3 name, admin3 code, latitude, longitude, accuracy
CODE, ADMIN1, ADMIN2, LAT, LNG = 1, 3, 5, 9, 10


def build(source: Path, country: str) -> Path:
    places: dict[str, list[tuple[float, float, str, str]]] = defaultdict(list)
    with source.open(encoding="utf-8", newline="") as rows:
        for row in csv.reader(rows, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) > LNG and row[LAT] and row[LNG]:
                code = normalize(country, row[CODE])
                if code is None:
                    continue  # not a code of today's format (GeoNames keeps a few old ones)
                places[code].append((float(row[LAT]), float(row[LNG]), row[ADMIN1], row[ADMIN2]))
    return _write(country, places)


def build_japan(ken_all: Path, centroids: Path) -> Path:
    """KEN_ALL.CSV (Shift_JIS) and JpGeocode's `data/jp_geocode.json` ("県,市" -> lat, lng).
    A ward of a designated city ("札幌市中央区") or a town in a district ("中川郡池田町") takes
    the centroid under the name JpGeocode knows; the few municipalities missing stay out."""
    known = json.loads(centroids.read_text(encoding="utf-8"))
    places: dict[str, list[tuple[float, float, str, str]]] = {}
    with ken_all.open(encoding="cp932", newline="") as rows:
        for row in csv.reader(rows):
            code, prefecture, city = row[2], row[6], row[7]
            names = (city, re.sub(r"市.+区$", "市", city), re.sub(r"^.+?郡", "", city))
            found = next(
                (known[f"{prefecture},{n}"] for n in names if f"{prefecture},{n}" in known), None
            )
            if found and code not in places:
                places[code] = [(found["lat"], found["lng"], prefecture, city)]
    return _write("JP", places)


def _write(country: str, places: dict[str, list[tuple[float, float, str, str]]]) -> Path:
    rows = {}
    for code, found in places.items():
        lat = sum(p[0] for p in found) / len(found)
        lng = sum(p[1] for p in found) / len(found)
        rows[code] = f"{lat:.3f}\t{lng:.3f}\t{found[0][2]}\t{found[0][3]}"
    target = DATA / f"{country}.tsv.gz"
    with gzip.open(target, "wt", encoding="utf-8", compresslevel=9) as out:
        for prefix, row in sorted(_shortest_prefixes(rows).items()):
            out.write(f"{prefix}\t{row}\n")
    return target


def _shortest_prefixes(rows: dict[str, str], shortest: int = 4) -> dict[str, str]:
    """Codes under one prefix that all share a row are stored once, as that prefix (lookups
    match the longest prefix): Japan's 120,000 codes fit in a tenth of the entries."""
    under: dict[str, set[str]] = defaultdict(set)
    for code, row in rows.items():
        for length in range(shortest, len(code)):
            under[code[:length]].add(row)
    kept: dict[str, str] = {}
    for code, row in rows.items():
        length = next(
            (n for n in range(shortest, len(code)) if len(under[code[:n]]) == 1), len(code)
        )
        kept[code[:length]] = row
    return kept


def main(argv: list[str]) -> None:
    DATA.mkdir(exist_ok=True)
    if argv[0] == "--japan":
        print(build_japan(Path(argv[1]), Path(argv[2])))
        return
    folder, *countries = argv
    for country in countries:
        print(build(Path(folder) / f"{country}.txt", country))


if __name__ == "__main__":
    main(sys.argv[1:])
