//! Volunteers, quotas, and the feature profiles the optimiser works over. Parsing
//! takes text (the caller reads files) and names the line and column of every error.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::Error;

/// One quota: between `min` and `max` seats for volunteers with `feature` in `category`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Quota {
    pub category: String,
    pub feature: String,
    pub min: u32,
    pub max: u32,
}

/// All quotas, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotas {
    pub quotas: Vec<Quota>,
}

/// The pool of volunteers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Volunteer ids as strings (the row number from 0 when the file has no `id`).
    pub ids: Vec<String>,
    /// Category names, in quota order.
    pub categories: Vec<String>,
    /// `features[v][c]`: volunteer `v`'s feature in category `c`.
    pub features: Vec<Vec<String>>,
    /// Household of each volunteer, when the pool has a `household` column.
    pub households: Option<Vec<String>>,
}

/// Volunteers with identical features: interchangeable for the optimiser.
#[derive(Debug, Clone)]
pub struct Profiles {
    /// Feature vector of each profile.
    pub features: Vec<Vec<String>>,
    /// Volunteers (indices into the pool) of each profile.
    pub members: Vec<Vec<usize>>,
    /// For each quota, the profiles that count towards it.
    pub quota_profiles: Vec<Vec<usize>>,
}

impl Profiles {
    /// For each profile, the quotas it counts towards, ascending (the transpose of
    /// `quota_profiles`).
    pub fn profile_quotas(&self) -> Vec<Vec<usize>> {
        let mut profile_quotas = vec![Vec::new(); self.members.len()];
        for (q, profiles) in self.quota_profiles.iter().enumerate() {
            for &p in profiles {
                profile_quotas[p].push(q);
            }
        }
        profile_quotas
    }
}

/// Splits CSV text into records with their starting lines ([`hiwar_csv::parse`]),
/// naming `file` in errors.
pub fn parse_csv(text: &str, file: &str) -> Result<Vec<(usize, Vec<String>)>, Error> {
    hiwar_csv::parse(text).map_err(|e| Error::csv(file, e.line, e.column, &e.message))
}

fn header_index(header: &[String]) -> HashMap<String, usize> {
    header.iter().enumerate().map(|(i, h)| (h.trim().to_string(), i)).collect()
}

impl Quotas {
    /// Reads `category,feature,min,max` CSV.
    pub fn parse(text: &str) -> Result<Quotas, Error> {
        const FILE: &str = "quotas";
        let records = parse_csv(text, FILE)?;
        let Some(((_, header), rows)) = records.split_first() else {
            return Err(Error::csv(FILE, 1, 1, "the file is empty"));
        };
        let index = header_index(header);
        let column =
            |name: &str| index.get(name).copied().ok_or_else(|| Error::csv(FILE, 1, 1, &format!("no column {name:?}")));
        let (c, f, lo, hi) = (column("category")?, column("feature")?, column("min")?, column("max")?);
        let mut quotas = Vec::new();
        let mut seen = HashSet::new();
        for (line, row) in rows {
            let get = |i: usize| {
                row.get(i).map(|s| s.trim().to_string()).ok_or_else(|| Error::csv(FILE, *line, i + 1, "missing field"))
            };
            let number = |i: usize| -> Result<u32, Error> {
                get(i)?.parse().map_err(|_| Error::csv(FILE, *line, i + 1, "not a whole number ≥ 0"))
            };
            let quota = Quota { category: get(c)?, feature: get(f)?, min: number(lo)?, max: number(hi)? };
            if quota.category.is_empty() || quota.feature.is_empty() {
                return Err(Error::csv(FILE, *line, c + 1, "empty category or feature"));
            }
            if quota.min > quota.max {
                return Err(Error::csv(
                    FILE,
                    *line,
                    lo + 1,
                    &format!("min {} is greater than max {}", quota.min, quota.max),
                ));
            }
            if !seen.insert((quota.category.clone(), quota.feature.clone())) {
                return Err(Error::csv(
                    FILE,
                    *line,
                    f + 1,
                    &format!("{}/{} has a quota already", quota.category, quota.feature),
                ));
            }
            quotas.push(quota);
        }
        if quotas.is_empty() {
            return Err(Error::csv(FILE, 2, 1, "no quotas"));
        }
        Ok(Quotas { quotas })
    }

    /// Category names in first-appearance order.
    pub fn categories(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for q in &self.quotas {
            if !out.contains(&q.category) {
                out.push(q.category.clone());
            }
        }
        out
    }

    /// Writes the quotas back as CSV.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("category,feature,min,max\n");
        for q in &self.quotas {
            out.push_str(&format!("{},{},{},{}\n", q.category, q.feature, q.min, q.max));
        }
        out
    }
}

