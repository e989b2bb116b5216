//! Polis's export format (`../shared/data/README.md`): `comments.csv`, `votes.csv`
//! and, optionally, `participants-votes.csv` with the groups Polis assigned. Reading
//! takes the files' text; errors name the file, line and column.

use std::collections::HashMap;

use crate::matrix::{Vote, VoteMatrix};

/// A malformed export, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolisError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for PolisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: line {}, column {}: {}", self.file, self.line, self.column, self.message)
    }
}

impl std::error::Error for PolisError {}

/// A conversation as read: the votes, each statement's text, and Polis's own groups.
#[derive(Debug, Clone, Default)]
pub struct Conversation {
    pub matrix: VoteMatrix,
    /// Text by statement index.
    pub texts: Vec<String>,
    /// participant id → the `group-id` Polis assigned, where it assigned one.
    pub polis_groups: HashMap<String, String>,
}

struct Table<'a> {
    file: &'a str,
    header: HashMap<String, usize>,
    rows: Vec<(usize, Vec<String>)>,
}

impl<'a> Table<'a> {
    fn read(file: &'a str, text: &str, required: &[&str]) -> Result<Self, PolisError> {
        let mut rows = hiwar_csv::parse(text).map_err(|e| PolisError {
            file: file.into(),
            line: e.line,
            column: e.column,
            message: e.message,
        })?;
        if rows.is_empty() {
            return Err(PolisError { file: file.into(), line: 1, column: 1, message: "the file is empty".into() });
        }
        let (_, names) = rows.remove(0);
        let header: HashMap<String, usize> = names.iter().enumerate().map(|(i, n)| (n.trim().to_string(), i)).collect();
        for name in required {
            if !header.contains_key(*name) {
                return Err(PolisError {
                    file: file.into(),
                    line: 1,
                    column: names.len() + 1,
                    message: format!("no {name:?} column"),
                });
            }
        }
        Ok(Table { file, header, rows })
    }

    fn error(&self, line: usize, column: &str, message: String) -> PolisError {
        PolisError { file: self.file.into(), line, column: self.header.get(column).map_or(0, |c| c + 1), message }
    }

    fn cell<'r>(&self, row: &'r (usize, Vec<String>), column: &str) -> Result<&'r str, PolisError> {
        let index = self.header[column];
        row.1
            .get(index)
            .map(|s| s.trim())
            .ok_or_else(|| self.error(row.0, column, format!("the row has no {column:?}")))
    }
}

/// Reads a conversation. `participants_votes` is optional (Polis's groups, for comparison).
pub fn read(comments: &str, votes: &str, participants_votes: Option<&str>) -> Result<Conversation, PolisError> {
    let mut conversation = Conversation::default();
    let table = Table::read("comments.csv", comments, &["comment-id", "comment-body"])?;
    for row in &table.rows {
        let id = table.cell(row, "comment-id")?;
        if id.is_empty() {
            return Err(table.error(row.0, "comment-id", "empty comment-id".into()));
        }
        if conversation.matrix.statement_index(id).is_some() {
            return Err(table.error(row.0, "comment-id", format!("comment {id} appears twice")));
        }
        let s = conversation.matrix.statement(id) as usize;
        conversation.texts.push(table.cell(row, "comment-body")?.to_string());
        if table.header.contains_key("moderated") {
            let moderated = table.cell(row, "moderated")?;
            let value: i64 = moderated
                .parse()
                .map_err(|_| table.error(row.0, "moderated", format!("moderated is {moderated:?}, not -1, 0 or 1")))?;
            conversation.matrix.hidden[s] = value < 0;
        }
        debug_assert_eq!(conversation.texts.len(), s + 1);
    }

    let table = Table::read("votes.csv", votes, &["comment-id", "voter-id", "vote"])?;
    let has_time = table.header.contains_key("timestamp");
    let mut parsed = Vec::with_capacity(table.rows.len());
    for (order, row) in table.rows.iter().enumerate() {
        let statement = table.cell(row, "comment-id")?;
        let s = conversation
            .matrix
            .statement_index(statement)
            .ok_or_else(|| table.error(row.0, "comment-id", format!("comment {statement} is not in comments.csv")))?;
        let voter = table.cell(row, "voter-id")?;
        if voter.is_empty() {
            return Err(table.error(row.0, "voter-id", "empty voter-id".into()));
        }
        let raw = table.cell(row, "vote")?;
        let vote = raw
            .parse::<i8>()
            .ok()
            .and_then(Vote::from_i8)
            .ok_or_else(|| table.error(row.0, "vote", format!("vote is {raw:?}, not 1, -1 or 0")))?;
        let time = if has_time {
            let t = table.cell(row, "timestamp")?;
            t.parse::<f64>().map_err(|_| table.error(row.0, "timestamp", format!("timestamp {t:?} is not a number")))?
        } else {
            0.0
        };
        parsed.push((time, order, voter, s, vote));
    }
    // The latest vote counts: apply in time order (file order among equal times).
    parsed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (_, _, voter, s, vote) in parsed {
        let p = conversation.matrix.participant(voter);
        conversation.matrix.vote(p, s, vote);
    }

    if let Some(text) = participants_votes {
        let table = Table::read("participants-votes.csv", text, &["participant", "group-id"])?;
        for row in &table.rows {
            let group = table.cell(row, "group-id")?;
            if !group.is_empty() {
                conversation.polis_groups.insert(table.cell(row, "participant")?.to_string(), group.to_string());
            }
        }
    }
    Ok(conversation)
}

