#!/usr/bin/env python3
"""The maximin value of a pool by an independent implementation: the Sortition
Foundation's `sortition-algorithms` (PyPI) with its HiGHS backend, for comparison with
the first level of hiwar's leximin (docs/performance.md, "Selection").

    python3 -m venv v && v/bin/pip install sortition-algorithms
    v/bin/python tools/maximin_compare.py POOL.csv QUOTAS.csv K

POOL.csv and QUOTAS.csv are in hiwar's formats (docs/selection-spec.md): `id` and one
column per category; `category,feature,min,max`. Prints one JSON line: the minimum
selection probability of any volunteer under sortition-algorithms' maximin
distribution, the number of committees it uses, and its time in seconds.
"""

import csv
import json
import sys
import time

from sortition_algorithms.committee_generation.maximin import find_distribution_maximin
from sortition_algorithms.features import read_in_features
from sortition_algorithms.people import read_in_people
from sortition_algorithms.settings import Settings


def main():
    pool_path, quotas_path, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(quotas_path, newline="", encoding="utf-8") as f:
        rows = [{"feature": r["category"], "value": r["feature"], "min": r["min"], "max": r["max"]}
                for r in csv.DictReader(f)]
    features, _, _ = read_in_features(["feature", "value", "min", "max"], rows, k)
    with open(pool_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        head, body = reader.fieldnames, list(reader)
    settings = Settings(id_column="id", columns_to_keep=[])
    people, _ = read_in_people(head, body, features, settings)
    started = time.monotonic()
    committees, probabilities, _ = find_distribution_maximin(features, people, k, [])
    seconds = time.monotonic() - started
    chance = {person: 0.0 for person in people}
    for committee, p in zip(committees, probabilities):
        for person in committee:
            chance[person] += p
    print(json.dumps({"maximin": min(chance.values()), "committees": sum(p > 0 for p in probabilities),
                      "seconds": round(seconds, 2), "volunteers": len(chance)}))


if __name__ == "__main__":
    main()