impl Pool {
    /// Reads a pool CSV: an optional `id` column (else the row number from 0 is the
    /// id), one column per quota category, an optional `household` column; other
    /// columns are ignored. Checks every value has a quota and every quota a volunteer.
    pub fn parse(text: &str, quotas: &Quotas) -> Result<Pool, Error> {
        const FILE: &str = "pool";
        let records = parse_csv(text, FILE)?;
        let Some(((_, header), rows)) = records.split_first() else {
            return Err(Error::csv(FILE, 1, 1, "the file is empty"));
        };
        let index = header_index(header);
        let categories = quotas.categories();
        let category_columns = categories
            .iter()
            .map(|c| {
                index
                    .get(c)
                    .copied()
                    .ok_or_else(|| Error::csv(FILE, 1, 1, &format!("no column for the quota category {c:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let id_column = index.get("id").copied();
        let household_column = index.get("household").copied();
        let known: HashSet<(&str, &str)> =
            quotas.quotas.iter().map(|q| (q.category.as_str(), q.feature.as_str())).collect();
        let mut ids = Vec::with_capacity(rows.len());
        let mut features = Vec::with_capacity(rows.len());
        let mut households = Vec::new();
        let mut seen = HashMap::new();
        for (row_number, (line, row)) in rows.iter().enumerate() {
            if row.len() != header.len() {
                return Err(Error::csv(
                    FILE,
                    *line,
                    row.len().min(header.len()) + 1,
                    &format!("{} fields, the header has {}", row.len(), header.len()),
                ));
            }
            let id = match id_column {
                Some(i) => row[i].trim().to_string(),
                None => row_number.to_string(),
            };
            if id.is_empty() {
                return Err(Error::csv(FILE, *line, id_column.unwrap_or(0) + 1, "empty id"));
            }
            // The drawn panel enters the public record, whose check S1 allows ids of at
            // most this many characters.
            if id.chars().count() > hiwar_record::selection::MAX_VOLUNTEER_ID_CHARS {
                return Err(Error::csv(
                    FILE,
                    *line,
                    id_column.unwrap_or(0) + 1,
                    &format!(
                        "id of {} characters, at most {} allowed",
                        id.chars().count(),
                        hiwar_record::selection::MAX_VOLUNTEER_ID_CHARS
                    ),
                ));
            }
            if let Some(first) = seen.insert(id.clone(), *line) {
                return Err(Error::csv(
                    FILE,
                    *line,
                    id_column.unwrap_or(0) + 1,
                    &format!("id {id:?} also on line {first}"),
                ));
            }
            let mut values = Vec::with_capacity(categories.len());
            for (category, &col) in categories.iter().zip(&category_columns) {
                let value = row[col].trim().to_string();
                if !known.contains(&(category.as_str(), value.as_str())) {
                    return Err(Error::csv(FILE, *line, col + 1, &format!("{category} {value:?} has no quota")));
                }
                values.push(value);
            }
            ids.push(id);
            features.push(values);
            if let Some(h) = household_column {
                households.push(row[h].trim().to_string());
            }
        }
        let pool = Pool { ids, categories, features, households: household_column.map(|_| households) };
        for q in &quotas.quotas {
            let c = pool.categories.iter().position(|c| *c == q.category).expect("categories come from quotas");
            if q.min > 0 && !pool.features.iter().any(|f| f[c] == q.feature) {
                return Err(Error::Infeasible(format!(
                    "the quota {}/{} needs {} but no volunteer has it",
                    q.category, q.feature, q.min
                )));
            }
        }
        Ok(pool)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Groups volunteers by their features, except that a member of a household of two
    /// or more is a profile of their own (a panel seats at most one of a household, so
    /// such volunteers are not interchangeable with the rest).
    pub fn profiles(&self, quotas: &Quotas) -> Profiles {
        let mut household_sizes: HashMap<&str, usize> = HashMap::new();
        for h in self.households.iter().flatten().filter(|h| !h.is_empty()) {
            *household_sizes.entry(h.as_str()).or_default() += 1;
        }
        let tied = |v: usize| {
            let h = self.households.as_ref().map(|hs| hs[v].as_str()).unwrap_or("");
            household_sizes.get(h).is_some_and(|n| *n > 1)
        };
        let mut by_features: BTreeMap<(&Vec<String>, Option<usize>), Vec<usize>> = BTreeMap::new();
        for (v, f) in self.features.iter().enumerate() {
            by_features.entry((f, tied(v).then_some(v))).or_default().push(v);
        }
        let (features, members): (Vec<Vec<String>>, Vec<Vec<usize>>) =
            by_features.into_iter().map(|((f, _), m)| (f.clone(), m)).unzip();
        self.with_quota_incidence(quotas, features, members)
    }

    /// Profiles with, for each quota, the profiles that count towards it.
    fn with_quota_incidence(&self, quotas: &Quotas, features: Vec<Vec<String>>, members: Vec<Vec<usize>>) -> Profiles {
        let quota_profiles = quotas
            .quotas
            .iter()
            .map(|q| {
                let c = self.categories.iter().position(|c| *c == q.category).expect("known category");
                (0..features.len()).filter(|&p| features[p][c] == q.feature).collect()
            })
            .collect();
        Profiles { features, members, quota_profiles }
    }

    /// SHA-256 of the pool as the manifest publishes it: ids and features, canonical.
    pub fn hash(&self) -> String {
        let rows: Vec<serde_json::Value> =
            self.ids.iter().zip(&self.features).map(|(id, f)| serde_json::json!({"id": id, "features": f})).collect();
        let value = serde_json::json!({"categories": self.categories, "volunteers": rows});
        let text = hiwar_record::canonical::to_canonical_string(&value).expect("strings only");
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))
    }
}

/// Whether `panel` (volunteer indices) meets the size and every quota, with distinct
/// volunteers and at most one per household.
pub fn panel_violation(pool: &Pool, quotas: &Quotas, k: usize, panel: &[usize]) -> Option<String> {
    if panel.len() != k {
        return Some(format!("{} seats, not {k}", panel.len()));
    }
    let distinct: HashSet<&usize> = panel.iter().collect();
    if distinct.len() != panel.len() {
        return Some("a volunteer is seated twice".into());
    }
    if let Some(households) = &pool.households {
        let mut seen = HashSet::new();
        for &v in panel {
            if !households[v].is_empty() && !seen.insert(&households[v]) {
                return Some(format!("two seats for household {}", households[v]));
            }
        }
    }
    for q in &quotas.quotas {
        let c = pool.categories.iter().position(|c| *c == q.category)?;
        let n = panel.iter().filter(|&&v| pool.features[v][c] == q.feature).count() as u32;
        if n < q.min || n > q.max {
            return Some(format!("{}/{} has {n} seats, allowed {}..={}", q.category, q.feature, q.min, q.max));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTAS: &str = "category,feature,min,max\ngender,f,1,2\ngender,m,1,2\nregion,north,0,3\nregion,south,0,3\n";

    #[test]
    fn csv_errors_name_the_file() {
        let err = parse_csv("a\n\"open\n", "pool.csv").unwrap_err().to_string();
        assert!(err.starts_with("pool.csv: line 2, column 1"), "{err}");
    }

    #[test]
    fn quotas_and_pools_report_line_and_column() {
        let q = Quotas::parse(QUOTAS).unwrap();
        assert_eq!(q.categories(), vec!["gender", "region"]);
        assert!(Quotas::parse("category,feature,min,max\ng,f,3,2\n")
            .unwrap_err()
            .to_string()
            .contains("line 2, column 3"));
        assert!(Quotas::parse("category,feature,min,max\ng,f,x,2\n")
            .unwrap_err()
            .to_string()
            .contains("not a whole number"));
        let pool = Pool::parse("id,gender,region,extra\na,f,north,1\nb,m,south,2\n", &q).unwrap();
        assert_eq!(pool.ids, vec!["a", "b"]);
        let err = Pool::parse("id,gender,region\na,f,north\na,m,south\n", &q).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("also on line 2"), "{err}");
        let err = Pool::parse("id,gender,region\na,x,north\n", &q).unwrap_err().to_string();
        assert!(err.contains("line 2, column 2") && err.contains("has no quota"), "{err}");
        let err = Pool::parse("id,gender\na,f\n", &q).unwrap_err().to_string();
        assert!(err.contains("region"), "{err}");
        let err = Pool::parse("id,gender,region\na,f\n", &q).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        // An id longer than the record allows (check S1) is refused at upload.
        let long = "x".repeat(65);
        let err = Pool::parse(&format!("id,gender,region\n{long},f,north\n"), &q).unwrap_err().to_string();
        assert!(err.contains("line 2, column 1") && err.contains("at most 64"), "{err}");
        assert!(Pool::parse(&format!("id,gender,region\n{},f,north\nb,m,south\n", "x".repeat(64)), &q).is_ok());
        // Without an id column the row number is the id.
        let pool = Pool::parse("gender,region\nf,north\nm,south\n", &q).unwrap();
        assert_eq!(pool.ids, vec!["0", "1"]);
        // A quota that needs a feature no one has.
        let q2 = Quotas::parse("category,feature,min,max\ngender,f,1,2\ngender,x,1,1\n").unwrap();
        assert!(Pool::parse("gender\nf\n", &q2).unwrap_err().to_string().contains("no volunteer"));
    }
}