/// A conversation in Polis's export format: `(comments.csv, votes.csv,
/// participants-votes.csv)`. The participants listed in `voter_order` (the caller's
/// choice: all of them, or only those safe to list) are numbered 0, 1, … in that order,
/// so the numbers need not reveal who is who; the others' votes are left out of
/// `votes.csv` and `participants-votes.csv` (the counts in `comments.csv` include
/// every vote). `groups` fills `group-id`. No time stamps are written.
pub fn export(
    matrix: &VoteMatrix,
    texts: &[String],
    voter_order: &[usize],
    groups: &[Option<usize>],
) -> (String, String, String) {
    let votes = matrix.index();
    let ns = matrix.statement_ids().len();
    let mut comments = hiwar_csv::line(&[
        "timestamp",
        "datetime",
        "comment-id",
        "author-id",
        "agrees",
        "disagrees",
        "moderated",
        "comment-body",
    ]);
    for (s, id) in matrix.statement_ids().iter().enumerate() {
        let column = votes.statement_votes(s);
        let agrees = column.iter().filter(|v| v.1 == 1).count().to_string();
        let disagrees = column.iter().filter(|v| v.1 == -1).count().to_string();
        let moderated = if matrix.hidden[s] { "-1" } else { "1" };
        let text = texts.get(s).map(String::as_str).unwrap_or("");
        comments.push_str(&hiwar_csv::line(&["0", "", id.as_str(), "", &agrees, &disagrees, moderated, text]));
    }
    let mut votes_csv = hiwar_csv::line(&["timestamp", "datetime", "comment-id", "voter-id", "vote"]);
    let mut header = vec![
        "participant".to_string(),
        "group-id".into(),
        "n-comments".into(),
        "n-votes".into(),
        "n-agree".into(),
        "n-disagree".into(),
    ];
    header.extend(matrix.statement_ids().iter().cloned());
    let mut participants = hiwar_csv::line(&header);
    for (number, &p) in voter_order.iter().enumerate() {
        let row = votes.participant_votes(p);
        let voter = number.to_string();
        for &(s, v) in row {
            votes_csv.push_str(&hiwar_csv::line(&[
                "0",
                "",
                matrix.statement_ids()[s as usize].as_str(),
                &voter,
                &v.to_string(),
            ]));
        }
        let mut cells = vec![String::new(); ns];
        for &(s, v) in row {
            cells[s as usize] = v.to_string();
        }
        let count = |x: i8| row.iter().filter(|v| v.1 == x).count().to_string();
        let mut line = vec![
            voter,
            groups.get(p).copied().flatten().map(|g| g.to_string()).unwrap_or_default(),
            "0".into(),
            row.len().to_string(),
            count(1),
            count(-1),
        ];
        line.extend(cells);
        participants.push_str(&hiwar_csv::line(&line));
    }
    (comments, votes_csv, participants)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMENTS: &str = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n\
        1,x,0,5,1,0,1,\"Roads, not walls\"\n2,x,1,5,0,0,-1,spam\n";

    #[test]
    fn reads_votes_with_the_latest_counting() {
        let votes = "timestamp,datetime,comment-id,voter-id,vote\n20,x,0,7,-1\n10,x,0,7,1\n15,x,1,8,0\n";
        let c = read(COMMENTS, votes, Some("participant,group-id,n-comments\n7,0,1\n8,,0\n")).unwrap();
        let (p7, s0) = (c.matrix.participant_index("7").unwrap(), c.matrix.statement_index("0").unwrap());
        assert_eq!(c.matrix.get(p7, s0), Some(Vote::Disagree), "timestamp 20 is later than 10");
        assert_eq!(c.texts[0], "Roads, not walls");
        assert!(c.matrix.hidden[1]);
        assert_eq!(c.polis_groups.len(), 1);
    }

    #[test]
    fn an_export_reads_back_as_the_same_conversation() {
        let votes = "comment-id,voter-id,vote\n0,7,1\n1,7,-1\n0,8,0\n";
        let c = read(COMMENTS, votes, None).unwrap();
        let order: Vec<usize> = (0..c.matrix.participant_ids().len()).rev().collect();
        let (comments, votes, participants) = export(&c.matrix, &c.texts, &order, &[Some(1), None]);
        let back = read(&comments, &votes, Some(&participants)).unwrap();
        assert_eq!(back.texts, c.texts);
        assert_eq!(back.matrix.hidden, c.matrix.hidden);
        assert_eq!(back.matrix.votes(), 3);
        // Participant "7" is exported as number 1 (the order is reversed).
        let (p, s) = (back.matrix.participant_index("1").unwrap(), back.matrix.statement_index("1").unwrap());
        assert_eq!(back.matrix.get(p, s), Some(Vote::Disagree));
        assert_eq!(back.polis_groups.get("1").map(String::as_str), Some("1"));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let err = |votes: &str| read(COMMENTS, votes, None).unwrap_err().to_string();
        assert_eq!(
            err("comment-id,voter-id,vote\n0,7,2\n"),
            "votes.csv: line 2, column 3: vote is \"2\", not 1, -1 or 0"
        );
        assert!(err("comment-id,voter-id,vote\n9,7,1\n").starts_with("votes.csv: line 2, column 1: comment 9"));
        assert!(err("comment-id,vote\n").contains("no \"voter-id\" column"));
        assert!(err("comment-id,voter-id,vote\n0,\"7,1\n").starts_with("votes.csv: line 2"));
        let bad = read("comment-id,comment-body\n0,a\n0,b\n", "comment-id,voter-id,vote\n", None).unwrap_err();
        assert_eq!((bad.file.as_str(), bad.line), ("comments.csv", 3));
    }
}
